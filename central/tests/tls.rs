//! Central serving HTTPS itself: edges reach it over `wss://`, and a renewed certificate is read
//! on SIGHUP (`systemctl reload fila-central`) without a restart.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use fila_tls::testing::{handshake, https_get, TestPki};

#[tokio::test]
async fn an_https_central_answers_healthz_to_a_client_that_trusts_its_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = TestPki::new(dir.path());
    pki.issue();
    let mut settings = common::settings(&dir.path().join("data"));
    settings.tls = Some(pki.cert_files());
    let central = common::spawn_with(settings).await;
    let port = central.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");

    let response = https_get(port, &pki.ca_file(), "/healthz").await.expect("https answers");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("\"online\""), "{response}");

    // A client that does not know the ministry's CA refuses the server before sending anything.
    let refused = handshake(port, None).await.expect_err("unknown issuer");
    assert!(refused.to_string().contains("certificate"), "{refused}");
    central.stop().await;
}

#[tokio::test]
async fn sighup_reloads_a_renewed_certificate_and_keeps_serving_if_the_new_one_is_broken() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = TestPki::new(dir.path());
    let first = pki.issue();
    let files = pki.cert_files();
    let config = dir.path().join("central.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndata = {:?}\ntls_cert = {:?}\ntls_key = {:?}\n\
             [[offices]]\nid = \"centro\"\nname = \"Oficina Centro\"\ntoken_sha256 = \"{}\"\n",
            dir.path().join("data"),
            files.cert,
            files.key,
            fila_central::auth::sha256_hex("a branch token"),
        ),
    )
    .expect("write config");
    let (mut child, log) = start(&["run", "--config", config.to_str().expect("path")]);
    let port = wait_for_port(&log);
    assert_eq!(handshake(port, Some(&pki.ca_file())).await.expect("tls").0, first);

    let renewed = pki.issue();
    assert_ne!(renewed, first);
    signal(&child, "-HUP");
    wait_for_line(&log, "TLS certificate reloaded");
    assert_eq!(handshake(port, Some(&pki.ca_file())).await.expect("tls").0, renewed, "new connections get it");

    // A renewal copied half-way (or a wrong key) is refused; the working pair stays in use.
    std::fs::write(&files.key, "-----BEGIN PRIVATE KEY-----\ntruncated").expect("write");
    signal(&child, "-HUP");
    wait_for_line(&log, "still serving the previous one");
    assert_eq!(handshake(port, Some(&pki.ca_file())).await.expect("tls").0, renewed);
    let response = https_get(port, &pki.ca_file(), "/healthz").await.expect("https answers");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");

    stop(&mut child);
}

#[tokio::test]
async fn sighup_does_not_stop_a_central_that_serves_plain_http() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("path");
    let (mut child, log) = start(&["demo", "--listen", "127.0.0.1:0", "--data", data]);
    let port = wait_for_port(&log);
    signal(&child, "-HUP");
    wait_for_line(&log, "nothing to reload");
    let health = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.expect("still up");
    assert!(health.status().is_success());
    stop(&mut child);
}

/// Runs the real binary; its log lines arrive on the receiver.
fn start(args: &[&str]) -> (Child, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fila-central"))
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    (child, log)
}

fn wait_for_line(log: &Receiver<String>, text: &str) -> String {
    let deadline = Instant::now() + common::PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match log.recv_timeout(left) {
            Ok(line) if line.contains(text) => return line,
            Ok(_) => {}
            Err(_) => panic!("central never logged {text:?}"),
        }
    }
}

fn wait_for_port(log: &Receiver<String>) -> u16 {
    let line = wait_for_line(log, "central listening");
    let digits: String = line.split("port=").nth(1).unwrap_or("").chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no port in {line:?}"))
}

fn signal(child: &Child, which: &str) {
    let sent = Command::new("kill").args([which, &child.id().to_string()]).status().expect("kill runs");
    assert!(sent.success());
}

fn stop(child: &mut Child) {
    signal(child, "-TERM");
    let deadline = Instant::now() + common::PATIENCE;
    while child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "central did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}
