//! One business day of an office: its tickets, counters, calls and numbering, and the rules any
//! such day obeys whoever wrote it.
//!
//! [`Day::check`] is what a day must satisfy on its own (numbers unique and below their
//! sequence, counters and their current tickets pointing at each other, calls dense and naming
//! real tickets). [`Day::check_successor`] is what may change from one version of a day to the
//! next: history is append-only, so tickets and calls are never removed, a ticket's identity
//! (number, class, issue time, issuer, token, the wait it was told) never changes, a closed
//! ticket never changes again, and sequences never go back. Both run on every day received from
//! a peer, on load, and in the property tests; a day that breaks them is refused, not repaired.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::{AgentId, BusinessDay, CounterId, TicketId, Timestamp};
use crate::limits;
use crate::remote::Refusal;
use crate::rule::CallReason;
use crate::ticket::{Class, Ticket, TicketNumber, Who};

/// One business day of an office, exactly as its day document holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    pub day: BusinessDay,
    pub office: String,
    pub tickets: BTreeMap<TicketId, Ticket>,
    pub counters: BTreeMap<CounterId, CounterState>,
    /// Every call, in order; out-of-order calls are those with skipped tickets.
    pub calls: Vec<CallRecord>,
    /// The last number issued per service prefix.
    pub sequences: BTreeMap<char, u16>,
    /// Satisfaction surveys answered at the office (tracking page, exit tablet), per ticket.
    pub surveys: BTreeMap<TicketId, SurveyAnswer>,
    /// Remote joins the office answered without a ticket, by request id (the others became
    /// tickets issued by `remote:<id>`).
    pub refusals: BTreeMap<String, Refusal>,
}

/// A citizen's answer to the survey of a finished ticket. A comment's text never enters the
/// document (free text may name people, and a document's history cannot be erased); only that
/// there was one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyAnswer {
    /// 1 to 5.
    pub satisfaction: Option<u8>,
    /// 0 to 10: would they recommend the office.
    pub recommend: Option<u8>,
    /// Was their procedure resolved.
    pub resolved: Option<bool>,
    pub commented: bool,
    pub at: Timestamp,
    /// The citizen (tracking page) or the exit tablet's kiosk.
    pub by: Who,
}

impl SurveyAnswer {
    /// What is wrong with the answer's values, if anything.
    pub fn problem(&self) -> Option<&'static str> {
        if self.satisfaction.is_some_and(|s| !(1..=5).contains(&s)) {
            return Some("satisfaction is 1 to 5");
        }
        if self.recommend.is_some_and(|r| r > 10) {
            return Some("recommend is 0 to 10");
        }
        if self.satisfaction.is_none() && self.recommend.is_none() && self.resolved.is_none() && !self.commented {
            return Some("an answer answers at least one question");
        }
        None
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterStatus {
    #[default]
    Closed,
    Open,
    Paused,
}

/// A counter's state for the day: who is at it and whom they attend.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterState {
    pub status: CounterStatus,
    pub agent: Option<AgentId>,
    /// The ticket called to or served at this counter.
    pub current: Option<TicketId>,
    /// Preferential calls in a row here, for the anti-starvation ratio.
    pub preferential_streak: u32,
}

/// A call as recorded in the day document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// 1 for the day's first call.
    pub seq: u32,
    pub ticket: TicketId,
    pub number: TicketNumber,
    pub counter: CounterId,
    /// The agent at the counter, who attends the citizen.
    pub agent: AgentId,
    /// Who pressed "call": the agent, or a supervisor calling at the agent's counter.
    pub actor: AgentId,
    pub at: Timestamp,
    pub reason: CallReason,
    /// The agent's reason for calling a specific ticket.
    pub note: Option<String>,
    /// Tickets the rule ranked above this one: non-empty makes it an out-of-order call.
    pub skipped: Vec<TicketId>,
}

