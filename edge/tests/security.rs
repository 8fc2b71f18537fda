//! Issue 8, "Security at every door": each test runs an attack that worked against the edge
//! before, over HTTP against the real app, and shows the door now holds.

mod common;

use std::time::Duration;

use common::{spawn, spawn_settings, TestEdge, KIOSK};
use fila_edge::demo;
use fila_edge::settings::Settings;
use fila_edge::throttle::Rate;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(20);

fn settings(dir: &std::path::Path) -> Settings {
    demo::settings("127.0.0.1:0".parse().expect("address"), dir.to_path_buf())
}

async fn spawn_with(settings: Settings) -> TestEdge {
    spawn_settings(settings, fila_edge::office_loop::system_clock()).await
}

/// A sign-in attempt: its status, `Retry-After` (if any) and body.
async fn sign_in(edge: &TestEdge, username: &str, password: &str) -> (StatusCode, Option<u64>, Value) {
    let response = edge
        .client
        .post(format!("{}/api/v1/login", edge.base))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("sent");
    let status = response.status();
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
    (status, retry_after, response.json().await.unwrap_or(Value::Null))
}

/// Every key anywhere in a JSON value.
fn keys(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => map.iter().flat_map(|(k, v)| std::iter::once(k.clone()).chain(keys(v))).collect(),
        Value::Array(items) => items.iter().flat_map(keys).collect(),
        _ => Vec::new(),
    }
}

// ------------------------------------------------------------------------------------ logins

#[tokio::test]
async fn a_pin_guesser_is_locked_out_after_five_wrong_pins_and_even_the_right_pin_waits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = settings(dir.path());
    settings.security.user_lockout.first = Duration::from_millis(800);
    let edge = spawn_with(settings).await;

    for guess in ["0000", "0001", "0002", "0003", "0004"] {
        let (status, _, body) = sign_in(&edge, "ana", guess).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    }
    let (status, retry_after, body) = sign_in(&edge, "ana", "0005").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "too_many_attempts");
    assert_eq!(retry_after, Some(1), "Retry-After in whole seconds, rounded up");
    let (status, _, _) = sign_in(&edge, "ana", "1234").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the right PIN is refused while locked");
    let (status, _, _) = sign_in(&edge, "beto", "1234").await;
    assert_eq!(status, StatusCode::OK, "other users sign in as usual");

    // Supervisors see the lockout among the alerts and in the security events; agents do not.
    let sara = edge.login("sara").await;
    let (_, queue) = edge.get("/api/v1/queue", Some(&sara)).await;
    let alert = queue["alerts"].as_array().expect("alerts").iter().find(|a| a["kind"] == "login_locked").cloned();
    assert_eq!(alert.as_ref().map(|a| a["subject"].clone()), Some(json!("ana")), "{queue}");
    let (status, events) = edge.get("/api/v1/security/events", Some(&sara)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((events[0]["kind"].as_str(), events[0]["subject"].as_str()), (Some("login_locked"), Some("ana")));
    assert!(!events.to_string().contains("0004"), "no password in a security event");
    let beto = edge.login("beto").await;
    assert_eq!(edge.get("/api/v1/security/events", Some(&beto)).await.0, StatusCode::FORBIDDEN);
    let (_, queue) = edge.get("/api/v1/queue", Some(&beto)).await;
    assert!(!queue["alerts"].to_string().contains("login_locked"), "security alerts are for supervisors");

    tokio::time::sleep(Duration::from_millis(900)).await;
    let (status, _, body) = sign_in(&edge, "ana", "1234").await;
    assert_eq!(status, StatusCode::OK, "the right PIN works once the lockout ends: {body}");
    let (status, _, _) = sign_in(&edge, "ana", "9999").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a success starts the count afresh");
    let metrics = edge.client.get(format!("{}/metrics", edge.base)).send().await.expect("metrics");
    assert!(metrics.text().await.expect("text").contains("fila_edge_login_lockouts_total 1"));
    edge.stop().await;
}

#[tokio::test]
async fn one_machine_trying_a_pin_on_every_username_is_locked_out_by_its_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = settings(dir.path());
    settings.security.address_lockout.free_failures = 7;
    let edge = spawn_with(settings).await;
    for n in 0..8 {
        let (status, _, _) = sign_in(&edge, &format!("user{n}"), "1234").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let (status, retry_after, body) = sign_in(&edge, "ana", "1234").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts")));
    assert!(retry_after.is_some_and(|s| s >= 1));
    edge.stop().await;
}

