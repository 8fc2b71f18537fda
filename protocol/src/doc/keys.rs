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
/// Made by the first answer, not in the day's skeleton: days from before surveys stay readable.
pub const SURVEYS: &str = "surveys";
/// The appointments document's map of bookings.
pub const BOOKINGS: &str = "bookings";
/// The requests document's map of remote joins.
pub const REQUESTS: &str = "requests";
/// Made by the first refused remote join, not in the day's skeleton.
pub const REFUSALS: &str = "refusals";

pub mod ticket {
    pub const PREFIX: &str = "prefix";
    pub const SEQ: &str = "seq";
    pub const SERVICE: &str = "service";
    pub const CLASS: &str = "class";
    pub const ISSUER: &str = "issuer";
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
    pub const CLOSED_BY: &str = "closed_by";
    /// The wait range told at issue, in minutes.
    pub const ESTIMATE_LOW: &str = "estimate_low";
    pub const ESTIMATE_HIGH: &str = "estimate_high";
    /// Set while the citizen waits outside: their travel time in minutes.
    pub const AWAY_TRAVEL_MINUTES: &str = "away_travel_minutes";
}

pub mod survey {
    pub const SATISFACTION: &str = "satisfaction";
    pub const RECOMMEND: &str = "recommend";
    pub const RESOLVED: &str = "resolved";
    pub const COMMENTED: &str = "commented";
    pub const AT: &str = "at";
    pub const BY: &str = "by";
}

pub mod booking {
    pub const SERVICE: &str = "service";
    pub const START: &str = "start";
    pub const MINUTES: &str = "minutes";
    pub const STATE: &str = "state";
    pub const CODE_HASH: &str = "code_hash";
    pub const BOOKED_AT: &str = "booked_at";
    pub const UPDATED_AT: &str = "updated_at";
}

pub mod request {
    pub const SERVICE: &str = "service";
    pub const AT: &str = "at";
    pub const TRAVEL_MINUTES: &str = "travel_minutes";
}

pub mod refusal {
    pub const REASON: &str = "reason";
    pub const AT: &str = "at";
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
    pub const ACTOR: &str = "actor";
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

pub fn appointments_doc_id(office: &str, day: BusinessDay) -> String {
    format!("branch/{office}/appointments/{day}")
}

pub fn requests_doc_id(office: &str, day: BusinessDay) -> String {
    format!("branch/{office}/requests/{day}")
}

/// A document's identity, parsed from its id string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocId {
    Config {
        office: String,
    },
    Day {
        office: String,
        day: BusinessDay,
    },
    /// Central's bookings for an office's date; the edge only reads it.
    Appointments {
        office: String,
        day: BusinessDay,
    },
    /// Central's remote joins for an office's date; the edge reads them and answers in its day.
    Requests {
        office: String,
        day: BusinessDay,
    },
}

impl DocId {
    /// `branch/<office>/config` or `branch/<office>/day/<yyyy-mm-dd>`, with a valid office id.
    pub fn parse(text: &str) -> Option<DocId> {
        let mut parts = text.split('/');
        if parts.next()? != "branch" {
            return None;
        }
        let office = parts.next().filter(|o| crate::ids::is_valid_id(o))?.to_string();
        let id = match (parts.next()?, parts.next(), parts.next()) {
            ("config", None, None) => DocId::Config { office },
            ("day", Some(day), None) => DocId::Day { office, day: BusinessDay::parse(day)? },
            ("appointments", Some(day), None) => DocId::Appointments { office, day: BusinessDay::parse(day)? },
            ("requests", Some(day), None) => DocId::Requests { office, day: BusinessDay::parse(day)? },
            _ => return None,
        };
        Some(id)
    }

    pub fn office(&self) -> &str {
        match self {
            DocId::Config { office }
            | DocId::Day { office, .. }
            | DocId::Appointments { office, .. }
            | DocId::Requests { office, .. } => office,
        }
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocId::Config { office } => f.write_str(&config_doc_id(office)),
            DocId::Day { office, day } => f.write_str(&day_doc_id(office, *day)),
            DocId::Appointments { office, day } => f.write_str(&appointments_doc_id(office, *day)),
            DocId::Requests { office, day } => f.write_str(&requests_doc_id(office, *day)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_ids_parse_back_and_nothing_else_does() {
        for id in [
            "branch/centro/config",
            "branch/centro/day/2026-11-29",
            "branch/centro/appointments/2026-12-07",
            "branch/centro/requests/2026-12-07",
        ] {
            assert_eq!(DocId::parse(id).map(|d| d.to_string()).as_deref(), Some(id));
        }
        for bad in [
            "",
            "branch",
            "branch/centro",
            "branch/../config",
            "branch/centro/day/2026-13-01",
            "branch/centro/appointments",
            "branch/centro/appointments/2026-12-07/x",
            "branch/centro/config/x",
            "x/centro/config",
        ] {
            assert_eq!(DocId::parse(bad), None, "{bad}");
        }
    }
}
