//! Signage files at headquarters: an administrator uploads them, each is checked by what it
//! contains and kept once by its hash; offices fetch them by hash, resuming a cut download; a
//! configuration may name only files that were uploaded.

mod common;

use common::TestCentral;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../media/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn upload(central: &TestCentral, token: Option<&str>, bytes: Vec<u8>) -> (StatusCode, Value) {
    let mut request = central.client.post(format!("{}/api/v1/signage/media", central.base)).body(bytes);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn an_administrator_uploads_media_each_checked_by_content_and_kept_once() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    for (name, kind, size) in [
        ("blue-64x48.png", "png", (64, 48)),
        ("blue-64x48.jpg", "jpeg", (64, 48)),
        ("blue-64x48.webp", "webp", (64, 48)),
        ("clip-160x90-2s.mp4", "mp4", (160, 90)),
        ("clip-160x90-2s.webm", "webm", (160, 90)),
    ] {
        let bytes = fixture(name);
        let (status, record) = upload(&central, Some(common::HQ_ADMIN), bytes.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {record}");
        assert_eq!(record["sha256"], sha256_hex(&bytes), "{name}");
        assert_eq!(
            (&record["kind"], &record["width"], &record["height"]),
            (&json!(kind), &json!(size.0), &json!(size.1))
        );
        assert_eq!(record["bytes"], bytes.len());
    }
    // The same file again, under any name: stored once, its record answered.
    let (status, again) = upload(&central, Some(common::HQ_ADMIN), fixture("blue-64x48.png")).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    let stored = std::fs::read_dir(dir.path().join("media")).expect("media dir").count();
    assert_eq!(stored, 5 + 1, "five files and the uploads directory");
    let (status, listed) = central.get("/api/v1/signage/media", Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().map(Vec::len), Some(5), "{listed}");
    assert_eq!(listed[0]["uploaded_by"], "Demo administrator", "{listed}");
    central.stop().await;
}

#[tokio::test]
async fn a_bomb_a_wrong_codec_a_document_and_a_cut_file_are_refused_with_their_reason_and_nothing_kept() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let clip = fixture("clip-160x90-2s-moov-last.mp4");
    let cases = [
        (fixture("bomb-20000x20000.png"), StatusCode::UNPROCESSABLE_ENTITY, "too_many_pixels", "20000×20000"),
        (fixture("clip-hevc.mp4"), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_codec", "H.264"),
        (b"%PDF-1.7 not an image".to_vec(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type", "PNG, JPEG"),
        (clip[..clip.len() / 2].to_vec(), StatusCode::BAD_REQUEST, "malformed", "damaged or cut short"),
        (Vec::new(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type", "empty"),
    ];
    for (bytes, status, code, words) in cases {
        let (got, body) = upload(&central, Some(common::HQ_ADMIN), bytes).await;
        assert_eq!((got, body["error"].as_str()), (status, Some(code)), "{body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains(words)), "{body}");
    }
    // Only administrators upload.
    assert_eq!(upload(&central, None, fixture("blue-64x48.png")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(upload(&central, Some(common::HQ), fixture("blue-64x48.png")).await.0, StatusCode::FORBIDDEN);
    assert_eq!(upload(&central, Some(common::CENTRO), fixture("blue-64x48.png")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(central.get("/api/v1/signage/media", Some(common::HQ)).await.1, json!([]));
    let uploads = std::fs::read_dir(dir.path().join("media").join("uploads")).expect("uploads").count();
    assert_eq!(uploads, 0, "refused uploads leave nothing behind");
    central.stop().await;
}

#[tokio::test]
async fn an_upload_over_the_cap_is_refused_as_it_arrives() {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = common::settings(dir.path());
    settings.media_limits =
        fila_media::Limits { image_bytes_max: 1000, video_bytes_max: 100_000, ..Default::default() };
    let central = common::spawn_with(settings).await;
    let (status, body) = upload(&central, Some(common::HQ_ADMIN), vec![0u8; 200_000]).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")), "{body}");
    // An image over its own cap, under the video one.
    let mut big_png = fixture("blue-64x48.png");
    big_png.resize(5000, 0);
    let (status, body) = upload(&central, Some(common::HQ_ADMIN), big_png).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("PNG files may be at most 1000 bytes")), "{body}");
    central.stop().await;
}

#[tokio::test]
async fn an_office_fetches_a_file_by_hash_and_resumes_a_cut_download() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let clip = fixture("clip-160x90-2s.webm");
    let (_, record) = upload(&central, Some(common::HQ_ADMIN), clip.clone()).await;
    let url = format!("{}/api/v1/signage/media/{}", central.base, record["sha256"].as_str().expect("hash"));

    let whole = central.client.get(&url).bearer_auth(common::CENTRO).send().await.expect("fetched");
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.headers()["content-type"], "video/webm");
    assert_eq!(whole.bytes().await.expect("body").as_ref(), clip.as_slice());
    // The link was cut after 3,000 bytes: the rest, from there.
    let rest =
        central.client.get(&url).bearer_auth(common::CENTRO).header("Range", "bytes=3000-").send().await.expect("rest");
    assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(rest.bytes().await.expect("body").as_ref(), &clip[3000..]);

    assert_eq!(central.client.get(&url).send().await.expect("answered").status(), StatusCode::UNAUTHORIZED);
    let unknown = format!("{}/api/v1/signage/media/{}", central.base, "0".repeat(64));
    assert_eq!(central.get(&unknown.replace(&central.base, ""), Some(common::CENTRO)).await.0, StatusCode::NOT_FOUND);
    let traversal = format!("{}/api/v1/signage/media/..%2F..%2Fstore", central.base);
    let response = central.client.get(&traversal).bearer_auth(common::CENTRO).send().await.expect("answered");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    central.stop().await;
}

#[tokio::test]
async fn a_configuration_may_name_only_files_that_were_uploaded() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let photo = fixture("blue-64x48.jpg");
    let (_, record) = upload(&central, Some(common::HQ_ADMIN), photo.clone()).await;
    let mut config = serde_json::to_value(fila_central::demo::office_configs().remove(0)).expect("json");
    let named = |sha256: &str| {
        json!({
            "media": [{ "sha256": sha256, "kind": "jpeg", "bytes": photo.len(), "width": 64, "height": 48 }],
            "playlists": [{ "id": "default", "name": "Institucional", "items": [{ "media": sha256, "seconds": 10 }] }],
            "schedules": [{ "id": "always", "playlist": "default" }],
        })
    };
    config["signage"] = named(&"f".repeat(64));
    let put = |config: Value| {
        central
            .client
            .put(format!("{}/api/v1/offices/centro/config", central.base))
            .bearer_auth(common::HQ_ADMIN)
            .json(&config)
            .send()
    };
    let refused = put(config.clone()).await.expect("answered");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.expect("json");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("signage.media[0]: no file")), "{body}");
    config["signage"] = named(record["sha256"].as_str().expect("hash"));
    let accepted = put(config).await.expect("answered");
    assert_eq!(accepted.status(), StatusCode::OK, "{:?}", accepted.text().await);
    central.stop().await;
}

fn ids(config: &Value, list: &str) -> Vec<String> {
    let mut ids: Vec<String> = config["signage"][list]
        .as_array()
        .map(|entries| entries.iter().filter_map(|e| e["id"].as_str().map(String::from)).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

#[tokio::test]
async fn headquarters_publishes_network_signage_to_the_offices_each_target_reaches_and_replaces_it_later() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let photo = fixture("blue-64x48.jpg");
    let (_, record) = upload(&central, Some(common::HQ_ADMIN), photo.clone()).await;
    let sha = record["sha256"].as_str().expect("hash").to_string();
    let media = json!([{ "sha256": sha, "kind": "jpeg", "bytes": photo.len(), "width": 64, "height": 48 }]);
    let put_config = |id: &'static str, tags: Value, signage: Value| {
        let mut config = serde_json::to_value(fila_central::demo::office_configs().remove(0)).expect("json");
        config["office"]["id"] = json!(id);
        config["office"]["tags"] = tags;
        config["signage"] = signage;
        central
            .client
            .put(format!("{}/api/v1/offices/{id}/config", central.base))
            .bearer_auth(common::HQ_ADMIN)
            .json(&config)
            .send()
    };
    // Centro has a loop of its own; Norte is in the south region.
    let own = json!({
        "media": media,
        "playlists": [{ "id": "own", "name": "Propio", "items": [{ "media": sha, "seconds": 5 }] }],
        "schedules": [{ "id": "own", "playlist": "own" }],
    });
    assert_eq!(put_config("centro", json!(["capital"]), own).await.expect("put").status(), StatusCode::OK);
    assert_eq!(put_config("norte", json!(["sur"]), json!({})).await.expect("put").status(), StatusCode::OK);

    let catalog = |with_south: bool| {
        let mut schedules =
            vec![json!({ "id": "fiestas", "playlist": "campaign", "from": "2026-12-01", "until": "2026-12-31" })];
        let mut urgent = vec![];
        if with_south {
            schedules.push(json!({ "id": "sur", "playlist": "southern", "target": "tag:sur" }));
            urgent.push(json!({ "id": "corte", "texts": [{ "lang": "es", "text": "Corte de luz a las 11" }],
                "from_ms": 0, "until_ms": 4_000_000_000_000i64, "target": "office:centro", "by": "hq:demo" }));
        }
        json!({
            "media": media,
            "playlists": [
                { "id": "campaign", "name": "Fiestas", "items": [{ "media": sha, "seconds": 10 }] },
                { "id": "southern", "name": "Región sur", "items": [{ "slide": [{ "lang": "es", "title": "Sur" }], "seconds": 8 }] },
            ],
            "schedules": schedules,
            "urgent": urgent,
            "ticker": [{ "lang": "es", "text": "Turnos en **fila.gob**" }],
        })
    };
    let publish = |catalog: Value, token: &'static str| {
        central.client.put(format!("{}/api/v1/signage/network", central.base)).bearer_auth(token).json(&catalog).send()
    };
    let response = publish(catalog(true), common::HQ_ADMIN).await.expect("published");
    assert_eq!(response.status(), StatusCode::OK);
    let outcomes: Value = response.json().await.expect("json");
    assert!(outcomes.as_array().is_some_and(|o| o.iter().all(|o| o["changed"] == true)), "{outcomes}");

    let central_ref = &central;
    let config = |id: &'static str| async move {
        central_ref.get(&format!("/api/v1/offices/{id}/config"), Some(common::HQ)).await.1
    };
    let centro = config("centro").await;
    assert_eq!(ids(&centro, "schedules"), ["fiestas", "own"], "everyone's campaign, and its own loop");
    assert_eq!(ids(&centro, "urgent"), ["corte"]);
    assert_eq!(ids(&centro, "playlists"), ["campaign", "own"]);
    assert_eq!(centro["signage"]["ticker"][0]["text"], "Turnos en **fila.gob**");
    let norte = config("norte").await;
    assert_eq!(ids(&norte, "schedules"), ["fiestas", "sur"], "the south's schedule reaches the tag");
    assert_eq!(ids(&norte, "urgent"), Vec::<String>::new());
    assert_eq!(ids(&norte, "playlists"), ["campaign", "southern"]);

    // Published again without the south's schedule and the outage: they go, the rest stays.
    assert_eq!(publish(catalog(false), common::HQ_ADMIN).await.expect("published").status(), StatusCode::OK);
    let (centro, norte) = (config("centro").await, config("norte").await);
    assert_eq!(ids(&centro, "schedules"), ["fiestas", "own"]);
    assert_eq!(ids(&centro, "urgent"), Vec::<String>::new());
    assert_eq!(ids(&norte, "schedules"), ["fiestas"]);
    assert_eq!(ids(&norte, "playlists"), ["campaign"]);
    assert_eq!(central.get("/api/v1/signage/network", Some(common::HQ)).await.1["schedules"][0]["id"], "fiestas");

    // A catalog that does not hold together is refused whole; only administrators publish.
    let mut broken = catalog(false);
    broken["schedules"][0]["playlist"] = json!("nowhere");
    broken["media"][0]["sha256"] = json!("f".repeat(64));
    let refused = publish(broken, common::HQ_ADMIN).await.expect("answered");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let body: Value = refused.json().await.expect("json");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("no playlist \"nowhere\"") && message.contains("signage.media[0]: no file"), "{body}");
    assert_eq!(publish(catalog(false), common::HQ).await.expect("answered").status(), StatusCode::FORBIDDEN);
    central.stop().await;
}
