//! Headquarters' alerts over real HTTP: an edge (the real office core) syncs a day where a
//! citizen waits past the target and a preferential citizen past the legal maximum; headquarters
//! sees the alerts in `/api/v1/alerts` and `/metrics`, and the operations address gets one e-mail
//! per alert through central's outbox and a real SMTP server on loopback (aiosmtpd). An office
//! that goes offline, and a box that reports a printer down, are alerts too.

mod common;

use std::time::Duration;

use common::docs_edge::Edge;
use common::{TestCentral, CENTRO, HQ, T0};
use fila_notify::testing::{Mode, SmtpServer};
use fila_protocol::office::{Actor, Priority};
use fila_protocol::{AgentId, CategoryId, Command, CounterId, RawOfficeConfig, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CONFIG: &str = r#"
    [office]
    id = "centro"
    name = "Oficina Centro"
    time_zone = "America/Argentina/Buenos_Aires"

    [[services]]
    id = "general"
    prefix = "A"
    name = "Atención general"
    target_wait_minutes = 20

    [[categories]]
    id = "embarazada"
    name = "Embarazada"
    max_wait_minutes = 30

    [[counters]]
    id = "1"
    name = "Puesto 1"
    services = ["general"]
"#;
const OPS: &str = "guardia@example.gob";

fn at(minutes: i64) -> Timestamp {
    Timestamp(T0.0 + minutes * 60_000)
}

/// Central with alerts e-mailed to the operations address, its rules applied often.
async fn central_with_ops(dir: &std::path::Path, smtp: Option<&SmtpServer>) -> TestCentral {
    let mut settings = common::settings(dir);
    if let Some(smtp) = smtp {
        settings.smtp = Some(toml::from_str(&smtp.settings_toml("none", "")).expect("SMTP settings"));
        settings.alerts.email = vec![OPS.into()];
    }
    settings.alerts.evaluate_every = Duration::from_millis(50);
    settings.alerts.offline = Duration::from_millis(300);
    // Central's clock stands still in these tests: a device down counts at once.
    settings.alerts.device_down = Duration::ZERO;
    common::spawn_with(settings).await
}

/// The open alerts, once `check` holds for them (bounded by `PATIENCE`).
async fn alerts_when(central: &TestCentral, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    loop {
        let (status, alerts) = central.get("/api/v1/alerts", Some(HQ)).await;
        assert_eq!(status, StatusCode::OK, "{alerts}");
        if check(&alerts) {
            return alerts;
        }
        assert!(tokio::time::Instant::now() < deadline, "never {what}: {alerts}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn kinds(alerts: &Value, list: &str) -> Vec<String> {
    alerts[list]
        .as_array()
        .map_or_else(Vec::new, |a| a.iter().map(|x| x["kind"].as_str().unwrap_or("").into()).collect())
}

#[tokio::test]
async fn a_wait_past_target_and_a_preferential_citizen_past_the_legal_maximum_alert_headquarters_once() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let central = central_with_ops(dir.path(), Some(&smtp)).await;
    // 10:00 at Centro: one citizen has waited 40 minutes (target 20, so past it since 09:40),
    // a pregnant woman 35 (legal maximum 30, so past it since 09:55).
    let config = RawOfficeConfig::parse_toml(CONFIG).expect("valid");
    let mut edge = Edge::new(config, at(-60));
    edge.add_config();
    let ana = Actor { agent: AgentId::new("ana"), supervisor: false };
    edge.run(at(-60), Command::SignIn { counter: CounterId::new("1"), by: ana.clone() });
    edge.issue(at(-40), Priority::Normal);
    edge.issue(at(-35), Priority::Preferential(CategoryId::new("embarazada")));
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;

    let alerts = alerts_when(&central, "both alerts", |a| kinds(a, "open").len() == 2).await;
    let open = &alerts["open"];
    assert_eq!(
        (&open[0]["kind"], &open[0]["office"], &open[0]["since_ms"]),
        (&json!("wait_above_target"), &json!("centro"), &json!(at(-20).0))
    );
    assert_eq!((&open[1]["kind"], &open[1]["since_ms"]), (&json!("preferential_past_legal_max"), &json!(at(-5).0)));
    assert!(
        !alerts.to_string().contains("A-00") && !alerts.to_string().contains("P-00"),
        "no ticket numbers: {alerts}"
    );
    assert_eq!(central.metric("fila_central_alerts_open{kind=\"wait_above_target\"}").await, 1);
    assert_eq!(central.metric("fila_central_alerts_open{kind=\"preferential_past_legal_max\"}").await, 1);
    assert_eq!(central.metric("fila_central_alerts_raised_total{kind=\"preferential_past_legal_max\"}").await, 1);
    assert_eq!(central.metric("fila_central_alerts_open{kind=\"offline\"}").await, 0);

    // The operations address hears of each, with when it began in the office's time.
    let mails = wait_for(|| Some(smtp.received()).filter(|m| m.len() == 2)).await;
    assert!(mails.iter().all(|m| m["rcpt_tos"] == json!([OPS])), "{mails:?}");
    let preferential = mails
        .iter()
        .find(|m| m["subject"].as_str().is_some_and(|s| s.contains("máximo legal")))
        .expect("the preferential alert's mail");
    assert!(preferential["subject"].as_str().is_some_and(|s| s.contains("Oficina Centro")), "{preferential}");
    assert!(preferential["text"].as_str().is_some_and(|t| t.contains("desde 2026-11-29 09:55")), "{preferential}");

    // She is called (preferential first): that alert closes, the other stays.
    edge.run(at(0), Command::CallNext { counter: CounterId::new("1"), by: ana });
    edge.sync(&mut ws).await;
    let alerts = alerts_when(&central, "the preferential alert closed", |a| kinds(a, "open").len() == 1).await;
    assert_eq!(kinds(&alerts, "open"), ["wait_above_target"]);
    assert_eq!(kinds(&alerts, "closed"), ["preferential_past_legal_max"]);
    assert_eq!(alerts["closed"][0]["closed_ms"], json!(T0.0));
    assert_eq!(central.metric("fila_central_alerts_open{kind=\"preferential_past_legal_max\"}").await, 0);
    assert_eq!(central.metric("fila_central_alerts_raised_total{kind=\"preferential_past_legal_max\"}").await, 1);
    // Rules applied many times since: still one e-mail per alert.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 2);
    assert_eq!(central.get("/api/v1/alerts", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(central.get("/api/v1/alerts", Some(CENTRO)).await.0, StatusCode::UNAUTHORIZED, "not for offices");
    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn a_restarted_central_finds_the_same_alert_and_sends_no_second_email() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = common::settings(dir.path());
    settings.smtp = Some(toml::from_str(&smtp.settings_toml("none", "")).expect("SMTP settings"));
    settings.alerts.email = vec![OPS.into()];
    settings.alerts.evaluate_every = Duration::from_millis(50);
    let central = common::spawn_with(settings.clone()).await;
    let config = RawOfficeConfig::parse_toml(CONFIG).expect("valid");
    let mut edge = Edge::new(config, at(-60));
    edge.add_config();
    edge.issue(at(-40), Priority::Normal);
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;
    alerts_when(&central, "the wait alert", |a| kinds(a, "open") == ["wait_above_target"]).await;
    wait_for(|| Some(smtp.received()).filter(|m| m.len() == 1)).await;
    ws.close().await;
    central.stop().await;

    // Alerts live in memory: the new process opens it again, from the stored day, with the time
    // it began; the outbox knows that episode was told.
    let central = common::spawn_with(settings).await;
    let alerts = alerts_when(&central, "the wait alert again", |a| kinds(a, "open") == ["wait_above_target"]).await;
    assert_eq!(alerts["open"][0]["since_ms"], json!(at(-20).0));
    assert_eq!(central.metric("fila_central_alerts_raised_total{kind=\"wait_above_target\"}").await, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), 1, "one e-mail for one episode");
    central.stop().await;
}

#[tokio::test]
async fn an_office_offline_longer_than_the_threshold_is_an_alert_until_it_is_back() {
    let dir = tempfile::tempdir().expect("dir");
    let central = central_with_ops(dir.path(), None).await;
    let config = RawOfficeConfig::parse_toml(CONFIG).expect("valid");
    let mut edge = Edge::new(config, at(-10));
    edge.issue(at(-10), Priority::Normal);
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;
    ws.close().await;

    // Offline for longer than the threshold (300 ms here, minutes in a real central).
    let alerts = alerts_when(&central, "offline", |a| kinds(a, "open") == ["offline"]).await;
    assert_eq!(alerts["open"][0]["office"], "centro", "norte never synced anything: not installed, no alert");
    assert_eq!(central.metric("fila_central_alerts_open{kind=\"offline\"}").await, 1);

    let ws = central.connect(CENTRO).await;
    let alerts = alerts_when(&central, "back online", |a| kinds(a, "open").is_empty()).await;
    assert_eq!(kinds(&alerts, "closed"), ["offline"]);
    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn a_box_that_reports_a_printer_down_raises_a_device_alert_without_personal_data() {
    let dir = tempfile::tempdir().expect("dir");
    let central = central_with_ops(dir.path(), None).await;
    let _ws = central.connect(CENTRO).await;
    let report = |up: bool| {
        json!({ "devices": [
            { "id": "entrada", "kind": "printer", "up": up, "problem": if up { Value::Null } else { json!("paper_out") } },
            { "id": "broker", "kind": "broker", "up": true }
        ] })
    };
    assert_eq!(post_devices(&central, Some(CENTRO), report(false)).await.0, StatusCode::NO_CONTENT);
    let alerts = alerts_when(&central, "device down", |a| kinds(a, "open") == ["device_down"]).await;
    assert_eq!(alerts["open"][0]["detail"], "down: printer entrada");
    assert_eq!(central.metric("fila_central_alerts_open{kind=\"device_down\"}").await, 1);

    assert_eq!(post_devices(&central, Some(CENTRO), report(true)).await.0, StatusCode::NO_CONTENT);
    alerts_when(&central, "the printer back", |a| kinds(a, "open").is_empty()).await;

    // What is not a device report is refused, naming the problem; only a box may send one.
    let (status, body) =
        post_devices(&central, Some(CENTRO), json!({ "devices": [{ "id": "p 1", "kind": "printer", "up": true }] }))
            .await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("bad_report")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.starts_with("devices[0].id")), "{body}");
    assert_eq!(post_devices(&central, None, report(false)).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(post_devices(&central, Some(HQ), report(false)).await.0, StatusCode::UNAUTHORIZED);
    central.stop().await;
}

async fn post_devices(central: &TestCentral, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = central.client.post(format!("{}/api/v1/branch/devices", central.base)).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("posted");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_for<T>(mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "not within {:?}", common::PATIENCE);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
