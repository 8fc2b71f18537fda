//! Headquarters KPIs of business days, computed from the days themselves.
//!
//! Pure: a [`Day`] (as read from its document), the office configuration when it is known, the
//! office's time zone and "now" come in; rows of numbers come out. Because the numbers come from
//! the day documents, they are right as soon as an office that was offline for days has synced.
//!
//! # Who counts where
//!
//! Every ticket of a day belongs to exactly one group of each kind, so a ticket transferred from
//! one service to another counts once, and the rows of a kind add up to the total (for counters
//! and agents: the tickets that were called at all):
//!
//! - `office`: every ticket;
//! - `service`: the ticket's service at the end of the day (after any transfer);
//! - `counter`, `agent`: where the ticket was last called; tickets never called are in no row;
//! - `hour`: the local hour (in the office's time zone) the ticket was issued in, so a row tells
//!   what the citizens who arrived in that hour went through.
//!
//! Out-of-order calls are calls, not tickets: each counts in the row of its own counter, agent
//! and hour, and in the row of the called ticket's service.
//!
//! # Definitions
//!
//! - waiting time: from issue to the first call (a later transfer or recall does not restart it);
//!   measured for every ticket that was called. Percentiles use the nearest-rank method, so they
//!   are always a wait that some citizen had.
//! - service time: for finished tickets, from the start of service (or the call, if service was
//!   never started explicitly) to the finish.
//! - within target: a called ticket whose wait is at most the `target_wait_minutes` of the
//!   service it was issued for (its number's prefix).
//! - left before being called: cancelled without ever being called, plus, once the day is over,
//!   tickets still waiting.
//! - preferential within the legal maximum: among preferential tickets whose category has a
//!   `max_wait_minutes`, those called within it. The share's denominator is every such ticket
//!   called, plus those never called that had already waited past the maximum (they were
//!   cancelled late, or still wait, or waited until the day ended): both are breaches of the law.
//!
//! - estimate accuracy: over called tickets that were told a wait range when issued, the share
//!   whose actual wait (to the nearest minute) fell inside it, the mean absolute error of the
//!   range's midpoint, and the mean width of the ranges told.
//!
//! A mean or percentile of nothing is 0 (with its count beside it, 0), never NaN. A share of
//! nothing is 0. The two shares that need the configuration are `None` when it is not known.

use std::collections::{BTreeMap, HashMap};

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::config::OfficeConfig;
use crate::day::{CallRecord, Day};
use crate::ids::{AgentId, BusinessDay, CounterId, ServiceId, TicketId, Timestamp};
use crate::rule::CallReason;
use crate::ticket::{Class, Ticket, TicketStatus};

const MS_PER_SECOND: f64 = 1000.0;
const MS_PER_MINUTE: i64 = 60_000;

/// What the rows of a report are per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Office,
    Service,
    Counter,
    Agent,
    /// The local hour of the day in the office's time zone, "09:00".
    Hour,
}

impl GroupBy {
    pub const ALL: [GroupBy; 5] = [GroupBy::Office, GroupBy::Service, GroupBy::Counter, GroupBy::Agent, GroupBy::Hour];

    pub fn name(self) -> &'static str {
        match self {
            GroupBy::Office => "office",
            GroupBy::Service => "service",
            GroupBy::Counter => "counter",
            GroupBy::Agent => "agent",
            GroupBy::Hour => "hour",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|by| by.name() == name)
    }
}

/// What a report needs besides the day.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The office configuration, for target waits, legal maximum waits and names. Without it the
    /// shares that need targets are `None`.
    pub config: Option<&'a OfficeConfig>,
    /// The office's time zone, for hours and for when a business day ends.
    pub time_zone: &'a TimeZone,
    /// The time of the report: how long tickets still waiting have waited.
    pub now: Timestamp,
}

/// The KPIs of one group (or of everything, for a total).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiRow {
    /// The office id, service id, counter id, agent id, or local hour ("09:00").
    pub group: String,
    /// The group's name from the configuration (office, service, counter), when known.
    pub label: Option<String>,
    /// Tickets issued in this group; for counters and agents, the tickets last called there.
    pub tickets_issued: u32,
    /// Tickets called at least once.
    pub tickets_called: u32,
    /// Tickets finished at a counter.
    pub tickets_served: u32,
    /// Tickets waiting now, on a day that is not over.
    pub tickets_waiting: u32,
    pub no_shows: u32,
    /// Cancelled before any call, or still waiting when the day was over.
    pub left_before_call: u32,
    /// Mean wait from issue to first call over the called tickets (`tickets_called`).
    pub wait_mean_seconds: f64,
    pub wait_p50_seconds: f64,
    pub wait_p90_seconds: f64,
    pub wait_max_seconds: f64,
    /// Mean service time over the finished tickets (`tickets_served`).
    pub service_mean_seconds: f64,
    /// Called tickets whose wait was within their service's target; `None` without targets.
    pub within_target_wait: Option<u32>,
    /// `within_target_wait / tickets_called`, from 0 to 1.
    pub within_target_wait_share: Option<f64>,
    /// Preferential tickets with a legal maximum wait whose outcome is known: called, or
    /// already past the maximum without a call. `None` without the configuration.
    pub preferential_with_legal_max: Option<u32>,
    /// Of those, called within the maximum.
    pub preferential_within_legal_max: Option<u32>,
    /// `preferential_within_legal_max / preferential_with_legal_max`, from 0 to 1.
    pub preferential_within_legal_max_share: Option<f64>,
    /// Calls that skipped tickets the rule ranked higher (see `deviations`).
    pub out_of_order_calls: u32,
    /// Called tickets that were told a wait range when issued.
    pub estimates_scored: u32,
    /// Of those, the share whose actual wait fell inside the range, from 0 to 1.
    pub estimate_inside_share: f64,
    /// Mean absolute error of the range's midpoint against the actual wait, in minutes.
    pub estimate_midpoint_error_minutes: f64,
    /// Mean width of the ranges told, in minutes.
    pub estimate_width_minutes: f64,
}

