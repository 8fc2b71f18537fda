//! Proof of play at headquarters: the plays offices' screens reported, each kept once by its
//! office and id (a box resends after a cut; a replay changes nothing), and the campaign report
//! that counts them per item, office and day.

use std::collections::BTreeMap;
use std::sync::Arc;

use fila_protocol::signage::Play;
use fila_protocol::{BusinessDay, Timestamp};
use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

const PLAY: &str = "signage/play/";

/// A play as central keeps it: with its office and its business day there.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Kept {
    office: String,
    day: String,
    play: Play,
}

/// What a report did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Received {
    pub accepted: usize,
    /// Already counted: sent before.
    pub duplicates: usize,
    /// Not countable (a malformed or far too old play); logged, never stored.
    pub refused: usize,
}

/// One row of the campaign report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlayRow {
    pub item: String,
    pub office: String,
    pub day: String,
    pub plays: u64,
    pub seconds: u64,
}

pub struct SignagePlays {
    store: Arc<dyn Store>,
}

impl SignagePlays {
    pub fn new(store: Arc<dyn Store>) -> SignagePlays {
        SignagePlays { store }
    }

    /// Keeps `office`'s reported plays, each once, durably. Blocking.
    pub fn receive(
        &self,
        office: &str,
        zone: &jiff::tz::TimeZone,
        plays: Vec<Play>,
        now: Timestamp,
    ) -> Result<Received, StoreError> {
        let mut received = Received::default();
        for play in plays {
            if let Some(problem) = play.problem(now.as_ms()) {
                tracing::warn!(office, %problem, "a signage play that cannot be counted");
                received.refused += 1;
                continue;
            }
            let key = format!("{PLAY}{office}/{}", play.id);
            if self.store.get_meta(&key)?.is_some() {
                received.duplicates += 1;
                continue;
            }
            let day = BusinessDay::containing(Timestamp(play.started_at), zone).to_string();
            let kept = Kept { office: office.to_string(), day, play };
            let bytes = serde_json::to_vec(&kept).map_err(|e| StoreError::Transaction(e.to_string()))?;
            self.store.put_meta(&key, &bytes)?;
            received.accepted += 1;
        }
        if received.accepted > 0 {
            self.store.flush()?;
        }
        Ok(received)
    }

    /// Plays per item, office and day, for days `from..=to` and one office or all. Blocking.
    pub fn report(&self, office: Option<&str>, from: &str, to: &str) -> Result<Vec<PlayRow>, StoreError> {
        let prefix = match office {
            Some(office) => format!("{PLAY}{office}/"),
            None => PLAY.to_string(),
        };
        let mut rows: BTreeMap<(String, String, String), (u64, u64)> = BTreeMap::new();
        for (_, bytes) in self.store.scan_meta(&prefix)? {
            let Ok(kept) = serde_json::from_slice::<Kept>(&bytes) else { continue };
            if kept.day.as_str() < from || kept.day.as_str() > to {
                continue;
            }
            let row = rows.entry((kept.play.item, kept.office, kept.day)).or_default();
            row.0 += 1;
            row.1 += u64::from(kept.play.seconds);
        }
        Ok(rows
            .into_iter()
            .map(|((item, office, day), (plays, seconds))| PlayRow { item, office, day, plays, seconds })
            .collect())
    }
}
