//! Who is calling: kiosk devices by their token, staff by a session token got at login.
//!
//! Passwords and PINs are argon2 hashes in the configuration; device and session tokens are
//! random and kept only as SHA-256 hashes, so neither a config file nor a memory dump hands
//! out a working credential.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use crate::settings::Role;
use crate::settings::{KioskSettings, UserSettings};

// The enum is defined with the settings (the TOML names roles); what each may do is decided here.
impl Role {
    /// Supervisors and admins may act at any counter.
    pub fn oversees_counters(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub role: Role,
    /// The username, or the kiosk's id.
    pub id: String,
    pub name: String,
}

const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// Staff by username and kiosk ids by token hash, as headquarters last gave them.
#[derive(Default)]
struct Managed {
    users: HashMap<String, UserSettings>,
    kiosks: HashMap<String, String>,
}

pub struct Auth {
    users: HashMap<String, UserSettings>,
    kiosks: RwLock<HashMap<String, String>>,
    /// Staff and kiosks headquarters manages for this box (`access.rs`), looked up before the
    /// file's: where both name a user, headquarters' is the one.
    managed: RwLock<Managed>,
    sessions: RwLock<HashMap<String, (Caller, Instant)>>,
    /// Verified against when the user does not exist, so timing does not reveal usernames.
    dummy_hash: String,
    /// argon2 checks running now, and the most that ever ran at once (in `/metrics`, so an
    /// operator, and a test, can see the cap on them hold).
    checks_running: AtomicUsize,
    checks_peak: AtomicUsize,
}

impl Auth {
    pub fn new(users: &[UserSettings], kiosks: &[KioskSettings]) -> Self {
        Auth {
            users: users.iter().map(|u| (u.username.clone(), u.clone())).collect(),
            kiosks: RwLock::new(kiosks.iter().map(|k| (k.token_sha256.to_ascii_lowercase(), k.id.clone())).collect()),
            managed: RwLock::new(Managed::default()),
            sessions: RwLock::new(HashMap::new()),
            dummy_hash: hash_password("not a password"),
            checks_running: AtomicUsize::new(0),
            checks_peak: AtomicUsize::new(0),
        }
    }

    /// Register a kiosk device token at run time (by its hash).
    pub fn add_kiosk(&self, id: &str, token_sha256: &str) {
        self.kiosks
            .write()
            .expect("kiosk table lock is never poisoned")
            .insert(token_sha256.to_string(), id.to_string());
    }

    /// Headquarters' staff and kiosks for this box replace the ones it gave before; sessions of
    /// a user it no longer lists (nor the file does), or whose role changed, end now.
    pub fn set_managed(&self, users: Vec<UserSettings>, kiosks: Vec<KioskSettings>) {
        let managed = Managed {
            users: users.into_iter().map(|u| (u.username.clone(), u)).collect(),
            kiosks: kiosks.into_iter().map(|k| (k.token_sha256.to_ascii_lowercase(), k.id)).collect(),
        };
        let still = |caller: &Caller| {
            let user = managed.users.get(&caller.id).or_else(|| self.users.get(&caller.id));
            user.is_some_and(|user| user.role == caller.role)
        };
        self.sessions
            .write()
            .expect("session lock is never poisoned")
            .retain(|_, (caller, _)| caller.role == Role::Kiosk || still(caller));
        *self.managed.write().expect("managed access lock is never poisoned") = managed;
    }

    /// A user by name: headquarters' if it lists one, else the file's.
    fn user(&self, username: &str) -> Option<UserSettings> {
        let managed = self.managed.read().expect("managed access lock is never poisoned");
        managed.users.get(username).or_else(|| self.users.get(username)).cloned()
    }

    /// Check a password; on success open a session and return its token. Slow by design: run it
    /// off the async workers.
    pub fn login(&self, username: &str, password: &str) -> Option<(String, Caller)> {
        let user = self.user(username);
        let user = user.as_ref();
        let hash = user.map_or(self.dummy_hash.as_str(), |u| u.password_hash.as_str());
        let running = self.checks_running.fetch_add(1, Ordering::SeqCst) + 1;
        self.checks_peak.fetch_max(running, Ordering::SeqCst);
        let ok = PasswordHash::new(hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        self.checks_running.fetch_sub(1, Ordering::SeqCst);
        let user = user.filter(|_| ok)?;
        let caller = Caller { role: user.role, id: user.username.clone(), name: user.name.clone() };
        let token = random_token();
        let mut sessions = self.sessions.write().expect("session lock is never poisoned");
        let now = Instant::now();
        sessions.retain(|_, (_, expires)| *expires > now);
        sessions.insert(sha256_hex(&token), (caller.clone(), now + SESSION_LIFETIME));
        Some((token, caller))
    }

    /// The most argon2 checks that ever ran at once.
    pub fn password_checks_peak(&self) -> usize {
        self.checks_peak.load(Ordering::SeqCst)
    }

    pub fn logout(&self, token: &str) {
        self.sessions.write().expect("session lock is never poisoned").remove(&sha256_hex(token));
    }

    /// The caller a bearer token stands for, if any.
    pub fn authenticate(&self, token: &str) -> Option<Caller> {
        let hash = sha256_hex(token);
        if let Some(id) = self.kiosks.read().expect("kiosk table lock is never poisoned").get(&hash) {
            return Some(Caller { role: Role::Kiosk, id: id.clone(), name: id.clone() });
        }
        if let Some(id) = self.managed.read().expect("managed access lock is never poisoned").kiosks.get(&hash) {
            return Some(Caller { role: Role::Kiosk, id: id.clone(), name: id.clone() });
        }
        let sessions = self.sessions.read().expect("session lock is never poisoned");
        let (caller, expires) = sessions.get(&hash)?;
        (*expires > Instant::now()).then(|| caller.clone())
    }
}

/// 32 random bytes as hex: session tokens, device tokens, citizens' tracking tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A shorter random token for citizens' tracking links (128 bits).
pub fn tracking_token() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        let users = vec![UserSettings {
            username: "ana".into(),
            name: "Ana".into(),
            role: Role::Agent,
            password_hash: hash_password("1234"),
        }];
        let kiosks = vec![KioskSettings { id: "entrada".into(), token_sha256: sha256_hex("kiosk-secret") }];
        Auth::new(&users, &kiosks)
    }

    #[test]
    fn a_right_password_opens_a_session_and_a_wrong_one_does_not() {
        let auth = auth();
        assert!(auth.login("ana", "4321").is_none());
        assert!(auth.login("nobody", "1234").is_none());
        let (token, caller) = auth.login("ana", "1234").expect("login");
        assert_eq!(caller.role, Role::Agent);
        assert_eq!(auth.authenticate(&token), Some(caller));
        auth.logout(&token);
        assert_eq!(auth.authenticate(&token), None);
    }

    #[test]
    fn a_kiosk_is_known_by_the_hash_of_its_token() {
        let auth = auth();
        assert_eq!(auth.authenticate("kiosk-secret").map(|c| c.role), Some(Role::Kiosk));
        assert_eq!(auth.authenticate("kiosk-secreT"), None);
    }
}
