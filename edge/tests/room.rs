//! The waiting room's capacity, as citizens and staff meet it: a full room sends kiosk tickets
//! outside, the citizen outside is told once to come (e-mail through a real SMTP server, and the
//! tracking page's alert), and "I'm here" on the tracking page or at the kiosk brings them in.

mod common;

use std::time::Duration;

use fila_edge::settings::NoticeSettings;
use fila_notify::testing::{Mode, SmtpServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CITIZEN: &str = "afuera@example.org";

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

fn come_now_mails(server: &SmtpServer) -> usize {
    server.received().iter().filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("hora de venir"))).count()
}

#[tokio::test]
async fn with_room_for_three_the_fourth_waits_outside_is_told_once_to_come_and_is_here_when_it_says_so() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "nadie@example.org") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.path().to_path_buf());
    settings.office.room.capacity = Some(3);
    let mut problems = Vec::new();
    let section: toml::Value = toml::from_str(&format!("[smtp]\n{}", smtp.settings_toml("none", ""))).expect("toml");
    settings.notices = NoticeSettings::parse(section, false, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    for _ in 0..3 {
        assert_eq!(edge.issue("general").await["away"], false, "room for three");
    }
    let (status, fourth) = edge
        .post("/api/v1/tickets", Some(common::KIOSK), json!({ "service": "general", "contact": CITIZEN, "lang": "es" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{fourth}");
    assert_eq!(fourth["away"], true, "the fourth is told to wait outside: {fourth}");
    let fifth = edge.issue("general").await;
    assert_eq!(fifth["away"], true);
    let (_, room) = edge.get("/api/v1/room", None).await;
    assert_eq!(room, json!({ "present": 3, "away": 2, "capacity": 3 }));
    let metrics = edge.client.get(format!("{}/metrics", edge.base)).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    assert!(metrics.contains("fila_edge_room_tickets{where=\"away\"} 2"), "{metrics}");
    assert!(metrics.contains("fila_edge_room_capacity 3"), "{metrics}");

    // The queue moves: once the earliest the fourth may be called is within the margin
    // (10 minutes; they are just outside), they are told to come, once.
    let track = format!("/api/v1/track/{}", fourth["token"].as_str().expect("token"));
    let ana = edge.at_counter("ana", "1").await;
    for _ in 0..3 {
        let (status, body) = edge.act(&ana, "1", "call-next", json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = edge.act(&ana, "1", "finish", json!({ "outcome": "resuelto" })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let page: Value = eventually("the tracking page's alert", async || {
        let (_, page) = edge.get(&track, None).await;
        (page["come_now"] == true).then_some(page)
    })
    .await;
    assert!(page["estimated_wait_low_minutes"].as_u64().expect("low") <= 10, "{page}");
    eventually("the come-now e-mail", async || (come_now_mails(&smtp) == 1).then_some(())).await;
    let mail = smtp.received().into_iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains("hora de venir")));
    let text = mail.expect("mail")["text"].as_str().expect("text").to_string();
    assert!(text.contains(fourth["number"].as_str().expect("number")), "{text}");
    // More events, the same state: no second message.
    edge.issue("general").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(come_now_mails(&smtp), 1, "told once");

    // "I'm here" on the tracking page: present, counted in the room; saying it again is harmless.
    let (status, here) = edge.post(&format!("{track}/here"), None, json!({})).await;
    assert_eq!((status, &here["away"], &here["come_now"]), (StatusCode::OK, &json!(false), &json!(false)), "{here}");
    let (status, _) = edge.post(&format!("{track}/here"), None, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    // The fifth scans their ticket's QR code at the kiosk.
    let scanned = format!("http://192.168.1.10:8080/t/{}", fifth["token"].as_str().expect("token"));
    let (status, here) = edge.post("/api/v1/tickets/here", Some(common::KIOSK), json!({ "token": scanned })).await;
    assert_eq!((status, &here["away"]), (StatusCode::OK, &json!(false)), "{here}");
    // Nobody else may say so for them, and a ticket that does not exist is not found.
    let (status, _) = edge.post("/api/v1/tickets/here", None, json!({ "token": scanned })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = edge.post("/api/v1/track/nosuchtoken/here", None, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (_, room) = edge.get("/api/v1/room", None).await;
    assert_eq!(room["away"], 0, "{room}");
    edge.stop().await;
}

#[tokio::test]
async fn near_closing_the_kiosk_issues_the_last_ticket_that_fits_and_then_names_the_next_opening() {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.path().to_path_buf());
    // The demo office closes at 16:00 on weekdays; the last call 15 minutes before.
    settings.office.calendar.last_call_margin_minutes = Some(15);
    let monday_1530: jiff::Timestamp = "2026-12-07T18:30:00Z".parse().expect("instant"); // 15:30 in Buenos Aires
    let (clock, now) = common::manual_clock(monday_1530.as_millisecond());
    let edge = common::spawn_settings(settings, clock).await;
    edge.at_counter("ana", "1").await;

    let mut issued = Vec::new();
    let refused = loop {
        let (status, body) = edge.post("/api/v1/tickets", Some(common::KIOSK), json!({ "service": "general" })).await;
        match status {
            StatusCode::CREATED => issued.push(body),
            _ => break (status, body),
        }
        assert!(issued.len() < 50, "the kiosk never stopped issuing");
    };
    assert!(!issued.is_empty(), "tickets that can still be called are issued");
    let last = issued.last().expect("last");
    let (low, high) = (last["issued_wait_low_minutes"].as_f64(), last["issued_wait_high_minutes"].as_f64());
    let midpoint = (low.expect("low") + high.expect("high")) / 2.0;
    assert!(midpoint <= 15.0, "the last one is called by 15:45 by its estimate: {last}");
    assert_eq!(refused.0, StatusCode::CONFLICT, "{}", refused.1);
    assert_eq!(refused.1["error"], "service_closing");
    assert_eq!(refused.1["next_opening"], "2026-12-08 08:00", "{}", refused.1);
    // Staff may still let someone in at the last minute.
    let supervisor = edge.login("sara").await;
    let (status, body) = edge.post("/api/v1/tickets", Some(&supervisor), json!({ "service": "general" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // After the doors close, the office is closed until the morning.
    now.store(monday_1530.as_millisecond() + 31 * 60_000, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = edge.post("/api/v1/tickets", Some(common::KIOSK), json!({ "service": "pagos" })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("office_closed")), "{body}");
    assert_eq!(body["next_opening"], "2026-12-08 08:00");
    edge.stop().await;
}