/// A rule of the day broken: by a document received from a peer, or by a bug.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Breach {
    #[error("sequence {prefix} is at {sequence}, below ticket {prefix}-{highest:03} already issued")]
    SequenceBelowIssued { prefix: char, sequence: u16, highest: u16 },
    #[error("sequence {prefix} is at {sequence}, over the limit of {max} a day", max = limits::TICKETS_PER_SERVICE_MAX)]
    SequenceOverLimit { prefix: char, sequence: u16 },
    #[error("ticket number {0} is issued twice")]
    DuplicateNumber(TicketNumber),
    #[error("ticket {0} has number 0, which is never issued")]
    NumberZero(TicketId),
    #[error("ticket id {0} is beyond the day's limit")]
    TicketIdOverLimit(TicketId),
    #[error("ticket {0} has {1} recalls or transfers, over the limit")]
    CountOverLimit(TicketNumber, u8),
    #[error("ticket {0} is an appointment no booking issued")]
    AppointmentWithoutBooking(TicketNumber),
    #[error("ticket {0} is closed without a closing time")]
    ClosedWithoutTime(TicketNumber),
    #[error("counter {counter}'s current ticket {ticket} does not exist")]
    CurrentMissing { counter: CounterId, ticket: TicketId },
    #[error("counter {counter}'s current ticket {number} is not at that counter")]
    CurrentElsewhere { counter: CounterId, number: TicketNumber },
    #[error("ticket {number} is at counter {counter:?}, which is not attending it")]
    AtCounterUnknownToIt { number: TicketNumber, counter: Option<CounterId> },
    #[error("call {found} is where call {expected} should be: calls are numbered 1, 2, 3, ...")]
    CallsNotDense { expected: u32, found: u32 },
    #[error("call {seq} names ticket {ticket}, which does not exist or has another number")]
    CallUnknownTicket { seq: u32, ticket: TicketId },
    #[error("call {seq} skipped ticket {ticket}, which does not exist")]
    CallSkippedUnknown { seq: u32, ticket: TicketId },
    #[error("the day is {found_office}/{found_day}, not {office}/{day}")]
    WrongDay { office: String, day: BusinessDay, found_office: String, found_day: BusinessDay },
    #[error("ticket {0} was removed; tickets are never deleted")]
    TicketRemoved(TicketNumber),
    #[error("ticket {number}'s {field} was rewritten; it never changes")]
    TicketRewritten { number: TicketNumber, field: &'static str },
    #[error("ticket {0} is closed and was changed; closed tickets are history")]
    ClosedTicketChanged(TicketNumber),
    #[error("call {0} was removed or rewritten; calls are history")]
    CallRewritten(u32),
    #[error("sequence {0} went back")]
    SequenceWentBack(char),
    #[error("the survey of ticket {0} is for a ticket that is not finished")]
    SurveyNotFinished(TicketId),
    #[error("the survey of ticket {ticket}: {problem}")]
    SurveyOutOfRange { ticket: TicketId, problem: &'static str },
    #[error("the survey of ticket {0} was removed or changed; answers are history")]
    SurveyRewritten(TicketId),
    #[error("remote join {0} is answered twice; each gets one ticket or one refusal")]
    RemoteAnsweredTwice(String),
    #[error("the refusal of remote join {0} was removed or changed; answers are history")]
    RefusalRewritten(String),
}

/// Tickets of one service called in a while: all of them, and the appointments among them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServiceCalls {
    pub all: u32,
    pub appointments: u32,
}

impl Day {
    pub fn new(office: &str, day: BusinessDay) -> Self {
        Day {
            day,
            office: office.to_string(),
            tickets: BTreeMap::new(),
            counters: BTreeMap::new(),
            calls: Vec::new(),
            sequences: BTreeMap::new(),
            surveys: BTreeMap::new(),
            refusals: BTreeMap::new(),
        }
    }

    /// The remote joins the office has answered, by a ticket or a refusal.
    pub fn remote_answered(&self) -> std::collections::HashSet<&str> {
        let issued = self.tickets.values().filter_map(|t| match &t.issuer {
            Who::Remote(id) => Some(id.as_str()),
            _ => None,
        });
        self.refusals.keys().map(String::as_str).chain(issued).collect()
    }

    /// The tickets that bookings checked in, by booking id.
    pub fn tickets_by_booking(&self) -> HashMap<&str, &Ticket> {
        self.tickets
            .values()
            .filter_map(|ticket| match &ticket.issuer {
                Who::Booking(id) => Some((id.as_str(), ticket)),
                _ => None,
            })
            .collect()
    }

    /// Per service, the tickets called since `since` and how many of them were appointments
    /// (each ticket once, however often it was recalled).
    pub fn calls_per_service(&self, since: Timestamp) -> HashMap<&crate::ids::ServiceId, ServiceCalls> {
        let mut counted = std::collections::HashSet::new();
        let mut calls: HashMap<&crate::ids::ServiceId, ServiceCalls> = HashMap::new();
        for call in self.calls.iter().rev().take_while(|call| call.at >= since) {
            let Some(ticket) = self.tickets.get(&call.ticket).filter(|_| counted.insert(call.ticket)) else { continue };
            let counts = calls.entry(&ticket.service).or_default();
            counts.all += 1;
            counts.appointments += u32::from(matches!(ticket.class, Class::Appointment { .. }));
        }
        calls
    }

