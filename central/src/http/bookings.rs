//! Booking an appointment, for citizens (public; a private link's token is the credential for
//! one booking):
//!
//! - `GET /api/v1/public/offices/{office}/services?lang=`: the services that take bookings,
//!   with their requirements;
//! - `GET /api/v1/public/offices/{office}/slots?service=&day=`: a day's slots and what is left;
//! - `POST /api/v1/public/bookings`: hold a slot; a code goes to the contact (`202`);
//! - `POST /api/v1/public/bookings/holds/{hold}/confirm`: the code confirms it (`201`);
//! - `GET /api/v1/public/bookings/{token}` and `POST .../cancel`: see or cancel it.
//!
//! And `GET /api/v1/booking-key`: the public key an office's edge checks passes with.
//! Refusals name their reason: a full slot `409 slot_full`, a limit `429 limit_reached`, an
//! expired hold `410 hold_expired`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::booking::Requirements;
use fila_protocol::calendar::LocalTime;
use fila_protocol::BusinessDay;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::bookings::{BookingRequest, Confirmed, PersonForm, Refusal};

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let status = match &refusal {
            Refusal::Unbookable(fila_protocol::booking::Unbookable::Full(_))
            | Refusal::TooLate(_)
            | Refusal::SlotsFree(_)
            | Refusal::AlreadyWaiting => StatusCode::CONFLICT,
            Refusal::Limit(_) => StatusCode::TOO_MANY_REQUESTS,
            Refusal::Expired => StatusCode::GONE,
            Refusal::NotFound | Refusal::Read(crate::hub::ReadError::UnknownOffice(_)) => StatusCode::NOT_FOUND,
            Refusal::Read(_) | Refusal::Store(_) => return ApiError::Internal(refusal.to_string()),
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::Refused { status, code: refusal.code(), message: refusal.to_string() }
    }
}

pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(web::block(work).await??)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// The language of the requirements, `es` when absent.
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Debug, Serialize)]
struct ServiceDto {
    id: String,
    name: String,
    slot_minutes: u32,
    horizon_days: u32,
    requirements: Option<Requirements>,
}

#[utoipa::path(get, path = "/api/v1/public/offices/{office}/services", tag = "public",
    params(("office" = String, Path, description = "the office's id"), LangQuery),
    responses((status = 200, body = Object,
               description = "`office`, `name`, `services` (each `id`, `name`, `slot_minutes`, `horizon_days`, \
                              `requirements` or null) and `contact_by` (the media central can send to)"),
              (status = 400, body = ErrorBody, description = "`not_bookable`: the office takes no bookings"),
              (status = 404, body = ErrorBody, description = "`unknown_office`")))]
pub async fn services(
    state: web::Data<AppState>,
    office: web::Path<String>,
    query: web::Query<LangQuery>,
) -> Result<HttpResponse, ApiError> {
    let bookings = state.bookings.clone();
    let office = office.into_inner();
    let config = blocking(move || bookings.config(&office)).await?;
    let lang = query.lang.as_deref().unwrap_or("es");
    let services: Vec<ServiceDto> = config
        .services
        .iter()
        .filter_map(|service| {
            let booking = service.booking.as_ref()?;
            Some(ServiceDto {
                id: service.id.0.clone(),
                name: service.name.clone(),
                slot_minutes: booking.slot_minutes,
                horizon_days: booking.horizon_days,
                requirements: booking.requirements_in(lang).cloned(),
            })
        })
        .collect();
    let contact_by = state.outbox.media();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "office": config.id, "name": config.name, "services": services, "contact_by": contact_by,
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SlotsQuery {
    /// The service's id.
    service: String,
    /// The date, like 2026-12-07.
    day: String,
}

#[derive(Debug, Serialize)]
struct SlotDto {
    start: String,
    end: String,
    free: u32,
    capacity: u32,
}

fn parse_time(text: &str) -> Result<LocalTime, ApiError> {
    LocalTime::parse(text)
        .ok_or_else(|| ApiError::bad_request("bad_time", format!("{text:?} is not a time like 09:30")))
}

pub(super) fn parse_day(text: &str) -> Result<BusinessDay, ApiError> {
    BusinessDay::parse(text)
        .ok_or_else(|| ApiError::bad_request("bad_day", format!("{text:?} is not a date like 2026-12-07")))
}

#[utoipa::path(get, path = "/api/v1/public/offices/{office}/slots", tag = "public",
    params(("office" = String, Path, description = "the office's id"), SlotsQuery),
    responses((status = 200, body = Object,
               description = "`day` and its `slots`, each `start`, `end` (09:30), `free` and `capacity`"),
              (status = 400, body = ErrorBody,
               description = "`bad_day`, `unknown_service`, `not_bookable` (closed, past, beyond the horizon), \
                              `bad_query` (a missing or malformed parameter)"),
              (status = 404, body = ErrorBody, description = "`unknown_office`")))]
