//! What an agent does at a counter. Each handler turns the request into one `Command`; the
//! office decides, and the answer is the ticket, call or counter as it now stands.

use actix_web::{web, HttpResponse};
use fila_protocol::office::{Actor, Command};
use fila_protocol::{CounterId, ServiceId, TicketNumber};

use super::caller::{Caller, STAFF};
use super::dto::{CallDto, CallSpecificRequest, CounterDto, FinishRequest, ResumeRequest, TicketDto, TransferRequest};
use super::error::{ApiError, ErrorBody};
use super::{render, AppState};

type Path = web::Path<String>;

async fn act(
    caller: Caller,
    state: web::Data<AppState>,
    counter: String,
    make: impl FnOnce(CounterId, Actor) -> Command,
) -> Result<HttpResponse, ApiError> {
    caller.require(STAFF, "act at counters")?;
    let json = state.office.send_with(make(CounterId::new(counter), caller.actor()), render::reply).await?;
    Ok(HttpResponse::Ok().json(json))
}

fn number(text: &str) -> Result<TicketNumber, ApiError> {
    text.parse()
        .map_err(|()| ApiError::bad_request("bad_number", format!("{text:?} is not a ticket number like A-023")))
}

macro_rules! counter_action {
    ($(#[$doc:meta])* $name:ident, $path:literal, $body:ty, $variant:ident) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "counter", params(("id" = String, Path, description = "counter id")),
            responses((status = 200, body = $body), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
                      (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
            security(("bearer" = [])))]
        pub async fn $name(caller: Caller, state: web::Data<AppState>, id: Path) -> Result<HttpResponse, ApiError> {
            act(caller, state, id.into_inner(), |counter, by| Command::$variant { counter, by }).await
        }
    };
}

counter_action!(
    /// Take this counter: it opens with you at it (and closes any other counter you held).
    sign_in, "/api/v1/counters/{id}/sign-in", CounterDto, SignIn);
counter_action!(
    /// Pause the counter (no calls until reopened).
    pause, "/api/v1/counters/{id}/pause", CounterDto, Pause);
counter_action!(
    /// Back from a pause.
    reopen, "/api/v1/counters/{id}/reopen", CounterDto, Reopen);
counter_action!(
    /// Close the counter and sign out.
    close, "/api/v1/counters/{id}/close", CounterDto, Close);
counter_action!(
    /// Call the next ticket by the office's rule; the call records which rule chose it.
    call_next, "/api/v1/counters/{id}/call-next", CallDto, CallNext);
counter_action!(
    /// Call the current ticket again; past the configured recalls it becomes a no-show.
    recall, "/api/v1/counters/{id}/recall", TicketDto, Recall);
counter_action!(
    /// The citizen arrived: service starts.
    start, "/api/v1/counters/{id}/start", TicketDto, Start);
counter_action!(
    /// The citizen did not come.
    no_show, "/api/v1/counters/{id}/no-show", TicketDto, NoShow);
counter_action!(
    /// Put the current ticket aside (e.g. the citizen fetches a document).
    park, "/api/v1/counters/{id}/park", TicketDto, Park);

/// Finish the current ticket with an outcome.
#[utoipa::path(post, path = "/api/v1/counters/{id}/finish", tag = "counter", request_body = FinishRequest,
    params(("id" = String, Path, description = "counter id")),
    responses((status = 200, body = TicketDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn finish(
    caller: Caller,
    state: web::Data<AppState>,
    id: Path,
    body: Option<web::Json<FinishRequest>>,
) -> Result<HttpResponse, ApiError> {
    let outcome = body.map(|b| b.into_inner().outcome).unwrap_or_default();
    act(caller, state, id.into_inner(), |counter, by| Command::Finish { counter, by, outcome }).await
}

/// Call a ticket by its number. A reason is required; skipping tickets the rule ranks higher is
/// recorded as an out-of-order call with the tickets skipped.
#[utoipa::path(post, path = "/api/v1/counters/{id}/call", tag = "counter", request_body = CallSpecificRequest,
    params(("id" = String, Path, description = "counter id")),
    responses((status = 200, body = CallDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn call_specific(
    caller: Caller,
    state: web::Data<AppState>,
    id: Path,
    body: web::Json<CallSpecificRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let number = number(&body.number)?;
    act(caller, state, id.into_inner(), |counter, by| Command::CallSpecific {
        counter,
        by,
        number,
        reason: body.reason,
    })
    .await
}

/// Call back a parked ticket to this counter.
#[utoipa::path(post, path = "/api/v1/counters/{id}/resume", tag = "counter", request_body = ResumeRequest,
    params(("id" = String, Path, description = "counter id")),
    responses((status = 200, body = CallDto), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn resume(
    caller: Caller,
    state: web::Data<AppState>,
    id: Path,
    body: web::Json<ResumeRequest>,
) -> Result<HttpResponse, ApiError> {
    let number = number(&body.number)?;
    act(caller, state, id.into_inner(), |counter, by| Command::Resume { counter, by, number }).await
}

/// Send the current ticket to another service's queue; it keeps its number.
#[utoipa::path(post, path = "/api/v1/counters/{id}/transfer", tag = "counter", request_body = TransferRequest,
    params(("id" = String, Path, description = "counter id")),
    responses((status = 200, body = TicketDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn transfer(
    caller: Caller,
    state: web::Data<AppState>,
    id: Path,
    body: web::Json<TransferRequest>,
) -> Result<HttpResponse, ApiError> {
    let service = ServiceId::new(body.into_inner().service);
    act(caller, state, id.into_inner(), |counter, by| Command::Transfer { counter, by, service }).await
}
