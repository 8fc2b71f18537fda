//! The call-next rule: which waiting ticket a counter calls, and why.
//!
//! Among the waiting tickets of the services a counter serves, in tiers:
//!
//! 1. **Preferential at its legal limit**: a preferential ticket whose category has a legal
//!    maximum wait and that has waited at least that maximum minus `legal_wait_margin_minutes`.
//!    Earliest legal deadline first. The law beats every other consideration.
//! 2. **Appointment due**: an appointment whose time, less `appointment_early_minutes`, has come.
//!    Earliest appointment first. But a bookable service keeps a share of each hour's calls for
//!    walk-ins (`walk_in_percent`): once appointments have had the rest of this clock hour's
//!    calls of their service, they wait behind everyone else until walk-ins have had their
//!    share (see [`capped`]), so bookings can never crowd out the people who came in.
//! 3. **Preferential**, oldest first, then **first come, first served** for everyone else
//!    (normal tickets and appointments that are not due yet). But once a counter has made
//!    `preferential_ratio` preferential calls in a row, normal tickets go before preferential ones
//!    for one call (**anti-starvation**). A ratio of 0 turns that off: strict priority.
//!
//! Within a tier, tickets moved to the head by a transfer come first, then by the time they
//! queued, then by issue order. With `service_order = "counter_priority"` the counter's service
//! order comes before all of that. The rule is a pure function of the day's state, the
//! configuration and the time, so the same inputs always choose the same ticket, and every call
//! records the [`CallReason`] that chose it.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::{OfficeConfig, ServiceOrder};
use crate::day::Day;
use crate::ids::{ServiceId, TicketId, Timestamp};
use crate::ticket::{Class, Ticket, TicketStatus};

/// Why a ticket was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallReason {
    PreferentialAtLegalLimit,
    AppointmentDue,
    AntiStarvation,
    Preferential,
    FirstComeFirstServed,
    /// An agent chose the ticket by its number (with a reason, recorded with the call).
    Specific,
    /// An agent resumed a ticket they had parked.
    Resumed,
}

impl CallReason {
    pub const ALL: [CallReason; 7] = [
        CallReason::PreferentialAtLegalLimit,
        CallReason::AppointmentDue,
        CallReason::AntiStarvation,
        CallReason::Preferential,
        CallReason::FirstComeFirstServed,
        CallReason::Specific,
        CallReason::Resumed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CallReason::PreferentialAtLegalLimit => "preferential_at_legal_limit",
            CallReason::AppointmentDue => "appointment_due",
            CallReason::AntiStarvation => "anti_starvation",
            CallReason::Preferential => "preferential",
            CallReason::FirstComeFirstServed => "first_come_first_served",
            CallReason::Specific => "specific",
            CallReason::Resumed => "resumed",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Whether a call for this reason counts toward the counter's preferential streak.
    pub fn is_preferential(self) -> bool {
        matches!(self, CallReason::PreferentialAtLegalLimit | CallReason::Preferential)
    }
}

/// A ticket in the order the rule would call it, with the reason it would give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked {
    pub ticket: TicketId,
    pub reason: CallReason,
}

/// Services whose due appointments have had their share of the last hour's calls.
pub type Capped = BTreeSet<ServiceId>;

/// The bookable services whose appointments took more than their share of this clock hour's
/// calls (the office's local hour; each ticket counted once, however often it was recalled):
/// their appointments wait until walk-ins have had theirs.
pub fn capped(config: &OfficeConfig, day: &Day, now: Timestamp) -> Capped {
    let calls = day.calls_per_service(hour_start(now, &config.time_zone));
    config
        .services
        .iter()
        .filter(|service| {
            let share = service.booking.as_ref().map_or(0, |b| u64::from(b.walk_in_percent.min(100)));
            let counted = calls.get(&service.id).copied().unwrap_or_default();
            share > 0 && u64::from(counted.appointments) * 100 > (100 - share) * u64::from(counted.all)
        })
        .map(|service| service.id.clone())
        .collect()
}

/// The start of the local clock hour `now` is in (zones a half or three quarters off UTC too).
fn hour_start(now: Timestamp, zone: &jiff::tz::TimeZone) -> Timestamp {
    let Ok(instant) = jiff::Timestamp::from_millisecond(now.0) else { return now };
    let zoned = instant.to_zoned(zone.clone());
    match zoned.date().at(zoned.hour(), 0, 0, 0).to_zoned(zone.clone()) {
        Ok(start) => Timestamp(start.timestamp().as_millisecond()),
        Err(_) => now.plus_minutes(-i64::from(zoned.minute())),
    }
}

