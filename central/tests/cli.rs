//! The command line an installer uses, and the daemon's life cycle under a signal.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{SimEdge, CENTRO};

fn fila_central(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fila-central")).args(args).output().expect("runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn the_example_configuration_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/central.example.toml");
    let (ok, text) = fila_central(&["check-config", example]);
    assert!(ok, "{text}");
    assert!(text.contains("2 offices, 1 analysts"), "{text}");
}

#[test]
fn check_config_lists_every_problem_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("central.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"nowhere\"\n\
         [[offices]]\nid = \"centro\"\nname = \"Centro\"\ntoken_sha256 = \"xyz\"\n\
         [[offices]]\nid = \"centro\"\nname = \"Otra\"\ntoken_sha256 = \"xyz\"\n",
    )
    .expect("write");
    let (ok, text) = fila_central(&["check-config", file.to_str().expect("path")]);
    assert!(!ok);
    for problem in ["server.listen", "offices[0].token_sha256", "offices[1].id: \"centro\" is defined twice"] {
        assert!(text.contains(problem), "{problem:?} missing from:\n{text}");
    }
}

#[test]
fn a_token_comes_with_its_hash() {
    let (ok, text) = fila_central(&["token"]);
    assert!(ok);
    let value = |key: &str| {
        text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split('"').nth(1)).expect("line").to_string()
    };
    assert_eq!(fila_central::auth::sha256_hex(&value("token ")), value("token_sha256"));
}

#[tokio::test]
async fn sigterm_closes_edge_connections_and_stops_central_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("path");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fila-central"))
        .args(["demo", "--listen", "127.0.0.1:0", "--data", data])
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, port) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line.split("port=").nth(1) {
                let digits: String = port.chars().take_while(char::is_ascii_digit).collect();
                let _ = lines.send(digits);
            }
        }
    });
    let port: String = tokio::task::spawn_blocking(move || port.recv_timeout(common::PATIENCE))
        .await
        .expect("reader")
        .expect("central logs its port");

    let url = format!("ws://127.0.0.1:{port}/api/v1/sync");
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).expect("request");
    request.headers_mut().insert("Authorization", format!("Bearer {CENTRO}").parse().expect("header"));
    let (stream, _) = tokio_tungstenite::connect_async(request).await.expect("websocket opens");
    let mut ws = common::Ws { stream };
    let mut edge = SimEdge::new("centro");
    edge.issue(2);
    edge.sync(&mut ws).await;

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(killed.success());
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1001, "{reason}");
    let deadline = Instant::now() + common::PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "central did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");

    // What it acknowledged is there for the next start.
    let central = common::spawn(dir.path()).await;
    assert_eq!(central.day("centro", &edge.date()).await.1, edge.day_json());
    central.stop().await;
}

#[test]
fn the_demo_listens_only_on_loopback_unless_allowed_remote() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("path");
    let (ok, text) = fila_central(&["demo", "--listen", "0.0.0.0:0", "--data", data]);
    assert!(!ok);
    assert!(text.contains("--allow-remote") && text.contains("published"), "{text}");

    let (mut child, lines) = start_logging(&["demo", "--listen", "0.0.0.0:0", "--data", data, "--allow-remote"]);
    assert!(lines.iter().any(|line| line.contains("central listening")), "{lines:#?}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("path");
    let (mut child, lines) = start_logging(&["demo", "--listen", "127.0.0.1:0", "--data", data]);
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines.iter().any(|line| line.contains("central listening port=")), "{lines:#?}");
    assert!(lines.iter().all(|line| !line.contains("\x1b[")), "{lines:#?}");
}

/// Starts the binary with standard output to a pipe (as under systemd, NO_COLOR unset) and
/// returns its lines up to the one saying it listens.
fn start_logging(args: &[&str]) -> (std::process::Child, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fila-central"))
        .args(args)
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let listening = line.contains("central listening");
            seen.push(line);
            if listening {
                break;
            }
        }
        let _ = sender.send(seen);
    });
    let lines = receiver.recv_timeout(common::PATIENCE).unwrap_or_default();
    (child, lines)
}
