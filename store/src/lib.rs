//! Durable storage behind a small trait, so sled can be swapped without touching the domain.
//! Both daemons (edge and central) keep their automerge documents here.
//!
//! Automerge data is kept as immutable chunks per document: incremental saves appended in
//! order, replaced by one compacted snapshot now and then. Each chunk carries a checksum; a
//! damaged chunk is skipped (and logged) rather than failing the whole document, since sync with
//! headquarters can bring the missing changes back.

mod sled_store;

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
}

pub trait Store: Send + Sync + 'static {
    /// Append a chunk to a document. Not durable until [`Store::flush`].
    fn append_chunk(&self, doc_id: &str, bytes: &[u8]) -> Result<(), StoreError>;
    /// Replace all of a document's chunks with one snapshot, atomically.
    fn replace_chunks(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError>;
    /// The document's chunks in the order they were written; damaged ones are left out.
    fn chunks(&self, doc_id: &str) -> Result<Vec<Vec<u8>>, StoreError>;
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
}
