//! A citizen's opinion, from the kiosk to headquarters, in a real headless Chromium against the
//! real binaries: `fila-edge demo` sending e-mail through a real SMTP server (aiosmtpd) and
//! syncing with `fila-central demo`.
//!
//! One citizen leaves an e-mail at the kiosk, is served, gets the survey invitation and rates
//! the visit on their ticket's tracking page; another rates theirs at the exit tablet by ticket
//! number; the office's supervisor reads the low score's comment and sees the messages sent;
//! headquarters counts both answers, once each.

mod browsers;
mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use browsers::{click, keep_screenshot, shown, text_when, type_into, Browsers, PATIENCE, POLL};
use common::{demo_central, demo_edge, edge_binary, free_port, wait_ready, Edge};
use fantoccini::{Client, Locator};
use fila_notify::testing::{Mode, SmtpServer};
use serde_json::{json, Value};

const SCENARIO_LIMIT: Duration = Duration::from_secs(180);
const CITIZEN: &str = "rosa.mamani@example.org";
const COMMENT: &str = "Nadie me explicó qué documentos traer";
const KIOSK: &str = fila_edge::demo::KIOSK_TOKEN;
const HQ: &str = fila_central::demo::HQ_TOKEN;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_citizen_rates_the_visit_on_the_tracking_page_and_at_the_exit_and_headquarters_counts_it() {
    if !browsers::browser_installed() {
        return;
    }
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else { return };
    let (edge_dir, central_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (edge_port, central_port) = (free_port(), free_port());
    let _central = Edge(
        demo_central(central_port, central_dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("fila-central starts"),
    );
    let _edge = Edge(
        demo_edge(&edge_binary(), edge_port, edge_dir.path(), central_port)
            .args(["--smtp", &format!("127.0.0.1:{}", smtp.port)])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("fila-edge starts"),
    );
    let office = Office {
        http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client"),
        edge: format!("http://127.0.0.1:{edge_port}"),
        central: format!("http://127.0.0.1:{central_port}"),
        smtp: Arc::new(smtp),
    };
    wait_ready(&office.http, &office.central).await;
    wait_ready(&office.http, &office.edge).await;

    browsers::run(SCENARIO_LIMIT, move |browsers| scenario(office, browsers)).await.rethrow();
}

/// The daemons' addresses and the mailbox the office's e-mail lands in.
struct Office {
    http: reqwest::Client,
    edge: String,
    central: String,
    smtp: Arc<SmtpServer>,
}

impl Office {
    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let response =
            self.http.post(format!("{}{path}", self.edge)).bearer_auth(token).json(&body).send().await.expect("edge");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    /// An agent at counter 1 serves the next ticket from call to finish.
    async fn serve_next(&self, agent: &str) {
        self.post("/api/v1/counters/1/call-next", agent, json!({})).await;
        self.post("/api/v1/counters/1/start", agent, json!({})).await;
        self.post("/api/v1/counters/1/finish", agent, json!({ "outcome": "resuelto" })).await;
    }

    async fn hq(&self, path: &str) -> Option<Value> {
        let response = self.http.get(format!("{}{path}", self.central)).bearer_auth(HQ).send().await.ok()?;
        response.status().is_success().then_some(())?;
        response.json().await.ok()
    }
}

async fn scenario(office: Office, browsers: Arc<Browsers>) {
    let base = office.edge.clone();

    // At the kiosk: a service, no preference, then the optional contact step.
    let kiosk = browsers.open("kiosk").await;
    kiosk.goto(&format!("{base}/kiosk?token={KIOSK}")).await.expect("the kiosk page loads");
    click(&kiosk, r#"button[data-service="general"]"#).await;
    click(&kiosk, "#priority-none").await;
    let purpose = text_when(&kiosk, "#contact-purpose", "why the contact is asked", |t| !t.is_empty()).await;
    assert!(purpose.contains("solo para este turno"), "the purpose is stated: {purpose}");
    shown(&kiosk, "#contact-skip").await;
    keep_screenshot(&kiosk, "kiosk-contact-step").await;
    // The kiosk has no keyboard: the screen's own keys type, here an address left unfinished.
    for key in ["r", "o", "s", "a", "@", "e", "x", "erase", ".com"] {
        click(&kiosk, &format!(r#"#contact-keypad button[data-key="{key}"]"#)).await;
    }
    let typed = shown(&kiosk, "#contact-input").await.prop("value").await.expect("the field's value");
    assert_eq!(typed.as_deref(), Some("rosa@e.com"));
    click(&kiosk, r#"#contact-keypad button[data-key="@"]"#).await;
    click(&kiosk, "#contact-send").await;
    // A contact the office cannot use issues no ticket: the citizen is back at the step, told why.
    let refused = text_when(&kiosk, "#contact-error", "the refusal", |t| !t.is_empty()).await;
    assert!(refused.contains("no parece"), "{refused}");
    shown(&kiosk, "#contact-input").await.clear().await.expect("the field clears");
    type_into(&kiosk, "#contact-input", CITIZEN).await;
    click(&kiosk, "#contact-send").await;
    let number = text_when(&kiosk, "#ticket-number", "a ticket number", |t| !t.is_empty()).await;
    assert_eq!(number, "A-001");
    let kept = text_when(&kiosk, "#ticket-contact", "the contact kept", |t| !t.is_empty()).await;
    assert!(kept.contains("Le enviaremos avisos"), "{kept}");
    let tracking = text_when(&kiosk, "#ticket-url", "the tracking link", |t| t.contains("/t/")).await;
    keep_screenshot(&kiosk, "kiosk-ticket-with-contact").await;
    // The next citizen takes theirs without leaving a contact.
    office.post("/api/v1/tickets", KIOSK, json!({ "service": "general" })).await;

    // Both are served.
    let login = office.post("/api/v1/login", "", json!({ "username": "ana", "password": "1234" })).await;
    let ana = login["token"].as_str().expect("a session token").to_string();
    office.post("/api/v1/counters/1/sign-in", &ana, json!({})).await;
    office.serve_next(&ana).await;
    office.serve_next(&ana).await;

    // The invitation reaches the first citizen's mailbox.
    let smtp = office.smtp.clone();
    let invitation = eventually("the survey invitation", || {
        let received = smtp.received();
        std::future::ready(
            received.into_iter().find(|m| m["subject"].as_str().is_some_and(|s| s.contains("atendimos"))),
        )
    })
    .await;
    assert_eq!(invitation["rcpt_tos"][0], json!(CITIZEN));

    // On the tracking page, once served, the survey: a low score with a comment.
    let phone = browsers.open("phone").await;
    phone.goto(&tracking).await.expect("the tracking page loads");
    text_when(&phone, "#track-status", "the visit finished", |t| t.contains("Atendido")).await;
    click(&phone, r#"#survey-area [data-question="satisfaction"] label[data-value="2"]"#).await;
    click(&phone, r#"#survey-area [data-question="recommend"] label[data-value="3"]"#).await;
    click(&phone, r#"#survey-area [data-question="resolved"] label[data-value="false"]"#).await;
    type_into(&phone, "#survey-area textarea", COMMENT).await;
    keep_screenshot(&phone, "tracking-survey").await;
    click(&phone, "#survey-area .survey-send").await;
    let thanks = text_when(&phone, "#survey-status", "thanks", |t| !t.is_empty()).await;
    assert!(thanks.contains("Gracias"), "{thanks}");
    // Reloaded, the page says it was answered: one answer per ticket.
    phone.refresh().await.expect("reload");
    let again = text_when(&phone, "#survey-status", "answered already", |t| !t.is_empty()).await;
    assert!(again.contains("ya fue respondida"), "{again}");

    // At the exit tablet, the second citizen types their number; a wrong one is refused.
    let tablet = browsers.open("tablet").await;
    tablet.goto(&format!("{base}/exit?token={KIOSK}")).await.expect("the exit page loads");
    type_number(&tablet, &["A", "9", "9"]).await;
    click(&tablet, "#number-next").await;
    click(&tablet, r#"#survey-body [data-question="satisfaction"] label[data-value="5"]"#).await;
    click(&tablet, "#survey-body .survey-send").await;
    let unknown = text_when(&tablet, "#number-error", "no such ticket", |t| !t.is_empty()).await;
    assert!(unknown.contains("No encontramos"), "{unknown}");
    shown(&tablet, "#exit-number").await.clear().await.expect("the field clears");
    type_number(&tablet, &["A", "2"]).await;
    click(&tablet, "#number-next").await;
    let heading = text_when(&tablet, "#survey-ticket", "the ticket", |t| !t.is_empty()).await;
    assert_eq!(heading, "Turno A-002");
    click(&tablet, r#"#survey-body [data-question="satisfaction"] label[data-value="5"]"#).await;
    click(&tablet, r#"#survey-body [data-question="resolved"] label[data-value="true"]"#).await;
    keep_screenshot(&tablet, "exit-survey").await;
    click(&tablet, "#survey-body .survey-send").await;
    let done = text_when(&tablet, "#done-title", "thanks", |t| !t.is_empty()).await;
    assert!(done.contains("Gracias"), "{done}");
    // The tablet goes back to the start by itself, with nothing of this citizen left.
    let deadline = Instant::now() + PATIENCE + Duration::from_secs(10);
    while !tablet.find(Locator::Css("#screen-number")).await.expect("the start").is_displayed().await.unwrap_or(false) {
        assert!(Instant::now() < deadline, "the exit tablet did not return to its start");
        tokio::time::sleep(POLL).await;
    }
    let left = tablet.find(Locator::Css("#exit-number")).await.expect("field").prop("value").await.expect("value");
    assert_eq!(left.as_deref(), Some(""), "the last number is wiped");

    // The supervisor reads the comment, the low score marked, and sees what was sent.
    let supervisor = browsers::supervising(&browsers, &base).await;
    let comment = r#"#survey-comments li[data-ticket="A-001"][data-low="true"]"#;
    let comment = text_when(&supervisor, comment, "the low score's comment", |t| t.contains(COMMENT)).await;
    assert!(comment.contains("2/5"), "{comment}");
    let alert = r#"#alerts li[data-number="A-001"]"#;
    let alert = text_when(&supervisor, alert, "the low score alert", |t| t.contains("puntaje bajo")).await;
    assert!(!alert.contains(CITIZEN), "{alert}");
    let sent = text_when(&supervisor, "#notices-overview", "the invitation sent", |t| t.contains("Encuesta")).await;
    assert!(sent.contains("Enviado") && !sent.contains(CITIZEN), "states, never contacts: {sent}");
    keep_screenshot(&supervisor, "supervisor-feedback").await;

    // Headquarters counts both answers once the office has synced, and never sees a contact.
    let day = office_day(&office).await;
    let path = format!("/api/v1/surveys?office=centro&from={day}");
    let counted = eventually("both answers at headquarters", || {
        let office = &office;
        let path = path.clone();
        async move {
            let report = office.hq(&path).await?;
            (report["total"]["answers"] == json!(2)).then_some(report)
        }
    })
    .await;
    assert_eq!(counted["total"]["satisfaction_mean"], json!(3.5), "{counted}");
    assert_eq!(counted["total"]["resolved_rate"], json!(0.5), "{counted}");
    assert_eq!(counted["total"]["comments"], json!(1), "{counted}");
    assert!(!counted.to_string().contains(CITIZEN));
    // The analyst sees them in the dashboard: two answers of two visits, and the comment is the
    // office's (answered there), not headquarters'.
    let hq = browsers.open("headquarters").await;
    hq.goto(&format!("{}/dashboard", office.central)).await.expect("the dashboard loads");
    type_into(&hq, "#token", HQ).await;
    click(&hq, "#login-form button[type=submit]").await;
    let tiles = text_when(&hq, "#survey-tiles", "both answers", |t| t.contains("2 respuestas de 2 atendidos")).await;
    assert!(tiles.contains("3.50") || tiles.contains("3,50"), "the mean of 2 and 5: {tiles}");
    keep_screenshot(&hq, "headquarters-surveys").await;

    // An attacker replaying the tracking page's answer gets a refusal, and the count stands.
    let token = tracking.rsplit('/').next().expect("token");
    let replay = office
        .http
        .post(format!("{}/api/v1/track/{token}/survey", office.edge))
        .json(&json!({ "satisfaction": 1 }))
        .send()
        .await
        .expect("edge");
    assert_eq!(replay.status().as_u16(), 409);
}

/// Types a ticket number on the exit tablet's own keypad.
async fn type_number(tablet: &Client, keys: &[&str]) {
    // The letters are the office's, drawn once the page has loaded it.
    shown(tablet, "#exit-letters button").await;
    for key in keys {
        let buttons = tablet.find_all(Locator::Css("#screen-number .keypad-letters button, #exit-digits button")).await;
        let buttons = buttons.expect("the keypad");
        let mut pressed = false;
        for button in buttons {
            if button.text().await.is_ok_and(|text| text == *key) {
                button.click().await.expect("a key");
                pressed = true;
                break;
            }
        }
        assert!(pressed, "no key {key} on the exit tablet");
    }
}

async fn office_day(office: &Office) -> String {
    let response = office.http.get(format!("{}/api/v1/office", office.edge)).send().await.expect("office");
    let body: Value = response.json().await.expect("json");
    body["day"].as_str().expect("the office's day").to_string()
}

async fn eventually<T, F: std::future::IntoFuture<Output = Option<T>>>(what: &str, mut check: impl FnMut() -> F) -> T {
    let began = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(began.elapsed() < Duration::from_secs(30), "{what} did not happen within 30 s");
        tokio::time::sleep(POLL).await;
    }
}
