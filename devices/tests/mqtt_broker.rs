//! The edge's MQTT link and the emulated devices against a real Mosquitto: retained state, last
//! wills, kiosk buttons, and recovery after the broker restarts.
//!
//! Most tests use the broker on 127.0.0.1:1883; the restart test starts its own on a free port.
//! Without a broker (or without `/usr/sbin/mosquitto`) a test prints a notice and passes, unless
//! this is a CI run (`tools::on_ci`). Each test uses its own random office id, so no test sees
//! another's retained topics, and clears the retained topics it created.
//!
//! No test sleeps to let the broker catch up: a test client knows its subscription is live, or
//! that the broker has sent everything before, when a marker it published comes back to it (the
//! broker keeps the order of one connection's packets).

mod tools;

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fila_devices::mqtt::{
    press_button, run_display, spawn, DisplayState, Inbound, KioskButton, KioskTicket, MqttLink, MqttSettings, Topics,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

const SHARED_BROKER_PORT: u16 = 1883;
const MOSQUITTO: &str = "/usr/sbin/mosquitto";
/// Long enough for a will or a reconnect with the short backoff below, on a loaded machine.
const WAIT: Duration = Duration::from_secs(8);

/// Whether the test can run; without the broker, a notice, or a failure on CI.
fn broker_listening(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listening = TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok();
    tools::available(listening, &format!("an MQTT broker on {address}"), "apt-get install mosquitto")
}

fn unique_office() -> String {
    format!("t{:012x}", rand::random::<u64>() >> 16)
}

/// Short keep-alive so wills fire fast; short backoff so reconnects are quick.
fn settings(port: u16) -> MqttSettings {
    MqttSettings { port, keep_alive_secs: 1, backoff_min_ms: 50, backoff_max_ms: 400, ..MqttSettings::default() }
}

fn display_state(counter: &str, seq: u64, ticket: Option<&str>) -> DisplayState {
    DisplayState {
        seq,
        counter: counter.into(),
        label: format!("Ventanilla {counter}"),
        ticket: ticket.map(Into::into),
        blink: 3,
        ts: 1_764_450_000_000 + i64::try_from(seq).expect("test seqs are small"),
    }
}

/// The next inbound message that `wanted` picks, skipping others; fails after [`WAIT`].
async fn next_inbound(inbound: &mut mpsc::Receiver<Inbound>, wanted: impl Fn(&Inbound) -> bool) -> Inbound {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            match inbound.recv().await {
                Some(message) if wanted(&message) => return message,
                Some(_) => {}
                None => panic!("the link's inbound channel closed"),
            }
        }
    });
    found.await.expect("the expected inbound message did not arrive in time")
}

async fn connected_link(settings: &MqttSettings, office: &str) -> (MqttLink, mpsc::Receiver<Inbound>) {
    let (link, mut inbound) = spawn(settings, office);
    next_inbound(&mut inbound, |message| *message == Inbound::Connected).await;
    assert!(link.connected());
    (link, inbound)
}

/// An emulated display in its own task, and what it shows.
fn start_display(
    settings: &MqttSettings,
    office: &str,
    counter: &str,
) -> (JoinHandle<()>, watch::Receiver<Option<DisplayState>>) {
    let (shown_tx, shown_rx) = watch::channel(None);
    let (settings, office, counter) = (settings.clone(), office.to_owned(), counter.to_owned());
    let task = tokio::spawn(async move {
        if let Err(error) = run_display(&settings, &office, &counter, shown_tx).await {
            panic!("display emulator failed: {error}");
        }
    });
    (task, shown_rx)
}

async fn shows(shown: &mut watch::Receiver<Option<DisplayState>>, ticket: Option<&str>) -> DisplayState {
    let state = tokio::time::timeout(
        WAIT,
        shown.wait_for(|state| state.as_ref().is_some_and(|s| s.ticket.as_deref() == ticket)),
    );
    let state = state.await.expect("the display did not show it in time").expect("the display task ended");
    state.clone().expect("checked by wait_for")
}

