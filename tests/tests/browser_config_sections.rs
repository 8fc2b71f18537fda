//! The configuration editor's counters, preferential categories, call rule, opening hours and
//! closures, edited in a real headless Chromium by a headquarters administrator: what is saved
//! is exactly what was typed, and comes back in the page after reloading; what the server (or
//! the page) refuses is shown beside its own field, measured on the page, and nothing is saved.
//!
//! With `FILA_SCREENSHOTS` set, the tests leave headquarters-config-sections-problem-es.png and
//! headquarters-config-sections-problem-en.png.

mod browsers;
#[path = "../../central/tests/common/mod.rs"]
mod central;

use std::collections::BTreeSet;
use std::time::Duration;

use browsers::editor::{beside_its_field, choose, input, retype, set_date, shown_problems, value_of};
use browsers::{click, keep_screenshot, text_when, type_into};
use central::{HQ, HQ_ADMIN};
use serde_json::{json, Value};

const SCENARIO_LIMIT: Duration = Duration::from_secs(150);

/// The office's configuration and its ETag, as the API gives them to headquarters.
async fn saved(base: &str) -> (Value, String) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/offices/centro/config"))
        .bearer_auth(HQ)
        .send()
        .await
        .expect("answered");
    assert!(response.status().is_success());
    let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).expect("an ETag").to_string();
    (response.json().await.expect("json"), etag)
}

