//! Issuing tickets: the kiosk's one job.

use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::office::{Command, Priority};
use fila_protocol::{CategoryId, ServiceId, Timestamp};

use super::caller::{Caller, ISSUERS};
use super::dto::{IssueRequest, IssuedDto};
use super::error::{ApiError, ErrorBody};
use super::{render, AppState};
use crate::auth::Role;

/// Issue a ticket. Answers only once the ticket is on disk; then prints it at the kiosk's printer,
/// if it has one, and says whether it did (if not, the kiosk shows the ticket on screen).
#[utoipa::path(post, path = "/api/v1/tickets", tag = "kiosk", request_body = IssueRequest,
    responses((status = 201, body = IssuedDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn issue(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<IssueRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ISSUERS, "issue tickets")?;
    let body = body.into_inner();
    let priority = match (body.category, body.appointment_at) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request("bad_priority", "a ticket is preferential or an appointment, not both"))
        }
        (Some(category), None) => Priority::Preferential(CategoryId::new(category)),
        (None, Some(at)) => Priority::Appointment(Timestamp::from_ms(at)),
        (None, None) => Priority::Normal,
    };
    let command = Command::Issue {
        service: ServiceId::new(body.service),
        priority,
        issuer: caller.who(),
        token: crate::auth::tracking_token(),
    };
    let dto = state.office.send_with(command, render::ticket_reply(true)).await?;
    tracing::info!(ticket = %dto.number, kiosk = %caller.id, "ticket issued");
    // The ticket is durable and numbered: printing can only add to it, never hold it back.
    // Staff issuing at a desk hand the number over themselves: only kiosks with a printer print.
    let print = match caller.role {
        Role::Kiosk if state.devices.prints_for(&caller.id) => {
            let base_url = state.public_url.clone().unwrap_or_else(|| {
                let info = request.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            });
            let print = crate::devices::ticket_print(&dto, &state.office.config(), &base_url, state.devices.lang());
            state.devices.print(&caller.id, print).await
        }
        _ => None,
    };
    Ok(HttpResponse::Created().json(IssuedDto { ticket: dto, print }))
}