/// An out-of-order call, with who made it and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deviation {
    pub day: BusinessDay,
    /// The row this call counts in.
    pub group: String,
    /// When the call was made, in ms since the Unix epoch.
    pub at_ms: i64,
    /// The same instant as local time of day in the office's time zone, "10:05".
    pub local_time: String,
    /// The ticket called, "A-023".
    pub ticket: String,
    pub service: Option<ServiceId>,
    pub counter: CounterId,
    /// The agent at the counter.
    pub agent: AgentId,
    /// Who pressed "call": the agent, or a supervisor calling at their counter.
    pub actor: AgentId,
    pub reason: CallReason,
    /// The agent's reason for choosing this ticket.
    pub note: Option<String>,
    pub skipped_count: u32,
    /// The numbers of the tickets the rule ranked above it.
    pub skipped: Vec<String>,
}

/// The KPIs of one day, per group, with the day's total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayKpis {
    pub day: BusinessDay,
    pub by: GroupBy,
    pub rows: Vec<KpiRow>,
    pub total: KpiRow,
    pub deviations: Vec<Deviation>,
}

/// The KPIs of one day. `day_over` says the business day has ended, so tickets still waiting
/// left without being called.
pub fn day_kpis(day: &Day, by: GroupBy, context: &Context<'_>, day_over: bool) -> DayKpis {
    let mut tally = Tally::new(by);
    tally.add_day(day, context, day_over);
    DayKpis { day: day.day, by, rows: tally.rows(), total: tally.total(&day.office), deviations: tally.deviations }
}

/// KPIs accumulated over any number of days: per group, and in total. Waits are kept whole (not
/// as per-day percentiles), so the percentiles of a range are those of all its waits.
/// Serializable, so central can keep an ended day's tally across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tally {
    by: GroupBy,
    groups: BTreeMap<String, Group>,
    total: Accumulator,
    total_label: Option<String>,
    deviations: Vec<Deviation>,
    /// Whether every day added came with the configuration; `None` before the first day.
    targets_known: Option<bool>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Group {
    label: Option<String>,
    acc: Accumulator,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Accumulator {
    issued: u32,
    served: u32,
    waiting: u32,
    no_shows: u32,
    left: u32,
    waits_ms: Vec<i64>,
    service_ms_total: i64,
    within_target: u32,
    legal_due: u32,
    legal_within: u32,
    out_of_order: u32,
    estimates: EstimateScore,
}

/// How the wait ranges told compare with the waits that followed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EstimateScore {
    pub scored: u32,
    pub inside: u32,
    /// Sums over the scored tickets, in minutes.
    pub error_minutes: f64,
    pub width_minutes: f64,
}

impl EstimateScore {
    /// Score one ticket that was called, if it was told a range.
    pub fn add(&mut self, ticket: &Ticket) {
        let (Some(range), Some(called)) = (ticket.estimate, ticket.first_called_at) else { return };
        let wait_ms = called.ms_since(ticket.issued_at);
        self.scored += 1;
        self.inside += u32::from(range.contains(wait_ms));
        self.error_minutes += (range.midpoint() - wait_ms as f64 / 60_000.0).abs();
        self.width_minutes += f64::from(range.width());
    }

    pub fn merge(&mut self, other: &EstimateScore) {
        self.scored += other.scored;
        self.inside += other.inside;
        self.error_minutes += other.error_minutes;
        self.width_minutes += other.width_minutes;
    }

    pub fn inside_share(&self) -> f64 {
        share(self.inside, self.scored)
    }

    pub fn mean_error_minutes(&self) -> f64 {
        round_to_thousandths(self.error_minutes / f64::from(self.scored.max(1)))
    }

    pub fn mean_width_minutes(&self) -> f64 {
        round_to_thousandths(self.width_minutes / f64::from(self.scored.max(1)))
    }
}

/// What one ticket adds to its group.
#[derive(Debug, Default)]
struct TicketFacts {
    wait_ms: Option<i64>,
    served_ms: Option<i64>,
    served: bool,
    waiting: bool,
    no_show: bool,
    left: bool,
    within_target: bool,
    /// `Some(within)` when the ticket counts toward the legal-maximum share.
    legal: Option<bool>,
    estimate: EstimateScore,
}

