//! The link to central: the edge opens a WebSocket (offices sit behind NAT), announces its
//! documents, and runs the automerge sync protocol over it, live. When central is unreachable
//! the office works as usual; the link retries with exponential backoff and jitter, and a
//! reconnect sends only what central lacks (the sync state is persisted per document and peer).
//!
//! Over `wss://` the link trusts the system's roots plus the configured CA file; a certificate
//! that does not check out ends the attempt during the handshake, before the request carrying
//! the branch token is written.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::Connector;

use crate::office_loop::{OfficeHandle, SyncRequest};

const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Central pings; if nothing at all arrives for this long the connection is presumed dead.
const SILENCE_MAX: Duration = Duration::from_secs(60);
/// The TCP connection, TLS and the WebSocket upgrade together: a replica that accepts the
/// connection but never answers (overloaded, or half dead) must not hold the office forever
/// when another replica could take it.
const CONNECT_MAX: Duration = Duration::from_secs(20);
/// A connection up this long counts as healthy: the next failure retries from the shortest wait.
const HEALTHY_AFTER: Duration = Duration::from_secs(30);

pub use crate::settings::CentralSettings;

/// What the rest of the edge may know about the link (health, metrics).
#[derive(Debug, Default)]
pub struct LinkStatus {
    pub connected: AtomicBool,
    /// When a frame last came from central, in ms since the epoch (0: never).
    pub last_heard_ms: AtomicI64,
    /// Frames from central the office refused (and undid): they broke the day's rules.
    pub refused: std::sync::atomic::AtomicU64,
}

/// Exponential backoff with full jitter: waits spread out so 5,000 offices coming back after a
/// central outage do not knock at the same instant.
struct Backoff {
    next: Duration,
}

impl Backoff {
    fn new() -> Self {
        Backoff { next: BACKOFF_MIN }
    }
    fn reset(&mut self) {
        self.next = BACKOFF_MIN;
    }
    fn wait(&mut self) -> Duration {
        let ceiling = self.next;
        self.next = (self.next * 2).min(BACKOFF_MAX);
        let jittered = rand::thread_rng().gen_range(ceiling.as_millis() as u64 / 2..=ceiling.as_millis() as u64);
        Duration::from_millis(jittered)
    }
}

/// Keep the office in sync with central until the process ends.
pub async fn run(settings: CentralSettings, office: OfficeHandle, status: Arc<LinkStatus>) {
    // Read once (the system's roots and the CA file change with a package update or a restart),
    // and only for wss://: reading every system root delays a plain link's first connection.
    let connector = if settings.url.starts_with("wss://") {
        match fila_tls::client::client_config(settings.ca_file.as_deref()) {
            Ok(config) => Connector::Rustls(Arc::new(config)),
            Err(error) => {
                // check-config read the file at start; it has changed since. Plain refuses wss://.
                tracing::error!(%error, "cannot set up TLS for the link to central");
                Connector::Plain
            }
        }
    } else {
        Connector::Plain
    };
    let mut backoff = Backoff::new();
    let urls: Vec<String> = settings.urls().map(String::from).collect();
    // The replica in use, kept while it answers; and how many in a row failed to.
    let (mut current, mut failed) = (0, 0);
    loop {
        let began = std::time::Instant::now();
        let url = &urls[current % urls.len()];
        let outcome = session(&settings, url, Some(connector.clone()), &office, &status).await;
        let was_connected = status.connected.load(Ordering::SeqCst);
        // Only a connection that stayed up a while earns a fast retry: one that central closes
        // at once (a failure there, or two boxes sharing a token) must not reconnect in a loop.
        if began.elapsed() >= HEALTHY_AFTER {
            backoff.reset();
        }
        match outcome {
            Ok(()) => tracing::info!("central closed the sync connection"),
            Err(LinkError::Refused(reason)) => {
                // Central will refuse the same thing again: retrying fast only adds load.
                tracing::error!(%reason, "central refused this office's sync; check the branch token and versions");
                backoff.next = BACKOFF_MAX;
            }
            Err(error) => tracing::warn!(%error, "sync with central interrupted"),
        }
        status.connected.store(false, Ordering::SeqCst);
        failed = if was_connected { 1 } else { failed + 1 };
        if urls.len() > 1 && failed < urls.len() {
            // Another replica is tried at once (a moment's jitter spreads a replica's offices
            // over the others): only when none answers does the office wait and retry.
            current += 1;
            let jitter = rand::thread_rng().gen_range(0..=BACKOFF_MIN.as_millis() as u64);
            tokio::time::sleep(Duration::from_millis(jitter)).await;
            continue;
        }
        if urls.len() > 1 {
            current += 1;
            failed = 0;
        }
        tokio::time::sleep(backoff.wait()).await;
    }
}

#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("connection failed: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("office: {0}")]
    Office(#[from] crate::office_loop::LoopError),
    #[error("central was silent for {0:?}")]
    Silent(Duration),
    #[error("central refused: {0}")]
    Refused(String),
}

