//! The slots of a service on a day, and what is free in them. Pure: the caller says what is
//! booked and what time it is. Central asks [`admit`] under its lock for the office's day, so
//! two citizens racing for the last place get one booking and one "full".

use crate::booking::BookingConfig;
use crate::calendar::LocalTime;
use crate::config::{OfficeConfig, ServiceConfig};
use crate::ids::{BusinessDay, ServiceId, Timestamp};

/// One slot of a day: from `start` to `end`, for `capacity` bookings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: LocalTime,
    pub end: LocalTime,
    pub capacity: u32,
}

/// A slot as a citizen is offered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeSlot {
    pub start: LocalTime,
    pub end: LocalTime,
    /// When it starts.
    pub at: Timestamp,
    pub capacity: u32,
    /// Places left; 0 when full (shown as full, and where a waitlist helps).
    pub free: u32,
}

/// Why a day or a slot cannot be booked, in words a citizen can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unbookable {
    #[error("the office has no service {0:?}")]
    UnknownService(String),
    #[error("this service takes no appointments; come in person")]
    NotBookable,
    #[error("the office is closed that day: {reason}")]
    Closed { reason: String },
    #[error("that day has passed")]
    Past,
    #[error("appointments can be booked up to {last}")]
    BeyondHorizon { last: BusinessDay },
    #[error("there is no slot at {0} that day")]
    NoSuchSlot(LocalTime),
    #[error("the slot at {0} is full")]
    Full(LocalTime),
}

/// The service and its booking settings, if it takes appointments.
pub fn bookable<'a>(
    config: &'a OfficeConfig,
    service: &ServiceId,
) -> Result<(&'a ServiceConfig, &'a BookingConfig), Unbookable> {
    let found = config.service(service).ok_or_else(|| Unbookable::UnknownService(service.0.clone()))?;
    let booking = found.booking.as_ref().ok_or(Unbookable::NotBookable)?;
    Ok((found, booking))
}

/// Bookings per slot: the configured number, or what the counters serving the service can see
/// in a slot with the walk-in share kept back.
pub fn capacity(config: &OfficeConfig, service: &ServiceConfig, booking: &BookingConfig) -> u32 {
    booking.capacity.unwrap_or_else(|| {
        let counters = config.counters.iter().filter(|c| c.services.contains(&service.id)).count() as u32;
        let seen = counters * booking.slot_minutes / service.expected_service_minutes.max(1);
        seen * (100 - booking.walk_in_percent.min(100)) / 100
    })
}

/// Every slot of `service` on `day`, in order, from the office's opening hours: as many whole
/// slots as fit in each span.
pub fn slots_on(config: &OfficeConfig, service: &ServiceId, day: BusinessDay) -> Result<Vec<Slot>, Unbookable> {
    let (found, booking) = bookable(config, service)?;
    if let Some(closure) = config.calendar.closure_on(day) {
        return Err(Unbookable::Closed { reason: closure.reason.clone() });
    }
    let capacity = capacity(config, found, booking);
    let length = booking.slot_minutes.max(1);
    let mut slots = Vec::new();
    for span in config.calendar.open_on(day) {
        let mut start = span.start.minutes();
        while start + length <= span.end.minutes() {
            if let (Some(from), Some(to)) = (LocalTime::from_minutes(start), LocalTime::from_minutes(start + length)) {
                slots.push(Slot { start: from, end: to, capacity });
            }
            start += length;
        }
    }
    Ok(slots)
}

/// The slots of `day` a citizen may still book at `now`, with what is left in each; `booked`
/// says how many bookings a slot (by its start) already holds.
pub fn free_slots(
    config: &OfficeConfig,
    service: &ServiceId,
    day: BusinessDay,
    now: Timestamp,
    booked: impl Fn(LocalTime) -> u32,
) -> Result<Vec<FreeSlot>, Unbookable> {
    let (_, booking) = bookable(config, service)?;
    let today = BusinessDay::containing(now, &config.time_zone);
    if day < today {
        return Err(Unbookable::Past);
    }
    let last = today.plus_days(i64::from(booking.horizon_days));
    if day > last {
        return Err(Unbookable::BeyondHorizon { last });
    }
    let slots = slots_on(config, service, day)?;
    Ok(slots
        .into_iter()
        .map(|slot| FreeSlot {
            start: slot.start,
            end: slot.end,
            at: slot.start.on(day, &config.time_zone),
            capacity: slot.capacity,
            free: slot.capacity.saturating_sub(booked(slot.start)),
        })
        // A slot that has begun is not offered.
        .filter(|slot| slot.at > now)
        .collect())
}

