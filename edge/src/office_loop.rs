//! The office loop: one thread owns the `Office`, its store and its timer. It is the only
//! writer of the office's queue.
//!
//! Requests arrive over a bounded channel. The loop takes every request waiting (up to a
//! batch), applies them in order, writes the resulting document chunks, flushes the store once,
//! and only then answers: group commit, never an acknowledgement before its flush. Screens and
//! devices hear the events of a batch after that same flush, so nothing ever shows a ticket that
//! a crash could take back.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::thread;
use std::time::Duration;

use fila_protocol::office::{Command, Event, Office, Persist, Reply};
use fila_protocol::wire::Frame;
use fila_protocol::{OfficeConfig, Rejection, Timestamp};
use thiserror::Error;
use tokio::sync::{broadcast, oneshot, watch};

use fila_store::{Store, StoreError};

use crate::sync_window::{self, Received, SyncWindow};

/// Requests waiting beyond this are refused with 503 at once.
pub const CHANNEL_CAPACITY: usize = 4096;
/// Commands applied before one flush, at most.
pub const BATCH_MAX: usize = 512;
/// Incremental chunks of a day document before they are compacted into one snapshot.
pub const COMPACT_AFTER_CHUNKS: usize = 1000;
pub const EVENT_CAPACITY: usize = 1024;
/// The newest time the office stored a batch at (ms): a clock behind it is refused.
const CLOCK_KEY: &str = "clock/last";
const CLOCK_PRECISION_MS: i64 = 1_000;
/// Set while a box that started with an empty store waits for headquarters' copy of its day.
const RECOVERY_KEY: &str = "recovery";
const RECOVERY_PENDING: &[u8] = b"pending";
const RECOVERY_DONE: &[u8] = b"done";

pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| {
        let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
        Timestamp(ms)
    })
}

#[derive(Debug, Error)]
pub enum LoopError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("the office is busy; try again")]
    Busy,
    #[error("the office is shutting down")]
    Stopped,
    #[error("storage failed: {0}")]
    Storage(String),
    #[error("sync with central failed: {0}")]
    Sync(String),
    #[error(transparent)]
    Config(#[from] crate::sync_window::ConfigError),
}

type Query = Box<dyn FnOnce(&Office, Timestamp) + Send>;
/// Answers a command once its batch is durable, in the loop, so rendering the reply needs no
/// second trip through the channel.
type Responder = Box<dyn FnOnce(&Office, Timestamp, Result<Reply, LoopError>) + Send>;

enum Request {
    Command(Command, Responder),
    Query(Query),
    Sync(SyncRequest, oneshot::Sender<Result<Vec<Frame>, LoopError>>),
    Config(ConfigRequest, oneshot::Sender<Result<(fila_protocol::RawOfficeConfig, String), LoopError>>),
    Shutdown(oneshot::Sender<()>),
}

/// The office admin reads or edits the configuration document (it merges with headquarters').
#[derive(Debug)]
pub enum ConfigRequest {
    Read,
    /// An edit made from the version `base` the admin saw, or from the document as it is now.
    Edit {
        config: Box<fila_protocol::RawOfficeConfig>,
        base: Option<String>,
    },
}

/// What the link to central asks of the office.
#[derive(Debug)]
pub enum SyncRequest {
    /// A new connection: announce the documents and send what central lacks.
    Start,
    /// A frame from central: apply it, answer it.
    Receive(Vec<u8>),
    /// The office changed: send what is new.
    Poll,
}

/// The handlers' way to the office loop. Cheap to clone.
#[derive(Clone)]
pub struct OfficeHandle {
    requests: SyncSender<Request>,
    events: broadcast::Sender<Event>,
    /// The configuration in force; headquarters may replace it while the office runs.
    config: Arc<RwLock<Arc<OfficeConfig>>>,
    /// Bumped after every batch that stored something: the link to central wakes on it.
    changes: watch::Receiver<u64>,
    /// Documents in the sync window with central (0 before the first connection).
    docs_in_sync: Arc<std::sync::atomic::AtomicUsize>,
    /// Why the office loop stopped for good (a failed store, a panic): the daemon must exit.
    fatal: watch::Receiver<Option<String>>,
    /// Central's bookings for today and tomorrow, as synced.
    appointments: Arc<crate::appointments::AppointmentsView>,
}