pub async fn slots(
    state: web::Data<AppState>,
    office: web::Path<String>,
    query: web::Query<SlotsQuery>,
) -> Result<HttpResponse, ApiError> {
    let day = parse_day(&query.day)?;
    let (bookings, office, service, now) =
        (state.bookings.clone(), office.into_inner(), query.service.clone(), state.hub.now());
    let free = blocking(move || bookings.free_slots(&office, &service, day, now)).await?;
    let slots: Vec<SlotDto> = free
        .into_iter()
        .map(|slot| SlotDto {
            start: slot.start.to_string(),
            end: slot.end.to_string(),
            free: slot.free,
            capacity: slot.capacity,
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "day": day.to_string(), "slots": slots })))
}

/// A citizen's request for a slot.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    office: String,
    service: String,
    /// 2026-12-07
    day: String,
    /// 09:30
    start: String,
    /// cedula, dni, pasaporte or extranjeria
    document_type: String,
    document_number: String,
    /// An e-mail address (or a mobile number where central sends SMS).
    contact: String,
    #[serde(default)]
    lang: Option<String>,
    /// What the procedure is, so the office can prepare (no personal data, please).
    #[serde(default)]
    note: Option<String>,
}

/// Hold a slot: the code to confirm it goes to the contact.
#[utoipa::path(post, path = "/api/v1/public/bookings", tag = "public", request_body = RequestBody,
    responses((status = 202, body = Object,
               description = "`hold` (its id, to confirm), `expires_at` (ms since the Unix epoch), `sent_by` (the medium)"),
              (status = 400, body = ErrorBody,
               description = "`bad_day`, `bad_time`, `bad_request` (identity, contact or note), `unknown_service`, \
                              `no_such_slot`, `not_bookable`, `bad_body`"),
              (status = 404, body = ErrorBody, description = "`unknown_office`"),
              (status = 409, body = ErrorBody, description = "`slot_full`"),
              (status = 413, body = ErrorBody, description = "`bad_body`: the body is too large"),
              (status = 429, body = ErrorBody, description = "`limit_reached`: too many requests or bookings")))]
pub async fn request(
    state: web::Data<AppState>,
    http: HttpRequest,
    body: web::Json<RequestBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let day = parse_day(&body.day)?;
    let start = parse_time(&body.start)?;
    let address = client_address(&http);
    let request = BookingRequest {
        office: body.office,
        service: body.service,
        day,
        start,
        person: PersonForm {
            document_type: body.document_type,
            document_number: body.document_number,
            contact: body.contact,
            lang: body.lang.unwrap_or_else(|| "es".into()),
            note: body.note,
        },
    };
    let (bookings, now) = (state.bookings.clone(), state.hub.now());
    let receipt = blocking(move || bookings.request(request, address, now)).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({
        "hold": receipt.hold,
        "expires_at": receipt.expires_at.as_ms(),
        "sent_by": receipt.sent_by,
    })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    /// The code sent to the contact (or the token in a waiting list offer's link).
    code: String,
}

