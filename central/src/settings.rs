//! Central's TOML configuration: raw values, then checked settings.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:9090"
//! data = "/var/lib/fila-central"
//! cache_mb = 32
//! # HTTPS served by central itself (omit both behind a TLS-terminating reverse proxy);
//! # `systemctl reload fila-central` (SIGHUP) reads renewed files without a restart.
//! tls_cert = "/etc/fila/tls/fullchain.pem"
//! tls_key = "/etc/fila/tls/privkey.pem"
//!
//! [[offices]]            # one per branch office; its edge authenticates with the token
//! id = "centro"
//! name = "Oficina Centro"
//! token_sha256 = "<hex SHA-256 of the branch token>"
//!
//! supervisor_email = "jefatura.centro@example.gob"   # optional: low survey scores by e-mail
//!
//! [notices.smtp]         # optional: how central sends e-mail (fila_notify::email::SmtpSettings)
//! host = "smtp.example.gob"
//! security = "starttls"
//! from = "fila <avisos@example.gob>"
//!
//! [notices.sms_gateway]  # optional: an SMS provider's HTTP API (fila_notify::http_sms)
//! url = "https://sms.example.gob/v1/messages"
//! headers = { Authorization = "Bearer ..." }
//! body = '{"to": "{to}", "text": "{text}"}'
//!
//! [notices]
//! country_code = "54"    # optional: for mobile numbers citizens write without it
//! quiet_hours = "21:00-08:00"  # optional: reminders and offers wait for the morning (office's zone)
//! retention_days = 30    # contacts, sent messages and survey comments are deleted after this
//! per_contact_per_hour = 20    # messages to one contact in any hour; more wait
//!
//! [alerts]               # optional: thresholds of headquarters' alerts (crate::alerts::AlertsSection)
//! offline_minutes = 15
//! email = ["guardia@example.gob"]
//!
//! [[analysts]]           # bearer tokens for the headquarters read API
//! name = "Tablero nacional"
//! token_sha256 = "<hex SHA-256 of the analyst token>"
//! ```
//! Tokens are random (`fila-central token` makes one) and only their hashes are configured.
//! Every problem in a file is reported at once.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use fila_protocol::config::ConfigProblem;
use fila_protocol::ids::is_valid_id;
use fila_protocol::limits;
use fila_tls::server::CertFiles;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub cache_bytes: u64,
    /// Keep documents and records in this PostgreSQL database, which several centrals may
    /// share, instead of sled under `data_dir` (`fila-central migrate` prepares it).
    pub postgres: Option<String>,
    /// Serve HTTPS with this certificate and key; plain HTTP without (a reverse proxy's job).
    pub tls: Option<CertFiles>,
    /// Where citizens reach central; `http://<listen>` when not set.
    pub public_url: Option<String>,
    pub offices: Vec<OfficeSettings>,
    pub analysts: Vec<AnalystSettings>,
    /// How central sends e-mail; without it, it sends none.
    pub smtp: Option<fila_notify::email::SmtpSettings>,
    /// How central sends SMS (booking codes to a mobile); without it, citizens give an e-mail.
    pub sms_gateway: Option<fila_notify::http_sms::HttpGatewaySettings>,
    /// Digits put before a mobile number written without its country code; without it,
    /// citizens write the code (`+54 9 11 ...`).
    pub country_code: Option<String>,
    /// `[notices]`: quiet hours, retention and the per-contact limit.
    pub notice_rules: NoticeRules,
    /// `[bookings]`: the limits against hoarding and resale.
    pub bookings: BookingLimits,
    /// `[remote_joins]`: the limits on joining queues from home.
    pub remote_joins: RemoteJoinLimits,
    /// `[alerts]`: headquarters' alert thresholds and who hears of them.
    pub alerts: crate::alerts::AlertRules,
    /// Not in the file: tests shorten it to see silent connections dropped.
    pub heartbeat: Heartbeat,
    /// Not in the file: the caps on signage files (tests lower them to see a file refused).
    pub media_limits: fila_media::Limits,
    /// Not in the file: the demo's published booking secrets (a real central makes its own).
    pub demo_booking_seed: Option<String>,
    /// Not in the file: configurations to create for offices central has none for (the demo's
    /// office, so that citizens can book in the demo at once).
    pub seed_configs: Vec<fila_protocol::RawOfficeConfig>,
}

