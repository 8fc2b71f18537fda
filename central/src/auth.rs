//! Who is calling: an edge with its branch token, or an analyst with a headquarters token.
//!
//! Tokens are random and configured only as SHA-256 hashes, so the configuration file and a
//! backup of it open nothing. A branch token opens its own office's documents and nothing else.

use std::collections::HashMap;

use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::settings::Settings;

pub fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new token: 256 random bits, as hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Token hashes to the office or analyst they belong to.
#[derive(Debug, Default)]
pub struct Tokens {
    offices: HashMap<String, String>,
    analysts: HashMap<String, (String, bool)>,
}

impl Tokens {
    pub fn new(settings: &Settings) -> Self {
        Tokens {
            offices: settings.offices.iter().map(|o| (o.token_sha256.clone(), o.id.clone())).collect(),
            analysts: settings
                .analysts
                .iter()
                .map(|a| (a.token_sha256.clone(), (a.name.clone(), a.can_configure)))
                .collect(),
        }
    }

    /// The office whose branch token this is.
    pub fn office(&self, token: &str) -> Option<&str> {
        self.offices.get(&sha256_hex(token)).map(String::as_str)
    }

    /// The analyst whose headquarters token this is.
    pub fn analyst(&self, token: &str) -> Option<&str> {
        self.analysts.get(&sha256_hex(token)).map(|(name, _)| name.as_str())
    }

    /// Whether this headquarters token may set offices' configuration.
    pub fn can_configure(&self, token: &str) -> bool {
        self.analysts.get(&sha256_hex(token)).is_some_and(|(_, can)| *can)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_and_analyst_tokens_open_only_their_own_door() {
        let tokens = Tokens::new(&crate::demo::settings("127.0.0.1:0".parse().expect("addr"), "/tmp/x".into()));
        assert_eq!(tokens.office(crate::demo::BRANCH_TOKEN), Some("centro"));
        assert_eq!(tokens.office(crate::demo::BRANCH_TOKEN_NORTE), Some("norte"));
        assert_eq!(tokens.analyst(crate::demo::BRANCH_TOKEN), None);
        assert_eq!(tokens.office(crate::demo::HQ_TOKEN), None);
        assert!(tokens.analyst(crate::demo::HQ_TOKEN).is_some());
        assert_eq!(tokens.office("guess"), None);
    }

    #[test]
    fn random_tokens_differ_and_hash_to_64_hex_digits() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(sha256_hex(&a).len(), 64);
    }
}
