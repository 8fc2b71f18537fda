//! Durable ticket issue over HTTP against the real release daemon, as BENCHMARKS.md reports.
//!
//! `cargo bench -p fila-edge --bench edge_http` starts `fila-edge run` (release build) on a
//! temporary data directory and measures, with clients on loopback:
//! - issue throughput and latency with 1 and with 8 concurrent clients (2xx only after flush);
//! - the whole life cycle (issue, call, start, finish) per second across 8 counters;
//! - resident memory after a 5,000-ticket day;
//! - cold start (exec to first healthy answer) with that day on disk.
//!
//! Set `FILA_BENCH_SECONDS` to change the length of each throughput run (default 4; a run also
//! stops at the bench office's daily capacity of 25,974 tickets).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::start;

const KIOSK_TOKEN: &str = "bench-kiosk-token";
const COUNTERS: usize = 8;

fn config(port: u16, data: &Path) -> String {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata = \"{}\"\n# The bench drives one kiosk at a machine's pace.\nkiosk_issues_per_minute = 1000000\nkiosk_issue_burst = 100000\ncache_mb = 16\n\n\
         [office]\nid = \"bench\"\nname = \"Bench office\"\ntime_zone = \"America/Argentina/Buenos_Aires\"\n\n",
        data.display()
    );
    let services: Vec<String> = (b'A'..=b'Z').map(|c| format!("s{}", c as char)).collect();
    for (i, id) in services.iter().enumerate() {
        text += &format!(
            "[[services]]\nid = \"{id}\"\nprefix = \"{}\"\nname = \"Service {id}\"\n\n",
            (b'A' + i as u8) as char
        );
    }
    let list = services.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
    for c in 1..=COUNTERS {
        text += &format!("[[counters]]\nid = \"{c}\"\nname = \"Counter {c}\"\nservices = [{list}]\n\n");
        text += &format!(
            "[[users]]\nusername = \"agent{c}\"\nname = \"Agent {c}\"\nrole = \"agent\"\npassword_hash = \"{}\"\n\n",
            fila_edge::auth::hash_password("bench")
        );
    }
    text += &format!("[[kiosks]]\nid = \"bench\"\ntoken_sha256 = \"{}\"\n", fila_edge::auth::sha256_hex(KIOSK_TOKEN));
    text
}

/// Issue one ticket; panics with the server's answer if it is not a 201.
async fn issue(client: &reqwest::Client, base: &str, service: usize) {
    let service = format!("s{}", (b'A' + (service % 26) as u8) as char);
    let response = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(KIOSK_TOKEN)
        .json(&json!({ "service": service }))
        .send()
        .await
        .expect("request sent");
    let status = response.status();
    if status.as_u16() != 201 {
        panic!("issue answered {status}: {}", response.text().await.unwrap_or_default());
    }
}

/// The bench office's 26 services take 999 tickets each a day.
const DAY_CAPACITY: usize = 26 * 999;

struct Run {
    ok: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Run {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }
    fn percentile(&mut self, p: f64) -> f64 {
        self.latencies.sort();
        let i = ((self.latencies.len() as f64 * p).ceil() as usize).clamp(1, self.latencies.len()) - 1;
        self.latencies[i].as_secs_f64() * 1000.0
    }
}

/// `clients` concurrent clients, each issuing back to back for `seconds` or `limit` tickets.
async fn issue_run(base: &str, clients: usize, seconds: f64, limit: usize) -> Run {
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (base, issued) = (base.to_string(), issued.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            let mut i = c;
            while Instant::now() < deadline && issued.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < limit {
                let t = Instant::now();
                issue(&client, &base, i).await;
                latencies.push(t.elapsed());
                i += clients;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("client"));
    }
    Run { ok: latencies.len(), seconds: started.elapsed().as_secs_f64(), latencies }
}

async fn post(client: &reqwest::Client, url: String, token: &str) -> Value {
    let response = client.post(url).bearer_auth(token).json(&json!({})).send().await.expect("sent");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("json")
}

