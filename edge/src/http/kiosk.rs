//! Issuing tickets: the kiosk's one job.

use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::office::{Command, Priority};
use fila_protocol::{BusinessDay, CategoryId, ServiceId};

use super::caller::{Caller, ISSUERS};
use super::dto::{IssueRequest, IssuedDto};
use super::error::{ApiError, ErrorBody};
use super::{now_ms, render, AppState};
use crate::auth::Role;

/// Issue a normal or preferential ticket (appointment tickets come only from bookings). Each
/// kiosk has a rate (`[server] kiosk_issues_per_minute`, `kiosk_issue_burst`). Answers only once the ticket is on disk; then prints it at the kiosk's printer,
/// if it has one, and says whether it did (if not, the kiosk shows the ticket on screen).
#[utoipa::path(post, path = "/api/v1/tickets", tag = "kiosk", request_body = IssueRequest,
    responses((status = 201, body = IssuedDto),
              (status = 400, body = ErrorBody, description = "bad body; `appointment_not_allowed` if it sets appointment_at"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "the kiosk is over its ticket rate; see Retry-After")),
    security(("bearer" = [])))]
pub async fn issue(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<IssueRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ISSUERS, "issue tickets")?;
    let body = body.into_inner();
    // An appointment ticket jumps the queue at its time and is never a deviation: it may come
    // only from a real booking checked in at the office, never from a kiosk or a desk.
    if body.appointment_at.is_some() {
        return Err(ApiError::bad_request(
            "appointment_not_allowed",
            "appointment_at is not accepted: appointment tickets come only from bookings",
        ));
    }
    // A person takes a ticket every few seconds at most; a script takes hundreds.
    if caller.role == Role::Kiosk {
        state.security.kiosk_issue(&caller.id, now_ms()).map_err(|retry_after| ApiError::TooMany {
            code: "too_many_tickets",
            message: "this kiosk is issuing tickets faster than people take them; wait a moment".into(),
            retry_after,
        })?;
    }
    // A contact the office cannot use is refused before any ticket exists.
    let contact = body.contact.as_deref().map(|text| super::notices::parse_contact(&state, text)).transpose()?;
    let lang = super::notices::message_lang(body.lang.as_deref());
    let priority = match body.category {
        Some(category) => Priority::Preferential(CategoryId::new(category)),
        None => Priority::Normal,
    };
    let command = Command::Issue {
        service: ServiceId::new(body.service),
        priority,
        issuer: caller.who(),
        token: crate::auth::tracking_token(),
    };
    let (dto, ticket, position) = state.office.send_with(command, render::issued_ticket).await?;
    tracing::info!(ticket = %dto.number, kiosk = %caller.id, "ticket issued");
    // The ticket stands whatever happens to its contact: a store that fails here is said in the
    // reply, and the kiosk tells the citizen no messages will come.
    let contact_kept = match contact {
        None => None,
        Some(contact) => {
            let day = BusinessDay::containing(ticket.issued_at, &state.office.config().time_zone);
            let kept = super::notices::keep_contact(&state.notices, day, ticket.id, contact, lang).await;
            if let Err(error) = &kept {
                tracing::error!(ticket = %dto.number, %error, "the ticket's contact was not kept");
            }
            Some(kept.is_ok())
        }
    };
    // The ticket is durable and numbered: printing can only add to it, never hold it back.
    // Staff issuing at a desk hand the number over themselves: only kiosks with a printer print.
    let print = match caller.role {
        Role::Kiosk => {
            let (config, base_url) = (state.office.config(), state.base_url(&request));
            state.devices.print_ticket(&caller.id, &ticket, position, &config, &base_url).await
        }
        _ => None,
    };
    Ok(HttpResponse::Created().json(IssuedDto { ticket: dto, print, contact_kept }))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HereRequest {
    /// The ticket's tracking token, or its tracking address as its QR code carries it.
    pub token: String,
}

/// A citizen waiting outside scans their ticket's QR code at the kiosk: they are here.
#[utoipa::path(post, path = "/api/v1/tickets/here", tag = "kiosk", request_body = HereRequest,
    responses((status = 200, body = super::dto::TicketDto), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "no ticket of today has that token"),
              (status = 409, body = ErrorBody, description = "the ticket is closed")),
    security(("bearer" = [])))]
pub async fn here(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<HereRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ISSUERS, "confirm citizens present")?;
    let scanned = body.into_inner().token;
    // A QR code carries the tracking address: the token is its last segment.
    let token = scanned.trim().trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_string();
    let command = Command::ConfirmPresent { token, by: caller.who() };
    let dto = state.office.send_with(command, render::ticket_reply(false)).await?;
    tracing::info!(ticket = %dto.number, kiosk = %caller.id, "citizen confirmed present");
    Ok(HttpResponse::Ok().json(dto))
}
