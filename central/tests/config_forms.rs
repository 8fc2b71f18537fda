//! Headquarters edits offices' configurations: through the office's own configuration (with
//! its version, every problem named with its field), and through templates by tag, which reach
//! every office with the tag and leave alone what an office set on its own.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};

use common::docs_edge::Edge;
use common::TestCentral;

fn config_of(id: &str, tags: Value) -> Value {
    let mut config = serde_json::to_value(fila_central::demo::office_configs().remove(0)).expect("json");
    config["office"]["id"] = json!(id);
    config["office"]["tags"] = tags;
    config
}

async fn put_config(central: &TestCentral, id: &str, config: &Value, version: Option<&str>) -> (StatusCode, Value) {
    let mut request = central
        .client
        .put(format!("{}/api/v1/offices/{id}/config", central.base))
        .bearer_auth(common::HQ_ADMIN)
        .json(config);
    if let Some(version) = version {
        request = request.header("If-Match", version);
    }
    let response = request.send().await.expect("answered");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

async fn config(central: &TestCentral, id: &str) -> Value {
    let (status, config) = central.get(&format!("/api/v1/offices/{id}/config"), Some(common::HQ)).await;
    assert_eq!(status, StatusCode::OK, "{config}");
    config
}

fn target_wait(config: &Value, service: &str) -> u64 {
    let services = config["services"].as_array().expect("services");
    let service = services.iter().find(|s| s["id"] == service).expect("the service");
    service["target_wait_minutes"].as_u64().expect("minutes")
}

async fn put_template(central: &TestCentral, tag: &str, template: Value) -> Value {
    let response = central
        .client
        .put(format!("{}/api/v1/templates/{tag}", central.base))
        .bearer_auth(common::HQ_ADMIN)
        .json(&template)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

#[tokio::test]
async fn every_problem_of_an_edit_is_named_with_the_path_of_its_field() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let mut config = config_of("centro", json!([]));
    config["services"][1]["prefix"] = json!("A");
    config["counters"][0]["name"] = json!("");
    let (status, body) = put_config(&central, "centro", &config, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "bad_config");
    let at: Vec<&str> =
        body["problems"].as_array().expect("problems").iter().filter_map(|p| p["at"].as_str()).collect();
    assert!(at.contains(&"services[1].prefix"), "{body}");
    assert!(at.contains(&"counters[0].name"), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("prefix A is used by another service")), "{body}");
    central.stop().await;
}

#[tokio::test]
async fn an_edit_from_a_version_this_server_never_gave_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let config = config_of("centro", json!([]));
    assert_eq!(put_config(&central, "centro", &config, None).await.0, StatusCode::OK);
    let unknown = format!("\"{}\"", "ab".repeat(32));
    let mut edited = config.clone();
    edited["office"]["name"] = json!("Oficina Centro Renovada");
    let (status, body) = put_config(&central, "centro", &edited, Some(&unknown)).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(body["error"], "unknown_version");
    assert_eq!(self::config(&central, "centro").await["office"]["name"], config["office"]["name"]);
    central.stop().await;
}

