//! Signage media at headquarters.
//!
//! `POST /api/v1/signage/media` (administrators): the file as the request body, whatever its
//! name or declared type; it is received to disk as it arrives (never whole in memory), hashed,
//! checked by content and kept once. `GET /api/v1/signage/media` lists what is stored.
//! `GET /api/v1/signage/media/{sha256}` (offices' edges and analysts) serves a file streamed from
//! disk, with `Range` so a cut download resumes where it stopped.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use fila_media::MediaProblem;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::auth::{Analyst, Branch, HqAdmin, MediaReader};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::media::AdmitError;

/// Stores a signage file.
#[utoipa::path(post, path = "/api/v1/signage/media", tag = "headquarters",
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
                 description = "the file: PNG, JPEG, WebP, MP4 (H.264) or WebM"),
    responses((status = 201, body = Object, description = "stored: `sha256`, `kind`, `bytes`, `width`, `height`, `duration_ms`"),
              (status = 200, body = Object, description = "the same file was stored already: its record"),
              (status = 400, body = ErrorBody, description = "`malformed`: a damaged or cut file"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 413, body = ErrorBody, description = "`too_large`"),
              (status = 415, body = ErrorBody, description = "`unsupported_type` or `unsupported_codec`"),
              (status = 422, body = ErrorBody, description = "`too_many_pixels` (a decompression bomb too) or `too_long`")),
    security(("bearer" = [])))]
pub async fn upload(
    admin: HqAdmin,
    state: web::Data<AppState>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let library = state.media.clone();
    let internal = |e: std::io::Error| ApiError::Internal(format!("the upload could not be written: {e}"));
    let (path, file) = {
        let library = library.clone();
        web::block(move || library.upload_file()).await?.map_err(internal)?
    };
    let mut file = tokio::fs::File::from_std(file);
    let (mut hasher, mut bytes) = (Sha256::new(), 0u64);
    let received = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_request("bad_body", format!("the upload broke off: {e}")))?;
            bytes += chunk.len() as u64;
            if bytes > library.bytes_max() {
                return Err(ApiError::Refused {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    code: "too_large",
                    message: format!("signage files may be at most {} bytes", library.bytes_max()),
                });
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(internal)?;
        }
        // Durable before it is admitted and acknowledged.
        file.sync_all().await.map_err(internal)
    }
    .await;
    drop(file);
    if let Err(error) = received {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(error);
    }
    let sha256 = hex::encode(hasher.finalize());
    let now = state.hub.now();
    let (record, new) = web::block(move || library.admit(&path, &sha256, &admin.name, now)).await?.map_err(refused)?;
    tracing::info!(sha256 = %record.sha256, kind = %record.kind, bytes = record.bytes, new, "signage media uploaded");
    let status = if new { StatusCode::CREATED } else { StatusCode::OK };
    Ok(HttpResponse::build(status).json(record))
}

