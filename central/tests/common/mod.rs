//! Start a real central on port 0 with a temporary data directory; talk to it over HTTP as
//! headquarters does and over the sync WebSocket as an edge does, with the real office core.
#![allow(dead_code)]

pub mod docs_edge;
pub mod morning;

use std::path::Path;
use std::time::Duration;

use automerge::AutoCommit;
use fila_central::settings::Settings;
use fila_central::{demo, App, StopHandle};
use fila_protocol::office::Priority;
use fila_protocol::sync::PeerSync;
use fila_protocol::wire::Frame;
use fila_protocol::{Command, Office, RawOfficeConfig, ServiceId, Timestamp};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};

pub const CENTRO: &str = demo::BRANCH_TOKEN;
pub const NORTE: &str = demo::BRANCH_TOKEN_NORTE;
pub const HQ: &str = demo::HQ_TOKEN;
pub const HQ_ADMIN: &str = demo::HQ_ADMIN_TOKEN;

/// 2026-11-29 10:00 in Buenos Aires.
pub const T0: Timestamp = Timestamp(1_795_957_200_000);
/// Anything that should happen "at once" gets this long before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct TestCentral {
    pub base: String,
    pub ws_url: String,
    pub client: reqwest::Client,
    /// The server's own handle (`App::handle`), for a stop that does not close sockets first.
    pub server: actix_web::dev::ServerHandle,
    handle: StopHandle,
    join: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub fn settings(dir: &Path) -> Settings {
    demo::settings("127.0.0.1:0".parse().expect("address"), dir.to_path_buf())
}

pub async fn spawn(dir: &Path) -> TestCentral {
    spawn_with(settings(dir)).await
}

/// Central with the demo office's configuration, as headquarters saved it.
pub async fn spawn_with_demo_office(dir: &Path) -> TestCentral {
    let central = spawn(dir).await;
    central.configure("centro", &demo::office_configs().remove(0)).await;
    central
}

pub async fn spawn_with(settings: Settings) -> TestCentral {
    // sled holds a lock on its directory until the previous instance is fully dropped.
    let mut attempts = 0;
    let app = loop {
        // Central's date is the scenario's, so the days edges name stay within its window.
        match App::build_with_clock(settings.clone(), std::sync::Arc::new(|| T0.0)) {
            Ok(app) => break app,
            Err(_) if attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("central did not start: {error:#}"),
        }
    };
    let base = format!("http://127.0.0.1:{}", app.port());
    let ws_url = format!("ws://127.0.0.1:{}/api/v1/sync", app.port());
    let (server, handle) = (app.handle(), app.stop_handle());
    let join = tokio::spawn(app.run_until_stopped());
    TestCentral { base, ws_url, client: reqwest::Client::new(), server, handle, join }
}

impl TestCentral {
    /// Stop as SIGTERM does: edges' sockets close (1001), then the server stops and flushes.
    pub async fn stop(self) {
        self.handle.stop().await;
        self.join.await.expect("server task").expect("server ran and flushed");
    }

    /// Stop through the server's own handle only, as an embedder holding `App::handle` would.
    pub async fn stop_server(self) {
        self.server.stop(true).await;
        self.join.await.expect("server task").expect("server ran and flushed");
    }

    /// Headquarters' administrator sets `office`'s configuration; it must be taken.
    pub async fn configure(&self, office: &str, config: &RawOfficeConfig) {
        let response = self
            .client
            .put(format!("{}/api/v1/offices/{office}/config", self.base))
            .bearer_auth(HQ_ADMIN)
            .json(config)
            .send()
            .await
            .expect("answered");
        let status = response.status();
        assert!(status.is_success(), "{status}: {:?}", response.text().await);
    }

