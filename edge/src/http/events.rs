//! The live event stream (server-sent events) for screens, consoles and tracking pages.
//! Browsers reconnect by themselves; a slow client that falls behind skips what it missed
//! and refreshes from the API.

use actix_web::{web, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream, IntervalStream};

use super::error::ApiError;
use super::{render, AppState};

/// Server-sent events: `called` (`CallSummary`), `issued`, `ticket` and `alarm`
/// (`PublicTicketDto`), `counter` (`PublicCounterDto`), `day`. Anyone may listen, so they carry
/// numbers, counters and statuses only: no tracking token, agent, outcome or reason. Open streams
/// are capped (`[server] event_streams_max`); beyond it, 503.
#[utoipa::path(get, path = "/api/v1/events", tag = "public",
    responses((status = 200, description = "text/event-stream of office events", content_type = "text/event-stream"),
              (status = 503, body = super::error::ErrorBody, description = "too many open streams")))]
pub async fn events(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    // Each idle stream holds a socket: without a cap, enough of them stop the box accepting any
    // connection at all, the counters' included.
    let place = state.security.event_stream().ok_or_else(|| ApiError::Full {
        code: "too_many_streams",
        message: format!(
            "{} event streams are open, the most this office serves; try again later",
            state.security.settings().event_streams_max
        ),
    })?;
    let office = state.office.clone();
    let events = BroadcastStream::new(state.office.subscribe()).map(move |event| match event {
        Ok(event) => match render::event(&office.config(), &event) {
            Some((name, data)) => format!("event: {name}\ndata: {data}\n\n"),
            None => String::new(),
        },
        Err(BroadcastStreamRecvError::Lagged(missed)) => {
            format!("event: lagged\ndata: {missed}\n\n")
        }
    });
    let keep_alive = IntervalStream::new(tokio::time::interval(state.security.settings().event_keep_alive))
        .map(|_| ": keep-alive\n\n".to_string());
    let hello = futures_util::stream::once(async { "retry: 2000\n\n".to_string() });
    let stream = hello
        .chain(tokio_stream::StreamExt::merge(events, keep_alive))
        .filter(|chunk| std::future::ready(!chunk.is_empty()))
        // The place is given back when the stream is dropped (the client went away).
        .map(move |chunk| {
            let _held = &place;
            Ok::<_, actix_web::Error>(Bytes::from(chunk))
        });
    Ok(HttpResponse::Ok()
        .insert_header(("Content-Type", "text/event-stream"))
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream))
}
