//! Appointments at central under the loads issue 10 names, against the real release
//! `fila-central` process:
//! - 200 citizens at once booking (the hold request, then the code's confirmation, the code read
//!   back from a real SMTP server, aiosmtpd), and 200 at once asking for free slots: p50/p99;
//! - central holding 5,000 offices × 60 days of bookings: its RSS, a free-slot query's time, and
//!   the CPU its minute passes (settling check-ins, offering freed places) take when idle.
//!
//! `cargo bench -p fila-central --bench bookings` (FILA_BENCH_OFFICES, default 5000;
//! FILA_BENCH_DAYS, default 60; FILA_BENCH_IDLE_SECONDS, default 130). Without `--bench` it runs a small quick version.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fila_central::hub::Hub;
use fila_central::settings::OfficeSettings;
use fila_notify::testing::{Mode, SmtpServer};
use fila_protocol::booking::{Booking, BookingState};
use fila_protocol::calendar::LocalTime;
use fila_protocol::{BusinessDay, RawOfficeConfig, ServiceId, Timestamp};
use fila_store::{SledStore, Store, StoreError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::{free_port, Central};

const ZONE: &str = "America/Argentina/Buenos_Aires";
const ADMIN: &str = "bench-admin-token";
/// Bookings per office and day in the large store: a small office's appointments.
const BOOKINGS_PER_DAY: usize = 8;

fn token(office: &str) -> String {
    format!("bench-branch-token-{office}")
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// An office open every day 08:00-20:00, booking "documentos" in 10-minute slots of 50 places
/// up to 60 days ahead: 72 slots a day.
fn office_config(id: &str) -> RawOfficeConfig {
    let days: String = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| format!("{d} = [\"08:00-20:00\"]\n"))
        .collect();
    toml::from_str(&format!(
        "[office]\nid = \"{id}\"\nname = \"Office {id}\"\ntime_zone = \"{ZONE}\"\n[calendar.hours]\n{days}\
         [[services]]\nid = \"documentos\"\nprefix = \"C\"\nname = \"Documentos\"\nexpected_service_minutes = 10\n\
         [services.booking]\nslot_minutes = 10\ncapacity = 50\nhorizon_days = 61\n\
         [[services]]\nid = \"general\"\nprefix = \"A\"\nname = \"General\"\n\
         [[counters]]\nid = \"1\"\nname = \"Puesto 1\"\nservices = [\"documentos\", \"general\"]\n"
    ))
    .expect("bench office")
}

fn offices(ids: &[String]) -> Vec<OfficeSettings> {
    ids.iter()
        .map(|id| OfficeSettings {
            id: id.clone(),
            name: format!("Office {id}"),
            token_sha256: sha256_hex(&token(id)),
            supervisor_email: None,
        })
        .collect()
}

fn write_config(dir: &Path, port: u16, ids: &[String], extra: &str) -> PathBuf {
    let mut text =
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\ndata = \"{}\"\ncache_mb = 64\n", dir.join("data").display());
    for office in offices(ids) {
        text += &format!(
            "[[offices]]\nid = \"{}\"\nname = \"{}\"\ntoken_sha256 = \"{}\"\n",
            office.id, office.name, office.token_sha256
        );
    }
    text += &format!(
        "[[analysts]]\nname = \"Bench admin\"\ntoken_sha256 = \"{}\"\ncan_configure = true\n",
        sha256_hex(ADMIN)
    );
    text += "[bookings]\nper_address_per_hour = 100000000\nper_contact = 1000\nreminder_hours = []\n";
    text += extra;
    std::fs::create_dir_all(dir).expect("bench directory");
    let path = dir.join("central.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// Seeding writes hundreds of thousands of documents as central would, through its own `Hub`;
/// one flush at the end instead of one per document keeps that to minutes.
struct FlushAtEnd(SledStore);

impl Store for FlushAtEnd {
    fn append_chunk(&self, doc_id: &str, bytes: &[u8]) -> Result<u64, StoreError> {
        self.0.append_chunk(doc_id, bytes)
    }
    fn replace_chunks(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError> {
        self.0.replace_chunks(doc_id, snapshot)
    }
    fn chunks_after(&self, doc_id: &str, after: Option<u64>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.0.chunks_after(doc_id, after)
    }
    fn chunk_count(&self, doc_id: &str) -> Result<usize, StoreError> {
        self.0.chunk_count(doc_id)
    }
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get_meta(key)
    }
    fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.0.put_meta(key, value)
    }
    fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete_meta(key)
    }
    fn scan_meta(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.0.scan_meta(prefix)
    }
}

