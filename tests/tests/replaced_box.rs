//! A replaced box, a new SD card, a wiped disk: the office's edge starts again with an empty
//! data directory and the same configuration and branch token. It must answer at once, pull the
//! day from central, and continue the day's numbering: A-005 after A-004, never A-001 again.

mod common;

use std::time::{Duration, Instant};

use common::{edge_binary, free_port, start_edge, wait_ready};
use serde_json::{json, Value};

async fn issue(client: &reqwest::Client, base: &str) -> reqwest::Response {
    client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
        .json(&json!({ "service": "general" }))
        .send()
        .await
        .expect("the edge answers")
}

/// Issue a ticket once the box has heard from central: until then a box with no records says
/// it is recovering (503), and nothing else.
async fn issue_when_recovered(client: &reqwest::Client, base: &str) -> Value {
    let began = Instant::now();
    loop {
        let response = issue(client, base).await;
        if response.status().is_success() {
            return response.json().await.expect("json");
        }
        assert_eq!(response.status().as_u16(), 503);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "recovering", "{body}");
        assert!(began.elapsed() < Duration::from_secs(20), "the box never heard from central");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn held_by_central(client: &reqwest::Client, central: &str, day: &str) -> usize {
    let response = client
        .get(format!("{central}/api/v1/offices/centro/days/{day}"))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .send()
        .await
        .expect("central answers");
    let day: Value = response.json().await.unwrap_or(Value::Null);
    day["tickets"].as_object().map_or(0, |tickets| tickets.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_started_on_an_empty_disk_recovers_the_day_from_central_and_continues_numbering() {
    let binary = edge_binary();
    let (central_dir, old_disk, new_disk) =
        (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let central_port = free_port();
    let hq = common::Central::start(central_port, central_dir.path());
    let central = hq.base.clone();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");

    // The office works a while and syncs.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut old_box = start_edge(&binary, port, old_disk.path(), central_port);
    wait_ready(&client, &base).await;
    let mut numbers = Vec::new();
    for _ in 0..4 {
        let ticket = issue_when_recovered(&client, &base).await;
        numbers.push(ticket["number"].as_str().expect("number").to_string());
    }
    assert_eq!(numbers, ["A-001", "A-002", "A-003", "A-004"]);
    let office: Value =
        client.get(format!("{base}/api/v1/office")).send().await.expect("office").json().await.expect("json");
    let day = office["day"].as_str().expect("day").to_string();
    let began = Instant::now();
    while held_by_central(&client, &central, &day).await < 4 {
        assert!(began.elapsed() < Duration::from_secs(20), "central never held the day");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    old_box.kill().expect("the old box dies");
    old_box.wait().expect("reaped");

    // The new box: same configuration and token, nothing on disk.
    let _new_box = start_edge(&binary, port, new_disk.path(), central_port);
    let ready = wait_ready(&client, &base).await;
    assert!(ready < Duration::from_secs(2), "/healthz answered after {ready:?}");

    let ticket = issue_when_recovered(&client, &base).await;
    assert_eq!(ticket["number"], "A-005", "numbering continues the day: {ticket}");

    let health: Value = client.get(format!("{base}/healthz")).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["tickets_today"], 5, "{health}");
    let began = Instant::now();
    while held_by_central(&client, &central, &day).await < 5 {
        assert!(began.elapsed() < Duration::from_secs(20), "central never got A-005");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    hq.stop().await;
}
