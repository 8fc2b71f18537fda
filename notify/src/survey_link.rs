//! The survey link a citizen answers at central: `/s/<office>/<day>/<ticket>/<mac>`.
//!
//! The edge writes the link (it knows the ticket finished); central checks it without asking the
//! edge, which may be offline behind its NAT. Both hold the same key without ever sending it: the
//! SHA-256 of the office's branch token, which the edge has as the token and central has as the
//! configured hash. A link therefore proves the office's box made it, names one ticket only, and
//! cannot be forged for another ticket or office by someone who holds one link.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Hex characters of the MAC in a link: 128 bits, plenty against guessing online, and short
/// enough for an SMS.
const MAC_HEX_LEN: usize = 32;

/// The key both daemons derive from an office's branch token.
#[derive(Clone)]
pub struct SurveyKey([u8; 32]);

impl SurveyKey {
    /// The edge's side: from the branch token itself.
    pub fn from_branch_token(token: &str) -> SurveyKey {
        SurveyKey(Sha256::digest(token.as_bytes()).into())
    }

    /// Central's side: from the token's configured hex SHA-256; `None` if it is not 64 hex digits.
    pub fn from_token_sha256(hex_digest: &str) -> Option<SurveyKey> {
        let bytes = hex::decode(hex_digest.trim()).ok()?;
        Some(SurveyKey(bytes.try_into().ok()?))
    }

    /// The MAC of one ticket's survey (`day` as `yyyy-mm-dd`, `ticket` as its key).
    pub fn mac(&self, office: &str, day: &str, ticket: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.0) else {
            unreachable!("HMAC accepts a key of any length")
        };
        // Separated by a byte no id, day or ticket key contains, so fields cannot slide.
        for part in ["fila survey", office, day, ticket] {
            mac.update(part.as_bytes());
            mac.update(&[0]);
        }
        let mut text = hex::encode(mac.finalize().into_bytes());
        text.truncate(MAC_HEX_LEN);
        text
    }

    /// Whether `mac` is this ticket's, compared in constant time.
    pub fn verify(&self, office: &str, day: &str, ticket: &str, mac: &str) -> bool {
        let expected = self.mac(office, day, ticket);
        expected.len() == mac.len() && expected.bytes().zip(mac.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The whole link, under central's citizen address `base` (no trailing slash).
    pub fn link(&self, base: &str, office: &str, day: &str, ticket: &str) -> String {
        format!("{}/s/{office}/{day}/{ticket}/{}", base.trim_end_matches('/'), self.mac(office, day, ticket))
    }
}

impl std::fmt::Debug for SurveyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SurveyKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "the-branch-token-of-centro";

    fn central_key() -> SurveyKey {
        SurveyKey::from_token_sha256(&hex::encode(Sha256::digest(TOKEN))).expect("a SHA-256 in hex")
    }

    #[test]
    fn a_link_the_edge_makes_is_one_central_accepts() {
        let edge = SurveyKey::from_branch_token(TOKEN);
        let mac = edge.mac("centro", "2026-12-05", "17");
        assert_eq!(mac.len(), MAC_HEX_LEN);
        assert!(central_key().verify("centro", "2026-12-05", "17", &mac));
        assert_eq!(
            edge.link("https://turnos.example.gob/", "centro", "2026-12-05", "17"),
            format!("https://turnos.example.gob/s/centro/2026-12-05/17/{mac}")
        );
    }

    #[test]
    fn a_link_does_not_open_another_ticket_day_or_office() {
        let key = central_key();
        let mac = key.mac("centro", "2026-12-05", "17");
        assert!(!key.verify("centro", "2026-12-05", "18", &mac));
        assert!(!key.verify("centro", "2026-12-04", "17", &mac));
        assert!(!key.verify("norte", "2026-12-05", "17", &mac));
        assert!(!key.verify("centro", "2026-12-05", "17", &mac[..31]));
        assert!(!key.verify("centro", "2026-12-05", "17", ""));
        // Fields cannot slide into each other.
        assert_ne!(key.mac("centro", "2026-12-05", "1"), key.mac("centro", "2026-12-051", ""));
    }

    #[test]
    fn another_offices_token_makes_other_links() {
        let other = SurveyKey::from_branch_token("another-token");
        let mac = other.mac("centro", "2026-12-05", "17");
        assert!(!central_key().verify("centro", "2026-12-05", "17", &mac));
    }

    #[test]
    fn a_malformed_hash_is_no_key() {
        assert!(SurveyKey::from_token_sha256("abc").is_none());
        assert!(SurveyKey::from_token_sha256(&"zz".repeat(32)).is_none());
    }
}
