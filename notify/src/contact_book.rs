//! Contacts kept beside the documents, in the daemon's store: one per ticket or booking (its
//! cause), deleted after the retention period, and the opt-out list, which holds fingerprints
//! only so it may outlive the contacts it stops.

use std::sync::Arc;

use fila_store::{Store, StoreError};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::contact::{Contact, Fingerprint};

const CONTACT: &str = "notify/contact/";
const OPT_OUT: &str = "notify/opt-out/";
const KEY: &str = "notify/key";

/// A contact as given, with the language of its messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredContact {
    pub contact: Contact,
    pub lang: String,
    pub stored_at: Timestamp,
}

#[derive(Clone)]
pub struct ContactBook {
    store: Arc<dyn Store>,
    /// The box's own key for fingerprints, made on first use and never leaving the store.
    key: Arc<[u8]>,
}

impl ContactBook {
    pub fn open(store: Arc<dyn Store>) -> Result<ContactBook, StoreError> {
        let key = match store.get_meta(KEY)? {
            Some(key) if key.len() == 32 => key,
            _ => {
                let mut key = vec![0u8; 32];
                rand::thread_rng().fill_bytes(&mut key);
                store.put_meta(KEY, &key)?;
                store.flush()?;
                key
            }
        };
        Ok(ContactBook { store, key: key.into() })
    }

    pub fn fingerprint(&self, contact: &Contact) -> Fingerprint {
        contact.fingerprint(&self.key)
    }

    /// A keyed hash of `text` with the box's key, in hex: for links that must prove they were
    /// made here (an opt-out link names its ticket and carries this of it).
    pub fn keyed_hash(&self, text: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            unreachable!("HMAC accepts a key of any length")
        };
        mac.update(b"link:");
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Keeps `contact` for `cause`, replacing one given before. Durable after the store's flush.
    pub fn put(&self, cause: &str, contact: Contact, lang: &str, now: Timestamp) -> Result<(), StoreError> {
        let stored = StoredContact { contact, lang: lang.into(), stored_at: now };
        let bytes = serde_json::to_vec(&stored).map_err(|e| StoreError::Transaction(e.to_string()))?;
        self.store.put_meta(&format!("{CONTACT}{cause}"), &bytes)
    }

    /// The contact for `cause`; none once it was deleted or its citizen opted out.
    pub fn get(&self, cause: &str) -> Result<Option<StoredContact>, StoreError> {
        let Some(bytes) = self.store.get_meta(&format!("{CONTACT}{cause}"))? else {
            return Ok(None);
        };
        let Ok(stored) = serde_json::from_slice::<StoredContact>(&bytes) else {
            tracing::warn!(%cause, "a stored contact does not read back; it is ignored");
            return Ok(None);
        };
        if self.opted_out(&stored.contact)? {
            return Ok(None);
        }
        Ok(Some(stored))
    }

    pub fn has(&self, cause: &str) -> Result<bool, StoreError> {
        Ok(self.get(cause)?.is_some())
    }

    pub fn remove(&self, cause: &str) -> Result<(), StoreError> {
        self.store.delete_meta(&format!("{CONTACT}{cause}"))
    }

    /// The causes that have a contact, under a prefix of causes (e.g. one business day's).
    pub fn causes(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let found = self.store.scan_meta(&format!("{CONTACT}{prefix}"))?;
        Ok(found.into_iter().map(|(key, _)| key[CONTACT.len()..].to_string()).collect())
    }

    /// The causes under `prefix` whose contact is `contact` (to stop them all on an opt-out).
    pub fn causes_of(&self, contact: &Contact, prefix: &str) -> Result<Vec<String>, StoreError> {
        let found = self.store.scan_meta(&format!("{CONTACT}{prefix}"))?;
        Ok(found
            .into_iter()
            .filter(|(_, bytes)| serde_json::from_slice::<StoredContact>(bytes).is_ok_and(|s| &s.contact == contact))
            .map(|(key, _)| key[CONTACT.len()..].to_string())
            .collect())
    }

    /// No more messages to this contact, for any cause: the citizen said STOP or followed the
    /// link. The contact of `cause` is deleted at once.
    pub fn opt_out(&self, contact: &Contact, cause: Option<&str>, now: Timestamp) -> Result<(), StoreError> {
        let fingerprint = self.fingerprint(contact);
        self.store.put_meta(&format!("{OPT_OUT}{}", fingerprint.0), now.to_string().as_bytes())?;
        if let Some(cause) = cause {
            self.remove(cause)?;
        }
        Ok(())
    }

    pub fn opted_out(&self, contact: &Contact) -> Result<bool, StoreError> {
        Ok(self.store.get_meta(&format!("{OPT_OUT}{}", self.fingerprint(contact).0))?.is_some())
    }

    /// Deletes every contact stored before `cutoff`; returns how many.
    pub fn purge(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        let mut deleted = 0;
        for (key, bytes) in self.store.scan_meta(CONTACT)? {
            let old = serde_json::from_slice::<StoredContact>(&bytes).map_or(true, |stored| stored.stored_at < cutoff);
            if old {
                self.store.delete_meta(&key)?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}
