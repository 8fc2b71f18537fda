//! When a booking may be checked in: from `checkin_early_minutes` before its slot to
//! `checkin_late_minutes` after its start. Outside that the kiosk says what happens instead: come
//! back at a time, or take a normal ticket. After the late window a booking not checked in is a
//! no-show (central marks it so).

use crate::booking::slots::bookable;
use crate::booking::{BookingPass, BookingState};
use crate::calendar::LocalTime;
use crate::config::OfficeConfig;
use crate::ids::{BusinessDay, ServiceId, Timestamp};

/// Why a booking cannot be checked in now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckInRefusal {
    #[error("this booking is for another office")]
    OtherOffice,
    #[error("this booking is for {0}, not today")]
    OtherDay(BusinessDay),
    #[error("check-in opens at {opens}; please come back then")]
    TooEarly { opens: LocalTime },
    #[error("check-in closed at {closed}; take a normal ticket at the kiosk")]
    TooLate { closed: LocalTime },
    #[error("this booking was cancelled")]
    Cancelled,
    #[error("this booking was missed (no-show)")]
    Missed,
    #[error("this office no longer books that service: {0}")]
    Unbookable(String),
}

/// A booking's slot as the office sees it when a citizen presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub office: String,
    pub day: BusinessDay,
    pub service: ServiceId,
    pub start: LocalTime,
    /// Its state in the appointments document, when the office has it; a pass checked in
    /// offline has none yet.
    pub state: Option<BookingState>,
}

impl From<&BookingPass> for Presented {
    fn from(pass: &BookingPass) -> Presented {
        Presented {
            office: pass.office.clone(),
            day: pass.day,
            service: pass.service.clone(),
            start: pass.start,
            state: None,
        }
    }
}

/// The instant the appointment is due (its slot's start), if it may be checked in at `now`.
pub fn check_in(config: &OfficeConfig, presented: &Presented, now: Timestamp) -> Result<Timestamp, CheckInRefusal> {
    if presented.office != config.id {
        return Err(CheckInRefusal::OtherOffice);
    }
    match presented.state {
        Some(BookingState::Cancelled) => return Err(CheckInRefusal::Cancelled),
        Some(BookingState::NoShow) => return Err(CheckInRefusal::Missed),
        _ => {}
    }
    let today = BusinessDay::containing(now, &config.time_zone);
    if presented.day != today {
        return Err(CheckInRefusal::OtherDay(presented.day));
    }
    let (_, booking) = bookable(config, &presented.service).map_err(|e| CheckInRefusal::Unbookable(e.to_string()))?;
    let minutes = presented.start.minutes();
    let opens =
        LocalTime::from_minutes(minutes.saturating_sub(booking.checkin_early_minutes)).unwrap_or(LocalTime::MIDNIGHT);
    let closes = LocalTime::from_minutes(minutes + booking.checkin_late_minutes).unwrap_or(LocalTime::END_OF_DAY);
    if now < opens.on(today, &config.time_zone) {
        return Err(CheckInRefusal::TooEarly { opens });
    }
    if now > closes.on(today, &config.time_zone) {
        return Err(CheckInRefusal::TooLate { closed: closes });
    }
    Ok(presented.start.on(today, &config.time_zone))
}

/// Whether a booked slot's late window has passed by `now`: not checked in, it is a no-show.
pub fn is_missed(
    config: &OfficeConfig,
    day: BusinessDay,
    service: &ServiceId,
    start: LocalTime,
    now: Timestamp,
) -> bool {
    let late = bookable(config, service).map_or(0, |(_, booking)| booking.checkin_late_minutes);
    let closes = LocalTime::from_minutes(start.minutes() + late).unwrap_or(LocalTime::END_OF_DAY);
    now > closes.on(day, &config.time_zone)
}

