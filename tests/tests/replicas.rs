//! Two real `fila-central` processes on one PostgreSQL database, and a real box given both
//! addresses: kill -9 the replica it syncs with and it carries on through the other, losing
//! nothing it acknowledged; and a replica that hangs (its process stopped, the kernel still
//! accepting connections for it) does not hold a box that starts, which reaches the other.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{demo_central, demo_edge, edge_binary, free_port, wait_ready, Edge};
use fila_store::testing::TempDatabase;
use serde_json::{json, Value};

/// `fila-central demo` on `port` with its data in PostgreSQL (and its media in `dir`).
fn replica(port: u16, dir: &std::path::Path, db: &TempDatabase) -> Edge {
    demo_central(port, dir)
        .arg("--postgres")
        .arg(db.url())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map(Edge)
        .expect("fila-central starts")
}

async fn get(client: &reqwest::Client, url: &str) -> Option<Value> {
    let response = client.get(url).bearer_auth(fila_central::demo::HQ_TOKEN).send().await.ok()?;
    response.status().is_success().then_some(())?;
    response.json().await.ok()
}

/// Whether the replica at `base` has the office online now.
async fn online_at(client: &reqwest::Client, base: &str) -> bool {
    let Some(offices) = get(client, &format!("{base}/api/v1/offices")).await else { return false };
    offices.as_array().is_some_and(|list| list.iter().any(|o| o["id"] == "centro" && o["online"] == true))
}

/// Whether the replica at `base` holds ticket `number` of the office's `day`.
async fn holds(client: &reqwest::Client, base: &str, day: &str, number: &str) -> bool {
    let Some(day) = get(client, &format!("{base}/api/v1/offices/centro/days/{day}")).await else { return false };
    day["tickets"].as_object().is_some_and(|tickets| {
        tickets.values().any(|t| {
            format!("{}-{:03}", t["number"]["prefix"].as_str().unwrap_or("?"), t["number"]["seq"].as_u64().unwrap_or(0))
                == number
        })
    })
}

async fn until(what: &str, check: impl AsyncFnMut() -> bool) -> Duration {
    within(Duration::from_secs(30), what, check).await
}

async fn within(limit: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let began = Instant::now();
    while !check().await {
        assert!(began.elapsed() < limit, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    began.elapsed()
}

async fn issue(client: &reqwest::Client, edge: &str) -> String {
    let response = client
        .post(format!("{edge}/api/v1/tickets"))
        .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
        .json(&json!({ "service": "pagos" }))
        .send()
        .await
        .expect("issued");
    assert!(response.status().is_success(), "{}", response.status());
    let ticket: Value = response.json().await.expect("json");
    ticket["number"].as_str().expect("number").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_syncs_through_the_other_replica_when_one_is_killed() {
    let Some(db) = TempDatabase::create() else { return };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    let dirs = [(); 3].map(|()| tempfile::tempdir().expect("dir"));
    let (port_a, port_b, port_edge) = (free_port(), free_port(), free_port());
    let (a, b, edge) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
        format!("http://127.0.0.1:{port_edge}"),
    );
    // One after the other: the first one creates the demo office's configuration.
    let mut replica_a = replica(port_a, dirs[0].path(), &db);
    wait_ready(&client, &a).await;
    let mut replica_b = replica(port_b, dirs[1].path(), &db);
    wait_ready(&client, &b).await;

    let mut office = demo_edge(&edge_binary(), port_edge, dirs[2].path(), port_a)
        .arg("--central")
        .arg(format!("ws://127.0.0.1:{port_b}/api/v1/sync"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Edge)
        .expect("fila-edge starts");
    wait_ready(&client, &edge).await;
    until("the office syncs with a, its first address", async || online_at(&client, &a).await).await;
    let day: Value =
        client.get(format!("{edge}/api/v1/office")).send().await.expect("office").json().await.expect("json");
    let day = day["day"].as_str().expect("day").to_string();
    let first = issue(&client, &edge).await;
    until("b reads the ticket a stored", async || holds(&client, &b, &day, &first).await).await;

    replica_a.kill().expect("SIGKILL");
    replica_a.wait().expect("reaped");
    let killed = Instant::now();
    let second = issue(&client, &edge).await;
    until("b holds the ticket issued after a died", async || holds(&client, &b, &day, &second).await).await;
    eprintln!("a ticket issued as a was killed reached b {:?} later", killed.elapsed());
    // b itself holds the office's connection now (not only a's last word that it had it).
    until("the office syncs with b", async || online_at(&client, &b).await).await;
    assert!(holds(&client, &b, &day, &first).await, "nothing acknowledged is lost");

    office.kill().expect("stop");
    replica_b.kill().expect("stop");
    let _ = (office.wait(), replica_b.wait());
}

/// Stops (SIGSTOP) or resumes (SIGCONT) a process: hung, not dead.
fn signal(process: &Edge, signal: &str) {
    let status =
        std::process::Command::new("kill").arg(signal).arg(process.id().to_string()).status().expect("kill runs");
    assert!(status.success(), "kill {signal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_starting_while_its_first_replica_hangs_syncs_through_the_other() {
    let Some(db) = TempDatabase::create() else { return };
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    let dirs = [(); 3].map(|()| tempfile::tempdir().expect("dir"));
    let (port_a, port_b, port_edge) = (free_port(), free_port(), free_port());
    let (a, b, edge) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
        format!("http://127.0.0.1:{port_edge}"),
    );
    let replica_a = replica(port_a, dirs[0].path(), &db);
    wait_ready(&client, &a).await;
    let mut replica_b = replica(port_b, dirs[1].path(), &db);
    wait_ready(&client, &b).await;
    // a's socket still completes TCP handshakes (the kernel does that), but nothing answers
    // the WebSocket upgrade: without a limit on connecting, the box would wait on it forever.
    signal(&replica_a, "-STOP");

    let mut office = demo_edge(&edge_binary(), port_edge, dirs[2].path(), port_a)
        .arg("--central")
        .arg(format!("ws://127.0.0.1:{port_b}/api/v1/sync"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Edge)
        .expect("fila-edge starts");
    // A new box is not ready before it has recovered its records from central, so this is
    // waited for first, with room for the 20 s the box gives a replica to answer.
    let took = within(Duration::from_secs(45), "the office syncs with b", async || online_at(&client, &b).await).await;
    eprintln!("with a hung, the box reached b {took:?} after it started");
    wait_ready(&client, &edge).await;
    let day: Value =
        client.get(format!("{edge}/api/v1/office")).send().await.expect("office").json().await.expect("json");
    let day = day["day"].as_str().expect("day").to_string();
    let ticket = issue(&client, &edge).await;
    until("b holds a ticket issued with a hung", async || holds(&client, &b, &day, &ticket).await).await;

    signal(&replica_a, "-CONT");
    office.kill().expect("stop");
    replica_b.kill().expect("stop");
    let _ = (office.wait(), replica_b.wait());
}
