//! The office core alone, without HTTP or disk: what a ticket costs in the state machine and
//! the day document. `cargo bench -p fila-protocol --bench office_core`

use std::time::Instant;

use fila_protocol::office::{Actor, Command, Office, Priority};
use fila_protocol::{AgentId, CounterId, RawOfficeConfig, ServiceId, Timestamp};

fn config() -> fila_protocol::OfficeConfig {
    let mut text = String::from("[office]\nid = \"bench\"\nname = \"Bench\"\ntime_zone = \"UTC\"\n");
    for i in 0..4u8 {
        let prefix = (b'A' + i) as char;
        text += &format!("[[services]]\nid = \"s{prefix}\"\nprefix = \"{prefix}\"\nname = \"S{prefix}\"\n");
    }
    text += "[[counters]]\nid = \"1\"\nname = \"C1\"\nservices = [\"sA\", \"sB\", \"sC\", \"sD\"]\n";
    RawOfficeConfig::parse_toml(&text).expect("bench config")
}

fn main() {
    let quick = std::env::args().all(|a| a != "--bench");
    let tickets: u32 = if quick { 400 } else { 3_996 };
    for batch in [1usize, 8, 64] {
        let t0 = Timestamp(1_796_000_000_000);
        let mut office = Office::restore(config(), b"bench".to_vec(), t0, &[]).expect("office");
        let started = Instant::now();
        let mut persisted = 0usize;
        for n in 0..tickets {
            let command = Command::Issue {
                service: ServiceId::new(format!("s{}", (b'A' + (n % 4) as u8) as char)),
                priority: Priority::Normal,
                issuer: fila_protocol::Who::Kiosk("bench".into()),
                token: format!("t{n}"),
            };
            office.handle_command(Timestamp(t0.0 + i64::from(n)), command).expect("issued");
            if (n as usize + 1).is_multiple_of(batch) {
                while let Some(p) = office.poll_persist() {
                    persisted += p.bytes.len();
                }
            }
        }
        let issue = started.elapsed();
        let by = Actor { agent: AgentId::new("a"), supervisor: true };
        let counter = CounterId::new("1");
        office.handle_command(t0, Command::SignIn { counter: counter.clone(), by: by.clone() }).expect("sign in");
        let started = Instant::now();
        for n in 0..tickets.min(2_000) {
            let now = Timestamp(t0.0 + 10_000 + i64::from(n));
            for command in [
                Command::CallNext { counter: counter.clone(), by: by.clone() },
                Command::Start { counter: counter.clone(), by: by.clone() },
                Command::Finish { counter: counter.clone(), by: by.clone(), outcome: String::new() },
            ] {
                office.handle_command(now, command).expect("accepted");
            }
            if (n as usize + 1).is_multiple_of(batch) {
                while office.poll_persist().is_some() {}
            }
        }
        let serve = started.elapsed();
        let snapshot = office.snapshot().bytes.len();
        println!(
            "batch {batch:>2}: issue {:.1} µs/ticket ({} chunk bytes), call+start+finish {:.1} µs/ticket, snapshot {} KB",
            issue.as_secs_f64() * 1e6 / f64::from(tickets),
            persisted,
            serve.as_secs_f64() * 1e6 / f64::from(tickets.min(2_000)),
            snapshot / 1024
        );
    }
}
