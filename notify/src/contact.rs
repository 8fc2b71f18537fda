//! A citizen's mobile number or e-mail address: personal data.
//!
//! A contact is given for one ticket or booking and its survey, and nothing else. It never enters
//! an automerge document (their history cannot be erased) and never a log: `Debug` and `Display`
//! show only its kind, and the value is reached through [`Contact::expose`], so every use of it
//! can be found by name. Lists that must outlive the contact (opt-outs, rate limits) hold a keyed
//! hash of it, its [`Fingerprint`].

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use thiserror::Error;

/// How a contact is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Sms,
    Email,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Sms => "sms",
            Medium::Email => "email",
        }
    }
}

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "medium", content = "value", rename_all = "snake_case")]
pub enum Contact {
    /// A mobile number in international form: `+` and 8 to 15 digits.
    Sms(String),
    /// An e-mail address, its domain in lower case.
    Email(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ContactError {
    #[error("a mobile number is 8 to 15 digits, in international form (+34 600 111 222) or national")]
    BadPhone,
    #[error("an e-mail address looks like name@example.org")]
    BadEmail,
}

/// What a contact becomes in lists that must not hold it: a keyed hash, the key being the box's
/// own secret, so the list cannot be reversed by hashing every phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Fingerprint(pub String);

const PHONE_DIGITS_MIN: usize = 8;
const PHONE_DIGITS_MAX: usize = 15;
/// RFC 5321's limit on a forward path.
const EMAIL_LEN_MAX: usize = 254;

impl Contact {
    /// Reads what a citizen typed: an address when it has an `@`, a mobile number otherwise.
    /// A national number (no `+` or `00`) gets `country_code` (digits, e.g. `"34"`) in front.
    pub fn parse(text: &str, country_code: &str) -> Result<Contact, ContactError> {
        if text.contains('@') {
            Self::email(text)
        } else {
            Self::phone(text, country_code)
        }
    }

    pub fn phone(text: &str, country_code: &str) -> Result<Contact, ContactError> {
        let text = text.trim();
        // People write numbers with spaces, dashes, dots and brackets; nothing else is allowed.
        if text.chars().any(|c| !(c.is_ascii_digit() || " -.()+".contains(c))) {
            return Err(ContactError::BadPhone);
        }
        // A '+' may come only first, or just inside a bracket: "(+593) 99 123 4567".
        let plus = text.trim_start_matches(['(', ' ']).starts_with('+');
        if text.matches('+').count() > usize::from(plus) {
            return Err(ContactError::BadPhone);
        }
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let international = if plus {
            digits
        } else if let Some(rest) = digits.strip_prefix("00") {
            rest.to_string()
        } else {
            if !country_code.chars().all(|c| c.is_ascii_digit()) {
                return Err(ContactError::BadPhone);
            }
            format!("{country_code}{}", digits.trim_start_matches('0'))
        };
        if !(PHONE_DIGITS_MIN..=PHONE_DIGITS_MAX).contains(&international.len()) || international.starts_with('0') {
            return Err(ContactError::BadPhone);
        }
        Ok(Contact::Sms(format!("+{international}")))
    }

    pub fn email(text: &str) -> Result<Contact, ContactError> {
        let text = text.trim();
        let Some((local, domain)) = text.rsplit_once('@') else {
            return Err(ContactError::BadEmail);
        };
        let plain = |part: &str| !part.is_empty() && part.chars().all(|c| !c.is_whitespace() && !c.is_control());
        let domain_ok = plain(domain)
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok =
            plain(local) && local.len() <= 64 && !local.contains('@') && !local.contains(['<', '>', '"', ',', ';']);
        if !domain_ok || !local_ok || text.len() > EMAIL_LEN_MAX {
            return Err(ContactError::BadEmail);
        }
        Ok(Contact::Email(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn medium(&self) -> Medium {
        match self {
            Contact::Sms(_) => Medium::Sms,
            Contact::Email(_) => Medium::Email,
        }
    }

    /// The number or address itself, for the channel that sends to it and nothing else.
    pub fn expose(&self) -> &str {
        match self {
            Contact::Sms(value) | Contact::Email(value) => value,
        }
    }

    pub fn fingerprint(&self, key: &[u8]) -> Fingerprint {
        // HMAC takes keys of any length; `new_from_slice` fails for none of them.
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { unreachable!("HMAC accepts a key of any length") };
        mac.update(self.medium().as_str().as_bytes());
        mac.update(b":");
        mac.update(self.expose().as_bytes());
        Fingerprint(hex::encode(mac.finalize().into_bytes()))
    }
}

/// Whether a reply says "stop sending me messages" (the words carriers and citizens use in
/// Spanish and English).
pub fn is_stop_reply(text: &str) -> bool {
    let word = text.trim().trim_end_matches(['.', '!']).to_uppercase();
    ["STOP", "BAJA", "PARAR", "ALTO", "CANCELAR", "UNSUBSCRIBE"].contains(&word.as_str())
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Contact({}, redacted)", self.medium().as_str())
    }
}

impl fmt::Display for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a contact by {}", self.medium().as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(text: &str) -> Result<String, ContactError> {
        Contact::phone(text, "34").map(|c| c.expose().to_string())
    }

    #[test]
    fn numbers_are_read_as_people_write_them() {
        assert_eq!(phone("+34 600 111 222").as_deref(), Ok("+34600111222"));
        assert_eq!(phone("0034-600.111.222").as_deref(), Ok("+34600111222"));
        assert_eq!(phone("600 11 12 22").as_deref(), Ok("+34600111222"));
        assert_eq!(phone("(+593) 99 123 4567").as_deref(), Ok("+593991234567"));
    }

    #[test]
    fn what_is_not_a_number_is_refused() {
        for text in ["", "+", "12345", "+34 600 111 222 333 444", "600-CALL-ME", "+34+600111222", "６００１１１２２２"]
        {
            assert_eq!(phone(text), Err(ContactError::BadPhone), "{text}");
        }
    }

    #[test]
    fn addresses_keep_their_local_part_and_lower_their_domain() {
        let contact = Contact::email(" Ana.Perez@Correo.EXAMPLE.org ").expect("a valid contact");
        assert_eq!(contact.expose(), "Ana.Perez@correo.example.org");
        assert_eq!(contact.medium(), Medium::Email);
        assert!(Contact::email("josé@correo.es").is_ok(), "international addresses are addresses");
    }

    #[test]
    fn what_is_not_an_address_is_refused() {
        for text in [
            "ana",
            "@example.org",
            "ana@",
            "ana@localhost",
            "ana@exa mple.org",
            "a b@example.org",
            "ana@.org",
            "<ana@x.org>",
            "ana@x..org",
        ] {
            assert_eq!(Contact::email(text), Err(ContactError::BadEmail), "{text}");
        }
        assert_eq!(Contact::email(&format!("{}@example.org", "a".repeat(65))), Err(ContactError::BadEmail));
    }

    #[test]
    fn parse_tells_an_address_from_a_number() {
        assert_eq!(Contact::parse("ana@example.org", "34").expect("a valid contact").medium(), Medium::Email);
        assert_eq!(Contact::parse("600111222", "34").expect("a valid contact").medium(), Medium::Sms);
    }

    #[test]
    fn stop_is_understood_however_it_is_written() {
        for text in ["STOP", "stop", " Stop. ", "Baja", "PARAR!"] {
            assert!(is_stop_reply(text), "{text}");
        }
        for text in ["stop it now", "gracias", "", "no pare"] {
            assert!(!is_stop_reply(text), "{text}");
        }
    }

    #[test]
    fn debug_and_display_never_show_the_contact() {
        let contact = Contact::phone("+34600111222", "34").expect("a valid contact");
        let shown = format!("{contact:?} {contact}");
        assert!(!shown.contains("600"), "{shown}");
        let serialized = serde_json::to_string(&contact).expect("serializes");
        assert_eq!(serialized, r#"{"medium":"sms","value":"+34600111222"}"#, "the store keeps the value");
    }

    #[test]
    fn fingerprints_depend_on_the_key_and_hide_the_contact() {
        let contact = Contact::email("ana@example.org").expect("a valid contact");
        let a = contact.fingerprint(b"box one");
        assert_eq!(a, contact.fingerprint(b"box one"));
        assert_ne!(a, contact.fingerprint(b"box two"));
        assert!(!a.0.contains("ana"));
        assert_eq!(a.0.len(), 64);
    }
}
