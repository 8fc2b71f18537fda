//! Ticket printers: one task per printer owns its connection, prints jobs one at a time and
//! polls its status between jobs. A printer that is out of paper, open or unreachable never
//! holds up a citizen: the kiosk shows the ticket on screen instead.

use std::sync::Arc;
use std::time::Duration;

use fila_devices::escpos::{self, PrinterStatus, TicketPrint};
use fila_devices::mqtt::{MqttLink, PrinterStatusPayload};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;
use utoipa::ToSchema;

use super::health::{DeviceHealth, HealthBoard};
use crate::office_loop::Clock;
use crate::settings::devices::PrinterSettings;

/// How long a kiosk waits for its ticket to be printed before it shows it on screen.
const PRINT_TIMEOUT: Duration = Duration::from_secs(5);
/// Writing one ticket; shorter than the kiosk's wait, so a stuck write is reported in time.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

/// What became of a ticket's printing, as the kiosk is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PrintOutcome {
    pub printed: bool,
    /// The printer that printed it or should have.
    pub printer: Option<String>,
    /// The printer's last known status: ok, near_end, out, cover_open, offline or unknown.
    pub status: Option<String>,
    /// Why it was not printed.
    pub reason: Option<String>,
}

impl PrintOutcome {
    fn printed(printer: &str, status: PrinterStatus) -> Self {
        PrintOutcome {
            printed: true,
            printer: Some(printer.into()),
            status: Some(status.as_str().into()),
            reason: None,
        }
    }

    fn failed(printer: &str, status: Option<&str>, reason: String) -> Self {
        PrintOutcome {
            printed: false,
            printer: Some(printer.into()),
            status: status.map(str::to_string),
            reason: Some(reason),
        }
    }
}

struct Job {
    ticket: TicketPrint,
    done: oneshot::Sender<PrintOutcome>,
}

#[derive(Clone)]
struct Printer {
    id: String,
    kiosks: Vec<String>,
    jobs: mpsc::Sender<Job>,
}

/// Every printer of the office. Cheap to clone.
#[derive(Clone, Default)]
pub struct PrinterPool {
    printers: Arc<Vec<Printer>>,
    health: HealthBoard,
}

impl PrinterPool {
    pub fn start(settings: &[PrinterSettings], health: &HealthBoard, mqtt: Option<MqttLink>, clock: Clock) -> Self {
        let printers = settings
            .iter()
            .map(|printer| {
                health.register(DeviceHealth::new(&printer.id, "printer", None));
                let (jobs, queue) = mpsc::channel(16);
                let worker = Worker {
                    settings: printer.clone(),
                    health: health.clone(),
                    mqtt: mqtt.clone(),
                    clock: clock.clone(),
                    printer: None,
                    answers: false,
                    published: None,
                    silences: 0,
                };
                tokio::spawn(worker.run(queue).instrument(tracing::info_span!("printer", id = %printer.id)));
                Printer { id: printer.id.clone(), kiosks: printer.kiosks.clone(), jobs }
            })
            .collect();
        PrinterPool { printers: Arc::new(printers), health: health.clone() }
    }

    /// Whether this kiosk has a printer.
    pub fn serves(&self, kiosk: &str) -> bool {
        self.printer_for(kiosk).is_some()
    }

    /// Print a ticket at the kiosk's printer; `None` when the kiosk has none.
    pub async fn print(&self, kiosk: &str, ticket: TicketPrint) -> Option<PrintOutcome> {
        let printer = self.printer_for(kiosk)?;
        let known = self.health.get(&printer.id);
        let paper = known.as_ref().and_then(|h| h.paper.clone());
        // Known to be unable to print: do not make the citizen wait for a timeout.
        if let Some(status @ ("out" | "cover_open" | "offline")) = paper.as_deref() {
            return Some(PrintOutcome::failed(&printer.id, Some(status), format!("the printer is {status}")));
        }
        if known.as_ref().is_some_and(|h| h.online == Some(false)) {
            let error = known.and_then(|h| h.last_error).unwrap_or_else(|| "it is offline".into());
            return Some(PrintOutcome::failed(&printer.id, paper.as_deref(), error));
        }
        let (done, outcome) = oneshot::channel();
        if printer.jobs.try_send(Job { ticket, done }).is_err() {
            return Some(PrintOutcome::failed(&printer.id, paper.as_deref(), "the printer is busy".into()));
        }
        Some(match tokio::time::timeout(PRINT_TIMEOUT, outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => PrintOutcome::failed(&printer.id, paper.as_deref(), "the printer task stopped".into()),
            Err(_) => PrintOutcome::failed(&printer.id, paper.as_deref(), "the printer did not finish in time".into()),
        })
    }

