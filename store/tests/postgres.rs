//! The PostgreSQL store as two central replicas see it: each its own `PgStore` on one database.

use std::sync::mpsc;
use std::time::Duration;

use fila_store::testing::TempDatabase;
use fila_store::{PgStore, Store, StoredElsewhere};

fn migrated() -> Option<TempDatabase> {
    let db = TempDatabase::create()?;
    PgStore::migrate(db.url()).expect("migrates");
    Some(db)
}

#[test]
fn a_database_nobody_migrated_is_refused_with_the_command_that_fixes_it() {
    let Some(db) = TempDatabase::create() else { return };
    let refused = PgStore::open(db.url()).err().expect("refused").to_string();
    assert!(refused.contains("fila-central migrate"), "{refused}");
    assert_eq!(PgStore::migrate(db.url()).expect("migrates"), vec![1, 2]);
    assert_eq!(PgStore::migrate(db.url()).expect("again"), Vec::<i32>::new(), "nothing left to apply");
    PgStore::open(db.url()).expect("opens once migrated");
}

#[test]
fn a_replica_reads_what_another_committed_and_nothing_before_the_commit() {
    let Some(db) = migrated() else { return };
    let (a, b) = (PgStore::open(db.url()).expect("a"), PgStore::open(db.url()).expect("b"));
    let doc = "branch/centro/config";
    assert_eq!(a.append_chunk(doc, b"one").expect("append"), 1);
    a.put_meta("sync/x", b"state").expect("put");
    assert_eq!(a.get_meta("sync/x").expect("own write"), Some(b"state".to_vec()), "a process reads its own writes");
    assert!(b.chunks(doc).expect("read").is_empty(), "not committed yet");
    assert_eq!(b.get_meta("sync/x").expect("read"), None);
    a.flush().expect("commit");
    assert_eq!(b.append_chunk(doc, b"two").expect("append"), 2, "sequences continue across replicas");
    b.flush().expect("commit");
    assert_eq!(a.chunks_after(doc, None).expect("read"), vec![(1, b"one".to_vec()), (2, b"two".to_vec())]);
    assert_eq!(a.chunks_after(doc, Some(1)).expect("read"), vec![(2, b"two".to_vec())]);
    assert_eq!(b.get_meta("sync/x").expect("read"), Some(b"state".to_vec()));
}

#[test]
fn a_snapshot_replaces_what_it_holds_and_keeps_what_another_replica_wrote_after() {
    let Some(db) = migrated() else { return };
    let (a, b) = (PgStore::open(db.url()).expect("a"), PgStore::open(db.url()).expect("b"));
    let doc = "branch/centro/day/2026-12-07";
    for chunk in [&b"1"[..], b"2", b"3"] {
        a.append_chunk(doc, chunk).expect("append");
    }
    a.flush().expect("commit");
    b.append_chunk(doc, b"4 from b").expect("append");
    b.flush().expect("commit");
    // A compacts what it had read (through 3), not knowing of b's fourth chunk.
    a.replace_chunks_through(doc, b"123", 3).expect("compact");
    a.flush().expect("commit");
    assert_eq!(b.chunks(doc).expect("read"), vec![b"123".to_vec(), b"4 from b".to_vec()]);
    assert_eq!(b.chunk_count(doc).expect("count"), 2);
    assert_eq!(a.append_chunk(doc, b"5").expect("append"), 5);
}

#[test]
fn a_documents_last_sequence_moves_with_each_replicas_chunks_and_stays_through_a_compaction() {
    let Some(db) = migrated() else { return };
    let (a, b) = (PgStore::open(db.url()).expect("a"), PgStore::open(db.url()).expect("b"));
    let (day, config, none) = ("branch/centro/day/2026-12-07", "branch/centro/config", "branch/norte/config");
    let docs = [day.to_string(), config.to_string(), none.to_string()];
    a.append_chunk(day, b"1").expect("append");
    a.append_chunk(config, b"c").expect("append");
    assert_eq!(a.last_seqs(&docs).expect("seqs"), [Some(1), Some(1), None], "its own open transaction counts");
    assert_eq!(b.last_seqs(&docs).expect("seqs"), [None, None, None], "not committed yet");
    a.flush().expect("commit");
    b.append_chunk(day, b"2").expect("append");
    b.flush().expect("commit");
    assert_eq!(a.last_seqs(&docs).expect("seqs"), [Some(2), Some(1), None]);
    // The same content compacted: what was computed from it stays true.
    a.replace_chunks_through(day, b"12", 2).expect("compact");
    a.flush().expect("commit");
    assert_eq!(b.last_seqs(&docs).expect("seqs"), [Some(2), Some(1), None]);
}

