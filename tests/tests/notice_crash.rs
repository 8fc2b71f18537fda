//! kill -9 between a ticket's finish and its survey invitation (before it is sent, or after it
//! failed once): after the restart exactly one invitation reaches the citizen, and no later
//! restart sends another. Against the real `fila-edge` binary and a real SMTP server (aiosmtpd).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{edge_binary, free_port, wait_ready, Edge};
use fila_notify::testing::{Mode, SmtpServer};
use serde_json::{json, Value};

const CITIZEN: &str = "lucia.fernandez@example.org";

fn start(binary: &Path, port: u16, dir: &Path, smtp: u16) -> Edge {
    start_with(binary, port, dir, smtp, &[])
}

fn start_with(binary: &Path, port: u16, dir: &Path, smtp: u16, extra: &[&str]) -> Edge {
    let child = Command::new(binary)
        .args(["demo", "--no-devices", "--listen", &format!("127.0.0.1:{port}"), "--smtp"])
        .arg(format!("127.0.0.1:{smtp}"))
        .args(extra)
        .arg("--data")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fila-edge starts");
    Edge(child)
}

struct Office {
    client: reqwest::Client,
    base: String,
}

impl Office {
    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("the edge answers");
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    async fn login(&self, user: &str) -> String {
        let response = self.post("/api/v1/login", "", json!({ "username": user, "password": "1234" })).await;
        response["token"].as_str().expect("token").to_string()
    }

    async fn survey_notice(&self, supervisor: &str) -> Option<Value> {
        let response =
            self.client.get(format!("{}/api/v1/notices", self.base)).bearer_auth(supervisor).send().await.ok()?;
        let list: Value = response.json().await.ok()?;
        list.as_array()?.iter().find(|n| n["kind"] == "survey_invite").cloned()
    }
}

fn invitations(server: &SmtpServer) -> usize {
    let survey = |m: &Value| m["subject"].as_str().is_some_and(|s| s.contains("cómo le atendimos"));
    server.received().iter().filter(|m| survey(m)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_finish_and_the_survey_sends_exactly_one_invitation() {
    let binary = edge_binary();
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let office = Office {
        client: reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client"),
        base: format!("http://127.0.0.1:{port}"),
    };

    // The mail server is down when the visit ends: the invitation is derived, stored, tried
    // once and waits for its retry. That is the moment the power goes.
    let mut edge = start(&binary, port, dir.path(), free_port());
    wait_ready(&office.client, &office.base).await;
    let issued = office
        .post("/api/v1/tickets", fila_edge::demo::KIOSK_TOKEN, json!({ "service": "general", "contact": CITIZEN }))
        .await;
    assert_eq!(issued["contact_kept"], true, "{issued}");
    let ana = office.login("ana").await;
    let sara = office.login("sara").await;
    office.post("/api/v1/counters/1/sign-in", &ana, json!({})).await;
    office.post("/api/v1/counters/1/call-next", &ana, json!({})).await;
    office.post("/api/v1/counters/1/start", &ana, json!({})).await;
    office.post("/api/v1/counters/1/finish", &ana, json!({ "outcome": "hecho" })).await;
    let began = Instant::now();
    loop {
        let notice = office.survey_notice(&sara).await;
        if notice.as_ref().is_some_and(|n| n["state"] == "queued" && n["attempts"].as_u64() >= Some(1)) {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(15), "the invitation was never tried: {notice:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    edge.kill().expect("kill -9");
    edge.wait().expect("reaped");

    // Back up, with the mail server there: the stored invitation goes, once.
    let Some(server) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else { return };
    let _edge = start(&binary, port, dir.path(), server.port);
    wait_ready(&office.client, &office.base).await;
    let began = Instant::now();
    while invitations(&server) == 0 {
        // Its retry is due within the backoff's first wait (15 s) after the crash.
        assert!(began.elapsed() < Duration::from_secs(40), "no invitation after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = office.survey_notice(&office.login("sara").await).await.expect("the notice");
    assert_eq!(sent["state"], "sent", "{sent}");
    drop(_edge);

    // Another restart finds it sent: nothing more goes.
    let _edge = start(&binary, port, dir.path(), server.port);
    wait_ready(&office.client, &office.base).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(invitations(&server), 1, "exactly one invitation");
    let text =
        &server.received().iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains("atendimos"))).cloned();
    let text = text.as_ref().and_then(|m| m["text"].as_str()).unwrap_or_default().to_string();
    assert!(text.contains(&format!("{}/t/", office.base)), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_right_after_finish_before_the_survey_delay_ends_sends_exactly_one_invitation() {
    let binary = edge_binary();
    let Some(server) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let port = free_port();
    let office = Office {
        client: reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client"),
        base: format!("http://127.0.0.1:{port}"),
    };
    // The office invites a few seconds after the visit; the power goes the moment the agent
    // finishes, so the invitation may not even be stored yet.
    let delay = ["--survey-delay", "3"];

    let mut edge = start_with(&binary, port, dir.path(), server.port, &delay);
    wait_ready(&office.client, &office.base).await;
    let issued = office
        .post("/api/v1/tickets", fila_edge::demo::KIOSK_TOKEN, json!({ "service": "general", "contact": CITIZEN }))
        .await;
    assert_eq!(issued["contact_kept"], true, "{issued}");
    let ana = office.login("ana").await;
    office.post("/api/v1/counters/1/sign-in", &ana, json!({})).await;
    office.post("/api/v1/counters/1/call-next", &ana, json!({})).await;
    office.post("/api/v1/counters/1/start", &ana, json!({})).await;
    office.post("/api/v1/counters/1/finish", &ana, json!({ "outcome": "hecho" })).await;
    edge.kill().expect("kill -9");
    edge.wait().expect("reaped");
    assert_eq!(invitations(&server), 0, "the delay had not passed");

    // Back up: the finish is on disk, so the invitation is derived (or found) and goes once.
    let edge = start_with(&binary, port, dir.path(), server.port, &delay);
    wait_ready(&office.client, &office.base).await;
    let began = Instant::now();
    while invitations(&server) == 0 {
        assert!(began.elapsed() < Duration::from_secs(40), "no invitation after the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = office.survey_notice(&office.login("sara").await).await.expect("the notice");
    assert_eq!((sent["state"].as_str(), sent["attempts"].as_u64()), (Some("sent"), Some(1)), "{sent}");
    drop(edge);

    // Another restart finds it sent: nothing more goes.
    let _edge = start_with(&binary, port, dir.path(), server.port, &delay);
    wait_ready(&office.client, &office.base).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(invitations(&server), 1, "exactly one invitation");
    let received = server.received();
    let invitation = received.iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains("atendimos")));
    assert_eq!(invitation.map(|m| m["rcpt_tos"].clone()), Some(json!([CITIZEN])));
}
