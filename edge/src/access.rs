//! Staff and kiosks headquarters manages for this box: asked of central over the office's
//! authenticated link at start and every minute (`GET /api/v1/branch/access`), checked as data
//! from a peer, kept in the box's store so a restart while central is unreachable still knows
//! them, and handed to [`Auth`]. The file's `[[users]]` and `[[kiosks]]` stay: they are the
//! fallback (and the local administrator's own way in); where both name a user, headquarters'
//! entry is the one.

use std::sync::Arc;
use std::time::Duration;

use fila_store::Store;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::settings::{CentralSettings, KioskSettings, Role, UserSettings};

const STORED: &str = "access/managed";
const TIMEOUT: Duration = Duration::from_secs(10);
/// Far beyond an office's staff; more is a broken or hostile peer.
const BODY_BYTES_MAX: usize = 1 << 20;
const ENTRIES_MAX: usize = 500;
const NAME_CHARS_MAX: usize = 80;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Access {
    users: Vec<User>,
    kiosks: Vec<Kiosk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct User {
    username: String,
    name: String,
    role: String,
    password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Kiosk {
    id: String,
    token_sha256: String,
}

impl Access {
    /// What checks out, as the box's settings; what does not is left out and counted.
    fn checked(&self) -> (Vec<UserSettings>, Vec<KioskSettings>, usize) {
        let users: Vec<UserSettings> = self
            .users
            .iter()
            .take(ENTRIES_MAX)
            .filter_map(|user| {
                let role = match user.role.as_str() {
                    "agent" => Role::Agent,
                    "supervisor" => Role::Supervisor,
                    "admin" => Role::Admin,
                    _ => return None,
                };
                let sound = fila_protocol::ids::is_valid_id(&user.username)
                    && !user.name.trim().is_empty()
                    && user.name.chars().count() <= NAME_CHARS_MAX
                    && !user.name.chars().any(char::is_control)
                    && argon2::PasswordHash::new(&user.password_hash).is_ok();
                sound.then(|| UserSettings {
                    username: user.username.clone(),
                    name: user.name.clone(),
                    role,
                    password_hash: user.password_hash.clone(),
                })
            })
            .collect();
        let kiosks: Vec<KioskSettings> = self
            .kiosks
            .iter()
            .take(ENTRIES_MAX)
            .filter(|kiosk| {
                fila_protocol::ids::is_valid_id(&kiosk.id)
                    && kiosk.token_sha256.len() == 64
                    && kiosk.token_sha256.bytes().all(|b| b.is_ascii_hexdigit())
            })
            .map(|kiosk| KioskSettings { id: kiosk.id.clone(), token_sha256: kiosk.token_sha256.to_ascii_lowercase() })
            .collect();
        let refused = self.users.len() + self.kiosks.len() - users.len() - kiosks.len();
        (users, kiosks, refused)
    }
}

/// The list headquarters gave last, as stored; applied to `auth` before the box serves anyone.
pub fn restore(store: &dyn Store, auth: &Auth) {
    let Ok(Some(bytes)) = store.get_meta(STORED) else { return };
    if let Ok(access) = serde_json::from_slice::<Access>(&bytes) {
        let (users, kiosks, _) = access.checked();
        auth.set_managed(users, kiosks);
    }
}

/// Keeps `auth` up to date with headquarters until aborted.
pub async fn run(central: CentralSettings, store: Arc<dyn Store>, auth: Arc<Auth>, every: Duration) {
    if central.is_unencrypted_over_a_network() {
        // Password hashes do not cross a network in clear.
        tracing::warn!("staff managed at headquarters are not asked of central over plain ws:// to another host");
        return;
    }
    let client = match central.http_client(|builder| builder.timeout(TIMEOUT)) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot make the client that asks central for this office's staff");
            return;
        }
    };
    let mut last: Option<Access> = None;
    loop {
        match fetch(&client, &central).await {
            Ok(access) if last.as_ref() != Some(&access) => {
                let (users, kiosks, refused) = access.checked();
                if refused > 0 {
                    tracing::warn!(refused, "central sent staff or kiosks that do not check; left out");
                }
                tracing::info!(users = users.len(), kiosks = kiosks.len(), "staff and kiosks from headquarters");
                auth.set_managed(users, kiosks);
                let kept = serde_json::to_vec(&access).map_err(|e| e.to_string()).and_then(|bytes| {
                    store.put_meta(STORED, &bytes).and_then(|()| store.flush()).map_err(|e| e.to_string())
                });
                if let Err(error) = kept {
                    tracing::error!(%error, "cannot keep headquarters' staff list");
                }
                last = Some(access);
            }
            Ok(_) => {}
            // Offline is normal for a box: what it had stays.
            Err(error) => tracing::debug!(%error, "staff list not fetched"),
        }
        tokio::time::sleep(every).await;
    }
}

async fn fetch(client: &reqwest::Client, central: &CentralSettings) -> Result<Access, String> {
    let body = central.get_bounded(client, "/api/v1/branch/access", BODY_BYTES_MAX).await?;
    serde_json::from_slice(&body).map_err(|e| format!("central's answer does not read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_does_not_check_is_left_out() {
        let hash = crate::auth::hash_password("1234");
        let access = Access {
            users: vec![
                User {
                    username: "carla".into(),
                    name: "Carla".into(),
                    role: "agent".into(),
                    password_hash: hash.clone(),
                },
                User {
                    username: "x y".into(),
                    name: "Bad id".into(),
                    role: "agent".into(),
                    password_hash: hash.clone(),
                },
                User { username: "root".into(), name: "Kiosk?".into(), role: "kiosk".into(), password_hash: hash },
                User {
                    username: "dan".into(),
                    name: "Dan".into(),
                    role: "admin".into(),
                    password_hash: "plain".into(),
                },
            ],
            kiosks: vec![
                Kiosk { id: "entrada".into(), token_sha256: "ab".repeat(32) },
                Kiosk { id: "salida".into(), token_sha256: "not hex".into() },
            ],
        };
        let (users, kiosks, refused) = access.checked();
        assert_eq!(users.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["carla"]);
        assert_eq!(kiosks.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["entrada"]);
        assert_eq!(refused, 4);
    }
}
