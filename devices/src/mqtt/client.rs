//! The edge's MQTT link: one connection to the office broker, kept up with backoff, that
//! publishes retained state and events and turns what devices send into [`Inbound`] messages.
//!
//! Two tasks share the link:
//! - the *event loop* task polls rumqttc's `EventLoop` (which does all network I/O) and never
//!   waits on anything else, so pings and acks keep flowing;
//! - the *outbox* task is the only one that queues requests to rumqttc. It sends, in order: the
//!   announcement after each ConnAck (subscriptions, then edge `online`), then retained states and
//!   events in the order the edge published them. A state is sent as its *latest* payload at the
//!   time of sending, so a burst of updates to one display costs one publish and a stale payload
//!   can never overtake a newer one.
//!
//! Why not rely on rumqttc or the broker to keep things: rumqttc drops unacknowledged publishes on
//! a reconnect with `clean_session = true`, and a broker restarted without persistence has lost
//! every retained message. So the link remembers the last payload per retained topic and sends
//! all of them again after every ConnAck. `clean_session` stays `true` on purpose: a persistent
//! session would make the broker queue kiosk presses while the edge is away and deliver them
//! minutes later, issuing tickets nobody waits for.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::Rng;
use rumqttc::{AsyncClient, Event, EventLoop, LastWill, MqttOptions, Outgoing, Packet, Publish, QoS, SubscribeFilter};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::payload::{parse_device_status, parse_kiosk_button, KioskButton, PayloadError, OFFLINE, ONLINE};
use super::topics::{InboundTopic, Topics};

/// Capacity of the channel of [`Inbound`] messages; when it is full, messages are dropped.
pub const INBOUND_CAPACITY: usize = 256;
/// The most retained topics the link remembers for re-publishing (an office has tens of displays).
pub const RETAINED_TOPICS_MAX: usize = 4096;
/// The most events waiting for the outbox; beyond it events are dropped, as a display skips a frame.
pub const EVENTS_QUEUED_MAX: usize = 256;
/// Requests queued towards rumqttc's event loop.
const REQUEST_CAPACITY: usize = 64;
/// A connection that lasted this long was healthy: the next failure starts backoff afresh.
const HEALTHY_CONNECTION: Duration = Duration::from_secs(10);
/// How long `shutdown` waits for each of its steps.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);
/// Bytes of a QoS 1 PUBLISH besides topic and payload: fixed header (at most 5), topic length
/// (2) and packet id (2).
const PUBLISH_OVERHEAD_BYTES: usize = 9;
/// How much of a foreign topic a log line or [`Inbound::Rejected`] quotes.
const QUOTED_TOPIC_CHARS_MAX: usize = 200;

/// How to reach the office broker. Every field has a default, so `{}` is a valid configuration.
/// `Debug` hides the password, so settings can be logged.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttSettings {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Defaults to `fila-edge-{office}`.
    pub client_id: Option<String>,
    /// The first topic levels, before the office id.
    pub prefix: String,
    /// 0 turns keep-alive off, and with it the broker's detection of a dead edge.
    pub keep_alive_secs: u16,
    /// The largest packet sent or accepted; rumqttc's own default is only 10 KiB.
    pub max_packet_kib: u32,
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
}

impl std::fmt::Debug for MqttSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("client_id", &self.client_id)
            .field("prefix", &self.prefix)
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("max_packet_kib", &self.max_packet_kib)
            .field("backoff_min_ms", &self.backoff_min_ms)
            .field("backoff_max_ms", &self.backoff_max_ms)
            .finish()
    }
}

impl Default for MqttSettings {
    fn default() -> Self {
        MqttSettings {
            host: "127.0.0.1".to_owned(),
            port: 1883,
            username: None,
            password: None,
            client_id: None,
            prefix: "qms".to_owned(),
            keep_alive_secs: 15,
            max_packet_kib: 256,
            backoff_min_ms: 250,
            backoff_max_ms: 30_000,
        }
    }
}

