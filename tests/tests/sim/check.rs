//! The checks: after a crash, every ticket the box acknowledged is on its disk; after healing,
//! every day the edge holds is central's, keeps its rules and (if past) is sealed, and every
//! acknowledged ticket survived, replaced boxes included.

use automerge::AutoCommit;
use fila_protocol::doc::day::read_day;
use fila_protocol::doc::load_chunks;
use fila_protocol::{BusinessDay, Day, Timestamp};
use fila_store::Store;

use super::disk::SimDisk;
use super::{office_id, World, EVENING, OFFICES};

pub fn load_day(disk: &SimDisk, doc: &str) -> Option<(AutoCommit, Day)> {
    let chunks = disk.chunks(doc).expect("chunks");
    if chunks.is_empty() {
        return None;
    }
    let doc = load_chunks(doc, &chunks);
    let day = read_day(&doc).expect("a stored day reads");
    Some((doc, day))
}

impl World {
    /// Every ticket this box acknowledged is on its disk, with the number and token it was given.
    pub fn check_acknowledged_on_disk(&self, o: usize) {
        let disk = &self.edges[o].disk;
        for (doc, tickets) in self.history.office(o) {
            let ours: Vec<_> = tickets.iter().filter(|(_, (_, d))| *d == self.disks[o]).collect();
            if ours.is_empty() {
                continue;
            }
            let (_, day) = load_day(disk, doc).unwrap_or_else(|| panic!("office {o} lost its day {doc}"));
            for (number, (token, _)) in ours {
                assert!(
                    day.tickets.values().any(|t| t.number == *number && t.token == *token),
                    "office {o} lost acknowledged ticket {number} of {doc} in a crash"
                );
            }
        }
    }

    /// The final checks, after healing. Returns how many attackers' changes central accepted
    /// because a concurrent write of the office hid their edit.
    pub fn check(&self) -> u64 {
        let mut shadowed = 0;
        for o in 0..OFFICES {
            let edge = &self.edges[o];
            assert!(!edge.office.is_recovering(), "office {o} is still recovering after healing");
            assert!(!edge.has_work(), "office {o} has requests left");
            let docs = edge.disk.scan_meta("docs/").expect("meta");
            for (key, state) in docs.iter().filter(|(key, _)| key.contains("/day/")) {
                let doc = &key["docs/".len()..];
                let (mut ours, day) = load_day(&edge.disk, doc).expect("a listed day is stored");
                day.check().unwrap_or_else(|breach| panic!("{doc} at office {o} breaks the rules: {breach}"));
                let (mut theirs, at_central) =
                    load_day(&self.central_disk, doc).unwrap_or_else(|| panic!("central lacks {doc}"));
                let held = ours.get_heads().iter().all(|head| theirs.get_change_by_hash(head).is_some());
                assert!(held, "central lacks changes of {doc} that office {o} holds after healing");
                // Central may hold more: an attacker's change whose edit lost a conflict with the
                // office's own concurrent write leaves the day as it was, so it passes the checks
                // (and a past day is sealed once central holds all of the edge's).
                for change in theirs.get_changes(&ours.get_heads()) {
                    let actor = change.actor_id().to_bytes();
                    assert!(actor.starts_with(b"attacker-"), "central holds a change of {doc} that office {o} lacks");
                    shadowed += 1;
                }
                assert_eq!(day, at_central, "{doc} reads differently at central after healing");
                if doc == edge.office.doc_id() {
                    assert_eq!(&day, edge.office.day(), "office {o}'s day in memory differs from its disk");
                } else {
                    assert_eq!(state, b"sealed", "past day {doc} is not sealed though central holds it");
                }
            }
            let prefix = format!("doc/branch/{}/day/", office_id(o));
            for (key, _) in self.central_disk.scan_meta(&prefix).expect("meta") {
                let doc = &key["doc/".len()..];
                let (_, day) = load_day(&self.central_disk, doc).expect("central holds what it lists");
                day.check().unwrap_or_else(|breach| panic!("{doc} at central breaks the rules: {breach}"));
            }
            for (doc, tickets) in self.history.office(o) {
                let (_, day) = load_day(&edge.disk, doc)
                    .or_else(|| load_day(&self.central_disk, doc))
                    .unwrap_or_else(|| panic!("nobody holds {doc}"));
                for (number, (token, _)) in tickets {
                    assert!(
                        day.tickets.values().any(|t| t.number == *number && t.token == *token),
                        "acknowledged ticket {number} of {doc} (office {o}) did not survive"
                    );
                }
            }
            let evening = BusinessDay::containing(Timestamp(EVENING), &edge.office.config().time_zone);
            assert!(edge.office.day().day > evening, "office {o} never crossed midnight");
        }
        shadowed
    }
}
