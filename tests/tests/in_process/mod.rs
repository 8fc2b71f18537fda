//! What the tests that run central and an office's box in this process share: the box's link
//! to central, waiting for a port to be free again, and signage files for headquarters.
#![allow(dead_code)]

use std::time::Duration;

use serde_json::Value;

/// The box's `[central]` for a central on loopback `port`, with the demo office's token.
pub fn central_link(port: u16) -> fila_edge::sync_client::CentralSettings {
    fila_edge::sync_client::CentralSettings {
        url: format!("ws://127.0.0.1:{port}/api/v1/sync"),
        token: fila_central::demo::BRANCH_TOKEN.to_string(),
        ca_file: None,
        citizen_url: None,
        booking_key: None,
        fallback_urls: Vec::new(),
    }
}

/// Builds an app, again while its port or store is still held by the one before.
pub async fn retry<T>(mut build: impl FnMut() -> anyhow::Result<T>) -> T {
    for _ in 0..50 {
        if let Ok(app) = build() {
            return app;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    build().expect("starts")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A media file from `media/tests/fixtures` (made by ffmpeg).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../media/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Headquarters' administrator uploads `bytes` as signage; the stored record.
pub async fn upload(http: &reqwest::Client, central: &str, bytes: &[u8]) -> Value {
    let response = http
        .post(format!("{central}/api/v1/signage/media"))
        .bearer_auth(fila_central::demo::HQ_ADMIN_TOKEN)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("uploaded");
    assert!(response.status().is_success(), "upload: {}", response.status());
    response.json().await.expect("json")
}
