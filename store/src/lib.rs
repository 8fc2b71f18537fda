//! Durable storage behind a small trait, so sled can be swapped without touching the domain.
//! Both daemons (edge and central) keep their automerge documents here: on sled, embedded, or
//! (central, feature `postgres`) on PostgreSQL shared by several central processes.
//!
//! Automerge data is kept as immutable chunks per document: incremental saves appended in
//! order, replaced by one compacted snapshot now and then. Each chunk carries a checksum; a
//! damaged chunk is skipped (and logged) rather than failing the whole document, since sync with
//! headquarters can bring the missing changes back.

#[cfg(feature = "postgres")]
mod pg_store;
mod sled_store;
#[cfg(feature = "testing")]
pub mod testing;

#[cfg(feature = "postgres")]
pub use pg_store::{PgStore, SCHEMA_VERSION as PG_SCHEMA_VERSION};
pub use sled_store::SledStore;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("transaction: {0}")]
    Transaction(String),
    #[error("postgres: {0}")]
    Postgres(String),
}

/// A change another process stored in a shared store (see [`Store::watch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredElsewhere {
    /// Chunks of this document.
    Doc(String),
    /// Anything may have changed: the watch was interrupted and changes may have been missed.
    Anything,
}

/// Runs `step` holding `doc_id`'s lock across the processes sharing `store`
/// ([`Store::lock_doc`]) and lets go of it whatever `step` returned. A failure to let go is
/// logged, not returned: `step`'s outcome stands, and the lock goes with its connection at the
/// latest.
pub fn with_doc_locked<T, E: From<StoreError>>(
    store: &dyn Store,
    doc_id: &str,
    step: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    store.lock_doc(doc_id)?;
    let result = step();
    if let Err(error) = store.unlock_doc(doc_id) {
        tracing::error!(doc = doc_id, %error, "cannot let go of a document's lock");
    }
    result
}

pub trait Store: Send + Sync + 'static {
    /// Append a chunk to a document; returns its sequence number, which grows with each chunk
    /// of the document. Not durable until [`Store::flush`].
    fn append_chunk(&self, doc_id: &str, bytes: &[u8]) -> Result<u64, StoreError>;
    /// Replace all of a document's chunks with one snapshot, atomically.
    fn replace_chunks(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError>;
    /// Replace the chunks up to sequence `through` with a snapshot that holds them all; chunks
    /// written after it (by another process sharing the store) stay. Where nobody else writes,
    /// that is all of them.
    fn replace_chunks_through(&self, doc_id: &str, snapshot: &[u8], through: u64) -> Result<(), StoreError> {
        let _ = through;
        self.replace_chunks(doc_id, snapshot)
    }
    /// The document's chunks after sequence `after` (all of them for `None`), with their
    /// sequences, in the order they were written; damaged ones are left out.
    fn chunks_after(&self, doc_id: &str, after: Option<u64>) -> Result<Vec<(u64, Vec<u8>)>, StoreError>;
    /// The document's chunks in the order they were written; damaged ones are left out.
    fn chunks(&self, doc_id: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        Ok(self.chunks_after(doc_id, None)?.into_iter().map(|(_, bytes)| bytes).collect())
    }
    /// The sequence of each document's last chunk (`None`: it has none). It changes whenever
    /// what is stored of the document does (a compaction may change it too) and is never
    /// reused, so what was computed from a document can be kept with it and trusted while it
    /// is unchanged. One call for many documents: on a database, one query.
    fn last_seqs(&self, doc_ids: &[String]) -> Result<Vec<Option<u64>>, StoreError> {
        doc_ids.iter().map(|doc| Ok(self.chunks_after(doc, None)?.last().map(|(seq, _)| *seq))).collect()
    }
    /// How many chunks the document has (to decide when to compact).
    fn chunk_count(&self, doc_id: &str) -> Result<usize, StoreError>;
    /// Make every earlier write durable.
    fn flush(&self) -> Result<(), StoreError>;
    /// Small named values (kiosk tokens added at run time, and the like).
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Forget a value (a contact past its retention period). Durable after [`Store::flush`].
    fn delete_meta(&self, key: &str) -> Result<(), StoreError>;
    fn scan_meta(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Whether other processes write the same documents (replicas of central on one database):
    /// then a document held in memory must catch up with what they stored.
    fn shared(&self) -> bool {
        false
    }
    /// Until [`Store::unlock_doc`], no other process takes the same document's lock: a
    /// read-check-write of a document (the last place of a slot) is exact across processes.
    /// Within one process the caller serialises its own uses.
    fn lock_doc(&self, doc_id: &str) -> Result<(), StoreError> {
        let _ = doc_id;
        Ok(())
    }
    fn unlock_doc(&self, doc_id: &str) -> Result<(), StoreError> {
        let _ = doc_id;
        Ok(())
    }
    /// Whether this process leads `role` (a background job only one process sharing the store
    /// may run, such as sending the outbox): taken when free, kept until the process ends or
    /// loses the store. A store nobody shares is always led by its one process.
    fn try_lead(&self, role: &str) -> Result<bool, StoreError> {
        let _ = role;
        Ok(true)
    }
    /// Keeps a copy of the file at `from` as `name` for the other processes sharing the store
    /// (a signage file uploaded through one replica, served by all); durable on return. A store
    /// nobody shares keeps none and says so (`false`).
    fn put_blob(&self, name: &str, from: &std::path::Path) -> Result<bool, StoreError> {
        let _ = (name, from);
        Ok(false)
    }
    /// Writes the copy kept as `name` to `to`; `false` when there is none.
    fn get_blob(&self, name: &str, to: &std::path::Path) -> Result<bool, StoreError> {
        let _ = (name, to);
        Ok(false)
    }
    /// Documents other processes stored chunks of, as they commit them (a shared store only).
    fn watch(&self) -> Option<std::sync::mpsc::Receiver<StoredElsewhere>> {
        None
    }
}