    pub fn counter(&self, id: &CounterId) -> CounterState {
        self.counters.get(id).cloned().unwrap_or_default()
    }

    /// The rules a day obeys on its own. The first one broken is reported.
    pub fn check(&self) -> Result<(), Breach> {
        let mut highest: HashMap<char, u16> = HashMap::new();
        let mut numbers: HashMap<TicketNumber, TicketId> = HashMap::new();
        let mut remote: std::collections::HashSet<&str> = self.refusals.keys().map(String::as_str).collect();
        for ticket in self.tickets.values() {
            let number = ticket.number;
            if let Who::Remote(request) = &ticket.issuer {
                if !remote.insert(request) {
                    return Err(Breach::RemoteAnsweredTwice(request.clone()));
                }
            }
            if ticket.id.0 == 0 || ticket.id.0 > limits::TICKETS_PER_DAY_MAX {
                return Err(Breach::TicketIdOverLimit(ticket.id));
            }
            if number.seq == 0 {
                return Err(Breach::NumberZero(ticket.id));
            }
            if numbers.insert(number, ticket.id).is_some() {
                return Err(Breach::DuplicateNumber(number));
            }
            let high = highest.entry(number.prefix).or_default();
            *high = (*high).max(number.seq);
            if ticket.recalls > limits::RECALLS_MAX {
                return Err(Breach::CountOverLimit(number, ticket.recalls));
            }
            if ticket.transfers > limits::TRANSFERS_PER_TICKET_MAX {
                return Err(Breach::CountOverLimit(number, ticket.transfers));
            }
            let booked = matches!(ticket.issuer, Who::Booking(_) | Who::Unrecorded);
            if matches!(ticket.class, Class::Appointment { .. }) && !booked {
                return Err(Breach::AppointmentWithoutBooking(number));
            }
            if ticket.status.is_closed() && ticket.closed_at.is_none() {
                return Err(Breach::ClosedWithoutTime(number));
            }
            if ticket.status.is_at_counter() {
                let attended = ticket.counter.as_ref().and_then(|c| self.counters.get(c)).and_then(|c| c.current);
                if attended != Some(ticket.id) {
                    return Err(Breach::AtCounterUnknownToIt { number, counter: ticket.counter.clone() });
                }
            }
        }
        for (&prefix, &sequence) in &self.sequences {
            if sequence > limits::TICKETS_PER_SERVICE_MAX {
                return Err(Breach::SequenceOverLimit { prefix, sequence });
            }
        }
        for (&prefix, &high) in &highest {
            let sequence = self.sequences.get(&prefix).copied().unwrap_or(0);
            if sequence < high {
                return Err(Breach::SequenceBelowIssued { prefix, sequence, highest: high });
            }
        }
        for (counter, state) in &self.counters {
            let Some(id) = state.current else { continue };
            let ticket =
                self.tickets.get(&id).ok_or_else(|| Breach::CurrentMissing { counter: counter.clone(), ticket: id })?;
            if !ticket.status.is_at_counter() || ticket.counter.as_ref() != Some(counter) {
                return Err(Breach::CurrentElsewhere { counter: counter.clone(), number: ticket.number });
            }
        }
        for (n, call) in self.calls.iter().enumerate() {
            let expected = n as u32 + 1;
            if call.seq != expected {
                return Err(Breach::CallsNotDense { expected, found: call.seq });
            }
            if self.tickets.get(&call.ticket).is_none_or(|t| t.number != call.number) {
                return Err(Breach::CallUnknownTicket { seq: call.seq, ticket: call.ticket });
            }
            if let Some(&ticket) = call.skipped.iter().find(|id| !self.tickets.contains_key(id)) {
                return Err(Breach::CallSkippedUnknown { seq: call.seq, ticket });
            }
        }
        for (&ticket, answer) in &self.surveys {
            if self.tickets.get(&ticket).is_none_or(|t| t.status != crate::ticket::TicketStatus::Finished) {
                return Err(Breach::SurveyNotFinished(ticket));
            }
            if let Some(problem) = answer.problem() {
                return Err(Breach::SurveyOutOfRange { ticket, problem });
            }
        }
        Ok(())
    }

    /// Whether `next` may follow this version of the day: it keeps the day's own rules and
    /// everything this version recorded. Every received or loaded day goes through this.
    pub fn check_next(&self, next: &Day) -> Result<(), Breach> {
        self.check_successor(next)?;
        next.check()
    }

