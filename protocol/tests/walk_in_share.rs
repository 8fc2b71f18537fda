//! The walk-in share, in a simulated day: bookings overbooked on purpose, walk-ins arriving all
//! day, two counters calling whoever the rule picks. With a share kept for walk-ins, every hour
//! in which walk-ins were waiting gives them at least that share of its calls (within one
//! call), and appointments are still called at their time; without it, bookings crowd them out.

use fila_protocol::config::{OfficeConfig, RawOfficeConfig};
use fila_protocol::office::{Actor, Command, Office, Priority, Reply};
use fila_protocol::{AgentId, CallReason, Class, CounterId, ServiceId, Timestamp, Who};

/// A fixed-seed generator (xorshift): the same day every run, no dependency.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn config(walk_in_percent: u32) -> OfficeConfig {
    RawOfficeConfig::parse_toml(&format!(
        r#"
        [office]
        id = "centro"
        name = "Centro"
        time_zone = "America/Bogota"
        [calendar.hours]
        mon = ["08:00-16:00"]
        [[services]]
        id = "cedulas"
        name = "Cédulas"
        prefix = "C"
        expected_service_minutes = 10
        [services.booking]
        slot_minutes = 30
        capacity = 6
        walk_in_percent = {walk_in_percent}
        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["cedulas"]
        [[counters]]
        id = "2"
        name = "Puesto 2"
        services = ["cedulas"]
        "#
    ))
    .expect("a valid office")
}

/// Monday 2026-12-07, 08:00 in Bogotá (UTC-5).
fn opening() -> Timestamp {
    Timestamp("2026-12-07T13:00:00Z".parse::<jiff::Timestamp>().expect("instant").as_millisecond())
}

struct Call {
    minute: i64,
    appointment: bool,
    walk_in_waiting: bool,
    reason: CallReason,
}

/// One simulated day: who was called, when, and whether a walk-in was waiting then.
fn simulate(walk_in_percent: u32, seed: u64) -> Vec<Call> {
    let start = opening();
    let mut office = Office::restore(config(walk_in_percent), b"edge-sim".to_vec(), start, &[]).expect("office");
    let mut dice = Dice(seed);
    let service = ServiceId::new("cedulas");
    let counters = [CounterId::new("1"), CounterId::new("2")];
    let actor = |name: &str| Actor { agent: AgentId::new(name), supervisor: false };
    for (counter, name) in counters.iter().zip(["ana", "beto"]) {
        office.handle_command(start, Command::SignIn { counter: counter.clone(), by: actor(name) }).expect("open");
    }
    // Every 30-minute slot overbooked: six appointments, each checking in up to 15 minutes early.
    let mut arrivals: Vec<(i64, Priority, Who)> = Vec::new();
    for slot in 0..16 {
        for n in 0..6 {
            let due = start.plus_minutes(slot * 30);
            let arrive = (slot * 30 - dice.below(16) as i64).max(0);
            arrivals.push((arrive, Priority::Appointment(due), Who::Booking(format!("b{slot}x{n}"))));
        }
    }
    // Walk-ins: about 20 an hour, all day.
    for minute in 0..480 {
        if dice.below(3) == 0 {
            arrivals.push((minute, Priority::Normal, Who::Kiosk("entrada".into())));
        }
    }
    arrivals.sort_by_key(|(minute, _, _)| *minute);

    let mut free_at = [0i64; 2];
    let mut calls = Vec::new();
    let mut next_arrival = 0;
    for minute in 0..480 {
        let now = start.plus_minutes(minute);
        while next_arrival < arrivals.len() && arrivals[next_arrival].0 <= minute {
            let (_, priority, issuer) = arrivals[next_arrival].clone();
            let token = format!("t{next_arrival}");
            let command = Command::Issue { service: service.clone(), priority, issuer, token };
            office.handle_command(now, command).expect("issued");
            next_arrival += 1;
        }
        for (i, counter) in counters.iter().enumerate() {
            if free_at[i] > minute {
                continue;
            }
            let by = actor(["ana", "beto"][i]);
            if office.day().counter(counter).current.is_some() {
                office
                    .handle_command(
                        now,
                        Command::Finish { counter: counter.clone(), by: by.clone(), outcome: String::new() },
                    )
                    .expect("finish");
            }
            let walk_in_waiting = office
                .ranked_for_counter(counter, now)
                .iter()
                .any(|r| matches!(office.day().tickets[&r.ticket].class, Class::Normal));
            let Ok(Reply::Call { ticket, call }) =
                office.handle_command(now, Command::CallNext { counter: counter.clone(), by: by.clone() })
            else {
                continue;
            };
            office.handle_command(now, Command::Start { counter: counter.clone(), by }).expect("start");
            let appointment = matches!(ticket.class, Class::Appointment { .. });
            calls.push(Call { minute, appointment, walk_in_waiting, reason: call.reason });
            free_at[i] = minute + 8 + dice.below(5) as i64;
        }
    }
    calls
}

/// Per clock hour in which a walk-in was waiting at every call: (calls, walk-ins called).
fn saturated_hours(calls: &[Call]) -> Vec<(usize, usize)> {
    (0..8)
        .filter_map(|hour| {
            let in_hour: Vec<&Call> = calls.iter().filter(|c| c.minute / 60 == hour).collect();
            let saturated = !in_hour.is_empty() && in_hour.iter().all(|c| c.walk_in_waiting);
            saturated.then(|| (in_hour.len(), in_hour.iter().filter(|c| !c.appointment).count()))
        })
        .collect()
}

#[test]
fn walk_ins_keep_their_share_of_every_busy_hour_and_appointments_are_still_served() {
    for seed in [7, 1_234, 99_991] {
        let calls = simulate(40, seed);
        let hours = saturated_hours(&calls);
        assert!(hours.len() >= 4, "the simulated day is busy: {} saturated hours", hours.len());
        for (all, walk_ins) in &hours {
            // 40% of the hour's calls, less the one call the hour boundary can shift.
            assert!(walk_ins * 100 + 100 >= all * 40, "seed {seed}: {walk_ins} walk-ins of {all} calls");
        }
        let on_time = calls.iter().filter(|c| c.reason == CallReason::AppointmentDue).count();
        assert!(on_time >= 40, "seed {seed}: appointments are still called at their time ({on_time})");
    }
}

#[test]
fn without_a_walk_in_share_bookings_crowd_walk_ins_out() {
    let kept: usize = saturated_hours(&simulate(40, 7)).iter().map(|(_, w)| w).sum();
    let crowded: usize = saturated_hours(&simulate(0, 7)).iter().map(|(_, w)| w).sum();
    assert!(crowded * 2 < kept, "walk-ins called in busy hours: {crowded} without the share, {kept} with it");
}
