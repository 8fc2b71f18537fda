//! The box's media cache: complete files in `<data>/media/<sha256>`, downloads in progress in
//! `<data>/media/partial/<sha256>` (kept across a cut or a restart, so a download resumes). A
//! file enters the cache only once its SHA-256 is checked; beyond the cap, the least recently
//! used files go, never one the schedules can play.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use fila_protocol::signage::is_sha256;
use serde::Serialize;
use sha2::{Digest, Sha256};

const PARTIAL: &str = "partial";

#[derive(Debug, Clone, Copy)]
struct Entry {
    bytes: u64,
    /// When a screen last asked for it, or it arrived (milliseconds since the epoch).
    used_ms: u128,
}

/// What the cache did, for supervisors and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounts {
    pub files: usize,
    pub bytes: u64,
    pub cap_bytes: u64,
    pub downloaded_bytes: u64,
    pub refused_by_hash: u64,
    pub evicted: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("the download's SHA-256 is {found}, not the {wanted} asked for; it is discarded")]
    HashMismatch { wanted: String, found: String },
    #[error("the media cache could not write: {0}")]
    Io(#[from] std::io::Error),
}

pub struct MediaCache {
    dir: PathBuf,
    cap_bytes: u64,
    state: Mutex<State>,
}

struct State {
    entries: BTreeMap<String, Entry>,
    counts: CacheCounts,
}

impl MediaCache {
    /// Blocking: finds what an earlier run left complete (partial downloads stay to resume).
    pub fn open(data_dir: &Path, cap_bytes: u64) -> std::io::Result<MediaCache> {
        let dir = data_dir.join("media");
        std::fs::create_dir_all(dir.join(PARTIAL))?;
        let mut entries = BTreeMap::new();
        for file in std::fs::read_dir(&dir)? {
            let file = file?;
            let name = file.file_name().to_string_lossy().into_owned();
            let meta = file.metadata()?;
            if meta.is_file() && is_sha256(&name) {
                let used_ms = meta.modified().map(millis).unwrap_or(0);
                entries.insert(name, Entry { bytes: meta.len(), used_ms });
            }
        }
        let counts = CacheCounts { cap_bytes, ..CacheCounts::default() };
        Ok(MediaCache { dir, cap_bytes, state: Mutex::new(State { entries, counts }) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn has(&self, sha256: &str) -> bool {
        self.state().entries.contains_key(sha256)
    }

    /// The file for a screen, marked as just used; none until it is here whole and checked.
    pub fn open_for_screen(&self, sha256: &str) -> Option<PathBuf> {
        let mut state = self.state();
        let entry = state.entries.get_mut(sha256)?;
        entry.used_ms = millis(SystemTime::now());
        Some(self.dir.join(sha256))
    }

    pub fn partial_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(PARTIAL).join(sha256)
    }

    /// Bytes of `sha256` already downloaded.
    pub fn partial_len(&self, sha256: &str) -> u64 {
        std::fs::metadata(self.partial_path(sha256)).map(|m| m.len()).unwrap_or(0)
    }

    pub fn count_downloaded(&self, bytes: u64) {
        self.state().counts.downloaded_bytes += bytes;
    }

    /// The download of `sha256` is complete: checked by hash, it enters the cache; otherwise it
    /// is discarded whole (a corrupted byte anywhere cannot be found and fixed). Blocking.
    pub fn finish(&self, sha256: &str) -> Result<(), CacheError> {
        let partial = self.partial_path(sha256);
        let found = hash_file(&partial)?;
        if found != sha256 {
            let _ = std::fs::remove_file(&partial);
            self.state().counts.refused_by_hash += 1;
            return Err(CacheError::HashMismatch { wanted: sha256.to_string(), found });
        }
        std::fs::File::open(&partial)?.sync_all()?;
        let path = self.dir.join(sha256);
        std::fs::rename(&partial, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        let bytes = std::fs::metadata(&path)?.len();
        self.state().entries.insert(sha256.to_string(), Entry { bytes, used_ms: millis(SystemTime::now()) });
        Ok(())
    }

    /// Beyond the cap, the least recently used files go, except those in `keep`; returns what
    /// went. Blocking.
    pub fn evict(&self, keep: &BTreeSet<String>) -> Vec<String> {
        let mut state = self.state();
        let mut total: u64 = state.entries.values().map(|e| e.bytes).sum();
        let mut by_use: Vec<(u128, String, u64)> = state
            .entries
            .iter()
            .filter(|(sha, _)| !keep.contains(*sha))
            .map(|(sha, e)| (e.used_ms, sha.clone(), e.bytes))
            .collect();
        by_use.sort();
        let mut gone = Vec::new();
        for (_, sha, bytes) in by_use {
            if total <= self.cap_bytes {
                break;
            }
            if std::fs::remove_file(self.dir.join(&sha)).is_ok() {
                state.entries.remove(&sha);
                total -= bytes;
                gone.push(sha);
            }
        }
        state.counts.evicted += gone.len() as u64;
        gone
    }

    pub fn counts(&self) -> CacheCounts {
        let state = self.state();
        CacheCounts { files: state.entries.len(), bytes: state.entries.values().map(|e| e.bytes).sum(), ..state.counts }
    }
}

fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

fn millis(at: SystemTime) -> u128 {
    at.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(cache: &MediaCache, bytes: &[u8]) -> String {
        let sha = hex::encode(Sha256::digest(bytes));
        std::fs::write(cache.partial_path(&sha), bytes).expect("written");
        cache.finish(&sha).expect("checked");
        sha
    }

    #[test]
    fn a_file_enters_only_with_its_hash_and_is_found_after_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = MediaCache::open(dir.path(), 1 << 20).expect("cache");
        let sha = put(&cache, b"a poster");
        assert!(cache.has(&sha));
        let wrong = "0".repeat(64);
        std::fs::write(cache.partial_path(&wrong), b"something else").expect("written");
        assert!(matches!(cache.finish(&wrong), Err(CacheError::HashMismatch { .. })));
        assert!(!cache.has(&wrong) && cache.partial_len(&wrong) == 0, "discarded");
        assert_eq!(cache.counts().refused_by_hash, 1);
        let reopened = MediaCache::open(dir.path(), 1 << 20).expect("cache");
        assert!(reopened.has(&sha) && reopened.open_for_screen(&sha).is_some());
    }

    #[test]
    fn beyond_the_cap_the_least_recently_used_go_but_never_what_the_schedules_play() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = MediaCache::open(dir.path(), 25).expect("cache");
        let old = put(&cache, &[1u8; 10]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let scheduled = put(&cache, &[2u8; 10]);
        std::thread::sleep(std::time::Duration::from_millis(5));
        let recent = put(&cache, &[3u8; 10]);
        // The oldest is played again: it is the most recently used now.
        std::thread::sleep(std::time::Duration::from_millis(5));
        cache.open_for_screen(&old);
        let keep: BTreeSet<String> = [scheduled.clone()].into();
        assert_eq!(cache.evict(&keep), std::slice::from_ref(&recent));
        assert!(cache.has(&old) && cache.has(&scheduled) && !cache.has(&recent));
        assert_eq!(cache.counts().bytes, 20);
    }
}
