//! The codes a booking carries.
//!
//! - The **pass** (in the confirmation's QR code): the booking's office, day, id, service and
//!   slot, signed by central with Ed25519. The edge holds central's public key, so it checks a
//!   pass in even when the booking has not reached it (the WAN down since yesterday): the
//!   signature is the proof that central booked it.
//! - The **short code** (to type at the kiosk, or read out at the counter): eight characters
//!   that cannot be mistaken for one another. The appointments document holds only its hash,
//!   and a typed code is checked against the bookings the edge has synced.
//!
//! Neither carries anything personal. Keys and random bytes come from the caller (central's
//! store and its random source): this crate has none.

use std::fmt;

use data_encoding::BASE64URL_NOPAD;
use ed25519_dalek::{Signature, Signer};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::calendar::LocalTime;
use crate::ids::{is_valid_id, BusinessDay, ServiceId};

/// What a pass proves: central booked this slot of this service at this office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingPass {
    pub office: String,
    pub day: BusinessDay,
    /// The booking's id in the appointments document.
    pub booking: String,
    pub service: ServiceId,
    pub start: LocalTime,
    pub minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("this is not a booking code")]
    Malformed,
    #[error("this booking code was not issued by headquarters, or was altered")]
    BadSignature,
    #[error("this is not a public key (ed25519:<base64>)")]
    BadKey,
}

const VERSION: &str = "FILA1";
/// No 0/O, 1/I/L: a code is read aloud and typed on a kiosk.
const SHORT_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const SHORT_CODE_LEN: usize = 8;

impl BookingPass {
    /// The text that is signed, and the start of the pass: fields joined by '.', which no
    /// id may contain.
    fn signed_text(&self) -> String {
        format!(
            "{VERSION}.{}.{}.{}.{}.{:02}{:02}.{}",
            self.office,
            self.day,
            self.booking,
            self.service.0,
            self.start.minutes() / 60,
            self.start.minutes() % 60,
            self.minutes
        )
    }

    /// The pass as the QR code carries it.
    pub fn sign(&self, key: &SigningKey) -> String {
        let text = self.signed_text();
        let signature = key.sign(text.as_bytes());
        format!("{text}.{}", BASE64URL_NOPAD.encode(&signature.to_bytes()))
    }

    /// Reads a pass and checks central's signature on it. Anything else, altered by one
    /// character or signed by another key, is refused.
    pub fn verify(token: &str, key: &VerifyingKey) -> Result<BookingPass, CodeError> {
        let token = token.trim();
        let (text, signature) = token.rsplit_once('.').ok_or(CodeError::Malformed)?;
        let pass = BookingPass::parse(text)?;
        let signature = BASE64URL_NOPAD.decode(signature.as_bytes()).map_err(|_| CodeError::Malformed)?;
        let signature: [u8; 64] = signature.try_into().map_err(|_| CodeError::Malformed)?;
        key.verify_strict(text.as_bytes(), &Signature::from_bytes(&signature)).map_err(|_| CodeError::BadSignature)?;
        Ok(pass)
    }

    fn parse(text: &str) -> Result<BookingPass, CodeError> {
        let fields: Vec<&str> = text.split('.').collect();
        let [version, office, day, booking, service, start, minutes] = fields[..] else {
            return Err(CodeError::Malformed);
        };
        let ids_ok = [office, booking, service].iter().all(|id| is_valid_id(id));
        if version != VERSION || !ids_ok || start.len() != 4 {
            return Err(CodeError::Malformed);
        }
        let start = start
            .split_at_checked(2)
            .and_then(|(h, m)| LocalTime::parse(&format!("{h}:{m}")))
            .ok_or(CodeError::Malformed)?;
        Ok(BookingPass {
            office: office.to_string(),
            day: BusinessDay::parse(day).ok_or(CodeError::Malformed)?,
            booking: booking.to_string(),
            service: ServiceId(service.to_string()),
            start,
            minutes: minutes.parse().map_err(|_| CodeError::Malformed)?,
        })
    }
}

/// A short code, upper case, from the unambiguous alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShortCode(String);

impl ShortCode {
    /// A code from the caller's random bytes (one character per byte; the small bias of 256
    /// mod 31 costs a fraction of a bit of the ~39).
    pub fn from_random(bytes: [u8; SHORT_CODE_LEN]) -> ShortCode {
        ShortCode(bytes.iter().map(|b| char::from(SHORT_ALPHABET[usize::from(*b) % SHORT_ALPHABET.len()])).collect())
    }