#[tokio::test]
async fn many_sign_ins_at_once_never_run_more_password_checks_at_once_than_allowed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = settings(dir.path());
    settings.security.password_checks_max = 2;
    settings.security.password_check_wait = PATIENCE;
    settings.security.address_lockout.free_failures = 1_000;
    let edge = spawn_with(settings).await;
    let attempts = (0..24).map(|n| {
        let edge = &edge;
        async move { sign_in(edge, &format!("user{n}"), "0000").await.0 }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{statuses:?}");
    let text = edge.client.get(format!("{}/metrics", edge.base)).send().await.expect("metrics").text().await;
    let text = text.expect("text");
    let peak: usize = text
        .lines()
        .find_map(|line| line.strip_prefix("fila_edge_password_checks_peak "))
        .and_then(|value| value.parse().ok())
        .expect("the peak is in the metrics");
    assert!((1..=2).contains(&peak), "{peak} argon2 checks ran at once");
    edge.stop().await;
}

// ------------------------------------------------------------------------------------ kiosks

#[tokio::test]
async fn nobody_can_issue_an_appointment_ticket_through_the_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let sara = edge.login("sara").await;
    for token in [KIOSK, sara.as_str()] {
        let body = json!({ "service": "general", "appointment_at": 0 });
        let (status, answer) = edge.post("/api/v1/tickets", Some(token), body).await;
        assert_eq!((status, answer["error"].as_str()), (StatusCode::BAD_REQUEST, Some("appointment_not_allowed")));
        assert!(answer["message"].as_str().is_some_and(|m| m.contains("appointment_at")), "{answer}");
    }
    assert_eq!(edge.tickets_today().await, 0, "nothing was issued");
    let (_, doc) = edge.get("/api/openapi.json", None).await;
    let properties = &doc["components"]["schemas"]["IssueRequest"]["properties"];
    assert!(properties.get("service").is_some() && properties.get("appointment_at").is_none(), "{properties}");
    edge.stop().await;
}

