//! The QR code of a ticket's tracking link, drawn on the box as SVG (the kiosk's screen shows it
//! with `<img>`; the printer draws its own from the same link).
//!
//! The link holds the citizen's token, so the image is theirs alone: `Cache-Control: private,
//! no-store` keeps it out of shared caches, and the access log never shows its path (`/t/...`
//! is redacted there).

use actix_web::{web, HttpRequest, HttpResponse};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use super::error::ApiError;
use super::AppState;

/// The longest token accepted: tracking tokens are 32 hex digits; anything much longer is not
/// one, and a QR code is not drawn for arbitrary text.
const TOKEN_CHARS_MAX: usize = 64;

/// `GET /t/{token}/qr.svg`: the tracking link of that token as a QR code. Drawn for any
/// well-formed token without asking the office (a QR code of a link says nothing the link does
/// not), so it costs no trip to the office loop.
pub async fn tracking_qr(
    request: HttpRequest,
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let well_formed =
        !token.is_empty() && token.len() <= TOKEN_CHARS_MAX && token.bytes().all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        return Err(ApiError::NotFound("no such ticket".into()));
    }
    let link = crate::tracking::url(&state.base_url(&request), &token);
    let svg = qr_svg(&link).ok_or_else(|| ApiError::NotFound("the tracking link is too long for a QR code".into()))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "image/svg+xml"))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(svg))
}

/// `text` as an SVG QR code with its quiet zone, one unit per module (the page scales it); error
/// correction M, as on the printed ticket. `None` when it does not fit in a QR code.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text, EcLevel::M).ok()?;
    Some(code.render::<svg::Color<'_>>().quiet_zone(true).module_dimensions(1, 1).build())
}