impl Tally {
    pub fn new(by: GroupBy) -> Self {
        Tally {
            by,
            groups: BTreeMap::new(),
            total: Accumulator::default(),
            total_label: None,
            deviations: Vec::new(),
            targets_known: None,
        }
    }

    pub fn by(&self) -> GroupBy {
        self.by
    }

    /// Add a business day. `day_over`: the day has ended, so tickets still waiting have left.
    pub fn add_day(&mut self, day: &Day, context: &Context<'_>, day_over: bool) {
        let known = context.config.is_some();
        self.targets_known = Some(self.targets_known.unwrap_or(true) && known);
        if self.total_label.is_none() {
            self.total_label = context.config.map(|c| c.name.clone());
        }
        // Calls are in order, so each ticket keeps its last one.
        let last_calls: HashMap<TicketId, &CallRecord> = day.calls.iter().map(|call| (call.ticket, call)).collect();
        let day_end = day.day.next_start(context.time_zone).min(context.now);
        for ticket in day.tickets.values() {
            let facts = ticket_facts(ticket, context, day_over, day_end);
            self.total.add(&facts);
            let last_call = last_calls.get(&ticket.id).copied();
            if let Some((key, label)) = self.ticket_group(day, ticket, last_call, context) {
                let group = self.groups.entry(key).or_default();
                group.label = group.label.take().or(label);
                group.acc.add(&facts);
            }
        }
        for call in day.calls.iter().filter(|call| call.is_out_of_order()) {
            let ticket = day.tickets.get(&call.ticket);
            let (key, label) = self.call_group(day, ticket, call, context);
            let group = self.groups.entry(key.clone()).or_default();
            group.label = group.label.take().or(label);
            group.acc.out_of_order += 1;
            self.total.out_of_order += 1;
            self.deviations.push(deviation(day, ticket, call, key, context.time_zone));
        }
    }

    /// Fold another tally (of the same grouping) into this one.
    pub fn merge(&mut self, other: Tally) {
        debug_assert_eq!(self.by, other.by, "tallies of one grouping merge");
        self.targets_known = match (self.targets_known, other.targets_known) {
            (Some(a), Some(b)) => Some(a && b),
            (a, b) => a.or(b),
        };
        self.total_label = self.total_label.take().or(other.total_label);
        self.total.merge(other.total);
        for (key, group) in other.groups {
            let mine = self.groups.entry(key).or_default();
            mine.label = mine.label.take().or(group.label);
            mine.acc.merge(group.acc);
        }
        self.deviations.extend(other.deviations);
    }

    /// One row per group, in group order.
    pub fn rows(&self) -> Vec<KpiRow> {
        let targets = self.targets_known == Some(true);
        self.groups.iter().map(|(key, group)| group.acc.row(key.clone(), group.label.clone(), targets)).collect()
    }

    /// Everything added, as one row named `group`.
    pub fn total(&self, group: &str) -> KpiRow {
        self.total.row(group.to_string(), self.total_label.clone(), self.targets_known == Some(true))
    }

    /// The out-of-order calls, in the order they were added.
    pub fn deviations(&self) -> &[Deviation] {
        &self.deviations
    }

    /// Take the out-of-order calls out, so that merging the tally (its counts, waits and shares)
    /// does not copy them: what a roll-up over many days and offices needs.
    pub fn take_deviations(&mut self) -> Vec<Deviation> {
        std::mem::take(&mut self.deviations)
    }

    fn ticket_group(
        &self,
        day: &Day,
        ticket: &Ticket,
        last_call: Option<&CallRecord>,
        context: &Context<'_>,
    ) -> Option<(String, Option<String>)> {
        let config = context.config;
        match self.by {
            GroupBy::Office => Some((day.office.clone(), config.map(|c| c.name.clone()))),
            GroupBy::Service => Some((ticket.service.0.clone(), service_label(config, &ticket.service))),
            GroupBy::Counter => last_call.map(|call| (call.counter.0.clone(), counter_label(config, &call.counter))),
            GroupBy::Agent => last_call.map(|call| (call.agent.0.clone(), None)),
            GroupBy::Hour => Some((local_hour(ticket.issued_at, context.time_zone), None)),
        }
    }

    fn call_group(
        &self,
        day: &Day,
        ticket: Option<&Ticket>,
        call: &CallRecord,
        context: &Context<'_>,
    ) -> (String, Option<String>) {
        let config = context.config;
        match self.by {
            GroupBy::Office => (day.office.clone(), config.map(|c| c.name.clone())),
            GroupBy::Service => match ticket {
                Some(ticket) => (ticket.service.0.clone(), service_label(config, &ticket.service)),
                // A call always names a ticket of its day; a damaged document might not.
                None => (String::new(), None),
            },
            GroupBy::Counter => (call.counter.0.clone(), counter_label(config, &call.counter)),
            GroupBy::Agent => (call.agent.0.clone(), None),
            GroupBy::Hour => (local_hour(call.at, context.time_zone), None),
        }
    }
}

