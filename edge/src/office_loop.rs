//! The office loop: one thread owns the `Office`, its store and its timer. It is the only
//! writer of the office's queue.
//!
//! Requests arrive over a bounded channel. The loop takes every request waiting (up to a
//! batch), applies them in order, writes the resulting document chunks, flushes the store once,
//! and only then answers: group commit, never an acknowledgement before its flush. Screens and
//! devices hear the events of a batch after that same flush, so nothing ever shows a ticket that
//! a crash could take back.

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

/// Restore the office from the store and start its loop on a thread of its own.
pub fn spawn(config: OfficeConfig, store: Arc<dyn Store>, clock: Clock) -> anyhow::Result<OfficeHandle> {
    let office = restore(&config, store.as_ref(), &clock)?;
    tracing::info!(
        office = %config.id, day = %office.day().day, tickets = office.day().tickets.len(),
        "office restored"
    );
    let (requests, inbox) = mpsc::sync_channel(CHANNEL_CAPACITY);
    let (events, _) = broadcast::channel(EVENT_CAPACITY);
    let (changed, changes) = watch::channel(0);
    let shared = Arc::new(RwLock::new(Arc::new(config)));
    let docs_in_sync = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let handle = OfficeHandle {
        requests,
        events: events.clone(),
        config: shared.clone(),
        changes,
        docs_in_sync: docs_in_sync.clone(),
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
    };
    thread::Builder::new().name("office-loop".into()).spawn(move || worker.run(inbox))?;
    Ok(handle)
}

fn restore(config: &OfficeConfig, store: &dyn Store, clock: &Clock) -> anyhow::Result<Office> {
    let now = clock();
    let day = fila_protocol::BusinessDay::containing(now, &config.time_zone);
    let doc_id = fila_protocol::doc::keys::day_doc_id(&config.id, day);
    let chunks = store.chunks(&doc_id)?;
    // A fresh actor per start: an automerge actor must never reuse a sequence number, and a
    // crash may have lost changes this actor made but never stored.
    let actor = crate::auth::tracking_token().into_bytes();
    let office = Office::restore(config.clone(), actor, now, &chunks)
        .map_err(|e| anyhow::anyhow!("day document {doc_id} cannot be read: {e}"))?;
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
}

impl Worker {
    fn run(&mut self, inbox: mpsc::Receiver<Request>) {
        loop {
            let now = (self.clock)();
            let wait_ms = self.office.next_deadline().ms_since(now).clamp(0, 60_000) as u64;
            let first = match inbox.recv_timeout(Duration::from_millis(wait_ms)) {
                Ok(request) => request,
                Err(RecvTimeoutError::Timeout) => {
                    self.office.handle_timeout((self.clock)());
                    let _ = self.commit(Vec::new());
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = vec![first];
            while batch.len() < BATCH_MAX {
                match inbox.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            if let Some(done) = self.handle_batch(batch) {
                // Leave one snapshot behind: the next start loads it in one go.
                self.compact();
                tracing::info!(office = %self.office.config().id, "office loop stopped");
                let _ = done.send(());
                return;
            }
        }
    }

    /// Apply a batch; returns the shutdown acknowledgement if the batch asked to stop.
    fn handle_batch(&mut self, batch: Vec<Request>) -> Option<oneshot::Sender<()>> {
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
        let committed = self.commit(replies.iter().map(|(_, r)| r.is_ok()).collect());
        for ((respond, result), durable) in replies.into_iter().zip(committed) {
            let answer = match (result, durable) {
                (Ok(reply), Ok(())) => Ok(reply),
                (Err(rejection), _) => Err(LoopError::Rejected(rejection)),
                (Ok(_), Err(e)) => Err(e),
            };
            respond(&self.office, now, answer);
        }
        for query in queries {
            query(&self.office, now);
        }
        // Sync after the batch is durable: only what is on disk leaves the box.
        for (request, reply) in syncs {
            let _ = reply.send(self.sync(request));
            self.docs_in_sync.store(self.window.docs(), std::sync::atomic::Ordering::SeqCst);
        }
        for (request, reply) in configs {
            let _ = reply.send(self.config_request(request));
        }
        shutdown
    }

    /// Make the office's pending chunks durable, then publish its events. Returns, for each
    /// accepted command of the batch, whether it may be acknowledged.
    fn commit(&mut self, accepted: Vec<bool>) -> Vec<Result<(), LoopError>> {
        let failed = self.office.take_failure();
        let stored = self.persist();
        let verdict = match (&stored, failed) {
            (Err(e), _) => Err(e.to_string()),
            (Ok(()), true) => Err("the day document was rebuilt".to_string()),
            (Ok(()), false) => Ok(()),
        };
        match verdict {
            Ok(()) => {
                while let Some(event) = self.office.poll_event() {
                    let _ = self.events.send(event);
                }
                if self.appended >= COMPACT_AFTER_CHUNKS {
                    self.compact();
                }
                accepted.iter().map(|_| Ok(())).collect()
            }
            Err(reason) => {
                tracing::error!(office = %self.office.config().id, %reason, "batch not durable; reloading from the store");
                self.reload();
                accepted.iter().map(|_| Err(LoopError::Storage(reason.clone()))).collect()
            }
        }
    }

    fn persist(&mut self) -> Result<(), StoreError> {
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
            SyncRequest::Start => self.window.start(&self.office, store.as_ref()),
            SyncRequest::Poll => {}
            SyncRequest::Receive(bytes) => {
                let office = self.office.config().id.clone();
                let frame = Frame::decode(&bytes, &office).map_err(|e| LoopError::Sync(e.to_string()))?;
                if let Frame::Sync { doc, message } = frame {
                    let received = self.window.receive(&mut self.office, store.as_ref(), &doc, &message);
                    match received {
                        // Whatever central sent is stored before anything is answered.
                        Ok(Received::Day) => {
                            if let Err(error) = self.persist() {
                                // Memory holds what the disk lacks: start again from the disk.
                                self.reload();
                                return Err(LoopError::Storage(error.to_string()));
                            }
                        }
                        Ok(Received::Config(config)) => self.apply_config(config),
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

    /// After a failed write, memory may hold what the disk does not: start again from the disk.
    fn reload(&mut self) {
        match restore(self.office.config(), self.store.as_ref(), &self.clock) {
            Ok(office) => {
                self.office = office;
                self.appended = 0;
            }
            Err(error) => tracing::error!(%error, "office could not be reloaded from the store"),
        }
        while self.office.poll_event().is_some() {}
    }
}
