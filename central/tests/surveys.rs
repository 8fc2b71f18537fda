//! Surveys answered by link at central, and headquarters' survey figures, over real HTTP: an
//! edge (the real office core) syncs its day, a citizen follows the link their invitation
//! carried, and an analyst reads the figures. The supervisor's alert goes out through central's
//! outbox to a real SMTP server on loopback (aiosmtpd).

mod common;

use std::time::Duration;

use common::docs_edge::Edge;
use common::{TestCentral, CENTRO, HQ, NORTE, T0};
use fila_notify::survey_link::SurveyKey;
use fila_notify::testing::{Mode, SmtpServer};
use fila_protocol::office::{Actor, Priority, SurveyInput, SurveyTicket};
use fila_protocol::{AgentId, Command, CounterId, OfficeConfig, RawOfficeConfig, TicketId, Timestamp, Who};
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

    [[counters]]
    id = "1"
    name = "Puesto 1"
    services = ["general"]
"#;
const DAY: &str = "2026-11-29";
const SUPERVISOR: &str = "jefatura.centro@example.gob";
const COMMENT: &str = "Esperé mucho y nadie me explicó qué faltaba";

fn config() -> OfficeConfig {
    RawOfficeConfig::parse_toml(CONFIG).expect("test configuration is valid")
}

fn at(minutes: i64) -> Timestamp {
    Timestamp(T0.0 + minutes * 60_000)
}

fn ana() -> Actor {
    Actor { agent: AgentId::new("ana"), supervisor: false }
}

/// Three tickets: A-001 and A-002 served by ana, A-003 still waiting; A-002's citizen answered
/// at the office's exit tablet.
fn office_day() -> Edge {
    let mut edge = Edge::new(config(), at(0));
    edge.add_config();
    for minute in 0..3 {
        edge.issue(at(minute), Priority::Normal);
    }
    let counter = CounterId::new("1");
    edge.run(at(3), Command::SignIn { counter: counter.clone(), by: ana() });
    for minute in [4, 10] {
        edge.run(at(minute), Command::CallNext { counter: counter.clone(), by: ana() });
        edge.run(at(minute + 5), Command::Finish { counter: counter.clone(), by: ana(), outcome: String::new() });
    }
    answer_at_office(&mut edge, 2, 5);
    edge
}

fn answer_at_office(edge: &mut Edge, ticket: u32, satisfaction: u8) {
    let answer =
        SurveyInput { satisfaction: Some(satisfaction), recommend: Some(10), resolved: Some(true), commented: false };
    let command = Command::AnswerSurvey {
        ticket: SurveyTicket::Token(format!("k{ticket}")),
        answer,
        by: Who::Kiosk("salida".into()),
    };
    edge.run(at(30), command);
}

/// The link the edge put in ticket `ticket`'s invitation (the path, from `/s/` on).
fn link(token: &str, day: &str, ticket: u32) -> String {
    let key = TicketId(ticket).key();
    SurveyKey::from_branch_token(token).link("", "centro", day, &key)
}

fn api(link: &str) -> String {
    format!("/api/v1/public/surveys/{}", link.trim_start_matches("/s/"))
}

