//! An office's bookings for one date, as central writes them into
//! `branch/<office>/appointments/<yyyy-mm-dd>` and the edge reads them: ids, services, slots,
//! states and the short code's hash. Nothing personal.

use std::collections::BTreeMap;

use crate::calendar::LocalTime;
use crate::ids::{is_valid_id, BusinessDay, ServiceId, Timestamp};

/// Where a booking stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BookingState {
    Booked,
    Cancelled,
    CheckedIn,
    /// Not checked in by the end of its late window.
    NoShow,
}

impl BookingState {
    pub const ALL: [BookingState; 4] =
        [BookingState::Booked, BookingState::Cancelled, BookingState::CheckedIn, BookingState::NoShow];

    pub fn name(self) -> &'static str {
        match self {
            BookingState::Booked => "booked",
            BookingState::Cancelled => "cancelled",
            BookingState::CheckedIn => "checked_in",
            BookingState::NoShow => "no_show",
        }
    }

    pub fn from_name(name: &str) -> Option<BookingState> {
        Self::ALL.into_iter().find(|state| state.name() == name)
    }

    /// Whether a booking in this state holds its place in the slot. A no-show held it (the
    /// slot has passed anyway); a cancelled one gave it back.
    pub fn holds_place(self) -> bool {
        self != BookingState::Cancelled
    }

    /// The moves a booking makes: from booked to one of the others, and never back. A
    /// cancelled, checked-in or missed booking stays so, whoever writes.
    pub fn may_become(self, next: BookingState) -> bool {
        self == next || self == BookingState::Booked
    }
}

/// One booking, as the office sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// Central's id for it: random, unguessable, valid as a document key.
    pub id: String,
    pub service: ServiceId,
    pub start: LocalTime,
    pub minutes: u32,
    pub state: BookingState,
    /// [`crate::booking::ShortCode::hash`] of its short code.
    pub code_hash: String,
    pub booked_at: Timestamp,
    /// When its state last changed.
    pub updated_at: Timestamp,
}

impl Booking {
    /// Whether a received booking has the form central writes; one that does not is ignored
    /// (and logged by the reader), never used.
    pub fn is_well_formed(&self) -> bool {
        is_valid_id(&self.id)
            && is_valid_id(self.service.as_str())
            && self.code_hash.len() == 64
            && self.code_hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            && (1..=crate::limits::SLOT_MINUTES_MAX).contains(&self.minutes)
            && self.start.minutes() + self.minutes <= LocalTime::END_OF_DAY.minutes()
    }
}

/// An office's bookings for one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appointments {
    pub office: String,
    pub day: BusinessDay,
    pub bookings: BTreeMap<String, Booking>,
}

impl Appointments {
    pub fn new(office: &str, day: BusinessDay) -> Appointments {
        Appointments { office: office.to_string(), day, bookings: BTreeMap::new() }
    }

    /// Bookings holding a place in the slot of `service` at `start`.
    pub fn booked_in(&self, service: &ServiceId, start: LocalTime) -> u32 {
        self.bookings.values().filter(|b| &b.service == service && b.start == start && b.state.holds_place()).count()
            as u32
    }

    /// The booking a typed short code names, by its hash.
    pub fn by_code_hash(&self, hash: &str) -> Option<&Booking> {
        self.bookings.values().find(|b| b.code_hash == hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_booking_only_ever_leaves_booked() {
        use BookingState::*;
        for state in BookingState::ALL {
            assert!(Booked.may_become(state), "booked → {state:?}");
            assert!(state.may_become(state), "{state:?} stays");
        }
        for done in [Cancelled, CheckedIn, NoShow] {
            for other in BookingState::ALL.into_iter().filter(|s| *s != done) {
                assert!(!done.may_become(other), "{done:?} → {other:?}");
            }
        }
        assert_eq!(BookingState::from_name("checked_in"), Some(CheckedIn));
        assert_eq!(BookingState::from_name("lost"), None);
    }
}
