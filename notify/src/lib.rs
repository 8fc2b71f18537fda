//! Notices to citizens, for both daemons: "your turn is near", "you are called", survey
//! invitations, booking codes and reminders.
//!
//! The pure parts are sans-IO and tested without a network: the outbox's state per notice
//! (`outbox`), contacts and their redaction (`contact`), message templates (`template`), and
//! SMS text: GSM 7-bit or UCS-2, segments, PDUs (`sms`). The channels do the I/O: SMTP
//! (`email`), a GSM modem speaking AT commands on a serial line (`modem`, with an emulator), and
//! an HTTP SMS gateway (`http_sms`). This crate knows nothing of tickets or bookings beyond the
//! keys and texts it is given.
//!
//! The modem has an emulator (`modem::Emulator`) that tests drive and `fila-devsim modem` runs
//! on a pseudo-terminal, so the SMS channel is tried without a SIM or hardware.

pub mod channel;
pub mod modem;
pub mod sms;
