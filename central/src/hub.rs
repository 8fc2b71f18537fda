//! The hub: every configured office's live state, shared by the sync connections and the HQ API.
//!
//! Per office it keeps whether an edge is connected (and since when it was last heard), which
//! documents central holds, and, while an edge is connected, its documents in memory with the
//! automerge sync state for that edge. Frames are handled here, without sockets: the WebSocket
//! shell in `http/sync.rs` moves the bytes and runs [`Hub::handle_frames`] on a blocking thread,
//! for every frame the connection has waiting.
//!
//! What central acknowledges it holds: a change that arrives is appended to the store and
//! flushed before any reply leaves, so the heads central reports to the edge are on disk; the
//! frames of one step share that flush.
//! One connection per office owns its sync state; a newer one replaces it.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::AutoCommit;
use fila_protocol::booking::Appointments;
use fila_protocol::doc::appointments::Writer;
use fila_protocol::doc::day::{accept_received, read_day};
use fila_protocol::doc::keys::{appointments_doc_id, config_doc_id, day_doc_id, requests_doc_id, DocId};
use fila_protocol::doc::load_chunks;
use fila_protocol::doc::DocError;
use fila_protocol::remote::{Request, Requests};
use fila_protocol::sync::{PeerSync, SyncError};
use fila_protocol::wire::{Frame, FrameError};
use fila_protocol::{BusinessDay, Day, RawOfficeConfig};
use fila_store::{Store, StoreError, StoredElsewhere};
use thiserror::Error;
use tokio::sync::{oneshot, watch};

use crate::day_window::DayWindow;
use crate::doc_cache::{DocCache, ReadCache};
use crate::metrics::Metrics;
use crate::presence::Link;
use crate::replacements::Replacements;
use crate::settings::OfficeSettings;

/// Central's clock, in ms since the Unix epoch (tests set it to their scenario's date).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64))
}

/// A document with more chunks than this is compacted into one snapshot: loading many small
/// chunks costs more than one, and the history is all in the snapshot anyway.
pub const COMPACT_AFTER_CHUNKS: usize = 500;
/// Replies generated for one incoming message; automerge usually has one thing to say, and a
/// bound keeps a confused sync state from looping.
const REPLIES_PER_MESSAGE_MAX: usize = 8;
/// Central has one peer per document: the edge that owns the office.
const PEER: &str = "edge";
const INDEX_PREFIX: &str = "doc/";
/// Why an older connection of an office closes, however it learns of the newer one.
pub const REPLACED: &str = "replaced by a newer connection of this office";

fn peer_key(doc_id: &str) -> String {
    format!("sync/{doc_id}/{PEER}")
}

/// The store cannot list its documents, so central keeps an index of those it holds in meta.
fn index_key(doc_id: &str) -> String {
    format!("{INDEX_PREFIX}{doc_id}")
}

pub struct Hub {
    store: Arc<dyn Store>,
    offices: BTreeMap<String, Arc<OfficeSlot>>,
    metrics: Metrics,
    compact_after_chunks: usize,
    /// Set once when central stops: every connection closes.
    stopping: watch::Sender<bool>,
    /// The days an edge may name are around this clock's date.
    clock: Clock,
    window: DayWindow,
    /// Documents headquarters reads or writes while no edge holds them live (a day of
    /// appointments being booked), kept loaded.
    at_rest: DocCache<AtRest>,
    /// Bookings and configurations as last read, by document heads.
    appointments_read: ReadCache<Appointments>,
    configs_read: ReadCache<Option<(RawOfficeConfig, String)>>,
    /// Days as last read for citizens' pages (a remote join's), by document heads.
    days_read: ReadCache<Day>,
    /// Stores of each document since this process started: what read-side caches key on.
    generations: Mutex<HashMap<String, u64>>,
    /// Offices connected to other replicas of central, as they last wrote (`presence.rs`).
    elsewhere: Mutex<BTreeMap<String, Link>>,
}

/// Documents kept loaded at rest: enough for the days being booked across a network.
const AT_REST_DOCS: usize = 256;
/// Reads kept per kind: every office's configuration in a large network.
const READS_KEPT: usize = 10_000;

struct OfficeSlot {
    id: String,
    name: String,
    status: Mutex<OfficeStatus>,
    /// Documents of the connected edge, with their sync state. Lock order: `docs`, then `status`.
    docs: Mutex<HashMap<String, LiveDoc>>,
    /// Bumped when headquarters changed one of the office's documents: its connection wakes and
    /// sends the change to the edge.
    pushes: watch::Sender<u64>,
}

#[derive(Default)]
struct OfficeStatus {
    connections: u32,
    last_seen_ms: Option<i64>,
    /// The connection that owns the sync state, and how to ask it to leave.
    current: Option<(u64, oneshot::Sender<()>)>,
    generations: u64,
    held: BTreeSet<String>,
    /// How old the newest change was when it reached central, in ms: the replication delay.
    sync_lag_ms: Option<i64>,
    /// Connections replaced by a newer one of the same office.
    replacements: Replacements,
}

struct LiveDoc {
    doc: AutoCommit,
    /// The last stored chunk the document holds, with every one before it.
    through: Option<u64>,
    peer: PeerSync,
    chunks: usize,
    /// For a day document, the day as last accepted: every change is checked against it.
    day: Option<Day>,
}

/// Whether an edit of a document may change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// A document kept loaded at rest, and the last stored chunk it holds with every one before it.
#[derive(Clone)]
struct AtRest {
    doc: AutoCommit,
    through: Option<u64>,
}

/// A live copy caught up with what another replica stored: its day is read again and its edge
/// is sent what is new to it.
fn news_for_edge(slot: &OfficeSlot, day: &mut Option<Day>, doc: &AutoCommit) {
    if day.is_some() {
        *day = read_day(doc).ok();
    }
    slot.pushes.send_modify(|n| *n += 1);
}

/// A chunk this process stored as `seq` joins what `through` says a copy holds only if it comes
/// right after: another replica may have stored one in between that the copy lacks.
fn advance(through: &mut Option<u64>, seq: u64) {
    if through.map_or(seq <= 1, |through| seq == through + 1) {
        *through = Some(seq);
    }
}

