//! When the box itself fails the office must not pretend: a store that stops writing (a full
//! disk: sled then fails every write until restart) turns the edge out of service and ends the
//! daemon, so systemd restarts it from what is on disk; a clock behind what is stored (a stale
//! RTC before NTP) issues nothing until it is right.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fila_edge::{demo, App};
use fila_store::{SledStore, Store, StoreError};
use reqwest::StatusCode;
use serde_json::json;

/// sled, until the disk is "full": then every write and flush fails, as sled's do.
struct FillingDisk {
    sled: SledStore,
    full: Arc<AtomicBool>,
}

impl FillingDisk {
    fn check(&self) -> Result<(), StoreError> {
        match self.full.load(Ordering::SeqCst) {
            true => Err(StoreError::Io(std::io::Error::other("No space left on device"))),
            false => Ok(()),
        }
    }
}

impl Store for FillingDisk {
    fn append_chunk(&self, doc_id: &str, bytes: &[u8]) -> Result<u64, StoreError> {
        self.check()?;
        self.sled.append_chunk(doc_id, bytes)
    }
    fn replace_chunks(&self, doc_id: &str, snapshot: &[u8]) -> Result<(), StoreError> {
        self.check()?;
        self.sled.replace_chunks(doc_id, snapshot)
    }
    fn chunks_after(&self, doc_id: &str, after: Option<u64>) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.sled.chunks_after(doc_id, after)
    }
    fn chunk_count(&self, doc_id: &str) -> Result<usize, StoreError> {
        self.sled.chunk_count(doc_id)
    }
    fn flush(&self) -> Result<(), StoreError> {
        self.check()?;
        self.sled.flush()
    }
    fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.sled.get_meta(key)
    }
    fn put_meta(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.check()?;
        self.sled.put_meta(key, value)
    }
    fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        self.check()?;
        self.sled.delete_meta(key)
    }
    fn scan_meta(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.sled.scan_meta(prefix)
    }
}

#[tokio::test]
async fn a_full_disk_takes_the_office_out_of_service_and_ends_the_daemon() {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = demo::settings("127.0.0.1:0".parse().expect("address"), dir.path().to_path_buf());
    let full = Arc::new(AtomicBool::new(false));
    let sled = SledStore::open(&dir.path().join("store"), 8 << 20).expect("store");
    let store = Arc::new(FillingDisk { sled, full: full.clone() });
    let app = App::build_with_store(settings, fila_edge::office_loop::system_clock(), store).expect("edge starts");
    let base = format!("http://127.0.0.1:{}", app.port());
    let daemon = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::new();
    let issue = || {
        client
            .post(format!("{base}/api/v1/tickets"))
            .bearer_auth(common::KIOSK)
            .json(&json!({"service": "general"}))
            .send()
    };
    assert_eq!(issue().await.expect("answer").status(), StatusCode::CREATED);

    full.store(true, Ordering::SeqCst);
    let refused = issue().await.expect("answer");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE, "nothing is acknowledged that is not on disk");
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error"], "out_of_service", "{body}");

    // The daemon ends with the reason (main turns it into a non-zero exit for systemd).
    let ended = tokio::time::timeout(Duration::from_secs(15), daemon).await.expect("the daemon stops").expect("task");
    let reason = ended.expect_err("a failed store is an error exit").to_string();
    assert!(reason.contains("store failed"), "{reason}");
}

#[tokio::test]
async fn a_clock_behind_the_last_stored_change_issues_nothing_until_it_is_right() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = 1_796_040_000_000; // 2026-11-30 09:00 in Buenos Aires
    let (clock, now) = common::manual_clock(start);
    let edge = common::spawn_with_clock(dir.path(), clock.clone()).await;
    assert_eq!(edge.issue("general").await["number"], "A-001");
    edge.stop().await;

    // The box boots with its RTC a day behind: yesterday, by its clock.
    now.store(start - 24 * 3600 * 1000, Ordering::SeqCst);
    let edge = common::spawn_with_clock(dir.path(), clock).await;
    let (status, body) = edge.post("/api/v1/tickets", Some(common::KIOSK), json!({"service": "general"})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "clock_behind", "{body}");
    let supervisor = edge.login("sara").await;
    let (_, queue) = edge.get("/api/v1/queue", Some(&supervisor)).await;
    let alerts = queue["alerts"].as_array().expect("alerts");
    assert!(alerts.iter().any(|a| a["kind"] == "clock_behind"), "{queue}");

    // NTP puts the clock right: the day goes on where it was.
    now.store(start + 60_000, Ordering::SeqCst);
    assert_eq!(edge.issue("general").await["number"], "A-002", "numbering never restarts");
    edge.stop().await;
}

#[tokio::test]
async fn a_handler_that_panics_on_the_office_loop_costs_only_its_own_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = demo::settings("127.0.0.1:0".parse().expect("address"), dir.path().to_path_buf());
    let app = App::build(settings).expect("edge starts");
    let office = app.office();
    let base = format!("http://127.0.0.1:{}", app.port());
    let handle = app.handle();
    let daemon = tokio::spawn(app.run_until_stopped());

    let bug = office.query(|_, _| -> usize { panic!("a bug in a handler's query") }).await;
    assert!(bug.is_err(), "the request that hit the bug fails");
    assert_eq!(office.fatal(), None, "the office goes on");
    let client = reqwest::Client::new();
    let response = client
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(common::KIOSK)
        .json(&json!({"service": "general"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), StatusCode::CREATED);
    handle.stop(true).await;
    daemon.await.expect("task").expect("a clean stop");
}
