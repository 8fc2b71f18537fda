//! A ticket and its life cycle.
//!
//! ```text
//! issued ─► Waiting ─call─► Called ─start─► Serving ─finish─► Finished(outcome)
//!             ▲  │            │  ▲ recall      │
//!             │  │            │  └───┘         ├─park─► Parked ─resume─► Called
//!             │  │            ├─no-show / recalls exhausted─► NoShow
//!             │  │            └─park─► Parked
//!             └──┴──transfer (from Called or Serving, to another service)
//! any open state ─cancel─► Cancelled
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, CategoryId, CounterId, ServiceId, TicketId, Timestamp};

/// What a citizen reads and hears: a service prefix and the day's sequence, "A-023".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TicketNumber {
    pub prefix: char,
    pub seq: u16,
}

impl fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:03}", self.prefix, self.seq)
    }
}

impl FromStr for TicketNumber {
    type Err = ();
    /// Accepts "A-023", "A023" and "a23".
    fn from_str(text: &str) -> Result<Self, ()> {
        let mut chars = text.trim().chars();
        let prefix = chars.next().ok_or(())?.to_ascii_uppercase();
        if !prefix.is_ascii_uppercase() {
            return Err(());
        }
        let rest = chars.as_str().trim_start_matches('-');
        if rest.is_empty() || rest.len() > 3 || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        let seq: u16 = rest.parse().map_err(|_| ())?;
        if seq == 0 {
            return Err(());
        }
        Ok(TicketNumber { prefix, seq })
    }
}

/// The priority class a ticket was issued in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum Class {
    Normal,
    /// A legal preferential category (elderly, pregnant, disabled, ...).
    Preferential {
        category: CategoryId,
    },
    /// A booked appointment, due at `at`.
    Appointment {
        at: Timestamp,
    },
}

impl Class {
    pub fn name(&self) -> &'static str {
        match self {
            Class::Normal => "normal",
            Class::Preferential { .. } => "preferential",
            Class::Appointment { .. } => "appointment",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Serving,
    Parked,
    Finished,
    NoShow,
    Cancelled,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 7] = [
        TicketStatus::Waiting,
        TicketStatus::Called,
        TicketStatus::Serving,
        TicketStatus::Parked,
        TicketStatus::Finished,
        TicketStatus::NoShow,
        TicketStatus::Cancelled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Serving => "serving",
            TicketStatus::Parked => "parked",
            TicketStatus::Finished => "finished",
            TicketStatus::NoShow => "no_show",
            TicketStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Still in the office's hands: waiting, called, served or parked.
    pub fn is_open(self) -> bool {
        !self.is_closed()
    }

    /// Closed tickets are history: nothing moves them again.
    pub fn is_closed(self) -> bool {
        matches!(self, TicketStatus::Finished | TicketStatus::NoShow | TicketStatus::Cancelled)
    }

    /// At a counter: called or being served.
    pub fn is_at_counter(self) -> bool {
        matches!(self, TicketStatus::Called | TicketStatus::Serving)
    }
}

/// Who did something to a ticket: issued it, or closed it. Recorded in the day document, so it
/// names a device, a member of staff or a booking by id, never a citizen's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Who {
    /// A kiosk, by its configured id.
    Kiosk(String),
    /// A member of staff (agent, supervisor, admin), by username.
    Staff(AgentId),
    /// A physical kiosk button (MQTT), by its kiosk id.
    Button(String),
    /// A booking made at headquarters, by booking id.
    Booking(String),
    /// A citizen who joined from home through headquarters, by the request's id.
    Remote(String),
    /// The citizen themself, from their tracking page.
    Citizen,
    /// Recorded before fila kept who did what (days stored by older builds).
    Unrecorded,
}

impl Who {
    /// The stored form: `kiosk:entrada`, `staff:ana`, `button:b1`, `booking:x`, `citizen`.
    pub fn to_text(&self) -> String {
        match self {
            Who::Kiosk(id) => format!("kiosk:{id}"),
            Who::Staff(agent) => format!("staff:{agent}"),
            Who::Button(id) => format!("button:{id}"),
            Who::Booking(id) => format!("booking:{id}"),
            Who::Remote(id) => format!("remote:{id}"),
            Who::Citizen => "citizen".into(),
            Who::Unrecorded => "unrecorded".into(),
        }
    }