impl MqttSettings {
    /// Every problem with these settings, for configuration validation; empty when they are usable.
    /// `spawn` copes with all of them (it clamps), but an operator should hear about them.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.host.trim().is_empty() {
            problems.push("mqtt.host is empty".to_owned());
        }
        if self.port == 0 {
            problems.push("mqtt.port is 0".to_owned());
        }
        if self.password.is_some() && self.username.is_none() {
            problems.push("mqtt.password is set without mqtt.username".to_owned());
        }
        if self.client_id.as_deref().is_some_and(str::is_empty) {
            problems.push("mqtt.client_id is empty; leave it out for the default".to_owned());
        }
        for level in self.prefix.split('/').filter(|level| !level.is_empty()) {
            if let Err(error) = super::topics::validate_id(level) {
                problems.push(format!("mqtt.prefix: {error}"));
            }
        }
        if self.max_packet_kib == 0 {
            problems.push("mqtt.max_packet_kib is 0".to_owned());
        }
        if self.backoff_min_ms == 0 {
            problems.push("mqtt.backoff_min_ms is 0: a dead broker would be retried in a tight loop".to_owned());
        }
        if self.backoff_max_ms < self.backoff_min_ms {
            problems.push("mqtt.backoff_max_ms is below mqtt.backoff_min_ms".to_owned());
        }
        problems
    }

    /// The largest packet, in bytes, both ways.
    pub fn max_packet_bytes(&self) -> usize {
        usize::try_from(self.max_packet_kib.max(1)).unwrap_or(usize::MAX).saturating_mul(1024)
    }

    /// rumqttc options for one connection with its own client id and last will.
    pub(crate) fn options(&self, client_id: String, will: Option<LastWill>) -> MqttOptions {
        let mut options = MqttOptions::new(client_id, self.host.clone(), self.port);
        // Whole seconds only: rumqttc panics on a keep-alive under one second other than zero.
        options.set_keep_alive(Duration::from_secs(u64::from(self.keep_alive_secs)));
        options.set_max_packet_size(self.max_packet_bytes(), self.max_packet_bytes());
        options.set_clean_session(true);
        if let Some(will) = will {
            options.set_last_will(will);
        }
        if let Some(username) = &self.username {
            options.set_credentials(username.clone(), self.password.clone().unwrap_or_default());
        }
        options
    }

    pub(crate) fn backoff(&self) -> Backoff {
        Backoff::new(self.backoff_min_ms, self.backoff_max_ms)
    }
}

/// Exponential backoff with "equal jitter": the n-th wait is drawn from [c/2, c] where
/// c = min(max, min * 2^n), so many edges or displays that lost the same broker do not return in
/// step, yet none retries sooner than half the nominal wait. rumqttc itself retries at once.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min_ms: u64,
    max_ms: u64,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(min_ms: u64, max_ms: u64) -> Backoff {
        let min_ms = min_ms.max(1);
        Backoff { min_ms, max_ms: max_ms.max(min_ms), attempt: 0 }
    }

    pub(crate) fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let ceiling_ms = self.min_ms.saturating_mul(1u64 << self.attempt.min(40)).min(self.max_ms);
        self.attempt = self.attempt.saturating_add(1);
        Duration::from_millis(rng.gen_range(ceiling_ms / 2..=ceiling_ms))
    }

    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Called when a connection ends: a healthy one resets the backoff, a flapping one does not.
    pub(crate) fn connection_ended(&mut self, connected_at: Option<Instant>) {
        if connected_at.is_some_and(|at| at.elapsed() >= HEALTHY_CONNECTION) {
            self.reset();
        }
    }
}

/// What the link hears, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// The broker accepted the connection; subscriptions and retained state are being (re)sent.
    Connected,
    /// The connection was lost or could not be made; the link retries with backoff. Reported once
    /// per outage, not once per attempt.
    Disconnected { error: String },
    /// A display's birth message or last will (also its retained status, right after connecting).
    DisplayStatus { counter: String, online: bool },
    /// A hardware button asks for a ticket; answer on `Topics::kiosk_ticket(kiosk)`.
    KioskButton { kiosk: String, button: KioskButton },
    /// A message that was malformed or on a topic the link does not understand.
    Rejected { topic: String, reason: String },
}

/// A handle to the link. Cheap to clone; the tasks run until [`MqttLink::shutdown`] or
/// [`MqttLink::abort`], even if every handle is dropped.
#[derive(Clone)]
pub struct MqttLink {
    shared: Arc<Shared>,
}

