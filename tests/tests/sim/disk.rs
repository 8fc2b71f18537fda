//! The simulated disk: a `fila_store::Store` whose writes are durable only once flushed.
//!
//! Reads see every write (as sled's do); `flush` makes them durable; `crash` keeps what was
//! flushed plus a prefix of what was not, chosen by the simulation (a log-structured store may
//! have written some of its tail before the power went), and forgets the rest.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use fila_store::{Store, StoreError};

#[derive(Clone, Default)]
struct Contents {
    chunks: BTreeMap<String, Vec<Vec<u8>>>,
    meta: BTreeMap<String, Vec<u8>>,
}

enum Write {
    Append(String, Vec<u8>),
    Replace(String, Vec<u8>),
    Meta(String, Vec<u8>),
    Forget(String),
}

impl Contents {
    fn apply(&mut self, write: &Write) {
        match write {
            Write::Append(doc, bytes) => self.chunks.entry(doc.clone()).or_default().push(bytes.clone()),
            Write::Replace(doc, bytes) => {
                self.chunks.insert(doc.clone(), vec![bytes.clone()]);
            }
            Write::Meta(key, value) => {
                self.meta.insert(key.clone(), value.clone());
            }
            Write::Forget(key) => {
                self.meta.remove(key);
            }
        }
    }
}

#[derive(Default)]
struct State {
    /// What reads see: everything written.
    seen: Contents,
    /// What survives a crash for sure.
    durable: Contents,
    /// Written since the last flush, in order.
    pending: Vec<Write>,
}

#[derive(Default)]
pub struct SimDisk {
    state: Mutex<State>,
}

impl SimDisk {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("the simulation runs on one thread; the disk lock is never poisoned")
    }

    fn write(&self, write: Write) {
        let mut state = self.state();
        state.seen.apply(&write);
        state.pending.push(write);
    }

    /// Writes not yet flushed.
    pub fn unflushed(&self) -> usize {
        self.state().pending.len()
    }

    /// Document chunks not yet flushed (meta values aside).
    pub fn unflushed_chunks(&self) -> usize {
        self.state().pending.iter().filter(|w| !matches!(w, Write::Meta(..) | Write::Forget(_))).count()
    }

    /// The power goes: the first `kept` unflushed writes reach the disk, the rest are lost.
    pub fn crash(&self, kept: usize) {
        let mut state = self.state();
        let pending = std::mem::take(&mut state.pending);
        for write in pending.iter().take(kept) {
            state.durable.apply(write);
        }
        state.seen = state.durable.clone();
    }
}

impl Store for SimDisk {
    fn append_chunk(&self, doc_id: &str, bytes: &[u8]) -> Result<u64, StoreError> {
        let seq = self.chunk_count(doc_id)?;
        self.write(Write::Append(doc_id.to_string(), bytes.to_vec()));
        Ok(seq as u64)
    }

    fn replace_chunks(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError> {
        self.write(Write::Replace(doc_id.to_string(), snapshot.to_vec()));
        Ok(())
    }

    /// Only ever one process on this disk: a chunk's place in the list is its sequence.
    fn chunks_after(&self, doc_id: &str, after: Option<u64>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        let chunks = self.state().seen.chunks.get(doc_id).cloned().unwrap_or_default();
        let first = after.map_or(0, |after| after as usize + 1);
        Ok(chunks.into_iter().enumerate().skip(first).map(|(seq, bytes)| (seq as u64, bytes)).collect())
    }

    fn chunk_count(&self, doc_id: &str) -> Result<usize, StoreError> {
        Ok(self.state().seen.chunks.get(doc_id).map_or(0, Vec::len))
    }

    fn flush(&self) -> Result<(), StoreError> {
        let mut state = self.state();
        let pending = std::mem::take(&mut state.pending);
        for write in &pending {
            state.durable.apply(write);
        }
        Ok(())
    }

    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.state().seen.meta.get(key).cloned())
    }

    fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.write(Write::Meta(key.to_string(), value.to_vec()));
        Ok(())
    }

    fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        self.write(Write::Forget(key.to_string()));
        Ok(())
    }

    fn scan_meta(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let state = self.state();
        let found = state.seen.meta.range(prefix.to_string()..).take_while(|(key, _)| key.starts_with(prefix));
        Ok(found.map(|(key, value)| (key.clone(), value.clone())).collect())
    }
}
