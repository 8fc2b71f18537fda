//! Each role can do what it should and nothing more: one table, checked against a real edge.

mod common;

use common::{spawn, KIOSK};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Nobody,
    Kiosk,
    /// ana, the agent signed in at counter 1.
    Agent,
    /// beto, an agent at another counter.
    OtherAgent,
    Supervisor,
    Admin,
}

const EVERYONE: [Who; 6] = [Who::Nobody, Who::Kiosk, Who::Agent, Who::OtherAgent, Who::Supervisor, Who::Admin];

struct Rule {
    method: Method,
    path: &'static str,
    body: Value,
    allowed: &'static [Who],
}

fn table() -> Vec<Rule> {
    use Who::*;
    let rule = |method: Method, path, body, allowed| Rule { method, path, body, allowed };
    vec![
        rule(Method::GET, "/api/v1/office", Value::Null, &EVERYONE),
        rule(Method::GET, "/api/v1/calls/recent", Value::Null, &EVERYONE),
        rule(Method::POST, "/api/v1/tickets", json!({ "service": "general" }), &[Kiosk, Supervisor, Admin]),
        rule(Method::GET, "/api/v1/queue", Value::Null, &[Agent, OtherAgent, Supervisor, Admin]),
        rule(Method::POST, "/api/v1/counters/1/call-next", json!({}), &[Agent, Supervisor, Admin]),
        rule(Method::POST, "/api/v1/counters/1/recall", json!({}), &[Agent, Supervisor, Admin]),
        rule(Method::POST, "/api/v1/counters/1/finish", json!({}), &[Agent, Supervisor, Admin]),
        rule(Method::POST, "/api/v1/counters/1/pause", json!({}), &[Agent, Supervisor, Admin]),
        rule(Method::POST, "/api/v1/counters/5/sign-in", json!({}), &[Agent, OtherAgent, Supervisor, Admin]),
        rule(Method::GET, "/api/v1/deviations", Value::Null, &[Supervisor, Admin]),
        rule(Method::GET, "/api/v1/security/events", Value::Null, &[Supervisor, Admin]),
        rule(Method::POST, "/api/v1/tickets/A-001/cancel", json!({ "reason": "se retiró" }), &[Supervisor, Admin]),
        rule(Method::POST, "/api/v1/admin/kiosks", json!({ "id": "planta-alta" }), &[Admin]),
    ]
}

#[tokio::test]
async fn every_role_can_do_exactly_what_it_should() {
    let mut failures = Vec::new();
    for who in EVERYONE {
        // A fresh office per caller, so one caller's actions do not decide another's answer.
        let dir = tempfile::tempdir().expect("temp dir");
        let edge = spawn(dir.path()).await;
        edge.issue("general").await;
        let ana = edge.at_counter("ana", "1").await;
        let beto = edge.at_counter("beto", "2").await;
        let token = match who {
            Who::Nobody => None,
            Who::Kiosk => Some(KIOSK.to_string()),
            Who::Agent => Some(ana),
            Who::OtherAgent => Some(beto),
            Who::Supervisor => Some(edge.login("sara").await),
            Who::Admin => Some(edge.login("admin").await),
        };
        for rule in table() {
            let body = (!rule.body.is_null()).then(|| rule.body.clone());
            let (status, answer) = edge.request(rule.method.clone(), rule.path, token.as_deref(), body).await;
            let refused = status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN;
            let should = rule.allowed.contains(&who);
            if refused == should {
                failures.push(format!("{who:?} {} {}: {status} {answer}", rule.method, rule.path));
            }
            if refused {
                assert!(answer["error"].is_string(), "a refusal names its reason: {answer}");
            }
        }
        edge.stop().await;
    }
    assert!(failures.is_empty(), "unexpected answers:\n{}", failures.join("\n"));
}

#[tokio::test]
async fn a_new_kiosk_token_works_once_registered_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let admin = edge.login("admin").await;
    let (status, kiosk) = edge.post("/api/v1/admin/kiosks", Some(&admin), json!({ "id": "planta-alta" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = kiosk["token"].as_str().expect("token").to_string();
    edge.stop().await;

    let edge = spawn(dir.path()).await;
    let (status, _) = edge.post("/api/v1/tickets", Some(&token), json!({ "service": "pagos" })).await;
    assert_eq!(status, StatusCode::CREATED);
    edge.stop().await;
}

#[tokio::test]
async fn a_signed_out_session_no_longer_works() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let sara = edge.login("sara").await;
    let (status, _) = edge.request(Method::POST, "/api/v1/logout", Some(&sara), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = edge.get("/api/v1/queue", Some(&sara)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
    let (status, body) = edge.post("/api/v1/login", None, json!({ "username": "sara", "password": "nope" })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("bad_credentials")));
    edge.stop().await;
}
