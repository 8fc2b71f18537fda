//! The JSON payloads on fila's topics, and strict parsers for what devices send.
//!
//! Payloads for devices stay under [`DEVICE_PAYLOAD_BYTES_MAX`]: the Arduino PubSubClient buffer of
//! an ESP32 display holds 256 bytes for the whole packet, topic included. The waiting-room board
//! is a PC or a browser and gets [`BOARD_PAYLOAD_BYTES_MAX`].

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::topics::is_valid_id;

/// The most bytes in a payload to or from a small device (display, kiosk button, printer status).
pub const DEVICE_PAYLOAD_BYTES_MAX: usize = 200;
/// The most bytes in a [`BoardState`].
pub const BOARD_PAYLOAD_BYTES_MAX: usize = 16 * 1024;
/// The birth message of a device and of the edge.
pub const ONLINE: &[u8] = b"online";
/// The last will of a device and of the edge.
pub const OFFLINE: &[u8] = b"offline";

/// How many characters of a rejected value an error quotes, so a hostile payload cannot flood logs.
const QUOTED_CHARS_MAX: usize = 40;

/// Why a payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayloadError {
    #[error("the payload is empty")]
    Empty,
    #[error("the {what} payload is {len} bytes; at most {max} are allowed")]
    TooLong { what: &'static str, len: usize, max: usize },
    #[error("the {what} payload is not valid JSON of the expected shape: {detail}")]
    Json { what: &'static str, detail: String },
    #[error("{field} {value:?} is not an id of 1-32 letters, digits, '-' or '_'")]
    BadId { field: &'static str, value: String },
    #[error("a device status must be \"online\" or \"offline\", not {0:?}")]
    BadStatus(String),
}

/// What a counter display shows: retained on `display/{counter}/state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayState {
    /// Grows with every state the edge publishes; a display drops anything older than it shows.
    pub seq: u64,
    pub counter: String,
    /// The counter's name on screen, e.g. "Ventanilla 4".
    pub label: String,
    /// The ticket called to this counter; `None` blanks the display (counter closed or idle).
    pub ticket: Option<String>,
    /// How many times to blink the new number.
    pub blink: u8,
    /// When the edge made this state, in ms since the Unix epoch.
    pub ts: i64,
}

/// A call, for audio and animations: not retained, so never replayed on reconnect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallEvent {
    pub seq: u64,
    pub ticket: String,
    pub counter: String,
    pub label: String,
    pub service: String,
    pub ts: i64,
}

/// The waiting-room board: the last calls and how many wait per service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardState {
    pub seq: u64,
    /// Newest first.
    pub calls: Vec<BoardCall>,
    /// Tickets waiting, per service id.
    pub waiting: BTreeMap<String, u32>,
}

/// One line of the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardCall {
    pub ticket: String,
    pub counter: String,
    pub ts: i64,
}

/// A ticket printer's state, retained on `printer/{id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrinterStatusPayload {
    /// One of [`PrinterStatusPayload::STATES`].
    pub state: String,
    pub ts: i64,
}

impl PrinterStatusPayload {
    /// The states a printer reports.
    pub const STATES: [&'static str; 6] = ["ok", "near_end", "out", "cover_open", "offline", "unknown"];
}

/// A hardware kiosk button asks for a ticket of a service.
///
/// Unknown fields are ignored, so button firmware may add some (a firmware version, say) without
/// breaking older edges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskButton {
    pub service: String,
    #[serde(default)]
    pub category: Option<String>,
}

/// The edge's answer to a button press: the number issued, or why none was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KioskTicket {
    pub ticket: Option<String>,
    pub error: Option<String>,
}

impl DisplayState {
    /// The JSON payload, refused if it would not fit a display's buffer (a long label).
    pub fn to_payload(&self) -> Result<Vec<u8>, PayloadError> {
        encode(self, "display state", DEVICE_PAYLOAD_BYTES_MAX)
    }
}

impl CallEvent {
    pub fn to_payload(&self) -> Result<Vec<u8>, PayloadError> {
        encode(self, "call", DEVICE_PAYLOAD_BYTES_MAX)
    }
}

impl BoardState {
    pub fn to_payload(&self) -> Result<Vec<u8>, PayloadError> {
        encode(self, "board state", BOARD_PAYLOAD_BYTES_MAX)
    }
}

impl PrinterStatusPayload {
    pub fn to_payload(&self) -> Result<Vec<u8>, PayloadError> {
        encode(self, "printer status", DEVICE_PAYLOAD_BYTES_MAX)
    }
}

impl KioskButton {
    pub fn to_payload(&self) -> Result<Vec<u8>, PayloadError> {
        encode(self, "kiosk button", DEVICE_PAYLOAD_BYTES_MAX)
    }
}

impl KioskTicket {
    pub fn to_payload(&self) -> Result<Vec<u8>, PayloadError> {
        encode(self, "kiosk ticket", DEVICE_PAYLOAD_BYTES_MAX)
    }
}

/// The payload of a device status: `online` or `offline`.
pub fn status_payload(online: bool) -> &'static [u8] {
    if online {
        ONLINE
    } else {
        OFFLINE
    }
}

