//! Device orchestration: the edge turns office events into device commands (`fila_devices`
//! knows nothing of queues). Printers, displays and the MQTT link each run in tasks of their
//! own; none of them is ever awaited by the office loop, so a dead device cannot hold up
//! issuing or calling. What each device is doing is on the [`HealthBoard`].

mod board;
mod buttons;
mod displays;
pub mod health;
mod inbound;
pub mod modem;
mod printers;
pub mod report;
mod ticket;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use fila_devices::mqtt::MqttLink;
use fila_devices::speech::{CallAudio, SpeechEngine, SpeechError};
use fila_devices::Lang;
use fila_protocol::office::Position;
use fila_protocol::{OfficeConfig, Ticket};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::office_loop::{Clock, OfficeHandle};
use crate::settings::DeviceSettings;
pub use health::{DeviceHealth, HealthBoard};
pub use printers::{PrintOutcome, PrinterPool};

/// The office's devices, as handlers see them. Cheap to share behind an `Arc`.
pub struct Devices {
    pub health: HealthBoard,
    printers: PrinterPool,
    /// Made when a screen first asks for a call (a few ms; every screen after finds it cached).
    speech: Option<Arc<SpeechEngine>>,
    /// When old spoken calls were last deleted.
    pruned: std::sync::Mutex<std::time::Instant>,
    lang: Lang,
    mqtt: Option<MqttLink>,
    hub: Option<JoinHandle<()>>,
    inbound: Option<JoinHandle<()>>,
    /// The GSM modem, a channel of the notices; and the replies citizens send it, until the
    /// notices take them.
    modem: Option<modem::ModemLink>,
    modem_replies: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<fila_notify::modem::IncomingSms>>>,
}

impl Devices {
    /// Start every configured device's task. `kiosks` may press hardware buttons; `base_url` is
    /// where citizens' phones reach this box (for the QR code on buttons' tickets).
    pub fn start(
        settings: &DeviceSettings,
        kiosks: BTreeSet<String>,
        office: OfficeHandle,
        data_dir: &Path,
        base_url: String,
        clock: Clock,
        security: Arc<crate::security::Security>,
    ) -> Devices {
        let health = HealthBoard::default();
        let (mqtt, inbound) = match &settings.mqtt {
            Some(mqtt) => {
                health.register(DeviceHealth::new("broker", "broker", None));
                let (link, inbound) = fila_devices::mqtt::spawn(mqtt, &office.config().id);
                (Some(link), Some(inbound))
            }
            None => (None, None),
        };
        // Without espeak-ng on the box there is nothing to make: the pages speak themselves.
        let speech = settings
            .speech
            .then(|| SpeechEngine::new(data_dir.join("audio")))
            .filter(SpeechEngine::available)
            .map(Arc::new);
        if let Some(speech) = speech.clone() {
            tokio::task::spawn_blocking(move || prune_audio(&speech));
        }
        let printers = PrinterPool::start(&settings.printers, &health, mqtt.clone(), clock.clone());
        let kiosks = kiosks
            .into_iter()
            .chain(settings.printers.iter().flat_map(|p| p.kiosks.clone()))
            .map(|kiosk| (fila_devices::mqtt::topics::validate_id(&kiosk).unwrap_or_else(|_| kiosk.clone()), kiosk))
            .collect();
        let buttons = buttons::Buttons {
            office: office.clone(),
            printers: printers.clone(),
            mqtt: mqtt.clone(),
            kiosks: Arc::new(kiosks),
            base_url,
            lang: settings.lang,
            last_press: Default::default(),
            security,
            clock: clock.clone(),
        };
        let dispatch = inbound::InboundDispatch::new(settings, &health, buttons, clock.clone());
        let inbound =
            inbound.map(|inbound| tokio::spawn(dispatch.run(inbound).instrument(tracing::info_span!("mqtt_inbound"))));
        let (office_for_board, clock_for_board, clock_for_modem) = (office.clone(), clock.clone(), clock.clone());
        let hub = (!settings.displays.is_empty() || mqtt.is_some()).then(|| {
            let hub = displays::DisplayHub::new(office, clock, settings, mqtt.clone(), &health);
            tokio::spawn(hub.run().instrument(tracing::info_span!("devices")))
        });
        if let Some(mqtt) = mqtt.clone() {
            tokio::spawn(board::run(office_for_board, mqtt, clock_for_board).instrument(tracing::info_span!("board")));
        }
        let (modem, modem_replies) = match &settings.modem {
            Some(modem) => {
                let (link, replies, _task) = modem::start(modem, &health, clock_for_modem);
                (Some(link), Some(replies))
            }
            None => (None, None),
        };
        let pruned = std::sync::Mutex::new(std::time::Instant::now());
        let modem_replies = std::sync::Mutex::new(modem_replies);
        Devices { health, printers, speech, pruned, lang: settings.lang, mqtt, hub, inbound, modem, modem_replies }
    }

