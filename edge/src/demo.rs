//! The built-in demo office: what `fila-edge demo` runs, so a newcomer sees the whole product
//! with one command. Its users and kiosk token are documented in README.md.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::auth::{hash_password, sha256_hex, Role};
use crate::settings::{KioskSettings, Settings, UserSettings};

/// The demo kiosk's device token (a real office gets random ones: `fila-edge kiosk-token`).
pub const KIOSK_TOKEN: &str = "demo-kiosk-token";

/// (username, name, role, password)
pub const USERS: [(&str, &str, Role, &str); 4] = [
    ("ana", "Ana Pérez", Role::Agent, "1234"),
    ("beto", "Beto Gómez", Role::Agent, "1234"),
    ("sara", "Sara Núñez", Role::Supervisor, "1234"),
    ("admin", "Administración", Role::Admin, "admin"),
];

pub const OFFICE_TOML: &str = include_str!("../demo/office.toml");

pub fn settings(listen: SocketAddr, data_dir: PathBuf) -> Settings {
    let mut settings = Settings::parse(OFFICE_TOML).expect("the demo office configuration is valid");
    settings.listen = listen;
    settings.data_dir = data_dir;
    settings.users = USERS
        .iter()
        .map(|(username, name, role, password)| UserSettings {
            username: username.to_string(),
            name: name.to_string(),
            role: *role,
            password_hash: hash_password(password),
        })
        .collect();
    settings.kiosks = vec![KioskSettings { id: "entrada".into(), token_sha256: sha256_hex(KIOSK_TOKEN) }];
    settings
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_office_is_valid() {
        let settings = super::settings("127.0.0.1:0".parse().expect("addr"), "/tmp/x".into());
        assert!(settings.office.services.len() >= 3);
        assert!(settings.office.counters.len() >= 4);
    }
}
