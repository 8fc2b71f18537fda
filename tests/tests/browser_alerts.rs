//! Headquarters' alerts from a real box, in a real headless Chromium: the office's printer stops
//! answering, the box tells central, and the analyst's dashboard shows a device alert above the
//! offices table; then the box goes away and the office-offline alert joins it, live.
//!
//! The box and central run in this process (the demo office, with shortened alert thresholds).
//! Without Chromium the scenario still runs, over the API only.

mod browsers;
mod in_process;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use browsers::{click, keep_screenshot, text_when, type_into, Browsers, POLL};
use in_process::{central_link, free_port};
use serde_json::Value;

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
const HQ: &str = fila_central::demo::HQ_TOKEN;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printer_down_and_then_the_office_offline_show_as_alerts_on_the_dashboard() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let mut settings = fila_central::demo::settings("127.0.0.1:0".parse().expect("addr"), central_dir.path().into());
    settings.seed_configs = fila_central::demo::office_configs();
    settings.alerts.evaluate_every = Duration::from_millis(100);
    settings.alerts.device_down = Duration::from_secs(1);
    settings.alerts.offline = Duration::from_secs(1);
    let central = fila_central::App::build(settings).expect("central starts");
    let central_base = format!("http://127.0.0.1:{}", central.port());
    let central_stop = central.stop_handle();
    let central_run = tokio::spawn(central.run_until_stopped());

    // The office's ticket printer sits at an address where nothing answers.
    let mut edge = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().into());
    edge.central = Some(central_link(central_port(&central_base)));
    edge.devices.printers.push(fila_edge::settings::devices::PrinterSettings {
        id: "entrada".into(),
        kiosks: vec!["entrada".into()],
        transport: fila_devices::escpos::PrinterTransport::Tcp { address: format!("127.0.0.1:{}", free_port()) },
        profile: fila_devices::escpos::PrinterProfile::default(),
        poll: Duration::from_millis(200),
    });
    let edge = fila_edge::App::build(edge).expect("edge starts");
    let edge_stop = edge.handle();
    let edge_run = tokio::spawn(edge.run_until_stopped());

    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");
    let alerts = open_alerts_when(&http, &central_base, "the printer's alert", |kinds| kinds == ["device_down"]).await;
    assert_eq!(alerts[0]["office"], "centro");
    assert_eq!(alerts[0]["detail"], "down: printer entrada", "the device, never its error text");

    // The box goes away once the dashboard has shown the printer's alert.
    let seen = Arc::new(AtomicBool::new(false));
    let browser = if browsers::browser_installed() {
        let (base, seen) = (central_base.clone(), seen.clone());
        Some(tokio::spawn(async move {
            browsers::run(SCENARIO_LIMIT, move |browsers| dashboard_shows_the_alerts(base, browsers, seen)).await
        }))
    } else {
        seen.store(true, Ordering::SeqCst);
        None
    };
    let began = Instant::now();
    while !seen.load(Ordering::SeqCst) && began.elapsed() < SCENARIO_LIMIT {
        tokio::time::sleep(POLL).await;
    }
    edge_stop.stop(true).await;
    let _ = edge_run.await;
    let alerts = open_alerts_when(&http, &central_base, "the office offline", |kinds| kinds.contains(&"offline")).await;
    assert!(alerts.iter().any(|a| a["kind"] == "offline" && a["office"] == "centro"), "{alerts:?}");
    let metrics =
        http.get(format!("{central_base}/metrics")).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("fila_central_alerts_open{kind=\"offline\"} 1"), "{metrics}");
    assert!(metrics.contains("fila_central_alerts_raised_total{kind=\"device_down\"} 1"), "{metrics}");

    if let Some(browser) = browser {
        browser.await.expect("the browser scenario ran").rethrow();
    }
    central_stop.stop().await;
    let _ = central_run.await;
}

/// The analyst signs in and watches the alerts panel: the printer first, then the office offline.
async fn dashboard_shows_the_alerts(central: String, browsers: Arc<Browsers>, seen: Arc<AtomicBool>) {
    let hq = browsers.open("headquarters").await;
    hq.goto(&format!("{central}/dashboard")).await.expect("the dashboard loads");
    type_into(&hq, "#token", HQ).await;
    click(&hq, "#login-form button[type=submit]").await;
    let panel = text_when(&hq, "#alerts", "the printer's alert", |t| t.contains("Dispositivo fuera de servicio")).await;
    assert!(panel.contains("printer entrada") && panel.contains("Oficina Centro"), "{panel}");
    keep_screenshot(&hq, "headquarters-alert-device").await;
    seen.store(true, Ordering::SeqCst);
    let panel = text_when(&hq, "#alerts", "the office offline", |t| t.contains("Oficina sin conexión")).await;
    assert!(
        panel.contains("Dispositivo fuera de servicio"),
        "the printer's alert stays as central last heard: {panel}"
    );
    let summary = text_when(&hq, "#alerts-summary", "two open", |t| t.contains('2')).await;
    assert_eq!(summary, "2 abiertas");
    keep_screenshot(&hq, "headquarters-alert-offline").await;
}

fn central_port(base: &str) -> u16 {
    base.rsplit(':').next().and_then(|port| port.parse().ok()).expect("a port")
}

/// The open alerts once their kinds satisfy `check` (bounded).
async fn open_alerts_when(
    http: &reqwest::Client,
    central: &str,
    what: &str,
    check: impl Fn(&[&str]) -> bool,
) -> Vec<Value> {
    let began = Instant::now();
    loop {
        let response = http.get(format!("{central}/api/v1/alerts")).bearer_auth(HQ).send().await.expect("alerts");
        let body: Value = response.json().await.expect("json");
        let open = body["open"].as_array().cloned().unwrap_or_default();
        let kinds: Vec<&str> = open.iter().filter_map(|a| a["kind"].as_str()).collect();
        if check(&kinds) {
            return open;
        }
        assert!(began.elapsed() < Duration::from_secs(30), "{what} never showed: {body}");
        tokio::time::sleep(POLL).await;
    }
}
