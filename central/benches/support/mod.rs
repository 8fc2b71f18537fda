//! What central's bench harnesses share: the release `fila-central` process they drive, and
//! what it uses of the machine.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Central {
    child: Child,
}

impl Central {
    /// `fila-central run --config <config>`, once it listens on `port`.
    pub async fn start(config: &Path, port: u16) -> Central {
        let child = Command::new(env!("CARGO_BIN_EXE_fila-central"))
            .args(["run", "--config"])
            .arg(config)
            // FILA_BENCH_CENTRAL_LOG=warn (say) to see what the replicas report.
            .env("RUST_LOG", std::env::var("FILA_BENCH_CENTRAL_LOG").unwrap_or_else(|_| "error".into()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("central starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(120), "central did not start");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Central { child }
    }

    /// A field of `/proc/<pid>/status` in MiB (`VmRSS:`, `VmHWM:`).
    pub fn memory_mib(&self, field: &str) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib: u64 = status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0);
        kib as f64 / 1024.0
    }

    /// User + system CPU time so far, in clock ticks (100 a second).
    pub fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
        fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
    }
}

impl Central {
    /// kill -9: the process ends without closing anything (the replicas bench's failover).
    #[allow(dead_code)]
    pub fn kill_hard(&self) {
        let _ = Command::new("kill").args(["-9", &self.child.id().to_string()]).status();
    }
}

impl Drop for Central {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}