    /// POSTs `body` as JSON without a token, as a citizen's page does.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self.client.post(format!("{}{path}", self.base)).json(&body).send().await.expect("posted");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn metrics(&self) -> String {
        let response = self.client.get(format!("{}/metrics", self.base)).send().await.expect("metrics");
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.expect("metrics text")
    }

    /// One sample of a metric, e.g. `fila_central_sync_frames_total{direction="in"}`.
    pub async fn metric(&self, series: &str) -> u64 {
        let text = self.metrics().await;
        let line = text.lines().find(|line| line.starts_with(&format!("{series} "))).expect(series);
        line.rsplit(' ').next().and_then(|v| v.parse().ok()).expect("a number")
    }

    pub async fn office(&self, id: &str) -> Value {
        let (status, offices) = self.get("/api/v1/offices", Some(HQ)).await;
        assert_eq!(status, StatusCode::OK, "{offices}");
        offices.as_array().expect("list").iter().find(|o| o["id"] == id).cloned().expect("office listed")
    }

    /// Poll the office list until `check` holds (bounded: the test fails after [`PATIENCE`]).
    pub async fn wait_for_office(&self, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let office = self.office(id).await;
            if check(&office) {
                return office;
            }
            assert!(tokio::time::Instant::now() < deadline, "office {id} never became {what}: {office}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn day(&self, office: &str, day: &str) -> (StatusCode, Value) {
        self.get(&format!("/api/v1/offices/{office}/days/{day}"), Some(HQ)).await
    }

    pub async fn connect(&self, token: &str) -> Ws {
        let mut request = self.ws_url.as_str().into_client_request().expect("request");
        request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().expect("header"));
        let (stream, _) = tokio_tungstenite::connect_async(request).await.expect("websocket opens");
        Ws { stream }
    }

    /// The HTTP status of a refused WebSocket upgrade.
    pub async fn refused(&self, token: Option<&str>) -> u16 {
        let mut request = self.ws_url.as_str().into_client_request().expect("request");
        if let Some(token) = token {
            request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().expect("header"));
        }
        match tokio_tungstenite::connect_async(request).await {
            Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
            Err(other) => panic!("expected an HTTP refusal, got {other}"),
            Ok(_) => panic!("the WebSocket opened"),
        }
    }

    /// The heads central holds for `doc`, as it tells a brand-new peer. This replaces the office's
    /// current connection, like any new one.
    pub async fn heads(&self, token: &str, doc: &str) -> Vec<automerge::ChangeHash> {
        let mut ws = self.connect(token).await;
        ws.send(&Frame::Docs { docs: vec![doc.to_string()] }).await;
        let Frame::Sync { message, .. } = ws.frame().await else { panic!("central says hello with a Sync frame") };
        let mut peer = PeerSync::new();
        peer.receive(&mut AutoCommit::new(), &message).expect("central's hello decodes");
        ws.close().await;
        peer.their_heads().expect("central's heads").to_vec()
    }
}

pub type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct Ws {
    pub stream: Stream,
}

/// What came from central, pings aside.
#[derive(Debug)]
pub enum Incoming {
    Frame(Frame),
    Closed(Option<(u16, String)>),
}

impl Ws {
    pub async fn send(&mut self, frame: &Frame) {
        self.send_bytes(frame.encode()).await;
    }

    pub async fn send_bytes(&mut self, bytes: Vec<u8>) {
        self.stream.send(Message::Binary(bytes.into())).await.expect("sent");
    }

