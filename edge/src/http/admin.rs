//! What only the office admin may do.

use actix_web::{web, HttpRequest, HttpResponse};

use super::caller::{Caller, ADMINS};
use super::dto::{KioskTokenReply, KioskTokenRequest};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::auth::{random_token, sha256_hex};
use crate::office_loop::{ConfigRequest, LoopError};

pub const KIOSK_META_PREFIX: &str = "kiosk/";

/// Register a new kiosk device. The token is shown once; only its hash is stored.
#[utoipa::path(post, path = "/api/v1/admin/kiosks", tag = "admin", request_body = KioskTokenRequest,
    responses((status = 201, body = KioskTokenReply), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_kiosk(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<KioskTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ADMINS, "register kiosks")?;
    let id = body.into_inner().id;
    if !fila_protocol::ids::is_valid_id(&id) {
        return Err(ApiError::bad_request("bad_id", "a kiosk id is 1-32 letters, digits, '-' or '_'"));
    }
    let token = random_token();
    let hash = sha256_hex(&token);
    let store = state.store.clone();
    let key = format!("{KIOSK_META_PREFIX}{hash}");
    let stored_id = id.clone();
    web::block(move || store.put_meta(&key, stored_id.as_bytes()).and_then(|()| store.flush()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    state.auth.add_kiosk(&id, &hash);
    tracing::info!(kiosk = %id, by = %caller.id, "kiosk registered");
    Ok(HttpResponse::Created().json(KioskTokenReply { id, token }))
}

/// The configuration document as the office admin edits it. Its `ETag` goes back with an edit
/// (`If-Match`), so the edit cannot undo what headquarters changed since.
#[utoipa::path(get, path = "/api/v1/admin/config", tag = "admin",
    responses((status = 200, description = "the configuration document, with its version as ETag"),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn read_config(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(ADMINS, "read the configuration document")?;
    let (config, version) = state.office.config_doc(ConfigRequest::Read).await?;
    Ok(HttpResponse::Ok().insert_header(("ETag", format!("\"{version}\""))).json(config))
}

/// Edit the office's configuration here (the office admin, possibly while headquarters is out
/// of reach). Headquarters owns the configuration: the edit is written field by field into the
/// document it sent, so it merges with headquarters' own edits by the documented rule. With
/// `If-Match` (the ETag the admin read), only what the admin changed from that version is written.
#[utoipa::path(put, path = "/api/v1/admin/config", tag = "admin",
    responses((status = 200, description = "`{config, templates}`: the configuration now in force, with the document's \
        new version as ETag, and each message template's SMS length (`sms_segments`, `sms_encoding`)"),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 412, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn edit_config(
    request: HttpRequest,
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<fila_protocol::RawOfficeConfig>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ADMINS, "edit the configuration")?;
    let raw = body.into_inner();
    let current = state.office.config();
    if raw.office.id != current.id || raw.office.time_zone != current.time_zone_name {
        return Err(ApiError::bad_request("bad_config", "the office id and time zone cannot change here"));
    }
    let mut problems = raw.clone().validate().err().unwrap_or_default();
    let templates = fila_notify::template::check_configured(&raw.notices).unwrap_or_else(|found| {
        problems.extend(found);
        Vec::new()
    });
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(ApiError::bad_request("bad_config", list.join("; ")));
    }
    let base = match request.headers().get("If-Match").map(|value| value.to_str()) {
        None => None,
        Some(Ok(base)) => Some(base.to_string()),
        Some(Err(_)) => return Err(ApiError::StaleVersion("If-Match is not a version this box gave".into())),
    };
    match state.office.config_doc(ConfigRequest::Edit { config: Box::new(raw), base }).await {
        Ok((_, version)) => {
            tracing::info!(by = %caller.id, "configuration edited at the office");
            Ok(HttpResponse::Ok()
                .insert_header(("ETag", format!("\"{version}\"")))
                .json(serde_json::json!({ "config": state.office.config().to_raw(), "templates": templates })))
        }
        Err(LoopError::Sync(reason)) => Err(ApiError::bad_request("config_not_editable", reason)),
        Err(error) => Err(error.into()),
    }
}
