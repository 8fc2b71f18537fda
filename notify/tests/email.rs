//! The e-mail channel against a real SMTP server (aiosmtpd, started by each test on loopback):
//! what the citizen receives, and what the outbox is told when a message does not go.

use std::time::{Duration, Instant};

use fila_notify::channel::SendError;
use fila_notify::email::{Email, Mailer, SmtpSettings};
use fila_notify::testing::{Mode, SmtpServer, PASSWORD, USER};
use serde_json::Value;

const CITIZEN: &str = "maria.garcia@example.org";
const REFUSED: &str = "nadie.aqui@example.org";

fn start(mode: Mode, login: bool) -> Option<SmtpServer> {
    SmtpServer::start(mode, login, REFUSED)
}

fn settings(server: &SmtpServer, security: &str, extra: &str) -> SmtpSettings {
    toml::from_str(&server.settings_toml(security, extra)).expect("settings")
}

fn notice(to: &str) -> Email {
    Email {
        to: to.into(),
        subject: "Su turno está cerca: A-023".into(),
        text: "Hola, María:\nSu número A-023 será atendido en la ventanilla 4 en unos minutos.\n¿Ya no lo \
               necesita? Puede darse de baja.\n"
            .into(),
        unsubscribe: Some("https://oficina.example.org/avisos/baja/3f9a".into()),
    }
}

fn header<'a>(message: &'a Value, name: &str) -> Option<&'a str> {
    message["headers"]
        .as_array()?
        .iter()
        .find_map(|pair| (pair[0].as_str()?.eq_ignore_ascii_case(name)).then(|| pair[1].as_str()).flatten())
}

/// The text as a reader sees it; the line end that closes every message on the wire adds an
/// empty last line, which no reader shows.
fn text(message: &Value) -> &str {
    message["text"].as_str().expect("a text/plain body").trim_end()
}

/// What a failure may say: never the address, nor its local part.
fn assert_names_no_contact(error: &SendError, address: &str) {
    let local = address.split('@').next().expect("local part");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(local), "the reason names the contact: {shown}");
}

fn mailer(settings: &SmtpSettings) -> Mailer {
    Mailer::new(settings).expect("mailer")
}

