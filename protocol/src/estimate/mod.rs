//! The wait estimate: a range of minutes for a waiting ticket ("12–20 min"), from a model of the
//! queue ahead of it. ARCHITECTURE.md describes the model; in short:
//!
//! - **Pace.** A ticket keeps a counter busy for its *occupancy* (call to close). Its mean and
//!   variance per service blend today's closed tickets with the office's history for this
//!   weekday and hour (capped, so today soon dominates) and the configured service time as a
//!   prior of a few tickets.
//! - **Counters.** Open counters serving the service count by their share of its work (a counter
//!   serving two services gives each the part of its time their waiting work asks for). Paused
//!   counters come back after a typical break. An idle open counter calls at once.
//! - **Ahead.** The tickets the call-next rule ranks before this one, plus those expected to go
//!   ahead while it waits: preferential arrivals (today's last hour blended with history, at most
//!   the share the anti-starvation ratio lets them take) and booked appointments falling due.
//! - **Range.** The wait to clear `k` departures at `m` counters has mean `(k − ½)·μ/m` and
//!   variance `k·σ²/m²`; to that come the arrivals' Poisson spread and a relative error for
//!   what the model cannot see (a pace known from few tickets, counters changing). The range is
//!   the mean less `Z_LOW` and plus `Z_HIGH` standard deviations (waits skew long), tuned by
//!   the simulation in `tests/tests/estimate_sim.rs` to hold four in five actual waits.

pub(crate) mod history;

use std::collections::HashMap;

pub use history::History;
use history::{occupancy_ms, weekday_hour, Moments};

use crate::booking::BookingState;
use crate::config::OfficeConfig;
use crate::day::{CounterStatus, Day};
use crate::ids::{ServiceId, Timestamp};
pub use crate::ticket::WaitRange;
use crate::ticket::{Class, Ticket, TicketStatus};

/// A booked appointment not checked in yet: it will go ahead of walk-ins when it falls due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub service: ServiceId,
    pub at: Timestamp,
}

impl Expected {
    /// Today's booked appointments of an office that have not come yet.
    pub fn from_bookings(bookings: &crate::booking::Appointments, zone: &jiff::tz::TimeZone) -> Vec<Expected> {
        bookings
            .bookings
            .values()
            .filter(|b| b.state == BookingState::Booked)
            .map(|b| Expected { service: b.service.clone(), at: b.start.on(bookings.day, zone) })
            .collect()
    }
}

/// Standard deviations below and above the mean wait that the range spans.
const Z_LOW: f64 = 1.3;
const Z_HIGH: f64 = 1.8;
/// What the model cannot see, as a share of the mean wait.
const DRIFT: f64 = 0.12;
/// A configured service time stands for this many tickets until the day has its own.
const PRIOR_TICKETS: f64 = 3.0;
/// Its assumed spread: service times vary by about this share of their mean.
const PRIOR_CV: f64 = 0.6;
/// History counts as at most this many tickets, so that today's pace soon outweighs it.
const HISTORY_TICKETS_MAX: f64 = 20.0;
/// A paused counter is assumed back after this many minutes.
const PAUSE_MINUTES: f64 = 10.0;
/// Preferential arrivals are read over the last hour.
const RATE_WINDOW_MINUTES: f64 = 60.0;

/// What the estimate knows of one service now.
#[derive(Debug, Clone, Default)]
struct Pace {
    /// Occupancy per ticket, minutes: mean, variance, and how many tickets it rests on.
    mean: f64,
    var: f64,
    samples: f64,
    /// Counters serving it, by their share of its work.
    open: f64,
    paused: f64,
    /// Open counters with nobody at them.
    idle: u32,
    /// Counters configured for it (by share), for when none is open yet.
    configured: f64,
    /// Preferential tickets arriving per minute.
    preferential_rate: f64,
    /// Preferential and normal tickets waiting now.
    preferential_waiting: u32,
    normal_waiting: u32,
    /// When booked appointments fall due, sorted.
    appointments_due: Vec<Timestamp>,
}

