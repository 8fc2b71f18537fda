//! Staff and kiosks managed from headquarters: an administrator adds a counter agent and a
//! kiosk for the office at central; the office's box lets them in within its next ask; removed
//! at central, they are out at the box (a session open then ends); the box keeps the list it was
//! given through a restart while central is down; the file's users stay as the fallback.

mod in_process;

use std::path::Path;
use std::time::{Duration, Instant};

use in_process::{central_link, free_port, retry};
use reqwest::StatusCode;
use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(20);

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

async fn start_central(port: u16, dir: &Path) -> Running {
    let settings = fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), dir.to_path_buf());
    let app = retry(|| fila_central::App::build(settings.clone())).await;
    let handle = app.handle();
    Running { base: format!("http://127.0.0.1:{port}"), handle, join: tokio::spawn(app.run_until_stopped()) }
}

async fn start_edge(dir: &Path, central_port: u16) -> Running {
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), dir.to_path_buf());
    settings.central = Some(central_link(central_port));
    settings.access_every = Duration::from_millis(100);
    let app = retry(|| fila_edge::App::build(settings.clone())).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    Running { base, handle, join: tokio::spawn(app.run_until_stopped()) }
}

async fn login(client: &reqwest::Client, edge: &str, username: &str, password: &str) -> Option<String> {
    let response = client
        .post(format!("{edge}/api/v1/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .ok()?;
    let body: Value = response.json().await.ok()?;
    body["token"].as_str().map(str::to_string)
}

async fn eventually<T>(what: &str, mut attempt: impl AsyncFnMut() -> Option<T>) -> T {
    let began = Instant::now();
    loop {
        if let Some(value) = attempt().await {
            return value;
        }
        assert!(began.elapsed() < PATIENCE, "never: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn hq(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url).bearer_auth(fila_central::demo::HQ_ADMIN_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answered");
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_and_kiosks_added_and_removed_at_headquarters_come_and_go_at_the_box() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let client = reqwest::Client::new();
    let port = free_port();
    let central = start_central(port, central_dir.path()).await;
    let access = format!("{}/api/v1/offices/centro/access", central.base);

    // Refusals name the problem and change nothing.
    let (status, body) = hq(
        &client,
        reqwest::Method::PUT,
        format!("{access}/users/carla"),
        Some(json!({ "name": "Carla", "role": "boss", "password": "4321" })),
    )
    .await;
    assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!("bad_access")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.starts_with("role")), "{body}");
    let analyst = client
        .put(format!("{access}/users/carla"))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .json(&json!({ "name": "Carla", "role": "agent", "password": "4321" }))
        .send()
        .await
        .expect("answered");
    assert!(analyst.status().is_client_error(), "an analyst who may not configure is refused: {}", analyst.status());

    let (status, _) = hq(
        &client,
        reqwest::Method::PUT,
        format!("{access}/users/carla"),
        Some(json!({ "name": "Carla", "role": "agent", "password": "4321" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, kiosk) = hq(&client, reqwest::Method::POST, format!("{access}/kiosks/lobby"), None).await;
    assert_eq!(status, StatusCode::CREATED, "{kiosk}");
    let kiosk_token = kiosk["token"].as_str().expect("the token, shown once").to_string();
    let (_, listed) = hq(&client, reqwest::Method::GET, access.clone(), None).await;
    assert_eq!(listed["users"][0]["username"], "carla", "{listed}");
    assert!(!listed.to_string().contains("argon2"), "no hash leaves for headquarters: {listed}");

    let edge = start_edge(edge_dir.path(), port).await;
    let session =
        eventually("carla signs in at the box", async || login(&client, &edge.base, "carla", "4321").await).await;
    assert!(login(&client, &edge.base, "carla", "wrong").await.is_none());
    assert!(login(&client, &edge.base, "ana", "1234").await.is_some(), "the file's users stay");
    let issued = client
        .post(format!("{}/api/v1/tickets", edge.base))
        .bearer_auth(&kiosk_token)
        .json(&json!({ "service": "pagos" }))
        .send()
        .await
        .expect("issued");
    assert!(issued.status().is_success(), "headquarters' kiosk issues tickets: {}", issued.status());

    // Removed at headquarters: out at the box, her open session too.
    let (status, _) = hq(&client, reqwest::Method::DELETE, format!("{access}/users/carla"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = hq(&client, reqwest::Method::DELETE, format!("{access}/kiosks/lobby"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    eventually("carla's session ends", async || {
        let queue = client.get(format!("{}/api/v1/queue", edge.base)).bearer_auth(&session).send().await.ok()?;
        (queue.status() == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;
    assert!(login(&client, &edge.base, "carla", "4321").await.is_none());
    let refused = client
        .post(format!("{}/api/v1/tickets", edge.base))
        .bearer_auth(&kiosk_token)
        .json(&json!({ "service": "pagos" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // A new supervisor, then central goes away and the box restarts: it still knows her.
    let (status, _) = hq(
        &client,
        reqwest::Method::PUT,
        format!("{access}/users/diana"),
        Some(json!({ "name": "Diana", "role": "supervisor", "password": "s3cret" })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    eventually("diana signs in", async || login(&client, &edge.base, "diana", "s3cret").await).await;
    central.stop().await;
    edge.stop().await;
    let edge = start_edge(edge_dir.path(), port).await;
    assert!(login(&client, &edge.base, "diana", "s3cret").await.is_some(), "kept through a restart offline");
    edge.stop().await;
}
