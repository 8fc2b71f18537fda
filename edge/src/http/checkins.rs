//! Checking a booking in: the kiosk (or a supervisor at the console) presents the booking's
//! pass (its QR code) or short code, and the office issues its appointment ticket, whose issuer
//! is the booking. Only this path makes appointment tickets.
//!
//! A pass is checked by central's signature, so it works for a booking the office has not
//! received yet (WAN down); a short code is checked against the bookings the office has synced.
//! Outside the check-in window the answer says what to do instead: come back at a time, or take
//! a normal ticket.

use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::booking::{check_in, BookingPass, BookingState, CheckInRefusal, Presented, ShortCode};
use fila_protocol::office::{Command, Priority};
use fila_protocol::{BusinessDay, Rejection, Timestamp, Who};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::{Caller, ISSUERS};
use super::dto::IssuedDto;
use super::error::{ApiError, ErrorBody};
use super::{render, AppState};
use crate::auth::Role;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    /// The booking's pass (what its QR code holds) or its short code (K7Q2-M9XP).
    pub code: String,
}

/// The booking a pass or a short code names, as the office can tell.
fn presented(state: &AppState, code: &str, today: BusinessDay) -> Result<(String, Presented), ApiError> {
    let office = state.office.config().id.clone();
    let synced = state.office.appointments().of(&office, today);
    if code.trim().starts_with("FILA1.") {
        let key = state.booking_key.as_ref().ok_or_else(|| {
            ApiError::bad_request(
                "no_booking_key",
                "this office has no booking key ([central] booking_key) to check passes",
            )
        })?;
        let pass =
            BookingPass::verify(code, key).map_err(|error| ApiError::bad_request("bad_pass", error.to_string()))?;
        let mut presented = Presented::from(&pass);
        // What central has said since (a cancellation) counts, when it has reached the office.
        presented.state = synced.bookings.get(&pass.booking).map(|booking| booking.state);
        return Ok((pass.booking, presented));
    }
    let short = ShortCode::parse(code).ok_or_else(|| {
        ApiError::bad_request("bad_code", "a booking code is eight letters and digits, like K7Q2-M9XP")
    })?;
    let booking = synced.by_code_hash(&short.hash(&office)).ok_or_else(|| {
        ApiError::NotFound("no booking of today has that code here; scan the QR code of the booking".into())
    })?;
    let presented = Presented {
        office,
        day: today,
        service: booking.service.clone(),
        start: booking.start,
        state: Some(booking.state),
    };
    Ok((booking.id.clone(), presented))
}

/// A pass for another office is a wrong request (400); the rest are right passes at the
/// wrong moment or in the wrong state (409), each saying what to do.
fn refused(refusal: CheckInRefusal) -> ApiError {
    let code = match &refusal {
        CheckInRefusal::OtherOffice => return ApiError::bad_request("other_office", refusal.to_string()),
        CheckInRefusal::OtherDay(_) => "other_day",
        CheckInRefusal::TooEarly { .. } => "too_early",
        CheckInRefusal::TooLate { .. } => "too_late",
        CheckInRefusal::Cancelled => "booking_cancelled",
        CheckInRefusal::Missed => "booking_missed",
        CheckInRefusal::Unbookable(_) => "not_bookable",
    };
    ApiError::conflict(code, refusal.to_string())
}

/// Check a booking in and issue its appointment ticket (printed at a kiosk with a printer).
#[utoipa::path(post, path = "/api/v1/checkins", tag = "kiosk", request_body = CheckInRequest,
    responses((status = 201, body = IssuedDto),
              (status = 400, body = ErrorBody, description = "`bad_code`, `bad_pass` (altered or not central's), `other_office`"),
              (status = 404, body = ErrorBody, description = "no synced booking of today has that short code"),
              (status = 409, body = ErrorBody, description = "`too_early`, `too_late` (take a normal ticket), `booking_cancelled`, `booking_missed`, `other_day`, `already_checked_in` (with the first ticket's number)")),
    security(("bearer" = [])))]