fn ticket_facts(ticket: &Ticket, context: &Context<'_>, day_over: bool, day_end: Timestamp) -> TicketFacts {
    let wait_ms = ticket.first_called_at.map(|called| called.ms_since(ticket.issued_at));
    let mut facts = TicketFacts { wait_ms, ..TicketFacts::default() };
    facts.estimate.add(ticket);
    match ticket.status {
        TicketStatus::Finished => {
            facts.served = true;
            let started = ticket.started_at.or(ticket.called_at);
            facts.served_ms = ticket.closed_at.zip(started).map(|(closed, started)| closed.ms_since(started));
        }
        TicketStatus::NoShow => facts.no_show = true,
        TicketStatus::Cancelled => facts.left = wait_ms.is_none(),
        TicketStatus::Waiting if day_over => facts.left = true,
        TicketStatus::Waiting => facts.waiting = true,
        TicketStatus::Called | TicketStatus::Serving | TicketStatus::Parked => {}
    }
    let Some(config) = context.config else {
        return facts;
    };
    if let Some(wait_ms) = wait_ms {
        // The wait was spent in the queue the ticket was issued for: its number says which.
        let target_minutes = config
            .service_by_prefix(ticket.number.prefix)
            .or_else(|| config.service(&ticket.service))
            .map(|service| i64::from(service.target_wait_minutes));
        facts.within_target = target_minutes.is_some_and(|minutes| wait_ms <= minutes * MS_PER_MINUTE);
    }
    if let Class::Preferential { category } = &ticket.class {
        if let Some(max_ms) =
            config.category(category).and_then(|c| c.max_wait_minutes).map(|m| i64::from(m) * MS_PER_MINUTE)
        {
            facts.legal = match wait_ms {
                Some(wait_ms) => Some(wait_ms <= max_ms),
                None => {
                    let waited_until = match ticket.status {
                        TicketStatus::Cancelled => ticket.closed_at.unwrap_or(day_end),
                        _ => day_end,
                    };
                    // Not called and not yet past the maximum: no verdict either way.
                    (waited_until.ms_since(ticket.issued_at) > max_ms).then_some(false)
                }
            };
        }
    }
    facts
}

fn deviation(day: &Day, ticket: Option<&Ticket>, call: &CallRecord, group: String, zone: &TimeZone) -> Deviation {
    let number = |id: &TicketId| day.tickets.get(id).map_or_else(|| format!("#{id}"), |t| t.number.to_string());
    Deviation {
        day: day.day,
        group,
        at_ms: call.at.as_ms(),
        local_time: local_time(call.at, zone),
        ticket: call.number.to_string(),
        service: ticket.map(|t| t.service.clone()),
        counter: call.counter.clone(),
        agent: call.agent.clone(),
        actor: call.actor.clone(),
        reason: call.reason,
        note: call.note.clone(),
        skipped_count: u32::try_from(call.skipped.len()).unwrap_or(u32::MAX),
        skipped: call.skipped.iter().map(number).collect(),
    }
}

pub(crate) fn service_label(config: Option<&OfficeConfig>, id: &ServiceId) -> Option<String> {
    config.and_then(|c| c.service(id)).map(|s| s.name.clone())
}

pub(crate) fn counter_label(config: Option<&OfficeConfig>, id: &CounterId) -> Option<String> {
    config.and_then(|c| c.counter(id)).map(|c| c.name.clone())
}

