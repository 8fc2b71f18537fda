//! The staffing forecast: from an office's past days, next week's arrivals per service, weekday
//! and hour, and the counters each hour needs (Erlang C, `erlang.rs`) so that the office's
//! service level is met; and, the week after, how far the forecast was from what happened
//! (`accuracy.rs`).
//!
//! - **Arrivals.** Tickets issued per service and local hour on the same weekday of the last
//!   [`Params::weeks`] weeks, averaged with linear weights: the week before counts `weeks`
//!   times, the oldest once. Recent weeks weigh more because offices drift (a new procedure, a
//!   season), yet an odd week (a holiday, a strike) weighs at most `2/(weeks+1)` of the result,
//!   which exponential weights heavy enough to follow drift would not guarantee. A weekday
//!   without a document that week (closed, or never synced) is left out of the average rather
//!   than counted as zero, and so is a day the calendar lists as a closure (a holiday's
//!   handful of tickets says nothing of a normal week). A closure in the week forecast has no
//!   arrivals.
//! - **Service time.** The mean occupancy (call to close) of the service's tickets in the same
//!   window, at that weekday and hour when it had enough tickets, else over the weekday, else
//!   over the whole window (`estimate::History`); with no history at all, the configured
//!   `expected_service_minutes`.
//! - **Counters.** Per service, the fewest counters such that [`Params::service_level`] of the
//!   hour's arrivals are called within the service's `target_wait_minutes`. The hour's total is
//!   the sum over services: counters dedicated to each, which is what a counter configured for
//!   one service gives; counters shared between services would need a little less.
//!
//! Everything depends only on the days given, the configuration and the week: the forecast of a
//! past week, recomputed later, is the one that was shown then (past days never change).

mod accuracy;
pub mod erlang;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

pub use accuracy::{accuracy, Accuracy, AccuracyCell, AccuracyHour, AccuracyTotal};

use crate::config::OfficeConfig;
use crate::day::Day;
use crate::estimate::history::{weekday_hour, History};
use crate::ids::{BusinessDay, ServiceId};

/// How the forecast is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// How many past weeks the average reads.
    pub weeks: u32,
    /// The share of citizens to be called within their service's target wait, 0 to 1.
    pub service_level: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params { weeks: 8, service_level: 0.8 }
    }
}

