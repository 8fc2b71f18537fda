//! The tracking link's QR code, drawn on the box: read back as a phone would read it, it leads
//! to the citizen's tracking page; it is never kept by a shared cache.

mod common;

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
    assert_eq!(decode(&svg), format!("{}{path}", edge.base), "without a public address, the one the kiosk used");
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
    assert_eq!(decode(&response.text().await.expect("body")), format!("https://turnos.example.gob/t/{token}"));
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

/// Pixels per QR module in the bitmap given to the reader.
const SCALE: usize = 4;

/// Read an SVG QR code as a phone would: draw its dark rectangles into a bitmap, then find and
/// decode the symbol in it. Understands the SVG the `qrcode` crate writes: a `viewBox` of
/// `0 0 W H` and one path of rectangles `M{x} {y}h{w}v{h}H{x}V{y}`, one unit per module.
fn decode(svg: &str) -> String {
    let attribute = |name: &str| -> &str {
        let start = svg.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("no {name} in {svg}")) + name.len() + 2;
        let length = svg[start..].find('"').expect("a closed attribute");
        &svg[start..start + length]
    };
    let view: Vec<usize> = attribute("viewBox").split(' ').map(|n| n.parse().expect("a number")).collect();
    let (width, height) = (view[2], view[3]);
    let mut dark = vec![false; width * height];
    for rectangle in attribute(" d").split('M').filter(|r| !r.is_empty()) {
        let numbers: Vec<usize> = rectangle
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().expect("a number"))
            .collect();
        let [x, y, w, h, ..] = numbers[..] else { panic!("not a rectangle: {rectangle}") };
        for row in y..y + h {
            dark[row * width + x..row * width + x + w].fill(true);
        }
    }
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width * SCALE, height * SCALE, |x, y| {
        if dark[(y / SCALE) * width + x / SCALE] {
            0
        } else {
            255
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (_, text) = grids[0].decode().expect("the QR code decodes");
    text
}
