//! The HTTP SMS gateway channel: one request per message to a provider's API, described in the
//! settings (URL, method, headers, body template) so that any provider fits without code.
//!
//! `{to}` and `{text}` are the only placeholders. Where they land decides their escaping: in
//! the URL they are percent-encoded; in a body they are escaped for its content type (JSON
//! string escaping, so the template writes `"{text}"` in quotes; form encoding; text/plain as
//! is). A 2xx is sent; a 4xx other than 401, 408 and 429 is permanent (the provider refuses
//! this number or text); anything else is transient, a 401 with a reason that asks for the
//! settings to be fixed (the key is wrong, not the message). Neither reasons nor logs carry the number, the
//! text, the URL as sent, or a header value (the provider's key).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use serde::Deserialize;

use crate::channel::SendError;
use crate::SettingProblem;

const TIMEOUT_SECONDS_DEFAULT: u64 = 15;
const TIMEOUT_SECONDS_MAX: u64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Method {
    #[serde(rename = "GET")]
    Get,
    #[default]
    #[serde(rename = "POST")]
    Post,
}

/// A gateway's section in a daemon's settings, e.g.
///
/// ```toml
/// url = "https://api.sms.example/v1/messages"
/// headers = { Authorization = "Bearer 6f1c..." }
/// body = '{"to": "{to}", "message": "{text}", "sender": "Oficina"}'
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpGatewaySettings {
    /// May hold `{to}` and `{text}`, e.g. `https://gw.example/send?to={to}&msg={text}`.
    pub url: String,
    #[serde(default)]
    pub method: Method,
    /// Sent with every request; values are secrets (API keys) and never shown.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The request body, with `{to}` and `{text}`; none for a GET.
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default = "content_type_default")]
    pub content_type: String,
    #[serde(default = "timeout_seconds_default")]
    pub timeout_seconds: u64,
    /// A CA to trust besides the system's roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn content_type_default() -> String {
    "application/json".into()
}

fn timeout_seconds_default() -> u64 {
    TIMEOUT_SECONDS_DEFAULT
}

// By hand: header values are keys, and a URL's query may hold one too.
impl fmt::Debug for HttpGatewaySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpGatewaySettings")
            .field("url", &without_query(&self.url))
            .field("method", &self.method)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body", &self.body)
            .field("content_type", &self.content_type)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

fn without_query(url: &str) -> String {
    match url.split_once('?') {
        Some((before, _)) => format!("{before}?<redacted>"),
        None => url.to_string(),
    }
}