    /// What may change from this version of the day to `next`: only what the life cycle moves.
    /// History is append-only: no ticket or call disappears, a ticket's identity never changes,
    /// a closed ticket never changes again, sequences never go back.
    pub fn check_successor(&self, next: &Day) -> Result<(), Breach> {
        if next.office != self.office || next.day != self.day {
            return Err(Breach::WrongDay {
                office: self.office.clone(),
                day: self.day,
                found_office: next.office.clone(),
                found_day: next.day,
            });
        }
        for (id, old) in &self.tickets {
            let new = next.tickets.get(id).ok_or(Breach::TicketRemoved(old.number))?;
            if old.status.is_closed() {
                if new != old {
                    return Err(Breach::ClosedTicketChanged(old.number));
                }
                continue;
            }
            let rewritten = |field| Err(Breach::TicketRewritten { number: old.number, field });
            if new.number != old.number {
                return rewritten("number");
            }
            if new.class != old.class {
                return rewritten("class");
            }
            if new.issued_at != old.issued_at {
                return rewritten("issued_at");
            }
            if new.issuer != old.issuer {
                return rewritten("issuer");
            }
            if new.token != old.token {
                return rewritten("token");
            }
            // What the citizen was told is measured against what happened: it stays as told.
            if new.estimate != old.estimate {
                return rewritten("estimate");
            }
            // A service changes only by a transfer, which counts itself.
            if new.service != old.service && new.transfers <= old.transfers {
                return rewritten("service");
            }
            if new.transfers < old.transfers {
                return rewritten("transfers");
            }
            if old.first_called_at.is_some() && new.first_called_at != old.first_called_at {
                return rewritten("first_called_at");
            }
            // Away only at issue; once here, a citizen is never sent back outside.
            if new.away.is_some() && new.away != old.away {
                return rewritten("away");
            }
        }
        if next.calls.len() < self.calls.len() {
            return Err(Breach::CallRewritten(next.calls.len() as u32 + 1));
        }
        if let Some((old, _)) = self.calls.iter().zip(&next.calls).find(|(old, new)| old != new) {
            return Err(Breach::CallRewritten(old.seq));
        }
        for (&prefix, &old) in &self.sequences {
            if next.sequences.get(&prefix).is_none_or(|&new| new < old) {
                return Err(Breach::SequenceWentBack(prefix));
            }
        }
        if let Some((&ticket, _)) = self.surveys.iter().find(|(id, old)| next.surveys.get(id) != Some(*old)) {
            return Err(Breach::SurveyRewritten(ticket));
        }
        if let Some((request, _)) = self.refusals.iter().find(|(id, old)| next.refusals.get(*id) != Some(*old)) {
            return Err(Breach::RefusalRewritten(request.clone()));
        }
        Ok(())
    }
}

impl CounterStatus {
    pub fn name(self) -> &'static str {
        match self {
            CounterStatus::Closed => "closed",
            CounterStatus::Open => "open",
            CounterStatus::Paused => "paused",
        }
    }
    pub fn from_name(name: &str) -> Option<Self> {
        [CounterStatus::Closed, CounterStatus::Open, CounterStatus::Paused].into_iter().find(|s| s.name() == name)
    }
}

