//! From a ticket's finish to its survey invitation accepted by the SMTP server, as BENCHMARKS.md
//! reports (issue 9's target: p99 ≤ 2 s at the edge).
//!
//! `cargo bench -p fila-edge --bench survey_invite` starts the release `fila-edge run` with eight
//! counters and `[notices.smtp]` pointing at a real SMTP server on loopback (aiosmtpd, needs
//! Debian's `python3-aiosmtpd`). Every ticket is issued at the kiosk with an e-mail address, so it
//! also gets "your turn is near" and "you are called" messages. Measured, from the moment the
//! agent's `finish` is sent until the server has accepted that ticket's invitation:
//! - one finish at a time (the next ticket is called only once the invitation arrived), and
//! - all eight counters finishing at once, round after round.
//!
//! `FILA_BENCH_ROUNDS` sets the number of tickets in the first part and rounds in the second
//! (default 200 and 25).

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use fila_notify::testing::{Mode, SmtpServer};
use serde_json::{json, Value};

const KIOSK_TOKEN: &str = "bench-kiosk-token";
const COUNTERS: usize = 8;
/// How often the bench looks for a newly accepted message.
const POLL: Duration = Duration::from_millis(2);

fn config(port: u16, data: &Path, smtp: &SmtpServer) -> String {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata = \"{}\"\nkiosk_issues_per_minute = 1000000\nkiosk_issue_burst = 100000\n\n\
         [office]\nid = \"bench\"\nname = \"Bench office\"\ntime_zone = \"Europe/Madrid\"\n\n\
         [[services]]\nid = \"general\"\nprefix = \"A\"\nname = \"General\"\n\n",
        data.display()
    );
    let hash = fila_edge::auth::hash_password("bench");
    for c in 1..=COUNTERS {
        text += &format!("[[counters]]\nid = \"{c}\"\nname = \"Counter {c}\"\nservices = [\"general\"]\n\n");
        text += &format!(
            "[[users]]\nusername = \"agent{c}\"\nname = \"Agent {c}\"\nrole = \"agent\"\npassword_hash = \"{hash}\"\n\n"
        );
    }
    text += &format!("[[kiosks]]\nid = \"bench\"\ntoken_sha256 = \"{}\"\n\n", fila_edge::auth::sha256_hex(KIOSK_TOKEN));
    // Many messages to few contacts would meet the hourly limit; every citizen here is new.
    text += "[notices]\nper_contact_per_hour = 100\n\n[notices.smtp]\n";
    text += &smtp.settings_toml("none", "");
    text
}

struct Office {
    client: reqwest::Client,
    base: String,
    agents: Vec<String>,
}

impl Office {
    async fn post(&self, path: &str, token: &str, body: Value) -> Value {
        let response =
            self.client.post(format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await.expect("post");
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap_or(Value::Null)
    }

    async fn issue(&self, citizen: &str) {
        let issued =
            self.post("/api/v1/tickets", KIOSK_TOKEN, json!({ "service": "general", "contact": citizen })).await;
        assert_eq!(issued["contact_kept"], true, "{issued}");
    }

    async fn call_and_start(&self, counter: usize) {
        let agent = &self.agents[counter - 1];
        self.post(&format!("/api/v1/counters/{counter}/call-next"), agent, json!({})).await;
        self.post(&format!("/api/v1/counters/{counter}/start"), agent, json!({})).await;
    }

    async fn finish(&self, counter: usize) {
        let agent = &self.agents[counter - 1];
        self.post(&format!("/api/v1/counters/{counter}/finish"), agent, json!({ "outcome": "hecho" })).await;
    }
}

/// Reads the server's messages in order as they arrive, noting when each invitation was seen.
struct Inbox<'a> {
    server: &'a SmtpServer,
    next: usize,
}

impl Inbox<'_> {
    /// Waits until every citizen in `waiting` has their invitation; when each was seen.
    async fn invitations(&mut self, waiting: &[String]) -> Vec<Instant> {
        let mut seen: Vec<Option<Instant>> = vec![None; waiting.len()];
        let began = Instant::now();
        while seen.iter().any(Option::is_none) {
            while let Some(message) = self.server.message(self.next) {
                self.next += 1;
                let survey = message["subject"].as_str().is_some_and(|s| s.contains("atendimos"));
                let to = message["rcpt_tos"][0].as_str().unwrap_or_default();
                if let Some(at) = waiting.iter().position(|c| c == to).filter(|_| survey) {
                    seen[at].get_or_insert_with(Instant::now);
                }
            }
            assert!(began.elapsed() < Duration::from_secs(60), "invitations missing after a minute");
            tokio::time::sleep(POLL).await;
        }
        seen.into_iter().flatten().collect()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{name}: n={} p50={:.1} ms p95={:.1} ms p99={:.1} ms max={:.1} ms",
        ms.len(),
        percentile(&ms, 0.5),
        percentile(&ms, 0.95),
        percentile(&ms, 0.99),
        ms[ms.len() - 1]
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::var("FILA_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(200);
    let Some(smtp) = SmtpServer::start(Mode::Plain, false, "nobody@example.org") else {
        panic!("the bench needs python3-aiosmtpd");
    };
    let dir = tempfile::tempdir().expect("dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let file = dir.path().join("edge.toml");
    std::fs::write(&file, config(port, &dir.path().join("data"), &smtp)).expect("config written");
    let daemon = support::start(&file, port);
    let client = reqwest::Client::new();
    daemon.wait_ready(&client).await;
    let agents = support::sign_in_agents(&client, &daemon.base, COUNTERS).await;
    let office = Office { client, base: daemon.base.clone(), agents };
    let mut inbox = Inbox { server: &smtp, next: 1 };

    let mut one_at_a_time = Vec::new();
    for i in 0..rounds {
        let citizen = format!("citizen{i}@example.org");
        office.issue(&citizen).await;
        office.call_and_start(1).await;
        let sent = Instant::now();
        office.finish(1).await;
        let seen = inbox.invitations(std::slice::from_ref(&citizen)).await;
        one_at_a_time.push(seen[0].duration_since(sent).as_secs_f64() * 1000.0);
    }
    report("one finish at a time", one_at_a_time);

    let mut eight_at_once = Vec::new();
    for round in 0..rounds / 8 {
        let citizens: Vec<String> = (1..=COUNTERS).map(|c| format!("round{round}-counter{c}@example.org")).collect();
        for citizen in &citizens {
            office.issue(citizen).await;
        }
        for counter in 1..=COUNTERS {
            office.call_and_start(counter).await;
        }
        let finishes = (1..=COUNTERS).map(|counter| {
            let office = &office;
            async move {
                let sent = Instant::now();
                office.finish(counter).await;
                sent
            }
        });
        let sent: Vec<Instant> = futures_util::future::join_all(finishes).await;
        let seen = inbox.invitations(&citizens).await;
        // Counter c served citizen c: each ticket was called in issue order, one per counter.
        eight_at_once
            .extend(sent.iter().zip(&seen).map(|(sent, seen)| seen.duration_since(*sent).as_secs_f64() * 1000.0));
    }
    report("eight counters finishing at once", eight_at_once);
    let (rss, peak) = daemon.rss_kib();
    println!("edge RSS {} MiB (peak {} MiB)", rss / 1024, peak / 1024);
    daemon.stop();
}
