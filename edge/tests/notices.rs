//! Notices to citizens, end to end: a contact given at the kiosk or on the tracking page, the
//! messages that follow the ticket (your turn is near, you are called, how did we do), through a
//! real SMTP server (aiosmtpd) and an emulated GSM modem on a pseudo-terminal; opt-outs; what
//! supervisors see; that no contact leaks into a response, the metrics or the day document; and
//! that a contact is deleted from the box once its retention period has passed.

mod common;

use std::path::Path;
use std::time::Duration;

use fila_edge::settings::{NoticeSettings, Settings};
use fila_notify::modem::Emulator;
use fila_notify::testing::{Mode, SmtpServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CITIZEN: &str = "maria.garcia@example.org";
const REFUSED: &str = "nadie@example.org";
const PHONE: &str = "+34600111222";

fn settings(dir: &Path) -> Settings {
    fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.to_path_buf())
}

fn notices(toml: &str, modem: bool) -> NoticeSettings {
    let mut problems = Vec::new();
    let value: toml::Value = toml::from_str(toml).expect("toml");
    let parsed = NoticeSettings::parse(value, modem, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    parsed.expect("notices")
}

fn with_smtp(settings: &mut Settings, server: &SmtpServer) {
    let section = format!("turn_near_ahead = 1\nturn_near_minutes = 0\n[smtp]\n{}", server.settings_toml("none", ""));
    settings.notices = Some(notices(&section, false));
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..200 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn issue_with(edge: &common::TestEdge, contact: &str, lang: &str) -> (StatusCode, Value) {
    edge.post("/api/v1/tickets", Some(common::KIOSK), json!({ "service": "general", "contact": contact, "lang": lang }))
        .await
}

fn subjects(server: &SmtpServer) -> Vec<String> {
    server.received().iter().map(|m| m["subject"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn a_citizen_who_leaves_an_email_hears_their_turn_near_their_call_and_the_survey() {
    let Some(server) = SmtpServer::start(Mode::Plain, false, REFUSED) else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = settings(dir.path());
    with_smtp(&mut settings, &server);
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    let first = edge.issue("general").await;
    let (status, ticket) = issue_with(&edge, CITIZEN, "es").await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["contact_kept"], true);
    assert!(!ticket.to_string().contains(CITIZEN), "the reply never repeats a contact: {ticket}");
    let number = ticket["number"].as_str().expect("number").to_string();

    // One person ahead: the threshold (1) is met at once.
    let near = eventually("the turn-near e-mail", async || {
        server.received().into_iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains("se acerca")))
    })
    .await;
    assert_eq!(near["rcpt_tos"], json!([CITIZEN]));
    let text = near["text"].as_str().expect("text");
    assert!(text.contains(&format!("su turno {number} se acerca")), "{text}");
    assert!(text.contains("Delante: 1"), "{text}");

    let ana = edge.at_counter("ana", "1").await;
    let (_, call) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!(call["ticket"]["number"], first["number"], "the first ticket goes first");
    edge.act(&ana, "1", "start", json!({})).await;
    edge.act(&ana, "1", "finish", json!({ "outcome": "hecho" })).await;
    let (status, call) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!((status, call["ticket"]["number"].as_str()), (StatusCode::OK, Some(number.as_str())));

    let called = eventually("the called e-mail", async || {
        server.received().into_iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains("le llaman")))
    })
    .await;
    assert!(called["text"].as_str().expect("text").contains(&format!("turno {number}, acuda a la ventanilla 1")));

    edge.act(&ana, "1", "start", json!({})).await;
    edge.act(&ana, "1", "finish", json!({ "outcome": "hecho" })).await;
    let survey = eventually("the survey invitation", async || {
        server.received().into_iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains("cómo le atendimos")))
    })
    .await;
    let text = survey["text"].as_str().expect("text");
    assert!(text.contains(&format!("{}/t/", edge.base)), "the survey is on the ticket's page: {text}");
    let unsubscribe = survey["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .find(|h| h[0] == "List-Unsubscribe")
        .and_then(|h| h[1].as_str())
        .expect("an opt-out link in the headers")
        .trim_matches(['<', '>'])
        .to_string();
    assert!(text.contains(&unsubscribe), "and in the text: {text}");
    assert_eq!(subjects(&server).len(), 3, "one of each, no more: {:?}", subjects(&server));

    // Supervisors see every notice and its state; never to whom.
    let sara = edge.login("sara").await;
    let (status, list) = edge.get("/api/v1/notices", Some(&sara)).await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().expect("list").clone();
    assert_eq!(list.len(), 3, "{list:?}");
    assert!(list.iter().all(|n| n["state"] == "sent" && n["medium"] == "email" && n["ticket"] == number.as_str()));
    let (status, _) = edge.get("/api/v1/notices", Some(&ana)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents do not see them");
    let metrics = edge.client.get(format!("{}/metrics", edge.base)).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    assert!(metrics.contains("fila_edge_notices{state=\"sent\"} 3"), "{metrics}");

    // Nothing of the contact is anywhere a response or the day's document can show it.
    for path in ["/api/v1/queue", "/api/v1/notices", "/metrics", "/api/v1/events"] {
        if path == "/api/v1/events" {
            continue;
        }
        let body = edge.client.get(format!("{}{path}", edge.base)).bearer_auth(&sara).send().await.expect("get");
        assert!(!body.text().await.expect("text").contains("maria.garcia"), "{path} shows the contact");
    }
    let (_, office) = edge.get("/api/v1/office", None).await;
    let day_doc = format!("branch/{}/day/{}", office["id"].as_str().expect("id"), office["day"].as_str().expect("day"));
    edge.stop().await;
    common::assert_not_in_documents(dir.path(), &[day_doc], "maria.garcia");
}

#[tokio::test]
async fn the_opt_out_link_stops_every_further_message_to_that_contact() {
    let Some(server) = SmtpServer::start(Mode::Plain, false, REFUSED) else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = settings(dir.path());
    with_smtp(&mut settings, &server);
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    issue_with(&edge, CITIZEN, "en").await;
    let near = eventually("the turn-near e-mail", async || server.received().into_iter().next()).await;
    assert!(near["subject"].as_str().is_some_and(|s| s.contains("your turn is near")), "{near}");
    let text = near["text"].as_str().expect("text");
    let link = text.lines().find_map(|l| l.strip_prefix("No more messages: ")).expect("an opt-out line").trim();

    // A mail scanner that opens the link stops nothing; the button does.
    let page = edge.client.get(link).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("html").contains("<form method=\"post\""));
    // The link with its last character changed (to another one: a link may end in "0").
    let other = if link.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{other}", &link[..link.len() - 1]);
    let refused = edge.client.post(&forged).send().await.expect("forged");
    assert_eq!(refused.status(), StatusCode::NOT_FOUND, "a link this box did not make stops nothing");
    let done = edge.client.post(link).send().await.expect("opt out");
    assert_eq!(done.status(), StatusCode::OK);

    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    // The same contact on a new ticket is stopped too.
    issue_with(&edge, CITIZEN, "en").await;
    edge.act(&ana, "1", "start", json!({})).await;
    edge.act(&ana, "1", "finish", json!({})).await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(server.received().len(), 1, "nothing after the opt-out: {:?}", subjects(&server));
    edge.stop().await;
}

