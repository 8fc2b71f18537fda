//! The estimate as a citizen reads it: longer with more people ahead, shorter with more counters,
//! and honest about what it does not know.

use super::*;
use crate::config::RawOfficeConfig;
use crate::ids::{AgentId, CategoryId, CounterId};
use crate::office::{Actor, Command, Office, Priority, Reply};
use crate::ticket::Who;

/// Monday 2026-12-07 09:00 in Bogotá.
const T0: Timestamp = Timestamp(1_796_652_000_000);

fn config(counters: &[(&str, &[&str])]) -> OfficeConfig {
    let mut text = String::from(
        r#"
        [office]
        id = "centro"
        name = "Centro"
        time_zone = "America/Bogota"
        [[services]]
        id = "general"
        prefix = "A"
        name = "General"
        expected_service_minutes = 5
        [[services]]
        id = "pagos"
        prefix = "B"
        name = "Pagos"
        expected_service_minutes = 5
        [[categories]]
        id = "mayor"
        name = "Mayor"
        "#,
    );
    for (id, services) in counters {
        let list: Vec<String> = services.iter().map(|s| format!("{s:?}")).collect();
        text.push_str(&format!("[[counters]]\nid = {id:?}\nname = \"P{id}\"\nservices = [{}]\n", list.join(", ")));
    }
    RawOfficeConfig::parse_toml(&text).expect("valid office")
}

fn minutes(n: i64) -> Timestamp {
    T0.plus_minutes(n)
}

fn agent(name: &str) -> Actor {
    Actor { agent: AgentId::new(name), supervisor: false }
}

fn run(office: &mut Office, at: Timestamp, command: Command) -> Reply {
    office.handle_command(at, command).expect("accepted")
}

fn issue(office: &mut Office, at: Timestamp, service: &str, priority: Priority) -> Ticket {
    let token = format!("t{}", office.day().tickets.len() + 1);
    let command = Command::Issue { service: ServiceId::new(service), priority, issuer: Who::Kiosk("k".into()), token };
    match run(office, at, command) {
        Reply::Ticket(ticket) => ticket,
        other => panic!("{other:?}"),
    }
}

/// An office whose counters are open and each busy with a citizen, with `waiting` more in line.
fn busy_office(counters: &[(&str, &[&str])], waiting: &[(&str, usize)]) -> Office {
    let mut office = Office::restore(config(counters), b"e".to_vec(), T0, &[]).expect("office");
    for (id, services) in counters {
        run(&mut office, T0, Command::SignIn { counter: CounterId::new(*id), by: agent(&format!("a{id}")) });
        issue(&mut office, T0, services[0], Priority::Normal);
        run(&mut office, T0, Command::CallNext { counter: CounterId::new(*id), by: agent(&format!("a{id}")) });
    }
    for (service, n) in waiting {
        for _ in 0..*n {
            issue(&mut office, minutes(1), service, Priority::Normal);
        }
    }
    office
}

/// The range the next ticket of `service` would be told.
fn next_range(office: &mut Office, service: &str) -> WaitRange {
    issue(office, minutes(2), service, Priority::Normal).estimate.expect("recorded at issue")
}

#[test]
fn a_range_brackets_the_configured_pace_of_the_people_ahead() {
    let mut office = busy_office(&[("1", &["general"])], &[("general", 3)]);
    let range = next_range(&mut office, "general");
    // Three ahead and one at the counter: 3.5 services of 5 minutes.
    assert!(range.low < 17 && 18 < range.high, "{range:?}");
    assert!(range.width() <= 30, "no wider than it needs: {range:?}");
}

#[test]
fn the_range_is_recorded_with_the_ticket_and_the_position_tells_it_again_from_now() {
    let mut office = busy_office(&[("1", &["general"])], &[("general", 2)]);
    let ticket = issue(&mut office, minutes(2), "general", Priority::Normal);
    let position = office.position(ticket.id, minutes(2)).expect("waiting");
    assert_eq!(Some(position.wait), ticket.estimate, "the same model at the same instant");
    assert_eq!(office.positions(minutes(2)).get(&ticket.id), Some(&position));
    assert_eq!(office.ticket(ticket.id).and_then(|t| t.estimate), ticket.estimate, "kept in the day");
}

#[test]
fn more_open_counters_shorten_the_wait() {
    let one = next_range(&mut busy_office(&[("1", &["general"])], &[("general", 8)]), "general");
    let two = next_range(&mut busy_office(&[("1", &["general"]), ("2", &["general"])], &[("general", 8)]), "general");
    assert!(two.midpoint() < one.midpoint() * 0.6, "{one:?} then {two:?}");
}

