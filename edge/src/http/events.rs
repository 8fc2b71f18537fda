//! The live event stream (server-sent events) for screens, consoles and tracking pages.
//! Browsers reconnect by themselves; a slow client that falls behind skips what it missed
//! and refreshes from the API.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use bytes::Bytes;
use futures_util::StreamExt;
use tokio_stream::wrappers::{errors::BroadcastStreamRecvError, BroadcastStream, IntervalStream};

use super::{render, AppState};

const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Server-sent events: `called`, `issued`, `ticket`, `counter`, `day`, `alarm`.
#[utoipa::path(get, path = "/api/v1/events", tag = "public",
    responses((status = 200, description = "text/event-stream of office events", content_type = "text/event-stream")))]
pub async fn events(state: web::Data<AppState>) -> HttpResponse {
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
    let keep_alive = IntervalStream::new(tokio::time::interval(KEEP_ALIVE)).map(|_| ": keep-alive\n\n".to_string());
    let hello = futures_util::stream::once(async { "retry: 2000\n\n".to_string() });
    let stream = hello
        .chain(tokio_stream::StreamExt::merge(events, keep_alive))
        .filter(|chunk| std::future::ready(!chunk.is_empty()))
        .map(|chunk| Ok::<_, actix_web::Error>(Bytes::from(chunk)));
    HttpResponse::Ok()
        .insert_header(("Content-Type", "text/event-stream"))
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(stream)
}
