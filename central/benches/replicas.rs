//! Two central replicas (real release `fila-central` processes) on one PostgreSQL, with
//! simulated offices live at 100 tickets an hour each, half syncing with each replica:
//! - each replica's CPU, PostgreSQL's CPU, WAL written and database growth, over a window;
//! - sync lag: from an office sending a ticket's changes to central's answer that it holds
//!   them (stored and committed), p50/p99/max;
//! - a headquarters edit sent to replica b, until an office connected to a holds it (the
//!   change stored by one replica reaching an office on the other), p50/p99/max;
//! - failover: replica a is killed; its offices reconnect to b; time until each holds b's
//!   acknowledgement of everything it has, p50/p99/max.
//!
//! `cargo bench -p fila-central --bench replicas` (FILA_BENCH_OFFICES, default 5,000;
//! FILA_BENCH_STEADY_SECONDS, default 60; FILA_BENCH_FAILOVER_SECONDS, how long to wait for
//! every office to fail over, default 300; FILA_BENCH_CENTRAL_LOG, the replicas' RUST_LOG).
//! Offices not seen to fail over are listed with what they did since the kill. Needs the
//! PostgreSQL of `fila_store::testing`.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use fila_protocol::config::RawOfficeConfig;
use fila_protocol::office::{Actor, Command as OfficeCommand, Office, Priority};
use fila_protocol::sync::{Outgoing, PeerSync};
use fila_protocol::wire::Frame;
use fila_protocol::{AgentId, CounterId, ServiceId, Timestamp};
use fila_store::testing::TempDatabase;
use futures_util::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use support::{free_port, Central};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const T0: i64 = 1_795_953_600_000; // 2026-11-29 09:00 in Buenos Aires

const HQ_ADMIN: &str = "bench-hq-admin-token";

fn token(office: usize) -> String {
    format!("bench-branch-token-{office}")
}

fn office_config(office: usize) -> fila_protocol::OfficeConfig {
    RawOfficeConfig::parse_toml(&format!(
        "[office]\nid = \"o{office}\"\nname = \"Office {office}\"\ntime_zone = \"America/Argentina/Buenos_Aires\"\n\
         [[services]]\nid = \"general\"\nprefix = \"A\"\nname = \"General\"\n\
         [[counters]]\nid = \"1\"\nname = \"Puesto 1\"\nservices = [\"general\"]\n"
    ))
    .expect("bench office")
}

fn write_config(dir: &Path, port: u16, offices: usize, postgres: &str) -> std::path::PathBuf {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata = \"{}\"\npostgres = \"{postgres}\"\n",
        dir.join("data").display()
    );
    let hq = hex::encode(Sha256::digest(HQ_ADMIN.as_bytes()));
    text += &format!("[[analysts]]\nname = \"hq\"\ntoken_sha256 = \"{hq}\"\ncan_configure = true\n");
    // One more office than the simulated ones: the watcher of headquarters' edits.
    for o in 0..=offices {
        let hash = hex::encode(Sha256::digest(token(o).as_bytes()));
        text += &format!("[[offices]]\nid = \"o{o}\"\nname = \"Office {o}\"\ntoken_sha256 = \"{hash}\"\n");
    }
    std::fs::create_dir_all(dir).expect("bench directory");
    let path = dir.join("central.toml");
    std::fs::write(&path, text).expect("config");
    path
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(port: u16, office: usize) -> Option<Socket> {
    let mut request = format!("ws://127.0.0.1:{port}/api/v1/sync").into_client_request().ok()?;
    request.headers_mut().insert("Authorization", format!("Bearer {}", token(office)).parse().ok()?);
    // As the edge: a connection that does not come up in 20 s is given up.
    let connecting = tokio::time::timeout(Duration::from_secs(20), tokio_tungstenite::connect_async(request));
    connecting.await.ok()?.ok().map(|(socket, _)| socket)
}

fn frame(doc: &str, outgoing: Outgoing) -> Message {
    let frame = match outgoing {
        Outgoing::Message(message) => Frame::Sync { doc: doc.to_string(), message },
        Outgoing::Snapshot(bytes) => Frame::Snapshot { doc: doc.to_string(), bytes },
    };
    Message::Binary(frame.encode().into())
}