#[tokio::test]
async fn a_template_reaches_every_office_with_its_tag_and_each_keeps_its_own_fields() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    for id in ["centro", "norte"] {
        assert_eq!(put_config(&central, id, &config_of(id, json!(["sur"])), None).await.0, StatusCode::OK);
    }

    // The south region's template: a call rule and the general service's target wait.
    let rule = json!({ "preferential_ratio": 5, "appointment_early_minutes": 10, "legal_wait_margin_minutes": 5,
        "recalls_max": 1, "service_order": "arrival", "transfer_position": "keep" });
    let applied = put_template(&central, "sur", json!({ "rule": rule, "target_waits": { "general": 12 } })).await;
    assert_eq!(applied["offices"].as_array().map(Vec::len), Some(2), "{applied}");
    for id in ["centro", "norte"] {
        let config = config(&central, id).await;
        assert_eq!(target_wait(&config, "general"), 12, "{id}");
        assert_eq!(config["rule"]["preferential_ratio"], 5, "{id}");
    }
    let (_, templates) = central.get("/api/v1/templates", Some(common::HQ)).await;
    assert_eq!(templates[0]["tag"], "sur");
    assert_eq!(templates[0]["target_waits"]["general"], 12);

    // Centro sets its own target wait through its form.
    let mut own = config(&central, "centro").await;
    own["services"][0]["target_wait_minutes"] = json!(40);
    assert_eq!(put_config(&central, "centro", &own, None).await.0, StatusCode::OK);
    let (_, overrides) = central.get("/api/v1/offices/centro/overrides", Some(common::HQ)).await;
    assert_eq!(overrides["fields"], json!(["services.general.target_wait_minutes"]));

    // The template changes: Norte follows, Centro keeps its own wait but takes the new rule.
    let rule = json!({ "preferential_ratio": 4, "appointment_early_minutes": 10, "legal_wait_margin_minutes": 5,
        "recalls_max": 1, "service_order": "arrival", "transfer_position": "keep" });
    put_template(&central, "sur", json!({ "rule": rule, "target_waits": { "general": 15 } })).await;
    let (centro, norte) = (config(&central, "centro").await, config(&central, "norte").await);
    assert_eq!(target_wait(&norte, "general"), 15);
    assert_eq!(target_wait(&centro, "general"), 40);
    assert_eq!(centro["rule"]["preferential_ratio"], 4);

    // Returned to the template, Centro's wait is the template's again.
    let response = central
        .client
        .delete(format!("{}/api/v1/offices/centro/overrides/services.general.target_wait_minutes", central.base))
        .bearer_auth(common::HQ_ADMIN)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(target_wait(&config(&central, "centro").await, "general"), 15);
    let (_, overrides) = central.get("/api/v1/offices/centro/overrides", Some(common::HQ)).await;
    assert_eq!(overrides["fields"], json!([]));
    central.stop().await;
}

#[tokio::test]
async fn an_office_that_takes_a_tag_takes_its_template() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let applied = put_template(&central, "sur", json!({ "target_waits": { "general": 12 } })).await;
    assert_eq!(applied["offices"], json!([]), "no office is configured yet");

    // Centro is configured in the region from the start; Norte joins it later.
    assert_eq!(put_config(&central, "centro", &config_of("centro", json!(["sur"])), None).await.0, StatusCode::OK);
    assert_eq!(put_config(&central, "norte", &config_of("norte", json!([])), None).await.0, StatusCode::OK);
    assert_eq!(target_wait(&config(&central, "centro").await, "general"), 12);
    assert_eq!(target_wait(&config(&central, "norte").await, "general"), 20);

    let mut norte = config(&central, "norte").await;
    norte["office"]["tags"] = json!(["sur"]);
    assert_eq!(put_config(&central, "norte", &norte, None).await.0, StatusCode::OK);
    assert_eq!(target_wait(&config(&central, "norte").await, "general"), 12);
    let (_, overrides) = central.get("/api/v1/offices/norte/overrides", Some(common::HQ)).await;
    assert_eq!(overrides["fields"], json!([]));
    central.stop().await;
}

