//! A bookable service's settings, from the office configuration headquarters edits.

use serde::{Deserialize, Serialize};

use crate::limits;

/// How a service takes appointments. A service without it is not bookable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingConfig {
    /// The length of one slot.
    pub slot_minutes: u32,
    /// Bookings per slot. When absent: the counters that serve the service × the slot / the
    /// expected service time, less the walk-in share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u32>,
    /// How many days ahead a slot can be booked.
    #[serde(default = "default_horizon_days")]
    pub horizon_days: u32,
    /// A booking can be cancelled or moved until this long before its slot.
    #[serde(default = "default_cancel_deadline")]
    pub cancel_deadline_minutes: u32,
    /// Check-in opens this long before the slot...
    #[serde(default = "default_checkin_early")]
    pub checkin_early_minutes: u32,
    /// ...and closes this long after its start; a booking not checked in by then is a no-show.
    #[serde(default = "default_checkin_late")]
    pub checkin_late_minutes: u32,
    /// The share of each hour's calls of this service kept for walk-ins, in percent: the call
    /// rule never lets due appointments take more than the rest.
    #[serde(default = "default_walk_in_percent")]
    pub walk_in_percent: u32,
    /// What to bring, per language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<Requirements>,
}

/// What a citizen needs for the procedure, in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// `es`, `en`.
    pub lang: String,
    /// Documents to bring ("Cédula de identidad original").
    #[serde(default)]
    pub documents: Vec<String>,
    /// Fees and how to pay them.
    #[serde(default)]
    pub fees: Vec<String>,
    /// Forms to fill in beforehand (a name, or where to get it).
    #[serde(default)]
    pub forms: Vec<String>,
}

fn default_horizon_days() -> u32 {
    30
}
fn default_cancel_deadline() -> u32 {
    120
}
fn default_checkin_early() -> u32 {
    30
}
fn default_checkin_late() -> u32 {
    10
}
fn default_walk_in_percent() -> u32 {
    50
}

impl BookingConfig {
    /// Every problem of the service at `at` (`services[2].booking`), at once.
    pub fn check(&self, at: &str, problem: &mut impl FnMut(String, String)) {
        let ranges = [
            ("slot_minutes", self.slot_minutes, 5, limits::SLOT_MINUTES_MAX),
            ("horizon_days", self.horizon_days, 1, limits::BOOKING_HORIZON_DAYS_MAX),
            ("cancel_deadline_minutes", self.cancel_deadline_minutes, 0, 7 * 24 * 60),
            ("checkin_early_minutes", self.checkin_early_minutes, 0, 240),
            ("checkin_late_minutes", self.checkin_late_minutes, 0, 120),
            ("walk_in_percent", self.walk_in_percent, 0, 90),
        ];
        for (field, value, min, max) in ranges {
            if !(min..=max).contains(&value) {
                problem(format!("{at}.{field}"), format!("must be {min} to {max}"));
            }
        }
        if let Some(capacity) = self.capacity {
            if !(1..=limits::SLOT_CAPACITY_MAX).contains(&capacity) {
                problem(format!("{at}.capacity"), format!("must be 1 to {}", limits::SLOT_CAPACITY_MAX));
            }
        }
        let mut langs = std::collections::BTreeSet::new();
        for (i, requirements) in self.requirements.iter().enumerate() {
            let at = format!("{at}.requirements[{i}]");
            if requirements.lang.len() != 2 || !requirements.lang.bytes().all(|b| b.is_ascii_lowercase()) {
                problem(format!("{at}.lang"), "must be a two-letter language code such as \"es\"".into());
            } else if !langs.insert(requirements.lang.as_str()) {
                problem(format!("{at}.lang"), format!("{:?} is listed twice", requirements.lang));
            }
            let lists =
                [("documents", &requirements.documents), ("fees", &requirements.fees), ("forms", &requirements.forms)];
            for (field, items) in lists {
                if items.len() > limits::REQUIREMENT_ITEMS_MAX {
                    problem(format!("{at}.{field}"), format!("at most {} items", limits::REQUIREMENT_ITEMS_MAX));
                }
                for (j, item) in items.iter().enumerate() {
                    if item.trim().is_empty() {
                        problem(format!("{at}.{field}[{j}]"), "must not be empty".into());
                    } else if item.chars().count() > limits::REQUIREMENT_CHARS_MAX {
                        problem(
                            format!("{at}.{field}[{j}]"),
                            format!("at most {} characters", limits::REQUIREMENT_CHARS_MAX),
                        );
                    }
                }
            }
        }
    }

    /// The requirements in `lang`, or in the first language listed.
    pub fn requirements_in(&self, lang: &str) -> Option<&Requirements> {
        self.requirements.iter().find(|r| r.lang == lang).or_else(|| self.requirements.first())
    }
}
