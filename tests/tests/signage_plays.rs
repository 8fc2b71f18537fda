//! Proof of play: a screen reports each play to its box, which keeps the plays while central is
//! out of reach and reports them when it is back; headquarters counts each play once, however
//! often it is sent, per item, office and day, also as CSV.

mod in_process;

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use in_process::{central_link, free_port, retry};

const PATIENCE: Duration = Duration::from_secs(30);
const POSTER: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

fn play(id: &str, started_at: i64) -> Value {
    json!({ "id": id, "screen": "sala", "playlist": "default", "item": POSTER, "started_at": started_at, "seconds": 10 })
}

async fn report(client: &reqwest::Client, central: &str, day: &str) -> Value {
    client
        .get(format!("{central}/api/v1/signage/plays?office=centro&from={day}"))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .send()
        .await
        .expect("report")
        .json()
        .await
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_made_offline_reach_headquarters_and_each_counts_once() {
    let (central_dir, edge_dir) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let port = free_port();
    let client = reqwest::Client::new();
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("addr"), edge_dir.path().into());
    settings.central = Some(central_link(port));
    // The office's signage has the poster the screen plays.
    let mut office = fila_central::demo::office_configs().remove(0);
    office.signage = serde_json::from_value(json!({
        "media": [{ "sha256": POSTER, "kind": "png", "bytes": 1000, "width": 64, "height": 48 }],
        "playlists": [{ "id": "default", "name": "Institucional", "items": [{ "media": POSTER, "seconds": 10 }] }],
        "schedules": [{ "id": "always", "playlist": "default" }],
    }))
    .expect("signage");
    settings.office = office.clone().validate().expect("valid");
    let edge = retry(|| fila_edge::App::build(settings.clone())).await;
    let edge_base = format!("http://127.0.0.1:{}", edge.port());
    let (edge_handle, edge_run) = (edge.handle(), tokio::spawn(edge.run_until_stopped()));

    // Central is down: the screen's plays stay on the box, a repeated one once.
    let now = jiff::Timestamp::now().as_millisecond();
    let post = |body: Value| client.post(format!("{edge_base}/api/v1/signage/plays")).json(&body).send();
    for (id, recorded) in [("play-0001", true), ("play-0002", true), ("play-0001", false)] {
        let answer = post(play(id, now - 60_000)).await.expect("posted");
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.json::<Value>().await.expect("json")["recorded"], recorded, "{id}");
    }
    for bad in [play("x", now), play("play-0003", now + 3_600_000), json!({ "id": "play-0004" })] {
        let answer = post(bad.clone()).await.expect("posted");
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    // Central comes back: the box reports them.
    let mut central_settings =
        fila_central::demo::settings(format!("127.0.0.1:{port}").parse().expect("addr"), central_dir.path().into());
    central_settings.seed_configs = vec![office];
    let central = retry(|| fila_central::App::build(central_settings.clone())).await;
    let central_base = format!("http://127.0.0.1:{port}");
    let (central_handle, central_run) = (central.handle(), tokio::spawn(central.run_until_stopped()));
    let zone = jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").expect("zone");
    let day = jiff::Timestamp::from_millisecond(now - 60_000).expect("instant").to_zoned(zone).date().to_string();
    let started = Instant::now();
    let rows = loop {
        let rows = report(&client, &central_base, &day).await;
        if rows.as_array().is_some_and(|r| !r.is_empty()) {
            break rows;
        }
        assert!(started.elapsed() < PATIENCE, "the plays never reached headquarters: {rows}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(rows, json!([{ "item": POSTER, "office": "centro", "day": day, "plays": 2, "seconds": 20 }]));

    // The screen sends one again (it never heard back): counted once still.
    assert_eq!(post(play("play-0002", now - 60_000)).await.expect("posted").status(), StatusCode::OK);
    // And a box that replays a report changes nothing.
    let replay = client
        .post(format!("{central_base}/api/v1/branch/signage/plays"))
        .bearer_auth(fila_central::demo::BRANCH_TOKEN)
        .json(&json!([play("play-0001", now - 60_000), play("play-0002", now - 60_000)]))
        .send()
        .await
        .expect("replayed");
    assert_eq!(replay.json::<Value>().await.expect("json"), json!({ "accepted": 0, "duplicates": 2, "refused": 0 }));
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(report(&client, &central_base, &day).await[0]["plays"], 2);
    let csv = client
        .get(format!("{central_base}/api/v1/signage/plays.csv?from={day}"))
        .bearer_auth(fila_central::demo::HQ_TOKEN)
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    assert_eq!(csv, format!("item,office,day,plays,seconds\n{POSTER},centro,{day},2,20\n"));
    let unauthorized = client.post(format!("{central_base}/api/v1/branch/signage/plays")).json(&json!([])).send().await;
    assert_eq!(unauthorized.expect("answered").status(), StatusCode::UNAUTHORIZED);

    edge_handle.stop(true).await;
    central_handle.stop(true).await;
    let _ = (edge_run.await, central_run.await);
}
