//! The network roll-up's answer time: central with 1,000 offices, each with 30 days of 100
//! tickets (every tenth called out of order), rolls up the month (`fila_central::rollups::rollup`,
//! what `GET /api/v1/rollups?period=month` answers): the first answer after a start reads every
//! day document; the next ones merge the per-(office, day) figures kept in the cache. Then a
//! restart on the same store: the warm-up loads the tallies kept there, and the first answer
//! after it merges them.
//! Target (issue 13): the dashboard for 1,000 offices answers in under a second.
//!
//! `cargo bench -p fila-central --bench rollups` (without `--bench`, 50 offices; `FILA_OFFICES=200`
//! for 200).

mod seeded;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fila_central::hub::Hub;
use fila_central::kpi_cache::KpiCache;
use fila_central::rollups::{rollup, Order, Period, RankBy, RollupQuery};
use fila_central::settings::OfficeSettings;
use fila_protocol::office::{Actor, Command, Office, Priority};
use fila_protocol::{AgentId, BusinessDay, CounterId, ServiceId, Timestamp, Who};
use fila_store::{SledStore, Store};

use seeded::config;

const TICKETS: usize = 100;
const DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 3_600_000;

/// Office `id`'s 30 days from `first` (8:00 of the first), as its box would have stored them:
/// each day 100 tickets from the morning, all served, every tenth called out of order.
fn days_chunks(id: &str, first: Timestamp) -> Vec<fila_protocol::office::Persist> {
    let mut office =
        Office::restore(config(id).validate().expect("valid"), id.as_bytes().to_vec(), first, &[]).expect("office");
    for day in 0..DAYS {
        work_day(&mut office, Timestamp(first.as_ms() + day * DAY_MS));
    }
    std::iter::from_fn(|| office.poll_persist()).collect()
}

fn work_day(office: &mut Office, start: Timestamp) {
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
    for n in 0..TICKETS {
        let (counter, name) = if n % 2 == 0 { ("1", "ana") } else { ("2", "beto") };
        let at = Timestamp(start.as_ms() + 600_000 + n as i64 * 120_000);
        let by = agent(name);
        // The second in line, ahead of the first.
        let second = office.ranked_waiting(at).get(1).and_then(|r| office.ticket(r.ticket)).map(|t| t.number);
        let call = match second {
            Some(number) if n % 10 == 5 => {
                Command::CallSpecific { counter: CounterId::new(counter), by, number, reason: "cita".into() }
            }
            _ => Command::CallNext { counter: CounterId::new(counter), by },
        };
        office.handle_command(at, call).expect("called");
        let finish = Command::Finish { counter: CounterId::new(counter), by: agent(name), outcome: String::new() };
        office.handle_command(Timestamp(at.as_ms() + 60_000), finish).expect("finished");
    }
}

fn main() {
    let quick = std::env::args().all(|a| a != "--bench");
    // Seeding 1,000 offices' months takes a while (about 20 minutes here): FILA_OFFICES sets fewer.
    let offices = std::env::var("FILA_OFFICES").ok().and_then(|n| n.parse().ok());
    let offices = offices.unwrap_or(if quick { 50 } else { 1_000 });
    let dir = tempfile::tempdir().expect("dir");
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("store"), 32 << 20).expect("store"));
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
    let now = Timestamp(jiff::Timestamp::now().as_millisecond());
    // The 30 days before today in the offices' zone, each opening at 8:00; the range asked for
    // ends today, so it covers them all.
    let zone = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").expect("zone");
    let to = BusinessDay::containing(now, &zone);
    let from = BusinessDay(to.0.checked_sub(jiff::Span::new().days(DAYS)).expect("a date"));
    let opening = from.0.at(8, 0, 0, 0).to_zoned(zone.clone()).expect("8:00 exists").timestamp();
    let first = Timestamp(opening.as_millisecond());
    let seeded = Instant::now();
    {
        let hub = Hub::open(store.clone(), &settings).expect("hub");
        for id in &ids {
            hub.set_config(id, &config(id), None).expect("configured");
            for chunk in days_chunks(id, first) {
                store.append_chunk(&chunk.doc_id, &chunk.bytes).expect("stored");
                // The index of documents held, which the hub lists its offices' days from.
                store.put_meta(&format!("doc/{}", chunk.doc_id), b"").expect("indexed");
            }
        }
        store.flush().expect("flushed");
    }
    let seeded = seeded.elapsed();
    // A central started on that store, as after a restart: nothing read yet.
    let hub = Hub::open(store.clone(), &settings).expect("hub");
    let cache = KpiCache::kept_in(store.clone());
    let query = RollupQuery { tag: None, from, to, period: Period::Month, sort: RankBy::WaitMean, order: Order::Desc };
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let answer = rollup(&hub, &cache, &query, now).expect("the roll-up");
        times.push(started.elapsed());
        assert_eq!(answer.offices, offices);
        let served: u32 = answer.periods.iter().map(|p| p.total.tickets_served).sum();
        let days: u32 = answer.periods.iter().flat_map(|p| p.rows.iter().map(|r| r.days)).sum();
        assert_eq!(
            (served as usize, days as usize),
            (offices * TICKETS * DAYS as usize, offices * DAYS as usize),
            "every ticket of every day"
        );
    }
    // Another start on the same store: the warm-up loads the tallies the answers above kept.
    drop((hub, cache));
    store.flush().expect("flushed");
    let hub = Hub::open(store.clone(), &settings).expect("hub");
    let cache = KpiCache::kept_in(store.clone());
    let started = Instant::now();
    let warmed = cache.warm(&hub, now).expect("warmed");
    let warm_up = started.elapsed();
    assert_eq!((warmed.loaded, warmed.computed), (offices * DAYS as usize, 0), "every day loaded as kept");
    let started = Instant::now();
    let answer = rollup(&hub, &cache, &query, now).expect("the roll-up");
    let after_restart = started.elapsed();
    assert_eq!(answer.offices, offices);
    println!("month roll-up, {offices} offices × {DAYS} days of {TICKETS} tickets (seeded in {seeded:.1?}):");
    println!(
        "  first answer after a start {:.0?}; then {:.0?}, {:.0?}, {:.0?}, {:.0?}",
        times[0], times[1], times[2], times[3], times[4]
    );
    println!(
        "  after a restart: warm-up (kept tallies loaded) {warm_up:.0?}, then the first answer {after_restart:.0?}"
    );
    println!(
        "| month roll-up, {offices} offices × {DAYS} days | {:.0?} | {:.0?} | {warm_up:.0?} | {after_restart:.0?} |",
        times[0], times[4]
    );
}
