//! Central's OpenAPI document, over real HTTP: it is OpenAPI 3 with a bearer scheme, and it
//! documents every route of the `/api/v1` table in `src/http/mod.rs` with each of its methods, so
//! a route added without documentation fails here.

mod common;

use reqwest::StatusCode;
use serde_json::Value;

/// The route table, read as source: the routes themselves, not a list that could drift from them.
const ROUTE_TABLE: &str = include_str!("../src/http/mod.rs");
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Every `at("/...")` of the `web::scope("/api/v1")` block, prefixed with `/api/v1`, with the
/// methods routed on it.
fn api_v1_routes() -> Vec<(String, Vec<&'static str>)> {
    let scope = ROUTE_TABLE.find(r#"web::scope("/api/v1")"#).expect("the route table has an /api/v1 scope");
    // The block is the argument of the `.service(` the scope is built in: up to its closing
    // parenthesis, skipping strings and comments.
    let open = ROUTE_TABLE[..scope].rfind('(').expect("the scope is inside a call");
    let (mut depth, mut in_string, mut in_comment, mut end) = (0usize, false, false, None);
    let mut chars = ROUTE_TABLE[open..].char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match c {
            '\n' if in_comment => in_comment = false,
            _ if in_comment => {}
            '"' => in_string = !in_string,
            _ if in_string => {}
            '/' if chars.peek().is_some_and(|(_, next)| *next == '/') => in_comment = true,
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(open + index);
                    break;
                }
            }
            _ => {}
        }
    }
    let block = &ROUTE_TABLE[open..end.expect("the scope's call closes")];
    block
        .split(r#"at(""#)
        .skip(1)
        .map(|resource| {
            let path = resource.split('"').next().expect("a path literal");
            let methods = METHODS.into_iter().filter(|method| resource.contains(&format!("{method}().to("))).collect();
            (format!("/api/v1{path}"), methods)
        })
        .collect()
}

async fn document() -> Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = common::spawn(dir.path()).await;
    let (status, document) = central.get("/api/openapi.json", None).await;
    central.stop().await;
    assert_eq!(status, StatusCode::OK, "{document}");
    document
}

#[tokio::test]
async fn the_document_is_openapi_3_with_a_bearer_scheme() {
    let document = document().await;
    let version = document["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi: {version:?}");
    assert_eq!(document["info"]["title"], "fila central API");
    let bearer = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!((bearer["type"].as_str(), bearer["scheme"].as_str()), (Some("http"), Some("bearer")), "{bearer}");
    let error = &document["components"]["schemas"]["ErrorBody"];
    assert_eq!(error["required"], serde_json::json!(["error", "message"]), "{error}");

    // Offices' and headquarters' operations need their token; citizens' and monitoring's none.
    let paths = document["paths"].as_object().expect("paths");
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().expect("operations") {
            let tag = operation["tags"][0].as_str().unwrap_or_default();
            let secured = operation["security"]
                .as_array()
                .is_some_and(|security| security.iter().any(|requirement| requirement.get("bearer").is_some()));
            match tag {
                "branch" | "headquarters" => assert!(secured, "{method} {path} ({tag}) names no bearer token"),
                "public" | "operations" => assert!(!secured, "{method} {path} ({tag}) asks for a token"),
                _ => panic!("{method} {path} has tag {tag:?}, not public, branch, headquarters or operations"),
            }
        }
    }
}

#[tokio::test]
async fn every_route_is_documented_with_each_of_its_methods() {
    let routes = api_v1_routes();
    // The table was read, not an empty piece of it.
    for known in ["/api/v1/sync", "/api/v1/offices/{office}/config", "/api/v1/public/bookings"] {
        assert!(routes.iter().any(|(path, _)| path == known), "{known} not found in the route table: {routes:?}");
    }
    let document = document().await;
    let paths = document["paths"].as_object().expect("paths");
    let mut missing = Vec::new();
    for (path, methods) in &routes {
        assert!(!methods.is_empty(), "no method read for {path}");
        for method in methods {
            if paths.get(path).and_then(|operations| operations.get(*method)).is_none() {
                missing.push(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    for path in ["/healthz", "/metrics"] {
        if paths.get(path).and_then(|operations| operations.get("get")).is_none() {
            missing.push(format!("GET {path}"));
        }
    }
    assert!(missing.is_empty(), "routed but not in /api/openapi.json: {missing:#?}");

    // And nothing documented that is not routed.
    let routed = |path: &str| ["/healthz", "/metrics"].contains(&path) || routes.iter().any(|(p, _)| p == path);
    let stale: Vec<&String> = paths.keys().filter(|path| !routed(path)).collect();
    assert!(stale.is_empty(), "documented but not routed: {stale:?}");
}
