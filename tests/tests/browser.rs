//! The office's three public screens working together in a real headless Chromium: a citizen
//! takes a ticket at the kiosk, an agent calls it from the counter console, and the waiting-room
//! display shows the call as it happens.
//!
//! Needs Debian's `chromium` and `chromium-driver` (see `browsers`). With `FILA_SCREENSHOTS`
//! set, the test leaves kiosk.png, counter.png, supervisor.png and display.png.

mod browsers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use browsers::{click, keep_screenshot, screenshot_dir, shown, text_when, type_into, Browsers, PATIENCE, POLL};
use fantoccini::Locator;
use fila_edge::{demo, App};

/// The whole scenario, browsers included.
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_issued_at_the_kiosk_is_called_at_the_counter_and_shown_on_the_display() {
    if !browsers::browser_installed() {
        return;
    }
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let mut settings = demo::settings("127.0.0.1:0".parse().expect("loopback address"), data_dir.path().to_path_buf());
    let _paper = printer_out_of_paper(&mut settings).await;
    let app = App::build(settings).expect("the edge starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = app.handle();
    let edge = tokio::spawn(app.run_until_stopped());

    let outcome = browsers::run(SCENARIO_LIMIT, move |browsers| scenario(base, browsers)).await;
    server.stop(true).await;
    edge.await.expect("edge task").expect("the edge ran and stopped cleanly");
    outcome.rethrow();
}

/// The kiosk's printer, emulated, has run out of paper: the kiosk's screen must be the ticket.
async fn printer_out_of_paper(
    settings: &mut fila_edge::settings::Settings,
) -> tokio::sync::watch::Sender<fila_devices::escpos::PrinterStatus> {
    use fila_devices::escpos::{self, PrinterProfile, PrinterStatus};
    let (paper, status) = tokio::sync::watch::channel(PrinterStatus::Out);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(escpos::serve_tcp(
        listener,
        escpos::EmulatorOptions { profile: PrinterProfile::default(), out_dir: None, status },
    ));
    settings.devices.printers.push(fila_edge::settings::devices::PrinterSettings {
        id: "entrada".into(),
        kiosks: vec![],
        transport: escpos::PrinterTransport::Tcp { address },
        profile: PrinterProfile::default(),
        poll: Duration::from_millis(200),
    });
    paper
}

async fn scenario(base: String, browsers: Arc<Browsers>) {
    // The display learns about calls from the event stream, so it is open before anything happens.
    let display = browsers.open("display").await;
    display.goto(&format!("{base}/display")).await.expect("the display page loads");
    text_when(&display, "#office-name", "the office name", |text| text == "Oficina Centro").await;

    let kiosk = browsers.open("kiosk").await;
    kiosk.goto(&format!("{base}/kiosk?token={}", demo::KIOSK_TOKEN)).await.expect("the kiosk page loads");
    click(&kiosk, r#"button[data-service="general"]"#).await;
    // The demo office has preferential categories, so the kiosk always asks.
    click(&kiosk, "#priority-none").await;
    let number = text_when(&kiosk, "#ticket-number", "a ticket number", |text| !text.is_empty()).await;
    assert_eq!(number, "A-001", "the first ticket of the day for general attention");
    let notice = text_when(&kiosk, "#ticket-print", "the printer notice", |text| !text.is_empty()).await;
    assert!(notice.contains("La impresora no está disponible"), "out of paper, the screen is the ticket: {notice}");
    // The QR code is an image the box drew: shown, and loaded (an SVG that failed shows nothing).
    shown(&kiosk, "#ticket-qr img.qr").await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let loaded = kiosk
            .execute(
                "const qr = document.querySelector('#ticket-qr img.qr'); return qr.complete && qr.naturalWidth;",
                vec![],
            )
            .await
            .expect("the kiosk page runs scripts");
        if loaded.as_u64().is_some_and(|width| width > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "the QR image did not load within {PATIENCE:?}: {loaded}");
        tokio::time::sleep(POLL).await;
    }
    keep_screenshot(&kiosk, "kiosk").await;

    let counter = browsers.open("counter").await;
    counter.goto(&format!("{base}/counter")).await.expect("the counter page loads");
    type_into(&counter, "#login-user", "ana").await;
    type_into(&counter, "#login-password", "1234").await;
    click(&counter, "#login-submit").await;
    shown(&counter, "select#counter-select").await.select_by_value("1").await.expect("counter 1 is offered to ana");
    click(&counter, "#sign-in").await;
    counter
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(r#"#waiting li[data-number="A-001"]"#))
        .await
        .expect("the kiosk's ticket is in the console's waiting list");
    click(&counter, "#call-next").await;
    text_when(&counter, "#current-number", "A-001 as the current ticket", |text| text == "A-001").await;
    keep_screenshot(&counter, "counter").await;

    let call = r#"#current-calls [data-number="A-001"]"#;
    display.wait().at_most(PATIENCE).for_element(Locator::Css(call)).await.expect("the display shows the call");
    let shown_call = text_when(&display, call, "the counter to go to", |text| text.contains("Puesto 1")).await;
    assert!(shown_call.contains("A-001"), "the display names the ticket: {shown_call:?}");
    // The call is spoken as people say numbers, in the display's language.
    let spoken = |number: &'static str, counter: &'static str, lang: &'static str| {
        let display = &display;
        async move {
            let said = display
                .execute(
                    "return spokenCall(arguments[0], arguments[1], arguments[2]);",
                    vec![number.into(), counter.into(), lang.into()],
                )
                .await
                .expect("the display page has spokenCall");
            said.as_str().expect("a phrase").to_string()
        }
    };
    assert_eq!(spoken("A-023", "4", "es").await, "Turno A cero veintitrés, puesto cuatro");
    assert_eq!(spoken("B-105", "12", "es").await, "Turno B ciento cinco, puesto doce");
    assert_eq!(spoken("A-023", "4", "en").await, "Ticket A twenty-three, counter four");

    // The supervisor sees the printer out of paper, among the devices and as an alert.
    let supervisor = browsers::supervising(&browsers, &base).await;
    let printer = r#"#devices-overview tr[data-device="entrada"]"#;
    let row = text_when(&supervisor, printer, "the printer among the devices", |text| text.contains("sin papel")).await;
    assert!(row.contains("Impresora entrada"), "the printer by its name: {row:?}");
    let alert = r#"#alerts li[data-device="entrada"]"#;
    let alert = text_when(&supervisor, alert, "the paper alert", |text| text.contains("sin papel")).await;
    assert!(alert.contains("en pantalla"), "the alert says what the kiosk does meanwhile: {alert:?}");
    keep_screenshot(&supervisor, "supervisor").await;
    if screenshot_dir().is_some() {
        // A new call blinks for a few seconds; a person judges the page better once it settles.
        display
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css("#current-calls .call-main:not(.is-new)"))
            .await
            .expect("the new call stops blinking");
        keep_screenshot(&display, "display").await;
    }
}