#[test]
fn a_counter_shared_with_a_busy_service_counts_by_its_share() {
    let counters: &[(&str, &[&str])] = &[("1", &["general", "pagos"])];
    let alone = next_range(&mut busy_office(counters, &[("general", 4)]), "general");
    let shared = next_range(&mut busy_office(counters, &[("general", 4), ("pagos", 4)]), "general");
    assert!(shared.midpoint() > alone.midpoint() * 1.5, "{alone:?} then {shared:?}");
}

#[test]
fn a_paused_counter_counts_once_a_break_would_be_over() {
    let counters: &[(&str, &[&str])] = &[("1", &["general"]), ("2", &["general"])];
    let mut paused = busy_office(counters, &[("general", 20)]);
    let mut closed = busy_office(counters, &[("general", 20)]);
    run(
        &mut paused,
        minutes(1),
        Command::Finish { counter: CounterId::new("2"), by: agent("a2"), outcome: String::new() },
    );
    run(&mut paused, minutes(1), Command::Pause { counter: CounterId::new("2"), by: agent("a2") });
    run(
        &mut closed,
        minutes(1),
        Command::Finish { counter: CounterId::new("2"), by: agent("a2"), outcome: String::new() },
    );
    run(&mut closed, minutes(1), Command::Close { counter: CounterId::new("2"), by: agent("a2") });
    let (paused, closed) = (next_range(&mut paused, "general"), next_range(&mut closed, "general"));
    assert!(paused.midpoint() < closed.midpoint() * 0.8, "paused {paused:?}, closed {closed:?}");
}

#[test]
fn an_idle_counter_calls_the_next_ticket_at_once() {
    let mut office = Office::restore(config(&[("1", &["general"])]), b"e".to_vec(), T0, &[]).expect("office");
    run(&mut office, T0, Command::SignIn { counter: CounterId::new("1"), by: agent("ana") });
    assert_eq!(next_range(&mut office, "general"), WaitRange { low: 0, high: 1 });
}

#[test]
fn today_s_pace_outweighs_the_configured_one() {
    let mut office = busy_office(&[("1", &["general"])], &[]);
    // Twelve citizens of 15 minutes each, against a configured 5.
    for n in 0..12 {
        let at = minutes(15 * n + 15);
        run(&mut office, at, Command::Finish { counter: CounterId::new("1"), by: agent("a1"), outcome: String::new() });
        issue(&mut office, at, "general", Priority::Normal);
        run(&mut office, at, Command::CallNext { counter: CounterId::new("1"), by: agent("a1") });
    }
    for _ in 0..3 {
        issue(&mut office, minutes(200), "general", Priority::Normal);
    }
    let range = issue(&mut office, minutes(200), "general", Priority::Normal).estimate.expect("told");
    // 3.5 services of about 15 minutes, not of 5.
    assert!((40.0..=65.0).contains(&range.midpoint()), "{range:?}");
}

#[test]
fn appointments_falling_due_and_preferential_arrivals_go_ahead_of_a_normal_ticket() {
    let counters: &[(&str, &[&str])] = &[("1", &["general"])];
    let plain = next_range(&mut busy_office(counters, &[("general", 4)]), "general");

    let mut booked = busy_office(counters, &[("general", 4)]);
    let service = ServiceId::new("general");
    booked.set_expected((0..4).map(|n| Expected { service: service.clone(), at: minutes(15 + 5 * n) }).collect());
    let with_bookings = next_range(&mut booked, "general");
    assert!(with_bookings.midpoint() > plain.midpoint() + 10.0, "{plain:?} then {with_bookings:?}");

    // Past Mondays at nine brought a preferential citizen every three minutes.
    let mut past = busy_office(counters, &[]);
    for n in 0..20 {
        issue(&mut past, minutes(3 * n), "general", Priority::Preferential(CategoryId::new("mayor")));
    }
    let mut last_week = past.day().clone();
    last_week.day = last_week.day.plus_days(-7);
    let mut crowded = busy_office(counters, &[("general", 4)]);
    crowded.set_history(History::from_days([&last_week], &crowded.config().time_zone.clone()));
    let normal = next_range(&mut crowded, "general");
    assert!(normal.midpoint() > plain.midpoint() + 5.0, "{plain:?} then {normal:?}");
    let preferential = issue(&mut crowded, minutes(2), "general", Priority::Preferential(CategoryId::new("mayor")));
    let preferential = preferential.estimate.expect("told");
    assert!(preferential.midpoint() < normal.midpoint(), "{preferential:?} goes before {normal:?}");
}

#[test]
fn a_range_says_whether_an_actual_wait_fell_in_it() {
    let range = WaitRange { low: 12, high: 20 };
    assert!(range.contains(12 * 60_000 - 20_000), "11:40 reads as 12");
    assert!(range.contains(20 * 60_000 + 20_000));
    assert!(!range.contains(20 * 60_000 + 40_000));
    assert!(!range.contains(11 * 60_000));
    assert_eq!((range.midpoint(), range.width()), (16.0, 8));
}
