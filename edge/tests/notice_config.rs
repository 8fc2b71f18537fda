//! What the office configuration says about notices and surveys, in force at the office:
//! message templates per kind and language (checked when saved: a bad one changes nothing), used
//! for the next message; and the survey form's questions. Headquarters' side of saving them, with
//! the SMS length report, is in central/tests/surveys.rs.

mod common;

use std::time::Duration;

use fila_edge::settings::NoticeSettings;
use fila_notify::testing::{Mode, SmtpServer};
use fila_protocol::config::{SurveyForm, TemplateConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};

const CITIZEN: &str = "lucia.fernandez@example.org";

async fn put_config(edge: &common::TestEdge, admin: &str, config: &Value) -> (StatusCode, Value) {
    edge.request(reqwest::Method::PUT, "/api/v1/admin/config", Some(admin), Some(config.clone())).await
}

#[tokio::test]
async fn a_configured_template_is_the_text_of_the_next_message_and_a_bad_one_is_refused() {
    let Some(server) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.path().to_path_buf());
    let section: toml::Value = toml::from_str(&format!("[smtp]\n{}", server.settings_toml("none", ""))).expect("toml");
    settings.notices = NoticeSettings::parse(section, false, &mut Vec::new());
    settings.office.notices.templates = vec![TemplateConfig {
        kind: "called".into(),
        lang: "es".into(),
        subject: "{office}: es su turno".into(),
        text: "Turno {ticket}: diríjase a la ventanilla {counter}, por favor.".into(),
    }];
    let raw = serde_json::to_value(settings.office.to_raw()).expect("config json");
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    // A template with a placeholder "called" notices do not have, and one of no known kind:
    // both named at once, and nothing changes.
    let admin = edge.login("admin").await;
    let (_, office) = edge.get("/api/v1/office", None).await;
    let mut wrong = raw;
    wrong["notices"] = json!({ "templates": [
        { "kind": "called", "lang": "es", "subject": "{office}", "text": "Turno {ticket}, código {code}" },
        { "kind": "birthday", "lang": "es", "text": "Feliz cumpleaños" },
    ] });
    let (status, body) = put_config(&edge, &admin, &wrong).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_config")), "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(message.contains("notices.templates[0]: text: {code} is not known to called"), "{message}");
    assert!(message.contains("notices.templates[1].kind: \"birthday\" is not a kind"), "{message}");
    assert_eq!(edge.get("/api/v1/office", None).await.1, office, "a refused edit changes nothing");

    let (status, issued) = edge
        .post("/api/v1/tickets", Some(common::KIOSK), json!({ "service": "general", "contact": CITIZEN, "lang": "es" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let number = issued["number"].as_str().expect("number").to_string();
    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    let mut called = None;
    for _ in 0..200 {
        called =
            server.received().into_iter().find(|m| m["subject"].as_str().is_some_and(|s| s.ends_with("es su turno")));
        if called.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let called = called.expect("the call's e-mail, in the configured words");
    let body = called["text"].as_str().expect("text");
    assert!(body.starts_with(&format!("Turno {number}: diríjase a la ventanilla 1, por favor.")), "{body}");
    edge.stop().await;
}

#[tokio::test]
async fn the_survey_asks_only_what_the_form_asks() {
    let dir = tempfile::tempdir().expect("dir");
    let mut settings = fila_edge::demo::settings("127.0.0.1:0".parse().expect("address"), dir.path().to_path_buf());
    settings.office.notices.survey =
        SurveyForm { recommend: false, comment: false, open_days: 3, ..SurveyForm::default() };
    let edge = common::spawn_settings(settings, fila_edge::office_loop::system_clock()).await;

    let (_, form) = edge.get("/api/v1/survey-form", None).await;
    assert_eq!(
        form["questions"],
        json!({ "satisfaction": true, "recommend": false, "resolved": true, "comment": false })
    );
    assert_eq!(form["open_days"], json!(3));

    let ticket = edge.issue("general").await;
    let token = ticket["tracking_url"].as_str().and_then(|u| u.rsplit('/').next()).expect("token").to_string();
    let ana = edge.at_counter("ana", "1").await;
    edge.act(&ana, "1", "call-next", json!({})).await;
    edge.act(&ana, "1", "finish", json!({})).await;
    let path = format!("/api/v1/track/{token}/survey");
    let (_, state) = edge.get(&path, None).await;
    assert_eq!(state["questions"]["recommend"], json!(false));
    for unasked in [json!({ "satisfaction": 4, "recommend": 9 }), json!({ "satisfaction": 4, "comment": "Bien" })] {
        let (status, body) = edge.post(&path, None, unasked.clone()).await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_answer")), "{unasked}");
    }
    let (status, body) = edge.post(&path, None, json!({ "satisfaction": 4, "resolved": true })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    edge.stop().await;
}
