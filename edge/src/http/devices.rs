//! Devices as staff see them, and the spoken call as the waiting-room screen plays it.

use actix_web::{web, HttpResponse};
use fila_devices::Lang;
use serde::Deserialize;
use utoipa::IntoParams;

use super::caller::{Caller, STAFF};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::devices::DeviceHealth;

/// Every configured device: online, paper, last error.
#[utoipa::path(get, path = "/api/v1/devices", tag = "staff",
    responses((status = 200, body = [DeviceHealth]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(STAFF, "see the devices")?;
    Ok(HttpResponse::Ok().json(state.devices.health.all()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CallAudioQuery {
    /// A ticket number as called, e.g. A-023.
    pub ticket: String,
    /// A counter of this office.
    pub counter: String,
    /// es or en; the office's language when absent.
    #[serde(default)]
    pub lang: Option<String>,
}

/// The chime and the spoken call as one WAV, made on this box. 404 when the box cannot speak
/// (no espeak-ng): the screen then uses the browser's own voice.
#[utoipa::path(get, path = "/api/v1/audio/call", tag = "public", params(CallAudioQuery),
    responses((status = 200, content_type = "audio/wav", description = "chime and spoken call"),
              (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn call_audio(
    state: web::Data<AppState>,
    query: web::Query<CallAudioQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    // Only calls the office made today: anyone may ask, and each new phrase costs a synthesis
    // and room on the disk.
    let Ok(number) = query.ticket.parse::<fila_protocol::TicketNumber>() else {
        return Err(ApiError::bad_request(
            "bad_ticket",
            format!("{:?} is not a ticket number like A-023", query.ticket),
        ));
    };
    let config = state.office.config();
    if !config.counters.iter().any(|c| c.id.as_str() == query.counter) {
        return Err(ApiError::bad_request(
            "bad_counter",
            format!("{:?} is not a counter of this office", query.counter),
        ));
    }
    let lang = match query.lang.as_deref() {
        None => state.devices.lang(),
        Some("es") => Lang::Es,
        Some("en") => Lang::En,
        Some(other) => return Err(ApiError::bad_request("bad_lang", format!("{other:?} is not es or en"))),
    };
    let counter = query.counter.clone();
    let called = state
        .office
        .query(move |office, _| office.day().calls.iter().any(|c| c.number == number && c.counter.as_str() == counter))
        .await?;
    if !called {
        return Err(ApiError::NotFound(format!("{} was not called to counter {} today", query.ticket, query.counter)));
    }
    // The number as the office writes it (the parser also takes "A--023"): one phrase per call.
    let ticket = number.to_string();
    let counter = crate::devices::spoken_counter(&config, &query.counter);
    let audio = match state.devices.call_audio(lang, &ticket, &counter).await {
        Ok(Some(audio)) => audio,
        Ok(None) => return Err(ApiError::NoSpeech),
        Err(error) => {
            tracing::warn!(%error, ticket, "spoken call not made");
            return Err(ApiError::SpeechFailed(error.to_string()));
        }
    };
    let wav = tokio::fs::read(&audio.path)
        .await
        .map_err(|e| ApiError::NotFound(format!("the spoken call is not available: {e}")))?;
    Ok(HttpResponse::Ok().content_type("audio/wav").insert_header(("Cache-Control", "public, max-age=86400")).body(wav))
}
