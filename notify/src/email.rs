//! The e-mail channel: plain-text UTF-8 messages through the office's or ministry's SMTP
//! server (lettre over tokio, TLS by rustls with the ring provider).
//!
//! What the outbox hears back: a recipient or message the server refuses with 5xx is
//! permanent; anything that may pass later (no server, a timeout, a failed TLS handshake, a
//! 4xx) is transient, and so is a refused login, whose reason says to fix the settings, because
//! the citizen's message itself is fine. No reason and no log line holds the recipient's
//! address: the server's own words are dropped, only its reply code is kept.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use crate::channel::SendError;
use crate::SettingProblem;

const TIMEOUT_SECONDS_DEFAULT: u64 = 30;
const TIMEOUT_SECONDS_MAX: u64 = 600;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP, for a relay on the same host or a trusted network (port 25).
    None,
    /// Plain connection upgraded with STARTTLS before anything else is said (port 587); a
    /// server that does not offer it is not talked to.
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl Security {
    fn default_port(self) -> u16 {
        match self {
            Security::None => 25,
            Security::Starttls => 587,
            Security::Tls => 465,
        }
    }
}

/// The `[smtp]`-like section a daemon embeds in its settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    /// Defaults by `security`: 25, 587 or 465.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender, a mailbox: `"Oficina Centro <avisos@example.org>"` or a bare address.
    pub from: String,
    /// A CA to trust besides the system's roots (a ministry's own).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default = "timeout_seconds_default")]
    pub timeout_seconds: u64,
}

fn timeout_seconds_default() -> u64 {
    TIMEOUT_SECONDS_DEFAULT
}

// By hand so that the password never reaches a log or a panic message.
impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("ca_file", &self.ca_file)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

impl SmtpSettings {
    /// The port to dial: the one given, or the usual one for `security`.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.security.default_port())
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    /// Every problem at once, in the words of someone editing the file; reads `ca_file`.
    pub fn check(&self) -> Result<(), Vec<SettingProblem>> {
        let mut problems = Vec::new();
        let host = self.host.trim();
        if host.is_empty() || host != self.host || host.contains(|c: char| c.is_whitespace() || c == '/') {
            problems.push(SettingProblem::new("host", "must be a host name or an IP address, without spaces"));
        }
        if self.port == Some(0) {
            problems.push(SettingProblem::new("port", "must be between 1 and 65535"));
        }
        if let Err(error) = Mailbox::from_str(&self.from) {
            problems.push(SettingProblem::new(
                "from",
                format!("{:?} is not a mailbox like \"Oficina <avisos@example.org>\": {error}", self.from),
            ));
        }
        match (&self.username, &self.password) {
            (Some(_), None) => problems.push(SettingProblem::new("password", "is missing: username is set")),
            (None, Some(_)) => problems.push(SettingProblem::new("username", "is missing: password is set")),
            (Some(username), Some(_)) if username.is_empty() => {
                problems.push(SettingProblem::new("username", "must not be empty"))
            }
            _ => {}
        }
        if self.username.is_some() && self.security == Security::None && !is_loopback(host) {
            problems.push(SettingProblem::new(
                "security",
                "\"none\" would send the password in clear to another host: use \"starttls\" or \"tls\"",
            ));
        }
        if let Some(path) = &self.ca_file {
            if let Err(error) = fila_tls::client::read_ca_file(path) {
                problems.push(SettingProblem::new("ca_file", error.to_string()));
            }
        }
        if !(1..=TIMEOUT_SECONDS_MAX).contains(&self.timeout_seconds) {
            problems
                .push(SettingProblem::new("timeout_seconds", format!("must be between 1 and {TIMEOUT_SECONDS_MAX}")));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why a [`Mailer`] cannot be made from its settings.
#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("the SMTP settings are not usable: {}", crate::list(.0))]
    Settings(Vec<SettingProblem>),
    #[error("cannot set up TLS for the SMTP server: {0}")]
    Tls(String),
}

/// One notice by e-mail. `Debug` leaves the address out.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// A link that unsubscribes with one click (`https://...`), or a `mailto:`.
    pub unsubscribe: Option<String>,
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("to", &"<redacted>")
            .field("subject", &self.subject)
            .field("text", &self.text)
            .field("unsubscribe", &self.unsubscribe)
            .finish()
    }
}

