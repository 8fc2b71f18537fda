//! Notices to citizens, for both daemons: "your turn is near", "you are called", survey
//! invitations, booking codes and reminders.
//!
//! The pure parts are sans-IO and tested without a network: the outbox's state per notice
//! (`outbox`), contacts and their redaction (`contact`), message templates (`template`), and
//! SMS text: GSM 7-bit or UCS-2, segments, PDUs (`sms`). The channels do the I/O: SMTP
//! (`email`), a GSM modem speaking AT commands on a serial line (`modem`, with an emulator), and
//! an HTTP SMS gateway (`http_sms`). This crate knows nothing of tickets or bookings beyond the
//! keys and texts it is given, except where both daemons keep the same thing: survey comments
//! (`survey_comments`) and the survey link central checks for the edge (`survey_link`).
//!
//! The modem has an emulator (`modem::Emulator`) that tests drive and `fila-devsim modem` runs
//! on a pseudo-terminal, so the SMS channel is tried without a SIM or hardware.

pub mod channel;
pub mod contact;
pub mod contact_book;
pub mod dispatch;
pub mod email;
pub mod http_sms;
pub mod kind;
pub mod modem;
pub mod outbox;
pub mod outbox_store;
pub mod sms;
pub mod survey_comments;
pub mod survey_link;
pub mod template;
#[cfg(feature = "testing")]
pub mod testing;

/// One thing wrong in a channel's settings, as `check()` reports it (every problem at once):
/// `at` names the field within the channel's section (`from`, `headers.Authorization`), so a
/// daemon can prefix its own section name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    pub at: String,
    pub problem: String,
}

impl SettingProblem {
    fn new(at: impl Into<String>, problem: impl Into<String>) -> SettingProblem {
        SettingProblem { at: at.into(), problem: problem.into() }
    }
}

impl std::fmt::Display for SettingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.at, self.problem)
    }
}

fn list(problems: &[SettingProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// An error's causes, outermost first, for the words of the innermost. An `io::Error` hides the
/// error it wraps from `source()` (a rustls handshake failure, say), so that one is taken from
/// `get_ref()`.
fn causes<'a>(error: &'a (dyn std::error::Error + 'static)) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut causes = Vec::new();
    let mut next = error.source();
    while let Some(cause) = next {
        causes.push(cause);
        next = match cause.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => cause.source(),
        };
    }
    causes
}