async fn post(central: &TestCentral, path: &str, body: Value) -> (StatusCode, Value) {
    let response = central.client.post(format!("{}{path}", central.base)).json(&body).send().await.expect("posted");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn central_with_supervisor(dir: &std::path::Path, smtp: &SmtpServer) -> TestCentral {
    let mut settings = common::settings(dir);
    let toml = smtp.settings_toml("none", "");
    settings.smtp = Some(toml::from_str(&toml).expect("SMTP settings"));
    settings.offices[0].supervisor_email = Some(SUPERVISOR.into());
    common::spawn_with(settings).await
}

#[tokio::test]
async fn a_citizen_answers_by_link_once_and_headquarters_counts_each_ticket_once() {
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let central = central_with_supervisor(dir.path(), &smtp).await;
    let mut edge = office_day();
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;

    // The page opens for anyone holding the link; its state says what the page shows.
    let first = link(CENTRO, DAY, 1);
    let page = central.client.get(format!("{}{first}", central.base)).send().await.expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let (status, state) = central.get(&api(&first), None).await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(state["state"], "open");
    assert_eq!(state["ticket_number"], "A-001");
    assert_eq!(state["office_name"], "Oficina Centro");

    // Bad answers change nothing.
    for (body, code) in [
        (json!({ "satisfaction": 9 }), "bad_answer"),
        (json!({}), "bad_answer"),
        (json!({ "satisfaction": 3, "nps": 10 }), "bad_body"),
        (json!({ "comment": "x".repeat(1001) }), "bad_answer"),
    ] {
        let (status, error) = post(&central, &api(&first), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {error}");
        assert_eq!(error["error"], code, "{body} → {error}");
    }

    let low = json!({ "satisfaction": 1, "recommend": 3, "resolved": false, "comment": COMMENT });
    let (status, body) = post(&central, &api(&first), low.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, again) = post(&central, &api(&first), json!({ "satisfaction": 5 })).await;
    assert_eq!((status, again["error"].as_str()), (StatusCode::CONFLICT, Some("survey_answered")), "{again}");
    assert_eq!(central.get(&api(&first), None).await.1["state"], "answered");

    // A-002 was answered at the office: its link finds it answered.
    let second = link(CENTRO, DAY, 2);
    assert_eq!(central.get(&api(&second), None).await.1["state"], "answered");
    let (status, _) = post(&central, &api(&second), json!({ "satisfaction": 1 })).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // The figures: two finished visits, two answers, each counted once.
    let path = format!("/api/v1/surveys?office=centro&from={DAY}");
    let (status, report) = central.get(&path, Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let total = &report["total"];
    assert_eq!((total["finished"].as_u64(), total["answers"].as_u64()), (Some(2), Some(2)), "{total}");
    assert_eq!(total["satisfaction_counts"], json!([1, 0, 0, 0, 1]));
    assert_eq!(total["recommend_score"], json!(0.0), "one promoter, one detractor");
    assert_eq!(total["resolved_rate"], json!(0.5));
    assert_eq!(total["comments"], json!(1));
    assert_eq!(central.get(&path, None).await.0, StatusCode::UNAUTHORIZED);

    // The office's answer, arriving later for a ticket answered by link, replaces it: once.
    answer_at_office(&mut edge, 1, 4);
    edge.sync(&mut ws).await;
    let (_, report) = central.get(&path, Some(HQ)).await;
    assert_eq!(report["total"]["answers"], json!(2));
    assert_eq!(report["total"]["satisfaction_counts"], json!([0, 0, 0, 1, 1]));

    // Per agent: ana has two answers, below five, so her figures are withheld.
    let (_, by_agent) = central.get(&format!("{path}&by=agent"), Some(HQ)).await;
    assert_eq!(by_agent["totals"][0]["group"], "ana");
    assert_eq!(by_agent["totals"][0]["withheld"], json!(true));
    assert_eq!(by_agent["totals"][0]["satisfaction_mean"], Value::Null);

    let csv = central
        .client
        .get(format!("{}/api/v1/surveys.csv?office=centro&from={DAY}", central.base))
        .bearer_auth(HQ)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.expect("csv text");
    assert!(csv.starts_with("office,day,by,group,label,finished,answers,response_rate"), "{csv}");
    assert!(csv.contains(&format!("centro,{DAY},office,centro,Oficina Centro,2,2,1.0000")), "{csv}");

    let chart = central
        .client
        .get(format!("{}/api/v1/dashboard/charts/satisfaction.svg?office=centro&from={DAY}", central.base))
        .bearer_auth(HQ)
        .send()
        .await
        .expect("chart");
    assert_eq!(chart.headers()["content-type"], "image/svg+xml");
    assert!(chart.text().await.expect("svg").contains("<svg"));

    // The comment is the supervisor's, flagged low, and reaches them by e-mail.
    let (status, comments) = central.get("/api/v1/surveys/comments?office=centro", Some(HQ)).await;
    assert_eq!(status, StatusCode::OK, "{comments}");
    assert_eq!(comments[0]["text"], COMMENT);
    assert_eq!(comments[0]["low"], json!(true));
    let mail = wait_for(|| smtp.received().into_iter().next()).await;
    assert_eq!(mail["rcpt_tos"], json!([SUPERVISOR]));
    assert!(mail["subject"].as_str().is_some_and(|s| s.contains("1/5")), "{mail}");
    assert!(mail["text"].as_str().is_some_and(|t| t.contains(COMMENT) && t.contains("A-001")), "{mail}");
    // The server has the mail a moment before the outbox records it as sent.
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    while !central.metrics().await.contains("fila_central_notices{state=\"sent\"} 1") {
        assert!(tokio::time::Instant::now() < deadline, "the alert never counted as sent");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn a_link_that_is_not_the_offices_opens_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let good = link(CENTRO, DAY, 1);
    let forged = [
        // Another office's token signs links for its own office only.
        link(NORTE, DAY, 1),
        // One link does not open the next ticket.
        good.replace("/000001/", "/000002/"),
        good[..good.len() - 1].to_string(),
        format!("/s/centro/{DAY}/000001/{}", "0".repeat(32)),
        format!("/s/nowhere/{DAY}/000001/{}", "0".repeat(32)),
    ];
    for forged in forged {
        let (status, body) = central.get(&api(&forged), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{forged} → {body}");
        assert_eq!(body["error"], "not_found");
        let (status, _) = post(&central, &api(&forged), json!({ "satisfaction": 5 })).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{forged}");
    }
    let (_, report) = central.get(&format!("/api/v1/surveys?office=centro&from={DAY}"), Some(HQ)).await;
    assert_eq!(report["total"]["answers"], json!(0));
    central.stop().await;
}

#[tokio::test]
async fn a_link_is_answered_only_within_its_window_and_only_for_a_finished_visit() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let mut edge = office_day();
    let mut ws = central.connect(CENTRO).await;
    edge.sync(&mut ws).await;

    // Ten days ago: past the seven days a link stays open. Central need not hold that day.
    let old = link(CENTRO, "2026-11-19", 1);
    let (_, state) = central.get(&api(&old), None).await;
    assert_eq!((state["state"].as_str(), state["open_until"].as_str()), (Some("closed"), Some("2026-11-25")));
    let (status, body) = post(&central, &api(&old), json!({ "satisfaction": 4 })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("survey_closed")), "{body}");

    // A day that has not come yet is not open either.
    let (status, _) = post(&central, &api(&link(CENTRO, "2026-12-24", 1)), json!({ "satisfaction": 4 })).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A-003 is still waiting: no survey for a visit that has not ended.
    let (status, body) = post(&central, &api(&link(CENTRO, DAY, 3)), json!({ "satisfaction": 4 })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_answer")), "{body}");

    // Yesterday's link is still open today (central's clock is the scenario's, 2026-11-29).
    let (status, body) = post(&central, &api(&link(CENTRO, "2026-11-28", 7)), json!({ "resolved": true })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    ws.close().await;
    central.stop().await;
}

async fn wait_for<T>(mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + common::PATIENCE;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "not within {:?}", common::PATIENCE);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn headquarters_saves_templates_and_the_form_and_sees_each_texts_sms_length() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let mut config = serde_json::to_value(config().to_raw()).expect("json");
    let put = async |config: &Value| {
        let response = central
            .client
            .put(format!("{}/api/v1/offices/centro/config", central.base))
            .bearer_auth(common::HQ_ADMIN)
            .json(config)
            .send()
            .await
            .expect("put");
        (response.status(), response.json::<Value>().await.unwrap_or(Value::Null))
    };
    config["notices"] = json!({ "templates": [
        { "kind": "survey_invite", "lang": "es", "subject": "{office}", "text": "¿Cómo le atendimos? {linkk}" },
        { "kind": "reminder", "lang": "xx1", "text": "{date}" },
    ] });
    let (status, body) = put(&config).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("notices.templates[0]: text: {linkk} is not known"), "{message}");
    assert!(message.contains("notices.templates[1].lang"), "{message}");

    config["notices"] = json!({
        "templates": [
            { "kind": "survey_invite", "lang": "es", "subject": "{office}", "text": "¿Cómo le atendimos? {link}" },
            { "kind": "survey_invite", "lang": "en", "subject": "{office}", "text": "How did we do? {link}" },
        ],
        "survey": { "recommend": false, "open_days": 2 },
    });
    let (status, body) = put(&config).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reports = body["templates"].as_array().expect("reports");
    let spanish = reports.iter().find(|r| r["lang"] == "es").expect("es");
    assert_eq!((spanish["sms_encoding"].as_str(), spanish["sms_segments"].as_u64()), (Some("ucs2"), Some(2)));
    let english = reports.iter().find(|r| r["lang"] == "en").expect("en");
    assert_eq!((english["sms_encoding"].as_str(), english["sms_segments"].as_u64()), (Some("gsm7"), Some(1)));

    // The form rules links answered at central too.
    let (_, state) = central.get(&api(&link(CENTRO, DAY, 1)), None).await;
    assert_eq!(state["questions"]["recommend"], json!(false));
    assert_eq!(state["open_until"], "2026-11-30");
    let (status, body) =
        post(&central, &api(&link(CENTRO, DAY, 1)), json!({ "satisfaction": 5, "recommend": 9 })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_answer")), "{body}");
    central.stop().await;
}