/// The kiosk as a portrait kiosk (1080×1920) and a landscape one (1920×1080) show it: every
/// service card holds its name whole, the check-in button included, and nothing spills out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_fits_portrait_and_landscape_screens_without_cutting_any_text() {
    if !browsers::browser_installed() {
        return;
    }
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let settings = demo::settings("127.0.0.1:0".parse().expect("loopback address"), data_dir.path().to_path_buf());
    let app = App::build(settings).expect("the edge starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = app.handle();
    let edge = tokio::spawn(app.run_until_stopped());
    let outcome = browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let kiosk = browsers.open("kiosk").await;
        for (name, width, height) in [("portrait", 1080u32, 1920u32), ("landscape", 1920, 1080)] {
            kiosk.set_window_size(width, height).await.expect("the window takes the kiosk's size");
            kiosk.goto(&format!("{base}/kiosk?token={}", demo::KIOSK_TOKEN)).await.expect("the kiosk page loads");
            shown(&kiosk, r#"button[data-service="documentos"]"#).await;
            shown(&kiosk, "#checkin-open").await;
            keep_screenshot(&kiosk, &format!("kiosk-{name}")).await;
            // Every element with text inside a card or button: nothing wider or taller than
            // its box, and every card inside the screen's width.
            let cut = kiosk
                .execute(
                    "const cut = [];
                     for (const el of document.querySelectorAll('.service-btn, .service-btn *, #checkin-open, .topbar *')) {
                       if (!el.offsetParent) continue;
                       if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) {
                         cut.push((el.id || el.className) + ': ' + el.textContent.trim().slice(0, 40));
                       }
                       if (el.getBoundingClientRect().right > window.innerWidth + 1) cut.push('off screen: ' + el.textContent.trim().slice(0, 40));
                     }
                     return cut;",
                    vec![],
                )
                .await
                .expect("the page runs scripts");
            assert_eq!(cut, serde_json::json!([]), "text cut on the {name} kiosk ({width}×{height})");
        }
    })
    .await;
    server.stop(true).await;
    edge.await.expect("edge task").expect("the edge ran and stopped cleanly");
    outcome.rethrow();
}
