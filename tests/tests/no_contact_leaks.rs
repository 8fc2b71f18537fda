//! A citizen's contact goes where it is needed (the contact book beside the documents, and the
//! message itself) and nowhere else: not into a log of either daemon, not into any document or
//! its history, not into the office's live events, and not into any headquarters response.
//!
//! Against the real binaries, as an installer runs them: `fila-edge demo` with its emulated
//! devices (SMS through its emulated GSM modem) and e-mail through a real SMTP server (aiosmtpd),
//! syncing with `fila-central demo`, both logging at debug.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{demo_central, edge_binary, free_port, wait_ready, Edge};
use fila_notify::testing::{Mode, SmtpServer};
use fila_protocol::doc::keys::{appointments_doc_id, day_doc_id};
use fila_protocol::BusinessDay;
use fila_store::Store;
use serde_json::{json, Value};

/// Given at the kiosk.
const AT_KIOSK: &str = "lucia.fernandez@example.org";
/// Added later on the tracking page.
const ON_TRACKING_PAGE: &str = "jorge.quispe@example.net";
/// Typed wrong at the kiosk, refused: not kept, and not logged either.
const TYPED_WRONG: &str = "marta.ruiz@@example";
/// A mobile number typed at the kiosk as people say it: national, in groups.
const PHONE_AT_KIOSK: &str = "611 98 76 54";
/// A mobile number added on the tracking page, international.
const PHONE_ON_TRACKING_PAGE: &str = "+34 622-33-44-55";
/// Those numbers as a log, a document or an answer could spell them: with and without the
/// country code, and as typed.
const PHONE_FORMS: [&str; 8] = [
    "+34611987654",
    "34611987654",
    "611987654",
    PHONE_AT_KIOSK,
    "+34622334455",
    "34622334455",
    "622334455",
    PHONE_ON_TRACKING_PAGE,
];
const HQ: &str = fila_central::demo::HQ_TOKEN;
/// A citizen booking at central: their document, e-mail and the note they wrote.
const ID_NUMBER: &str = "27.444.333";
const BOOKER: &str = "rosa.mamani@example.org";
const NOTE: &str = "Renovación por robo, Rosa Mamani";

/// Each daemon's output, stdout and stderr together, in a file the test reads afterwards.
fn logged(dir: &Path, name: &str) -> (Stdio, Stdio, PathBuf) {
    let path = dir.join(format!("{name}.log"));
    let file = File::create(&path).expect("log file");
    (Stdio::from(file.try_clone().expect("log file")), Stdio::from(file), path)
}

fn start_central(dir: &Path, port: u16, smtp: u16, logs: &Path) -> Edge {
    let (stdout, stderr, _) = logged(logs, "central");
    let child = demo_central(port, dir)
        .args(["--smtp", &format!("127.0.0.1:{smtp}")])
        .env("RUST_LOG", "debug")
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("fila-central starts");
    // Same guard as the edge's: killed when the test ends, however it ends.
    Edge(child)
}

fn start_edge(dir: &Path, port: u16, central: u16, smtp: u16, logs: &Path) -> Edge {
    let (stdout, stderr, _) = logged(logs, "edge");
    // With its emulated devices, so the kiosk takes mobile numbers (the demo's GSM modem).
    let child = Command::new(edge_binary())
        .args(["demo", "--listen", &format!("127.0.0.1:{port}"), "--central"])
        .arg(format!("ws://127.0.0.1:{central}/api/v1/sync"))
        .arg("--data")
        .arg(dir)
        .args(["--smtp", &format!("127.0.0.1:{smtp}")])
        .env("RUST_LOG", "debug")
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("fila-edge starts");
    Edge(child)
}

struct Client {
    http: reqwest::Client,
    edge: String,
    central: String,
    /// Every body headquarters answered, for the search at the end.
    hq_said: String,
}

impl Client {
    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let response =
            self.http.post(format!("{}{path}", self.edge)).bearer_auth(token).json(&body).send().await.expect("edge");
        (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
    }

    /// The office's business day, as the edge says.
    async fn office_day(&self) -> BusinessDay {
        let office: Value = self
            .http
            .get(format!("{}/api/v1/office", self.edge))
            .send()
            .await
            .expect("office")
            .json()
            .await
            .expect("json");
        BusinessDay::parse(office["day"].as_str().expect("the office's day")).expect("a date")
    }

