//! TLS at the edge: the link to central refuses a server it cannot verify before the branch
//! token leaves the box, and the edge can serve its own pages over HTTPS.

mod common;

use std::io::{BufRead, BufReader};
use std::pin::Pin;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use fila_tls::server::ReloadingCert;
use fila_tls::testing::{https_get, TestPki};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const TOKEN: &str = "branch-token-that-must-never-travel-in-clear";

#[tokio::test]
async fn an_edge_that_does_not_trust_centrals_certificate_refuses_it_before_sending_its_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = TestPki::new(dir.path());
    pki.issue();
    let server = RecordingTlsServer::start(&pki).await;

    // The edge trusts the system's roots only: the ministry's CA is not among them.
    let office = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/office.toml")).expect("demo");
    let config = dir.path().join("edge.toml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\ndata = {data:?}\n\
             [central]\nurl = \"wss://localhost:{}/api/v1/sync\"\ntoken = \"{TOKEN}\"\n{office}",
            server.port
        ),
    )
    .expect("write config");
    let mut edge = Command::new(env!("CARGO_BIN_EXE_fila-edge"))
        .args(["run", "--config", config.to_str().expect("path")])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = edge.stdout.take().expect("stdout");
    let (sender, refusal) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("sync with central interrupted") {
                let _ = sender.send(line);
            }
        }
    });
    let logged = tokio::task::spawn_blocking(move || refusal.recv_timeout(Duration::from_secs(15)))
        .await
        .expect("reader")
        .expect("the edge logs why it did not connect");
    let _ = edge.kill();
    let _ = edge.wait();

    assert!(logged.contains("invalid peer certificate") && logged.contains("UnknownIssuer"), "{logged}");
    assert!(!logged.contains(TOKEN), "{logged}");
    // The server reads the edge's alert a moment after the edge has logged it.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while server.report().0 == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the server never saw the edge give up during the handshake");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, received) = server.report();
    let received = String::from_utf8_lossy(&received);
    assert!(!received.contains(TOKEN) && !received.contains("Authorization"), "{received}");
}

#[tokio::test]
async fn the_edge_serves_its_pages_over_https_when_given_a_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = TestPki::new(dir.path());
    pki.issue();
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.path().join("data"));
    settings.tls = Some(pki.cert_files());
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let port = edge.base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");

    let response = https_get(port, &pki.ca_file(), "/healthz").await.expect("https answers");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("\"office\":\"centro\""), "{response}");
    let response = https_get(port, &pki.ca_file(), "/display").await.expect("https answers");
    assert!(response.starts_with("HTTP/1.1 200 OK"), "the waiting-room page: {response}");

    // A browser speaking plain HTTP to the HTTPS port gets no page.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    edge.stop().await;
}

/// A TLS server with the PKI's certificate that keeps every byte clients send it, before any
/// decryption, and counts the handshakes that failed.
struct RecordingTlsServer {
    port: u16,
    received: Arc<Mutex<Vec<u8>>>,
    failed: Arc<Mutex<usize>>,
}

impl RecordingTlsServer {
    async fn start(pki: &TestPki) -> RecordingTlsServer {
        let certificate = ReloadingCert::load(pki.cert_files()).expect("certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(certificate.server_config().expect("config")));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let failed = Arc::new(Mutex::new(0));
        let (bytes, failures) = (received.clone(), failed.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let recorded = Recorder { inner: tcp, bytes: bytes.clone() };
                if acceptor.accept(recorded).await.is_err() {
                    *failures.lock().expect("counter") += 1;
                }
            }
        });
        RecordingTlsServer { port, received, failed }
    }

    fn report(&self) -> (usize, Vec<u8>) {
        (*self.failed.lock().expect("counter"), self.received.lock().expect("bytes").clone())
    }
}

struct Recorder {
    inner: tokio::net::TcpStream,
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Recorder {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let fresh = buf.filled()[before..].to_vec();
        self.bytes.lock().expect("bytes").extend_from_slice(&fresh);
        polled
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
