//! The automerge schema: how a business day and an office's configuration are stored and
//! replicated. This is the one stored form of domain state; it changes with a version.

pub mod appointments;
pub mod config;
pub mod day;
pub mod keys;
pub mod requests;
mod scalar;

use automerge::AutoCommit;
use thiserror::Error;

/// A document that cannot be read as what it claims to be.
#[derive(Debug, Error)]
pub enum DocError {
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error("document has schema version {found}, this build reads {expected}")]
    Schema { expected: i64, found: i64 },
    #[error("document field {0} is missing or has the wrong type")]
    Field(String),
    #[error("document belongs to office {found:?}, not {expected:?}")]
    WrongOffice { expected: String, found: String },
    #[error("document has no data")]
    Empty,
    #[error("the edit was made from a version {0:?} this document does not have")]
    UnknownVersion(String),
}

/// A document from its stored chunks (snapshots and incremental saves, in order), as much of it
/// as loads. One load of all chunks is much faster than one `load_incremental` per chunk; a
/// damaged chunk makes it fail, and then the chunk-by-chunk path keeps whatever loads (sync
/// brings the rest back). The save cursor is primed, so the next incremental save writes only
/// new changes rather than the whole document again.
pub fn load_chunks(doc_id: &str, chunks: &[Vec<u8>]) -> AutoCommit {
    let mut doc = if chunks.is_empty() {
        AutoCommit::new()
    } else {
        match AutoCommit::load(&chunks.concat()) {
            Ok(doc) => doc,
            Err(error) => {
                tracing::warn!(doc = doc_id, %error, "document does not load whole; loading chunk by chunk");
                let mut doc = AutoCommit::new();
                for (n, chunk) in chunks.iter().enumerate() {
                    if let Err(error) = doc.load_incremental(chunk) {
                        tracing::error!(doc = doc_id, chunk = n, %error, "chunk skipped");
                    }
                }
                doc
            }
        }
    };
    doc.save_incremental();
    doc
}
