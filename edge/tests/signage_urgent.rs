//! The office's supervisor puts an urgent message on the office's screens and ends it; agents
//! cannot; what is not a message is refused and changes nothing.

mod common;

use common::spawn;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_supervisor_puts_an_urgent_message_on_the_screens_and_ends_it() {
    let dir = tempfile::tempdir().expect("dir");
    let edge = spawn(dir.path()).await;
    let (status, now) = edge.get("/api/v1/signage/now", None).await;
    assert_eq!((status, &now["urgent"]), (StatusCode::OK, &serde_json::Value::Null), "{now}");

    let sara = edge.login("sara").await;
    let body = json!({ "text": "La oficina cierra a las 12 hoy", "minutes": 90 });
    let (status, message) = edge.post("/api/v1/signage/urgent", Some(&sara), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    assert_eq!((&message["by"], &message["target"]), (&json!("sara"), &json!("office:centro")));
    let (_, now) = edge.get("/api/v1/signage/now", None).await;
    assert_eq!(now["urgent"]["text"], "La oficina cierra a las 12 hoy", "{now}");

    // Agents do not; nonsense is refused and changes nothing.
    let ana = edge.login("ana").await;
    assert_eq!(edge.post("/api/v1/signage/urgent", Some(&ana), body).await.0, StatusCode::FORBIDDEN);
    for bad in [
        json!({ "text": "Cierra", "minutes": 0 }),
        json!({ "text": "Cierra", "minutes": 100000 }),
        json!({ "text": "una\nlínea\u{7}", "minutes": 10 }),
        json!({ "text": "   ", "minutes": 10 }),
        json!({ "text": "x".repeat(501), "minutes": 10 }),
        json!({ "text": "Closes", "minutes": 10, "lang": "fr" }),
    ] {
        let (status, refused) = edge.post("/api/v1/signage/urgent", Some(&sara), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {refused}");
    }

    // Ended early: the screens are back to their playlist.
    let id = message["id"].as_str().expect("id");
    let ended = edge.client.delete(format!("{}/api/v1/signage/urgent/{id}", edge.base)).bearer_auth(&sara).send().await;
    assert_eq!(ended.expect("answered").status(), StatusCode::NO_CONTENT);
    let (_, now) = edge.get("/api/v1/signage/now", None).await;
    assert_eq!(now["urgent"], serde_json::Value::Null, "{now}");
    let unknown =
        edge.client.delete(format!("{}/api/v1/signage/urgent/nope", edge.base)).bearer_auth(&sara).send().await;
    assert_eq!(unknown.expect("answered").status(), StatusCode::NOT_FOUND);
    edge.stop().await;
}
