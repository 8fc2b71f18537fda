//! The GSM modem channel: a USB modem (or a phone) on a serial line, spoken to in AT commands
//! with messages in PDU mode, so any text (accents, emoji, long ones) goes as the `sms` module
//! encodes it rather than as the modem's text mode would mangle it.
//!
//! ```text
//! at        the modem's lines, parsed strictly
//! driver    Modem: check, send, received; deadlines on every wait
//! port      the serial line, without tokio-serial's blocking flush
//! emulator  a modem without hardware, for tests and fila-devsim
//! ```
//!
//! Numbers and texts never reach a log or an error: they are personal data. Logs say "a
//! number" and give lengths.

pub mod at;
pub mod driver;
pub mod emulator;
pub mod port;

use std::io;
use std::path::Path;

pub use at::{Registration, SimState};
pub use driver::{Health, IncomingSms, Modem, Timeouts};
pub use emulator::{EmulatedSim, Emulator, SentSms};
pub use port::SerialLine;

use crate::channel::SendError;
use crate::sms::SmsError;

/// Why the modem did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum ModemError {
    #[error("the modem has no SIM card, or cannot read it")]
    NoSim,
    #[error("the modem's SIM card is locked (it waits for a PIN or PUK)")]
    SimPin,
    #[error("the modem has no signal")]
    NoSignal,
    #[error("the modem is not registered on a network")]
    NotRegistered,
    #[error("+CMS ERROR {0}: {desc}", desc = at::cms_text(*.0).unwrap_or("unknown"))]
    Cms(u16),
    #[error("+CME ERROR {0}: {desc}", desc = at::cme_text(*.0).unwrap_or("unknown"))]
    Cme(u16),
    #[error("the modem answered ERROR")]
    Refused,
    #[error("the modem did not answer in time")]
    Timeout,
    #[error("the modem's port is gone (unplugged or reset)")]
    Gone(#[source] io::Error),
    #[error("the modem's port could not be opened")]
    Open(#[source] io::Error),
    #[error("the modem answered something unexpected: {0}")]
    Protocol(&'static str),
    #[error("the message cannot be sent: {0}")]
    Message(#[source] SmsError),
}

/// `+CMS ERROR` codes that condemn the number or the message itself: sending it again will
/// not help. The network's codes (below 128) name the recipient or the message (TS 24.011
/// §8.2.5.4); 304 is a PDU the modem will never take.
const CMS_PERMANENT: [u16; 14] = [1, 8, 10, 21, 28, 29, 30, 50, 95, 96, 97, 98, 99, 304];

impl ModemError {
    /// Whether sending the same message again can never help.
    pub fn is_permanent(&self) -> bool {
        match self {
            ModemError::Cms(code) => CMS_PERMANENT.contains(code),
            ModemError::Message(_) => true,
            _ => false,
        }
    }
}

impl From<ModemError> for SendError {
    fn from(error: ModemError) -> SendError {
        let reason = match &error {
            ModemError::Cms(_) if error.is_permanent() => format!("the network refused the message ({error})"),
            ModemError::Cms(_) => format!("the network could not take the message now ({error})"),
            _ => error.to_string(),
        };
        if error.is_permanent() {
            SendError::Permanent(reason)
        } else {
            SendError::Transient(reason)
        }
    }
}

/// Opens the modem on the serial port at `path`.
pub fn open(path: &Path, baud: u32) -> Result<Modem<SerialLine>, ModemError> {
    SerialLine::open(path, baud).map(Modem::new).map_err(ModemError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(error: ModemError, permanent: bool, reason: &str) {
        let sent = SendError::from(error);
        assert_eq!(sent.is_permanent(), permanent, "{sent}");
        assert_eq!(sent.reason(), reason);
    }

    #[test]
    fn codes_that_name_the_number_or_the_text_are_permanent() {
        check(
            ModemError::Cms(1),
            true,
            "the network refused the message (+CMS ERROR 1: Unassigned (unallocated) number)",
        );
        for code in [21, 28, 29, 50, 96, 97, 98, 99, 304] {
            assert!(SendError::from(ModemError::Cms(code)).is_permanent(), "{code}");
        }
    }

    #[test]
    fn a_network_or_a_modem_that_is_away_or_busy_is_transient() {
        check(
            ModemError::Cms(38),
            false,
            "the network could not take the message now (+CMS ERROR 38: Network out of order)",
        );
        for code in [41, 42, 47, 331, 332, 500, 9999] {
            assert!(!SendError::from(ModemError::Cms(code)).is_permanent(), "{code}");
        }
        let away = [
            ModemError::NoSim,
            ModemError::SimPin,
            ModemError::NoSignal,
            ModemError::NotRegistered,
            ModemError::Timeout,
            ModemError::Refused,
            ModemError::Cme(100),
            ModemError::Gone(io::Error::from(io::ErrorKind::BrokenPipe)),
            ModemError::Protocol("a malformed line"),
        ];
        for error in away {
            assert!(!SendError::from(error).is_permanent());
        }
    }

    #[test]
    fn a_number_that_is_no_number_is_permanent_and_not_repeated() {
        check(
            ModemError::Message(SmsError::InvalidNumber),
            true,
            "the message cannot be sent: the phone number is not a number (digits, international ones after a '+', at most 20)",
        );
    }
}
