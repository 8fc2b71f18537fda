//! Untrusted frames: each bad one closes its connection with 1008 and changes nothing stored;
//! a replayed one is harmless; central keeps serving everyone else throughout.

mod common;

use automerge::AutoCommit;
use common::{SimEdge, CENTRO, NORTE};
use fila_protocol::limits::FRAME_BYTES_MAX;
use fila_protocol::sync::PeerSync;
use fila_protocol::wire::{Frame, WIRE_VERSION};
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;

/// Deterministic noise (xorshift), so a failure replays.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// A sync message from `edge` that brings `central` changes it lacks.
fn carrying_changes(edge: &mut AutoCommit, central: &mut AutoCommit) -> Vec<u8> {
    let (mut ours, mut theirs) = (PeerSync::new(), PeerSync::new());
    let hello = ours.generate(edge).expect("edge hello");
    theirs.receive(central, &hello).expect("applies");
    let answer = theirs.generate(central).expect("central answer");
    ours.receive(edge, &answer).expect("applies");
    let message = ours.generate(edge).expect("the changes");
    let mut probe = central.fork();
    assert_eq!(PeerSync::new().receive(&mut probe, &message).ok(), Some(true), "the message changes the document");
    message
}

#[tokio::test]
async fn bad_frames_close_the_connection_with_1008_and_change_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = SimEdge::new("centro");
    edge.issue(3);
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;
    ws.close().await;
    let doc = edge.doc_id();
    let heads = central.heads(CENTRO, &doc).await;
    assert_eq!(heads, edge.doc.get_heads());
    let day = central.day("centro", &edge.date()).await.1;

    // Another office stays connected through all of this.
    let mut norte = SimEdge::new("norte");
    norte.issue(1);
    let mut norte_ws = central.connect(NORTE).await;

    // A valid frame carrying a new ticket, to be mangled: the edge's third message of a
    // handshake with a copy of what central holds.
    let mut central_copy = edge.doc.fork();
    edge.issue(1);
    let message = carrying_changes(&mut edge.doc, &mut central_copy);
    let valid = Frame::Sync { doc: doc.clone(), message }.encode();
    let mut garbage = noise(4096, 0x5eed);
    garbage[0] = WIRE_VERSION;
    let mut wrong_version = valid.clone();
    wrong_version[0] = WIRE_VERSION + 1;
    let mut oversized = vec![0u8; FRAME_BYTES_MAX + 1];
    oversized[0] = WIRE_VERSION;
    let bad_sync = Frame::Sync { doc: doc.clone(), message: noise(64, 7) }.encode();

    let cases: Vec<(&str, bool, Vec<u8>, &str)> = vec![
        ("garbage", true, garbage, "does not decode"),
        ("a truncated frame", true, valid[..valid.len() / 2].to_vec(), "does not decode"),
        ("an oversized frame", true, oversized, "over the 8388608-byte limit"),
        ("a frame of another wire version", true, wrong_version, "wire version 2"),
        ("an empty message", true, Vec::new(), "frame is empty"),
        ("a sync frame for a document not named first", false, valid.clone(), "was not named"),
        ("a sync message that does not decode", true, bad_sync, "sync message does not decode"),
    ];
    for (n, (what, announce, bytes, expected)) in cases.into_iter().enumerate() {
        let mut ws = central.connect(CENTRO).await;
        if announce {
            ws.send(&Frame::Docs { docs: vec![doc.clone()] }).await;
            assert!(matches!(ws.frame().await, Frame::Sync { .. }), "{what}: central says hello");
        }
        ws.send_bytes(bytes).await;
        let (code, reason) = ws.closed().await;
        assert_eq!(code, 1008, "{what}: {reason}");
        assert!(reason.contains(expected), "{what}: {reason:?} should say {expected:?}");
        assert_eq!(central.metric("fila_central_frames_rejected_total").await, n as u64 + 1, "{what}");
    }

    let mut ws = central.connect(CENTRO).await;
    ws.stream.send(Message::Text("hello".into())).await.expect("sent");
    assert_eq!(ws.closed().await.0, 1008, "text messages are refused too");

    assert_eq!(central.heads(CENTRO, &doc).await, heads, "nothing refused reached the document");
    assert_eq!(central.day("centro", &edge.date()).await.1, day);

    norte.sync(&mut norte_ws).await;
    assert_eq!(central.day("norte", &norte.date()).await.1, norte.day_json());
    assert_eq!(central.office("norte").await["online"], true);

    // And centro itself syncs normally afterwards.
    let mut ws = central.connect(CENTRO).await;
    edge.peer = PeerSync::new();
    edge.sync(&mut ws).await;
    assert_eq!(central.day("centro", &edge.date()).await.1, edge.day_json());
    central.stop().await;
}

#[tokio::test]
async fn a_replayed_sync_frame_is_harmless() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = SimEdge::new("centro");
    edge.issue(4);
    let mut ws = central.connect(CENTRO).await;
    let sent = edge.sync(&mut ws).await;
    let heads = edge.doc.get_heads();

    // Every frame of that sync again, on the same connection and on a new one.
    for frame in &sent.frames {
        ws.send_bytes(frame.clone()).await;
    }
    ws.close().await;
    let mut ws = central.connect(CENTRO).await;
    ws.send(&Frame::Docs { docs: vec![edge.doc_id()] }).await;
    for frame in &sent.frames {
        ws.send_bytes(frame.clone()).await;
    }
    // Still open: a fresh sync on it completes.
    edge.peer = PeerSync::new();
    edge.issue(1);
    edge.sync(&mut ws).await;
    ws.close().await;

    assert_eq!(central.day("centro", &edge.date()).await.1, edge.day_json());
    assert_ne!(edge.doc.get_heads(), heads);
    assert_eq!(central.heads(CENTRO, &edge.doc_id()).await, edge.doc.get_heads());
    assert_eq!(central.metric("fila_central_frames_rejected_total").await, 0);
    central.stop().await;
}

#[tokio::test]
async fn a_connection_may_not_name_more_documents_than_one_frame_may_list() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let edge = SimEdge::new("centro");
    let today = jiff::civil::Date::strptime("%Y-%m-%d", edge.date()).expect("date");
    let day = |back: i64| {
        let date = today.checked_sub(jiff::Span::new().days(back)).expect("date");
        format!("branch/centro/day/{date}")
    };
    let max = fila_protocol::limits::SYNC_DOCS_MAX as i64;
    let mut ws = central.connect(CENTRO).await;
    ws.send(&Frame::Docs { docs: (0..max).map(day).collect() }).await;
    // Each named document is held while the connection lasts: a second list is one too many.
    ws.send(&Frame::Docs { docs: vec![day(max)] }).await;
    let (code, reason) = loop {
        match ws.next().await {
            common::Incoming::Frame(_) => continue,
            common::Incoming::Closed(Some(closed)) => break closed,
            common::Incoming::Closed(None) => panic!("closed without a reason"),
        }
    };
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("more than 64 documents"), "{reason}");
    central.stop().await;
}
