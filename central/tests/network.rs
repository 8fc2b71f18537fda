//! The network at a glance: headquarters sees every office's day in one table, from what the
//! offices synced: who is online, how many wait and for how long, counters open, served, the
//! shares against targets and the law; filtered by region and sorted by what needs attention.

mod common;

use common::morning::{self, centro, minutes_before_now};
use common::{CENTRO, HQ, NORTE};
use fila_protocol::office::Priority;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn headquarters_sees_every_office_today_in_one_table_filtered_and_sorted() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = centro();
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;

    let (status, rows) = central.get("/api/v1/network", Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let rows = rows.as_array().expect("rows").clone();
    assert_eq!(rows.iter().map(|r| r["office"].as_str().unwrap_or("")).collect::<Vec<_>>(), ["centro", "norte"]);
    let centro = &rows[0];
    assert_eq!(centro["online"], true, "{centro}");
    assert_eq!(centro["day"], "2026-11-29");
    assert_eq!(
        (&centro["waiting"], &centro["served"], &centro["counters_open"]),
        (&Value::from(2), &Value::from(1), &Value::from(1))
    );
    assert_eq!(centro["longest_wait_seconds"], 600, "the one who came ten minutes ago");
    assert_eq!(centro["within_target_share"], 1.0, "the one called waited 16 minutes, target 20");
    assert_eq!((&centro["satisfaction_mean"], &centro["satisfaction_answers"]), (&Value::from(4.0), &Value::from(1)));
    assert!(centro["sync_lag_ms"].as_i64().is_some_and(|lag| lag >= 0), "a link has a lag: {centro}");
    assert_eq!(centro["out_of_order_calls"], 0);
    let norte = &rows[1];
    assert_eq!((&norte["online"], &norte["waiting"]), (&Value::Bool(false), &Value::from(0)), "nothing synced today");
    assert_eq!(norte["satisfaction_mean"], Value::Null, "no answers: no mean");

    // Norte syncs its morning and goes offline again.
    let mut norte = morning::norte();
    let mut norte_ws = central.connect(NORTE).await;
    norte.sync(&mut norte_ws).await;
    norte_ws.close().await;
    let (_, rows) = central.get("/api/v1/network", Some(HQ)).await;
    let norte = &rows[1];
    assert_eq!((&norte["waiting"], &norte["served"], &norte["out_of_order_calls"]), (&4.into(), &1.into(), &1.into()));
    assert_eq!(norte["longest_wait_seconds"], 25 * 60);
    assert_eq!(norte["preferential_within_legal_max_share"], 0.0, "she has waited 23 minutes, the law says 15");
    assert_eq!(norte["tags"], serde_json::json!(["interior"]));

    // By region, and worst first: the order by id is centro, norte.
    let offices = |rows: &Value| -> Vec<String> {
        rows.as_array().expect("rows").iter().map(|r| r["office"].as_str().unwrap_or("").to_string()).collect()
    };
    let (_, capital) = central.get("/api/v1/network?tag=capital", Some(HQ)).await;
    assert_eq!(offices(&capital), ["centro"]);
    let (_, interior) = central.get("/api/v1/network?tag=interior", Some(HQ)).await;
    assert_eq!(offices(&interior), ["norte"]);
    for sort in ["waiting", "longest_wait"] {
        let (_, sorted) = central.get(&format!("/api/v1/network?sort={sort}"), Some(HQ)).await;
        assert_eq!(offices(&sorted), ["norte", "centro"], "sort={sort}: {sorted}");
    }
    let (_, by_lag) = central.get("/api/v1/network?sort=sync_lag", Some(HQ)).await;
    assert_eq!(offices(&by_lag).len(), 2);
    let (status, refused) = central.get("/api/v1/network?sort=mood", Some(HQ)).await;
    assert_eq!((status, &refused["error"]), (StatusCode::BAD_REQUEST, &Value::from("bad_query")));
    assert_eq!(central.get("/api/v1/network", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(central.get("/api/v1/network", Some(CENTRO)).await.0, StatusCode::UNAUTHORIZED, "not for offices");

    // Live: the view gets every change without asking again.
    let mut live = central
        .client
        .get(format!("{}/api/v1/network/events", central.base))
        .bearer_auth(HQ)
        .send()
        .await
        .expect("stream");
    assert_eq!(live.headers()["content-type"], "text/event-stream");
    let first = next_event(&mut live).await;
    assert_eq!(first[0]["waiting"], 2, "{first}");
    edge.issue(minutes_before_now(0), Priority::Normal);
    edge.sync(&mut ws).await;
    let next = next_event(&mut live).await;
    assert_eq!(next[0]["waiting"], 3, "{next}");
    ws.close().await;
    central.stop().await;
}

/// The rows of the next `network` event on the stream (events of other kinds are skipped).
async fn next_event(stream: &mut reqwest::Response) -> Value {
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(15), stream.chunk())
            .await
            .expect("an event within 15 s")
            .expect("readable")
            .expect("the stream goes on");
        text.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            // The same stream carries the alerts.
            if event.lines().any(|l| l == "event: network") {
                let data = event.lines().find_map(|l| l.strip_prefix("data: ")).expect("data");
                return serde_json::from_str(data).expect("rows");
            }
        }
    }
}