/// One edge's WebSocket, as far as the hub is concerned.
pub struct Connection {
    id: ConnectionId,
    /// Documents named in `Docs` frames on this connection: the only ones it may sync.
    named: HashSet<String>,
}

/// Enough to say goodbye, even if the connection's state was lost with a panicking frame.
#[derive(Clone)]
pub struct ConnectionId {
    slot: Arc<OfficeSlot>,
    generation: u64,
}

impl ConnectionId {
    pub fn office(&self) -> &str {
        &self.slot.id
    }
}

impl Connection {
    pub fn id(&self) -> &ConnectionId {
        &self.id
    }
}

/// Why a connection must end.
#[derive(Debug, Error)]
pub enum SyncFailure {
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("document {0:?} was not named in a Docs frame on this connection")]
    NotAnnounced(String),
    #[error("document {doc:?}: {error}")]
    Sync { doc: String, error: SyncError },
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("{REPLACED}")]
    Replaced,
    /// The change breaks the day's rules or rewrites its history; nothing of it is stored.
    #[error("document {doc:?}: {reason}")]
    Breach { doc: String, reason: String },
    #[error("document {doc:?} refused: {reason}")]
    OutOfWindow { doc: String, reason: String },
    /// Each named document is held in memory while the connection lasts: a connection names at
    /// most as many as one frame may list.
    #[error("this connection names more than {max} documents", max = fila_protocol::limits::SYNC_DOCS_MAX)]
    TooManyDocs,
}

impl SyncFailure {
    /// The edge sent something central refuses (as opposed to central failing).
    pub fn is_refusal(&self) -> bool {
        match self {
            SyncFailure::Frame(_)
            | SyncFailure::NotAnnounced(_)
            | SyncFailure::Breach { .. }
            | SyncFailure::OutOfWindow { .. }
            | SyncFailure::TooManyDocs => true,
            SyncFailure::Sync { error, .. } => !matches!(error, SyncError::Panicked),
            SyncFailure::Store(_) | SyncFailure::Replaced => false,
        }
    }
}

#[derive(Debug, Error)]
pub enum ReadError {
    #[error("there is no office {0:?}")]
    UnknownOffice(String),
    #[error("central holds no day {day} of office {office:?}")]
    NoDocument { office: String, day: BusinessDay },
    #[error("the stored document is not a readable day: {0}")]
    Unreadable(#[from] DocError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An office as the HQ API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeSummary {
    pub id: String,
    pub name: String,
    pub online: bool,
    pub last_seen_ms: Option<i64>,
    /// How old the newest change was when it reached central (ms); `None` before any change.
    pub sync_lag_ms: Option<i64>,
    pub docs: Vec<String>,
    /// `token_shared`: its connections keep replacing each other (see `replacements.rs`).
    pub alerts: Vec<String>,
}

/// Counts for health checks and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    pub configured: usize,
    pub online: usize,
    pub docs_held: usize,
    /// The largest replication delay among online offices, in ms.
    pub sync_lag_ms_max: i64,
}

impl Hub {
    pub fn open(store: Arc<dyn Store>, offices: &[OfficeSettings]) -> Result<Hub, StoreError> {
        let mut held: HashMap<String, BTreeSet<String>> = HashMap::new();
        for (key, _) in store.scan_meta(INDEX_PREFIX)? {
            let doc_id = &key[INDEX_PREFIX.len()..];
            if let Some(office) = fila_protocol::doc::keys::DocId::parse(doc_id) {
                held.entry(office.office().to_string()).or_default().insert(doc_id.to_string());
            }
        }
        let offices = offices
            .iter()
            .map(|office| {
                let status = OfficeStatus { held: held.remove(&office.id).unwrap_or_default(), ..Default::default() };
                let slot = OfficeSlot {
                    id: office.id.clone(),
                    name: office.name.clone(),
                    status: Mutex::new(status),
                    docs: Mutex::new(HashMap::new()),
                    pushes: watch::channel(0).0,
                };
                (office.id.clone(), Arc::new(slot))
            })
            .collect();
        Ok(Hub {
            store,
            offices,
            metrics: Metrics::default(),
            compact_after_chunks: COMPACT_AFTER_CHUNKS,
            stopping: watch::channel(false).0,
            clock: system_clock(),
            window: DayWindow::default(),
            at_rest: DocCache::new(AT_REST_DOCS),
            appointments_read: ReadCache::new(READS_KEPT),
            configs_read: ReadCache::new(READS_KEPT),
            days_read: ReadCache::new(READS_KEPT),
            generations: Mutex::new(HashMap::new()),
            elsewhere: Mutex::new(BTreeMap::new()),
        })
    }

    /// The same hub on another clock (tests replay a scenario's date).
    pub fn with_clock(mut self, clock: Clock) -> Hub {
        self.clock = clock;
        self
    }

    /// Central's time now, by its clock.
    pub fn now(&self) -> fila_protocol::Timestamp {
        fila_protocol::Timestamp((self.clock)())
    }

    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// An edge of `office` connected. The receiver fires if a newer connection replaces it.
    pub fn connect(&self, office: &str, now_ms: i64) -> Option<(Connection, oneshot::Receiver<()>)> {
        let slot = self.offices.get(office)?.clone();
        let (replace, replaced) = oneshot::channel();
        let generation = {
            let mut status = slot.status();
            status.generations += 1;
            let generation = status.generations;
            if let Some((_, older)) = status.current.replace((generation, replace)) {
                // The older connection may already be gone; then there is nobody to tell.
                let _ = older.send(());
                if status.replacements.replaced(now_ms) {
                    tracing::warn!(
                        target: "security",
                        office,
                        "connections of this office keep replacing each other: two boxes share its \
                         branch token, or it was stolen"
                    );
                }
            }
            status.connections += 1;
            status.last_seen_ms = Some(now_ms);
            generation
        };
        Some((Connection { id: ConnectionId { slot, generation }, named: HashSet::new() }, replaced))
    }

