//! History is append-only at central: whoever holds an office's branch token (the office's own
//! box, a stolen token, an on-path attacker) cannot delete or rewrite what the day recorded.
//! Central compares the effect of every change it receives with the day it held before; a
//! change that deletes a call or rewrites a ticket is refused (close 1008), counted, and
//! nothing of it is stored, so headquarters' reports stay evidence.

mod common;

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc, ROOT};
use common::{SimEdge, CENTRO};
use fila_protocol::office::{Actor, Command};
use fila_protocol::wire::Frame;
use fila_protocol::{AgentId, CounterId, TicketNumber};
use reqwest::StatusCode;
use serde_json::Value;

/// A day with three calls, one of them out of order, synced to central.
fn busy_edge() -> SimEdge {
    let mut edge = SimEdge::new("centro");
    let ana = Actor { agent: AgentId::new("ana"), supervisor: false };
    let counter = CounterId::new("1");
    edge.run(Command::SignIn { counter: counter.clone(), by: ana.clone() });
    edge.issue(4);
    for _ in 0..2 {
        edge.run(Command::CallNext { counter: counter.clone(), by: ana.clone() });
        edge.run(Command::Finish { counter: counter.clone(), by: ana.clone(), outcome: String::new() });
    }
    let number = TicketNumber { prefix: 'A', seq: 4 };
    let reason = "trámite urgente".to_string();
    edge.run(Command::CallSpecific { counter, by: ana, number, reason });
    edge
}

/// A busy edge whose day central holds; its next sync starts afresh, as a new connection does.
async fn synced(central: &common::TestCentral) -> SimEdge {
    let mut edge = busy_edge();
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;
    ws.close().await;
    edge
}

/// Push the attacker's edit of its copy; central must close with 1008. The close reason.
async fn refused(central: &common::TestCentral, edge: &mut SimEdge) -> String {
    edge.doc.commit();
    edge.peer.restart();
    let mut ws = central.connect(CENTRO).await;
    match push(edge, &mut ws).await {
        common::Incoming::Closed(Some((code, reason))) => {
            assert_eq!(code, 1008, "{reason}");
            reason
        }
        other => panic!("central accepted the change: {other:?}"),
    }
}

/// What headquarters sees of the day: the day itself, its KPIs and its deviations.
async fn reports(central: &common::TestCentral, date: &str) -> (Value, Value) {
    let (status, day) = central.day("centro", date).await;
    assert_eq!(status, StatusCode::OK, "{day}");
    let (status, kpis) = central.get(&format!("/api/v1/kpis?office=centro&from={date}"), Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK, "{kpis}");
    (day, kpis)
}

/// Send every change of `edge`'s document that central lacks; central's answer after it.
async fn push(edge: &mut SimEdge, ws: &mut common::Ws) -> common::Incoming {
    let doc = edge.doc_id();
    ws.send(&Frame::Docs { docs: vec![doc.clone()] }).await;
    for _ in 0..20 {
        while let Some(message) = edge.peer.generate(&mut edge.doc) {
            ws.send(&Frame::Sync { doc: doc.clone(), message }).await;
        }
        match ws.next().await {
            common::Incoming::Frame(Frame::Sync { message, .. }) => {
                edge.peer.receive(&mut edge.doc, &message).expect("central's message applies");
            }
            other => return other,
        }
    }
    panic!("central neither accepted nor refused");
}

fn map(doc: &automerge::AutoCommit, key: &str) -> automerge::ObjId {
    match doc.get(ROOT, key) {
        Ok(Some((automerge::Value::Object(ObjType::Map), id))) => id,
        other => panic!("{key} is not a map: {other:?}"),
    }
}

#[tokio::test]
async fn deleting_every_call_of_a_day_with_the_offices_own_token_is_refused_and_reports_stay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = synced(&central).await;
    let date = edge.date();
    let before = reports(&central, &date).await;
    assert_eq!(before.0["calls"].as_array().map(Vec::len), Some(3), "{}", before.0);

    // The attacker holds the office's token and a copy of its day: delete every call.
    let calls = map(&edge.doc, "calls");
    let keys: Vec<String> = edge.doc.keys(&calls).collect();
    for key in keys {
        edge.doc.delete(&calls, key.as_str()).expect("delete");
    }
    let reason = refused(&central, &mut edge).await;
    assert!(reason.contains("call"), "the reason names what was refused: {reason}");
    assert_eq!(central.metric("fila_central_changes_refused_total").await, 1);
    assert_eq!(reports(&central, &date).await, before, "headquarters' reports are unchanged");

    // Nothing of it was stored: a restarted central still holds every call.
    central.stop().await;
    let central = common::spawn(dir.path()).await;
    assert_eq!(reports(&central, &date).await, before);
    central.stop().await;
}

#[tokio::test]
async fn a_sequence_pushed_past_its_limit_is_refused_at_central() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = synced(&central).await;
    let sequences = map(&edge.doc, "sequences");
    edge.doc.put(&sequences, "A", 65_535_i64).expect("put");
    let reason = refused(&central, &mut edge).await;
    assert!(reason.contains("sequence A"), "{reason}");
    let (_, day) = central.day("centro", &edge.date()).await;
    assert_eq!(day["sequences"]["A"], 4, "{day}");
    central.stop().await;
}

#[tokio::test]
async fn rewriting_a_closed_ticket_or_who_issued_one_is_refused_at_central() {
    for (ticket, field, value) in [("000001", "outcome", "nunca vino"), ("000003", "issuer", "staff:sara")] {
        let dir = tempfile::tempdir().expect("temp dir");
        let central = common::spawn(dir.path()).await;
        let mut edge = synced(&central).await;
        let tickets = map(&edge.doc, "tickets");
        let Ok(Some((_, obj))) = edge.doc.get(&tickets, ticket) else { panic!("ticket {ticket}") };
        edge.doc.put(&obj, field, value).expect("put");
        let reason = refused(&central, &mut edge).await;
        assert!(reason.contains(field) || reason.contains("closed"), "{field}: {reason}");
        central.stop().await;
    }
}
