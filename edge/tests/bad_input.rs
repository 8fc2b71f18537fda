//! Bad input gets a 4xx with a JSON body naming the problem, and changes nothing.

mod common;

use common::{spawn, KIOSK};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn malformed_requests_are_refused_by_name_and_change_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    edge.issue("general").await;
    let ana = edge.at_counter("ana", "1").await;
    let sara = edge.login("sara").await;
    let snapshot = || async { edge.get("/api/v1/queue", Some(&sara)).await.1 };
    let before = snapshot().await;

    let url = |path: &str| format!("{}{path}", edge.base);
    let raw = |path: &str, token: Option<&str>, content_type: &str, body: Vec<u8>| {
        let mut request = edge.client.post(url(path)).header("content-type", content_type).body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    };

    let mut cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, &str)> = vec![
        (
            "broken JSON",
            raw("/api/v1/tickets", Some(KIOSK), "application/json", b"{\"service\":".to_vec()),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "unknown field",
            raw("/api/v1/tickets", Some(KIOSK), "application/json", br#"{"service":"general","vip":true}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "bad_json",
        ),
        (
            "not JSON",
            raw("/api/v1/tickets", Some(KIOSK), "text/plain", b"general".to_vec()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bad_content_type",
        ),
        (
            "oversized body",
            raw(
                "/api/v1/tickets",
                Some(KIOSK),
                "application/json",
                format!("{{\"service\":\"{}\"}}", "x".repeat(40_000)).into_bytes(),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
        ),
        (
            "unknown service",
            raw("/api/v1/tickets", Some(KIOSK), "application/json", br#"{"service":"visas"}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "unknown_service",
        ),
        (
            "unknown category",
            raw(
                "/api/v1/tickets",
                Some(KIOSK),
                "application/json",
                br#"{"service":"general","category":"vip"}"#.to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "unknown_category",
        ),
        (
            "no token",
            raw("/api/v1/tickets", None, "application/json", br#"{"service":"general"}"#.to_vec()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "wrong token",
            raw("/api/v1/tickets", Some("demo-kiosk-tokeN"), "application/json", br#"{"service":"general"}"#.to_vec()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            "unknown counter",
            raw("/api/v1/counters/99/call-next", Some(&ana), "application/json", b"{}".to_vec()),
            StatusCode::NOT_FOUND,
            "unknown_counter",
        ),
        (
            "finish a ticket never called",
            raw("/api/v1/counters/1/finish", Some(&ana), "application/json", b"{}".to_vec()),
            StatusCode::CONFLICT,
            "counter_idle",
        ),
        (
            "start with nobody called",
            raw("/api/v1/counters/1/start", Some(&ana), "application/json", b"{}".to_vec()),
            StatusCode::CONFLICT,
            "counter_idle",
        ),
        (
            "specific call without reason",
            raw(
                "/api/v1/counters/1/call",
                Some(&ana),
                "application/json",
                br#"{"number":"A-001","reason":" "}"#.to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "reason_required",
        ),
        (
            "specific call of a bad number",
            raw(
                "/api/v1/counters/1/call",
                Some(&ana),
                "application/json",
                br#"{"number":"A-1x","reason":"r"}"#.to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "bad_number",
        ),
        (
            "specific call of a ticket not issued",
            raw(
                "/api/v1/counters/1/call",
                Some(&ana),
                "application/json",
                br#"{"number":"A-999","reason":"r"}"#.to_vec(),
            ),
            StatusCode::NOT_FOUND,
            "unknown_ticket",
        ),
        (
            "transfer with nobody called",
            raw("/api/v1/counters/1/transfer", Some(&ana), "application/json", br#"{"service":"pagos"}"#.to_vec()),
            StatusCode::CONFLICT,
            "counter_idle",
        ),
        (
            "cancel a ticket not issued",
            raw("/api/v1/tickets/B-007/cancel", Some(&sara), "application/json", br#"{"reason":"r"}"#.to_vec()),
            StatusCode::NOT_FOUND,
            "unknown_ticket",
        ),
        (
            "cancel without reason",
            raw("/api/v1/tickets/A-001/cancel", Some(&sara), "application/json", br#"{"reason":""}"#.to_vec()),
            StatusCode::BAD_REQUEST,
            "reason_required",
        ),
        (
            "citizen cancel with an unknown token",
            raw("/api/v1/track/0123/cancel", None, "application/json", b"{}".to_vec()),
            StatusCode::NOT_FOUND,
            "unknown_token",
        ),
        (
            "resume a ticket that is not parked",
            raw("/api/v1/counters/1/resume", Some(&ana), "application/json", br#"{"number":"A-001"}"#.to_vec()),
            StatusCode::CONFLICT,
            "ticket_not_parked",
        ),
        (
            "unknown route",
            raw("/api/v1/teleport", Some(&ana), "application/json", b"{}".to_vec()),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    let mut failures = Vec::new();
    for (name, request, status, code) in cases.drain(..) {
        let response = request.send().await.expect("sent");
        let got = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if got != status || body["error"] != code || !body["message"].is_string() {
            failures.push(format!("{name}: expected {status} {code}, got {got} {body}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(snapshot().await, before, "nothing changed");
    let (_, tracked) = edge.get("/api/v1/track/nope", None).await;
    assert_eq!(tracked["error"], "not_found");
    assert_eq!(edge.tickets_today().await, 1);
    edge.stop().await;
}

#[tokio::test]
async fn a_counter_agent_cannot_act_at_someone_elses_counter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    edge.issue("general").await;
    edge.at_counter("ana", "1").await;
    let beto = edge.login("beto").await;
    let (status, body) = edge.act(&beto, "1", "call-next", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::FORBIDDEN, Some("not_your_counter")));
    let (status, body) = edge.act(&beto, "1", "sign-in", json!({})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("counter_taken")));
    edge.stop().await;
}
