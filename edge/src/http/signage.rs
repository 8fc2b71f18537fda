//! Signage media on the box.
//!
//! `GET /media/{sha256}` serves a cached file to the waiting room's screens (with `Range`, which
//! video players use); a file not yet here whole is 404, so a screen never switches to it early.
//! `GET /api/v1/signage/status` tells supervisors what the schedules can play and what is still
//! missing, and what the cache holds.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::caller::{Caller, SUPERVISORS};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::signage::cache::CacheCounts;
use fila_protocol::signage::is_sha256;

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
    /// Urgent messages in force or to come on this office's screens.
    #[schema(value_type = Object)]
    urgent: Vec<fila_protocol::signage::UrgentMessage>,
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
    let now = state.office.query(|_, now| now).await?;
    let office = config.id.clone();
    let mut urgent: Vec<_> = config.signage.urgent.iter().cloned().chain(local_urgent(&state).await?).collect();
    urgent.retain(|u| u.target.reaches_office(&office, &config.tags) && u.until_ms > now.as_ms());
    Ok(HttpResponse::Ok().json(SignageStatusDto { media, missing, cache: state.media.counts(), urgent }))
}

/// A cached file for a screen.
pub async fn file(
    request: HttpRequest,
    state: web::Data<AppState>,
    sha256: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sha256 = sha256.into_inner();
    let config = state.office.config();
    let mime = config.signage.media(&sha256).map(|m| m.mime());
    let (Some(mime), true) = (mime, is_sha256(&sha256)) else {
        return Err(ApiError::NotFound("no such signage file".into()));
    };
    let path = state.media.open_for_screen(&sha256).ok_or_else(|| ApiError::NotFound("not here yet".into()))?;
    let mime = mime.parse().unwrap_or(mime::APPLICATION_OCTET_STREAM);
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

#[derive(Debug, serde::Deserialize)]
pub struct NowQuery {
    /// The screen's id (`?screen=`); the first configured, or "sala", when absent.
    screen: Option<String>,
    lang: Option<String>,
}

/// What a screen shows now: the urgent message in force, else the items of the playlist its
/// schedules place now that the box holds whole; the ticker as text spans. Public: screens show
/// it to everyone in the room.
pub async fn now(state: web::Data<AppState>, query: web::Query<NowQuery>) -> Result<HttpResponse, ApiError> {
    let NowQuery { screen, lang } = query.into_inner();
    let lang = lang.filter(|l| matches!(l.as_str(), "es" | "en")).unwrap_or_else(|| "es".into());
    let media = state.media.clone();
    let local = local_urgent(&state).await?;
    let answer = state
        .office
        .query(move |office, now| {
            let config = office.config();
            let mut signage = config.signage.clone();
            signage.urgent.extend(local);
            let signage = &signage;
            let screen = match (&screen, signage.screens.first()) {
                (Some(id), _) => signage.screens.iter().find(|s| &s.id == id).cloned().or_else(|| {
                    (signage.screens.is_empty() && fila_protocol::ids::is_valid_id(id)).then(|| default_screen(id))
                }),
                (None, Some(first)) => Some(first.clone()),
                (None, None) => Some(default_screen("sala")),
            };
            let screen = screen?;
            let playing =
                fila_protocol::signage::playing(signage, &config.id, &config.tags, &screen.id, now, &config.time_zone);
            let urgent = playing
                .urgent
                .and_then(|u| pick(&u.texts, &lang, |t| &t.lang).map(|t| json!({ "id": u.id, "text": t.text })));
            let items: Vec<serde_json::Value> = playing
                .playlist
                .map(|p| p.items.as_slice())
                .unwrap_or_default()
                .iter()
                .filter(|item| item.langs.is_empty() || item.langs.contains(&lang))
                .filter_map(|item| match (&item.media, pick(&item.slide, &lang, |s| &s.lang)) {
                    (Some(sha), _) => {
                        let known = signage.media(sha)?;
                        // A screen switches to an item only once the box holds it whole.
                        media.has(sha).then(|| {
                            json!({
                                "kind": if known.is_video() { "video" } else { "image" },
                                "url": format!("/media/{sha}"),
                                "sha256": sha,
                                "seconds": item.seconds,
                            })
                        })
                    }
                    (None, Some(slide)) => Some(
                        json!({ "kind": "slide", "title": slide.title, "body": slide.body, "seconds": item.seconds }),
                    ),
                    (None, None) => None,
                })
                .collect();
            let ticker = if screen.ticker {
                pick(&signage.ticker, &lang, |t| &t.lang)
                    .map(|t| fila_protocol::signage::ticker::spans(&t.text))
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            Some(json!({
                "screen": { "id": screen.id, "profile": screen.profile, "ticker": screen.ticker },
                "playlist": playing.playlist.map(|p| p.id.clone()),
                "urgent": urgent,
                "items": items,
                "ticker": ticker,
            }))
        })
        .await?;
    match answer {
        Some(body) => Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(body)),
        None => Err(ApiError::NotFound("no such screen".into())),
    }
}

fn default_screen(id: &str) -> fila_protocol::signage::ScreenConfig {
    fila_protocol::signage::ScreenConfig {
        id: id.to_string(),
        name: id.to_string(),
        profile: fila_protocol::signage::Profile::Landscape,
        ticker: true,
    }
}

/// The entry in `lang`, else Spanish, else the first.
fn pick<'a, T>(entries: &'a [T], lang: &str, lang_of: impl Fn(&T) -> &String) -> Option<&'a T> {
    entries
        .iter()
        .find(|e| lang_of(e) == lang)
        .or_else(|| entries.iter().find(|e| lang_of(e) == "es"))
        .or_else(|| entries.first())
}

