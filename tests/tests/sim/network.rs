//! The network between each edge and central: one WebSocket at a time per office, frames
//! queued each way, lost frames that break the connection, partitions, and the attacker in the
//! middle (flipped bytes, injected changes). The edge's side follows `edge/src/sync_client.rs`:
//! one request to the office loop at a time, either the next frame from central or a push of
//! what the office stored.

use std::collections::VecDeque;

use fila_central::hub::{Connection, SyncFailure};
use fila_protocol::doc::load_chunks;
use fila_protocol::wire::Frame;
use fila_store::Store;

use super::attack::{self, Hostile};
use super::edge::{Request, SyncRequest};
use super::record::breach_class;
use super::{office_id, World, FLIPS_INTO_CHANGES, FLIP_PERCENT, LOSS_PERCENT, TAMPER_PAST_DAYS_TOWARDS_EDGE};

/// A frame in flight, and whether the attacker made or touched it.
pub struct Flight {
    pub bytes: Vec<u8>,
    pub tampered: bool,
    /// For a change the attacker injected towards the edge: the day it names.
    pub day: Option<String>,
}

/// One WebSocket between an edge and central.
pub struct Session {
    pub id: u64,
    pub connection: Connection,
    /// The link waits for the office loop to answer its request (one at a time, as
    /// `sync_client` awaits each).
    pub busy: bool,
    /// The office stored something since the link last polled (the loop's watch channel).
    pub changed: bool,
    /// The session announced its documents: central may be sent a day's sync frames.
    pub started: bool,
    /// A tampered frame was delivered on this session: refusals may follow.
    pub tainted: bool,
    /// The frame the office loop is handling now had bytes flipped.
    pub flipped: bool,
}

pub struct Link {
    pub up: bool,
    pub session: Option<Session>,
    pub to_central: VecDeque<Flight>,
    pub to_edge: VecDeque<Flight>,
}

impl World {
    /// A frame goes on the wire. A WebSocket does not lose a frame and go on: a lost frame is a
    /// broken connection, which both sides notice and restart from their stored sync states.
    pub fn send(&mut self, o: usize, bytes: Vec<u8>, to_central: bool) {
        if self.links[o].session.is_none() {
            return;
        }
        if !self.calm && self.rng.chance(LOSS_PERCENT) {
            self.stats.frames_lost += 1;
            self.break_connection(o);
            return;
        }
        let flight = Flight { bytes, tampered: false, day: None };
        match to_central {
            true => self.links[o].to_central.push_back(flight),
            false => self.links[o].to_edge.push_back(flight),
        }
    }

    /// Bytes flipped in flight, now and then. Returns whether they were.
    pub fn maybe_flip(&mut self, o: usize, flight: &mut Flight) -> bool {
        if self.calm || !self.rng.chance(FLIP_PERCENT) {
            return false;
        }
        let count = 1 + self.rng.below(3) as usize;
        let rng = &mut self.rng;
        let mut bytes = flight.bytes.clone();
        attack::flip(&mut bytes, |n| rng.below(n), count);
        if !FLIPS_INTO_CHANGES && attack::damages_a_change(&bytes, &office_id(o)) {
            return false;
        }
        flight.bytes = bytes;
        flight.tampered = true;
        self.stats.flips += 1;
        true
    }

    /// Central reads the next frame of office `o` and answers it.
    pub fn central_turn(&mut self, o: usize) {
        let Some(mut flight) = self.links[o].to_central.pop_front() else { return };
        let flipped = self.maybe_flip(o, &mut flight);
        self.trace(&flight.bytes);
        let session = self.links[o].session.as_mut().expect("frames in flight belong to a session");
        session.tainted |= flight.tampered;
        match self.hub.handle_frame(&mut session.connection, &flight.bytes) {
            Ok(replies) => {
                self.stats.flips_taken += u64::from(flipped);
                for reply in replies {
                    self.send(o, reply, false);
                }
            }
            Err(failure) => {
                assert!(session.tainted, "central refused what office {o} sent: {failure}");
                match failure {
                    SyncFailure::Breach { reason, .. } => {
                        *self.stats.refused_by_central.entry(breach_class(&reason)).or_default() += 1
                    }
                    _ => self.stats.flips_refused_by_central += 1,
                }
                self.break_connection(o);
            }
        }
    }

    /// The edge's link reads the next frame from central, or pushes what the office stored.
    pub fn session_turn(&mut self, o: usize) {
        let link = &mut self.links[o];
        let Some(session) = link.session.as_mut().filter(|s| !s.busy) else { return };
        let read = match (!link.to_edge.is_empty(), session.changed) {
            (false, false) => return,
            (true, false) => true,
            (false, true) => false,
            (true, true) => self.rng.chance(50),
        };
        let id = session.id;
        let request = if read {
            let mut flight = self.links[o].to_edge.pop_front().expect("a frame to read");
            if !TAMPER_PAST_DAYS_TOWARDS_EDGE
                && flight.day.as_ref().is_some_and(|day| *day != self.edges[o].office.doc_id())
            {
                return; // midnight passed under it: the day it names is a past one now
            }
            let flipped = self.maybe_flip(o, &mut flight);
            self.trace(&flight.bytes);
            if self.recovering[o] && !flight.tampered && self.names_unknown_heads(o, &flight.bytes) {
                self.stats.resets += 1;
            }
            let session = self.links[o].session.as_mut().expect("session");
            session.tainted |= flight.tampered;
            session.flipped = flipped;
            session.busy = true;
            SyncRequest::Receive(flight.bytes)
        } else {
            let session = self.links[o].session.as_mut().expect("session");
            session.changed = false;
            session.busy = true;
            SyncRequest::Poll
        };
        self.edges[o].submit(Request::Sync { session: id, request });
    }