#[utoipa::path(post, path = "/api/v1/public/bookings/holds/{hold}/confirm", tag = "public",
    params(("hold" = String, Path, description = "the hold's id, from the request's answer or an offer's link")),
    request_body = ConfirmBody,
    responses((status = 201, body = Object,
               description = "the booking: `booking`, `office`, `service`, `day`, `start`, `short_code`, `pass` \
                              (what its QR code holds), `manage_token` (its private link)"),
              (status = 400, body = ErrorBody, description = "`wrong_code`, `not_bookable`, `no_such_slot`, `bad_body`"),
              (status = 404, body = ErrorBody, description = "`not_found`: no such hold"),
              (status = 409, body = ErrorBody, description = "`slot_full`"),
              (status = 410, body = ErrorBody, description = "`hold_expired`: the time to confirm has passed"),
              (status = 413, body = ErrorBody, description = "`bad_body`: the body is too large")))]
pub async fn confirm(
    state: web::Data<AppState>,
    hold: web::Path<String>,
    body: web::Json<ConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let (bookings, hold, code, now) = (state.bookings.clone(), hold.into_inner(), body.code.clone(), state.hub.now());
    let confirmed = blocking(move || bookings.confirm(&hold, &code, now)).await?;
    Ok(HttpResponse::Created().json(confirmed_json(&confirmed)))
}

fn confirmed_json(confirmed: &Confirmed) -> serde_json::Value {
    serde_json::json!({
        "booking": confirmed.booking,
        "office": confirmed.office,
        "service": confirmed.service,
        "day": confirmed.day.to_string(),
        "start": confirmed.start.to_string(),
        "short_code": confirmed.short_code,
        "pass": confirmed.pass,
        "manage_token": confirmed.manage_token,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViewQuery {
    /// The language of the requirements; the booking's own when absent.
    #[serde(default)]
    lang: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/public/bookings/{token}", tag = "public",
    params(("token" = String, Path, description = "the booking's private link token"), ViewQuery),
    responses((status = 200, body = Object,
               description = "`booking`, `office`, `office_name`, `service`, `service_name`, `requirements`, `day`, \
                              `start`, `minutes`, `state`, `short_code`; never the identity or the contact"),
              (status = 404, body = ErrorBody, description = "`not_found`")))]
pub async fn view(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<ViewQuery>,
) -> Result<HttpResponse, ApiError> {
    let (bookings, token) = (state.bookings.clone(), token.into_inner());
    let (record, in_document) = blocking(move || bookings.lookup(&token)).await?;
    let booking_state = in_document.map_or(record.state.clone(), |s| s.name().to_string());
    let lang = query.lang.as_deref().unwrap_or(&record.person.lang).to_string();
    let bookings = state.bookings.clone();
    let office = record.office.clone();
    let config = blocking(move || bookings.config(&office)).await.ok();
    let service = config.as_ref().and_then(|c| c.service(&fila_protocol::ServiceId(record.service.clone())));
    // The citizen's own booking: its codes and what to bring; never the identity or contact.
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "booking": record.id,
        "office": record.office,
        "office_name": config.as_ref().map(|c| c.name.clone()),
        "office_address": config.as_ref().and_then(|c| c.address.clone()),
        "service": record.service,
        "service_name": service.map(|s| s.name.clone()),
        "requirements": service.and_then(|s| s.booking.as_ref()).and_then(|b| b.requirements_in(&lang)).cloned(),
        "day": record.day.to_string(),
        "start": record.start,
        "minutes": record.minutes,
        "state": booking_state,
        "short_code": record.short_code,
    })))
}

/// The booking's pass as a QR code, for the kiosk's reader.
#[utoipa::path(get, path = "/api/v1/public/bookings/{token}/qr.svg", tag = "public",
    params(("token" = String, Path, description = "the booking's private link token")),
    responses((status = 200, content_type = "image/svg+xml", body = String, description = "the pass as a QR code"),
              (status = 404, body = ErrorBody, description = "`not_found`")))]
