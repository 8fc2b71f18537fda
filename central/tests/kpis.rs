//! Headquarters KPIs, CSV export, charts and dashboard, over real HTTP: an edge (the real office
//! core, with known timestamps) syncs its days to central over the WebSocket, and the API must
//! report exactly what happened at the office.

mod common;

use common::docs_edge::Edge;
use common::{TestCentral, CENTRO, HQ, T0};
use fila_protocol::office::{Actor, Priority};
use fila_protocol::{AgentId, CategoryId, Command, CounterId, OfficeConfig, RawOfficeConfig, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The service's name has a comma and quotes, so the CSV must quote it.
const CONFIG: &str = r#"
    [office]
    id = "centro"
    name = "Oficina Centro"
    time_zone = "America/Argentina/Buenos_Aires"

    [[services]]
    id = "general"
    prefix = "A"
    name = "Pagos, tasas y \"multas\""
    target_wait_minutes = 20

    [[categories]]
    id = "embarazada"
    name = "Embarazada"
    max_wait_minutes = 30

    [[counters]]
    id = "1"
    name = "Puesto 1"
    services = ["general"]

    [[counters]]
    id = "2"
    name = "Puesto 2"
    services = ["general"]
"#;

const DAY: &str = "2026-11-29";
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

fn config() -> OfficeConfig {
    RawOfficeConfig::parse_toml(CONFIG).expect("test configuration is valid")
}

fn at(minutes: i64) -> Timestamp {
    Timestamp(T0.0 + minutes * MINUTE_MS)
}

fn agent(name: &str) -> Actor {
    Actor { agent: AgentId::new(name), supervisor: false }
}

fn counter(id: &str) -> CounterId {
    CounterId::new(id)
}

/// The day of the scenario, at 2026-11-29 from 10:00 in Buenos Aires (minutes after T0):
///
/// | ticket | issued | first call        | then                        | wait  | service |
/// |--------|--------|-------------------|-----------------------------|-------|---------|
/// | A-001  | 0      | 25 ana @1         | no-show at 27               | 25 m  |         |
/// | A-002  | 1      | 12 beto @2, out of order (skips A-001) | finished 20 | 11 m  | 8 m     |
/// | A-003  | 2 pref | 5 ana @1          | started 6, finished 11      | 3 m   | 5 m     |
/// | A-004  | 3      | never             | cancelled at 15             |       |         |
/// | A-005  | 65     | 70 beto @2        | finished 75                 | 5 m   | 5 m     |
fn scenario_edge() -> Edge {
    let mut edge = Edge::new(config(), at(0));
    edge.run(at(0), Command::SignIn { counter: counter("1"), by: agent("ana") });
    edge.run(at(0), Command::SignIn { counter: counter("2"), by: agent("beto") });
    let first = edge.issue(at(0), Priority::Normal);
    let second = edge.issue(at(1), Priority::Normal);
    edge.issue(at(2), Priority::Preferential(CategoryId::new("embarazada")));
    let fourth = edge.issue(at(3), Priority::Normal);
    edge.run(at(5), Command::CallNext { counter: counter("1"), by: agent("ana") });
    edge.run(at(6), Command::Start { counter: counter("1"), by: agent("ana") });
    edge.run(at(11), Command::Finish { counter: counter("1"), by: agent("ana"), outcome: "resuelto".into() });
    let reason = "Trámite urgente, turno vencido".to_string();
    edge.run(at(12), Command::CallSpecific { counter: counter("2"), by: agent("beto"), number: second, reason });
    edge.run(at(15), Command::Cancel { number: fourth, reason: "se retiró".into(), by: agent("sara") });
    edge.run(at(20), Command::Finish { counter: counter("2"), by: agent("beto"), outcome: String::new() });
    edge.run(at(25), Command::CallNext { counter: counter("1"), by: agent("ana") });
    edge.run(at(27), Command::NoShow { counter: counter("1"), by: agent("ana") });
    assert_eq!(edge.office.ticket_by_number(first).map(|t| t.status.name()), Some("no_show"));
    edge.issue(at(65), Priority::Normal);
    edge.run(at(70), Command::CallNext { counter: counter("2"), by: agent("beto") });
    edge.run(at(75), Command::Finish { counter: counter("2"), by: agent("beto"), outcome: String::new() });
    edge
}

async fn kpis(central: &TestCentral, query: &str) -> Value {
    let (status, body) = central.get(&format!("/api/v1/kpis?{query}"), Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn groups(report: &Value, field: &str) -> Vec<(String, Value)> {
    let rows = report["totals"].as_array().expect("totals");
    rows.iter().map(|r| (r["group"].as_str().unwrap_or_default().to_string(), r[field].clone())).collect()
}

async fn fetch(central: &TestCentral, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = central.client.get(format!("{}{path}", central.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("request sent")
}

#[tokio::test]
async fn kpis_over_the_api_match_what_happened_at_the_office() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = scenario_edge();
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;

    // Without the office's configuration: everything but the two shares, hours in UTC.
    let report = kpis(&central, &format!("office=centro&from={DAY}")).await;
    assert_eq!(report["targets_known"], false);
    assert_eq!(report["time_zone"], "UTC");
    assert_eq!(report["days"], json!([DAY]));
    let total = &report["total"];
    let counts = ["tickets_issued", "tickets_called", "tickets_served", "no_shows", "left_before_call"];
    assert_eq!(counts.map(|k| total[k].as_u64()), [5, 4, 3, 1, 1].map(Some), "{total}");
    assert_eq!(total["tickets_waiting"], 0);
    // Waits 3, 5, 11 and 25 minutes; services 5, 8 and 5 minutes.
    assert_eq!(total["wait_mean_seconds"], 660.0);
    assert_eq!(total["wait_p50_seconds"], 300.0);
    assert_eq!(total["wait_p90_seconds"], 1500.0);
    assert_eq!(total["service_mean_seconds"], 360.0);
    assert_eq!(total["out_of_order_calls"], 1);
    for share in ["within_target_wait_share", "preferential_within_legal_max_share", "within_target_wait"] {
        assert!(total[share].is_null(), "{share} needs the configuration: {total}");
    }
    assert_eq!(report["rows"][0]["day"], DAY);
    assert_eq!(report["rows"][0]["group"], "centro");
    assert_eq!(report["rows"][0]["tickets_issued"], 5);
    let hours = kpis(&central, &format!("office=centro&from={DAY}&by=hour")).await;
    assert_eq!(groups(&hours, "tickets_issued"), [("13:00".into(), json!(4)), ("14:00".into(), json!(1))]);

    // The office's configuration reaches central: targets, legal maximum and its time zone.
    edge.add_config();
    edge.sync(&mut ws).await;
    let report = kpis(&central, &format!("office=centro&from={DAY}&to={DAY}&by=office")).await;
    assert_eq!(
        (report["targets_known"].as_bool(), report["time_zone"].as_str()),
        (Some(true), Some("America/Argentina/Buenos_Aires"))
    );
    let total = &report["total"];
    assert_eq!(total["within_target_wait"], 3, "25 minutes is over the 20-minute target: {total}");
    assert_eq!(total["within_target_wait_share"], 0.75);
    assert_eq!(total["preferential_with_legal_max"], 1);
    assert_eq!(total["preferential_within_legal_max"], 1);
    assert_eq!(total["preferential_within_legal_max_share"], 1.0);
    assert_eq!(total["label"], "Oficina Centro");

    let deviation = &report["deviations"][0];
    assert_eq!(deviation["ticket"], "A-002");
    assert_eq!((deviation["counter"].as_str(), deviation["agent"].as_str()), (Some("2"), Some("beto")));
    assert_eq!(deviation["reason"], "specific");
    assert_eq!(deviation["note"], "Trámite urgente, turno vencido");
    assert_eq!(deviation["skipped"], json!(["A-001"]));
    assert_eq!(deviation["skipped_count"], 1);
    assert_eq!(deviation["local_time"], "10:12");

    let hours = kpis(&central, &format!("office=centro&from={DAY}&by=hour")).await;
    assert_eq!(groups(&hours, "tickets_issued"), [("10:00".into(), json!(4)), ("11:00".into(), json!(1))]);
    let counters = kpis(&central, &format!("office=centro&from={DAY}&by=counter")).await;
    assert_eq!(groups(&counters, "tickets_served"), [("1".into(), json!(1)), ("2".into(), json!(2))]);
    assert_eq!(groups(&counters, "no_shows"), [("1".into(), json!(1)), ("2".into(), json!(0))]);
    assert_eq!(groups(&counters, "wait_p90_seconds"), [("1".into(), json!(1500.0)), ("2".into(), json!(660.0))]);
    assert_eq!(groups(&counters, "out_of_order_calls"), [("1".into(), json!(0)), ("2".into(), json!(1))]);
    assert_eq!(counters["totals"][0]["label"], "Puesto 1");
    let agents = kpis(&central, &format!("office=centro&from={DAY}&by=agent")).await;
    assert_eq!(groups(&agents, "tickets_called"), [("ana".into(), json!(2)), ("beto".into(), json!(2))]);
    let services = kpis(&central, &format!("office=centro&from={DAY}&by=service")).await;
    assert_eq!(groups(&services, "tickets_issued"), [("general".into(), json!(5))]);
    assert_eq!(services["rows"].as_array().map(Vec::len), Some(1));

    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn an_office_back_after_days_offline_has_every_day_in_its_kpis() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    // Three days of work, 27 to 29 November, with no link to central.
    let start = T0.0 - 2 * DAY_MS;
    let mut edge = Edge::new(config(), Timestamp(start));
    edge.add_config();
    let waits_minutes: [&[i64]; 3] = [&[2, 4], &[6, 8, 10], &[12]];
    for (day, waits) in waits_minutes.iter().enumerate() {
        let opening = start + day as i64 * DAY_MS;
        let minute = |n: i64| Timestamp(opening + n * MINUTE_MS);
        edge.run(minute(0), Command::SignIn { counter: counter("1"), by: agent("ana") });
        for (n, wait) in waits.iter().enumerate() {
            let issued = n as i64 * 60;
            edge.issue(minute(issued), Priority::Normal);
            edge.run(minute(issued + wait), Command::CallNext { counter: counter("1"), by: agent("ana") });
            edge.run(
                minute(issued + wait + 3),
                Command::Finish { counter: counter("1"), by: agent("ana"), outcome: String::new() },
            );
        }
    }
    let range = "office=centro&from=2026-11-27&to=2026-11-29";
    let before = kpis(&central, range).await;
    assert_eq!((before["days"].clone(), before["total"]["tickets_issued"].clone()), (json!([]), json!(0)));
    assert_eq!(before["total"]["wait_p50_seconds"], 0.0, "nothing held yet: zeros, not NaN");

    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;
    let after = kpis(&central, range).await;
    assert_eq!(after["days"], json!(["2026-11-27", "2026-11-28", "2026-11-29"]));
    let per_day: Vec<(Value, Value)> = after["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["day"].clone(), r["tickets_served"].clone()))
        .collect();
    assert_eq!(
        per_day,
        [(json!("2026-11-27"), json!(2)), (json!("2026-11-28"), json!(3)), (json!("2026-11-29"), json!(1))]
    );
    let total = &after["total"];
    assert_eq!(total["tickets_served"], 6);
    // Waits of 2, 4, 6, 8, 10 and 12 minutes over the three days, all within the 20-minute target.
    assert_eq!(total["wait_mean_seconds"], 420.0);
    assert_eq!(total["wait_p50_seconds"], 360.0);
    assert_eq!(total["wait_p90_seconds"], 720.0);
    assert_eq!(total["within_target_wait_share"], 1.0);
    assert_eq!(after["totals"].as_array().map(Vec::len), Some(1), "one office row over the range");

    let chart = fetch(&central, &format!("/api/v1/dashboard/charts/waits.svg?{range}"), Some(HQ)).await;
    assert_eq!(chart.status(), StatusCode::OK);
    let svg = chart.text().await.expect("svg");
    assert!(svg.contains("<svg") && svg.contains("28/11") && svg.contains("por día"), "{svg}");
    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn the_csv_export_has_a_header_and_rfc_4180_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = scenario_edge();
    edge.add_config();
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;

    let response = fetch(&central, &format!("/api/v1/kpis.csv?office=centro&from={DAY}&by=service"), Some(HQ)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert!(header("content-disposition").contains("kpis-centro-2026-11-29-2026-11-29-service.csv"));
    let text = response.text().await.expect("csv");
    assert!(text.ends_with("\r\n"), "CRLF line ends");
    let lines: Vec<&str> = text.split("\r\n").filter(|line| !line.is_empty()).collect();
    assert_eq!(
        lines[0],
        "office,day,group,label,tickets_issued,tickets_called,tickets_served,tickets_waiting,no_shows,\
         left_before_call,wait_mean_seconds,wait_p50_seconds,wait_p90_seconds,wait_max_seconds,\
         service_mean_seconds,within_target_wait,within_target_wait_share,preferential_with_legal_max,\
         preferential_within_legal_max,preferential_within_legal_max_share,out_of_order_calls,estimates_scored,\
         estimate_inside_share,estimate_midpoint_error_minutes,estimate_width_minutes,time_zone"
    );
    assert_eq!(
        lines[1],
        "centro,2026-11-29,general,\"Pagos, tasas y \"\"multas\"\"\",5,4,3,0,1,1,660,300,1500,1500,360,3,0.75,1,1,1,1,\
         4,0,10.5,1,America/Argentina/Buenos_Aires"
    );
    assert!(lines[2].starts_with("centro,2026-11-29/2026-11-29,general,"), "{}", lines[2]);
    assert!(lines[3].starts_with("centro,2026-11-29/2026-11-29,,Oficina Centro,5,"), "{}", lines[3]);
    assert_eq!(lines.len(), 4);

    // Without a configuration the unknown shares are empty cells.
    let dir = tempfile::tempdir().expect("temp dir");
    let bare = common::spawn(dir.path()).await;
    let mut edge = scenario_edge();
    let mut bare_ws = bare.connect(CENTRO).await;
    edge.sync(&mut bare_ws).await;
    let text = fetch(&bare, &format!("/api/v1/kpis.csv?office=centro&from={DAY}"), Some(HQ)).await.text().await;
    let text = text.expect("csv");
    let row = text.split("\r\n").nth(1).expect("a row");
    assert!(
        row.starts_with("centro,2026-11-29,centro,,5,4,3,0,1,1,660,300,1500,1500,360,,,,,,1,4,0,10.5,1,UTC"),
        "{row}"
    );
    bare_ws.close().await;
    bare.stop().await;
    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn kpis_refuse_bad_parameters_missing_tokens_and_unknown_offices() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let good = format!("office=centro&from={DAY}");
    for path in [
        "/api/v1/kpis",
        "/api/v1/kpis.csv",
        "/api/v1/dashboard/charts/waits.svg",
        "/api/v1/dashboard/charts/served.svg",
    ] {
        for token in [None, Some(CENTRO), Some("not-a-token")] {
            let (status, body) = central.get(&format!("{path}?{good}"), token).await;
            assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")), "{path}");
        }
    }
    for (query, code, problem) in [
        (format!("from={DAY}"), "missing_parameter", "office is required"),
        ("office=centro".to_string(), "missing_parameter", "from is required"),
        ("office=centro&from=2026-11-31".to_string(), "bad_date", "from=\"2026-11-31\""),
        (format!("{good}&by=week"), "bad_group", "by=\"week\""),
        (format!("{good}&to=2026-11-01"), "bad_range", "is after"),
        ("office=centro&from=2026-08-29&to=2026-11-29".to_string(), "range_too_long", "93 days"),
        (format!("{good}&desde=ayer"), "unknown_parameter", "\"desde\""),
    ] {
        for path in ["/api/v1/kpis", "/api/v1/kpis.csv"] {
            let (status, body) = central.get(&format!("{path}?{query}"), Some(HQ)).await;
            assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{query}: {body}");
            let message = body["message"].as_str().unwrap_or_default();
            assert!(message.contains(problem), "{query}: {message}");
        }
    }
    let (status, body) = central.get(&format!("/api/v1/dashboard/charts/waits.svg?{good}&by=hour"), Some(HQ)).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("unknown_parameter")), "{body}");
    for path in ["/api/v1/kpis", "/api/v1/kpis.csv", "/api/v1/dashboard/charts/served.svg"] {
        let (status, body) = central.get(&format!("{path}?office=sur&from={DAY}"), Some(HQ)).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{path}: {body}");
        assert!(body["message"].as_str().unwrap_or_default().contains("\"sur\""), "{body}");
    }
    // A 92-day range is allowed, and an office with no day held in it has zeros.
    let report = kpis(&central, "office=norte&from=2026-08-30&to=2026-11-29&by=hour").await;
    assert_eq!((report["total"]["tickets_issued"].clone(), report["rows"].clone()), (json!(0), json!([])));
    central.stop().await;
}

#[tokio::test]
async fn charts_are_svg_drawn_on_the_server_and_the_dashboard_page_is_served() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = scenario_edge();
    edge.add_config();
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;

    for (chart, legend) in [("waits", "Mediana (p50)"), ("served", "Atendidos")] {
        let response =
            fetch(&central, &format!("/api/v1/dashboard/charts/{chart}.svg?office=centro&from={DAY}"), Some(HQ)).await;
        assert_eq!(response.status(), StatusCode::OK, "{chart}");
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(String::from);
        assert_eq!(content_type.as_deref(), Some("image/svg+xml"));
        let svg = response.text().await.expect("svg");
        assert!(svg.contains("<svg") && svg.contains(legend) && svg.contains("Oficina Centro"), "{chart}: {svg}");
        assert!(svg.contains("10:00") && svg.contains("29/11/2026"), "{chart}: hours and day in the office's terms");
        assert!(!svg.contains("Sin turnos"), "{chart} has data");
    }
    let quiet = fetch(&central, "/api/v1/dashboard/charts/served.svg?office=norte&from=2026-11-29", Some(HQ)).await;
    let svg = quiet.text().await.expect("svg");
    assert!(svg.contains("<svg") && svg.contains("Sin turnos en el período"), "{svg}");

    let page = fetch(&central, "/dashboard", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let header = |name: &str| page.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    assert!(header("content-security-policy").contains("default-src 'none'"));
    let html = page.text().await.expect("html");
    assert!(html.contains("<html lang=\"es\">") && html.contains("id=\"login-form\"") && html.contains("Oficinas"));
    let script = fetch(&central, "/dashboard/dashboard.js", None).await.text().await.expect("script");
    for needle in ["sessionStorage", "/api/v1/offices", "/api/v1/kpis", "/api/v1/dashboard/charts/waits.svg"] {
        assert!(script.contains(needle), "the page uses {needle}");
    }
    let style = fetch(&central, "/dashboard/dashboard.css", None).await;
    assert_eq!(style.headers().get("content-type").and_then(|v| v.to_str().ok()), Some("text/css; charset=utf-8"));
    for text in [html, script, style.text().await.expect("css")] {
        assert!(!text.contains("http://") && !text.contains("https://"), "no external URL");
    }
    ws.close().await;
    central.stop().await;
}
