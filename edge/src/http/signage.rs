//! Signage media on the box.
//!
//! `GET /media/{sha256}` serves a cached file to the waiting room's screens (with `Range`, which
//! video players use); a file not yet here whole is 404, so a screen never switches to it early.
//! `GET /api/v1/signage/status` tells supervisors what the schedules can play and what is still
//! missing, and what the cache holds.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::caller::{Caller, SUPERVISORS};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::signage::cache::{is_sha256, CacheCounts};

#[derive(Debug, Serialize, ToSchema)]
pub struct MediaStatusDto {
    sha256: String,
    kind: String,
    bytes: u64,
    /// Here whole and checked: screens play it.
    cached: bool,
    /// Bytes of it downloaded so far, when it is not.
    downloaded: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignageStatusDto {
    /// The media the schedules can play; the missing ones are not shown until they are here.
    media: Vec<MediaStatusDto>,
    missing: usize,
    #[schema(value_type = Object)]
    cache: CacheCounts,
}

/// What the schedules need and what the box holds.
#[utoipa::path(get, path = "/api/v1/signage/status", tag = "staff",
    responses((status = 200, body = SignageStatusDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn status(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(SUPERVISORS, "see the signage's media")?;
    let config = state.office.config();
    let wanted = crate::signage::fetch::wanted(&config);
    let media: Vec<MediaStatusDto> = config
        .signage
        .media
        .iter()
        .filter(|m| wanted.contains_key(&m.sha256))
        .map(|m| {
            let cached = state.media.has(&m.sha256);
            MediaStatusDto {
                sha256: m.sha256.clone(),
                kind: m.kind.clone(),
                bytes: m.bytes,
                cached,
                downloaded: if cached { m.bytes } else { state.media.partial_len(&m.sha256) },
            }
        })
        .collect();
    let missing = media.iter().filter(|m| !m.cached).count();
    Ok(HttpResponse::Ok().json(SignageStatusDto { media, missing, cache: state.media.counts() }))
}

/// A cached file for a screen.
pub async fn file(
    request: HttpRequest,
    state: web::Data<AppState>,
    sha256: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sha256 = sha256.into_inner();
    let config = state.office.config();
    let kind = config.signage.media(&sha256).map(|m| m.kind.clone());
    let (Some(kind), true) = (kind, is_sha256(&sha256)) else {
        return Err(ApiError::NotFound("no such signage file".into()));
    };
    let path = state.media.open_for_screen(&sha256).ok_or_else(|| ApiError::NotFound("not here yet".into()))?;
    let mime = match kind.as_str() {
        "png" => mime::IMAGE_PNG,
        "jpeg" => mime::IMAGE_JPEG,
        other => format!("{}/{other}", if other == "webp" { "image" } else { "video" })
            .parse()
            .unwrap_or(mime::APPLICATION_OCTET_STREAM),
    };
    let file = actix_files::NamedFile::open_async(path)
        .await
        .map_err(|_| ApiError::NotFound("not here yet".into()))?
        .set_content_type(mime)
        .use_last_modified(false);
    let mut response = file.into_response(&request);
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(response)
}
