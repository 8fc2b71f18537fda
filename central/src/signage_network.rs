//! Headquarters' signage for the whole network: one catalog of playlists, schedules, urgent
//! messages and a ticker, each schedule and message aimed at every office, offices with a tag,
//! one office or one screen. Publishing writes into each office's configuration document what
//! reaches that office (and the playlists and media it needs), replacing what the last
//! publication put there and leaving the office's own entries alone; the box then resolves what
//! plays from its own clock.

use std::collections::BTreeSet;

use fila_protocol::signage::{SignageConfig, Target};
use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::hub::{Hub, ReadError};

const CATALOG: &str = "signage/network";
const PUBLISHED: &str = "signage/published/";

/// What the last publication put into one office's configuration, to replace it next time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Published {
    schedules: BTreeSet<String>,
    playlists: BTreeSet<String>,
    urgent: BTreeSet<String>,
    media: BTreeSet<String>,
    ticker: bool,
}

/// What publishing did at one office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub office: String,
    pub changed: bool,
    /// Why nothing was written there (no configuration yet, or the result would not be valid).
    pub problem: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// The catalog last published, if any. Blocking.
pub fn catalog(store: &dyn Store) -> Result<Option<SignageConfig>, StoreError> {
    Ok(store.get_meta(CATALOG)?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// Writes into every office's configuration what of `catalog` reaches it. Blocking.
pub fn publish(hub: &Hub, store: &dyn Store, catalog: &SignageConfig) -> Result<Vec<Outcome>, PublishError> {
    let bytes = serde_json::to_vec(catalog).map_err(|e| StoreError::Transaction(e.to_string()))?;
    store.put_meta(CATALOG, &bytes)?;
    let mut outcomes = Vec::new();
    for office in hub.offices() {
        let id = office.id;
        let Some((mut raw, _version)) = hub.config(&id)? else {
            outcomes.push(Outcome {
                office: id,
                changed: false,
                problem: Some("headquarters has not configured this office yet".into()),
            });
            continue;
        };
        let key = format!("{PUBLISHED}{id}");
        let before: Published =
            store.get_meta(&key)?.and_then(|bytes| serde_json::from_slice(&bytes).ok()).unwrap_or_default();
        let tags = raw.office.tags.clone();
        let reaches = |target: &Target| target.reaches_office(&id, &tags);
        let signage = &mut raw.signage;
        // What the last publication put here goes; the office's own entries stay.
        signage.schedules.retain(|s| !before.schedules.contains(&s.id));
        signage.urgent.retain(|u| !before.urgent.contains(&u.id));
        signage.playlists.retain(|p| !before.playlists.contains(&p.id));
        if before.ticker {
            signage.ticker.clear();
        }
        let mut now = Published::default();
        for schedule in catalog.schedules.iter().filter(|s| reaches(&s.target)) {
            signage.schedules.retain(|s| s.id != schedule.id);
            signage.schedules.push(schedule.clone());
            now.schedules.insert(schedule.id.clone());
            now.playlists.insert(schedule.playlist.clone());
        }
        for playlist in catalog.playlists.iter().filter(|p| now.playlists.contains(&p.id)) {
            signage.playlists.retain(|p| p.id != playlist.id);
            signage.playlists.push(playlist.clone());
        }
        for urgent in catalog.urgent.iter().filter(|u| reaches(&u.target)) {
            signage.urgent.retain(|u| u.id != urgent.id);
            signage.urgent.push(urgent.clone());
            now.urgent.insert(urgent.id.clone());
        }
        if !catalog.ticker.is_empty() {
            signage.ticker = catalog.ticker.clone();
            now.ticker = true;
        }
        // The media its playlists use: published ones added, ones no longer used removed.
        let used: BTreeSet<String> =
            signage.playlists.iter().flat_map(|p| p.items.iter().filter_map(|i| i.media.clone())).collect();
        signage.media.retain(|m| used.contains(&m.sha256) || !before.media.contains(&m.sha256));
        for media in catalog.media.iter().filter(|m| used.contains(&m.sha256)) {
            if !signage.media.iter().any(|m| m.sha256 == media.sha256) {
                signage.media.push(media.clone());
                now.media.insert(media.sha256.clone());
            }
        }
        now.media.extend(before.media.iter().filter(|sha| used.contains(*sha)).cloned());
        if let Err(problems) = raw.clone().validate() {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            outcomes.push(Outcome { office: id, changed: false, problem: Some(list.join("; ")) });
            continue;
        }
        let changed = hub.set_config(&id, &raw, None)?;
        let bytes = serde_json::to_vec(&now).map_err(|e| StoreError::Transaction(e.to_string()))?;
        store.put_meta(&key, &bytes)?;
        outcomes.push(Outcome { office: id, changed, problem: None });
    }
    store.flush()?;
    Ok(outcomes)
}