async fn session(
    settings: &CentralSettings,
    url: &str,
    connector: Option<Connector>,
    office: &OfficeHandle,
    status: &LinkStatus,
) -> Result<(), LinkError> {
    let mut request = url.into_client_request().map_err(|e| LinkError::Connect(e.to_string()))?;
    let bearer = format!("Bearer {}", settings.token).parse().map_err(|_| LinkError::Connect("bad token".into()))?;
    request.headers_mut().insert("Authorization", bearer);
    let connecting = tokio_tungstenite::connect_async_tls_with_config(request, None, false, connector);
    let connected = tokio::time::timeout(CONNECT_MAX, connecting)
        .await
        .map_err(|_| LinkError::Connect(format!("no answer within {CONNECT_MAX:?}")))?;
    let (socket, _) = connected.map_err(|e| match e {
        tokio_tungstenite::tungstenite::Error::Http(response) if response.status().is_client_error() => {
            LinkError::Refused(format!("HTTP {}", response.status()))
        }
        other => LinkError::Connect(other.to_string()),
    })?;
    let (mut sink, mut stream) = socket.split();
    tracing::info!(url, "connected to central");
    status.connected.store(true, Ordering::SeqCst);

    let mut changes = office.changes();
    changes.borrow_and_update();
    send_all(&mut sink, office.sync(SyncRequest::Start).await?).await?;
    // Central pings every 20 s: silence for longer than this, whatever else happens, is a dead link.
    let mut deadline = tokio::time::Instant::now() + SILENCE_MAX;
    loop {
        tokio::select! {
            incoming = tokio::time::timeout_at(deadline, stream.next()) => {
                let Ok(incoming) = incoming else { return Err(LinkError::Silent(SILENCE_MAX)) };
                let Some(message) = incoming else { return Ok(()) };
                deadline = tokio::time::Instant::now() + SILENCE_MAX;
                status.last_heard_ms.store(now_ms(), Ordering::SeqCst);
                match message? {
                    Message::Binary(bytes) => {
                        let frames = office.sync(SyncRequest::Receive(bytes.to_vec())).await.inspect_err(|error| {
                            if matches!(error, crate::office_loop::LoopError::Sync(_)) {
                                status.refused.fetch_add(1, Ordering::SeqCst);
                            }
                        })?;
                        send_all(&mut sink, frames).await?;
                    }
                    Message::Close(Some(frame)) if frame.code == CloseCode::Policy => {
                        return Err(LinkError::Refused(frame.reason.to_string()));
                    }
                    Message::Close(_) => return Ok(()),
                    // tungstenite answers pings itself; text is not part of the protocol.
                    _ => {}
                }
            }
            changed = changes.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                send_all(&mut sink, office.sync(SyncRequest::Poll).await?).await?;
            }
        }
    }
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

/// Send frames in order; a central that stops reading must not hold the link forever.
async fn send_all(sink: &mut Sink, frames: Vec<fila_protocol::wire::Frame>) -> Result<(), LinkError> {
    for frame in frames {
        match tokio::time::timeout(SILENCE_MAX, sink.send(Message::Binary(frame.encode().into()))).await {
            Ok(sent) => sent?,
            Err(_) => return Err(LinkError::Silent(SILENCE_MAX)),
        }
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn central(url: &str) -> CentralSettings {
        CentralSettings {
            url: url.into(),
            token: "t".into(),
            ca_file: None,
            citizen_url: None,
            booking_key: None,
            fallback_urls: Vec::new(),
        }
    }

    #[test]
    fn only_ws_to_another_machine_counts_as_unencrypted() {
        for url in ["ws://hq.example.gob/api/v1/sync", "ws://10.0.0.5:9090/api/v1/sync", "ws://[2001:db8::1]:9090/x"] {
            assert!(central(url).is_unencrypted_over_a_network(), "{url}");
        }
        for url in [
            "wss://hq.example.gob/api/v1/sync",
            "ws://127.0.0.1:9090/api/v1/sync",
            "ws://localhost:9090/api/v1/sync",
            "ws://[::1]:9090/api/v1/sync",
        ] {
            assert!(!central(url).is_unencrypted_over_a_network(), "{url}");
        }
    }

    #[test]
    fn backoff_grows_to_its_ceiling_with_jitter_and_resets() {
        let mut backoff = Backoff::new();
        let waits: Vec<Duration> = (0..12).map(|_| backoff.wait()).collect();
        assert!(waits[0] <= BACKOFF_MIN && waits[0] >= BACKOFF_MIN / 2);
        assert!(waits.iter().all(|w| *w <= BACKOFF_MAX));
        assert!(waits[11] >= BACKOFF_MAX / 2, "reaches the ceiling: {waits:?}");
        backoff.reset();
        assert!(backoff.wait() <= BACKOFF_MIN);
    }
}
