//! Signage media headquarters uploaded: each file checked by its content (`fila_media`) and kept
//! once, named by its SHA-256, in `<data>/media/`; what it is (type, size, dimensions, length,
//! who uploaded it) in the store's meta values beside the documents. Offices fetch files by hash
//! and check it, so a file is never changed in place: a new version is a new hash.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fila_media::{Limits, MediaInfo, MediaKind, MediaProblem};
use fila_protocol::Timestamp;
use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const RECORD: &str = "media/";
const UPLOADS: &str = "uploads";

/// One stored file, as headquarters lists it and offices' configurations refer to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRecord {
    pub sha256: String,
    /// `png`, `jpeg`, `webp`, `mp4` or `webm`.
    pub kind: MediaKind,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    pub duration_ms: Option<u64>,
    /// The headquarters administrator who uploaded it first.
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    #[error(transparent)]
    Refused(#[from] MediaProblem),
    #[error("the media library could not store the file: {0}")]
    Io(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct MediaLibrary {
    dir: PathBuf,
    store: Arc<dyn Store>,
    limits: Limits,
}

impl MediaLibrary {
    /// Blocking: makes `<data>/media` and clears uploads a crash left half-written.
    pub fn open(data_dir: &Path, store: Arc<dyn Store>, limits: Limits) -> std::io::Result<MediaLibrary> {
        let dir = data_dir.join("media");
        let uploads = dir.join(UPLOADS);
        if uploads.exists() {
            std::fs::remove_dir_all(&uploads)?;
        }
        std::fs::create_dir_all(&uploads)?;
        Ok(MediaLibrary { dir, store, limits })
    }

    /// The largest file worth receiving: any longer upload is refused as it arrives.
    pub fn bytes_max(&self) -> u64 {
        self.limits.image_bytes_max.max(self.limits.video_bytes_max)
    }

    /// A fresh file for an upload in progress, and its path.
    pub fn upload_file(&self) -> std::io::Result<(PathBuf, std::fs::File)> {
        let path = self.dir.join(UPLOADS).join(crate::auth::random_token());
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        Ok((path, file))
    }

    /// Checks the upload at `upload` (whose SHA-256 the caller computed while receiving it) and
    /// keeps it under its hash, durably, unless the same file is there already: then the
    /// upload goes and the stored record answers, with `false`. A refused upload is deleted.
    /// Blocking.
    pub fn admit(
        &self,
        upload: &Path,
        sha256: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<(MediaRecord, bool), AdmitError> {
        let result = self.admit_checked(upload, sha256, by, now);
        // Gone once admitted (renamed) or refused; a leftover would only waste the disk.
        let _ = std::fs::remove_file(upload);
        result
    }

    fn admit_checked(
        &self,
        upload: &Path,
        sha256: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<(MediaRecord, bool), AdmitError> {
        if let Some(existing) = self.get(sha256)? {
            return Ok((existing, false));
        }
        let io = |e: std::io::Error| AdmitError::Io(e.to_string());
        let mut file = std::fs::File::open(upload).map_err(io)?;
        let info = fila_media::inspect(&mut file, &self.limits)?;
        let record = record(sha256, info, by, now);
        let path = self.path(sha256);
        std::fs::rename(upload, &path).map_err(io)?;
        // The file's data was synced before the rename; the directory entry now too.
        std::fs::File::open(&self.dir).and_then(|dir| dir.sync_all()).map_err(io)?;
        // Before the record: a replica that sees the record finds the file (`here`).
        self.store.put_blob(&format!("{RECORD}{sha256}"), &path)?;
        let bytes = serde_json::to_vec(&record).map_err(|e| AdmitError::Io(e.to_string()))?;
        self.store.put_meta(&format!("{RECORD}{sha256}"), &bytes)?;
        self.store.flush()?;
        Ok((record, true))
    }

    pub fn get(&self, sha256: &str) -> Result<Option<MediaRecord>, StoreError> {
        if !fila_protocol::signage::is_sha256(sha256) {
            return Ok(None);
        }
        Ok(self.store.get_meta(&format!("{RECORD}{sha256}"))?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// Every stored file, newest first.
    pub fn list(&self) -> Result<Vec<MediaRecord>, StoreError> {
        let mut records: Vec<MediaRecord> = self
            .store
            .scan_meta(RECORD)?
            .into_iter()
            .filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok())
            .collect();
        records.sort_by_key(|r| std::cmp::Reverse(r.uploaded_at));
        Ok(records)
    }

    /// What is wrong with `named` (a configuration's or a catalog's files), one line per file that
    /// was not uploaded here as named: offices fetch them by hash from central. Blocking.
    pub fn not_uploaded(&self, named: &[fila_protocol::signage::MediaRef]) -> Vec<String> {
        named
            .iter()
            .enumerate()
            .filter(|(_, named)| match self.get(&named.sha256) {
                Ok(Some(stored)) => stored.kind.as_str() != named.kind || stored.bytes != named.bytes,
                _ => true,
            })
            .map(|(i, _)| format!("signage.media[{i}]: no file with this hash, kind and size was uploaded"))
            .collect()
    }

    /// Where a stored file is (whether or not it exists).
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.dir.join(sha256)
    }

    /// Makes sure the file of a stored record is on this disk: where replicas share the store,
    /// one uploaded through another is copied from it, and kept only if its hash checks out.
    /// Blocking.
    pub fn here(&self, sha256: &str) -> Result<(), AdmitError> {
        let path = self.path(sha256);
        if path.exists() {
            return Ok(());
        }
        let io = |e: std::io::Error| AdmitError::Io(e.to_string());
        let (part, _) = self.upload_file().map_err(io)?;
        let fetched = self.store.get_blob(&format!("{RECORD}{sha256}"), &part);
        let checked = match fetched {
            Ok(true) => {
                let mut file = std::fs::File::open(&part).map_err(io)?;
                let mut hasher = Sha256::new();
                std::io::copy(&mut file, &mut hasher).map_err(io)?;
                hex::encode(hasher.finalize()) == sha256
            }
            Ok(false) => false,
            Err(error) => {
                let _ = std::fs::remove_file(&part);
                return Err(error.into());
            }
        };
        if !checked {
            let _ = std::fs::remove_file(&part);
            return Err(AdmitError::Io(format!("the file {sha256} is not on this replica's disk nor in the store")));
        }
        std::fs::rename(&part, &path).map_err(io)?;
        tracing::info!(sha256, "signage file copied from the shared store");
        Ok(())
    }
}

fn record(sha256: &str, info: MediaInfo, by: &str, now: Timestamp) -> MediaRecord {
    MediaRecord {
        sha256: sha256.to_string(),
        kind: info.kind,
        bytes: info.bytes,
        width: info.width,
        height: info.height,
        duration_ms: info.duration_ms,
        uploaded_by: by.to_string(),
        uploaded_at: now.as_ms(),
    }
}
