//! An office's staff and kiosks managed through the configuration page, in a real headless
//! Chromium: a headquarters administrator adds a person, sees a refused password or username
//! explained beside its field (and nothing added), changes the person's role and removes the
//! person; adds a kiosk and sees its token once, which a reloaded page no longer shows. Each
//! change is in effect at once, apart from the configuration's Save.
//!
//! With `FILA_SCREENSHOTS` set, the tests leave headquarters-access-token.png.

mod browsers;
#[path = "../../central/tests/common/mod.rs"]
mod central;

use std::time::{Duration, Instant};

use browsers::{click, keep_screenshot, shown, text_when, type_into, PATIENCE, POLL};
use central::HQ_ADMIN;
use serde_json::Value;

const SCENARIO_LIMIT: Duration = Duration::from_secs(120);
const USERS: &str = "#access-users tbody";

/// Centro's staff and kiosks as the API lists them.
async fn access_of(base: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/v1/offices/centro/access"))
        .bearer_auth(HQ_ADMIN)
        .send()
        .await
        .expect("answered");
    assert!(response.status().is_success());
    response.json().await.expect("json")
}

async fn signed_in(client: &fantoccini::Client, page: &str, heading: &str) {
    client.goto(page).await.expect("the page loads");
    type_into(client, "#token", HQ_ADMIN).await;
    click(client, "#login-form button[type=submit]").await;
    text_when(client, "#heading", "the office's name", |t| t.contains(heading)).await;
}

/// Replaces what an input holds.
async fn retype(client: &fantoccini::Client, css: &str, text: &str) {
    shown(client, css).await.clear().await.unwrap_or_else(|error| panic!("clearing {css}: {error}"));
    type_into(client, css, text).await;
}