    fn printer_for(&self, kiosk: &str) -> Option<&Printer> {
        let named = self.printers.iter().find(|p| p.kiosks.iter().any(|k| k == kiosk));
        named.or_else(|| self.printers.iter().find(|p| p.kiosks.is_empty()))
    }
}

struct Worker {
    settings: PrinterSettings,
    health: HealthBoard,
    mqtt: Option<MqttLink>,
    clock: Clock,
    printer: Option<escpos::BoxedPrinter>,
    /// Whether this printer ever answered a status query: only then is it asked before a job.
    answers: bool,
    published: Option<PrinterStatus>,
    /// Status queries in a row a printer that used to answer did not answer.
    silences: u8,
}

impl Worker {
    async fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        let mut poll = tokio::time::interval(self.settings.poll);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                job = jobs.recv() => {
                    let Some(job) = job else { return };
                    // The kiosk stopped waiting and told the citizen the screen is the ticket:
                    // printing it now would hand a stranger a second copy.
                    if job.done.is_closed() {
                        tracing::info!(ticket = %job.ticket.number, "print job abandoned by its kiosk; not printed");
                        continue;
                    }
                    let outcome = self.print(&job.ticket, &job.done).await;
                    let _ = job.done.send(outcome);
                    // A ticket may have used the last of the paper: the next citizen should know.
                    self.refresh().await;
                }
                _ = poll.tick() => {
                    self.refresh().await;
                }
            }
        }
    }

    async fn print(&mut self, ticket: &TicketPrint, kiosk: &oneshot::Sender<PrintOutcome>) -> PrintOutcome {
        let id = self.settings.id.clone();
        if self.answers {
            let status = self.refresh().await;
            if !status.can_print() {
                return PrintOutcome::failed(&id, Some(status.as_str()), format!("the printer is {}", status.as_str()));
            }
        }
        let bytes = escpos::encode_ticket(ticket, &self.settings.profile);
        // Connecting or asking for status took a while: the kiosk may have given up meanwhile.
        if kiosk.is_closed() {
            return PrintOutcome::failed(&id, None, "the kiosk stopped waiting".into());
        }
        let result = match self.connect().await {
            Ok(printer) => printer.print(&bytes).await.map_err(|e| e.to_string()),
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => {
                tracing::info!(printer = %id, ticket = %ticket.number, "ticket printed");
                self.health.seen(&id, self.clock.as_ref()().as_ms());
                let status = self.published.unwrap_or(PrinterStatus::Unknown);
                PrintOutcome::printed(&id, status)
            }
            Err(error) => {
                tracing::warn!(printer = %id, ticket = %ticket.number, %error, "ticket not printed");
                self.printer = None;
                self.health.failed(&id, error.clone());
                PrintOutcome::failed(&id, Some("offline"), error)
            }
        }
    }

    /// Ask the printer how it is; record and publish the answer.
    async fn refresh(&mut self) -> PrinterStatus {
        let id = self.settings.id.clone();
        let status = match self.connect().await {
            Ok(printer) => printer.status().await,
            Err(error) => {
                self.health.failed(&id, error);
                PrinterStatus::Offline
            }
        };
        self.silences =
            if status == PrinterStatus::Unknown && self.answers { self.silences.saturating_add(1) } else { 0 };
        let status = if self.silences >= 2 {
            // It used to answer: silence twice in a row (not one slow answer while it cuts)
            // means the link or the printer is gone.
            self.printer = None;
            self.health.failed(&id, "the printer stopped answering status queries".into());
            PrinterStatus::Offline
        } else {
            if status != PrinterStatus::Offline {
                self.health.seen(&id, self.clock.as_ref()().as_ms());
            }
            status
        };
        self.answers |= status != PrinterStatus::Unknown && status != PrinterStatus::Offline;
        self.health.set_paper(&id, status.as_str());
        if self.published != Some(status) {
            self.published = Some(status);
            if let Some(mqtt) = &self.mqtt {
                let payload = PrinterStatusPayload { state: status.as_str().into(), ts: self.clock.as_ref()().as_ms() };
                match payload.to_payload() {
                    Ok(bytes) => mqtt.publish_state(mqtt.topics().printer_status(&id), bytes).await,
                    Err(error) => tracing::warn!(%error, "printer status not sent"),
                }
            }
        }
        status
    }

    async fn connect(&mut self) -> Result<&mut escpos::BoxedPrinter, String> {
        if self.printer.is_none() {
            match escpos::open(&self.settings.transport, self.settings.profile.clone()).await {
                // A write that outlasts the kiosk's patience is a printer in trouble.
                Ok(printer) => self.printer = Some(printer.with_timeouts(WRITE_TIMEOUT, escpos::STATUS_TIMEOUT)),
                Err(error) => return Err(error.to_string()),
            }
        }
        self.printer.as_mut().ok_or_else(|| "no connection".to_string())
    }
}
