//! What an office does with changes a peer sends it: the attacks of issue 8, run against the
//! core. A peer here is whoever holds a copy of the day and the office's sync link (central, or
//! anyone with the branch token): it edits its copy with plain automerge and syncs it back.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ReadDoc, ROOT};
use fila_protocol::config::{OfficeConfig, RawOfficeConfig};
use fila_protocol::doc::day::read_day;
use fila_protocol::office::{Actor, Command, Office, Priority, Reply};
use fila_protocol::sync::{Outgoing, PeerSync};
use fila_protocol::{AgentId, CounterId, Rejection, ServiceId, Timestamp, Who};
use proptest::prelude::*;

const T0: Timestamp = Timestamp(1_795_953_600_000); // 2026-11-29 09:00 in Buenos Aires

fn config() -> OfficeConfig {
    RawOfficeConfig::parse_toml(
        r#"
        [office]
        id = "centro"
        name = "Centro"
        time_zone = "America/Argentina/Buenos_Aires"
        [[services]]
        id = "general"
        name = "General"
        prefix = "A"
        [[counters]]
        id = "1"
        name = "Ventanilla 1"
        services = ["general"]
        "#,
    )
    .expect("config is valid")
}

fn issue(office: &mut Office, at: Timestamp) -> Result<String, Rejection> {
    let token = format!("tok{}", office.day().tickets.len() + 1);
    let command = Command::Issue {
        service: ServiceId::new("general"),
        priority: Priority::Normal,
        issuer: Who::Kiosk("entrada".into()),
        token,
    };
    match office.handle_command(at, command)? {
        Reply::Ticket(ticket) => Ok(ticket.number.to_string()),
        other => panic!("issue replied {other:?}"),
    }
}

fn ana() -> Actor {
    Actor { agent: AgentId::new("ana"), supervisor: false }
}

/// An office with `tickets` issued and `calls` of them called and finished at counter 1.
fn busy_office(tickets: usize, calls: usize) -> Office {
    let mut office = Office::restore(config(), b"edge-1".to_vec(), T0, &[]).expect("office");
    office.handle_command(T0, Command::SignIn { counter: CounterId::new("1"), by: ana() }).expect("signed in");
    for _ in 0..tickets {
        issue(&mut office, T0).expect("issued");
    }
    for _ in 0..calls {
        let counter = CounterId::new("1");
        office.handle_command(T0, Command::CallNext { counter: counter.clone(), by: ana() }).expect("called");
        let finish = Command::Finish { counter, by: ana(), outcome: String::new() };
        office.handle_command(T0, finish).expect("finished");
    }
    while office.poll_persist().is_some() {}
    office
}

/// Run the sync protocol between the office and a peer's copy until both are quiet. Returns
/// the first refusal the office gave, if any.
fn sync(office: &mut Office, ours: &mut PeerSync, peer: &mut AutoCommit, theirs: &mut PeerSync) -> Option<String> {
    for _ in 0..50 {
        let to_peer = office.sync_generate(ours);
        let to_office = theirs.generate(peer);
        if to_peer.is_none() && to_office.is_none() {
            return None;
        }
        match to_peer {
            Some(Outgoing::Message(m)) => {
                theirs.receive(peer, &m).expect("the peer applies the office's message");
            }
            Some(Outgoing::Snapshot(bytes)) => {
                theirs.receive_snapshot(peer, &bytes).expect("the peer loads the snapshot");
            }
            None => {}
        }
        if let Some(m) = to_office {
            if let Err(error) = office.sync_receive(ours, &m) {
                return Some(error.to_string());
            }
            office.catch_up(ours);
        }
    }
    panic!("sync did not settle");
}

/// The office's day as a peer holds it after a full sync.
fn peer_copy(office: &mut Office) -> (AutoCommit, PeerSync, PeerSync) {
    let (mut peer, mut ours, mut theirs) = (AutoCommit::new(), PeerSync::new(), PeerSync::new());
    assert_eq!(sync(office, &mut ours, &mut peer, &mut theirs), None);
    (peer, ours, theirs)
}

fn map(doc: &AutoCommit, key: &str) -> automerge::ObjId {
    match doc.get(ROOT, key) {
        Ok(Some((automerge::Value::Object(ObjType::Map), id))) => id,
        other => panic!("{key} is not a map: {other:?}"),
    }
}

#[test]
fn a_sequence_pushed_to_65535_is_refused_and_the_office_keeps_numbering() {
    let mut office = busy_office(3, 0);
    let (mut peer, mut ours, mut theirs) = peer_copy(&mut office);
    let sequences = map(&peer, "sequences");
    peer.put(&sequences, "A", 65_535_i64).expect("put");
    peer.commit();

    let refusal = sync(&mut office, &mut ours, &mut peer, &mut theirs).expect("the office refuses the change");
    assert!(refusal.contains("sequence A"), "{refusal}");
    assert_eq!(office.day().sequences[&'A'], 3, "the change was undone");
    assert_eq!(office.day().check(), Ok(()));
    assert_eq!(issue(&mut office, T0).as_deref(), Ok("A-004"), "the next ticket follows A-003");
}

