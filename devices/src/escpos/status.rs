//! The printer's real-time status: the one-byte answers to `DLE EOT n` (`10 04 n`) and the
//! summary the office cares about (can a ticket be printed, and if not, what must staff do).
//!
//! Every answer byte has bits 1 and 4 set and bits 0 and 7 clear; a byte without that pattern is
//! not an answer (a stale echo, line noise, a printer in another mode) and is rejected rather
//! than read as flags.

use serde::{Deserialize, Serialize};

/// `DLE EOT n` request numbers this module understands.
pub const STATUS_PRINTER: u8 = 1;
pub const STATUS_OFFLINE_CAUSE: u8 = 2;
pub const STATUS_ERROR_CAUSE: u8 = 3;
pub const STATUS_PAPER: u8 = 4;

/// Bits every answer has set (1 and 4) ...
const FIXED_SET: u8 = 0x12;
/// ... and bits it has clear (0 and 7).
const FIXED_CLEAR: u8 = 0x81;

/// The `DLE EOT n` request bytes.
pub fn status_request(n: u8) -> [u8; 3] {
    [0x10, 0x04, n]
}

/// What the printer said about itself, by request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum StatusFlags {
    /// `DLE EOT 1`.
    Printer { drawer_high: bool, offline: bool, waiting_recovery: bool, feed_button: bool },
    /// `DLE EOT 2`.
    OfflineCause { cover_open: bool, feeding_by_button: bool, paper_end_stop: bool, error: bool },
    /// `DLE EOT 3`.
    ErrorCause { autocutter: bool, unrecoverable: bool, auto_recoverable: bool },
    /// `DLE EOT 4`.
    Paper { near_end: bool, end: bool },
}

/// Why a status byte was not understood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("DLE EOT {0} is not a status request this driver knows (1 to 4)")]
    UnknownRequest(u8),
    #[error("byte {byte:#04x} is not a printer's answer to DLE EOT {n} (bits 1 and 4 must be set, 0 and 7 clear)")]
    NotAStatusByte { n: u8, byte: u8 },
}

/// Decodes the printer's answer `byte` to `DLE EOT n`.
pub fn decode_status(n: u8, byte: u8) -> Result<StatusFlags, StatusError> {
    if !(STATUS_PRINTER..=STATUS_PAPER).contains(&n) {
        return Err(StatusError::UnknownRequest(n));
    }
    if byte & FIXED_SET != FIXED_SET || byte & FIXED_CLEAR != 0 {
        return Err(StatusError::NotAStatusByte { n, byte });
    }
    let bit = |mask: u8| byte & mask != 0;
    Ok(match n {
        STATUS_PRINTER => StatusFlags::Printer {
            drawer_high: bit(0x04),
            offline: bit(0x08),
            waiting_recovery: bit(0x20),
            feed_button: bit(0x40),
        },
        STATUS_OFFLINE_CAUSE => StatusFlags::OfflineCause {
            cover_open: bit(0x04),
            feeding_by_button: bit(0x08),
            paper_end_stop: bit(0x20),
            error: bit(0x40),
        },
        STATUS_ERROR_CAUSE => {
            StatusFlags::ErrorCause { autocutter: bit(0x08), unrecoverable: bit(0x20), auto_recoverable: bit(0x40) }
        }
        // Checked above: n is 4. Both bits of each pair are set by Epson; clones set one, so
        // either counts.
        _ => StatusFlags::Paper { near_end: bit(0x0C), end: bit(0x60) },
    })
}

/// The printer's state as the office sees it, published to the edge and on MQTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrinterStatus {
    Ok,
    /// Paper is running low: still printing, but staff should bring a roll.
    NearEnd,
    /// No paper.
    Out,
    CoverOpen,
    /// Offline for another reason (an error, or the printer says so without a cause).
    Offline,
    /// The printer cannot tell (write-only connection) or did not answer.
    Unknown,
}

impl PrinterStatus {
    /// Whether the kiosk should try to print. Unknown counts: most cheap printers never answer,
    /// and refusing tickets because of that would close the office.
    pub fn can_print(self) -> bool {
        matches!(self, PrinterStatus::Ok | PrinterStatus::NearEnd | PrinterStatus::Unknown)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PrinterStatus::Ok => "ok",
            PrinterStatus::NearEnd => "near_end",
            PrinterStatus::Out => "out",
            PrinterStatus::CoverOpen => "cover_open",
            PrinterStatus::Offline => "offline",
            PrinterStatus::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for PrinterStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Summarises the answers to `DLE EOT 1`, `2` and `4` (any may be missing).
///
/// An open cover wins over paper end: with the cover open the paper sensor sees no paper
/// whether or not there is a roll, and closing the cover is what staff must do first.
/// Flags of the wrong kind for their argument are ignored.
pub fn summarize(
    printer: Option<StatusFlags>,
    offline_cause: Option<StatusFlags>,
    paper: Option<StatusFlags>,
) -> PrinterStatus {
    if printer.is_none() && offline_cause.is_none() && paper.is_none() {
        return PrinterStatus::Unknown;
    }
    let offline = matches!(printer, Some(StatusFlags::Printer { offline: true, .. }));
    let (cover_open, paper_end_stop, error) = match offline_cause {
        Some(StatusFlags::OfflineCause { cover_open, paper_end_stop, error, .. }) => {
            (cover_open, paper_end_stop, error)
        }
        _ => (false, false, false),
    };
    let (near_end, end) = match paper {
        Some(StatusFlags::Paper { near_end, end }) => (near_end, end),
        _ => (false, false),
    };
    if cover_open {
        PrinterStatus::CoverOpen
    } else if end || paper_end_stop {
        PrinterStatus::Out
    } else if offline || error {
        PrinterStatus::Offline
    } else if near_end {
        PrinterStatus::NearEnd
    } else {
        PrinterStatus::Ok
    }
}

/// The byte a printer in `status` answers to `DLE EOT n`, as the emulator sends it; `None` when
/// it stays silent (Unknown, or a request it does not know).
pub fn status_reply(status: PrinterStatus, n: u8) -> Option<u8> {
    use PrinterStatus::*;
    let stopped = matches!(status, Out | CoverOpen | Offline);
    let flags = match n {
        STATUS_PRINTER if stopped => 0x08,
        STATUS_PRINTER => 0,
        STATUS_OFFLINE_CAUSE => match status {
            CoverOpen => 0x04,
            Out => 0x20,
            Offline => 0x40,
            _ => 0,
        },
        STATUS_ERROR_CAUSE => match status {
            Offline => 0x40,
            _ => 0,
        },
        STATUS_PAPER => match status {
            NearEnd => 0x0C,
            Out => 0x6C,
            _ => 0,
        },
        _ => return None,
    };
    (status != Unknown).then_some(FIXED_SET | flags)
}