fn refused(error: AdmitError) -> ApiError {
    match error {
        AdmitError::Refused(problem) => {
            let status = match &problem {
                MediaProblem::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                MediaProblem::Empty
                | MediaProblem::UnknownType
                | MediaProblem::NoVideo { .. }
                | MediaProblem::Codec { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                MediaProblem::TooManyPixels { .. } | MediaProblem::TooWide { .. } | MediaProblem::TooLong { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                MediaProblem::Malformed { .. } | MediaProblem::Io(_) => StatusCode::BAD_REQUEST,
            };
            ApiError::Refused { status, code: problem.code(), message: problem.to_string() }
        }
        other => ApiError::Internal(other.to_string()),
    }
}

/// The stored signage files, newest first.
#[utoipa::path(get, path = "/api/v1/signage/media", tag = "headquarters",
    responses((status = 200, body = Object, description = "a list of records"), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(_: Analyst, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let library = state.media.clone();
    let records = web::block(move || library.list()).await?.map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(records))
}

/// One stored file, by its hash; `Range` requests resume a cut download.
#[utoipa::path(get, path = "/api/v1/signage/media/{sha256}", tag = "branch",
    params(("sha256" = String, Path, description = "the file's SHA-256, 64 lowercase hex digits")),
    responses((status = 200, description = "the file"), (status = 206, description = "the range asked for"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn fetch(
    _: MediaReader,
    request: HttpRequest,
    state: web::Data<AppState>,
    sha256: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sha256 = sha256.into_inner();
    let library = state.media.clone();
    let lookup = sha256.clone();
    let record = web::block(move || library.get(&lookup))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| ApiError::NotFound("no such signage file".into()))?;
    let (library, wanted) = (state.media.clone(), record.sha256.clone());
    web::block(move || library.here(&wanted)).await?.map_err(|e| ApiError::Internal(e.to_string()))?;
    let file = actix_files::NamedFile::open_async(state.media.path(&record.sha256))
        .await
        .map_err(|e| ApiError::Internal(format!("a stored file is missing: {e}")))?
        .set_content_type(record.kind.mime().parse().unwrap_or(mime::APPLICATION_OCTET_STREAM))
        .use_last_modified(false);
    let mut response = file.into_response(&request);
    // Named by its content: it never changes.
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}

/// An office's screens' plays, in batches from its box: each kept once, by its id.
#[utoipa::path(post, path = "/api/v1/branch/signage/plays", tag = "branch",
    request_body(content = Object, description = "a list of plays: `id`, `screen`, `playlist`, `item` (SHA-256 or `slide`), `started_at` (ms), `seconds`"),
    responses((status = 200, body = Object, description = "`accepted`, `duplicates` (sent before), `refused` (not countable)"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn plays_received(
    branch: Branch,
    state: web::Data<AppState>,
    plays: web::Json<Vec<fila_protocol::signage::Play>>,
) -> Result<HttpResponse, ApiError> {
    let plays = plays.into_inner();
    if plays.len() > fila_protocol::signage::PLAYS_PER_REPORT_MAX {
        return Err(ApiError::bad_request(
            "too_many",
            format!("at most {} plays a report", fila_protocol::signage::PLAYS_PER_REPORT_MAX),
        ));
    }
    let (hub, log, now) = (state.hub.clone(), state.plays.clone(), state.hub.now());
    let received = web::block(move || {
        let zone = crate::kpis::office_config(&hub, &branch.office)
            .ok()
            .flatten()
            .map_or(jiff::tz::TimeZone::UTC, |config| config.time_zone);
        log.receive(&branch.office, &zone, plays, now)
    })
    .await?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(received))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlaysQuery {
    /// One office; all when absent.
    office: Option<String>,
    /// First and last business day, `yyyy-mm-dd`.
    from: String,
    to: Option<String>,
}

async fn play_rows(state: &AppState, query: PlaysQuery) -> Result<Vec<crate::signage_plays::PlayRow>, ApiError> {
    let from = fila_protocol::BusinessDay::parse(&query.from)
        .ok_or_else(|| ApiError::bad_request("bad_query", "from is a date like 2026-12-01"))?;
    let to = match &query.to {
        Some(to) => fila_protocol::BusinessDay::parse(to)
            .ok_or_else(|| ApiError::bad_request("bad_query", "to is a date like 2026-12-31"))?,
        None => from,
    };
    if let Some(office) = &query.office {
        if !state.hub.offices().iter().any(|o| &o.id == office) {
            return Err(ApiError::NotFound(format!("no office {office:?}")));
        }
    }
    let (log, office) = (state.plays.clone(), query.office);
    web::block(move || log.report(office.as_deref(), &from.to_string(), &to.to_string()))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The campaign report: plays and seconds shown per item, office and day.
#[utoipa::path(get, path = "/api/v1/signage/plays", tag = "headquarters", params(PlaysQuery),
    responses((status = 200, body = Object, description = "rows: `item`, `office`, `day`, `plays`, `seconds`"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn plays_report(
    _: Analyst,
    state: web::Data<AppState>,
    query: web::Query<PlaysQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(play_rows(&state, query.into_inner()).await?))
}

/// The campaign report as CSV.
#[utoipa::path(get, path = "/api/v1/signage/plays.csv", tag = "headquarters", params(PlaysQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn plays_csv(
    _: Analyst,
    state: web::Data<AppState>,
    query: web::Query<PlaysQuery>,
) -> Result<HttpResponse, ApiError> {
    let rows = play_rows(&state, query.into_inner()).await?;
    let mut csv = String::from("item,office,day,plays,seconds\n");
    for row in rows {
        csv.push_str(&format!("{},{},{},{},{}\n", row.item, row.office, row.day, row.plays, row.seconds));
    }
    Ok(HttpResponse::Ok().content_type("text/csv; charset=utf-8").body(csv))
}

/// Publishes headquarters' signage catalog to every office it reaches (by `target`: `all`,
/// `tag:<tag>`, `office:<id>`, `screen:<office>/<screen>`), replacing what the last publication
/// put there; each office's own entries stay.
#[utoipa::path(put, path = "/api/v1/signage/network", tag = "headquarters",
    request_body(content = Object, description = "signage: `media`, `playlists`, `schedules`, `urgent`, `ticker`"),
    responses((status = 200, body = Object, description = "per office: `office`, `changed`, `problem`"),
              (status = 400, body = ErrorBody, description = "`bad_signage`: every problem at once"),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn publish(
    _: HqAdmin,
    state: web::Data<AppState>,
    catalog: web::Json<fila_protocol::signage::SignageConfig>,
) -> Result<HttpResponse, ApiError> {
    let catalog = catalog.into_inner();
    let mut problems = Vec::new();
    catalog.check(&mut |at: String, problem: String| problems.push(format!("{at}: {problem}")));
    let library = state.media.clone();
    let named = catalog.media.clone();
    let missing = web::block(move || library.not_uploaded(&named)).await?;
    problems.extend(missing);
    if !problems.is_empty() {
        return Err(ApiError::bad_request("bad_signage", problems.join("; ")));
    }
    let (hub, store) = (state.hub.clone(), state.store.clone());
    let outcomes = web::block(move || crate::signage_network::publish(&hub, store.as_ref(), &catalog))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(offices = outcomes.iter().filter(|o| o.changed).count(), "signage published");
    Ok(HttpResponse::Ok().json(outcomes))
}

/// The catalog last published.
#[utoipa::path(get, path = "/api/v1/signage/network", tag = "headquarters",
    responses((status = 200, body = Object), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn network(_: Analyst, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let catalog = web::block(move || crate::signage_network::catalog(store.as_ref()))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(catalog.unwrap_or_default()))
}
