//! The real `fila-edge` binary as a child process, for tests that kill it, wipe it or restart it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The edge binary of this workspace, built if a narrower `cargo test` left it out.
pub fn edge_binary() -> PathBuf {
    binary("fila-edge")
}

/// The central binary of this workspace, built if a narrower `cargo test` left it out.
pub fn central_binary() -> PathBuf {
    binary("fila-central")
}

fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let binary = dir.join(name);
    if !binary.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo).args(["build", "-p", name, "--bin", name]).status().expect("cargo");
        assert!(status.success(), "building {name}");
    }
    binary
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The demo office on `port`, its data in `dir`, syncing with a central on `central`.
pub fn start_edge(binary: &Path, port: u16, dir: &Path, central: u16) -> Edge {
    demo_edge(binary, port, dir, central)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Edge)
        .expect("fila-edge starts")
}

/// `fila-edge demo` without devices on `port`, its data in `dir`, syncing with a central on
/// `central`: the caller adds options, the log level and where the output goes.
pub fn demo_edge(binary: &Path, port: u16, dir: &Path, central: u16) -> Command {
    let mut command = Command::new(binary);
    command
        .args(["demo", "--no-devices", "--listen", &format!("127.0.0.1:{port}"), "--central"])
        .arg(format!("ws://127.0.0.1:{central}/api/v1/sync"))
        .arg("--data")
        .arg(dir);
    command
}

/// `fila-central demo` on `port` with its data in `dir`.
pub fn demo_central(port: u16, dir: &Path) -> Command {
    let mut command = Command::new(central_binary());
    command.args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--data"]).arg(dir);
    command
}

/// The edge under test, killed when the test ends however it ends: a leftover daemon would
/// hold its port and its files.
pub struct Edge(pub Child);

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

/// Wait until the daemon answers `/healthz` with 2xx and, for an edge, has its records (a new
/// box first recovers them from central); how long it took.
pub async fn wait_ready(client: &reqwest::Client, base: &str) -> Duration {
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(30) {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await {
            let ok = response.status().is_success();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            if ok && body["status"] != "recovering" {
                return began.elapsed();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("edge did not become ready");
}

/// The demo central, in this process, on `port` with its data in `dir`.
pub struct Central {
    pub base: String,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Central {
    pub fn start(port: u16, dir: &Path) -> Central {
        let settings = fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), dir.into());
        let app = fila_central::App::build(settings).expect("central starts");
        let handle = app.handle();
        Central { base: format!("http://127.0.0.1:{port}"), handle, task: tokio::spawn(app.run_until_stopped()) }
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
        self.task.await.expect("central task").expect("central stopped");
    }
}
