//! The automerge schema: how a business day and an office's configuration are stored and
//! replicated. This is the one stored form of domain state; it changes with a version.

pub mod config;
pub mod day;
pub mod keys;
mod scalar;

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
}
