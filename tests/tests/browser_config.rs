//! An office's configuration edited through the editor's forms, in a real headless Chromium: a
//! headquarters administrator breaks a field, sees the server's problem beside it, fixes it,
//! saves, and the office's configuration is the edited one.
//!
//! With `FILA_SCREENSHOTS` set, the tests leave headquarters-config-problem.png and
//! headquarters-config-signage-problem.png.

mod browsers;
#[path = "../../central/tests/common/mod.rs"]
mod central;

use std::time::Duration;

use browsers::editor::{beside_its_field, retype, value_of};
use browsers::{click, keep_screenshot, text_when, type_into};
use central::{HQ, HQ_ADMIN};

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_fixes_a_field_the_server_refused_and_saves_the_office_configuration() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn_with_demo_office(dir.path()).await;

    let base = central.base.clone();
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        hq.goto(&format!("{base}/dashboard/office/centro/config")).await.expect("the editor loads");
        type_into(&hq, "#token", HQ_ADMIN).await;
        click(&hq, "#login-form button[type=submit]").await;
        text_when(&hq, "#heading", "the office's name", |t| t.contains("Oficina Centro")).await;

        // A word for a number is caught before anything is sent.
        retype(&hq, "services[1].expected_service_minutes", "diez").await;
        click(&hq, "#save").await;
        beside_its_field(&hq, "services[1].expected_service_minutes", "Atención esperada (min)", |t| {
            t.contains("número entero")
        })
        .await;
        retype(&hq, "services[1].expected_service_minutes", "10").await;

        // Pagos takes general's prefix: the server refuses, and says so beside the prefix.
        retype(&hq, "services[1].prefix", "A").await;
        retype(&hq, "services[1].name", "Pagos y cobros").await;
        click(&hq, "#save").await;
        let error = beside_its_field(&hq, "services[1].prefix", "Prefijo", |t| {
            t.contains("prefix A is used by another service")
        })
        .await;
        assert!(!error.is_empty());
        hq.execute("document.querySelector('[data-field=\"services[1]\"]').scrollIntoView();", vec![])
            .await
            .expect("scrolled");
        keep_screenshot(&hq, "headquarters-config-problem").await;

        // A message of a kind that does not exist: refused beside its kind; the row is removed.
        click(&hq, "#editor [data-add=\"notices.templates\"]").await;
        let message = "#editor [data-field=\"notices\"] div.row:last-of-type";
        type_into(&hq, &format!("{message} [data-path$=\".kind\"]"), "llamado").await;
        type_into(&hq, &format!("{message} [data-path$=\".text\"]"), "Turno {ticket}").await;
        click(&hq, "#save").await;
        text_when(&hq, &format!("{message} .field-error"), "the kind's problem", |t| {
            t.contains("\"llamado\" is not a kind of notice")
        })
        .await;
        // The office had no messages: this one is the first, and its kind's problem is beside the kind.
        beside_its_field(&hq, "notices.templates[0].kind", "Tipo (p. ej. called)", |t| {
            t.contains("\"llamado\" is not a kind of notice")
        })
        .await;
        click(&hq, &format!("{message} .remove")).await;

        retype(&hq, "services[1].prefix", "B").await;
        click(&hq, "#save").await;
        text_when(&hq, "#message", "saved", |t| t.contains("Guardado")).await;
        let left = text_when(&hq, "#editor [data-err=\"services[1].prefix\"]", "no problem left", str::is_empty).await;
        assert_eq!(left, "");
    })
    .await
    .rethrow();

    let (status, saved) = central.get("/api/v1/offices/centro/config", Some(HQ)).await;
    assert!(status.is_success());
    assert_eq!(saved["services"][1]["prefix"], "B");
    assert_eq!(saved["services"][1]["name"], "Pagos y cobros");
    let kinds = saved["notices"]["templates"].as_array().map(|t| t.iter().any(|t| t["kind"] == "llamado"));
    assert_ne!(kinds, Some(true), "the removed message is not saved");
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_applies_a_regions_template_and_returns_an_offices_own_wait_to_it() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn(dir.path()).await;
    let mut config = fila_central::demo::office_configs().remove(0);
    config.office.tags = vec!["sur".into()];
    central.configure("centro", &config).await;

    let base = central.base.clone();
    let api = central.base.clone();
    let general_wait = move || {
        let api = api.clone();
        async move {
            let config: serde_json::Value = reqwest::Client::new()
                .get(format!("{api}/api/v1/offices/centro/config"))
                .bearer_auth(HQ)
                .send()
                .await
                .expect("answered")
                .json()
                .await
                .expect("json");
            config["services"][0]["target_wait_minutes"].as_u64()
        }
    };
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        hq.goto(&format!("{base}/dashboard/office/centro/config?lang=en")).await.expect("the editor loads");
        type_into(&hq, "#token", HQ_ADMIN).await;
        click(&hq, "#login-form button[type=submit]").await;
        text_when(&hq, "#heading", "the office's name", |t| t.contains("Configuration of Oficina Centro")).await;

        // The south's template: twelve minutes for general attention.
        type_into(&hq, "#template-form [data-path=\"general\"]", "12").await;
        click(&hq, "#template-save").await;
        text_when(&hq, "#template-result", "the template applied", |t| t.contains("centro")).await;
        assert_eq!(general_wait().await, Some(12));

        // Centro sets its own wait: the template leaves it alone from now on.
        retype(&hq, "services[0].target_wait_minutes", "40").await;
        click(&hq, "#save").await;
        text_when(&hq, "#message", "saved", |t| t.contains("Saved")).await;
        let own = "#overrides [data-override=\"services.general.target_wait_minutes\"]";
        text_when(&hq, "#overrides", "centro's own wait", |t| t.contains("services.general.target_wait_minutes")).await;
        assert_eq!(general_wait().await, Some(40));

        click(&hq, &format!("{own} button")).await;
        text_when(&hq, "#overrides", "no own field left", |t| t.contains("None")).await;
        assert_eq!(general_wait().await, Some(12));
    })
    .await
    .rethrow();
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_edits_booking_settings_and_the_signage_ticker_and_sees_them_after_reloading() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn_with_demo_office(dir.path()).await;
    let config = fila_central::demo::office_configs().remove(0);
    let bookable = config.services.iter().position(|s| s.booking.is_some()).expect("the demo books a service");

    let base = central.base.clone();
    let booking = format!("services[{bookable}].booking");
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        let page = format!("{base}/dashboard/office/centro/config");
        hq.goto(&page).await.expect("the editor loads");
        type_into(&hq, "#token", HQ_ADMIN).await;
        click(&hq, "#login-form button[type=submit]").await;
        text_when(&hq, "#heading", "the office's name", |t| t.contains("Oficina Centro")).await;

        // A later cancel deadline, a check-in window the server refuses, and a ticker line
        // left empty: each problem is shown beside its own field.
        retype(&hq, &format!("{booking}.cancel_deadline_minutes"), "240").await;
        retype(&hq, &format!("{booking}.checkin_late_minutes"), "500").await;
        click(&hq, "#editor [data-add=\"signage.ticker\"]").await;
        click(&hq, "#save").await;
        beside_its_field(&hq, &format!("{booking}.checkin_late_minutes"), "Presentarse hasta (min después)", |t| {
            t.contains("must be 0 to 120")
        })
        .await;
        beside_its_field(&hq, "signage.ticker[0].text", "Texto", |t| t.contains("must be 1-")).await;
        hq.execute("document.querySelector('[data-field=\"signage\"]').scrollIntoView();", vec![])
            .await
            .expect("scrolled");
        keep_screenshot(&hq, "headquarters-config-signage-problem").await;

        retype(&hq, &format!("{booking}.checkin_late_minutes"), "15").await;
        type_into(&hq, "#editor [data-path=\"signage.ticker[0].text\"]", "Bienvenidos a la Oficina Centro").await;
        retype(&hq, &format!("{booking}.requirements[0].fees"), "Tasa de $ 3.500\nSe paga en la caja, en efectivo")
            .await;
        // A playlist of one text slide, scheduled every morning.
        click(&hq, "#editor [data-add=\"signage.playlists\"]").await;
        type_into(&hq, "#editor [data-path=\"signage.playlists[0].id\"]", "avisos").await;
        type_into(&hq, "#editor [data-path=\"signage.playlists[0].name\"]", "Avisos").await;
        click(&hq, "#editor [data-add=\"signage.playlists[0].items\"]").await;
        type_into(&hq, "#editor [data-path=\"signage.playlists[0].items[0].slide[0].title\"]", "Turnos por internet")
            .await;
        click(&hq, "#editor [data-add=\"signage.schedules\"]").await;
        type_into(&hq, "#editor [data-path=\"signage.schedules[0].id\"]", "mananas").await;
        // Hours that end before they start are caught beside them, before anything is sent.
        type_into(&hq, "#editor [data-path=\"signage.schedules[0].hours\"]", "12:00-08:00").await;
        click(&hq, "#save").await;
        beside_its_field(&hq, "signage.schedules[0].hours", "Horas (08:00-12:00; vacío: todo el día)", |t| {
            t.contains("08:00-12:00")
        })
        .await;
        retype(&hq, "signage.schedules[0].hours", "08:00-12:00").await;
        click(&hq, "#save").await;
        text_when(&hq, "#message", "saved", |t| t.contains("Guardado")).await;

        // A fresh page shows what was saved.
        hq.goto(&page).await.expect("the editor loads again");
        text_when(&hq, "#heading", "the office's name", |t| t.contains("Oficina Centro")).await;
        assert_eq!(value_of(&hq, &format!("{booking}.cancel_deadline_minutes")).await, "240");
        assert_eq!(value_of(&hq, &format!("{booking}.checkin_late_minutes")).await, "15");
        assert_eq!(value_of(&hq, "signage.ticker[0].text").await, "Bienvenidos a la Oficina Centro");
        assert_eq!(
            value_of(&hq, &format!("{booking}.requirements[0].fees")).await,
            "Tasa de $ 3.500\nSe paga en la caja, en efectivo"
        );
        let left =
            text_when(&hq, "#editor [data-err=\"signage.ticker[0].text\"]", "no problem left", str::is_empty).await;
        assert_eq!(left, "");
    })
    .await
    .rethrow();

    let (status, saved) = central.get("/api/v1/offices/centro/config", Some(HQ)).await;
    assert!(status.is_success());
    let saved_booking = &saved["services"][bookable]["booking"];
    assert_eq!(saved_booking["cancel_deadline_minutes"], 240);
    assert_eq!(saved_booking["checkin_late_minutes"], 15);
    assert_eq!(
        saved_booking["requirements"][0]["fees"],
        serde_json::json!(["Tasa de $ 3.500", "Se paga en la caja, en efectivo"])
    );
    assert_eq!(
        saved["signage"]["ticker"],
        serde_json::json!([{ "lang": "es", "text": "Bienvenidos a la Oficina Centro" }])
    );
    assert_eq!(saved["signage"]["playlists"][0]["items"][0]["slide"][0]["title"], "Turnos por internet");
    assert_eq!(saved["signage"]["schedules"][0]["playlist"], "avisos");
    assert_eq!(saved["signage"]["schedules"][0]["hours"], "08:00-12:00");
    central.stop().await;
}
