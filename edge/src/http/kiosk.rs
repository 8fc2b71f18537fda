//! Issuing tickets: the kiosk's one job.

use actix_web::{web, HttpResponse};
use fila_protocol::office::{Command, Priority, Reply};
use fila_protocol::{CategoryId, ServiceId, Timestamp};

use super::caller::{Caller, ISSUERS};
use super::dto::{IssueRequest, TicketDto};
use super::error::{ApiError, ErrorBody};
use super::{render, AppState};

/// Issue a ticket. Answers only once the ticket is on disk.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "kiosk", request_body = IssueRequest,
    responses((status = 201, body = TicketDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<IssueRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ISSUERS, "issue tickets")?;
    let body = body.into_inner();
    let priority = match (body.category, body.appointment_at) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "bad_priority",
                "a ticket is preferential or an appointment, not both",
            ))
        }
        (Some(category), None) => Priority::Preferential(CategoryId::new(category)),
        (None, Some(at)) => Priority::Appointment(Timestamp::from_ms(at)),
        (None, None) => Priority::Normal,
    };
    let command = Command::Issue {
        service: ServiceId::new(body.service),
        priority,
        token: crate::auth::tracking_token(),
    };
    let (reply, _) = state.office.send(command).await?;
    let Reply::Ticket(ticket) = reply else {
        return Err(ApiError::Internal(
            "issue did not reply with a ticket".into(),
        ));
    };
    tracing::info!(ticket = %ticket.number, kiosk = %caller.id, "ticket issued");
    let dto = state
        .office
        .query(move |office, now| render::ticket_dto(office, now, &ticket, true))
        .await?;
    Ok(HttpResponse::Created().json(dto))
}
