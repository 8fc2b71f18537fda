//! `GET /api/v1/sync`: the WebSocket an edge opens to sync its office's documents.
//!
//! The edge authenticates with its branch token before the upgrade (401 otherwise). Each binary
//! message is one wire frame. The hub handles it on a blocking thread, since automerge and the
//! store flush are CPU and disk work that would stall every other socket on this worker, and its
//! replies go back in order. A refused message closes the connection with 1008 (policy) and the
//! reason. Central pings every `ping_every` and drops a connection silent for `silent_max`; a
//! newer connection of the same office replaces this one (1000), and central stopping closes
//! it (1001).

use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason, ProtocolError, Session};
use fila_protocol::limits::FRAME_BYTES_MAX;
use futures_util::FutureExt;
use tokio::sync::oneshot;

use super::auth::Branch;
use super::error::{ApiError, ErrorBody};
use super::{now_ms, AppState};
use crate::hub::{Connection, SyncFailure, REPLACED};

/// One byte over the largest valid frame, so that an oversized frame still reaches
/// `Frame::decode` and is refused with the same error the edge would see for its own.
const MESSAGE_BYTES_MAX: usize = FRAME_BYTES_MAX + 1;
/// A close reason travels in a control frame, which holds at most 125 bytes with the code.
const CLOSE_REASON_BYTES_MAX: usize = 123;
/// How long a close may wait for room in a socket whose edge has stopped reading.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

#[utoipa::path(get, path = "/api/v1/sync", tag = "branch",
    description = "The WebSocket an office's edge opens to sync its documents: one wire frame per binary \
                   message. A refused message closes it with 1008 and the reason; a newer connection of \
                   the same office replaces it (1000).",
    responses((status = 101, description = "switched to the WebSocket protocol"),
              (status = 400, body = ErrorBody, description = "`websocket_required`: not a WebSocket upgrade"),
              (status = 401, body = ErrorBody, description = "no valid branch token")),
    security(("bearer" = [])))]
pub async fn sync(
    request: HttpRequest,
    body: web::Payload,
    branch: Branch,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (response, session, stream) = actix_ws::handle(&request, body)
        .map_err(|error| ApiError::bad_request("websocket_required", format!("open this as a WebSocket: {error}")))?;
    let (connection, replaced) = state
        .hub
        .connect(&branch.office, now_ms())
        .ok_or_else(|| ApiError::Internal(format!("branch token of an unknown office {:?}", branch.office)))?;
    let stream =
        stream.max_frame_size(MESSAGE_BYTES_MAX).aggregate_continuations().max_continuation_size(MESSAGE_BYTES_MAX);
    tracing::info!(office = %branch.office, "edge connected");
    actix_web::rt::spawn(serve(state, connection, replaced, session, stream));
    Ok(response)
}

