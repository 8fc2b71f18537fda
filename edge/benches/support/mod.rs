//! What the edge's bench harnesses share: the release daemon they drive, and its agents.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// `fila-edge run` on a configuration file. Dropping it sends SIGTERM (the daemon flushes and
/// exits), also when the bench panics: a leftover daemon would hold its port and its MQTT id.
pub struct Daemon {
    pub child: Child,
    pub base: String,
}

pub fn start(config_file: &Path, port: u16) -> Daemon {
    let child = Command::new(env!("CARGO_BIN_EXE_fila-edge"))
        .args(["run", "--config"])
        .arg(config_file)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("fila-edge starts");
    Daemon { child, base: format!("http://127.0.0.1:{port}") }
}

impl Daemon {
    /// Waits for the first healthy answer; returns how long it took.
    pub async fn wait_ready(&self, client: &reqwest::Client) -> Duration {
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{}/healthz", self.base)).send().await {
                if r.status().is_success() {
                    return started.elapsed();
                }
            }
            assert!(started.elapsed() < Duration::from_secs(30), "daemon did not start");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("proc status");
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    pub fn stop(self) {
        // Drop sends SIGTERM: the daemon flushes, compacts and exits.
    }

    /// kill -9: no flush, no compaction at exit; the next start loads every chunk as written.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// Signs agents `agent1..=agentN` (password "bench") in at counters `1..=N`; their tokens.
pub async fn sign_in_agents(client: &reqwest::Client, base: &str, counters: usize) -> Vec<String> {
    let mut tokens = Vec::new();
    for c in 1..=counters {
        let login: Value = client
            .post(format!("{base}/api/v1/login"))
            .json(&json!({ "username": format!("agent{c}"), "password": "bench" }))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        let token = login["token"].as_str().expect("token").to_string();
        let response = client
            .post(format!("{base}/api/v1/counters/{c}/sign-in"))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .await
            .expect("sign in");
        assert!(response.status().is_success(), "sign in at {c}: {}", response.status());
        tokens.push(token);
    }
    tokens
}
