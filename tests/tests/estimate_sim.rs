//! The wait estimate scored against simulated office days.
//!
//! Each day is a Monday at a two-service office: arrivals following a morning peak, a
//! preferential share, booked appointments (most of them come), service times spread
//! log-normally, agents who open late, take a break and go to lunch, citizens who do not answer
//! their call. The office is the real `Office`; the estimator sees only what it would see at a
//! real office: the day so far, the same weekday of past weeks (the days simulated before), the
//! bookings not yet come. Every ticket records the range it was told at issue; when the day is
//! over, each called ticket's actual wait is compared with it, and with the single number the
//! office told before ranges (people ahead × today's mean service time ÷ open counters).
//!
//! Four days build the history, then eight are scored. `FILA_SIM_SEED=<n>` replays another run.

use std::collections::{BTreeMap, HashMap};

use fila_protocol::config::{OfficeConfig, RawOfficeConfig};
use fila_protocol::estimate::{Expected, History};
use fila_protocol::office::{Actor, Command, Office, Priority, Reply};
use fila_protocol::report::EstimateScore;
use fila_protocol::{AgentId, CategoryId, CounterId, Day, ServiceId, Ticket, TicketStatus, Timestamp, Who};
use fila_tests::Rng;

const HISTORY_DAYS: i64 = 4;
const SCORED_DAYS: i64 = 8;
const STEP_MS: i64 = 15_000;
/// Doors open 08:00 to 15:00; counters serve whoever is inside until the queue is empty.
const OPEN_MINUTES: f64 = 7.0 * 60.0;
const DEFAULT_SEED: u64 = 7;

const OFFICE: &str = r#"
[office]
id = "norte"
name = "Norte"
time_zone = "America/Bogota"
[calendar.hours]
mon = ["08:00-15:00"]
[rule]
preferential_ratio = 3
[[services]]
id = "general"
prefix = "A"
name = "General"
expected_service_minutes = 6
[services.booking]
slot_minutes = 30
capacity = 2
[[services]]
id = "pagos"
prefix = "B"
name = "Pagos"
expected_service_minutes = 4
[[categories]]
id = "mayor"
name = "Adulto mayor"
max_wait_minutes = 45
[[counters]]
id = "1"
name = "Puesto 1"
services = ["general"]
[[counters]]
id = "2"
name = "Puesto 2"
services = ["general"]
[[counters]]
id = "3"
name = "Puesto 3"
services = ["pagos"]
[[counters]]
id = "4"
name = "Puesto 4"
services = ["general", "pagos"]
"#;

/// Arrivals per minute of a service at a minute after opening: a morning peak, a lull at
/// lunch, a quieter afternoon.
fn arrival_rate(service: &str, minute: f64) -> f64 {
    let base = if service == "general" { 0.30 } else { 0.26 };
    let shape = match minute as i64 / 60 {
        0 => 0.8,
        1 | 2 => 1.35,
        3 | 4 => 0.95,
        5 => 0.75,
        _ => 0.6,
    };
    base * shape
}

