//! A booking from central to the office's kiosk, in a real headless Chromium: a citizen books a
//! slot at central (the demo office's bookable service), confirms it with the code e-mailed to
//! them (a real SMTP server on loopback, aiosmtpd), the booking reaches the office through sync,
//! and at the kiosk they type the short code from their confirmation on the screen's keys and
//! get their appointment ticket.
//!
//! Central and the edge run in this process on one fixed clock: Monday 2026-11-30, 09:55 at the
//! office, five minutes before the booked slot.

mod browsers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use browsers::{click, keep_screenshot, shown, text_when, Browsers, POLL};
use fila_notify::testing::{Mode, SmtpServer};
use serde_json::{json, Value};

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
const CITIZEN: &str = "ana.quispe@example.org";
/// 09:55 in Buenos Aires (UTC-3).
const NOW: &str = "2026-11-30T12:55:00Z";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_books_at_central_confirms_by_email_and_checks_in_at_the_kiosk() {
    if !browsers::browser_installed() {
        return;
    }
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else { return };
    let now = NOW.parse::<jiff::Timestamp>().expect("instant").as_millisecond();
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));

    let mut settings = fila_central::demo::settings("127.0.0.1:0".parse().expect("addr"), central_dir.path().into());
    settings.smtp = Some(toml::from_str(&smtp.settings_toml("none", "")).expect("SMTP settings"));
    settings.seed_configs = fila_central::demo::office_configs();
    let central = fila_central::App::build_with_clock(settings, Arc::new(move || now)).expect("central starts");
    let central_base = format!("http://127.0.0.1:{}", central.port());
    let central_port = central.port();
    let central_stop = central.stop_handle();
    let central_run = tokio::spawn(central.run_until_stopped());

    let mut edge = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().into());
    edge.central = Some(fila_edge::sync_client::CentralSettings {
        url: format!("ws://127.0.0.1:{central_port}/api/v1/sync"),
        token: fila_central::demo::BRANCH_TOKEN.into(),
        ca_file: None,
        citizen_url: None,
        booking_key: Some(fila_edge::demo::booking_key()),
        fallback_urls: Vec::new(),
    });
    let clock: fila_edge::office_loop::Clock = Arc::new(move || fila_protocol::Timestamp(now));
    let edge = fila_edge::App::build_with_clock(edge, clock).expect("edge starts");
    let edge_base = format!("http://127.0.0.1:{}", edge.port());
    let edge_stop = edge.handle();
    let edge_run = tokio::spawn(edge.run_until_stopped());

    let smtp = Arc::new(smtp);
    let outcome =
        browsers::run(SCENARIO_LIMIT, move |browsers| scenario(central_base, edge_base, smtp, browsers)).await;
    edge_stop.stop(true).await;
    central_stop.stop().await;
    let _ = (edge_run.await, central_run.await);
    outcome.rethrow();
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let response = http.post(url).json(&body).send().await.expect("answered");
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// The mail to the citizen whose subject has `about`, once it arrived.
async fn mail(smtp: &SmtpServer, about: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = smtp.received().into_iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains(about)));
        if let Some(mail) = found {
            assert_eq!(mail["rcpt_tos"][0], json!(CITIZEN));
            return mail["text"].as_str().expect("a text").to_string();
        }
        assert!(Instant::now() < deadline, "no mail about {about:?}");
        tokio::time::sleep(POLL).await;
    }
}

/// A date picked in the `<input type="date">` with this id, as the page hears a choice.
async fn set_date(client: &fantoccini::Client, id: &str, date: &str) {
    let script = "const input = document.getElementById(arguments[0]); input.value = arguments[1]; \
                  input.dispatchEvent(new Event('change'));";
    client.execute(script, vec![id.into(), date.into()]).await.unwrap_or_else(|e| panic!("#{id} is not set: {e}"));
}

/// A radio choice clicked (the page hides the inputs behind their labels).
async fn choose(client: &fantoccini::Client, css: &str) {
    let script = "document.querySelector(arguments[0]).click();";
    client.execute(script, vec![css.into()]).await.unwrap_or_else(|e| panic!("{css} is not chosen: {e}"));
}