impl OfficeHandle {
    /// Apply a command; the answer comes once it is durable.
    pub async fn send(&self, command: Command) -> Result<Reply, LoopError> {
        self.send_with(command, |_, _, reply| Ok(reply.clone())).await
    }

    /// Apply a command and, once it is durable, turn its reply into `T` with the office at hand
    /// (to add positions, names, numbers of skipped tickets).
    pub async fn send_with<T: Send + 'static>(
        &self,
        command: Command,
        render: impl FnOnce(&Office, Timestamp, &Reply) -> Result<T, LoopError> + Send + 'static,
    ) -> Result<T, LoopError> {
        let (reply, answer) = oneshot::channel();
        let respond: Responder = Box::new(move |office, now, result| {
            let _ = reply.send(result.and_then(|r| render(office, now, &r)));
        });
        self.submit(Request::Command(command, respond))?;
        answer.await.map_err(|_| LoopError::Stopped)?
    }

    /// Read the office's state (after every command before it is durable).
    pub async fn query<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Office, Timestamp) -> T + Send + 'static,
    ) -> Result<T, LoopError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Request::Query(Box::new(move |office, now| {
            let _ = reply.send(read(office, now));
        })))?;
        answer.await.map_err(|_| LoopError::Stopped)
    }

    /// Run one step of the sync protocol with central; returns the frames to send.
    pub async fn sync(&self, request: SyncRequest) -> Result<Vec<Frame>, LoopError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Request::Sync(request, reply))?;
        answer.await.map_err(|_| LoopError::Stopped)?
    }

    /// The configuration document and its version, after the request (see [`ConfigRequest`]).
    pub async fn config_doc(
        &self,
        request: ConfigRequest,
    ) -> Result<(fila_protocol::RawOfficeConfig, String), LoopError> {
        let (reply, answer) = oneshot::channel();
        self.submit(Request::Config(request, reply))?;
        answer.await.map_err(|_| LoopError::Stopped)?
    }

    /// Documents in the sync window with central, as of the last sync step.
    pub fn docs_in_sync(&self) -> usize {
        self.docs_in_sync.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Why the office cannot go on, once it cannot (the store failed, the loop died).
    pub fn fatal(&self) -> Option<String> {
        self.fatal.borrow().clone()
    }

    /// Resolves with the reason once the office loop has stopped for good; never, if it stops
    /// because it was asked to.
    pub async fn died(&self) -> String {
        let mut fatal = self.fatal.clone();
        let reason = fatal.wait_for(Option::is_some).await.map(|reason| reason.clone().unwrap_or_default());
        match reason {
            Ok(reason) => reason,
            Err(_) => std::future::pending().await,
        }
    }

    /// Wakes when the office stored a change.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn config(&self) -> Arc<OfficeConfig> {
        self.config.read().map_or_else(|poisoned| poisoned.into_inner().clone(), |config| config.clone())
    }

    /// Central's bookings, as far as they have reached the office.
    pub fn appointments(&self) -> &crate::appointments::AppointmentsView {
        &self.appointments
    }

    /// Flush and stop the loop; returns when it has.
    pub async fn shutdown(&self) {
        let (done, finished) = oneshot::channel();
        if self.requests.send(Request::Shutdown(done)).is_ok() {
            let _ = finished.await;
        }
    }

    fn submit(&self, request: Request) -> Result<(), LoopError> {
        self.requests.try_send(request).map_err(|e| match e {
            TrySendError::Full(_) => LoopError::Busy,
            TrySendError::Disconnected(_) => LoopError::Stopped,
        })
    }
}

