//! Remote joins: citizens who join a service's queue from home, through central's public pages.
//!
//! Central cannot number tickets (the edge is the only allocator), so it writes each join as a
//! [`Request`] into the office's requests document of the date,
//! `branch/<office>/requests/<yyyy-mm-dd>`, which it alone writes and the edge only reads. The
//! edge answers every request exactly once in its own day document: a ticket whose issuer is
//! `Who::Remote(<request id>)`, or a [`Refusal`] under the same id. Central reads the answer from
//! the synced day. No personal data enters either document: a request carries its service, when
//! it was made and the citizen's travel time; the contact stays in central's store.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{BusinessDay, ServiceId, Timestamp};

/// The longest travel time a citizen may give: beyond it they would not be coming today.
pub const TRAVEL_MINUTES_MAX: u32 = 240;

/// One citizen's request to join a queue from afar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Central's random id; the ticket that answers it is issued by `remote:<id>`.
    pub id: String,
    pub service: ServiceId,
    /// When central took it.
    pub at: Timestamp,
    /// How long the citizen says they need to reach the office: they are told to come when
    /// their estimated wait falls below it.
    pub travel_minutes: u32,
}

impl Request {
    /// Whether central could have written it: a valid id and a bounded travel time.
    pub fn is_well_formed(&self) -> bool {
        crate::ids::is_valid_id(&self.id) && self.travel_minutes <= TRAVEL_MINUTES_MAX
    }
}

/// An office's requests of one date, as central wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requests {
    pub office: String,
    pub day: BusinessDay,
    pub requests: BTreeMap<String, Request>,
}

impl Requests {
    pub fn new(office: &str, day: BusinessDay) -> Requests {
        Requests { office: office.to_string(), day, requests: BTreeMap::new() }
    }
}

/// Whether `next` may follow `previous`: a request, once written, is never removed nor changed.
pub fn may_follow(previous: &Requests, next: &Requests) -> Result<(), String> {
    if previous.office != next.office || previous.day != next.day {
        return Err("the requests now name another office or date".into());
    }
    for (id, before) in &previous.requests {
        match next.requests.get(id) {
            None => return Err(format!("request {id} disappeared")),
            Some(after) if after != before => return Err(format!("request {id} was rewritten")),
            Some(_) => {}
        }
    }
    Ok(())
}

/// Why the office did not give a requested ticket. The office records it in its day, so the
/// citizen at central is told, and the same request is never answered twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The office is not open now (its hours, a closure).
    Closed,
    /// A new ticket would not be served before the office closes.
    Closing,
    /// The service does not exist here, or no longer takes remote joins.
    NotOffered,
    /// The service has issued as many tickets as a day allows.
    Full,
}

impl RefusalReason {
    pub fn name(self) -> &'static str {
        match self {
            RefusalReason::Closed => "closed",
            RefusalReason::Closing => "closing",
            RefusalReason::NotOffered => "not_offered",
            RefusalReason::Full => "full",
        }
    }

    pub fn parse(text: &str) -> Option<RefusalReason> {
        [RefusalReason::Closed, RefusalReason::Closing, RefusalReason::NotOffered, RefusalReason::Full]
            .into_iter()
            .find(|reason| reason.name() == text)
    }
}

/// A request the office answered without a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub reason: RefusalReason,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(id: &str) -> Request {
        Request { id: id.into(), service: ServiceId("general".into()), at: Timestamp(1_000), travel_minutes: 20 }
    }

    fn requests(ids: &[&str]) -> Requests {
        let mut requests = Requests::new("centro", BusinessDay::parse("2026-12-07").expect("day"));
        for id in ids {
            requests.requests.insert(id.to_string(), request(id));
        }
        requests
    }

    #[test]
    fn requests_are_only_ever_added() {
        assert_eq!(may_follow(&requests(&["r1"]), &requests(&["r1", "r2"])), Ok(()));
        assert!(may_follow(&requests(&["r1", "r2"]), &requests(&["r2"])).is_err(), "a request deleted");
        let mut rewritten = requests(&["r1"]);
        rewritten.requests.get_mut("r1").expect("r1").service = ServiceId("pagos".into());
        assert!(may_follow(&requests(&["r1"]), &rewritten).is_err(), "a request moved to another service");
        let mut elsewhere = requests(&["r1"]);
        elsewhere.office = "norte".into();
        assert!(may_follow(&requests(&["r1"]), &elsewhere).is_err(), "another office");
    }

    #[test]
    fn refusal_reasons_read_back() {
        for reason in [RefusalReason::Closed, RefusalReason::Closing, RefusalReason::NotOffered, RefusalReason::Full] {
            assert_eq!(RefusalReason::parse(reason.name()), Some(reason));
        }
        assert_eq!(RefusalReason::parse("busy"), None);
    }
}
