//! ESC/POS ticket printers: the ticket layout ([`encode_ticket`]), a decoder turning printed
//! bytes back into what a citizen reads ([`decode`]), real-time status ([`decode_status`],
//! [`summarize`]), the driver ([`Printer`], [`open`]) and an emulator ([`serve`]).
//!
//! The codecs are pure; only `printer`, `transport` and `emulator` touch I/O. Bytes follow the
//! Epson ESC/POS manuals as summarised in the device notes (§1); where the `escpos` crate's
//! constants are right they are used, its "partial cut" (`GS V A 1`, a full cut) is not.

mod codepage;
mod decode;
mod emulator;
mod encode;
mod printer;
mod status;
mod transport;

pub use codepage::{CodePage, ALL_CODE_PAGES};
pub use decode::{decode, parse_command, Align, Command, Cut, Decoder, Parsed, Printed, PrintedLine, Printout};
pub use emulator::{serve, serve_tcp, EmulatorOptions};
pub use encode::{encode_test_page, encode_ticket, wrap, PrinterProfile, TicketPrint, PARTIAL_CUT};
pub use printer::{Printer, PRINT_TIMEOUT, STATUS_TIMEOUT};
pub use status::{
    decode_status, status_reply, status_request, summarize, PrinterStatus, StatusError, StatusFlags,
    STATUS_ERROR_CAUSE, STATUS_OFFLINE_CAUSE, STATUS_PAPER, STATUS_PRINTER,
};
pub use transport::{open, BoxedPrinter, FlowControl, PrinterError, PrinterIo, PrinterTransport, CONNECT_TIMEOUT};