    pub async fn next(&mut self) -> Incoming {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.stream.next()).await.expect("central answers in time");
            match message {
                Some(Ok(Message::Binary(bytes))) => {
                    return Incoming::Frame(
                        Frame::decode(&bytes, "centro")
                            .or_else(|_| Frame::decode(&bytes, "norte"))
                            .expect("central's frames decode"),
                    )
                }
                Some(Ok(Message::Close(frame))) => {
                    return Incoming::Closed(
                        frame.map(|CloseFrame { code, reason }| (u16::from(code), reason.to_string())),
                    )
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Incoming::Closed(None),
            }
        }
    }

    pub async fn frame(&mut self) -> Frame {
        match self.next().await {
            Incoming::Frame(frame) => frame,
            Incoming::Closed(reason) => panic!("central closed the connection: {reason:?}"),
        }
    }

    /// Read until central closes; its close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        self.ended().await.expect("a close frame with a code")
    }

    /// Read until the connection ends, with a close frame or without.
    pub async fn ended(&mut self) -> Option<(u16, String)> {
        loop {
            if let Incoming::Closed(reason) = self.next().await {
                return reason;
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}

/// A one-counter office in region `tag`, its general service's target wait 20 minutes, with
/// `more` TOML sections (categories, say) added.
pub fn regional_office(id: &str, name: &str, tag: &str, more: &str) -> fila_protocol::OfficeConfig {
    RawOfficeConfig::parse_toml(&format!(
        r#"
        [office]
        id = "{id}"
        name = "{name}"
        time_zone = "America/Argentina/Buenos_Aires"
        tags = ["{tag}"]

        [[services]]
        id = "general"
        prefix = "A"
        name = "Atención general"
        target_wait_minutes = 20

        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["general"]
        {more}
        "#
    ))
    .expect("test configuration is valid")
}

pub fn office_config(id: &str) -> fila_protocol::OfficeConfig {
    RawOfficeConfig::parse_toml(&format!(
        r#"
        [office]
        id = "{id}"
        name = "Oficina {id}"
        time_zone = "America/Argentina/Buenos_Aires"

        [[services]]
        id = "general"
        prefix = "A"
        name = "Atención general"

        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["general"]
        "#
    ))
    .expect("test office configuration is valid")
}

/// An edge, as far as sync goes: the real office core, its day document as stored, and the
/// sync state with central.
pub struct SimEdge {
    pub office: Office,
    pub doc: AutoCommit,
    pub peer: PeerSync,
    issued: usize,
}

/// What the edge sent during one sync.
pub struct Sent {
    pub frames: Vec<Vec<u8>>,
    pub message_bytes: usize,
}

impl SimEdge {
    pub fn new(office: &str) -> Self {
        let office = Office::restore(office_config(office), b"sim-edge".to_vec(), T0, &[]).expect("office");
        let mut edge = SimEdge { office, doc: AutoCommit::new(), peer: PeerSync::new(), issued: 0 };
        edge.persist();
        edge
    }

    pub fn issue(&mut self, tickets: usize) {
        for _ in 0..tickets {
            self.issued += 1;
            let command = Command::Issue {
                service: ServiceId::new("general"),
                priority: Priority::Normal,
                issuer: fila_protocol::Who::Kiosk("entrada".into()),
                token: format!("track{}", self.issued),
            };
            self.office.handle_command(T0, command).expect("ticket issued");
            self.persist();
        }
    }

    /// Apply a command as the edge's office loop does, and store it.
    pub fn run(&mut self, command: Command) {
        self.office.handle_command(T0, command).expect("command accepted");
        self.persist();
    }

    /// What the edge's office loop would store, loaded into the document the edge syncs.
    fn persist(&mut self) {
        while let Some(persist) = self.office.poll_persist() {
            self.doc.load_incremental(&persist.bytes).expect("the edge's own bytes load");
        }
    }

    pub fn doc_id(&self) -> String {
        self.office.doc_id()
    }

    pub fn date(&self) -> String {
        self.office.day().day.to_string()
    }

    /// The edge's day as an analyst at headquarters is shown it (no tokens, no free text).
    pub fn day_json(&self) -> Value {
        let day = fila_central::http::hq::HqDay::new(self.office.day(), fila_central::http::hq::Audience::Analyst);
        serde_json::to_value(day).expect("a day serialises")
    }

    /// Name the day document, then exchange sync messages until central has all the edge has.
    pub async fn sync(&mut self, ws: &mut Ws) -> Sent {
        let doc = self.doc_id();
        ws.send(&Frame::Docs { docs: vec![doc.clone()] }).await;
        let mut sent = Sent { frames: Vec::new(), message_bytes: 0 };
        loop {
            while let Some(message) = self.peer.generate(&mut self.doc) {
                sent.message_bytes += message.len();
                let frame = Frame::Sync { doc: doc.clone(), message }.encode();
                ws.send_bytes(frame.clone()).await;
                sent.frames.push(frame);
            }
            let ours = self.doc.get_heads();
            if self.peer.their_heads() == Some(ours.as_slice()) {
                return sent;
            }
            match ws.frame().await {
                Frame::Sync { doc: theirs, message } => {
                    assert_eq!(theirs, doc);
                    self.peer.receive(&mut self.doc, &message).expect("central's messages apply");
                }
                other => panic!("central sent {other:?}"),
            }
        }
    }
}

/// The code the server received for `address`.
pub async fn code_for(smtp: &fila_notify::testing::SmtpServer, address: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let found = smtp.received().into_iter().find(|m| {
            m["rcpt_tos"][0] == serde_json::json!(address)
                && m["subject"].as_str().is_some_and(|s| s.contains("código"))
        });
        if let Some(mail) = found {
            let text = mail["text"].as_str().expect("text");
            return text
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .expect("a six-digit code")
                .to_string();
        }
        assert!(tokio::time::Instant::now() < deadline, "no code reached {address}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