    /// The edge was heard from (any message, pongs included).
    pub fn seen(&self, id: &ConnectionId, now_ms: i64) {
        id.slot.status().last_seen_ms = Some(now_ms);
    }

    /// The connection ended. The office is offline once its last connection ends, and the
    /// documents of the connection that owned them leave memory (they are all in the store).
    pub fn disconnect(&self, id: &ConnectionId, now_ms: i64) {
        let mut docs = id.slot.docs();
        let mut status = id.slot.status();
        status.connections = status.connections.saturating_sub(1);
        status.last_seen_ms = Some(now_ms);
        if status.current.as_ref().is_some_and(|(generation, _)| *generation == id.generation) {
            status.current = None;
            docs.clear();
        }
    }

    /// Resolves once central is stopping.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    /// Ask every connection to close (central is stopping).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.store.flush()
    }

    /// Handle one binary WebSocket message from an edge: the encoded frames to send back, or
    /// why the connection must close. A refused frame changes nothing that is stored.
    pub fn handle_frame(&self, connection: &mut Connection, bytes: &[u8]) -> Result<Vec<Vec<u8>>, SyncFailure> {
        self.handle_frames(connection, &[bytes])
    }

    /// Frames that arrived together, handled in order as one step: each is checked as on its
    /// own, and what they stored is made durable once, before any reply leaves (group commit: a
    /// busy office's messages cost one disk sync, not one each). A refused frame ends the step;
    /// what the frames before it stored is still made durable.
    pub fn handle_frames<B: AsRef<[u8]>>(
        &self,
        connection: &mut Connection,
        frames: &[B],
    ) -> Result<Vec<Vec<u8>>, SyncFailure> {
        let mut wrote = false;
        let mut replies = Vec::new();
        let mut result = Ok(());
        for bytes in frames {
            match self.handle_one(connection, bytes.as_ref(), &mut wrote) {
                Ok(out) => replies.extend(out),
                Err(failure) => {
                    result = Err(failure);
                    break;
                }
            }
        }
        if wrote {
            // The replies tell the edge what central has: it must be on disk first.
            self.store.flush()?;
        }
        result.map(|()| replies)
    }

    fn handle_one(
        &self,
        connection: &mut Connection,
        bytes: &[u8],
        wrote: &mut bool,
    ) -> Result<Vec<Vec<u8>>, SyncFailure> {
        let result = self.frame(connection, bytes, wrote);
        let office = connection.id.office();
        match &result {
            Ok(_) => self.metrics.frame_in(),
            Err(error) if error.is_refusal() => {
                self.metrics.frame_rejected();
                if matches!(error, SyncFailure::Breach { .. }) {
                    self.metrics.change_refused();
                }
                tracing::warn!(office, %error, "frame refused");
            }
            Err(SyncFailure::Replaced) => {}
            Err(error) => tracing::error!(office, %error, "frame failed"),
        }
        result
    }

    fn frame(&self, connection: &mut Connection, bytes: &[u8], wrote: &mut bool) -> Result<Vec<Vec<u8>>, SyncFailure> {
        let frame = Frame::decode(bytes, connection.id.office())?;
        if !connection.id.slot.is_current(connection.id.generation) {
            return Err(SyncFailure::Replaced);
        }
        let (doc, bytes, snapshot) = match frame {
            Frame::Docs { docs } => return self.start(connection, docs),
            Frame::Sync { doc, message } => (doc, message, false),
            Frame::Snapshot { doc, bytes } => (doc, bytes, true),
        };
        if !connection.named.contains(&doc) {
            return Err(SyncFailure::NotAnnounced(doc));
        }
        let mut live = connection.id.slot.docs();
        let result = self.sync(&connection.id.slot, &mut live, &doc, &bytes, snapshot, wrote);
        if result.is_err() {
            // Memory may hold part of what failed: the next use reloads what is stored.
            live.remove(&doc);
        }
        result
    }

    /// A `Docs` frame: (re)start the sync of each named document and say hello for it.
    fn start(&self, connection: &mut Connection, docs: Vec<String>) -> Result<Vec<Vec<u8>>, SyncFailure> {
        // All checked before any is loaded: a refused frame changes nothing.
        let now = (self.clock)();
        for doc in &docs {
            self.window.admits(doc, now).map_err(|reason| SyncFailure::OutOfWindow { doc: doc.clone(), reason })?;
        }
        let named = connection.named.iter().chain(&docs).collect::<HashSet<_>>().len();
        if named > fila_protocol::limits::SYNC_DOCS_MAX {
            return Err(SyncFailure::TooManyDocs);
        }
        let mut live = connection.id.slot.docs();
        let mut out = Vec::new();
        for doc_id in docs {
            let entry = match live.entry(doc_id.clone()) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => entry.insert(self.load(&connection.id.slot, &doc_id)?),
            };
            entry.peer.restart();
            if let Some(message) = entry.peer.generate(&mut entry.doc) {
                out.push(Frame::Sync { doc: doc_id.clone(), message }.encode());
            }
            connection.named.insert(doc_id);
        }
        Ok(out)
    }

    /// A `Sync` or `Snapshot` frame: apply it, store what changed, then answer.
    fn sync(
        &self,
        slot: &OfficeSlot,
        live: &mut HashMap<String, LiveDoc>,
        doc_id: &str,
        message: &[u8],
        snapshot: bool,
        wrote: &mut bool,
    ) -> Result<Vec<Vec<u8>>, SyncFailure> {
        let entry = match live.entry(doc_id.to_string()) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(self.load(slot, doc_id)?),
        };
        let before = entry.doc.get_heads();
        let received = if snapshot {
            entry.peer.receive_snapshot(&mut entry.doc, message)
        } else {
            entry.peer.receive(&mut entry.doc, message)
        };
        let changed = received.map_err(|error| SyncFailure::Sync { doc: doc_id.to_string(), error })?;
        if changed {
            // Central is the only writer of bookings: an edge that changes them is refused,
            // whatever it wrote (the caller drops this in-memory copy, nothing is stored).
            if matches!(DocId::parse(doc_id), Some(DocId::Appointments { .. } | DocId::Requests { .. })) {
                return Err(SyncFailure::Breach {
                    doc: doc_id.to_string(),
                    reason: "an office may not write bookings or remote joins; central alone does".into(),
                });
            }
            // Checked before anything is stored: the caller drops this in-memory copy on error.
            entry.day = accept_received(doc_id, entry.day.as_ref(), &entry.doc)
                .map_err(|reason| SyncFailure::Breach { doc: doc_id.to_string(), reason })?;
        }
        if changed {
            // A first snapshot is stored as it came (compressed); otherwise only the new changes
            // (not save_incremental: after a load it would save the whole document again).
            let chunk = if snapshot && before.is_empty() { entry.doc.save() } else { entry.doc.save_after(&before) };
            let seq = self.store.append_chunk(doc_id, &chunk)?;
            advance(&mut entry.through, seq);
            // The edge stamps each change with its commit time (whole seconds).
            let newest = entry
                .doc
                .get_heads()
                .iter()
                .filter_map(|h| entry.doc.get_change_by_hash(h))
                .map(|c| c.timestamp())
                .max();
            // Only live traffic measures lag: a past day caught up after an outage is backlog.
            let live_traffic = !snapshot && doc_id.contains("/day/");
            if let (Some(seconds), true) = (newest, live_traffic) {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                slot.status().sync_lag_ms = Some(now.saturating_sub(seconds.saturating_mul(1000)).max(0));
            }
            entry.chunks += 1;
            self.hold(slot, doc_id)?;
        }
        self.store.put_meta(&peer_key(doc_id), &entry.peer.persist())?;
        if changed {
            if entry.chunks > self.compact_after_chunks {
                // With other replicas writing too, only what this copy holds is replaced.
                match (self.store.shared(), entry.through) {
                    (false, _) => self.store.replace_chunks(doc_id, &entry.doc.save())?,
                    (true, Some(through)) => self.store.replace_chunks_through(doc_id, &entry.doc.save(), through)?,
                    (true, None) => {}
                }
                tracing::info!(office = %slot.id, doc = doc_id, chunks = entry.chunks, "document compacted");
                entry.chunks = 1;
            }
            // The caller flushes before the replies below leave.
            *wrote = true;
        }
        let out: Vec<Vec<u8>> = std::iter::from_fn(|| entry.peer.generate(&mut entry.doc))
            .take(REPLIES_PER_MESSAGE_MAX)
            .map(|message| Frame::Sync { doc: doc_id.to_string(), message }.encode())
            .collect();
        Ok(out)
    }

    /// A document and its sync state as stored; an unknown document starts empty (central never
    /// writes a day's content itself: the edge's first sync brings the skeleton).
    fn load(&self, slot: &OfficeSlot, doc_id: &str) -> Result<LiveDoc, StoreError> {
        let (AtRest { mut doc, through }, chunks) = match self.at_rest.take(doc_id) {
            Some(at_rest) => (at_rest, self.store.chunk_count(doc_id)?),
            None => self.read_stored(doc_id)?,
        };
        let peer = match self.store.get_meta(&peer_key(doc_id))? {
            Some(bytes) => restore_peer(doc_id, &mut doc, &bytes),
            None => PeerSync::new(),
        };
        if chunks > 0 {
            self.hold(slot, doc_id)?;
        }
        let day = match doc.get_heads().is_empty() {
            true => None,
            false => read_day(&doc).ok(),
        };
        Ok(LiveDoc { doc, through, peer, chunks, day })
    }

    /// A document as stored now, and how many chunks it is stored in.
    fn read_stored(&self, doc_id: &str) -> Result<(AtRest, usize), StoreError> {
        let chunks = self.store.chunks_after(doc_id, None)?;
        let through = chunks.last().map(|(seq, _)| *seq);
        let bytes: Vec<Vec<u8>> = chunks.into_iter().map(|(_, bytes)| bytes).collect();
        Ok((AtRest { doc: load_chunks(doc_id, &bytes), through }, bytes.len()))
    }

    /// Brings a copy of a document up to what the store holds, where other replicas write too;
    /// says whether it changed.
    fn catch_up(&self, doc_id: &str, doc: &mut AutoCommit, through: &mut Option<u64>) -> Result<bool, StoreError> {
        if !self.store.shared() {
            return Ok(false);
        }
        let newer = self.store.chunks_after(doc_id, *through)?;
        if newer.is_empty() {
            return Ok(false);
        }
        let before = doc.get_heads();
        for (seq, bytes) in newer {
            // Written by a replica of central, so checked before it was stored; a chunk that
            // does not load is left out as a damaged one is.
            if let Err(error) = doc.load_incremental(&bytes) {
                tracing::error!(doc = doc_id, seq, %error, "a stored chunk does not load; skipped");
            }
            *through = Some(seq);
        }
        Ok(doc.get_heads() != before)
    }

    /// Another replica of central stored `change`: copies held here catch up, caches of what
    /// was read from them lapse, and an edge connected here is sent what is new to it.
    pub fn stored_elsewhere(&self, change: &StoredElsewhere) {
        match change {
            StoredElsewhere::Doc(doc_id) => self.doc_stored_elsewhere(doc_id),
            StoredElsewhere::Anything => {
                self.at_rest.forget_all();
                for slot in self.offices.values() {
                    let docs: Vec<String> = slot.docs().keys().cloned().collect();
                    for doc_id in docs {
                        self.doc_stored_elsewhere(&doc_id);
                    }
                }
            }
        }
    }

    fn doc_stored_elsewhere(&self, doc_id: &str) {
        self.bump_generation(doc_id);
        self.at_rest.forget(doc_id);
        let Some(slot) = DocId::parse(doc_id).and_then(|id| self.offices.get(id.office())) else { return };
        let mut live = slot.docs();
        if let Some(entry) = live.get_mut(doc_id) {
            match self.catch_up(doc_id, &mut entry.doc, &mut entry.through) {
                Ok(false) => {}
                Ok(true) => news_for_edge(slot, &mut entry.day, &entry.doc),
                Err(error) => {
                    tracing::error!(doc = doc_id, %error, "cannot catch up with another replica; reloading");
                    live.remove(doc_id);
                }
            }
        }
        slot.status().held.insert(doc_id.to_string());
    }

    /// Note in the index that central holds `doc_id` (made durable by the caller's flush).
    fn hold(&self, slot: &OfficeSlot, doc_id: &str) -> Result<(), StoreError> {
        self.bump_generation(doc_id);
        let mut status = slot.status();
        if !status.held.contains(doc_id) {
            self.store.put_meta(&index_key(doc_id), &[])?;
            status.held.insert(doc_id.to_string());
        }
        Ok(())
    }

    fn bump_generation(&self, doc_id: &str) {
        *crate::doc_cache::lock(&self.generations).entry(doc_id.to_string()).or_default() += 1;
    }

    /// How many times `doc_id` was stored since central started: a value that changes whenever
    /// the document does, for caches of what is computed from it.
    pub fn generation(&self, doc_id: &str) -> u64 {
        crate::doc_cache::lock(&self.generations).get(doc_id).copied().unwrap_or(0)
    }

    /// The offices connected here, with when each was last heard and its replication delay.
    pub fn links_here(&self) -> BTreeMap<String, Link> {
        self.offices
            .values()
            .filter_map(|slot| {
                let status = slot.status();
                (status.connections > 0).then(|| {
                    (slot.id.clone(), Link { last_seen_ms: status.last_seen_ms, sync_lag_ms: status.sync_lag_ms })
                })
            })
            .collect()
    }

    /// The offices connected to other replicas now.
    pub fn set_links_elsewhere(&self, links: BTreeMap<String, Link>) {
        *crate::doc_cache::lock(&self.elsewhere) = links;
    }

    /// An office's link: here, else through another replica; and when it was last heard of.
    fn link(&self, slot: &OfficeSlot, status: &OfficeStatus) -> (bool, Option<i64>, Option<i64>) {
        if status.connections > 0 {
            return (true, status.last_seen_ms, status.sync_lag_ms);
        }
        match crate::doc_cache::lock(&self.elsewhere).get(&slot.id) {
            Some(link) => (true, link.last_seen_ms.max(status.last_seen_ms), link.sync_lag_ms),
            None => (false, status.last_seen_ms, status.sync_lag_ms),
        }
    }

    /// Every configured office, by id.
    pub fn offices(&self) -> Vec<OfficeSummary> {
        // Connections are stamped with the wall clock (`connect`'s caller), so alerts age by it.
        let now = system_clock()();
        self.offices
            .values()
            .map(|slot| {
                let status = slot.status();
                let (online, last_seen_ms, sync_lag_ms) = self.link(slot, &status);
                OfficeSummary {
                    id: slot.id.clone(),
                    name: slot.name.clone(),
                    online,
                    last_seen_ms,
                    sync_lag_ms,
                    docs: status.held.iter().cloned().collect(),
                    alerts: status.replacements.alerting(now).then(|| "token_shared".to_string()).into_iter().collect(),
                }
            })
            .collect()
    }

    pub fn census(&self) -> Census {
        let mut census = Census { configured: self.offices.len(), online: 0, docs_held: 0, sync_lag_ms_max: 0 };
        for slot in self.offices.values() {
            let status = slot.status();
            let (online, _, sync_lag_ms) = self.link(slot, &status);
            census.online += usize::from(online);
            census.docs_held += status.held.len();
            if online {
                census.sync_lag_ms_max = census.sync_lag_ms_max.max(sync_lag_ms.unwrap_or(0));
            }
        }
        census
    }

    /// Per office: connections replaced so far, and whether that is an alert now.
    pub fn replacements(&self) -> Vec<(String, u64, bool)> {
        let now = system_clock()();
        self.offices
            .values()
            .map(|slot| {
                let status = slot.status();
                (slot.id.clone(), status.replacements.total, status.replacements.alerting(now))
            })
            .collect()
    }

    /// A business day of an office, read from what central has stored.
    pub fn day(&self, office: &str, day: BusinessDay) -> Result<Day, ReadError> {
        if !self.offices.contains_key(office) {
            return Err(ReadError::UnknownOffice(office.to_string()));
        }
        let doc_id = day_doc_id(office, day);
        let chunks = self.store.chunks(&doc_id)?;
        let mut doc = load_chunks(&doc_id, &chunks);
        if doc.get_heads().is_empty() {
            return Err(ReadError::NoDocument { office: office.to_string(), day });
        }
        Ok(read_day(&doc)?)
    }

    /// The office's configuration document as central holds it; `None` if it holds none.
    /// Wakes when headquarters changed one of the office's documents.
    pub fn pushes(&self, office: &str) -> Option<watch::Receiver<u64>> {
        self.offices.get(office).map(|slot| slot.pushes.subscribe())
    }

    /// Set an office's configuration (headquarters owns it). The first one creates the
    /// office's configuration document; later ones change only the fields that differ, so edits
    /// made at the office meanwhile merge by the rule in `fila_protocol::doc::config::update`.
    /// A connected edge is sent the change at once. Returns whether anything changed.
    /// With `base` (the version the editor saw, from [`Hub::config`]), fields changed since by
    /// someone else are kept unless this edit changes them too.
    pub fn set_config(&self, office: &str, config: &RawOfficeConfig, base: Option<&str>) -> Result<bool, ReadError> {
        let changed = self.edit_doc(Access::Write, office, &config_doc_id(office), |doc| {
            let changed = match (doc.get_heads().is_empty(), base) {
                (true, None) => {
                    *doc = fila_protocol::doc::config::create(config, crate::auth::random_token().as_bytes())?;
                    true
                }
                (true, Some(base)) => return Err(DocError::UnknownVersion(base.to_string()).into()),
                (false, Some(base)) => fila_protocol::doc::config::update_from(doc, base, config)?,
                (false, None) => fila_protocol::doc::config::update(doc, config)?,
            };
            Ok((changed, changed))
        })?;
        if changed {
            tracing::info!(office, "configuration set by headquarters");
        }
        Ok(changed)
    }

    /// An office's bookings for a date, as central has written them (none before the first).
    pub fn appointments(&self, office: &str, day: BusinessDay) -> Result<Arc<Appointments>, ReadError> {
        let doc_id = appointments_doc_id(office, day);
        self.edit_doc(Access::Read, office, &doc_id, |doc| {
            Ok((false, self.read_appointments(&doc_id, doc, office, day)?))
        })
    }

    /// A date's bookings out of its document, read once per version.
    fn read_appointments(
        &self,
        doc_id: &str,
        doc: &mut AutoCommit,
        office: &str,
        day: BusinessDay,
    ) -> Result<Arc<Appointments>, ReadError> {
        self.appointments_read.read(doc_id, doc, |doc| -> Result<_, ReadError> {
            // An office may name the date before central has booked anything in it.
            Ok(match doc.get_heads().is_empty() {
                true => Appointments::new(office, day),
                false => fila_protocol::doc::appointments::read(doc)?.0,
            })
        })
    }

    /// Writes an office's bookings for a date (central is their only writer): creates the
    /// document the first time, applies `write`, stores the change durably, and sends it to the
    /// office if it is connected. Whatever `write` does is checked against the rules of
    /// bookings before it is stored; a refused write stores nothing.
    pub fn write_appointments<T>(
        &self,
        office: &str,
        day: BusinessDay,
        write: impl FnOnce(&mut Writer<'_>, &Appointments) -> Result<T, DocError>,
    ) -> Result<T, ReadError> {
        let doc_id = appointments_doc_id(office, day);
        self.edit_doc(Access::Write, office, &doc_id, |doc| {
            if doc.get_heads().is_empty() {
                *doc = fila_protocol::doc::appointments::create(office, day, crate::auth::random_token().as_bytes())?;
            }
            // Usually the last query's read; the write is then checked by reading back only the
            // bookings it wrote (a day of a thousand is not read again for each booking).
            let previous = self.read_appointments(&doc_id, doc, office, day)?;
            let mut writer = Writer::new(doc);
            let before = writer.keys()?;
            let value = write(&mut writer, &previous)?;
            let written = writer.written();
            let next = fila_protocol::doc::appointments::read_written(doc, &previous, &before, &written)?;
            fila_protocol::doc::appointments::may_follow(&previous, &next).map_err(DocError::Field)?;
            self.appointments_read.put(&doc_id, doc.get_heads(), next);
            Ok((true, value))
        })
    }

    /// A day of an office as central holds it now, read once per version: what every citizen's
    /// page asks for while the office works (the live copy when its box is connected).
    pub fn day_now(&self, office: &str, day: BusinessDay) -> Result<Arc<Day>, ReadError> {
        let doc_id = day_doc_id(office, day);
        self.edit_doc(Access::Read, office, &doc_id, |doc| {
            if doc.get_heads().is_empty() {
                return Err(ReadError::NoDocument { office: office.to_string(), day });
            }
            Ok((false, self.days_read.read(&doc_id, doc, |doc| read_day(doc))?))
        })
    }

    /// An office's remote joins for a date, as central has written them (none before the first).
    pub fn requests(&self, office: &str, day: BusinessDay) -> Result<Requests, ReadError> {
        let doc_id = requests_doc_id(office, day);
        self.edit_doc(Access::Read, office, &doc_id, |doc| {
            Ok((
                false,
                match doc.get_heads().is_empty() {
                    true => Requests::new(office, day),
                    false => fila_protocol::doc::requests::read(doc)?.0,
                },
            ))
        })
    }

    /// Writes a remote join into the office's requests document of its date (central is its
    /// only writer; the document is made the first time), stores it durably and sends it to the
    /// office if connected. A request already there is refused: requests are never rewritten.
    pub fn write_request(&self, office: &str, day: BusinessDay, request: &Request) -> Result<(), ReadError> {
        let doc_id = requests_doc_id(office, day);
        self.edit_doc(Access::Write, office, &doc_id, |doc| {
            if doc.get_heads().is_empty() {
                *doc = fila_protocol::doc::requests::create(office, day, crate::auth::random_token().as_bytes())?;
            }
            fila_protocol::doc::requests::put_request(doc, request)?;
            Ok((true, ()))
        })
    }

    /// Runs `edit` on one of an office's documents as headquarters reads or writes it: the copy
    /// its connection holds live, or the stored one. `edit` says whether it changed the document;
    /// a change is stored durably and then sent to the office if it is connected. On an error, or
    /// a change that cannot be stored, a live copy the edit touched goes (the next use reloads
    /// what is on disk): nothing half-done is ever sent.
    ///
    /// A write, where other replicas of central write too, holds the document's lock in the
    /// store from before it reads the document to after its change is stored, and first brings
    /// its copy up to what is stored: the last place of a slot is given once across replicas.
    fn edit_doc<T>(
        &self,
        access: Access,
        office: &str,
        doc_id: &str,
        edit: impl FnOnce(&mut AutoCommit) -> Result<(bool, T), ReadError>,
    ) -> Result<T, ReadError> {
        let slot = self.offices.get(office).ok_or_else(|| ReadError::UnknownOffice(office.to_string()))?;
        // Held throughout: a connection starting meanwhile would load the document without
        // this edit and never send it.
        let live = slot.docs();
        if access == Access::Read || !self.store.shared() {
            return self.edit_locked(slot, live, doc_id, edit);
        }
        fila_store::with_doc_locked(&*self.store, doc_id, || self.edit_locked(slot, live, doc_id, edit))
    }

    fn edit_locked<T>(
        &self,
        slot: &OfficeSlot,
        mut live: MutexGuard<'_, HashMap<String, LiveDoc>>,
        doc_id: &str,
        edit: impl FnOnce(&mut AutoCommit) -> Result<(bool, T), ReadError>,
    ) -> Result<T, ReadError> {
        let at_rest;
        let mut at_rest_doc;
        let (doc, through, live_day) = match live.get_mut(doc_id) {
            Some(entry) => (&mut entry.doc, &mut entry.through, Some(&mut entry.day)),
            None => {
                at_rest = self.at_rest.get(doc_id, || self.read_stored(doc_id).map(|(at_rest, _)| at_rest))?;
                at_rest_doc = at_rest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let at_rest = &mut *at_rest_doc;
                (&mut at_rest.doc, &mut at_rest.through, None)
            }
        };
        // Reads too: a notification of another replica's change may still be on its way.
        match self.catch_up(doc_id, doc, through) {
            Ok(false) => {}
            Ok(true) => {
                if let Some(day) = live_day {
                    news_for_edge(slot, day, doc);
                }
            }
            Err(error) => {
                live.remove(doc_id);
                self.at_rest.forget(doc_id);
                return Err(error.into());
            }
        }
        let before = doc.get_heads();
        let (changed, value) = match edit(doc) {
            Ok(edited) => edited,
            Err(error) => {
                // A refusal before any write (a stale version, say) leaves the live copy, and its
                // connection's sync state, as they were; a half-done write must not stay.
                if doc.get_heads() != before {
                    live.remove(doc_id);
                    self.at_rest.forget(doc_id);
                }
                return Err(error);
            }
        };
        // An edit that changed the document while saying it did not is stored all the same: a
        // document kept loaded must never hold a change its chunks lack.
        if !changed && doc.get_heads() == before {
            return Ok(value);
        }
        let chunk = if before.is_empty() { doc.save() } else { doc.save_after(&before) };
        let stored = self
            .store
            .append_chunk(doc_id, &chunk)
            .map(|seq| advance(through, seq))
            .and_then(|()| self.hold(slot, doc_id))
            .and_then(|()| self.store.flush());
        if let Err(error) = stored {
            live.remove(doc_id);
            self.at_rest.forget(doc_id);
            return Err(error.into());
        }
        drop(live);
        slot.pushes.send_modify(|n| *n += 1);
        Ok(value)
    }

    /// What a connected edge should be sent after headquarters changed one of its documents.
    pub fn outgoing(&self, connection: &mut Connection) -> Vec<Vec<u8>> {
        let mut live = connection.id.slot.docs();
        // A connection replaced by a newer one must not touch the shared sync state.
        if !connection.id.slot.is_current(connection.id.generation) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for doc_id in &connection.named {
            if let Some(entry) = live.get_mut(doc_id) {
                while let Some(message) = entry.peer.generate(&mut entry.doc) {
                    out.push(Frame::Sync { doc: doc_id.clone(), message }.encode());
                }
            }
        }
        out
    }

    /// The configuration set for an office, and its version (to edit it with [`Hub::set_config`]).
    pub fn config(&self, office: &str) -> Result<Option<(RawOfficeConfig, String)>, ReadError> {
        if !self.offices.contains_key(office) {
            return Err(ReadError::UnknownOffice(office.to_string()));
        }
        let doc_id = config_doc_id(office);
        let read = self.edit_doc(Access::Read, office, &doc_id, |doc| {
            let read = self.configs_read.read(&doc_id, doc, |doc| -> Result<_, ReadError> {
                if doc.get_heads().is_empty() {
                    return Ok(None);
                }
                let version = fila_protocol::doc::config::version(doc);
                Ok(Some((fila_protocol::doc::config::read(doc)?, version)))
            })?;
            Ok((false, read))
        })?;
        Ok(read.as_ref().clone())
    }
}