/// Restore the office from the store and start its loop on a thread of its own. `central`:
/// whether the office syncs with headquarters (a box with an empty store then recovers first).
pub fn spawn(config: OfficeConfig, store: Arc<dyn Store>, clock: Clock, central: bool) -> anyhow::Result<OfficeHandle> {
    let recovering = needs_recovery(store.as_ref(), central)?;
    let mut office = restore(&config, store.as_ref(), &clock)?;
    if recovering {
        store.put_meta(RECOVERY_KEY, RECOVERY_PENDING)?;
        store.flush()?;
        office.start_recovery();
    }
    tracing::info!(
        office = %config.id, day = %office.day().day, tickets = office.day().tickets.len(),
        "office restored"
    );
    let (requests, inbox) = mpsc::sync_channel(CHANNEL_CAPACITY);
    let (events, _) = broadcast::channel(EVENT_CAPACITY);
    let (changed, changes) = watch::channel(0);
    let (fatal_tx, fatal) = watch::channel(None);
    let today = office.day().day;
    let appointments =
        Arc::new(crate::appointments::AppointmentsView::load(store.as_ref(), &config.id, &[today, today.plus_days(1)]));
    crate::wait_history::refresh(&mut office, store.as_ref(), &appointments.of(&config.id, today));
    let shared = Arc::new(RwLock::new(Arc::new(config)));
    let docs_in_sync = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handle = OfficeHandle {
        requests,
        events: events.clone(),
        config: shared.clone(),
        changes,
        docs_in_sync: docs_in_sync.clone(),
        fatal,
        appointments: appointments.clone(),
    };
    let mut worker = Worker {
        office,
        store,
        clock,
        events,
        changed,
        appended: 0,
        window: SyncWindow::default(),
        config: shared,
        docs_in_sync,
        noted: Default::default(),
        clock_stored: Timestamp(0),
        appointments,
    };
    if worker.office.take_repaired() {
        // What was stored broke the day's rules: keep only the good part on disk too.
        worker.compact();
    }
    thread::Builder::new().name("office-loop".into()).spawn(move || {
        // Whatever ends this thread other than a shutdown must end the daemon: a process whose
        // office is gone but whose sockets still accept is the worst of both (systemd restarts
        // one that exits).
        let ended = match catch_unwind(AssertUnwindSafe(|| worker.run(inbox))) {
            Ok(LoopEnd::Stopped) => return,
            Ok(LoopEnd::StoreFailed(reason)) => format!("the store failed: {reason}"),
            Err(panic) => format!("the office loop panicked: {}", panic_text(&panic)),
        };
        tracing::error!(reason = %ended, "office loop stopped for good; the daemon exits");
        let _ = fatal_tx.send(Some(ended));
    })?;
    Ok(handle)
}