/// Sends [`Email`]s through one SMTP server; a connection per message, so a server restart
/// between two notices is never noticed.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, EmailError> {
        settings.check().map_err(EmailError::Settings)?;
        let from = Mailbox::from_str(&settings.from)
            .map_err(|error| EmailError::Settings(vec![SettingProblem::new("from", error.to_string())]))?;
        let tls = match settings.security {
            Security::None => Tls::None,
            Security::Starttls => Tls::Required(tls_parameters(settings)?),
            Security::Tls => Tls::Wrapper(tls_parameters(settings)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            .port(settings.port())
            .tls(tls)
            .timeout(Some(settings.timeout()));
        if let (Some(username), Some(password)) = (&settings.username, &settings.password) {
            builder = builder
                .credentials(Credentials::new(username.clone(), password.clone()))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(Mailer { transport: builder.build(), from, timeout: settings.timeout() })
    }

    /// Sends one message; see the module doc for what is permanent.
    pub async fn send(&self, email: &Email) -> Result<(), SendError> {
        let message = self.message(email)?;
        // lettre bounds each step with the timeout; this bounds the whole conversation, so a
        // server that trickles its answers cannot hold a notice for long.
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => {
                let failure = Failure::of(&error, email.to.is_ascii(), self.timeout);
                let outcome = failure.into_send_error();
                tracing::debug!(reason = outcome.reason(), "e-mail not sent");
                Err(outcome)
            }
            Err(_) => Err(Failure::Timeout(self.timeout).into_send_error()),
        }
    }

    /// The message as it goes on the wire; a `to` or an unsubscribe link that cannot be
    /// written is permanent (trying again writes the same).
    fn message(&self, email: &Email) -> Result<Message, SendError> {
        let to = Address::from_str(email.to.trim())
            .map_err(|_| SendError::Permanent("the e-mail address is not valid".into()))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(email.subject.as_str())
            .message_id(None)
            .date_now()
            .header(ContentType::TEXT_PLAIN);
        if let Some(link) = &email.unsubscribe {
            for (name, value) in unsubscribe_headers(link)? {
                builder = builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str(name), value));
            }
        }
        builder
            .body(email.text.clone())
            .map_err(|error| SendError::Permanent(format!("the message cannot be written: {error}")))
    }
}

fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters, EmailError> {
    // lettre takes no rustls ClientConfig of ours, so the same trust is rebuilt here: the
    // system's roots (lettre's `rustls-native-certs`, as fila-tls loads them) plus the CA
    // file read by fila-tls. Its provider is ring, as we never install a process default.
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(path) = &settings.ca_file {
        let certificates = fila_tls::client::read_ca_file(path).map_err(|error| EmailError::Tls(error.to_string()))?;
        for certificate in certificates {
            let certificate =
                Certificate::from_der(certificate.to_vec()).map_err(|error| EmailError::Tls(error.to_string()))?;
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build_rustls().map_err(|error| EmailError::Tls(error.to_string()))
}

/// `List-Unsubscribe`, and for an `https` link the RFC 8058 one-click marker that mail
/// providers look for before they show their own "unsubscribe" button.
fn unsubscribe_headers(link: &str) -> Result<Vec<(&'static str, String)>, SendError> {
    let usable = ["https://", "http://", "mailto:"].iter().any(|scheme| link.starts_with(scheme))
        && link.chars().all(|c| c.is_ascii_graphic() && c != '<' && c != '>');
    if !usable {
        return Err(SendError::Permanent("the unsubscribe link is not an https:, http: or mailto: URL".into()));
    }
    let mut headers = vec![("List-Unsubscribe", format!("<{link}>"))];
    if link.starts_with("https://") {
        headers.push(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".to_string()));
    }
    Ok(headers)
}

/// What went wrong, in the terms that decide permanent or transient; built from lettre's
/// error without the server's text (which may quote the address).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// A negative reply: its code and, when the server gave one, its enhanced status (5.1.1).
    Reply {
        code: u16,
        enhanced: Option<String>,
    },
    Timeout(Duration),
    Tls(String),
    Unreachable(String),
    NoAuthMechanism,
    NonAsciiAddress,
    Other(String),
}

impl Failure {
    fn of(error: &lettre::transport::smtp::Error, address_is_ascii: bool, timeout: Duration) -> Failure {
        if let Some(code) = error.status() {
            let code = code.to_string().parse().unwrap_or(0);
            let enhanced = std::error::Error::source(error).and_then(|text| enhanced_status(&text.to_string()));
            return Failure::Reply { code, enhanced };
        }
        if error.is_timeout() {
            return Failure::Timeout(timeout);
        }
        // Other errors carry lettre's or the system's words (never the server's text for these
        // kinds); the innermost cause is the one that helps whoever reads the log.
        let causes = crate::causes(error);
        let words = causes.last().map(ToString::to_string).unwrap_or_else(|| error.to_string());
        let tls = causes.iter().any(|cause| cause.downcast_ref::<fila_tls::rustls::Error>().is_some());
        // lettre refuses to go on without the STARTTLS we require as a client error.
        let no_starttls = error.is_client() && words.contains("STARTTLS");
        if error.is_tls() || tls || no_starttls {
            Failure::Tls(words)
        } else if error.is_client() && !address_is_ascii {
            Failure::NonAsciiAddress
        } else if error.is_client() && words.contains("authentication mechanism") {
            Failure::NoAuthMechanism
        } else if error.is_client() || error.is_response() {
            Failure::Other(words)
        } else {
            Failure::Unreachable(words)
        }
    }

    fn into_send_error(self) -> SendError {
        match self {
            Failure::Reply { code, enhanced } => {
                let code_text = match enhanced {
                    Some(enhanced) => format!("{code} {enhanced}"),
                    None => code.to_string(),
                };
                if is_authentication_code(code) {
                    SendError::Transient(format!(
                        "the mail server refused authentication ({code_text}): fix the SMTP username, password \
                         or security in the settings"
                    ))
                } else if (500..600).contains(&code) {
                    SendError::Permanent(format!("the mail server refused the recipient or the message ({code_text})"))
                } else {
                    SendError::Transient(format!("the mail server deferred the message ({code_text})"))
                }
            }
            Failure::Timeout(after) => {
                SendError::Transient(format!("the mail server did not answer within {} s", after.as_secs()))
            }
            Failure::Tls(words) => SendError::Transient(format!("TLS with the mail server failed: {words}")),
            Failure::Unreachable(words) => SendError::Transient(format!("cannot reach the mail server: {words}")),
            Failure::NoAuthMechanism => SendError::Transient(
                "the mail server offers no login we can use (PLAIN or LOGIN; some offer it only over TLS): fix the \
                 SMTP security or authentication in the settings"
                    .into(),
            ),
            Failure::NonAsciiAddress => {
                SendError::Permanent("the mail server cannot take an address with non-ASCII letters".into())
            }
            Failure::Other(words) => SendError::Transient(format!("the mail server conversation failed: {words}")),
        }
    }
}

/// 530 authentication required, 534 mechanism too weak, 535 credentials invalid, 538
/// encryption required for the mechanism (RFC 4954).
fn is_authentication_code(code: u16) -> bool {
    matches!(code, 530 | 534 | 535 | 538)
}

/// The RFC 3463 enhanced status code that opens a reply's text (`5.1.1 <...>: unknown`), and
/// nothing else of that text.
fn enhanced_status(text: &str) -> Option<String> {
    let first = text.split_whitespace().next()?;
    let mut parts = first.split('.');
    let class = parts.next()?;
    let subject = parts.next()?;
    let detail = parts.next()?;
    let digits =
        |part: &str, max: usize| !part.is_empty() && part.len() <= max && part.bytes().all(|b| b.is_ascii_digit());
    let well_formed =
        matches!(class, "2" | "4" | "5") && digits(subject, 3) && digits(detail, 3) && parts.next().is_none();
    well_formed.then(|| first.to_string())
}

impl crate::channel::Channel for Mailer {
    fn medium(&self) -> crate::contact::Medium {
        crate::contact::Medium::Email
    }

    fn send<'a>(
        &'a self,
        to: &'a crate::contact::Contact,
        message: &'a crate::template::Rendered,
    ) -> crate::channel::Sending<'a> {
        Box::pin(async move {
            let email = Email {
                to: to.expose().to_string(),
                subject: message.subject.clone(),
                text: message.text.clone(),
                unsubscribe: message.opt_out_link.clone(),
            };
            Mailer::send(self, &email).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> SmtpSettings {
        toml::from_str(toml_text).expect("settings")
    }

    fn check(toml_text: &str) -> Vec<String> {
        match settings(toml_text).check() {
            Ok(()) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_plain_submission_account_needs_only_host_and_sender() {
        let smtp = settings(
            r#"host = "smtp.example.org"
               from = "Oficina Centro <avisos@example.org>""#,
        );
        assert_eq!(smtp.check(), Ok(()));
        assert_eq!(smtp.security, Security::Starttls);
        assert_eq!(smtp.port(), 587);
        assert_eq!(smtp.timeout(), Duration::from_secs(30));
    }

    #[test]
    fn the_port_follows_the_security_unless_given() {
        let port = |extra: &str| settings(&format!("host = \"h\"\nfrom = \"a@b.es\"\n{extra}")).port();
        assert_eq!(port("security = \"none\""), 25);
        assert_eq!(port("security = \"starttls\""), 587);
        assert_eq!(port("security = \"tls\""), 465);
        assert_eq!(port("security = \"tls\"\nport = 2465"), 2465);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = check(
            r#"host = ""
               port = 0
               from = "avisos at example.org"
               username = "avisos"
               timeout_seconds = 0"#,
        );
        let at: Vec<&str> = problems.iter().map(|p| p.split(':').next().unwrap_or("")).collect();
        assert_eq!(at, ["host", "port", "from", "password", "timeout_seconds"], "{problems:#?}");
    }

    #[test]
    fn a_password_without_a_username_is_a_problem() {
        assert_eq!(
            check("host = \"h\"\nfrom = \"a@b.es\"\npassword = \"x\""),
            ["username: is missing: password is set"]
        );
    }

    #[test]
    fn a_password_in_clear_is_refused_except_to_this_host() {
        let base = "from = \"a@b.es\"\nusername = \"u\"\npassword = \"p\"\nsecurity = \"none\"";
        let problems = check(&format!("host = \"smtp.example.org\"\n{base}"));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("security: "), "{problems:?}");
        assert_eq!(check(&format!("host = \"127.0.0.1\"\n{base}")), Vec::<String>::new());
        assert_eq!(check(&format!("host = \"localhost\"\n{base}")), Vec::<String>::new());
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let problems = check("host = \"h\"\nfrom = \"a@b.es\"\nca_file = \"/nonexistent/ca.pem\"");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("ca_file: cannot read /nonexistent/ca.pem"), "{problems:?}");
    }

    #[test]
    fn unknown_fields_and_securities_are_refused() {
        let unknown = toml::from_str::<SmtpSettings>("host = \"h\"\nfrom = \"a@b.es\"\npasword = \"x\"");
        assert!(unknown.expect_err("unknown").to_string().contains("pasword"));
        let security = toml::from_str::<SmtpSettings>("host = \"h\"\nfrom = \"a@b.es\"\nsecurity = \"ssl\"");
        assert!(security.is_err());
    }

    #[test]
    fn debug_never_shows_the_password() {
        let smtp = settings("host = \"h\"\nfrom = \"a@b.es\"\nusername = \"u\"\npassword = \"s3cr3t-clave\"");
        let shown = format!("{smtp:?}");
        assert!(!shown.contains("s3cr3t-clave"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn debug_of_an_email_never_shows_the_address() {
        let email = Email {
            to: "maria@example.org".into(),
            subject: "Su turno".into(),
            text: "A-023".into(),
            unsubscribe: None,
        };
        assert!(!format!("{email:?}").contains("maria"));
    }

    fn mailer() -> Mailer {
        Mailer::new(&settings(
            "host = \"127.0.0.1\"\nfrom = \"Oficina Centro <avisos@example.org>\"\nsecurity = \"none\"",
        ))
        .expect("mailer")
    }

    #[test]
    fn an_invalid_recipient_is_permanent_and_not_quoted() {
        let email = Email { to: "maria(at)example".into(), subject: "s".into(), text: "t".into(), unsubscribe: None };
        let error = mailer().message(&email).expect_err("invalid");
        assert!(error.is_permanent());
        assert!(!error.reason().contains("maria"), "{error}");
    }

    #[test]
    fn the_message_is_utf8_plain_text_with_its_headers() {
        let email = Email {
            to: "maria@example.org".into(),
            subject: "Su turno está cerca".into(),
            text: "Número A-023, ventanilla 4. ¡Gracias!".into(),
            unsubscribe: Some("https://avisos.example.org/baja/abc".into()),
        };
        let formatted = String::from_utf8(mailer().message(&email).expect("message").formatted()).expect("ASCII");
        for header in [
            "Content-Type: text/plain; charset=utf-8",
            "List-Unsubscribe: <https://avisos.example.org/baja/abc>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Message-ID: <",
            "Date: ",
            "From: \"Oficina Centro\" <avisos@example.org>",
        ] {
            assert!(formatted.contains(header), "{header} missing in\n{formatted}");
        }
    }

    #[test]
    fn an_unsubscribe_link_that_could_break_the_header_is_refused() {
        for bad in ["javascript:alert(1)", "https://a.es/x>\r\nBcc: b@c.es", "https://a.es/ñ", "https://a b"] {
            let error = unsubscribe_headers(bad).expect_err(bad);
            assert!(error.is_permanent(), "{bad}");
        }
        let mailto = unsubscribe_headers("mailto:baja@example.org").expect("mailto");
        assert_eq!(mailto, [("List-Unsubscribe", "<mailto:baja@example.org>".to_string())]);
    }

    fn reply(code: u16, enhanced: Option<&str>) -> SendError {
        Failure::Reply { code, enhanced: enhanced.map(String::from) }.into_send_error()
    }

    #[test]
    fn a_refused_recipient_is_permanent_and_a_deferred_one_transient() {
        let refused = reply(550, Some("5.1.1"));
        assert!(refused.is_permanent());
        assert_eq!(refused.reason(), "the mail server refused the recipient or the message (550 5.1.1)");
        let greylisted = reply(451, Some("4.7.1"));
        assert!(!greylisted.is_permanent());
        assert_eq!(greylisted.reason(), "the mail server deferred the message (451 4.7.1)");
    }

    #[test]
    fn a_refused_login_is_transient_and_asks_for_the_settings_to_be_fixed() {
        for code in [530, 534, 535, 538] {
            let error = reply(code, None);
            assert!(!error.is_permanent(), "{code}");
            assert!(error.reason().contains("authentication"), "{error}");
            assert!(error.reason().contains("settings"), "{error}");
        }
    }

    #[test]
    fn only_an_enhanced_status_is_kept_from_the_servers_words() {
        assert_eq!(enhanced_status("5.1.1 <maria@example.org>: Recipient unknown"), Some("5.1.1".into()));
        assert_eq!(enhanced_status("4.7.0 greylisted"), Some("4.7.0".into()));
        assert_eq!(enhanced_status("<maria@example.org> unknown"), None);
        assert_eq!(enhanced_status("5.1.1.1 x"), None);
        assert_eq!(enhanced_status("maria.1.1 x"), None);
        assert_eq!(enhanced_status(""), None);
    }
}
