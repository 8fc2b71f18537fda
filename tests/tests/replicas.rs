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

/// Two replicas of the demo central on one fresh database, and where a box would listen.
struct TwoReplicas {
    client: reqwest::Client,
    a: String,
    b: String,
    edge: String,
    replica_a: Edge,
    _replica_b: Edge,
    ports: [u16; 3],
    dirs: [tempfile::TempDir; 3],
    _db: TempDatabase,
}

impl TwoReplicas {
    async fn start() -> Option<TwoReplicas> {
        let db = TempDatabase::create()?;
        let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
        let dirs = [(); 3].map(|()| tempfile::tempdir().expect("dir"));
        let ports = [free_port(), free_port(), free_port()];
        let [a, b, edge] = ports.map(|port| format!("http://127.0.0.1:{port}"));
        // One after the other: the first one creates the demo office's configuration.
        let replica_a = replica(ports[0], dirs[0].path(), &db);
        wait_ready(&client, &a).await;
        let replica_b = replica(ports[1], dirs[1].path(), &db);
        wait_ready(&client, &b).await;
        Some(TwoReplicas { client, a, b, edge, replica_a, _replica_b: replica_b, ports, dirs, _db: db })
    }

    /// The demo box, given a's address first and b's as the fallback.
    fn start_box(&self) -> Edge {
        demo_edge(&edge_binary(), self.ports[2], self.dirs[2].path(), self.ports[0])
            .arg("--central")
            .arg(format!("ws://127.0.0.1:{}/api/v1/sync", self.ports[1]))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map(Edge)
            .expect("fila-edge starts")
    }

    /// The office's business day now, as the box says.
    async fn day(&self) -> String {
        let office: Value = self
            .client
            .get(format!("{}/api/v1/office", self.edge))
            .send()
            .await
            .expect("office")
            .json()
            .await
            .expect("json");
        office["day"].as_str().expect("day").to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_syncs_through_the_other_replica_when_one_is_killed() {
    let Some(mut net) = TwoReplicas::start().await else { return };
    let (client, a, b, edge) = (net.client.clone(), net.a.clone(), net.b.clone(), net.edge.clone());
    let _office = net.start_box();
    wait_ready(&client, &edge).await;
    until("the office syncs with a, its first address", async || online_at(&client, &a).await).await;
    let day = net.day().await;
    let first = issue(&client, &edge).await;
    until("b reads the ticket a stored", async || holds(&client, &b, &day, &first).await).await;

    net.replica_a.kill().expect("SIGKILL");
    net.replica_a.wait().expect("reaped");
    let killed = Instant::now();
    let second = issue(&client, &edge).await;
    until("b holds the ticket issued after a died", async || holds(&client, &b, &day, &second).await).await;
    eprintln!("a ticket issued as a was killed reached b {:?} later", killed.elapsed());
    // b itself holds the office's connection now (not only a's last word that it had it).
    until("the office syncs with b", async || online_at(&client, &b).await).await;
    assert!(holds(&client, &b, &day, &first).await, "nothing acknowledged is lost");
}

/// Stops (SIGSTOP) or resumes (SIGCONT) a process: hung, not dead.
fn signal(process: &Edge, signal: &str) {
    let status =
        std::process::Command::new("kill").arg(signal).arg(process.id().to_string()).status().expect("kill runs");
    assert!(status.success(), "kill {signal}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_box_starting_while_its_first_replica_hangs_syncs_through_the_other() {
    let Some(net) = TwoReplicas::start().await else { return };
    let (client, b, edge) = (net.client.clone(), net.b.clone(), net.edge.clone());
    // a's socket still completes TCP handshakes (the kernel does that), but nothing answers
    // the WebSocket upgrade: without a limit on connecting, the box would wait on it forever.
    signal(&net.replica_a, "-STOP");
    let _office = net.start_box();
    // A new box is not ready before it has recovered its records from central, so this is
    // waited for first, with room for the 20 s the box gives a replica to answer.
    let took = within(Duration::from_secs(45), "the office syncs with b", async || online_at(&client, &b).await).await;
    eprintln!("with a hung, the box reached b {took:?} after it started");
    wait_ready(&client, &edge).await;
    let day = net.day().await;
    let ticket = issue(&client, &edge).await;
    until("b holds a ticket issued with a hung", async || holds(&client, &b, &day, &ticket).await).await;
    // Dropping `net` kills a as it is: SIGKILL ends a stopped process too.
}