    /// The stored form back; `None` for anything else (an id must be a valid id).
    pub fn from_text(text: &str) -> Option<Who> {
        let valid = |id: &str| crate::ids::is_valid_id(id).then(|| id.to_string());
        match text.split_once(':') {
            Some(("kiosk", id)) => valid(id).map(Who::Kiosk),
            Some(("staff", id)) => valid(id).map(|id| Who::Staff(AgentId(id))),
            Some(("button", id)) => valid(id).map(Who::Button),
            Some(("booking", id)) => valid(id).map(Who::Booking),
            Some(("remote", id)) => valid(id).map(Who::Remote),
            None if text == "citizen" => Some(Who::Citizen),
            None if text == "unrecorded" => Some(Who::Unrecorded),
            _ => None,
        }
    }
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// A wait in whole minutes, `low` to `high`: "12–20 min".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitRange {
    pub low: u32,
    pub high: u32,
}

impl WaitRange {
    pub fn midpoint(self) -> f64 {
        (f64::from(self.low) + f64::from(self.high)) / 2.0
    }

    pub fn width(self) -> u32 {
        self.high - self.low
    }

    /// Whether an actual wait, read to the nearest minute as a citizen reads a clock, fell in.
    pub fn contains(self, wait_ms: i64) -> bool {
        let minutes = (wait_ms.max(0) + 30_000) / 60_000;
        (i64::from(self.low)..=i64::from(self.high)).contains(&minutes)
    }
}

/// A ticket of one business day. It is never deleted: closing it is a status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub number: TicketNumber,
    pub service: ServiceId,
    pub class: Class,
    /// Who issued it: a kiosk, a member of staff, a button, a booking.
    pub issuer: Who,
    /// The unguessable token of the citizen's tracking page.
    pub token: String,
    pub issued_at: Timestamp,
    /// Its place in the queue: the issue time, or the transfer time when moved to the head.
    pub queued_at: Timestamp,
    /// Moved to the head of its class by a transfer.
    pub front: bool,
    pub status: TicketStatus,
    pub counter: Option<CounterId>,
    pub agent: Option<AgentId>,
    pub recalls: u8,
    pub transfers: u8,
    pub called_at: Option<Timestamp>,
    /// The first call: waiting time runs from issue to here.
    pub first_called_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// The outcome at finish, or the reason of a cancellation.
    pub outcome: Option<String>,
    /// Who closed it (finished, marked a no-show, cancelled).
    pub closed_by: Option<Who>,
    /// The wait it was told when issued (days stored before estimates had ranges have none).
    pub estimate: Option<WaitRange>,
    /// Not in the waiting room: joined from home, or sent outside because the room was full.
    /// `None` is present; an away ticket becomes present ("I'm here") and never goes back.
    pub away: Option<Away>,
}

/// A ticket whose citizen waits outside the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Away {
    /// How long they need to reach the counters (0 when just outside the door).
    pub travel_minutes: u32,
}

impl Away {
    /// Whether it is time to tell them to come: the earliest their turn may come is within
    /// their travel time plus the office's margin.
    pub fn time_to_come(self, wait: WaitRange, margin_minutes: u32) -> bool {
        wait.low <= self.travel_minutes.saturating_add(margin_minutes)
    }
}

impl Ticket {
    /// A ticket just issued: waiting, at no counter, never called.
    pub fn issued(
        id: TicketId,
        number: TicketNumber,
        service: ServiceId,
        class: Class,
        issuer: Who,
        token: String,
        at: Timestamp,
    ) -> Ticket {
        Ticket {
            id,
            number,
            service,
            class,
            issuer,
            token,
            issued_at: at,
            queued_at: at,
            front: false,
            status: TicketStatus::Waiting,
            counter: None,
            agent: None,
            recalls: 0,
            transfers: 0,
            called_at: None,
            first_called_at: None,
            started_at: None,
            closed_at: None,
            outcome: None,
            closed_by: None,
            estimate: None,
            away: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_print_with_three_digits_and_parse_loosely() {
        let number = TicketNumber { prefix: 'A', seq: 23 };
        assert_eq!(number.to_string(), "A-023");
        for text in ["A-023", "A023", "a23", " A-23 "] {
            assert_eq!(text.parse::<TicketNumber>(), Ok(number), "{text}");
        }
        for bad in ["", "A", "A-", "1-023", "A-0", "A-1000", "A-12x"] {
            assert!(bad.parse::<TicketNumber>().is_err(), "{bad}");
        }
    }

    #[test]
    fn who_did_it_is_stored_as_text_and_read_back_strictly() {
        for who in [
            Who::Kiosk("entrada".into()),
            Who::Staff(AgentId::new("sara")),
            Who::Button("b-1".into()),
            Who::Booking("k3x".into()),
            Who::Remote("r7k".into()),
            Who::Citizen,
            Who::Unrecorded,
        ] {
            assert_eq!(Who::from_text(&who.to_text()), Some(who));
        }
        for bad in ["", "kiosk:", "staff:a b", "robot:x", "citizen:x", "kiosk"] {
            assert_eq!(Who::from_text(bad), None, "{bad}");
        }
    }
}
