//! Signage media reach the office's box by hash: headquarters uploads them and names them in the
//! office's schedules; the box fetches what the schedules can play, resumes a download cut short,
//! refuses one whose hash does not check and fetches it again, and keeps serving its screens
//! from its cache when central is down.

mod in_process;

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use in_process::{central_link, fixture, free_port, retry, upload};

const PATIENCE: Duration = Duration::from_secs(30);

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The demo office's configuration with a playlist of `media` (kind, bytes) always on.
fn with_signage(media: &[(&str, &str, usize, u32, u32)]) -> Value {
    let mut config = serde_json::to_value(fila_central::demo::office_configs().remove(0)).expect("json");
    let refs: Vec<Value> = media
        .iter()
        .map(|(sha, kind, bytes, w, h)| json!({ "sha256": sha, "kind": kind, "bytes": bytes, "width": w, "height": h, "duration_ms": (*kind == "webm").then_some(2000) }))
        .collect();
    let items: Vec<Value> = media.iter().map(|(sha, ..)| json!({ "media": sha, "seconds": 10 })).collect();
    config["signage"] = json!({
        "media": refs,
        "playlists": [{ "id": "default", "name": "Institucional", "items": items }],
        "schedules": [{ "id": "always", "playlist": "default" }],
    });
    config
}

async fn start_edge(
    dir: &Path,
    central_port: u16,
    rate: Option<u64>,
) -> (String, actix_web::dev::ServerHandle, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), dir.to_path_buf());
    settings.media_download_bytes_per_second = rate;
    settings.central = Some(central_link(central_port));
    let app = retry(|| fila_edge::App::build(settings.clone())).await;
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    (base, handle, tokio::spawn(app.run_until_stopped()))
}

