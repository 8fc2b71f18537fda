//! The office's devices, end to end: emulated printer and displays (the same emulators as the
//! demo's, speaking the real protocols over TCP and a pty), the real Mosquitto for MQTT.

mod common;
// One rule for every test that needs a program: fail on CI, skip with a notice elsewhere.
#[path = "../../devices/tests/tools/mod.rs"]
mod tools;

use std::path::Path;
use std::time::Duration;

use common::{spawn_settings, KIOSK};
use fila_devices::escpos::{self, PrinterProfile, PrinterStatus, PrinterTransport};
use fila_devices::modbus::{self, BusSettings, EmulatedDisplay, RegisterMap, TextEncoding};
use fila_edge::demo;
use fila_edge::settings::devices::{BusSpec, DisplayKind, DisplaySettings, PrinterSettings};
use fila_edge::settings::{KioskSettings, Settings};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::watch;

fn settings(dir: &Path) -> Settings {
    demo::settings("127.0.0.1:0".parse().expect("address"), dir.to_path_buf())
}

/// A printer emulator on a local port, wired to the demo kiosk.
async fn with_printer(settings: &mut Settings, out: &Path, status: PrinterStatus) -> watch::Sender<PrinterStatus> {
    let (set_status, status_rx) = watch::channel(status);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let options = escpos::EmulatorOptions {
        profile: PrinterProfile::default(),
        out_dir: Some(out.to_path_buf()),
        status: status_rx,
    };
    tokio::spawn(escpos::serve_tcp(listener, options));
    settings.devices.printers.push(PrinterSettings {
        id: "entrada".into(),
        kiosks: vec!["entrada".into()],
        transport: PrinterTransport::Tcp { address },
        profile: PrinterProfile::default(),
        poll: Duration::from_millis(300),
    });
    set_status
}

fn printed(out: &Path) -> Vec<String> {
    // The tickets, not what the emulator is still writing.
    let is_ticket =
        |path: &std::path::PathBuf| path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("ticket-"));
    let mut files: Vec<_> =
        std::fs::read_dir(out).map(|d| d.flatten().map(|e| e.path()).filter(is_ticket).collect()).unwrap_or_default();
    files.sort();
    files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect()
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// One device as `GET /api/v1/devices` lists it.
async fn device(edge: &common::TestEdge, token: &str, id: &str) -> Option<Value> {
    let (_, devices) = edge.get("/api/v1/devices", Some(token)).await;
    devices.as_array()?.iter().find(|d| d["id"] == id).cloned()
}

/// Waits until the device's `field` reads `value`.
async fn device_shows(edge: &common::TestEdge, token: &str, id: &str, field: &str, value: Value) {
    let what = format!("{id}'s {field} to be {value}");
    eventually(&what, async || (device(edge, token, id).await?[field] == value).then_some(())).await;
}

#[tokio::test]
async fn a_ticket_is_printed_at_the_kiosk_printer_in_spanish_with_its_qr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("printed");
    let mut settings = settings(dir.path());
    let _status = with_printer(&mut settings, &out, PrinterStatus::Ok).await;
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    let (status, ticket) = edge.post("/api/v1/tickets", Some(KIOSK), json!({ "service": "general" })).await;
    assert_eq!(status, StatusCode::CREATED, "{ticket}");
    assert_eq!(ticket["print"]["printed"], true, "{ticket}");
    assert_eq!(ticket["print"]["printer"], "entrada");

    let text = eventually("the printed ticket", async || printed(&out).pop()).await;
    assert!(text.contains("Oficina Centro"), "{text}");
    assert!(text.contains("A-001"), "{text}");
    assert!(text.contains("Atención general"), "{text}");
    let token = ticket["token"].as_str().expect("token");
    assert!(text.contains(&format!("/t/{token}")), "the QR leads to the tracking page: {text}");
    edge.stop().await;
}

