//! Which documents the edge keeps in sync with central, and their per-peer sync state.
//!
//! The window is the office's configuration document (headquarters owns it: the edge only
//! receives it), the current day (live in the `Office`) plus every earlier day that central
//! does not yet hold in full. Days are listed in the store's meta values (`docs/<doc id>` →
//! `open` or `sealed`); a past day is sealed, and leaves the window, once central has reported
//! heads that include all of the edge's. The sync state of each document with central is kept
//! in `sync/<doc id>/central`, so a reconnect sends only what is missing.

use std::collections::BTreeMap;

use automerge::AutoCommit;
use fila_protocol::doc::keys::requests_doc_id;
use fila_protocol::office::Office;
use fila_protocol::remote::Requests;
use fila_protocol::sync::{Outgoing, PeerSync};
use fila_protocol::wire::Frame;
use fila_store::Store;

const OPEN: &[u8] = b"open";
/// Messages generated for one document in one step; automerge usually has one thing to say,
/// and a bound keeps a confused sync state from looping (as central's replies are bounded).
const MESSAGES_PER_STEP_MAX: usize = 8;
const SEALED: &[u8] = b"sealed";

fn index_key(doc_id: &str) -> String {
    format!("docs/{doc_id}")
}

fn state_key(doc_id: &str) -> String {
    format!("sync/{doc_id}/central")
}

/// The configuration document headquarters pushed, as stored, if any.
pub fn stored_config(store: &dyn Store, office: &str) -> Option<fila_protocol::RawOfficeConfig> {
    let doc = load(store, &fila_protocol::doc::keys::config_doc_id(office))?;
    fila_protocol::doc::config::read(&doc).ok()
}

/// Record that a document exists (the first time a chunk of it is stored).
pub fn note_doc(store: &dyn Store, doc_id: &str) -> Result<(), fila_store::StoreError> {
    if store.get_meta(&index_key(doc_id))?.is_none() {
        store.put_meta(&index_key(doc_id), OPEN)?;
    }
    Ok(())
}

struct Peer {
    sync: PeerSync,
    /// A past day, loaded from the store; `None` for the current day, which the office holds.
    doc: Option<AutoCommit>,
    /// The sync state as last stored: it is written again only when it changed, not on every
    /// batch the office commits.
    stored: Vec<u8>,
    /// A past day as last accepted: what central sends back is checked against it.
    day: Option<fila_protocol::Day>,
    /// Bookings as last accepted, for an appointments document.
    appointments: Option<fila_protocol::booking::Appointments>,
    /// Remote joins as last accepted, for a requests document.
    requests: Option<Requests>,
}

impl Peer {
    fn load(store: &dyn Store, doc_id: &str, doc: Option<AutoCommit>) -> Peer {
        let stored = store.get_meta(&state_key(doc_id)).ok().flatten().unwrap_or_default();
        let sync = PeerSync::restore(&stored).unwrap_or_default();
        // Only a past day has a last accepted version to check what central sends against.
        let day = doc
            .as_ref()
            .filter(|_| doc_id.contains("/day/"))
            .and_then(|doc| fila_protocol::doc::day::read_day(doc).ok());
        let appointments = doc
            .as_ref()
            .filter(|_| doc_id.contains("/appointments/"))
            .and_then(|doc| fila_protocol::doc::appointments::read(doc).ok())
            .map(|(appointments, _)| appointments);
        let requests = doc
            .as_ref()
            .filter(|_| doc_id.contains("/requests/"))
            .and_then(|doc| fila_protocol::doc::requests::read(doc).ok())
            .map(|(requests, _)| requests);
        Peer { sync, doc, stored, day, appointments, requests }
    }

    /// Keep the sync state across restarts; losing it costs only bytes on the next reconnect.
    fn store_state(&mut self, store: &dyn Store, doc_id: &str) {
        let state = self.sync.persist();
        if state != self.stored && store.put_meta(&state_key(doc_id), &state).is_ok() {
            self.stored = state;
        }
    }
}

/// What a sync message from central changed.
#[derive(Debug)]
pub enum Received {
    Nothing,
    /// The office's current day: store it before answering.
    Day,
    /// The configuration document: headquarters' configuration, as merged (not yet validated).
    Config(Box<fila_protocol::RawOfficeConfig>),
    /// An appointments document: central's bookings for a date, checked.
    Appointments(Box<fila_protocol::booking::Appointments>),
    /// Today's requests document: remote joins to answer, checked.
    Requests,
}

#[derive(Default)]
pub struct SyncWindow {
    peers: BTreeMap<String, Peer>,
    /// The current day's document id as last announced to central.
    current: Option<String>,
    announced: bool,
}

