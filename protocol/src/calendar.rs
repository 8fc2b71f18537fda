//! When an office is open: its hours per weekday and the dates it is closed (holidays, a
//! strike, a move). Times are the office's wall-clock time; dates are its business days. Only
//! appointments read it today: a slot exists where the office is open.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{BusinessDay, Timestamp};
use crate::limits;

/// A wall-clock time of day, in minutes after midnight (0 to 1440, where 1440 is the end of
/// the day and only ever closes a span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(u16);

impl LocalTime {
    pub const MIDNIGHT: LocalTime = LocalTime(0);
    pub const END_OF_DAY: LocalTime = LocalTime(24 * 60);

    pub fn from_minutes(minutes: u32) -> Option<LocalTime> {
        (minutes <= 24 * 60).then_some(LocalTime(minutes as u16))
    }

    /// "08:30", or "24:00" for the end of the day.
    pub fn parse(text: &str) -> Option<LocalTime> {
        let (hours, minutes) = text.trim().split_once(':')?;
        if hours.len() != 2 || minutes.len() != 2 {
            return None;
        }
        let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
        if minutes >= 60 {
            return None;
        }
        LocalTime::from_minutes(hours * 60 + minutes)
    }

    pub fn minutes(self) -> u32 {
        u32::from(self.0)
    }

    /// This time on `day` in `zone`, as an instant. A time a clock change skips is read as the
    /// instant after the jump (jiff's compatible disambiguation).
    pub fn on(self, day: BusinessDay, zone: &jiff::tz::TimeZone) -> Timestamp {
        let minutes = i64::from(self.0);
        let date = day.0;
        let datetime =
            date.at(0, 0, 0, 0).checked_add(jiff::Span::new().minutes(minutes)).unwrap_or(date.at(23, 59, 0, 0));
        match datetime.to_zoned(zone.clone()) {
            Ok(zoned) => Timestamp(zoned.timestamp().as_millisecond()),
            Err(_) => day.start(zone),
        }
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// Open from `start` to `end` ("08:00-13:00"): the end is when the doors close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeSpan {
    pub start: LocalTime,
    pub end: LocalTime,
}

impl TimeSpan {
    pub fn minutes(self) -> u32 {
        self.end.minutes() - self.start.minutes()
    }
}

impl TryFrom<String> for TimeSpan {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a span of time such as \"08:00-13:30\"");
        let (start, end) = text.split_once('-').ok_or_else(bad)?;
        let (start, end) = (LocalTime::parse(start).ok_or_else(bad)?, LocalTime::parse(end).ok_or_else(bad)?);
        if start >= end {
            return Err(format!("{text:?} ends before it starts"));
        }
        Ok(TimeSpan { start, end })
    }
}

impl From<TimeSpan> for String {
    fn from(span: TimeSpan) -> String {
        span.to_string()
    }
}

impl fmt::Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// The hours of each weekday; a day without spans is closed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpeningHours {
    pub mon: Vec<TimeSpan>,
    pub tue: Vec<TimeSpan>,
    pub wed: Vec<TimeSpan>,
    pub thu: Vec<TimeSpan>,
    pub fri: Vec<TimeSpan>,
    pub sat: Vec<TimeSpan>,
    pub sun: Vec<TimeSpan>,
}

impl OpeningHours {
    pub fn of(&self, weekday: jiff::civil::Weekday) -> &[TimeSpan] {
        use jiff::civil::Weekday::*;
        match weekday {
            Monday => &self.mon,
            Tuesday => &self.tue,
            Wednesday => &self.wed,
            Thursday => &self.thu,
            Friday => &self.fri,
            Saturday => &self.sat,
            Sunday => &self.sun,
        }
    }

