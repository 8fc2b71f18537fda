//! Headquarters' figures on appointments, per service, for one office's day: how many were
//! booked, came, missed or were cancelled; how punctual the office was with those who came
//! (from the slot's start to the first call); and the share of the service's calls that went to
//! walk-ins, the figure the walk-in share is there to keep.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::booking::{Appointments, BookingState};
use crate::config::OfficeConfig;
use crate::day::Day;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BookingRow {
    pub service: String,
    pub booked: u32,
    pub checked_in: u32,
    pub no_shows: u32,
    pub cancelled: u32,
    /// Mean minutes from the slot's start to the first call of those who came and were called
    /// (negative: called early).
    pub punctuality_mean_minutes: Option<f64>,
    /// Calls of the service that went to walk-ins, as a share of all its calls that day.
    pub walk_in_share: Option<f64>,
    /// Places offered to waiting lists, and offers taken (central's own records; 0 here).
    pub waitlist_offers: u32,
    pub waitlist_taken: u32,
}

/// The figures of one day, a row per service that had bookings or calls.
pub fn day_rows(config: &OfficeConfig, appointments: &Appointments, day: Option<&Day>) -> Vec<BookingRow> {
    let mut rows: BTreeMap<String, BookingRow> = BTreeMap::new();
    let mut lateness: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let tickets = day.map(Day::tickets_by_booking).unwrap_or_default();
    for booking in appointments.bookings.values() {
        let row = rows.entry(booking.service.0.clone()).or_default();
        row.booked += 1;
        let came = tickets.get(booking.id.as_str());
        match booking.state {
            BookingState::Cancelled => row.cancelled += 1,
            BookingState::NoShow => row.no_shows += 1,
            BookingState::CheckedIn => row.checked_in += 1,
            // Central settles within a minute; the office's day already says it.
            BookingState::Booked if came.is_some() => row.checked_in += 1,
            BookingState::Booked => {}
        }
        if let Some(called) = came.and_then(|t| t.first_called_at) {
            let slot = booking.start.on(appointments.day, &config.time_zone);
            let minutes = (called.0 - slot.0) as f64 / 60_000.0;
            lateness.entry(booking.service.0.clone()).or_default().push(minutes);
        }
    }
    if let Some(day) = day {
        for (service, calls) in day.calls_per_service(crate::Timestamp(i64::MIN)) {
            let is_bookable = config.service(service).is_some_and(|s| s.booking.is_some());
            if is_bookable || rows.contains_key(&service.0) {
                let walk_ins = calls.all - calls.appointments;
                rows.entry(service.0.clone()).or_default().walk_in_share =
                    Some(f64::from(walk_ins) / f64::from(calls.all.max(1)));
            }
        }
    }
    for (service, row) in &mut rows {
        row.service = service.clone();
        row.punctuality_mean_minutes =
            lateness.get(service).filter(|l| !l.is_empty()).map(|l| l.iter().sum::<f64>() / l.len() as f64);
    }
    rows.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::slots::tests::config;
    use crate::booking::Booking;
    use crate::calendar::LocalTime;
    use crate::ids::{BusinessDay, ServiceId, TicketId, Timestamp};
    use crate::ticket::{Class, Ticket, TicketNumber, Who};

    fn at(text: &str) -> Timestamp {
        Timestamp(text.parse::<jiff::Timestamp>().expect("an instant").as_millisecond())
    }

    #[test]
    fn a_day_s_bookings_are_counted_with_the_office_s_punctuality_and_walk_in_share() {
        let config = config(); // Bogotá, UTC-5
        let day = BusinessDay::parse("2026-12-07").expect("date");
        let booking = |id: &str, state| Booking {
            id: id.into(),
            service: ServiceId("cedulas".into()),
            start: LocalTime::parse("09:00").expect("time"),
            minutes: 30,
            state,
            code_hash: "ab".repeat(32),
            booked_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let appointments = Appointments {
            bookings: [
                ("came", BookingState::Booked),
                ("late", BookingState::CheckedIn),
                ("missed", BookingState::NoShow),
                ("gone", BookingState::Cancelled),
            ]
            .into_iter()
            .map(|(id, state)| (id.to_string(), booking(id, state)))
            .collect(),
            ..Appointments::new("centro", day)
        };
        let mut office_day = Day::new("centro", day);
        let mut issue = |n: u32, issuer: Who, class: Class, called: &str| {
            let mut ticket = Ticket::issued(
                TicketId(n),
                TicketNumber { prefix: 'C', seq: n as u16 },
                ServiceId("cedulas".into()),
                class,
                issuer,
                format!("tok{n}"),
                Timestamp(0),
            );
            ticket.first_called_at = Some(at(called));
            office_day.tickets.insert(ticket.id, ticket.clone());
            office_day.calls.push(crate::day::CallRecord {
                seq: n,
                ticket: ticket.id,
                number: ticket.number,
                counter: crate::CounterId::new("1"),
                agent: crate::AgentId::new("ana"),
                actor: crate::AgentId::new("ana"),
                at: at(called),
                reason: crate::CallReason::FirstComeFirstServed,
                note: None,
                skipped: vec![],
            });
        };
        let appointment = Class::Appointment { at: at("2026-12-07T14:00:00Z") };
        issue(1, Who::Booking("came".into()), appointment.clone(), "2026-12-07T14:04:00Z");
        issue(2, Who::Booking("late".into()), appointment, "2026-12-07T14:10:00Z");
        issue(3, Who::Kiosk("entrada".into()), Class::Normal, "2026-12-07T14:20:00Z");
        issue(4, Who::Kiosk("entrada".into()), Class::Normal, "2026-12-07T14:30:00Z");
        let rows = day_rows(&config, &appointments, Some(&office_day));
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!((row.booked, row.checked_in, row.no_shows, row.cancelled), (4, 2, 1, 1));
        assert_eq!(row.punctuality_mean_minutes, Some(7.0), "called 4 and 10 minutes after 09:00");
        assert_eq!(row.walk_in_share, Some(0.5));
    }
}
