//! What every channel answers: sent, or why not, and whether trying again can help.

use std::future::Future;
use std::pin::Pin;

use thiserror::Error;

use crate::contact::{Contact, Medium};
use crate::template::Rendered;

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

/// A channel's answer, once the message is with the server, modem or gateway.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// A way to send a message to a contact of one medium: SMTP, a GSM modem, an HTTP gateway.
/// Daemons hold channels as `Arc<dyn Channel>` and pick one by the contact's medium.
pub trait Channel: Send + Sync {
    fn medium(&self) -> Medium;
    /// Whether a citizen can answer STOP to it (a modem reads replies; a gateway may not).
    fn reads_replies(&self) -> bool {
        false
    }
    fn send<'a>(&'a self, to: &'a Contact, message: &'a Rendered) -> Sending<'a>;
}
