//! Every key of the documents, named once.

use crate::ids::BusinessDay;

pub const SCHEMA: &str = "schema";
pub const SCHEMA_VERSION: i64 = 1;
pub const OFFICE: &str = "office";
pub const DAY: &str = "day";
pub const TICKETS: &str = "tickets";
pub const COUNTERS: &str = "counters";
pub const CALLS: &str = "calls";
pub const SEQUENCES: &str = "sequences";

pub mod ticket {
    pub const PREFIX: &str = "prefix";
    pub const SEQ: &str = "seq";
    pub const SERVICE: &str = "service";
    pub const CLASS: &str = "class";
    pub const CATEGORY: &str = "category";
    pub const APPOINTMENT_AT: &str = "appointment_at";
    pub const TOKEN: &str = "token";
    pub const ISSUED_AT: &str = "issued_at";
    pub const QUEUED_AT: &str = "queued_at";
    pub const FRONT: &str = "front";
    pub const STATUS: &str = "status";
    pub const COUNTER: &str = "counter";
    pub const AGENT: &str = "agent";
    pub const RECALLS: &str = "recalls";
    pub const TRANSFERS: &str = "transfers";
    pub const CALLED_AT: &str = "called_at";
    pub const FIRST_CALLED_AT: &str = "first_called_at";
    pub const STARTED_AT: &str = "started_at";
    pub const CLOSED_AT: &str = "closed_at";
    pub const OUTCOME: &str = "outcome";
}

pub mod counter {
    pub const STATUS: &str = "status";
    pub const AGENT: &str = "agent";
    pub const CURRENT: &str = "current";
    pub const STREAK: &str = "preferential_streak";
}

pub mod call {
    pub const TICKET: &str = "ticket";
    pub const PREFIX: &str = "prefix";
    pub const SEQ: &str = "seq";
    pub const COUNTER: &str = "counter";
    pub const AGENT: &str = "agent";
    pub const AT: &str = "at";
    pub const REASON: &str = "reason";
    pub const NOTE: &str = "note";
    pub const SKIPPED: &str = "skipped";
}

pub fn day_doc_id(office: &str, day: BusinessDay) -> String {
    format!("branch/{office}/day/{day}")
}

pub fn config_doc_id(office: &str) -> String {
    format!("branch/{office}/config")
}