/// Clicks what asks for a confirmation, checks the question and accepts it.
async fn confirmed(client: &fantoccini::Client, css: &str, question: &str) {
    shown(client, css).await.click().await.unwrap_or_else(|error| panic!("clicking {css}: {error}"));
    let deadline = Instant::now() + PATIENCE;
    let text = loop {
        match client.get_alert_text().await {
            Ok(text) => break text,
            Err(error) => assert!(Instant::now() < deadline, "{css} asked nothing: {error}"),
        }
        tokio::time::sleep(POLL).await;
    };
    assert!(text.contains(question), "{css} asked {text:?}");
    client.accept_alert().await.expect("the question accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_adds_a_person_sees_refusals_beside_their_fields_changes_the_role_and_removes_the_person() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn_with_demo_office(dir.path()).await;

    let base = central.base.clone();
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        signed_in(&hq, &format!("{base}/dashboard/office/centro/config"), "Oficina Centro").await;
        text_when(&hq, "#access-card h2", "the section", |t| t == "Personal y terminales").await;
        text_when(&hq, USERS, "no staff yet", |t| t.contains("Todavía no hay personal")).await;
        // The roles offered are central's.
        let roles = hq
            .execute("return [...document.querySelectorAll('#access-role option')].map((o) => o.value);", vec![])
            .await
            .expect("the roles");
        assert_eq!(roles, serde_json::json!(fila_central::access::ROLES));

        type_into(&hq, "#access-username", "ana").await;
        type_into(&hq, "#access-name", "Ana Pérez").await;
        shown(&hq, "#access-role").await.select_by_value("supervisor").await.expect("a role chosen");
        type_into(&hq, "#access-password", "clave-de-ana").await;
        click(&hq, "#access-user-save").await;
        let row =
            text_when(&hq, "#access-users tr[data-user=\"ana\"]", "ana listed", |t| t.contains("Ana Pérez")).await;
        assert!(row.contains("Supervisor"), "{row}");
        text_when(&hq, "#access-result", "saved", |t| t.contains("Se guardó a ana")).await;
        let password = shown(&hq, "#access-password").await.prop("value").await.expect("value");
        assert_eq!(password.as_deref(), Some(""), "the password is not kept in the form");
        let listed = access_of(&base).await;
        assert_eq!(
            listed["users"],
            serde_json::json!([{ "username": "ana", "name": "Ana Pérez", "role": "supervisor" }])
        );

        // A password too short: refused beside the password, and no one added.
        type_into(&hq, "#access-username", "beto").await;
        type_into(&hq, "#access-name", "Beto Gómez").await;
        type_into(&hq, "#access-password", "12").await;
        click(&hq, "#access-user-save").await;
        text_when(&hq, "#access-user-form [data-err=\"password\"]", "the password's problem", |t| {
            t.contains("must be 4 to 128 characters")
        })
        .await;
        text_when(&hq, "#access-user-form [data-err=\"username\"]", "nothing on the username", str::is_empty).await;
        assert_eq!(access_of(&base).await["users"].as_array().map(Vec::len), Some(1));

        // A username with a space: refused beside the username; the password's problem is gone.
        retype(&hq, "#access-username", "beto gomez").await;
        retype(&hq, "#access-password", "clave-de-beto").await;
        click(&hq, "#access-user-save").await;
        text_when(&hq, "#access-user-form [data-err=\"username\"]", "the username's problem", |t| {
            t.contains("letters, digits")
        })
        .await;
        text_when(&hq, "#access-user-form [data-err=\"password\"]", "nothing on the password", str::is_empty).await;
        assert_eq!(access_of(&base).await["users"].as_array().map(Vec::len), Some(1));
        text_when(&hq, USERS, "only ana", |t| !t.contains("beto")).await;

        // Ana becomes an agent: her row into the form, a new password, and a replacement confirmed.
        click(&hq, "[data-edit-user=\"ana\"]").await;
        let username = shown(&hq, "#access-username").await.prop("value").await.expect("value");
        assert_eq!(username.as_deref(), Some("ana"));
        shown(&hq, "#access-role").await.select_by_value("agent").await.expect("a role chosen");
        type_into(&hq, "#access-password", "otra-clave").await;
        confirmed(&hq, "#access-user-save", "ana ya existe").await;
        text_when(&hq, "#access-users tr[data-user=\"ana\"]", "ana an agent", |t| t.contains("Agente")).await;
        text_when(&hq, "#access-user-form [data-err=\"username\"]", "nothing on the username", str::is_empty).await;
        let listed = access_of(&base).await;
        assert_eq!(listed["users"], serde_json::json!([{ "username": "ana", "name": "Ana Pérez", "role": "agent" }]));

        confirmed(&hq, "[data-remove-user=\"ana\"]", "¿Quitar a ana?").await;
        text_when(&hq, USERS, "no staff left", |t| t.contains("Todavía no hay personal")).await;
        text_when(&hq, "#access-result", "removed", |t| t.contains("Se quitó a ana")).await;
        assert_eq!(access_of(&base).await["users"], serde_json::json!([]));
    })
    .await
    .rethrow();
    central.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_adds_a_kiosk_and_sees_its_token_once_in_spanish_and_in_english() {
    if !browsers::browser_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let central = central::spawn_with_demo_office(dir.path()).await;

    let base = central.base.clone();
    browsers::run(SCENARIO_LIMIT, move |browsers| async move {
        let hq = browsers.open("headquarters").await;
        let page = format!("{base}/dashboard/office/centro/config");
        signed_in(&hq, &page, "Oficina Centro").await;
        text_when(&hq, "#access-kiosks", "no kiosks yet", |t| t.contains("Todavía no hay terminales")).await;

        type_into(&hq, "#access-kiosk", "entrada").await;
        click(&hq, "#access-kiosk-add").await;
        let token = text_when(&hq, "#access-token-value", "the new token", |t| t.len() == 64).await;
        text_when(&hq, "#access-token", "the note", |t| t.contains("no se volverá a mostrar")).await;
        text_when(&hq, "#access-token-for", "whose token", |t| t.contains("entrada")).await;
        text_when(&hq, "#access-kiosks [data-kiosk=\"entrada\"]", "the kiosk listed", |t| t.contains("entrada")).await;
        keep_screenshot(&hq, "headquarters-access-token").await;
        assert_eq!(access_of(&base).await["kiosks"], serde_json::json!(["entrada"]));
        // Only in the page: not in its address nor in the browser's storage.
        let url = hq.current_url().await.expect("the address");
        assert!(!url.as_str().contains(&token), "{url}");
        let stored = hq
            .execute("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage);", vec![])
            .await
            .expect("the storage");
        assert!(!stored.to_string().contains(&token), "the token was stored");

        // A reloaded page (signed in still, in this tab) lists the kiosk and no longer has its token.
        hq.goto(&page).await.expect("the page loads again");
        text_when(&hq, "#heading", "the office's name", |t| t.contains("Oficina Centro")).await;
        text_when(&hq, "#access-kiosks [data-kiosk=\"entrada\"]", "the kiosk listed", |t| t.contains("entrada")).await;
        assert!(!hq.source().await.expect("the page").contains(&token), "the token shown again");
        let hidden = hq.find(fantoccini::Locator::Css("#access-token")).await.expect("the token's box");
        assert!(!hidden.is_displayed().await.expect("shown or not"));

        // In English: a bad id refused beside it; a second kiosk's token, then its removal.
        hq.goto(&format!("{page}?lang=en")).await.expect("the page in English");
        text_when(&hq, "#heading", "the office's name", |t| t.contains("Configuration of Oficina Centro")).await;
        text_when(&hq, "#access-card h2", "the section", |t| t == "Staff and kiosks").await;
        type_into(&hq, "#access-kiosk", "sala 2").await;
        click(&hq, "#access-kiosk-add").await;
        text_when(&hq, "#access-kiosk-form [data-err=\"id\"]", "the id's problem", |t| t.contains("letters, digits"))
            .await;
        assert_eq!(access_of(&base).await["kiosks"], serde_json::json!(["entrada"]));
        retype(&hq, "#access-kiosk", "sala-2").await;
        click(&hq, "#access-kiosk-add").await;
        let second = text_when(&hq, "#access-token-value", "the new token", |t| t.len() == 64).await;
        assert_ne!(second, token);
        text_when(&hq, "#access-token", "the note", |t| t.contains("it will not be shown again")).await;
        text_when(&hq, "#access-kiosk-form [data-err=\"id\"]", "no problem left", str::is_empty).await;
        assert_eq!(access_of(&base).await["kiosks"], serde_json::json!(["entrada", "sala-2"]));

        confirmed(&hq, "[data-remove-kiosk=\"sala-2\"]", "Remove kiosk sala-2?").await;
        text_when(&hq, "#access-result", "removed", |t| t.contains("Kiosk sala-2 was removed")).await;
        text_when(&hq, "#access-kiosks", "only entrada", |t| !t.contains("sala-2")).await;
        assert!(!hq.source().await.expect("the page").contains(&second), "a removed kiosk's token stays shown");
        assert_eq!(access_of(&base).await["kiosks"], serde_json::json!(["entrada"]));
    })
    .await
    .rethrow();
    central.stop().await;
}