/// `[bookings]`: limits on what one person, contact or address may hold, so slots cannot be
/// hoarded or resold. Every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BookingLimits {
    /// Active (future, not cancelled) bookings one identity may hold for one service...
    pub per_identity_per_service: u32,
    /// ...and for all services.
    pub per_identity: u32,
    /// Active bookings made with one contact.
    pub per_contact: u32,
    /// Booking requests from one client address in an hour.
    pub per_address_per_hour: u32,
    /// Missed appointments in the last 90 days that suspend an identity's booking...
    pub no_shows_to_suspend: u32,
    /// ...for this many days after the last one.
    pub suspension_days: u32,
    /// How long a slot is held while the citizen enters the code sent to them.
    pub hold_minutes: u32,
    /// How long a slot offered to the first on a waiting list is held for them.
    pub waitlist_offer_minutes: u32,
    /// Wrong codes before the hold is dropped.
    pub code_attempts: u32,
    /// Reminders before an appointment, in hours (a reminder already past is not sent).
    pub reminder_hours: Vec<u32>,
}

impl Default for BookingLimits {
    fn default() -> Self {
        BookingLimits {
            per_identity_per_service: 1,
            per_identity: 3,
            per_contact: 3,
            per_address_per_hour: 20,
            no_shows_to_suspend: 3,
            suspension_days: 30,
            hold_minutes: 10,
            waitlist_offer_minutes: 60,
            code_attempts: 5,
            reminder_hours: vec![24, 2],
        }
    }
}

/// `[remote_joins]`: how often one contact or one address may join a queue from home, so
/// nobody fills a queue with tickets nobody will use. Every field has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemoteJoinLimits {
    /// Joins one contact may make in a day, across offices.
    pub per_contact_per_day: u32,
    /// Joins from one client address in an hour.
    pub per_address_per_hour: u32,
}

impl Default for RemoteJoinLimits {
    fn default() -> Self {
        RemoteJoinLimits { per_contact_per_day: 2, per_address_per_hour: 10 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeSettings {
    pub id: String,
    pub name: String,
    /// Hex SHA-256 of the office's branch token (lower case once checked).
    pub token_sha256: String,
    /// Where low survey scores with a comment are sent (the office's supervisors).
    #[serde(default)]
    pub supervisor_email: Option<String>,
}

/// `[notices]`: central's own sending.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticesSection {
    #[serde(default)]
    smtp: Option<fila_notify::email::SmtpSettings>,
    #[serde(default)]
    sms_gateway: Option<fila_notify::http_sms::HttpGatewaySettings>,
    #[serde(default)]
    country_code: Option<String>,
    #[serde(default)]
    quiet_hours: Option<String>,
    #[serde(default = "NoticeRules::default_retention_days")]
    retention_days: u32,
    #[serde(default = "NoticeRules::default_per_contact_per_hour")]
    per_contact_per_hour: u32,
}

impl Default for NoticesSection {
    fn default() -> Self {
        let rules = NoticeRules::default();
        NoticesSection {
            smtp: None,
            sms_gateway: None,
            country_code: None,
            quiet_hours: rules.quiet_hours,
            retention_days: rules.retention_days,
            per_contact_per_hour: rules.per_contact_per_hour,
        }
    }
}

/// How central's messages to citizens are paced and how long what they leave is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRules {
    /// A nightly window (`"21:00-08:00"`, in each office's zone) when reminders and waiting-list
    /// offers are held back; codes and confirmations, which the citizen is waiting for, are not.
    pub quiet_hours: Option<String>,
    /// Days after which contacts, finished messages and survey comments are deleted.
    pub retention_days: u32,
    pub per_contact_per_hour: u32,
}

impl NoticeRules {
    fn default_retention_days() -> u32 {
        30
    }
    fn default_per_contact_per_hour() -> u32 {
        // A booking alone brings a code, a confirmation and two reminders.
        20
    }