pub async fn qr(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (bookings, token) = (state.bookings.clone(), token.into_inner());
    let (record, _) = blocking(move || bookings.lookup(&token)).await?;
    let code = qrcode::QrCode::with_error_correction_level(record.pass.as_bytes(), qrcode::EcLevel::M)
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().quiet_zone(true).module_dimensions(4, 4).build();
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "image/svg+xml"))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(svg))
}

/// The appointment as a calendar file (RFC 5545), in the office's time zone.
#[utoipa::path(get, path = "/api/v1/public/bookings/{token}/booking.ics", tag = "public",
    params(("token" = String, Path, description = "the booking's private link token")),
    responses((status = 200, content_type = "text/calendar", body = String, description = "an iCalendar event"),
              (status = 400, body = ErrorBody, description = "`not_bookable`: the office no longer takes bookings"),
              (status = 404, body = ErrorBody, description = "`not_found`")))]
pub async fn calendar(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (bookings, token) = (state.bookings.clone(), token.into_inner());
    let (record, _) = blocking(move || bookings.lookup(&token)).await?;
    let bookings = state.bookings.clone();
    let office = record.office.clone();
    let config = blocking(move || bookings.config(&office)).await?;
    let start =
        LocalTime::parse(&record.start).ok_or_else(|| ApiError::Internal("a stored slot does not read".into()))?;
    let begins = start.on(record.day, &config.time_zone);
    let ends = begins.plus_minutes(i64::from(record.minutes));
    let stamp = |at: fila_protocol::Timestamp| {
        jiff::Timestamp::from_millisecond(at.as_ms())
            .map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string())
            .unwrap_or_default()
    };
    let service = config
        .service(&fila_protocol::ServiceId(record.service.clone()))
        .map_or(record.service.clone(), |s| s.name.clone());
    let escape = |text: &str| text.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;");
    let ics = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fila//citas//ES\r\nBEGIN:VEVENT\r\nUID:{}@fila\r\nDTSTAMP:{}\r\n\
         DTSTART:{}\r\nDTEND:{}\r\nSUMMARY:{}\r\nLOCATION:{}\r\nDESCRIPTION:{}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        record.id,
        stamp(fila_protocol::Timestamp(record.created_at)),
        stamp(begins),
        stamp(ends),
        escape(&service),
        escape(&config.address.as_ref().map_or_else(|| config.name.clone(), |a| format!("{}, {a}", config.name))),
        escape(&format!("Código {}", record.short_code)),
    );
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/calendar; charset=utf-8"))
        .insert_header(("Content-Disposition", "attachment; filename=\"cita.ics\""))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(ics))
}

/// The offices that take bookings.
#[utoipa::path(get, path = "/api/v1/public/offices", tag = "public",
    responses((status = 200, body = [Object], description = "each office's `id` and `name`")))]
pub async fn offices(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let bookings = state.bookings.clone();
    let offices: Vec<serde_json::Value> = blocking(move || {
        Ok(bookings
            .bookable_offices()
            .into_iter()
            .map(|(id, name)| serde_json::json!({ "id": id, "name": name }))
            .collect())
    })
    .await?;
    Ok(HttpResponse::Ok().json(offices))
}

const PAGE: &str = include_str!("../pages/book.html");
const SCRIPT: &str = include_str!("../pages/book.js");
const STYLE: &str = include_str!("../pages/book.css");
/// The booking pages run only their own script and talk only to this origin.
pub(super) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/html; charset=utf-8"))
        .insert_header(("Content-Security-Policy", CSP))
        // A private link's page: no referrer carries its token elsewhere.
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(PAGE)
}

pub async fn manage_page(_token: web::Path<String>) -> HttpResponse {
    page().await
}

pub async fn script() -> HttpResponse {
    HttpResponse::Ok().insert_header(("Content-Type", "text/javascript; charset=utf-8")).body(SCRIPT)
}