async fn serve(
    state: web::Data<AppState>,
    mut connection: Connection,
    mut replaced: oneshot::Receiver<()>,
    mut session: Session,
    mut stream: AggregatedMessageStream,
) {
    let hub = state.hub.clone();
    let heartbeat = state.heartbeat;
    let id = connection.id().clone();
    let office = id.office().to_string();
    let mut stopping = hub.stopping();
    let mut pushes = hub.pushes(&office);
    let mut ping = tokio::time::interval_at((Instant::now() + heartbeat.ping_every).into(), heartbeat.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut heard = Instant::now();
    // A message read while gathering frames that is not one: handled next, in its turn.
    let mut held: Option<Option<Result<AggregatedMessage, ProtocolError>>> = None;

    let close = loop {
        if *stopping.borrow_and_update() {
            break Some(close(CloseCode::Away, "central is stopping"));
        }
        tokio::select! {
            message = next_message(&mut held, &mut stream) => {
                let message = match message {
                    None => break None,
                    Some(Ok(message)) => message,
                    Some(Err(error)) => {
                        // An I/O error is the link failing, not the edge misbehaving.
                        if !matches!(error, ProtocolError::Io(_)) {
                            hub.metrics().frame_rejected();
                        }
                        tracing::warn!(office, %error, "websocket message refused");
                        let code = if matches!(error, ProtocolError::Overflow) { CloseCode::Size } else { CloseCode::Protocol };
                        break Some(close(code, &error.to_string()));
                    }
                };
                heard = Instant::now();
                hub.seen(&id, now_ms());
                match message {
                    AggregatedMessage::Binary(bytes) => {
                        // Frames already waiting go in the same step: one disk sync for all.
                        let mut frames = vec![bytes];
                        while frames.len() < FRAMES_PER_STEP_MAX {
                            match stream.recv().now_or_never() {
                                Some(Some(Ok(AggregatedMessage::Binary(more)))) => frames.push(more),
                                None => break,
                                Some(other) => {
                                    held = Some(other);
                                    break;
                                }
                            }
                        }
                        let worker = hub.clone();
                        let handled = web::block(move || {
                            let outcome = worker.handle_frames(&mut connection, &frames);
                            (connection, outcome)
                        })
                        .await;
                        let outcome = match handled {
                            Ok((back, outcome)) => {
                                connection = back;
                                outcome
                            }
                            Err(error) => {
                                tracing::error!(office, %error, "frame handling panicked");
                                break Some(close(CloseCode::Error, "central failed handling this frame"));
                            }
                        };
                        match outcome {
                            Ok(frames) => {
                                if let Err(reason) = send(&mut session, frames, &state, heartbeat.silent_max).await {
                                    break reason;
                                }
                            }
                            Err(failure) => break Some(close(close_code(&failure), &failure.to_string())),
                        }
                    }
                    AggregatedMessage::Text(_) => {
                        hub.metrics().frame_rejected();
                        tracing::warn!(office, "text message refused");
                        break Some(close(CloseCode::Policy, "frames are binary WebSocket messages"));
                    }
                    AggregatedMessage::Ping(bytes) => {
                        if session.pong(&bytes).await.is_err() {
                            break None;
                        }
                    }
                    AggregatedMessage::Pong(_) => {}
                    AggregatedMessage::Close(_) => break None,
                }
            }
            _ = ping.tick() => {
                if heard.elapsed() >= heartbeat.silent_max {
                    tracing::info!(office, "edge silent for too long; dropping its connection");
                    break Some(close(CloseCode::Away, "no message or pong for too long"));
                }
                match tokio::time::timeout(heartbeat.silent_max, session.ping(b"")).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_closed)) => break None,
                    Err(_elapsed) => break Some(close(CloseCode::Away, "the edge does not read")),
                }
            }
            _ = &mut replaced => break Some(close(CloseCode::Normal, REPLACED)),
            // Headquarters changed one of this office's documents: send it now.
            Some(()) = pushed(&mut pushes) => {
                let worker = hub.clone();
                let handled = web::block(move || {
                    let frames = worker.outgoing(&mut connection);
                    (connection, frames)
                })
                .await;
                let frames = match handled {
                    Ok((back, frames)) => {
                        connection = back;
                        frames
                    }
                    Err(error) => {
                        tracing::error!(office, %error, "push panicked");
                        break Some(close(CloseCode::Error, "central failed sending a change"));
                    }
                };
                if let Err(reason) = send(&mut session, frames, &state, heartbeat.silent_max).await {
                    break reason;
                }
            }
            _ = stopping.changed() => {}
        }
    };
    // The edge may be gone already, or not reading; either way it is not waited for.
    let _ = tokio::time::timeout(CLOSE_WAIT, session.close(close)).await;
    hub.disconnect(&id, now_ms());
    tracing::info!(office, "edge disconnected");
}

/// At most this many waiting frames are handled in one step (and answered together).
const FRAMES_PER_STEP_MAX: usize = 64;

/// The message held back while gathering frames, else the next from the edge.
async fn next_message(
    held: &mut Option<Option<Result<AggregatedMessage, ProtocolError>>>,
    stream: &mut AggregatedMessageStream,
) -> Option<Result<AggregatedMessage, ProtocolError>> {
    match held.take() {
        Some(message) => message,
        None => stream.recv().await,
    }
}

/// Send replies in order. An edge that stops reading must not hold this task forever.
async fn send(
    session: &mut Session,
    frames: Vec<Vec<u8>>,
    state: &AppState,
    within: Duration,
) -> Result<(), Option<CloseReason>> {
    for frame in frames {
        match tokio::time::timeout(within, session.binary(frame)).await {
            Ok(Ok(())) => state.hub.metrics().frames_out(1),
            Ok(Err(_closed)) => return Err(None),
            Err(_elapsed) => return Err(Some(close(CloseCode::Away, "the edge does not read"))),
        }
    }
    Ok(())
}

fn close_code(failure: &SyncFailure) -> CloseCode {
    match failure {
        failure if failure.is_refusal() => CloseCode::Policy,
        SyncFailure::Replaced => CloseCode::Normal,
        _ => CloseCode::Error,
    }
}

fn close(code: CloseCode, reason: &str) -> CloseReason {
    let mut end = reason.len().min(CLOSE_REASON_BYTES_MAX);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseReason { code, description: Some(reason[..end].to_string()) }
}

/// The next push for this office, or never if the office has no push channel.
async fn pushed(pushes: &mut Option<tokio::sync::watch::Receiver<u64>>) -> Option<()> {
    match pushes {
        Some(receiver) => receiver.changed().await.ok(),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_reason_fits_a_control_frame_without_splitting_a_character() {
        let reason = close(CloseCode::Policy, &"ñ".repeat(100)).description.unwrap_or_default();
        assert!(reason.len() <= CLOSE_REASON_BYTES_MAX);
        assert!(reason.chars().all(|c| c == 'ñ'));
    }
}
