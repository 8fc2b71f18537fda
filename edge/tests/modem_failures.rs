//! The office's GSM modem failing the ways real ones do, with an edge sending through an
//! emulated modem on a pseudo-terminal: the network refuses a message (`+CMS ERROR: 38`), the
//! signal is gone, the USB modem resets and its port vanishes. In each case the message is not
//! lost, supervisors see why it waits and are alerted, and it goes once the modem can send.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use fila_edge::settings::{NoticeSettings, Settings};
use fila_notify::modem::Emulator;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::task::JoinHandle;

const PHONE: &str = "+34600111222";
/// The number as a supervisor must never see it, whatever its format.
const DIGITS: &str = "600111222";
/// Long enough for the outbox's first retry (15 s) and the modem's reopening backoff.
const RETRY_DEADLINE: Duration = Duration::from_secs(90);
const DEADLINE: Duration = Duration::from_secs(10);

fn settings(dir: &Path) -> Settings {
    fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.to_path_buf())
}

fn sms_notices() -> NoticeSettings {
    let mut problems = Vec::new();
    let value: toml::Value = toml::from_str("turn_near_ahead = 0\nturn_near_minutes = 0\n").expect("toml");
    let parsed = NoticeSettings::parse(value, true, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    parsed.expect("notices")
}

/// Serves `emulator` on a new pseudo-terminal linked at `link`, as a modem plugged in.
async fn plug_in(emulator: &Emulator, link: &Path) -> JoinHandle<()> {
    let (serving, pty) = (emulator.clone(), link.to_path_buf());
    let task = tokio::spawn(async move {
        let _ = serving.serve_pty(&pty).await;
    });
    eventually("the emulated modem's port", DEADLINE, async || std::fs::read_link(link).is_ok().then_some(())).await;
    task
}

/// The modem's USB connection resets: its process and pseudo-terminal are gone, and so is the
/// device node the edge was configured with.
async fn unplug(serving: JoinHandle<()>, link: &Path) {
    serving.abort();
    let _ = serving.await;
    std::fs::remove_file(link).expect("the link was there");
}

async fn with_modem(dir: &Path, emulator: &Emulator) -> (Settings, PathBuf, JoinHandle<()>) {
    let link = dir.join("modem");
    let serving = plug_in(emulator, &link).await;
    let mut settings = settings(dir);
    settings.devices.modem = Some(fila_edge::settings::devices::ModemSettings { path: link.clone(), baud: 115_200 });
    settings.notices = Some(sms_notices());
    (settings, link, serving)
}

async fn eventually<T>(what: &str, deadline: Duration, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let until = tokio::time::Instant::now() + deadline;
    while tokio::time::Instant::now() < until {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn issue_with_phone(edge: &common::TestEdge) -> String {
    let (status, ticket) =
        edge.post("/api/v1/tickets", Some(common::KIOSK), json!({ "service": "general", "contact": PHONE })).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    ticket["number"].as_str().expect("number").to_string()
}

async fn notice(edge: &common::TestEdge, supervisor: &str, kind: &str) -> Option<Value> {
    let (_, list) = edge.get("/api/v1/notices", Some(supervisor)).await;
    list.as_array()?.iter().find(|n| n["kind"] == kind).cloned()
}

async fn modem_health(edge: &common::TestEdge, supervisor: &str) -> Option<Value> {
    let (_, devices) = edge.get("/api/v1/devices", Some(supervisor)).await;
    devices.as_array()?.iter().find(|d| d["id"] == "modem").cloned()
}

async fn alert(edge: &common::TestEdge, supervisor: &str, which: impl Fn(&Value) -> bool) -> Option<Value> {
    let (_, queue) = edge.get("/api/v1/queue", Some(supervisor)).await;
    queue["alerts"].as_array()?.iter().find(|a| which(a)).cloned()
}

async fn modem_alert(edge: &common::TestEdge, supervisor: &str) -> Option<Value> {
    alert(edge, supervisor, |a| a["device"] == "modem").await
}

async fn failing_alert(edge: &common::TestEdge, supervisor: &str) -> Option<Value> {
    alert(edge, supervisor, |a| a["kind"] == "notices_failing").await
}

/// What the supervisor reads of a waiting notice: why, and never to whom.
fn assert_waiting_because(notice: &Value, why: &[&str]) {
    assert_eq!(notice["state"], "queued", "{notice}");
    let reason = notice["reason"].as_str().unwrap_or_default();
    assert!(why.iter().any(|w| reason.contains(w)), "the supervisor sees why ({why:?}): {notice}");
    assert!(!notice.to_string().contains(DIGITS), "no number in a notice: {notice}");
}

#[tokio::test]
async fn a_network_out_of_order_holds_the_message_with_its_reason_alerts_when_it_persists_and_the_message_goes_when_it_is_back(
) {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let emulator = Emulator::new().quiet();
    let (settings, _link, _serving) = with_modem(dir.path(), &emulator).await;
    // The network refuses the first two tries, then takes messages again.
    emulator.fail_next_sends(2, 38);
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let sara = edge.login("sara").await;

    let number = issue_with_phone(&edge).await;
    let waiting = eventually("the refused notice waiting", DEADLINE, async || {
        notice(&edge, &sara, "turn_near").await.filter(|n| n["attempts"] == 1 && n["state"] == "queued")
    })
    .await;
    assert_waiting_because(&waiting, &["Network out of order"]);
    assert!(waiting["reason"].as_str().is_some_and(|r| r.contains("38")), "with the modem's code: {waiting}");
    assert!(emulator.sent().is_empty(), "the network took nothing");
    let alert = eventually("the supervisor's alert", DEADLINE, async || modem_alert(&edge, &sara).await).await;
    assert!(alert["message"].as_str().is_some_and(|m| m.contains("Network out of order")), "{alert}");

    // Refused again at its retry, though the modem answers its health checks: the waiting
    // messages are the alert now.
    let failing =
        eventually("the failing messages' alert", RETRY_DEADLINE, async || failing_alert(&edge, &sara).await).await;
    let message = failing["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("1 message") && message.contains("Network out of order"), "{failing}");
    assert!(!failing.to_string().contains(DIGITS), "{failing}");

    // Retried after its backoff and delivered.
    let sent = eventually("the retried notice sent", RETRY_DEADLINE, async || {
        notice(&edge, &sara, "turn_near").await.filter(|n| n["state"] == "sent")
    })
    .await;
    assert_eq!(sent["attempts"], 3, "{sent}");
    let delivered = emulator.sent();
    assert_eq!(delivered.len(), 1, "one message, not two: {delivered:?}");
    assert_eq!(delivered[0].to, PHONE);
    assert!(delivered[0].text.contains(&number), "{}", delivered[0].text);
    let modem = modem_health(&edge, &sara).await.expect("the modem");
    assert_eq!(modem["online"], true, "{modem}");
    assert!(modem_alert(&edge, &sara).await.is_none(), "the alert ends once the modem sends");
    assert!(failing_alert(&edge, &sara).await.is_none(), "and so does the messages' one");
    edge.stop().await;
}

#[tokio::test]
async fn a_modem_that_vanishes_is_an_alert_and_its_messages_wait_then_go_when_it_returns() {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let emulator = Emulator::new().quiet();
    let (settings, link, serving) = with_modem(dir.path(), &emulator).await;
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let sara = edge.login("sara").await;

    let number = issue_with_phone(&edge).await;
    eventually("the first message", DEADLINE, async || (emulator.sent().len() == 1).then_some(())).await;
    unplug(serving, &link).await;

    // The next message finds the port gone.
    let ana = edge.at_counter("ana", "1").await;
    let (status, call) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!((status, call["ticket"]["number"].as_str()), (StatusCode::OK, Some(number.as_str())));
    let waiting = eventually("the call waiting for the modem", DEADLINE, async || {
        notice(&edge, &sara, "called").await.filter(|n| n["attempts"].as_u64() >= Some(1) && n["state"] == "queued")
    })
    .await;
    assert_waiting_because(&waiting, &["port is gone", "not connected"]);
    let modem = eventually("the modem offline", DEADLINE, async || {
        modem_health(&edge, &sara).await.filter(|m| m["online"] == false)
    })
    .await;
    assert!(modem["last_error"].as_str().is_some_and(|e| e.contains("port")), "{modem}");
    let alert = eventually("the supervisor's alert", DEADLINE, async || modem_alert(&edge, &sara).await).await;
    assert_eq!(alert["kind"], "device_offline", "{alert}");
    assert_eq!(emulator.sent().len(), 1, "nothing went while it was away");

    // The modem comes back at the same device path: the edge opens it again by itself.
    let _serving = plug_in(&emulator, &link).await;
    let sent = eventually("the waiting call sent", RETRY_DEADLINE, async || {
        notice(&edge, &sara, "called").await.filter(|n| n["state"] == "sent")
    })
    .await;
    assert!(!sent.to_string().contains(DIGITS), "{sent}");
    let texts: Vec<String> = emulator.sent().into_iter().map(|sms| sms.text).collect();
    assert_eq!(texts.len(), 2, "the turn near, then the call, each once: {texts:?}");
    assert!(texts[1].contains("acuda a la ventanilla 1"), "{}", texts[1]);
    eventually("the modem online again", DEADLINE, async || {
        modem_health(&edge, &sara).await.filter(|m| m["online"] == true)
    })
    .await;
    assert!(modem_alert(&edge, &sara).await.is_none(), "the alert ends with the modem back");
    edge.stop().await;
}

#[tokio::test]
async fn a_modem_without_signal_is_an_alert_and_its_messages_wait_then_go_when_the_signal_returns() {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("dir");
    let emulator = Emulator::new().quiet();
    emulator.set_signal(None);
    let (settings, _link, _serving) = with_modem(dir.path(), &emulator).await;
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let sara = edge.login("sara").await;

    let modem = eventually("the modem reported without signal", DEADLINE, async || {
        modem_health(&edge, &sara).await.filter(|m| m["online"] == false)
    })
    .await;
    assert!(modem["last_error"].as_str().is_some_and(|e| e.contains("signal")), "{modem}");
    let alert = eventually("the supervisor's alert", DEADLINE, async || modem_alert(&edge, &sara).await).await;
    assert!(alert["message"].as_str().is_some_and(|m| m.contains("signal")), "{alert}");

    issue_with_phone(&edge).await;
    let waiting = eventually("the notice waiting for signal", DEADLINE, async || {
        notice(&edge, &sara, "turn_near").await.filter(|n| n["attempts"].as_u64() >= Some(1) && n["state"] == "queued")
    })
    .await;
    assert_waiting_because(&waiting, &["signal"]);
    assert!(emulator.sent().is_empty());

    emulator.set_signal(Some(18));
    eventually("the notice sent once the signal is back", RETRY_DEADLINE, async || {
        notice(&edge, &sara, "turn_near").await.filter(|n| n["state"] == "sent")
    })
    .await;
    assert_eq!(emulator.sent().len(), 1);
    eventually("the modem online again", DEADLINE, async || {
        modem_health(&edge, &sara).await.filter(|m| m["online"] == true)
    })
    .await;
    edge.stop().await;
}
