//! The edge's TOML configuration: raw values, then checked settings.
//!
//! One file holds everything an installer sets: `[server]` (listen address, data directory, and
//! optionally a certificate to serve the pages over HTTPS),
//! the office (`[office]`, `[rule]`, `[[services]]`, `[[categories]]`, `[[counters]]`, checked by
//! the core; `[server]` also sets `kiosk_issues_per_minute` (default 30), `kiosk_issue_burst`
//! (10) and `event_streams_max` (512)), `[[users]]` with argon2 password hashes and `[[kiosks]]` with SHA-256 hashes of
//! their device tokens, and `[devices]` (see `settings::devices`). Every problem is reported at once.
//!
//! A leaf: the types of every section live here or in `settings/`, and the modules that use them
//! import them from here, never the other way round (`tests/tidy.rs` holds the rule).

use std::net::SocketAddr;
use std::path::PathBuf;

use fila_protocol::config::{ConfigProblem, OfficeConfig, RawOfficeConfig};
use fila_protocol::limits;
use serde::{Deserialize, Serialize};

mod central;
pub mod devices;
pub mod notices;
mod role;
mod security;

pub use central::CentralSettings;
pub use devices::DeviceSettings;
use fila_tls::server::CertFiles;
pub use notices::{NoticeSettings, SmsRoute};
pub use role::Role;
pub use security::{LockoutPolicy, Rate, SecuritySettings};

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Where citizens reach this box, for tracking links; defaults to the listen address.
    pub public_url: Option<String>,
    pub cache_bytes: u64,
    /// Signage media's cache cap, and the rate its downloads may take.
    pub media_cache_bytes: u64,
    pub media_download_bytes_per_second: Option<u64>,
    /// Serve the pages and API over HTTPS with this certificate; plain HTTP on the LAN without.
    pub tls: Option<CertFiles>,
    pub office: OfficeConfig,
    pub users: Vec<UserSettings>,
    pub kiosks: Vec<KioskSettings>,
    /// The headquarters aggregator to sync with, if any.
    pub central: Option<CentralSettings>,
    /// Printers, counter displays, MQTT devices and spoken calls.
    pub devices: DeviceSettings,
    /// Sign-in lockouts, the kiosk ticket rate, the event stream's cap.
    pub security: SecuritySettings,
    /// Notices to citizens by SMS and e-mail; none without the section.
    pub notices: Option<NoticeSettings>,
    /// Not in the file: how often the box asks central for the staff and kiosks headquarters
    /// manages for it (tests shorten it).
    pub access_every: std::time::Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCentral {
    /// `ws://` or `wss://` address of central's sync endpoint.
    pub url: String,
    /// This office's branch token, as issued by headquarters.
    pub token: String,
    /// A CA to trust besides the system's, PEM (a ministry's own CA that signs central's
    /// certificate).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Where citizens reach central's pages (survey links in invitations), when it is not the
    /// sync address's own host (`wss://h/...` is `https://h`).
    #[serde(default)]
    pub citizen_url: Option<String>,
    /// Central's public key for booking passes, `ed25519:...` (`GET /api/v1/booking-key` at
    /// central shows it).
    #[serde(default)]
    pub booking_key: Option<String>,
    /// Other replicas of central (same scheme as `url`), tried in turn when the one in use
    /// cannot be reached.
    #[serde(default)]
    pub fallback_urls: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    #[serde(default = "default_listen")]
    pub listen: String,
    #[serde(default = "default_data")]
    pub data: PathBuf,
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default = "default_cache_mb")]
    pub cache_mb: u64,
    /// Tickets a kiosk may issue a minute, on average, and at once.
    #[serde(default)]
    pub kiosk_issues_per_minute: Option<u32>,
    #[serde(default)]
    pub kiosk_issue_burst: Option<u32>,
    /// Open connections to the public event stream (screens, consoles, tracking pages).
    #[serde(default)]
    pub event_streams_max: Option<usize>,
    /// The certificate chain (PEM) to serve HTTPS with; `tls_key` goes with it.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Signage media kept on the box, at most (least recently used out; scheduled items kept).
    #[serde(default = "default_media_cache_mb")]
    pub media_cache_mb: u64,
    /// The most signage downloads may take of the office's line, in kilobytes a second; none:
    /// no limit.
    #[serde(default)]
    pub media_download_kbps: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    pub username: String,
    pub name: String,
    pub role: Role,
    /// An argon2 PHC string (`fila-edge hash-password` makes one).
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskSettings {
    pub id: String,
    /// Hex SHA-256 of the device token (`fila-edge kiosk-token` makes a pair).
    pub token_sha256: String,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_data() -> PathBuf {
    PathBuf::from("/var/lib/fila")
}
fn default_cache_mb() -> u64 {
    16
}
fn default_media_cache_mb() -> u64 {
    4096
}

impl Settings {
    pub fn parse(text: &str) -> Result<Settings, Vec<ConfigProblem>> {
        let problem = |at: &str, text: String| ConfigProblem { at: at.into(), problem: text };
        let mut table: toml::Table = toml::from_str(text).map_err(|e| vec![problem("file", e.to_string())])?;
        let mut problems = Vec::new();

        let server: ServerSettings = match table.remove("server") {
            Some(value) => value.try_into().unwrap_or_else(|e: toml::de::Error| {
                problems.push(problem("server", e.message().to_string()));
                toml::from_str("").expect("defaults parse")
            }),
            None => toml::from_str("").expect("defaults parse"),
        };
        let users: Vec<UserSettings> = take_list(&mut table, "users", &mut problems);
        let kiosks: Vec<KioskSettings> = take_list(&mut table, "kiosks", &mut problems);
        let devices = table.remove("devices");
        let notices = table.remove("notices");
        let central: Option<RawCentral> = match table.remove("central") {
            None => None,
            Some(value) => value.try_into().map_or_else(
                |e: toml::de::Error| {
                    problems.push(problem("central", e.message().to_string()));
                    None
                },
                Some,
            ),
        };
        if let Some(central) = &central {
            check_central(central, &mut problems);
        }
        let tls = CertFiles::from_settings(server.tls_cert.clone(), server.tls_key.clone()).unwrap_or_else(|wrong| {
            problems.push(ConfigProblem { at: wrong.at.into(), problem: wrong.problem });
            None
        });

        let listen = server.listen.parse::<SocketAddr>().map_err(|_| {
            problem("server.listen", format!("{:?} is not an address like 127.0.0.1:8080", server.listen))
        });
        let listen = match listen {
            Ok(listen) => Some(listen),
            Err(p) => {
                problems.push(p);
                None
            }
        };
        if server.cache_mb == 0 || server.cache_mb > 4096 {
            problems.push(problem("server.cache_mb", "must be between 1 and 4096".into()));
        }
        let security = security_settings(&server, &mut problems);
        if server.media_cache_mb == 0 || server.media_cache_mb > 1 << 20 {
            problems.push(problem("server.media_cache_mb", "must be between 1 and 1048576".into()));
        }

        if users.len() > limits::USERS_MAX {
            problems.push(problem("users", format!("at most {} users", limits::USERS_MAX)));
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, user) in users.iter().enumerate() {
            let at = format!("users[{i}]");
            if !fila_protocol::ids::is_valid_id(&user.username) {
                problems.push(problem(&format!("{at}.username"), "must be 1-32 letters, digits, '-' or '_'".into()));
            }
            if !names.insert(user.username.clone()) {
                problems.push(problem(&format!("{at}.username"), format!("{:?} is defined twice", user.username)));
            }
            if user.role == Role::Kiosk {
                problems.push(problem(&format!("{at}.role"), "kiosks are [[kiosks]], not users".into()));
            }
            if argon2::PasswordHash::new(&user.password_hash).is_err() {
                problems.push(problem(
                    &format!("{at}.password_hash"),
                    "is not an argon2 hash; make one with `fila-edge hash-password`".into(),
                ));
            }
        }
        for (i, kiosk) in kiosks.iter().enumerate() {
            let at = format!("kiosks[{i}]");
            let hex_ok = kiosk.token_sha256.len() == 64 && kiosk.token_sha256.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok {
                problems.push(problem(&format!("{at}.token_sha256"), "must be 64 hex digits (SHA-256)".into()));
            }
        }

        let office = toml::Value::Table(table)
            .try_into::<RawOfficeConfig>()
            .map_err(|e| vec![problem("office", e.message().to_string())])
            .and_then(RawOfficeConfig::validate);
        let office = match office {
            Ok(office) => Some(office),
            Err(mut more) => {
                problems.append(&mut more);
                None
            }
        };

        let devices = match devices {
            Some(value) => DeviceSettings::parse(value, office.as_ref(), &mut problems),
            None => DeviceSettings::default(),
        };
        let notices = notices.and_then(|value| NoticeSettings::parse(value, devices.modem.is_some(), &mut problems));

        match (problems.is_empty(), listen, office) {
            (true, Some(listen), Some(office)) => Ok(Settings {
                listen,
                data_dir: server.data,
                public_url: server.public_url,
                cache_bytes: server.cache_mb << 20,
                media_cache_bytes: server.media_cache_mb << 20,
                media_download_bytes_per_second: server.media_download_kbps.map(|kbps| kbps * 1000),
                tls,
                office,
                users,
                kiosks,
                central: central.map(|c| CentralSettings {
                    booking_key: c
                        .booking_key
                        .as_deref()
                        .and_then(|k| fila_protocol::booking::code::parse_public_key(k).ok()),
                    url: c.url,
                    token: c.token,
                    ca_file: c.ca_file,
                    citizen_url: c.citizen_url,
                    fallback_urls: c.fallback_urls,
                }),
                devices,
                security,
                notices,
                access_every: std::time::Duration::from_secs(60),
            }),
            _ => Err(problems),
        }
    }
}

/// The `[server]` keys of the door guards, over the defaults.
fn security_settings(server: &ServerSettings, problems: &mut Vec<ConfigProblem>) -> SecuritySettings {
    let mut security = SecuritySettings::default();
    let mut check = |at: &str, value: Option<u64>, max: u64| -> Option<u64> {
        let value = value?;
        if value == 0 || value > max {
            problems.push(ConfigProblem { at: at.into(), problem: format!("must be between 1 and {max}") });
            return None;
        }
        Some(value)
    };
    // The ceilings are as high as the demo's own (benchmarks and load tests issue at a machine's
    // pace through one kiosk); a real office keeps the default.
    let per_minute = check("server.kiosk_issues_per_minute", server.kiosk_issues_per_minute.map(u64::from), 1_000_000);
    let burst = check("server.kiosk_issue_burst", server.kiosk_issue_burst.map(u64::from), 100_000);
    let streams = check("server.event_streams_max", server.event_streams_max.map(|n| n as u64), 100_000);
    if let Some(per_minute) = per_minute {
        security.kiosk_issues.per_minute = per_minute as u32;
    }
    if let Some(burst) = burst {
        security.kiosk_issues.burst = burst as u32;
    }
    if let Some(streams) = streams {
        security.event_streams_max = streams as usize;
    }
    security
}

impl Settings {
    /// What is allowed but worth a second look; `check-config` prints these and the daemon logs
    /// them at start.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(central) = &self.central {
            if central.is_unencrypted_over_a_network() {
                notes.push(format!(
                    "central.url {:?} is not encrypted: the branch token and every business day cross \
                     the network in clear; use wss:// (and ca_file for a ministry's own CA)",
                    central.url
                ));
            }
        }
        notes
    }
}