#[tokio::test]
async fn a_field_the_office_changed_at_its_box_is_its_own_and_the_template_leaves_it() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let mut raw = fila_central::demo::office_configs().remove(0);
    raw.office.tags = vec!["sur".into()];
    let mut edge = Edge::new(raw.validate().expect("valid"), common::T0);
    edge.add_config();
    let mut ws = central.connect(common::CENTRO).await;
    edge.sync(&mut ws).await;

    put_template(&central, "sur", json!({ "target_waits": { "general": 12, "pagos": 9 } })).await;
    assert_eq!(target_wait(&config(&central, "centro").await, "general"), 12);

    // The office's own administrator sets general's wait at the box; it reaches central.
    edge.sync(&mut ws).await;
    edge.edit_config(|raw| {
        assert_eq!(raw.services[0].target_wait_minutes, 12, "the box has the template's wait");
        raw.services[0].target_wait_minutes = 33;
    });
    edge.sync(&mut ws).await;
    assert_eq!(target_wait(&config(&central, "centro").await, "general"), 33);

    put_template(&central, "sur", json!({ "target_waits": { "general": 15, "pagos": 8 } })).await;
    let centro = config(&central, "centro").await;
    assert_eq!(target_wait(&centro, "general"), 33, "the office's own wait is kept");
    assert_eq!(target_wait(&centro, "pagos"), 8, "the template's other wait is applied");
    let (_, overrides) = central.get("/api/v1/offices/centro/overrides", Some(common::HQ)).await;
    assert_eq!(overrides["fields"], json!(["services.general.target_wait_minutes"]));
    ws.close().await;
    central.stop().await;
}

#[tokio::test]
async fn only_administrators_set_templates() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let response = central
        .client
        .put(format!("{}/api/v1/templates/sur", central.base))
        .bearer_auth(common::HQ)
        .json(&json!({ "target_waits": { "general": 12 } }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    central.stop().await;
}

/// The index of the demo office's bookable service (documentos).
fn bookable(config: &Value) -> usize {
    let services = config["services"].as_array().expect("services");
    services.iter().position(|s| s["booking"].is_object()).expect("a bookable service")
}

fn problems_at(body: &Value) -> Vec<String> {
    let problems = body["problems"].as_array().map(Vec::as_slice).unwrap_or_default();
    problems.iter().filter_map(|p| p["at"].as_str().map(str::to_string)).collect()
}

#[tokio::test]
async fn a_bad_check_in_window_is_refused_beside_its_field_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    assert_eq!(put_config(&central, "centro", &config_of("centro", json!([])), None).await.0, StatusCode::OK);
    let saved = config(&central, "centro").await;
    let at = bookable(&saved);

    let mut edited = saved.clone();
    edited["services"][at]["booking"]["cancel_deadline_minutes"] = json!(240);
    edited["services"][at]["booking"]["checkin_late_minutes"] = json!(500);
    edited["services"][at]["booking"]["requirements"][0]["fees"] = json!(["  "]);
    let (status, body) = put_config(&central, "centro", &edited, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "bad_config");
    let problems = problems_at(&body);
    assert!(problems.contains(&format!("services[{at}].booking.checkin_late_minutes")), "{body}");
    assert!(problems.contains(&format!("services[{at}].booking.requirements[0].fees[0]")), "{body}");
    assert_eq!(config(&central, "centro").await, saved, "nothing of the refused edit is applied");

    // Fixed, the whole booking edit is kept.
    edited["services"][at]["booking"]["checkin_late_minutes"] = json!(15);
    edited["services"][at]["booking"]["requirements"][0]["fees"] = json!(["Tasa de $ 3.500, en la caja"]);
    assert_eq!(put_config(&central, "centro", &edited, None).await.0, StatusCode::OK);
    let booking = &config(&central, "centro").await["services"][at]["booking"];
    assert_eq!(booking["cancel_deadline_minutes"], 240);
    assert_eq!(booking["checkin_late_minutes"], 15);
    assert_eq!(booking["requirements"][0]["fees"], json!(["Tasa de $ 3.500, en la caja"]));
    central.stop().await;
}

