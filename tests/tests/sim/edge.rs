//! The edge's office loop (`edge/src/office_loop.rs`), stepped by the simulation instead of a
//! thread and a channel: the same restore on start, the same batches (commands applied in order,
//! their chunks written, one flush, then the answers, the events and the sync steps), the same
//! timer at `Office::next_deadline`, and the real `SyncWindow` over the simulated disk.
//!
//! A batch is applied and made durable in two steps (`apply`, `flush`), so the simulation can
//! crash the box in between: what was applied but not flushed was never acknowledged.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use fila_edge::sync_window::{self, Received, SyncWindow};
use fila_protocol::office::{Command, Event, Office, Persist, Priority, Reply};
use fila_protocol::wire::Frame;
use fila_protocol::{BusinessDay, OfficeConfig, Rejection, Timestamp, Who};
use fila_store::Store;

use super::disk::SimDisk;

/// As `office_loop::BATCH_MAX`.
pub const BATCH_MAX: usize = 512;
/// As `office_loop::COMPACT_AFTER_CHUNKS`.
const COMPACT_AFTER_CHUNKS: usize = 1000;
/// The office loop's meta keys (private there; the same strings here).
const CLOCK_KEY: &str = "clock/last";
const CLOCK_PRECISION_MS: i64 = 1_000;
const RECOVERY_KEY: &str = "recovery";
const RECOVERY_PENDING: &[u8] = b"pending";
const RECOVERY_DONE: &[u8] = b"done";

/// What the link to central asks of the loop (`office_loop::SyncRequest`).
#[derive(Debug)]
pub enum SyncRequest {
    Start,
    Receive(Vec<u8>),
    Poll,
}

pub enum Request {
    Command(Command),
    /// From the link's session `session`: its answer goes back only to that session.
    Sync {
        session: u64,
        request: SyncRequest,
    },
}

/// A command's answer, given once its batch is durable.
pub struct Answer {
    /// The day document the command was applied to.
    pub doc_id: String,
    pub issue: bool,
    pub result: Result<Reply, Rejection>,
}

/// A sync step's answer: frames to send, or why the session ends.
pub struct SyncAnswer {
    pub session: u64,
    pub result: Result<Vec<Frame>, String>,
}

/// What a durable batch (or a timer) hands out.
#[derive(Default)]
pub struct Durable {
    pub answers: Vec<Answer>,
    pub syncs: Vec<SyncAnswer>,
    pub events: Vec<Event>,
    /// Something was stored: the link wakes and pushes it (the loop's `changed` watch).
    pub changed: bool,
}

/// A batch applied in memory and written, not yet flushed.
struct Batch {
    now: Timestamp,
    answers: Vec<Answer>,
    syncs: Vec<(u64, SyncRequest)>,
    wrote: bool,
}

pub struct Edge {
    pub office: Office,
    pub disk: Arc<SimDisk>,
    window: SyncWindow,
    noted: HashSet<String>,
    appended: usize,
    /// The time last stored under `clock/last`.
    clock_stored: Timestamp,
    inbox: VecDeque<Request>,
    batch: Option<Batch>,
    /// Commands refused because the box was recovering its records.
    pub refused_while_recovering: u64,
}

impl Edge {
    /// `office_loop::spawn` for a box that syncs with central: restore from the disk, and
    /// recover first if the disk holds no document (or recovery was under way).
    pub fn start(config: OfficeConfig, disk: Arc<SimDisk>, actor: Vec<u8>, now: Timestamp) -> Edge {
        let store: &dyn Store = disk.as_ref();
        let recovering = store.get_meta(RECOVERY_KEY).expect("meta").as_deref() == Some(RECOVERY_PENDING)
            || store.scan_meta("docs/").expect("meta").is_empty();
        let mut office = restore(config, store, actor, now);
        if recovering {
            store.put_meta(RECOVERY_KEY, RECOVERY_PENDING).and_then(|()| store.flush()).expect("sim disk");
            office.start_recovery();
        }
        let mut edge = Edge {
            office,
            disk,
            window: SyncWindow::default(),
            noted: HashSet::new(),
            appended: 0,
            clock_stored: Timestamp(0),
            inbox: VecDeque::new(),
            batch: None,
            refused_while_recovering: 0,
        };
        if edge.office.take_repaired() {
            edge.compact();
        }
        edge
    }

