//! How long a schedule change made at headquarters takes to reach a connected screen: central
//! and the office's box on loopback; headquarters puts an urgent message into the office's
//! configuration, and a screen asking the box every 50 ms sees it. The display page itself asks
//! every 2 s, which adds up to 2 s to the figure. Target: at most 5 s in all.
//! `cargo bench -p fila-tests --bench signage_reach` (without `--bench`, 3 rounds).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds = if std::env::args().any(|a| a == "--bench") { 30 } else { 3 };
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let mut settings =
        fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), central_dir.path().into());
    settings.seed_configs = fila_central::demo::office_configs();
    let central = fila_central::App::build(settings).expect("central");
    let central_handle = central.handle();
    let central_task = tokio::spawn(central.run_until_stopped());
    let mut edge_settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().into());
    edge_settings.central = Some(fila_edge::sync_client::CentralSettings {
        url: format!("ws://127.0.0.1:{port}/api/v1/sync"),
        token: fila_central::demo::BRANCH_TOKEN.to_string(),
        ca_file: None,
        citizen_url: None,
        booking_key: None,
        fallback_urls: Vec::new(),
    });
    let edge = fila_edge::App::build(edge_settings).expect("edge");
    let edge_base = format!("http://127.0.0.1:{}", edge.port());
    let edge_handle = edge.handle();
    let edge_task = tokio::spawn(edge.run_until_stopped());
    let client = reqwest::Client::new();
    let central_base = format!("http://127.0.0.1:{port}");

    let mut took = Vec::new();
    for round in 0..rounds {
        let now = jiff::Timestamp::now().as_millisecond();
        let mut config = serde_json::to_value(fila_central::demo::office_configs().remove(0)).expect("json");
        let id = format!("aviso-{round}");
        config["signage"] = json!({ "urgent": [{
            "id": id, "texts": [{ "lang": "es", "text": format!("Aviso {round}") }],
            "from_ms": now - 1000, "until_ms": now + 3_600_000, "target": "all", "by": "hq:bench",
        }]});
        let sent = Instant::now();
        let put = client
            .put(format!("{central_base}/api/v1/offices/centro/config"))
            .bearer_auth(fila_central::demo::HQ_ADMIN_TOKEN)
            .json(&config)
            .send()
            .await
            .expect("configured");
        assert!(put.status().is_success(), "{:?}", put.text().await);
        loop {
            let shown: Value = client
                .get(format!("{edge_base}/api/v1/signage/now"))
                .send()
                .await
                .expect("now")
                .json()
                .await
                .unwrap_or(Value::Null);
            if shown["urgent"]["id"] == json!(id) {
                break;
            }
            assert!(sent.elapsed() < Duration::from_secs(60), "the message never reached the box");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        took.push(sent.elapsed());
    }
    took.sort();
    let p50 = took[took.len() / 2];
    let max = took[took.len() - 1];
    println!("headquarters' change -> the box's screen answer: {rounds} rounds, p50 {p50:.2?}, max {max:.2?}");
    println!("  (the display page asks every 2 s: on screen within max + 2 s = {:.2?})", max + Duration::from_secs(2));
    edge_handle.stop(true).await;
    central_handle.stop(true).await;
    let _ = (edge_task.await, central_task.await);
}
