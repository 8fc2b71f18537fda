//! The forecast as a staffing analyst reads it: what came on the same weekday and hour the last
//! weeks, recent weeks first, turned into counters by Erlang C; and its error the week after.

use proptest::prelude::*;

use super::erlang::{counters_needed, service_level, wait_probability};
use super::*;
use crate::config::RawOfficeConfig;
use crate::ids::{TicketId, Timestamp};
use crate::ticket::{Class, Ticket, TicketNumber, TicketStatus, Who};

/// The week to forecast: Monday 2026-12-07.
fn week() -> BusinessDay {
    BusinessDay::parse("2026-12-07").expect("date")
}

fn config() -> OfficeConfig {
    RawOfficeConfig::parse_toml(
        r#"
        [office]
        id = "centro"
        name = "Centro"
        time_zone = "America/Bogota"
        [[services]]
        id = "general"
        prefix = "A"
        name = "General"
        target_wait_minutes = 5
        expected_service_minutes = 4
        [[services]]
        id = "pagos"
        prefix = "B"
        name = "Pagos"
        target_wait_minutes = 20
        expected_service_minutes = 6
        [[counters]]
        id = "1"
        name = "P1"
        services = ["general", "pagos"]
        "#,
    )
    .expect("valid office")
}

/// Tickets arriving in one local hour of a day.
struct Arrivals {
    service: &'static str,
    hour: i8,
    count: u32,
    /// Minutes each kept a counter; `None`: none was served.
    served_minutes: Option<i64>,
}

fn arrivals(service: &'static str, hour: i8, count: u32, served_minutes: Option<i64>) -> Arrivals {
    Arrivals { service, hour, count, served_minutes }
}

/// A day `weeks_before` the forecast week on `weekday` (0 = Monday), with these arrivals.
fn day(weeks_before: i64, weekday: i64, planted: &[Arrivals]) -> Day {
    let date = week().plus_days(-7 * weeks_before + weekday);
    let zone = config().time_zone;
    let mut day = Day::new("centro", date);
    let mut id = 0;
    for group in planted {
        let prefix = if group.service == "general" { 'A' } else { 'B' };
        let start = date.0.at(group.hour, 0, 0, 0).to_zoned(zone.clone()).expect("local time").timestamp();
        for n in 0..group.count {
            id += 1;
            // Spread over the hour, so every ticket is issued within it.
            let issued = Timestamp(start.as_millisecond() + i64::from(n) * 60_000 * 59 / i64::from(group.count));
            let mut ticket = Ticket::issued(
                TicketId(id),
                TicketNumber { prefix, seq: id as u16 },
                ServiceId::new(group.service),
                Class::Normal,
                Who::Kiosk("entrada".into()),
                format!("t{id}"),
                issued,
            );
            if let Some(minutes) = group.served_minutes {
                ticket.status = TicketStatus::Finished;
                ticket.called_at = Some(issued);
                ticket.closed_at = Some(issued.plus_minutes(minutes));
            }
            day.tickets.insert(ticket.id, ticket);
        }
    }
    day
}

fn check(days: &[Day]) -> Forecast {
    forecast(days, &config(), week(), Params::default())
}

fn hour<'a>(forecast: &'a Forecast, service: &str, weekday: i64, hour: u8) -> Option<&'a HourForecast> {
    let day = week().plus_days(weekday);
    forecast
        .services
        .iter()
        .find(|s| s.service.as_str() == service)
        .and_then(|s| s.hours.iter().find(|h| h.day == day && h.hour == hour))
}

#[test]
fn thirty_arrivals_every_monday_at_ten_forecast_thirty_and_the_counters_erlang_c_gives() {
    let days: Vec<Day> = (1..=8).map(|w| day(w, 0, &[arrivals("general", 10, 30, Some(10))])).collect();
    let forecast = check(&days);
    let monday = hour(&forecast, "general", 0, 10).expect("Monday 10:00 forecast");
    assert_eq!((monday.arrivals, monday.service_minutes), (30.0, 10.0));
    // 5 erlangs, 5-minute target, 80 %: 6 counters call 64 % within it, 7 call 88 % (computed
    // with the factorial formula in exact arithmetic: C(6, 5) = 0.5875, C(7, 5) = 0.3241).
    assert_eq!(monday.counters, 7);
    assert_eq!(forecast.totals, vec![HourTotal { day: week(), hour: 10, arrivals: 30.0, counters: 7 }]);
    assert_eq!(forecast.days_used.len(), 8);
    assert!(hour(&forecast, "general", 1, 10).is_none(), "no Tuesday arrivals were ever seen");
}

#[test]
fn the_last_week_weighs_eight_times_the_oldest() {
    let mut days: Vec<Day> = (2..=8).map(|w| day(w, 0, &[arrivals("general", 9, 20, Some(5))])).collect();
    days.push(day(1, 0, &[arrivals("general", 9, 40, Some(5))]));
    // (8·40 + (7 + 6 + … + 1)·20) / (8 + 7 + … + 1) = 880 / 36.
    assert_eq!(hour(&check(&days), "general", 0, 9).map(|h| h.arrivals), Some(24.44));
}

