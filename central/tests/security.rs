//! Issue 8, "Security at every door", at headquarters: what the HQ API shows analysts and
//! administrators, which days an edge may name, a branch token used by two boxes, and the
//! headers on every response.

mod common;

use common::{SimEdge, CENTRO, HQ, NORTE};
use fila_central::demo::HQ_ADMIN_TOKEN;
use fila_protocol::office::Actor;
use fila_protocol::wire::Frame;
use fila_protocol::{AgentId, Command, CounterId};
use reqwest::StatusCode;
use serde_json::Value;

/// Every key anywhere in a JSON value.
fn keys(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => map.iter().flat_map(|(k, v)| std::iter::once(k.clone()).chain(keys(v))).collect(),
        Value::Array(items) => items.iter().flat_map(keys).collect(),
        _ => Vec::new(),
    }
}

const OUTCOME: &str = "DNI 30111222, tel 1155550000";
const CANCEL_REASON: &str = "se fue; su hija Juana llamará";
const CALL_NOTE: &str = "señora con bebé en brazos";

/// A day at centro: A-003 called out of order with a note, served and finished with an outcome
/// that holds an ID number and a phone; A-001 cancelled with a reason; A-002 waiting.
async fn a_day_with_free_text(central: &common::TestCentral) -> SimEdge {
    let mut edge = SimEdge::new("centro");
    edge.issue(3);
    let counter = CounterId::new("1");
    let by = || Actor { agent: AgentId::new("ana"), supervisor: false };
    edge.run(Command::SignIn { counter: counter.clone(), by: by() });
    let number = "A-003".parse().expect("number");
    edge.run(Command::CallSpecific { counter: counter.clone(), by: by(), number, reason: CALL_NOTE.into() });
    edge.run(Command::Start { counter: counter.clone(), by: by() });
    edge.run(Command::Finish { counter, by: by(), outcome: OUTCOME.into() });
    let supervisor = Actor { agent: AgentId::new("sara"), supervisor: true };
    edge.run(Command::Cancel {
        number: "A-001".parse().expect("number"),
        reason: CANCEL_REASON.into(),
        by: supervisor,
    });
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;
    ws.close().await;
    edge
}

#[tokio::test]
async fn analysts_see_who_did_what_but_no_tracking_token_and_no_text_typed_at_the_counter() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let edge = a_day_with_free_text(&central).await;
    let (status, day) = central.day("centro", &edge.date()).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    let (status, queue) = central.get("/api/v1/offices/centro/queue", Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    for (what, answer) in [("the day", &day), ("the live queue", &queue)] {
        let keys = keys(answer);
        for field in ["token", "tracking_url", "outcome", "note"] {
            assert!(!keys.iter().any(|k| k == field), "{what} has a {field} field: {answer}");
        }
        let text = answer.to_string();
        for secret in ["30111222", "1155550000", "Juana", "bebé"] {
            assert!(!text.contains(secret), "{what} shows {secret:?} to an analyst: {text}");
        }
    }
    // What the audit needs is all there: who called whom, out of order, skipping whom.
    let call = &day["calls"][0];
    assert_eq!((call["agent"].as_str(), call["skipped"].as_array().map(Vec::len)), (Some("ana"), Some(2)));
    let statuses: Vec<&str> =
        day["tickets"].as_object().expect("tickets").values().filter_map(|t| t["status"].as_str()).collect();
    assert_eq!(statuses, ["cancelled", "waiting", "finished"]);
    central.stop().await;
}

#[tokio::test]
async fn administrators_also_read_the_reason_of_an_out_of_order_call_but_never_outcomes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let edge = a_day_with_free_text(&central).await;
    let (status, day) =
        central.get(&format!("/api/v1/offices/centro/days/{}", edge.date()), Some(HQ_ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(day["calls"][0]["note"], CALL_NOTE);
    let text = day.to_string();
    assert!(!text.contains("30111222") && !text.contains("Juana") && !text.contains("\"token\""), "{text}");
    central.stop().await;
}

#[tokio::test]
async fn an_edge_naming_a_day_far_in_the_past_or_future_is_closed_with_1008_and_nothing_is_held() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let edge = SimEdge::new("centro");
    // Central's date in these tests is the scenario's, 2026-11-29.
    for (doc, expected) in [
        ("branch/centro/day/2026-12-01", "in the future"),
        ("branch/centro/day/2099-01-01", "in the future"),
        ("branch/centro/day/2025-10-01", "more than 400 days old"),
        ("branch/centro/day/1970-01-01", "more than 400 days old"),
    ] {
        let mut ws = central.connect(CENTRO).await;
        // Together with today's, which is fine: the whole frame is refused.
        ws.send(&Frame::Docs { docs: vec![edge.doc_id(), doc.to_string()] }).await;
        let (code, reason) = ws.closed().await;
        assert_eq!(code, 1008, "{doc}: {reason}");
        assert!(reason.contains(expected), "{doc}: {reason:?}");
    }
    let docs = central.office("centro").await["docs"].clone();
    assert_eq!(docs, serde_json::json!([]), "no document was created");

    // Tomorrow (an office east of UTC) and a day after a long outage are fine.
    let mut ws = central.connect(CENTRO).await;
    let docs = vec!["branch/centro/day/2026-11-30".to_string(), "branch/centro/day/2026-01-15".to_string()];
    ws.send(&Frame::Docs { docs }).await;
    assert!(matches!(ws.frame().await, Frame::Sync { .. }), "central says hello");
    central.stop().await;
}

#[tokio::test]
async fn a_branch_token_used_by_two_boxes_raises_an_alert_instead_of_a_silent_fight() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    // A reconnect or two before central noticed the old connection was gone is normal.
    let mut norte = Vec::new();
    for _ in 0..3 {
        norte.push(central.connect(NORTE).await);
    }
    // Two boxes taking the connection from each other, over and over.
    let mut boxes = Vec::new();
    for _ in 0..7 {
        boxes.push(central.connect(CENTRO).await);
    }
    let centro = central.wait_for_office("centro", "alerting", |o| o["alerts"] != serde_json::json!([])).await;
    assert_eq!(centro["alerts"], serde_json::json!(["token_shared"]));
    assert_eq!(central.office("norte").await["alerts"], serde_json::json!([]));
    assert_eq!(central.metric("fila_central_connection_replacements_total{office=\"centro\"}").await, 6);
    assert_eq!(central.metric("fila_central_connection_replacements_total{office=\"norte\"}").await, 2);
    assert_eq!(central.metric("fila_central_offices_token_shared").await, 1);
    central.stop().await;
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    for (path, token) in [
        ("/dashboard", None),
        ("/dashboard/dashboard.js", None),
        ("/api/v1/offices", Some(HQ)),
        ("/api/v1/offices", None),
        ("/healthz", None),
        ("/nowhere", None),
    ] {
        let mut request = central.client.get(format!("{}{path}", central.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("sent");
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let policy = header("content-security-policy");
        assert!(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"), "{path}: {policy:?}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
    central.stop().await;
}
