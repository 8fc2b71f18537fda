//! Counter LED displays on RS-485, driven as Modbus RTU slaves (e.g. the LED-485 family).
//!
//! - [`register_map`]: where a display model keeps its text and how a call becomes register
//!   writes; pure, no I/O.
//! - [`display`]: [`DisplayBus`], the Modbus RTU master for one bus with several displays on it.
//! - [`emulator`]: displays without hardware, answering over any byte stream or a pty.
//!
//! This module knows nothing of queues: the edge turns "ticket A-023 called to counter 4" into a
//! [`DisplayContent`] and a unit address.

pub mod display;
pub mod emulator;
pub mod register_map;

pub use display::{BusSettings, DisplayBus, DisplayError};
pub use emulator::{EmulatedDisplay, Emulator};
pub use register_map::{decode_text, DisplayContent, RegisterMap, RegisterWrite, TextEncoding, TEXT_CHARS_MAX};
/// The refusal a display answers with, as in [`DisplayError::Exception`].
pub use tokio_modbus::ExceptionCode;
