//! Central under the loads issue 3 names, against the real release `fila-central` process:
//! - one office reconnecting after a 7-day outage at 500 tickets a day: time to converge, and
//!   bytes on the wire against the documents' saved size;
//! - a reconnect storm: 200 offices, each with a full day's backlog, at once: time until all
//!   converged, central's peak RSS;
//! - steady state: 1,000 offices live at 100 tickets an hour each: central's CPU share and RSS.
//!
//! `cargo bench -p fila-central --bench sync_load` (FILA_BENCH_STEADY_SECONDS, default 60).
//! Offices are simulated with the real core (`Office`, `PeerSync`) over real WebSockets.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use fila_protocol::config::RawOfficeConfig;
use fila_protocol::office::{Actor, Command as OfficeCommand, Office, Priority};
use fila_protocol::sync::{Outgoing, PeerSync};
use fila_protocol::wire::Frame;
use fila_protocol::{AgentId, CounterId, ServiceId, Timestamp};
use futures_util::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use support::{free_port, Central};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const DAY_MS: i64 = 86_400_000;
const T0: i64 = 1_795_953_600_000; // 2026-11-29 09:00 in Buenos Aires

fn token(office: usize) -> String {
    format!("bench-branch-token-{office}")
}

fn office_config(office: usize) -> fila_protocol::OfficeConfig {
    RawOfficeConfig::parse_toml(&format!(
        "[office]\nid = \"o{office}\"\nname = \"Office {office}\"\ntime_zone = \"America/Argentina/Buenos_Aires\"\n\
         [[services]]\nid = \"general\"\nprefix = \"A\"\nname = \"General\"\n\
         [[services]]\nid = \"pagos\"\nprefix = \"B\"\nname = \"Pagos\"\n\
         [[counters]]\nid = \"1\"\nname = \"Puesto 1\"\nservices = [\"general\", \"pagos\"]\n"
    ))
    .expect("bench office")
}

/// A business day of `tickets` tickets, each issued, called, started and finished, one
/// automerge change per command as on a real edge at office pace.
fn day_doc(office: usize, day: i64, tickets: usize) -> AutoCommit {
    let start = T0 + day * DAY_MS;
    let mut edge = Office::restore(office_config(office), format!("edge-{office}").into_bytes(), Timestamp(start), &[])
        .expect("office");
    let by = Actor { agent: AgentId::new("ana"), supervisor: false };
    let counter = CounterId::new("1");
    let mut bytes = Vec::new();
    let mut at = start;
    let mut run = |edge: &mut Office, at: i64, command: OfficeCommand| {
        edge.handle_command(Timestamp(at), command).expect("accepted");
        while let Some(persist) = edge.poll_persist() {
            bytes.extend(persist.bytes);
        }
    };
    run(&mut edge, at, OfficeCommand::SignIn { counter: counter.clone(), by: by.clone() });
    for n in 0..tickets {
        at += 30_000;
        let service = ServiceId::new(if n % 3 == 0 { "pagos" } else { "general" });
        run(
            &mut edge,
            at,
            OfficeCommand::Issue {
                service,
                priority: Priority::Normal,
                issuer: fila_protocol::Who::Kiosk("entrada".into()),
                token: format!("t{office}-{day}-{n}"),
            },
        );
        run(&mut edge, at + 5_000, OfficeCommand::CallNext { counter: counter.clone(), by: by.clone() });
        run(&mut edge, at + 10_000, OfficeCommand::Start { counter: counter.clone(), by: by.clone() });
        let finish = OfficeCommand::Finish { counter: counter.clone(), by: by.clone(), outcome: String::new() };
        run(&mut edge, at + 20_000, finish);
    }
    AutoCommit::load(&bytes).expect("day loads")
}

fn write_config(dir: &Path, port: u16, offices: usize) -> std::path::PathBuf {
    let mut text =
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\ndata = \"{}\"\ncache_mb = 32\n", dir.join("data").display());
    for o in 0..offices {
        let hash = hex::encode(Sha256::digest(token(o).as_bytes()));
        text += &format!("[[offices]]\nid = \"o{o}\"\nname = \"Office {o}\"\ntoken_sha256 = \"{hash}\"\n");
    }
    std::fs::create_dir_all(dir).expect("bench directory");
    let path = dir.join("central.toml");
    std::fs::write(&path, text).expect("config");
    path
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(port: u16, office: usize) -> Socket {
    let mut request = format!("ws://127.0.0.1:{port}/api/v1/sync").into_client_request().expect("request");
    request.headers_mut().insert("Authorization", format!("Bearer {}", token(office)).parse().expect("header"));
    let (socket, _) = tokio_tungstenite::connect_async(request).await.expect("central accepts the office");
    socket
}

