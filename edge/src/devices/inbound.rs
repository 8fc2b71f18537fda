//! What MQTT devices say, dispatched in a task of its own: the broker link's state and the
//! displays' online status go to the health board, a kiosk button's press becomes a ticket
//! (`buttons`). Apart from the display hub, so a burst of presses or statuses never delays a
//! call on its way to the displays, and the hub only ever talks to displays.

use std::collections::HashMap;

use fila_devices::mqtt::Inbound;
use tokio::sync::mpsc;

use super::buttons::Buttons;
use super::health::{DeviceHealth, HealthBoard};
use crate::office_loop::Clock;
use crate::settings::devices::{DeviceSettings, DisplayKind};

pub struct InboundDispatch {
    health: HealthBoard,
    /// The health id of each MQTT display, by its counter's topic id (MQTT ids are lower case).
    displays: HashMap<String, String>,
    buttons: Buttons,
    clock: Clock,
}

impl InboundDispatch {
    /// Registers every MQTT display on the health board (offline until it says otherwise).
    pub fn new(settings: &DeviceSettings, health: &HealthBoard, buttons: Buttons, clock: Clock) -> Self {
        let mut displays = HashMap::new();
        for display in settings.displays.iter().filter(|d| matches!(d.kind, DisplayKind::Mqtt)) {
            let id = display.health_id();
            health.register(DeviceHealth::new(&id, "mqtt_display", Some(&display.counter)));
            let topic_id =
                fila_devices::mqtt::topics::validate_id(&display.counter).unwrap_or_else(|_| display.counter.clone());
            displays.insert(topic_id, id);
        }
        InboundDispatch { health: health.clone(), displays, buttons, clock }
    }

    /// Dispatch every message until the MQTT link stops.
    pub async fn run(self, mut inbound: mpsc::Receiver<Inbound>) {
        while let Some(message) = inbound.recv().await {
            self.handle(message);
        }
    }

    fn handle(&self, message: Inbound) {
        let now = self.clock.as_ref()().as_ms();
        match message {
            Inbound::Connected => self.health.seen("broker", now),
            Inbound::Disconnected { error } => self.health.failed("broker", error),
            Inbound::DisplayStatus { counter, online } => match self.displays.get(&counter) {
                Some(id) => self.health.set_online(id, online, now),
                None => tracing::debug!(counter, online, "status of a display that is not configured"),
            },
            Inbound::KioskButton { kiosk, button } => self.buttons.press(kiosk, button),
            Inbound::Rejected { topic, reason } => tracing::warn!(topic, reason, "MQTT message rejected"),
        }
    }
}
