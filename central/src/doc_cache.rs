//! Documents central reads and writes while no edge holds them live. A day of appointments that
//! citizens are booking is read for every free-slot query and written for every booking; loaded
//! from its chunks each time (one chunk per booking, never compacted without a connection), both
//! grew with the day's bookings. The hub keeps the most recently used ones here, loaded.
//!
//! A document is here or live in its office's connection, never both: a connection takes it
//! out when it starts syncing it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use automerge::AutoCommit;

/// `T` is the document as the hub keeps it (with the last stored chunk it holds).
pub struct DocCache<T> {
    docs: Mutex<HashMap<String, Cached<T>>>,
    capacity: usize,
    uses: AtomicU64,
}

struct Cached<T> {
    doc: Arc<Mutex<T>>,
    used: u64,
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<T: Clone> DocCache<T> {
    pub fn new(capacity: usize) -> DocCache<T> {
        DocCache { docs: Mutex::new(HashMap::new()), capacity: capacity.max(1), uses: AtomicU64::new(0) }
    }

    /// The document, loaded with `load` if it is not here; the least recently used one goes
    /// when the cache is full. The caller serialises uses of one document (the office's lock).
    pub fn get<E>(&self, doc_id: &str, load: impl FnOnce() -> Result<T, E>) -> Result<Arc<Mutex<T>>, E> {
        let used = self.uses.fetch_add(1, Ordering::Relaxed);
        if let Some(cached) = lock(&self.docs).get_mut(doc_id) {
            cached.used = used;
            return Ok(cached.doc.clone());
        }
        let doc = Arc::new(Mutex::new(load()?));
        let mut docs = lock(&self.docs);
        if docs.len() >= self.capacity {
            if let Some(oldest) = docs.iter().min_by_key(|(_, cached)| cached.used).map(|(id, _)| id.clone()) {
                docs.remove(&oldest);
            }
        }
        docs.insert(doc_id.to_string(), Cached { doc: doc.clone(), used });
        Ok(doc)
    }

    /// Takes a document out (a connection now holds it live), if it is here.
    pub fn take(&self, doc_id: &str) -> Option<T> {
        let cached = lock(&self.docs).remove(doc_id)?;
        // Out of the map, the document is normally held by nobody else: moved, not copied.
        let doc = match Arc::try_unwrap(cached.doc) {
            Ok(doc) => doc.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner),
            Err(shared) => lock(&shared).clone(),
        };
        Some(doc)
    }

    /// Drops a document whose copy here may be wrong (an edit that failed halfway, or a change
    /// another replica stored).
    pub fn forget(&self, doc_id: &str) {
        lock(&self.docs).remove(doc_id);
    }

    /// Drops every document (another replica may have changed any of them).
    pub fn forget_all(&self) {
        lock(&self.docs).clear();
    }
}

/// What was last read out of documents, by document and the heads it was read at: a document
/// read again unchanged (a day of appointments asked for its free slots by every citizen) is not
/// read again.
pub struct ReadCache<T> {
    reads: Mutex<HashMap<String, Read<T>>>,
    capacity: usize,
    uses: AtomicU64,
}

/// A document's heads when it was read, what it read as, and when it was last used.
struct Read<T> {
    heads: Vec<automerge::ChangeHash>,
    value: Arc<T>,
    used: u64,
}

impl<T> ReadCache<T> {
    pub fn new(capacity: usize) -> ReadCache<T> {
        ReadCache { reads: Mutex::new(HashMap::new()), capacity: capacity.max(1), uses: AtomicU64::new(0) }
    }

    /// Keeps what `doc_id` reads as at `heads`, known without reading it (what a write made).
    pub fn put(&self, doc_id: &str, heads: Vec<automerge::ChangeHash>, value: T) {
        self.keep(doc_id, heads, Arc::new(value));
    }

    /// `read` of `doc`, or what it gave the last time the document had these heads.
    pub fn read<E>(
        &self,
        doc_id: &str,
        doc: &mut AutoCommit,
        read: impl FnOnce(&mut AutoCommit) -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let heads = doc.get_heads();
        if let Some(kept) = lock(&self.reads).get_mut(doc_id) {
            if kept.heads == heads {
                kept.used = self.uses.fetch_add(1, Ordering::Relaxed);
                return Ok(kept.value.clone());
            }
        }
        let value = Arc::new(read(doc)?);
        self.keep(doc_id, heads, value.clone());
        Ok(value)
    }

    fn keep(&self, doc_id: &str, heads: Vec<automerge::ChangeHash>, value: Arc<T>) {
        let used = self.uses.fetch_add(1, Ordering::Relaxed);
        let mut reads = lock(&self.reads);
        if reads.len() >= self.capacity && !reads.contains_key(doc_id) {
            // The least recently used quarter goes at once: one sort now and then, rather than
            // a search for the oldest at every read of a full cache.
            let mut stamps: Vec<u64> = reads.values().map(|kept| kept.used).collect();
            let quarter = (stamps.len() / 4).max(1);
            let (_, cut, _) = stamps.select_nth_unstable(quarter - 1);
            let cut = *cut;
            reads.retain(|_, kept| kept.used > cut);
        }
        reads.insert(doc_id.to_string(), Read { heads, value, used });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(n: i64) -> AutoCommit {
        let mut doc = AutoCommit::new();
        automerge::transaction::Transactable::put(&mut doc, automerge::ROOT, "n", n).expect("put");
        doc
    }

    #[test]
    fn a_full_cache_lets_the_least_recently_used_document_go() {
        let cache = DocCache::new(2);
        let loads = std::cell::Cell::new(0);
        let get = |id: &str, n: i64| {
            cache
                .get::<()>(id, || {
                    loads.set(loads.get() + 1);
                    Ok(doc(n))
                })
                .expect("loaded")
        };
        get("a", 1);
        get("b", 2);
        get("a", 1);
        get("c", 3);
        assert_eq!(loads.get(), 3);
        get("a", 1);
        assert_eq!(loads.get(), 3, "a was used more recently than b");
        get("b", 2);
        assert_eq!(loads.get(), 4, "b had gone");
        assert!(cache.take("b").is_some());
        assert!(cache.take("b").is_none(), "taken out, it is no longer here");
    }

    #[test]
    fn a_full_read_cache_keeps_the_recently_used_reads() {
        let cache: ReadCache<i64> = ReadCache::new(4);
        let mut docs: Vec<AutoCommit> = (0..6).map(doc).collect();
        let reads = std::cell::Cell::new(0);
        let read = |n: usize, docs: &mut Vec<AutoCommit>| {
            cache
                .read::<()>(&format!("d{n}"), &mut docs[n], |_| {
                    reads.set(reads.get() + 1);
                    Ok(n as i64)
                })
                .expect("read")
        };
        for n in 0..4 {
            read(n, &mut docs);
        }
        read(0, &mut docs);
        assert_eq!(reads.get(), 4, "d0 was kept");
        read(4, &mut docs);
        assert_eq!(reads.get(), 5);
        read(0, &mut docs);
        assert_eq!(reads.get(), 5, "the most recently used read stays when the cache fills");
        read(1, &mut docs);
        assert_eq!(reads.get(), 6, "the least recently used one went");
    }
}