/// Sync `docs` of `office` to central until central reports holding all of them. Returns the
/// bytes sent and received.
async fn sync_docs(port: u16, office: usize, docs: &mut [(String, AutoCommit)]) -> (usize, usize) {
    let mut socket = connect(port, office).await;
    let mut peers: Vec<PeerSync> = docs.iter().map(|_| PeerSync::new()).collect();
    let (mut sent, mut received) = (0usize, 0usize);
    let names = docs.iter().map(|(id, _)| id.clone()).collect();
    let send = |frame: Frame, sent: &mut usize| {
        let bytes = frame.encode();
        *sent += bytes.len();
        Message::Binary(bytes.into())
    };
    socket.send(send(Frame::Docs { docs: names }, &mut sent)).await.expect("send");
    for ((id, doc), peer) in docs.iter_mut().zip(&mut peers) {
        while let Some(outgoing) = peer.generate_or_snapshot(doc) {
            socket.send(send(frame(id, outgoing), &mut sent)).await.expect("send");
        }
    }
    let held = |docs: &mut [(String, AutoCommit)], peers: &[PeerSync]| {
        docs.iter_mut().zip(peers).all(|((_, doc), peer)| {
            peer.their_heads().is_some_and(|theirs| doc.get_heads().iter().all(|h| theirs.contains(h)))
        })
    };
    while !held(docs, &peers) {
        let message = tokio::time::timeout(Duration::from_secs(60), socket.next()).await.expect("central answers");
        let Some(Ok(Message::Binary(bytes))) = message else { continue };
        received += bytes.len();
        let Ok(Frame::Sync { doc: id, message }) = Frame::decode(&bytes, &format!("o{office}")) else { continue };
        let Some(index) = docs.iter().position(|(d, _)| *d == id) else { continue };
        let (doc_id, doc) = &mut docs[index];
        peers[index].receive(doc, &message).expect("central's message applies");
        while let Some(outgoing) = peers[index].generate_or_snapshot(doc) {
            socket.send(send(frame(doc_id, outgoing), &mut sent)).await.expect("send");
        }
    }
    let _ = socket.close(None).await;
    (sent, received)
}

/// What a real edge sends for an outgoing sync step.
fn frame(doc: &str, outgoing: Outgoing) -> Frame {
    match outgoing {
        Outgoing::Message(message) => Frame::Sync { doc: doc.to_string(), message },
        Outgoing::Snapshot(bytes) => Frame::Snapshot { doc: doc.to_string(), bytes },
    }
}

async fn seven_day_reconnect(dir: &Path) {
    let port = free_port();
    let config = write_config(dir, port, 1);
    let mut docs: Vec<(String, AutoCommit)> = (0..7)
        .map(|d| {
            let day = fila_protocol::BusinessDay::containing(Timestamp(T0 + d * DAY_MS), &office_config(0).time_zone);
            (fila_protocol::doc::keys::day_doc_id("o0", day), day_doc(0, d, 500))
        })
        .collect();
    let saved: usize = docs.iter_mut().map(|(_, doc)| doc.save().len()).sum();
    let central = Central::start(&config, port).await;
    let started = Instant::now();
    let (sent, received) = sync_docs(port, 0, &mut docs).await;
    let took = started.elapsed();
    println!(
        "| 7-day outage, 500 tickets/day (3,500 tickets, 14,007 changes) | converged in {:.0} ms; {} KB sent + {} KB received for {} KB saved: {:.2}x |",
        took.as_secs_f64() * 1000.0,
        sent / 1024,
        received / 1024,
        saved / 1024,
        (sent + received) as f64 / saved as f64
    );
    drop(central);
}