pub async fn check_in_booking(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<CheckInRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ISSUERS, "check bookings in")?;
    // The office's own time: the day and the windows are the office's.
    let now: Timestamp = state.office.query(|_, now| now).await?;
    let config = state.office.config();
    let today = BusinessDay::containing(now, &config.time_zone);
    let (booking, presented) = presented(&state, &body.code, today)?;
    let due = check_in(&config, &presented, now).map_err(refused)?;
    let command = Command::Issue {
        service: presented.service.clone(),
        priority: Priority::Appointment(due),
        issuer: Who::Booking(booking.clone()),
        token: crate::auth::tracking_token(),
    };
    let (dto, ticket, position) = match state.office.send_with(command, render::issued_ticket).await {
        Err(crate::office_loop::LoopError::Rejected(Rejection::AlreadyCheckedIn(first))) => {
            return Err(ApiError::conflict(
                "already_checked_in",
                format!("this booking was checked in already: your ticket is {first}"),
            ));
        }
        other => other?,
    };
    tracing::info!(ticket = %dto.number, %booking, by = %caller.id, "booking checked in");
    let print = match caller.role {
        Role::Kiosk => {
            let base_url = state.base_url(&request);
            state.devices.print_ticket(&caller.id, &ticket, position, &config, &base_url).await
        }
        _ => None,
    };
    Ok(HttpResponse::Created().json(IssuedDto { ticket: dto, print, contact_kept: None }))
}

/// One of today's bookings as the console lists it. Of who booked, only the last four
/// characters of their document, for the counter to compare when it asks for it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppointmentDto {
    pub booking: String,
    pub service: String,
    /// "09:30"
    pub start: String,
    /// booked, late (its slot has begun), cancelled, checked_in or no_show (its late window
    /// is over); checked_in once its ticket exists here.
    pub state: String,
    /// The appointment ticket, once checked in.
    pub ticket: Option<String>,
    /// The last four characters of the booking's identity document, when central has said.
    pub last4: Option<String>,
    /// What the citizen said they need, when they wrote something.
    pub note: Option<String>,
}

/// Today's bookings, by slot, with the tickets of those checked in.
#[utoipa::path(get, path = "/api/v1/appointments", tag = "staff",
    responses((status = 200, body = [AppointmentDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn today(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(super::caller::STAFF, "see today's appointments")?;
    let me = caller.id.clone();
    let (day, tickets, at_my_counter, now) = state
        .office
        .query(move |office, now| {
            let day = office.day();
            let by_booking = day.tickets_by_booking();
            let tickets: std::collections::HashMap<String, String> =
                by_booking.iter().map(|(booking, ticket)| (booking.to_string(), ticket.number.to_string())).collect();
            // The tickets called or served now at counters this caller works.
            let mine: std::collections::HashSet<_> = day
                .counters
                .values()
                .filter(|counter| counter.agent.as_ref().is_some_and(|agent| agent.as_str() == me))
                .filter_map(|counter| counter.current)
                .collect();
            let at_my_counter: std::collections::HashSet<String> = by_booking
                .iter()
                .filter(|(_, ticket)| mine.contains(&ticket.id))
                .map(|(booking, _)| booking.to_string())
                .collect();
            (day.day, tickets, at_my_counter, now)
        })
        .await?;
    // Supervisors see every booking's details; an agent those of the one they are serving.
    let sees_all = super::caller::SUPERVISORS.contains(&caller.role);
    let config = state.office.config();
    let office = config.id.clone();
    let state_details = state.booking_details.clone();
    let mut bookings: Vec<AppointmentDto> = state
        .office
        .appointments()
        .of(&office, day)
        .bookings
        .into_values()
        .map(|booking| {
            let ticket = tickets.get(&booking.id).cloned();
            let state = match (ticket.is_some(), booking.state) {
                (true, _) => "checked_in",
                (false, BookingState::Booked)
                    if fila_protocol::booking::checkin::is_missed(
                        &config,
                        day,
                        &booking.service,
                        booking.start,
                        now,
                    ) =>
                {
                    "no_show"
                }
                (false, BookingState::Booked) if booking.start.on(day, &config.time_zone) < now => "late",
                (false, other) => other.name(),
            };
            let detail =
                (sees_all || at_my_counter.contains(&booking.id)).then(|| state_details.get(&booking.id)).flatten();
            AppointmentDto {
                service: booking.service.0.clone(),
                start: booking.start.to_string(),
                state: state.to_string(),
                ticket,
                last4: detail.as_ref().map(|d| d.last4.clone()),
                note: detail.and_then(|d| d.note),
                booking: booking.id,
            }
        })
        .collect();
    bookings.sort_by(|a, b| (&a.start, &a.booking).cmp(&(&b.start, &b.booking)));
    Ok(HttpResponse::Ok().json(bookings))
}
