//! The outbox's notices in the daemon's store, one value per notice.

use fila_store::{Store, StoreError};

use crate::outbox::{Notice, NoticeKey};

const NOTICE: &str = "notify/notice/";
/// Notices a process that does not send wrote, for the one that does to adopt.
const FOR_SENDER: &str = "notify/for-sender/";

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

/// Marks `notices` for the process that sends (where several share the store); durable after
/// the store's flush.
pub fn mark_for_sender(store: &dyn Store, notices: &[Notice]) -> Result<(), StoreError> {
    for notice in notices {
        store.put_meta(&format!("{FOR_SENDER}{}", notice.key.storage_key()), &[])?;
    }
    Ok(())
}

/// The notices marked for the sender, as stored now, and the marks taken off (durable after
/// the store's flush).
pub fn take_marked(store: &dyn Store) -> Result<Vec<Notice>, StoreError> {
    let mut notices = Vec::new();
    for (mark, _) in store.scan_meta(FOR_SENDER)? {
        let key = &mark[FOR_SENDER.len()..];
        if let Some(bytes) = store.get_meta(&format!("{NOTICE}{key}"))? {
            match serde_json::from_slice::<Notice>(&bytes) {
                Ok(notice) => notices.push(notice),
                Err(error) => tracing::warn!(%key, %error, "a stored notice does not read back; it is left out"),
            }
        }
        store.delete_meta(&mark)?;
    }
    Ok(notices)
}