/// Each of `COUNTERS` agents loops: issue, call next, start, finish.
async fn lifecycle_run(base: &str, seconds: f64) -> Run {
    let client = reqwest::Client::new();
    let agents =
        support::sign_in_agents(&client, base, COUNTERS).await.into_iter().enumerate().map(|(i, t)| (i + 1, t));
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for (c, token) in agents {
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                issue(&client, &base, c).await;
                for action in ["call-next", "start", "finish"] {
                    post(&client, format!("{base}/api/v1/counters/{c}/{action}"), &token).await;
                }
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("agent"));
    }
    Run { ok: latencies.len(), seconds: started.elapsed().as_secs_f64(), latencies }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing special: run short.
    let quick = std::env::args().all(|a| a != "--bench");
    let seconds: f64 =
        std::env::var("FILA_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(if quick { 0.5 } else { 4.0 });
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let file = dir.path().join("edge.toml");
        std::fs::write(&file, config(port, &dir.path().join("data"))).expect("config");

        println!("| measurement | result |\n|---|---|");
        // Throughput and latency, on a fresh office each.
        for clients in [1, 8] {
            let daemon = start(&file, port);
            daemon.wait_ready(&client).await;
            let warm = issue_run(&daemon.base, clients, 0.3, 1_000).await;
            let mut run = issue_run(&daemon.base, clients, seconds, DAY_CAPACITY - warm.ok - 100).await;
            println!(
                "| durable issue, {clients} client(s) | {:.0} tickets/s, p50 {:.2} ms, p99 {:.2} ms ({} tickets) |",
                run.rate(), run.percentile(0.50), run.percentile(0.99), run.ok
            );
            daemon.stop();
            std::fs::remove_dir_all(dir.path().join("data")).expect("clean");
        }

        let daemon = start(&file, port);
        daemon.wait_ready(&client).await;
        let mut run = lifecycle_run(&daemon.base, seconds).await;
        println!(
            "| life cycle issue→call→start→finish, {COUNTERS} counters | {:.0} tickets/s, p50 {:.2} ms, p99 {:.2} ms per ticket |",
            run.rate(), run.percentile(0.50), run.percentile(0.99)
        );
        daemon.stop();
        std::fs::remove_dir_all(dir.path().join("data")).expect("clean");

        // A 5,000-ticket day, then the memory it takes and a cold start with it on disk.
        let day = if quick { 500 } else { 5_000 };
        let daemon = start(&file, port);
        daemon.wait_ready(&client).await;
        let run = issue_run(&daemon.base, 8, 600.0, day).await;
        assert_eq!(run.ok, day);
        let (rss, peak) = daemon.rss_kib();
        println!("| RSS after a {day}-ticket day | {:.1} MB (peak {:.1} MB) |", rss as f64 / 1024.0, peak as f64 / 1024.0);
        // First as a crash leaves it (every chunk as written), then as a clean stop does.
        daemon.kill();
        for (how, crash) in [("after kill -9", true), ("after a clean stop", false)] {
            let mut starts = Vec::new();
            for _ in 0..5 {
                let launched = Instant::now();
                let daemon = start(&file, port);
                daemon.wait_ready(&client).await;
                starts.push(launched.elapsed().as_secs_f64() * 1000.0);
                let (_, health): (u16, Value) = {
                    let r = client.get(format!("{}/healthz", daemon.base)).send().await.expect("health");
                    (r.status().as_u16(), r.json().await.expect("json"))
                };
                assert_eq!(health["tickets_today"], day);
                match crash {
                    true => daemon.kill(),
                    false => daemon.stop(),
                }
            }
            starts.sort_by(f64::total_cmp);
            println!(
                "| cold start {how} with the {day}-ticket day on disk (exec → first 200 from /healthz) | median {:.0} ms, max {:.0} ms (5 starts) |",
                starts[2], starts[4]
            );
        }
    });
}
