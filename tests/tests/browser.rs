//! The office's three public screens working together in a real headless Chromium: a citizen
//! takes a ticket at the kiosk, an agent calls it from the counter console, and the waiting-room
//! display shows the call as it happens.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test passes with a note on
//! stderr, except on a CI run (`CI` set, and not empty, `0` or `false`), where a missing browser
//! is a failure.
//!
//! With `FILA_SCREENSHOTS` set, the test leaves kiosk.png, counter.png and display.png for a
//! person to look at: in the directory the variable names, or in the temporary directory when it
//! names none (`FILA_SCREENSHOTS=1`).

// One rule for every test that needs a program: fail on CI, skip with a notice elsewhere.
#[path = "../../devices/tests/tools/mod.rs"]
mod tools;

use std::any::Any;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use fila_edge::{demo, App};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Generous, because three browsers share two cores with a debug build of the edge.
const PATIENCE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);
/// A hung WebDriver command (chromedriver's own page-load timeout is 5 minutes) must still end
/// the test, with the browsers closed.
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_issued_at_the_kiosk_is_called_at_the_counter_and_shown_on_the_display() {
    if !browser_installed() {
        return;
    }
    let data_dir = tempfile::tempdir().expect("temporary data directory");
    let mut settings = demo::settings("127.0.0.1:0".parse().expect("loopback address"), data_dir.path().to_path_buf());
    let _paper = printer_out_of_paper(&mut settings).await;
    let app = App::build(settings).expect("the edge starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = app.handle();
    let edge = tokio::spawn(app.run_until_stopped());

    let driver = Chromedriver::start().await;
    let browsers = Arc::new(Browsers::new(driver.url.clone()));
    // Run in a task so that a failed assertion comes back here as a value: the browsers and
    // chromedriver must be shut down whatever happened.
    let mut run = tokio::spawn(scenario(base, browsers.clone()));
    let outcome = match tokio::time::timeout(SCENARIO_LIMIT, &mut run).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(match error.try_into_panic() {
            Ok(payload) => Failure::Panicked(payload),
            Err(error) => Failure::Stuck(format!("the scenario task ended abnormally: {error}")),
        }),
        Err(_) => {
            run.abort();
            Err(Failure::Stuck(format!("the scenario did not finish within {SCENARIO_LIMIT:?}")))
        }
    };

    browsers.close_all().await;
    drop(driver);
    server.stop(true).await;
    edge.await.expect("edge task").expect("the edge ran and stopped cleanly");

    match outcome {
        Ok(()) => {}
        // The panic hook has already printed the assertion's message when it failed.
        Err(Failure::Panicked(payload)) => std::panic::resume_unwind(payload),
        Err(Failure::Stuck(message)) => panic!("{message}"),
    }
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
    let supervisor = browsers.open("supervisor").await;
    supervisor.goto(&format!("{base}/counter")).await.expect("the counter page loads");
    type_into(&supervisor, "#login-user", "sara").await;
    type_into(&supervisor, "#login-password", "1234").await;
    click(&supervisor, "#login-submit").await;
    click(&supervisor, "#supervise").await;
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

enum Failure {
    Panicked(Box<dyn Any + Send>),
    Stuck(String),
}

fn browser_installed() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|path| !Path::new(path).exists()).collect();
    tools::available(missing.is_empty(), &missing.join(" and "), "apt-get install chromium chromium-driver")
}

/// A chromedriver child process, killed when dropped so that no failure leaves one behind.
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    async fn start() -> Chromedriver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port for chromedriver")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Chromedriver { child, url: format!("http://127.0.0.1:{port}") };
        driver.wait_until_ready().await;
        driver
    }

    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("chromedriver's state") {
                panic!("chromedriver exited before it was ready: {status}");
            }
            if let Ok(response) = http.get(format!("{}/status", self.url)).send().await {
                if let Ok(status) = response.json::<serde_json::Value>().await {
                    if status["value"]["ready"] == true {
                        return;
                    }
                }
            }
            assert!(Instant::now() < deadline, "chromedriver did not answer on {} within {PATIENCE:?}", self.url);
            tokio::time::sleep(POLL).await;
        }
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // It may have died already; either way it must be reaped.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One Chromium session per page, each with a fresh profile (Chromium refuses to share one), all
/// remembered so that they can be closed however the scenario ends.
struct Browsers {
    driver: String,
    profiles: tempfile::TempDir,
    opened: Mutex<Vec<Client>>,
}

impl Browsers {
    fn new(driver: String) -> Browsers {
        let profiles = tempfile::tempdir().expect("temporary directory for browser profiles");
        Browsers { driver, profiles, opened: Mutex::new(Vec::new()) }
    }

    async fn open(&self, page: &str) -> Client {
        let profile = self.profiles.path().join(page);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(chrome_capabilities(&profile))
            .connect(&self.driver)
            .await
            .unwrap_or_else(|error| panic!("no Chromium session for the {page} page: {error}"));
        self.opened.lock().expect("the list of browser sessions").push(client.clone());
        client
    }

    async fn close_all(&self) {
        let clients = std::mem::take(&mut *self.opened.lock().expect("the list of browser sessions"));
        for client in clients {
            if let Err(error) = client.close().await {
                eprintln!("a browser session did not close: {error}");
            }
        }
    }
}

fn chrome_capabilities(profile: &Path) -> Capabilities {
    let options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless=new",
            // Root in a container has no user namespace for Chromium's sandbox.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            // Only loopback traffic: no background calls to Google's services.
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            format!("--user-data-dir={}", profile.display()),
            "--window-size=1280,900",
        ],
    });
    let mut capabilities = Capabilities::new();
    capabilities.insert("goog:chromeOptions".to_string(), options);
    capabilities
}

/// The element once it is visible and enabled: the pages fill in and reveal their screens
/// asynchronously, after their API calls return.
async fn shown(client: &Client, css: &str) -> Element {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if element.is_displayed().await.unwrap_or(false) && element.is_enabled().await.unwrap_or(false) {
                return element;
            }
        }
        assert!(Instant::now() < deadline, "{css} was not visible and enabled within {PATIENCE:?}");
        tokio::time::sleep(POLL).await;
    }
}

/// Retries because a page may re-render the element between finding it and clicking it.
async fn click(client: &Client, css: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let error = match shown(client, css).await.click().await {
            Ok(()) => return,
            Err(error) => error,
        };
        assert!(Instant::now() < deadline, "{css} could not be clicked: {error}");
        tokio::time::sleep(POLL).await;
    }
}

async fn type_into(client: &Client, css: &str, text: &str) {
    shown(client, css).await.send_keys(text).await.unwrap_or_else(|error| panic!("typing into {css}: {error}"));
}

/// The element's text once `accept` likes it.
async fn text_when(client: &Client, css: &str, expected: &str, accept: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut last_seen = None;
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                if accept(&text) {
                    return text;
                }
                last_seen = Some(text);
            }
        }
        assert!(
            Instant::now() < deadline,
            "{css} did not show {expected} within {PATIENCE:?}; last seen: {last_seen:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

fn screenshot_dir() -> Option<PathBuf> {
    let value = PathBuf::from(std::env::var_os("FILA_SCREENSHOTS")?);
    Some(if value.is_dir() { value } else { std::env::temp_dir() })
}

async fn keep_screenshot(client: &Client, name: &str) {
    let Some(dir) = screenshot_dir() else { return };
    let png = client.screenshot().await.unwrap_or_else(|error| panic!("screenshot of the {name} page: {error}"));
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
    eprintln!("screenshot of the {name} page: {}", path.display());
}