/// Mean occupancy minutes and spread of a service's citizens.
fn service_time(service: &ServiceId) -> (f64, f64) {
    if service.as_str() == "general" {
        (7.0, 0.6)
    } else {
        (4.0, 0.5)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Desk {
    /// Not signed in yet, or away at lunch.
    Away,
    Idle,
    /// Called a citizen who walks up (or does not come) until then.
    Calling {
        until: f64,
        shows: bool,
    },
    Serving {
        until: f64,
    },
    Paused {
        until: f64,
    },
}

struct Agent {
    counter: CounterId,
    name: AgentId,
    opens: f64,
    break_at: f64,
    break_minutes: f64,
    took_break: bool,
    lunch: Option<(f64, f64)>,
    desk: Desk,
}

struct Booking {
    id: String,
    at: Timestamp,
    arrives: Option<f64>,
}

/// What one simulated day leaves: the day itself and, per ticket, the single number it would
/// have been told before ranges.
struct Simulated {
    day: Day,
    single_number: HashMap<fila_protocol::TicketId, u32>,
}

fn config() -> OfficeConfig {
    RawOfficeConfig::parse_toml(OFFICE).expect("a valid office")
}

/// 08:00 in Bogotá (UTC-5) on the Monday `week` weeks after 2026-12-07.
fn opening(week: i64) -> Timestamp {
    let monday = Timestamp("2026-12-07T13:00:00Z".parse::<jiff::Timestamp>().expect("instant").as_millisecond());
    monday.plus_minutes(week * 7 * 24 * 60)
}

fn simulate_day(week: i64, history: &History, rng: &mut Rng) -> Simulated {
    let start = opening(week);
    let minute_at = |m: f64| Timestamp(start.as_ms() + (m * 60_000.0) as i64);
    let mut office = Office::restore(config(), b"sim".to_vec(), start, &[]).expect("office");
    office.set_history(history.clone());
    let general = ServiceId::new("general");

    let mut agents: Vec<Agent> = (1..=4)
        .map(|n| Agent {
            counter: CounterId::new(n.to_string()),
            name: AgentId::new(format!("agente{n}")),
            // Counter 2 opens late, counter 4 after the first hour.
            opens: match n {
                2 => rng.between(15.0, 40.0),
                4 => rng.between(50.0, 70.0),
                _ => rng.between(0.0, 5.0),
            },
            break_at: rng.between(90.0, 300.0),
            break_minutes: rng.between(8.0, 20.0),
            took_break: false,
            lunch: (n == 2).then(|| {
                let from = rng.between(240.0, 300.0);
                (from, from + rng.between(30.0, 50.0))
            }),
            desk: Desk::Away,
        })
        .collect();
    let mut bookings: Vec<Booking> = (0..12)
        .map(|n| {
            let at = start.plus_minutes(60 + 30 * n);
            let arrives =
                rng.with_probability(0.85).then(|| (60.0 + 30.0 * n as f64 - rng.between(2.0, 15.0)).max(0.0));
            Booking { id: format!("w{week}b{n}"), at, arrives }
        })
        .collect();

    let mut single_number = HashMap::new();
    let mut step = 0i64;
    loop {
        let minute = (step * STEP_MS) as f64 / 60_000.0;
        let now = minute_at(minute);
        step += 1;
        let doors_open = minute < OPEN_MINUTES;
        let expected: Vec<Expected> = bookings
            .iter()
            .filter(|b| b.arrives.is_none_or(|a| a > minute))
            .map(|b| Expected { service: general.clone(), at: b.at })
            .collect();
        office.set_expected(expected);

        let mut arrivals: Vec<(ServiceId, Priority, Who)> = Vec::new();
        if doors_open {
            for service in ["general", "pagos"] {
                if rng.with_probability(arrival_rate(service, minute) * STEP_MS as f64 / 60_000.0) {
                    let priority = if rng.with_probability(0.12) {
                        Priority::Preferential(CategoryId::new("mayor"))
                    } else {
                        Priority::Normal
                    };
                    arrivals.push((ServiceId::new(service), priority, Who::Kiosk("entrada".into())));
                }
            }
        }
        for booking in bookings.iter_mut() {
            if booking.arrives.is_some_and(|a| a <= minute) {
                booking.arrives = Some(f64::INFINITY);
                arrivals.push((general.clone(), Priority::Appointment(booking.at), Who::Booking(booking.id.clone())));
            }
        }
        for (service, priority, issuer) in arrivals {
            let token = format!("t{}", office.day().tickets.len() + 1);
            let reply = office.handle_command(now, Command::Issue { service, priority, issuer, token });
            let Ok(Reply::Ticket(ticket)) = reply else { panic!("issue refused: {reply:?}") };
            single_number.insert(ticket.id, old_estimate(&office, &ticket, now));
        }

        for agent in agents.iter_mut() {
            step_agent(&mut office, agent, minute, now, rng);
        }

        let waiting = office.day().tickets.values().any(|t| t.status == TicketStatus::Waiting);
        let busy = agents.iter().any(|a| matches!(a.desk, Desk::Calling { .. } | Desk::Serving { .. }));
        if !doors_open && !waiting && !busy {
            break;
        }
        assert!(minute < 12.0 * 60.0, "the simulated day never ends");
    }
    Simulated { day: office.day().clone(), single_number }
}

fn run(office: &mut Office, now: Timestamp, command: Command) -> Result<Reply, fila_protocol::Rejection> {
    office.handle_command(now, command)
}

/// One agent's next move at `minute`.
fn step_agent(office: &mut Office, agent: &mut Agent, minute: f64, now: Timestamp, rng: &mut Rng) {
    let by = Actor { agent: agent.name.clone(), supervisor: false };
    let counter = agent.counter.clone();
    let at_lunch = agent.lunch.is_some_and(|(from, to)| (from..to).contains(&minute));
    match agent.desk {
        Desk::Away if minute >= agent.opens && !at_lunch => {
            run(office, now, Command::SignIn { counter, by }).expect("signs in");
            agent.desk = Desk::Idle;
        }
        Desk::Away => {}
        Desk::Paused { until } if minute >= until => {
            run(office, now, Command::Reopen { counter, by }).expect("back from the break");
            agent.desk = Desk::Idle;
        }
        Desk::Paused { .. } => {}
        Desk::Calling { until, shows } if minute >= until => {
            if shows {
                run(office, now, Command::Start { counter, by }).expect("starts");
                let service =
                    office.day().counter(&agent.counter).current.map(|id| office.day().tickets[&id].service.clone());
                let (mean, cv) = service_time(&service.expect("a citizen at the counter"));
                agent.desk = Desk::Serving { until: minute + rng.log_normal(mean, cv) };
            } else {
                run(office, now, Command::NoShow { counter, by }).expect("no-show");
                agent.desk = Desk::Idle;
            }
        }
        Desk::Calling { .. } => {}
        Desk::Serving { until } if minute >= until => {
            run(office, now, Command::Finish { counter, by, outcome: String::new() }).expect("finishes");
            agent.desk = Desk::Idle;
        }
        Desk::Serving { .. } => {}
        Desk::Idle if at_lunch => {
            run(office, now, Command::Close { counter, by }).expect("closes for lunch");
            agent.desk = Desk::Away;
        }
        Desk::Idle if !agent.took_break && minute >= agent.break_at => {
            run(office, now, Command::Pause { counter, by }).expect("pauses");
            agent.took_break = true;
            agent.desk = Desk::Paused { until: minute + agent.break_minutes };
        }
        Desk::Idle => {
            if run(office, now, Command::CallNext { counter, by }).is_ok() {
                let shows = rng.with_probability(0.96);
                let walk = if shows { rng.between(0.3, 1.5) } else { 3.0 };
                agent.desk = Desk::Calling { until: minute + walk, shows };
            }
        }
    }
}

/// The estimate before ranges: people ahead at the day's mean service time (the configured one
/// until three tickets finished), divided among the counters open for the service.
fn old_estimate(office: &Office, ticket: &Ticket, now: Timestamp) -> u32 {
    let Some(position) = office.position(ticket.id, now) else { return 0 };
    let config = office.config();
    let counters = config
        .counters
        .iter()
        .filter(|c| c.services.contains(&ticket.service))
        .filter(|c| office.day().counter(&c.id).status == fila_protocol::CounterStatus::Open)
        .count()
        .max(1) as u32;
    let finished: Vec<i64> = office
        .day()
        .tickets
        .values()
        .filter(|t| t.service == ticket.service && t.status == TicketStatus::Finished)
        .filter_map(|t| Some(t.closed_at?.ms_since(t.started_at.or(t.called_at)?)))
        .collect();
    let minutes = if finished.len() < 3 {
        config.service(&ticket.service).map_or(5, |s| s.expected_service_minutes)
    } else {
        ((finished.iter().sum::<i64>() / finished.len() as i64) as f64 / 60_000.0).ceil().max(1.0) as u32
    };
    (position.people_ahead * minutes).div_ceil(counters)
}

/// The single number's error and how often it was right to the minute, for comparison.
#[derive(Default)]
struct SingleScore {
    scored: u32,
    error_minutes: f64,
}

#[test]
fn the_wait_range_holds_four_in_five_actual_waits_and_beats_the_single_number() {
    let seed = std::env::var("FILA_SIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEED);
    let mut rng = Rng(seed);
    let zone = config().time_zone.clone();
    let mut past: Vec<Day> = Vec::new();
    let mut total = EstimateScore::default();
    let mut single = SingleScore::default();
    let mut by_class: BTreeMap<&str, EstimateScore> = BTreeMap::new();
    let mut waits = Vec::new();
    println!("seed {seed} (replay with FILA_SIM_SEED={seed})");
    println!("day         tickets  inside  midpoint error  width   single-number error");
    for week in 0..HISTORY_DAYS + SCORED_DAYS {
        let history = History::from_days(past.iter().rev().take(8), &zone);
        let simulated = simulate_day(week, &history, &mut rng);
        let day = &simulated.day;
        if week >= HISTORY_DAYS {
            let mut score = EstimateScore::default();
            let mut single_day = SingleScore::default();
            for ticket in day.tickets.values() {
                let Some(called) = ticket.first_called_at else { continue };
                let wait = called.ms_since(ticket.issued_at) as f64 / 60_000.0;
                score.add(ticket);
                by_class.entry(ticket.class.name()).or_default().add(ticket);
                waits.push(wait);
                if let Some(number) = simulated.single_number.get(&ticket.id) {
                    single_day.scored += 1;
                    single_day.error_minutes += (f64::from(*number) - wait).abs();
                }
            }
            println!(
                "{}  {:>7}  {:>5.1}%  {:>10.1} min  {:>4.1}  {:>13.1} min",
                day.day,
                score.scored,
                score.inside_share() * 100.0,
                score.mean_error_minutes(),
                score.mean_width_minutes(),
                single_day.error_minutes / f64::from(single_day.scored.max(1)),
            );
            total.merge(&score);
            single.scored += single_day.scored;
            single.error_minutes += single_day.error_minutes;
        }
        past.push(simulated.day);
    }
    let single_error = single.error_minutes / f64::from(single.scored.max(1));
    let mean_wait = waits.iter().sum::<f64>() / waits.len().max(1) as f64;
    println!(
        "all         {:>7}  {:>5.1}%  {:>10.1} min  {:>4.1}  {:>13.1} min   (mean wait {mean_wait:.1} min)",
        total.scored,
        total.inside_share() * 100.0,
        total.mean_error_minutes(),
        total.mean_width_minutes(),
        single_error,
    );
    for (class, score) in &by_class {
        println!(
            "  {class:<12} {:>5}  {:>5.1}%  {:>10.1} min  {:>4.1}",
            score.scored,
            score.inside_share() * 100.0,
            score.mean_error_minutes(),
            score.mean_width_minutes()
        );
    }
    assert!(total.scored > 1_000, "a realistic sample: {} tickets", total.scored);
    assert!(total.inside_share() >= 0.80, "four in five actual waits inside the range: {:.3}", total.inside_share());
    assert!(
        total.mean_error_minutes() < single_error,
        "the range's midpoint is closer than the single number: {:.2} against {single_error:.2} min",
        total.mean_error_minutes()
    );
    // No wider than it needs to be: on average, less than the mean wait itself.
    assert!(
        total.mean_width_minutes() < mean_wait,
        "width {:.1} against a mean wait of {mean_wait:.1} min",
        total.mean_width_minutes()
    );
}
