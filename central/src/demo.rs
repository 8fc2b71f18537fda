//! The built-in demo headquarters: what `fila-central demo` runs. Its offices match the edge's
//! demo, so `fila-edge demo` next to it syncs with `ws://127.0.0.1:9090/api/v1/sync` and
//! [`BRANCH_TOKEN`] out of the box.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::auth::sha256_hex;
use crate::settings::{AnalystSettings, BookingLimits, Heartbeat, OfficeSettings, Settings};

/// The branch token of the demo office `centro` (the edge demo's office).
pub const BRANCH_TOKEN: &str = "demo-branch-token";
/// The branch token of the second demo office, `norte`.
pub const BRANCH_TOKEN_NORTE: &str = "demo-branch-token-norte";
/// The demo analyst's bearer token for the headquarters read API.
pub const HQ_TOKEN: &str = "demo-hq-token";
/// The demo's headquarters administrator token: reads like an analyst, and sets configuration.
pub const HQ_ADMIN_TOKEN: &str = "demo-hq-admin-token";

/// (id, name, branch token)
pub const OFFICES: [(&str, &str, &str); 2] =
    [("centro", "Oficina Centro", BRANCH_TOKEN), ("norte", "Oficina Norte", BRANCH_TOKEN_NORTE)];

pub const ANALYST: &str = "Demo analyst";

/// The seed of the demo's booking secrets: published, so `fila-edge demo` checks the demo's
/// booking passes without being configured. A real central makes random ones.
pub const BOOKING_SEED: &str = fila_protocol::booking::code::DEMO_SEED;

pub fn settings(listen: SocketAddr, data_dir: PathBuf) -> Settings {
    Settings {
        listen,
        data_dir,
        cache_bytes: 32 << 20,
        postgres: None,
        tls: None,
        public_url: None,
        offices: OFFICES
            .iter()
            .map(|(id, name, token)| OfficeSettings {
                id: id.to_string(),
                name: name.to_string(),
                token_sha256: sha256_hex(token),
                supervisor_email: None,
            })
            .collect(),
        analysts: vec![
            AnalystSettings { name: ANALYST.into(), token_sha256: sha256_hex(HQ_TOKEN), can_configure: false },
            AnalystSettings {
                name: "Demo administrator".into(),
                token_sha256: sha256_hex(HQ_ADMIN_TOKEN),
                can_configure: true,
            },
        ],
        smtp: None,
        sms_gateway: None,
        country_code: Some("54".into()),
        notice_rules: crate::settings::NoticeRules::default(),
        media_limits: fila_media::Limits::default(),
        bookings: BookingLimits::default(),
        remote_joins: crate::settings::RemoteJoinLimits::default(),
        alerts: crate::alerts::AlertRules::default(),
        heartbeat: Heartbeat::default(),
        demo_booking_seed: Some(BOOKING_SEED.into()),
        seed_configs: Vec::new(),
    }
}

/// The demo office's configuration, the same file `fila-edge demo` runs (hours, a bookable
/// service): `fila-central demo` sets it for `centro` when it has none, so booking works at once.
pub fn office_configs() -> Vec<fila_protocol::RawOfficeConfig> {
    const CENTRO: &str = include_str!("../../edge/demo/office.toml");
    // The file is checked by the edge's tests; a broken one leaves the demo without bookings.
    toml::from_str(CENTRO).map(|config| vec![config]).unwrap_or_default()
}

/// The demo's e-mail goes to an SMTP server on `address` (host:port, plain, no login).
pub fn smtp(address: &str) -> anyhow::Result<fila_notify::email::SmtpSettings> {
    let (host, port) = address.rsplit_once(':').ok_or_else(|| anyhow::anyhow!("--smtp is host:port"))?;
    let text = format!("host = {host:?}\nport = {port}\nsecurity = \"none\"\nfrom = \"fila <citas@fila.invalid>\"\n");
    let smtp: fila_notify::email::SmtpSettings =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("--smtp {address}: {}", e.message()))?;
    if let Err(problems) = smtp.check() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::bail!("--smtp {address}: {}", list.join("; "));
    }
    Ok(smtp)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_office_is_bookable_from_the_start() {
        let configs = super::office_configs();
        assert_eq!(configs.len(), 1, "the edge's demo file reads as a configuration");
        let config = configs[0].clone().validate().expect("and is valid");
        assert!(config.services.iter().any(|s| s.booking.is_some()), "with a bookable service");
    }
}
