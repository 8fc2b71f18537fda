//! Appointments: what a service offers to book (`config`), the slots of a day and what is free
//! in them (`slots`), the bookings central writes for an office's day (`appointments`), and the
//! booking code central signs so an offline office can still check it in (`code`).
//!
//! Central is the only writer of bookings, so capacity is enforced in one place; the edge reads
//! them and turns a checked-in booking into an appointment ticket. No personal data is in any
//! of this: names, identity numbers and contacts stay in central's store.

pub mod appointments;
pub mod checkin;
pub mod code;
pub mod config;
pub mod report;
pub mod slots;

pub use appointments::{Appointments, Booking, BookingState};
pub use checkin::{check_in, CheckInRefusal, Presented};
pub use code::{BookingPass, CodeError, ShortCode};
pub use config::{BookingConfig, Requirements};
pub use slots::{FreeSlot, Slot, Unbookable};
