//! Contacts and notices: a citizen adds a contact to their ticket or stops messages; supervisors
//! see what was sent, and why something was not. No response here ever carries a contact.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use fila_notify::contact::Contact;
use fila_protocol::{BusinessDay, TicketId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::{Caller, SUPERVISORS};
use super::error::{ApiError, ErrorBody};
use super::{now_ms, AppState};
use crate::notices::{ContactRefused, Notices};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    /// A mobile number or an e-mail address, used only for this ticket's notices and survey.
    pub contact: String,
    /// The language of its messages: es or en (default es).
    #[serde(default)]
    pub lang: Option<String>,
}

/// One notice as supervisors see it: what, for which ticket, where it stands. Never the contact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoticeDto {
    /// The ticket's business day and number, e.g. 2026-12-04 A-023.
    pub day: String,
    pub ticket: Option<String>,
    /// turn_near, called or survey_invite.
    pub kind: String,
    /// sms or email.
    pub medium: String,
    /// queued, sending, sent or failed.
    pub state: String,
    /// Why it failed, or why its last attempt did.
    pub reason: Option<String>,
    pub attempts: u32,
    pub created_at: String,
    pub updated_at: String,
}

/// Reads a contact from a request; a contact the box cannot use changes nothing.
pub fn parse_contact(state: &AppState, text: &str) -> Result<Contact, ApiError> {
    state.notices.parse_contact(text).map_err(|error| match error {
        ContactRefused::NoChannel(_) => ApiError::bad_request("no_channel", error.to_string()),
        _ => ApiError::bad_request("bad_contact", error.to_string()),
    })
}

/// The language of messages: what the citizen chose, if the box has it.
pub fn message_lang(lang: Option<&str>) -> &'static str {
    match lang {
        Some("en") => "en",
        _ => "es",
    }
}

/// Keeps a contact for a ticket, durably, before the caller answers.
pub async fn keep_contact(
    notices: &Arc<Notices>,
    day: BusinessDay,
    ticket: TicketId,
    contact: Contact,
    lang: &'static str,
) -> Result<(), ApiError> {
    let notices = notices.clone();
    let now = Timestamp::from_ms(now_ms());
    tokio::task::spawn_blocking(move || notices.add_contact(day, ticket, contact, lang, now))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("the contact could not be stored: {e}")))
}

/// The citizen adds a mobile number or e-mail to their ticket, for "your turn is near", "you
/// are called" and the survey invitation.
#[utoipa::path(post, path = "/api/v1/track/{token}/contact", tag = "public", request_body = ContactRequest,
    params(("token" = String, Path, description = "the ticket's tracking token")),
    responses((status = 204), (status = 400, body = ErrorBody, description = "`bad_contact`, or `no_channel` when the office sends no messages of that kind"),
              (status = 404, body = ErrorBody)))]
pub async fn add_contact(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Json<ContactRequest>,
) -> Result<HttpResponse, ApiError> {
    let contact = parse_contact(&state, &body.contact)?;
    let token = token.into_inner();
    let (day, ticket) = state
        .office
        .query(move |office, _| office.ticket_by_token(&token).map(|t| (office.day().day, t.id)))
        .await?
        .ok_or_else(|| ApiError::NotFound("no ticket has that tracking token today".into()))?;
    keep_contact(&state.notices, day, ticket, contact, message_lang(body.lang.as_deref())).await?;
    tracing::info!(ticket = ticket.0, "a contact was added from the tracking page");
    Ok(HttpResponse::NoContent().finish())
}

/// Every notice of the office, newest first, with its state: supervisors see a failed SMS and
/// why (no signal, no SIM, refused number), never to whom.
#[utoipa::path(get, path = "/api/v1/notices", tag = "staff",
    responses((status = 200, body = [NoticeDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(SUPERVISORS, "see notices")?;
    let notices = state.notices.list();
    let causes: Vec<String> = notices.iter().map(|n| n.key.cause.clone()).collect();
    // Ticket numbers of today's tickets; older days show their date alone.
    let numbers = state
        .office
        .query(move |office, _| {
            let day = office.day();
            causes
                .iter()
                .map(|cause| {
                    let mut parts = cause.rsplit('/');
                    let id = parts.next().and_then(TicketId::from_key);
                    let on_day = parts.next() == Some(day.day.to_string().as_str());
                    id.filter(|_| on_day).and_then(|id| day.tickets.get(&id)).map(|t| t.number.to_string())
                })
                .collect::<Vec<_>>()
        })
        .await?;
    let dtos: Vec<NoticeDto> = notices
        .into_iter()
        .zip(numbers)
        .map(|(notice, ticket)| NoticeDto {
            day: notice.key.cause.rsplit('/').nth(1).unwrap_or_default().to_string(),
            ticket,
            kind: notice.key.kind.to_string(),
            medium: notice.medium.as_str().into(),
            state: notice.state.as_str().into(),
            reason: notice.reason,
            attempts: notice.attempts,
            created_at: notice.created_at.to_string(),
            updated_at: notice.updated_at.to_string(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(dtos))
}

/// The opt-out link of a message: a page with one button, so a mail scanner that follows links
/// stops nothing; the button (or a one-click `POST`, RFC 8058) does.
pub async fn opt_out_page(path: web::Path<(String, String, String)>) -> HttpResponse {
    let (day, ticket, mac) = path.into_inner();
    let action = format!("/o/{}/{}/{}", escape(&day), escape(&ticket), escape(&mac));
    html(&format!(
        "<h1>Mensajes de la oficina / Office messages</h1>\
         <form method=\"post\" action=\"{action}\"><button type=\"submit\">No quiero recibir más mensajes / \
         Stop messages</button></form>"
    ))
}

pub async fn opt_out(state: web::Data<AppState>, path: web::Path<(String, String, String)>) -> HttpResponse {
    let (day, ticket, mac) = path.into_inner();
    let notices = state.notices.clone();
    let now = Timestamp::from_ms(now_ms());
    let done = tokio::task::spawn_blocking(move || notices.opt_out_by_link(&day, &ticket, &mac, now)).await;
    match done {
        Ok(Ok(true)) => {
            html("<h1>Hecho / Done</h1><p>No recibirá más mensajes. / You will receive no more messages.</p>")
        }
        Ok(Ok(false)) => {
            HttpResponse::NotFound().json(ErrorBody::new("not_found", "this is not an opt-out link of this office"))
        }
        _ => HttpResponse::InternalServerError()
            .json(ErrorBody::new("internal", "the opt-out could not be stored; try again")),
    }
}

fn html(body: &str) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>fila</title></head>\
         <body>{body}</body></html>"
    ))
}

fn escape(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect()
}
