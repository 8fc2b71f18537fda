//! Counter displays follow the office: a display shows its counter's current ticket (blinking
//! when it is called), and goes blank when the counter is idle or closed. Displays are sent
//! state, never deltas, so a display that was away or rebooted shows the right thing as soon as
//! it answers again, and the same state after a restart as before it.

use std::collections::HashMap;
use std::time::Duration;

use fila_devices::modbus::{DisplayBus, DisplayContent, DisplayError, RegisterMap};
use fila_devices::mqtt::{CallEvent, DisplayState, MqttLink};
use fila_protocol::office::{CounterStatus, Event, Office};
use fila_protocol::{TicketId, Timestamp};
use tokio::sync::{broadcast, watch};
use tracing::Instrument;

use super::health::{DeviceHealth, HealthBoard};
use crate::office_loop::{Clock, OfficeHandle};
use crate::settings::devices::{DeviceSettings, DisplayKind};

/// Blinks when a ticket is called.
const CALL_BLINKS: u8 = 3;
/// A display that works is asked this often whether it still does.
const PROBE_EVERY: Duration = Duration::from_secs(10);
/// A display that failed is tried again after this, then twice as long each time up to
/// `RETRY_MAX`, so dead displays do not keep a shared bus busy.
const RETRY_FIRST: Duration = Duration::from_secs(3);
const RETRY_MAX: Duration = Duration::from_secs(60);
/// After a failed look at the office (it was busy), look again this soon.
const RELOOK_AFTER: Duration = Duration::from_secs(1);

/// What one counter shows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    ticket: Option<String>,
    blink: u8,
}

pub struct DisplayHub {
    office: OfficeHandle,
    clock: Clock,
    mqtt: Option<MqttLink>,
    /// The Modbus displays of each counter, each fed by its own task.
    modbus: HashMap<String, Vec<watch::Sender<DisplayContent>>>,
    /// The ticket each counter shows, and the numbers of the tickets called today.
    showing: HashMap<String, Option<TicketId>>,
    numbers: HashMap<TicketId, String>,
    /// The last look at the office failed: displays may be stale until the next one.
    stale: bool,
    seq: u64,
}

impl DisplayHub {
    pub fn new(
        office: OfficeHandle,
        clock: Clock,
        settings: &DeviceSettings,
        mqtt: Option<MqttLink>,
        health: &HealthBoard,
    ) -> Self {
        let mut modbus: HashMap<String, Vec<watch::Sender<DisplayContent>>> = HashMap::new();
        // Each line is opened when first needed and again after it was lost (an adapter unplugged).
        let lines: HashMap<&str, DisplayBus> =
            settings.buses.iter().map(|b| (b.id.as_str(), DisplayBus::serial(&b.settings))).collect();
        for display in &settings.displays {
            let id = display.health_id();
            match &display.kind {
                DisplayKind::Modbus { bus, unit, map } => {
                    health.register(DeviceHealth::new(&id, "display", Some(&display.counter)));
                    let Some(bus) = lines.get(bus.as_str()) else { continue };
                    let (content, wanted) = watch::channel(DisplayContent::Blank);
                    let driver = ModbusDriver {
                        id: id.clone(),
                        bus: bus.clone(),
                        unit: *unit,
                        map: map.clone(),
                        health: health.clone(),
                        clock: clock.clone(),
                    };
                    tokio::spawn(driver.run(wanted).instrument(tracing::info_span!("display", id = %id, unit)));
                    modbus.entry(display.counter.clone()).or_default().push(content);
                }
                // Its state goes out on MQTT from `show`; its online status comes back through
                // `inbound`.
                DisplayKind::Mqtt => {}
            }
        }
        DisplayHub {
            office,
            clock,
            mqtt,
            modbus,
            showing: HashMap::new(),
            numbers: HashMap::new(),
            stale: false,
            seq: 0,
        }
    }

