//! A citizen checks their booking in at the kiosk. The office here has never heard from central
//! (none is running): the pass in the booking's QR code is signed by central, and that is enough.
//! Each refusal says what to do instead; a pass altered by one character, or signed by anyone
//! else, is refused; a booking checks in once.

mod common;

use fila_protocol::booking::code::{key_from_seed, SigningKey, DEMO_SEED};
use fila_protocol::booking::BookingPass;
use fila_protocol::calendar::LocalTime;
use fila_protocol::{BusinessDay, ServiceId};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Monday 2026-11-30, 10:00 in Buenos Aires (UTC-3), the demo office's zone.
const NOW: &str = "2026-11-30T13:00:00Z";

fn central_key() -> SigningKey {
    SigningKey::from_bytes(&key_from_seed(DEMO_SEED, "signing"))
}

fn pass(booking: &str, office: &str, day: &str, start: &str) -> BookingPass {
    BookingPass {
        office: office.into(),
        day: BusinessDay::parse(day).expect("a date"),
        booking: booking.into(),
        service: ServiceId("documentos".into()),
        start: LocalTime::parse(start).expect("a time"),
        minutes: 20,
    }
}

/// A box that has run before (so it does not wait to recover from central) and now cannot reach
/// central at all, holding central's public key from its configuration.
async fn office_with_central_down(dir: &std::path::Path, clock: fila_edge::office_loop::Clock) -> common::TestEdge {
    common::spawn_with_clock(dir, clock.clone()).await.stop().await;
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.to_path_buf());
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("addr").port();
    settings.central = Some(fila_edge::sync_client::CentralSettings {
        // A port nothing listens on: the WAN is down.
        url: format!("ws://127.0.0.1:{nowhere}/api/v1/sync"),
        token: "demo-branch-token".into(),
        ca_file: None,
        citizen_url: None,
        booking_key: Some(fila_edge::demo::booking_key()),
        fallback_urls: Vec::new(),
    });
    common::spawn_settings(settings, clock).await
}

async fn check_in(edge: &common::TestEdge, code: &str) -> (StatusCode, Value) {
    edge.request(Method::POST, "/api/v1/checkins", Some(common::KIOSK), Some(json!({ "code": code }))).await
}

#[tokio::test]
async fn a_signed_pass_checks_in_offline_once_and_everything_else_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().expect("dir");
    let now = NOW.parse::<jiff::Timestamp>().expect("instant").as_millisecond();
    let (clock, _) = common::manual_clock(now);
    let edge = office_with_central_down(dir.path(), clock).await;
    let key = central_key();

    // On time (a 10:00 slot at 10:00), never synced: the signature is the proof.
    let on_time = pass("K7Q2M9XP3T4V5W6X", "centro", "2026-11-30", "10:00").sign(&key);
    let (status, ticket) = check_in(&edge, &on_time).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["class"], "appointment", "{ticket}");
    let number = ticket["number"].as_str().expect("a number").to_string();
    assert!(number.starts_with('C'), "the service's letter: {number}");
    // Twice: refused, with the first ticket's number.
    let (status, again) = check_in(&edge, &on_time).await;
    assert_eq!((status, &again["error"]), (StatusCode::CONFLICT, &json!("already_checked_in")), "{again}");
    assert!(again["message"].as_str().is_some_and(|m| m.contains(&number)), "{again}");

    // Too early (a 12:00 slot opens at 11:30), too late (09:00 closed at 09:10).
    let (status, early) = check_in(&edge, &pass("EARLY2345678ABCD", "centro", "2026-11-30", "12:00").sign(&key)).await;
    assert_eq!((status, &early["error"]), (StatusCode::CONFLICT, &json!("too_early")), "{early}");
    assert!(early["message"].as_str().is_some_and(|m| m.contains("11:30")), "{early}");
    let (status, late) = check_in(&edge, &pass("LATE23456789ABCD", "centro", "2026-11-30", "09:00").sign(&key)).await;
    assert_eq!((status, &late["error"]), (StatusCode::CONFLICT, &json!("too_late")), "{late}");
    assert!(late["message"].as_str().is_some_and(|m| m.contains("normal ticket")), "{late}");
    let (status, other_day) =
        check_in(&edge, &pass("DAY234567890ABCD", "centro", "2026-12-01", "10:00").sign(&key)).await;
    assert_eq!((status, &other_day["error"]), (StatusCode::CONFLICT, &json!("other_day")), "{other_day}");
    let (status, other) = check_in(&edge, &pass("NORTE34567890ABC", "norte", "2026-11-30", "10:00").sign(&key)).await;
    assert_eq!((status, &other["error"]), (StatusCode::BAD_REQUEST, &json!("other_office")), "{other}");

    // Forged: moved to another slot after signing, or signed by someone else's key.
    let moved = pass("MOVED4567890ABCD", "centro", "2026-11-30", "12:00").sign(&key).replace(".1200.", ".1000.");
    let (status, body) = check_in(&edge, &moved).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("bad_pass")), "{body}");
    let forged = pass("FORGED567890ABCD", "centro", "2026-11-30", "10:00").sign(&SigningKey::from_bytes(&[9; 32]));
    let (status, body) = check_in(&edge, &forged).await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("bad_pass")), "{body}");

    // A short code the office has not synced, and one that is not a code at all.
    let (status, body) = check_in(&edge, "K7Q2-M9XP").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = check_in(&edge, "<script>").await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("bad_code")), "{body}");
    // Nobody but a kiosk or staff checks in.
    let (status, _) = edge.request(Method::POST, "/api/v1/checkins", None, Some(json!({ "code": on_time }))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Only the one good pass made a ticket.
    let (_, queue) = edge.request(Method::GET, "/api/v1/queue", Some(&edge.login("sara").await), None).await;
    let waiting = queue["waiting"].as_array().expect("waiting");
    assert_eq!(waiting.len(), 1, "{queue}");
    assert_eq!(waiting[0]["number"], json!(number));
    edge.stop().await;
}