#[tokio::test]
async fn a_notice_with_accents_arrives_intact_with_its_unsubscribe_link() {
    let Some(server) = start(Mode::Plain, false) else { return };
    let email = notice(CITIZEN);
    mailer(&settings(&server, "none", "")).send(&email).await.expect("sent");

    let received = server.received();
    assert_eq!(received.len(), 1);
    let message = &received[0];
    assert_eq!(message["rcpt_tos"], serde_json::json!([CITIZEN]));
    assert_eq!(message["mail_from"], "avisos@example.org");
    assert_eq!(message["subject"], email.subject.as_str());
    assert_eq!(text(message), email.text.trim_end());
    assert_eq!(message["content_type"], "text/plain");
    assert_eq!(message["charset"], "utf-8");
    assert_eq!(header(message, "From"), Some("Oficina Centro <avisos@example.org>"));
    assert_eq!(header(message, "List-Unsubscribe"), Some("<https://oficina.example.org/avisos/baja/3f9a>"));
    assert_eq!(header(message, "List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    assert!(header(message, "Message-ID").is_some_and(|id| id.starts_with('<') && id.ends_with('>')));
    assert!(header(message, "Date").is_some());
}

#[tokio::test]
async fn a_notice_without_an_unsubscribe_link_has_no_list_headers() {
    let Some(server) = start(Mode::Plain, false) else { return };
    let email = Email { unsubscribe: None, ..notice(CITIZEN) };
    mailer(&settings(&server, "none", "")).send(&email).await.expect("sent");
    let message = &server.received()[0];
    assert_eq!(header(message, "List-Unsubscribe"), None);
    assert_eq!(header(message, "List-Unsubscribe-Post"), None);
}

#[tokio::test]
async fn starttls_and_a_login_deliver() {
    let Some(server) = start(Mode::Starttls, true) else { return };
    let settings = settings(&server, "starttls", &format!("username = \"{USER}\"\npassword = \"{PASSWORD}\""));
    mailer(&settings).send(&notice(CITIZEN)).await.expect("sent");
    let message = &server.received()[0];
    assert_eq!(message["tls"], true);
    assert_eq!(message["authenticated"], true);
    assert_eq!(message["subject"], "Su turno está cerca: A-023");
}

#[tokio::test]
async fn implicit_tls_delivers() {
    let Some(server) = start(Mode::Tls, false) else { return };
    mailer(&settings(&server, "tls", "")).send(&notice(CITIZEN)).await.expect("sent");
    let message = &server.received()[0];
    assert_eq!(message["tls"], true);
    assert_eq!(text(message), notice(CITIZEN).text.trim_end());
}

#[tokio::test]
async fn a_wrong_password_is_transient_and_the_reason_says_to_fix_the_login() {
    let Some(server) = start(Mode::Starttls, true) else { return };
    let settings = settings(&server, "starttls", &format!("username = \"{USER}\"\npassword = \"clave-vieja\""));
    let error = mailer(&settings).send(&notice(CITIZEN)).await.expect_err("refused");
    assert!(!error.is_permanent(), "{error}");
    assert!(error.reason().contains("authentication"), "{error}");
    assert!(error.reason().contains("settings"), "{error}");
    assert!(!error.reason().contains("clave-vieja"), "{error}");
    assert_names_no_contact(&error, CITIZEN);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_refused_recipient_is_permanent_and_the_reason_does_not_name_it() {
    let Some(server) = start(Mode::Plain, false) else { return };
    let error = mailer(&settings(&server, "none", "")).send(&notice(REFUSED)).await.expect_err("refused");
    assert_eq!(error, SendError::Permanent("the mail server refused the recipient or the message (550 5.1.1)".into()));
    assert_names_no_contact(&error, REFUSED);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_certificate_from_an_unknown_ca_is_transient_and_nothing_is_sent() {
    let Some(server) = start(Mode::Starttls, false) else { return };
    let mut settings = settings(&server, "starttls", "");
    settings.ca_file = None;
    let error = mailer(&settings).send(&notice(CITIZEN)).await.expect_err("untrusted");
    assert!(!error.is_permanent(), "{error}");
    assert_eq!(error.reason(), "TLS with the mail server failed: invalid peer certificate: UnknownIssuer");
    assert_names_no_contact(&error, CITIZEN);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn a_server_without_starttls_is_not_sent_to_in_clear() {
    let Some(server) = start(Mode::Plain, false) else { return };
    let error = mailer(&settings(&server, "starttls", "")).send(&notice(CITIZEN)).await.expect_err("no STARTTLS");
    assert!(!error.is_permanent(), "{error}");
    assert_eq!(error.reason(), "TLS with the mail server failed: STARTTLS is not supported on this server");
    assert_names_no_contact(&error, CITIZEN);
    assert!(server.received().is_empty());
}

fn settings_for_port(port: u16, timeout_seconds: u64) -> SmtpSettings {
    toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"avisos@example.org\"\n\
         timeout_seconds = {timeout_seconds}"
    ))
    .expect("settings")
}

#[tokio::test]
async fn nobody_listening_is_transient_at_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let started = Instant::now();
    let error = mailer(&settings_for_port(port, 5)).send(&notice(CITIZEN)).await.expect_err("nobody there");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert!(!error.is_permanent(), "{error}");
    assert!(error.reason().starts_with("cannot reach the mail server: Connection refused"), "{error}");
    assert_names_no_contact(&error, CITIZEN);
}

#[tokio::test]
async fn a_server_that_never_answers_is_transient_within_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    // Accepts and keeps the connection, but never greets.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let started = Instant::now();
    let error = mailer(&settings_for_port(port, 1)).send(&notice(CITIZEN)).await.expect_err("silence");
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert!(!error.is_permanent(), "{error}");
    assert!(error.reason().contains("did not answer"), "{error}");
    assert_names_no_contact(&error, CITIZEN);
    silent.abort();
}
