//! The staffing forecast over real HTTP: an edge (the real office core) syncs eight weeks of
//! days to central, and headquarters asks for next week's arrivals and counters, and for how
//! wrong the forecast of a past week was.

mod common;

use common::docs_edge::Edge;
use common::{TestCentral, CENTRO, HQ, NORTE, T0};
use fila_protocol::forecast::erlang::counters_needed;
use fila_protocol::office::{Actor, Priority};
use fila_protocol::{AgentId, Command, CounterId, RawOfficeConfig, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CONFIG: &str = r#"
    [office]
    id = "centro"
    name = "Oficina Centro"
    time_zone = "America/Argentina/Buenos_Aires"

    [[services]]
    id = "general"
    prefix = "A"
    name = "Atención general"
    target_wait_minutes = 5
    expected_service_minutes = 10

    [[counters]]
    id = "1"
    name = "Puesto 1"
    services = ["general"]
"#;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// Central's date is Sunday 2026-11-29 (T0, 10:00 in Buenos Aires): next week starts Monday 30.
const NEXT_WEEK: &str = "2026-11-30";
/// A past week, over: its Monday had what every Monday had, its Tuesday six nobody expected.
const PAST_WEEK: &str = "2026-11-16";

fn ana() -> Actor {
    Actor { agent: AgentId::new("ana"), supervisor: false }
}

/// `count` tickets arriving from `start` (local 10:00 or 9:00), one every two minutes, served
/// one after the other in 10 minutes each at counter 1.
fn serve(edge: &mut Edge, start: i64, count: i64) {
    let at = |minutes: i64| Timestamp(start + minutes * MINUTE_MS);
    edge.run(at(0), Command::SignIn { counter: CounterId::new("1"), by: ana() });
    for n in 0..count {
        edge.issue(at(2 * n), Priority::Normal);
    }
    for n in 0..count {
        edge.run(at(10 * n), Command::CallNext { counter: CounterId::new("1"), by: ana() });
        edge.run(at(10 * n + 10), Command::Finish { counter: CounterId::new("1"), by: ana(), outcome: String::new() });
    }
}

/// Eight Mondays (5 October to 23 November) with 30 arrivals between 10:00 and 11:00, and one
/// Tuesday (17 November) with 6 between 9:00 and 10:00.
async fn central_with_history() -> (TestCentral, common::Ws, Edge, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let last_monday = T0.0 - 6 * DAY_MS;
    let first_monday = last_monday - 7 * 7 * DAY_MS;
    let config = RawOfficeConfig::parse_toml(CONFIG).expect("test configuration is valid");
    let mut edge = Edge::new(config, Timestamp(first_monday));
    edge.add_config();
    for week in 0..8 {
        let monday = first_monday + week * 7 * DAY_MS;
        serve(&mut edge, monday, 30);
        if week == 6 {
            serve(&mut edge, monday + DAY_MS - 60 * MINUTE_MS, 6);
        }
    }
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;
    (central, ws, edge, dir)
}

async fn get(central: &TestCentral, path: &str) -> Value {
    let (status, body) = central.get(path, Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

fn hour<'a>(forecast: &'a Value, day: &str, hour: u64) -> &'a Value {
    let hours = forecast["services"][0]["hours"].as_array().expect("hours");
    hours.iter().find(|h| h["day"] == day && h["hour"] == hour).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn next_weeks_forecast_has_the_arrivals_of_past_weeks_and_the_counters_erlang_c_gives() {
    let (central, mut ws, mut edge, _dir) = central_with_history().await;
    let forecast = get(&central, &format!("/api/v1/offices/centro/forecast?week={NEXT_WEEK}")).await;
    assert_eq!((forecast["week"].as_str(), forecast["weeks"].as_u64()), (Some(NEXT_WEEK), Some(8)));
    assert_eq!(forecast["time_zone"], "America/Argentina/Buenos_Aires");
    assert_eq!(forecast["service_names"], json!({"general": "Atención general"}));
    assert_eq!(forecast["days_used"].as_array().map(Vec::len), Some(9), "eight Mondays and a Tuesday");

    // 30 every Monday at 10:00, served in 10 minutes: 5 erlangs against a 5-minute target at
    // 80 %: 6 counters call 64 % in time, 7 call 88 %.
    let monday = hour(&forecast, NEXT_WEEK, 10);
    assert_eq!(
        (monday["arrivals"].as_f64(), monday["service_minutes"].as_f64()),
        (Some(30.0), Some(10.0)),
        "{forecast}"
    );
    assert_eq!(monday["counters"], 7);
    assert_eq!(monday["counters"], counters_needed(30.0, 10.0, 5.0, 0.8));
    // The one Tuesday seen is the Tuesday forecast: Tuesdays without a document are not zeros.
    let tuesday = hour(&forecast, "2026-12-01", 9);
    assert_eq!((tuesday["arrivals"].as_f64(), tuesday["counters"].as_u64()), (Some(6.0), Some(3)));
    assert_eq!(
        forecast["totals"],
        json!([
            {"day": NEXT_WEEK, "hour": 10, "arrivals": 30.0, "counters": 7},
            {"day": "2026-12-01", "hour": 9, "arrivals": 6.0, "counters": 3},
        ])
    );

    // A stricter service level asks for more counters.
    let strict = get(&central, &format!("/api/v1/offices/centro/forecast?week={NEXT_WEEK}&service_level=0.99")).await;
    assert_eq!(hour(&strict, NEXT_WEEK, 10)["counters"], counters_needed(30.0, 10.0, 5.0, 0.99));
    assert!(counters_needed(30.0, 10.0, 5.0, 0.99) > 7);

    let response = central
        .client
        .get(format!("{}/api/v1/offices/centro/forecast.csv?week={NEXT_WEEK}", central.base))
        .bearer_auth(HQ)
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("csv text");
    assert_eq!(
        text,
        "office,service,day,hour,arrivals,service_minutes,counters\r\n\
         centro,general,2026-11-30,10,30,10,7\r\n\
         centro,general,2026-12-01,9,6,10,3\r\n"
    );

    // A day synced since is read, not an answer kept from before it: Tuesday 24 November had 12
    // at 9:00, weighing 8 against the older Tuesday's 7.
    serve(&mut edge, T0.0 - 5 * DAY_MS - 60 * MINUTE_MS, 12);
    edge.sync(&mut ws).await;
    let again = get(&central, &format!("/api/v1/offices/centro/forecast?week={NEXT_WEEK}")).await;
    assert_eq!(hour(&again, "2026-12-01", 9)["arrivals"], (8.0 * 12.0 + 7.0 * 6.0) / 15.0);
    assert_eq!(hour(&again, NEXT_WEEK, 10), monday);
    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn a_past_weeks_error_compares_its_forecast_with_what_came() {
    let (central, ws, _edge, _dir) = central_with_history().await;
    let report = get(&central, &format!("/api/v1/offices/centro/forecast/accuracy?week={PAST_WEEK}")).await;
    assert_eq!(report["days_seen"], json!(["2026-11-16", "2026-11-17"]));
    // Six Mondays before it had 30 at 10:00 and so did it; its Tuesday's six were not foreseen.
    assert_eq!(
        report["hours"],
        json!([
            {"day": "2026-11-16", "hour": 10, "forecast_arrivals": 30.0, "actual_arrivals": 30, "absolute_error": 0.0,
             "forecast_counters": 7, "actual_counters": 7},
            {"day": "2026-11-17", "hour": 9, "forecast_arrivals": 0.0, "actual_arrivals": 6, "absolute_error": 6.0,
             "forecast_counters": 0, "actual_counters": 3},
        ])
    );
    assert_eq!(
        report["total"],
        json!({"forecast_arrivals": 30.0, "actual_arrivals": 36, "absolute_error": 6.0, "wape": 0.167,
               "forecast_counter_hours": 7, "actual_counter_hours": 10, "hours_understaffed": 1})
    );
    let (status, body) = central.get("/api/v1/offices/centro/forecast/accuracy?week=2026-11-23", Some(HQ)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("week_not_over")), "{body}");
    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn a_bad_week_an_unknown_office_or_no_token_are_refused_with_what_is_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    for (path, status, code) in [
        ("/api/v1/offices/centro/forecast", StatusCode::BAD_REQUEST, "missing_parameter"),
        ("/api/v1/offices/centro/forecast?week=2026-12-01", StatusCode::BAD_REQUEST, "not_monday"),
        ("/api/v1/offices/centro/forecast?week=mañana", StatusCode::BAD_REQUEST, "bad_date"),
        ("/api/v1/offices/centro/forecast/accuracy?week=2026-13-01", StatusCode::BAD_REQUEST, "bad_date"),
        (
            "/api/v1/offices/centro/forecast?week=2026-11-30&service_level=80",
            StatusCode::BAD_REQUEST,
            "bad_service_level",
        ),
        ("/api/v1/offices/sur/forecast?week=2026-11-30", StatusCode::NOT_FOUND, "not_found"),
        // Central holds no configuration of norte: no services, no targets.
        ("/api/v1/offices/norte/forecast?week=2026-11-30", StatusCode::CONFLICT, "no_configuration"),
    ] {
        let (found, body) = central.get(path, Some(HQ)).await;
        assert_eq!((found, body["error"].as_str()), (status, Some(code)), "{path}: {body}");
    }
    let (status, _) = central.get("/api/v1/offices/centro/forecast?week=2026-11-30", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = central.get("/api/v1/offices/centro/forecast?week=2026-11-30", Some(NORTE)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a branch token is not an analyst's");
    central.stop().await;
}