impl SyncWindow {
    /// A new connection: load the window, restart every peer from its persisted state.
    pub fn start(&mut self, office: &Office, store: &dyn Store) {
        self.peers.clear();
        let current = office.doc_id();
        let open = store.scan_meta("docs/").unwrap_or_default();
        for (key, state) in open {
            let doc_id = key.trim_start_matches("docs/");
            if state != OPEN || doc_id == current || !doc_id.contains("/day/") {
                // Appointments documents are added below, by date; configuration too.
                continue;
            }
            match load(store, doc_id) {
                Some(doc) => {
                    self.peers.insert(doc_id.to_string(), Peer::load(store, doc_id, Some(doc)));
                }
                None => tracing::warn!(doc = doc_id, "past day cannot be loaded; left out of sync"),
            }
        }
        self.peers.insert(current.clone(), Peer::load(store, &current, None));
        let config = office.config().doc_id();
        let doc = load(store, &config).unwrap_or_default();
        self.peers.insert(config.clone(), Peer::load(store, &config, Some(doc)));
        // Today's and tomorrow's bookings: central writes them, the office reads them.
        let today = office.day().day;
        for day in [today, today.plus_days(1)] {
            let doc_id = fila_protocol::doc::keys::appointments_doc_id(&office.config().id, day);
            let doc = load(store, &doc_id).unwrap_or_default();
            self.peers.insert(doc_id.clone(), Peer::load(store, &doc_id, Some(doc)));
        }
        // Today's remote joins: central writes them, the office answers them in its day.
        let doc_id = requests_doc_id(&office.config().id, today);
        let doc = load(store, &doc_id).unwrap_or_default();
        self.peers.insert(doc_id.clone(), Peer::load(store, &doc_id, Some(doc)));
        for peer in self.peers.values_mut() {
            peer.sync.restart();
        }
        self.current = Some(current);
        self.announced = false;
    }

    /// Apply a sync message from central. Returns whether the office's day changed (the caller
    /// stores it before answering); past days that change are stored here.
    pub fn receive(
        &mut self,
        office: &mut Office,
        store: &dyn Store,
        doc_id: &str,
        message: &[u8],
    ) -> Result<Received, String> {
        if self.current.as_deref() != Some(&office.doc_id()) {
            // Midnight passed since the connection began: reshape the window first.
            self.start(office, store);
        }
        let Some(peer) = self.peers.get_mut(doc_id) else {
            tracing::debug!(doc = doc_id, "sync frame for a document outside the window ignored");
            return Ok(Received::Nothing);
        };
        let received = match &mut peer.doc {
            None => {
                let changed = office.sync_receive(&mut peer.sync, message).map_err(|e| e.to_string())?;
                // A box recovering its records numbers again once it holds all central has.
                office.catch_up(&peer.sync);
                match changed {
                    true => Received::Day,
                    false => Received::Nothing,
                }
            }
            Some(doc) => {
                let before = doc.get_heads();
                let changed = peer.sync.receive(doc, message).map_err(|e| e.to_string())?;
                if changed && doc_id.contains("/requests/") {
                    // Requests are only ever added, for this office and date: anything else is
                    // refused and undone.
                    match check_requests(doc, doc_id, &office.config().id, peer.requests.as_ref()) {
                        Ok(next) => peer.requests = Some(next),
                        Err(problem) => {
                            tracing::error!(doc = doc_id, %problem, "remote joins refused and undone");
                            self.peers.remove(doc_id);
                            return Err(problem);
                        }
                    }
                } else if changed && doc_id.contains("/appointments/") {
                    // Bookings only move forward (booked to cancelled, checked in, missed) and
                    // never name another office or date: anything else is refused and undone.
                    let checked = fila_protocol::doc::appointments::read(doc).map_err(|e| e.to_string()).and_then(
                        |(next, refused)| {
                            if !refused.is_empty() {
                                tracing::warn!(doc = doc_id, refused = refused.len(), "malformed bookings ignored");
                            }
                            let expected = doc_id.rsplit('/').next().and_then(fila_protocol::BusinessDay::parse);
                            if next.office != office.config().id || Some(next.day) != expected {
                                return Err("the bookings name another office or date".to_string());
                            }
                            let previous = peer
                                .appointments
                                .clone()
                                .unwrap_or_else(|| fila_protocol::booking::Appointments::new(&next.office, next.day));
                            fila_protocol::doc::appointments::may_follow(&previous, &next).map(|()| next)
                        },
                    );
                    match checked {
                        Ok(next) => peer.appointments = Some(next),
                        Err(problem) => {
                            tracing::error!(doc = doc_id, %problem, "bookings refused and undone");
                            self.peers.remove(doc_id);
                            return Err(problem);
                        }
                    }
                } else if changed {
                    // A past day is checked like the current one before anything is stored: a
                    // change that breaks it is refused, and the day reloaded from the store.
                    match fila_protocol::doc::day::accept_received(doc_id, peer.day.as_ref(), doc) {
                        Ok(day) => peer.day = day,
                        Err(problem) => {
                            tracing::error!(doc = doc_id, %problem, "sync message refused and undone");
                            self.peers.remove(doc_id);
                            return Err(problem);
                        }
                    }
                }
                if changed {
                    let bytes = doc.save_after(&before);
                    note_doc(store, doc_id).map_err(|e| e.to_string())?;
                    store.append_chunk(doc_id, &bytes).map_err(|e| e.to_string())?;
                    // Remote joins are answered at once, and the answer's commit flushes the
                    // store: one disk sync per message, not two. A requests chunk a crash loses
                    // comes back from central, which holds it durably.
                    if !doc_id.contains("/requests/") {
                        store.flush().map_err(|e| e.to_string())?;
                    }
                }
                match (changed, doc_id.ends_with("/config")) {
                    (true, true) => fila_protocol::doc::config::read(doc)
                        .map(|config| Received::Config(Box::new(config)))
                        .unwrap_or_else(|error| {
                            tracing::error!(%error, "configuration document from headquarters does not read");
                            Received::Nothing
                        }),
                    (true, false) => match (&peer.appointments, &peer.requests) {
                        (Some(appointments), _) => Received::Appointments(Box::new(appointments.clone())),
                        (None, Some(_)) => Received::Requests,
                        (None, None) => Received::Nothing,
                    },
                    _ => Received::Nothing,
                }
            }
        };
        peer.store_state(store, doc_id);
        self.seal_if_held(store, doc_id);
        Ok(received)
    }

