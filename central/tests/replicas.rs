//! Two centrals on one PostgreSQL database serve as replicas: an office may sync with either,
//! headquarters may write through either, and what one stores reaches the other at once.
//! Each test has a database of its own on the PostgreSQL at 127.0.0.1:5432 (see
//! `fila_store::testing`), dropped when it ends.

mod common;

use std::time::{Duration, Instant};

use automerge::AutoCommit;
use common::docs_edge::Edge;
use common::{TestCentral, PATIENCE};
use fila_notify::testing::{Mode, SmtpServer};
use fila_protocol::doc::keys::{appointments_doc_id, config_doc_id};
use fila_protocol::office::{Actor, Priority, SurveyInput, SurveyTicket};
use fila_protocol::sync::PeerSync;
use fila_protocol::wire::Frame;
use fila_protocol::{AgentId, BusinessDay, Command, CounterId, TicketId, Timestamp, Who};
use fila_store::testing::TempDatabase;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// Two centrals sharing `db`, each with a data directory of its own (for its media).
async fn replicas(db: &TempDatabase, smtp: Option<&SmtpServer>) -> (TestCentral, TestCentral, [tempfile::TempDir; 2]) {
    fila_store::PgStore::migrate(db.url()).expect("migrated");
    let dirs = [tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir")];
    let mut started = Vec::new();
    for dir in &dirs {
        let mut settings = common::settings(dir.path());
        settings.postgres = Some(db.url().to_string());
        if let Some(smtp) = smtp {
            settings.smtp = Some(toml::from_str(&smtp.settings_toml("none", "")).expect("SMTP settings"));
        }
        settings.bookings.per_address_per_hour = 1_000;
        settings.alerts.evaluate_every = Duration::from_millis(50);
        settings.alerts.device_down = Duration::ZERO;
        started.push(common::spawn_with(settings).await);
    }
    let b = started.pop().expect("b");
    let a = started.pop().expect("a");
    (a, b, dirs)
}

/// The demo office with a service booked in 30-minute slots of `capacity` on Mondays.
fn office_config(name: &str, capacity: u32) -> Value {
    let text = format!(
        r#"
        [office]
        id = "centro"
        name = "{name}"
        time_zone = "America/Argentina/Buenos_Aires"
        [calendar.hours]
        mon = ["08:00-12:00"]
        [[services]]
        id = "documentos"
        prefix = "C"
        name = "DNI y pasaportes"
        [services.booking]
        slot_minutes = 30
        capacity = {capacity}
        [[counters]]
        id = "1"
        name = "Puesto 1"
        services = ["documentos"]
        "#
    );
    let raw: fila_protocol::RawOfficeConfig = toml::from_str(&text).expect("a valid office");
    serde_json::to_value(raw).expect("json")
}

async fn configure(central: &TestCentral, config: Value) {
    let response = central
        .client
        .put(format!("{}/api/v1/offices/centro/config", central.base))
        .bearer_auth(common::HQ_ADMIN)
        .json(&config)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK, "{:?}", response.text().await);
}

/// Syncs the office's configuration document over `ws` until `done` holds for it.
/// Syncs the office's copy of `doc_id` with central until `done` likes it.
async fn follow(
    ws: &mut common::Ws,
    doc_id: &str,
    doc: &mut AutoCommit,
    peer: &mut PeerSync,
    done: impl Fn(&AutoCommit) -> bool,
) {
    let doc_id = doc_id.to_string();
    let deadline = Instant::now() + PATIENCE;
    loop {
        while let Some(message) = peer.generate(doc) {
            ws.send(&Frame::Sync { doc: doc_id.clone(), message }).await;
        }
        if done(doc) {
            return;
        }
        assert!(Instant::now() < deadline, "the office's copy never got there");
        match ws.frame().await {
            Frame::Sync { message, .. } => {
                peer.receive(doc, &message).expect("central's messages apply");
            }
            other => panic!("central sent {other:?}"),
        }
    }
}