/// How the loop ended.
enum LoopEnd {
    /// Shutdown asked, or every handle dropped.
    Stopped,
    /// A write or flush failed: memory may hold what the disk lacks, so nothing more is answered.
    StoreFailed(String),
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// A box recovers from headquarters before numbering when it syncs with one and either holds no
/// document at all (a replaced box, a new SD card) or was recovering when it stopped.
fn needs_recovery(store: &dyn Store, central: bool) -> Result<bool, StoreError> {
    if store.get_meta(RECOVERY_KEY)?.as_deref() == Some(RECOVERY_PENDING) {
        return Ok(true);
    }
    Ok(central && store.scan_meta("docs/")?.is_empty())
}

fn restore(config: &OfficeConfig, store: &dyn Store, clock: &Clock) -> anyhow::Result<Office> {
    // A clock behind what is stored (a stale RTC before NTP) must not open a past day: the office
    // opens the day of its newest change and refuses commands until the clock is past it.
    let floor = store
        .get_meta(CLOCK_KEY)?
        .and_then(|bytes| <[u8; 8]>::try_from(bytes.as_slice()).ok())
        .map(|bytes| Timestamp(i64::from_be_bytes(bytes)));
    let now = match (clock(), floor) {
        (now, Some(floor)) if now < floor => {
            tracing::error!(
                now = now.0,
                last_stored = floor.0,
                "the clock is behind the last stored change; nothing is issued until it is right (check NTP)"
            );
            floor
        }
        (now, _) => now,
    };
    let day = fila_protocol::BusinessDay::containing(now, &config.time_zone);
    let doc_id = fila_protocol::doc::keys::day_doc_id(&config.id, day);
    let chunks = store.chunks(&doc_id)?;
    // A fresh actor per start: an automerge actor must never reuse a sequence number, and a
    // crash may have lost changes this actor made but never stored.
    let actor = crate::auth::tracking_token().into_bytes();
    let mut office = Office::restore(config.clone(), actor, now, &chunks)
        .map_err(|e| anyhow::anyhow!("day document {doc_id} cannot be read: {e}"))?;
    if let Some(floor) = floor {
        office.set_clock_floor(floor);
    }
    Ok(office)
}

struct Worker {
    office: Office,
    store: Arc<dyn Store>,
    clock: Clock,
    events: broadcast::Sender<Event>,
    changed: watch::Sender<u64>,
    /// The documents kept in sync with central, with their sync states.
    window: SyncWindow,
    /// Documents already listed in the store's index.
    noted: std::collections::HashSet<String>,
    config: Arc<RwLock<Arc<OfficeConfig>>>,
    docs_in_sync: Arc<std::sync::atomic::AtomicUsize>,
    /// Chunks appended to the current day document since it was last compacted.
    appended: usize,
    /// The time last stored under `clock/last`.
    clock_stored: Timestamp,
    appointments: Arc<crate::appointments::AppointmentsView>,
}

impl Worker {
    fn run(&mut self, inbox: mpsc::Receiver<Request>) -> LoopEnd {
        loop {
            let now = (self.clock)();
            let wait_ms = self.office.next_deadline().ms_since(now).clamp(0, 60_000) as u64;
            let first = match inbox.recv_timeout(Duration::from_millis(wait_ms)) {
                Ok(request) => request,
                Err(RecvTimeoutError::Timeout) => {
                    self.office.handle_timeout((self.clock)());
                    if let Err(reason) = self.commit() {
                        return LoopEnd::StoreFailed(reason);
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return LoopEnd::Stopped,
            };
            let mut batch = vec![first];
            while batch.len() < BATCH_MAX {
                match inbox.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            match self.handle_batch(batch) {
                Ok(None) => {}
                Ok(Some(done)) => {
                    // Leave one snapshot behind: the next start loads it in one go.
                    self.compact();
                    tracing::info!(office = %self.office.config().id, "office loop stopped");
                    let _ = done.send(());
                    return LoopEnd::Stopped;
                }
                Err(reason) => return LoopEnd::StoreFailed(reason),
            }
        }
    }

    /// Apply a batch; returns the shutdown acknowledgement if the batch asked to stop, or why
    /// the store failed (every command of the batch has been answered with an error).
    fn handle_batch(&mut self, batch: Vec<Request>) -> Result<Option<oneshot::Sender<()>>, String> {
        let now = (self.clock)();
        let mut replies: Vec<(Responder, Result<Reply, fila_protocol::Rejection>)> = Vec::new();
        let mut queries = Vec::new();
        let mut syncs = Vec::new();
        let mut configs = Vec::new();
        let mut shutdown = None;
        for request in batch {
            match request {
                Request::Command(command, reply) => {
                    let span = tracing::debug_span!("command", office = %self.office.config().id);
                    let _entered = span.enter();
                    let result = self.office.handle_command(now, command);
                    if let Err(rejection) = &result {
                        tracing::debug!(code = rejection.code(), "command refused");
                    }
                    if self.office.take_failure() {
                        // The document was rebuilt from its last save: what this batch applied
                        // before now is gone. Those commands fail; the ones after stand.
                        for (_, earlier) in &mut replies {
                            if earlier.is_ok() {
                                *earlier = Err(fila_protocol::Rejection::Internal);
                            }
                        }
                    }
                    replies.push((reply, result));
                }
                Request::Query(query) => queries.push(query),
                Request::Sync(request, reply) => syncs.push((request, reply)),
                Request::Config(request, reply) => configs.push((request, reply)),
                Request::Shutdown(done) => shutdown = Some(done),
            }
        }
        if self.office.take_failure() {
            // The day document was rebuilt from its last save: the batch's changes are gone.
            for (_, result) in &mut replies {
                if result.is_ok() {
                    *result = Err(fila_protocol::Rejection::Internal);
                }
            }
        }
        let committed = self.commit_batch(now);
        for (respond, result) in replies {
            let answer = match (result, &committed) {
                (Ok(reply), Ok(())) => Ok(reply),
                (Err(rejection), _) => Err(LoopError::Rejected(rejection)),
                (Ok(_), Err(reason)) => Err(LoopError::Storage(reason.clone())),
            };
            self.guarded("a reply", |office| respond(office, now, answer));
        }
        // Nothing else is answered from memory the disk may not hold.
        committed?;
        for query in queries {
            self.guarded("a query", |office| query(office, now));
        }
        // Sync after the batch is durable: only what is on disk leaves the box.
        for (request, reply) in syncs {
            let answer = self.sync(request);
            if let Err(LoopError::Storage(reason)) = &answer {
                let reason = reason.clone();
                let _ = reply.send(answer);
                return Err(reason);
            }
            let _ = reply.send(answer);
            self.docs_in_sync.store(self.window.docs(), std::sync::atomic::Ordering::SeqCst);
        }
        for (request, reply) in configs {
            let _ = reply.send(self.config_request(request));
        }
        Ok(shutdown)
    }

    /// Run a handler's closure on the office: one that panics is a bug in that handler, and
    /// must cost that request only, never the office loop.
    fn guarded(&self, what: &str, f: impl FnOnce(&Office)) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(&self.office))) {
            tracing::error!(office = %self.office.config().id, what, panic = %panic_text(&panic), "handler panicked on the office loop");
        }
    }