#[tokio::test]
async fn the_room_survey_and_signage_are_edited_and_their_problems_named_at_their_fields() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    let mut edited = config_of("centro", json!([]));
    edited["room"] = json!({ "capacity": 40, "come_margin_minutes": 15 });
    edited["notices"]["survey"] =
        json!({ "satisfaction": true, "recommend": false, "resolved": true, "comment": false, "open_days": 3 });
    edited["signage"] = json!({
        "screens": [{ "id": "sala", "name": "Sala principal", "profile": "landscape", "ticker": true }],
        "playlists": [{ "id": "avisos", "name": "Avisos", "items": [
            { "slide": [{ "lang": "es", "title": "Turnos por internet", "body": "" }], "seconds": 10 }] }],
        "schedules": [{ "id": "siempre", "playlist": "avisos", "hours": "08:00-12:00", "target": "all" }],
        "urgent": [{ "id": "corte", "texts": [{ "lang": "es", "text": "Hoy cerramos a las 12" }],
            "from_ms": 1_800_000_000_000_i64, "until_ms": 1_800_003_600_000_i64, "target": "office:centro", "by": "hq" }],
        // The document keeps texts by language: they come back in its order.
        "ticker": [{ "lang": "en", "text": "Welcome" }, { "lang": "es", "text": "Bienvenidos" }],
    });
    let (status, body) = put_config(&central, "centro", &edited, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let saved = config(&central, "centro").await;
    for part in ["room", "signage"] {
        assert_eq!(saved[part], edited[part], "{part}");
    }
    assert_eq!(saved["notices"]["survey"], edited["notices"]["survey"]);

    // Each problem is at the path the editor's field for it has.
    let mut broken = saved.clone();
    broken["room"]["capacity"] = json!(0);
    broken["notices"]["survey"]["open_days"] = json!(0);
    broken["signage"]["schedules"][0]["playlist"] = json!("campania");
    broken["signage"]["ticker"][1]["text"] = json!("");
    broken["signage"]["urgent"][0]["until_ms"] = json!(1_700_000_000_000_i64);
    broken["signage"]["playlists"][0]["items"][0]["seconds"] = json!(0);
    let (status, body) = put_config(&central, "centro", &broken, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let problems = problems_at(&body);
    for at in [
        "room.capacity",
        "notices.survey.open_days",
        "signage.schedules[0].playlist",
        "signage.ticker[1].text",
        "signage.urgent[0].until_ms",
        "signage.playlists[0].items[0].seconds",
    ] {
        assert!(problems.iter().any(|p| p == at), "{at}: {body}");
    }
    assert_eq!(config(&central, "centro").await, saved, "nothing of the refused edit is applied");
    central.stop().await;
}

#[tokio::test]
async fn a_template_with_booking_settings_reaches_every_tagged_office_but_the_field_one_overrode() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    for id in ["centro", "norte"] {
        assert_eq!(put_config(&central, id, &config_of(id, json!(["sur"])), None).await.0, StatusCode::OK);
    }
    let at = bookable(&config(&central, "centro").await);
    let mut booking = config(&central, "centro").await["services"][at]["booking"].clone();
    booking["cancel_deadline_minutes"] = json!(60);
    let survey =
        json!({ "satisfaction": true, "recommend": true, "resolved": false, "comment": false, "open_days": 3 });
    let texts = json!([{ "kind": "called", "lang": "es", "subject": "", "text": "Turno {ticket}: puesto {counter}" }]);
    let template = json!({ "bookings": { "documentos": booking }, "survey": survey, "notice_templates": texts });
    let applied = put_template(&central, "sur", template).await;
    assert_eq!(applied["offices"].as_array().map(Vec::len), Some(2), "{applied}");
    for id in ["centro", "norte"] {
        let config = config(&central, id).await;
        assert_eq!(config["services"][at]["booking"]["cancel_deadline_minutes"], 60, "{id}");
        assert_eq!(config["notices"]["survey"], survey, "{id}");
        assert_eq!(config["notices"]["templates"], texts, "{id}");
    }

    // Centro sets its own cancel deadline through its form.
    let mut own = config(&central, "centro").await;
    own["services"][at]["booking"]["cancel_deadline_minutes"] = json!(240);
    assert_eq!(put_config(&central, "centro", &own, None).await.0, StatusCode::OK);
    let (_, overrides) = central.get("/api/v1/offices/centro/overrides", Some(common::HQ)).await;
    assert_eq!(overrides["fields"], json!(["services.documentos.booking"]));

    // The template changes: Norte follows all of it, Centro all but its own booking settings.
    booking["cancel_deadline_minutes"] = json!(90);
    let survey = json!({ "satisfaction": true, "recommend": false, "resolved": true, "comment": true, "open_days": 5 });
    put_template(&central, "sur", json!({ "bookings": { "documentos": booking }, "survey": survey })).await;
    let (centro, norte) = (config(&central, "centro").await, config(&central, "norte").await);
    assert_eq!(norte["services"][at]["booking"]["cancel_deadline_minutes"], 90);
    assert_eq!(centro["services"][at]["booking"]["cancel_deadline_minutes"], 240);
    assert_eq!(centro["notices"]["survey"], survey);
    assert_eq!(norte["notices"]["survey"], survey);

    // Returned to the template, Centro's booking settings are the template's again.
    let response = central
        .client
        .delete(format!("{}/api/v1/offices/centro/overrides/services.documentos.booking", central.base))
        .bearer_auth(common::HQ_ADMIN)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(config(&central, "centro").await["services"][at]["booking"]["cancel_deadline_minutes"], 90);
    let (_, overrides) = central.get("/api/v1/offices/centro/overrides", Some(common::HQ)).await;
    assert_eq!(overrides["fields"], json!([]));
    central.stop().await;
}