struct Shared {
    topics: Topics,
    client: AsyncClient,
    max_packet_bytes: usize,
    outbox: Mutex<Outbox>,
    /// Wakes the outbox task; `notify_one` keeps a permit, so no wake-up is lost.
    wake: Notify,
    tasks: Mutex<Tasks>,
}

#[derive(Default)]
struct Tasks {
    event_loop: Option<JoinHandle<()>>,
    outbox: Option<JoinHandle<()>>,
}

/// Everything the outbox task works from, behind one lock so that "connected" and "what is
/// queued" always change together.
#[derive(Default)]
struct Outbox {
    connected: bool,
    stopping: bool,
    /// Subscriptions and edge `online` are due (after a ConnAck).
    announce: bool,
    shutdown: Option<oneshot::Sender<()>>,
    /// The last payload per retained topic, re-sent after every ConnAck.
    retained: BTreeMap<String, Vec<u8>>,
    queue: VecDeque<Item>,
    /// The retained topics already in `queue`, so a topic is queued at most once.
    queued_states: BTreeSet<String>,
    queued_events: usize,
}

enum Item {
    State(String),
    Event { topic: String, payload: Vec<u8> },
}

enum Work {
    Idle,
    Shutdown { done: oneshot::Sender<()>, connected: bool },
    Announce,
    Publish { topic: String, payload: Vec<u8>, retain: bool },
}

impl Outbox {
    fn on_connected(&mut self) {
        self.connected = true;
        self.announce = true;
        self.queue.clear();
        self.queued_events = 0;
        self.queued_states = self.retained.keys().cloned().collect();
        self.queue.extend(self.retained.keys().cloned().map(Item::State));
    }

    /// Events queued during an outage are stale by the time it ends; states are re-sent anyway.
    fn on_disconnected(&mut self) {
        self.connected = false;
        self.announce = false;
        self.queue.clear();
        self.queued_states.clear();
        self.queued_events = 0;
    }

    fn take_work(&mut self) -> Work {
        if let Some(done) = self.shutdown.take() {
            return Work::Shutdown { done, connected: self.connected };
        }
        if !self.connected || self.stopping {
            return Work::Idle;
        }
        if self.announce {
            self.announce = false;
            return Work::Announce;
        }
        while let Some(item) = self.queue.pop_front() {
            match item {
                Item::State(topic) => {
                    self.queued_states.remove(&topic);
                    if let Some(payload) = self.retained.get(&topic) {
                        return Work::Publish { payload: payload.clone(), topic, retain: true };
                    }
                }
                Item::Event { topic, payload } => {
                    self.queued_events = self.queued_events.saturating_sub(1);
                    return Work::Publish { topic, payload, retain: false };
                }
            }
        }
        Work::Idle
    }
}

impl Shared {
    fn outbox(&self) -> MutexGuard<'_, Outbox> {
        // A poisoned lock means a panic while holding it, a bug; the data is still consistent
        // enough to keep publishing, which beats taking the office's displays down with it.
        self.outbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tasks(&self) -> MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why `topic` and `payload` cannot be published, if they cannot. rumqttc would turn an
    /// oversized packet into a connection error, and a retained one would then break every
    /// reconnect; a wildcard topic is refused by rumqttc.
    fn check_publish(&self, topic: &str, payload: &[u8]) -> Result<(), String> {
        if topic.is_empty() || topic.contains(['+', '#', '\0']) {
            return Err("the topic is empty or holds a wildcard".to_owned());
        }
        let len = topic.len() + payload.len() + PUBLISH_OVERHEAD_BYTES;
        if len > self.max_packet_bytes {
            return Err(format!("the packet would be {len} bytes; max_packet_kib allows {}", self.max_packet_bytes));
        }
        Ok(())
    }
}

