//! Who may do what: branch tokens open only their own office's documents over the sync socket;
//! analyst tokens open the HQ read API; health and metrics are public.

mod common;

use common::{SimEdge, CENTRO, HQ, NORTE};
use fila_protocol::wire::Frame;
use reqwest::StatusCode;

#[tokio::test]
async fn the_sync_socket_refuses_a_missing_or_unknown_branch_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    assert_eq!(central.refused(None).await, 401);
    assert_eq!(central.refused(Some("not-a-token")).await, 401);
    assert_eq!(central.refused(Some(HQ)).await, 401, "an analyst token is not a branch token");

    let response = central.client.get(central.ws_url.replace("ws://", "http://")).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"], "unauthorized", "{body}");

    let response =
        central.client.get(central.ws_url.replace("ws://", "http://")).bearer_auth(CENTRO).send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a plain GET with a good token is not a WebSocket");
    assert_eq!(central.office("centro").await["online"], false);
    central.stop().await;
}

#[tokio::test]
async fn a_branch_token_cannot_touch_another_office_documents() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let norte = SimEdge::new("norte");

    let mut ws = central.connect(CENTRO).await;
    ws.send(&Frame::Docs { docs: vec![norte.doc_id()] }).await;
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("does not belong to office \"centro\""), "{reason}");

    // Nor by naming its own document and then syncing norte's.
    let mut ws = central.connect(CENTRO).await;
    let mut norte = SimEdge::new("norte");
    norte.issue(1);
    let message = norte.peer.generate(&mut norte.doc).expect("a first message");
    ws.send(&Frame::Docs { docs: vec![SimEdge::new("centro").doc_id()] }).await;
    ws.send(&Frame::Sync { doc: norte.doc_id(), message }).await;
    assert_eq!(ws.closed().await.0, 1008);

    assert_eq!(central.office("norte").await["docs"], serde_json::json!([]));
    let (status, body) = central.day("norte", &norte.date()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(central.metric("fila_central_frames_rejected_total").await, 2);

    // Norte's own token does it.
    let mut ws = central.connect(NORTE).await;
    norte.peer = fila_protocol::sync::PeerSync::new();
    norte.sync(&mut ws).await;
    assert_eq!(central.day("norte", &norte.date()).await.1, norte.day_json());
    central.stop().await;
}

#[tokio::test]
async fn the_hq_api_refuses_branch_and_unknown_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    for path in ["/api/v1/offices", "/api/v1/offices/centro/days/2026-11-29"] {
        for token in [None, Some(CENTRO), Some("not-a-token")] {
            let (status, body) = central.get(path, token).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {token:?}: {body}");
            assert_eq!(body["error"], "unauthorized");
            assert!(body["message"].is_string());
        }
    }
    let (status, health) = central.get("/healthz", None).await;
    assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));
    let metrics = central.metrics().await;
    assert!(metrics.contains("# TYPE fila_central_sync_frames_total counter"), "{metrics}");
    central.stop().await;
}

#[tokio::test]
async fn the_day_api_answers_400_for_a_bad_date_and_404_for_what_central_does_not_hold() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let (status, body) = central.day("centro", "2026-13-01").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_date")), "{body}");
    let (status, body) = central.day("centro", "2026-11-29").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    let (status, body) = central.day("sur", "2026-11-29").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");
    let (status, body) = central.get("/api/v1/nothing", Some(HQ)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{body}");

    // A document named but never filled is not a day central holds.
    let mut ws = central.connect(CENTRO).await;
    ws.send(&Frame::Docs { docs: vec!["branch/centro/day/2026-11-30".into()] }).await;
    assert!(matches!(ws.frame().await, Frame::Sync { .. }));
    let (status, body) = central.day("centro", "2026-11-30").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(central.office("centro").await["docs"], serde_json::json!([]));
    central.stop().await;
}
