//! What the estimate learns from the office's past days: how long a ticket of each service
//! keeps a counter busy, and how many preferential citizens arrive, per local weekday and hour.

use std::collections::HashMap;

use crate::day::Day;
use crate::ids::{ServiceId, Timestamp};
use crate::ticket::{Class, TicketStatus};

/// A sample of durations, kept as integer sums of seconds so that adding the same tickets in
/// any order gives the same moments (the office's index is compared with a rebuilt one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Moments {
    pub(crate) count: u32,
    sum: i64,
    sum_sq: i64,
}

/// A ticket kept at a counter longer than this (parked over lunch, forgotten) says nothing of
/// service times; it is counted at this length.
const OCCUPANCY_SECONDS_MAX: i64 = 3 * 3600;

impl Moments {
    pub(super) fn add_ms(&mut self, ms: i64) {
        let seconds = (ms / 1000).clamp(0, OCCUPANCY_SECONDS_MAX);
        self.count += 1;
        self.sum += seconds;
        self.sum_sq += seconds * seconds;
    }

    pub(super) fn merge(&mut self, other: &Moments) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    /// Mean and second moment in minutes (of minutes squared).
    pub(crate) fn minutes(&self) -> Option<(f64, f64)> {
        if self.count == 0 {
            return None;
        }
        let n = f64::from(self.count);
        Some((self.sum as f64 / n / 60.0, self.sum_sq as f64 / n / 3600.0))
    }
}

/// How long a closed ticket kept its counter: from its (last) call to its close. A no-show
/// kept it too, through its recalls.
pub(super) fn occupancy_ms(ticket: &crate::ticket::Ticket) -> Option<(Timestamp, i64)> {
    if !matches!(ticket.status, TicketStatus::Finished | TicketStatus::NoShow) {
        return None;
    }
    let called = ticket.called_at?;
    Some((called, ticket.closed_at?.ms_since(called)))
}

/// Local weekday (0 = Monday) and hour of an instant.
pub(crate) fn weekday_hour(at: Timestamp, zone: &jiff::tz::TimeZone) -> (u8, u8) {
    match jiff::Timestamp::from_millisecond(at.0) {
        Ok(instant) => {
            let zoned = instant.to_zoned(zone.clone());
            (zoned.weekday().to_monday_zero_offset() as u8, zoned.hour() as u8)
        }
        Err(_) => (0, 0),
    }
}

type Slot = (ServiceId, u8, u8);

/// Past days of an office, summed per service, local weekday and hour.
#[derive(Debug, Clone, Default)]
pub struct History {
    occupancy: HashMap<Slot, Moments>,
    preferential: HashMap<Slot, u32>,
    /// Days summed, per weekday: arrivals are averaged over them.
    days: [u32; 7],
}

impl History {
    pub fn from_days<'a>(days: impl IntoIterator<Item = &'a Day>, zone: &jiff::tz::TimeZone) -> History {
        let mut history = History::default();
        for day in days {
            history.add_day(day, zone);
        }
        history
    }

    pub fn add_day(&mut self, day: &Day, zone: &jiff::tz::TimeZone) {
        let weekday = day.day.0.weekday().to_monday_zero_offset() as usize;
        self.days[weekday] += 1;
        for ticket in day.tickets.values() {
            if let Some((called, ms)) = occupancy_ms(ticket) {
                let (weekday, hour) = weekday_hour(called, zone);
                self.occupancy.entry((ticket.service.clone(), weekday, hour)).or_default().add_ms(ms);
            }
            if matches!(ticket.class, Class::Preferential { .. }) {
                let (weekday, hour) = weekday_hour(ticket.issued_at, zone);
                *self.preferential.entry((ticket.service.clone(), weekday, hour)).or_default() += 1;
            }
        }
    }

    /// Occupancy of a service's tickets at this weekday and hour; when that hour has too few,
    /// the whole weekday.
    pub(crate) fn occupancy(&self, service: &ServiceId, weekday: u8, hour: u8) -> Moments {
        const ENOUGH: u32 = 10;
        let hourly = self.occupancy.get(&(service.clone(), weekday, hour)).copied().unwrap_or_default();
        if hourly.count >= ENOUGH {
            return hourly;
        }
        let mut daily = Moments::default();
        for ((s, w, _), moments) in &self.occupancy {
            if s == service && *w == weekday {
                daily.merge(moments);
            }
        }
        daily
    }

    /// Occupancy of a service's tickets over every weekday and hour: for an hour of a weekday
    /// that never had one.
    pub(crate) fn service_occupancy(&self, service: &ServiceId) -> Moments {
        let mut all = Moments::default();
        for ((s, _, _), moments) in &self.occupancy {
            if s == service {
                all.merge(moments);
            }
        }
        all
    }

    /// Preferential arrivals per minute at this weekday and hour, if such days were seen.
    pub(super) fn preferential_rate(&self, service: &ServiceId, weekday: u8, hour: u8) -> Option<f64> {
        let days = self.days[usize::from(weekday.min(6))];
        if days == 0 {
            return None;
        }
        let arrivals = self.preferential.get(&(service.clone(), weekday, hour)).copied().unwrap_or(0);
        Some(f64::from(arrivals) / f64::from(days) / 60.0)
    }
}