/// Starts the link to the broker of `office` (call it inside a Tokio runtime). The receiver
/// yields [`Inbound`] messages; if nobody drains it, messages are dropped with a warning.
pub fn spawn(settings: &MqttSettings, office: &str) -> (MqttLink, mpsc::Receiver<Inbound>) {
    for problem in settings.problems() {
        warn!(%problem, "MQTT settings");
    }
    let topics = Topics::new(&settings.prefix, office);
    let will = LastWill::new(topics.edge_status(), OFFLINE, QoS::AtLeastOnce, true);
    let client_id = settings.client_id.clone().unwrap_or_else(|| format!("fila-edge-{office}"));
    let (client, event_loop) = AsyncClient::new(settings.options(client_id, Some(will)), REQUEST_CAPACITY);
    let shared = Arc::new(Shared {
        topics,
        client,
        max_packet_bytes: settings.max_packet_bytes(),
        outbox: Mutex::new(Outbox::default()),
        wake: Notify::new(),
        tasks: Mutex::new(Tasks::default()),
    });
    let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_CAPACITY);
    let event_loop = tokio::spawn(run_event_loop(shared.clone(), event_loop, settings.backoff(), inbound_tx));
    let outbox = tokio::spawn(run_outbox(shared.clone()));
    *shared.tasks() = Tasks { event_loop: Some(event_loop), outbox: Some(outbox) };
    (MqttLink { shared }, inbound_rx)
}

impl MqttLink {
    pub fn topics(&self) -> &Topics {
        &self.shared.topics
    }

    /// Whether the broker has accepted the current connection.
    pub fn connected(&self) -> bool {
        self.shared.outbox().connected
    }

    /// Publishes retained state with QoS 1 and remembers it, to send again after every reconnect.
    /// Never waits: the outbox task sends it, coalescing updates to one topic. While disconnected
    /// the payload is only remembered. A zero-length payload clears the topic on the broker (and
    /// is re-sent like any other, so a decommissioned display stays blank after a broker restart).
    pub async fn publish_state(&self, topic: String, payload: Vec<u8>) {
        if let Err(reason) = self.shared.check_publish(&topic, &payload) {
            warn!(topic, reason, "MQTT state not published");
            return;
        }
        {
            let mut outbox = self.shared.outbox();
            if outbox.stopping {
                return;
            }
            if !outbox.retained.contains_key(&topic) && outbox.retained.len() >= RETAINED_TOPICS_MAX {
                warn!(topic, max = RETAINED_TOPICS_MAX, "MQTT state not published: too many retained topics");
                return;
            }
            outbox.retained.insert(topic.clone(), payload);
            if outbox.connected && outbox.queued_states.insert(topic.clone()) {
                outbox.queue.push_back(Item::State(topic));
            }
        }
        self.shared.wake.notify_one();
    }

    /// Publishes an event (not retained, QoS 1) after what was published before it. An event is
    /// dropped, with a warning, while disconnected or when [`EVENTS_QUEUED_MAX`] are waiting:
    /// events are never replayed, so a late call announcement would only confuse.
    pub async fn publish_event(&self, topic: String, payload: Vec<u8>) {
        if let Err(reason) = self.shared.check_publish(&topic, &payload) {
            warn!(topic, reason, "MQTT event not published");
            return;
        }
        {
            let mut outbox = self.shared.outbox();
            if outbox.stopping {
                return;
            }
            if !outbox.connected {
                warn!(topic, "MQTT event dropped: not connected");
                return;
            }
            if outbox.queued_events >= EVENTS_QUEUED_MAX {
                warn!(topic, max = EVENTS_QUEUED_MAX, "MQTT event dropped: too many waiting");
                return;
            }
            outbox.queued_events += 1;
            outbox.queue.push_back(Item::Event { topic, payload });
        }
        self.shared.wake.notify_one();
    }

    /// Publishes edge `offline` (retained), disconnects cleanly, so the broker discards the will,
    /// and stops both tasks. Bounded: after a few seconds the tasks are aborted.
    pub async fn shutdown(&self) {
        let (done_tx, done_rx) = oneshot::channel();
        let connected = {
            let mut outbox = self.shared.outbox();
            if outbox.stopping {
                return;
            }
            outbox.stopping = true;
            outbox.shutdown = Some(done_tx);
            outbox.connected
        };
        self.shared.wake.notify_one();
        let _ = tokio::time::timeout(SHUTDOWN_WAIT, done_rx).await;
        let tasks = std::mem::take(&mut *self.shared.tasks());
        if let Some(mut event_loop) = tasks.event_loop {
            // Connected, the event loop ends by itself once DISCONNECT is written; otherwise it
            // is waiting out a backoff and there is nothing to finish.
            if !connected || tokio::time::timeout(SHUTDOWN_WAIT, &mut event_loop).await.is_err() {
                event_loop.abort();
            }
        }
        if let Some(outbox) = tasks.outbox {
            outbox.abort();
        }
        self.shared.outbox().on_disconnected();
        info!(office = self.shared.topics.root(), "MQTT link shut down");
    }