    /// The quiet-hours window in `zone`, when one is set (checked when the settings were read).
    pub fn quiet_hours_in(&self, zone: &jiff::tz::TimeZone) -> Option<fila_notify::outbox::QuietHours> {
        fila_notify::outbox::QuietHours::parse(self.quiet_hours.as_deref()?, zone.clone()).ok()
    }
}

impl Default for NoticeRules {
    fn default() -> Self {
        NoticeRules {
            quiet_hours: None,
            retention_days: Self::default_retention_days(),
            per_contact_per_hour: Self::default_per_contact_per_hour(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalystSettings {
    pub name: String,
    pub token_sha256: String,
    /// A headquarters administrator: may also set offices' configuration.
    #[serde(default)]
    pub can_configure: bool,
}

/// How central notices an edge that vanished without closing its socket (a cut link, a box
/// switched off): it pings every `ping_every` and drops a connection silent for `silent_max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    pub ping_every: Duration,
    pub silent_max: Duration,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat { ping_every: Duration::from_secs(20), silent_max: Duration::from_secs(60) }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerSettings {
    #[serde(default = "default_listen")]
    listen: String,
    #[serde(default = "default_data")]
    data: PathBuf,
    #[serde(default = "default_cache_mb")]
    cache_mb: u64,
    #[serde(default)]
    tls_cert: Option<PathBuf>,
    #[serde(default)]
    tls_key: Option<PathBuf>,
    /// Where citizens reach central (links in booking messages), e.g. https://citas.example.gob.
    #[serde(default)]
    public_url: Option<String>,
    /// A PostgreSQL database shared by every replica, e.g. postgres://fila@db.internal/fila.
    #[serde(default)]
    postgres: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: default_listen(),
            data: default_data(),
            cache_mb: default_cache_mb(),
            tls_cert: None,
            tls_key: None,
            public_url: None,
            postgres: None,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:9090".into()
}
fn default_data() -> PathBuf {
    PathBuf::from("/var/lib/fila-central")
}
fn default_cache_mb() -> u64 {
    32
}

/// Offices one central serves (a national network is 100-5,000).
pub const OFFICES_MAX: usize = 10_000;
pub const ANALYSTS_MAX: usize = 1_000;

impl Settings {
    pub fn parse(text: &str) -> Result<Settings, Vec<ConfigProblem>> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| vec![problem("file", e.to_string())])?;
        let mut problems = Vec::new();

        let server: ServerSettings = take(&mut table, "server", &mut problems).unwrap_or_default();
        let mut offices: Vec<OfficeSettings> = take(&mut table, "offices", &mut problems).unwrap_or_default();
        let mut analysts: Vec<AnalystSettings> = take(&mut table, "analysts", &mut problems).unwrap_or_default();
        let notices: NoticesSection = take(&mut table, "notices", &mut problems).unwrap_or_default();
        let bookings: BookingLimits = take(&mut table, "bookings", &mut problems).unwrap_or_default();
        let remote_joins: RemoteJoinLimits = take(&mut table, "remote_joins", &mut problems).unwrap_or_default();
        let alerts: crate::alerts::AlertsSection = take(&mut table, "alerts", &mut problems).unwrap_or_default();
        for key in table.keys() {
            problems.push(problem(
                key,
                "is not a section central knows ([server], [[offices]], [[analysts]], [notices], [bookings], \
                 [remote_joins], [alerts])"
                    .into(),
            ));
        }
        if let Some(smtp) = &notices.smtp {
            for p in smtp.check().err().unwrap_or_default() {
                problems.push(problem(&format!("notices.smtp.{}", p.at), p.problem));
            }
        }
        if let Some(gateway) = &notices.sms_gateway {
            for p in gateway.check().err().unwrap_or_default() {
                problems.push(problem(&format!("notices.sms_gateway.{}", p.at), p.problem));
            }
        }
        if let Some(code) = &notices.country_code {
            if code.is_empty() || code.len() > 3 || !code.chars().all(|c| c.is_ascii_digit()) {
                problems.push(problem("notices.country_code", "must be one to three digits, e.g. \"54\"".into()));
            }
        }
        if let Some(window) = &notices.quiet_hours {
            if let Err(why) = fila_notify::outbox::QuietHours::parse(window, jiff::tz::TimeZone::UTC) {
                problems.push(problem("notices.quiet_hours", why));
            }
        }
        if notices.retention_days == 0 || notices.retention_days > 3650 {
            problems.push(problem("notices.retention_days", "must be 1 to 3650 days".into()));
        }
        let alerts = alerts.check(notices.smtp.is_some()).unwrap_or_else(|found| {
            problems.extend(found);
            crate::alerts::AlertRules::default()
        });
        if notices.per_contact_per_hour == 0 {
            problems.push(problem("notices.per_contact_per_hour", "must be at least 1".into()));
        }

        let listen = server.listen.parse::<SocketAddr>();
        if listen.is_err() {
            problems
                .push(problem("server.listen", format!("{:?} is not an address like 127.0.0.1:9090", server.listen)));
        }
        if server.cache_mb == 0 || server.cache_mb > 4096 {
            problems.push(problem("server.cache_mb", "must be between 1 and 4096".into()));
        }

        if let Some(url) = &server.public_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
                problems.push(problem("server.public_url", "must be an http:// or https:// address".into()));
            }
        }
        if let Some(url) = &server.postgres {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                problems.push(problem("server.postgres", "must be a postgres:// address".into()));
            }
        }
        let tls = CertFiles::from_settings(server.tls_cert, server.tls_key).unwrap_or_else(|wrong| {
            problems.push(ConfigProblem { at: wrong.at.into(), problem: wrong.problem });
            None
        });

