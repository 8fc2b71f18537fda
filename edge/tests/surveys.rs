//! The satisfaction survey at the office: the tracking page after the visit, the exit tablet by
//! ticket number, one answer per ticket within its business day, comments kept for supervisors
//! and out of the day document, and a low score with a comment raised as an alert.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};

/// A ticket issued, called, served and finished at counter 1; its tracking token and number.
async fn finished_visit(edge: &common::TestEdge, ana: &str) -> (String, String) {
    let ticket = edge.issue("general").await;
    let token = ticket["tracking_url"].as_str().and_then(|url| url.rsplit('/').next()).map(str::to_string);
    let token = token.or_else(|| ticket["token"].as_str().map(str::to_string)).expect("a tracking token");
    let number = ticket["number"].as_str().expect("number").to_string();
    let (status, _) = edge.get(&format!("/api/v1/track/{token}/survey"), None).await;
    assert_eq!(status, StatusCode::OK);
    edge.act(ana, "1", "call-next", json!({})).await;
    edge.act(ana, "1", "start", json!({})).await;
    let (status, body) = edge.act(ana, "1", "finish", json!({ "outcome": "hecho" })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (token, number)
}

async fn survey_state(edge: &common::TestEdge, token: &str) -> String {
    let (_, body) = edge.get(&format!("/api/v1/track/{token}/survey"), None).await;
    body["state"].as_str().expect("state").to_string()
}

#[tokio::test]
async fn the_tracking_page_takes_one_answer_after_the_visit() {
    let dir = tempfile::tempdir().expect("dir");
    let edge = common::spawn(dir.path()).await;
    let ana = edge.at_counter("ana", "1").await;

    let waiting = edge.issue("general").await;
    let token = waiting["tracking_url"].as_str().and_then(|u| u.rsplit('/').next()).expect("token").to_string();
    assert_eq!(survey_state(&edge, &token).await, "not_yet");
    let (status, body) = edge.post(&format!("/api/v1/track/{token}/survey"), None, json!({ "satisfaction": 5 })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("survey_not_open")));

    edge.act(&ana, "1", "call-next", json!({})).await;
    edge.act(&ana, "1", "start", json!({})).await;
    edge.act(&ana, "1", "finish", json!({})).await;
    assert_eq!(survey_state(&edge, &token).await, "open");

    let path = format!("/api/v1/track/{token}/survey");
    for bad in [json!({ "satisfaction": 6 }), json!({ "recommend": 11 }), json!({}), json!({ "satisfaction": "5" })] {
        let (status, body) = edge.post(&path, None, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    }
    assert_eq!(survey_state(&edge, &token).await, "open", "a refused answer changes nothing");

    let answer = json!({ "satisfaction": 4, "recommend": 9, "resolved": true, "comment": "Muy amable la atención" });
    let (status, body) = edge.post(&path, None, answer.clone()).await;
    assert_eq!((status, body["state"].as_str()), (StatusCode::CREATED, Some("answered")), "{body}");
    assert_eq!(survey_state(&edge, &token).await, "answered");
    let (status, body) = edge.post(&path, None, answer).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::CONFLICT, Some("survey_answered")), "one per ticket");

    // The comment is the supervisor's to read, not the agent's.
    let sara = edge.login("sara").await;
    let (status, comments) = edge.get("/api/v1/surveys/comments", Some(&sara)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(comments[0]["text"], "Muy amable la atención");
    assert_eq!(comments[0]["low"], false);
    let (status, _) = edge.get("/api/v1/surveys/comments", Some(&ana)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, office) = edge.get("/api/v1/office", None).await;
    let day_doc = format!("branch/{}/day/{}", office["id"].as_str().expect("id"), office["day"].as_str().expect("day"));
    edge.stop().await;
    common::assert_not_in_documents(dir.path(), &[day_doc], "amable");
}