fn zoned(at: Timestamp, zone: &TimeZone) -> jiff::Zoned {
    jiff::Timestamp::from_millisecond(at.as_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(zone.clone())
}

/// The local hour an instant falls in, as "09:00".
pub(crate) fn local_hour(at: Timestamp, zone: &TimeZone) -> String {
    format!("{:02}:00", zoned(at, zone).hour())
}

fn local_time(at: Timestamp, zone: &TimeZone) -> String {
    let zoned = zoned(at, zone);
    format!("{:02}:{:02}", zoned.hour(), zoned.minute())
}

impl Accumulator {
    fn add(&mut self, facts: &TicketFacts) {
        self.issued += 1;
        self.served += u32::from(facts.served);
        self.waiting += u32::from(facts.waiting);
        self.no_shows += u32::from(facts.no_show);
        self.left += u32::from(facts.left);
        if let Some(wait_ms) = facts.wait_ms {
            self.waits_ms.push(wait_ms);
        }
        self.service_ms_total += facts.served_ms.unwrap_or(0);
        self.within_target += u32::from(facts.within_target);
        if let Some(within) = facts.legal {
            self.legal_due += 1;
            self.legal_within += u32::from(within);
        }
        self.estimates.merge(&facts.estimate);
    }

    fn merge(&mut self, other: Accumulator) {
        self.issued += other.issued;
        self.served += other.served;
        self.waiting += other.waiting;
        self.no_shows += other.no_shows;
        self.left += other.left;
        self.waits_ms.extend(other.waits_ms);
        self.service_ms_total += other.service_ms_total;
        self.within_target += other.within_target;
        self.legal_due += other.legal_due;
        self.legal_within += other.legal_within;
        self.out_of_order += other.out_of_order;
        self.estimates.merge(&other.estimates);
    }

    fn row(&self, group: String, label: Option<String>, targets_known: bool) -> KpiRow {
        let mut waits = self.waits_ms.clone();
        waits.sort_unstable();
        let called = u32::try_from(waits.len()).unwrap_or(u32::MAX);
        let known = |value: u32| targets_known.then_some(value);
        KpiRow {
            group,
            label,
            tickets_issued: self.issued,
            tickets_called: called,
            tickets_served: self.served,
            tickets_waiting: self.waiting,
            no_shows: self.no_shows,
            left_before_call: self.left,
            wait_mean_seconds: seconds(mean(waits.iter().sum(), waits.len())),
            wait_p50_seconds: seconds(percentile(&waits, 50)),
            wait_p90_seconds: seconds(percentile(&waits, 90)),
            wait_max_seconds: seconds(waits.last().copied().unwrap_or(0) as f64),
            service_mean_seconds: seconds(mean(self.service_ms_total, self.served as usize)),
            within_target_wait: known(self.within_target),
            within_target_wait_share: targets_known.then(|| share(self.within_target, called)),
            preferential_with_legal_max: known(self.legal_due),
            preferential_within_legal_max: known(self.legal_within),
            preferential_within_legal_max_share: targets_known.then(|| share(self.legal_within, self.legal_due)),
            out_of_order_calls: self.out_of_order,
            estimates_scored: self.estimates.scored,
            estimate_inside_share: self.estimates.inside_share(),
            estimate_midpoint_error_minutes: self.estimates.mean_error_minutes(),
            estimate_width_minutes: self.estimates.mean_width_minutes(),
        }
    }
}

/// The mean of `count` values summing to `total`; 0 for none.
fn mean(total: i64, count: usize) -> f64 {
    if count == 0 {
        return 0.0;
    }
    total as f64 / count as f64
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p` percent
/// of the values at or below it. 0 for none.
fn percentile(sorted: &[i64], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1] as f64
}

fn share(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        return 0.0;
    }
    round_to_thousandths(f64::from(part) / f64::from(whole))
}

/// Milliseconds to seconds, to the millisecond (means would otherwise print 15 digits).
fn seconds(ms: f64) -> f64 {
    round_to_thousandths(ms / MS_PER_SECOND)
}

fn round_to_thousandths(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::config::tests::sample;
    use crate::ids::CategoryId;
    use crate::office::{Actor, Command, Office, Priority};
    use crate::ticket::TicketNumber;

    /// 2026-11-29 09:00 in Buenos Aires (UTC-3), 12:00 UTC.
    const T0: Timestamp = Timestamp(1_795_953_600_000);
    /// Long after the day: every waiting ticket has waited until midnight.
    const LATER: Timestamp = Timestamp(T0.0 + 7 * 24 * 3_600_000);

    fn minutes(n: i64) -> Timestamp {
        T0.plus_minutes(n)
    }

    fn empty_day() -> Day {
        Day::new("centro", BusinessDay::parse("2026-11-29").expect("date"))
    }

    /// A hand-made ticket of service `general` (prefix A), issued `issued` minutes after T0.
    fn ticket(id: u32, issued: i64) -> Ticket {
        Ticket::issued(
            TicketId(id),
            TicketNumber { prefix: 'A', seq: id as u16 },
            ServiceId::new("general"),
            Class::Normal,
            crate::ticket::Who::Kiosk("entrada".into()),
            format!("t{id}"),
            minutes(issued),
        )
    }

    /// The ticket, called at `called` and finished at `finished` (minutes after T0).
    fn served(ticket: Ticket, called: i64, finished: i64) -> Ticket {
        Ticket {
            status: TicketStatus::Finished,
            called_at: Some(minutes(called)),
            first_called_at: Some(minutes(called)),
            started_at: Some(minutes(called)),
            closed_at: Some(minutes(finished)),
            agent: Some(AgentId::new("ana")),
            ..ticket
        }
    }

    fn call(seq: u32, ticket: &Ticket, counter: &str, agent: &str, skipped: &[u32]) -> CallRecord {
        CallRecord {
            seq,
            ticket: ticket.id,
            number: ticket.number,
            counter: CounterId::new(counter),
            agent: AgentId::new(agent),
            actor: AgentId::new(agent),
            at: ticket.first_called_at.unwrap_or(ticket.issued_at),
            reason: if skipped.is_empty() { CallReason::FirstComeFirstServed } else { CallReason::Specific },
            note: (!skipped.is_empty()).then(|| "trámite urgente".to_string()),
            skipped: skipped.iter().map(|&id| TicketId(id)).collect(),
        }
    }

    fn day_of(tickets: Vec<Ticket>, calls: Vec<CallRecord>) -> Day {
        let mut day = empty_day();
        day.tickets = tickets.into_iter().map(|t| (t.id, t)).collect();
        day.calls = calls;
        day
    }

    fn zone() -> TimeZone {
        TimeZone::get("America/Argentina/Buenos_Aires").expect("bundled zone")
    }

    /// The day's KPIs per `by`, with or without the sample configuration.
    fn check(day: &Day, by: GroupBy, config: Option<&OfficeConfig>, now: Timestamp, day_over: bool) -> DayKpis {
        let zone = zone();
        let context = Context { config, time_zone: &zone, now };
        let kpis = day_kpis(day, by, &context, day_over);
        // Whatever the day, every number is finite: JSON would turn a NaN into null.
        serde_json::to_value(&kpis).expect("serialises");
        for row in kpis.rows.iter().chain([&kpis.total]) {
            for value in [row.wait_mean_seconds, row.wait_p50_seconds, row.wait_p90_seconds, row.service_mean_seconds] {
                assert!(value.is_finite() && value >= 0.0, "{row:?}");
            }
        }
        kpis
    }

    fn row<'a>(kpis: &'a DayKpis, group: &str) -> &'a KpiRow {
        kpis.rows.iter().find(|r| r.group == group).unwrap_or_else(|| panic!("no row {group} in {:?}", kpis.rows))
    }

    #[test]
    fn an_empty_day_gives_zeros_not_nan() {
        let config = sample();
        let kpis = check(&empty_day(), GroupBy::Office, Some(&config), T0, false);
        assert!(kpis.rows.is_empty());
        let total = &kpis.total;
        assert_eq!((total.tickets_issued, total.tickets_called, total.tickets_served), (0, 0, 0));
        assert_eq!((total.wait_mean_seconds, total.wait_p50_seconds, total.wait_p90_seconds), (0.0, 0.0, 0.0));
        assert_eq!(total.service_mean_seconds, 0.0);
        assert_eq!(total.within_target_wait_share, Some(0.0));
        assert_eq!(total.preferential_within_legal_max_share, Some(0.0));
        assert_eq!(total.label.as_deref(), Some("Oficina Centro"));
    }

    #[test]
    fn percentiles_and_means_on_known_waits() {
        // Waits of 1..=10 minutes, each served for 2 minutes.
        let tickets = (1..=10).map(|n| served(ticket(n, 0), i64::from(n), i64::from(n) + 2)).collect();
        let kpis = check(&day_of(tickets, Vec::new()), GroupBy::Office, None, LATER, true);
        let total = &kpis.total;
        assert_eq!(total.tickets_called, 10);
        assert_eq!(total.wait_mean_seconds, 330.0, "5.5 minutes");
        assert_eq!(total.wait_p50_seconds, 300.0, "the 5th of 10 by nearest rank");
        assert_eq!(total.wait_p90_seconds, 540.0, "the 9th of 10");
        assert_eq!(total.wait_max_seconds, 600.0);
        assert_eq!(total.service_mean_seconds, 120.0);
        assert_eq!(row(&kpis, "centro").tickets_served, 10);
    }

    #[test]
    fn percentiles_of_one_wait_and_of_a_few() {
        assert_eq!(percentile(&[7], 50), 7.0);
        assert_eq!(percentile(&[7], 90), 7.0);
        assert_eq!(percentile(&[1, 2, 3], 50), 2.0);
        assert_eq!(percentile(&[1, 2, 3], 90), 3.0);
        assert_eq!(percentile(&[1, 2, 3, 4], 50), 2.0);
        assert_eq!(percentile(&[], 90), 0.0);
    }

    #[test]
    fn shares_within_target_need_the_configuration() {
        // general's target is the default 20 minutes: waits of 10 and 20 are within, 21 is not.
        let tickets = vec![served(ticket(1, 0), 10, 12), served(ticket(2, 0), 20, 25), served(ticket(3, 0), 21, 30)];
        let day = day_of(tickets, Vec::new());
        let config = sample();
        let with = check(&day, GroupBy::Office, Some(&config), LATER, true).total;
        assert_eq!(with.within_target_wait, Some(2));
        assert_eq!(with.within_target_wait_share, Some(0.667));
        let without = check(&day, GroupBy::Office, None, LATER, true).total;
        assert_eq!((without.within_target_wait, without.within_target_wait_share), (None, None));
        assert_eq!((without.preferential_with_legal_max, without.preferential_within_legal_max_share), (None, None));
        assert_eq!(without.tickets_served, 3, "the rest does not need targets");
    }

    #[test]
    fn a_transferred_wait_is_judged_by_the_target_of_the_service_it_was_spent_in() {
        let mut config = sample();
        config.services[1].target_wait_minutes = 5; // pagos (B)
                                                    // Issued for general (A, 20 min), waited 15, then transferred to pagos and served there.
        let moved = Ticket { service: ServiceId::new("pagos"), transfers: 1, ..served(ticket(1, 0), 15, 40) };
        let kpis = check(&day_of(vec![moved], Vec::new()), GroupBy::Service, Some(&config), LATER, true);
        assert_eq!(row(&kpis, "pagos").within_target_wait, Some(1));
    }

    #[test]
    fn citizens_who_left_before_being_called() {
        let cancelled = Ticket {
            status: TicketStatus::Cancelled,
            closed_at: Some(minutes(30)),
            outcome: Some("se retiró".into()),
            ..ticket(1, 0)
        };
        let still_waiting = ticket(2, 10);
        let no_show = Ticket {
            status: TicketStatus::NoShow,
            first_called_at: Some(minutes(5)),
            called_at: Some(minutes(7)),
            closed_at: Some(minutes(8)),
            ..ticket(3, 0)
        };
        let day = day_of(vec![cancelled, still_waiting, no_show], Vec::new());
        let during = check(&day, GroupBy::Office, None, minutes(60), false).total;
        assert_eq!((during.left_before_call, during.tickets_waiting, during.no_shows), (1, 1, 1));
        let after = check(&day, GroupBy::Office, None, LATER, true).total;
        assert_eq!((after.left_before_call, after.tickets_waiting, after.no_shows), (2, 0, 1));
        assert_eq!(after.tickets_called, 1, "the no-show was called: its wait counts");
    }

    #[test]
    fn preferential_citizens_within_their_legal_maximum() {
        // embarazada: legal maximum 30 minutes.
        let preferential =
            |t: Ticket| Ticket { class: Class::Preferential { category: CategoryId::new("embarazada") }, ..t };
        let in_time = preferential(served(ticket(1, 0), 25, 30));
        let late = preferential(served(ticket(2, 0), 31, 40));
        let never_called_past_max = preferential(ticket(3, 0));
        let never_called_yet = preferential(ticket(4, 50));
        let normal = served(ticket(5, 0), 45, 50);
        let day = day_of(vec![in_time, late, never_called_past_max, never_called_yet, normal], Vec::new());
        let config = sample();
        let total = check(&day, GroupBy::Office, Some(&config), minutes(60), false).total;
        assert_eq!(total.preferential_with_legal_max, Some(3), "the one waiting 10 minutes has no verdict yet");
        assert_eq!(total.preferential_within_legal_max, Some(1));
        assert_eq!(total.preferential_within_legal_max_share, Some(0.333));
        let at_day_end = check(&day, GroupBy::Office, Some(&config), LATER, true).total;
        assert_eq!(at_day_end.preferential_with_legal_max, Some(4), "by midnight it had waited past 30 minutes");
    }

    #[test]
    fn out_of_order_calls_are_listed_with_who_where_and_why() {
        let first = ticket(1, 0);
        let second = ticket(2, 1);
        let jumped = served(ticket(3, 2), 5, 10);
        let calls = vec![call(1, &jumped, "2", "ana", &[1, 2])];
        let kpis = check(&day_of(vec![first, second, jumped], calls), GroupBy::Counter, None, minutes(20), false);
        assert_eq!(kpis.total.out_of_order_calls, 1);
        assert_eq!(row(&kpis, "2").out_of_order_calls, 1);
        let deviation = &kpis.deviations[0];
        assert_eq!(deviation.ticket, "A-003");
        assert_eq!((deviation.counter.as_str(), deviation.agent.as_str()), ("2", "ana"));
        assert_eq!(deviation.reason, CallReason::Specific);
        assert_eq!(deviation.note.as_deref(), Some("trámite urgente"));
        assert_eq!(deviation.skipped_count, 2);
        assert_eq!(deviation.skipped, ["A-001", "A-002"]);
        assert_eq!(deviation.local_time, "09:05");
        assert_eq!(deviation.group, "2");
    }

    #[test]
    fn hours_are_bucketed_in_the_office_time_zone() {
        // T0 is 12:00 UTC, 09:00 in Buenos Aires; 90 minutes later is 10:30 there.
        let day = day_of(vec![ticket(1, 0), ticket(2, 20), ticket(3, 90)], Vec::new());
        let kpis = check(&day, GroupBy::Hour, None, minutes(100), false);
        let hours: Vec<(&str, u32)> = kpis.rows.iter().map(|r| (r.group.as_str(), r.tickets_issued)).collect();
        assert_eq!(hours, [("09:00", 2), ("10:00", 1)]);
    }

    #[test]
    fn a_ticket_transferred_at_a_real_office_counts_once() {
        let mut office = Office::restore(sample(), b"report".to_vec(), T0, &[]).expect("office");
        let ana = Actor { agent: AgentId::new("ana"), supervisor: false };
        let beto = Actor { agent: AgentId::new("beto"), supervisor: false };
        let mut run = |at: i64, command: Command| {
            office.handle_command(minutes(at), command).expect("accepted");
        };
        let (one, two) = (CounterId::new("1"), CounterId::new("2"));
        run(0, Command::SignIn { counter: one.clone(), by: ana.clone() });
        run(0, Command::SignIn { counter: two.clone(), by: beto.clone() });
        let issue = Command::Issue {
            service: ServiceId::new("general"),
            priority: Priority::Normal,
            issuer: crate::Who::Kiosk("entrada".into()),
            token: "x1".into(),
        };
        run(0, issue);
        run(4, Command::CallNext { counter: one.clone(), by: ana.clone() });
        run(6, Command::Transfer { counter: one, by: ana, service: ServiceId::new("pagos") });
        run(10, Command::CallNext { counter: two.clone(), by: beto.clone() });
        run(12, Command::Finish { counter: two, by: beto, outcome: String::new() });
        let day = office.day().clone();
        let config = sample();
        for by in GroupBy::ALL {
            let kpis = check(&day, by, Some(&config), minutes(20), false);
            let issued: u32 = kpis.rows.iter().map(|r| r.tickets_issued).sum();
            assert_eq!((issued, kpis.total.tickets_issued, kpis.total.tickets_served), (1, 1, 1), "{by:?}");
            assert_eq!(kpis.total.wait_p50_seconds, 240.0, "issue to first call, not to the second");
        }
        let services = check(&day, GroupBy::Service, Some(&config), minutes(20), false);
        assert_eq!(services.rows.iter().map(|r| r.group.as_str()).collect::<Vec<_>>(), ["pagos"]);
        assert_eq!(services.rows[0].label.as_deref(), Some("Pagos"));
        let agents = check(&day, GroupBy::Agent, Some(&config), minutes(20), false);
        assert_eq!(agents.rows.iter().map(|r| r.group.as_str()).collect::<Vec<_>>(), ["beto"], "where it ended");
        assert_eq!(agents.rows[0].service_mean_seconds, 120.0);
    }

    #[test]
    fn a_range_tally_takes_percentiles_over_all_its_waits() {
        let zone = zone();
        let context = Context { config: None, time_zone: &zone, now: LATER };
        let first = day_of(vec![served(ticket(1, 0), 1, 2), served(ticket(2, 0), 2, 3)], Vec::new());
        let second = day_of((1..=8).map(|n| served(ticket(n, 0), 10, 11)).collect(), Vec::new());
        let mut range = Tally::new(GroupBy::Office);
        for day in [&first, &second] {
            let mut tally = Tally::new(GroupBy::Office);
            tally.add_day(day, &context, true);
            range.merge(tally);
        }
        let total = range.total("centro");
        assert_eq!(total.tickets_issued, 10);
        assert_eq!(total.wait_p50_seconds, 600.0, "eight of ten waits were 10 minutes");
        assert_eq!(total.wait_p90_seconds, 600.0);
        assert_eq!(total.within_target_wait_share, None);
    }

    fn arbitrary_ticket() -> impl Strategy<Value = Ticket> {
        (0..600i64, prop::option::of((0..240i64, 0..60i64)), 0..7usize, any::<bool>(), 0..3usize, 0..2u8).prop_map(
            |(issued, called, status, preferential, service, counter)| {
                let status = TicketStatus::ALL[status];
                let mut t = ticket(0, issued);
                t.status = status;
                t.service = ServiceId::new(["general", "pagos", "unknown"][service]);
                t.counter = Some(CounterId::new(["1", "2"][usize::from(counter)]));
                if preferential {
                    t.class = Class::Preferential { category: CategoryId::new("embarazada") };
                }
                if let (Some((wait, service)), false) = (called, status == TicketStatus::Waiting) {
                    t.first_called_at = Some(minutes(issued + wait));
                    t.called_at = t.first_called_at;
                    t.closed_at = status.is_closed().then(|| minutes(issued + wait + service));
                } else if status != TicketStatus::Waiting {
                    t.status = TicketStatus::Cancelled;
                    t.closed_at = Some(minutes(issued + 5));
                }
                t
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Every ticket is in one row per grouping (counters and agents: if it was called), so
        /// rows add up to the total; and every number is finite and in range.
        #[test]
        fn rows_add_up_to_the_total_for_any_day(
            tickets in prop::collection::vec(arbitrary_ticket(), 0..40),
            with_config in any::<bool>(),
            day_over in any::<bool>(),
        ) {
            let tickets: Vec<Ticket> = tickets
                .into_iter()
                .enumerate()
                .map(|(i, t)| Ticket { id: TicketId(i as u32 + 1), number: TicketNumber { prefix: 'A', seq: i as u16 + 1 }, ..t })
                .collect();
            let calls: Vec<CallRecord> = tickets
                .iter()
                .filter(|t| t.first_called_at.is_some())
                .enumerate()
                .map(|(i, t)| call(i as u32 + 1, t, t.counter.as_ref().map_or("1", |c| c.as_str()), "ana", &[]))
                .collect();
            let day = day_of(tickets, calls);
            let config = sample();
            let config = with_config.then_some(&config);
            for by in GroupBy::ALL {
                let kpis = check(&day, by, config, LATER, day_over);
                let total = &kpis.total;
                let sum = |f: fn(&KpiRow) -> u32| kpis.rows.iter().map(f).sum::<u32>();
                // Counters and agents hold only the tickets that were called.
                let counted = match by {
                    GroupBy::Counter | GroupBy::Agent => total.tickets_called,
                    _ => total.tickets_issued,
                };
                prop_assert_eq!(sum(|r| r.tickets_issued), counted);
                prop_assert_eq!(sum(|r| r.tickets_called), total.tickets_called);
                prop_assert_eq!(sum(|r| r.tickets_served), total.tickets_served);
                if counted == total.tickets_issued {
                    prop_assert_eq!(sum(|r| r.left_before_call), total.left_before_call);
                }
                prop_assert_eq!(total.tickets_issued as usize, day.tickets.len());
                for row in kpis.rows.iter().chain([total]) {
                    prop_assert!(row.wait_p50_seconds <= row.wait_p90_seconds);
                    prop_assert!(row.wait_p90_seconds <= row.wait_max_seconds);
                    prop_assert!(row.tickets_served + row.no_shows + row.left_before_call + row.tickets_waiting <= row.tickets_issued);
                    for share in [row.within_target_wait_share, row.preferential_within_legal_max_share].into_iter().flatten() {
                        prop_assert!((0.0..=1.0).contains(&share));
                    }
                    prop_assert_eq!(row.within_target_wait_share.is_some(), with_config);
                }
            }
        }
    }
}
