//! kill -9 the edge (a real child process) while it syncs live with central; after a restart
//! both converge and no acknowledged ticket is lost anywhere.

mod common;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{edge_binary, free_port, start_edge, wait_ready};
use serde_json::{json, Value};

async fn central_numbers(client: &reqwest::Client, central: &str, day: &str) -> BTreeSet<String> {
    let Ok(response) = client
        .get(format!("{central}/api/v1/offices/centro/days/{day}"))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .send()
        .await
    else {
        return BTreeSet::new();
    };
    let day: Value = response.json().await.unwrap_or(Value::Null);
    day["tickets"]
        .as_object()
        .map(|tickets| {
            tickets
                .values()
                .map(|t| {
                    format!(
                        "{}-{:03}",
                        t["number"]["prefix"].as_str().unwrap_or("?"),
                        t["number"]["seq"].as_u64().unwrap_or(0)
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_killed_mid_sync_converges_with_central_after_restart_losing_nothing() {
    let binary = edge_binary();
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let central_port = free_port();
    let hq = common::Central::start(central_port, central_dir.path());
    let central = hq.base.clone();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    let acknowledged: Arc<Mutex<BTreeSet<String>>> = Arc::default();

    for round in 0..2 {
        let mut edge = start_edge(&binary, port, edge_dir.path(), central_port);
        wait_ready(&client, &base).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for _ in 0..3 {
            let (client, base, acknowledged, stop) = (client.clone(), base.clone(), acknowledged.clone(), stop.clone());
            clients.push(tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let sent = client
                        .post(format!("{base}/api/v1/tickets"))
                        .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
                        .json(&json!({ "service": "pagos" }))
                        .send()
                        .await;
                    let Ok(response) = sent else { break };
                    if response.status().is_success() {
                        let Ok(ticket) = response.json::<Value>().await else { break };
                        acknowledged
                            .lock()
                            .expect("lock")
                            .insert(ticket["number"].as_str().expect("number").to_string());
                    }
                }
            }));
        }
        // Tickets flow and sync live; pull the plug in the middle of it.
        let target = 60 * (round + 1);
        let began = Instant::now();
        while acknowledged.lock().expect("lock").len() < target && began.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        edge.kill().expect("SIGKILL");
        edge.wait().expect("reaped");
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for c in clients {
            c.await.expect("client");
        }
    }

    let mut edge = start_edge(&binary, port, edge_dir.path(), central_port);
    wait_ready(&client, &base).await;
    let office: Value =
        client.get(format!("{base}/api/v1/office")).send().await.expect("office").json().await.expect("json");
    let day = office["day"].as_str().expect("day").to_string();
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() >= 60, "tickets got through: {}", acknowledged.len());
    // The edge may also hold tickets that were stored but never acknowledged (the kill came
    // between the flush and the answer): central must end up with exactly the edge's day.
    let health: Value = client.get(format!("{base}/healthz")).send().await.expect("health").json().await.expect("json");
    let at_edge = health["tickets_today"].as_u64().expect("tickets today") as usize;
    let started = Instant::now();
    loop {
        let held = central_numbers(&client, &central, &day).await;
        if acknowledged.is_subset(&held) && held.len() == at_edge {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "central lacks {:?} and holds {} of the edge's {at_edge} tickets",
            acknowledged.difference(&held).collect::<Vec<_>>(),
            held.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    edge.kill().expect("stop");
    edge.wait().expect("reaped");
    hq.stop().await;
}
