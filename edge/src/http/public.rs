//! What anyone may read: the office, a ticket by its tracking token, the latest calls, health.

use actix_web::{web, HttpResponse};
use fila_protocol::office::Command;
use serde::Deserialize;

use super::dto::{CallSummary, CentralLinkDto, HealthDto, OfficeDto, TicketDto};
use super::error::{ApiError, ErrorBody};
use super::{render, AppState};

/// The office: services, preferential categories, counters.
#[utoipa::path(get, path = "/api/v1/office", tag = "public", responses((status = 200, body = OfficeDto)))]
pub async fn office(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut dto = state.office.query(|office, _| OfficeDto::new(office.config(), office.day().day.to_string())).await?;
    dto.public_url = state.public_url.clone();
    dto.contact_media = state.notices.media().into_iter().map(|m| m.as_str().to_string()).collect();
    Ok(HttpResponse::Ok().json(dto))
}

/// A citizen's ticket by its tracking token: status, people ahead, estimated wait.
#[utoipa::path(get, path = "/api/v1/track/{token}", tag = "public",
    params(("token" = String, Path, description = "the ticket's tracking token")),
    responses((status = 200, body = TicketDto), (status = 404, body = ErrorBody)))]
pub async fn track(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let dto = state
        .office
        .query(move |office, now| office.ticket_by_token(&token).map(|t| render::ticket_dto(office, now, t, false)))
        .await?
        .ok_or_else(|| ApiError::NotFound("no ticket has that tracking token today".into()))?;
    Ok(HttpResponse::Ok().json(dto))
}

/// The waiting room now: present and away tickets, against its capacity (the display's and
/// the kiosk's "Sala 38/40").
#[utoipa::path(get, path = "/api/v1/room", tag = "public",
    responses((status = 200, body = super::dto::RoomDto)))]
pub async fn room(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let room: super::dto::RoomDto = state.office.query(|office, _| office.room().into()).await?;
    Ok(HttpResponse::Ok().json(room))
}

/// The citizen waiting outside says they are here: their ticket counts in the room.
#[utoipa::path(post, path = "/api/v1/track/{token}/here", tag = "public",
    params(("token" = String, Path, description = "the ticket's tracking token")),
    responses((status = 200, body = TicketDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn track_here(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let command = Command::ConfirmPresent { token: token.into_inner(), by: fila_protocol::Who::Citizen };
    let dto = state.office.send_with(command, render::ticket_reply(false)).await?;
    Ok(HttpResponse::Ok().json(dto))
}

/// The citizen gives up their ticket.
#[utoipa::path(post, path = "/api/v1/track/{token}/cancel", tag = "public",
    params(("token" = String, Path, description = "the ticket's tracking token")),
    responses((status = 200, body = TicketDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn track_cancel(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let command = Command::CancelByToken { token: token.into_inner() };
    let dto = state.office.send_with(command, render::ticket_reply(false)).await?;
    Ok(HttpResponse::Ok().json(dto))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RecentQuery {
    /// How many calls, newest first (at most 50).
    pub limit: Option<usize>,
}

/// The latest calls, newest first, for the waiting-room screen.
#[utoipa::path(get, path = "/api/v1/calls/recent", tag = "public", params(RecentQuery),
    responses((status = 200, body = [CallSummary])))]
pub async fn recent_calls(
    state: web::Data<AppState>,
    query: web::Query<RecentQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(10).min(50);
    let calls: Vec<CallSummary> = state
        .office
        .query(move |office, _| {
            office
                .day()
                .calls
                .iter()
                .rev()
                .filter_map(|call| {
                    let ticket = office.ticket(call.ticket)?;
                    // The screen shows the call as it was made, wherever the ticket is now.
                    let at_call = fila_protocol::Ticket {
                        counter: Some(call.counter.clone()),
                        called_at: Some(call.at),
                        ..ticket.clone()
                    };
                    render::call_summary(office.config(), &at_call, false)
                })
                .take(limit)
                .collect()
        })
        .await?;
    Ok(HttpResponse::Ok().json(calls))
}

/// Liveness and a glance at the day.
#[utoipa::path(get, path = "/healthz", tag = "public", responses((status = 200, body = HealthDto)))]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(reason) = state.office.fatal() {
        return Err(ApiError::Unavailable(reason));
    }
    let central = state.central.as_ref().map(|link| {
        use std::sync::atomic::Ordering;
        let last_heard = link.last_heard_ms.load(Ordering::SeqCst);
        CentralLinkDto {
            connected: link.connected.load(Ordering::SeqCst),
            docs_in_sync: state.office.docs_in_sync(),
            last_heard: (last_heard > 0).then_some(last_heard),
        }
    });
    let dto = state
        .office
        .query(|office, _| HealthDto {
            // A new box waits for its records from headquarters before it numbers: alive, not
            // yet issuing.
            status: if office.is_recovering() { "recovering" } else { "ok" }.into(),
            office: office.config().id.clone(),
            day: office.day().day.to_string(),
            tickets_today: office.day().tickets.len(),
            central,
        })
        .await?;
    Ok(HttpResponse::Ok().json(dto))
}