    /// Print `ticket` at the kiosk's printer, laid out for it here; `None` when the kiosk has no
    /// printer. `position` is its place in the queue when issued; `base_url` is where citizens'
    /// phones reach this box (for the QR code).
    pub async fn print_ticket(
        &self,
        kiosk: &str,
        ticket: &Ticket,
        position: Option<Position>,
        config: &OfficeConfig,
        base_url: &str,
    ) -> Option<PrintOutcome> {
        if !self.printers.serves(kiosk) {
            return None;
        }
        let print = ticket::ticket_print(ticket, position, config, base_url, self.lang);
        self.printers.print(kiosk, print).await
    }

    /// The modem as a channel for SMS notices, when the box has one.
    pub fn modem_channel(&self) -> Option<Arc<dyn fila_notify::channel::Channel>> {
        self.modem.clone().map(|link| Arc::new(link) as Arc<dyn fila_notify::channel::Channel>)
    }

    /// The SMS citizens send to the modem (STOP), once: for whoever handles them.
    pub fn take_modem_replies(&self) -> Option<tokio::sync::mpsc::Receiver<fila_notify::modem::IncomingSms>> {
        self.modem_replies.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The chime and spoken call as one WAV, made (or found in the cache) on this box; `None`
    /// when the box cannot speak.
    pub async fn call_audio(&self, lang: Lang, ticket: &str, counter: &str) -> Result<Option<CallAudio>, SpeechError> {
        let Some(speech) = &self.speech else { return Ok(None) };
        self.prune_daily(speech);
        speech.call_audio(lang, ticket, counter).await
    }

    /// Old spoken calls go once a day, beside a request rather than on a timer of its own.
    fn prune_daily(&self, speech: &Arc<SpeechEngine>) {
        let mut pruned = self.pruned.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if pruned.elapsed() >= PRUNE_EVERY {
            *pruned = std::time::Instant::now();
            let speech = speech.clone();
            tokio::task::spawn_blocking(move || prune_audio(&speech));
        }
    }

    /// Tell MQTT devices the edge is going away, and stop.
    pub async fn shutdown(&self) {
        for task in self.hub.iter().chain(&self.inbound) {
            task.abort();
        }
        if let Some(mqtt) = &self.mqtt {
            mqtt.shutdown().await;
        }
    }
}

/// Spoken calls older than this are deleted (at start-up and then daily): the cache is bounded
/// by the calls of a few days, not by every phrase the office ever said.
const AUDIO_KEPT: std::time::Duration = std::time::Duration::from_secs(3 * 24 * 3600);
const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Delete cached spoken calls made before `AUDIO_KEPT` ago (a phrase still in use is simply made
/// again, in milliseconds).
fn prune_audio(speech: &SpeechEngine) {
    let Ok(entries) = std::fs::read_dir(speech.cache_dir()) else { return };
    let mut removed = 0;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > AUDIO_KEPT);
        if old && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "old spoken calls deleted");
    }
}

/// How a counter is named in a spoken call, as the waiting-room page names it too: a numeric id
/// is read as "puesto cuatro", any other counter by its name ("Caja rápida").
pub fn spoken_counter(config: &OfficeConfig, id: &str) -> String {
    if id.bytes().all(|b| b.is_ascii_digit()) {
        return id.to_string();
    }
    config.counters.iter().find(|c| c.id.as_str() == id).map_or_else(|| id.to_string(), |c| c.name.clone())
}
