//! The outbox's notices in the daemon's store, one value per notice.

use fila_store::{Store, StoreError};

use crate::outbox::{Notice, NoticeKey};

const NOTICE: &str = "notify/notice/";

/// Every stored notice; one that does not read back is logged and left out.
pub fn load(store: &dyn Store) -> Result<Vec<Notice>, StoreError> {
    let mut notices = Vec::new();
    for (key, bytes) in store.scan_meta(NOTICE)? {
        match serde_json::from_slice::<Notice>(&bytes) {
            Ok(notice) => notices.push(notice),
            Err(error) => tracing::warn!(%key, %error, "a stored notice does not read back; it is left out"),
        }
    }
    Ok(notices)
}

/// Writes `notices`; durable after the store's flush.
pub fn save(store: &dyn Store, notices: &[Notice]) -> Result<(), StoreError> {
    for notice in notices {
        let bytes = serde_json::to_vec(notice).map_err(|e| StoreError::Transaction(e.to_string()))?;
        store.put_meta(&format!("{NOTICE}{}", notice.key.storage_key()), &bytes)?;
    }
    Ok(())
}

pub fn delete(store: &dyn Store, keys: &[NoticeKey]) -> Result<(), StoreError> {
    for key in keys {
        store.delete_meta(&format!("{NOTICE}{}", key.storage_key()))?;
    }
    Ok(())
}