    /// Stops both tasks at once and drops the socket without DISCONNECT, as a crash would: the
    /// broker then publishes the edge's last will. For tests and crash drills.
    pub fn abort(&self) {
        self.shared.outbox().stopping = true;
        let tasks = std::mem::take(&mut *self.shared.tasks());
        for task in [tasks.event_loop, tasks.outbox].into_iter().flatten() {
            task.abort();
        }
        self.shared.outbox().on_disconnected();
    }
}

async fn run_event_loop(
    shared: Arc<Shared>,
    mut event_loop: EventLoop,
    mut backoff: Backoff,
    inbound: mpsc::Sender<Inbound>,
) {
    let mut connected_at: Option<Instant> = None;
    // Whether the current outage was reported, so a dead broker gives one message, not one per try.
    let mut outage_reported = false;
    loop {
        match event_loop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                info!(office = shared.topics.root(), "MQTT connected");
                connected_at = Some(Instant::now());
                outage_reported = false;
                shared.outbox().on_connected();
                shared.wake.notify_one();
                deliver(&inbound, Inbound::Connected);
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => deliver_publish(&shared.topics, &inbound, publish),
            Ok(Event::Outgoing(Outgoing::Disconnect)) if shared.outbox().stopping => break,
            Ok(_) => {}
            Err(error) => {
                if shared.outbox().stopping {
                    break;
                }
                shared.outbox().on_disconnected();
                backoff.connection_ended(connected_at.take());
                let delay = backoff.next_delay(&mut rand::thread_rng());
                warn!(office = shared.topics.root(), %error, delay_ms = delay.as_millis(), "MQTT connection failed; retrying");
                if !outage_reported {
                    outage_reported = true;
                    deliver(&inbound, Inbound::Disconnected { error: error.to_string() });
                }
                tokio::time::sleep(delay).await;
            }
        }
    }
    shared.outbox().on_disconnected();
}

async fn run_outbox(shared: Arc<Shared>) {
    loop {
        let work = shared.outbox().take_work();
        match work {
            Work::Idle => shared.wake.notified().await,
            Work::Announce => {
                let filters = [
                    SubscribeFilter::new(shared.topics.display_status_filter(), QoS::AtLeastOnce),
                    SubscribeFilter::new(shared.topics.kiosk_button_filter(), QoS::AtLeastOnce),
                ];
                if let Err(error) = shared.client.subscribe_many(filters).await {
                    warn!(%error, "MQTT subscribe not queued");
                }
                send(&shared, shared.topics.edge_status(), ONLINE.to_vec(), true).await;
            }
            Work::Publish { topic, payload, retain } => send(&shared, topic, payload, retain).await,
            Work::Shutdown { done, connected } => {
                if connected {
                    let offline = shared.client.publish(shared.topics.edge_status(), QoS::AtLeastOnce, true, OFFLINE);
                    if tokio::time::timeout(SHUTDOWN_WAIT, offline).await.is_err() {
                        warn!("MQTT edge offline not queued in time");
                    }
                    let _ = tokio::time::timeout(SHUTDOWN_WAIT, shared.client.disconnect()).await;
                }
                let _ = done.send(());
                return;
            }
        }
    }
}

/// Queues one publish to rumqttc. This may wait while rumqttc's queue is full; only the outbox
/// task calls it, so only the outbox waits, and it keeps the order.
async fn send(shared: &Shared, topic: String, payload: Vec<u8>, retain: bool) {
    debug!(topic, bytes = payload.len(), retain, "MQTT publish");
    if let Err(error) = shared.client.publish(topic, QoS::AtLeastOnce, retain, payload).await {
        warn!(%error, "MQTT publish not queued");
    }
}

