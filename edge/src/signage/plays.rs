//! Proof of play on the box: screens report each play here; the box keeps them in its store
//! until central has them, so plays made offline are counted when the line is back, and sends
//! them in batches. A play's id makes a resend harmless at both ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fila_protocol::signage::{Play, PLAYS_PER_REPORT_MAX};
use fila_store::{Store, StoreError};

use crate::settings::CentralSettings;

const PLAY: &str = "signage/play/";
const EVERY: Duration = Duration::from_secs(5);
/// Plays a box keeps for central at most: beyond, the oldest reports are lost rather than the disk.
const KEPT_MAX: usize = 200_000;

#[derive(Clone)]
pub struct PlayLog {
    store: Arc<dyn Store>,
    /// Plays kept now: counted once at start, so a play does not scan them all.
    kept: Arc<AtomicUsize>,
}

impl PlayLog {
    /// Blocking: counts what an earlier run kept.
    pub fn open(store: Arc<dyn Store>) -> Result<PlayLog, StoreError> {
        let kept = store.scan_meta(PLAY)?.len();
        Ok(PlayLog { store, kept: Arc::new(AtomicUsize::new(kept)) })
    }

    /// Keeps a checked play, durably; `false` when this id was kept already. Blocking.
    pub fn record(&self, play: &Play) -> Result<bool, StoreError> {
        let key = format!("{PLAY}{}", play.id);
        if self.store.get_meta(&key)?.is_some() {
            return Ok(false);
        }
        if self.kept.load(Ordering::SeqCst) >= KEPT_MAX {
            return Err(StoreError::Transaction("too many plays wait for central".into()));
        }
        let bytes = serde_json::to_vec(play).map_err(|e| StoreError::Transaction(e.to_string()))?;
        self.store.put_meta(&key, &bytes)?;
        self.store.flush()?;
        self.kept.fetch_add(1, Ordering::SeqCst);
        Ok(true)
    }

    /// Plays central does not have yet, at most `limit`. Blocking.
    pub fn pending(&self, limit: usize) -> Result<Vec<Play>, StoreError> {
        Ok(self
            .store
            .scan_meta(PLAY)?
            .into_iter()
            .filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok())
            .take(limit)
            .collect())
    }

    /// Central has these. Blocking.
    pub fn delivered(&self, plays: &[Play]) -> Result<(), StoreError> {
        for play in plays {
            self.store.delete_meta(&format!("{PLAY}{}", play.id))?;
        }
        self.store.flush()?;
        let _ = self.kept.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| Some(n.saturating_sub(plays.len())));
        Ok(())
    }
}

/// Sends what screens played to central until aborted.
pub async fn run(central: CentralSettings, log: PlayLog) {
    let client = match central.http_client(|builder| builder.timeout(Duration::from_secs(30))) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot make the client that reports signage plays");
            return;
        }
    };
    let url = format!("{}/api/v1/branch/signage/plays", central.api_url());
    loop {
        let pending = {
            let log = log.clone();
            tokio::task::spawn_blocking(move || log.pending(PLAYS_PER_REPORT_MAX)).await
        };
        match pending {
            Ok(Ok(plays)) if !plays.is_empty() => {
                let sent = client.post(&url).bearer_auth(&central.token).json(&plays).send().await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        let log = log.clone();
                        let count = plays.len();
                        match tokio::task::spawn_blocking(move || log.delivered(&plays)).await {
                            Ok(Ok(())) => tracing::debug!(count, "signage plays reported"),
                            _ => tracing::error!("reported signage plays could not be cleared; they go again"),
                        }
                        continue;
                    }
                    Ok(response) => tracing::warn!(status = %response.status(), "central refused signage plays"),
                    Err(error) => tracing::debug!(error = %error.without_url(), "signage plays wait for central"),
                }
            }
            Ok(Ok(_)) => {}
            _ => tracing::error!("signage plays could not be read"),
        }
        tokio::time::sleep(EVERY).await;
    }
}