    async fn hq(&mut self, path: &str) -> Value {
        let response =
            self.http.get(format!("{}{path}", self.central)).bearer_auth(HQ).send().await.expect("central answers");
        assert!(response.status().is_success(), "{path}: {}", response.status());
        let text = response.text().await.expect("body");
        self.hq_said.push_str(&text);
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// The edge's live events, as a screen in the office receives them, kept as text.
fn listen_to_events(client: &reqwest::Client, edge: &str) -> Arc<Mutex<String>> {
    let seen = Arc::new(Mutex::new(String::new()));
    let (client, url, into) = (client.clone(), format!("{edge}/api/v1/events"), seen.clone());
    tokio::spawn(async move {
        let Ok(mut response) = client.get(url).send().await else { return };
        while let Ok(Some(chunk)) = response.chunk().await {
            into.lock().expect("events").push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    seen
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let began = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(began.elapsed() < Duration::from_secs(30), "{what} did not happen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The documents of `ids` a store holds, without compression, history included: a value once
/// written and later overwritten is still in there.
fn documents(store_dir: &Path, ids: &[String]) -> Vec<(String, Vec<u8>)> {
    let store = (0..100)
        .find_map(|_| {
            fila_store::SledStore::open(store_dir, 8 << 20)
                .inspect_err(|_| std::thread::sleep(Duration::from_millis(50)))
                .ok()
        })
        .expect("the store opens once its daemon let go of it");
    ids.iter()
        .filter(|id| store.chunk_count(id).is_ok_and(|n| n > 0))
        .map(|id| {
            let chunks = store.chunks(id).expect("chunks").concat();
            let document = automerge::Automerge::load(&chunks).expect("the document loads");
            (id.clone(), document.save_nocompress())
        })
        .collect()
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_reaches_the_citizen_and_no_log_document_event_or_hq_answer() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else { return };
    let (edge_dir, central_dir, logs) = (tempfile::tempdir(), tempfile::tempdir(), tempfile::tempdir());
    let (edge_dir, central_dir, logs) = (edge_dir.expect("dir"), central_dir.expect("dir"), logs.expect("dir"));
    let (edge_port, central_port) = (free_port(), free_port());
    let mut central = start_central(central_dir.path(), central_port, smtp.port, logs.path());
    let mut edge = start_edge(edge_dir.path(), edge_port, central_port, smtp.port, logs.path());
    let mut client = Client {
        http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().expect("client"),
        edge: format!("http://127.0.0.1:{edge_port}"),
        central: format!("http://127.0.0.1:{central_port}"),
        hq_said: String::new(),
    };
    wait_ready(&client.http, &client.central).await;
    wait_ready(&client.http, &client.edge).await;
    let events = listen_to_events(&client.http, &client.edge);

    // Four citizens leave a contact, an e-mail or a mobile number, at the kiosk or on their
    // tracking page; a fifth types one wrong and is told so.
    let kiosk = fila_edge::demo::KIOSK_TOKEN;
    let (status, refused) =
        client.post("/api/v1/tickets", kiosk, json!({ "service": "general", "contact": TYPED_WRONG })).await;
    assert_eq!(status, 400, "{refused}");
    let (status, first) =
        client.post("/api/v1/tickets", kiosk, json!({ "service": "general", "contact": AT_KIOSK })).await;
    assert_eq!((status, &first["contact_kept"]), (201, &json!(true)), "{first}");
    let (_, second) = client.post("/api/v1/tickets", kiosk, json!({ "service": "general" })).await;
    let token = second["token"].as_str().expect("tracking token");
    let (status, added) =
        client.post(&format!("/api/v1/track/{token}/contact"), "", json!({ "contact": ON_TRACKING_PAGE })).await;
    assert!(status < 300, "{added}");
    let (status, third) =
        client.post("/api/v1/tickets", kiosk, json!({ "service": "general", "contact": PHONE_AT_KIOSK })).await;
    assert_eq!((status, &third["contact_kept"]), (201, &json!(true)), "{third}");
    let (_, fourth) = client.post("/api/v1/tickets", kiosk, json!({ "service": "general" })).await;
    let token = fourth["token"].as_str().expect("tracking token");
    let (status, added) =
        client.post(&format!("/api/v1/track/{token}/contact"), "", json!({ "contact": PHONE_ON_TRACKING_PAGE })).await;
    assert!(status < 300, "{added}");

    // All are called and served: each hears their call, then the survey invitation.
    let (_, login) = client.post("/api/v1/login", "", json!({ "username": "ana", "password": "1234" })).await;
    let ana = login["token"].as_str().expect("token").to_string();
    client.post("/api/v1/counters/1/sign-in", &ana, json!({})).await;
    for _ in 0..4 {
        client.post("/api/v1/counters/1/call-next", &ana, json!({})).await;
        client.post("/api/v1/counters/1/start", &ana, json!({})).await;
        client.post("/api/v1/counters/1/finish", &ana, json!({ "outcome": "hecho" })).await;
    }
    let invitations = eventually("two survey invitations", async || {
        let invitations: Vec<Value> = smtp
            .received()
            .into_iter()
            .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains("atendimos")))
            .collect();
        (invitations.len() == 2).then_some(invitations)
    })
    .await;
    let recipients: Vec<&Value> = invitations.iter().map(|m| &m["rcpt_tos"][0]).collect();
    assert!(recipients.contains(&&json!(AT_KIOSK)) && recipients.contains(&&json!(ON_TRACKING_PAGE)));
    // The emulated modem writes what it sends to <data>/sms/sms.txt, a phone's inbox.
    let texted = eventually("two SMS survey invitations", async || {
        let sent = std::fs::read_to_string(edge_dir.path().join("sms").join("sms.txt")).ok()?;
        let invitations: Vec<String> = sent.lines().filter(|l| l.contains("atendimos")).map(str::to_string).collect();
        (invitations.len() == 2).then_some(invitations)
    })
    .await;
    assert!(texted.iter().any(|l| l.starts_with("+34611987654\t")), "{texted:?}");
    assert!(texted.iter().any(|l| l.starts_with("+34622334455\t")), "{texted:?}");

    // The first citizen answers at central through the link in their invitation.
    let text = invitations[0]["text"].as_str().expect("text");
    let link = text
        .split_whitespace()
        .find(|word| word.starts_with(&format!("{}/s/", client.central)))
        .unwrap_or_else(|| panic!("the invitation links to central: {text}"));
    let api = link.replace("/s/", "/api/v1/public/surveys/");
    let answered = client
        .http
        .post(api)
        .json(&json!({ "satisfaction": 2, "resolved": false, "comment": "Tardaron mucho en la caja" }))
        .send()
        .await
        .expect("central answers");
    assert_eq!(answered.status().as_u16(), 201);

    // A citizen books at central with their document, e-mail and a note naming them.
    let booked_day = book(&client, &smtp).await;

    // Headquarters looks at everything it has on the office.
    let today = client.office_day().await;
    let day_path = format!("/api/v1/offices/centro/days/{today}");
    let synced = eventually("the day at central", async || {
        let response = client.http.get(format!("{}{day_path}", client.central)).bearer_auth(HQ).send().await.ok()?;
        let day: Value = response.json().await.ok()?;
        (day["tickets"].as_object().map(|t| t.len()) == Some(4)).then_some(day)
    })
    .await;
    client.hq_said.push_str(&synced.to_string());
    for path in [
        "/api/v1/offices".to_string(),
        day_path.clone(),
        "/api/v1/offices/centro/queue".to_string(),
        format!("/api/v1/kpis?office=centro&from={today}&by=agent"),
        format!("/api/v1/surveys?office=centro&from={today}&by=service"),
        "/api/v1/surveys/comments?office=centro".to_string(),
        format!("/api/v1/bookings/report?office=centro&from={today}&to={booked_day}"),
        "/api/v1/notices".to_string(),
    ] {
        client.hq(&path).await;
    }
    let surveys = client.hq(&format!("/api/v1/surveys?office=centro&from={today}")).await;
    assert_eq!(surveys["total"]["answers"], json!(1), "{surveys}");

    // The daemons stop; what they wrote is searched.
    edge.kill().expect("stop the edge");
    central.kill().expect("stop central");
    let _ = (edge.wait(), central.wait());
    let mut contacts = vec![AT_KIOSK, ON_TRACKING_PAGE, TYPED_WRONG, BOOKER, ID_NUMBER, "27444333", NOTE];
    contacts.extend(PHONE_FORMS);
    for name in ["edge", "central"] {
        let log = std::fs::read_to_string(logs.path().join(format!("{name}.log"))).expect("log");
        assert!(log.contains("DEBUG") || log.contains("INFO"), "{name} logged at all:\n{log}");
        // The demo's emulated modem shows each SMS on the terminal as the citizen's phone would
        // (`SMS to <number> ...`): that is the phone's screen, not the daemon's log.
        let log: String = log.lines().filter(|l| !l.starts_with("SMS to ")).collect::<Vec<_>>().join("\n");
        for contact in &contacts {
            assert!(!log.to_lowercase().contains(contact), "{name}'s log holds {contact}");
        }
    }
    let central_log = std::fs::read_to_string(logs.path().join("central.log")).expect("log");
    let mac = link.rsplit('/').next().expect("the link's MAC");
    assert!(!central_log.contains(mac), "central's log holds a survey link's credential");
    assert!(central_log.contains("[survey link]"), "the answer was logged, without its link");
    let edge_log = std::fs::read_to_string(logs.path().join("edge.log")).expect("log");
    assert!(edge_log.contains("notice sent"), "the edge logged its notices (without whom they went to)");
    let events = events.lock().expect("events").clone();
    assert!(events.contains("called"), "the events were heard: {events}");
    // The configuration document holds no citizen data by construction; the day is where
    // tickets, calls and survey answers are.
    let ids = [day_doc_id("centro", today), appointments_doc_id("centro", booked_day)];
    // The edge holds the appointments of today and tomorrow only; central holds both.
    assert_eq!(documents(&central_dir.path().join("store"), &ids).len(), 2, "central holds both documents");
    for store in [edge_dir.path().join("store"), central_dir.path().join("store")] {
        for (id, bytes) in documents(&store, &ids) {
            assert!(holds(&bytes, "general") || holds(&bytes, "documentos"), "{id} was read");
            for contact in &contacts {
                assert!(!holds(&bytes, contact), "{id} holds {contact}, in its history at least");
            }
        }
    }
    for contact in &contacts {
        assert!(!events.contains(contact), "the live events hold {contact}");
        assert!(!client.hq_said.to_lowercase().contains(contact), "headquarters answered with {contact}");
    }
}

/// Books the first free slot of the demo's bookable procedure from tomorrow on, through central's
/// public API and the code e-mailed to the citizen; the date booked.
async fn book(client: &Client, smtp: &SmtpServer) -> BusinessDay {
    let central = &client.central;
    let today = client.office_day().await;
    let (day, start) = eventually("a free slot", async || {
        for ahead in 1..10 {
            let day = today.plus_days(ahead);
            let url = format!("{central}/api/v1/public/offices/centro/slots?service=documentos&day={day}");
            let Ok(response) = client.http.get(url).send().await else { continue };
            let Ok(slots) = response.json::<Value>().await else { continue };
            let free = slots["slots"].as_array().and_then(|s| s.iter().find(|s| s["free"].as_u64() > Some(0)).cloned());
            if let Some(slot) = free {
                return Some((day, slot["start"].as_str()?.to_string()));
            }
        }
        None
    })
    .await;
    let held: Value = client
        .http
        .post(format!("{central}/api/v1/public/bookings"))
        .json(&json!({
            "office": "centro", "service": "documentos", "day": day.to_string(), "start": start,
            "document_type": "dni", "document_number": ID_NUMBER, "contact": BOOKER, "lang": "es", "note": NOTE,
        }))
        .send()
        .await
        .expect("central")
        .json()
        .await
        .expect("json");
    let hold = held["hold"].as_str().unwrap_or_else(|| panic!("a hold: {held}")).to_string();
    let code = eventually("the booking's code", async || {
        let mail = smtp.received().into_iter().find(|m| m["rcpt_tos"][0] == json!(BOOKER))?;
        let text = mail["text"].as_str()?.to_string();
        text.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).map(str::to_string)
    })
    .await;
    let confirmed = client
        .http
        .post(format!("{central}/api/v1/public/bookings/holds/{hold}/confirm"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .expect("central");
    assert_eq!(confirmed.status().as_u16(), 201);
    day
}
