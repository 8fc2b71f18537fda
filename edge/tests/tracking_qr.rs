//! The tracking link's QR code, drawn on the box: read back as a phone would read it, it leads
//! to the citizen's tracking page; it is never kept by a shared cache.

mod common;
mod read_qr;

use common::{spawn, spawn_settings, KIOSK};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn the_qr_code_on_the_kiosk_screen_leads_to_the_tickets_tracking_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let edge = spawn(dir.path()).await;
    let (status, ticket) = edge.post("/api/v1/tickets", Some(KIOSK), json!({ "service": "general" })).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    let path = ticket["tracking_url"].as_str().expect("the kiosk gets the tracking path");

    let response = edge.client.get(format!("{}{path}/qr.svg", edge.base)).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/svg+xml");
    assert_eq!(header(&response, "cache-control"), "private, no-store", "the link is the citizen's key");
    let svg = response.text().await.expect("body");
    assert_eq!(
        read_qr::decode(&svg),
        format!("{}{path}", edge.base),
        "without a public address, the one the kiosk used"
    );
    edge.stop().await;
}

#[tokio::test]
async fn the_qr_code_uses_the_offices_public_address_when_one_is_set() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.path().to_path_buf());
    settings.public_url = Some("https://turnos.example.gob/".into());
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let token = "0123456789abcdef0123456789abcdef";

    let response = edge.client.get(format!("{}/t/{token}/qr.svg", edge.base)).send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(read_qr::decode(&response.text().await.expect("body")), format!("https://turnos.example.gob/t/{token}"));
    edge.stop().await;
}

#[tokio::test]
async fn no_qr_code_is_drawn_for_what_is_not_a_tracking_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let edge = spawn(dir.path()).await;
    for token in ["a".repeat(65), "not%20a%20token".into(), "%3Cscript%3E".into()] {
        let (status, body) = edge.get(&format!("/t/{token}/qr.svg"), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{token}: {body}");
        assert_eq!(body["error"], "not_found");
    }
    edge.stop().await;
}

fn header(response: &reqwest::Response, name: &str) -> String {
    let value = response.headers().get(name).unwrap_or_else(|| panic!("no {name} header"));
    value.to_str().expect("ASCII header").to_string()
}