/// The office's queue as the estimate models it at one instant; built once, then asked per
/// ticket (one pass over the day, whatever the number of tickets asked about).
pub struct Estimator<'a> {
    config: &'a OfficeConfig,
    now: Timestamp,
    paces: HashMap<ServiceId, Pace>,
}

impl<'a> Estimator<'a> {
    pub fn new(
        config: &'a OfficeConfig,
        day: &'a Day,
        history: &History,
        expected: &[Expected],
        now: Timestamp,
    ) -> Estimator<'a> {
        let (weekday, hour) = weekday_hour(now, &config.time_zone);
        let mut today: HashMap<&ServiceId, Moments> = HashMap::new();
        let mut recent_preferential: HashMap<&ServiceId, u32> = HashMap::new();
        let mut waiting: HashMap<&ServiceId, (u32, u32)> = HashMap::new();
        let window_start = now.plus_minutes(-(RATE_WINDOW_MINUTES as i64));
        let mut first_issue = now;
        for ticket in day.tickets.values() {
            first_issue = first_issue.min(ticket.issued_at);
            if let Some((_, ms)) = occupancy_ms(ticket) {
                today.entry(&ticket.service).or_default().add_ms(ms);
            }
            let preferential = matches!(ticket.class, Class::Preferential { .. });
            if preferential && ticket.issued_at > window_start && ticket.issued_at <= now {
                *recent_preferential.entry(&ticket.service).or_default() += 1;
            }
            if ticket.status == TicketStatus::Waiting {
                let entry = waiting.entry(&ticket.service).or_default();
                if preferential {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
        // The first hour of the day has had less than an hour to see arrivals.
        let observed = (now.ms_since(first_issue) as f64 / 60_000.0).clamp(15.0, RATE_WINDOW_MINUTES);

        let mut paces: HashMap<ServiceId, Pace> = HashMap::new();
        for service in &config.services {
            let prior = f64::from(service.expected_service_minutes.max(1));
            let past = history.occupancy(&service.id, weekday, hour);
            let (mean, var, samples) = blend(prior, past, today.get(&service.id).copied().unwrap_or_default());
            let today_rate = f64::from(recent_preferential.get(&service.id).copied().unwrap_or(0)) / observed;
            let preferential_rate = match history.preferential_rate(&service.id, weekday, hour) {
                Some(past) => (today_rate + past) / 2.0,
                None => today_rate,
            };
            let (preferential_waiting, normal_waiting) = waiting.get(&service.id).copied().unwrap_or_default();
            let mut appointments_due: Vec<Timestamp> = expected
                .iter()
                .filter(|e| e.service == service.id)
                .map(|e| e.at.plus_minutes(-i64::from(config.rule.appointment_early_minutes)))
                .filter(|due| *due > now)
                .collect();
            appointments_due.sort_unstable();
            paces.insert(
                service.id.clone(),
                Pace {
                    mean,
                    var,
                    samples,
                    preferential_rate,
                    preferential_waiting,
                    normal_waiting,
                    appointments_due,
                    ..Pace::default()
                },
            );
        }

        // A counter's time goes to its services in proportion to the work waiting for each.
        for counter in &config.counters {
            let work = |s: &ServiceId| {
                paces.get(s).map_or(0.0, |p| f64::from(p.preferential_waiting + p.normal_waiting + 1) * p.mean)
            };
            let works: Vec<f64> = counter.services.iter().map(work).collect();
            let total: f64 = works.iter().sum();
            let state = day.counter(&counter.id);
            for (service, work) in counter.services.iter().zip(works) {
                let share = if total > 0.0 { work / total } else { 0.0 };
                let Some(pace) = paces.get_mut(service) else { continue };
                pace.configured += share;
                match state.status {
                    CounterStatus::Open => {
                        pace.open += share;
                        if state.current.is_none() {
                            pace.idle += 1;
                        }
                    }
                    CounterStatus::Paused => pace.paused += share,
                    CounterStatus::Closed => {}
                }
            }
        }
        Estimator { config, now, paces }
    }

    /// The range for a waiting ticket with `ahead` tickets ranked before it in its service.
    pub fn range(&self, ticket: &Ticket, ahead: u32) -> WaitRange {
        let Some(pace) = self.paces.get(&ticket.service) else {
            return WaitRange { low: 0, high: 0 };
        };
        // Idle counters call the first ones at once.
        let k = f64::from(ahead + 1) - f64::from(pace.idle);
        if k <= 0.0 {
            return WaitRange { low: 0, high: 1 };
        }
        let preferential = matches!(ticket.class, Class::Preferential { .. });
        // Preferential tickets take at most this share of calls while others wait.
        let ratio = f64::from(self.config.rule.preferential_ratio);
        let preferential_share = if ratio == 0.0 { 0.95 } else { ratio / (ratio + 1.0) };
        // Nobody has opened yet: assume the configured counters will.
        let open = if pace.open + pace.paused > 0.0 { pace.open } else { pace.configured.max(0.5) };
        let mut wait = (k - 0.5) * pace.mean / (open + pace.paused).max(0.1);
        let mut servers = open.max(0.1);
        let mut jumpers = 0.0;
        for _ in 0..6 {
            let back = (1.0 - PAUSE_MINUTES / wait.max(1.0)).clamp(0.0, 1.0);
            servers = (open + pace.paused * back).max(0.1);
            let throughput = servers / pace.mean;
            // Who will go ahead while it waits.
            let (capacity, arriving) = if preferential {
                let share = if pace.normal_waiting > 0 { preferential_share } else { 1.0 };
                (throughput * share, 0.0)
            } else {
                let taken = pace.preferential_rate.min(throughput * preferential_share);
                (throughput - taken, taken)
            };
            jumpers = arriving * wait;
            let due = self.due_within(pace, wait) as f64;
            wait = (k - 0.5 + due) / capacity.max(1e-3);
        }
        if let Class::Appointment { at } = &ticket.class {
            // Due at its time, whatever the queue.
            let due = at.plus_minutes(-i64::from(self.config.rule.appointment_early_minutes));
            let until = (due.ms_since(self.now) as f64 / 60_000.0).max(0.0);
            wait = wait.min(until + pace.mean / servers / 2.0);
        }
        let relative = (PRIOR_CV * PRIOR_CV / (pace.samples + PRIOR_TICKETS) + DRIFT * DRIFT).sqrt();
        let per_departure = pace.mean / servers;
        let var =
            k * pace.var / (servers * servers) + jumpers * per_departure * per_departure + (wait * relative).powi(2);
        let sd = var.sqrt();
        let low = (wait - Z_LOW * sd).max(0.0).floor();
        let high = (wait + Z_HIGH * sd).ceil().max(low + 1.0);
        WaitRange { low: low as u32, high: high.min(f64::from(u16::MAX)) as u32 }
    }

    /// Booked appointments of the service that fall due within `minutes` from now.
    fn due_within(&self, pace: &Pace, minutes: f64) -> usize {
        let until = self.now.plus_minutes(minutes.ceil() as i64);
        pace.appointments_due.partition_point(|due| *due <= until)
    }
}

/// Mean, variance and weight of a service's occupancy: the configured time as a prior of a few
/// tickets, history capped, today's tickets in full.
fn blend(prior: f64, past: Moments, today: Moments) -> (f64, f64, f64) {
    let mut weight = PRIOR_TICKETS;
    let mut sum = prior * PRIOR_TICKETS;
    let mut sum_sq = prior * prior * (1.0 + PRIOR_CV * PRIOR_CV) * PRIOR_TICKETS;
    for (moments, cap) in [(past, HISTORY_TICKETS_MAX), (today, f64::INFINITY)] {
        if let Some((mean, second)) = moments.minutes() {
            let w = f64::from(moments.count).min(cap);
            weight += w;
            sum += mean * w;
            sum_sq += second * w;
        }
    }
    let mean = (sum / weight).max(0.25);
    let var = (sum_sq / weight - mean * mean).max(0.0);
    (mean, var, weight - PRIOR_TICKETS)
}

#[cfg(test)]
mod tests;