#[tokio::test]
async fn a_template_no_office_could_take_is_refused_at_its_own_paths_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    assert_eq!(put_config(&central, "centro", &config_of("centro", json!(["sur"])), None).await.0, StatusCode::OK);
    let before = config(&central, "centro").await;
    let mut booking = before["services"][bookable(&before)]["booking"].clone();
    booking["checkin_early_minutes"] = json!(1000);
    let template = json!({
        "bookings": { "documentos": booking },
        "survey": { "satisfaction": true, "recommend": true, "resolved": true, "comment": true, "open_days": 0 },
        "notice_templates": [{ "kind": "llamado", "lang": "es", "text": "Turno {ticket}" }],
    });
    let response = central
        .client
        .put(format!("{}/api/v1/templates/sur", central.base))
        .bearer_auth(common::HQ_ADMIN)
        .json(&template)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "bad_config");
    let problems = problems_at(&body);
    for at in ["bookings.documentos.checkin_early_minutes", "survey.open_days", "notice_templates[0].kind"] {
        assert!(problems.iter().any(|p| p == at), "{at}: {body}");
    }
    assert_eq!(config(&central, "centro").await, before);
    let (_, templates) = central.get("/api/v1/templates", Some(common::HQ)).await;
    assert_eq!(templates, json!([]), "the refused template is not kept");
    central.stop().await;
}

#[tokio::test]
async fn an_edit_refused_for_its_version_leaves_no_override_behind() {
    let dir = tempfile::tempdir().expect("dir");
    let central = common::spawn(dir.path()).await;
    assert_eq!(put_config(&central, "centro", &config_of("centro", json!(["sur"])), None).await.0, StatusCode::OK);
    put_template(&central, "sur", json!({ "target_waits": { "general": 12 } })).await;

    // The office's own wait is recorded before the edit is written; the edit is refused.
    let mut own = config(&central, "centro").await;
    own["services"][0]["target_wait_minutes"] = json!(40);
    let unknown = format!("\"{}\"", "cd".repeat(32));
    let (status, body) = put_config(&central, "centro", &own, Some(&unknown)).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    let (_, overrides) = central.get("/api/v1/offices/centro/overrides", Some(common::HQ)).await;
    assert_eq!(overrides["fields"], json!([]), "the refused edit made nothing the office's own");

    put_template(&central, "sur", json!({ "target_waits": { "general": 14 } })).await;
    assert_eq!(target_wait(&config(&central, "centro").await, "general"), 14);
    central.stop().await;
}
