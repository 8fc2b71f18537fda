//! An office and headquarters together: the edge syncs its day to central live, keeps serving
//! while central is down, and both hold the same day once central is back.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(15);

struct Running {
    base: String,
    handle: actix_web::dev::ServerHandle,
    join: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn stop(self) {
        self.handle.stop(true).await;
        self.join.await.expect("task").expect("stopped cleanly");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

async fn start_central(port: u16, dir: &Path) -> Running {
    let settings = fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), dir.to_path_buf());
    // sled releases its directory lock a moment after the previous instance is dropped.
    let app = retry(|| fila_central::App::build(settings.clone())).await;
    let handle = app.handle();
    Running { base: format!("http://127.0.0.1:{port}"), handle, join: tokio::spawn(app.run_until_stopped()) }
}

async fn start_edge(dir: &Path, central_port: u16) -> Running {
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), dir.to_path_buf());
    settings.central = Some(fila_edge::sync_client::CentralSettings {
        url: format!("ws://127.0.0.1:{central_port}/api/v1/sync"),
        token: fila_central::demo::BRANCH_TOKEN.to_string(),
        ca_file: None,
        citizen_url: None,
        booking_key: None,
        fallback_urls: Vec::new(),
    });
    let app = retry(|| fila_edge::App::build(settings.clone())).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    Running { base, handle, join: tokio::spawn(app.run_until_stopped()) }
}

