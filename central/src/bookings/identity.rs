//! Identity numbers, kept only as a keyed hash.
//!
//! A citizen's document number is normalised (case, spaces, dots and dashes do not matter, so
//! "12.345.678-k" and "12345678K" are the same person) and hashed with HMAC-SHA-256 under a
//! secret of this deployment: the hash limits bookings per person and counts no-shows, and
//! cannot be turned back into the number or matched against another system's hashes. Only the
//! last four characters are kept in the clear, for the counter to compare with the document.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The kinds of document a citizen books with.
pub const DOCUMENT_TYPES: [&str; 4] = ["cedula", "dni", "pasaporte", "extranjeria"];
const NUMBER_CHARS_MIN: usize = 5;
const NUMBER_CHARS_MAX: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Hex HMAC of the document type and normalised number.
    pub hash: String,
    /// What the counter compares with the document shown.
    pub last4: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("the document type must be one of: {}", DOCUMENT_TYPES.join(", "))]
    UnknownType,
    #[error("a document number is {NUMBER_CHARS_MIN} to {NUMBER_CHARS_MAX} letters and digits")]
    BadNumber,
}

/// The number as the same person always writes it: letters and digits, upper case.
pub fn normalise(number: &str) -> Result<String, IdentityError> {
    let kept: String = number
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '.' | '-' | '/'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid =
        (NUMBER_CHARS_MIN..=NUMBER_CHARS_MAX).contains(&kept.len()) && kept.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then_some(kept).ok_or(IdentityError::BadNumber)
}

pub fn identify(secret: &[u8], document_type: &str, number: &str) -> Result<Identity, IdentityError> {
    if !DOCUMENT_TYPES.contains(&document_type) {
        return Err(IdentityError::UnknownType);
    }
    let number = normalise(number)?;
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { unreachable!("HMAC accepts a key of any length") };
    mac.update(document_type.as_bytes());
    mac.update(b":");
    mac.update(number.as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    let last4 = number[number.len() - 4..].to_string();
    Ok(Identity { hash, last4 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_person_however_written_is_one_identity_and_the_hash_is_not_the_number() {
        let secret = b"deployment secret";
        let a = identify(secret, "cedula", "12.345.678-k").expect("valid");
        let b = identify(secret, "cedula", " 12345678K ").expect("valid");
        assert_eq!(a, b);
        assert_eq!(a.last4, "678K");
        assert!(!a.hash.contains("12345678"), "the hash never holds the number");
        assert_ne!(a.hash, identify(secret, "pasaporte", "12345678K").expect("valid").hash, "per document type");
        assert_ne!(a.hash, identify(b"another deployment", "cedula", "12345678K").expect("valid").hash);
    }

    #[test]
    fn unknown_types_and_numbers_that_are_not_numbers_are_refused() {
        assert_eq!(identify(b"s", "carnet", "12345678"), Err(IdentityError::UnknownType));
        for bad in ["", "1234", "12345678901234567890123", "1234<script>"] {
            assert_eq!(identify(b"s", "dni", bad), Err(IdentityError::BadNumber), "{bad}");
        }
    }
}
