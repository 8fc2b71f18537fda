//! An on-path attacker on a plain `ws://` link, or anyone holding a copy of the day and the
//! office's branch token, plays central to the edge and sends it a well-formed automerge change
//! that breaks the day: the sequence of service A pushed to 65535, so that the next A ticket
//! would overflow. The edge refuses and undoes it, counts it, and keeps numbering; `/healthz`
//! keeps answering. (Before issue 8 this stopped the office for good.)

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, ROOT};
use fila_protocol::doc::day::read_day;
use fila_protocol::sync::PeerSync;
use fila_protocol::wire::Frame;
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use tokio_tungstenite::tungstenite::Message;

/// Plays central: holds what the edge sends, and once the day holds `after` tickets, changes
/// the sequence of service A in its copy and syncs that back.
async fn hostile_central(listener: tokio::net::TcpListener, after: usize) {
    let mut docs: HashMap<String, (AutoCommit, PeerSync)> = HashMap::new();
    let mut attacked = false;
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { continue };
        while let Some(Ok(message)) = ws.next().await {
            let Message::Binary(bytes) = message else { continue };
            let Ok(frame) = Frame::decode(&bytes, "centro") else { break };
            let named = match frame {
                Frame::Docs { docs: ids } => {
                    for id in &ids {
                        docs.entry(id.clone()).or_insert_with(|| (AutoCommit::new(), PeerSync::new())).1.restart();
                    }
                    ids
                }
                Frame::Sync { doc, message } => {
                    let (copy, peer) = docs.entry(doc.clone()).or_insert_with(|| (AutoCommit::new(), PeerSync::new()));
                    let _ = peer.receive(copy, &message);
                    vec![doc]
                }
                Frame::Snapshot { doc, bytes } => {
                    let (copy, peer) = docs.entry(doc.clone()).or_insert_with(|| (AutoCommit::new(), PeerSync::new()));
                    let _ = peer.receive_snapshot(copy, &bytes);
                    vec![doc]
                }
            };
            let mut out = Vec::new();
            for id in named {
                let Some((copy, peer)) = docs.get_mut(&id) else { continue };
                let tickets = read_day(copy).map(|day| day.tickets.len()).unwrap_or(0);
                if id.contains("/day/") && tickets >= after && !attacked {
                    if let Ok(Some((automerge::Value::Object(ObjType::Map), sequences))) = copy.get(ROOT, "sequences") {
                        copy.put(&sequences, "A", 65_535_i64).expect("the attacker edits its copy");
                        copy.commit();
                        attacked = true;
                    }
                }
                while let Some(message) = peer.generate(copy) {
                    out.push(Frame::Sync { doc: id.clone(), message }.encode());
                }
            }
            for frame in out {
                if ws.send(Message::Binary(frame.into())).await.is_err() {
                    break;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_pushing_a_sequence_to_65535_is_refused_and_the_office_keeps_numbering() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let attacker = tokio::spawn(hostile_central(listener, 3));
    let dir = tempfile::tempdir().expect("temp dir");
    let edge = common::spawn_with_central(dir.path(), &format!("ws://127.0.0.1:{port}/api/v1/sync")).await;

    // The box has no records: it waits until "central" has answered, then numbers.
    let began = Instant::now();
    let mut numbers = Vec::new();
    while numbers.len() < 3 {
        let (status, body) =
            edge.post("/api/v1/tickets", Some(common::KIOSK), serde_json::json!({"service": "general"})).await;
        match status {
            StatusCode::CREATED => numbers.push(body["number"].as_str().expect("number").to_string()),
            _ => assert_eq!(body["error"], "recovering", "{body}"),
        }
        assert!(began.elapsed() < Duration::from_secs(20), "the edge never issued");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(numbers, ["A-001", "A-002", "A-003"]);

    // The tampered change arrives and is refused.
    let began = Instant::now();
    loop {
        let text = edge
            .client
            .get(format!("{}/metrics", edge.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        let refused = text
            .lines()
            .find_map(|line| line.strip_prefix("fila_edge_sync_refused_total "))
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0);
        if refused >= 1.0 {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(20), "the edge never received the tampered change:\n{text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let (status, health) = edge.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    assert_eq!(edge.issue("general").await["number"], "A-004", "numbering goes on from A-003");
    attacker.abort();
    edge.stop().await;
}