    /// Make a batch's pending chunks durable, then publish its events. `Err` means the store
    /// failed: nothing of the batch may be acknowledged, and the loop must stop.
    fn commit_batch(&mut self, now: Timestamp) -> Result<(), String> {
        self.persist(now).map_err(|error| {
            tracing::error!(office = %self.office.config().id, %error, "the store failed; the batch is not durable");
            error.to_string()
        })?;
        while let Some(event) = self.office.poll_event() {
            if let Event::DayStarted(day) = &event {
                let bookings = self.appointments.of(&self.office.config().id, *day);
                crate::wait_history::refresh(&mut self.office, self.store.as_ref(), &bookings);
            }
            let _ = self.events.send(event);
        }
        if self.appended >= COMPACT_AFTER_CHUNKS {
            self.compact();
        }
        Ok(())
    }

    /// As [`Worker::commit_batch`], for a timer with no commands to answer.
    fn commit(&mut self) -> Result<(), String> {
        if self.office.take_failure() {
            tracing::error!(office = %self.office.config().id, "the day document was rebuilt at a timeout");
        }
        let now = (self.clock)();
        self.commit_batch(now)
    }

    fn persist(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let mut wrote = false;
        let current = self.office.doc_id();
        while let Some(Persist { doc_id, bytes }) = self.office.poll_persist() {
            if !self.noted.contains(&doc_id) {
                sync_window::note_doc(self.store.as_ref(), &doc_id)?;
                self.noted.insert(doc_id.clone());
            }
            self.store.append_chunk(&doc_id, &bytes)?;
            if doc_id == current {
                self.appended += 1;
            } else {
                self.appended = 1;
            }
            wrote = true;
        }
        if wrote {
            // The floor guards against clocks behind by minutes or days: a second's precision is
            // plenty, and spares a write in most batches.
            if now.ms_since(self.clock_stored) >= CLOCK_PRECISION_MS {
                self.store.put_meta(CLOCK_KEY, &now.0.to_be_bytes())?;
                self.clock_stored = now;
            }
            self.store.flush()?;
            self.changed.send_modify(|version| *version += 1);
        }
        Ok(())
    }

    /// The office admin's read or edit of the configuration document.
    fn config_request(
        &mut self,
        request: ConfigRequest,
    ) -> Result<(fila_protocol::RawOfficeConfig, String), LoopError> {
        let office = self.office.config().id.clone();
        let store = self.store.clone();
        let (config, base) = match request {
            ConfigRequest::Read => return self.window.read_config(store.as_ref(), &office).map_err(LoopError::from),
            ConfigRequest::Edit { config, base } => (config, base),
        };
        let (merged, version) = self.window.edit_config(store.as_ref(), &office, &config, base.as_deref())?;
        if let Err(problems) = merged.clone().validate() {
            let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            return Err(LoopError::Sync(format!("the merged configuration is invalid: {}", list.join("; "))));
        }
        self.apply_config(merged.clone());
        self.changed.send_modify(|version| *version += 1);
        Ok((merged, version))
    }

