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

use super::error::ApiError;
use super::AppState;
use crate::bookings::{BookingRequest, Refusal};

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let status = match &refusal {
            Refusal::Unbookable(fila_protocol::booking::Unbookable::Full(_)) | Refusal::TooLate(_) => {
                StatusCode::CONFLICT
            }
            Refusal::Limit(_) => StatusCode::TOO_MANY_REQUESTS,
            Refusal::Expired => StatusCode::GONE,
            Refusal::NotFound | Refusal::Read(crate::hub::ReadError::UnknownOffice(_)) => StatusCode::NOT_FOUND,
            Refusal::Read(_) | Refusal::Store(_) => return ApiError::Internal(refusal.to_string()),
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::Refused { status, code: refusal.code(), message: refusal.to_string() }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(web::block(work).await??)
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
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
    Ok(HttpResponse::Ok().json(serde_json::json!({ "office": config.id, "name": config.name, "services": services })))
}

#[derive(Debug, Deserialize)]
pub struct SlotsQuery {
    service: String,
    day: String,
}

#[derive(Debug, Serialize)]
struct SlotDto {
    start: String,
    end: String,
    free: u32,
    capacity: u32,
}

fn parse_day(text: &str) -> Result<BusinessDay, ApiError> {
    BusinessDay::parse(text)
        .ok_or_else(|| ApiError::bad_request("bad_day", format!("{text:?} is not a date like 2026-12-07")))
}

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
#[derive(Debug, Deserialize)]
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

pub async fn request(
    state: web::Data<AppState>,
    http: HttpRequest,
    body: web::Json<RequestBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let day = parse_day(&body.day)?;
    let start = LocalTime::parse(&body.start)
        .ok_or_else(|| ApiError::bad_request("bad_time", format!("{:?} is not a time like 09:30", body.start)))?;
    let address = http.peer_addr().map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let request = BookingRequest {
        office: body.office,
        service: body.service,
        day,
        start,
        document_type: body.document_type,
        document_number: body.document_number,
        contact: body.contact,
        lang: body.lang.unwrap_or_else(|| "es".into()),
        note: body.note,
    };
    let (bookings, now) = (state.bookings.clone(), state.hub.now());
    let receipt = blocking(move || bookings.request(request, address, now)).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({
        "hold": receipt.hold,
        "expires_at": receipt.expires_at.as_ms(),
        "sent_by": receipt.sent_by,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    code: String,
}

pub async fn confirm(
    state: web::Data<AppState>,
    hold: web::Path<String>,
    body: web::Json<ConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let (bookings, hold, code, now) = (state.bookings.clone(), hold.into_inner(), body.code.clone(), state.hub.now());
    let confirmed = blocking(move || bookings.confirm(&hold, &code, now)).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "booking": confirmed.booking,
        "office": confirmed.office,
        "service": confirmed.service,
        "day": confirmed.day.to_string(),
        "start": confirmed.start.to_string(),
        "short_code": confirmed.short_code,
        "pass": confirmed.pass,
        "manage_token": confirmed.manage_token,
    })))
}

pub async fn view(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (bookings, token) = (state.bookings.clone(), token.into_inner());
    let (record, state) = blocking(move || bookings.lookup(&token)).await?;
    let state = state.map_or(record.state.as_str(), |s| s.name());
    // The citizen's own booking: no identity, no contact, even to its holder.
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "booking": record.id,
        "office": record.office,
        "service": record.service,
        "day": record.day.to_string(),
        "start": record.start,
        "state": state,
    })))
}

pub async fn cancel(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (bookings, token, now) = (state.bookings.clone(), token.into_inner(), state.hub.now());
    let record = blocking(move || bookings.cancel(&token, now)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "booking": record.id, "state": "cancelled" })))
}

pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "public_key": state.bookings.public_key() }))
}
