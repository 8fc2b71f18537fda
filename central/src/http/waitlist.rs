//! The waiting list's public API: join a service's line for a range of dates, see one's place
//! and any open offer by the private link, leave. An offer is taken through the booking API
//! (`/public/bookings/holds/{hold}/confirm` with the token in the offer's link).

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use super::bookings::{blocking, parse_day};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::bookings::waitlist::{InLine, WaitRequest};
use crate::bookings::PersonForm;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    office: String,
    service: String,
    /// The first and last dates the citizen can come, e.g. 2026-12-07.
    from: String,
    until: String,
    document_type: String,
    document_number: String,
    contact: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

fn shown(in_line: &InLine) -> serde_json::Value {
    let waiting = &in_line.waiting;
    // The citizen's own place: never the identity or the contact.
    serde_json::json!({
        "office": waiting.office,
        "service": waiting.service,
        "from": waiting.from.to_string(),
        "until": waiting.until.to_string(),
        "state": waiting.state.name(),
        "position": in_line.position,
        "offer": in_line.offer.as_ref().map(|(day, start, until)| serde_json::json!({
            "day": day.to_string(), "start": start, "expires_at": until,
        })),
    })
}

#[utoipa::path(post, path = "/api/v1/public/waitlist", tag = "public", request_body = JoinBody,
    responses((status = 201, body = Object,
               description = "the place: `office`, `service`, `from`, `until`, `state`, `position` (in line), `offer` (`day`, `start`, `expires_at`) or null, and `manage_token` (its private link)"),
              (status = 400, body = ErrorBody,
               description = "`bad_day`, `bad_request` (identity, contact, note or range), `unknown_service`, \
                              `not_bookable`, `bad_body`"),
              (status = 404, body = ErrorBody, description = "`unknown_office`"),
              (status = 409, body = ErrorBody, description = "`slots_free`: a slot in the range is free, book it instead; `already_waiting`: this person is already in this line"),
              (status = 413, body = ErrorBody, description = "`bad_body`: the body is too large"),
              (status = 429, body = ErrorBody, description = "`limit_reached`: too many requests from this address, or this person's bookings")))]
pub async fn join(
    state: web::Data<AppState>,
    http: HttpRequest,
    body: web::Json<JoinBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let request = WaitRequest {
        office: body.office,
        service: body.service,
        from: parse_day(&body.from)?,
        until: parse_day(&body.until)?,
        person: PersonForm {
            document_type: body.document_type,
            document_number: body.document_number,
            contact: body.contact,
            lang: body.lang.unwrap_or_else(|| "es".into()),
            note: body.note,
        },
    };
    let address = super::bookings::client_address(&http);
    let (bookings, now) = (state.bookings.clone(), state.hub.now());
    let (in_line, token) = blocking(move || bookings.join_waitlist(request, address, now)).await?;
    let mut body = shown(&in_line);
    body["manage_token"] = serde_json::json!(token);
    Ok(HttpResponse::Created().json(body))
}

#[utoipa::path(get, path = "/api/v1/public/waitlist/{token}", tag = "public", params(("token" = String, Path, description = "the place's private link token")),
    responses((status = 200, body = Object, description = "the place: `office`, `service`, `from`, `until`, `state`, `position` (in line), `offer` (`day`, `start`, `expires_at`) or null"),
              (status = 404, body = ErrorBody, description = "`not_found`")))]
pub async fn view(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (bookings, token) = (state.bookings.clone(), token.into_inner());
    let in_line = blocking(move || bookings.in_line(&token)).await?;
    Ok(HttpResponse::Ok().json(shown(&in_line)))
}

#[utoipa::path(post, path = "/api/v1/public/waitlist/{token}/leave", tag = "public", params(("token" = String, Path, description = "the place's private link token")),
    responses((status = 200, body = Object, description = "the place, now left: `office`, `service`, `from`, `until`, `state`, `position` (in line), `offer` (`day`, `start`, `expires_at`) or null"),
              (status = 404, body = ErrorBody, description = "`not_found`"),
              (status = 409, body = ErrorBody, description = "`too_late`: the place is no longer in line")))]
pub async fn leave(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (bookings, token, now) = (state.bookings.clone(), token.into_inner(), state.hub.now());
    let in_line = blocking(move || bookings.leave_waitlist(&token, now)).await?;
    Ok(HttpResponse::Ok().json(shown(&in_line)))
}