#[test]
fn a_weekday_without_a_document_is_left_out_not_counted_as_closed() {
    let days = [day(1, 2, &[arrivals("pagos", 11, 12, Some(6))]), day(5, 2, &[arrivals("pagos", 11, 12, Some(6))])];
    let forecast = check(&days);
    assert_eq!(hour(&forecast, "pagos", 2, 11).map(|h| h.arrivals), Some(12.0));
    // A Wednesday seen with nobody at 11:00 does count as zero.
    let days = [day(1, 2, &[arrivals("pagos", 9, 1, Some(6))]), day(5, 2, &[arrivals("pagos", 11, 12, Some(6))])];
    assert_eq!(hour(&check(&days), "pagos", 2, 11).map(|h| h.arrivals), Some(12.0 * 4.0 / 12.0));
}

#[test]
fn days_outside_the_weeks_read_are_ignored() {
    let days = [
        day(9, 0, &[arrivals("general", 10, 50, Some(5))]),
        day(0, 0, &[arrivals("general", 10, 50, Some(5))]),
        day(-1, 0, &[arrivals("general", 10, 50, Some(5))]),
        day(3, 0, &[arrivals("general", 10, 10, Some(5))]),
    ];
    let forecast = check(&days);
    assert_eq!(hour(&forecast, "general", 0, 10).map(|h| h.arrivals), Some(10.0));
    assert_eq!(forecast.days_used, vec![week().plus_days(-21)]);
}

#[test]
fn a_closure_is_neither_learnt_from_nor_staffed() {
    let mut config = config();
    let holiday = |day: BusinessDay| crate::calendar::Closure { from: day, until: None, reason: "Feriado".into() };
    // A past Monday that was a holiday, with the few who came anyway, and next Monday closed.
    config.calendar.closures = vec![holiday(week().plus_days(-7)), holiday(week())];
    let days =
        [day(1, 0, &[arrivals("general", 10, 2, Some(10))]), day(2, 0, &[arrivals("general", 10, 30, Some(10))])];
    let next = forecast(&days, &config, week(), Params::default());
    assert_eq!(next.closed_days, vec![week()]);
    assert_eq!(next.days_used, vec![week().plus_days(-14)]);
    assert!(next.totals.is_empty(), "{next:?}");
    let week_after = forecast(&days, &config, week().plus_days(7), Params::default());
    assert_eq!(
        week_after.totals.iter().map(|h| (h.day, h.hour, h.arrivals)).collect::<Vec<_>>(),
        [(week().plus_days(7), 10, 30.0)]
    );
}

#[test]
fn without_served_tickets_the_configured_service_time_is_used() {
    let forecast = check(&[day(1, 4, &[arrivals("pagos", 15, 3, None)])]);
    let friday = hour(&forecast, "pagos", 4, 15).expect("Friday 15:00");
    assert_eq!(friday.service_minutes, 6.0);
    assert_eq!(friday.counters, counters_needed(3.0, 6.0, 20.0, 0.8));
}

#[test]
fn an_hour_of_a_weekday_never_served_takes_the_services_time_from_other_days() {
    let days = [day(1, 0, &[arrivals("general", 10, 4, Some(8))]), day(1, 1, &[arrivals("general", 10, 4, None)])];
    assert_eq!(hour(&check(&days), "general", 1, 10).map(|h| h.service_minutes), Some(8.0));
}

#[test]
fn the_hours_total_is_every_services_counters_together() {
    let both = [arrivals("general", 10, 30, Some(10)), arrivals("pagos", 10, 12, Some(6))];
    let forecast = check(&[day(1, 0, &both)]);
    let general = hour(&forecast, "general", 0, 10).map(|h| h.counters).expect("general");
    let pagos = hour(&forecast, "pagos", 0, 10).map(|h| h.counters).expect("pagos");
    assert_eq!(forecast.totals, vec![HourTotal { day: week(), hour: 10, arrivals: 42.0, counters: general + pagos }]);
}

#[test]
fn a_past_weeks_forecast_is_the_same_when_recomputed_later() {
    let mut days: Vec<Day> = (1..=8).map(|w| day(w, 0, &[arrivals("general", 10, 20 + w as u32, Some(5))])).collect();
    let then = check(&days);
    // Its week happens, and weeks after it: the forecast made before it does not move.
    days.extend((-3..=0).map(|w| day(w, 0, &[arrivals("general", 10, 99, Some(9))])));
    assert_eq!(check(&days), then);
}

