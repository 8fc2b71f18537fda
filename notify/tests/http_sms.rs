//! The HTTP SMS gateway against a stub provider on loopback that records every request: what
//! each kind of provider receives, and what the outbox is told when it refuses or is away.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fila_notify::channel::SendError;
use fila_notify::http_sms::{HttpGateway, HttpGatewaySettings};
use fila_notify::testing::sms_gateway::Stub;
use fila_tls::testing::TestPki;
use tokio::net::TcpListener;

const PHONE: &str = "+34600111222";
const KEY: &str = "Bearer clave-del-proveedor-9f2";
/// Quotes, a backslash, a newline, accents, and the characters that split forms and queries.
const TEXT: &str = "Su turno \"A-023\" llega: ventanilla 4\\B.\nAtención: ñandú & co = 100% +1";

fn gateway(toml_text: &str) -> HttpGateway {
    let settings: HttpGatewaySettings = toml::from_str(toml_text).expect("settings");
    HttpGateway::new(&settings).expect("gateway")
}

/// A JSON provider's settings, as an installer would write them, for `url`.
fn json_provider(url: &str, extra: &str) -> String {
    format!(
        "url = \"{url}\"\nheaders = {{ Authorization = \"{KEY}\" }}\n\
         body = '{{\"to\": \"{{to}}\", \"message\": \"{{text}}\", \"sender\": \"Oficina\"}}'\n{extra}"
    )
}

/// What a failure may say: never the number, the text or the key.
fn assert_names_no_contact(error: &SendError) {
    let shown = format!("{error} {error:?}");
    for secret in [PHONE, "600111222", "A-023", "clave-del-proveedor"] {
        assert!(!shown.contains(secret), "the reason holds {secret:?}: {shown}");
    }
}

#[tokio::test]
async fn a_json_provider_gets_valid_json_with_the_text_intact() {
    let stub = Stub::start(200).await;
    let url = format!("http://127.0.0.1:{}/v1/messages", stub.port);
    gateway(&json_provider(&url, "")).send(PHONE, TEXT).await.expect("sent");

    let request = stub.only_request();
    assert_eq!(request.method, "POST");
    assert_eq!(request.path(), "/v1/messages");
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert_eq!(request.header("Authorization"), Some(KEY));
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("the body is valid JSON");
    assert_eq!(body, serde_json::json!({"to": PHONE, "message": TEXT, "sender": "Oficina"}));
}

#[tokio::test]
async fn a_form_provider_gets_its_fields_form_encoded() {
    let stub = Stub::start(201).await;
    let settings = format!(
        "url = \"http://127.0.0.1:{}/api/send\"\ncontent_type = \"application/x-www-form-urlencoded\"\n\
         body = \"user=oficina&to={{to}}&text={{text}}\"",
        stub.port
    );
    gateway(&settings).send(PHONE, TEXT).await.expect("sent");

    let request = stub.only_request();
    assert_eq!(request.header("Content-Type"), Some("application/x-www-form-urlencoded"));
    let fields: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    let expected = [("user", "oficina"), ("to", PHONE), ("text", TEXT)];
    assert_eq!(fields, expected.map(|(name, value)| (name.to_string(), value.to_string())));
}

#[tokio::test]
async fn a_get_provider_gets_the_number_and_text_in_the_query() {
    let stub = Stub::start(200).await;
    let settings =
        format!("method = \"GET\"\nurl = \"http://127.0.0.1:{}/send?key=abc&to={{to}}&msg={{text}}\"", stub.port);
    gateway(&settings).send(PHONE, TEXT).await.expect("sent");

    let request = stub.only_request();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path(), "/send");
    let expected = [("key", "abc"), ("to", PHONE), ("msg", TEXT)];
    assert_eq!(request.query(), expected.map(|(name, value)| (name.to_string(), value.to_string())));
    assert!(request.body.is_empty());
}

#[tokio::test]
async fn a_refused_message_is_permanent_and_the_reason_names_the_status() {
    let stub = Stub::start(400).await;
    let url = format!("http://127.0.0.1:{}/v1/messages", stub.port);
    let error = gateway(&json_provider(&url, "")).send(PHONE, TEXT).await.expect_err("refused");
    assert_eq!(error, SendError::Permanent("the SMS gateway refused the message (400 Bad Request)".into()));
    assert_names_no_contact(&error);
}

#[tokio::test]
async fn an_unavailable_or_busy_gateway_is_transient() {
    for (status, named) in [(503, "503 Service Unavailable"), (429, "429 Too Many Requests")] {
        let stub = Stub::start(status).await;
        let url = format!("http://127.0.0.1:{}/v1/messages", stub.port);
        let error = gateway(&json_provider(&url, "")).send(PHONE, TEXT).await.expect_err("not sent");
        assert!(!error.is_permanent(), "{error}");
        assert!(error.reason().contains(named), "{error}");
        assert_names_no_contact(&error);
        assert_eq!(stub.requests().len(), 1, "one request, no retry of our own");
    }
}

#[tokio::test]
async fn nobody_listening_is_transient_at_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let url = format!("http://127.0.0.1:{port}/send?to={{to}}&msg={{text}}");
    let started = Instant::now();
    let error = gateway(&format!("method = \"GET\"\nurl = \"{url}\"")).send(PHONE, TEXT).await.expect_err("nobody");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(!error.is_permanent(), "{error}");
    assert!(error.reason().starts_with("cannot reach the SMS gateway"), "{error}");
    assert_names_no_contact(&error);
}

#[tokio::test]
async fn a_gateway_that_never_answers_is_transient_within_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let url = format!("http://127.0.0.1:{port}/v1/messages");
    let started = Instant::now();
    let error = gateway(&json_provider(&url, "timeout_seconds = 1")).send(PHONE, TEXT).await.expect_err("silence");
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert_eq!(error, SendError::Transient("the SMS gateway did not answer within 1 s".into()));
    silent.abort();
}

async fn https_stub(pki: &TestPki, status: u16) -> Stub {
    pki.issue();
    let certificate = fila_tls::server::ReloadingCert::load(pki.cert_files()).expect("certificate");
    let config = certificate.server_config().expect("server config");
    Stub::start_with(status, Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))).await
}

#[tokio::test]
async fn https_with_the_ministry_ca_delivers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = TestPki::new(dir.path());
    let stub = https_stub(&pki, 200).await;
    let url = format!("https://localhost:{}/v1/messages", stub.port);
    let settings = json_provider(&url, &format!("ca_file = {:?}", pki.ca_file()));
    gateway(&settings).send(PHONE, TEXT).await.expect("sent");
    let body: serde_json::Value = serde_json::from_slice(&stub.only_request().body).expect("JSON");
    assert_eq!(body["message"], TEXT);
}

#[tokio::test]
async fn https_to_a_certificate_nobody_trusts_is_transient_and_says_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pki = TestPki::new(dir.path());
    let stub = https_stub(&pki, 200).await;
    let url = format!("https://localhost:{}/v1/messages", stub.port);
    let error = gateway(&json_provider(&url, "")).send(PHONE, TEXT).await.expect_err("untrusted");
    assert!(!error.is_permanent(), "{error}");
    assert!(error.reason().starts_with("TLS with the SMS gateway failed"), "{error}");
    assert_names_no_contact(&error);
    assert!(stub.requests().is_empty());
}
