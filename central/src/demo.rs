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
        tls: None,
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
        bookings: BookingLimits::default(),
        heartbeat: Heartbeat::default(),
        demo_booking_seed: Some(BOOKING_SEED.into()),
    }
}
