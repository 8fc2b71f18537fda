//! Joining a queue from home, end to end: a citizen joins at headquarters' public API, the
//! office's box turns the request into a number, and the citizen's page at central shows it with
//! its position and estimate; with the box offline joining is closed clearly; a request reaching
//! the box after closing is refused, with the next opening.

#[path = "../../edge/tests/read_qr/mod.rs"]
mod read_qr;

use std::path::Path;
use std::time::{Duration, Instant};

use fila_notify::testing::{Mode, SmtpServer};
use fila_protocol::Timestamp;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(20);

struct Running {
    base: String,
    handle: actix_web::dev::ServerHandle,
    join: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn stop(self) {
        self.handle.stop(true).await;
        self.join.await.expect("task").expect("stopped cleanly");
    }
}

/// The demo office in a zone where it is about 10 in the morning now, open 08:00-13:00 every
/// day with the last call 15 minutes before closing: the test means the same at any hour.
fn office() -> fila_protocol::RawOfficeConfig {
    let hour = i64::from(jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).hour());
    let offset = (10 - hour + 36) % 24 - 12;
    let zone = match offset {
        0 => "Etc/GMT".to_string(),
        east if east > 0 => format!("Etc/GMT-{east}"),
        west => format!("Etc/GMT+{}", -west),
    };
    let mut raw = fila_central::demo::office_configs().remove(0);
    raw.office.time_zone = zone;
    let span = fila_protocol::calendar::TimeSpan::try_from("08:00-13:00".to_string()).expect("span");
    let hours = &mut raw.calendar.hours;
    for day in
        [&mut hours.mon, &mut hours.tue, &mut hours.wed, &mut hours.thu, &mut hours.fri, &mut hours.sat, &mut hours.sun]
    {
        *day = vec![span];
    }
    raw.calendar.closures.clear();
    raw.calendar.last_call_margin_minutes = Some(15);
    raw
}

async fn start_central(port: u16, dir: &Path, smtp: Option<&SmtpServer>) -> Running {
    let mut settings =
        fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), dir.to_path_buf());
    settings.seed_configs = vec![office()];
    if let Some(smtp) = smtp {
        settings.smtp = Some(toml::from_str(&smtp.settings_toml("none", "")).expect("SMTP settings"));
    }
    let app = retry(|| fila_central::App::build(settings.clone())).await;
    let handle = app.handle();
    Running { base: format!("http://127.0.0.1:{port}"), handle, join: tokio::spawn(app.run_until_stopped()) }
}

/// The office's box, its clock `ahead` of the real one.
async fn start_edge(dir: &Path, central_port: u16, ahead: Duration) -> Running {
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), dir.to_path_buf());
    settings.office = office().validate().expect("valid office");
    settings.central = Some(fila_edge::sync_client::CentralSettings {
        url: format!("ws://127.0.0.1:{central_port}/api/v1/sync"),
        token: fila_central::demo::BRANCH_TOKEN.to_string(),
        ca_file: None,
        citizen_url: None,
        booking_key: None,
        fallback_urls: Vec::new(),
    });
    let ahead = ahead.as_millis() as i64;
    let clock: fila_edge::office_loop::Clock = std::sync::Arc::new(move || {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time");
        Timestamp(now.as_millis() as i64 + ahead)
    });
    let app = retry(|| fila_edge::App::build_with_clock(settings.clone(), clock.clone())).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    Running { base, handle, join: tokio::spawn(app.run_until_stopped()) }
}