/// A plain client of the test's own, for what devices would do and to read retained topics.
async fn raw_client(port: u16) -> (AsyncClient, rumqttc::EventLoop) {
    let mut options = MqttOptions::new(format!("fila-test-{:08x}", rand::random::<u32>()), "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut event_loop) = AsyncClient::new(options, 32);
    loop {
        match tokio::time::timeout(WAIT, event_loop.poll()).await.expect("no ConnAck in time") {
            Ok(Event::Incoming(Packet::ConnAck(_))) => return (client, event_loop),
            Ok(_) => {}
            Err(error) => panic!("test client cannot connect: {error}"),
        }
    }
}

/// The retained payload of `topic` right now, `None` if it has none. The broker sends a
/// subscription's retained message before it handles the client's next packets, so once a
/// marker published after subscribing comes back, whatever was retained has arrived.
async fn retained(port: u16, topic: &str) -> Option<Vec<u8>> {
    let (client, mut event_loop) = raw_client(port).await;
    let marker = format!("fila-test/marker/{:016x}", rand::random::<u64>());
    client.subscribe(topic, QoS::AtLeastOnce).await.expect("a fresh client queues a subscribe");
    client.subscribe(&marker, QoS::AtLeastOnce).await.expect("a fresh client queues a subscribe");
    client
        .publish(&marker, QoS::AtLeastOnce, false, b"marker".to_vec())
        .await
        .expect("a fresh client queues a publish");
    let read = async {
        let mut found = None;
        loop {
            match event_loop.poll().await {
                Ok(Event::Incoming(Packet::Publish(publish))) if publish.topic == marker => return found,
                Ok(Event::Incoming(Packet::Publish(publish))) if publish.topic == topic && publish.retain => {
                    found = Some(publish.payload.to_vec());
                }
                Ok(_) => {}
                Err(error) => panic!("test client lost the broker: {error}"),
            }
        }
    };
    tokio::time::timeout(WAIT, read).await.expect("the marker came back in time")
}

/// Waits until the retained payload of `topic` is `expected`.
async fn retained_becomes(port: u16, topic: &str, expected: &[u8]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let now = retained(port, topic).await;
        if now.as_deref() == Some(expected) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{topic} stayed {now:?}, expected {expected:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Publishes as a device would, waiting for the broker's PUBACK.
async fn publish_raw(port: u16, topic: &str, payload: &[u8], retain: bool) {
    let (client, mut event_loop) = raw_client(port).await;
    client.publish(topic, QoS::AtLeastOnce, retain, payload.to_vec()).await.expect("a fresh client queues a publish");
    let acked = async {
        loop {
            if let Ok(Event::Incoming(Packet::PubAck(_))) = event_loop.poll().await {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, acked).await.expect("no PUBACK in time");
}

/// Clears retained topics with zero-length retained publishes.
async fn clear_retained(port: u16, topics: &[String]) {
    for topic in topics {
        publish_raw(port, topic, &[], true).await;
    }
}

#[tokio::test]
async fn a_display_that_connects_after_the_state_was_published_shows_it_at_once() {
    if !broker_listening(SHARED_BROKER_PORT) {
        return;
    }
    let (settings, office) = (settings(SHARED_BROKER_PORT), unique_office());
    let (link, _inbound) = connected_link(&settings, &office).await;
    let topic = link.topics().display_state("4");
    link.publish_state(topic.clone(), display_state("4", 1, Some("A-023")).to_payload().expect("fits")).await;
    retained_becomes(SHARED_BROKER_PORT, &topic, &display_state("4", 1, Some("A-023")).to_payload().expect("fits"))
        .await;

    let (display, mut shown) = start_display(&settings, &office, "4");
    assert_eq!(shows(&mut shown, Some("A-023")).await, display_state("4", 1, Some("A-023")));

    // Live updates reach it too, a blank one included.
    link.publish_state(topic.clone(), display_state("4", 2, None).to_payload().expect("fits")).await;
    shows(&mut shown, None).await;

    // A display that drops off and comes back redraws from the retained state.
    display.abort();
    let (display, mut shown) = start_display(&settings, &office, "4");
    assert_eq!(shows(&mut shown, None).await.seq, 2);

    display.abort();
    link.shutdown().await;
    let topics = Topics::new("qms", &office);
    // Cleared only once the will and the goodbye are in, or they would be retained after us.
    let (display_status, edge_status) = (topics.display_status("4"), topics.edge_status());
    retained_becomes(SHARED_BROKER_PORT, &display_status, b"offline").await;
    retained_becomes(SHARED_BROKER_PORT, &edge_status, b"offline").await;
    clear_retained(SHARED_BROKER_PORT, &[topic, display_status, edge_status]).await;
}

#[tokio::test]
async fn a_killed_display_goes_offline_by_its_will_and_the_edge_hears_it() {
    if !broker_listening(SHARED_BROKER_PORT) {
        return;
    }
    let (settings, office) = (settings(SHARED_BROKER_PORT), unique_office());
    let (link, mut inbound) = connected_link(&settings, &office).await;
    let (display, _shown) = start_display(&settings, &office, "Caja-7");
    let online = Inbound::DisplayStatus { counter: "caja-7".into(), online: true };
    next_inbound(&mut inbound, |message| *message == online).await;
    let status = link.topics().display_status("caja-7");
    retained_becomes(SHARED_BROKER_PORT, &status, b"online").await;

    // Aborting the task drops the socket without DISCONNECT, as a power cut would.
    display.abort();
    let offline = Inbound::DisplayStatus { counter: "caja-7".into(), online: false };
    next_inbound(&mut inbound, |message| *message == offline).await;
    retained_becomes(SHARED_BROKER_PORT, &status, b"offline").await;

    link.shutdown().await;
    clear_retained(SHARED_BROKER_PORT, &[status, link.topics().edge_status()]).await;
}

#[tokio::test]
async fn a_killed_edge_leaves_offline_by_its_will_and_a_clean_shutdown_says_so_too() {
    if !broker_listening(SHARED_BROKER_PORT) {
        return;
    }
    let (settings, office) = (settings(SHARED_BROKER_PORT), unique_office());
    let edge_status = Topics::new("qms", &office).edge_status();

    let (link, _inbound) = connected_link(&settings, &office).await;
    retained_becomes(SHARED_BROKER_PORT, &edge_status, b"online").await;
    link.abort();
    assert!(!link.connected());
    retained_becomes(SHARED_BROKER_PORT, &edge_status, b"offline").await;

    let (link, _inbound) = connected_link(&settings, &office).await;
    retained_becomes(SHARED_BROKER_PORT, &edge_status, b"online").await;
    link.shutdown().await;
    assert!(!link.connected());
    retained_becomes(SHARED_BROKER_PORT, &edge_status, b"offline").await;

    clear_retained(SHARED_BROKER_PORT, &[edge_status]).await;
}

#[tokio::test]
async fn a_kiosk_button_press_reaches_the_edge_and_gets_its_ticket_and_a_malformed_one_is_rejected() {
    if !broker_listening(SHARED_BROKER_PORT) {
        return;
    }
    let (settings, office) = (settings(SHARED_BROKER_PORT), unique_office());
    let (link, mut inbound) = connected_link(&settings, &office).await;

    let press = {
        let (settings, office) = (settings.clone(), office.clone());
        tokio::spawn(async move { press_button(&settings, &office, "k1", "A").await })
    };
    let pressed = next_inbound(&mut inbound, |message| matches!(message, Inbound::KioskButton { .. })).await;
    assert_eq!(
        pressed,
        Inbound::KioskButton { kiosk: "k1".into(), button: KioskButton { service: "A".into(), category: None } }
    );
    let answer = KioskTicket { ticket: Some("A-001".into()), error: None };
    link.publish_event(link.topics().kiosk_ticket("k1"), answer.to_payload().expect("fits")).await;
    assert_eq!(press.await.expect("the press task ran").expect("the press succeeded"), Some(answer));

    let button_topic = link.topics().kiosk_button("k2");
    for (payload, reason) in [
        (&br#"{"service":5}"#[..], "invalid type: integer `5`"),
        (b"press", "not valid JSON"),
        (br#"{"service":"a/b"}"#, "is not an id"),
    ] {
        publish_raw(SHARED_BROKER_PORT, &button_topic, payload, false).await;
        match next_inbound(&mut inbound, |message| matches!(message, Inbound::Rejected { .. })).await {
            Inbound::Rejected { topic, reason: got } => {
                assert_eq!(topic, button_topic);
                assert!(got.contains(reason), "{got:?} should mention {reason:?}");
            }
            other => unreachable!("filtered: {other:?}"),
        }
    }
    // A display status that is neither online nor offline is rejected as well.
    let status = link.topics().display_status("9");
    publish_raw(SHARED_BROKER_PORT, &status, b"lost", false).await;
    let rejected = next_inbound(&mut inbound, |message| matches!(message, Inbound::Rejected { .. })).await;
    assert!(matches!(rejected, Inbound::Rejected { topic, .. } if topic == status));

    link.shutdown().await;
    clear_retained(SHARED_BROKER_PORT, &[link.topics().edge_status()]).await;
}

/// A private Mosquitto without persistence, so a restart loses every retained message.
struct Broker {
    port: u16,
    config: tempfile::TempDir,
    child: Option<Child>,
}

impl Broker {
    async fn start() -> Broker {
        Broker::start_with("allow_anonymous true\n", |_| {}).await
    }

    /// With more configuration, and files the configuration names made in its directory first.
    async fn start_with(access: &str, prepare: impl FnOnce(&Path)) -> Broker {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|socket| socket.local_addr())
            .expect("a free port")
            .port();
        let config = tempfile::tempdir().expect("a temp dir");
        prepare(config.path());
        let access = access.replace("{dir}", &config.path().display().to_string());
        let text = format!("listener {port} 127.0.0.1\n{access}persistence false\n");
        std::fs::write(config.path().join("mosquitto.conf"), text).expect("config written");
        let mut broker = Broker { port, config, child: None };
        broker.restart().await;
        broker
    }

    async fn restart(&mut self) {
        let child = Command::new(MOSQUITTO)
            .arg("-c")
            .arg(self.config.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + WAIT;
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            assert!(tokio::time::Instant::now() < deadline, "mosquitto did not listen on {}", self.port);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no chance to save or say goodbye.
    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.start_kill().expect("SIGKILL sent");
            child.wait().await.expect("mosquitto reaped");
        }
    }
}

#[tokio::test]
async fn after_a_broker_restart_the_link_reconnects_and_restores_edge_status_and_display_state() {
    if !tools::available(Path::new(MOSQUITTO).exists(), MOSQUITTO, "apt-get install mosquitto") {
        return;
    }
    let mut broker = Broker::start().await;
    let (settings, office) = (settings(broker.port), unique_office());
    let (link, mut inbound) = connected_link(&settings, &office).await;
    let topic = link.topics().display_state("4");
    let state = display_state("4", 5, Some("B-104"));
    link.publish_state(topic.clone(), state.to_payload().expect("fits")).await;
    let (display, mut shown) = start_display(&settings, &office, "4");
    assert_eq!(shows(&mut shown, Some("B-104")).await, state);
    display.abort();

    broker.kill().await;
    next_inbound(&mut inbound, |message| matches!(message, Inbound::Disconnected { .. })).await;
    // Published during the outage (the link knows it is down): only remembered, sent after the
    // reconnect.
    assert!(!link.connected());
    let newer = display_state("4", 6, Some("B-105"));
    link.publish_state(topic.clone(), newer.to_payload().expect("fits")).await;
    broker.restart().await;

    next_inbound(&mut inbound, |message| *message == Inbound::Connected).await;
    retained_becomes(broker.port, &link.topics().edge_status(), b"online").await;
    let (display, mut shown) = start_display(&settings, &office, "4");
    assert_eq!(shows(&mut shown, Some("B-105")).await, newer);
    // The subscriptions came back too: the new display's birth message reaches the edge.
    let online = Inbound::DisplayStatus { counter: "4".into(), online: true };
    next_inbound(&mut inbound, |message| *message == online).await;

    display.abort();
    link.shutdown().await;
    broker.kill().await;
}

#[tokio::test]
async fn a_display_drops_an_older_state_but_follows_a_restarted_edge_that_counts_from_one() {
    if !broker_listening(SHARED_BROKER_PORT) {
        return;
    }
    let (settings, office) = (settings(SHARED_BROKER_PORT), unique_office());
    let (link, _inbound) = connected_link(&settings, &office).await;
    let topic = link.topics().display_state("2");
    let (display, mut shown) = start_display(&settings, &office, "2");
    link.publish_state(topic.clone(), display_state("2", 5, Some("C-005")).to_payload().expect("fits")).await;
    shows(&mut shown, Some("C-005")).await;
    // Everything the display shows from now on, in order.
    let history = {
        let mut shown = shown.clone();
        tokio::spawn(async move {
            let mut history = Vec::new();
            while shown.changed().await.is_ok() {
                history.push(shown.borrow_and_update().as_ref().and_then(|state| state.ticket.clone()));
            }
            history
        })
    };

    // Delivered late: older by seq and by ts. Then the edge restarted: seq 1 again, but made
    // later. The display takes the topic's messages in order, so once it shows the restarted
    // edge's state it has judged the late one.
    link.publish_state(topic.clone(), display_state("2", 3, Some("C-003")).to_payload().expect("fits")).await;
    let mut restarted = display_state("2", 1, Some("C-006"));
    restarted.ts += 60_000;
    link.publish_state(topic.clone(), restarted.to_payload().expect("fits")).await;
    assert_eq!(shows(&mut shown, Some("C-006")).await, restarted);

    display.abort();
    let history = history.await.expect("the history task ran");
    assert_eq!(history, [Some("C-006".to_string())], "the late C-003 was never shown");
    link.shutdown().await;
    let (display_status, edge_status) = (link.topics().display_status("2"), link.topics().edge_status());
    retained_becomes(SHARED_BROKER_PORT, &display_status, b"offline").await;
    retained_becomes(SHARED_BROKER_PORT, &edge_status, b"offline").await;
    clear_retained(SHARED_BROKER_PORT, &[topic, display_status, edge_status]).await;
}

#[tokio::test]
async fn while_the_broker_hangs_up_the_link_reports_one_outage_not_one_per_retry_and_shuts_down_promptly() {
    // A broker that hangs up on every connection, and counts them, so the test sees each retry.
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("a free port");
    let port = listener.local_addr().expect("a bound address").port();
    let (count, mut attempts) = watch::channel(0_u32);
    let hangs_up = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
            count.send_modify(|attempts| *attempts += 1);
        }
    });
    let (link, mut inbound) = spawn(&settings(port), &unique_office());
    assert!(matches!(next_inbound(&mut inbound, |_| true).await, Inbound::Disconnected { .. }));
    link.publish_state(link.topics().board_state(), b"{}".to_vec()).await;
    link.publish_event(link.topics().call(), b"{}".to_vec()).await;
    // The link reports a failure, if it does, before it waits and tries again: by the third
    // attempt two failures have been handled, and a report per attempt would be waiting here.
    let retried = tokio::time::timeout(WAIT, attempts.wait_for(|attempts| *attempts >= 3)).await;
    retried.expect("the link retries within the wait").expect("the hang-up task runs");
    assert!(inbound.try_recv().is_err(), "one outage is reported once, not once per attempt");
    assert!(!link.connected());

    let started = tokio::time::Instant::now();
    link.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(1), "shutdown took {:?}", started.elapsed());
    hangs_up.abort();
}

#[tokio::test]
async fn a_broker_with_passwords_lets_the_edge_in_with_its_credentials_only() {
    let passwd = Path::new("/usr/bin/mosquitto_passwd");
    let installed = Path::new(MOSQUITTO).exists() && passwd.exists();
    if !tools::available(installed, "mosquitto and mosquitto_passwd", "apt-get install mosquitto") {
        return;
    }
    let mut broker = Broker::start_with("allow_anonymous false\npassword_file {dir}/passwd\n", |dir| {
        let made = std::process::Command::new(passwd)
            .args(["-b", "-c"])
            .arg(dir.join("passwd"))
            .args(["fila-edge", "s3cret"])
            .status()
            .expect("mosquitto_passwd runs");
        assert!(made.success());
    })
    .await;
    let office = unique_office();
    let with = |password: &str| MqttSettings {
        username: Some("fila-edge".into()),
        password: Some(password.into()),
        ..settings(broker.port)
    };

    let (link, mut inbound) = spawn(&with("wrong"), &office);
    next_inbound(&mut inbound, |message| matches!(message, Inbound::Disconnected { .. })).await;
    assert!(!link.connected(), "a wrong password is refused");
    link.shutdown().await;

    let (link, _inbound) = connected_link(&with("s3cret"), &office).await;
    assert!(link.connected(), "the right password is let in");
    link.shutdown().await;
    broker.kill().await;
}