impl CallRecord {
    pub fn is_out_of_order(&self) -> bool {
        !self.skipped.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::ServiceId;
    use crate::ticket::TicketStatus;

    fn day_with(tickets: &[(u32, char, u16)]) -> Day {
        let mut day = Day::new("centro", BusinessDay::parse("2026-12-04").expect("date"));
        for &(id, prefix, seq) in tickets {
            let ticket = Ticket::issued(
                TicketId(id),
                TicketNumber { prefix, seq },
                ServiceId::new("general"),
                Class::Normal,
                Who::Kiosk("entrada".into()),
                format!("t{id}"),
                Timestamp(0),
            );
            day.tickets.insert(ticket.id, ticket);
            let high = day.sequences.entry(prefix).or_default();
            *high = (*high).max(seq);
        }
        day
    }

    #[test]
    fn a_sequence_pushed_to_its_limit_or_below_an_issued_number_is_a_breach() {
        let mut day = day_with(&[(1, 'A', 1), (2, 'A', 2)]);
        assert_eq!(day.check(), Ok(()));
        day.sequences.insert('A', u16::MAX);
        assert_eq!(day.check(), Err(Breach::SequenceOverLimit { prefix: 'A', sequence: u16::MAX }));
        day.sequences.insert('A', 1);
        assert_eq!(day.check(), Err(Breach::SequenceBelowIssued { prefix: 'A', sequence: 1, highest: 2 }));
    }

    #[test]
    fn one_number_issued_twice_is_a_breach() {
        let day = day_with(&[(1, 'A', 1), (2, 'A', 1)]);
        assert_eq!(day.check(), Err(Breach::DuplicateNumber(TicketNumber { prefix: 'A', seq: 1 })));
    }

    #[test]
    fn a_counter_and_its_current_ticket_point_at_each_other() {
        let mut day = day_with(&[(1, 'A', 1)]);
        let counter = CounterId::new("4");
        day.counters.insert(counter.clone(), CounterState { current: Some(TicketId(9)), ..CounterState::default() });
        assert_eq!(day.check(), Err(Breach::CurrentMissing { counter: counter.clone(), ticket: TicketId(9) }));
        day.counters.insert(counter.clone(), CounterState { current: Some(TicketId(1)), ..CounterState::default() });
        assert!(matches!(day.check(), Err(Breach::CurrentElsewhere { .. })));
        if let Some(t) = day.tickets.get_mut(&TicketId(1)) {
            t.status = TicketStatus::Called;
            t.counter = Some(counter.clone());
        }
        assert_eq!(day.check(), Ok(()));
        day.counters.remove(&counter);
        assert!(matches!(day.check(), Err(Breach::AtCounterUnknownToIt { .. })));
    }

    fn call(seq: u32, ticket: u32, number: u16) -> CallRecord {
        CallRecord {
            seq,
            ticket: TicketId(ticket),
            number: TicketNumber { prefix: 'A', seq: number },
            counter: CounterId::new("1"),
            agent: AgentId::new("ana"),
            actor: AgentId::new("ana"),
            at: Timestamp(0),
            reason: CallReason::FirstComeFirstServed,
            note: None,
            skipped: vec![],
        }
    }

    #[test]
    fn calls_are_numbered_densely_and_name_real_tickets() {
        let mut day = day_with(&[(1, 'A', 1), (2, 'A', 2)]);
        day.calls = vec![call(1, 1, 1), call(3, 2, 2)];
        assert_eq!(day.check(), Err(Breach::CallsNotDense { expected: 2, found: 3 }));
        day.calls = vec![call(1, 1, 1), call(2, 7, 2)];
        assert_eq!(day.check(), Err(Breach::CallUnknownTicket { seq: 2, ticket: TicketId(7) }));
        day.calls = vec![call(1, 1, 1), call(2, 2, 3)];
        assert_eq!(day.check(), Err(Breach::CallUnknownTicket { seq: 2, ticket: TicketId(2) }));
    }

    #[test]
    fn history_is_append_only_from_one_version_to_the_next() {
        let mut before = day_with(&[(1, 'A', 1), (2, 'A', 2)]);
        before.calls = vec![call(1, 1, 1)];
        let mut after = before.clone();
        assert_eq!(before.check_successor(&after), Ok(()));

        after.calls.clear();
        assert_eq!(before.check_successor(&after), Err(Breach::CallRewritten(1)));

        let mut after = before.clone();
        after.tickets.remove(&TicketId(2));
        assert_eq!(before.check_successor(&after), Err(Breach::TicketRemoved(TicketNumber { prefix: 'A', seq: 2 })));

        let mut after = before.clone();
        if let Some(t) = after.tickets.get_mut(&TicketId(2)) {
            t.issuer = Who::Staff(AgentId::new("beto"));
        }
        assert!(matches!(before.check_successor(&after), Err(Breach::TicketRewritten { field: "issuer", .. })));

        // The wait a citizen was told is what HQ scores the estimate by: nobody improves it later.
        let mut after = before.clone();
        if let Some(t) = after.tickets.get_mut(&TicketId(2)) {
            t.estimate = Some(crate::ticket::WaitRange { low: 1, high: 2 });
        }
        assert!(matches!(before.check_successor(&after), Err(Breach::TicketRewritten { field: "estimate", .. })));

        let mut closed = before.clone();
        if let Some(t) = closed.tickets.get_mut(&TicketId(1)) {
            t.status = TicketStatus::Finished;
            t.closed_at = Some(Timestamp(5));
            t.outcome = Some("served".into());
        }
        let mut after = closed.clone();
        if let Some(t) = after.tickets.get_mut(&TicketId(1)) {
            t.outcome = Some("something else".into());
        }
        assert!(matches!(closed.check_successor(&after), Err(Breach::ClosedTicketChanged(_))));

        let mut after = before.clone();
        after.sequences.insert('A', 1);
        assert_eq!(before.check_successor(&after), Err(Breach::SequenceWentBack('A')));
    }
}