/// A screen showed an item: kept for central (proof of play). A play sent again is counted once.
pub async fn played(
    state: web::Data<AppState>,
    play: web::Json<fila_protocol::signage::Play>,
) -> Result<HttpResponse, ApiError> {
    let play = play.into_inner();
    if let Some(problem) = play.problem(super::now_ms()) {
        return Err(ApiError::BadRequest { code: "bad_play", message: problem });
    }
    // Not checked against the signage now in force: a play is reported when it ends, often
    // just after a new schedule took its item away.
    let log = state.plays.clone();
    let new = web::block(move || log.record(&play))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Unavailable(format!("the play could not be kept: {e}")))?;
    Ok(HttpResponse::Ok().json(json!({ "recorded": new })))
}

#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct UrgentRequest {
    /// What the screens say, on one line ("La oficina cierra a las 12 hoy").
    text: String,
    /// For how long, from now: 1 to 720 minutes.
    minutes: u32,
    /// The text's language; Spanish when absent.
    lang: Option<String>,
}

const URGENT_MINUTES_MAX: u32 = 720;

/// The office's supervisor puts an urgent message on this office's screens, at once and until
/// it expires. It goes into the configuration document like any office edit, so headquarters
/// sees it and it merges with their own changes.
#[utoipa::path(post, path = "/api/v1/signage/urgent", tag = "staff", request_body = UrgentRequest,
    responses((status = 201, body = Object, description = "the message, with its `id`"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn urgent(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<UrgentRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(SUPERVISORS, "put an urgent message on the screens")?;
    let UrgentRequest { text, minutes, lang } = body.into_inner();
    let lang = lang.unwrap_or_else(|| "es".into());
    if !(1..=URGENT_MINUTES_MAX).contains(&minutes) {
        return Err(ApiError::bad_request("bad_request", format!("minutes: 1 to {URGENT_MINUTES_MAX}")));
    }
    if !matches!(lang.as_str(), "es" | "en") {
        return Err(ApiError::bad_request("bad_request", "lang: es or en"));
    }
    let now = state.office.query(|_, now| now).await?;
    let message = fila_protocol::signage::UrgentMessage {
        id: format!("u{}", &crate::auth::random_token()[..12]),
        texts: vec![fila_protocol::signage::LocalText { lang, text: text.trim().to_string() }],
        from_ms: now.as_ms(),
        until_ms: now.as_ms() + i64::from(minutes) * 60_000,
        target: fila_protocol::signage::Target::Office(state.office.config().id.clone()),
        by: caller.id.clone(),
    };
    let mut problems = Vec::new();
    let alone = fila_protocol::signage::SignageConfig { urgent: vec![message.clone()], ..Default::default() };
    alone.check(&mut |at: String, problem: String| problems.push(format!("{at}: {problem}")));
    if !problems.is_empty() {
        return Err(ApiError::bad_request("bad_request", problems.join("; ")));
    }
    let added = message.clone();
    if !edit_urgent(&state, move |urgent| urgent.push(added)).await? {
        // A box configured by its file alone keeps the message itself.
        local_urgent_put(&state, &message).await?;
    }
    tracing::info!(by = %caller.id, id = %message.id, minutes, "urgent message on the screens");
    Ok(HttpResponse::Created().json(message))
}

/// Ends an urgent message for this office now.
#[utoipa::path(delete, path = "/api/v1/signage/urgent/{id}", tag = "staff",
    params(("id" = String, Path, description = "the message's id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody, description = "no message of this office's has that id")),
    security(("bearer" = [])))]
pub async fn end_urgent(
    caller: Caller,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(SUPERVISORS, "end an urgent message")?;
    let (id, office) = (id.into_inner(), state.office.config().id.clone());
    let ours = fila_protocol::signage::Target::Office(office);
    let now = state.office.query(|_, now| now).await?;
    let in_doc = state.office.config().signage.urgent.iter().any(|u| u.id == id && u.target == ours);
    if in_doc {
        edit_urgent(&state, move |urgent| {
            for message in urgent.iter_mut().filter(|u| u.id == id && u.target == ours) {
                message.until_ms = message.until_ms.min(now.as_ms());
            }
        })
        .await?;
    } else {
        let mut local = local_urgent(&state).await?;
        let Some(message) = local.iter_mut().find(|u| u.id == id) else {
            return Err(ApiError::NotFound("no urgent message of this office has that id".into()));
        };
        message.until_ms = message.until_ms.min(now.as_ms());
        let message = message.clone();
        local_urgent_put(&state, &message).await?;
    }
    tracing::info!(by = %caller.id, "urgent message ended");
    Ok(HttpResponse::NoContent().finish())
}

/// Changes the office's urgent messages as an edit of the version just read; `false` when the
/// office has no configuration document (a box configured by its file alone).
async fn edit_urgent(
    state: &AppState,
    change: impl FnOnce(&mut Vec<fila_protocol::signage::UrgentMessage>),
) -> Result<bool, ApiError> {
    let (mut raw, version) = match state.office.config_doc(crate::office_loop::ConfigRequest::Read).await {
        Ok(read) => read,
        Err(crate::office_loop::LoopError::Config(crate::sync_window::ConfigError::NotEditable(_))) => {
            return Ok(false)
        }
        Err(error) => return Err(error.into()),
    };
    change(&mut raw.signage.urgent);
    if let Err(problems) = raw.clone().validate() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(ApiError::bad_request("bad_request", list.join("; ")));
    }
    let edit = crate::office_loop::ConfigRequest::Edit { config: Box::new(raw), base: Some(version) };
    match state.office.config_doc(edit).await {
        Ok(_) => Ok(true),
        // No document to write into (the box's configuration is its file).
        Err(crate::office_loop::LoopError::Config(crate::sync_window::ConfigError::NotEditable(_))) => Ok(false),
        Err(error) => Err(error.into()),
    }
}

const LOCAL_URGENT: &str = "signage/urgent/";

/// Urgent messages a box without a configuration document keeps itself.
async fn local_urgent(state: &AppState) -> Result<Vec<fila_protocol::signage::UrgentMessage>, ApiError> {
    let store = state.store.clone();
    let found = web::block(move || store.scan_meta(LOCAL_URGENT))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(found.into_iter().filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok()).collect())
}

async fn local_urgent_put(state: &AppState, message: &fila_protocol::signage::UrgentMessage) -> Result<(), ApiError> {
    let (store, key) = (state.store.clone(), format!("{LOCAL_URGENT}{}", message.id));
    let bytes = serde_json::to_vec(message).map_err(|e| ApiError::Internal(e.to_string()))?;
    web::block(move || store.put_meta(&key, &bytes).and_then(|()| store.flush()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Unavailable(format!("the message could not be kept: {e}")))
}
