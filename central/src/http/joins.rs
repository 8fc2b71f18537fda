//! Joining a queue from home, for citizens (public; the private link's token is the credential
//! for one join):
//!
//! - `GET /api/v1/public/offices/{office}/joins`: what may be joined now, and whether the
//!   office is connected and open;
//! - `GET /api/v1/public/joins`: the offices that take remote joins;
//! - `POST /api/v1/public/joins`: join (`201`, with the link's token);
//! - `GET /api/v1/public/joins/{token}`: the join as the office answered it: waiting for the
//!   office, refused (why, and the next opening), or the ticket with its position and estimate.
//!
//! And the pages `/fila` (choose and join) and `/f/{token}` (follow one's ticket).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::bookings::client_address;
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::remote_joins::{JoinForm, JoinRefusal, JoinState};

impl From<JoinRefusal> for ApiError {
    fn from(refusal: JoinRefusal) -> Self {
        let status = match &refusal {
            JoinRefusal::UnknownOffice(_) | JoinRefusal::NotFound => StatusCode::NOT_FOUND,
            JoinRefusal::Read(crate::hub::ReadError::UnknownOffice(_)) => StatusCode::NOT_FOUND,
            JoinRefusal::OfficeOffline => StatusCode::SERVICE_UNAVAILABLE,
            JoinRefusal::OfficeClosed(_) => StatusCode::CONFLICT,
            JoinRefusal::Limit(_) => StatusCode::TOO_MANY_REQUESTS,
            JoinRefusal::NotOffered(_) | JoinRefusal::BadRequest(_) => StatusCode::BAD_REQUEST,
            JoinRefusal::Read(_) | JoinRefusal::Store(_) => return ApiError::Internal(refusal.to_string()),
        };
        ApiError::Refused { status, code: refusal.code(), message: refusal.to_string() }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, JoinRefusal> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(web::block(work).await??)
}

#[utoipa::path(get, path = "/api/v1/public/joins", tag = "public",
    responses((status = 200, body = Object, description = "`offices` that take remote joins, each [id, name]")))]
pub async fn offices(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let joins = state.remote_joins.clone();
    let offices = blocking(move || Ok(joins.offices())).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "offices": offices })))
}

#[utoipa::path(get, path = "/api/v1/public/offices/{office}/joins", tag = "public",
    params(("office" = String, Path, description = "the office's id")),
    responses((status = 200, body = Object,
               description = "`office`, `name`, `online` (its box is connected), `open` (by its hours), \
                              `next_opening` (local time) and `services` that take remote joins now, each [id, name]"),
              (status = 404, body = ErrorBody, description = "`unknown_office`")))]
pub async fn offer(state: web::Data<AppState>, office: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (joins, office, now) = (state.remote_joins.clone(), office.into_inner(), state.hub.now());
    let offer = blocking(move || joins.offer(&office, now)).await?;
    Ok(HttpResponse::Ok().json(offer))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    office: String,
    service: String,
    /// A mobile number or e-mail for the "come now" message; optional.
    #[serde(default)]
    contact: Option<String>,
    /// How long the citizen needs to reach the office, in minutes (0 when absent).
    #[serde(default)]
    travel_minutes: u32,
    #[serde(default)]
    lang: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/public/joins", tag = "public", request_body = JoinBody,
    responses((status = 201, body = Object,
               description = "`token` (the private link's), `office`, `service`, `day` and `state` (`pending` until the office answers)"),
              (status = 400, body = ErrorBody, description = "`not_offered` (the service takes no remote joins), `bad_request` (contact, travel time), `bad_body`"),
              (status = 404, body = ErrorBody, description = "`unknown_office`"),
              (status = 409, body = ErrorBody, description = "`office_closed`: closed now; the message names the next opening"),
              (status = 429, body = ErrorBody, description = "`limit_reached`: too many joins from this contact today or this address this hour"),
              (status = 503, body = ErrorBody, description = "`office_offline`: the office is not connected; come in person")))]