#[tokio::test]
async fn out_of_paper_the_kiosk_shows_the_ticket_on_screen_and_supervisors_are_alerted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("printed");
    let mut settings = settings(dir.path());
    let paper = with_printer(&mut settings, &out, PrinterStatus::Out).await;
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let supervisor = edge.login("sara").await;

    device_shows(&edge, &supervisor, "entrada", "paper", json!("out")).await;
    let (status, ticket) = edge.post("/api/v1/tickets", Some(KIOSK), json!({ "service": "general" })).await;
    assert_eq!(status, StatusCode::CREATED, "issuing never waits for paper: {ticket}");
    assert_eq!(ticket["print"]["printed"], false, "{ticket}");
    assert_eq!(ticket["print"]["status"], "out");
    assert!(ticket["tracking_url"].as_str().is_some(), "the screen can show the QR instead");
    assert!(printed(&out).is_empty());

    let (_, queue) = edge.get("/api/v1/queue", Some(&supervisor)).await;
    let alert = queue["alerts"].as_array().expect("alerts").iter().find(|a| a["kind"] == "printer_paper_out").cloned();
    assert_eq!(alert.expect("a paper alert")["device"], "entrada");
    let agent = edge.login("ana").await;
    let (_, queue) = edge.get("/api/v1/queue", Some(&agent)).await;
    assert!(queue["alerts"].as_array().expect("alerts").is_empty(), "devices are the supervisor's: {queue}");

    // Paper back in: the next citizen gets a paper ticket again.
    paper.send_replace(PrinterStatus::Ok);
    device_shows(&edge, &supervisor, "entrada", "paper", json!("ok")).await;
    let (_, ticket) = edge.post("/api/v1/tickets", Some(KIOSK), json!({ "service": "general" })).await;
    assert_eq!(ticket["print"]["printed"], true, "{ticket}");
    edge.stop().await;
}

#[tokio::test]
async fn an_unreachable_printer_never_holds_up_a_citizen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(dir.path());
    // Nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    settings.devices.printers.push(PrinterSettings {
        id: "entrada".into(),
        kiosks: vec![],
        transport: PrinterTransport::Tcp { address: format!("127.0.0.1:{port}") },
        profile: PrinterProfile::default(),
        poll: Duration::from_millis(300),
    });
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let (status, ticket) = edge.post("/api/v1/tickets", Some(KIOSK), json!({ "service": "general" })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(ticket["print"]["printed"], false, "{ticket}");
    assert!(ticket["print"]["reason"].as_str().is_some_and(|r| !r.is_empty()), "{ticket}");
    assert_eq!(edge.tickets_today().await, 1);
    edge.stop().await;
}

fn led_map() -> RegisterMap {
    RegisterMap {
        text_register: 0x0080,
        text_chars: 8,
        encoding: TextEncoding::Ascii,
        blink_register: Some(0x0010),
        brightness_register: None,
    }
}

/// Modbus displays for counters 1 and 2 (units 1, 2) on an emulated RS-485 line.
async fn with_displays(settings: &mut Settings, dir: &Path) -> std::sync::Arc<modbus::Emulator> {
    std::fs::create_dir_all(dir).expect("line directory");
    let emulator = std::sync::Arc::new(modbus::Emulator::new(vec![
        EmulatedDisplay { unit: 1, counter: "1".into(), map: led_map() },
        EmulatedDisplay { unit: 2, counter: "2".into(), map: led_map() },
    ]));
    let link = dir.join("rs485");
    let (serving, pty) = (emulator.clone(), link.clone());
    tokio::spawn(async move { serving.serve_pty(&pty).await });
    eventually("the emulated line", async || link.exists().then_some(())).await;
    settings.devices.buses.push(BusSpec {
        id: "rs485".into(),
        settings: BusSettings { path: link, baud: 9600, timeout_ms: 200, retries: 2 },
    });
    for unit in [1u8, 2] {
        settings.devices.displays.push(DisplaySettings {
            counter: unit.to_string(),
            kind: DisplayKind::Modbus { bus: "rs485".into(), unit, map: led_map() },
        });
    }
    emulator
}

