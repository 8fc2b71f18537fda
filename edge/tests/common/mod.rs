//! Start a real edge on port 0 with a temporary data directory, and talk to it as users do.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use fila_edge::office_loop::Clock;
use fila_edge::{demo, App};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const KIOSK: &str = demo::KIOSK_TOKEN;

pub struct TestEdge {
    pub base: String,
    pub client: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
    join: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub async fn spawn(dir: &Path) -> TestEdge {
    spawn_with_clock(dir, fila_edge::office_loop::system_clock()).await
}

pub async fn spawn_with_clock(dir: &Path, clock: Clock) -> TestEdge {
    let settings = demo::settings("127.0.0.1:0".parse().expect("address"), dir.to_path_buf());
    spawn_settings(settings, clock).await
}

/// An edge that syncs with central at `url` (with the demo branch token).
pub async fn spawn_with_central(dir: &Path, url: &str) -> TestEdge {
    let mut settings = demo::settings("127.0.0.1:0".parse().expect("address"), dir.to_path_buf());
    settings.central = Some(fila_edge::sync_client::CentralSettings {
        url: url.to_string(),
        token: "demo-branch-token".into(),
        ca_file: None,
        citizen_url: None,
        booking_key: Some(demo::booking_key()),
        fallback_urls: Vec::new(),
    });
    spawn_settings(settings, fila_edge::office_loop::system_clock()).await
}

pub async fn spawn_settings(settings: fila_edge::settings::Settings, clock: Clock) -> TestEdge {
    // sled holds a lock on its directory until the previous instance is fully dropped.
    let mut attempts = 0;
    let app = loop {
        match App::build_with_clock(settings.clone(), clock.clone()) {
            Ok(app) => break app,
            Err(error) if attempts < 50 => {
                attempts += 1;
                let _ = error;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(error) => panic!("edge did not start: {error:#}"),
        }
    };
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let join = tokio::spawn(app.run_until_stopped());
    TestEdge { base, client: reqwest::Client::new(), handle, join }
}

/// A clock the test moves by hand.
pub fn manual_clock(start_ms: i64) -> (Clock, Arc<std::sync::atomic::AtomicI64>) {
    let now = Arc::new(std::sync::atomic::AtomicI64::new(start_ms));
    let read = now.clone();
    let clock: Clock = Arc::new(move || fila_protocol::Timestamp(read.load(std::sync::atomic::Ordering::SeqCst)));
    (clock, now)
}

impl TestEdge {
    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.join.await.expect("server task").expect("server ran");
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.expect("body");
        let json =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, json)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request(reqwest::Method::POST, path, token, Some(body)).await
    }

    pub async fn login(&self, user: &str) -> String {
        let password = demo::USERS.iter().find(|u| u.0 == user).expect("demo user").3;
        let (status, body) = self.post("/api/v1/login", None, json!({ "username": user, "password": password })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().expect("token").to_string()
    }

    pub async fn issue(&self, service: &str) -> Value {
        let (status, body) = self.post("/api/v1/tickets", Some(KIOSK), json!({ "service": service })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Sign `user` in at `counter` and return their token.
    pub async fn at_counter(&self, user: &str, counter: &str) -> String {
        let token = self.login(user).await;
        let (status, body) = self.post(&format!("/api/v1/counters/{counter}/sign-in"), Some(&token), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        token
    }

    pub async fn act(&self, token: &str, counter: &str, action: &str, body: Value) -> (StatusCode, Value) {
        self.post(&format!("/api/v1/counters/{counter}/{action}"), Some(token), body).await
    }

    pub async fn tickets_today(&self) -> u64 {
        let (_, health) = self.get("/healthz", None).await;
        health["tickets_today"].as_u64().expect("count")
    }
}

/// Pseudo-terminal pairs are not safe to open from several threads at once.
pub static PTY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Personal data (a contact, a comment's text) must not be in any key or value of these
/// documents: their history can never be erased. It lives in the store beside them.
pub fn assert_not_in_documents(data: &Path, docs: &[String], needle: &str) {
    use fila_store::Store;
    // sled lets go of its directory a moment after the edge stops.
    let store = (0..100)
        .find_map(|_| {
            fila_store::SledStore::open(&data.join("store"), 8 << 20)
                .inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(50)))
                .ok()
        })
        .expect("store");
    for doc in docs {
        let bytes: Vec<u8> = store.chunks(doc).expect("chunks").concat();
        let document = automerge::Automerge::load(&bytes).expect("the document loads");
        let mut text = String::new();
        dump(&document, &automerge::ROOT, &mut text);
        assert!(text.contains("general"), "the dump reads the document: {doc}");
        assert!(!text.contains(needle), "{doc} holds {needle:?}");
    }
}

fn dump(doc: &automerge::Automerge, obj: &automerge::ObjId, out: &mut String) {
    use automerge::{ObjType, ReadDoc, Value};
    let visit = |value: Option<(Value<'_>, automerge::ObjId)>, out: &mut String| match value {
        Some((Value::Object(_), id)) => dump(doc, &id, out),
        Some((Value::Scalar(scalar), _)) => out.push_str(&format!("{scalar:?}\n")),
        None => {}
    };
    match doc.object_type(obj) {
        Ok(ObjType::Map | ObjType::Table) => {
            for key in doc.keys(obj) {
                out.push_str(&key);
                out.push('\n');
                visit(doc.get(obj, key.as_str()).ok().flatten(), out);
            }
        }
        Ok(ObjType::List | ObjType::Text) => {
            for index in 0..doc.length(obj) {
                visit(doc.get(obj, index).ok().flatten(), out);
            }
        }
        Err(_) => {}
    }
}