/// A button press from hardware: at most [`DEVICE_PAYLOAD_BYTES_MAX`] bytes of JSON whose
/// `service` (and `category`, when given) are ids as the edge configures them (1-32 ASCII
/// letters, digits, `-`, `_`; case kept, since they are not topic levels).
pub fn parse_kiosk_button(bytes: &[u8]) -> Result<KioskButton, PayloadError> {
    let button: KioskButton = decode(bytes, "kiosk button", DEVICE_PAYLOAD_BYTES_MAX)?;
    check_id("service", &button.service)?;
    if let Some(category) = &button.category {
        check_id("category", category)?;
    }
    Ok(button)
}

/// A device's birth message or last will. Surrounding white space and case are forgiven, since
/// firmware written for Tasmota says `Online`/`Offline`.
pub fn parse_device_status(bytes: &[u8]) -> Result<bool, PayloadError> {
    if bytes.is_empty() {
        return Err(PayloadError::Empty);
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.eq_ignore_ascii_case("online") {
        Ok(true)
    } else if text.eq_ignore_ascii_case("offline") {
        Ok(false)
    } else {
        Err(PayloadError::BadStatus(quoted(text)))
    }
}

/// The edge's answer to a button press, as the kiosk receives it.
pub fn parse_kiosk_ticket(bytes: &[u8]) -> Result<KioskTicket, PayloadError> {
    decode(bytes, "kiosk ticket", DEVICE_PAYLOAD_BYTES_MAX)
}

/// A display state as a display receives it.
pub fn parse_display_state(bytes: &[u8]) -> Result<DisplayState, PayloadError> {
    decode(bytes, "display state", DEVICE_PAYLOAD_BYTES_MAX)
}

fn encode<T: Serialize>(value: &T, what: &'static str, max: usize) -> Result<Vec<u8>, PayloadError> {
    let bytes = serde_json::to_vec(value).map_err(|error| PayloadError::Json { what, detail: error.to_string() })?;
    if bytes.len() > max {
        return Err(PayloadError::TooLong { what, len: bytes.len(), max });
    }
    Ok(bytes)
}

fn decode<T: DeserializeOwned>(bytes: &[u8], what: &'static str, max: usize) -> Result<T, PayloadError> {
    if bytes.is_empty() {
        return Err(PayloadError::Empty);
    }
    // Checked before parsing so a large payload costs nothing.
    if bytes.len() > max {
        return Err(PayloadError::TooLong { what, len: bytes.len(), max });
    }
    // serde would also take a struct as a JSON array of its fields; devices send objects only.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(PayloadError::Json { what, detail: "expected a JSON object".to_owned() });
    }
    serde_json::from_slice(bytes).map_err(|error| PayloadError::Json { what, detail: error.to_string() })
}

fn check_id(field: &'static str, value: &str) -> Result<(), PayloadError> {
    if is_valid_id(value) {
        Ok(())
    } else {
        Err(PayloadError::BadId { field, value: quoted(value) })
    }
}

fn quoted(value: &str) -> String {
    value.chars().take(QUOTED_CHARS_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_button(bytes: &[u8], expected: Result<KioskButton, &str>) {
        match (parse_kiosk_button(bytes), expected) {
            (Ok(button), Ok(expected)) => assert_eq!(button, expected),
            (Err(error), Err(fragment)) => {
                assert!(error.to_string().contains(fragment), "{error} should mention {fragment:?}")
            }
            (got, expected) => panic!("{:?}: got {got:?}, expected {expected:?}", String::from_utf8_lossy(bytes)),
        }
    }

    #[test]
    fn kiosk_button_needs_a_service_id_and_ignores_unknown_fields() {
        let plain = KioskButton { service: "a".into(), category: None };
        check_button(br#"{"service":"a"}"#, Ok(plain.clone()));
        check_button(br#"{"service":"a","fw":"1.2"}"#, Ok(plain));
        check_button(
            br#"{"service":"a","category":"senior"}"#,
            Ok(KioskButton { service: "a".into(), category: Some("senior".into()) }),
        );
        check_button(b"", Err("empty"));
        check_button(b"{", Err("not valid JSON"));
        check_button(br#"{"service":5}"#, Err("invalid type: integer `5`, expected a string"));
        check_button(br#"{}"#, Err("missing field `service`"));
        check_button(br#"{"service":"A/B"}"#, Err("service \"A/B\" is not an id"));
        check_button(br#"{"service":"a","category":""}"#, Err("category \"\" is not an id"));
        let long = format!(r#"{{"service":"{}"}}"#, "a".repeat(300));
        check_button(long.as_bytes(), Err("at most 200"));
    }

    #[test]
    fn device_status_is_online_or_offline() {
        assert_eq!(parse_device_status(b"online"), Ok(true));
        assert_eq!(parse_device_status(b"Offline\n"), Ok(false));
        assert_eq!(parse_device_status(b""), Err(PayloadError::Empty));
        assert_eq!(parse_device_status(b"lost"), Err(PayloadError::BadStatus("lost".into())));
        assert_eq!(parse_device_status(status_payload(true)), Ok(true));
        assert_eq!(parse_device_status(status_payload(false)), Ok(false));
    }

    #[test]
    fn a_display_state_too_long_for_an_esp32_is_refused_when_encoded() {
        let state = DisplayState { seq: 1, counter: "4".into(), label: "x".repeat(200), ticket: None, blink: 0, ts: 0 };
        assert!(matches!(state.to_payload(), Err(PayloadError::TooLong { max: DEVICE_PAYLOAD_BYTES_MAX, .. })));
    }
}