/// Opens the editor at `page` and signs in as a headquarters administrator.
async fn signed_in(hq: &fantoccini::Client, page: &str, heading: &str) {
    hq.goto(page).await.expect("the editor loads");
    type_into(hq, "#token", HQ_ADMIN).await;
    click(hq, "#login-form button[type=submit]").await;
    text_when(hq, "#heading", "the office's name", |t| t.contains(heading)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_edits_counters_categories_the_call_rule_hours_and_closures_and_sees_them_after_reloading() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn_with_demo_office(dir.path()).await;
    let (before, _) = saved(&central.base).await;
    assert_eq!(before["counters"][4]["id"], "5", "the demo's fifth counter");

    let base = central.base.clone();
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        let page = format!("{base}/dashboard/office/centro/config");
        signed_in(&hq, &page, "Oficina Centro").await;

        // Counters: the second renamed, the fifth removed, a new one serving two services.
        retype(&hq, "counters[1].name", "Ventanilla 2").await;
        click(&hq, "#editor [data-remove=\"counters[4]\"]").await;
        click(&hq, "#editor [data-add=\"counters\"]").await;
        type_into(&hq, &input("counters[4].id"), "6").await;
        type_into(&hq, &input("counters[4].name"), "Puesto 6").await;
        type_into(&hq, &input("counters[4].services"), "general, documentos").await;

        // Categories: a shorter legal wait, and a new category.
        retype(&hq, "categories[0].max_wait_minutes", "20").await;
        click(&hq, "#editor [data-add=\"categories\"]").await;
        type_into(&hq, &input("categories[3].id"), "brazos").await;
        type_into(&hq, &input("categories[3].name"), "Con niños en brazos").await;
        type_into(&hq, &input("categories[3].max_wait_minutes"), "25").await;

        // The call rule.
        retype(&hq, "rule.preferential_ratio", "2").await;
        choose(&hq, "rule.service_order", "counter_priority").await;
        choose(&hq, "rule.transfer_position", "head").await;

        // Wednesdays close at noon for an hour; a long weekend in March.
        retype(&hq, "calendar.hours.wed", "08:00-12:00, 13:00 - 16:00").await;
        click(&hq, "#editor [data-add=\"calendar.closures\"]").await;
        set_date(&hq, "calendar.closures[2].from", "2027-03-23").await;
        set_date(&hq, "calendar.closures[2].until", "2027-03-24").await;
        type_into(&hq, &input("calendar.closures[2].reason"), "Feriado puente").await;

        click(&hq, "#save").await;
        text_when(&hq, "#message", "saved", |t| t.contains("Guardado")).await;
        assert_eq!(shown_problems(&hq).await, BTreeSet::new());

        // A fresh page shows what was saved.
        hq.goto(&page).await.expect("the editor loads again");
        text_when(&hq, "#heading", "the office's name", |t| t.contains("Oficina Centro")).await;
        assert_eq!(value_of(&hq, "counters[1].name").await, "Ventanilla 2");
        assert_eq!(value_of(&hq, "counters[4].id").await, "6");
        assert_eq!(value_of(&hq, "counters[4].name").await, "Puesto 6");
        assert_eq!(value_of(&hq, "counters[4].services").await, "general, documentos");
        let counters =
            hq.execute("return document.querySelectorAll('#editor [data-field^=\"counters[\"].row').length;", vec![]);
        assert_eq!(counters.await.expect("counted"), json!(5), "five counters, the fifth gone");
        assert_eq!(value_of(&hq, "categories[0].max_wait_minutes").await, "20");
        assert_eq!(value_of(&hq, "categories[3].id").await, "brazos");
        assert_eq!(value_of(&hq, "categories[3].name").await, "Con niños en brazos");
        assert_eq!(value_of(&hq, "categories[3].max_wait_minutes").await, "25");
        assert_eq!(value_of(&hq, "rule.preferential_ratio").await, "2");
        assert_eq!(value_of(&hq, "rule.service_order").await, "counter_priority");
        assert_eq!(value_of(&hq, "rule.transfer_position").await, "head");
        assert_eq!(value_of(&hq, "calendar.hours.wed").await, "08:00-12:00, 13:00-16:00");
        assert_eq!(value_of(&hq, "calendar.hours.mon").await, "08:00-16:00");
        assert_eq!(value_of(&hq, "calendar.closures[2].from").await, "2027-03-23");
        assert_eq!(value_of(&hq, "calendar.closures[2].until").await, "2027-03-24");
        assert_eq!(value_of(&hq, "calendar.closures[2].reason").await, "Feriado puente");
    })
    .await
    .rethrow();

    let (after, _) = saved(&central.base).await;
    assert_eq!(
        after["counters"],
        json!([
            { "id": "1", "name": "Puesto 1", "services": ["general", "pagos"] },
            { "id": "2", "name": "Ventanilla 2", "services": ["general"] },
            { "id": "3", "name": "Puesto 3", "services": ["pagos", "general"] },
            { "id": "4", "name": "Puesto 4", "services": ["documentos", "registro"] },
            { "id": "6", "name": "Puesto 6", "services": ["general", "documentos"] },
        ])
    );
    assert_eq!(
        after["categories"],
        json!([
            { "id": "adulto_mayor", "name": "Adulto mayor", "max_wait_minutes": 20 },
            { "id": "embarazada", "name": "Embarazada", "max_wait_minutes": 30 },
            { "id": "discapacidad", "name": "Persona con discapacidad", "max_wait_minutes": 30 },
            { "id": "brazos", "name": "Con niños en brazos", "max_wait_minutes": 25 },
        ])
    );
    assert_eq!(
        after["rule"],
        json!({
            "preferential_ratio": 2, "appointment_early_minutes": 10, "legal_wait_margin_minutes": 5,
            "recalls_max": 2, "service_order": "counter_priority", "transfer_position": "head",
        })
    );
    let mut hours = before["calendar"]["hours"].clone();
    hours["wed"] = json!(["08:00-12:00", "13:00-16:00"]);
    assert_eq!(after["calendar"]["hours"], hours, "only Wednesday's hours changed");
    assert_eq!(
        after["calendar"]["closures"],
        json!([
            { "from": "2026-12-25", "reason": "Navidad" },
            { "from": "2027-01-01", "reason": "Año Nuevo" },
            { "from": "2027-03-23", "until": "2027-03-24", "reason": "Feriado puente" },
        ])
    );
    // Nothing else moved.
    for untouched in ["office", "services", "notices", "signage"] {
        assert_eq!(after[untouched], before[untouched], "{untouched} is as it was");
    }
    central.stop().await;
}