impl OfficeSlot {
    fn status(&self) -> MutexGuard<'_, OfficeStatus> {
        // Status updates are single assignments that cannot be left half done.
        self.status.lock().unwrap_or_else(|poisoned| {
            self.status.clear_poison();
            poisoned.into_inner()
        })
    }

    fn docs(&self) -> MutexGuard<'_, HashMap<String, LiveDoc>> {
        self.docs.lock().unwrap_or_else(|poisoned| {
            // A panic mid-frame may have left a document half changed: start again from the store.
            tracing::error!(office = %self.id, "a frame panicked; reloading the office's documents from the store");
            self.docs.clear_poison();
            let mut docs = poisoned.into_inner();
            docs.clear();
            docs
        })
    }

    fn is_current(&self, generation: u64) -> bool {
        self.status().current.as_ref().is_some_and(|(current, _)| *current == generation)
    }
}

/// The stored sync state, unless it claims central has changes it no longer holds (a damaged
/// chunk was skipped): then the edge would never send them again, so start afresh.
fn restore_peer(doc_id: &str, doc: &mut AutoCommit, bytes: &[u8]) -> PeerSync {
    let shared_heads_held = automerge::sync::State::decode(bytes)
        .is_ok_and(|state| state.shared_heads.iter().all(|hash| doc.get_change_by_hash(hash).is_some()));
    match PeerSync::restore(bytes) {
        Ok(peer) if shared_heads_held => peer,
        _ => {
            tracing::warn!(doc = doc_id, "stored sync state does not match the document; starting afresh");
            PeerSync::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::ROOT;
    use fila_store::SledStore;

    use super::*;

    // A configuration document: these tests are about storage, not the rules of a day.
    const DOC: &str = "branch/centro/config";

    fn offices() -> [OfficeSettings; 1] {
        [OfficeSettings {
            id: "centro".into(),
            name: "Centro".into(),
            token_sha256: "0".repeat(64),
            supervisor_email: None,
        }]
    }

    fn open(dir: &std::path::Path) -> (Hub, Arc<dyn Store>) {
        // sled lets go of its directory lock a moment after the previous instance is dropped.
        let store: Arc<dyn Store> = Arc::new(
            (0..100)
                .find_map(|_| {
                    SledStore::open(dir, 8 << 20)
                        .inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(50)))
                        .ok()
                })
                .expect("store opens"),
        );
        (Hub::open(store.clone(), &offices()).expect("hub"), store)
    }

    /// Sync `edge` into central over `connection` until neither side has anything to say.
    fn sync(hub: &Hub, connection: &mut Connection, edge: &mut AutoCommit, peer: &mut PeerSync) {
        let mut inbox = hub.handle_frame(connection, &Frame::Docs { docs: vec![DOC.into()] }.encode()).expect("docs");
        for _ in 0..20 {
            for frame in inbox.drain(..) {
                let Ok(Frame::Sync { message, .. }) = Frame::decode(&frame, "centro") else { panic!("a sync frame") };
                peer.receive(edge, &message).expect("applies");
            }
            let Some(message) = peer.generate(edge) else { return };
            inbox = hub.handle_frame(connection, &Frame::Sync { doc: DOC.into(), message }.encode()).expect("sync");
        }
        panic!("sync did not settle");
    }

    #[test]
    fn an_office_that_writes_bookings_is_refused_and_nothing_is_stored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (hub, store) = open(dir.path());
        let (mut connection, _replaced) = hub.connect("centro", 0).expect("configured office");
        let day = BusinessDay::containing(hub.now(), &jiff::tz::TimeZone::UTC);
        let doc = fila_protocol::doc::keys::appointments_doc_id("centro", day);
        let doc = doc.as_str();
        hub.handle_frame(&mut connection, &Frame::Docs { docs: vec![doc.into()] }.encode()).expect("named");
        let mut forged = fila_protocol::doc::appointments::create("centro", day, b"edge").expect("create");
        // The sync protocol first trades heads; the bookings travel a round later.
        let mut peer = PeerSync::new();
        let mut refused = None;
        for _ in 0..5 {
            let Some(message) = peer.generate(&mut forged) else { break };
            match hub.handle_frame(&mut connection, &Frame::Sync { doc: doc.into(), message }.encode()) {
                Ok(replies) => {
                    for frame in replies {
                        let Ok(Frame::Sync { message, .. }) = Frame::decode(&frame, "centro") else { panic!("sync") };
                        peer.receive(&mut forged, &message).expect("applies");
                    }
                }
                Err(error) => {
                    refused = Some(error);
                    break;
                }
            }
        }
        assert!(matches!(refused, Some(SyncFailure::Breach { .. })), "{refused:?}");
        assert_eq!(store.chunk_count(doc).expect("count"), 0);
    }

    #[test]
    fn frames_that_arrived_together_are_stored_in_order_and_a_bad_one_keeps_what_came_before() {
        let dir = tempfile::tempdir().expect("temp dir");
        let heads = {
            let (hub, store) = open(dir.path());
            let (mut connection, _replaced) = hub.connect("centro", 0).expect("configured office");
            let (mut edge, mut peer) = (AutoCommit::new(), PeerSync::new());
            edge.put(ROOT, "k0", 0).expect("put");
            edge.commit();
            sync(&hub, &mut connection, &mut edge, &mut peer);
            // A change, then a frame that is not one: one step, answered with a refusal.
            edge.put(ROOT, "k1", 1).expect("put");
            edge.commit();
            let message = peer.generate(&mut edge).expect("the change");
            let frames = [Frame::Sync { doc: DOC.into(), message }.encode(), b"\x00not a frame".to_vec()];
            let refused = hub.handle_frames(&mut connection, &frames);
            assert!(refused.is_err(), "{refused:?}");
            assert_eq!(store.chunk_count(DOC).expect("count"), 2, "the change before the bad frame is stored");
            edge.get_heads()
        };
        // And durable: a central started afresh on the same disk has it.
        let (_hub, store) = open(dir.path());
        assert_eq!(load_chunks(DOC, &store.chunks(DOC).expect("chunks")).get_heads(), heads);
    }

    #[test]
    fn a_document_is_compacted_into_one_snapshot_past_the_chunk_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut hub, store) = open(dir.path());
        hub.compact_after_chunks = 3;
        let (mut connection, _replaced) = hub.connect("centro", 0).expect("configured office");
        let (mut edge, mut peer) = (AutoCommit::new(), PeerSync::new());
        let mut counts = Vec::new();
        for n in 0..5i64 {
            edge.put(ROOT, format!("k{n}"), n).expect("put");
            edge.commit();
            sync(&hub, &mut connection, &mut edge, &mut peer);
            counts.push(store.chunk_count(DOC).expect("count"));
        }
        assert_eq!(counts, [1, 2, 3, 1, 2], "the fourth chunk compacts the document into one");
        let mut stored = load_chunks(DOC, &store.chunks(DOC).expect("chunks"));
        assert_eq!(stored.get_heads(), edge.get_heads());
    }

    #[test]
    fn a_stored_sync_state_that_claims_changes_central_lost_starts_afresh() {
        let mut edge = AutoCommit::new();
        edge.put(ROOT, "k", 1).expect("put");
        let (mut central, mut ours, mut theirs) = (AutoCommit::new(), PeerSync::new(), PeerSync::new());
        for _ in 0..10 {
            let to_central = theirs.generate(&mut edge);
            let to_edge = ours.generate(&mut central);
            if to_central.is_none() && to_edge.is_none() {
                break;
            }
            to_central.map(|m| ours.receive(&mut central, &m).expect("applies"));
            to_edge.map(|m| theirs.receive(&mut edge, &m).expect("applies"));
        }
        let persisted = ours.persist();
        assert_ne!(persisted, PeerSync::new().persist(), "central's state names shared heads");

        assert_eq!(restore_peer(DOC, &mut central, &persisted).persist(), persisted);
        assert_eq!(restore_peer(DOC, &mut AutoCommit::new(), &persisted).persist(), PeerSync::new().persist());
        assert_eq!(restore_peer(DOC, &mut central, b"garbage").persist(), PeerSync::new().persist());
    }

    #[test]
    fn the_documents_central_holds_are_listed_after_a_restart() {
        let dir = tempfile::tempdir().expect("temp dir");
        {
            let (hub, _) = open(dir.path());
            let (mut connection, _replaced) = hub.connect("centro", 0).expect("configured office");
            let mut edge = AutoCommit::new();
            edge.put(ROOT, "k", 1).expect("put");
            sync(&hub, &mut connection, &mut edge, &mut PeerSync::new());
            assert_eq!(hub.census().docs_held, 1);
        }
        let (hub, _) = open(dir.path());
        assert_eq!(hub.offices()[0].docs, vec![DOC.to_string()]);
        assert_eq!(hub.census(), Census { configured: 1, online: 0, docs_held: 1, sync_lag_ms_max: 0 });
    }
}