    pub fn submit(&mut self, request: Request) {
        self.inbox.push_back(request);
    }

    /// Whether the loop is between batches (its timer can fire).
    pub fn idle(&self) -> bool {
        self.batch.is_none()
    }

    pub fn has_work(&self) -> bool {
        self.batch.is_some() || !self.inbox.is_empty()
    }

    /// Whether a sync request of some session waits in the loop (a new session waits for it).
    pub fn sync_pending(&self) -> bool {
        self.inbox.iter().any(|r| matches!(r, Request::Sync { .. }))
            || self.batch.as_ref().is_some_and(|b| !b.syncs.is_empty())
    }

    /// The first half of `Worker::handle_batch`: apply up to `BATCH_MAX` requests and write
    /// their chunks. Nothing is flushed, answered or published yet.
    pub fn apply(&mut self, now: Timestamp) -> bool {
        if self.batch.is_some() || self.inbox.is_empty() {
            return false;
        }
        let mut answers: Vec<Answer> = Vec::new();
        let mut syncs = Vec::new();
        let take = self.inbox.len().min(BATCH_MAX);
        for request in self.inbox.drain(..take).collect::<Vec<_>>() {
            match request {
                Request::Command(command) => {
                    let answer = self.command(now, command);
                    if self.office.take_failure() {
                        for earlier in &mut answers {
                            if earlier.result.is_ok() {
                                earlier.result = Err(Rejection::Internal);
                            }
                        }
                    }
                    answers.push(answer);
                }
                Request::Sync { session, request } => syncs.push((session, request)),
            }
        }
        if self.office.take_failure() {
            for answer in &mut answers {
                if answer.result.is_ok() {
                    answer.result = Err(Rejection::Internal);
                }
            }
        }
        let wrote = self.write(now);
        self.batch = Some(Batch { now, answers, syncs, wrote });
        true
    }

    fn command(&mut self, now: Timestamp, command: Command) -> Answer {
        let recovering = self.office.is_recovering();
        let issue = matches!(command, Command::Issue { .. });
        let unbooked_appointment = matches!(
            &command,
            Command::Issue { priority: Priority::Appointment(_), issuer, .. } if !matches!(issuer, Who::Booking(_))
        );
        let result = self.office.handle_command(now, command);
        if recovering {
            assert!(
                matches!(result, Err(Rejection::Recovering | Rejection::ClockBehind { .. })),
                "a recovering box must refuse every command, got {result:?}"
            );
            self.refused_while_recovering += 1;
        }
        if unbooked_appointment {
            assert!(result.is_err(), "only a booking issues an appointment, got {result:?}");
        }
        Answer { doc_id: self.office.doc_id(), issue, result }
    }

    /// The second half: flush, then answer, publish and run the batch's sync steps.
    pub fn flush(&mut self) -> Option<Durable> {
        let batch = self.batch.take()?;
        if batch.wrote {
            self.disk.flush().expect("sim disk");
        }
        let mut durable =
            Durable { answers: batch.answers, syncs: Vec::new(), events: self.events(), changed: batch.wrote };
        if self.appended >= COMPACT_AFTER_CHUNKS {
            self.compact();
        }
        for (session, request) in batch.syncs {
            let result = self.sync(batch.now, request);
            durable.syncs.push(SyncAnswer { session, result });
        }
        Some(durable)
    }

