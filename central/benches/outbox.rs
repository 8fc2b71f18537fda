//! Central's outbox into an SMTP server on loopback, as BENCHMARKS.md reports (issue 9's
//! target: at least 200 notices/s, with RSS): reminders for a national network.
//!
//! `cargo bench -p fila-central --bench outbox` opens central's outbox (`fila_central::outbox`)
//! on a fresh sled store, as `fila-central` does, with `[notices.smtp]` pointing at aiosmtpd
//! (Debian's `python3-aiosmtpd`). It queues `FILA_BENCH_NOTICES` e-mails (default 5,000), each
//! to its own address, every one stored durably before the call returns, and measures:
//! - queueing: notices stored per second, one call after another;
//! - sending: from the first queued until the server has accepted the last, notices per second,
//!   with the process's RSS at the end and its peak.
//!
//! Each notice is on disk as `Sending` before its message leaves and as `Sent` after, so the
//! figure includes two durable writes per notice besides the SMTP dialogue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fila_central::hub::Clock;
use fila_central::outbox::CentralOutbox;
use fila_central::settings::Settings;
use fila_central::surveys::Surveys;
use fila_notify::contact::Contact;
use fila_notify::kind::NoticeKind;
use fila_notify::template::Rendered;
use fila_notify::testing::{Mode, SmtpServer};
use fila_protocol::Timestamp;
use fila_store::{SledStore, Store};

fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let notices: usize = std::env::var("FILA_BENCH_NOTICES").ok().and_then(|n| n.parse().ok()).unwrap_or(5000);
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else {
        panic!("the bench needs python3-aiosmtpd");
    };
    let dir = tempfile::tempdir().expect("dir");
    let text = format!("[server]\ndata = {:?}\n\n[notices.smtp]\n{}", dir.path(), smtp.settings_toml("none", ""));
    let settings = Settings::parse(&text).expect("bench settings");
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&dir.path().join("store"), 32 << 20).expect("store"));
    let clock: Clock = Arc::new(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    });
    let outbox = Arc::new(
        CentralOutbox::open(store.clone(), &settings, "http://127.0.0.1", Timestamp(clock()))
            .expect("the outbox opens"),
    );
    let surveys = Arc::new(Surveys::new(store, &settings.offices));
    let (rss_before, _) = rss_kib();

    let began = Instant::now();
    let queue = {
        let (outbox, clock) = (outbox.clone(), clock.clone());
        tokio::task::spawn_blocking(move || {
            for n in 0..notices {
                let contact = Contact::parse(&format!("citizen{n}@example.org"), "").expect("an address");
                let message = Rendered {
                    subject: "Oficina Centro: recordatorio de su cita".into(),
                    text: format!("Le recordamos su cita {n} el 12/01/2027 a las 09:30."),
                    opt_out_link: None,
                };
                let queued = outbox
                    .send(&format!("bench/{n}"), NoticeKind::Reminder, contact, message, Timestamp(clock()))
                    .expect("queued");
                assert!(queued);
            }
        })
    };
    // Sending starts as the first notice is queued, as it would in service.
    let tasks = outbox.start(clock, surveys);
    queue.await.expect("queueing finished");
    let queued_in = began.elapsed();
    while smtp.message(notices).is_none() {
        assert!(began.elapsed() < Duration::from_secs(600), "not all sent in ten minutes");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent_in = began.elapsed();
    let (rss, peak) = rss_kib();
    let counts = outbox.counts();
    println!(
        "queued {notices} notices in {:.2} s: {:.0} notices/s stored",
        queued_in.as_secs_f64(),
        notices as f64 / queued_in.as_secs_f64()
    );
    println!(
        "sent {notices} notices in {:.2} s: {:.0} notices/s accepted by the SMTP server (sent {}, failed {})",
        sent_in.as_secs_f64(),
        notices as f64 / sent_in.as_secs_f64(),
        counts.sent,
        counts.failed
    );
    println!("RSS {} MiB before, {} MiB after (peak {} MiB)", rss_before / 1024, rss / 1024, peak / 1024);
    for task in tasks {
        task.abort();
    }
}
