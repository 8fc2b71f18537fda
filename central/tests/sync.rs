//! An edge's day reaches central over the sync WebSocket, survives a restart of central, and a
//! reconnect sends only what is missing.

mod common;

use std::time::Duration;

use common::{SimEdge, CENTRO, HQ};
use reqwest::StatusCode;

#[tokio::test]
async fn an_edge_day_reaches_central_and_the_office_shows_online_then_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = SimEdge::new("centro");
    edge.issue(5);

    let mut ws = central.connect(CENTRO).await;
    let online = central.wait_for_office("centro", "online", |o| o["online"] == true).await;
    assert!(online["last_seen"].is_i64(), "{online}");
    edge.sync(&mut ws).await;

    let (status, day) = central.day("centro", &edge.date()).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    assert_eq!(day, edge.day_json());
    let office = central.office("centro").await;
    assert_eq!(office["name"], "Oficina Centro");
    assert_eq!(office["docs"], serde_json::json!([edge.doc_id()]));
    let norte = central.office("norte").await;
    assert_eq!((norte["online"].as_bool(), norte["last_seen"].is_null()), (Some(false), true), "{norte}");

    let (_, health) = central.get("/healthz", None).await;
    assert_eq!(health, serde_json::json!({ "status": "ok", "offices": 2, "online": 1 }));
    assert_eq!(central.metric("fila_central_offices_online").await, 1);
    assert_eq!(central.metric("fila_central_offices_configured").await, 2);
    assert_eq!(central.metric("fila_central_docs_held").await, 1);
    assert!(central.metric("fila_central_sync_frames_total{direction=\"in\"}").await >= 2);
    assert!(central.metric("fila_central_sync_frames_total{direction=\"out\"}").await >= 2);
    assert_eq!(central.metric("fila_central_frames_rejected_total").await, 0);

    ws.close().await;
    let offline = central.wait_for_office("centro", "offline", |o| o["online"] == false).await;
    assert!(offline["last_seen"].as_i64() >= online["last_seen"].as_i64(), "{offline}");
    central.stop().await;
}

#[tokio::test]
async fn central_restarted_on_its_data_keeps_the_day_and_a_reconnect_sends_only_what_is_missing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = SimEdge::new("centro");
    edge.issue(300);
    let mut ws = central.connect(CENTRO).await;
    let first = edge.sync(&mut ws).await;
    ws.close().await;
    central.stop().await;

    let central = common::spawn(dir.path()).await;
    let (status, day) = central.day("centro", &edge.date()).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    assert_eq!(day, edge.day_json(), "central serves the day it stored before the restart");
    assert_eq!(central.office("centro").await["docs"], serde_json::json!([edge.doc_id()]));

    // The edge restarts too, with the sync state it persisted, and has issued more meanwhile.
    edge.peer = fila_protocol::sync::PeerSync::restore(&edge.peer.persist()).expect("state restores");
    edge.issue(2);
    let mut ws = central.connect(CENTRO).await;
    let again = edge.sync(&mut ws).await;
    ws.close().await;
    println!("first sync {} bytes, reconnect {} bytes", first.message_bytes, again.message_bytes);

    let (_, day) = central.day("centro", &edge.date()).await;
    assert_eq!(day, edge.day_json());
    assert_eq!(day["tickets"].as_object().map(|t| t.len()), Some(302));
    assert!(
        again.message_bytes * 8 < first.message_bytes,
        "the reconnect sent {} bytes, the first sync {}",
        again.message_bytes,
        first.message_bytes
    );
    central.stop().await;
}

#[tokio::test]
async fn a_newer_connection_of_an_office_replaces_the_older_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut older = central.connect(CENTRO).await;
    let mut edge = SimEdge::new("centro");
    edge.issue(1);
    edge.sync(&mut older).await;

    let mut newer = central.connect(CENTRO).await;
    let (code, reason) = older.closed().await;
    assert_eq!(code, 1000, "{reason}");
    assert!(reason.contains("replaced"), "{reason}");

    // The newer connection carries on where the older one stopped.
    edge.peer.restart();
    edge.issue(1);
    edge.sync(&mut newer).await;
    assert_eq!(central.day("centro", &edge.date()).await.1, edge.day_json());
    let office = central.wait_for_office("centro", "down to one connection", |o| o["online"] == true).await;
    assert_eq!(office["online"], true, "the older connection's end leaves the office online");

    newer.close().await;
    central.wait_for_office("centro", "offline", |o| o["online"] == false).await;
    central.stop().await;
}

#[tokio::test]
async fn a_silent_edge_is_dropped_and_marked_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = common::settings(dir.path());
    settings.heartbeat.ping_every = Duration::from_millis(100);
    settings.heartbeat.silent_max = Duration::from_millis(1000);
    let central = common::spawn_with(settings).await;

    // A client that never reads never answers the pings.
    let mut ws = central.connect(CENTRO).await;
    central.wait_for_office("centro", "online", |o| o["online"] == true).await;
    central.wait_for_office("centro", "offline after its silence", |o| o["online"] == false).await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1001, "{reason}");

    // An edge that answers pings stays connected well past the silence limit.
    let mut ws = central.connect(CENTRO).await;
    let reader = tokio::spawn(async move {
        let closed = ws.closed().await;
        panic!("an edge that answers pings was closed: {closed:?}");
    });
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(central.office("centro").await["online"], true);
    }
    reader.abort();
    central.stop().await;
}

#[tokio::test]
async fn stopping_central_closes_edge_connections_as_going_away() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut ws = central.connect(CENTRO).await;
    central.wait_for_office("centro", "online", |o| o["online"] == true).await;
    let (_, offices) = central.get("/api/v1/offices", Some(HQ)).await;
    assert_eq!(offices.as_array().map(Vec::len), Some(2));
    let stopped = tokio::spawn(central.stop());
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1001, "{reason}");
    tokio::time::timeout(common::PATIENCE, stopped).await.expect("central stops promptly").expect("stopped");
}

#[tokio::test]
async fn a_stop_through_the_server_handle_still_ends_edge_connections_and_keeps_the_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = SimEdge::new("centro");
    edge.issue(2);
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;
    let stopped = tokio::spawn(central.stop_server());
    ws.ended().await;
    tokio::time::timeout(common::PATIENCE, stopped).await.expect("central stops in time").expect("stopped");

    let central = common::spawn(dir.path()).await;
    assert_eq!(central.day("centro", &edge.date()).await.1, edge.day_json());
    central.stop().await;
}