    /// A code as a citizen typed it: case, spaces and dashes do not matter, and the letters
    /// people confuse with digits are read as the digits the alphabet does not have.
    pub fn parse(text: &str) -> Option<ShortCode> {
        let code: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_uppercase() {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            })
            .collect();
        let valid = code.len() == SHORT_CODE_LEN && code.bytes().all(|b| SHORT_ALPHABET.contains(&b));
        valid.then_some(ShortCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the appointments document holds: the code's hash, bound to the office, so the
    /// document never carries a code that checks a booking in.
    pub fn hash(&self, office: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"fila booking code\0");
        hasher.update(office.as_bytes());
        hasher.update(b"\0");
        hasher.update(self.0.as_bytes());
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Display for ShortCode {
    /// "K7Q2-M9XP": two halves are easier to read out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (head, tail) = self.0.split_at(SHORT_CODE_LEN / 2);
        write!(f, "{head}-{tail}")
    }
}

/// The demo's published seed (`fila-central demo` signs with it, `fila-edge demo` checks).
pub const DEMO_SEED: &str = "fila-demo-bookings";

/// A signing key derived from a published seed: the demo's, so that `fila-edge demo` knows the
/// public key of `fila-central demo` without being told. Never for a real deployment (central
/// makes a random key there).
pub fn key_from_seed(seed: &str, purpose: &str) -> [u8; 32] {
    Sha256::digest(format!("{seed}/{purpose}").as_bytes()).into()
}

/// Central's public key as configuration files write it: `ed25519:<base64url>`.
pub fn public_key_text(key: &VerifyingKey) -> String {
    format!("ed25519:{}", BASE64URL_NOPAD.encode(key.as_bytes()))
}

pub fn parse_public_key(text: &str) -> Result<VerifyingKey, CodeError> {
    let encoded = text.trim().strip_prefix("ed25519:").ok_or(CodeError::BadKey)?;
    let bytes = BASE64URL_NOPAD.decode(encoded.as_bytes()).map_err(|_| CodeError::BadKey)?;
    let bytes: [u8; 32] = bytes.try_into().map_err(|_| CodeError::BadKey)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| CodeError::BadKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn pass() -> BookingPass {
        BookingPass {
            office: "centro".into(),
            day: BusinessDay::parse("2026-12-07").expect("a date"),
            booking: "K7Q2M9XP3T".into(),
            service: ServiceId("cedulas".into()),
            start: LocalTime::parse("09:30").expect("a time"),
            minutes: 30,
        }
    }

    #[test]
    fn a_pass_signed_by_central_checks_in_anywhere_that_holds_its_public_key() {
        let central = key(7);
        let token = pass().sign(&central);
        assert!(token.starts_with("FILA1.centro.2026-12-07.K7Q2M9XP3T.cedulas.0930.30."), "{token}");
        let public = parse_public_key(&public_key_text(&central.verifying_key())).expect("the key reads back");
        assert_eq!(BookingPass::verify(&token, &public), Ok(pass()));
    }

    #[test]
    fn an_altered_pass_or_one_signed_by_another_key_is_refused() {
        let central = key(7);
        let token = pass().sign(&central);
        let moved = token.replace(".0930.", ".0800.");
        assert_eq!(BookingPass::verify(&moved, &central.verifying_key()), Err(CodeError::BadSignature));
        let other_office = token.replace(".centro.", ".norte.");
        assert_eq!(BookingPass::verify(&other_office, &central.verifying_key()), Err(CodeError::BadSignature));
        let forged = pass().sign(&key(8));
        assert_eq!(BookingPass::verify(&forged, &central.verifying_key()), Err(CodeError::BadSignature));
        for garbage in
            ["", "FILA1", "FILA1.centro.2026-12-07.x.cedulas.0930.30.AAAA", "ABCD-EFGH", &token[..token.len() - 2]]
        {
            assert!(BookingPass::verify(garbage, &central.verifying_key()).is_err(), "{garbage}");
        }
    }

    #[test]
    fn a_short_code_is_read_however_it_is_typed_and_only_its_hash_is_kept() {
        let code = ShortCode::from_random([0, 1, 2, 3, 30, 31, 200, 255]);
        assert_eq!(code.as_str().len(), SHORT_CODE_LEN);
        let typed = format!(" {} ", code.to_string().to_lowercase());
        assert_eq!(ShortCode::parse(&typed), Some(code.clone()));
        assert_eq!(ShortCode::parse("K7Q2-M9XP").map(|c| c.to_string()).as_deref(), Some("K7Q2-M9XP"));
        assert_eq!(ShortCode::parse("K7Q2-M9X"), None, "too short");
        let hash = code.hash("centro");
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&code.as_str().to_lowercase()));
        assert_ne!(hash, code.hash("norte"), "bound to its office");
    }

    #[test]
    fn public_keys_that_do_not_read_are_refused() {
        for bad in ["", "ed25519:", "rsa:AAAA", "ed25519:!!!!", "ed25519:AAAA"] {
            assert_eq!(parse_public_key(bad), Err(CodeError::BadKey), "{bad}");
        }
    }

    proptest! {
        /// Changing any one character of a pass makes it fail: never a different valid booking.
        #[test]
        fn no_single_character_change_passes(position in 0usize..200, replacement in proptest::char::range('0', 'z')) {
            let central = key(7);
            let token = pass().sign(&central);
            let position = position % token.len();
            let mut altered: Vec<char> = token.chars().collect();
            prop_assume!(altered[position] != replacement);
            altered[position] = replacement;
            let altered: String = altered.into_iter().collect();
            prop_assert!(BookingPass::verify(&altered, &central.verifying_key()).is_err());
        }
    }
}