pub async fn join(
    state: web::Data<AppState>,
    http: HttpRequest,
    body: web::Json<JoinBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let form = JoinForm {
        office: body.office,
        service: body.service,
        contact: body.contact,
        travel_minutes: body.travel_minutes,
        lang: body.lang.unwrap_or_else(|| "es".into()),
    };
    let address = client_address(&http);
    let (joins, now) = (state.remote_joins.clone(), state.hub.now());
    let (record, token) = blocking(move || joins.join(form, address, now)).await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "token": token, "office": record.office, "service": record.service, "day": record.day.to_string(),
        "state": "pending",
    })))
}

#[utoipa::path(get, path = "/api/v1/public/joins/{token}", tag = "public",
    params(("token" = String, Path, description = "the join's private link token")),
    responses((status = 200, body = Object,
               description = "`office`, `service`, `day`, `travel_minutes` and `state`: `pending` (with `office_online`), \
                              `refused` (`reason`: closed, closing, not_offered or full; `next_opening`), or `ticket` \
                              (`number`, `status`, `people_ahead`, `estimated_wait_low_minutes`, `estimated_wait_high_minutes`, `counter`, \
                              `away`: not yet confirmed at the office's kiosk, `come_now`: away and time to set off)"),
              (status = 404, body = ErrorBody, description = "`not_found`")))]
pub async fn view(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (joins, token, now) = (state.remote_joins.clone(), token.into_inner(), state.hub.now());
    let (record, join_state) = blocking(move || joins.view(&token, now)).await?;
    let mut body = serde_json::to_value(&join_state).unwrap_or_default();
    if let JoinState::Ticket(_) = join_state {
        body["state"] = serde_json::json!("ticket");
    }
    // Never the contact: the page shows the join, not who made it.
    body["office"] = serde_json::json!(record.office);
    body["service"] = serde_json::json!(record.service);
    body["day"] = serde_json::json!(record.day.to_string());
    body["travel_minutes"] = serde_json::json!(record.travel_minutes);
    Ok(HttpResponse::Ok().json(body))
}

/// The ticket's code for the office's kiosk, as a QR code: scanned there, it says "I'm here"
/// and the ticket counts as present in the waiting room.
#[utoipa::path(get, path = "/api/v1/public/joins/{token}/qr.svg", tag = "public",
    params(("token" = String, Path, description = "the join's private link token")),
    responses((status = 200, content_type = "image/svg+xml", body = String, description = "the code as a QR code"),
              (status = 404, body = ErrorBody, description = "`not_found`, or `not_issued`: no number yet")))]
pub async fn qr(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (joins, token, now) = (state.remote_joins.clone(), token.into_inner(), state.hub.now());
    let (_, join_state) = blocking(move || joins.view(&token, now)).await?;
    let JoinState::Ticket(ticket) = join_state else {
        return Err(ApiError::Refused {
            status: actix_web::http::StatusCode::NOT_FOUND,
            code: "not_issued",
            message: "the office has not given this join a number yet".into(),
        });
    };
    let code = qrcode::QrCode::with_error_correction_level(ticket.tracking_token.as_bytes(), qrcode::EcLevel::M)
        .map_err(|error| ApiError::Internal(error.to_string()))?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().quiet_zone(true).module_dimensions(1, 1).build();
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "image/svg+xml"))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(svg))
}

const PAGE: &str = include_str!("../pages/join.html");
const SCRIPT: &str = include_str!("../pages/join.js");

pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/html; charset=utf-8"))
        .insert_header(("Content-Security-Policy", super::bookings::CSP))
        // A private link's page: no referrer carries its token elsewhere.
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(PAGE)
}

pub async fn script() -> HttpResponse {
    HttpResponse::Ok().insert_header(("Content-Type", "text/javascript; charset=utf-8")).body(SCRIPT)
}