#[test]
fn meta_values_are_scanned_by_prefix_and_forgotten() {
    let Some(db) = migrated() else { return };
    let store = PgStore::open(db.url()).expect("open");
    for key in ["contact/a", "contact/b", "contactless", "doc/x"] {
        store.put_meta(key, key.as_bytes()).expect("put");
    }
    store.delete_meta("contact/a").expect("delete");
    store.flush().expect("commit");
    let found: Vec<String> = store.scan_meta("contact/").expect("scan").into_iter().map(|(k, _)| k).collect();
    assert_eq!(found, ["contact/b"]);
    assert_eq!(store.scan_meta("").expect("all").len(), 3);
}

#[test]
fn a_replica_hears_of_the_documents_another_commits_and_not_of_its_own() {
    let Some(db) = migrated() else { return };
    let (a, b) = (PgStore::open(db.url()).expect("a"), PgStore::open(db.url()).expect("b"));
    let heard = b.watch().expect("first watch");
    assert!(b.watch().is_none(), "one watcher per store");
    assert_eq!(heard.recv_timeout(Duration::from_secs(10)), Ok(StoredElsewhere::Anything), "listening");
    b.append_chunk("branch/norte/config", b"own").expect("append");
    b.flush().expect("commit");
    a.append_chunk("branch/centro/config", b"x").expect("append");
    a.put_meta("unrelated", b"y").expect("put");
    a.flush().expect("commit");
    assert_eq!(heard.recv_timeout(Duration::from_secs(10)), Ok(StoredElsewhere::Doc("branch/centro/config".into())));
    assert!(heard.recv_timeout(Duration::from_millis(300)).is_err(), "its own commit and meta values are not news");
}

#[test]
fn a_document_lock_waits_for_the_other_replica_to_let_go() {
    let Some(db) = migrated() else { return };
    let a = PgStore::open(db.url()).expect("a");
    let b = std::sync::Arc::new(PgStore::open(db.url()).expect("b"));
    let doc = "branch/centro/appointments/2026-12-07";
    a.lock_doc(doc).expect("a locks");
    let (got, took) = mpsc::channel();
    let waiter = {
        let b = b.clone();
        std::thread::spawn(move || {
            b.lock_doc(doc).expect("b locks");
            got.send(()).expect("told");
            b.unlock_doc(doc).expect("b unlocks");
        })
    };
    assert!(took.recv_timeout(Duration::from_millis(300)).is_err(), "b waits while a holds the lock");
    a.unlock_doc(doc).expect("a unlocks");
    took.recv_timeout(Duration::from_secs(10)).expect("b gets it once a lets go");
    waiter.join().expect("waiter");
}

#[test]
fn a_file_kept_through_one_replica_is_written_out_whole_by_the_other() {
    let Some(db) = migrated() else { return };
    let (a, b) = (PgStore::open(db.url()).expect("a"), PgStore::open(db.url()).expect("b"));
    let dir = tempfile::tempdir().expect("dir");
    // Larger than a part, and not a whole number of them.
    let bytes: Vec<u8> = (0..9_500_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(dir.path().join("upload"), &bytes).expect("file");
    assert!(a.put_blob("media/x", &dir.path().join("upload")).expect("kept"));
    assert!(a.put_blob("media/x", &dir.path().join("upload")).expect("kept once"), "a second upload is a no-op");
    assert!(b.get_blob("media/x", &dir.path().join("copy")).expect("read"));
    assert_eq!(std::fs::read(dir.path().join("copy")).expect("copy"), bytes);
    assert!(!b.get_blob("media/unknown", &dir.path().join("none")).expect("read"), "nothing kept by that name");
}
