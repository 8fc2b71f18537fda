//! Kill -9 the daemon while clients issue tickets: after a restart every ticket that got a 2xx
//! is there, and no number repeats.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const CLIENTS: usize = 6;
const ROUNDS: usize = 3;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn start(port: u16, dir: &std::path::Path) -> Edge {
    Command::new(env!("CARGO_BIN_EXE_fila-edge"))
        .args(["demo", "--no-devices", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Edge)
        .expect("fila-edge starts")
}

/// The edge under test, killed when the test ends however it ends: a leftover daemon would
/// hold its port and its files.
struct Edge(Child);

impl std::ops::Deref for Edge {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Edge {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("edge did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_issue_the_edge_loses_no_acknowledged_ticket_and_repeats_no_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    // number -> tracking token of every ticket acknowledged with a 2xx
    let acknowledged: Arc<Mutex<BTreeMap<String, String>>> = Arc::default();

    for round in 0..ROUNDS {
        let mut child = start(port, dir.path());
        wait_ready(&client, &base).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for n in 0..CLIENTS {
            let (client, base, acknowledged, stop) = (client.clone(), base.clone(), acknowledged.clone(), stop.clone());
            clients.push(tokio::spawn(async move {
                let services = ["general", "pagos", "documentos", "registro"];
                let mut i = n;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    i += 1;
                    let sent = client
                        .post(format!("{base}/api/v1/tickets"))
                        .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
                        .json(&json!({ "service": services[i % services.len()] }))
                        .send()
                        .await;
                    let Ok(response) = sent else { break };
                    if response.status().is_success() {
                        let Ok(ticket) = response.json::<Value>().await else { break };
                        let number = ticket["number"].as_str().expect("number").to_string();
                        let token = ticket["token"].as_str().expect("token").to_string();
                        let previous = acknowledged.lock().expect("lock").insert(number.clone(), token);
                        assert!(previous.is_none(), "number {number} was acknowledged twice");
                    }
                }
            }));
        }
        // Let the clients get going, then pull the plug mid-stream. (Bounded by count, so the
        // test stays within a day's 999 numbers per service however fast the machine is.)
        let target = 250 * (round + 1);
        let began = Instant::now();
        while acknowledged.lock().expect("lock").len() < target && began.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for c in clients {
            c.await.expect("client task");
        }
    }

    let mut child = start(port, dir.path());
    wait_ready(&client, &base).await;
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(acknowledged.len() > 50, "the clients got tickets through: {}", acknowledged.len());
    // Every acknowledged ticket is known by its own tracking token, with its own number.
    let mut missing = Vec::new();
    for (number, token) in &acknowledged {
        let response = client.get(format!("{base}/api/v1/track/{token}")).send().await.expect("track");
        let ticket: Value = response.json().await.expect("json");
        if ticket["number"].as_str() != Some(number) {
            missing.push(format!("{number}: {ticket}"));
        }
    }
    assert!(missing.is_empty(), "acknowledged tickets lost after kill -9: {missing:?}");
    // And the numbering goes on after the highest number ever handed out, never reusing one.
    let fresh: Value = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
        .json(&json!({ "service": "general" }))
        .send()
        .await
        .expect("issue")
        .json()
        .await
        .expect("json");
    let number = fresh["number"].as_str().expect("number").to_string();
    assert!(!acknowledged.contains_key(&number), "{number} was handed out before the crash");
    let highest_a: BTreeSet<&String> = acknowledged.keys().filter(|n| n.starts_with('A')).collect();
    if let Some(highest) = highest_a.last() {
        assert!(number.as_str() > highest.as_str(), "{number} follows {highest}");
    }
    child.kill().expect("stop");
    child.wait().expect("reaped");
}

#[tokio::test]
async fn sigterm_stops_the_edge_gracefully_with_everything_on_disk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut child = start(port, dir.path());
    wait_ready(&client, &base).await;
    for _ in 0..5 {
        let response = client
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
            .json(&json!({ "service": "pagos" }))
            .send()
            .await
            .expect("issue");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
    }
    // A screen holds the event stream open: shutdown must not wait for it forever.
    let _screen = client.get(format!("{base}/api/v1/events")).send().await.expect("stream");
    let stopping = Instant::now();
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(stopping.elapsed() < Duration::from_secs(15), "edge did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "clean exit, got {exit}");

    let mut child = start(port, dir.path());
    wait_ready(&client, &base).await;
    let health: Value = client.get(format!("{base}/healthz")).send().await.expect("health").json().await.expect("json");
    assert_eq!(health["tickets_today"], 5);
    child.kill().expect("stop");
    child.wait().expect("reaped");
}