async fn storm(dir: &Path, offices: usize) {
    let port = free_port();
    let config = write_config(dir, port, offices);
    // Each office its own day: central checks that a day document is the office's own.
    let days: Vec<AutoCommit> = std::thread::scope(|scope| {
        let halves: Vec<_> = (0..2)
            .map(|half| {
                scope.spawn(move || {
                    (0..offices).filter(|o| o % 2 == half).map(|o| (o, day_doc(o, 0, 500))).collect::<Vec<_>>()
                })
            })
            .collect();
        let mut days: Vec<(usize, AutoCommit)> =
            halves.into_iter().flat_map(|h| h.join().expect("generator")).collect();
        days.sort_by_key(|(o, _)| *o);
        days.into_iter().map(|(_, day)| day).collect()
    });
    let date = fila_protocol::BusinessDay::containing(Timestamp(T0), &office_config(0).time_zone);
    let central = Central::start(&config, port).await;
    let started = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (o, day) in days.into_iter().enumerate() {
        let mut docs = vec![(fila_protocol::doc::keys::day_doc_id(&format!("o{o}"), date), day)];
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            sync_docs(port, o, &mut docs).await;
            done.fetch_add(1, Ordering::SeqCst);
        }));
    }
    for task in tasks {
        task.await.expect("office");
    }
    let took = started.elapsed();
    println!(
        "| reconnect storm: {offices} offices with a 500-ticket day each, at once | all converged in {:.1} s; central peak RSS {:.0} MB |",
        took.as_secs_f64(),
        central.memory_mib("VmHWM:")
    );
}

async fn steady(dir: &Path, offices: usize, seconds: u64) {
    let port = free_port();
    let config = write_config(dir, port, offices);
    let central = Central::start(&config, port).await;
    // Each office is a live edge: a ticket every 36 s on average (100 an hour), issued, called
    // and finished, each change pushed to central as it happens.
    let ticks_per_second = 100.0; // /proc CPU times are in USER_HZ (100 on Linux)
    let mut tasks = Vec::new();
    for o in 0..offices {
        tasks.push(tokio::spawn(async move {
            let mut socket = connect(port, o).await;
            let mut office = Office::restore(office_config(o), format!("e{o}").into_bytes(), Timestamp(T0), &[]).expect("office");
            let mut peer = PeerSync::new();
            let doc_id = office.doc_id();
            let by = Actor { agent: AgentId::new("ana"), supervisor: false };
            let counter = CounterId::new("1");
            office.handle_command(Timestamp(T0), OfficeCommand::SignIn { counter: counter.clone(), by: by.clone() }).expect("sign in");
            socket.send(Message::Binary(Frame::Docs { docs: vec![doc_id.clone()] }.encode().into())).await.expect("send");
            let mut clock = T0;
            let mut n = 0u64;
            // Spread the offices' first tickets over the first interval.
            let mut next = tokio::time::Instant::now() + Duration::from_millis((o as u64 * 36_000) / offices as u64);
            loop {
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
                            while office.poll_persist().is_some() {}
                            while let Some(outgoing) = office.sync_generate(&mut peer) {
                                if socket.send(Message::Binary(frame(&doc_id, outgoing).encode().into())).await.is_err() {
                                    return;
                                }
                            }
                        }
                        next += Duration::from_secs(36);
                    }
                    incoming = socket.next() => {
                        let Some(Ok(message)) = incoming else { return };
                        if let Message::Binary(bytes) = message {
                            if let Ok(Frame::Sync { message, .. }) = Frame::decode(&bytes, &format!("o{o}")) {
                                let _ = office.sync_receive(&mut peer, &message);
                                while let Some(outgoing) = office.sync_generate(&mut peer) {
                                    if socket.send(Message::Binary(frame(&doc_id, outgoing).encode().into())).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }));
    }
    // Let every office connect and settle, then measure a window.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (cpu0, t0) = (central.cpu_ticks(), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let cpu = (central.cpu_ticks() - cpu0) as f64 / ticks_per_second;
    let share = cpu / t0.elapsed().as_secs_f64();
    println!(
        "| steady state: {offices} offices live at 100 tickets/hour each, {seconds} s window | central CPU {:.1}% of one core; RSS {:.0} MB |",
        share * 100.0,
        central.memory_mib("VmRSS:")
    );
    for task in tasks {
        task.abort();
    }
}

fn main() {
    let quick = std::env::args().all(|a| a != "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let steady_seconds = std::env::var("FILA_BENCH_STEADY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 2 } else { 60 });
    runtime.block_on(async {
        println!("| measurement | result |\n|---|---|");
        let dir = tempfile::tempdir().expect("dir");
        seven_day_reconnect(&dir.path().join("week")).await;
        storm(&dir.path().join("storm"), if quick { 5 } else { 200 }).await;
        steady(&dir.path().join("steady"), if quick { 10 } else { 1_000 }, steady_seconds).await;
    });
}
