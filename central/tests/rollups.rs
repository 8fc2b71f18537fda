//! Network roll-ups and the deviations drill-down, over real HTTP: two offices sync their days to
//! central, and headquarters compares them per month and per week, ranked, by region, in JSON
//! and CSV, then opens one office's out-of-order calls.

mod common;

use std::time::Duration;

use common::docs_edge::Edge;
use common::{TestCentral, CENTRO, HQ, NORTE, T0};
use fila_protocol::office::{Actor, Priority};
use fila_protocol::{AgentId, Command, CounterId, OfficeConfig, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

fn config(id: &str, name: &str, tag: &str) -> OfficeConfig {
    common::regional_office(id, name, tag, "")
}

fn agent(name: &str) -> Actor {
    Actor { agent: AgentId::new(name), supervisor: false }
}

fn counter() -> CounterId {
    CounterId::new("1")
}

/// `days_before` T0 (2026-11-29, a Sunday, 10:00 in Buenos Aires), plus `minutes`.
fn at(days_before: i64, minutes: i64) -> Timestamp {
    Timestamp(T0.0 - days_before * DAY_MS + minutes * MINUTE_MS)
}

/// Centro (tag `capital`): on each day given, `served` citizens each served in turn, each having
/// waited 5 minutes.
fn centro() -> Edge {
    let days: [(i64, usize); 4] = [(29, 1), (7, 1), (2, 2), (0, 1)]; // 31/10, 22/11, 27/11, 29/11
    let mut edge = Edge::new(config("centro", "Oficina Centro", "capital"), at(29, 0));
    edge.add_config();
    for (day, served) in days {
        edge.run(at(day, 0), Command::SignIn { counter: counter(), by: agent("ana") });
        for n in 0..served as i64 {
            edge.issue(at(day, n * 30), Priority::Normal);
            edge.run(at(day, n * 30 + 5), Command::CallNext { counter: counter(), by: agent("ana") });
            let finish = Command::Finish { counter: counter(), by: agent("ana"), outcome: String::new() };
            edge.run(at(day, n * 30 + 10), finish);
        }
    }
    edge
}

/// Norte (tag `interior`), Saturday 28/11: three citizens; beto calls A-003 first, ahead of
/// then the other two in order.
fn norte() -> Edge {
    let mut edge = Edge::new(config("norte", "Oficina Norte", "interior"), at(1, 0));
    edge.add_config();
    edge.run(at(1, 0), Command::SignIn { counter: counter(), by: agent("beto") });
    let numbers: Vec<_> = (0..3).map(|minute| edge.issue(at(1, minute), Priority::Normal)).collect();
    let third = numbers[2];
    let reason = "Turno con cita previa".to_string();
    edge.run(at(1, 5), Command::CallSpecific { counter: counter(), by: agent("beto"), number: third, reason });
    for minute in [8, 12] {
        let finish = Command::Finish { counter: counter(), by: agent("beto"), outcome: String::new() };
        edge.run(at(1, minute), finish);
        edge.run(at(1, minute + 1), Command::CallNext { counter: counter(), by: agent("beto") });
    }
    edge.run(at(1, 16), Command::Finish { counter: counter(), by: agent("beto"), outcome: String::new() });
    edge
}

async fn synced_central(dir: &std::path::Path) -> TestCentral {
    let central = common::spawn(dir).await;
    for (mut edge, token) in [(centro(), CENTRO), (norte(), NORTE)] {
        let mut ws = central.connect(token).await;
        edge.sync(&mut ws).await;
        ws.close().await;
    }
    central
}

async fn rollup(central: &TestCentral, query: &str) -> Value {
    let (status, body) = central.get(&format!("/api/v1/rollups?{query}"), Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

/// Each period's offices in rank order, with one KPI.
fn ranked(rollup: &Value, kpi: &str) -> Vec<(String, Vec<(String, Value)>)> {
    let periods = rollup["periods"].as_array().expect("periods");
    periods
        .iter()
        .map(|p| {
            let rows = p["rows"].as_array().expect("rows");
            let rows = rows.iter().map(|r| (r["office"].as_str().unwrap_or("").to_string(), r[kpi].clone())).collect();
            (p["period"].as_str().unwrap_or("").to_string(), rows)
        })
        .collect()
}

#[tokio::test]
async fn headquarters_ranks_every_office_per_month_and_week_with_the_network_total() {
    let dir = tempfile::tempdir().expect("dir");
    let central = synced_central(dir.path()).await;
    let range = "from=2026-10-31&to=2026-11-29";

    // Per month, the most served first (the default).
    let months = rollup(&central, &format!("{range}&period=month")).await;
    assert_eq!(months["offices"], 2);
    assert_eq!(
        ranked(&months, "tickets_served"),
        [
            ("2026-10".to_string(), vec![("centro".to_string(), json!(1)), ("norte".to_string(), json!(0))]),
            ("2026-11".to_string(), vec![("centro".to_string(), json!(4)), ("norte".to_string(), json!(3))]),
        ]
    );
    let november = &months["periods"][1];
    assert_eq!((&november["from"], &november["to"]), (&json!("2026-11-01"), &json!("2026-11-29")));
    assert_eq!(november["rows"][0]["rank"], 1);
    assert_eq!(november["rows"][0]["days"], 3);
    assert_eq!(november["rows"][0]["office_name"], "Oficina Centro");
    let total = &november["total"];
    assert_eq!((&total["group"], &total["label"]), (&json!("total"), &json!("all")));
    assert_eq!((&total["tickets_served"], &total["out_of_order_calls"]), (&json!(7), &json!(1)));
    // Centro's four waited 5 minutes; Norte's 3, 9 and 12.
    assert_eq!(total["wait_max_seconds"], 720.0);
    assert_eq!(total["within_target_wait_share"], 1.0);

    // Ranked by another KPI, either way.
    let by_deviations = rollup(&central, &format!("{range}&sort=out_of_order")).await;
    assert_eq!(by_deviations["periods"][1]["rows"][0]["office"], "norte");
    let by_wait = rollup(&central, &format!("{range}&sort=wait_mean&order=asc")).await;
    let november: Vec<_> = ranked(&by_wait, "wait_mean_seconds").remove(1).1;
    assert_eq!(november, [("centro".to_string(), json!(300.0)), ("norte".to_string(), json!(480.0))]);

    // ISO weeks, Monday first: Saturday 31/10 is in week 44; 22/11 (Sunday) in 47; 27 to 29/11 in 48.
    let weeks = rollup(&central, &format!("{range}&period=week&tag=capital")).await;
    assert_eq!(weeks["offices"], 1, "only the capital");
    let served: Vec<(String, Vec<(String, Value)>)> = ranked(&weeks, "tickets_served");
    let names: Vec<&str> = served.iter().map(|(week, _)| week.as_str()).collect();
    assert_eq!(names, ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"]);
    let centro: Vec<Value> = served.iter().map(|(_, rows)| rows[0].1.clone()).collect();
    assert_eq!(centro, [json!(1), json!(0), json!(0), json!(1), json!(3)]);
    assert_eq!(weeks["periods"][4]["total"]["label"], "capital");
    assert_eq!(weeks["periods"][4]["from"], "2026-11-23");

    // Per day, one period per day of the range.
    let days = rollup(&central, "from=2026-11-27&to=2026-11-29&period=day&tag=interior").await;
    assert_eq!(
        ranked(&days, "tickets_served").iter().map(|(day, rows)| (day.clone(), rows[0].1.clone())).collect::<Vec<_>>(),
        [
            ("2026-11-27".to_string(), json!(0)),
            ("2026-11-28".to_string(), json!(3)),
            ("2026-11-29".to_string(), json!(0)),
        ]
    );
    central.stop().await;
}

#[tokio::test]
async fn the_rollup_csv_has_a_header_the_ranked_offices_and_the_total_per_period() {
    let dir = tempfile::tempdir().expect("dir");
    let central = synced_central(dir.path()).await;
    let response = central
        .client
        .get(format!("{}/api/v1/rollups.csv?from=2026-11-01&to=2026-11-29", central.base))
        .bearer_auth(HQ)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = response.headers()["content-disposition"].to_str().expect("ascii").to_string();
    assert!(disposition.contains("rollup-all-2026-11-01-2026-11-29-month.csv"), "{disposition}");
    let body = response.text().await.expect("body");
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert!(lines[0].starts_with("period,period_from,period_to,rank,office,office_name,days,tickets_issued,"));
    assert!(lines[0].ends_with("within_target_wait_share,preferential_within_legal_max_share,out_of_order_calls"));
    assert!(lines[1].starts_with("2026-11,2026-11-01,2026-11-29,1,centro,Oficina Centro,3,4,4,4,"), "{body}");
    assert!(lines[2].starts_with("2026-11,2026-11-01,2026-11-29,2,norte,Oficina Norte,1,3,3,3,"), "{body}");
    assert!(lines[2].ends_with(",1"), "norte's one out-of-order call: {body}");
    assert!(lines[3].starts_with("2026-11,2026-11-01,2026-11-29,,,all,,7,7,7,"), "{body}");
    assert_eq!(lines[4], "", "the last line ends with CRLF");
    central.stop().await;
}

#[tokio::test]
async fn the_drill_down_lists_each_out_of_order_call_with_the_skipped_tickets_and_the_agent() {
    let dir = tempfile::tempdir().expect("dir");
    let central = synced_central(dir.path()).await;
    let (status, list) = central.get("/api/v1/offices/norte/deviations?from=2026-11-01&to=2026-11-29", Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        (&list["office_name"], &list["time_zone"]),
        (&json!("Oficina Norte"), &json!("America/Argentina/Buenos_Aires"))
    );
    let calls = list["deviations"].as_array().expect("deviations");
    assert_eq!(calls.len(), 1, "{list}");
    let call = &calls[0];
    assert_eq!(
        (&call["day"], &call["local_time"], &call["ticket"]),
        (&json!("2026-11-28"), &json!("10:05"), &json!("A-003"))
    );
    assert_eq!(call["skipped"], json!(["A-001", "A-002"]));
    assert_eq!((&call["agent"], &call["counter"], &call["reason"]), (&json!("beto"), &json!("1"), &json!("specific")));
    assert_eq!(call["note"], "Turno con cita previa");
    let text = list.to_string();
    assert!(!text.contains("\"k1\"") && !text.contains("token"), "ticket numbers only: {text}");

    let (_, none) = central.get("/api/v1/offices/centro/deviations?from=2026-11-01&to=2026-11-29", Some(HQ)).await;
    assert_eq!(none["deviations"], json!([]));

    let response = central
        .client
        .get(format!("{}/api/v1/offices/norte/deviations.csv?from=2026-11-28", central.base))
        .bearer_auth(HQ)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.text().await.expect("body");
    assert_eq!(
        body,
        "office,day,local_time,ticket,service,counter,agent,actor,reason,note,skipped_count,skipped,time_zone\r\n\
         norte,2026-11-28,10:05,A-003,general,1,beto,beto,specific,Turno con cita previa,2,A-001 A-002,\
         America/Argentina/Buenos_Aires\r\n"
    );
    central.stop().await;
}

#[tokio::test]
async fn roll_ups_and_deviations_refuse_bad_queries_missing_tokens_and_unknown_offices() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    for (query, error) in [
        ("/api/v1/rollups?from=2026-11-01&period=year", "bad_period"),
        ("/api/v1/rollups?from=2026-11-01&sort=mood", "bad_sort"),
        ("/api/v1/rollups?from=2026-11-01&order=up", "bad_order"),
        ("/api/v1/rollups?to=2026-11-01", "missing_parameter"),
        ("/api/v1/rollups?from=2025-11-01&to=2026-11-29", "range_too_long"),
        ("/api/v1/rollups.csv?from=2026-11-29&to=2026-11-01", "bad_range"),
        ("/api/v1/rollups?from=2026-11-01&office=centro", "unknown_parameter"),
        ("/api/v1/offices/norte/deviations?from=ayer", "bad_date"),
        ("/api/v1/offices/norte/deviations.csv?from=2026-11-01&period=week", "unknown_parameter"),
    ] {
        let (status, body) = central.get(query, Some(HQ)).await;
        assert_eq!((status, &body["error"]), (StatusCode::BAD_REQUEST, &json!(error)), "{query}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    let (status, body) = central.get("/api/v1/offices/sur/deviations?from=2026-11-01", Some(HQ)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(central.get("/api/v1/rollups?from=2026-11-01", None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(central.get("/api/v1/rollups?from=2026-11-01", Some(CENTRO)).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = central.get("/api/v1/offices/norte/deviations?from=2026-11-01", Some(NORTE)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "not for offices");
    central.stop().await;
}

#[tokio::test]
async fn a_day_synced_again_is_counted_again_in_the_rollup_and_the_drill_down() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = norte();
    let mut ws = central.connect(NORTE).await;
    edge.sync(&mut ws).await;
    let range = "from=2026-11-28&to=2026-11-28&period=day";
    let before = rollup(&central, range).await;
    assert_eq!(before["periods"][0]["total"]["tickets_served"], 3);

    // Later that Saturday, beto serves two more and calls the second ahead of the first.
    let numbers: Vec<_> = [60, 61].map(|minute| edge.issue(at(1, minute), Priority::Normal)).to_vec();
    let reason = "Trámite corto".to_string();
    edge.run(at(1, 62), Command::CallSpecific { counter: counter(), by: agent("beto"), number: numbers[1], reason });
    edge.run(at(1, 64), Command::Finish { counter: counter(), by: agent("beto"), outcome: String::new() });
    edge.run(at(1, 65), Command::CallNext { counter: counter(), by: agent("beto") });
    edge.run(at(1, 70), Command::Finish { counter: counter(), by: agent("beto"), outcome: String::new() });
    edge.sync(&mut ws).await;

    let after = rollup(&central, range).await;
    let total = &after["periods"][0]["total"];
    assert_eq!((&total["tickets_served"], &total["out_of_order_calls"]), (&json!(5), &json!(2)));
    let (_, list) = central.get("/api/v1/offices/norte/deviations?from=2026-11-28", Some(HQ)).await;
    let skipped: Vec<&Value> = list["deviations"].as_array().expect("calls").iter().map(|c| &c["skipped"]).collect();
    assert_eq!(skipped, [&json!(["A-001", "A-002"]), &json!(["A-004"])]);
    ws.close().await;
    central.stop().await;
}

/// How many past days central's warm-up loaded as kept and computed, once it is done.
async fn warmed(central: &TestCentral) -> (u64, u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let metrics = central.metrics().await;
        if metrics.contains("fila_central_kpi_days_warmed{source=\"kept\"}") {
            let kept = central.metric("fila_central_kpi_days_warmed{source=\"kept\"}").await;
            let computed = central.metric("fila_central_kpi_days_warmed{source=\"computed\"}").await;
            return (kept, computed);
        }
        assert!(tokio::time::Instant::now() < deadline, "central never finished warming up: {metrics}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn after_a_restart_past_days_come_from_the_tallies_kept_unless_their_documents_changed() {
    let dir = tempfile::tempdir().expect("dir");
    let central = synced_central(dir.path()).await;
    let november = "from=2026-11-01&to=2026-11-29&period=month&sort=office&order=asc";
    let before = rollup(&central, november).await;
    // Norte's three waited 3, 9 and 12 minutes, all within its 20.
    assert_eq!(before["periods"][0]["rows"][1]["within_target_wait_share"], 1.0);
    central.stop().await;

    // Restarted, central loads the ended days' tallies the roll-up kept (Centro's 22/11 and
    // 27/11, Norte's 28/11) instead of reading their documents; Centro's 31/10, never asked
    // for, is computed (and kept); its today is not over.
    let central = common::spawn(dir.path()).await;
    assert_eq!(warmed(&central).await, (3, 1));
    assert_eq!(rollup(&central, november).await, before, "the same figures");

    // Headquarters lowers Norte's target to 5 minutes: its day is computed again after the next
    // restart, Centro's three are loaded as kept.
    let (status, mut config) = central.get("/api/v1/offices/norte/config", Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{config}");
    config["services"][0]["target_wait_minutes"] = json!(5);
    let response = central
        .client
        .put(format!("{}/api/v1/offices/norte/config", central.base))
        .bearer_auth(common::HQ_ADMIN)
        .json(&config)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    central.stop().await;
    let central = common::spawn(dir.path()).await;
    assert_eq!(warmed(&central).await, (3, 1));
    let after = rollup(&central, november).await;
    let norte = &after["periods"][0]["rows"][1];
    assert_eq!(norte["office"], "norte");
    assert_eq!(norte["within_target_wait_share"], 0.333, "only the 3-minute wait is within 5");
    central.stop().await;
}
