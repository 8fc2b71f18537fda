//! The network at a glance: headquarters sees every office's day in one table, from what the
//! offices synced: who is online, how many wait and for how long, counters open, served, the
//! shares against targets and the law; filtered by region and sorted by what needs attention.

mod common;

use common::docs_edge::Edge;
use common::{CENTRO, HQ, T0};
use fila_protocol::office::{Actor, Priority, SurveyInput, SurveyTicket};
use fila_protocol::{AgentId, Command, CounterId, RawOfficeConfig, Timestamp, Who};
use reqwest::StatusCode;
use serde_json::Value;

const CONFIG: &str = r#"
    [office]
    id = "centro"
    name = "Oficina Centro"
    time_zone = "America/Argentina/Buenos_Aires"
    tags = ["capital"]

    [[services]]
    id = "general"
    prefix = "A"
    name = "Atención general"
    target_wait_minutes = 20

    [[counters]]
    id = "1"
    name = "Puesto 1"
    services = ["general"]
"#;

fn minutes_before_now(minutes: i64) -> Timestamp {
    Timestamp(T0.0 - minutes * 60_000)
}

#[tokio::test]
async fn headquarters_sees_every_office_today_in_one_table_filtered_and_sorted() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    // Centro this morning (central's clock is 10:00 there): three arrived, one was served.
    let config = RawOfficeConfig::parse_toml(CONFIG).expect("valid");
    let mut edge = Edge::new(config, minutes_before_now(30));
    let ana = Actor { agent: AgentId::new("ana"), supervisor: false };
    edge.run(minutes_before_now(30), Command::SignIn { counter: CounterId::new("1"), by: ana.clone() });
    for minutes in [20, 10, 5] {
        edge.issue(minutes_before_now(minutes), Priority::Normal);
    }
    edge.run(minutes_before_now(4), Command::CallNext { counter: CounterId::new("1"), by: ana.clone() });
    edge.run(minutes_before_now(1), Command::Finish { counter: CounterId::new("1"), by: ana, outcome: String::new() });
    // The one served rated the visit 4 of 5 at the exit tablet.
    let answer = SurveyInput { satisfaction: Some(4), ..SurveyInput::default() };
    let by = Who::Kiosk("salida".into());
    edge.run(minutes_before_now(1), Command::AnswerSurvey { ticket: SurveyTicket::Token("k1".into()), answer, by });
    edge.add_config();
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
    let norte = &rows[1];
    assert_eq!((&norte["online"], &norte["waiting"]), (&Value::Bool(false), &Value::from(0)), "nothing synced today");
    assert_eq!(norte["satisfaction_mean"], Value::Null, "no answers: no mean");

    // By region, and worst first.
    let (_, capital) = central.get("/api/v1/network?tag=capital", Some(HQ)).await;
    assert_eq!(capital.as_array().map(Vec::len), Some(1));
    let (_, by_waiting) = central.get("/api/v1/network?sort=waiting", Some(HQ)).await;
    assert_eq!(by_waiting[0]["office"], "centro");
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