/// Mistakes in the counters, categories, call rule, hours and closures: first those the page catches, then
/// those only the server can see; each shown beside its own field, and nothing saved.
async fn mistakes_are_refused_beside_their_fields(lang: &'static str) {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn_with_demo_office(dir.path()).await;
    let (before, version) = saved(&central.base).await;

    let base = central.base.clone();
    let api = central.base.clone();
    let english = lang == "en";
    let said = move |es: &'static str, en: &'static str| if english { en } else { es };
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        let heading = said("Configuración de Oficina Centro", "Configuration of Oficina Centro");
        signed_in(&hq, &format!("{base}/dashboard/office/centro/config?lang={lang}"), heading).await;

        // What the server refuses, and what it could not even read.
        retype(&hq, "counters[0].services", "general, tramites").await;
        retype(&hq, "calendar.hours.tue", "08:00-13:00, 12:00-15:00").await;
        retype(&hq, "calendar.hours.thu", "8 a 12").await;
        retype(&hq, "categories[1].max_wait_minutes", "treinta").await;
        retype(&hq, "rule.recalls_max", "300").await;
        click(&hq, "#editor [data-add=\"calendar.closures\"]").await;
        type_into(&hq, &input("calendar.closures[2].reason"), "Mudanza").await;
        click(&hq, "#save").await;

        // The page catches what does not read, before sending anything.
        text_when(&hq, "#message", "the count of problems", |t| t.contains(said("4 problema(s)", "4 problem(s)")))
            .await;
        beside_its_field(&hq, "calendar.hours.thu", said("Jueves", "Thursday"), |t| {
            t.contains("08:00-12:00, 13:00-16:00") && t.contains(said("horarios", "hours"))
        })
        .await;
        beside_its_field(
            &hq,
            "categories[1].max_wait_minutes",
            said("Espera máxima legal (min)", "Legal maximum wait (min)"),
            |t| t.contains(said("número entero", "whole number")),
        )
        .await;
        beside_its_field(&hq, "calendar.closures[2].from", said("Desde", "From"), |t| {
            t.contains(said("Debe ser una fecha", "Must be a date"))
        })
        .await;
        beside_its_field(&hq, "rule.recalls_max", said("Rellamados máximos", "Most recalls"), |t| {
            t.contains(said("demasiado grande", "too large"))
        })
        .await;
        let local: BTreeSet<String> =
            ["calendar.hours.thu", "categories[1].max_wait_minutes", "calendar.closures[2].from", "rule.recalls_max"]
                .map(String::from)
                .into();
        assert_eq!(shown_problems(&hq).await, local, "nothing else is marked");
        assert_eq!(saved(&api).await, (before.clone(), version.clone()), "nothing was sent");

        // Those fixed, the server sees the rest: an unknown service, spans that overlap, a legal
        // wait of zero, more recalls than the rule allows.
        retype(&hq, "calendar.hours.thu", "08:00-12:00").await;
        retype(&hq, "categories[1].max_wait_minutes", "0").await;
        set_date(&hq, "calendar.closures[2].from", "2027-02-01").await;
        retype(&hq, "rule.recalls_max", "11").await;
        click(&hq, "#save").await;
        text_when(&hq, "#message", "the count of problems", |t| t.contains(said("4 problema(s)", "4 problem(s)")))
            .await;
        beside_its_field(
            &hq,
            "counters[0].services",
            said("Servicios (ids, separados por comas)", "Services (ids, comma separated)"),
            |t| t.contains("unknown service \"tramites\""),
        )
        .await;
        beside_its_field(&hq, "calendar.hours.tue", said("Martes", "Tuesday"), |t| {
            t.contains("12:00-15:00 starts before 08:00-13:00 ends")
        })
        .await;
        beside_its_field(
            &hq,
            "categories[1].max_wait_minutes",
            said("Espera máxima legal (min)", "Legal maximum wait (min)"),
            |t| t.contains("must be at least 1"),
        )
        .await;
        beside_its_field(&hq, "rule.recalls_max", said("Rellamados máximos", "Most recalls"), |t| {
            t.contains("at most 10")
        })
        .await;
        let refused: BTreeSet<String> =
            ["counters[0].services", "calendar.hours.tue", "categories[1].max_wait_minutes", "rule.recalls_max"]
                .map(String::from)
                .into();
        assert_eq!(shown_problems(&hq).await, refused, "the page's own problems are gone, nothing else is marked");
        hq.execute("document.querySelector('[data-field=\"calendar\"]').scrollIntoView();", vec![])
            .await
            .expect("scrolled");
        keep_screenshot(&hq, &format!("headquarters-config-sections-problem-{lang}")).await;
        assert_eq!(saved(&api).await, (before.clone(), version.clone()), "nothing was saved");

        // Rows removed: a removed row's problem goes with it, and a later row's follows its row up,
        // beside no other row's field.
        click(&hq, "#editor [data-remove=\"counters[0]\"]").await;
        click(&hq, "#editor [data-remove=\"categories[0]\"]").await;
        assert_eq!(value_of(&hq, "categories[0].max_wait_minutes").await, "0");
        beside_its_field(
            &hq,
            "categories[0].max_wait_minutes",
            said("Espera máxima legal (min)", "Legal maximum wait (min)"),
            |t| t.contains("must be at least 1"),
        )
        .await;
        let left: BTreeSet<String> =
            ["calendar.hours.tue", "categories[0].max_wait_minutes", "rule.recalls_max"].map(String::from).into();
        assert_eq!(shown_problems(&hq).await, left, "the removed counter's problem is not left on another counter");
    })
    .await
    .rethrow();
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrators_mistakes_in_counters_categories_and_hours_are_shown_beside_each_field_and_nothing_is_saved()
{
    mistakes_are_refused_beside_their_fields("es").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_english_too_each_mistake_is_shown_beside_its_field_and_nothing_is_saved() {
    mistakes_are_refused_beside_their_fields("en").await;
}