        if offices.len() > OFFICES_MAX {
            problems.push(problem("offices", format!("at most {OFFICES_MAX} offices")));
        }
        if analysts.len() > ANALYSTS_MAX {
            problems.push(problem("analysts", format!("at most {ANALYSTS_MAX} analysts")));
        }
        // A token hash that opens two doors would make one of them unreachable, or worse.
        let mut tokens = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for (i, office) in offices.iter_mut().enumerate() {
            let at = format!("offices[{i}]");
            if !is_valid_id(&office.id) {
                problems.push(problem(&format!("{at}.id"), "must be 1-32 letters, digits, '-' or '_'".into()));
            } else if !ids.insert(office.id.clone()) {
                problems.push(problem(&format!("{at}.id"), format!("{:?} is defined twice", office.id)));
            }
            check_name(&office.name, &format!("{at}.name"), &mut problems);
            check_token(&mut office.token_sha256, &format!("{at}.token_sha256"), &mut tokens, &mut problems);
            if let Some(email) = &office.supervisor_email {
                if fila_notify::contact::Contact::parse(email, "").map(|c| c.medium()).ok()
                    != Some(fila_notify::contact::Medium::Email)
                {
                    problems.push(problem(&format!("{at}.supervisor_email"), "is not an e-mail address".into()));
                } else if notices.smtp.is_none() {
                    problems.push(problem(
                        &format!("{at}.supervisor_email"),
                        "needs [notices.smtp], the server central sends e-mail through".into(),
                    ));
                }
            }
        }
        for (i, analyst) in analysts.iter_mut().enumerate() {
            let at = format!("analysts[{i}]");
            check_name(&analyst.name, &format!("{at}.name"), &mut problems);
            check_token(&mut analyst.token_sha256, &format!("{at}.token_sha256"), &mut tokens, &mut problems);
        }