    /// Frames to send now: the document list after a (re)connect or midnight, then whatever
    /// each document's sync state says central lacks.
    pub fn outgoing(&mut self, office: &mut Office, store: &dyn Store) -> Vec<Frame> {
        if self.current.as_deref() != Some(&office.doc_id()) {
            self.start(office, store);
        }
        let mut frames = Vec::new();
        if !self.announced {
            frames.push(Frame::Docs { docs: self.peers.keys().cloned().collect() });
            self.announced = true;
        }
        for (doc_id, peer) in &mut self.peers {
            for _ in 0..MESSAGES_PER_STEP_MAX {
                let outgoing = match &mut peer.doc {
                    None => office.sync_generate(&mut peer.sync),
                    Some(doc) => peer.sync.generate_or_snapshot(doc),
                };
                frames.push(match outgoing {
                    Some(Outgoing::Message(message)) => Frame::Sync { doc: doc_id.clone(), message },
                    Some(Outgoing::Snapshot(bytes)) => Frame::Snapshot { doc: doc_id.clone(), bytes },
                    None => break,
                });
            }
            peer.store_state(store, doc_id);
        }
        frames
    }

    /// An edit of the configuration made at the office (by its admin, possibly offline): written
    /// into the configuration document field by field, so it merges with headquarters' edits by
    /// the rule of `fila_protocol::doc::config::update`. With `base` (the version the admin saw,
    /// from [`SyncWindow::read_config`]), fields changed since by headquarters are kept unless
    /// this edit changes them too. Returns the configuration as it now stands in the document
    /// (the caller validates and applies it) and its version.
    pub fn edit_config(
        &mut self,
        store: &dyn Store,
        office: &str,
        config: &fila_protocol::RawOfficeConfig,
        base: Option<&str>,
    ) -> Result<(fila_protocol::RawOfficeConfig, String), ConfigError> {
        let doc_id = fila_protocol::doc::keys::config_doc_id(office);
        let edited = self.with_config_doc(store, &doc_id, |doc| {
            let before = doc.get_heads();
            match base {
                Some(base) => fila_protocol::doc::config::update_from(doc, base, config),
                None => fila_protocol::doc::config::update(doc, config),
            }
            .map_err(|e| match e {
                fila_protocol::doc::DocError::UnknownVersion(_) => ConfigError::UnknownVersion(e.to_string()),
                other => ConfigError::NotEditable(other.to_string()),
            })?;
            let bytes = doc.save_after(&before);
            let merged = fila_protocol::doc::config::read(doc).map_err(|e| ConfigError::NotEditable(e.to_string()))?;
            Ok((bytes, merged, fila_protocol::doc::config::version(doc)))
        })?;
        let (bytes, merged, version) = edited;
        if !bytes.is_empty() {
            if let Err(error) = store.append_chunk(&doc_id, &bytes).and_then(|_| store.flush()) {
                // Not stored, so not to be sent: the next connection reloads the document.
                self.peers.remove(&doc_id);
                return Err(ConfigError::NotEditable(error.to_string()));
            }
        }
        Ok((merged, version))
    }

