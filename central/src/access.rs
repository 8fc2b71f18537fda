//! Who may sign in at an office's box, managed from headquarters: staff (username, name, role,
//! the password's argon2 hash) and kiosk devices (id, the token's SHA-256). Kept in central's
//! store per office; the box asks for its own list over its authenticated link
//! (`GET /api/v1/branch/access`) and keeps its file's users and kiosks as a fallback. Passwords
//! and kiosk tokens are never kept, only their hashes; a kiosk's token is shown once, when made.

use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

const ACCESS: &str = "access/";
/// A PIN at a counter is short; a password may be long, not endless (argon2 reads all of it).
const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 4..=128;
const NAME_CHARS_MAX: usize = 80;
/// Staff and kiosks of one office.
const ENTRIES_MAX: usize = 500;

/// The roles a person may have at a box (a kiosk is a device, not a person).
pub const ROLES: [&str; 3] = ["agent", "supervisor", "admin"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffUser {
    pub username: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kiosk {
    pub id: String,
    pub token_sha256: String,
}

/// An office's staff and kiosks as headquarters manages them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeAccess {
    pub users: Vec<StaffUser>,
    pub kiosks: Vec<Kiosk>,
}

/// A user as headquarters sets one: the password in clear, hashed here and then forgotten.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserForm {
    pub name: String,
    pub role: String,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The request names its problem: (field, why).
    #[error("{0}: {1}")]
    Invalid(&'static str, String),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An office's staff and kiosks as stored (none before headquarters sets any).
pub fn read(store: &dyn Store, office: &str) -> Result<OfficeAccess, StoreError> {
    Ok(store
        .get_meta(&format!("{ACCESS}{office}"))?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default())
}

fn write(store: &dyn Store, office: &str, access: &OfficeAccess) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(access).map_err(|e| StoreError::Transaction(e.to_string()))?;
    store.put_meta(&format!("{ACCESS}{office}"), &bytes)?;
    store.flush()
}

/// Adds or replaces a user (a new password each time). Slow by design (argon2). Blocking.
pub fn put_user(store: &dyn Store, office: &str, username: &str, form: &UserForm) -> Result<(), AccessError> {
    if !fila_protocol::ids::is_valid_id(username) {
        return Err(AccessError::Invalid("username", "must be 1-32 letters, digits, '-' or '_'".into()));
    }
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > NAME_CHARS_MAX || name.chars().any(char::is_control) {
        return Err(AccessError::Invalid("name", format!("must be 1-{NAME_CHARS_MAX} printable characters")));
    }
    if !ROLES.contains(&form.role.as_str()) {
        return Err(AccessError::Invalid("role", format!("must be one of {}", ROLES.join(", "))));
    }
    if !PASSWORD_CHARS.contains(&form.password.chars().count()) {
        return Err(AccessError::Invalid(
            "password",
            format!("must be {} to {} characters", PASSWORD_CHARS.start(), PASSWORD_CHARS.end()),
        ));
    }
    let password_hash = hash_password(&form.password)?;
    let mut access = read(store, office)?;
    access.users.retain(|user| user.username != username);
    if access.users.len() + access.kiosks.len() >= ENTRIES_MAX {
        return Err(AccessError::Invalid("username", format!("an office has at most {ENTRIES_MAX} users and kiosks")));
    }
    access.users.push(StaffUser {
        username: username.to_string(),
        name: name.to_string(),
        role: form.role.clone(),
        password_hash,
    });
    access.users.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(write(store, office, &access)?)
}

pub fn delete_user(store: &dyn Store, office: &str, username: &str) -> Result<(), AccessError> {
    let mut access = read(store, office)?;
    let before = access.users.len();
    access.users.retain(|user| user.username != username);
    if access.users.len() == before {
        return Err(AccessError::NotFound("user"));
    }
    Ok(write(store, office, &access)?)
}

/// Makes a kiosk's device token; returns it (shown once: only its hash is kept). Blocking.
pub fn add_kiosk(store: &dyn Store, office: &str, id: &str) -> Result<String, AccessError> {
    if !fila_protocol::ids::is_valid_id(id) {
        return Err(AccessError::Invalid("id", "must be 1-32 letters, digits, '-' or '_'".into()));
    }
    let mut access = read(store, office)?;
    access.kiosks.retain(|kiosk| kiosk.id != id);
    if access.users.len() + access.kiosks.len() >= ENTRIES_MAX {
        return Err(AccessError::Invalid("id", format!("an office has at most {ENTRIES_MAX} users and kiosks")));
    }
    let token = crate::auth::random_token();
    access.kiosks.push(Kiosk { id: id.to_string(), token_sha256: crate::auth::sha256_hex(&token) });
    access.kiosks.sort_by(|a, b| a.id.cmp(&b.id));
    write(store, office, &access)?;
    Ok(token)
}

pub fn delete_kiosk(store: &dyn Store, office: &str, id: &str) -> Result<(), AccessError> {
    let mut access = read(store, office)?;
    let before = access.kiosks.len();
    access.kiosks.retain(|kiosk| kiosk.id != id);
    if access.kiosks.len() == before {
        return Err(AccessError::NotFound("kiosk"));
    }
    Ok(write(store, office, &access)?)
}

fn hash_password(password: &str) -> Result<String, AccessError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AccessError::Invalid("password", e.to_string()))
}
