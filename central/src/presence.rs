//! Which replica of central each office's box is connected to. A replica knows its own
//! connections; where replicas share a store, each writes the links it holds every couple of
//! seconds (one meta value per replica) and reads the others', so headquarters sees every
//! office online through whichever replica it asks. A replica silent for [`STALE_MS`] is
//! presumed gone, and its offices with it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::hub::Hub;

const PREFIX: &str = "presence/";
/// How often a replica writes its links and reads the others'.
pub const BEAT: Duration = Duration::from_secs(2);
/// A replica that has not written for this long is presumed gone.
pub const STALE_MS: i64 = 15_000;

/// An office's link to a replica, as the office list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub last_seen_ms: Option<i64>,
    pub sync_lag_ms: Option<i64>,
}

/// What one replica wrote: when, and the offices connected to it.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    at_ms: i64,
    offices: BTreeMap<String, Link>,
}

/// One beat: writes this replica's links, and gives the hub the links the other replicas wrote
/// recently. Blocking.
pub fn beat(store: &dyn Store, hub: &Hub, replica: &str, now_ms: i64) -> Result<(), StoreError> {
    let own = Row { at_ms: now_ms, offices: hub.links_here() };
    let bytes = serde_json::to_vec(&own).map_err(|e| StoreError::Transaction(e.to_string()))?;
    store.put_meta(&format!("{PREFIX}{replica}"), &bytes)?;
    store.flush()?;
    let mut elsewhere: BTreeMap<String, Link> = BTreeMap::new();
    for (key, bytes) in store.scan_meta(PREFIX)? {
        if key[PREFIX.len()..] == *replica {
            continue;
        }
        let Ok(row) = serde_json::from_slice::<Row>(&bytes) else {
            tracing::warn!(%key, "another replica's links do not read; left out");
            continue;
        };
        if now_ms - row.at_ms > STALE_MS {
            continue;
        }
        for (office, link) in row.offices {
            // Two replicas at once (a box moving between them): the one heard from last.
            let newer = elsewhere.get(&office).is_none_or(|kept| kept.last_seen_ms < link.last_seen_ms);
            if newer {
                elsewhere.insert(office, link);
            }
        }
    }
    hub.set_links_elsewhere(elsewhere);
    Ok(())
}

/// Beats for as long as central runs, where replicas share the store.
pub fn start(store: Arc<dyn Store>, hub: Arc<Hub>) -> Option<tokio::task::JoinHandle<()>> {
    if !store.shared() {
        return None;
    }
    let replica = crate::auth::random_token()[..16].to_string();
    Some(tokio::spawn(async move {
        loop {
            let (store, hub, replica) = (store.clone(), hub.clone(), replica.clone());
            let now = crate::hub::system_clock()();
            let beat = tokio::task::spawn_blocking(move || beat(store.as_ref(), &hub, &replica, now)).await;
            if !matches!(beat, Ok(Ok(()))) {
                tracing::warn!("cannot share which offices are connected to this replica");
            }
            tokio::time::sleep(BEAT).await;
        }
    }))
}
