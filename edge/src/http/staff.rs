//! What counter agents and supervisors see, and what only supervisors may do.

use actix_web::{web, HttpResponse};
use fila_protocol::office::{Command, Office};
use fila_protocol::{rule, TicketStatus, Timestamp};

use super::caller::{Caller, STAFF, SUPERVISORS};
use super::dto::{AlertDto, CallDto, CancelRequest, QueueDto, TicketDto};
use super::error::{ApiError, ErrorBody};
use super::{render, AppState};
use crate::security::SecurityEvent;

const RECENT_CALLS: usize = 20;
/// Failed attempts of a waiting notice that make it the supervisor's concern.
const NOTICE_FAILURES_ALERT: u32 = 2;

/// The live queue: waiting tickets in call order, counters, recent calls, alerts.
#[utoipa::path(get, path = "/api/v1/queue", tag = "staff",
    responses((status = 200, body = QueueDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn queue(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(STAFF, "see the queue")?;
    let mut queue = state.office.query(queue_view).await?;
    // Devices are the supervisor's to see to; agents keep their alerts about citizens.
    if SUPERVISORS.contains(&caller.role) {
        queue.alerts.extend(state.devices.health.all().iter().filter_map(|device| {
            let (kind, message) = device.alert()?;
            Some(AlertDto { kind: kind.into(), ticket: None, device: Some(device.id.clone()), subject: None, message })
        }));
        // Messages that keep failing: a single failure may be a blip, the retries say it is not.
        let (failing, reason) = state.notices.failing(NOTICE_FAILURES_ALERT);
        if failing > 0 {
            let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
            queue.alerts.push(AlertDto {
                kind: "notices_failing".into(),
                ticket: None,
                device: None,
                subject: None,
                message: format!("{failing} message(s) to citizens keep failing and wait to be sent again{why}"),
            });
        }
        // A citizen unhappy enough to say why.
        queue.alerts.extend(state.comments.alerts(Timestamp::from_ms(super::now_ms())).into_iter().map(|c| AlertDto {
            kind: "low_score".into(),
            ticket: Some(c.ticket.clone()),
            device: None,
            subject: None,
            message: format!("ticket {} rated the visit {}/5: {}", c.ticket, c.satisfaction.unwrap_or(0), c.text),
        }));
        // So are sign-in lockouts and kiosks over their rate: someone may be guessing PINs.
        queue.alerts.extend(state.security.recent().into_iter().map(|event| AlertDto {
            kind: event.kind,
            ticket: None,
            device: None,
            subject: Some(event.subject),
            message: event.message,
        }));
    }
    Ok(HttpResponse::Ok().json(queue))
}

fn queue_view(office: &Office, now: Timestamp) -> QueueDto {
    let day = office.day();
    let config = office.config();
    let positions = office.positions(now);
    let waiting = office
        .ranked_waiting(now)
        .iter()
        .filter_map(|r| office.ticket(r.ticket))
        .map(|t| TicketDto::new(t, config, positions.get(&t.id).copied(), false))
        .collect();
    let parked = day
        .tickets
        .values()
        .filter(|t| t.status == TicketStatus::Parked)
        .map(|t| render::ticket_dto(office, now, t, false))
        .collect();
    let counters = config.counters.iter().map(|c| render::counter_dto(office, now, c.id.as_str())).collect();
    let recent_calls =
        day.calls.iter().rev().take(RECENT_CALLS).filter_map(|call| call_dto(office, now, call)).collect();
    let mut alerts = office_alerts(office, now);
    alerts.extend(
        day.tickets
            .values()
            .filter(|t| t.status == TicketStatus::Waiting)
            .filter(|t| rule::legal_alarm_at(config, t).is_some_and(|at| at <= now))
            .map(|t| AlertDto {
                kind: "legal_wait".into(),
                ticket: Some(t.number.to_string()),
                device: None,
                subject: None,
                message: format!(
                    "{} has waited {} minutes, near its legal maximum",
                    t.number,
                    now.ms_since(t.issued_at) / 60_000
                ),
            }),
    );
    let room = office.room().into();
    QueueDto { day: day.day.to_string(), waiting, parked, counters, recent_calls, alerts, room }
}

/// What stops the whole office from issuing: everyone at a counter needs to know.
fn office_alerts(office: &Office, now: Timestamp) -> Vec<AlertDto> {
    let alert = |kind: &str, message: &str| AlertDto {
        kind: kind.into(),
        ticket: None,
        device: None,
        subject: None,
        message: message.into(),
    };
    let mut alerts = Vec::new();
    if office.clock_behind(now) {
        alerts.push(alert(
            "clock_behind",
            "the box's clock is behind its last stored change: nothing is issued until its time is right (NTP)",
        ));
    }
    if office.is_recovering() {
        alerts.push(alert(
            "recovering",
            "this box is recovering the office's records from headquarters: it issues again once they are here",
        ));
    }
    alerts
}

fn call_dto(office: &Office, now: Timestamp, call: &fila_protocol::office::CallRecord) -> Option<CallDto> {
    let ticket = office.ticket(call.ticket)?;
    let dto = render::ticket_dto(office, now, ticket, false);
    Some(CallDto::new(call, dto, office.config(), |id| render::number_of(office, id)))
}

/// Today's out-of-order calls: who called whom, why, and whom they skipped.
#[utoipa::path(get, path = "/api/v1/deviations", tag = "staff",
    responses((status = 200, body = [CallDto]), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn deviations(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(SUPERVISORS, "see deviations")?;
    let calls: Vec<CallDto> = state
        .office
        .query(|office, now| {
            office.day().calls.iter().filter(|c| c.is_out_of_order()).filter_map(|c| call_dto(office, now, c)).collect()
        })
        .await?;
    Ok(HttpResponse::Ok().json(calls))
}

/// The latest security events, newest first: sign-in lockouts (per username and per address) and
/// kiosks over their ticket rate. Supervisors also see the last 15 minutes' among the alerts.
#[utoipa::path(get, path = "/api/v1/security/events", tag = "staff",
    responses((status = 200, body = [SecurityEvent]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn security_events(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(SUPERVISORS, "see security events")?;
    Ok(HttpResponse::Ok().json(state.security.events()))
}

/// Cancel a ticket that is waiting or parked.
#[utoipa::path(post, path = "/api/v1/tickets/{number}/cancel", tag = "staff", request_body = CancelRequest,
    params(("number" = String, Path, description = "ticket number, e.g. A-023")),
    responses((status = 200, body = TicketDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn cancel(
    caller: Caller,
    state: web::Data<AppState>,
    number: web::Path<String>,
    body: web::Json<CancelRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(SUPERVISORS, "cancel tickets")?;
    let number = number.parse().map_err(|()| {
        ApiError::bad_request("bad_number", format!("{:?} is not a ticket number like A-023", number.as_str()))
    })?;
    let command = Command::Cancel { number, reason: body.into_inner().reason, by: caller.actor() };
    let json = state.office.send_with(command, render::reply).await?;
    Ok(HttpResponse::Ok().json(json))
}
