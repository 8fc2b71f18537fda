//! The wait estimate's cost: one ticket's position and range with 500 tickets waiting (target
//! at most 1 ms), and every waiting ticket's at once, as a queue view asks.
//! `cargo bench -p fila-protocol --bench estimate`

use std::time::{Duration, Instant};

use fila_protocol::office::{Actor, Command, Office, Priority};
use fila_protocol::{AgentId, CategoryId, CounterId, RawOfficeConfig, ServiceId, Timestamp, Who};

fn config() -> fila_protocol::OfficeConfig {
    let mut text = String::from("[office]\nid = \"bench\"\nname = \"Bench\"\ntime_zone = \"UTC\"\n");
    for i in 0..4u8 {
        let prefix = (b'A' + i) as char;
        text += &format!("[[services]]\nid = \"s{prefix}\"\nprefix = \"{prefix}\"\nname = \"S{prefix}\"\n");
    }
    text += "[[categories]]\nid = \"mayor\"\nname = \"Mayor\"\nmax_wait_minutes = 30\n";
    for c in 1..=6 {
        text += &format!("[[counters]]\nid = \"{c}\"\nname = \"C{c}\"\nservices = [\"sA\", \"sB\", \"sC\", \"sD\"]\n");
    }
    RawOfficeConfig::parse_toml(&text).expect("bench config")
}

/// A busy morning: 200 served at six counters, then 500 waiting, one in ten preferential.
fn office(t0: Timestamp) -> Office {
    let mut office = Office::restore(config(), b"bench".to_vec(), t0, &[]).expect("office");
    let agent = |c: u32| Actor { agent: AgentId::new(format!("a{c}")), supervisor: false };
    let issue = |office: &mut Office, n: u32, at: Timestamp| {
        let priority =
            if n.is_multiple_of(10) { Priority::Preferential(CategoryId::new("mayor")) } else { Priority::Normal };
        let command = Command::Issue {
            service: ServiceId::new(format!("s{}", (b'A' + (n % 4) as u8) as char)),
            priority,
            issuer: Who::Kiosk("bench".into()),
            token: format!("t{n}"),
        };
        office.handle_command(at, command).expect("issued");
    };
    for c in 1..=6u32 {
        let counter = CounterId::new(c.to_string());
        office.handle_command(t0, Command::SignIn { counter, by: agent(c) }).expect("sign in");
    }
    for n in 0..200u32 {
        let at = t0.plus_minutes(i64::from(n));
        issue(&mut office, n, at);
        let c = n % 6 + 1;
        let counter = CounterId::new(c.to_string());
        for command in [
            Command::CallNext { counter: counter.clone(), by: agent(c) },
            Command::Finish { counter: counter.clone(), by: agent(c), outcome: String::new() },
        ] {
            office.handle_command(at.plus_minutes(1), command).expect("served");
        }
    }
    for n in 200..700u32 {
        issue(&mut office, n, t0.plus_minutes(200 + i64::from(n - 200) / 10));
    }
    while office.poll_persist().is_some() {}
    office
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let quick = std::env::args().all(|a| a != "--bench");
    let rounds = if quick { 200 } else { 5_000 };
    let t0 = Timestamp(1_796_000_000_000);
    let office = office(t0);
    let now = t0.plus_minutes(260);
    let waiting: Vec<_> = office.ranked_waiting(now).iter().map(|r| r.ticket).collect();
    assert_eq!(waiting.len(), 500);
    let last = *waiting.last().expect("a last ticket");

    let mut one = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let position = office.position(last, now).expect("waiting");
        one.push(started.elapsed());
        std::hint::black_box(position);
    }
    one.sort();
    let all_rounds = rounds / 20;
    let mut all = Vec::with_capacity(all_rounds);
    for _ in 0..all_rounds.max(1) {
        let started = Instant::now();
        std::hint::black_box(office.positions(now));
        all.push(started.elapsed());
    }
    all.sort();
    let position = office.position(last, now).expect("waiting");
    println!("estimate: 500 waiting, 6 counters, 200 served today; {rounds} rounds");
    println!(
        "  one ticket (rank + model + range): p50 {:?}  p99 {:?}  max {:?}   (last in line: {} ahead, {}-{} min)",
        percentile(&one, 0.5),
        percentile(&one, 0.99),
        one.last().expect("rounds"),
        position.people_ahead,
        position.wait.low,
        position.wait.high
    );
    println!("  every waiting ticket (queue view): p50 {:?}  p99 {:?}", percentile(&all, 0.5), percentile(&all, 0.99));
}
