//! The contact book on the real store: what is kept, for how long, and what an opt-out stops.

use std::sync::Arc;

use fila_notify::contact::Contact;
use fila_notify::contact_book::ContactBook;
use fila_store::{SledStore, Store};
use jiff::{SignedDuration, Timestamp};

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_796_371_200 + seconds).expect("in range")
}

fn open(dir: &std::path::Path) -> (Arc<dyn Store>, ContactBook) {
    // sled's background flusher lets go of the directory lock a moment after a drop.
    let store = (0..100)
        .find_map(|_| {
            SledStore::open(dir, 8 << 20).inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(50))).ok()
        })
        .expect("store");
    let store: Arc<dyn Store> = Arc::new(store);
    let book = ContactBook::open(store.clone()).expect("book");
    (store, book)
}

fn phone() -> Contact {
    Contact::phone("+34 600 111 222", "34").expect("a number")
}

#[test]
fn a_contact_is_kept_for_its_cause_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, book) = open(dir.path());
    book.put("ticket/centro/2026-12-04/000001", phone(), "es", at(0)).expect("put");
    let fingerprint = book.fingerprint(&phone());
    store.flush().expect("flush");
    drop((store, book));
    let (_store, book) = open(dir.path());
    let stored = book.get("ticket/centro/2026-12-04/000001").expect("get").expect("kept");
    assert_eq!((stored.contact, stored.lang.as_str()), (phone(), "es"));
    assert_eq!(book.fingerprint(&phone()), fingerprint, "the box's key is kept, so opt-outs still match");
    assert_eq!(book.causes("ticket/centro/2026-12-04/").expect("scan"), ["ticket/centro/2026-12-04/000001"]);
    assert!(book.get("ticket/centro/2026-12-04/000002").expect("get").is_none());
}

#[test]
fn an_opt_out_stops_that_contact_for_every_cause() {
    let dir = tempfile::tempdir().expect("dir");
    let (_store, book) = open(dir.path());
    book.put("ticket/centro/2026-12-04/000001", phone(), "es", at(0)).expect("put");
    book.put("ticket/centro/2026-12-05/000007", phone(), "es", at(86_400)).expect("put");
    book.opt_out(&phone(), Some("ticket/centro/2026-12-04/000001"), at(10)).expect("opt out");
    assert!(book.get("ticket/centro/2026-12-04/000001").expect("get").is_none(), "deleted");
    assert!(book.get("ticket/centro/2026-12-05/000007").expect("get").is_none(), "stopped");
    let other = Contact::email("ana@example.org").expect("address");
    book.put("ticket/centro/2026-12-05/000008", other, "en", at(0)).expect("put");
    assert!(book.has("ticket/centro/2026-12-05/000008").expect("get"));
}

#[test]
fn contacts_older_than_the_retention_period_are_deleted() {
    let dir = tempfile::tempdir().expect("dir");
    let (store, book) = open(dir.path());
    book.put("ticket/centro/2026-11-01/000001", phone(), "es", at(0)).expect("put");
    let later = at(0) + SignedDuration::from_hours(24 * 33);
    book.put("ticket/centro/2026-12-04/000001", phone(), "es", later).expect("put");
    assert_eq!(book.purge(at(0) + SignedDuration::from_hours(24 * 3)).expect("purge"), 1);
    assert_eq!(book.causes("ticket/").expect("scan"), ["ticket/centro/2026-12-04/000001"]);
    let raw = store.scan_meta("").expect("scan");
    assert_eq!(raw.iter().filter(|(key, _)| key.contains("2026-11-01")).count(), 0, "nothing of it is left");
}
