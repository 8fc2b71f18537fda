//! What a screen shows at an instant: the urgent message in force, else the playlist of the most
//! specific schedule that applies now, by the office's own clock and calendar.

use jiff::civil::Weekday;

use super::{Playlist, Schedule, SignageConfig, UrgentMessage};
use crate::calendar::LocalTime;
use crate::ids::Timestamp;

/// What one screen shows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Playing<'a> {
    /// Takes the signage area while it lasts.
    pub urgent: Option<&'a UrgentMessage>,
    pub schedule: Option<&'a Schedule>,
    pub playlist: Option<&'a Playlist>,
}

/// What `screen` of `office` (with `tags`) shows at `now`, with the office's zone. Among the
/// schedules that apply, the one aimed most narrowly wins (screen, office, tag, all); then one
/// with dates (a campaign) over one without, a daypart over all day, some weekdays over every
/// day; then the latest to start, then the id, so every replica picks the same.
pub fn playing<'a>(
    signage: &'a SignageConfig,
    office: &str,
    tags: &[String],
    screen: &str,
    now: Timestamp,
    zone: &jiff::tz::TimeZone,
) -> Playing<'a> {
    let urgent = signage
        .urgent
        .iter()
        .filter(|u| u.from_ms <= now.as_ms() && now.as_ms() < u.until_ms && u.target.reaches(office, tags, screen))
        .max_by(|a, b| (a.target.specificity(), a.from_ms, &a.id).cmp(&(b.target.specificity(), b.from_ms, &b.id)));
    let local =
        jiff::Timestamp::from_millisecond(now.as_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_zoned(zone.clone());
    let (date, minutes) =
        (local.date(), u32::from(local.hour().unsigned_abs()) * 60 + u32::from(local.minute().unsigned_abs()));
    let schedule = signage
        .schedules
        .iter()
        .filter(|s| {
            s.target.reaches(office, tags, screen)
                && applies(s, date, minutes)
                && signage.playlist(&s.playlist).is_some()
        })
        .max_by_key(|s| {
            (
                s.target.specificity(),
                s.from.is_some() || s.until.is_some(),
                s.hours.is_some(),
                !s.weekdays.is_empty(),
                s.from.clone(),
                s.id.clone(),
            )
        });
    Playing { urgent, schedule, playlist: schedule.and_then(|s| signage.playlist(&s.playlist)) }
}

/// Whether `schedule` applies on `date` at `minutes` after midnight. Dates that do not read
/// (refused by validation anyway) never apply.
fn applies(schedule: &Schedule, date: jiff::civil::Date, minutes: u32) -> bool {
    let day = |text: &Option<String>| text.as_deref().map(|t| t.parse::<jiff::civil::Date>().ok());
    match day(&schedule.from) {
        Some(Some(from)) if date < from => return false,
        Some(None) => return false,
        _ => {}
    }
    match day(&schedule.until) {
        Some(Some(until)) if date > until => return false,
        Some(None) => return false,
        _ => {}
    }
    if !schedule.weekdays.is_empty() && !schedule.weekdays.iter().any(|w| weekday(w) == Some(date.weekday())) {
        return false;
    }
    match schedule.hours {
        Some(span) => LocalTime::from_minutes(minutes).is_some_and(|at| span.start <= at && at < span.end),
        None => true,
    }
}

pub(super) fn weekday(text: &str) -> Option<Weekday> {
    Some(match text {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}