impl HttpGatewaySettings {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds)
    }

    /// Every problem at once; reads `ca_file`.
    pub fn check(&self) -> Result<(), Vec<SettingProblem>> {
        let mut problems = Vec::new();
        let url = Template::parse(&self.url);
        let body = self.body.as_deref().map(Template::parse);
        for (at, template) in [("url", Some(&url)), ("body", body.as_ref())] {
            let Some(template) = template else { continue };
            for unknown in &template.unknown {
                problems.push(SettingProblem::new(
                    at,
                    format!("{{{unknown}}} is not a placeholder: use {{to}} and {{text}}"),
                ));
            }
        }
        match Url::parse(&url.render("0", "x", Escape::Url)) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {}
            Ok(_) => problems.push(SettingProblem::new("url", "must be an http:// or https:// URL")),
            Err(error) => problems.push(SettingProblem::new("url", format!("is not a URL: {error}"))),
        }
        for (placeholder, wanted) in [("{to}", Slot::To), ("{text}", Slot::Text)] {
            let used = url.uses(wanted) || body.as_ref().is_some_and(|body| body.uses(wanted));
            if !used {
                problems.push(SettingProblem::new(
                    if self.body.is_some() { "body" } else { "url" },
                    format!("{placeholder} appears neither in url nor in body: the gateway would not get it"),
                ));
            }
        }
        if self.method == Method::Get && self.body.is_some() {
            problems.push(SettingProblem::new("body", "a GET has no body: use POST, or put {to} and {text} in url"));
        }
        if Escape::for_content_type(&self.content_type).is_none() {
            problems.push(SettingProblem::new(
                "content_type",
                format!(
                    "{:?} is not one we can escape for: use application/json, \
                     application/x-www-form-urlencoded or text/plain",
                    self.content_type
                ),
            ));
        }
        for (name, value) in &self.headers {
            let at = format!("headers.{name}");
            match HeaderName::from_bytes(name.as_bytes()) {
                Ok(parsed) if parsed == CONTENT_TYPE => {
                    problems.push(SettingProblem::new(at.clone(), "set content_type instead"));
                }
                Ok(_) => {}
                Err(_) => problems.push(SettingProblem::new(at.clone(), "is not a valid header name")),
            }
            // The value is a secret: say what is wrong with it, never what it is.
            if HeaderValue::from_str(value).is_err() {
                problems.push(SettingProblem::new(at, "the value must be visible ASCII, without line breaks"));
            }
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

/// Why an [`HttpGateway`] cannot be made from its settings.
#[derive(Debug, thiserror::Error)]
pub enum HttpGatewayError {
    #[error("the SMS gateway settings are not usable: {}", crate::list(.0))]
    Settings(Vec<SettingProblem>),
    #[error("cannot set up TLS for the SMS gateway: {0}")]
    Tls(#[from] fila_tls::TlsError),
    #[error("cannot make the HTTP client for the SMS gateway: {0}")]
    Client(String),
}

/// Sends SMS through one provider's HTTP API.
pub struct HttpGateway {
    client: reqwest::Client,
    method: reqwest::Method,
    url: Template,
    headers: HeaderMap,
    body: Option<(Template, Escape, HeaderValue)>,
    timeout: Duration,
}

impl fmt::Debug for HttpGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpGateway").field("method", &self.method).finish_non_exhaustive()
    }
}

impl HttpGateway {
    pub fn new(settings: &HttpGatewaySettings) -> Result<HttpGateway, HttpGatewayError> {
        settings.check().map_err(HttpGatewayError::Settings)?;
        let not_checked = |at: &str| HttpGatewayError::Settings(vec![SettingProblem::new(at, "is not valid")]);
        let mut headers = HeaderMap::new();
        for (name, value) in &settings.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| not_checked("headers"))?;
            let mut value = HeaderValue::from_str(value).map_err(|_| not_checked("headers"))?;
            // Keeps it out of reqwest's own Debug output.
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let body = match &settings.body {
            None => None,
            Some(body) => {
                let escape =
                    Escape::for_content_type(&settings.content_type).ok_or_else(|| not_checked("content_type"))?;
                let content_type =
                    HeaderValue::from_str(&settings.content_type).map_err(|_| not_checked("content_type"))?;
                Some((Template::parse(body), escape, content_type))
            }
        };
        let tls = fila_tls::client::client_config(settings.ca_file.as_deref())?;
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(settings.timeout())
            .connect_timeout(settings.timeout())
            // A redirect would change a POST into a GET and is never what a provider's API
            // documents: it is reported instead (see `outcome`).
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| HttpGatewayError::Client(error.without_url().to_string()))?;
        let method = match settings.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        Ok(HttpGateway {
            client,
            method,
            url: Template::parse(&settings.url),
            headers,
            body,
            timeout: settings.timeout(),
        })
    }

    /// Sends `text` to the phone number `to` (as the provider wants it written, e.g. +34...).
    pub async fn send(&self, to: &str, text: &str) -> Result<(), SendError> {
        let url = Url::parse(&self.url.render(to, text, Escape::Url))
            .map_err(|_| SendError::Permanent("the gateway URL cannot be written with this number and text".into()))?;
        let mut request = self.client.request(self.method.clone(), url).headers(self.headers.clone());
        if let Some((template, escape, content_type)) = &self.body {
            request = request.header(CONTENT_TYPE, content_type.clone()).body(template.render(to, text, *escape));
        }
        let outcome = match request.send().await {
            Ok(response) => outcome(response.status()),
            Err(error) => Err(self.failure(error)),
        };
        if let Err(error) = &outcome {
            tracing::debug!(reason = error.reason(), "SMS not sent through the HTTP gateway");
        }
        outcome
    }

    fn failure(&self, error: reqwest::Error) -> SendError {
        // Without its URL, which holds the number and the text when they go in the query.
        let error = error.without_url();
        let causes = crate::causes(&error);
        let words = causes.last().map(ToString::to_string).unwrap_or_else(|| error.to_string());
        if error.is_timeout() {
            SendError::Transient(format!("the SMS gateway did not answer within {} s", self.timeout.as_secs()))
        } else if causes.iter().any(|cause| cause.downcast_ref::<fila_tls::rustls::Error>().is_some()) {
            SendError::Transient(format!("TLS with the SMS gateway failed: {words}"))
        } else if error.is_connect() {
            SendError::Transient(format!("cannot reach the SMS gateway: {words}"))
        } else {
            SendError::Transient(format!("the SMS gateway request failed: {words}"))
        }
    }
}

