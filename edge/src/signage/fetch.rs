//! Fetching what the schedules can play from central, by hash: each missing file is asked for
//! from where its last download stopped (`Range`), at most at the configured rate so a morning's
//! campaign does not fill an office's line, and enters the cache only once its hash checks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tracing::Instrument;

use fila_protocol::signage::is_sha256;

use super::cache::MediaCache;
use crate::office_loop::OfficeHandle;
use crate::settings::CentralSettings;

/// How often the box looks for media it lacks (a configuration change is seen within this).
const EVERY: Duration = Duration::from_secs(5);
/// A stalled download gives up after this, and resumes on the next pass.
const STALL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("central is not reachable: {0}")]
    Unreachable(String),
    #[error("central answered {0}")]
    Status(u16),
    #[error("central sent more than the {0} bytes the file has")]
    TooLong(u64),
    #[error(transparent)]
    Cache(#[from] super::cache::CacheError),
    #[error("the download could not be written: {0}")]
    Io(#[from] std::io::Error),
}

/// The files the schedules can play now, by hash, with their size.
pub fn wanted(config: &fila_protocol::OfficeConfig) -> BTreeMap<String, u64> {
    let scheduled = config.signage.scheduled_media();
    config
        .signage
        .media
        .iter()
        .filter(|m| scheduled.contains(m.sha256.as_str()) && is_sha256(&m.sha256))
        .map(|m| (m.sha256.clone(), m.bytes))
        .collect()
}

/// Keeps the cache holding what the schedules can play, until aborted.
pub async fn run(
    central: CentralSettings,
    office: OfficeHandle,
    cache: Arc<MediaCache>,
    bytes_per_second: Option<u64>,
) {
    let client = match central.http_client(|builder| builder.read_timeout(STALL)) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "cannot make the client that fetches signage media");
            return;
        }
    };
    let api = central.api_url();
    loop {
        let wanted = wanted(&office.config());
        for (sha256, bytes) in wanted.iter().filter(|(sha, _)| !cache.has(sha)) {
            let fetched = download(&client, &api, &central.token, &cache, sha256, *bytes, bytes_per_second)
                .instrument(tracing::info_span!("media", sha256 = %sha256))
                .await;
            match fetched {
                Ok(()) => tracing::info!(%sha256, bytes, "signage media cached"),
                // Offline is normal for a box: screens play what is cached and this resumes.
                Err(error @ FetchError::Unreachable(_)) => {
                    tracing::debug!(%sha256, %error, "signage media not fetched")
                }
                Err(error) => tracing::warn!(%sha256, %error, "signage media not fetched"),
            }
        }
        let keep: BTreeSet<String> = wanted.into_keys().collect();
        let cache_for_eviction = cache.clone();
        let _ = tokio::task::spawn_blocking(move || cache_for_eviction.evict(&keep)).await;
        tokio::time::sleep(EVERY).await;
    }
}

/// One file, from where an earlier download stopped.
pub async fn download(
    client: &reqwest::Client,
    api: &str,
    token: &str,
    cache: &Arc<MediaCache>,
    sha256: &str,
    bytes: u64,
    bytes_per_second: Option<u64>,
) -> Result<(), FetchError> {
    let partial = cache.partial_path(sha256);
    let mut have = cache.partial_len(sha256);
    if have > bytes {
        have = 0;
    }
    let mut request = client.get(format!("{api}/api/v1/signage/media/{sha256}")).bearer_auth(token);
    if have > 0 && have < bytes {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let mut response = request.send().await.map_err(|e| FetchError::Unreachable(e.without_url().to_string()))?;
    let status = response.status().as_u16();
    let mut file = match status {
        206 => tokio::fs::OpenOptions::new().append(true).open(&partial).await?,
        200 => {
            have = 0;
            tokio::fs::File::create(&partial).await?
        }
        // Everything was here already.
        416 if have == bytes => return finish(cache, sha256).await,
        other => return Err(FetchError::Status(other)),
    };
    let started = Instant::now();
    let mut received = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::Unreachable(e.without_url().to_string()))? {
        if have + received + chunk.len() as u64 > bytes {
            drop(file);
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(FetchError::TooLong(bytes));
        }
        file.write_all(&chunk).await?;
        received += chunk.len() as u64;
        cache.count_downloaded(chunk.len() as u64);
        if let Some(rate) = bytes_per_second.filter(|r| *r > 0) {
            // Never ahead of the rate: wait until the time these bytes are worth has passed.
            let due = Duration::from_secs_f64(received as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
    file.flush().await?;
    drop(file);
    finish(cache, sha256).await
}

async fn finish(cache: &Arc<MediaCache>, sha256: &str) -> Result<(), FetchError> {
    let (cache, sha256) = (cache.clone(), sha256.to_string());
    tokio::task::spawn_blocking(move || cache.finish(&sha256))
        .await
        .map_err(|e| FetchError::Io(std::io::Error::other(e.to_string())))??;
    Ok(())
}