#[tokio::test]
async fn a_contact_can_be_added_on_the_tracking_page_and_bad_ones_change_nothing() {
    let Some(server) = SmtpServer::start(Mode::Plain, false, REFUSED) else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = settings(dir.path());
    with_smtp(&mut settings, &server);
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    let before = edge.tickets_today().await;
    let (status, body) = issue_with(&edge, "not an address@", "es").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_contact")));
    let (status, body) = issue_with(&edge, PHONE, "es").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("no_channel")), "no SMS here");
    assert_eq!(edge.tickets_today().await, before, "a refused contact issued no ticket");

    let ticket = edge.issue("general").await;
    let token = ticket["tracking_token"].as_str().or(ticket["token"].as_str()).map(str::to_string);
    let token = token.unwrap_or_else(|| {
        let url = ticket["tracking_url"].as_str().expect("a tracking link");
        url.rsplit('/').next().expect("token").to_string()
    });
    let (status, _) = edge.post(&format!("/api/v1/track/{token}/contact"), None, json!({ "contact": CITIZEN })).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = edge.post("/api/v1/track/nope/contact", None, json!({ "contact": CITIZEN })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    eventually("the turn-near e-mail after adding the contact", async || server.received().into_iter().next()).await;
    edge.stop().await;
}

#[tokio::test]
async fn a_refused_recipient_fails_at_once_and_a_mail_server_that_is_down_is_retried() {
    let Some(mut server) = SmtpServer::start(Mode::Plain, false, REFUSED) else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = settings(dir.path());
    with_smtp(&mut settings, &server);
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let sara = edge.login("sara").await;

    issue_with(&edge, REFUSED, "es").await;
    let failed = eventually("the refused notice", async || {
        let (_, list) = edge.get("/api/v1/notices", Some(&sara)).await;
        list.as_array()?.iter().find(|n| n["state"] == "failed").cloned()
    })
    .await;
    assert_eq!(failed["attempts"], 1, "a refusal is not retried: {failed}");
    assert!(failed["reason"].as_str().is_some_and(|r| r.contains("550") && !r.contains("nadie")), "{failed}");

    server.stop();
    issue_with(&edge, CITIZEN, "es").await;
    let waiting = eventually("the notice waiting for the server", async || {
        let (_, list) = edge.get("/api/v1/notices", Some(&sara)).await;
        list.as_array()?.iter().find(|n| n["state"] == "queued" && n["attempts"] == 1).cloned()
    })
    .await;
    assert!(waiting["reason"].as_str().is_some_and(|r| !r.is_empty()), "the supervisor sees why: {waiting}");
    edge.stop().await;
}