    /// Whether central's message names heads the (replaced) box does not hold: central still
    /// remembers what it shared with the old box, and the box answers with a reset, once.
    fn names_unknown_heads(&self, o: usize, bytes: &[u8]) -> bool {
        let Ok(Frame::Sync { doc, message }) = Frame::decode(bytes, &office_id(o)) else { return false };
        let Ok(message) = automerge::sync::Message::decode(&message) else { return false };
        let mut ours = load_chunks(&doc, &self.edges[o].disk.chunks(&doc).expect("chunks"));
        message.have.iter().flat_map(|have| &have.last_sync).any(|hash| ours.get_change_by_hash(hash).is_none())
    }

    /// The link dials central (when the network lets it and its last session is over).
    pub fn connect(&mut self, o: usize) {
        if !self.links[o].up || self.links[o].session.is_some() || self.edges[o].sync_pending() {
            return;
        }
        let (connection, _replaced) = self.hub.connect(&office_id(o), self.now).expect("a configured office");
        self.sessions += 1;
        self.stats.connections += 1;
        self.links[o].session = Some(Session {
            id: self.sessions,
            connection,
            busy: true,
            changed: false,
            started: false,
            tainted: false,
            flipped: false,
        });
        self.edges[o].submit(Request::Sync { session: self.sessions, request: SyncRequest::Start });
    }

    pub fn break_connection(&mut self, o: usize) {
        let link = &mut self.links[o];
        if let Some(session) = link.session.take() {
            self.hub.disconnect(session.connection.id(), self.now);
        }
        link.to_central.clear();
        link.to_edge.clear();
    }

    pub fn toggle_partition(&mut self, o: usize) {
        self.links[o].up = !self.links[o].up;
        if !self.links[o].up {
            self.stats.partitions += 1;
            self.break_connection(o);
        }
    }

    /// A day of office `o` that its edge keeps in sync now: today, or an unsealed past day.
    fn day_in_window(&mut self, o: usize, past_days: bool) -> String {
        let edge = &self.edges[o];
        let mut days = vec![edge.office.doc_id()];
        if past_days {
            let open = edge.disk.scan_meta("docs/").expect("meta");
            days.extend(
                open.into_iter().filter(|(_, state)| state == b"open").map(|(key, _)| key["docs/".len()..].to_string()),
            );
            days.retain(|doc| doc.contains("/day/"));
            days.dedup();
        }
        let pick = self.rng.below(days.len() as u64) as usize;
        days.swap_remove(pick)
    }

    fn started(&self, o: usize) -> bool {
        !self.calm && self.links[o].session.as_ref().is_some_and(|s| s.started)
    }

    /// The attacker forks central's copy of a day, breaks a rule and sends the change to central
    /// as the office would.
    pub fn inject_towards_central(&mut self, o: usize) {
        if !self.started(o) {
            return;
        }
        let doc = self.day_in_window(o, true);
        let chunks = self.central_disk.chunks(&doc).expect("chunks");
        let wanted = Hostile::ALL[self.rng.below(4) as usize];
        let actor = format!("attacker-{}", self.rng.next_u64());
        let gap = if self.rng.chance(50) { 1 } else { 100 };
        let Some((hostile, message)) = attack::hostile_message(&chunks, wanted, gap, &actor, self.now / 1000) else {
            return;
        };
        *self.stats.injected_towards_central.entry(hostile).or_default() += 1;
        let bytes = Frame::Sync { doc, message }.encode();
        self.links[o].to_central.push_back(Flight { bytes, tampered: true, day: None });
    }

    /// The attacker forks the edge's copy of a day, breaks a rule and sends the change to the
    /// edge as central would.
    pub fn inject_towards_edge(&mut self, o: usize) {
        if !self.started(o) {
            return;
        }
        let doc = self.day_in_window(o, TAMPER_PAST_DAYS_TOWARDS_EDGE);
        let chunks = self.edges[o].disk.chunks(&doc).expect("chunks");
        let wanted = Hostile::ALL[self.rng.below(4) as usize];
        let actor = format!("attacker-{}", self.rng.next_u64());
        let gap = if self.rng.chance(50) { 1 } else { 100 };
        let Some((hostile, message)) = attack::hostile_message(&chunks, wanted, gap, &actor, self.now / 1000) else {
            return;
        };
        *self.stats.injected_towards_edge.entry(hostile).or_default() += 1;
        let bytes = Frame::Sync { doc: doc.clone(), message }.encode();
        // In the middle, the attacker need not wait its turn: the edge reads this next.
        self.links[o].to_edge.push_front(Flight { bytes, tampered: true, day: Some(doc) });
    }
}