/// Every office configured, and `days` days of bookings from `first` for each.
fn seed(dir: &Path, ids: &[String], first: BusinessDay, days: usize) {
    let sled = SledStore::open(&dir.join("data").join("store"), 64 << 20).expect("store");
    let store = Arc::new(FlushAtEnd(sled));
    let hub = Hub::open(store.clone(), &offices(ids)).expect("hub");
    for id in ids {
        hub.set_config(id, &office_config(id), None).expect("configured");
        for d in 0..days {
            let day = first.plus_days(d as i64);
            hub.write_appointments(id, day, |writer, _| {
                for n in 0..BOOKINGS_PER_DAY {
                    let booking = Booking {
                        id: format!("B{n:02}{:013}", d),
                        service: ServiceId("documentos".into()),
                        start: LocalTime::from_minutes(8 * 60 + 10 * (n as u32 * 7 % 72)).expect("time"),
                        minutes: 10,
                        state: BookingState::Booked,
                        code_hash: "ab".repeat(32),
                        booked_at: Timestamp(0),
                        updated_at: Timestamp(0),
                    };
                    writer.put(&booking)?;
                }
                Ok(())
            })
            .expect("booked");
        }
    }
    store.0.flush().expect("flushed");
}

fn today() -> BusinessDay {
    let now = jiff::Timestamp::now().as_millisecond();
    BusinessDay::containing(Timestamp(now), &jiff::tz::TimeZone::get(ZONE).expect("zone"))
}

/// p50 and p99 in milliseconds.
fn percentiles(mut latencies: Vec<Duration>) -> (f64, f64) {
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1).min(latencies.len() - 1);
        latencies[index].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}