/// What the gateway's status means for the outbox.
fn outcome(status: StatusCode) -> Result<(), SendError> {
    let named = match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    if status.is_success() {
        Ok(())
    } else if status == StatusCode::UNAUTHORIZED {
        // Our key, not this message: the outbox keeps the notice until someone fixes it.
        Err(SendError::Transient(format!(
            "the SMS gateway refused our credentials ({named}): fix its headers or url in the settings"
        )))
    } else if status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS {
        Err(SendError::Transient(format!("the SMS gateway is busy ({named})")))
    } else if status.is_client_error() {
        Err(SendError::Permanent(format!("the SMS gateway refused the message ({named})")))
    } else if status.is_redirection() {
        Err(SendError::Transient(format!("the SMS gateway redirects ({named}): fix its url in the settings")))
    } else {
        Err(SendError::Transient(format!("the SMS gateway failed ({named})")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    To,
    Text,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Slot(Slot),
}

/// A URL or body with `{to}` and `{text}` in it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    pieces: Vec<Piece>,
    /// `{name}`s that look like placeholders but are none of ours (a typo like `{telefono}`).
    unknown: Vec<String>,
}

impl Template {
    fn parse(source: &str) -> Template {
        let mut pieces = Vec::new();
        let mut unknown = Vec::new();
        let mut literal = String::new();
        let mut rest = source;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            let (name, tail) = after.split_at(name_end);
            // Only `{identifier}` is a placeholder; JSON's own braces (`{"to": ...}`) are text.
            let is_placeholder = tail.starts_with('}') && name.starts_with(|c: char| c.is_ascii_alphabetic());
            if !is_placeholder {
                literal.push('{');
                rest = after;
                continue;
            }
            match name {
                "to" | "text" => {
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Slot(if name == "to" { Slot::To } else { Slot::Text }));
                }
                _ => {
                    unknown.push(name.to_string());
                    literal.push_str(&format!("{{{name}}}"));
                }
            }
            rest = &tail[1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Template { pieces, unknown }
    }

    fn uses(&self, slot: Slot) -> bool {
        self.pieces.contains(&Piece::Slot(slot))
    }

    fn render(&self, to: &str, text: &str, escape: Escape) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(literal) => out.push_str(literal),
                Piece::Slot(Slot::To) => out.push_str(&escape.apply(to)),
                Piece::Slot(Slot::Text) => out.push_str(&escape.apply(text)),
            }
        }
        out
    }
}

/// How a value is written where its placeholder stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// Percent-encoding of everything but RFC 3986's unreserved characters, so a value can
    /// neither end a query parameter (`&`, `#`) nor be read as a space (`+`).
    Url,
    /// The inside of a JSON string: the template supplies the quotes.
    Json,
    /// application/x-www-form-urlencoded.
    Form,
    /// text/plain: as it is.
    None,
}

const URL_COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