    /// The configuration document as the office admin edits it, and its version.
    pub fn read_config(
        &mut self,
        store: &dyn Store,
        office: &str,
    ) -> Result<(fila_protocol::RawOfficeConfig, String), ConfigError> {
        let doc_id = fila_protocol::doc::keys::config_doc_id(office);
        self.with_config_doc(store, &doc_id, |doc| {
            let version = fila_protocol::doc::config::version(doc);
            let config = fila_protocol::doc::config::read(doc).map_err(|e| ConfigError::NotEditable(e.to_string()))?;
            Ok((config, version))
        })
    }

    /// Run `f` on the configuration document: the window's, or the stored one when it is not in
    /// the window (before the first connection to central).
    fn with_config_doc<T>(
        &mut self,
        store: &dyn Store,
        doc_id: &str,
        f: impl FnOnce(&mut AutoCommit) -> Result<T, ConfigError>,
    ) -> Result<T, ConfigError> {
        let mut stored;
        let doc = match self.peers.get_mut(doc_id).and_then(|peer| peer.doc.as_mut()) {
            Some(doc) => doc,
            None => {
                stored = load(store, doc_id).ok_or(ConfigError::NotEditable(UNREADABLE.into()))?;
                &mut stored
            }
        };
        if doc.get_heads().is_empty() {
            return Err(ConfigError::NotEditable(NOT_SENT_YET.into()));
        }
        f(doc)
    }

    /// Today's remote joins as central wrote them, if any have come.
    pub fn requests(&self, office: &Office) -> Option<&Requests> {
        let doc_id = requests_doc_id(&office.config().id, office.day().day);
        self.peers.get(&doc_id).and_then(|peer| peer.requests.as_ref())
    }

    /// How many documents are kept in sync now (the configuration, today, unsealed past days).
    pub fn docs(&self) -> usize {
        self.peers.len()
    }

    /// A past day that central holds in full is sealed: it leaves the window for good.
    fn seal_if_held(&mut self, store: &dyn Store, doc_id: &str) {
        if !doc_id.contains("/day/") {
            return;
        }
        let Some(Peer { sync, doc: Some(doc), .. }) = self.peers.get_mut(doc_id) else { return };
        let ours = doc.get_heads();
        let held = sync.their_heads().is_some_and(|theirs| ours.iter().all(|h| theirs.contains(h)));
        if held && store.put_meta(&index_key(doc_id), SEALED).and_then(|()| store.flush()).is_ok() {
            tracing::info!(doc = doc_id, "day sealed: central holds it in full");
            self.peers.remove(doc_id);
        }
    }
}

/// Why the office admin cannot edit the configuration document.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    NotEditable(String),
    /// The edit was made from a version this box does not have.
    #[error("{0}; read the configuration again (its ETag) and make the edit on that")]
    UnknownVersion(String),
}

const UNREADABLE: &str = "the configuration document cannot be read";
// Headquarters creates the document; an edge that has never received one edits its file.
const NOT_SENT_YET: &str = "headquarters has not sent this office a configuration yet; edit the configuration file";

/// A requests document as received: readable, this office's and date's, and only added to.
fn check_requests(
    doc: &AutoCommit,
    doc_id: &str,
    office: &str,
    previous: Option<&Requests>,
) -> Result<Requests, String> {
    let (next, refused) = fila_protocol::doc::requests::read(doc).map_err(|e| e.to_string())?;
    if !refused.is_empty() {
        tracing::warn!(doc = doc_id, refused = refused.len(), "malformed remote joins ignored");
    }
    let expected = doc_id.rsplit('/').next().and_then(fila_protocol::BusinessDay::parse);
    if next.office != office || Some(next.day) != expected {
        return Err("the remote joins name another office or date".to_string());
    }
    let empty = Requests::new(&next.office, next.day);
    fila_protocol::remote::may_follow(previous.unwrap_or(&empty), &next)?;
    Ok(next)
}

fn load(store: &dyn Store, doc_id: &str) -> Option<AutoCommit> {
    let chunks = store.chunks(doc_id).ok()?;
    Some(fila_protocol::doc::load_chunks(doc_id, &chunks))
}