#[test]
fn deleting_every_call_of_the_day_is_refused() {
    let mut office = busy_office(4, 3);
    let (mut peer, mut ours, mut theirs) = peer_copy(&mut office);
    let calls = map(&peer, "calls");
    let keys: Vec<String> = peer.keys(&calls).collect();
    assert_eq!(keys.len(), 3);
    for key in keys {
        peer.delete(&calls, key.as_str()).expect("delete");
    }
    peer.commit();

    let refusal = sync(&mut office, &mut ours, &mut peer, &mut theirs).expect("refused");
    assert!(refusal.contains("call"), "{refusal}");
    assert_eq!(office.day().calls.len(), 3, "every call is still on record");
}

#[test]
fn rewriting_who_issued_a_ticket_or_a_closed_ticket_is_refused() {
    let mut office = busy_office(2, 1);
    let (mut peer, ours, theirs) = peer_copy(&mut office);
    let tickets = map(&peer, "tickets");
    for (key, field, value) in [("000002", "issuer", "staff:beto"), ("000001", "outcome", "otra cosa")] {
        let (mut peer, mut ours, mut theirs) = (peer.fork(), PeerSync::restore(&ours.persist()).expect("state"), {
            PeerSync::restore(&theirs.persist()).expect("state")
        });
        ours.restart();
        theirs.restart();
        let ticket = match peer.get(&tickets, key) {
            Ok(Some((_, id))) => id,
            other => panic!("ticket {key}: {other:?}"),
        };
        peer.put(&ticket, field, value).expect("put");
        peer.commit();
        let refusal = sync(&mut office, &mut ours, &mut peer, &mut theirs).expect("refused");
        assert!(refusal.contains("rewritten") || refusal.contains("closed"), "{field}: {refusal}");
    }
    assert_eq!(office.day().tickets.len(), 2);
    assert_eq!(office.day().check(), Ok(()));
}

#[test]
fn a_replaced_box_recovers_the_day_from_its_peer_and_continues_numbering() {
    let mut old_box = busy_office(4, 1);
    let (mut central, _, _) = peer_copy(&mut old_box);

    // A new box: an empty store, the same office, a fresh actor.
    let mut new_box = Office::restore(config(), b"edge-2".to_vec(), T0, &[]).expect("office");
    new_box.start_recovery();
    assert_eq!(issue(&mut new_box, T0), Err(Rejection::Recovering), "nothing is numbered before recovery");

    // Central still remembers the old box's sync state: it names heads the new box lacks.
    let (mut ours, mut theirs) = (PeerSync::new(), PeerSync::new());
    let _ = sync(&mut old_box, &mut PeerSync::new(), &mut central, &mut theirs);
    theirs.restart();
    assert_eq!(sync(&mut new_box, &mut ours, &mut central, &mut theirs), None, "sync settles");

    assert!(!new_box.is_recovering());
    assert_eq!(new_box.day().tickets.len(), 4, "every ticket is back");
    assert_eq!(new_box.day().calls.len(), 1);
    assert_eq!(issue(&mut new_box, T0).as_deref(), Ok("A-005"), "numbering continues after A-004");
    assert_eq!(read_day(&central).expect("a day").tickets.len(), 4);
}

#[test]
fn a_peer_reset_is_answered_once_not_forever() {
    let mut office = busy_office(2, 0);
    let (mut central, _, mut theirs) = peer_copy(&mut office);
    // The office loses everything; central's state still names the old heads.
    let mut fresh = Office::restore(config(), b"edge-3".to_vec(), T0, &[]).expect("office");
    let mut ours = PeerSync::new();
    theirs.restart();
    let hello = theirs.generate(&mut central).expect("central speaks first");
    fresh.sync_receive(&mut ours, &hello).expect("applies");
    let answers = std::iter::from_fn(|| fresh.sync_generate(&mut ours)).take(100).count();
    assert!(answers <= 2, "the office sent {answers} messages for one from its peer");
}

#[test]
fn a_clock_behind_the_last_stored_change_refuses_every_command() {
    let mut office = busy_office(1, 0);
    office.set_clock_floor(T0.plus_minutes(10));
    let refused = issue(&mut office, T0.plus_minutes(9));
    assert!(matches!(refused, Err(Rejection::ClockBehind { .. })), "{refused:?}");
    assert!(office.clock_behind(T0.plus_minutes(9)));
    assert_eq!(issue(&mut office, T0.plus_minutes(10)).as_deref(), Ok("A-002"));
}

#[test]
fn only_a_booking_issues_an_appointment() {
    let mut office = busy_office(0, 0);
    let at = Priority::Appointment(Timestamp(0));
    for issuer in [Who::Kiosk("entrada".into()), Who::Staff(AgentId::new("sara")), Who::Button("b".into())] {
        let command =
            Command::Issue { service: ServiceId::new("general"), priority: at.clone(), issuer, token: "t".into() };
        assert_eq!(office.handle_command(T0, command), Err(Rejection::AppointmentNeedsBooking));
    }
    assert!(office.day().tickets.is_empty());
}