impl Escape {
    fn for_content_type(content_type: &str) -> Option<Escape> {
        let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Some(Escape::Json),
            _ if essence.starts_with("application/") && essence.ends_with("+json") => Some(Escape::Json),
            "application/x-www-form-urlencoded" => Some(Escape::Form),
            "text/plain" => Some(Escape::None),
            _ => None,
        }
    }

    fn apply(self, value: &str) -> String {
        match self {
            Escape::Url => percent_encoding::utf8_percent_encode(value, URL_COMPONENT).to_string(),
            Escape::Json => {
                let quoted = serde_json::Value::String(value.to_string()).to_string();
                quoted[1..quoted.len() - 1].to_string()
            }
            Escape::Form => form_urlencoded::byte_serialize(value.as_bytes()).collect(),
            Escape::None => value.to_string(),
        }
    }
}

impl crate::channel::Channel for HttpGateway {
    fn medium(&self) -> crate::contact::Medium {
        crate::contact::Medium::Sms
    }

    fn send<'a>(
        &'a self,
        to: &'a crate::contact::Contact,
        message: &'a crate::template::Rendered,
    ) -> crate::channel::Sending<'a> {
        Box::pin(HttpGateway::send(self, to.expose(), &message.text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> HttpGatewaySettings {
        toml::from_str(toml_text).expect("settings")
    }

    fn check(toml_text: &str) -> Vec<String> {
        match settings(toml_text).check() {
            Ok(()) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_json_provider_needs_only_url_headers_and_body() {
        let gateway = settings(
            r#"url = "https://api.sms.example/v1/messages"
               headers = { Authorization = "Bearer 6f1c" }
               body = '{"to": "{to}", "message": "{text}", "sender": "Oficina"}'"#,
        );
        assert_eq!(gateway.check(), Ok(()));
        assert_eq!(gateway.method, Method::Post);
        assert_eq!(gateway.content_type, "application/json");
        assert_eq!(gateway.timeout(), Duration::from_secs(15));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let problems = check(
            r#"url = "ftp://gw.example/send?to={telefono}"
               method = "GET"
               headers = { "Bad Name" = "x", "X-Key" = "line\nbreak", "Content-Type" = "text/plain" }
               body = "{text}"
               content_type = "application/xml"
               timeout_seconds = 0"#,
        );
        assert_eq!(
            problems,
            [
                "url: {telefono} is not a placeholder: use {to} and {text}",
                "url: must be an http:// or https:// URL",
                "body: {to} appears neither in url nor in body: the gateway would not get it",
                "body: a GET has no body: use POST, or put {to} and {text} in url",
                "content_type: \"application/xml\" is not one we can escape for: use application/json, \
                 application/x-www-form-urlencoded or text/plain",
                "headers.Bad Name: is not a valid header name",
                "headers.Content-Type: set content_type instead",
                "headers.X-Key: the value must be visible ASCII, without line breaks",
                "timeout_seconds: must be between 1 and 600",
            ]
        );
    }

    #[test]
    fn a_url_that_is_no_url_is_named() {
        let problems = check("url = \"not a url {to} {text}\"");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("url: is not a URL"), "{problems:?}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let error = toml::from_str::<HttpGatewaySettings>("url = \"https://a.es/{to}/{text}\"\nmetod = \"GET\"")
            .expect_err("unknown field");
        assert!(error.to_string().contains("metod"), "{error}");
    }

    #[test]
    fn debug_shows_header_names_but_no_values_and_no_query() {
        let gateway = settings(
            r#"url = "https://gw.example/send?key=k3y-s3cr3ta&to={to}&text={text}"
               method = "GET"
               headers = { Authorization = "Bearer t0k3n-s3cr3t0" }"#,
        );
        let shown = format!("{gateway:?}");
        assert!(shown.contains("Authorization"), "{shown}");
        for secret in ["t0k3n-s3cr3t0", "k3y-s3cr3ta"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn json_escaping_keeps_quotes_backslashes_newlines_and_accents_inside_the_string() {
        let template = Template::parse(r#"{"to": "{to}", "text": "{text}"}"#);
        let text = "Dijo \"ya voy\"\\ después\nño";
        let rendered = template.render("+34600111222", text, Escape::Json);
        let parsed: serde_json::Value = serde_json::from_str(&rendered).expect("valid JSON");
        assert_eq!(parsed["text"], text);
        assert_eq!(parsed["to"], "+34600111222");
    }

    #[test]
    fn form_and_url_escaping_keep_a_plus_and_an_ampersand_from_changing_the_meaning() {
        assert_eq!(Escape::Form.apply("+34 600&x=1"), "%2B34+600%26x%3D1");
        assert_eq!(Escape::Url.apply("+34 600&x=1/ñ"), "%2B34%20600%26x%3D1%2F%C3%B1");
        assert_eq!(Escape::None.apply("a&b \"c\""), "a&b \"c\"");
    }

    #[test]
    fn only_to_and_text_are_placeholders_and_json_braces_stay_text() {
        let template = Template::parse(r#"{"a": {}, "b": "{to}", "c": "{x}", "d": "{{text}}", "e": "{1}"}"#);
        assert_eq!(template.unknown, ["x"]);
        assert_eq!(
            template.render("T", "X", Escape::None),
            r#"{"a": {}, "b": "T", "c": "{x}", "d": "{X}", "e": "{1}"}"#
        );
        assert!(template.uses(Slot::To) && template.uses(Slot::Text));
        let unclosed = Template::parse("{to");
        assert_eq!(unclosed.render("T", "X", Escape::None), "{to");
    }

    #[test]
    fn the_content_type_decides_the_escaping() {
        assert_eq!(Escape::for_content_type("application/json; charset=utf-8"), Some(Escape::Json));
        assert_eq!(Escape::for_content_type("application/vnd.provider+json"), Some(Escape::Json));
        assert_eq!(Escape::for_content_type("Application/X-WWW-Form-Urlencoded"), Some(Escape::Form));
        assert_eq!(Escape::for_content_type("text/plain;charset=UTF-8"), Some(Escape::None));
        assert_eq!(Escape::for_content_type("text/xml"), None);
    }

    #[test]
    fn statuses_decide_permanent_or_transient_and_are_named() {
        assert_eq!(outcome(StatusCode::OK), Ok(()));
        assert_eq!(outcome(StatusCode::ACCEPTED), Ok(()));
        let refused = outcome(StatusCode::BAD_REQUEST).expect_err("400");
        assert_eq!(refused, SendError::Permanent("the SMS gateway refused the message (400 Bad Request)".into()));
        assert!(outcome(StatusCode::FORBIDDEN).expect_err("403").is_permanent());
        let key = outcome(StatusCode::UNAUTHORIZED).expect_err("401");
        assert!(!key.is_permanent() && key.reason().contains("fix its headers"), "{key}");
        for transient in [StatusCode::REQUEST_TIMEOUT, StatusCode::TOO_MANY_REQUESTS, StatusCode::SERVICE_UNAVAILABLE] {
            assert!(!outcome(transient).expect_err("transient").is_permanent(), "{transient}");
        }
        assert!(!outcome(StatusCode::FOUND).expect_err("302").is_permanent());
    }

    proptest::proptest! {
        #[test]
        fn any_template_parses_and_writes_back_as_it_was(source in "[{}a-z\"_ 0-9]{0,40}") {
            let template = Template::parse(&source);
            proptest::prop_assert_eq!(template.render("{to}", "{text}", Escape::None), source);
        }

        #[test]
        fn any_text_survives_each_escaping(text in "\\PC{0,40}") {
            let json = Template::parse(r#"{"text": "{text}"}"#).render("", &text, Escape::Json);
            let parsed: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            proptest::prop_assert_eq!(parsed["text"].as_str(), Some(text.as_str()));

            let form = format!("text={}", Escape::Form.apply(&text));
            let fields: Vec<(String, String)> = form_urlencoded::parse(form.as_bytes()).into_owned().collect();
            proptest::prop_assert_eq!(fields, vec![("text".to_string(), text.clone())]);

            let url = Escape::Url.apply(&text);
            proptest::prop_assert!(url.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            let decoded = percent_encoding::percent_decode_str(&url).decode_utf8().expect("UTF-8");
            proptest::prop_assert_eq!(decoded, text.as_str());
        }
    }
}
