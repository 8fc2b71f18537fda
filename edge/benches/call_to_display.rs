//! From "call next" to the counter's display, as BENCHMARKS.md reports.
//!
//! `cargo bench -p fila-edge --bench call_to_display` starts `fila-edge run` (release build)
//! with 30 counters, each with a Modbus RTU display (three emulated RS-485 lines of ten
//! displays, pseudo-terminals served by the tokio-modbus emulator of `fila_devices`) and an MQTT
//! display state on the real Mosquitto at 127.0.0.1:1883. For each call it measures, from the
//! moment the agent's "call next" is sent, until
//! - the emulated display holds the new ticket (the Modbus frame written and answered), and
//! - an MQTT subscriber has received the counter's new retained state,
//!
//! first one call at a time (each ticket is then served and finished, untimed, and its display
//! blanked before the next call), then all 30 counters calling at once. Set `FILA_BENCH_ROUNDS`
//! to change the number of rounds (default 20; each round is one call per counter).

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fila_devices::modbus::{EmulatedDisplay, Emulator, RegisterMap, TextEncoding};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{json, Value};

const KIOSK_TOKEN: &str = "bench-kiosk-token";
const COUNTERS: usize = 30;
const PER_BUS: usize = 10;

fn map() -> RegisterMap {
    RegisterMap {
        text_register: 0x0080,
        text_chars: 8,
        encoding: TextEncoding::Ascii,
        blink_register: Some(0x0010),
        brightness_register: None,
    }
}

fn config(port: u16, data: &Path, links: &[std::path::PathBuf], prefix: &str) -> String {
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata = \"{}\"\n# The bench drives one kiosk at a machine's pace.\nkiosk_issues_per_minute = 1000000\nkiosk_issue_burst = 100000\n\n\
         [office]\nid = \"bench\"\nname = \"Bench office\"\ntime_zone = \"America/Argentina/Buenos_Aires\"\n\n\
         [[services]]\nid = \"general\"\nprefix = \"A\"\nname = \"General\"\n\n\
         [[services]]\nid = \"pagos\"\nprefix = \"B\"\nname = \"Pagos\"\n\n",
        data.display()
    );
    let hash = fila_edge::auth::hash_password("bench");
    for c in 1..=COUNTERS {
        text += &format!("[[counters]]\nid = \"{c}\"\nname = \"Counter {c}\"\nservices = [\"general\", \"pagos\"]\n\n");
        text += &format!(
            "[[users]]\nusername = \"agent{c}\"\nname = \"Agent {c}\"\nrole = \"agent\"\npassword_hash = \"{hash}\"\n\n"
        );
    }
    text += &format!("[[kiosks]]\nid = \"bench\"\ntoken_sha256 = \"{}\"\n\n", fila_edge::auth::sha256_hex(KIOSK_TOKEN));
    text += &format!("[devices]\nspeech = false\n\n[devices.mqtt]\nprefix = \"{prefix}\"\n\n");
    text += "[[devices.display_models]]\nid = \"led8\"\ntext_register = 128\ntext_chars = 8\nblink_register = 16\n\n";
    for (i, link) in links.iter().enumerate() {
        text += &format!("[[devices.buses]]\nid = \"bus{i}\"\npath = \"{}\"\ntimeout_ms = 200\n\n", link.display());
    }
    for c in 1..=COUNTERS {
        let (bus, unit) = ((c - 1) / PER_BUS, (c - 1) % PER_BUS + 1);
        text += &format!(
            "[[devices.displays]]\ncounter = \"{c}\"\nbus = \"bus{bus}\"\nunit = {unit}\nmodel = \"led8\"\n\n"
        );
    }
    text
}