    /// One step of the sync protocol with central.
    fn sync(&mut self, request: SyncRequest) -> Result<Vec<Frame>, LoopError> {
        let store = self.store.clone();
        match request {
            SyncRequest::Start => {
                self.window.start(&self.office, store.as_ref());
                // Joins stored before a restart, or received while the day was starting.
                self.answer_remote_joins()?;
            }
            SyncRequest::Poll => {}
            SyncRequest::Receive(bytes) => {
                let office = self.office.config().id.clone();
                let frame = Frame::decode(&bytes, &office).map_err(|e| LoopError::Sync(e.to_string()))?;
                if let Frame::Sync { doc, message } = frame {
                    let recovering = self.office.is_recovering();
                    let received = self.window.receive(&mut self.office, store.as_ref(), &doc, &message);
                    if recovering && !self.office.is_recovering() {
                        // Stored with the day's chunks below: a restart before then recovers again.
                        if let Err(error) = store.put_meta(RECOVERY_KEY, RECOVERY_DONE) {
                            return Err(LoopError::Storage(error.to_string()));
                        }
                    }
                    match received {
                        // Whatever central sent is stored before anything is answered.
                        Ok(Received::Day) => {
                            if let Err(error) = self.persist((self.clock)()) {
                                // Memory holds what the disk lacks: the loop stops.
                                return Err(LoopError::Storage(error.to_string()));
                            }
                        }
                        Ok(Received::Config(config)) => self.apply_config(*config),
                        Ok(Received::Appointments(bookings)) => {
                            crate::wait_history::expect(&mut self.office, &bookings);
                            self.appointments.set(*bookings);
                        }
                        Ok(Received::Requests) => self.answer_remote_joins()?,
                        Ok(Received::Nothing) => {}
                        Err(error) => {
                            // A rebuild here only dropped what central sent: no acknowledged
                            // command is lost, so the next batch must not be failed for it.
                            self.office.take_failure();
                            return Err(LoopError::Sync(error));
                        }
                    }
                }
            }
        }
        Ok(self.window.outgoing(&mut self.office, store.as_ref()))
    }

    /// Remote joins central wrote that the day has not answered yet: each becomes a ticket or a
    /// recorded refusal, stored (and announced) before the frames that tell central go out. A
    /// join the office cannot answer now (recovering, a clock behind) waits for the next pass.
    fn answer_remote_joins(&mut self) -> Result<(), LoopError> {
        let Some(requests) = self.window.requests(&self.office) else { return Ok(()) };
        let answered = self.office.day().remote_answered();
        let pending: Vec<fila_protocol::remote::Request> =
            requests.requests.values().filter(|r| !answered.contains(r.id.as_str())).cloned().collect();
        if pending.is_empty() {
            return Ok(());
        }
        let now = (self.clock)();
        let office = self.office.config().id.clone();
        for request in pending {
            let id = request.id.clone();
            let command = Command::JoinRemote { request, token: crate::auth::tracking_token() };
            match self.office.handle_command(now, command) {
                Ok(Reply::Ticket(ticket)) => {
                    tracing::info!(office, request = id, ticket = %ticket.number, "remote join issued")
                }
                Ok(Reply::Refused(refusal)) => {
                    tracing::info!(office, request = id, reason = refusal.reason.name(), "remote join refused")
                }
                Ok(_) => {}
                Err(rejection) => tracing::warn!(office, request = id, %rejection, "remote join left for later"),
            }
        }
        self.commit_batch(now).map_err(LoopError::Storage)
    }

    /// Headquarters changed the configuration: a valid one takes effect now, an invalid merge
    /// leaves the office on its last valid one.
    fn apply_config(&mut self, raw: fila_protocol::RawOfficeConfig) {
        let office = self.office.config().id.clone();
        match raw.validate() {
            Ok(config) if config.id == office => {
                let shared = Arc::new(config.clone());
                match self.office.replace_config(config) {
                    Ok(()) => {
                        if let Ok(mut current) = self.config.write() {
                            *current = shared;
                        }
                    }
                    Err(_) => tracing::error!(
                        office,
                        "configuration from headquarters changes the office id or time zone; ignored"
                    ),
                }
            }
            Ok(config) => tracing::error!(office, other = %config.id, "configuration for another office ignored"),
            Err(problems) => {
                let problems: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
                tracing::error!(
                    office,
                    ?problems,
                    "configuration from headquarters is invalid; the last valid one stays"
                );
            }
        }
    }

    fn compact(&mut self) {
        let snapshot = self.office.snapshot();
        let result = self.store.replace_chunks(&snapshot.doc_id, &snapshot.bytes).and_then(|()| self.store.flush());
        match result {
            Ok(()) => {
                tracing::info!(doc = %snapshot.doc_id, bytes = snapshot.bytes.len(), "day document compacted");
                self.appended = 1;
            }
            Err(error) => {
                tracing::error!(doc = %snapshot.doc_id, %error, "compaction failed; chunks kept")
            }
        }
    }
}