    /// Follow the office's events until it stops.
    pub async fn run(mut self) {
        let mut events = self.office.subscribe();
        self.show_everything().await;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => self.on_event(event).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "display hub fell behind the office; showing the state afresh");
                        self.show_everything().await;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(RELOOK_AFTER), if self.stale => self.show_everything().await,
            }
        }
    }

    async fn on_event(&mut self, event: Event) {
        match event {
            Event::Called { ticket, .. } => {
                let Some(counter) = ticket.counter.as_ref().map(|c| c.as_str().to_string()) else { return };
                let number = ticket.number.to_string();
                self.numbers.insert(ticket.id, number.clone());
                self.showing.insert(counter.clone(), Some(ticket.id));
                let shown = Shown { ticket: Some(number.clone()), blink: CALL_BLINKS };
                self.show(&counter, &shown).await;
                self.announce(&counter, &number, ticket.service.as_str()).await;
            }
            Event::CounterChanged { counter, state } => {
                let wanted = if state.status == CounterStatus::Closed { None } else { state.current };
                let counter = counter.as_str().to_string();
                if self.showing.get(&counter) == Some(&wanted) {
                    return;
                }
                match wanted {
                    None => {
                        self.showing.insert(counter.clone(), None);
                        self.show(&counter, &Shown { ticket: None, blink: 0 }).await;
                    }
                    Some(id) => match self.numbers.get(&id).cloned() {
                        Some(number) => {
                            self.showing.insert(counter.clone(), Some(id));
                            self.show(&counter, &Shown { ticket: Some(number), blink: 0 }).await;
                        }
                        None => self.show_everything().await,
                    },
                }
            }
            Event::DayStarted(_) => {
                self.numbers.clear();
                self.show_everything().await;
            }
            _ => {}
        }
    }

    /// Every counter as the office has it now: after a start or a missed event.
    async fn show_everything(&mut self) {
        let counters = match self.office.query(counters_now).await {
            Ok(counters) => counters,
            Err(error) => {
                tracing::warn!(%error, "cannot read the counters; displays may be stale for a moment");
                self.stale = true;
                return;
            }
        };
        self.stale = false;
        for (counter, current) in counters {
            self.showing.insert(counter.clone(), current.as_ref().map(|(id, _)| *id));
            if let Some((id, number)) = &current {
                self.numbers.insert(*id, number.clone());
            }
            self.show(&counter, &Shown { ticket: current.map(|(_, number)| number), blink: 0 }).await;
        }
    }

    async fn show(&mut self, counter: &str, shown: &Shown) {
        if let Some(displays) = self.modbus.get(counter) {
            let content = match &shown.ticket {
                Some(ticket) => {
                    DisplayContent::Call { ticket: ticket.clone(), counter: counter.to_string(), blink: shown.blink }
                }
                None => DisplayContent::Blank,
            };
            for display in displays {
                display.send_replace(content.clone());
            }
        }
        if let Some(mqtt) = self.mqtt.clone() {
            let state = DisplayState {
                seq: self.next_seq(),
                counter: counter.to_string(),
                label: self.counter_name(counter),
                ticket: shown.ticket.clone(),
                blink: shown.blink,
                ts: self.now().as_ms(),
            };
            match state.to_payload() {
                Ok(payload) => mqtt.publish_state(mqtt.topics().display_state(counter), payload).await,
                Err(error) => tracing::warn!(%error, counter, "display state not sent"),
            }
        }
    }

    /// The call for screens and speakers.
    async fn announce(&mut self, counter: &str, ticket: &str, service: &str) {
        if let Some(mqtt) = self.mqtt.clone() {
            let event = CallEvent {
                seq: self.next_seq(),
                ticket: ticket.to_string(),
                counter: counter.to_string(),
                label: self.counter_name(counter),
                service: service.to_string(),
                ts: self.now().as_ms(),
            };
            match event.to_payload() {
                Ok(payload) => mqtt.publish_event(mqtt.topics().call(), payload).await,
                Err(error) => tracing::warn!(%error, ticket, "call event not sent"),
            }
        }
    }

    fn counter_name(&self, counter: &str) -> String {
        let config = self.office.config();
        config
            .counters
            .iter()
            .find(|c| c.id.as_str() == counter)
            .map_or_else(|| counter.to_string(), |c| c.name.clone())
    }

    /// Increasing across restarts too (it starts from the clock), so displays can drop stale states.
    fn next_seq(&mut self) -> u64 {
        self.seq = (self.seq + 1).max(self.now().as_ms().max(0) as u64);
        self.seq
    }

    fn now(&self) -> Timestamp {
        self.clock.as_ref()()
    }
}

/// Each counter's current ticket and its number (None when closed or idle).
fn counters_now(office: &Office, _now: Timestamp) -> Vec<(String, Option<(TicketId, String)>)> {
    let day = office.day();
    office
        .config()
        .counters
        .iter()
        .map(|c| {
            let state = day.counter(&c.id);
            let ticket = match state.status {
                CounterStatus::Closed => None,
                _ => state.current.and_then(|t| office.ticket(t)).map(|t| (t.id, t.number.to_string())),
            };
            (c.id.as_str().to_string(), ticket)
        })
        .collect()
}

/// One Modbus display: shows the latest wanted content, retries while it does not answer.
struct ModbusDriver {
    id: String,
    bus: DisplayBus,
    unit: u8,
    map: RegisterMap,
    health: HealthBoard,
    clock: Clock,
}

impl ModbusDriver {
    /// The text first, its blinking after, as two requests: when several counters on one line
    /// call at once, every display gets its number before any starts to blink.
    async fn show(&self, content: &DisplayContent) -> Result<(), DisplayError> {
        let mut writes = self.map.frame(content);
        let blink = writes.split_off(writes.len().min(1));
        self.bus.write(self.unit, writes).await?;
        if blink.is_empty() {
            return Ok(());
        }
        self.bus.write(self.unit, blink).await
    }

    async fn run(self, mut wanted: watch::Receiver<DisplayContent>) {
        let mut dirty = true;
        // The wait before the next attempt, and the one after it.
        let (mut wait_failed, mut next_wait) = (RETRY_FIRST, RETRY_FIRST);
        loop {
            if dirty {
                let content = wanted.borrow_and_update().clone();
                match self.show(&content).await {
                    Ok(()) => {
                        dirty = false;
                        (wait_failed, next_wait) = (RETRY_FIRST, RETRY_FIRST);
                        self.health.seen(&self.id, self.clock.as_ref()().as_ms());
                    }
                    // A missing line costs nothing to look for again; a silent display holds it.
                    Err(error @ DisplayError::Open { .. }) => self.health.failed(&self.id, error.to_string()),
                    Err(error) => {
                        self.health.failed(&self.id, error.to_string());
                        (wait_failed, next_wait) = (next_wait, (next_wait * 2).min(RETRY_MAX));
                    }
                }
            }
            let wait = if dirty { wait_failed } else { PROBE_EVERY };
            tokio::select! {
                changed = wanted.changed() => match changed {
                    Ok(()) => dirty = true,
                    Err(_) => return,
                },
                _ = tokio::time::sleep(wait), if !dirty => {
                    if let Err(error) = self.bus.probe(self.unit, &self.map).await {
                        self.health.failed(&self.id, error.to_string());
                        // It may come back blank after a power cut: show it again once it answers.
                        dirty = true;
                    }
                }
                _ = tokio::time::sleep(wait), if dirty => {}
            }
        }
    }
}