    /// The loop's timer: `handle_timeout`, then the same commit as a batch.
    pub fn timeout(&mut self, now: Timestamp) -> Durable {
        assert!(self.idle(), "the timer fires between batches");
        self.office.handle_timeout(now);
        self.office.take_failure();
        let wrote = self.write(now);
        if wrote {
            self.disk.flush().expect("sim disk");
        }
        Durable { events: self.events(), changed: wrote, ..Durable::default() }
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.office.poll_event()).collect()
    }

    /// `Worker::persist` up to the flush: chunks appended, documents noted, the clock stored (at
    /// most once a second).
    fn write(&mut self, now: Timestamp) -> bool {
        let store: &dyn Store = self.disk.as_ref();
        let current = self.office.doc_id();
        let mut wrote = false;
        while let Some(Persist { doc_id, bytes }) = self.office.poll_persist() {
            if !self.noted.contains(&doc_id) {
                sync_window::note_doc(store, &doc_id).expect("sim disk");
                self.noted.insert(doc_id.clone());
            }
            store.append_chunk(&doc_id, &bytes).expect("sim disk");
            self.appended = if doc_id == current { self.appended + 1 } else { 1 };
            wrote = true;
        }
        if wrote && now.ms_since(self.clock_stored) >= CLOCK_PRECISION_MS {
            store.put_meta(CLOCK_KEY, &now.0.to_be_bytes()).expect("sim disk");
            self.clock_stored = now;
        }
        wrote
    }

    /// `Worker::sync`: one step of the sync protocol with central.
    fn sync(&mut self, now: Timestamp, request: SyncRequest) -> Result<Vec<Frame>, String> {
        assert_eq!(self.disk.unflushed_chunks(), 0, "only what is on disk leaves the box");
        let disk = self.disk.clone();
        let store: &dyn Store = disk.as_ref();
        match request {
            SyncRequest::Start => self.window.start(&self.office, store),
            SyncRequest::Poll => {}
            SyncRequest::Receive(bytes) => {
                let office = self.office.config().id.clone();
                let frame = Frame::decode(&bytes, &office).map_err(|e| e.to_string())?;
                if let Frame::Sync { doc, message } = frame {
                    let recovering = self.office.is_recovering();
                    let received = self.window.receive(&mut self.office, store, &doc, &message);
                    if recovering && !self.office.is_recovering() {
                        store.put_meta(RECOVERY_KEY, RECOVERY_DONE).expect("sim disk");
                    }
                    match received {
                        Ok(Received::Day) => {
                            if self.write(now) {
                                store.flush().expect("sim disk");
                            }
                        }
                        // The simulated central writes no remote joins.
                        Ok(
                            Received::Config(_) | Received::Appointments(_) | Received::Requests | Received::Nothing,
                        ) => {}
                        Err(error) => {
                            self.office.take_failure();
                            return Err(error);
                        }
                    }
                }
            }
        }
        Ok(self.window.outgoing(&mut self.office, store))
    }

    fn compact(&mut self) {
        let snapshot = self.office.snapshot();
        self.disk.replace_chunks(&snapshot.doc_id, &snapshot.bytes).and_then(|()| self.disk.flush()).expect("sim disk");
        self.appended = 1;
    }
}

/// `office_loop::restore`: today's day document from the disk (the day of the newest stored
/// change if the clock is behind it), refusing commands until the clock passes that change.
fn restore(config: OfficeConfig, store: &dyn Store, actor: Vec<u8>, now: Timestamp) -> Office {
    let floor = store
        .get_meta(CLOCK_KEY)
        .expect("meta")
        .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
        .map(|bytes| Timestamp(i64::from_be_bytes(bytes)));
    let now = floor.filter(|floor| now < *floor).unwrap_or(now);
    let day = BusinessDay::containing(now, &config.time_zone);
    let doc_id = fila_protocol::doc::keys::day_doc_id(&config.id, day);
    let chunks = store.chunks(&doc_id).expect("chunks");
    let mut office = Office::restore(config, actor, now, &chunks).expect("the stored day restores");
    if let Some(floor) = floor {
        office.set_clock_floor(floor);
    }
    office
}