pub async fn style() -> HttpResponse {
    HttpResponse::Ok().insert_header(("Content-Type", "text/css; charset=utf-8")).body(STYLE)
}

#[utoipa::path(post, path = "/api/v1/public/bookings/{token}/cancel", tag = "public",
    params(("token" = String, Path, description = "the booking's private link token")),
    responses((status = 200, body = Object, description = "`booking` and `state` (`cancelled`)"),
              (status = 400, body = ErrorBody, description = "`not_bookable`, `unknown_service`"),
              (status = 404, body = ErrorBody, description = "`not_found`"),
              (status = 409, body = ErrorBody, description = "`too_late`: past the cancellation deadline, or not booked")))]
pub async fn cancel(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (bookings, token, now) = (state.bookings.clone(), token.into_inner(), state.hub.now());
    let record = blocking(move || bookings.cancel(&token, now)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "booking": record.id, "state": "cancelled" })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    /// 2026-12-07
    day: String,
    /// 09:30
    start: String,
}

/// Moves a booking to another slot: the link stays, the codes are new.
#[utoipa::path(post, path = "/api/v1/public/bookings/{token}/move", tag = "public",
    params(("token" = String, Path, description = "the booking's private link token")), request_body = MoveBody,
    responses((status = 200, body = Object,
               description = "the booking in its new slot, as confirming answers: `booking`, `office`, `service`, \
                              `day`, `start`, `short_code`, `pass`, `manage_token`"),
              (status = 400, body = ErrorBody,
               description = "`bad_day`, `bad_time`, `bad_request` (already in that slot), `no_such_slot`, \
                              `unknown_service`, `not_bookable`, `bad_body`"),
              (status = 404, body = ErrorBody, description = "`not_found`"),
              (status = 409, body = ErrorBody, description = "`slot_full`, `too_late`"),
              (status = 413, body = ErrorBody, description = "`bad_body`: the body is too large")))]
pub async fn move_to(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Json<MoveBody>,
) -> Result<HttpResponse, ApiError> {
    let day = parse_day(&body.day)?;
    let start = parse_time(&body.start)?;
    let (bookings, token, now) = (state.bookings.clone(), token.into_inner(), state.hub.now());
    let moved = blocking(move || bookings.move_to(&token, day, start, now)).await?;
    Ok(HttpResponse::Ok().json(confirmed_json(&moved)))
}

/// `GET /api/v1/branch/bookings/{day}`: for the office's own box, what its counters see of the
/// day's bookings (the identity's last four characters, the citizen's note), kept in its memory.
#[utoipa::path(get, path = "/api/v1/branch/bookings/{day}", tag = "branch",
    params(("day" = String, Path, description = "the business day, like 2026-12-07")),
    responses((status = 200, body = [Object],
               description = "the office's booked and checked-in bookings of the day: `booking`, `last4`, `note`"),
              (status = 400, body = ErrorBody, description = "`bad_day`"),
              (status = 401, body = ErrorBody, description = "no valid branch token")),
    security(("bearer" = [])))]
pub async fn counter_details(
    branch: super::auth::Branch,
    state: web::Data<AppState>,
    day: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let day = parse_day(&day)?;
    let bookings = state.bookings.clone();
    let details = blocking(move || bookings.counter_details(&branch.office, day)).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(details))
}

/// The address a request came from, for the per-address limit.
pub(super) fn client_address(http: &HttpRequest) -> std::net::IpAddr {
    http.peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip())
}

/// Central's public key for booking passes, which an office's edge checks them with offline.
#[utoipa::path(get, path = "/api/v1/booking-key", tag = "public",
    responses((status = 200, body = Object, description = "`public_key`")))]
pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "public_key": state.bookings.public_key() }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The office's id.
    office: String,
    /// The first day, like 2026-12-01.
    from: String,
    /// The last day, `from` when absent; a year after `from` at most.
    #[serde(default)]
    to: Option<String>,
}

