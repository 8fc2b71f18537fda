//! The `[notices]` section: how the office reaches citizens who leave a contact.
//!
//! ```toml
//! [notices]
//! country_code = "34"          # put in front of national numbers typed at the kiosk
//! turn_near_ahead = 3          # "your turn is near" with this many people ahead or fewer,
//! turn_near_minutes = 10       # or an estimated wait this short
//! survey = true                # the survey invitation after finish,
//! survey_delay_seconds = 0     # this long after it (at most an hour)
//! retention_days = 30          # contacts and notices are deleted after this many days
//! per_contact_per_hour = 6     # messages to one contact in an hour; more wait
//! quiet_hours = "21:00-08:00"  # survey invitations finishing later wait for the morning
//! sms = "modem"                # "modem" (the [devices.modem]) or "gateway" ([notices.sms_gateway])
//!
//! [notices.smtp]               # e-mail (fila_notify::email::SmtpSettings)
//! host = "smtp.example.org"
//! security = "starttls"        # none, starttls or tls
//! username = "avisos"
//! password = "..."
//! from = "Oficina Centro <avisos@example.org>"
//!
//! [notices.sms_gateway]        # an SMS provider's HTTP API (fila_notify::http_sms)
//! url = "https://sms.example.com/v1/messages"
//! headers = { Authorization = "Bearer ..." }
//! body = '{"to": "{to}", "text": "{text}"}'
//! ```
//! Without the section the office sends nothing, and the kiosk asks for no contact.

use fila_notify::email::SmtpSettings;
use fila_notify::http_sms::HttpGatewaySettings;
use fila_protocol::config::ConfigProblem;
use serde::Deserialize;

/// Which channel sends SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsRoute {
    Modem,
    Gateway,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeSettings {
    #[serde(default = "default_country_code")]
    pub country_code: String,
    #[serde(default = "default_ahead")]
    pub turn_near_ahead: u32,
    #[serde(default = "default_minutes")]
    pub turn_near_minutes: u32,
    #[serde(default = "default_true")]
    pub survey: bool,
    #[serde(default)]
    pub survey_delay_seconds: u32,
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    #[serde(default = "default_per_contact_per_hour")]
    pub per_contact_per_hour: u32,
    /// A window in the office's time zone, "21:00-08:00": what can wait (survey invitations)
    /// waits until it ends. Calls and "your turn is near" never wait.
    #[serde(default)]
    pub quiet_hours: Option<String>,
    /// Chosen from what is configured when not said: the modem first (it works offline).
    #[serde(default)]
    pub sms: Option<SmsRoute>,
    #[serde(default)]
    pub smtp: Option<SmtpSettings>,
    #[serde(default)]
    pub sms_gateway: Option<HttpGatewaySettings>,
}

fn default_country_code() -> String {
    "34".into()
}
fn default_ahead() -> u32 {
    3
}
fn default_minutes() -> u32 {
    10
}
fn default_true() -> bool {
    true
}
fn default_retention_days() -> u32 {
    30
}
fn default_per_contact_per_hour() -> u32 {
    6
}

impl NoticeSettings {
    /// Reads the section; `modem` says whether `[devices]` has a modem. Every problem is added
    /// to `problems`.
    pub fn parse(value: toml::Value, modem: bool, problems: &mut Vec<ConfigProblem>) -> Option<NoticeSettings> {
        let mut problem = |at: &str, text: String| problems.push(ConfigProblem { at: at.into(), problem: text });
        let mut settings: NoticeSettings = match value.try_into() {
            Ok(settings) => settings,
            Err(e) => {
                let e: toml::de::Error = e;
                problem("notices", e.message().to_string());
                return None;
            }
        };
        let digits = settings.country_code.len();
        if !(1..=3).contains(&digits) || !settings.country_code.chars().all(|c| c.is_ascii_digit()) {
            problem("notices.country_code", "is 1 to 3 digits, without '+' (34 for Spain)".into());
        }
        if settings.survey_delay_seconds > 3600 {
            problem("notices.survey_delay_seconds", "at most 3600: the invitation goes within the hour".into());
        }
        if !(1..=3650).contains(&settings.retention_days) {
            problem("notices.retention_days", "must be between 1 and 3650".into());
        }
        if !(1..=100).contains(&settings.per_contact_per_hour) {
            problem("notices.per_contact_per_hour", "must be between 1 and 100".into());
        }
        if settings.turn_near_ahead > 100 || settings.turn_near_minutes > 240 {
            problem("notices.turn_near_ahead", "at most 100 people ahead and 240 minutes".into());
        }
        if let Some(window) = &settings.quiet_hours {
            if let Err(why) = fila_notify::outbox::QuietHours::parse(window, jiff::tz::TimeZone::UTC) {
                problem("notices.quiet_hours", why);
            }
        }
        if let Some(smtp) = &settings.smtp {
            for p in smtp.check().err().unwrap_or_default() {
                problem(&format!("notices.smtp.{}", p.at), p.problem);
            }
        }
        if let Some(gateway) = &settings.sms_gateway {
            for p in gateway.check().err().unwrap_or_default() {
                problem(&format!("notices.sms_gateway.{}", p.at), p.problem);
            }
        }
        match settings.sms {
            Some(SmsRoute::Modem) if !modem => {
                problem("notices.sms", "\"modem\" needs a [devices.modem]".into());
            }
            Some(SmsRoute::Gateway) if settings.sms_gateway.is_none() => {
                problem("notices.sms", "\"gateway\" needs a [notices.sms_gateway]".into());
            }
            Some(_) => {}
            None if modem => settings.sms = Some(SmsRoute::Modem),
            None if settings.sms_gateway.is_some() => settings.sms = Some(SmsRoute::Gateway),
            None => {}
        }
        Some(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, modem: bool) -> (Option<NoticeSettings>, Vec<String>) {
        let mut problems = Vec::new();
        let value: toml::Value = toml::from_str(text).expect("toml");
        let settings = NoticeSettings::parse(value, modem, &mut problems);
        (settings, problems.into_iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn an_empty_section_has_sensible_defaults_and_no_channel() {
        let (settings, problems) = parse("", false);
        let settings = settings.expect("parsed");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!((settings.turn_near_ahead, settings.retention_days, settings.survey), (3, 30, true));
        assert_eq!(settings.sms, None);
    }

    #[test]
    fn the_modem_is_chosen_for_sms_when_there_is_one() {
        let (settings, _) = parse("", true);
        assert_eq!(settings.expect("parsed").sms, Some(SmsRoute::Modem));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let text = "country_code = \"+34\"\nretention_days = 0\nsms = \"gateway\"\nquiet_hours = \"9pm\"\n\
                    [smtp]\nhost = \"\"\nfrom = \"not an address\"\n";
        let (_, problems) = parse(text, false);
        let all = problems.join("\n");
        let fields = [
            "notices.country_code",
            "notices.retention_days",
            "notices.sms",
            "notices.quiet_hours",
            "notices.smtp.from",
        ];
        for field in fields {
            assert!(all.contains(field), "{field} missing in:\n{all}");
        }
    }

    #[test]
    fn a_modem_route_without_a_modem_is_refused() {
        let (_, problems) = parse("sms = \"modem\"", false);
        assert_eq!(problems, ["notices.sms: \"modem\" needs a [devices.modem]"]);
    }
}