#[tokio::test]
async fn a_kiosk_issuing_faster_than_people_do_is_refused_with_retry_after() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = settings(dir.path());
    settings.security.kiosk_issues = Rate { per_minute: 60, burst: 3 };
    let edge = spawn_with(settings).await;
    for _ in 0..3 {
        edge.issue("general").await;
    }
    let response = edge
        .client
        .post(format!("{}/api/v1/tickets", edge.base))
        .bearer_auth(KIOSK)
        .json(&json!({ "service": "general" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "too_many_tickets");
    assert_eq!(edge.tickets_today().await, 3);

    // A supervisor at a desk is not a kiosk; and the kiosk gets tickets again at its rate.
    let sara = edge.login("sara").await;
    let (status, _) = edge.post("/api/v1/tickets", Some(&sara), json!({ "service": "general" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, events) = edge.get("/api/v1/security/events", Some(&sara)).await;
    assert_eq!(
        (events[0]["kind"].as_str(), events[0]["subject"].as_str()),
        (Some("kiosk_rate_limited"), Some("entrada"))
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    edge.issue("general").await;
    edge.stop().await;
}

#[test]
fn the_kiosk_rate_and_stream_cap_are_set_in_the_server_section() {
    let text = format!(
        "[server]\nkiosk_issues_per_minute = 12\nkiosk_issue_burst = 4\nevent_streams_max = 64\n{}",
        demo::OFFICE_TOML
    );
    let settings = Settings::parse(&text).expect("valid");
    assert_eq!(settings.security.kiosk_issues, Rate { per_minute: 12, burst: 4 });
    assert_eq!(settings.security.event_streams_max, 64);
    let defaults = Settings::parse(demo::OFFICE_TOML).expect("valid");
    assert_eq!(defaults.security.kiosk_issues, Rate { per_minute: 30, burst: 10 });
    let zero = format!("[server]\nkiosk_issues_per_minute = 0\n{}", demo::OFFICE_TOML);
    let problems = Settings::parse(&zero).expect_err("a zero rate is refused");
    assert!(problems.iter().any(|p| p.at == "server.kiosk_issues_per_minute"), "{problems:?}");
}

// ------------------------------------------------------------------------------ what leaks

#[tokio::test]
async fn staff_never_receive_a_citizens_tracking_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let issued = edge.issue("general").await;
    assert!(issued["token"].is_string(), "the kiosk gets the token to print");
    edge.issue("general").await;
    let ana = edge.at_counter("ana", "1").await;
    let sara = edge.login("sara").await;
    let (_, called) = edge.act(&ana, "1", "call-next", json!({})).await;
    let (_, queue_ana) = edge.get("/api/v1/queue", Some(&ana)).await;
    let (_, queue_sara) = edge.get("/api/v1/queue", Some(&sara)).await;
    let (_, cancelled) = edge.post("/api/v1/tickets/A-002/cancel", Some(&sara), json!({ "reason": "left" })).await;
    let (_, deviations) = edge.get("/api/v1/deviations", Some(&sara)).await;
    for (what, answer) in [
        ("call-next", &called),
        ("the agent's queue", &queue_ana),
        ("the supervisor's queue", &queue_sara),
        ("a cancellation", &cancelled),
        ("deviations", &deviations),
    ] {
        let keys = keys(answer);
        assert!(!keys.iter().any(|k| k == "token" || k == "tracking_url"), "{what} carries a token: {answer}");
    }
    assert!(queue_sara["counters"].to_string().contains("A-001"), "the queue still shows who is where");
    edge.stop().await;
}

#[tokio::test]
async fn the_anonymous_event_stream_carries_numbers_and_counters_but_no_names_outcomes_or_reasons() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let mut stream = edge.client.get(format!("{}/api/v1/events", edge.base)).send().await.expect("stream");
    let preferential = json!({ "service": "general", "category": "embarazada" });
    let (status, _) = edge.post("/api/v1/tickets", Some(KIOSK), preferential).await;
    assert_eq!(status, StatusCode::CREATED);
    edge.issue("general").await;
    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    edge.act(&ana, "1", "start", json!({})).await;
    let outcome = json!({ "outcome": "DNI 30111222, tel 1155550000" });
    let (status, _) = edge.act(&ana, "1", "finish", outcome).await;
    assert_eq!(status, StatusCode::OK);
    let sara = edge.login("sara").await;
    let reason = json!({ "reason": "se fue, vecina de Juana Díaz" });
    let (status, _) = edge.post("/api/v1/tickets/A-002/cancel", Some(&sara), reason).await;
    assert_eq!(status, StatusCode::OK);

    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !(seen.contains("\"finished\"") && seen.contains("\"cancelled\"")) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await.expect("events in time").expect("read");
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("stream open")));
    }
    assert!(seen.contains("event: called") && seen.contains("\"A-001\""), "{seen}");
    for secret in ["30111222", "1155550000", "Juana", "\"ana\"", "embarazada", "\"agent\"", "\"outcome\"", "token"] {
        assert!(!seen.contains(secret), "{secret} reached an anonymous listener: {seen}");
    }
    edge.stop().await;
}

// --------------------------------------------------------------------------- resource caps

#[tokio::test]
async fn event_streams_beyond_the_cap_are_refused_until_one_closes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = settings(dir.path());
    settings.security.event_streams_max = 2;
    settings.security.event_keep_alive = Duration::from_millis(100);
    let edge = spawn_with(settings).await;
    let open = || edge.client.get(format!("{}/api/v1/events", edge.base)).send();
    let first = open().await.expect("first");
    let second = open().await.expect("second");
    assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
    let third = open().await.expect("third");
    assert_eq!(third.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = third.json().await.expect("a JSON body");
    assert_eq!(body["error"], "too_many_streams");
    assert_eq!(edge.get("/api/v1/office", None).await.0, StatusCode::OK, "the rest of the API still answers");

    drop(first);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let again = open().await.expect("again");
        if again.status() == StatusCode::OK {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "a closed stream's place was never given back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(second);
    edge.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let token = edge.issue("general").await["token"].as_str().expect("token").to_string();
    let track = format!("/t/{token}");
    for path in ["/", "/counter", "/kiosk", "/display", &track, "/assets/counter.js", "/api/v1/office", "/nowhere"] {
        let response = edge.client.get(format!("{}{path}", edge.base)).send().await.expect("sent");
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let policy = header("content-security-policy");
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy:?}");
        assert!(policy.contains("default-src 'self'") && !policy.contains("unsafe-inline"), "{path}: {policy:?}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
    edge.stop().await;
}