/// Appointment figures of an office, per day and service.
async fn booking_report(
    state: &web::Data<AppState>,
    query: &ReportQuery,
) -> Result<Vec<(BusinessDay, fila_protocol::booking::report::BookingRow)>, ApiError> {
    let from = parse_day(&query.from)?;
    let to = query.to.as_deref().map(parse_day).transpose()?.unwrap_or(from);
    if to < from || from.plus_days(366) < to {
        return Err(ApiError::bad_request("bad_range", "from must be before to, a year apart at most"));
    }
    let (bookings, hub, office) = (state.bookings.clone(), state.hub.clone(), query.office.clone());
    blocking(move || {
        let config = bookings.config(&office)?;
        let offers = bookings.offer_counts(&office, from, to)?;
        let mut rows = Vec::new();
        let mut day = from;
        while day <= to {
            let appointments = hub.appointments(&office, day)?;
            let office_day = hub.day(&office, day).ok();
            for mut row in fila_protocol::booking::report::day_rows(&config, &appointments, office_day.as_ref()) {
                if let Some((made, taken)) = offers.get(&(day, row.service.clone())) {
                    (row.waitlist_offers, row.waitlist_taken) = (*made, *taken);
                }
                rows.push((day, row));
            }
            day = day.plus_days(1);
        }
        Ok(rows)
    })
    .await
}

/// `GET /api/v1/bookings/report?office=&from=&to=`: bookings, check-ins, no-shows, cancellations,
/// punctuality and the walk-in share kept, per day and service (analysts).
#[utoipa::path(get, path = "/api/v1/bookings/report", tag = "headquarters", params(ReportQuery),
    responses((status = 200, body = Object,
               description = "`office` and `rows`, one per day and service: `day`, `service`, `booked`, `checked_in`, \
                              `no_shows`, `cancelled`, `punctuality_mean_minutes`, `walk_in_share`, \
                              `waitlist_offers`, `waitlist_taken`"),
              (status = 400, body = ErrorBody,
               description = "`bad_day`, `bad_range`, `not_bookable`, `bad_query` (a missing or malformed parameter)"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "`unknown_office`")),
    security(("bearer" = [])))]
pub async fn report(
    _: super::auth::Analyst,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = booking_report(&state, &query).await?;
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(day, row)| {
            let mut value = serde_json::to_value(row).unwrap_or_default();
            value["day"] = serde_json::Value::String(day.to_string());
            value
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "office": query.office, "rows": rows })))
}

/// The same as CSV, one line per day and service.
#[utoipa::path(get, path = "/api/v1/bookings/report.csv", tag = "headquarters", params(ReportQuery),
    responses((status = 200, content_type = "text/csv", body = String,
               description = "the report's rows as CSV, one line per day and service"),
              (status = 400, body = ErrorBody,
               description = "`bad_day`, `bad_range`, `not_bookable`, `bad_query` (a missing or malformed parameter)"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "`unknown_office`")),
    security(("bearer" = [])))]
pub async fn report_csv(
    _: super::auth::Analyst,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = booking_report(&state, &query).await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let written = (|| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
        writer.write_record([
            "day",
            "service",
            "booked",
            "checked_in",
            "no_shows",
            "cancelled",
            "punctuality_mean_minutes",
            "walk_in_share",
            "waitlist_offers",
            "waitlist_taken",
        ])?;
        let number = |value: Option<f64>| value.map(|v| format!("{v:.2}")).unwrap_or_default();
        for (day, row) in rows {
            writer.write_record([
                day.to_string(),
                row.service,
                row.booked.to_string(),
                row.checked_in.to_string(),
                row.no_shows.to_string(),
                row.cancelled.to_string(),
                number(row.punctuality_mean_minutes),
                number(row.walk_in_share),
                row.waitlist_offers.to_string(),
                row.waitlist_taken.to_string(),
            ])?;
        }
        Ok(writer.into_inner()?)
    })()
    .map_err(|error| ApiError::Internal(format!("CSV writing failed: {error}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"bookings-{}.csv\"", query.office)))
        .body(written))
}
