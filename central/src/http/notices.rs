//! Central's messages, seen from both ends.
//!
//! For citizens: `GET /o/{mac}` (the opt-out link every message ends with: a page with one
//! button, so a mail scanner that follows links stops nothing) and `POST /o/{mac}` (the button,
//! or a one-click `POST` as RFC 8058 has mail clients do).
//!
//! For headquarters: `GET /api/v1/notices?office=&state=`: each message's state (queued, sending,
//! sent, failed with the reason), what it was about, never to whom.

use actix_web::{web, HttpResponse};
use fila_protocol::Timestamp;
use serde::{Deserialize, Serialize};

use super::auth::Analyst;
use super::error::{ApiError, ErrorBody};
use super::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticesQuery {
    /// Only the messages about this office.
    office: Option<String>,
    /// Only those in this state: `queued`, `sending`, `sent` or `failed`.
    state: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CentralNoticeDto {
    /// The office it is about; none for messages about no office.
    office: Option<String>,
    /// What caused it: `booking-hold` (the code), `booking` (confirmation, reminders),
    /// `waitlist-offer`, `join` (a remote join's "come now"), `survey-alert`.
    about: String,
    kind: String,
    medium: String,
    state: String,
    reason: Option<String>,
    attempts: u32,
    created_at: String,
    updated_at: String,
    /// When it is sent next (a reminder waits for its time, or the quiet hours' end).
    next_attempt_at: Option<String>,
}

const STATES: [&str; 4] = ["queued", "sending", "sent", "failed"];

/// Central's messages, newest first.
#[utoipa::path(get, path = "/api/v1/notices", tag = "headquarters", params(NoticesQuery),
    responses((status = 200, body = [CentralNoticeDto]),
              (status = 400, body = ErrorBody, description = "`bad_query`: an unknown state"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn list(
    _: Analyst,
    state: web::Data<AppState>,
    query: web::Query<NoticesQuery>,
) -> Result<HttpResponse, ApiError> {
    let NoticesQuery { office, state: wanted } = query.into_inner();
    if let Some(office) = &office {
        if !state.hub.offices().iter().any(|o| &o.id == office) {
            return Err(ApiError::NotFound(format!("no office {office:?}")));
        }
    }
    if let Some(wanted) = &wanted {
        if !STATES.contains(&wanted.as_str()) {
            return Err(ApiError::bad_request("bad_query", format!("state is one of {}", STATES.join(", "))));
        }
    }
    let outbox = state.outbox.clone();
    let notices = web::block(move || outbox.list(office.as_deref())).await?;
    let dtos: Vec<CentralNoticeDto> = notices
        .into_iter()
        .filter(|n| wanted.as_deref().is_none_or(|w| n.state.as_str() == w))
        .map(|n| CentralNoticeDto {
            about: n.key.cause.split('/').next().unwrap_or_default().to_string(),
            office: n.office,
            kind: n.key.kind.to_string(),
            medium: n.medium.as_str().into(),
            state: n.state.as_str().into(),
            reason: n.reason,
            attempts: n.attempts,
            created_at: n.created_at.to_string(),
            updated_at: n.updated_at.to_string(),
            next_attempt_at: (n.state == fila_notify::outbox::State::Queued).then(|| n.next_attempt_at.to_string()),
        })
        .collect();
    Ok(HttpResponse::Ok().json(dtos))
}

pub async fn opt_out_page(mac: web::Path<String>) -> HttpResponse {
    let action = format!("/o/{}", escape(&mac));
    html(&format!(
        "<h1>Mensajes / Messages</h1>\
         <form method=\"post\" action=\"{action}\"><button type=\"submit\">No quiero recibir más mensajes / \
         Stop messages</button></form>"
    ))
}

pub async fn opt_out(state: web::Data<AppState>, mac: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let outbox = state.outbox.clone();
    let now = Timestamp::from_ms(super::now_ms());
    let known = web::block(move || outbox.opt_out_by_link(&mac, now))
        .await?
        .map_err(|e| ApiError::Internal(format!("the opt-out could not be stored ({e}); try again")))?;
    if !known {
        return Err(ApiError::NotFound("this is not an opt-out link".into()));
    }
    Ok(html("<h1>Hecho / Done</h1><p>No recibirá más mensajes. / You will receive no more messages.</p>"))
}

fn html(body: &str) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>fila</title></head><body>{body}</body></html>"
    ))
}

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '&' => "&amp;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}
