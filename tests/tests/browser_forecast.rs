//! The staffing forecast in the headquarters dashboard, in a real headless Chromium: central
//! holds weeks of an office's days (synced as an edge syncs them), and the analyst sees next
//! week's counters per day and hour, with the arrivals behind each on hover, a chart, and an
//! earlier week's error.
//!
//! With `FILA_SCREENSHOTS` set, the test leaves headquarters-forecast.png.

mod browsers;
#[path = "../../central/tests/common/mod.rs"]
mod central;

use std::time::Duration;

use browsers::{click, keep_screenshot, text_when, type_into};
use central::docs_edge::Edge;
use central::{CENTRO, HQ, T0};
use fantoccini::Locator;
use fila_protocol::office::{Actor, Priority};
use fila_protocol::{AgentId, Command, CounterId, RawOfficeConfig, Timestamp};

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

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

/// `count` tickets from `start`, one every two minutes, each served in 10 minutes at counter 1.
fn serve(edge: &mut Edge, start: i64, count: i64) {
    let at = |minutes: i64| Timestamp(start + minutes * MINUTE_MS);
    let ana = || Actor { agent: AgentId::new("ana"), supervisor: false };
    edge.run(at(0), Command::SignIn { counter: CounterId::new("1"), by: ana() });
    for n in 0..count {
        edge.issue(at(2 * n), Priority::Normal);
    }
    for n in 0..count {
        edge.run(at(10 * n), Command::CallNext { counter: CounterId::new("1"), by: ana() });
        edge.run(at(10 * n + 10), Command::Finish { counter: CounterId::new("1"), by: ana(), outcome: String::new() });
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_analyst_sees_next_weeks_counters_per_hour_and_an_earlier_weeks_error() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn(dir.path()).await;
    // Four Mondays (2 to 23 November) with 30 arrivals from 10:00, the second also a Tuesday
    // with 6 from 9:00; central's date is Sunday 29 November.
    let last_monday = T0.0 - 6 * DAY_MS;
    let first_monday = last_monday - 3 * 7 * DAY_MS;
    let mut edge = Edge::new(RawOfficeConfig::parse_toml(CONFIG).expect("valid"), Timestamp(first_monday));
    edge.add_config();
    for week in 0..4 {
        let monday = first_monday + week * 7 * DAY_MS;
        serve(&mut edge, monday, 30);
        if week == 2 {
            serve(&mut edge, monday + DAY_MS - 60 * MINUTE_MS, 6);
        }
    }
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;

    let base = central.base.clone();
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        hq.goto(&format!("{base}/dashboard")).await.expect("the dashboard loads");
        type_into(&hq, "#token", HQ).await;
        click(&hq, "#login-form button[type=submit]").await;
        text_when(&hq, "#offices", "the offices", |t| t.contains("Oficina Centro")).await;
        // The browser's clock is not the scenario's: the analyst picks the week after central's date.
        hq.execute(
            "const week = document.getElementById('forecast-week'); week.value = '2026-11-30'; \
             week.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .expect("the week is picked");
        let table = text_when(&hq, "#forecast-table", "Monday's seven counters at 10:00", |t| {
            t.lines().any(|line| line.starts_with("10:00") && line.contains('7'))
        })
        .await;
        assert!(table.lines().any(|line| line.starts_with("09:00") && line.contains('3')), "{table}");
        // Read in one step in the page: the table may be drawn again between two WebDriver calls.
        let cell = hq
            .execute(
                "const cell = document.evaluate(\"//table[@id='forecast-table']//tr[td[1]='10:00']/td[2]\", \
                 document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue; \
                 return cell ? [cell.textContent, cell.title] : null;",
                vec![],
            )
            .await
            .expect("Monday at 10:00");
        assert_eq!(cell, serde_json::json!(["7", "30 llegadas previstas, 7 puestos"]));
        let bars = hq.find_all(Locator::Css("#forecast-chart rect.bar")).await.expect("bars");
        assert_eq!(bars.len(), 2, "Monday 10:00 and Tuesday 9:00");
        // Two weeks before: 16 November, whose Tuesday's six nobody foresaw.
        let error = text_when(&hq, "#forecast-accuracy", "the error of 16 November", |t| t.contains("30 / 36")).await;
        assert!(error.contains("6 llegadas"), "{error}");
        assert!(error.contains("7 / 10"), "counter-hours forecast / needed: {error}");
        hq.execute("document.getElementById('forecast-card').scrollIntoView();", vec![]).await.expect("scrolled");
        keep_screenshot(&hq, "headquarters-forecast").await;
    })
    .await
    .rethrow();
    ws.close().await;
    central.stop().await;
}
