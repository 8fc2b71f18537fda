//! Real headless Chromium sessions for the page tests: chromedriver started and reaped, one
//! session per page, and a scenario run so that whatever happens (a failed assertion, a hung
//! WebDriver command) the browsers are closed before the test reports.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them a test passes with a note on
//! stderr, except on a CI run (`CI` set, and not empty, `0` or `false`), where a missing browser
//! is a failure.
//!
//! With `FILA_SCREENSHOTS` set, scenarios leave PNGs of their pages for a person to look at: in
//! the directory the variable names, or in the temporary directory when it names none.
#![allow(dead_code)]

// One rule for every test that needs a program: fail on CI, skip with a notice elsewhere.
#[path = "../../../devices/tests/tools/mod.rs"]
mod tools;

pub mod editor;

use std::any::Any;
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Generous, because several browsers share two cores with debug builds of the daemons.
pub const PATIENCE: Duration = Duration::from_secs(10);
pub const POLL: Duration = Duration::from_millis(100);

/// Runs `scenario` with browsers of its own, within `limit`: a hung WebDriver command
/// (chromedriver's own page-load timeout is 5 minutes) must still end the test. The browsers
/// and chromedriver are shut down whatever happened; the outcome is handed back to be rethrown
/// once the caller has stopped its own servers too.
pub async fn run<F, Fut>(limit: Duration, scenario: F) -> Outcome
where
    F: FnOnce(Arc<Browsers>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let driver = Chromedriver::start().await;
    let browsers = Arc::new(Browsers::new(driver.url.clone()));
    // In a task, so that a failed assertion comes back here as a value.
    let mut task = tokio::spawn(scenario(browsers.clone()));
    let outcome = match tokio::time::timeout(limit, &mut task).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(match error.try_into_panic() {
            Ok(payload) => Failure::Panicked(payload),
            Err(error) => Failure::Stuck(format!("the scenario task ended abnormally: {error}")),
        }),
        Err(_) => {
            task.abort();
            Err(Failure::Stuck(format!("the scenario did not finish within {limit:?}")))
        }
    };
    browsers.close_all().await;
    drop(driver);
    Outcome(outcome)
}

/// How a scenario ended.
pub struct Outcome(Result<(), Failure>);

impl Outcome {
    /// Fails the test the way the scenario failed.
    pub fn rethrow(self) {
        match self.0 {
            Ok(()) => {}
            // The panic hook has already printed the assertion's message when it failed.
            Err(Failure::Panicked(payload)) => std::panic::resume_unwind(payload),
            Err(Failure::Stuck(message)) => panic!("{message}"),
        }
    }
}

pub enum Failure {
    Panicked(Box<dyn Any + Send>),
    Stuck(String),
}

pub fn browser_installed() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|path| !Path::new(path).exists()).collect();
    tools::available(missing.is_empty(), &missing.join(" and "), "apt-get install chromium chromium-driver")
}

/// A chromedriver child process, killed when dropped so that no failure leaves one behind.
pub struct Chromedriver {
    child: Child,
    pub url: String,
}

impl Chromedriver {
    pub async fn start() -> Chromedriver {
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
pub struct Browsers {
    driver: String,
    profiles: tempfile::TempDir,
    opened: Mutex<Vec<Client>>,
}

impl Browsers {
    pub fn new(driver: String) -> Browsers {
        let profiles = tempfile::tempdir().expect("temporary directory for browser profiles");
        Browsers { driver, profiles, opened: Mutex::new(Vec::new()) }
    }

    pub async fn open(&self, page: &str) -> Client {
        let profile = self.profiles.path().join(page);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(chrome_capabilities(&profile))
            .connect(&self.driver)
            .await
            .unwrap_or_else(|error| panic!("no Chromium session for the {page} page: {error}"));
        self.opened.lock().expect("the list of browser sessions").push(client.clone());
        client
    }

    pub async fn close_all(&self) {
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

/// The demo office's supervisor (sara) signed in at the counter console, supervising.
pub async fn supervising(browsers: &Browsers, base: &str) -> Client {
    let supervisor = browsers.open("supervisor").await;
    supervisor.goto(&format!("{base}/counter")).await.expect("the counter page loads");
    type_into(&supervisor, "#login-user", "sara").await;
    type_into(&supervisor, "#login-password", "1234").await;
    click(&supervisor, "#login-submit").await;
    click(&supervisor, "#supervise").await;
    supervisor
}

/// The element once it is visible and enabled: the pages fill in and reveal their screens
/// asynchronously, after their API calls return.
pub async fn shown(client: &Client, css: &str) -> Element {
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
pub async fn click(client: &Client, css: &str) {
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

pub async fn type_into(client: &Client, css: &str, text: &str) {
    shown(client, css).await.send_keys(text).await.unwrap_or_else(|error| panic!("typing into {css}: {error}"));
}

/// The element's text once `accept` likes it.
pub async fn text_when(client: &Client, css: &str, expected: &str, accept: impl Fn(&str) -> bool) -> String {
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

pub fn screenshot_dir() -> Option<PathBuf> {
    let value = PathBuf::from(std::env::var_os("FILA_SCREENSHOTS")?);
    Some(if value.is_dir() { value } else { std::env::temp_dir() })
}

pub async fn keep_screenshot(client: &Client, name: &str) {
    let Some(dir) = screenshot_dir() else { return };
    let png = client.screenshot().await.unwrap_or_else(|error| panic!("screenshot of the {name} page: {error}"));
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
    eprintln!("screenshot of the {name} page: {}", path.display());
}