/// The box's signage status once `done` holds, as its supervisor sees it.
async fn status_when(client: &reqwest::Client, edge: &str, done: impl Fn(&Value) -> bool) -> Value {
    let login: Value = client
        .post(format!("{edge}/api/v1/login"))
        .json(&json!({ "username": "sara", "password": "1234" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["token"].as_str().expect("a session").to_string();
    let started = Instant::now();
    loop {
        let status: Value = client
            .get(format!("{edge}/api/v1/signage/status"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("status")
            .json()
            .await
            .unwrap_or(Value::Null);
        if done(&status) {
            return status;
        }
        assert!(started.elapsed() < PATIENCE, "the box's signage never got there: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_box_fetches_what_its_schedules_play_resumes_refuses_a_bad_hash_and_plays_offline() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let settings =
        fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), central_dir.path().into());
    let central = retry(|| fila_central::App::build(settings.clone())).await;
    let (central_handle, central_run) = (central.handle(), tokio::spawn(central.run_until_stopped()));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    // Headquarters uploads a clip and a photo and schedules them at the office.
    let (clip, photo) = (fixture("clip-160x90-2s.webm"), fixture("blue-64x48.jpg"));
    for bytes in [&clip, &photo] {
        upload(&client, &base, bytes).await;
    }
    let (clip_sha, photo_sha) = (sha256_hex(&clip), sha256_hex(&photo));
    let config = with_signage(&[(&clip_sha, "webm", clip.len(), 160, 90), (&photo_sha, "jpeg", photo.len(), 64, 48)]);
    let put = client
        .put(format!("{base}/api/v1/offices/centro/config"))
        .bearer_auth(fila_central::demo::HQ_ADMIN_TOKEN)
        .json(&config)
        .send()
        .await
        .expect("configured");
    assert_eq!(put.status(), StatusCode::OK, "{:?}", put.text().await);

    // The box had begun both downloads before: the clip's first 3,000 bytes arrived intact, the
    // photo's first 100 were damaged on the way.
    let partial = edge_dir.path().join("media").join("partial");
    std::fs::create_dir_all(&partial).expect("dir");
    std::fs::write(partial.join(&clip_sha), &clip[..3000]).expect("written");
    std::fs::write(partial.join(&photo_sha), vec![0u8; 100]).expect("written");

    let (edge, edge_handle, edge_run) = start_edge(edge_dir.path(), port, None).await;
    let status =
        status_when(&client, &edge, |s| s["missing"] == 0 && s["media"].as_array().is_some_and(|m| m.len() == 2)).await;
    // The clip resumed from byte 3,000; the photo's damaged start failed its hash and it came
    // again whole.
    let downloaded = (clip.len() - 3000) + (photo.len() - 100) + photo.len();
    assert_eq!(status["cache"]["downloaded_bytes"], downloaded, "{status}");
    assert_eq!(status["cache"]["refused_by_hash"], 1, "{status}");

    // The office's supervisor puts an urgent message up: it goes into the configuration
    // document, so headquarters sees who said what.
    let login: Value = client
        .post(format!("{edge}/api/v1/login"))
        .json(&json!({ "username": "sara", "password": "1234" }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let sara = login["token"].as_str().expect("a session");
    let posted = client
        .post(format!("{edge}/api/v1/signage/urgent"))
        .bearer_auth(sara)
        .json(&json!({ "text": "Hoy cerramos a las 12", "minutes": 60 }))
        .send()
        .await
        .expect("posted");
    assert_eq!(posted.status(), StatusCode::CREATED);
    let started = Instant::now();
    loop {
        let config: Value = client
            .get(format!("{base}/api/v1/offices/centro/config"))
            .bearer_auth(fila_central::demo::HQ_TOKEN)
            .send()
            .await
            .expect("config")
            .json()
            .await
            .unwrap_or(Value::Null);
        let urgent = &config["signage"]["urgent"];
        if urgent.as_array().is_some_and(|u| u.iter().any(|m| m["by"] == "sara" && m["target"] == "office:centro")) {
            assert_eq!(config["signage"]["schedules"][0]["id"], "always", "headquarters' schedule kept: {config}");
            break;
        }
        assert!(started.elapsed() < PATIENCE, "headquarters never saw the office's message: {config}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Screens play from the box, also with central down.
    central_handle.stop(true).await;
    let _ = central_run.await;
    let served = client.get(format!("{edge}/media/{clip_sha}")).send().await.expect("served");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "video/webm");
    assert_eq!(served.bytes().await.expect("bytes").as_ref(), clip.as_slice());
    let seek =
        client.get(format!("{edge}/media/{clip_sha}")).header("Range", "bytes=8000-").send().await.expect("seek");
    assert_eq!(seek.status(), StatusCode::PARTIAL_CONTENT);
    let missing = client.get(format!("{edge}/media/{}", "a".repeat(64))).send().await.expect("answered");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    edge_handle.stop(true).await;
    let _ = edge_run.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_keep_to_the_offices_bandwidth_limit() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let settings =
        fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), central_dir.path().into());
    let central = retry(|| fila_central::App::build(settings.clone())).await;
    let (central_handle, central_run) = (central.handle(), tokio::spawn(central.run_until_stopped()));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let clip = fixture("clip-160x90-2s.webm");
    upload(&client, &base, &clip).await;
    let sha = sha256_hex(&clip);
    let cache = std::sync::Arc::new(fila_edge::signage::MediaCache::open(edge_dir.path(), 1 << 20).expect("cache"));
    let started = Instant::now();
    // 8,296 bytes at 4,000 a second cannot take less than two seconds (a floor, not a speed).
    fila_edge::signage::fetch::download(
        &client,
        &base,
        fila_central::demo::BRANCH_TOKEN,
        &cache,
        &sha,
        clip.len() as u64,
        Some(4000),
    )
    .await
    .expect("downloaded");
    assert!(started.elapsed() >= Duration::from_millis(2000), "{:?}", started.elapsed());
    assert!(cache.has(&sha));
    central_handle.stop(true).await;
    let _ = central_run.await;
}