/// One arbitrary edit a peer can make to its copy of the day.
#[derive(Debug, Clone)]
enum Edit {
    Put { map: u8, key: u8, field: u8, value: Value },
    Delete { map: u8, key: u8, field: Option<u8> },
    NewTicket { key: u8, value: Value },
}

#[derive(Debug, Clone)]
enum Value {
    Int(i64),
    Text(String),
    Null,
    Bool(bool),
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop_oneof![Just(0i64), Just(1), Just(3), Just(-1), Just(65_535), Just(i64::MAX), any::<i64>()]
            .prop_map(Value::Int),
        prop_oneof![
            Just("waiting".to_string()),
            Just("called".to_string()),
            Just("finished".to_string()),
            Just("A".to_string()),
            Just("1".to_string()),
            Just("staff:x".to_string()),
            Just("booking:b".to_string()),
            Just("appointment".to_string()),
            "[a-z:]{0,8}",
        ]
        .prop_map(Value::Text),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<u8>(), any::<u8>(), any::<u8>(), value()).prop_map(|(map, key, field, value)| Edit::Put { map, key, field, value }),
        2 => (any::<u8>(), any::<u8>(), proptest::option::of(any::<u8>())).prop_map(|(map, key, field)| Edit::Delete { map, key, field }),
        1 => (any::<u8>(), value()).prop_map(|(key, value)| Edit::NewTicket { key, value }),
    ]
}

const MAPS: [&str; 4] = ["tickets", "counters", "calls", "sequences"];
const FIELDS: [&str; 12] = [
    "prefix",
    "seq",
    "status",
    "counter",
    "current",
    "ticket",
    "issuer",
    "class",
    "closed_at",
    "recalls",
    "A",
    "agent",
];

fn scalar(value: &Value) -> automerge::ScalarValue {
    match value {
        Value::Int(n) => automerge::ScalarValue::Int(*n),
        Value::Text(s) => automerge::ScalarValue::Str(s.as_str().into()),
        Value::Null => automerge::ScalarValue::Null,
        Value::Bool(b) => automerge::ScalarValue::Boolean(*b),
    }
}

fn apply(doc: &mut AutoCommit, edit: &Edit) {
    let pick = |keys: Vec<String>, n: u8| (!keys.is_empty()).then(|| keys[n as usize % keys.len()].clone());
    match edit {
        Edit::Put { map: m, key, field, value } => {
            let parent = map(doc, MAPS[*m as usize % MAPS.len()]);
            let field_name = FIELDS[*field as usize % FIELDS.len()];
            if MAPS[*m as usize % MAPS.len()] == "sequences" {
                let _ = doc.put(&parent, field_name, scalar(value));
                return;
            }
            let Some(key) = pick(doc.keys(&parent).collect(), *key) else { return };
            if let Ok(Some((automerge::Value::Object(ObjType::Map), obj))) = doc.get(&parent, key.as_str()) {
                let _ = doc.put(&obj, field_name, scalar(value));
            }
        }
        Edit::Delete { map: m, key, field } => {
            let parent = map(doc, MAPS[*m as usize % MAPS.len()]);
            let Some(key) = pick(doc.keys(&parent).collect(), *key) else { return };
            match field {
                None => {
                    let _ = doc.delete(&parent, key.as_str());
                }
                Some(f) => {
                    if let Ok(Some((automerge::Value::Object(ObjType::Map), obj))) = doc.get(&parent, key.as_str()) {
                        let _ = doc.delete(&obj, FIELDS[*f as usize % FIELDS.len()]);
                    }
                }
            }
        }
        Edit::NewTicket { key, value } => {
            let tickets = map(doc, "tickets");
            if let Ok(ticket) = doc.put_object(&tickets, format!("{:06}", key % 20 + 1), ObjType::Map) {
                let _ = doc.put(&ticket, "prefix", "A");
                let _ = doc.put(&ticket, "seq", scalar(value));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever valid automerge changes a peer sends, the office never panics, and every state
    /// it accepts keeps the day's rules and everything the day held before.
    #[test]
    fn arbitrary_changes_from_a_peer_never_break_the_day(edits in prop::collection::vec(edit(), 1..12), split in 1usize..4) {
        let mut office = busy_office(5, 2);
        let (mut peer, mut ours, mut theirs) = peer_copy(&mut office);
        for chunk in edits.chunks(split) {
            let before = office.day().clone();
            for edit in chunk {
                apply(&mut peer, edit);
            }
            peer.commit();
            let refused = sync(&mut office, &mut ours, &mut peer, &mut theirs);
            prop_assert_eq!(office.day().check(), Ok(()));
            prop_assert_eq!(before.check_successor(office.day()), Ok(()));
            if refused.is_some() {
                // The peer keeps its bad copy; start the next round from the office's own.
                let (fresh, o, t) = peer_copy(&mut office);
                peer = fresh;
                ours = o;
                theirs = t;
            }
        }
        // Still working: a new ticket continues the numbering.
        let highest = office.day().sequences.get(&'A').copied().unwrap_or(0);
        let next = issue(&mut office, T0).expect("the office still issues");
        prop_assert_eq!(next, format!("A-{:03}", highest + 1));
    }
}