    fn named(&self) -> [(&'static str, &[TimeSpan]); 7] {
        [
            ("mon", &self.mon),
            ("tue", &self.tue),
            ("wed", &self.wed),
            ("thu", &self.thu),
            ("fri", &self.fri),
            ("sat", &self.sat),
            ("sun", &self.sun),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.named().iter().all(|(_, spans)| spans.is_empty())
    }
}

/// Days the office is closed although its weekday has hours: a holiday, a closure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub from: BusinessDay,
    /// The last closed day; the same as `from` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<BusinessDay>,
    /// Told to citizens who look for a slot then ("Feriado nacional").
    pub reason: String,
}

impl Closure {
    pub fn covers(&self, day: BusinessDay) -> bool {
        self.from <= day && day <= self.until.unwrap_or(self.from)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Calendar {
    pub hours: OpeningHours,
    pub closures: Vec<Closure>,
    /// When set, kiosks follow the hours, and kiosks and remote joins stop issuing a service's
    /// tickets once a new one would not be called this many minutes before the doors close (by
    /// its estimated wait). Unset, the kiosk issues at any hour (hours that only shape bookings
    /// and remote joins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_call_margin_minutes: Option<u32>,
}

/// How far ahead the next opening is looked for: past it, the office is closed for good.
const NEXT_OPENING_DAYS_MAX: i64 = 60;

impl Calendar {
    pub fn is_default(&self) -> bool {
        *self == Calendar::default()
    }

    /// The spans the office is open on `day`: none on a closure or a weekday without hours.
    pub fn open_on(&self, day: BusinessDay) -> &[TimeSpan] {
        if self.closure_on(day).is_some() {
            return &[];
        }
        self.hours.of(day.0.weekday())
    }

    pub fn closure_on(&self, day: BusinessDay) -> Option<&Closure> {
        self.closures.iter().find(|closure| closure.covers(day))
    }

    /// The instant the span open at `now` closes; `None` when the office is closed then. An
    /// office without hours is taken as always open (it closes at the end of each day).
    pub fn closes_after(&self, now: Timestamp, zone: &jiff::tz::TimeZone) -> Option<Timestamp> {
        let day = BusinessDay::containing(now, zone);
        if self.hours.is_empty() {
            return Some(LocalTime::END_OF_DAY.on(day, zone));
        }
        self.open_on(day)
            .iter()
            .find(|span| span.start.on(day, zone) <= now && now < span.end.on(day, zone))
            .map(|span| span.end.on(day, zone))
    }

    /// When the office next opens after `now` (not counting a span open at `now`); `None` when
    /// it has no hours, or none in the next two months.
    pub fn next_opening(&self, now: Timestamp, zone: &jiff::tz::TimeZone) -> Option<Timestamp> {
        let today = BusinessDay::containing(now, zone);
        (0..=NEXT_OPENING_DAYS_MAX)
            .map(|ahead| today.plus_days(ahead))
            .flat_map(|day| self.open_on(day).iter().map(move |span| span.start.on(day, zone)))
            .find(|start| *start > now)
    }

    /// Every problem at once, named by where it is (`calendar.hours.mon[1]`).
    pub fn check(&self, problem: &mut impl FnMut(String, String)) {
        for (name, spans) in self.hours.named() {
            if spans.len() > limits::SPANS_PER_DAY_MAX {
                problem(format!("calendar.hours.{name}"), format!("at most {} spans", limits::SPANS_PER_DAY_MAX));
            }
            for (i, pair) in spans.windows(2).enumerate() {
                if pair[1].start < pair[0].end {
                    problem(
                        format!("calendar.hours.{name}[{}]", i + 1),
                        format!("{} starts before {} ends: list spans in order, apart", pair[1], pair[0]),
                    );
                }
            }
        }
        if self.last_call_margin_minutes.is_some_and(|m| m > limits::LAST_CALL_MARGIN_MINUTES_MAX) {
            problem(
                "calendar.last_call_margin_minutes".into(),
                format!("at most {} minutes", limits::LAST_CALL_MARGIN_MINUTES_MAX),
            );
        }
        if self.closures.len() > limits::CLOSURES_MAX {
            problem("calendar.closures".into(), format!("at most {} closures", limits::CLOSURES_MAX));
        }
        let mut starts = std::collections::BTreeSet::new();
        for (i, closure) in self.closures.iter().enumerate() {
            let at = format!("calendar.closures[{i}]");
            // The document keys closures by their first day.
            if !starts.insert(closure.from) {
                problem(format!("{at}.from"), format!("another closure starts on {} too", closure.from));
            }
            if closure.until.is_some_and(|until| until < closure.from) {
                problem(format!("{at}.until"), "is before its start".into());
            }
            if closure.reason.trim().is_empty() {
                problem(format!("{at}.reason"), "must say why (citizens are told)".into());
            } else if closure.reason.chars().count() > limits::NAME_LEN_MAX {
                problem(format!("{at}.reason"), format!("at most {} characters", limits::NAME_LEN_MAX));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> BusinessDay {
        BusinessDay::parse(text).expect("a date")
    }

    fn span(text: &str) -> TimeSpan {
        TimeSpan::try_from(text.to_string()).expect("a span")
    }

    #[test]
    fn spans_read_as_people_write_them_and_nothing_else_does() {
        assert_eq!(span("08:00-13:30").minutes(), 330);
        assert_eq!(span("14:00-24:00").to_string(), "14:00-24:00");
        for bad in ["8:00-13:00", "08:00", "13:00-08:00", "08:00-08:00", "08:60-09:00", "24:01-25:00", "aa:bb-cc:dd"] {
            assert!(TimeSpan::try_from(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_holiday_closes_a_weekday_that_has_hours() {
        let calendar = Calendar {
            hours: OpeningHours { fri: vec![span("08:00-13:00")], ..OpeningHours::default() },
            closures: vec![Closure { from: day("2026-12-25"), until: None, reason: "Navidad".into() }],
            last_call_margin_minutes: None,
        };
        assert_eq!(calendar.open_on(day("2026-12-18")), [span("08:00-13:00")], "a Friday");
        assert!(calendar.open_on(day("2026-12-25")).is_empty(), "Christmas, a Friday");
        assert!(calendar.open_on(day("2026-12-19")).is_empty(), "a Saturday without hours");
    }

    #[test]
    fn overlapping_spans_and_closures_without_a_reason_are_problems() {
        let calendar = Calendar {
            hours: OpeningHours { mon: vec![span("08:00-13:00"), span("12:00-15:00")], ..OpeningHours::default() },
            closures: vec![Closure { from: day("2026-12-25"), until: Some(day("2026-12-24")), reason: " ".into() }],
            last_call_margin_minutes: None,
        };
        let mut problems = Vec::new();
        calendar.check(&mut |at, problem| problems.push(format!("{at}: {problem}")));
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].starts_with("calendar.hours.mon[1]: 12:00-15:00 starts before 08:00-13:00 ends"));
        assert!(problems[1].starts_with("calendar.closures[0].until"));
        assert!(problems[2].starts_with("calendar.closures[0].reason"));
    }

    #[test]
    fn a_local_time_on_a_day_is_the_office_s_instant() {
        let zone = jiff::tz::TimeZone::get("America/Bogota").expect("zone");
        let at = LocalTime::parse("09:30").expect("time").on(day("2026-12-07"), &zone);
        // Bogotá is UTC-5 all year.
        assert_eq!(jiff::Timestamp::from_millisecond(at.0).expect("instant").to_string(), "2026-12-07T14:30:00Z");
    }

    #[test]
    fn the_office_closes_at_the_end_of_its_span_and_opens_next_at_the_next_one() {
        let zone = jiff::tz::TimeZone::get("America/Bogota").expect("zone");
        let calendar = Calendar {
            hours: OpeningHours {
                fri: vec![span("08:00-12:00"), span("14:00-16:00")],
                mon: vec![span("09:00-13:00")],
                ..OpeningHours::default()
            },
            closures: vec![Closure { from: day("2026-12-14"), until: None, reason: "Feriado".into() }],
            last_call_margin_minutes: None,
        };
        let friday = day("2026-12-11");
        let at = |time: &str, on: BusinessDay| LocalTime::parse(time).expect("time").on(on, &zone);
        assert_eq!(calendar.closes_after(at("10:00", friday), &zone), Some(at("12:00", friday)));
        assert_eq!(calendar.closes_after(at("12:00", friday), &zone), None, "the doors close at 12:00");
        assert_eq!(calendar.next_opening(at("12:30", friday), &zone), Some(at("14:00", friday)));
        assert_eq!(
            calendar.next_opening(at("15:00", friday), &zone),
            Some(at("08:00", day("2026-12-18"))),
            "past the weekend and Monday's holiday, to Friday"
        );
        let always = Calendar::default();
        assert_eq!(always.closes_after(at("23:00", friday), &zone), Some(LocalTime::END_OF_DAY.on(friday, &zone)));
        assert_eq!(always.next_opening(at("23:00", friday), &zone), None);
    }
}
