//! `fila-central migrate` as an installer runs it: the real binary, a configuration file whose
//! `[server] postgres` names a fresh database. `run` refuses that database until it is migrated,
//! naming the command that fixes it; `migrate` prepares it, and says so again when run twice;
//! then `run` starts and answers `/healthz`.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{central_binary, free_port, wait_ready, Edge};
use fila_store::testing::TempDatabase;

/// A configuration for one office on `port`, its data in PostgreSQL at `postgres`.
fn write_config(dir: &Path, port: u16, postgres: &str) -> std::path::PathBuf {
    let hash = fila_central::auth::sha256_hex("centro-token-for-the-migrate-test");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata = \"{}\"\npostgres = \"{postgres}\"\n\
         [[offices]]\nid = \"centro\"\nname = \"Oficina Centro\"\ntoken_sha256 = \"{hash}\"\n",
        dir.join("data").display()
    );
    let path = dir.join("central.toml");
    std::fs::write(&path, text).expect("config");
    path
}

/// `fila-central` with `args` and the configuration, waited for (at most a minute; a server that
/// started after all is killed then): whether it succeeded, and all it said.
fn fila_central(args: &[&str], config: &Path) -> (bool, String) {
    let mut child = Edge(
        Command::new(central_binary())
            .args(args)
            .arg(config)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("fila-central starts"),
    );
    let read = |mut stream: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let began = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("status") {
            break status;
        }
        assert!(began.elapsed() < Duration::from_secs(60), "fila-central {args:?} did not finish");
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = stdout.join().expect("stdout") + &stderr.join().expect("stderr");
    (status.success(), text)
}

#[tokio::test]
async fn run_refuses_an_unmigrated_database_until_migrate_prepares_it() {
    let Some(db) = TempDatabase::create() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let config = write_config(dir.path(), port, db.url());

    let (ok, text) = fila_central(&["run", "--config"], &config);
    assert!(!ok, "central started on a database nobody migrated:\n{text}");
    assert!(text.contains("fila-central migrate"), "the refusal does not name the command that fixes it:\n{text}");

    let (ok, text) = fila_central(&["migrate", "--config"], &config);
    assert!(ok, "migrate failed:\n{text}");
    assert!(text.contains("applied schema versions"), "{text}");
    let (ok, text) = fila_central(&["migrate", "--config"], &config);
    assert!(ok, "a second migrate failed:\n{text}");
    assert!(text.contains("up to date"), "{text}");

    let _central = Edge(
        Command::new(central_binary())
            .args(["run", "--config"])
            .arg(&config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("fila-central starts"),
    );
    let client = reqwest::Client::new();
    wait_ready(&client, &format!("http://127.0.0.1:{port}")).await;
}