/// Whether one more booking fits the slot at `start`, given the `booked` it already holds.
pub fn admit(
    config: &OfficeConfig,
    service: &ServiceId,
    day: BusinessDay,
    start: LocalTime,
    now: Timestamp,
    booked: u32,
) -> Result<FreeSlot, Unbookable> {
    let slots = free_slots(config, service, day, now, |_| booked)?;
    let slot = slots.into_iter().find(|slot| slot.start == start).ok_or(Unbookable::NoSuchSlot(start))?;
    if slot.free == 0 {
        return Err(Unbookable::Full(start));
    }
    Ok(slot)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::config::RawOfficeConfig;
    use proptest::prelude::*;

    /// An office with opening hours, a holiday and a bookable service.
    pub(crate) const OFFICE: &str = r#"
        [office]
        id = "centro"
        name = "Oficina Centro"
        time_zone = "America/Bogota"

        [calendar.hours]
        mon = ["08:00-12:00", "14:00-16:30"]
        tue = ["08:00-12:00"]

        [[calendar.closures]]
        from = "2026-12-08"
        reason = "Inmaculada Concepción"

        [[services]]
        id = "cedulas"
        prefix = "C"
        name = "Cédulas"
        expected_service_minutes = 10
        [services.booking]
        slot_minutes = 30
        walk_in_percent = 50

        [[services]]
        id = "general"
        prefix = "A"
        name = "Atención general"

        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["cedulas", "general"]

        [[counters]]
        id = "2"
        name = "Puesto 2"
        services = ["cedulas"]
    "#;

    pub(crate) fn config() -> OfficeConfig {
        RawOfficeConfig::parse_toml(OFFICE).expect("a valid office")
    }

    fn day(text: &str) -> BusinessDay {
        BusinessDay::parse(text).expect("a date")
    }

    fn at(text: &str) -> Timestamp {
        Timestamp(text.parse::<jiff::Timestamp>().expect("an instant").as_millisecond())
    }

    fn time(text: &str) -> LocalTime {
        LocalTime::parse(text).expect("a time")
    }

    fn cedulas() -> ServiceId {
        ServiceId("cedulas".into())
    }

    #[test]
    fn a_monday_has_the_slots_its_hours_hold_and_the_counters_can_serve() {
        let slots = slots_on(&config(), &cedulas(), day("2026-12-07")).expect("a Monday");
        // 08:00-12:00 holds 8 slots of 30 minutes; 14:00-16:30 holds 5.
        assert_eq!(slots.len(), 13);
        assert_eq!((slots[0].start, slots[7].end), (time("08:00"), time("12:00")));
        assert_eq!((slots[8].start, slots[12].end), (time("14:00"), time("16:30")));
        // Two counters, 30 minutes, 10 per citizen: 6 seen per slot, half kept for walk-ins.
        assert!(slots.iter().all(|slot| slot.capacity == 3));
    }

    #[test]
    fn closed_days_unbookable_services_and_days_out_of_reach_say_why() {
        let config = config();
        let now = at("2026-12-07T13:00:00Z"); // 08:00 in Bogotá, a Monday
        let nothing = |_| 0;
        assert_eq!(
            free_slots(&config, &cedulas(), day("2026-12-08"), now, nothing),
            Err(Unbookable::Closed { reason: "Inmaculada Concepción".into() })
        );
        assert_eq!(
            free_slots(&config, &ServiceId("general".into()), day("2026-12-07"), now, nothing),
            Err(Unbookable::NotBookable)
        );
        assert_eq!(free_slots(&config, &cedulas(), day("2026-12-06"), now, nothing), Err(Unbookable::Past));
        assert_eq!(
            free_slots(&config, &cedulas(), day("2027-01-07"), now, nothing),
            Err(Unbookable::BeyondHorizon { last: day("2027-01-06") })
        );
        assert_eq!(
            free_slots(&config, &cedulas(), day("2026-12-09"), now, nothing),
            Ok(vec![]),
            "a Wednesday: no hours"
        );
    }

    #[test]
    fn a_slot_that_has_begun_is_not_offered_and_a_full_one_refuses() {
        let config = config();
        let now = at("2026-12-07T14:15:00Z"); // 09:15 in Bogotá
        let free =
            free_slots(&config, &cedulas(), day("2026-12-07"), now, |start| u32::from(start == time("10:00")) * 3)
                .expect("today");
        assert_eq!(free[0].start, time("09:30"), "08:00 to 09:00 have begun");
        let ten = free.iter().find(|slot| slot.start == time("10:00")).expect("10:00");
        assert_eq!(ten.free, 0);
        assert_eq!(
            admit(&config, &cedulas(), day("2026-12-07"), time("10:00"), now, 3),
            Err(Unbookable::Full(time("10:00")))
        );
        assert_eq!(
            admit(&config, &cedulas(), day("2026-12-07"), time("10:10"), now, 0),
            Err(Unbookable::NoSuchSlot(time("10:10")))
        );
        assert_eq!(admit(&config, &cedulas(), day("2026-12-07"), time("10:30"), now, 2).map(|slot| slot.free), Ok(1));
    }

    proptest! {
        /// However bookings arrive, admitting one at a time never puts more in a slot than it
        /// holds, and every slot lies within the office's hours.
        #[test]
        fn admitted_bookings_never_exceed_a_slot(requests in proptest::collection::vec((0u32..20, 0u32..14), 0..200)) {
            let config = config();
            let now = at("2026-12-04T13:00:00Z");
            let monday = day("2026-12-07");
            let mut held = std::collections::BTreeMap::<LocalTime, u32>::new();
            for (minutes, _) in requests {
                let start = LocalTime::from_minutes(8 * 60 + minutes * 30).expect("a time");
                let booked = held.get(&start).copied().unwrap_or(0);
                if admit(&config, &cedulas(), monday, start, now, booked).is_ok() {
                    *held.entry(start).or_default() += 1;
                }
            }
            let slots = slots_on(&config, &cedulas(), monday).expect("slots");
            for (start, count) in held {
                let slot = slots.iter().find(|slot| slot.start == start).expect("only real slots are admitted");
                prop_assert!(count <= slot.capacity);
                prop_assert!(config.calendar.open_on(monday).iter().any(|span| span.start <= slot.start && slot.end <= span.end));
            }
        }
    }
}