        match listen {
            Ok(listen) if problems.is_empty() => Ok(Settings {
                listen,
                data_dir: server.data,
                cache_bytes: server.cache_mb << 20,
                postgres: server.postgres,
                tls,
                public_url: server.public_url.map(|url| url.trim_end_matches('/').to_string()),
                offices,
                analysts,
                smtp: notices.smtp,
                sms_gateway: notices.sms_gateway,
                country_code: notices.country_code,
                notice_rules: NoticeRules {
                    quiet_hours: notices.quiet_hours,
                    retention_days: notices.retention_days,
                    per_contact_per_hour: notices.per_contact_per_hour,
                },
                bookings,
                remote_joins,
                alerts,
                heartbeat: Heartbeat::default(),
                media_limits: fila_media::Limits::default(),
                demo_booking_seed: None,
                seed_configs: Vec::new(),
            }),
            _ => Err(problems),
        }
    }
}

fn problem(at: &str, text: String) -> ConfigProblem {
    ConfigProblem { at: at.into(), problem: text }
}

/// Take one section out of the file; a section that does not fit is a problem, not a stop.
fn take<T: serde::de::DeserializeOwned>(
    table: &mut toml::Table,
    key: &str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<T> {
    let value = table.remove(key)?;
    value.try_into().map_err(|e: toml::de::Error| problems.push(problem(key, e.message().to_string()))).ok()
}

fn check_name(name: &str, at: &str, problems: &mut Vec<ConfigProblem>) {
    if name.trim().is_empty() || name.chars().count() > limits::NAME_LEN_MAX {
        problems.push(problem(at, format!("must be 1-{} characters", limits::NAME_LEN_MAX)));
    }
}

fn check_token(hash: &mut str, at: &str, seen: &mut BTreeSet<String>, problems: &mut Vec<ConfigProblem>) {
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        problems
            .push(problem(at, "must be 64 hex digits (SHA-256 of the token; `fila-central token` makes one)".into()));
        return;
    }
    hash.make_ascii_lowercase();
    if !seen.insert(hash.to_string()) {
        problems.push(problem(at, "this token hash is already used by another office or analyst".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const HASH_B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    fn check(text: &str) -> Result<Settings, Vec<String>> {
        Settings::parse(text).map_err(|problems| problems.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn a_good_file_is_accepted_with_defaults_filled_in() {
        let settings = check(&format!(
            "[[offices]]\nid = \"centro\"\nname = \"Oficina Centro\"\ntoken_sha256 = \"{HASH_A}\"\n\
             [[analysts]]\nname = \"Tablero\"\ntoken_sha256 = \"{HASH_B}\"\n"
        ))
        .expect("valid");
        assert_eq!(settings.listen.to_string(), "127.0.0.1:9090");
        assert_eq!(settings.cache_bytes, 32 << 20);
        assert_eq!(settings.offices[0].id, "centro");
        assert_eq!(settings.analysts[0].token_sha256, HASH_B.to_lowercase(), "hashes are compared in lower case");
    }

    #[test]
    fn a_bad_file_lists_every_problem_at_once() {
        let text = format!(
            "[server]\nlisten = \"nowhere\"\ncache_mb = 0\n\
             [[offices]]\nid = \"centro\"\nname = \"Centro\"\ntoken_sha256 = \"{HASH_A}\"\n\
             [[offices]]\nid = \"centro\"\nname = \"Otra\"\ntoken_sha256 = \"abc\"\n\
             [[offices]]\nid = \"no/slash\"\nname = \"\"\ntoken_sha256 = \"{HASH_B}\"\n\
             [[analysts]]\nname = \"Tablero\"\ntoken_sha256 = \"{}\"\n\
             [extra]\nx = 1\n",
            HASH_A.to_uppercase()
        );
        let problems = check(&text).expect_err("many problems");
        let expected = [
            "server.listen: \"nowhere\" is not an address",
            "server.cache_mb: must be between 1 and 4096",
            "offices[1].id: \"centro\" is defined twice",
            "offices[1].token_sha256: must be 64 hex digits",
            "offices[2].id: must be 1-32 letters",
            "offices[2].name: must be 1-100 characters",
            "analysts[0].token_sha256: this token hash is already used",
            "extra: is not a section",
        ];
        for text in expected {
            assert!(problems.iter().any(|p| p.starts_with(text)), "missing {text:?} in {problems:#?}");
        }
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    }

    #[test]
    fn a_section_of_the_wrong_shape_is_reported_with_the_others() {
        let problems = check("[server]\nlisten = 5\n[[offices]]\nid = \"x\"\n").expect_err("two problems");
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].starts_with("server:"), "{problems:#?}");
        assert!(problems[1].starts_with("offices:") && problems[1].contains("name"), "{problems:#?}");
    }

    #[test]
    fn https_needs_both_a_certificate_and_a_key_that_can_be_read() {
        let problems = check("[server]\ntls_cert = \"/etc/fila/cert.pem\"\n").expect_err("no key");
        assert_eq!(problems, ["server.tls_key: is needed with tls_cert (the certificate's private key)"]);

        let problems = check("[server]\ntls_cert = \"/nowhere/cert.pem\"\ntls_key = \"/nowhere/key.pem\"\n")
            .expect_err("missing files");
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].starts_with("server.tls_cert: cannot read /nowhere/cert.pem"), "{problems:#?}");
    }

    #[test]
    fn central_paces_its_messages_as_configured_and_refuses_a_window_it_cannot_read() {
        let settings = check("[notices]\nquiet_hours = \"21:00-08:00\"\nretention_days = 7\n").expect("valid");
        assert_eq!(settings.notice_rules.retention_days, 7);
        assert_eq!(settings.notice_rules.per_contact_per_hour, 20, "the default");
        assert!(settings.notice_rules.quiet_hours_in(&jiff::tz::TimeZone::UTC).is_some());
        assert_eq!(check("").expect("valid").notice_rules, NoticeRules::default());

        let problems =
            check("[notices]\nquiet_hours = \"9pm\"\nretention_days = 0\nper_contact_per_hour = 0\n").expect_err("bad");
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].starts_with("notices.quiet_hours: \"9pm\" is not a window"), "{problems:#?}");
        assert!(problems[1].starts_with("notices.retention_days: must be 1 to 3650"), "{problems:#?}");
        assert!(problems[2].starts_with("notices.per_contact_per_hour: must be at least 1"), "{problems:#?}");
    }

    #[test]
    fn alert_thresholds_are_read_and_an_alert_address_needs_a_mail_server() {
        assert_eq!(check("").expect("valid").alerts, crate::alerts::AlertRules::default());
        let smtp =
            "[notices.smtp]\nhost = \"smtp.example.gob\"\nsecurity = \"starttls\"\nfrom = \"fila <a@example.gob>\"\n";
        let settings =
            check(&format!("{smtp}[alerts]\noffline_minutes = 5\nemail = [\"guardia@example.gob\"]\n")).expect("valid");
        assert_eq!(settings.alerts.offline, Duration::from_secs(300));
        assert_eq!(settings.alerts.email, ["guardia@example.gob"]);

        let problems = check("[alerts]\nemail = [\"guardia@example.gob\"]\nwait_above_target_minutes = 0\n")
            .expect_err("two problems");
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems.iter().any(|p| p.starts_with("alerts.email: needs [notices.smtp]")), "{problems:#?}");
        let problems = check("[alerts]\noffline_mins = 5\n").expect_err("unknown key");
        assert!(problems[0].starts_with("alerts:") && problems[0].contains("offline_mins"), "{problems:#?}");
    }

    #[test]
    fn text_that_is_not_toml_is_one_problem() {
        let problems = check("[server\n").expect_err("not toml");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("file:"));
    }
}
