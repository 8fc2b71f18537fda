//! Hardware kiosk buttons: a press on MQTT asks for a ticket of a service, exactly as a touch
//! kiosk does, and the ticket comes out of that kiosk's printer. The button box hears back the
//! number (or why there is none) on its `ticket` topic.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fila_devices::mqtt::{KioskButton, KioskTicket, MqttLink};
use fila_protocol::office::{Command, Office, Position, Priority, Reply};
use fila_protocol::{CategoryId, ServiceId, Ticket, Timestamp};

use super::printers::PrinterPool;
use super::ticket::ticket_print;
use crate::office_loop::{LoopError, OfficeHandle};

#[derive(Clone)]
pub struct Buttons {
    pub office: OfficeHandle,
    pub printers: PrinterPool,
    pub mqtt: Option<MqttLink>,
    /// Kiosks allowed to ask for tickets by button: by their topic id (MQTT ids are lower
    /// case), the kiosk's own id.
    pub kiosks: Arc<BTreeMap<String, String>>,
    /// Where citizens reach this box, for the QR code.
    pub base_url: String,
    pub lang: fila_devices::Lang,
    pub last_press: Arc<Mutex<HashMap<String, Instant>>>,
    /// The kiosks' ticket rate: a button box and the touch screen of one kiosk share it.
    pub security: Arc<crate::security::Security>,
    pub clock: crate::office_loop::Clock,
}

/// The shortest time between two tickets from one button box.
const PRESS_GAP: Duration = Duration::from_millis(1000);

impl Buttons {
    pub fn press(&self, topic_id: String, button: KioskButton) {
        let buttons = self.clone();
        tokio::spawn(async move {
            let reply = match buttons.kiosks.get(&topic_id) {
                None => {
                    tracing::warn!(kiosk = topic_id, "button press from a kiosk that is not configured");
                    KioskTicket { ticket: None, error: Some(format!("kiosk {topic_id:?} is not configured")) }
                }
                Some(kiosk) if !buttons.ready(kiosk) => {
                    tracing::warn!(kiosk, "button pressed again too soon; ignored");
                    KioskTicket { ticket: None, error: Some("pressed again too soon; wait a second".into()) }
                }
                Some(kiosk) => match buttons.security.kiosk_issue(kiosk, (buttons.clock)().as_ms()) {
                    Ok(()) => buttons.issue(kiosk, button).await,
                    Err(_) => KioskTicket {
                        ticket: None,
                        error: Some("this kiosk is issuing tickets faster than people take them; wait a moment".into()),
                    },
                },
            };
            if let Some(mqtt) = &buttons.mqtt {
                match reply.to_payload() {
                    Ok(payload) => mqtt.publish_event(mqtt.topics().kiosk_ticket(&topic_id), payload).await,
                    Err(error) => tracing::warn!(%error, "button reply not sent"),
                }
            }
        });
    }

    /// A stuck or bouncing button must not print a roll of tickets: one press per kiosk per
    /// `PRESS_GAP`.
    fn ready(&self, kiosk: &str) -> bool {
        let now = Instant::now();
        let mut last = self.last_press.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match last.get(kiosk) {
            Some(at) if now.duration_since(*at) < PRESS_GAP => false,
            _ => {
                last.insert(kiosk.to_string(), now);
                true
            }
        }
    }

    async fn issue(&self, kiosk: &str, button: KioskButton) -> KioskTicket {
        let priority = match button.category {
            Some(category) => Priority::Preferential(CategoryId::new(category)),
            None => Priority::Normal,
        };
        let command = Command::Issue {
            service: ServiceId::new(button.service),
            priority,
            issuer: fila_protocol::Who::Button(kiosk.to_string()),
            token: crate::auth::tracking_token(),
        };
        match self.office.send_with(command, issued_ticket).await {
            Ok((ticket, position)) => {
                tracing::info!(ticket = %ticket.number, kiosk, "ticket issued by button");
                let config = self.office.config();
                let print = ticket_print(&ticket, position, &config, &self.base_url, self.lang);
                let outcome = self.printers.print(kiosk, print).await;
                let error = outcome.filter(|o| !o.printed).and_then(|o| o.reason);
                KioskTicket { ticket: Some(ticket.number.to_string()), error }
            }
            Err(error) => {
                tracing::warn!(kiosk, %error, "button press refused");
                KioskTicket { ticket: None, error: Some(error.to_string()) }
            }
        }
    }
}

/// The ticket an issue made and its place in the queue, read in the office loop right after the
/// ticket is durable.
fn issued_ticket(office: &Office, now: Timestamp, reply: &Reply) -> Result<(Ticket, Option<Position>), LoopError> {
    match reply {
        Reply::Ticket(ticket) => Ok((ticket.clone(), office.position(ticket.id, now))),
        other => Err(LoopError::Storage(format!("expected a ticket, the office replied {other:?}"))),
    }
}
