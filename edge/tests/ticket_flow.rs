//! A citizen's ticket through the office, over the real HTTP API.

mod common;

use common::{manual_clock, spawn, spawn_with_clock, KIOSK};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_ticket_goes_from_kiosk_to_counter_to_finished() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let ticket = edge.issue("general").await;
    assert_eq!(ticket["number"], "A-001");
    assert_eq!(ticket["people_ahead"], 0);
    let token = ticket["token"].as_str().expect("tracking token").to_string();

    let ana = edge.at_counter("ana", "1").await;
    let (status, call) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{call}");
    assert_eq!(call["number"], "A-001");
    assert_eq!(call["reason"], "first_come_first_served");
    assert_eq!(call["counter_name"], "Puesto 1");

    let (_, tracked) = edge.get(&format!("/api/v1/track/{token}"), None).await;
    assert_eq!(tracked["status"], "called");
    assert_eq!(tracked["counter_name"], "Puesto 1");
    assert!(tracked.get("token").is_none(), "the tracking page does not echo the token");

    let (status, started) = edge.act(&ana, "1", "start", json!({})).await;
    assert_eq!((status, started["status"].as_str()), (StatusCode::OK, Some("serving")));
    let (status, finished) = edge.act(&ana, "1", "finish", json!({ "outcome": "trámite completo" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(finished["status"], "finished");
    assert_eq!(finished["outcome"], "trámite completo");
    edge.stop().await;
}

#[tokio::test]
async fn the_queue_shows_waiting_tickets_in_call_order_with_positions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    edge.issue("general").await;
    let (status, preferential) =
        edge.post("/api/v1/tickets", Some(KIOSK), json!({ "service": "general", "category": "adulto_mayor" })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(preferential["people_ahead"], 0, "preferential goes ahead of the normal ticket");
    let sara = edge.login("sara").await;
    let (status, queue) = edge.get("/api/v1/queue", Some(&sara)).await;
    assert_eq!(status, StatusCode::OK);
    let order: Vec<&str> =
        queue["waiting"].as_array().expect("list").iter().map(|t| t["number"].as_str().expect("n")).collect();
    assert_eq!(order, ["A-002", "A-001"]);
    edge.stop().await;
}

#[tokio::test]
async fn an_out_of_order_call_is_recorded_with_reason_and_skipped_tickets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    for _ in 0..3 {
        edge.issue("general").await;
    }
    let ana = edge.at_counter("ana", "2").await;
    let (status, call) = edge
        .act(&ana, "2", "call", json!({ "number": "A-003", "reason": "turno reasignado por error de la máquina" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{call}");
    assert_eq!(call["out_of_order"], true);
    assert_eq!(call["skipped"], json!(["A-001", "A-002"]));
    let sara = edge.login("sara").await;
    let (_, deviations) = edge.get("/api/v1/deviations", Some(&sara)).await;
    assert_eq!(deviations[0]["agent"], "ana");
    assert_eq!(deviations[0]["note"], "turno reasignado por error de la máquina");
    edge.stop().await;
}

#[tokio::test]
async fn a_restarted_edge_has_every_ticket_and_continues_the_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    edge.issue("general").await;
    edge.issue("pagos").await;
    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    edge.stop().await;

    let edge = spawn(dir.path()).await;
    assert_eq!(edge.tickets_today().await, 2);
    let sara = edge.login("sara").await;
    let (_, queue) = edge.get("/api/v1/queue", Some(&sara)).await;
    assert_eq!(queue["counters"][0]["current"]["number"], "A-001", "the call survived the restart");
    assert_eq!(edge.issue("general").await["number"], "A-002");
    edge.stop().await;
}

#[tokio::test]
async fn numbering_restarts_after_local_midnight() {
    let dir = tempfile::tempdir().expect("temp dir");
    // 2026-11-29 23:59:00 in Buenos Aires (UTC-3) is 02:59 UTC on the 30th.
    let (clock, now) = manual_clock(1_796_007_540_000);
    let edge = spawn_with_clock(dir.path(), clock).await;
    assert_eq!(edge.issue("general").await["number"], "A-001");
    assert_eq!(edge.issue("general").await["number"], "A-002");
    now.store(1_796_007_660_000, std::sync::atomic::Ordering::SeqCst); // 00:01 on the 30th
    let first = edge.issue("general").await;
    assert_eq!(first["number"], "A-001");
    let (_, office) = edge.get("/api/v1/office", None).await;
    assert_eq!(office["day"], "2026-11-30");
    edge.stop().await;
}

#[tokio::test]
async fn screens_hear_calls_on_the_event_stream() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let mut stream = edge.client.get(format!("{}/api/v1/events", edge.base)).send().await.expect("stream");
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    edge.issue("general").await;
    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !seen.contains("event: called") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk()).await.expect("an event in time").expect("read");
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("stream open")));
    }
    assert!(seen.contains("event: issued"), "{seen}");
    let called = seen.split("event: called\ndata: ").nth(1).expect("called").lines().next().expect("data");
    let called: serde_json::Value = serde_json::from_str(called).expect("json");
    assert_eq!((called["number"].as_str(), called["counter_name"].as_str()), (Some("A-001"), Some("Puesto 1")));
    assert!(!seen.contains("\"token\""), "no tracking token on the public stream");
    edge.stop().await;
}