#[tokio::test]
async fn the_exit_tablet_answers_by_ticket_number_and_a_low_score_with_a_comment_alerts_the_supervisor() {
    let dir = tempfile::tempdir().expect("dir");
    let edge = common::spawn(dir.path()).await;
    let ana = edge.at_counter("ana", "1").await;
    let (token, number) = finished_visit(&edge, &ana).await;

    let (status, form) = edge.get("/api/v1/survey-form", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(form["questions"]["satisfaction"], true);

    let unknown = json!({ "ticket": "Z-999", "satisfaction": 3 });
    let (status, _) = edge.post("/api/v1/surveys", Some(common::KIOSK), unknown).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = edge.post("/api/v1/surveys", Some(common::KIOSK), json!({ "ticket": "A-0x1" })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_number")));
    let (status, _) = edge.post("/api/v1/surveys", None, json!({ "ticket": number, "satisfaction": 1 })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the tablet is a kiosk device");

    let lower = number.to_lowercase();
    let answer = json!({ "ticket": lower, "satisfaction": 1, "resolved": false, "comment": "Dos horas de espera" });
    let (status, body) = edge.post("/api/v1/surveys", Some(common::KIOSK), answer).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(survey_state(&edge, &token).await, "answered", "the tracking page sees it: one answer per ticket");

    let sara = edge.login("sara").await;
    let (_, queue) = edge.get("/api/v1/queue", Some(&sara)).await;
    let alert = queue["alerts"].as_array().expect("alerts").iter().find(|a| a["kind"] == "low_score").cloned();
    let alert = alert.expect("a low-score alert for the supervisor");
    assert_eq!(alert["ticket"], number.as_str());
    assert!(alert["message"].as_str().is_some_and(|m| m.contains("Dos horas de espera")), "{alert}");
    let (_, queue) = edge.get("/api/v1/queue", Some(&ana)).await;
    let seen_by_agent = queue["alerts"].as_array().expect("alerts").iter().any(|a: &Value| a["kind"] == "low_score");
    assert!(!seen_by_agent, "comments are the supervisor's");
    edge.stop().await;
}

#[tokio::test]
async fn an_answer_after_the_business_day_is_refused_and_one_before_midnight_is_taken() {
    let dir = tempfile::tempdir().expect("dir");
    // The demo office is in Buenos Aires (UTC-3): 10:00 on a Monday.
    let monday_morning: jiff::Timestamp = "2026-12-07T13:00:00Z".parse().expect("instant");
    let (clock, now) = common::manual_clock(monday_morning.as_millisecond());
    let edge = common::spawn_with_clock(dir.path(), clock).await;
    let ana = edge.at_counter("ana", "1").await;
    let (late, _) = finished_visit(&edge, &ana).await;
    let (too_late, _) = finished_visit(&edge, &ana).await;
    let (_, by_tablet_number) = finished_visit(&edge, &ana).await;
    let set = |at: &str| {
        let at: jiff::Timestamp = at.parse().expect("instant");
        now.store(at.as_millisecond(), std::sync::atomic::Ordering::SeqCst);
    };

    // 23:50 the same day: still the visit's day.
    set("2026-12-08T02:50:00Z");
    assert_eq!(survey_state(&edge, &late).await, "open");
    let (status, body) = edge.post(&format!("/api/v1/track/{late}/survey"), None, json!({ "satisfaction": 4 })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // 00:10 the next day: the window closed with the day, on the tracking page and at the exit.
    set("2026-12-08T03:10:00Z");
    let path = format!("/api/v1/track/{too_late}/survey");
    let (status, body) = edge.post(&path, None, json!({ "satisfaction": 5, "comment": "Tarde" })).await;
    // The box holds the office's day: yesterday's tracking links and numbers are gone with it.
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_token")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "the citizen is told why: {body}");
    let (status, body) = edge
        .post("/api/v1/surveys", Some(common::KIOSK), json!({ "ticket": by_tablet_number, "satisfaction": 2 }))
        .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_ticket")), "{body}");

    let sara = edge.login("sara").await;
    let (_, comments) = edge.get("/api/v1/surveys/comments", Some(&sara)).await;
    assert_eq!(comments.as_array().map(Vec::len), Some(0), "a refused answer leaves no comment: {comments}");
    edge.stop().await;
}
