//! Which business days an edge may name: around central's own date, never decades away.
//!
//! An edge may only sync days near now: today (in any time zone, so up to a day ahead of
//! central's UTC date) and the past days it has not yet handed over in full after an outage.
//! A day far in the past or future is refused (1008): otherwise a stolen or buggy branch token
//! could make central create and hold thousands of day documents, each loaded into memory.
//! The window also bounds the documents one connection can name: at most the configuration and
//! `past_days + future_days + 1` days.

use fila_protocol::doc::keys::DocId;
use fila_protocol::{BusinessDay, Timestamp};

/// How many days ahead an office may read bookings: enough to prepare, and to check in offline
/// what it already holds.
pub const APPOINTMENT_DAYS_AHEAD: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayWindow {
    /// How many days before central's date an edge may still sync (a long outage's backlog).
    pub past_days: i64,
    /// How many days after central's date (time zones ahead of UTC; a clock a little fast).
    pub future_days: i64,
}

impl Default for DayWindow {
    fn default() -> Self {
        DayWindow { past_days: 400, future_days: 1 }
    }
}

impl DayWindow {
    /// Whether `doc_id` may be synced when central's clock says `now_ms`: configuration
    /// documents always; day documents within the window.
    pub fn admits(&self, doc_id: &str, now_ms: i64) -> Result<(), String> {
        let today = BusinessDay::containing(Timestamp(now_ms), &jiff::tz::TimeZone::UTC);
        let days_from_today =
            |day: BusinessDay| today.0.until(day.0).map(|span| i64::from(span.get_days())).unwrap_or(i64::MAX);
        let day = match DocId::parse(doc_id) {
            Some(DocId::Day { day, .. }) => day,
            // Bookings: an office reads today's and tomorrow's by its own clock, which may be
            // behind central's (a box catching up after days offline): the past as for days, a
            // week ahead at most.
            Some(DocId::Appointments { day, .. } | DocId::Requests { day, .. }) => {
                let days = days_from_today(day);
                if !(-self.past_days..=APPOINTMENT_DAYS_AHEAD).contains(&days) {
                    return Err(format!("bookings of {} are not an office's to read now", day.0));
                }
                return Ok(());
            }
            _ => return Ok(()),
        };
        let days = days_from_today(day);
        if days > self.future_days {
            return Err(format!("day {} is in the future (central's date is {})", day.0, today.0));
        }
        if -days > self.past_days {
            return Err(format!("day {} is more than {} days old", day.0, self.past_days));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-29 12:00 UTC.
    const NOW: i64 = 1_795_953_600_000 + 3 * 3_600_000;

    fn check(doc: &str) -> Result<(), String> {
        DayWindow::default().admits(doc, NOW)
    }

    #[test]
    fn today_tomorrow_and_a_long_outage_are_admitted_but_not_far_days() {
        for ok in ["branch/centro/day/2026-11-29", "branch/centro/day/2026-11-30", "branch/centro/day/2025-10-25"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        assert!(check("branch/centro/day/2026-12-01").is_err_and(|e| e.contains("future")));
        assert!(check("branch/centro/day/1970-01-01").is_err_and(|e| e.contains("400 days old")));
        assert!(check("branch/centro/day/9999-12-31").is_err());
        assert_eq!(check("branch/centro/config"), Ok(()));
        assert_eq!(check("branch/centro/appointments/2026-11-29"), Ok(()));
        assert_eq!(check("branch/centro/appointments/2026-12-06"), Ok(()), "a week ahead");
        assert!(check("branch/centro/appointments/2026-12-07").is_err(), "further ahead");
        assert_eq!(check("branch/centro/appointments/2026-11-01"), Ok(()), "a box whose clock is behind");
        assert!(check("branch/centro/appointments/1970-01-01").is_err(), "long past");
    }
}