/// An emulated GSM modem on a pseudo-terminal, as `[devices.modem]`.
async fn with_modem(settings: &mut Settings, dir: &Path, emulator: &Emulator) {
    let link = dir.join("modem");
    let (serving, pty) = (emulator.clone(), link.clone());
    tokio::spawn(async move { serving.serve_pty(&pty).await });
    eventually("the emulated modem", async || link.exists().then_some(())).await;
    settings.devices.modem = Some(fila_edge::settings::devices::ModemSettings { path: link, baud: 115_200 });
    settings.notices = Some(notices("turn_near_ahead = 0\nturn_near_minutes = 0\n", true));
}

#[tokio::test]
async fn a_call_reaches_a_phone_through_the_modem_with_its_accents_and_stop_ends_the_messages() {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let emulator = Emulator::new().quiet();
    let mut settings = settings(dir.path());
    with_modem(&mut settings, dir.path(), &emulator).await;
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let sara = edge.login("sara").await;

    let (status, ticket) = issue_with(&edge, "600 111 222", "es").await;
    assert_eq!(status, StatusCode::CREATED, "a national number takes the office's country code: {ticket}");
    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    let sms =
        eventually("the call by SMS", async || emulator.sent().into_iter().find(|sms| sms.text.contains("ventanilla")))
            .await;
    assert_eq!(sms.to, PHONE);
    assert!(sms.text.contains("acuda a la ventanilla 1"), "{}", sms.text);
    assert!(sms.text.ends_with("Responda STOP para no recibir mensajes."), "{}", sms.text);
    let modem = eventually("the modem online", async || {
        let (_, devices) = edge.get("/api/v1/devices", Some(&sara)).await;
        devices.as_array()?.iter().find(|d| d["id"] == "modem" && d["online"] == true).cloned()
    })
    .await;
    assert_eq!(modem["kind"], "modem");

    // The citizen answers STOP: the survey after their visit is not sent, nor anything later.
    emulator.inject_sms(PHONE, "Stop").expect("reply");
    edge.act(&ana, "1", "start", json!({})).await;
    edge.act(&ana, "1", "finish", json!({})).await;
    let survey = eventually("the survey notice to end", async || {
        let (_, list) = edge.get("/api/v1/notices", Some(&sara)).await;
        let survey = list.as_array()?.iter().find(|n| n["kind"] == "survey_invite")?.clone();
        (survey["state"] == "failed").then_some(survey)
    })
    .await;
    assert!(survey["reason"].as_str().is_some_and(|r| r.contains("STOP")), "{survey}");
    let sent: Vec<String> = emulator.sent().into_iter().map(|sms| sms.text).collect();
    assert_eq!(sent.len(), 2, "next in line, then the call; nothing after STOP: {sent:?}");
    let (status, ticket) = issue_with(&edge, PHONE, "es").await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    edge.act(&ana, "1", "call-next", json!({})).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(emulator.sent().len(), 2, "an opted-out number hears nothing on a new ticket");
    edge.stop().await;
}