/// What the offices measure, together.
#[derive(Default)]
struct Measured {
    /// Seconds from sending a ticket's changes to central's acknowledgement, while measuring.
    lags: Mutex<Vec<f64>>,
    measuring: AtomicBool,
    /// The offices whose last connection was to replica a (some of a's offices may have
    /// moved to b before the kill, when a connection to a failed under load).
    on_a: Mutex<HashSet<usize>>,
    /// When replica a was killed, with the offices on it then.
    killed: Mutex<Option<(Instant, HashSet<usize>)>>,
    /// Per office that was on a, seconds from the kill until b acknowledged all it has.
    failovers: Mutex<HashMap<usize, f64>>,
    /// What each office did last, for the ones whose failover is not seen.
    trail: Mutex<HashMap<usize, String>>,
}

impl Measured {
    fn note(&self, office: usize, what: impl Into<String>) {
        if self.killed.lock().expect("lock").is_some() {
            let mut trail = self.trail.lock().expect("lock");
            let line = trail.entry(office).or_default();
            line.push_str(&what.into());
            line.push_str("; ");
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// A live office: a ticket every 36 s (100 an hour), issued, called and finished, each change
/// pushed as it happens, over a connection to `ports[first]`, then to the other when it drops.
async fn office(o: usize, offices: usize, ports: [u16; 2], first: usize, measured: Arc<Measured>) {
    let mut office =
        Office::restore(office_config(o), format!("e{o}").into_bytes(), Timestamp(T0), &[]).expect("office");
    let mut mirror = AutoCommit::new();
    let doc_id = office.doc_id();
    let by = Actor { agent: AgentId::new("ana"), supervisor: false };
    let counter = CounterId::new("1");
    office
        .handle_command(Timestamp(T0), OfficeCommand::SignIn { counter: counter.clone(), by: by.clone() })
        .expect("sign in");
    while let Some(persist) = office.poll_persist() {
        mirror.load_incremental(&persist.bytes).expect("own bytes");
    }
    let (mut clock, mut n, mut which) = (T0, 0u64, first);
    let mut next = tokio::time::Instant::now() + Duration::from_millis((o as u64 * 36_000) / offices as u64);
    loop {
        let Some(mut socket) = connect(ports[which], o).await else {
            measured.note(o, format!("no connection to {}", ["a", "b"][which]));
            which = 1 - which;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let mut peer = PeerSync::new();
        {
            let mut on_a = measured.on_a.lock().expect("lock");
            if which == 0 {
                on_a.insert(o);
            } else {
                on_a.remove(&o);
            }
        }
        let reconnected = which == 1
            && measured.killed.lock().expect("lock").as_ref().is_some_and(|(_, moving)| moving.contains(&o))
            && !measured.failovers.lock().expect("lock").contains_key(&o);
        // Heads sent and not yet acknowledged, with when they were sent (a failover counts from
        // the kill).
        let mut pending: Option<(Vec<automerge::ChangeHash>, Instant, bool)> =
            reconnected.then(|| (mirror.get_heads(), Instant::now(), true));
        measured.note(o, format!("connected to {} (failover pending: {reconnected})", ["a", "b"][which]));
        if socket.send(Message::Binary(Frame::Docs { docs: vec![doc_id.clone()] }.encode().into())).await.is_err() {
            continue;
        }
        'connection: loop {
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {
                    n += 1;
                    clock += 36_000;
                    let commands = [
                        OfficeCommand::Issue {
                            service: ServiceId::new("general"),
                            priority: Priority::Normal,
                            issuer: fila_protocol::Who::Kiosk("entrada".into()),
                            token: format!("t{n}"),
                        },
                        OfficeCommand::CallNext { counter: counter.clone(), by: by.clone() },
                        OfficeCommand::Finish { counter: counter.clone(), by: by.clone(), outcome: String::new() },
                    ];
                    for command in commands {
                        let _ = office.handle_command(Timestamp(clock), command);
                        while let Some(persist) = office.poll_persist() {
                            let _ = mirror.load_incremental(&persist.bytes);
                        }
                        while let Some(outgoing) = office.sync_generate(&mut peer) {
                            if socket.send(frame(&doc_id, outgoing)).await.is_err() {
                                break 'connection;
                            }
                        }
                    }
                    match &mut pending {
                        // Still to hear that b holds everything since the kill: that now
                        // includes this ticket (b's heads will be the new ones, not those
                        // the office had when it reconnected).
                        Some((heads, _, true)) => *heads = mirror.get_heads(),
                        _ => pending = Some((mirror.get_heads(), Instant::now(), false)),
                    }
                    next += Duration::from_secs(36);
                }
                // As the edge: 60 s without a word from central (it pings every 20 s) is a dead link.
                incoming = tokio::time::timeout(Duration::from_secs(60), socket.next()) => {
                    let message = match incoming {
                        Ok(Some(Ok(message))) => message,
                        Ok(Some(Err(error))) => {
                            measured.note(o, format!("link error {error}"));
                            break 'connection;
                        }
                        Ok(None) => {
                            measured.note(o, "closed");
                            break 'connection;
                        }
                        Err(_) => {
                            measured.note(o, "silent 60 s");
                            break 'connection;
                        }
                    };
                    let Message::Binary(bytes) = message else { continue };
                    let Ok(Frame::Sync { message, .. }) = Frame::decode(&bytes, &format!("o{o}")) else { continue };
                    let _ = office.sync_receive(&mut peer, &message);
                    while let Some(outgoing) = office.sync_generate(&mut peer) {
                        if socket.send(frame(&doc_id, outgoing)).await.is_err() {
                            break 'connection;
                        }
                    }
                    let acknowledged = pending.as_ref().is_some_and(|(heads, _, _)| {
                        peer.their_heads().is_some_and(|theirs| heads.iter().all(|h| theirs.contains(h)))
                    });
                    if !acknowledged && pending.as_ref().is_some_and(|(_, _, failover)| *failover) {
                        let theirs = peer.their_heads().map(<[_]>::len);
                        measured.note(o, format!("sync frame, not yet: their heads {theirs:?}, ours {}", mirror.get_heads().len()));
                    }
                    if acknowledged {
                        let (_, sent, failover) = pending.take().expect("pending");
                        if failover {
                            let since = measured.killed.lock().expect("lock").as_ref().map(|(at, _)| at.elapsed());
                            if let Some(since) = since {
                                measured.failovers.lock().expect("lock").entry(o).or_insert(since.as_secs_f64());
                            }
                        } else if measured.measuring.load(Ordering::SeqCst) {
                            measured.lags.lock().expect("lock").push(sent.elapsed().as_secs_f64());
                        }
                    }
                }
            }
        }
        which = 1 - which;
    }
}

/// The office `o`'s configuration named `name`, as headquarters sends it.
fn raw_config(o: usize, name: &str) -> serde_json::Value {
    let text = format!(
        "[office]\nid = \"o{o}\"\nname = \"{name}\"\ntime_zone = \"America/Argentina/Buenos_Aires\"\n\
         [[services]]\nid = \"general\"\nprefix = \"A\"\nname = \"General\"\n\
         [[counters]]\nid = \"1\"\nname = \"Puesto 1\"\nservices = [\"general\"]\n"
    );
    let raw: RawOfficeConfig = toml::from_str(&text).expect("bench office");
    serde_json::to_value(raw).expect("json")
}

/// An office on replica a that follows its configuration: each name it comes to hold, with
/// when, for the edits made through b.
async fn watch(o: usize, port: u16, seen: Arc<Mutex<Vec<(String, Instant)>>>) {
    let doc_id = fila_protocol::doc::keys::config_doc_id(&format!("o{o}"));
    let Some(mut socket) = connect(port, o).await else { return };
    let (mut doc, mut peer) = (AutoCommit::new(), PeerSync::new());
    if socket.send(Message::Binary(Frame::Docs { docs: vec![doc_id.clone()] }.encode().into())).await.is_err() {
        return;
    }
    while let Some(Ok(message)) = socket.next().await {
        let Message::Binary(bytes) = message else { continue };
        let Ok(Frame::Sync { message, .. }) = Frame::decode(&bytes, &format!("o{o}")) else { continue };
        if peer.receive(&mut doc, &message).is_err() {
            return;
        }
        if let Ok(config) = fila_protocol::doc::config::read(&doc) {
            seen.lock().expect("lock").push((config.office.name, Instant::now()));
        }
        while let Some(message) = peer.generate(&mut doc) {
            let reply = Frame::Sync { doc: doc_id.clone(), message }.encode();
            if socket.send(Message::Binary(reply.into())).await.is_err() {
                return;
            }
        }
    }
}

/// Headquarters renames office `o` through the replica at `port` every 2 s for `seconds`; how
/// long each new name took to reach the watcher on the other replica, from the request.
async fn edits_reach_the_other_replica(
    o: usize,
    port: u16,
    seconds: u64,
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
) -> Vec<f64> {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/api/v1/offices/o{o}/config");
    let mut reached = Vec::new();
    let began = Instant::now();
    for n in 0.. {
        if began.elapsed() > Duration::from_secs(seconds) {
            break;
        }
        let name = format!("Watched office, edit {n}");
        let asked = Instant::now();
        let sent = client.put(&url).bearer_auth(HQ_ADMIN).json(&raw_config(o, &name)).send().await;
        if sent.is_ok_and(|response| response.status().is_success()) {
            let deadline = asked + Duration::from_secs(2);
            while Instant::now() < deadline {
                let at = seen.lock().expect("lock").iter().find(|(seen, _)| *seen == name).map(|(_, at)| *at);
                if let Some(at) = at {
                    reached.push(at.saturating_duration_since(asked).as_secs_f64());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
        tokio::time::sleep_until((asked + Duration::from_secs(2)).into()).await;
    }
    reached
}

/// CPU ticks of every PostgreSQL server process (they come and go with connections: the sum
/// over the ones alive at both readings undercounts a little).
fn postgres_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .filter_map(|entry| {
            let pid = entry.ok()?.file_name().into_string().ok()?;
            pid.parse::<u32>().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            if !comm.starts_with("postgres") {
                return None;
            }
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
            Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
        })
        .sum()
}

/// WAL position (bytes) and the database's size (bytes).
async fn postgres_disk(url: &str) -> (i64, i64) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint, pg_database_size(current_database())",
            &[],
        )
        .await
        .expect("figures");
    (row.get(0), row.get(1))
}

fn main() {
    let quick = std::env::args().all(|a| a != "--bench");
    let offices: usize =
        std::env::var("FILA_BENCH_OFFICES").ok().and_then(|s| s.parse().ok()).unwrap_or(if quick { 20 } else { 5_000 });
    let seconds: u64 = std::env::var("FILA_BENCH_STEADY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 3 } else { 60 });
    let Some(db) = TempDatabase::create() else { return };
    fila_store::PgStore::migrate(db.url()).expect("migrated");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("dir");
        let ports = [free_port(), free_port()];
        let a = Central::start(&write_config(&dir.path().join("a"), ports[0], offices, db.url()), ports[0]).await;
        let b = Central::start(&write_config(&dir.path().join("b"), ports[1], offices, db.url()), ports[1]).await;
        let measured = Arc::new(Measured::default());
        // The watched office exists before its watcher connects to a.
        let put = reqwest::Client::new()
            .put(format!("http://127.0.0.1:{}/api/v1/offices/o{offices}/config", ports[1]))
            .bearer_auth(HQ_ADMIN)
            .json(&raw_config(offices, "Watched office"))
            .send()
            .await
            .expect("the watched office is configured");
        assert!(put.status().is_success(), "{}", put.status());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let watcher = tokio::spawn(watch(offices, ports[0], seen.clone()));
        let tasks: Vec<_> =
            (0..offices).map(|o| tokio::spawn(office(o, offices, ports, o % 2, measured.clone()))).collect();
        // Every office connects and settles; then a window is measured.
        tokio::time::sleep(Duration::from_secs(if quick { 3 } else { 40 })).await;
        let ticks = 100.0; // USER_HZ
        let (a0, b0, pg0) = (a.cpu_ticks(), b.cpu_ticks(), postgres_ticks());
        let (wal0, size0) = postgres_disk(db.url()).await;
        measured.measuring.store(true, Ordering::SeqCst);
        let began = Instant::now();
        let mut edits = edits_reach_the_other_replica(offices, ports[1], seconds, seen).await;
        measured.measuring.store(false, Ordering::SeqCst);
        watcher.abort();
        let elapsed = began.elapsed().as_secs_f64();
        let share = |ticks_now: u64, ticks_then: u64| (ticks_now - ticks_then) as f64 / ticks / elapsed * 100.0;
        let (a_cpu, b_cpu, pg_cpu) = (share(a.cpu_ticks(), a0), share(b.cpu_ticks(), b0), share(postgres_ticks(), pg0));
        let (wal1, size1) = postgres_disk(db.url()).await;
        let mut lags = measured.lags.lock().expect("lock").clone();
        lags.sort_by(f64::total_cmp);
        println!("| measurement | result |\n|---|---|");
        println!(
            "| {offices} offices at 100 tickets/hour, half on each replica, {seconds} s window | replica a CPU {a_cpu:.1}% \
             of one core, RSS {:.0} MB; replica b CPU {b_cpu:.1}%, RSS {:.0} MB |",
            a.memory_mib("VmRSS:"),
            b.memory_mib("VmRSS:")
        );
        println!(
            "| PostgreSQL over the window | CPU {pg_cpu:.1}% of one core; WAL {:.1} MB/s; database grew {:.1} MB |",
            (wal1 - wal0) as f64 / elapsed / 1e6,
            (size1 - size0) as f64 / 1e6
        );
        println!(
            "| sync lag (changes sent → central's acknowledgement that it holds them), {} tickets | p50 {:.0} ms, \
             p99 {:.0} ms, max {:.0} ms |",
            lags.len(),
            percentile(&lags, 0.5) * 1e3,
            percentile(&lags, 0.99) * 1e3,
            lags.last().copied().unwrap_or(f64::NAN) * 1e3
        );
        edits.sort_by(f64::total_cmp);
        println!(
            "| a headquarters edit sent to b → the office on a holds it, {} edits | p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms |",
            edits.len(),
            percentile(&edits, 0.5) * 1e3,
            percentile(&edits, 0.99) * 1e3,
            edits.last().copied().unwrap_or(f64::NAN) * 1e3
        );
        // Replica a goes (kill -9): the offices on it move to b.
        let on_a = measured.on_a.lock().expect("lock").clone();
        let moving = on_a.len();
        *measured.killed.lock().expect("lock") = Some((Instant::now(), on_a));
        a.kill_hard();
        let wait: u64 = std::env::var("FILA_BENCH_FAILOVER_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(300);
        let deadline = Instant::now() + Duration::from_secs(wait);
        while measured.failovers.lock().expect("lock").len() < moving && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut failovers: Vec<f64> = measured.failovers.lock().expect("lock").values().copied().collect();
        failovers.sort_by(f64::total_cmp);
        println!(
            "| offices on replica a when it was killed | {moving} of the {} that started there |",
            offices.div_ceil(2)
        );
        println!(
            "| failover: a killed, {}/{moving} of its offices synced through b | p50 {:.2} s, p99 {:.2} s, max {:.2} s |",
            failovers.len(),
            percentile(&failovers, 0.5),
            percentile(&failovers, 0.99),
            failovers.last().copied().unwrap_or(f64::NAN)
        );
        {
            let (killed, failovers, trail) = (
                measured.killed.lock().expect("lock"),
                measured.failovers.lock().expect("lock"),
                measured.trail.lock().expect("lock"),
            );
            let moving = killed.as_ref().map(|(_, moving)| moving.iter().filter(|o| !failovers.contains_key(o)));
            for o in moving.into_iter().flatten() {
                eprintln!("o{o}, no failover seen: {}", trail.get(o).map_or("nothing since the kill", String::as_str));
            }
        }
        for task in tasks {
            task.abort();
        }
        drop(b);
    });
}