/// Next week's arrivals and counters for one office.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The Monday the week starts.
    pub week: BusinessDay,
    pub weeks: u32,
    pub service_level: f64,
    /// The past days the forecast rests on (those of the window with a document).
    pub days_used: Vec<BusinessDay>,
    /// The week's days the calendar closes: nobody is expected.
    pub closed_days: Vec<BusinessDay>,
    pub services: Vec<ServiceForecast>,
    /// Per day and hour, every service together.
    pub totals: Vec<HourTotal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceForecast {
    pub service: ServiceId,
    pub target_wait_minutes: u32,
    /// The hours where arrivals are expected, by day then hour.
    pub hours: Vec<HourForecast>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourForecast {
    pub day: BusinessDay,
    /// Local hour, 0 to 23.
    pub hour: u8,
    pub arrivals: f64,
    pub service_minutes: f64,
    pub counters: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourTotal {
    pub day: BusinessDay,
    pub hour: u8,
    pub arrivals: f64,
    pub counters: u32,
}

/// The forecast of the week starting on `week` (a Monday; another day starts a seven-day week
/// there), from whichever of `days` fall in the [`Params::weeks`] weeks before it.
pub fn forecast<'a>(
    days: impl IntoIterator<Item = &'a Day>,
    config: &OfficeConfig,
    week: BusinessDay,
    params: Params,
) -> Forecast {
    let weeks = params.weeks.max(1);
    let calendar = &config.calendar;
    let window: Vec<&Day> = days
        .into_iter()
        .filter(|day| weeks_before(week, day.day, weeks).is_some() && calendar.closure_on(day.day).is_none())
        .collect();
    let zone = &config.time_zone;
    let history = History::from_days(window.iter().copied(), zone);

    // Per weekday, the weights of the days seen; per slot, the weighted arrivals.
    let mut weight_seen = [0u32; 7];
    let mut weighted: HashMap<(&ServiceId, u8, u8), u32> = HashMap::new();
    for day in &window {
        let Some(ago) = weeks_before(week, day.day, weeks) else { continue };
        let weight = weeks + 1 - ago;
        let weekday = weekday(day.day);
        weight_seen[usize::from(weekday)] += weight;
        for ((service, hour), count) in arrivals(day, zone) {
            *weighted.entry((service, weekday, hour)).or_default() += weight * count;
        }
    }

    let mut services = Vec::new();
    let mut totals: BTreeMap<(BusinessDay, u8), HourTotal> = BTreeMap::new();
    for service in &config.services {
        let mut hours: Vec<HourForecast> = weighted
            .iter()
            .filter(|((s, _, _), _)| **s == service.id)
            .filter_map(|(&(_, weekday, hour), &sum)| {
                let day = week.plus_days(i64::from((weekday + 7 - self::weekday(week)) % 7));
                if calendar.closure_on(day).is_some() {
                    return None;
                }
                let arrivals = f64::from(sum) / f64::from(weight_seen[usize::from(weekday)].max(1));
                let service_minutes = service_minutes(&history, service, weekday, hour);
                let counters = erlang::counters_needed(
                    arrivals,
                    service_minutes,
                    f64::from(service.target_wait_minutes),
                    params.service_level,
                );
                Some(HourForecast {
                    day,
                    hour,
                    arrivals: hundredths(arrivals),
                    service_minutes: hundredths(service_minutes),
                    counters,
                })
            })
            .collect();
        hours.sort_by_key(|h| (h.day, h.hour));
        for h in &hours {
            let total = totals.entry((h.day, h.hour)).or_insert(HourTotal {
                day: h.day,
                hour: h.hour,
                arrivals: 0.0,
                counters: 0,
            });
            total.arrivals = hundredths(total.arrivals + h.arrivals);
            total.counters += h.counters;
        }
        services.push(ServiceForecast {
            service: service.id.clone(),
            target_wait_minutes: service.target_wait_minutes,
            hours,
        });
    }
    let mut days_used: Vec<BusinessDay> = window.iter().map(|d| d.day).collect();
    days_used.sort();
    days_used.dedup();
    Forecast {
        week,
        weeks,
        service_level: params.service_level,
        days_used,
        closed_days: (0..7).map(|n| week.plus_days(n)).filter(|day| calendar.closure_on(*day).is_some()).collect(),
        services,
        totals: totals.into_values().collect(),
    }
}

/// Tickets issued per service and local hour of a day: the arrivals the forecast learns from
/// and is scored against. A transferred ticket counts in the service it ended in.
pub(crate) fn arrivals<'a>(day: &'a Day, zone: &jiff::tz::TimeZone) -> HashMap<(&'a ServiceId, u8), u32> {
    let mut counts = HashMap::new();
    for ticket in day.tickets.values() {
        let (_, hour) = weekday_hour(ticket.issued_at, zone);
        *counts.entry((&ticket.service, hour)).or_default() += 1;
    }
    counts
}

/// Mean minutes a ticket of the service keeps a counter at that weekday and hour.
fn service_minutes(history: &History, service: &crate::config::ServiceConfig, weekday: u8, hour: u8) -> f64 {
    let known = history
        .occupancy(&service.id, weekday, hour)
        .minutes()
        .or_else(|| history.service_occupancy(&service.id).minutes());
    match known {
        Some((mean, _)) => mean.max(0.25),
        None => f64::from(service.expected_service_minutes.max(1)),
    }
}

/// Whole weeks `day` is before `week` (1 for the seven days just before it), if within `weeks`.
fn weeks_before(week: BusinessDay, day: BusinessDay, weeks: u32) -> Option<u32> {
    let days = day.0.until(week.0).ok()?.get_days();
    let ago = u32::try_from(days).ok().filter(|d| *d >= 1)?.div_ceil(7);
    (ago <= weeks).then_some(ago)
}

/// 0 for Monday.
pub(crate) fn weekday(day: BusinessDay) -> u8 {
    day.0.weekday().to_monday_zero_offset() as u8
}

pub(crate) fn hundredths(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests;