async fn retry<T>(mut build: impl FnMut() -> anyhow::Result<T>) -> T {
    for _ in 0..50 {
        if let Ok(app) = build() {
            return app;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    build().expect("starts")
}

/// The edge's view: ticket number -> status, from the supervisor's queue and the tracking API.
async fn edge_tickets(client: &reqwest::Client, edge: &str, tokens: &[String]) -> BTreeMap<String, String> {
    let mut tickets = BTreeMap::new();
    for token in tokens {
        let ticket: Value =
            client.get(format!("{edge}/api/v1/track/{token}")).send().await.expect("track").json().await.expect("json");
        tickets.insert(
            ticket["number"].as_str().expect("number").to_string(),
            ticket["status"].as_str().expect("status").to_string(),
        );
    }
    tickets
}

/// A headquarters read, as an analyst; `null` when central does not answer with JSON.
async fn hq_get(client: &reqwest::Client, central: &str, path: &str) -> Value {
    let response = client.get(format!("{central}{path}")).bearer_auth(fila_central::demo::HQ_TOKEN).send().await;
    match response {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// Central's view of the same day: ticket number -> status.
async fn central_tickets(client: &reqwest::Client, central: &str, day: &str) -> Option<BTreeMap<String, String>> {
    let response = client
        .get(format!("{central}/api/v1/offices/centro/days/{day}"))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .send()
        .await
        .ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    let day: Value = response.json().await.ok()?;
    let tickets = day["tickets"].as_object()?;
    Some(
        tickets
            .values()
            .map(|t| {
                let number = format!(
                    "{}-{:03}",
                    t["number"]["prefix"].as_str().unwrap_or("?"),
                    t["number"]["seq"].as_u64().unwrap_or(0)
                );
                (number, t["status"].as_str().unwrap_or("?").to_string())
            })
            .collect(),
    )
}

async fn wait_until_central_has(
    client: &reqwest::Client,
    central: &str,
    day: &str,
    expected: &BTreeMap<String, String>,
) -> Duration {
    let started = Instant::now();
    loop {
        let seen = central_tickets(client, central, day).await;
        if seen.as_ref() == Some(expected) {
            return started.elapsed();
        }
        assert!(started.elapsed() < PATIENCE, "central never matched the edge:\n edge {expected:?}\n central {seen:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn issue(client: &reqwest::Client, edge: &str) -> Value {
    let response = client
        .post(format!("{edge}/api/v1/tickets"))
        .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
        .json(&json!({ "service": "general" }))
        .send()
        .await
        .expect("issue");
    assert_eq!(response.status(), StatusCode::CREATED, "the office issues tickets whatever central does");
    response.json().await.expect("json")
}

async fn act(client: &reqwest::Client, edge: &str, token: &str, action: &str) {
    let response = client
        .post(format!("{edge}/api/v1/counters/1/{action}"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .expect("act");
    assert!(response.status().is_success(), "{action}: {}", response.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_keeps_serving_while_central_is_down_and_both_converge_when_it_returns() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let client = reqwest::Client::new();
    let central = start_central(port, central_dir.path()).await;
    let edge = start_edge(edge_dir.path(), port).await;

    let office: Value =
        client.get(format!("{}/api/v1/office", edge.base)).send().await.expect("office").json().await.expect("json");
    let day = office["day"].as_str().expect("day").to_string();
    let login: Value = client
        .post(format!("{}/api/v1/login", edge.base))
        .json(&json!({ "username": "ana", "password": "1234" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let ana = login["token"].as_str().expect("token").to_string();
    act(&client, &edge.base, &ana, "sign-in").await;

    // Online: what happens at the office shows at headquarters right away.
    let mut tokens = Vec::new();
    for _ in 0..3 {
        tokens.push(issue(&client, &edge.base).await["token"].as_str().expect("token").to_string());
    }
    act(&client, &edge.base, &ana, "call-next").await;
    let expected = edge_tickets(&client, &edge.base, &tokens).await;
    let lag = wait_until_central_has(&client, &central.base, &day, &expected).await;
    assert!(lag < Duration::from_secs(5), "a call reached HQ in {lag:?}");
    // Headquarters sees how fresh the office's data is: live, the lag is a second or two at most
    // (the edge stamps changes in whole seconds).
    let offices = hq_get(&client, &central.base, "/api/v1/offices").await;
    let lag = offices[0]["sync_lag_seconds"].as_f64().expect("a lag once changes arrived");
    assert!(lag < 3.0, "sync lag {lag} s");
    // Headquarters sees the live queue: who waits, which counter calls whom.
    let queue = hq_get(&client, &central.base, "/api/v1/offices/centro/queue").await;
    assert_eq!(queue["waiting"], 2, "{queue}");
    let counter =
        queue["counters"].as_array().expect("counters").iter().find(|c| c["counter"] == "1").expect("counter 1");
    assert_eq!((counter["status"].as_str(), counter["agent"].as_str()), (Some("open"), Some("ana")));
    assert_eq!(counter["current"], "A-001");
    assert_eq!(queue["recent_calls"][0]["number"], "A-001");

    // Partition: central goes away; the office goes on.
    central.stop().await;
    act(&client, &edge.base, &ana, "start").await;
    act(&client, &edge.base, &ana, "finish").await;
    for _ in 0..2 {
        tokens.push(issue(&client, &edge.base).await["token"].as_str().expect("token").to_string());
    }
    act(&client, &edge.base, &ana, "call-next").await;
    let expected = edge_tickets(&client, &edge.base, &tokens).await;
    assert_eq!(expected.len(), 5);

    // Central returns on the same data; the edge reconnects by itself and both converge.
    let central = start_central(port, central_dir.path()).await;
    wait_until_central_has(&client, &central.base, &day, &expected).await;
    // Headquarters' KPIs, computed from the documents, count what happened during the outage.
    let kpis = hq_get(&client, &central.base, &format!("/api/v1/kpis?office=centro&from={day}&to={day}")).await;
    let total = &kpis["total"];
    assert_eq!(total["tickets_issued"], 5, "{kpis}");
    assert_eq!(total["tickets_called"], 2, "{kpis}");
    assert_eq!(total["tickets_served"], 1, "{kpis}");

    edge.stop().await;
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_worked_offline_all_reach_central_when_it_comes_back() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let client = reqwest::Client::new();
    // The edge's clock is the test's: three business days pass while central is unreachable.
    let now = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(1_795_953_600_000)); // 2026-11-29 09:00 -03
    let read = now.clone();
    let clock: fila_edge::office_loop::Clock =
        std::sync::Arc::new(move || fila_protocol::Timestamp(read.load(std::sync::atomic::Ordering::SeqCst)));
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().to_path_buf());
    // The box has met central once (a box with no records waits for central before numbering).
    {
        let central = start_central(port, central_dir.path()).await;
        let mut first = settings.clone();
        first.central = Some(fila_edge::sync_client::CentralSettings {
            url: format!("ws://127.0.0.1:{port}/api/v1/sync"),
            token: fila_central::demo::BRANCH_TOKEN.to_string(),
            ca_file: None,
            citizen_url: None,
            booking_key: None,
            fallback_urls: Vec::new(),
        });
        let app = retry(|| fila_edge::App::build_with_clock(first.clone(), clock.clone())).await;
        let (base, handle) = (format!("http://127.0.0.1:{}", app.port()), app.handle());
        let join = tokio::spawn(app.run_until_stopped());
        let began = Instant::now();
        loop {
            let health: Value =
                client.get(format!("{base}/healthz")).send().await.expect("health").json().await.expect("json");
            // Met: connected, and done recovering (a box stopped while it still recovers waits
            // for central again at its next start, by design).
            let met = health["central"]["connected"] == true
                && health["central"]["docs_in_sync"].as_u64() > Some(0)
                && health["status"] == "ok";
            if met {
                break;
            }
            assert!(began.elapsed() < PATIENCE, "the edge never met central: {health}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        handle.stop(true).await;
        join.await.expect("edge task").expect("edge stopped");
        central.stop().await;
    }
    settings.central = Some(fila_edge::sync_client::CentralSettings {
        url: format!("ws://127.0.0.1:{port}/api/v1/sync"),
        token: fila_central::demo::BRANCH_TOKEN.to_string(),
        ca_file: None,
        citizen_url: None,
        booking_key: None,
        fallback_urls: Vec::new(),
    });
    let app = retry(|| fila_edge::App::build_with_clock(settings.clone(), clock.clone())).await;
    let edge = Running {
        base: format!("http://127.0.0.1:{}", app.port()),
        handle: app.handle(),
        join: tokio::spawn(app.run_until_stopped()),
    };

    let mut days = Vec::new();
    for (d, tickets) in [(0, 3), (1, 2), (2, 4)] {
        now.store(1_795_953_600_000 + d * 86_400_000, std::sync::atomic::Ordering::SeqCst);
        let mut tokens = Vec::new();
        for _ in 0..tickets {
            tokens.push(issue(&client, &edge.base).await["token"].as_str().expect("token").to_string());
        }
        let office: Value = client
            .get(format!("{}/api/v1/office", edge.base))
            .send()
            .await
            .expect("office")
            .json()
            .await
            .expect("json");
        days.push((office["day"].as_str().expect("day").to_string(), edge_tickets(&client, &edge.base, &tokens).await));
    }
    assert_eq!(
        days.iter().map(|(day, _)| day.as_str()).collect::<Vec<_>>(),
        ["2026-11-29", "2026-11-30", "2026-12-01"]
    );

    let central = start_central(port, central_dir.path()).await;
    for (day, expected) in &days {
        wait_until_central_has(&client, &central.base, day, expected).await;
    }
    // Once central has acknowledged them, only the configuration, today's and tomorrow's bookings,
    // today's remote joins and today remain in sync.
    let started = Instant::now();
    loop {
        let health: Value =
            client.get(format!("{}/healthz", edge.base)).send().await.expect("health").json().await.expect("json");
        if health["central"]["docs_in_sync"] == 5 {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "past days never sealed: {health}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    edge.stop().await;
    central.stop().await;

    // The two finished days are sealed at the edge: central holds them in full, so they leave the
    // sync window for good. The current day stays open.
    let store = (0..100)
        .find_map(|_| {
            fila_store::SledStore::open(&edge_dir.path().join("store"), 8 << 20)
                .inspect_err(|_| std::thread::sleep(Duration::from_millis(50)))
                .ok()
        })
        .expect("the edge's store opens once the edge stopped");
    use fila_store::Store;
    let index: BTreeMap<String, String> = store
        .scan_meta("docs/")
        .expect("index")
        .into_iter()
        .map(|(key, state)| (key, String::from_utf8_lossy(&state).into_owned()))
        .collect();
    for (day, _) in &days[..2] {
        assert_eq!(
            index.get(&format!("docs/branch/centro/day/{day}")).map(String::as_str),
            Some("sealed"),
            "{index:?}"
        );
    }
    assert_eq!(index.get(&format!("docs/branch/centro/day/{}", days[2].0)).map(String::as_str), Some("open"));
}

async fn office_services(client: &reqwest::Client, edge: &str) -> Vec<String> {
    let office: Value =
        client.get(format!("{edge}/api/v1/office")).send().await.expect("office").json().await.expect("json");
    office["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| s["name"].as_str().expect("name").to_string())
        .collect()
}

async fn put_config(client: &reqwest::Client, central: &str, token: &str, config: &Value) -> (StatusCode, Value) {
    let response = client
        .put(format!("{central}/api/v1/offices/centro/config"))
        .bearer_auth(token)
        .json(config)
        .send()
        .await
        .expect("put config");
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_set_at_headquarters_reaches_the_office_and_survives_its_restart() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let client = reqwest::Client::new();
    let central = start_central(port, central_dir.path()).await;
    let edge = start_edge(edge_dir.path(), port).await;
    assert!(office_services(&client, &edge.base).await.contains(&"Pagos y tasas".to_string()));

    // Headquarters renames a service, from the office's own configuration.
    let settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().to_path_buf());
    let mut config = serde_json::to_value(settings.office.to_raw()).expect("json");
    config["services"][1]["name"] = json!("Caja");
    let (status, body) = put_config(&client, &central.base, fila_central::demo::HQ_TOKEN, &config).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an analyst may read, not configure: {body}");
    let (status, body) = put_config(&client, &central.base, fila_central::demo::HQ_ADMIN_TOKEN, &config).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let started = Instant::now();
    while !office_services(&client, &edge.base).await.contains(&"Caja".to_string()) {
        assert!(started.elapsed() < PATIENCE, "the office never took the new configuration");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The office keeps serving under it.
    let ticket = client
        .post(format!("{}/api/v1/tickets", edge.base))
        .bearer_auth(fila_edge::demo::KIOSK_TOKEN)
        .json(&json!({ "service": "pagos" }))
        .send()
        .await
        .expect("issue")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(ticket["service_name"], "Caja");

    // An invalid configuration is refused by name and changes nothing.
    let mut broken = config.clone();
    broken["counters"][0]["services"] = json!(["visas"]);
    let (status, body) = put_config(&client, &central.base, fila_central::demo::HQ_ADMIN_TOKEN, &broken).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_config")), "{body}");

    // Restarted without central, the office starts on headquarters' configuration, not its file's.
    edge.stop().await;
    central.stop().await;
    let edge = start_edge(edge_dir.path(), free_port()).await;
    assert!(office_services(&client, &edge.base).await.contains(&"Caja".to_string()));
    edge.stop().await;
}

async fn office_json(client: &reqwest::Client, edge: &str) -> Value {
    client.get(format!("{edge}/api/v1/office")).send().await.expect("office").json().await.expect("json")
}

/// The office admin's configuration edit at the edge; returns the HTTP status.
async fn edit_config(client: &reqwest::Client, edge: &str, token: &str, config: &Value) -> StatusCode {
    let response = client.put(format!("{edge}/api/v1/admin/config")).bearer_auth(token).json(config).send().await;
    response.expect("edit").status()
}

async fn login(client: &reqwest::Client, edge: &str, user: &str, password: &str) -> String {
    let login: Value = client
        .post(format!("{edge}/api/v1/login"))
        .json(&json!({ "username": user, "password": password }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    login["token"].as_str().expect("token").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_edit_made_offline_merges_with_headquarters_edit_by_the_rule() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let client = reqwest::Client::new();
    let settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().to_path_buf());
    let base_config = serde_json::to_value(settings.office.to_raw()).expect("json");

    // Headquarters sets the office's configuration; the office takes it.
    let central = start_central(port, central_dir.path()).await;
    let edge = start_edge(edge_dir.path(), port).await;
    let mut config = base_config.clone();
    config["services"][1]["name"] = json!("Caja");
    assert_eq!(put_config(&client, &central.base, fila_central::demo::HQ_ADMIN_TOKEN, &config).await.0, StatusCode::OK);
    let started = Instant::now();
    while !office_services(&client, &edge.base).await.contains(&"Caja".to_string()) {
        assert!(started.elapsed() < PATIENCE, "the office never took headquarters' configuration");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    edge.stop().await;

    // Apart: headquarters renames a service; the office admin, offline, changes what counter 2 serves.
    let mut at_hq = config.clone();
    at_hq["services"][0]["name"] = json!("Mesa de entradas");
    assert_eq!(put_config(&client, &central.base, fila_central::demo::HQ_ADMIN_TOKEN, &at_hq).await.0, StatusCode::OK);
    central.stop().await;
    let edge = start_edge(edge_dir.path(), free_port()).await;
    let admin = login(&client, &edge.base, "admin", "admin").await;
    let mut at_office = config.clone();
    at_office["counters"][1]["services"] = json!(["general", "pagos"]);
    assert_eq!(edit_config(&client, &edge.base, &admin, &at_office).await, StatusCode::OK);
    let office = office_json(&client, &edge.base).await;
    assert_eq!(office["counters"][1]["services"], json!(["general", "pagos"]), "the local edit applies at once");
    // A bad local edit is refused by name.
    let mut broken = at_office.clone();
    broken["counters"][0]["services"] = json!(["visas"]);
    assert_eq!(edit_config(&client, &edge.base, &admin, &broken).await, StatusCode::BAD_REQUEST);
    // An agent may not edit the configuration.
    let ana = login(&client, &edge.base, "ana", "1234").await;
    assert_eq!(edit_config(&client, &edge.base, &ana, &at_office).await, StatusCode::FORBIDDEN);
    issue(&client, &edge.base).await;
    edge.stop().await;

    // Together again: both edits survive, on both sides.
    let central = start_central(port, central_dir.path()).await;
    let edge = start_edge(edge_dir.path(), port).await;
    let started = Instant::now();
    loop {
        let office = office_json(&client, &edge.base).await;
        let hq = hq_get(&client, &central.base, "/api/v1/offices/centro/config").await;
        let merged_here = office["services"][0]["name"] == "Mesa de entradas"
            && office["counters"][1]["services"] == json!(["general", "pagos"]);
        let merged_there = hq["services"][0]["name"] == "Mesa de entradas"
            && hq["counters"][1]["services"] == json!(["general", "pagos"]);
        if merged_here && merged_there {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "no merge:\n office {office}\n hq {hq}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And the queue goes on under the merged configuration.
    assert_eq!(issue(&client, &edge.base).await["number"], "A-002");
    edge.stop().await;
    central.stop().await;
}

/// A GET that keeps the ETag: the version to edit from.
async fn get_with_version(client: &reqwest::Client, url: &str, token: &str) -> (Value, String) {
    let response = client.get(url).bearer_auth(token).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    let version = response.headers()["etag"].to_str().expect("ascii").to_string();
    (response.json().await.expect("json"), version)
}

async fn put_from(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    version: &str,
    config: &Value,
) -> (StatusCode, Value) {
    let response = client.put(url).bearer_auth(token).header("If-Match", version).json(config).send().await;
    let response = response.expect("put");
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

async fn wait_for_services(client: &reqwest::Client, edge: &str, names: &[&str]) {
    let started = Instant::now();
    loop {
        let services = office_services(client, edge).await;
        if names.iter().all(|name| services.contains(&name.to_string())) {
            return;
        }
        assert!(started.elapsed() < PATIENCE, "the office has {services:?}, not all of {names:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_form_opened_before_someone_elses_edit_does_not_undo_it() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let client = reqwest::Client::new();
    let central = start_central(port, central_dir.path()).await;
    let edge = start_edge(edge_dir.path(), port).await;
    let admin = fila_central::demo::HQ_ADMIN_TOKEN;
    let hq_url = format!("{}/api/v1/offices/centro/config", central.base);
    let settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().to_path_buf());
    let first = serde_json::to_value(settings.office.to_raw()).expect("json");
    let (status, body) = put_config(&client, &central.base, admin, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Two people at headquarters open the form; the first saves a rename.
    let (form, seen) = get_with_version(&client, &hq_url, admin).await;
    let mut theirs = form.clone();
    theirs["services"][0]["name"] = json!("Mesa de entradas");
    let (status, body) = put_config(&client, &central.base, admin, &theirs).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The second saves another rename from the form as it was: both renames stand.
    let mut mine = form.clone();
    mine["services"][1]["name"] = json!("Caja");
    let (status, body) = put_from(&client, &hq_url, admin, &seen, &mine).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (now, _) = get_with_version(&client, &hq_url, admin).await;
    assert_eq!(now["services"][0]["name"], "Mesa de entradas", "the first rename was not undone");
    assert_eq!(now["services"][1]["name"], "Caja");
    // A version headquarters never gave is refused, by name, and changes nothing.
    let mut odd = now.clone();
    odd["services"][2]["name"] = json!("Nunca");
    let (status, body) = put_from(&client, &hq_url, admin, "\"not-a-version\"", &odd).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::PRECONDITION_FAILED, Some("unknown_version")), "{body}");
    wait_for_services(&client, &edge.base, &["Mesa de entradas", "Caja"]).await;

    // The same at the office: its admin's form, opened before headquarters' next rename.
    let token = login(&client, &edge.base, "admin", "admin").await;
    let edge_url = format!("{}/api/v1/admin/config", edge.base);
    let (form, seen) = get_with_version(&client, &edge_url, &token).await;
    let mut hq_edit = now.clone();
    hq_edit["services"][2]["name"] = json!("DNI");
    let (status, body) = put_config(&client, &central.base, admin, &hq_edit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    wait_for_services(&client, &edge.base, &["DNI"]).await;
    let mut office_edit = form.clone();
    office_edit["services"][3]["name"] = json!("Registro");
    let (status, body) = put_from(&client, &edge_url, &token, &seen, &office_edit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    wait_for_services(&client, &edge.base, &["Mesa de entradas", "Caja", "DNI", "Registro"]).await;
    let (status, body) = put_from(&client, &edge_url, &token, "\"garbled\"", &office_edit).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::PRECONDITION_FAILED, Some("unknown_version")), "{body}");

    edge.stop().await;
    central.stop().await;
}
