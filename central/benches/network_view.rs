//! The network view's answer time: central with 1,000 offices, each with today's day of 100
//! tickets (40 still waiting, two counters open), computes every office's row
//! (`fila_central::network::glance`, what `GET /api/v1/network` and its live stream answer)
//! and encodes them as JSON, as the API sends them.
//! Target (issue 13): under a second for 1,000 offices.
//!
//! `cargo bench -p fila-central --bench network_view` (without `--bench`, 50 offices);
//! `FILA_BENCH_STORE=postgres` keeps the documents in PostgreSQL (a database of its own on the
//! server of `fila_store::testing`), as replicas of central do.

mod seeded;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fila_central::hub::Hub;
use fila_central::settings::OfficeSettings;
use fila_protocol::office::{Actor, Command, Office, Priority};
use fila_protocol::{AgentId, CounterId, ServiceId, Timestamp, Who};
use fila_store::{SledStore, Store};

use seeded::config;

const TICKETS: usize = 100;
const WAITING: usize = 40;

/// Today's day of office `id`, as its box would have stored it: 100 tickets since the morning,
/// all but the last 40 served.
fn day_chunks(id: &str, now: Timestamp) -> Vec<fila_protocol::office::Persist> {
    let start = Timestamp(now.as_ms() - 3 * 3_600_000);
    let mut office =
        Office::restore(config(id).validate().expect("valid"), id.as_bytes().to_vec(), start, &[]).expect("office");
    let agent = |name: &str| Actor { agent: AgentId::new(name), supervisor: false };
    for (counter, name) in [("1", "ana"), ("2", "beto")] {
        office
            .handle_command(start, Command::SignIn { counter: CounterId::new(counter), by: agent(name) })
            .expect("in");
    }
    for n in 0..TICKETS {
        let at = Timestamp(start.as_ms() + n as i64 * 100_000);
        let issue = Command::Issue {
            service: ServiceId::new("general"),
            priority: Priority::Normal,
            issuer: Who::Kiosk("entrada".into()),
            token: format!("t{n}"),
        };
        office.handle_command(at, issue).expect("issued");
    }
    for n in 0..TICKETS - WAITING {
        let (counter, name) = if n % 2 == 0 { ("1", "ana") } else { ("2", "beto") };
        let at = Timestamp(start.as_ms() + 600_000 + n as i64 * 120_000);
        office
            .handle_command(at, Command::CallNext { counter: CounterId::new(counter), by: agent(name) })
            .expect("called");
        let finish = Command::Finish { counter: CounterId::new(counter), by: agent(name), outcome: String::new() };
        office.handle_command(Timestamp(at.as_ms() + 60_000), finish).expect("finished");
    }
    std::iter::from_fn(|| office.poll_persist()).collect()
}

fn main() {
    let quick = std::env::args().all(|a| a != "--bench");
    let offices = if quick { 50 } else { 1_000 };
    let dir = tempfile::tempdir().expect("dir");
    let postgres = std::env::var("FILA_BENCH_STORE").is_ok_and(|store| store == "postgres");
    let db = postgres.then(fila_store::testing::TempDatabase::create).flatten();
    let store: Arc<dyn Store> = match &db {
        Some(db) => {
            fila_store::PgStore::migrate(db.url()).expect("migrated");
            Arc::new(fila_store::PgStore::open(db.url()).expect("store"))
        }
        None if postgres => return,
        None => Arc::new(SledStore::open(&dir.path().join("store"), 32 << 20).expect("store")),
    };
    let ids: Vec<String> = (0..offices).map(|o| format!("o{o:04}")).collect();
    let settings: Vec<OfficeSettings> = ids
        .iter()
        .map(|id| OfficeSettings {
            id: id.clone(),
            name: id.clone(),
            token_sha256: "0".repeat(64),
            supervisor_email: None,
        })
        .collect();
    // Noon at the offices (2026-12-04 12:00 in Buenos Aires): the day's three hours of tickets
    // fall in one business day whatever the hour the bench runs at.
    let now = Timestamp(1_796_396_400_000);
    let seeded = Instant::now();
    {
        let hub = Hub::open(store.clone(), &settings).expect("hub");
        for id in &ids {
            hub.set_config(id, &config(id), None).expect("configured");
            for chunk in day_chunks(id, now) {
                store.append_chunk(&chunk.doc_id, &chunk.bytes).expect("stored");
            }
        }
        store.flush().expect("flushed");
    }
    let seeded = seeded.elapsed();
    // A central started on that store, as after a restart: nothing read yet.
    let hub = Hub::open(store.clone(), &settings).expect("hub");
    let network = fila_central::network::Network::default();
    let (mut times, mut bytes): (Vec<Duration>, usize) = (Vec::new(), 0);
    for _ in 0..5 {
        let started = Instant::now();
        let rows = network.glance(&hub, now).expect("the rows");
        // As `GET /api/v1/network` answers: the rows as JSON.
        let body = serde_json::to_vec(&rows).expect("the rows as JSON");
        times.push(started.elapsed());
        bytes = body.len();
        assert_eq!(rows.len(), offices);
        assert!(rows.iter().all(|r| r.waiting as usize == WAITING && r.served as usize == TICKETS - WAITING));
    }
    let kind = if db.is_some() { "PostgreSQL" } else { "sled" };
    println!(
        "network view on {kind}, {offices} offices with {TICKETS} tickets today each (seeded in {seeded:.1?}), \
         {threads} cores, answer {} KB of JSON:",
        bytes / 1000,
        threads = std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "  first answer after a start {:.0?}; then {:.0?}, {:.0?}, {:.0?}, {:.0?}",
        times[0], times[1], times[2], times[3], times[4]
    );
}
