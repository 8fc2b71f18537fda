//! SMS text without I/O: which alphabet a text needs, how many messages it takes, and the PDUs
//! a modem sends and lists (3GPP TS 23.038 and TS 23.040).
//!
//! ```text
//! alphabet    GSM 03.38 default alphabet and extension table
//! segment     Encoding (GSM 7-bit or UCS-2), parts, segment_count
//! septet      7-bit packing
//! address     phone numbers as TP addresses
//! pdu         SMS-SUBMIT encoding, SMS-SUBMIT/SMS-DELIVER decoding
//! reassembly  concatenated parts back into one text
//! ```
//!
//! Errors never repeat a phone number or a text: they end up in logs.

pub mod address;
pub mod alphabet;
pub mod pdu;
pub mod reassembly;
pub mod segment;
pub mod septet;

pub use pdu::{
    decode_deliver, decode_submit, encode_deliver, encode_submit, Concat, Deliver, Submit, SubmitOptions, SubmitPdu,
    Timestamp, Validity,
};
pub use reassembly::Reassembler;
pub use segment::{segment_count, split, Encoding, Split};

use thiserror::Error;

/// Why a text or a PDU could not be encoded or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SmsError {
    #[error("the phone number is not a number (digits, international ones after a '+', at most 20)")]
    InvalidNumber,
    #[error("the text needs {parts} SMS, more than the {max} one message may have")]
    TooLong { parts: usize, max: usize },
    #[error("a character is not in the GSM 7-bit alphabet")]
    NotInAlphabet,
    #[error("the user data is longer than one SMS holds")]
    UserDataTooLong,
    #[error("the PDU is not hexadecimal")]
    NotHex,
    #[error("the PDU ends early")]
    Truncated,
    #[error("the PDU has {0} octets after its user data")]
    TrailingBytes(usize),
    #[error("the PDU is not an SMS-{expected}")]
    WrongType { expected: &'static str },
    #[error("the data coding scheme 0x{0:02X} is not text in GSM 7-bit or UCS-2")]
    UnsupportedDcs(u8),
    #[error("the user data header is malformed")]
    BadHeader,
    #[error("the UCS-2 text has an odd number of octets")]
    BadUcs2,
    #[error("an address in the PDU is malformed")]
    BadAddress,
    #[error("the service centre time stamp is malformed")]
    BadTimestamp,
}
