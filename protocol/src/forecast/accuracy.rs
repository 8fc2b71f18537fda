//! How far a week's forecast was from what happened: per service, day and hour, the arrivals
//! forecast and seen and the counters each would have needed; per hour and over the week, the
//! absolute error and its share of what arrived (WAPE: the sum of absolute errors over the sum
//! of actual arrivals, which unlike a mean of per-hour percentages does not explode on quiet
//! hours).
//!
//! The counters "needed by what happened" use the week's own service times (the same fallbacks
//! as the forecast), so a miss shows whether it came from arrivals or from slower service.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::{erlang, hundredths, Forecast, Params};
use crate::config::OfficeConfig;
use crate::day::Day;
use crate::estimate::history::History;
use crate::ids::{BusinessDay, ServiceId};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    pub week: BusinessDay,
    /// The days of the week with a document: the others count as no arrivals.
    pub days_seen: Vec<BusinessDay>,
    /// Per service, day and hour where arrivals were forecast or seen.
    pub cells: Vec<AccuracyCell>,
    /// Per day and hour, every service together.
    pub hours: Vec<AccuracyHour>,
    pub total: AccuracyTotal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyCell {
    pub service: ServiceId,
    pub day: BusinessDay,
    pub hour: u8,
    pub forecast_arrivals: f64,
    pub actual_arrivals: u32,
    pub absolute_error: f64,
    pub forecast_counters: u32,
    pub actual_counters: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyHour {
    pub day: BusinessDay,
    pub hour: u8,
    pub forecast_arrivals: f64,
    pub actual_arrivals: u32,
    /// The sum of the services' absolute errors.
    pub absolute_error: f64,
    pub forecast_counters: u32,
    pub actual_counters: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccuracyTotal {
    pub forecast_arrivals: f64,
    pub actual_arrivals: u32,
    pub absolute_error: f64,
    /// `absolute_error / actual_arrivals`; `None` when nothing arrived.
    pub wape: Option<f64>,
    /// Counter-hours over the week, as forecast and as what happened needed.
    pub forecast_counter_hours: u32,
    pub actual_counter_hours: u32,
    /// Hours (per service) that needed more counters than forecast.
    pub hours_understaffed: u32,
}

/// Score `forecast` against the days of its week that happened (`actual`; days outside the
/// week are ignored).
pub fn accuracy<'a>(
    forecast: &Forecast,
    actual: impl IntoIterator<Item = &'a Day>,
    config: &OfficeConfig,
    params: Params,
) -> Accuracy {
    let week = forecast.week;
    let zone = &config.time_zone;
    let days: Vec<&Day> = actual.into_iter().filter(|day| (week..week.plus_days(7)).contains(&day.day)).collect();
    let history = History::from_days(days.iter().copied(), zone);

    let mut seen: HashMap<(&ServiceId, BusinessDay, u8), u32> = HashMap::new();
    for day in &days {
        for ((service, hour), count) in super::arrivals(day, zone) {
            *seen.entry((service, day.day, hour)).or_default() += count;
        }
    }

    let mut cells = Vec::new();
    for service in &config.services {
        let mut slots: BTreeMap<(BusinessDay, u8), (f64, u32, u32)> = BTreeMap::new();
        if let Some(forecast) = forecast.services.iter().find(|s| s.service == service.id) {
            for hour in &forecast.hours {
                slots.insert((hour.day, hour.hour), (hour.arrivals, hour.counters, 0));
            }
        }
        for ((_, day, hour), &count) in seen.iter().filter(|((s, _, _), _)| **s == service.id) {
            slots.entry((*day, *hour)).or_insert((0.0, 0, 0)).2 = count;
        }
        for ((day, hour), (forecast_arrivals, forecast_counters, actual_arrivals)) in slots {
            let minutes = super::service_minutes(&history, service, super::weekday(day), hour);
            let actual_counters = erlang::counters_needed(
                f64::from(actual_arrivals),
                minutes,
                f64::from(service.target_wait_minutes),
                params.service_level,
            );
            cells.push(AccuracyCell {
                service: service.id.clone(),
                day,
                hour,
                forecast_arrivals,
                actual_arrivals,
                absolute_error: hundredths((forecast_arrivals - f64::from(actual_arrivals)).abs()),
                forecast_counters,
                actual_counters,
            });
        }
    }

    let mut hours: BTreeMap<(BusinessDay, u8), AccuracyHour> = BTreeMap::new();
    let mut total = AccuracyTotal {
        forecast_arrivals: 0.0,
        actual_arrivals: 0,
        absolute_error: 0.0,
        wape: None,
        forecast_counter_hours: 0,
        actual_counter_hours: 0,
        hours_understaffed: 0,
    };
    for cell in &cells {
        let hour = hours.entry((cell.day, cell.hour)).or_insert(AccuracyHour {
            day: cell.day,
            hour: cell.hour,
            forecast_arrivals: 0.0,
            actual_arrivals: 0,
            absolute_error: 0.0,
            forecast_counters: 0,
            actual_counters: 0,
        });
        hour.forecast_arrivals = hundredths(hour.forecast_arrivals + cell.forecast_arrivals);
        hour.actual_arrivals += cell.actual_arrivals;
        hour.absolute_error = hundredths(hour.absolute_error + cell.absolute_error);
        hour.forecast_counters += cell.forecast_counters;
        hour.actual_counters += cell.actual_counters;
        total.forecast_arrivals += cell.forecast_arrivals;
        total.actual_arrivals += cell.actual_arrivals;
        total.absolute_error += cell.absolute_error;
        total.forecast_counter_hours += cell.forecast_counters;
        total.actual_counter_hours += cell.actual_counters;
        total.hours_understaffed += u32::from(cell.actual_counters > cell.forecast_counters);
    }
    total.forecast_arrivals = hundredths(total.forecast_arrivals);
    total.absolute_error = hundredths(total.absolute_error);
    total.wape = (total.actual_arrivals > 0)
        .then(|| (total.absolute_error / f64::from(total.actual_arrivals) * 1000.0).round() / 1000.0);
    let mut days_seen: Vec<BusinessDay> = days.iter().map(|d| d.day).collect();
    days_seen.sort();
    days_seen.dedup();
    Accuracy { week, days_seen, cells, hours: hours.into_values().collect(), total }
}