async fn retry<T>(mut build: impl FnMut() -> anyhow::Result<T>) -> T {
    for _ in 0..50 {
        if let Ok(app) = build() {
            return app;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    build().expect("starts")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

async fn get(client: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let response = client.get(url).send().await.expect("get");
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

async fn join(client: &reqwest::Client, central: &str, body: Value) -> (StatusCode, Value) {
    let response = client.post(format!("{central}/api/v1/public/joins")).json(&body).send().await.expect("join");
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

/// Waits until the office's offer says its box is `online`.
async fn until_online(client: &reqwest::Client, central: &str, online: bool) -> Value {
    let started = Instant::now();
    loop {
        let (_, offer) = get(client, format!("{central}/api/v1/public/offices/centro/joins")).await;
        if offer["online"] == online {
            return offer;
        }
        assert!(started.elapsed() < PATIENCE, "the office never became online={online}: {offer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Follows a join's page until the office has answered it.
async fn answered(client: &reqwest::Client, central: &str, token: &str) -> (Value, Duration) {
    let started = Instant::now();
    loop {
        let (status, page) = get(client, format!("{central}/api/v1/public/joins/{token}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        if page["state"] != "pending" {
            return (page, started.elapsed());
        }
        assert!(started.elapsed() < PATIENCE, "the office never answered: {page}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_joins_from_home_and_follows_the_number_the_office_gave() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let client = reqwest::Client::new();
    // Contacts are taken only where central can send to them: a real SMTP server on loopback.
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else { return };
    let central = start_central(port, central_dir.path(), Some(&smtp)).await;
    let edge = start_edge(edge_dir.path(), port, Duration::ZERO).await;
    let offer = until_online(&client, &central.base, true).await;
    assert_eq!(offer["open"], true, "{offer}");
    let offered: Vec<&str> =
        offer["services"].as_array().expect("services").iter().filter_map(|s| s[0].as_str()).collect();
    assert_eq!(offered, ["general", "pagos"], "only the services that take remote joins");
    let (_, offices) = get(&client, format!("{}/api/v1/public/joins", central.base)).await;
    assert_eq!(offices["offices"][0][0], "centro");

    // Two citizens already wait at the office (a new box numbers once it has central's copy of
    // the day, a moment after connecting).
    let started = Instant::now();
    let mut issued = 0;
    while issued < 2 {
        let response = client
            .post(format!("{}/api/v1/tickets", edge.base))
            .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
            .json(&json!({ "service": "general" }))
            .send()
            .await
            .expect("issue");
        match response.status() {
            StatusCode::CREATED => issued += 1,
            StatusCode::SERVICE_UNAVAILABLE if started.elapsed() < PATIENCE => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("issue: {other} {}", response.text().await.unwrap_or_default()),
        }
    }

    let body =
        json!({ "office": "centro", "service": "general", "travel_minutes": 30, "contact": "vecina@example.org" });
    let (status, joined) = join(&client, &central.base, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{joined}");
    assert_eq!(joined["state"], "pending");
    let token = joined["token"].as_str().expect("token").to_string();
    let (page, took) = answered(&client, &central.base, &token).await;
    assert_eq!(page["state"], "ticket", "{page}");
    assert_eq!(page["number"], "A-003", "numbered by the office, after the two already there");
    assert_eq!(page["status"], "waiting");
    assert_eq!(page["people_ahead"], 2);
    let (low, high) = (page["estimated_wait_low_minutes"].as_u64(), page["estimated_wait_high_minutes"].as_u64());
    assert!(low.is_some() && high >= low, "a range: {page}");
    assert!(took < Duration::from_secs(5), "the number came in {took:?}");
    assert!(page.get("contact").is_none() && !page.to_string().contains("vecina"), "the page never shows the contact");

    // The office's own record names who issued it: the remote join, not a kiosk.
    let (_, office) = get(&client, format!("{}/api/v1/office", edge.base)).await;
    let day = office["day"].as_str().expect("day").to_string();
    let hq = client
        .get(format!("{}/api/v1/offices/centro/days/{day}", central.base))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .send()
        .await
        .expect("hq day");
    let hq_day: Value = hq.json().await.expect("json");
    let issuers: Vec<String> =
        hq_day["tickets"].as_object().expect("tickets").values().map(|t| t["issuer"].to_string()).collect();
    assert!(issuers.iter().any(|who| who.to_lowercase().contains("remote")), "{issuers:?}");
    assert!(!hq_day.to_string().contains("vecina"), "no contact in the office's day");

    // At the office the citizen holds the page's code to the kiosk's reader: "I'm here". The
    // ticket counts as present in the room, and the page stops showing the code.
    assert_eq!(page["away"], true, "a remote ticket is away until seen at the office: {page}");
    let come_now = page["estimated_wait_low_minutes"].as_u64().is_some_and(|low| low <= 30 + 10);
    assert_eq!(page["come_now"], come_now, "30 minutes away, 10 of margin: {page}");
    let svg = client
        .get(format!("{}/api/v1/public/joins/{token}/qr.svg", central.base))
        .send()
        .await
        .expect("qr")
        .text()
        .await
        .expect("svg");
    let scanned = read_qr::decode(&svg);
    let here = client
        .post(format!("{}/api/v1/tickets/here", edge.base))
        .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
        .json(&json!({ "token": scanned }))
        .send()
        .await
        .expect("here");
    assert_eq!(here.status(), StatusCode::OK);
    let (_, room) = get(&client, format!("{}/api/v1/room", edge.base)).await;
    assert_eq!((&room["present"], &room["away"]), (&json!(3), &json!(0)), "{room}");
    let started = Instant::now();
    while get(&client, format!("{}/api/v1/public/joins/{token}", central.base)).await.1["away"] != false {
        assert!(started.elapsed() < PATIENCE, "central's page learns the citizen is here");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, not_yet) =
        get(&client, format!("{}/api/v1/public/joins/{}/qr.svg", central.base, "0".repeat(64))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{not_yet}");

    // The same contact may join twice a day; the third time is refused.
    let (status, _) = join(&client, &central.base, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, refused) = join(&client, &central.base, body.clone()).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("limit_reached")),
        "{refused}"
    );
    // A service that takes no remote joins, and a travel time beyond reason, are refused.
    let (status, refused) = join(&client, &central.base, json!({ "office": "centro", "service": "documentos" })).await;
    assert_eq!((status, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some("not_offered")));
    let (status, refused) =
        join(&client, &central.base, json!({ "office": "centro", "service": "general", "travel_minutes": 100000 }))
            .await;
    assert_eq!((status, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));
    let (status, _) = get(&client, format!("{}/api/v1/public/joins/{}", central.base, "0".repeat(64))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The box goes offline: joining is closed, with a clear word to come in person.
    edge.stop().await;
    until_online(&client, &central.base, false).await;
    let (status, refused) = join(&client, &central.base, json!({ "office": "centro", "service": "general" })).await;
    assert_eq!((status, refused["error"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("office_offline")));
    assert!(refused["message"].as_str().expect("message").contains("come in person"), "{refused}");
    // The citizen who joined still sees their number (central keeps the synced day).
    let (_, page) = get(&client, format!("{}/api/v1/public/joins/{token}", central.base)).await;
    assert_eq!(page["number"], "A-003");

    // The box comes back three hours on by its clock (13:xx, after the doors closed at 13:00):
    // a request central takes now reaches it after closing and is refused, with the next opening.
    let edge = start_edge(edge_dir.path(), port, Duration::from_secs(3 * 3600)).await;
    until_online(&client, &central.base, true).await;
    let (status, late) = join(&client, &central.base, json!({ "office": "centro", "service": "pagos" })).await;
    assert_eq!(status, StatusCode::CREATED, "central's clock still says open: {late}");
    let (page, _) = answered(&client, &central.base, late["token"].as_str().expect("token")).await;
    assert_eq!((page["state"].as_str(), page["reason"].as_str()), (Some("refused"), Some("closed")), "{page}");
    let next = page["next_opening"].as_str().expect("the next opening");
    assert!(next.ends_with(" 08:00"), "{next}");

    // One address cannot fill the queue: at most `per_address_per_hour` joins (10) an hour,
    // however many contacts it gives or leaves out.
    let mut taken = 0;
    let refused = loop {
        let (status, body) = join(&client, &central.base, json!({ "office": "centro", "service": "pagos" })).await;
        match status {
            StatusCode::CREATED => taken += 1,
            StatusCode::TOO_MANY_REQUESTS => break body,
            other => panic!("{other} {body}"),
        }
        assert!(taken <= 10, "the address limit never came");
    };
    assert_eq!(refused["error"], "limit_reached", "{refused}");
    assert!(refused["message"].as_str().is_some_and(|m| m.contains("this address")), "{refused}");
    edge.stop().await;
    central.stop().await;
}
