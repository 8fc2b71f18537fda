//! Identifiers and time values shared by every part of the core.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch. The core never reads a clock: the shell passes one in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_ms(ms: i64) -> Self {
        Timestamp(ms)
    }
    pub fn as_ms(self) -> i64 {
        self.0
    }
    pub fn plus_minutes(self, minutes: i64) -> Self {
        Timestamp(self.0.saturating_add(minutes.saturating_mul(60_000)))
    }
    /// Whole milliseconds from `earlier` to `self`, never negative.
    pub fn ms_since(self, earlier: Timestamp) -> i64 {
        (self.0 - earlier.0).max(0)
    }
}

/// The calendar date of a business day in the office's own time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BusinessDay(pub jiff::civil::Date);

impl BusinessDay {
    /// The business day that contains `at` in `zone`: the office's local date.
    pub fn containing(at: Timestamp, zone: &jiff::tz::TimeZone) -> Self {
        let instant = jiff::Timestamp::from_millisecond(at.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        BusinessDay(instant.to_zoned(zone.clone()).date())
    }

    /// The instant the next business day begins (local midnight), where the day rolls over.
    pub fn next_start(self, zone: &jiff::tz::TimeZone) -> Timestamp {
        let next = self.0.tomorrow().unwrap_or(self.0);
        match next.to_zoned(zone.clone()) {
            Ok(zoned) => Timestamp(zoned.timestamp().as_millisecond()),
            Err(_) => Timestamp(i64::MAX),
        }
    }

    /// The instant the day begins (local midnight).
    pub fn start(self, zone: &jiff::tz::TimeZone) -> Timestamp {
        match self.0.to_zoned(zone.clone()) {
            Ok(zoned) => Timestamp(zoned.timestamp().as_millisecond()),
            Err(_) => Timestamp(i64::MIN),
        }
    }

    /// The day `days` later (earlier when negative); the same day past the calendar's ends.
    pub fn plus_days(self, days: i64) -> Self {
        BusinessDay(self.0.checked_add(jiff::Span::new().days(days)).unwrap_or(self.0))
    }

    pub fn parse(text: &str) -> Option<Self> {
        text.parse::<jiff::civil::Date>().ok().map(BusinessDay)
    }
}

impl fmt::Display for BusinessDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A service the office offers ("tramites"), e.g. `general`.
    ServiceId
);
string_id!(
    /// A counter (ventanilla, puesto), e.g. `4`.
    CounterId
);
string_id!(
    /// A preferential category with its own legal maximum wait, e.g. `pregnant`.
    CategoryId
);
string_id!(
    /// A member of staff: counter agent, supervisor or office admin.
    AgentId
);

/// A ticket's identity within its business day: the order in which it was issued, from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TicketId(pub u32);

impl TicketId {
    /// The key under which the ticket lives in the day document's ticket map.
    pub fn key(self) -> String {
        format!("{:06}", self.0)
    }
    pub fn from_key(key: &str) -> Option<Self> {
        key.parse().ok().map(TicketId)
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Whether a configured identifier is acceptable: short, ASCII letters, digits, `-` and `_`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= crate::limits::ID_LEN_MAX
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(name).expect("bundled zone")
    }

    #[test]
    fn business_day_follows_the_office_time_zone_not_utc() {
        // 2026-11-30 02:30 UTC is still the 29th in Buenos Aires (UTC-3).
        let at = Timestamp(1_796_005_800_000);
        assert_eq!(BusinessDay::containing(at, &zone("UTC")).to_string(), "2026-11-30");
        assert_eq!(BusinessDay::containing(at, &zone("America/Argentina/Buenos_Aires")).to_string(), "2026-11-29");
    }

    #[test]
    fn next_day_starts_at_local_midnight() {
        let zone = zone("America/Bogota");
        let day = BusinessDay::parse("2026-11-29").expect("date");
        let start = day.next_start(&zone);
        assert_eq!(BusinessDay::containing(start, &zone).to_string(), "2026-11-30");
        assert_eq!(BusinessDay::containing(Timestamp(start.0 - 1), &zone), day);
    }
}
