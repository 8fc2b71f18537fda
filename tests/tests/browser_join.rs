//! Joining the queue from home, in a real headless Chromium: on central's page the citizen picks
//! the office and the procedure and joins; their page shows the number the office's box gave,
//! the people ahead and the wait's range, and a QR code for the kiosk. At the office the kiosk's
//! reader scans that code ("I'm here"): the kiosk shows the ticket, and the citizen's page stops
//! showing the code once central hears of it.
//!
//! Central and the edge run in this process on one fixed clock: Monday 2026-11-30, 10:30 at the
//! office, whose doors are open 08:00-16:00.

mod browsers;
mod in_process;
#[path = "../../edge/tests/read_qr/mod.rs"]
mod read_qr;

use std::sync::Arc;
use std::time::{Duration, Instant};

use browsers::{click, keep_screenshot, shown, text_when, Browsers, POLL};
use fantoccini::key::Key;
use in_process::central_link;

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
/// 10:30 in Buenos Aires (UTC-3).
const NOW: &str = "2026-11-30T13:30:00Z";
/// The citizen's page asks central every 10 s once it has a number; sync adds a moment.
const PAGE_PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_joins_from_home_follows_the_number_and_is_seen_at_the_kiosk() {
    if !browsers::browser_installed() {
        return;
    }
    let now = NOW.parse::<jiff::Timestamp>().expect("instant").as_millisecond();
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));

    let mut settings = fila_central::demo::settings("127.0.0.1:0".parse().expect("addr"), central_dir.path().into());
    settings.seed_configs = fila_central::demo::office_configs();
    let central = fila_central::App::build_with_clock(settings, Arc::new(move || now)).expect("central starts");
    let central_base = format!("http://127.0.0.1:{}", central.port());
    let central_port = central.port();
    let central_stop = central.stop_handle();
    let central_run = tokio::spawn(central.run_until_stopped());

    let mut edge = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().into());
    edge.central = Some(central_link(central_port));
    let clock: fila_edge::office_loop::Clock = Arc::new(move || fila_protocol::Timestamp(now));
    let edge = fila_edge::App::build_with_clock(edge, clock).expect("edge starts");
    let edge_base = format!("http://127.0.0.1:{}", edge.port());
    let edge_stop = edge.handle();
    let edge_run = tokio::spawn(edge.run_until_stopped());

    let outcome = browsers::run(SCENARIO_LIMIT, move |browsers| scenario(central_base, edge_base, browsers)).await;
    edge_stop.stop(true).await;
    central_stop.stop().await;
    let _ = (edge_run.await, central_run.await);
    outcome.rethrow();
}

/// Whether `#here` (the kiosk code) is shown on the citizen's page, once it is `wanted`.
async fn here_shown(phone: &fantoccini::Client, wanted: bool) {
    let deadline = Instant::now() + PAGE_PATIENCE;
    loop {
        let hidden = phone
            .execute("return document.getElementById('here').hidden;", vec![])
            .await
            .expect("the page runs scripts");
        if hidden.as_bool() == Some(!wanted) {
            return;
        }
        assert!(Instant::now() < deadline, "the kiosk code is never {}", if wanted { "shown" } else { "hidden" });
        tokio::time::sleep(POLL).await;
    }
}

async fn scenario(central: String, edge: String, browsers: Arc<Browsers>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");

    // At central's page, on the citizen's phone: once the office's box is connected, its
    // procedures that take remote joins are offered.
    let phone = browsers.open("phone").await;
    let deadline = Instant::now() + PAGE_PATIENCE;
    loop {
        phone.goto(&format!("{central}/fila")).await.expect("the join page loads");
        let offered = phone
            .execute("await new Promise((r) => setTimeout(r, 300)); return document.querySelectorAll('#services input').length;", vec![])
            .await
            .expect("the page runs scripts");
        if offered.as_u64().is_some_and(|n| n > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "the office is never offered for remote joins");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let services = text_when(&phone, "#services", "the procedures", |t| t.contains("Atención general")).await;
    assert!(!services.contains("DNI y pasaportes"), "only procedures that take remote joins: {services}");
    phone
        .execute("document.querySelector('#services input[value=\"general\"]').click();", vec![])
        .await
        .expect("the procedure is chosen");
    let travel = shown(&phone, "#travel").await;
    travel.clear().await.expect("cleared");
    travel.send_keys("25").await.expect("typed");
    keep_screenshot(&phone, "central-join-form").await;
    click(&phone, "#join").await;

    // Their page, by its private link: the number the office gave, its place and the range.
    let number = text_when(&phone, "#ticket-number", "the office's number", |t| t.starts_with("A-")).await;
    assert_eq!(number, "A-001", "the first of the day");
    let state = text_when(&phone, "#ticket-state", "the place in the queue", |t| !t.is_empty()).await;
    assert!(state.contains("Es el próximo"), "{state}");
    assert!(phone.current_url().await.expect("url").path().starts_with("/f/"), "the page is the join's own link");
    here_shown(&phone, true).await;
    // Next in line and 25 minutes away: time to set off, the page says.
    let told = phone
        .execute("const p = document.getElementById('come-now'); return p.hidden ? '' : p.textContent;", vec![])
        .await
        .expect("the page runs scripts");
    assert!(told.as_str().is_some_and(|t| t.contains("hora de salir")), "{told}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let drawn = phone
            .execute("const qr = document.getElementById('here-qr'); return qr.complete && qr.naturalWidth;", vec![])
            .await
            .expect("the page runs scripts");
        if drawn.as_u64().is_some_and(|w| w > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "the kiosk code is never drawn: {drawn}");
        tokio::time::sleep(POLL).await;
    }
    keep_screenshot(&phone, "central-join-ticket").await;

    // At the office: the kiosk's reader reads the code from the phone's screen and types it, as
    // a scanner does, into the check-in field with Enter.
    let src =
        phone.execute("return document.getElementById('here-qr').src;", vec![]).await.expect("the page runs scripts");
    let svg = http.get(src.as_str().expect("a source")).send().await.expect("qr").text().await.expect("svg");
    let scanned = read_qr::decode(&svg);
    let kiosk = browsers.open("kiosk").await;
    kiosk.goto(&format!("{edge}/kiosk?token={}", fila_edge::demo::KIOSK_TOKEN)).await.expect("the kiosk loads");
    click(&kiosk, "#checkin-open").await;
    let field = shown(&kiosk, "#checkin-input").await;
    field.send_keys(&format!("{scanned}{}", char::from(Key::Enter))).await.expect("scanned");
    let shown_number = text_when(&kiosk, "#ticket-number", "the citizen's ticket", |t| !t.is_empty()).await;
    assert_eq!(shown_number, number);
    keep_screenshot(&kiosk, "kiosk-remote-here").await;

    // The citizen's page stops showing the code once central's copy of the day says so.
    here_shown(&phone, false).await;
    keep_screenshot(&phone, "central-join-here").await;
}