/// What central should now write of a day's bookings, from the office's day document: booked
/// ones whose ticket exists were checked in; booked ones past their late window without one
/// were missed. Everything else stays as it is.
pub fn settle(
    config: &OfficeConfig,
    appointments: &crate::booking::Appointments,
    day: Option<&crate::day::Day>,
    now: Timestamp,
) -> Vec<(String, BookingState)> {
    let checked_in = day.map(crate::day::Day::tickets_by_booking).unwrap_or_default();
    appointments
        .bookings
        .values()
        .filter(|booking| booking.state == BookingState::Booked)
        .filter_map(|booking| {
            if checked_in.contains_key(booking.id.as_str()) {
                Some((booking.id.clone(), BookingState::CheckedIn))
            } else if is_missed(config, appointments.day, &booking.service, booking.start, now) {
                Some((booking.id.clone(), BookingState::NoShow))
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::slots::tests::config;

    fn at(text: &str) -> Timestamp {
        Timestamp(text.parse::<jiff::Timestamp>().expect("an instant").as_millisecond())
    }

    fn presented(start: &str) -> Presented {
        Presented {
            office: "centro".into(),
            day: BusinessDay::parse("2026-12-07").expect("a date"),
            service: ServiceId("cedulas".into()),
            start: LocalTime::parse(start).expect("a time"),
            state: Some(BookingState::Booked),
        }
    }

    #[test]
    fn a_booking_checks_in_from_half_an_hour_early_to_ten_minutes_late() {
        let config = config(); // Bogotá, UTC-5; early 30, late 10 by default
        let slot = presented("10:00");
        assert_eq!(
            check_in(&config, &slot, at("2026-12-07T14:29:00Z")),
            Err(CheckInRefusal::TooEarly { opens: LocalTime::parse("09:30").expect("time") })
        );
        assert_eq!(check_in(&config, &slot, at("2026-12-07T14:30:00Z")), Ok(at("2026-12-07T15:00:00Z")));
        assert_eq!(check_in(&config, &slot, at("2026-12-07T15:10:00Z")), Ok(at("2026-12-07T15:00:00Z")));
        assert_eq!(
            check_in(&config, &slot, at("2026-12-07T15:11:00Z")),
            Err(CheckInRefusal::TooLate { closed: LocalTime::parse("10:10").expect("time") })
        );
        assert!(is_missed(&config, slot.day, &slot.service, slot.start, at("2026-12-07T15:11:00Z")));
        assert!(!is_missed(&config, slot.day, &slot.service, slot.start, at("2026-12-07T15:09:00Z")));
    }

    #[test]
    fn central_learns_check_ins_from_the_day_and_marks_the_missed_after_their_window() {
        use crate::booking::{Appointments, Booking};
        let config = config();
        let day = BusinessDay::parse("2026-12-07").expect("date");
        let booking = |id: &str, start: &str| Booking {
            id: id.into(),
            service: ServiceId("cedulas".into()),
            start: LocalTime::parse(start).expect("time"),
            minutes: 30,
            state: BookingState::Booked,
            code_hash: "ab".repeat(32),
            booked_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let appointments = Appointments {
            bookings: [("came", "09:00"), ("missed", "09:00"), ("later", "11:00")]
                .into_iter()
                .map(|(id, start)| (id.to_string(), booking(id, start)))
                .collect(),
            ..Appointments::new("centro", day)
        };
        let mut office_day = crate::day::Day::new("centro", day);
        let ticket = crate::ticket::Ticket::issued(
            crate::ids::TicketId(1),
            crate::ticket::TicketNumber { prefix: 'C', seq: 1 },
            ServiceId("cedulas".into()),
            crate::ticket::Class::Appointment { at: Timestamp(0) },
            crate::ticket::Who::Booking("came".into()),
            "tok".into(),
            Timestamp(0),
        );
        office_day.tickets.insert(ticket.id, ticket);
        let mut settled = settle(&config, &appointments, Some(&office_day), at("2026-12-07T14:30:00Z"));
        settled.sort();
        assert_eq!(
            settled,
            [("came".to_string(), BookingState::CheckedIn), ("missed".to_string(), BookingState::NoShow)]
        );
    }

    #[test]
    fn cancelled_missed_foreign_and_other_days_bookings_are_refused() {
        let config = config();
        let now = at("2026-12-07T14:50:00Z");
        let mut slot = presented("10:00");
        slot.state = Some(BookingState::Cancelled);
        assert_eq!(check_in(&config, &slot, now), Err(CheckInRefusal::Cancelled));
        slot.state = Some(BookingState::NoShow);
        assert_eq!(check_in(&config, &slot, now), Err(CheckInRefusal::Missed));
        slot.state = None;
        slot.office = "norte".into();
        assert_eq!(check_in(&config, &slot, now), Err(CheckInRefusal::OtherOffice));
        let tomorrow = Presented { day: BusinessDay::parse("2026-12-08").expect("date"), ..presented("10:00") };
        assert!(matches!(check_in(&config, &tomorrow, now), Err(CheckInRefusal::OtherDay(_))));
    }
}