fn slot_of(n: usize) -> String {
    let minutes = 8 * 60 + 10 * (n % 72);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `clients` citizens, `rounds` times: each asks for a slot of tomorrow (timed), the codes are
/// read from the SMTP server, then each confirms (timed). With `spread`, a round's citizens
/// arrive evenly over it rather than all in the same instant; a latency runs from the moment a
/// request was due, so a queue in front of central counts.
async fn booking_race(dir: &Path, smtp: &SmtpServer, clients: usize, rounds: usize, spread: Duration) {
    // Contacts differ between runs on one SMTP server: each run's codes are told apart.
    let tag = if spread.is_zero() { "b" } else { "s" };
    let port = free_port();
    let ids = vec!["centro".to_string()];
    let smtp_section = format!("[notices.smtp]\n{}", smtp.settings_toml("none", ""));
    let config = write_config(dir, port, &ids, &smtp_section);
    let tomorrow = today().plus_days(1);
    seed(dir, &ids, tomorrow, 0);
    let central = Central::start(&config, port).await;
    let http = reqwest::Client::builder().pool_max_idle_per_host(clients).build().expect("client");
    let base = format!("http://127.0.0.1:{port}");
    let (mut requests, mut confirms) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let round_start = tokio::time::Instant::now() + Duration::from_millis(10);
        let due = |n: usize| round_start + spread.mul_f64(n as f64 / clients as f64);
        let asked: Vec<_> = (0..clients)
            .map(|n| {
                let (http, url) = (http.clone(), format!("{base}/api/v1/public/bookings"));
                let due = due(n);
                let body = json!({
                    "office": "centro", "service": "documentos", "day": tomorrow.to_string(), "start": slot_of(n),
                    "document_type": "dni", "document_number": format!("{}", 20_000_000 + round * 10_000 + n),
                    "contact": format!("{tag}{round}-{n}@example.org"), "lang": "es",
                });
                tokio::spawn(async move {
                    tokio::time::sleep_until(due).await;
                    let response = http.post(url).json(&body).send().await.expect("answered");
                    let elapsed = due.elapsed();
                    assert_eq!(response.status().as_u16(), 202, "{:?}", response.text().await);
                    let held: Value = response.json().await.expect("json");
                    (n, held["hold"].as_str().expect("hold").to_string(), elapsed)
                })
            })
            .collect();
        let mut holds = Vec::new();
        for task in asked {
            let (n, hold, elapsed) = task.await.expect("request");
            requests.push(elapsed);
            holds.push((n, hold));
        }
        // The round's codes, among confirmations of earlier rounds still arriving.
        let codes: HashMap<String, String> = loop {
            let codes: HashMap<String, String> = smtp
                .received()
                .iter()
                .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("código")))
                .filter_map(|m| {
                    let address = m["rcpt_tos"][0].as_str()?.to_string();
                    let text = m["text"].as_str()?;
                    let code = text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6)?;
                    address.starts_with(&format!("{tag}{round}-")).then(|| (address, code.to_string()))
                })
                .collect();
            if codes.len() == clients {
                break codes;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let code_for = |address: &str| codes.get(address).cloned().expect("the code's mail");
        let round_start = tokio::time::Instant::now() + Duration::from_millis(10);
        let due = |n: usize| round_start + spread.mul_f64(n as f64 / clients as f64);
        let confirming: Vec<_> = holds
            .into_iter()
            .map(|(n, hold)| {
                let code = code_for(&format!("{tag}{round}-{n}@example.org"));
                let (http, url) = (http.clone(), format!("{base}/api/v1/public/bookings/holds/{hold}/confirm"));
                let due = due(n);
                tokio::spawn(async move {
                    tokio::time::sleep_until(due).await;
                    let response = http.post(url).json(&json!({ "code": code })).send().await.expect("answered");
                    let elapsed = due.elapsed();
                    assert_eq!(response.status().as_u16(), 201, "{:?}", response.text().await);
                    elapsed
                })
            })
            .collect();
        for task in confirming {
            confirms.push(task.await.expect("confirm"));
        }
    }
    let arrival = match spread.is_zero() {
        true => "all in the same instant".to_string(),
        false => format!("arriving over {} ms", spread.as_millis()),
    };
    let (p50, p99) = percentiles(requests);
    println!(
        "| booking: hold request, {clients} clients {arrival}, × {rounds} | p50 {p50:.1} ms, **p99 {p99:.1} ms** |"
    );
    let (p50, p99) = percentiles(confirms);
    println!(
        "| booking: confirmation with the code, {clients} clients {arrival}, × {rounds} | p50 {p50:.1} ms, **p99 {p99:.1} ms** |"
    );
    if spread.is_zero() {
        let seconds = if clients < 200 { 1 } else { 10 };
        free_slot_queries(&http, &base, tomorrow, clients, seconds, None).await;
        free_slot_queries(&http, &base, tomorrow, clients, seconds, Some(Duration::from_millis(100))).await;
    }
    println!("| central RSS after the bookings and queries | {:.1} MiB |", central.memory_mib("VmRSS:"));
}