#[tokio::test]
async fn the_api_describes_itself_in_openapi() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    let (status, doc) = edge.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    for path in ["/api/v1/tickets", "/api/v1/counters/{id}/call-next", "/api/v1/track/{token}", "/api/v1/events"] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    edge.stop().await;
}

#[tokio::test]
async fn with_central_unreachable_the_office_serves_as_usual() {
    let dir = tempfile::tempdir().expect("temp dir");
    // An office that has been working (its box holds its records)...
    let edge = spawn(dir.path()).await;
    assert_eq!(edge.issue("general").await["number"], "A-001");
    edge.stop().await;
    // ...loses its link to central: it serves as usual.
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let edge = common::spawn_with_central(dir.path(), &format!("ws://127.0.0.1:{nobody}/api/v1/sync")).await;
    assert_eq!(edge.issue("general").await["number"], "A-002");
    let ana = edge.at_counter("ana", "1").await;
    let (status, _) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, health) = edge.get("/healthz", None).await;
    assert_eq!(health["central"]["connected"], false);
    edge.stop().await;
}

#[tokio::test]
async fn a_box_with_no_records_and_central_unreachable_says_it_is_recovering_and_issues_nothing() {
    // A replaced box (or a wiped disk) cannot know the day's numbers until central answers.
    let dir = tempfile::tempdir().expect("temp dir");
    let nobody = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let edge = common::spawn_with_central(dir.path(), &format!("ws://127.0.0.1:{nobody}/api/v1/sync")).await;
    let (status, body) = edge.post("/api/v1/tickets", Some(KIOSK), json!({"service": "general"})).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("recovering")), "{body}");
    let (status, _) = edge.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "the box answers its health check while it waits");
    let supervisor = edge.login("sara").await;
    let (_, queue) = edge.get("/api/v1/queue", Some(&supervisor)).await;
    assert!(queue["alerts"].as_array().expect("alerts").iter().any(|a| a["kind"] == "recovering"), "{queue}");
    edge.stop().await;
}

#[tokio::test]
async fn prometheus_sees_the_queue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = spawn(dir.path()).await;
    edge.issue("general").await;
    edge.issue("general").await;
    let text =
        edge.client.get(format!("{}/metrics", edge.base)).send().await.expect("metrics").text().await.expect("text");
    assert!(text.contains("# TYPE fila_edge_tickets_waiting gauge"), "{text}");
    assert!(text.contains("fila_edge_tickets_waiting{service=\"general\"} 2"), "{text}");
    assert!(text.contains("fila_edge_tickets_issued{service=\"general\"} 2"), "{text}");
    edge.stop().await;
}