#[test]
fn the_error_report_compares_each_hour_with_what_came() {
    let history: Vec<Day> = (1..=8).map(|w| day(w, 0, &[arrivals("general", 10, 30, Some(10))])).collect();
    let forecast = check(&history);
    // The week itself: 24 at Monday 10:00 instead of 30, and 6 nobody expected on Tuesday at 9.
    let happened =
        [day(0, 0, &[arrivals("general", 10, 24, Some(10))]), day(0, 1, &[arrivals("general", 9, 6, Some(10))])];
    let report = accuracy(&forecast, &happened, &config(), Params::default());
    let monday = &report.hours[0];
    assert_eq!((monday.day, monday.hour), (week(), 10));
    assert_eq!((monday.forecast_arrivals, monday.actual_arrivals, monday.absolute_error), (30.0, 24, 6.0));
    assert_eq!(monday.forecast_counters, 7);
    assert_eq!(monday.actual_counters, counters_needed(24.0, 10.0, 5.0, 0.8));
    let tuesday = &report.hours[1];
    assert_eq!((tuesday.day, tuesday.hour), (week().plus_days(1), 9));
    assert_eq!((tuesday.forecast_arrivals, tuesday.actual_arrivals, tuesday.absolute_error), (0.0, 6, 6.0));
    assert_eq!(tuesday.forecast_counters, 0);
    assert_eq!(
        report.total,
        AccuracyTotal {
            forecast_arrivals: 30.0,
            actual_arrivals: 30,
            absolute_error: 12.0,
            wape: Some(0.4),
            forecast_counter_hours: 7,
            actual_counter_hours: monday.actual_counters + tuesday.actual_counters,
            hours_understaffed: 1,
        }
    );
    assert_eq!(report.days_seen, vec![week(), week().plus_days(1)]);
}

#[test]
fn a_week_where_nothing_came_has_no_error_share() {
    let report = accuracy(&check(&[]), &[], &config(), Params::default());
    assert_eq!((report.total.actual_arrivals, report.total.wape), (0, None));
    assert!(report.cells.is_empty());
}

/// Reference values of `P(wait)`: M/M/1 waits with probability ρ (any queueing textbook, e.g.
/// Kleinrock, *Queueing Systems* I, §3.2); the others by the factorial form of Erlang C,
/// `(Aᶜ/c!·c/(c−A)) / (Σₖ₌₀ᶜ⁻¹ Aᵏ/k! + Aᶜ/c!·c/(c−A))`, in exact rational arithmetic (Python's
/// `fractions`): C(2, 1) = 1/3 and C(3, 2) = 4/9 by hand too; C(55, 48) is the call-centre
/// example of 360 calls per half hour lasting 240 s at 55 agents; C(300, 280) is far past where
/// `280³⁰⁰/300!` overflows an f64.
#[test]
fn erlang_c_matches_textbook_values() {
    for (counters, load, expected) in [
        (1, 0.5, 0.5),
        (2, 1.0, 1.0 / 3.0),
        (3, 2.0, 4.0 / 9.0),
        (11, 10.0, 0.682_118_204_689_332_4),
        (55, 48.0, 0.238_700_936_378_009_2),
        (300, 280.0, 0.163_814_169_292_920_14),
    ] {
        let found = wait_probability(counters, load);
        assert!((found - expected).abs() < 1e-9, "C({counters}, {load}) = {found}, expected {expected}");
    }
    // The same example's share answered within 15 s: 1 − C·e^{−(55−48)·15/240}.
    assert!((service_level(55, 48.0, 4.0, 0.25) - 0.845_883_092_170_580_3).abs() < 1e-9);
    assert_eq!(wait_probability(4, 4.0), 1.0, "at full load everyone waits");
    assert_eq!(wait_probability(4, 0.0), 0.0);
}

#[test]
fn counters_needed_is_the_first_that_reaches_the_level() {
    assert_eq!(counters_needed(0.0, 10.0, 5.0, 0.8), 0);
    assert_eq!(counters_needed(30.0, 10.0, 5.0, 0.8), 7);
    // A generous target: keeping up is enough.
    assert_eq!(counters_needed(30.0, 10.0, 20.0, 0.8), 6);
    assert_eq!(counters_needed(f64::MAX, 10.0, 5.0, 0.8), erlang::COUNTERS_NEEDED_MAX);
}

proptest! {
    #[test]
    fn more_arrivals_never_need_fewer_counters(
        arrivals in 0.0f64..400.0, more in 0.0f64..100.0, minutes in 0.5f64..60.0,
        target in 0u32..60, level in 0.05f64..0.99,
    ) {
        let target = f64::from(target);
        prop_assert!(counters_needed(arrivals + more, minutes, target, level) >= counters_needed(arrivals, minutes, target, level));
    }

    #[test]
    fn the_counters_needed_meet_the_level_and_one_fewer_does_not(
        arrivals in 0.1f64..400.0, minutes in 0.5f64..60.0, target in 0u32..60, level in 0.05f64..0.99,
    ) {
        let target = f64::from(target);
        let counters = counters_needed(arrivals, minutes, target, level);
        let load = arrivals * minutes / 60.0;
        prop_assert!(f64::from(counters) > load);
        prop_assert!(service_level(counters, load, minutes, target) >= level);
        prop_assert!(service_level(counters - 1, load, minutes, target) < level);
    }

    #[test]
    fn erlang_c_is_a_probability_that_falls_with_each_counter(counters in 1u32..500, load in 0.0f64..480.0) {
        let waits = wait_probability(counters, load);
        prop_assert!((0.0..=1.0).contains(&waits));
        prop_assert!(wait_probability(counters + 1, load) <= waits);
    }
}