/// Rank every waiting ticket of `services` for a counter whose preferential streak is `streak`.
/// The first entry is the ticket "call next" takes.
pub fn rank<'a>(
    config: &OfficeConfig,
    tickets: impl Iterator<Item = &'a Ticket>,
    services: &[ServiceId],
    streak: u32,
    capped: &Capped,
    now: Timestamp,
) -> Vec<Ranked> {
    let order = Order { config, services, starving: starving(config, streak), capped, now };
    let mut keyed: Vec<(SortKey, Ranked)> = tickets.filter_map(|t| order.key(t)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, ranked)| ranked).collect()
}

/// The ticket "call next" takes: the first of [`rank`], without sorting everyone.
pub fn first<'a>(
    config: &OfficeConfig,
    tickets: impl Iterator<Item = &'a Ticket>,
    services: &[ServiceId],
    streak: u32,
    capped: &Capped,
    now: Timestamp,
) -> Option<Ranked> {
    let order = Order { config, services, starving: starving(config, streak), capped, now };
    tickets.filter_map(|t| order.key(t)).min_by(|a, b| a.0.cmp(&b.0)).map(|(_, ranked)| ranked)
}

/// How many tickets [`rank`] puts before `target`, without sorting everyone; `None` if the
/// target is not among the candidates.
pub fn ahead<'a>(
    config: &OfficeConfig,
    tickets: impl Iterator<Item = &'a Ticket>,
    services: &[ServiceId],
    target: &Ticket,
    capped: &Capped,
    now: Timestamp,
) -> Option<u32> {
    let order = Order { config, services, starving: false, capped, now };
    let (target_key, _) = order.key(target)?;
    Some(tickets.filter_map(|t| order.key(t)).filter(|(key, _)| *key < target_key).count() as u32)
}

fn starving(config: &OfficeConfig, streak: u32) -> bool {
    config.rule.preferential_ratio > 0 && streak >= config.rule.preferential_ratio
}

/// Everything the rule's order depends on besides the ticket.
struct Order<'a> {
    config: &'a OfficeConfig,
    services: &'a [ServiceId],
    starving: bool,
    capped: &'a Capped,
    now: Timestamp,
}

impl Order<'_> {
    fn key(&self, t: &Ticket) -> Option<(SortKey, Ranked)> {
        if t.status != TicketStatus::Waiting {
            return None;
        }
        let service_rank = self.services.iter().position(|s| *s == t.service)?;
        let service_rank = match self.config.rule.service_order {
            ServiceOrder::Arrival => 0,
            ServiceOrder::CounterPriority => service_rank,
        };
        let capped = self.capped.contains(&t.service);
        let (tier, reason, time) = classify(self.config, t, self.starving, capped, self.now);
        let key = SortKey { tier, service_rank, time, front: Reverse(t.front), queued_at: t.queued_at, id: t.id };
        Some((key, Ranked { ticket: t.id, reason }))
    }
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    tier: u8,
    service_rank: usize,
    /// The tier's own deadline (legal limit, appointment time); zero where the tier has none.
    time: Timestamp,
    front: Reverse<bool>,
    queued_at: Timestamp,
    id: TicketId,
}

fn classify(
    config: &OfficeConfig,
    ticket: &Ticket,
    starving: bool,
    capped: bool,
    now: Timestamp,
) -> (u8, CallReason, Timestamp) {
    let params = &config.rule;
    let none = Timestamp(0);
    match &ticket.class {
        Class::Preferential { category } => {
            let max_wait = config.category(category).and_then(|c| c.max_wait_minutes);
            if let Some(max_wait) = max_wait {
                let deadline = ticket.issued_at.plus_minutes(i64::from(max_wait));
                let alarm = deadline.plus_minutes(-i64::from(params.legal_wait_margin_minutes));
                if now >= alarm {
                    return (0, CallReason::PreferentialAtLegalLimit, deadline);
                }
            }
            if starving {
                (3, CallReason::Preferential, none)
            } else {
                (2, CallReason::Preferential, none)
            }
        }
        // Over its hour's share: behind everyone, until walk-ins have had theirs.
        Class::Appointment { .. } if capped => (4, CallReason::FirstComeFirstServed, none),
        Class::Appointment { at } if *at <= now.plus_minutes(i64::from(params.appointment_early_minutes)) => {
            (1, CallReason::AppointmentDue, *at)
        }
        Class::Normal | Class::Appointment { .. } => {
            if starving {
                (2, CallReason::AntiStarvation, none)
            } else {
                (3, CallReason::FirstComeFirstServed, none)
            }
        }
    }
}

/// When a preferential ticket reaches the alarm point before its legal maximum wait, if ever.
pub fn legal_alarm_at(config: &OfficeConfig, ticket: &Ticket) -> Option<Timestamp> {
    let Class::Preferential { category } = &ticket.class else {
        return None;
    };
    let max_wait = config.category(category)?.max_wait_minutes?;
    Some(ticket.issued_at.plus_minutes(i64::from(max_wait) - i64::from(config.rule.legal_wait_margin_minutes)))
}
