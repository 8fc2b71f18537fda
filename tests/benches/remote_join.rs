//! Remote join to number on the citizen's page, with central and the office's box on loopback:
//! citizens join at a steady 100 a second and each follows their page until the box's number
//! shows on it. Target: p99 at most 2 s.
//! `cargo bench -p fila-tests --bench remote_join` (`-- --seconds N` to run longer; without
//! `--bench`, a two-second smoke run)

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const RATE_PER_SECOND: u64 = 100;
/// How often a waiting citizen's page asks (the real page asks every 2 s; finer here to measure).
const POLL: Duration = Duration::from_millis(100);

fn office() -> fila_protocol::RawOfficeConfig {
    let mut raw = fila_central::demo::office_configs().remove(0);
    // Open all day, every day: the figure must not depend on when it is taken.
    let span = fila_protocol::calendar::TimeSpan::try_from("00:00-24:00".to_string()).expect("span");
    let hours = &mut raw.calendar.hours;
    for day in
        [&mut hours.mon, &mut hours.tue, &mut hours.wed, &mut hours.thu, &mut hours.fri, &mut hours.sat, &mut hours.sun]
    {
        *day = vec![span];
    }
    raw.calendar.closures.clear();
    raw
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = !args.iter().any(|a| a == "--bench");
    let seconds: u64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 2 } else { 9 });
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let mut settings =
        fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), central_dir.path().into());
    settings.seed_configs = vec![office()];
    // One machine sends every join: the per-address limit is for citizens, not for this bench.
    settings.remote_joins.per_address_per_hour = u32::MAX;
    let central = fila_central::App::build(settings).expect("central");
    let central_handle = central.handle();
    let central_task = tokio::spawn(central.run_until_stopped());
    let mut edge_settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().into());
    edge_settings.office = office().validate().expect("valid");
    edge_settings.central = Some(fila_edge::sync_client::CentralSettings {
        url: format!("ws://127.0.0.1:{port}/api/v1/sync"),
        token: fila_central::demo::BRANCH_TOKEN.to_string(),
        ca_file: None,
        citizen_url: None,
        booking_key: None,
        fallback_urls: Vec::new(),
    });
    let edge = fila_edge::App::build(edge_settings).expect("edge");
    let edge_handle = edge.handle();
    let edge_task = tokio::spawn(edge.run_until_stopped());
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().pool_max_idle_per_host(256).build().expect("client");
    // Until the box is connected, joining is closed.
    let started = Instant::now();
    loop {
        let offer: Value = client
            .get(format!("{base}/api/v1/public/offices/centro/joins"))
            .send()
            .await
            .expect("offer")
            .json()
            .await
            .expect("json");
        if offer["online"] == true {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the box never connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let joins = seconds * RATE_PER_SECOND;
    let latencies = Arc::new(std::sync::Mutex::new(Vec::with_capacity(joins as usize)));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let numbers = Arc::new(std::sync::Mutex::new(Vec::new()));
    let start = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for n in 0..joins {
        let (client, base, latencies, errors) = (client.clone(), base.clone(), latencies.clone(), errors.clone());
        let numbers = numbers.clone();
        let at = start + Duration::from_micros(n * 1_000_000 / RATE_PER_SECOND);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let began = Instant::now();
            let began_ms =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_millis() as i64;
            let service = if n % 2 == 0 { "general" } else { "pagos" };
            let body = json!({ "office": "centro", "service": service, "travel_minutes": 15 });
            let response = client.post(format!("{base}/api/v1/public/joins")).json(&body).send().await.expect("join");
            assert_eq!(response.status(), reqwest::StatusCode::CREATED);
            let joined: Value = response.json().await.expect("json");
            let written = began.elapsed();
            let token = joined["token"].as_str().expect("token").to_string();
            loop {
                // A pooled connection the server has just closed fails; the page asks again.
                let Ok(response) = client.get(format!("{base}/api/v1/public/joins/{token}")).send().await else {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    tokio::time::sleep(POLL).await;
                    continue;
                };
                let page: Value = response.json().await.expect("json");
                if page["state"] == "ticket" {
                    numbers
                        .lock()
                        .expect("numbers")
                        .push((page["number"].as_str().unwrap_or("").to_string(), began_ms));
                    break;
                }
                assert_eq!(page["state"], "pending", "{page}");
                assert!(began.elapsed() < Duration::from_secs(60), "no number after a minute");
                tokio::time::sleep(POLL).await;
            }
            latencies.lock().expect("latencies").push((began.elapsed(), written));
        }));
    }
    for task in tasks {
        task.await.expect("join task");
    }
    let offered = start.elapsed();
    let measured = latencies.lock().expect("latencies").clone();
    let mut sorted: Vec<Duration> = measured.iter().map(|(numbered, _)| *numbered).collect();
    sorted.sort();
    let mut writes: Vec<Duration> = measured.iter().map(|(_, written)| *written).collect();
    writes.sort();
    println!(
        "remote join -> number on the citizen's page: {joins} joins at {RATE_PER_SECOND}/s over {offered:.1?} (poll every {POLL:?})"
    );
    println!(
        "  p50 {:?}  p90 {:?}  p99 {:?}  max {:?}  (page requests that failed and were asked again: {})",
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.9),
        percentile(&sorted, 0.99),
        sorted.last().expect("latencies"),
        errors.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!(
        "  of which the join itself (checked, written, durable at central): p50 {:?}  p99 {:?}",
        percentile(&writes, 0.5),
        percentile(&writes, 0.99)
    );
    // Where the time goes: from the join to the box's issue (edge clock, same machine).
    let office: Value = client
        .get(format!("{base}/api/v1/offices/centro/days/{}", chrono_day(&client, &base).await))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .send()
        .await
        .expect("day")
        .json()
        .await
        .expect("json");
    let issued: std::collections::HashMap<String, i64> = office["tickets"]
        .as_object()
        .map(|t| {
            t.values()
                .map(|t| {
                    (
                        format!(
                            "{}-{:03}",
                            t["number"]["prefix"].as_str().unwrap_or(""),
                            t["number"]["seq"].as_u64().unwrap_or(0)
                        ),
                        t["issued_at"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut to_issue: Vec<i64> =
        numbers.lock().expect("numbers").iter().filter_map(|(n, began)| issued.get(n).map(|at| at - began)).collect();
    to_issue.sort();
    if !to_issue.is_empty() {
        println!(
            "  join -> issued at the box: p50 {} ms  p99 {} ms",
            to_issue[to_issue.len() / 2],
            to_issue[(to_issue.len() - 1) * 99 / 100]
        );
    }
    edge_handle.stop(true).await;
    let _ = edge_task.await;
    central_handle.stop(true).await;
    let _ = central_task.await;
}

async fn chrono_day(client: &reqwest::Client, base: &str) -> String {
    let offices: Value = client
        .get(format!("{base}/api/v1/offices"))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .send()
        .await
        .expect("offices")
        .json()
        .await
        .expect("json");
    let docs = offices[0]["docs"].as_array().cloned().unwrap_or_default();
    docs.iter()
        .filter_map(|d| d.as_str())
        .filter(|d| d.contains("/day/"))
        .max()
        .map(|d| d.rsplit('/').next().unwrap_or("").to_string())
        .unwrap_or_default()
}