fn deliver_publish(topics: &Topics, inbound: &mpsc::Sender<Inbound>, publish: Publish) {
    let topic = publish.topic;
    let message = match topics.parse(&topic) {
        None => Inbound::Rejected { topic, reason: "not a topic fila listens to".to_owned() },
        Some(InboundTopic::DisplayStatus { counter }) => match parse_device_status(&publish.payload) {
            Ok(online) => Inbound::DisplayStatus { counter, online },
            // A zero-length retained publish clears the topic: a display decommissioned.
            Err(PayloadError::Empty) => {
                debug!(topic, "display status cleared");
                return;
            }
            Err(error) => Inbound::Rejected { topic, reason: error.to_string() },
        },
        Some(InboundTopic::KioskButton { kiosk }) => match parse_kiosk_button(&publish.payload) {
            Ok(button) => Inbound::KioskButton { kiosk, button },
            Err(error) => Inbound::Rejected { topic, reason: error.to_string() },
        },
    };
    let message = match message {
        Inbound::Rejected { topic, reason } => {
            let topic: String = topic.chars().take(QUOTED_TOPIC_CHARS_MAX).collect();
            warn!(topic, reason, "MQTT message rejected");
            Inbound::Rejected { topic, reason }
        }
        message => message,
    };
    deliver(inbound, message);
}

/// Hands a message to the edge without ever blocking the event loop.
fn deliver(inbound: &mpsc::Sender<Inbound>, message: Inbound) {
    match inbound.try_send(message) {
        Ok(()) => {}
        Err(mpsc::error::TrySendError::Full(message)) => warn!(?message, "MQTT inbound queue full; message dropped"),
        Err(mpsc::error::TrySendError::Closed(_)) => debug!("MQTT inbound receiver dropped"),
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_max_and_resets() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut backoff = Backoff::new(100, 1_000);
        for ceiling in [100, 200, 400, 800, 1_000, 1_000, 1_000] {
            let delay = backoff.next_delay(&mut rng).as_millis();
            assert!((ceiling / 2..=ceiling).contains(&delay), "{delay} ms outside [{}, {ceiling}]", ceiling / 2);
        }
        backoff.reset();
        assert!(backoff.next_delay(&mut rng).as_millis() <= 100);
        let mut many = Backoff::new(0, 0);
        for _ in 0..100 {
            assert!(many.next_delay(&mut rng) <= Duration::from_millis(1));
        }
    }

    #[test]
    fn default_settings_have_no_problems_and_bad_ones_are_all_reported() {
        assert_eq!(MqttSettings::default().problems(), Vec::<String>::new());
        let bad = MqttSettings {
            host: String::new(),
            port: 0,
            password: Some("x".into()),
            prefix: "q+s".into(),
            max_packet_kib: 0,
            backoff_min_ms: 0,
            ..MqttSettings::default()
        };
        assert_eq!(bad.problems().len(), 6, "{:?}", bad.problems());
        let parsed: MqttSettings = serde_json::from_str(r#"{"port": 1884}"#).expect("other fields default");
        assert_eq!(parsed, MqttSettings { port: 1884, ..MqttSettings::default() });
        assert!(serde_json::from_str::<MqttSettings>(r#"{"hots": "x"}"#).is_err());
        let secret = MqttSettings { username: Some("edge".into()), password: Some("hunter2".into()), ..parsed };
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn outbox_sends_the_latest_state_once_and_keeps_events_in_order() {
        let mut outbox = Outbox::default();
        outbox.retained.insert("s".into(), b"old".to_vec());
        outbox.on_connected();
        assert!(matches!(outbox.take_work(), Work::Announce));
        outbox.retained.insert("s".into(), b"new".to_vec());
        outbox.queued_events += 1;
        outbox.queue.push_back(Item::Event { topic: "e".into(), payload: b"1".to_vec() });
        match outbox.take_work() {
            Work::Publish { topic, payload, retain: true } => {
                assert_eq!((topic.as_str(), &payload[..]), ("s", &b"new"[..]))
            }
            _ => panic!("expected the state first"),
        }
        assert!(matches!(outbox.take_work(), Work::Publish { retain: false, .. }));
        assert!(matches!(outbox.take_work(), Work::Idle));
        outbox.on_disconnected();
        assert!(matches!(outbox.take_work(), Work::Idle));
    }
}
