//! What every channel answers: sent, or why not, and whether trying again can help.

use thiserror::Error;

/// Why a channel did not deliver a message. The outbox retries a transient failure with
/// backoff and gives up at once on a permanent one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SendError {
    /// The recipient or the message is refused for good (an SMTP 5xx for the recipient, a
    /// gateway's 4xx, `+CMS ERROR` codes that name the number or the text).
    #[error("refused: {0}")]
    Permanent(String),
    /// The channel is away or busy (server down, 4xx, no signal, no SIM, a modem that vanished,
    /// a timeout): the same message may go through later.
    #[error("not sent yet: {0}")]
    Transient(String),
}

impl SendError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, SendError::Permanent(_))
    }

    /// The reason in words, for the supervisor's list of notices and the log (never holds a
    /// contact: channels word their errors without the address).
    pub fn reason(&self) -> &str {
        match self {
            SendError::Permanent(reason) | SendError::Transient(reason) => reason,
        }
    }
}