#[tokio::test]
async fn a_modem_without_its_sim_is_an_alert_and_its_messages_wait() {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let emulator = Emulator::new().quiet();
    emulator.remove_sim();
    let mut settings = settings(dir.path());
    with_modem(&mut settings, dir.path(), &emulator).await;
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let sara = edge.login("sara").await;

    let modem = eventually("the modem reported without a SIM", async || {
        let (_, devices) = edge.get("/api/v1/devices", Some(&sara)).await;
        devices.as_array()?.iter().find(|d| d["id"] == "modem" && d["online"] == false).cloned()
    })
    .await;
    assert!(modem["last_error"].as_str().is_some_and(|e| e.contains("SIM")), "{modem}");
    let (_, queue) = edge.get("/api/v1/queue", Some(&sara)).await;
    assert!(queue.to_string().contains("the SMS modem is offline"), "supervisors are alerted: {queue}");

    issue_with(&edge, PHONE, "es").await;
    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    let waiting = eventually("the call notice waiting", async || {
        let (_, list) = edge.get("/api/v1/notices", Some(&sara)).await;
        list.as_array()?.iter().find(|n| n["state"] == "queued" && n["attempts"].as_u64() >= Some(1)).cloned()
    })
    .await;
    assert!(waiting["reason"].as_str().is_some_and(|r| r.contains("SIM")), "{waiting}");
    assert!(emulator.sent().is_empty());
    edge.stop().await;
}

/// Whether any of the box's stored values beside the documents (contacts, notices, opt-outs)
/// holds `needle`; opened once the edge let go of its store.
fn kept_on_disk(data: &Path, needle: &str) -> bool {
    use fila_store::Store;
    let store = (0..100)
        .find_map(|_| {
            fila_store::SledStore::open(&data.join("store"), 8 << 20)
                .inspect_err(|_| std::thread::sleep(Duration::from_millis(50)))
                .ok()
        })
        .expect("store");
    let meta = store.scan_meta("").expect("meta");
    meta.iter().any(|(key, value)| key.contains(needle) || String::from_utf8_lossy(value).contains(needle))
}

#[tokio::test]
async fn a_contact_is_deleted_with_its_notices_once_the_retention_period_has_passed() {
    let Some(server) = SmtpServer::start(Mode::Plain, false, REFUSED) else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = settings(dir.path());
    with_smtp(&mut settings, &server);
    let start = jiff::Timestamp::now();
    let (clock, now) = common::manual_clock(start.as_millisecond());

    let edge = common::spawn_settings(settings.clone(), clock.clone()).await;
    issue_with(&edge, CITIZEN, "es").await;
    let sara = edge.login("sara").await;
    eventually("the turn-near e-mail sent", async || {
        let (_, list) = edge.get("/api/v1/notices", Some(&sara)).await;
        list.as_array()?.iter().any(|n| n["state"] == "sent").then_some(())
    })
    .await;
    edge.stop().await;
    assert!(kept_on_disk(dir.path(), CITIZEN), "the contact is kept while its notices may still go");

    // The box is next up 31 days later (the retention period is 30 days).
    let later = start + jiff::SignedDuration::from_hours(31 * 24);
    now.store(later.as_millisecond(), std::sync::atomic::Ordering::SeqCst);
    let edge = common::spawn_settings(settings, clock).await;
    let sara = edge.login("sara").await;
    eventually("the old notices forgotten", async || {
        let (_, list) = edge.get("/api/v1/notices", Some(&sara)).await;
        list.as_array()?.is_empty().then_some(())
    })
    .await;
    edge.stop().await;
    assert!(!kept_on_disk(dir.path(), CITIZEN), "the contact is gone from the box");
    assert!(!kept_on_disk(dir.path(), "maria.garcia"), "in no form");
}