/// "I have an appointment", then the short code typed on the kiosk's own keys.
async fn type_code(kiosk: &fantoccini::Client, short: &str) {
    click(kiosk, "#checkin-open").await;
    shown(kiosk, "#checkin-input").await;
    for key in short.chars().filter(|c| *c != '-') {
        click(kiosk, &format!(r#"#checkin-keypad button[data-key="{key}"]"#)).await;
    }
}

async fn scenario(central: String, edge: String, smtp: Arc<SmtpServer>, browsers: Arc<Browsers>) {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client");

    // At central's page, on the citizen's phone: the procedure (its requirements shown), the
    // day, the 10:00 slot, their document and e-mail; then the code that reached the mailbox.
    let phone = browsers.open("phone").await;
    phone.goto(&format!("{central}/citas")).await.expect("the booking page loads");
    let service = r#"#services input[value="documentos"]"#;
    shown(&phone, "#services label").await;
    let requirements = text_when(&phone, "#services", "the requirements", |t| t.contains("DNI y pasaportes")).await;
    assert!(requirements.contains("Qué traer"), "{requirements}");
    choose(&phone, service).await;
    shown(&phone, "#day").await;
    set_date(&phone, "day", "2026-12-01").await;
    text_when(&phone, "#slots", "the day's slots", |t| t.contains("10:00")).await;
    choose(&phone, r#"#slots input[value="10:00"]"#).await;
    browsers::type_into(&phone, "#doc-number", "28.555.123").await;
    browsers::type_into(&phone, "#contact", CITIZEN).await;
    browsers::type_into(&phone, "#note", "Renovación de DNI").await;
    keep_screenshot(&phone, "central-booking-form").await;
    click(&phone, "#request").await;
    shown(&phone, "#code").await;
    let text = mail(&smtp, "código").await;
    let code = text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).expect("a six-digit code");
    browsers::type_into(&phone, "#code", code).await;
    click(&phone, "#confirm").await;
    let short = text_when(&phone, "#short-code", "the booking's short code", |t| t.len() == 9).await;
    let summary = text_when(&phone, "#summary", "the booking's summary", |t| !t.is_empty()).await;
    assert!(summary.contains("2026-12-01") && summary.contains("DNI y pasaportes"), "{summary}");
    // The image loads after the page shows the booking.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let qr_loaded = phone
            .execute("const qr = document.getElementById('qr'); return qr.complete && qr.naturalWidth;", vec![])
            .await
            .expect("the page runs scripts");
        if qr_loaded.as_u64().is_some_and(|w| w > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "the pass's QR code is never drawn: {qr_loaded}");
        tokio::time::sleep(POLL).await;
    }
    assert!(phone.current_url().await.expect("url").path().starts_with("/b/"), "the page is the booking's own link");
    keep_screenshot(&phone, "central-booking-done").await;
    // The confirmation mail carries the same short code, and the booking's private link.
    let confirmation = mail(&smtp, "cita confirmada").await;
    assert!(confirmation.contains(&short) && confirmation.contains("/b/"), "{confirmation}");
    // Where to go: the office's address, in the message, on the page and in the calendar file.
    assert!(confirmation.contains("Av. Corrientes 1234"), "{confirmation}");
    assert!(summary.contains("Av. Corrientes 1234"), "{summary}");
    let token = phone.current_url().await.expect("url").path().trim_start_matches("/b/").to_string();
    let ics = http.get(format!("{central}/api/v1/public/bookings/{token}/booking.ics")).send().await.expect("ics");
    let ics = ics.text().await.expect("text");
    assert!(ics.contains("LOCATION:Oficina Centro\\, Av. Corrientes 1234\\, Buenos Aires"), "{ics}");

    // Plans change: from the booking's page they move it to today, 10:00. Same link, new codes.
    let link = phone.current_url().await.expect("url");
    click(&phone, "#move").await;
    shown(&phone, "#move-day").await;
    set_date(&phone, "move-day", "2026-11-30").await;
    text_when(&phone, "#move-slots", "the new day's slots", |t| t.contains("10:00")).await;
    choose(&phone, r#"#move-slots input[value="10:00"]"#).await;
    let summary = text_when(&phone, "#summary", "the moved booking", |t| t.contains("2026-11-30")).await;
    assert!(summary.contains("10:00"), "{summary}");
    let short = text_when(&phone, "#short-code", "the new short code", |t| t.len() == 9 && *t != short).await;
    assert_eq!(phone.current_url().await.expect("url"), link, "the private link stays the same");
    keep_screenshot(&phone, "central-booking-moved").await;

    // The booking reaches the office through sync.
    let login = post(&http, format!("{edge}/api/v1/login"), json!({ "username": "sara", "password": "1234" })).await.1;
    let sara = login["token"].as_str().expect("a session").to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed: Value = http
            .get(format!("{edge}/api/v1/appointments"))
            .bearer_auth(&sara)
            .send()
            .await
            .expect("edge")
            .json()
            .await
            .unwrap_or(Value::Null);
        if listed.as_array().is_some_and(|b| b.iter().any(|b| b["start"] == "10:00" && b["state"] == "booked")) {
            break;
        }
        assert!(Instant::now() < deadline, "the booking did not reach the office: {listed}");
        tokio::time::sleep(POLL).await;
    }

    // At the kiosk: "I have an appointment", the code typed on the screen's keys.
    let kiosk = browsers.open("kiosk").await;
    kiosk.goto(&format!("{edge}/kiosk?token={}", fila_edge::demo::KIOSK_TOKEN)).await.expect("the kiosk loads");
    type_code(&kiosk, &short).await;
    keep_screenshot(&kiosk, "kiosk-checkin").await;
    click(&kiosk, "#checkin-send").await;
    let number = text_when(&kiosk, "#ticket-number", "the appointment ticket", |t| !t.is_empty()).await;
    assert!(number.starts_with("C-"), "the service's letter: {number}");
    let badge = text_when(&kiosk, "#ticket-badge", "the appointment badge", |t| !t.is_empty()).await;
    assert_eq!(badge, "Con cita");
    keep_screenshot(&kiosk, "kiosk-appointment-ticket").await;

    // The console sees it checked in, with its ticket.
    let listed: Value = http
        .get(format!("{edge}/api/v1/appointments"))
        .bearer_auth(&sara)
        .send()
        .await
        .expect("edge")
        .json()
        .await
        .expect("json");
    let booking = listed.as_array().and_then(|b| b.iter().find(|b| b["start"] == "10:00")).cloned().expect("listed");
    assert_eq!((booking["state"].clone(), booking["ticket"].clone()), (json!("checked_in"), json!(number)), "{listed}");

    // The supervisor's console lists it among today's appointments, checked in, with its ticket,
    // the document's last four characters and the citizen's note (asked of central, never synced).
    let supervisor = browsers::supervising(&browsers, &edge).await;
    let row = r#"#appointments-overview tr[data-state="checked_in"]"#;
    let row =
        text_when(&supervisor, row, "the appointment checked in", |t| t.contains(&number) && t.contains("5123")).await;
    assert!(row.contains("10:00") && row.contains("DNI y pasaportes") && row.contains("Renovación de DNI"), "{row}");
    keep_screenshot(&supervisor, "console-appointments").await;

    // Checked in twice from the kiosk: told the first ticket.
    click(&kiosk, "#ticket-done").await;
    type_code(&kiosk, &short).await;
    click(&kiosk, "#checkin-send").await;
    let again = text_when(&kiosk, "#checkin-error", "the refusal", |t| !t.is_empty()).await;
    assert!(again.contains(&number), "{again}");

    // An agent sees no booking's details until they serve it.
    let login = post(&http, format!("{edge}/api/v1/login"), json!({ "username": "ana", "password": "1234" })).await.1;
    let ana = login["token"].as_str().expect("a session").to_string();
    let of_ana = async || -> Value {
        let listed: Value = http
            .get(format!("{edge}/api/v1/appointments"))
            .bearer_auth(&ana)
            .send()
            .await
            .expect("edge")
            .json()
            .await
            .expect("json");
        listed.as_array().and_then(|b| b.iter().find(|b| b["start"] == "10:00")).cloned().expect("listed")
    };
    let before = of_ana().await;
    assert_eq!((&before["last4"], &before["note"]), (&Value::Null, &Value::Null), "{before}");

    // At counter 4 the agent calls it: the slot, the document to compare, what they need.
    let counter = browsers.open("counter").await;
    counter.goto(&format!("{edge}/counter")).await.expect("the counter page loads");
    browsers::type_into(&counter, "#login-user", "ana").await;
    browsers::type_into(&counter, "#login-password", "1234").await;
    click(&counter, "#login-submit").await;
    shown(&counter, "select#counter-select").await.select_by_value("4").await.expect("counter 4 is offered");
    click(&counter, "#sign-in").await;
    click(&counter, "#call-next").await;
    text_when(&counter, "#current-number", "the appointment as the current ticket", |t| t == number).await;
    let told = text_when(&counter, "#current-appointment", "the appointment's details", |t| t.contains("5123")).await;
    assert!(told.contains("10:00") && told.contains("Renovación de DNI"), "{told}");
    assert_eq!(of_ana().await["last4"], "5123");
    keep_screenshot(&counter, "counter-appointment-call").await;

    // Headquarters' dashboard counts them: the Tuesday booking moved away, Monday's checked in.
    let hq = browsers.open("headquarters").await;
    hq.goto(&format!("{central}/dashboard")).await.expect("the dashboard loads");
    browsers::type_into(&hq, "#token", fila_central::demo::HQ_TOKEN).await;
    click(&hq, "#login-form button[type=submit]").await;
    shown(&hq, "#office option").await;
    hq.execute(
        "document.getElementById('from').value = '2026-11-30'; document.getElementById('to').value = '2026-12-01'; \
         document.getElementById('filters').requestSubmit();",
        vec![],
    )
    .await
    .expect("the period is set");
    // The labels are drawn in capitals.
    let tiles =
        text_when(&hq, "#booking-tiles", "the appointment figures", |t| t.to_lowercase().contains("citas")).await;
    let tiles = tiles.to_lowercase();
    let figures: Vec<&str> = tiles.lines().collect();
    let after = |label: &str| figures.iter().position(|l| *l == label).and_then(|i| figures.get(i + 1)).copied();
    assert_eq!((after("citas reservadas"), after("registradas en la oficina")), (Some("2"), Some("1")), "{tiles}");
    assert_eq!(after("canceladas o cambiadas"), Some("1"), "{tiles}");
    keep_screenshot(&hq, "headquarters-bookings").await;
}