/// `clients` asking for a week's free slots for `seconds`: back to back (`every` none: central's
/// saturation), or each once `every` so long, timed from when each query was due.
async fn free_slot_queries(
    http: &reqwest::Client,
    base: &str,
    first: BusinessDay,
    clients: usize,
    seconds: u64,
    every: Option<Duration>,
) {
    let start = tokio::time::Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let asking: Vec<_> = (0..clients)
        .map(|n| {
            let (http, base) = (http.clone(), base.to_string());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut i = n;
                // Each client's ticks are offset so that the offered load is even.
                let mut due = start + every.map_or(Duration::ZERO, |e| e.mul_f64(n as f64 / clients as f64));
                while due < deadline {
                    tokio::time::sleep_until(due).await;
                    let day = first.plus_days((i % 7) as i64);
                    let url = format!("{base}/api/v1/public/offices/centro/slots?service=documentos&day={day}");
                    let response = http.get(url).send().await.expect("answered");
                    assert!(response.status().is_success());
                    let _ = response.bytes().await;
                    latencies.push(due.elapsed());
                    i += 1;
                    due = match every {
                        Some(every) => due + every,
                        None => tokio::time::Instant::now(),
                    };
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in asking {
        latencies.extend(task.await.expect("slots"));
    }
    let queries = latencies.len();
    let (p50, p99) = percentiles(latencies);
    let how = match every {
        None => "back to back".to_string(),
        Some(every) => format!("each one every {} ms", every.as_millis()),
    };
    println!(
        "| free-slot query, {clients} clients {how} for {seconds} s ({queries} queries, {:.0}/s) | p50 {p50:.1} ms, **p99 {p99:.1} ms** |",
        queries as f64 / seconds as f64
    );
}

/// Central holding `offices` offices × `days` days of bookings: RSS, a free-slot query's time,
/// and the CPU of its minute passes while idle.
async fn large_store(dir: &Path, offices: usize, days: usize, idle_seconds: u64) {
    let port = free_port();
    let ids: Vec<String> = (0..offices).map(|o| format!("o{o}")).collect();
    let config = write_config(dir, port, &ids, "");
    // From tomorrow: today's slots already past are not offered.
    let first = today().plus_days(1);
    let started = Instant::now();
    seed(dir, &ids, first, days);
    println!(
        "| seeding {offices} offices × {days} days × {BOOKINGS_PER_DAY} bookings through the hub | {:.0} s |",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let central = Central::start(&config, port).await;
    println!("| start with that store (exec → listening) | {:.2} s |", started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("| RSS after start | {:.1} MiB |", central.memory_mib("VmRSS:"));
    let http = reqwest::Client::new();
    let mut latencies = Vec::new();
    let queries = 1_000.min(offices * days);
    for q in 0..queries {
        // Spread over offices and days: mostly documents the cache has not seen.
        let office = (q * 7919) % offices;
        let day = first.plus_days(((q * 31) % days.min(60)) as i64);
        let url = format!("http://127.0.0.1:{port}/api/v1/public/offices/o{office}/slots?service=documentos&day={day}");
        let started = Instant::now();
        let response = http.get(url).send().await.expect("answered");
        assert!(response.status().is_success(), "{:?}", response.text().await);
        let slots: Value = response.json().await.expect("json");
        latencies.push(started.elapsed());
        assert_eq!(slots["slots"].as_array().map(Vec::len), Some(72));
    }
    let (p50, p99) = percentiles(latencies);
    println!("| free-slot query, one at a time, {queries} random office-days | p50 {p50:.1} ms, **p99 {p99:.1} ms** |");
    println!(
        "| RSS after the queries (peak) | {:.1} MiB ({:.1} MiB) |",
        central.memory_mib("VmRSS:"),
        central.memory_mib("VmHWM:")
    );
    let ticks = central.cpu_ticks();
    tokio::time::sleep(Duration::from_secs(idle_seconds)).await;
    let ticks_per_second = 100.0;
    let share = (central.cpu_ticks() - ticks) as f64 / ticks_per_second / idle_seconds as f64 * 100.0;
    println!("| CPU while idle over {idle_seconds} s (the minute's settling and waiting-list passes) | {share:.1} % of one core |");
}

fn main() {
    let quick = std::env::args().all(|a| a != "--bench");
    let number = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("dir");
        println!("| measurement | result |\n|---|---|");
        match SmtpServer::start(Mode::Plain, false, "") {
            Some(smtp) => {
                let (clients, rounds) = if quick { (20, 1) } else { (200, 5) };
                booking_race(&dir.path().join("burst"), &smtp, clients, rounds, Duration::ZERO).await;
                let spread = Duration::from_secs(1);
                booking_race(&dir.path().join("spread"), &smtp, clients, rounds, spread).await;
            }
            None => println!("| booking race | skipped: no aiosmtpd (apt-get install python3-aiosmtpd) |"),
        }
        let (offices, days, idle) =
            if quick { (20, 3, 2) } else { (number("FILA_BENCH_OFFICES", 5_000), number("FILA_BENCH_DAYS", 60), 130) };
        let idle = number("FILA_BENCH_IDLE_SECONDS", idle as usize) as u64;
        large_store(&dir.path().join("large"), offices, days, idle).await;
    });
}