#[tokio::test]
async fn a_call_lights_the_counters_display_and_closing_the_counter_blanks_it() {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(dir.path());
    let displays = with_displays(&mut settings, dir.path()).await;
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    edge.issue("general").await;
    edge.issue("general").await;
    let ana = edge.at_counter("ana", "1").await;
    let beto = edge.at_counter("beto", "2").await;
    let (status, _) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = edge.act(&beto, "2", "call-next", json!({})).await;
    assert_eq!(status, StatusCode::OK);

    let shown = |unit: u8| displays.shown(unit).unwrap_or_default();
    eventually("counter 1's display", async || shown(1).contains("A-001").then_some(())).await;
    eventually("counter 2's display", async || shown(2).contains("A-002").then_some(())).await;
    assert!(shown(1).trim_end().ends_with('1'), "the counter is on the display: {:?}", shown(1));

    let (status, _) = edge.act(&ana, "1", "finish", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = edge.act(&ana, "1", "close", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    eventually("counter 1's display blank", async || shown(1).trim().is_empty().then_some(())).await;
    assert!(shown(2).contains("A-002"), "the other display is untouched");

    let supervisor = edge.login("sara").await;
    let display = device(&edge, &supervisor, "display-1").await.expect("listed");
    assert_eq!(display["online"], true, "{display}");
    assert_eq!(display["counter"], "1");
    edge.stop().await;
}

#[tokio::test]
async fn after_a_restart_the_displays_show_each_counters_current_ticket_again() {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = tempfile::tempdir().expect("tempdir");
    let before = {
        let mut settings = settings(dir.path());
        let displays = with_displays(&mut settings, &lines.path().join("before")).await;
        let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
        edge.issue("general").await;
        edge.issue("general").await;
        let ana = edge.at_counter("ana", "1").await;
        let beto = edge.at_counter("beto", "2").await;
        edge.act(&ana, "1", "call-next", json!({})).await;
        edge.act(&beto, "2", "call-next", json!({})).await;
        let (status, _) = edge.act(&beto, "2", "finish", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        eventually("counter 2 idle", async || displays.shown(2)?.trim().is_empty().then_some(())).await;
        edge.stop().await;
        displays
    };
    assert!(before.shown(1).unwrap_or_default().contains("A-001"));

    // New displays (say, replaced overnight) on a restarted edge: told the state, not history.
    let mut settings = settings(dir.path());
    let displays = with_displays(&mut settings, &lines.path().join("after")).await;
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    eventually("counter 1 shows its ticket", async || displays.shown(1)?.contains("A-001").then_some(())).await;
    assert!(displays.shown(2).unwrap_or_default().trim().is_empty(), "counter 2 finished its ticket: blank");
    assert_eq!(displays.blink(1), Some(0), "not a new call: no blinking");
    edge.stop().await;
}

#[tokio::test]
async fn a_display_that_stops_answering_is_an_alert_and_never_blocks_calling() {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(dir.path());
    let displays = with_displays(&mut settings, dir.path()).await;
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let supervisor = edge.login("sara").await;
    displays.set_silent(1, true);

    edge.issue("general").await;
    let ana = edge.at_counter("ana", "1").await;
    let started = std::time::Instant::now();
    let (status, _) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    // Not a speed target: calling must not wait for the display's retries (3 × 200 ms).
    assert!(started.elapsed() < Duration::from_millis(600), "calling waited for the display");

    let alert = eventually("the offline alert", async || {
        let (_, queue) = edge.get("/api/v1/queue", Some(&supervisor)).await;
        queue["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["kind"] == "device_offline" && a["device"] == "display-1")
            .cloned()
    })
    .await;
    assert!(alert["message"].as_str().expect("message").contains("counter 1"), "{alert}");

    // It answers again: it shows the ticket called while it was away.
    displays.set_silent(1, false);
    eventually("the display back", async || displays.shown(1)?.contains("A-001").then_some(())).await;
    edge.stop().await;
}

#[tokio::test]
async fn an_rs485_adapter_plugged_in_after_the_start_shows_the_current_call() {
    let _pty = common::PTY.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(dir.path());
    let link = dir.path().join("rs485-late");
    settings.devices.buses.push(BusSpec {
        id: "rs485".into(),
        settings: BusSettings { path: link.clone(), baud: 9600, timeout_ms: 100, retries: 1 },
    });
    settings.devices.displays.push(DisplaySettings {
        counter: "1".into(),
        kind: DisplayKind::Modbus { bus: "rs485".into(), unit: 1, map: led_map() },
    });
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let supervisor = edge.login("sara").await;
    edge.issue("general").await;
    let ana = edge.at_counter("ana", "1").await;
    let (status, _) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!(status, StatusCode::OK, "calling works with the line missing");
    device_shows(&edge, &supervisor, "display-1", "online", json!(false)).await;

    let display = modbus::Emulator::new(vec![EmulatedDisplay { unit: 1, counter: "1".into(), map: led_map() }]);
    let serving = display.clone();
    tokio::spawn(async move { serving.serve_pty(&link).await });
    eventually("the late display lit", async || display.shown(1)?.contains("A-001").then_some(())).await;
    edge.stop().await;
}

#[tokio::test]
async fn devices_are_for_staff_and_metrics_show_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(dir.path());
    let out = dir.path().join("printed");
    let _status = with_printer(&mut settings, &out, PrinterStatus::Ok).await;
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    let (status, body) = edge.get("/api/v1/devices", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = edge.get("/api/v1/devices", Some(KIOSK)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let agent = edge.login("ana").await;
    let (status, devices) = edge.get("/api/v1/devices", Some(&agent)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(devices[0]["kind"], "printer");
    let metrics = eventually("the printer online", async || {
        let text = reqwest::get(format!("{}/metrics", edge.base)).await.ok()?.text().await.ok()?;
        text.contains("fila_edge_device_online{device=\"entrada\",kind=\"printer\"} 1").then_some(text)
    })
    .await;
    assert!(metrics.contains("# TYPE fila_edge_device_online gauge"));
    edge.stop().await;
}

#[tokio::test]
async fn the_spoken_call_is_served_only_for_calls_the_office_could_make() {
    let dir = tempfile::tempdir().expect("tempdir");
    let edge = spawn_settings(settings(dir.path()), fila_edge::office_loop::system_clock()).await;
    let cases: [(&str, &str); 4] = [
        ("ticket=hello&counter=1", "bad_ticket"),
        ("ticket=A-023&counter=99", "bad_counter"),
        ("ticket=A-023&counter=1&lang=fr", "bad_lang"),
        ("ticket=A-023", "bad_query"),
    ];
    for (query, code) in cases {
        let (status, body) = edge.get(&format!("/api/v1/audio/call?{query}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"], code, "{query}: {body}");
    }
    let (status, body) = edge.get("/api/v1/audio/call?ticket=A-001&counter=1", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only calls made today: {body}");
    edge.issue("general").await;
    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    let response =
        reqwest::get(format!("{}/api/v1/audio/call?ticket=A-001&counter=1&lang=es", edge.base)).await.expect("request");
    let espeak = std::process::Command::new("espeak-ng").arg("--version").output().is_ok();
    if espeak {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "audio/wav");
        let wav = response.bytes().await.expect("body");
        assert_eq!(&wav[..4], b"RIFF");
        assert!(wav.len() > 44_100, "a chime and a phrase, not silence: {} bytes", wav.len());
    } else {
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "no engine: the page uses the browser's voice");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "no_speech_engine");
    }
    edge.stop().await;
}

/// The real Mosquitto on 127.0.0.1:1883; a test without it is skipped on a newcomer's machine
/// (CI has one and fails instead).
async fn broker() -> Option<fila_devices::mqtt::MqttSettings> {
    let up = tokio::net::TcpStream::connect("127.0.0.1:1883").await.is_ok();
    if !tools::available(up, "an MQTT broker on 127.0.0.1:1883", "apt-get install mosquitto") {
        return None;
    }
    // A prefix of its own, so runs never see each other's retained states.
    let prefix = format!("fila-test-{}", rand_suffix());
    let client_id = Some(format!("{prefix}-edge"));
    Some(fila_devices::mqtt::MqttSettings { prefix, client_id, keep_alive_secs: 2, ..Default::default() })
}

/// Clear every retained message under `prefix`, so test runs leave the shared broker as they
/// found it. The broker sends a subscription's retained messages, and handles a client's packets,
/// in order: a marker published after subscribing comes back after every retained message, and
/// one published after the clears comes back once they are done.
async fn clear_retained(prefix: &str) {
    use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
    let (client, mut events) = AsyncClient::new(MqttOptions::new(format!("{prefix}-cleaner"), "127.0.0.1", 1883), 64);
    let marker = format!("{prefix}/test-marker");
    let until_marker = async |events: &mut rumqttc::EventLoop| {
        let mut topics = std::collections::BTreeSet::new();
        let read = async {
            loop {
                match events.poll().await.expect("the cleaner stays connected") {
                    Event::Incoming(Packet::Publish(publish)) if publish.topic == marker => return,
                    Event::Incoming(Packet::Publish(publish)) if publish.retain && !publish.payload.is_empty() => {
                        topics.insert(publish.topic);
                    }
                    _ => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(5), read).await.expect("the marker came back");
        topics
    };
    client.subscribe(format!("{prefix}/#"), QoS::AtLeastOnce).await.expect("subscribe queued");
    client.publish(&marker, QoS::AtLeastOnce, false, b"marker".to_vec()).await.expect("marker queued");
    let topics = until_marker(&mut events).await;
    for topic in topics {
        client.publish(topic, QoS::AtLeastOnce, true, Vec::new()).await.expect("clear queued");
    }
    client.publish(&marker, QoS::AtLeastOnce, false, b"marker".to_vec()).await.expect("marker queued");
    until_marker(&mut events).await;
}

fn rand_suffix() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos}", std::process::id())
}

#[tokio::test]
async fn mqtt_displays_show_calls_and_hardware_buttons_issue_tickets() {
    let Some(mqtt) = broker().await else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("printed");
    let mut settings = settings(dir.path());
    let _paper = with_printer(&mut settings, &out, PrinterStatus::Ok).await;
    settings.devices.mqtt = Some(mqtt.clone());
    settings.devices.displays.push(DisplaySettings { counter: "1".into(), kind: DisplayKind::Mqtt });
    settings.kiosks.push(KioskSettings { id: "lateral".into(), token_sha256: "ab".repeat(32) });
    let office = settings.office.id.clone();
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    let (shown_tx, mut shown) = watch::channel(None);
    let display = {
        let (mqtt, office) = (mqtt.clone(), office.clone());
        tokio::spawn(async move { fila_devices::mqtt::run_display(&mqtt, &office, "1", shown_tx).await })
    };
    let supervisor = edge.login("sara").await;
    device_shows(&edge, &supervisor, "mqtt-display-1", "online", json!(true)).await;

    // A hardware button at the entrance asks for a ticket: it is issued and printed.
    let reply = fila_devices::mqtt::press_button(&mqtt, &office, "entrada", "general")
        .await
        .expect("button pressed")
        .expect("the edge answered");
    assert_eq!(reply.ticket.as_deref(), Some("A-001"), "{reply:?}");
    eventually("the button's ticket printed", async || printed(&out).pop()?.contains("A-001").then_some(())).await;
    // A bouncing button gets one ticket per second at most.
    let reply = fila_devices::mqtt::press_button(&mqtt, &office, "entrada", "general")
        .await
        .expect("button pressed")
        .expect("the edge answered");
    assert!(reply.ticket.is_none() && reply.error.as_deref().is_some_and(|e| e.contains("too soon")), "{reply:?}");
    // Another kiosk's button is its own; a service the office does not have gives no ticket.
    let reply = fila_devices::mqtt::press_button(&mqtt, &office, "lateral", "no-such-service")
        .await
        .expect("button pressed")
        .expect("the edge answered");
    assert!(reply.ticket.is_none() && reply.error.as_deref().is_some_and(|e| !e.contains("too soon")), "{reply:?}");

    let ana = edge.at_counter("ana", "1").await;
    let (status, _) = edge.act(&ana, "1", "call-next", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let state = tokio::time::timeout(
        Duration::from_secs(5),
        shown.wait_for(|s| s.as_ref().is_some_and(|s| s.ticket.is_some())),
    )
    .await
    .expect("the display heard the call")
    .expect("display running")
    .clone()
    .expect("state");
    assert_eq!(state.ticket.as_deref(), Some("A-001"));
    assert_eq!(state.label, "Puesto 1");

    // The display is unplugged: its last will tells the edge.
    display.abort();
    eventually("the MQTT display offline", async || {
        let (_, queue) = edge.get("/api/v1/queue", Some(&supervisor)).await;
        queue["alerts"].as_array()?.iter().find(|a| a["device"] == "mqtt-display-1").cloned()
    })
    .await;
    edge.stop().await;
    clear_retained(&mqtt.prefix).await;
}

#[tokio::test]
async fn a_kiosks_button_and_its_touch_screen_share_one_ticket_rate() {
    let Some(mqtt) = broker().await else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(dir.path());
    settings.devices.mqtt = Some(mqtt.clone());
    settings.security.kiosk_issues = fila_edge::throttle::Rate { per_minute: 1, burst: 1 };
    let office = settings.office.id.clone();
    let edge = spawn_settings(settings, fila_edge::office_loop::system_clock()).await;
    // Let the edge's subscription to the buttons be live before pressing.
    let supervisor = edge.login("sara").await;
    device_shows(&edge, &supervisor, "broker", "online", json!(true)).await;

    assert_eq!(edge.issue("general").await["number"], "A-001", "the touch screen takes the kiosk's one ticket");
    let reply = fila_devices::mqtt::press_button(&mqtt, &office, "entrada", "general")
        .await
        .expect("button pressed")
        .expect("the edge answered");
    assert!(reply.ticket.is_none(), "a script on the button box cannot print past the rate: {reply:?}");
    assert!(reply.error.as_deref().is_some_and(|e| e.contains("faster than people")), "{reply:?}");
    edge.stop().await;
}