fn check_central(central: &RawCentral, problems: &mut Vec<ConfigProblem>) {
    let problem = |at: &str, text: String| ConfigProblem { at: at.into(), problem: text };
    let encrypted = central.url.starts_with("wss://");
    if !(central.url.starts_with("ws://") || encrypted) {
        problems.push(problem("central.url", "must be a ws:// or wss:// address".into()));
    }
    for (i, url) in central.fallback_urls.iter().enumerate() {
        // One TLS set-up serves every replica: the same scheme for all.
        if !url.starts_with(if encrypted { "wss://" } else { "ws://" }) {
            problems.push(problem(
                &format!("central.fallback_urls[{i}]"),
                "must be a ws:// or wss:// address with the same scheme as central.url".into(),
            ));
        }
    }
    if central.token.trim().is_empty() {
        problems.push(problem("central.token", "must not be empty".into()));
    }
    if let Some(url) = &central.citizen_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(char::is_whitespace) {
            problems.push(problem("central.citizen_url", "must be an http:// or https:// address".into()));
        }
    }
    if let Some(Err(error)) = central.booking_key.as_deref().map(fila_protocol::booking::code::parse_public_key) {
        problems.push(problem("central.booking_key", format!("{error}; central's GET /api/v1/booking-key shows it")));
    }
    if let Some(path) = &central.ca_file {
        // A CA file next to a ws:// address looks encrypted to whoever reads the file, and is not.
        if !encrypted {
            problems
                .push(problem("central.ca_file", "is only used with a wss:// url; change the url to wss://".into()));
        }
        if let Err(error) = fila_tls::client::read_ca_file(path) {
            problems.push(problem("central.ca_file", error.to_string()));
        }
    }
}

fn take_list<T: serde::de::DeserializeOwned>(
    table: &mut toml::Table,
    key: &str,
    problems: &mut Vec<ConfigProblem>,
) -> Vec<T> {
    match table.remove(key) {
        None => Vec::new(),
        Some(value) => value.try_into().unwrap_or_else(|e: toml::de::Error| {
            problems.push(ConfigProblem { at: key.into(), problem: e.message().to_string() });
            Vec::new()
        }),
    }
}
