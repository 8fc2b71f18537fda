//! MQTT devices of an office: the edge's link to the office broker (Mosquitto on the same box),
//! the topics and payloads it speaks, and emulated displays and kiosk buttons.
//!
//! # Topic layout
//!
//! Every topic starts with `{prefix}/{office}` (`qms/centro`). Ids in topics are lowercase
//! `[a-z0-9-_]{1,32}`. **State is retained and events are not**; every client has a last will.
//! All messages are QoS 1.
//!
//! | Topic | Direction | Retained, QoS | Payload example |
//! |---|---|---|---|
//! | `qms/{office}/edge/status` | edge → all | retained, 1 | `online` / `offline` (the edge's last will) |
//! | `qms/{office}/display/{counter}/state` | edge → display | retained, 1 | `{"seq":812,"counter":"4","label":"Ventanilla 4","ticket":"A-023","blink":3,"ts":1764450000000}`; `"ticket":null` blanks it; zero bytes clear it (decommissioned) |
//! | `qms/{office}/display/{counter}/status` | display → edge | retained, 1 | `online` / `offline` (the display's last will) |
//! | `qms/{office}/call` | edge → audio, boards | not retained, 1 | `{"seq":813,"ticket":"A-023","counter":"4","label":"Ventanilla 4","service":"a","ts":1764450000000}` |
//! | `qms/{office}/board/state` | edge → waiting-room board | retained, 1 | `{"seq":77,"calls":[{"ticket":"A-023","counter":"4","ts":1764450000000}],"waiting":{"a":5,"b":0}}` |
//! | `qms/{office}/printer/{printer}/status` | edge → all | retained, 1 | `{"state":"near_end","ts":1764450000000}` (`ok`, `near_end`, `out`, `cover_open`, `offline`, `unknown`) |
//! | `qms/{office}/kiosk/{kiosk}/button` | button → edge | not retained, 1 | `{"service":"a"}` or `{"service":"a","category":"senior"}` |
//! | `qms/{office}/kiosk/{kiosk}/ticket` | edge → button | not retained, 1 | `{"ticket":"A-024","error":null}` or `{"ticket":null,"error":"service closed"}` |
//!
//! Payloads for devices stay under 200 bytes (an ESP32 with PubSubClient has a 256-byte buffer);
//! the board's may reach 16 KiB.
//!
//! # What a device does
//! - A display connects with its will `display/{counter}/status` = `offline` (retained, QoS 1),
//!   publishes `online` (retained), subscribes to `display/{counter}/state` and draws the retained
//!   state at once. It drops a state whose `seq` is not above the one shown, unless its `ts` is
//!   newer (the edge restarted and counts from 1 again): see [`emulator::is_newer`].
//! - A kiosk button subscribes to `kiosk/{kiosk}/ticket`, then publishes to `kiosk/{kiosk}/button`.
//!
//! # What the edge does ([`spawn`])
//! Its will is `edge/status` = `offline`. On every ConnAck it subscribes to
//! `display/+/status` and `kiosk/+/button`, publishes `online` and re-publishes the last payload of
//! every retained topic it published, so displays get their state back even from a broker that
//! restarted without persistence. It reconnects with exponential backoff and jitter.
//!
//! # Broker
//! Mosquitto 2.0: `listener 1883 127.0.0.1` (plus the LAN address), `persistence true`, per-office
//! ACLs, and `message_size_limit` set: a device that retained a message larger than the edge's
//! `max_packet_kib` would otherwise break every connection of the edge.

pub mod client;
pub mod emulator;
pub mod payload;
pub mod topics;

pub use client::{spawn, Inbound, MqttLink, MqttSettings};
pub use emulator::{press_button, run_display, EmulatorError};
pub use payload::{
    parse_device_status, parse_display_state, parse_kiosk_button, parse_kiosk_ticket, BoardCall, BoardState, CallEvent,
    DisplayState, KioskButton, KioskTicket, PayloadError, PrinterStatusPayload,
};
pub use topics::{validate_id, InboundTopic, TopicError, Topics};
