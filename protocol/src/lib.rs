//! fila's domain core.
//!
//! It owns the rules of a branch office's queue: services, counters, tickets and their life
//! cycle, the call-next rule and its deviations, daily numbering in the office's time zone, and
//! the automerge schema in which a business day and the office configuration are stored.
//!
//! It never does I/O: no sockets, files, clock, threads or global randomness. Time comes in as a
//! [`Timestamp`] parameter and tracking tokens come in with the command that needs them. That is
//! what lets property tests and deterministic simulations drive it.

pub mod booking;
pub mod calendar;
pub mod config;
pub mod day;
pub mod device_report;
pub mod doc;
pub mod estimate;
pub mod forecast;
pub mod ids;
pub mod limits;
pub mod office;
pub mod remote;
pub mod report;
pub mod rule;
pub mod signage;
pub mod survey_report;
pub mod sync;
pub mod ticket;
pub mod wire;

pub use config::{ConfigProblem, OfficeConfig, RawOfficeConfig};
pub use day::{Breach, CallRecord, CounterState, CounterStatus, Day};
pub use ids::{AgentId, BusinessDay, CategoryId, CounterId, ServiceId, TicketId, Timestamp};
pub use office::{Command, Event, Office, Rejection, Reply};
pub use rule::CallReason;
pub use ticket::{Class, Ticket, TicketNumber, TicketStatus, Who};
