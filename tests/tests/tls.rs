//! An office syncing with headquarters over the internet, as deployed: central serves HTTPS with
//! a certificate from the ministry's own CA, and the edge dials `wss://` trusting that CA.

use std::time::{Duration, Instant};

use fila_tls::testing::{https_get_as, TestPki};
use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(15);

#[tokio::test]
async fn an_edge_that_trusts_the_ministry_ca_syncs_a_ticket_to_central_over_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = TestPki::new(dir.path());
    pki.issue();

    let mut central = fila_central::demo::settings("127.0.0.1:0".parse().expect("addr"), dir.path().join("central"));
    central.tls = Some(pki.cert_files());
    let central = fila_central::App::build(central).expect("central starts");
    let central_port = central.port();
    let central_stop = central.stop_handle();
    let central_run = tokio::spawn(central.run_until_stopped());

    let mut edge = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), dir.path().join("edge"));
    edge.central = Some(fila_edge::sync_client::CentralSettings {
        url: format!("wss://localhost:{central_port}/api/v1/sync"),
        token: fila_central::demo::BRANCH_TOKEN.to_string(),
        ca_file: Some(pki.ca_file()),
        citizen_url: None,
        booking_key: None,
        fallback_urls: Vec::new(),
    });
    let edge = fila_edge::App::build(edge).expect("edge starts");
    let edge_base = format!("http://127.0.0.1:{}", edge.port());
    let edge_stop = edge.handle();
    let edge_run = tokio::spawn(edge.run_until_stopped());

    // A new box first recovers the office's records from central (over the same TLS link), then
    // numbers tickets.
    let client = reqwest::Client::new();
    let started = Instant::now();
    let ticket: Value = loop {
        let response = client
            .post(format!("{edge_base}/api/v1/tickets"))
            .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
            .json(&json!({ "service": "general" }))
            .send()
            .await
            .expect("issue");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        if status == reqwest::StatusCode::CREATED {
            break body;
        }
        assert_eq!(body["error"], "recovering", "{status}: {body}");
        assert!(started.elapsed() < PATIENCE, "the edge never finished recovering from central: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let number = ticket["number"].as_str().expect("number").to_string();
    let health: Value =
        client.get(format!("{edge_base}/healthz")).send().await.expect("health").json().await.expect("json");
    let day = health["day"].as_str().expect("day").to_string();

    // Headquarters reads the office's day from central, over HTTPS too.
    let started = Instant::now();
    let seen = loop {
        let path = format!("/api/v1/offices/centro/days/{day}");
        let response = https_get_as(central_port, &pki.ca_file(), &path, Some(fila_central::demo::HQ_TOKEN))
            .await
            .expect("central answers over https");
        if let Some(numbers) = ticket_numbers(&response) {
            if numbers.contains(&number) {
                break numbers;
            }
        }
        assert!(started.elapsed() < PATIENCE, "central never got ticket {number}:\n{response}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(seen, [number], "the one ticket issued");
    let health: Value =
        client.get(format!("{edge_base}/healthz")).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["central"]["connected"], true, "{health}");

    edge_stop.stop(true).await;
    edge_run.await.expect("task").expect("edge stopped cleanly");
    central_stop.stop().await;
    central_run.await.expect("task").expect("central stopped cleanly");
}

/// The ticket numbers ("A-001") of a day as central answers it, if it answered with one.
fn ticket_numbers(response: &str) -> Option<Vec<String>> {
    let body = response.strip_prefix("HTTP/1.1 200 OK\r\n")?.split_once("\r\n\r\n")?.1;
    let day: Value = serde_json::from_str(body).ok()?;
    let numbers = day["tickets"].as_object()?.values().map(|ticket| {
        let number = &ticket["number"];
        format!("{}-{:03}", number["prefix"].as_str().unwrap_or("?"), number["seq"].as_u64().unwrap_or(0))
    });
    Some(numbers.collect())
}