/// When each counter's display and MQTT state last showed each ticket.
#[derive(Default)]
struct Seen {
    modbus: HashMap<(usize, String), Instant>,
    mqtt: HashMap<(usize, String), Instant>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<f64>) {
    samples.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name:<44} n={:<5} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples.last().copied().unwrap_or(0.0)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if tokio::net::TcpStream::connect("127.0.0.1:1883").await.is_err() {
        eprintln!("call_to_display needs Mosquitto on 127.0.0.1:1883");
        std::process::exit(1);
    }
    let rounds: usize = std::env::var("FILA_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(20);
    let dir = tempfile::tempdir().expect("tempdir");
    let seen = Arc::new(Mutex::new(Seen::default()));

    // Three RS-485 lines of ten displays each.
    let mut links = Vec::new();
    for bus in 0..COUNTERS / PER_BUS {
        let displays = (1..=PER_BUS)
            .map(|unit| EmulatedDisplay { unit: unit as u8, counter: (bus * PER_BUS + unit).to_string(), map: map() })
            .collect();
        let emulator = Arc::new(Emulator::new(displays).quiet());
        let link = dir.path().join(format!("rs485-{bus}"));
        let (serving, pty) = (emulator.clone(), link.clone());
        tokio::spawn(async move { serving.serve_pty(&pty).await });
        let mut changes = emulator.changes();
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Ok((unit, text)) = changes.recv().await {
                let counter = bus * PER_BUS + unit as usize;
                if let Some(ticket) = text.split_whitespace().next() {
                    seen.lock().expect("lock").modbus.insert((counter, ticket.replace('-', "")), Instant::now());
                }
            }
        });
        links.push(link);
    }
    for link in &links {
        while !link.exists() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    let prefix = format!("fila-bench-{}", std::process::id());
    let mut options = MqttOptions::new(format!("{prefix}-watch"), "127.0.0.1", 1883);
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    let (client, mut events) = AsyncClient::new(options, 64);
    client.subscribe(format!("{prefix}/bench/display/+/state"), QoS::AtLeastOnce).await.expect("subscribe");
    {
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Ok(event) = events.poll().await {
                if let Event::Incoming(Packet::Publish(publish)) = event {
                    let at = Instant::now();
                    let Ok(state) = serde_json::from_slice::<Value>(&publish.payload) else { continue };
                    let (Some(counter), Some(ticket)) = (state["counter"].as_str(), state["ticket"].as_str()) else {
                        continue;
                    };
                    if let Ok(counter) = counter.parse::<usize>() {
                        seen.lock().expect("lock").mqtt.insert((counter, ticket.replace('-', "")), at);
                    }
                }
            }
        });
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let config_file = dir.path().join("edge.toml");
    std::fs::write(&config_file, config(port, &dir.path().join("data"), &links, &prefix)).expect("config");
    let edge = support::start(&config_file, port);
    let base = edge.base.clone();
    let http = reqwest::Client::new();
    edge.wait_ready(&http).await;
    let tokens = support::sign_in_agents(&http, &base, COUNTERS).await;
    // Two services: a service numbers at most 999 tickets a day.
    for i in 0..COUNTERS * rounds * 2 {
        let service = if i % 2 == 0 { "general" } else { "pagos" };
        http.post(format!("{base}/api/v1/tickets"))
            .bearer_auth(KIOSK_TOKEN)
            .json(&json!({ "service": service }))
            .send()
            .await
            .expect("issue");
    }
    // Let the displays settle after start-up.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let call = |counter: usize| {
        let (http, base, token, seen) = (http.clone(), base.clone(), tokens[counter - 1].clone(), seen.clone());
        async move {
            let sent = Instant::now();
            let reply: Value = http
                .post(format!("{base}/api/v1/counters/{counter}/call-next"))
                .bearer_auth(&token)
                .json(&json!({}))
                .send()
                .await
                .expect("call")
                .json()
                .await
                .expect("json");
            let accepted = Instant::now();
            let Some(ticket) = reply["ticket"]["number"].as_str().map(|n| n.replace('-', "")) else {
                panic!("counter {counter} called no ticket: {reply}");
            };
            let key = (counter, ticket);
            let deadline = Instant::now() + Duration::from_secs(5);
            let seen_at = loop {
                let done = {
                    let seen = seen.lock().expect("lock");
                    seen.modbus.get(&key).copied().zip(seen.mqtt.get(&key).copied())
                };
                if done.is_some() || Instant::now() > deadline {
                    break done;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            };
            // Serve and finish, untimed, so the counter can call again.
            for action in ["start", "finish"] {
                http.post(format!("{base}/api/v1/counters/{counter}/{action}"))
                    .bearer_auth(&token)
                    .json(&json!({}))
                    .send()
                    .await
                    .expect(action);
            }
            seen_at.map(|(modbus, mqtt)| (sent, accepted, modbus, mqtt))
        }
    };
    let ms = |from: Instant, to: Instant| to.saturating_duration_since(from).as_secs_f64() * 1000.0;

    for (mode, concurrent) in [("one call at a time", false), ("30 counters calling at once", true)] {
        let (mut modbus, mut mqtt, mut both, mut both_accepted, mut lost) = (vec![], vec![], vec![], vec![], 0);
        for _ in 0..rounds {
            let results = if concurrent {
                futures_util::future::join_all((1..=COUNTERS).map(call)).await
            } else {
                let mut results = Vec::new();
                for counter in 1..=COUNTERS {
                    results.push(call(counter).await);
                    // Agents call minutes apart: let the finished ticket's blanking reach its
                    // display before the next call, as it would in an office.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                results
            };
            for result in results {
                match result {
                    Some((sent, accepted, m, q)) => {
                        modbus.push(ms(sent, m));
                        mqtt.push(ms(sent, q));
                        both.push(ms(sent, m.max(q)));
                        both_accepted.push(ms(accepted, m.max(q)));
                    }
                    None => lost += 1,
                }
            }
        }
        println!("\n{mode} ({rounds} rounds x {COUNTERS} counters; {lost} not seen within 5 s)");
        report("call sent -> Modbus display shows it", modbus);
        report("call sent -> MQTT state received", mqtt);
        report("call sent -> both", both);
        report("call accepted (2xx) -> both", both_accepted);
    }
    // The edge says "offline" as it stops; then leave no retained states behind on the shared broker.
    edge.stop();
    let counters = (1..=COUNTERS).map(|c| format!("{prefix}/bench/display/{c}/state"));
    for topic in counters.chain([format!("{prefix}/bench/board/state"), format!("{prefix}/bench/edge/status")]) {
        let _ = client.publish(topic, QoS::AtLeastOnce, true, Vec::new()).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
}
