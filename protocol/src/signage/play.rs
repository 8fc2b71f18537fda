//! Proof of play: a screen says what it showed and when. Each play has an id the screen made,
//! so a play reported twice (a retry, a box that resends after a cut) counts once.

use serde::{Deserialize, Serialize};

use crate::ids::is_valid_id;

/// How far back a play may be reported: a box offline for a week still reports what it played.
pub const PLAY_AGE_MAX_MS: i64 = 14 * 24 * 3_600_000;
/// Plays sent in one report.
pub const PLAYS_PER_REPORT_MAX: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Play {
    /// The screen's own id for this play (letters, digits and '-', 8 to 64).
    pub id: String,
    pub screen: String,
    #[serde(default)]
    pub playlist: Option<String>,
    /// The medium's SHA-256, or `slide` for a text slide.
    pub item: String,
    /// When it began to show, milliseconds since the epoch.
    pub started_at: i64,
    /// How long it showed.
    pub seconds: u32,
}

impl Play {
    /// Why this play cannot be counted, if it cannot: it comes from a screen or a peer.
    pub fn problem(&self, now_ms: i64) -> Option<String> {
        let id_ok =
            (8..=64).contains(&self.id.len()) && self.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let item_ok = self.item == "slide" || super::is_sha256(&self.item);
        if !id_ok {
            Some("id: 8-64 letters, digits or '-'".into())
        } else if !is_valid_id(&self.screen) {
            Some("screen: not a screen id".into())
        } else if self.playlist.as_deref().is_some_and(|p| !is_valid_id(p)) {
            Some("playlist: not a playlist id".into())
        } else if !item_ok {
            Some("item: a SHA-256 or \"slide\"".into())
        } else if self.started_at > now_ms + 60_000 || self.started_at < now_ms - PLAY_AGE_MAX_MS {
            Some("started_at: not within the last two weeks".into())
        } else if self.seconds == 0 || self.seconds > crate::limits::SIGNAGE_ITEM_SECONDS_MAX {
            Some(format!("seconds: 1 to {}", crate::limits::SIGNAGE_ITEM_SECONDS_MAX))
        } else {
            None
        }
    }
}