fn office_name(doc: &AutoCommit) -> Option<String> {
    fila_protocol::doc::config::read(doc).ok().map(|config| config.office.name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_through_one_replica_reaches_an_office_synced_with_the_other() {
    let Some(db) = TempDatabase::create() else { return };
    let (a, b, _dirs) = replicas(&db, None).await;
    configure(&a, office_config("Oficina Centro", 3)).await;

    // The office's box syncs with b, and gets the configuration headquarters set through a.
    let mut ws = b.connect(common::CENTRO).await;
    let config = config_doc_id("centro");
    ws.send(&Frame::Docs { docs: vec![config.clone()] }).await;
    let (mut doc, mut peer) = (AutoCommit::new(), PeerSync::new());
    follow(&mut ws, &config, &mut doc, &mut peer, |doc| office_name(doc).as_deref() == Some("Oficina Centro")).await;
    // Headquarters asking a sees the office online, through b.
    a.wait_for_office("centro", "online through b", |office| office["online"] == true).await;

    // Headquarters renames the office through a: the box, connected to b, hears of it live.
    let began = Instant::now();
    configure(&a, office_config("Oficina Centro (San Telmo)", 3)).await;
    let renamed = |doc: &AutoCommit| office_name(doc).as_deref() == Some("Oficina Centro (San Telmo)");
    follow(&mut ws, &config, &mut doc, &mut peer, renamed).await;
    eprintln!("an edit through a reached the office on b in {:?}", began.elapsed());

    // And b shows headquarters the same configuration as a does.
    let (status, through_b) = b.get("/api/v1/offices/centro/config", Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK, "{through_b}");
    let (_, through_a) = a.get("/api/v1/offices/centro/config", Some(common::HQ)).await;
    assert_eq!(through_b, through_a);
    assert_eq!(through_b["office"]["name"], "Oficina Centro (San Telmo)", "{through_b}");
    ws.close().await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_through_one_replica_reaches_an_office_synced_with_the_other() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let Some(db) = TempDatabase::create() else { return };
    let (a, b, _dirs) = replicas(&db, Some(&smtp)).await;
    configure(&a, office_config("Oficina Centro", 3)).await;
    // The box syncs with b, following Monday's bookings, none yet.
    let mut ws = b.connect(common::CENTRO).await;
    let monday = appointments_doc_id("centro", BusinessDay::parse("2026-11-30").expect("date"));
    ws.send(&Frame::Docs { docs: vec![monday.clone()] }).await;
    let (mut doc, mut peer) = (AutoCommit::new(), PeerSync::new());

    // A citizen books through a: held, the code e-mailed, confirmed.
    let body = json!({
        "office": "centro", "service": "documentos", "day": "2026-11-30", "start": "09:00",
        "document_type": "dni", "document_number": "30.000.100", "contact": "vecina@example.org", "lang": "es",
    });
    let (status, held) = a.post("/api/v1/public/bookings", body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{held}");
    let code = common::code_for(&smtp, "vecina@example.org").await;
    let hold = held["hold"].as_str().expect("hold");
    let confirm = format!("/api/v1/public/bookings/holds/{hold}/confirm");
    let (status, confirmed) = a.post(&confirm, json!({ "code": code })).await;
    assert_eq!(status, StatusCode::CREATED, "{confirmed}");
    let began = Instant::now();

    // The box, on b, gets it live: the booking at 09:00, and nothing personal.
    let booked = |doc: &AutoCommit| {
        fila_protocol::doc::appointments::read(doc).is_ok_and(|(appointments, _)| appointments.bookings.len() == 1)
    };
    follow(&mut ws, &monday, &mut doc, &mut peer, booked).await;
    eprintln!("a booking confirmed through a reached the office on b in {:?}", began.elapsed());
    let history = doc.save();
    for needle in ["30000100", "vecina"] {
        assert!(!history.windows(needle.len()).any(|w| w == needle.as_bytes()), "{needle} is in the document");
    }
    ws.close().await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizens_racing_through_both_replicas_for_the_last_three_places_get_three() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let Some(db) = TempDatabase::create() else { return };
    let (a, b, _dirs) = replicas(&db, Some(&smtp)).await;
    configure(&a, office_config("Oficina Centro", 3)).await;

    let racers: Vec<_> = (0..60)
        .map(|n| {
            let replica = if n % 2 == 0 { &a } else { &b };
            let (client, url) = (replica.client.clone(), format!("{}/api/v1/public/bookings", replica.base));
            let body = json!({
                "office": "centro", "service": "documentos", "day": "2026-11-30", "start": "09:00",
                "document_type": "dni", "document_number": format!("30.000.{:03}", n + 100),
                "contact": format!("vecino{n}@example.org"), "lang": "es",
            });
            tokio::spawn(async move {
                let response = client.post(url).json(&body).send().await.expect("answered");
                let status = response.status();
                (n, status, response.json::<Value>().await.unwrap_or(Value::Null))
            })
        })
        .collect();
    let mut held = Vec::new();
    for racer in racers {
        let (n, status, body) = racer.await.expect("racer");
        match status {
            StatusCode::ACCEPTED => held.push(n),
            StatusCode::CONFLICT => assert_eq!(body["error"], "slot_full", "{body}"),
            other => panic!("racer {n}: {other} {body}"),
        }
    }
    assert_eq!(held.len(), 3, "exactly the three places are held, whichever replica took them: {held:?}");
    for replica in [&a, &b] {
        let (status, slots) =
            replica.get("/api/v1/public/offices/centro/slots?service=documentos&day=2026-11-30", None).await;
        assert_eq!(status, StatusCode::OK, "{slots}");
        let nine = slots["slots"].as_array().expect("slots").iter().find(|s| s["start"] == "09:00").cloned();
        assert_eq!(nine.expect("the slot")["free"], 0, "both replicas count the same");
    }
    // One replica sends the outbox: each code goes once, whichever replica queued it (one more
    // hold through each makes sure both queued some).
    for (replica, n) in [(&a, 100), (&b, 101)] {
        let body = json!({
            "office": "centro", "service": "documentos", "day": "2026-11-30", "start": "10:00",
            "document_type": "dni", "document_number": format!("30.000.{:03}", n + 100),
            "contact": format!("vecino{n}@example.org"), "lang": "es",
        });
        let response = replica.client.post(format!("{}/api/v1/public/bookings", replica.base)).json(&body).send();
        assert_eq!(response.await.expect("answered").status(), StatusCode::ACCEPTED);
        held.push(n);
    }
    let codes = |smtp: &SmtpServer| {
        let mut to: Vec<String> = smtp
            .received()
            .iter()
            .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("código")))
            .map(|m| m["rcpt_tos"][0].as_str().unwrap_or("?").to_string())
            .collect();
        to.sort();
        to
    };
    let mut expected: Vec<String> = held.iter().map(|n| format!("vecino{n}@example.org")).collect();
    expected.sort();
    let deadline = Instant::now() + PATIENCE;
    while codes(&smtp).len() < expected.len() {
        assert!(Instant::now() < deadline, "codes sent: {:?}", codes(&smtp));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Long enough for the sender to take up anything twice, were it to.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(codes(&smtp), expected, "each code once");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signage_file_uploaded_through_one_replica_is_served_by_the_other() {
    let Some(db) = TempDatabase::create() else { return };
    let (a, b, _dirs) = replicas(&db, None).await;
    let bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../media/tests/fixtures/blue-64x48.png")).expect("fixture");
    let uploaded = a
        .client
        .post(format!("{}/api/v1/signage/media", a.base))
        .bearer_auth(common::HQ_ADMIN)
        .body(bytes.clone())
        .send()
        .await
        .expect("uploaded");
    assert!(uploaded.status().is_success(), "{}", uploaded.status());
    let record: Value = uploaded.json().await.expect("json");
    let sha = record["sha256"].as_str().expect("sha256");
    let served = b
        .client
        .get(format!("{}/api/v1/signage/media/{sha}", b.base))
        .bearer_auth(common::CENTRO)
        .send()
        .await
        .expect("sent");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.expect("body").to_vec(), bytes, "the same file, whole");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_down_reported_to_one_replica_is_an_alert_on_the_other() {
    let Some(db) = TempDatabase::create() else { return };
    let (a, b, _dirs) = replicas(&db, None).await;
    let _ws = b.connect(common::CENTRO).await;
    let report = json!({ "devices": [{ "id": "entrada", "kind": "printer", "up": false, "problem": "paper_out" }] });
    let posted = b
        .client
        .post(format!("{}/api/v1/branch/devices", b.base))
        .bearer_auth(common::CENTRO)
        .json(&report)
        .send()
        .await
        .expect("sent");
    assert_eq!(posted.status(), StatusCode::NO_CONTENT);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, alerts) = a.get("/api/v1/alerts", Some(common::HQ)).await;
        assert_eq!(status, StatusCode::OK, "{alerts}");
        let open = alerts["open"].as_array().cloned().unwrap_or_default();
        if open.iter().any(|alert| alert["kind"] == "device_down" && alert["office"] == "centro") {
            break;
        }
        assert!(Instant::now() < deadline, "a never heard of the printer: {alerts}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// Centro opened at `start`: its configuration, and ana signed in at counter 1.
fn opened(start: Timestamp) -> Edge {
    let mut edge = Edge::new(common::office_config("centro"), start);
    edge.add_config();
    edge.run(start, Command::SignIn { counter: CounterId::new("1"), by: ana() });
    edge
}

fn ana() -> Actor {
    Actor { agent: AgentId::new("ana"), supervisor: false }
}

/// The office serves `tickets` more, a second apart from `at` on: issued, called and finished.
fn serve(edge: &mut Edge, at: &mut Timestamp, tickets: usize) {
    let (counter, by) = (CounterId::new("1"), ana());
    let mut next = || {
        *at = Timestamp(at.0 + 1_000);
        *at
    };
    for _ in 0..tickets {
        edge.issue(next(), Priority::Normal);
        edge.run(next(), Command::CallNext { counter: counter.clone(), by: by.clone() });
        edge.run(next(), Command::Finish { counter: counter.clone(), by: by.clone(), outcome: String::new() });
    }
}

/// The tickets served on `day` at the office as `central` reports them to headquarters: in
/// its KPIs and in its roll-up.
async fn served(central: &TestCentral, day: &str) -> (Value, Value) {
    let (status, kpis) =
        central.get(&format!("/api/v1/kpis?office=centro&from={day}&to={day}"), Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK, "{kpis}");
    let (status, rollup) =
        central.get(&format!("/api/v1/rollups?from={day}&to={day}&period=day"), Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK, "{rollup}");
    (kpis["total"]["tickets_served"].clone(), rollup["periods"][0]["total"]["tickets_served"].clone())
}

/// Until `central` reports `count` served on `day` in both its KPIs and its roll-up.
async fn until_served(central: &TestCentral, day: &str, count: u64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (kpis, rollup) = served(central, day).await;
        if kpis == count && rollup == count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "a reports {kpis} served in its KPIs and {rollup} in its roll-up, not {count}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An office that syncs with b serves two tickets, then three more, on a day that began at
/// `start`; headquarters asking a sees two served, then five: a sync stored by b makes a
/// compute the day's KPIs again, however they were cached (an ended day's are kept for good
/// unless its documents change).
async fn a_sees_what_b_stored(start: Timestamp) {
    let Some(db) = TempDatabase::create() else { return };
    let (a, b, _dirs) = replicas(&db, None).await;
    let mut edge = opened(start);
    let mut at = start;
    serve(&mut edge, &mut at, 2);
    let day = edge.office.day().day.to_string();
    let mut ws = b.connect(common::CENTRO).await;
    edge.sync(&mut ws).await;
    until_served(&a, &day, 2).await;
    // Asked again at once: what a cached, still two.
    assert_eq!(served(&a, &day).await, (json!(2), json!(2)));

    serve(&mut edge, &mut at, 3);
    edge.sync(&mut ws).await;
    until_served(&a, &day, 5).await;
    assert_eq!(served(&b, &day).await, (json!(5), json!(5)));
    ws.close().await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_past_day_synced_again_through_one_replica_changes_the_kpis_of_the_other() {
    // The day before central's (the tests') date: ended, its figures kept for good.
    a_sees_what_b_stored(Timestamp(common::T0.0 - 24 * 60 * 60_000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn today_synced_again_through_one_replica_changes_the_kpis_of_the_other() {
    // Half an hour before central's clock, which stands still: the figures do not age.
    a_sees_what_b_stored(Timestamp(common::T0.0 - 30 * 60_000)).await;
}

/// The path of the public API behind ticket `ticket`'s survey link, as the office's box made it.
fn survey_api(day: &str, ticket: u32) -> String {
    let link = fila_notify::survey_link::SurveyKey::from_branch_token(common::CENTRO).link(
        "",
        "centro",
        day,
        &TicketId(ticket).key(),
    );
    format!("/api/v1/public/surveys/{}", link.trim_start_matches("/s/"))
}

async fn answer_by_link(central: &TestCentral, day: &str, ticket: u32, satisfaction: u8) -> (StatusCode, Value) {
    let url = format!("{}{}", central.base, survey_api(day, ticket));
    let response = central.client.post(url).json(&json!({ "satisfaction": satisfaction })).send().await.expect("sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn survey_total(central: &TestCentral, day: &str) -> Value {
    let (status, report) = central.get(&format!("/api/v1/surveys?office=centro&from={day}"), Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    report["total"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_survey_answered_by_link_through_one_replica_counts_on_the_other() {
    let Some(db) = TempDatabase::create() else { return };
    let (a, b, _dirs) = replicas(&db, None).await;
    // The office serves two this morning and syncs with a.
    let start = Timestamp(common::T0.0 - 30 * 60_000);
    let mut edge = opened(start);
    let mut at = start;
    serve(&mut edge, &mut at, 2);
    let day = edge.office.day().day.to_string();
    let mut ws = a.connect(common::CENTRO).await;
    edge.sync(&mut ws).await;
    let before = survey_total(&a, &day).await;
    assert_eq!((before["finished"].as_u64(), before["answers"].as_u64()), (Some(2), Some(0)), "{before}");

    // A-001's citizen follows their link to b, which reads the visit from the shared store.
    let (status, state) = b.get(&survey_api(&day, 1), None).await;
    assert_eq!((status, state["state"].as_str()), (StatusCode::OK, Some("open")), "{state}");
    assert_eq!(state["ticket_number"], "A-001");
    let (status, body) = answer_by_link(&b, &day, 1, 2).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // a finds it answered, refuses a second answer, and counts it in headquarters' figures.
    let (_, state) = a.get(&survey_api(&day, 1), None).await;
    assert_eq!(state["state"], "answered", "{state}");
    let (status, again) = answer_by_link(&a, &day, 1, 5).await;
    assert_eq!((status, again["error"].as_str()), (StatusCode::CONFLICT, Some("survey_answered")), "{again}");
    let total = survey_total(&a, &day).await;
    assert_eq!(total["answers"], 1, "{total}");
    assert_eq!(total["satisfaction_counts"], json!([0, 1, 0, 0, 0]), "{total}");

    // A-002's citizen answers at the office's exit tablet, synced through a: a's network row
    // (computed again as the day changed) counts both answers, the one b took by link too.
    let answer = SurveyInput { satisfaction: Some(4), recommend: None, resolved: None, commented: false };
    let command =
        Command::AnswerSurvey { ticket: SurveyTicket::Token("k2".into()), answer, by: Who::Kiosk("salida".into()) };
    edge.run(Timestamp(at.0 + 1_000), command);
    edge.sync(&mut ws).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, rows) = a.get("/api/v1/network", Some(common::HQ)).await;
        assert_eq!(status, StatusCode::OK, "{rows}");
        let centro = rows.as_array().and_then(|rows| rows.iter().find(|row| row["office"] == "centro")).cloned();
        let centro = centro.unwrap_or_default();
        if centro["satisfaction_answers"] == 2 {
            assert_eq!(centro["satisfaction_mean"], 3.0, "{centro}");
            break;
        }
        assert!(Instant::now() < deadline, "a's network row never counted b's answer: {centro}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = survey_total(&b, &day).await;
    assert_eq!(total["satisfaction_counts"], json!([0, 1, 0, 1, 0]), "{total}");
    ws.close().await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_survey_answered_through_both_replicas_at_once_is_taken_once() {
    let Some(db) = TempDatabase::create() else { return };
    let (a, b, _dirs) = replicas(&db, None).await;
    let start = Timestamp(common::T0.0 - 30 * 60_000);
    let mut edge = opened(start);
    let mut at = start;
    let tickets = 10;
    serve(&mut edge, &mut at, tickets);
    let day = edge.office.day().day.to_string();
    let mut ws = a.connect(common::CENTRO).await;
    edge.sync(&mut ws).await;

    // Each ticket's link, sent twice at once (a double tap, a retry), once to each replica
    // behind the balancer, with different scores: one answer is taken, the other refused, and
    // the one taken is the one kept.
    let mut taken_by_a = 0;
    for ticket in 1..=tickets as u32 {
        let (through_a, through_b) =
            tokio::join!(answer_by_link(&a, &day, ticket, 1), answer_by_link(&b, &day, ticket, 5));
        let taken = [&through_a, &through_b].map(|(status, _)| *status == StatusCode::CREATED);
        assert_eq!(taken.iter().filter(|t| **t).count(), 1, "A-{ticket:03}: through a {through_a:?}, b {through_b:?}");
        let refused = if taken[0] { &through_b } else { &through_a };
        assert_eq!((refused.0, refused.1["error"].as_str()), (StatusCode::CONFLICT, Some("survey_answered")));
        taken_by_a += usize::from(taken[0]);
    }
    let total = survey_total(&b, &day).await;
    assert_eq!(total["satisfaction_counts"], json!([taken_by_a, 0, 0, 0, tickets - taken_by_a]), "{total}");
    ws.close().await;
    a.stop().await;
    b.stop().await;
}
