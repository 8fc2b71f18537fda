//! The GSM modem: one task owns its serial port, sends the SMS it is handed one at a time,
//! checks SIM, signal and network every half minute (device health and alerts, like the
//! printer's), reads the replies citizens send (STOP), and opens the port again after a USB
//! reset. Senders never wait longer than the outbox's send timeout.

use std::path::PathBuf;
use std::time::Duration;

use fila_notify::channel::{Channel, SendError, Sending};
use fila_notify::contact::{is_stop_reply, Contact, Medium};
use fila_notify::modem::{self, IncomingSms, ModemError, SerialLine};
use fila_notify::template::Rendered;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;

use super::health::{DeviceHealth, HealthBoard};
use crate::office_loop::Clock;
use crate::settings::devices::ModemSettings;

/// The modem's id among the devices.
pub const MODEM_ID: &str = "modem";
/// How often the modem's health is checked and its stored replies read.
const CHECK_EVERY: Duration = Duration::from_secs(30);
/// The longest wait before opening a vanished port again.
const REOPEN_MAX: Duration = Duration::from_secs(30);
/// SMS waiting for the modem; more are answered "busy" at once (the outbox retries).
const QUEUE: usize = 32;

struct Job {
    to: String,
    text: String,
    done: oneshot::Sender<Result<(), SendError>>,
}

/// The modem as a channel of the outbox.
#[derive(Clone)]
pub struct ModemLink {
    jobs: mpsc::Sender<Job>,
}

impl Channel for ModemLink {
    fn medium(&self) -> Medium {
        Medium::Sms
    }

    fn reads_replies(&self) -> bool {
        true
    }

    fn send<'a>(&'a self, to: &'a Contact, message: &'a Rendered) -> Sending<'a> {
        Box::pin(async move {
            let (done, answer) = oneshot::channel();
            let job = Job { to: to.expose().to_string(), text: message.text.clone(), done };
            self.jobs
                .try_send(job)
                .map_err(|_| SendError::Transient("the modem has too many messages waiting".into()))?;
            answer.await.unwrap_or_else(|_| Err(SendError::Transient("the modem's task stopped".into())))
        })
    }
}

/// Starts the modem's task; replies citizens send come out of the receiver.
pub fn start(
    settings: &ModemSettings,
    health: &HealthBoard,
    clock: Clock,
) -> (ModemLink, mpsc::Receiver<IncomingSms>, JoinHandle<()>) {
    health.register(DeviceHealth::new(MODEM_ID, "modem", None));
    let (jobs, jobs_rx) = mpsc::channel(QUEUE);
    let (incoming, incoming_rx) = mpsc::channel(QUEUE);
    let task = Task { path: settings.path.clone(), baud: settings.baud, health: health.clone(), clock, incoming };
    let handle = tokio::spawn(task.run(jobs_rx).instrument(tracing::info_span!("modem")));
    (ModemLink { jobs }, incoming_rx, handle)
}

struct Task {
    path: PathBuf,
    baud: u32,
    health: HealthBoard,
    clock: Clock,
    incoming: mpsc::Sender<IncomingSms>,
}

impl Task {
    async fn run(self, mut jobs: mpsc::Receiver<Job>) {
        let mut reopen = Duration::from_secs(1);
        loop {
            match modem::open(&self.path, self.baud) {
                Ok(mut modem) => {
                    reopen = Duration::from_secs(1);
                    if self.serve(&mut modem, &mut jobs).await.is_err() {
                        return;
                    }
                }
                Err(error) => self.health.failed(MODEM_ID, error.to_string()),
            }
            // Away: answer what comes at once, so the outbox keeps its own schedule.
            let until = tokio::time::Instant::now() + reopen;
            loop {
                tokio::select! {
                    job = jobs.recv() => match job {
                        Some(job) => {
                            let _ = job.done.send(Err(SendError::Transient("the modem is not connected".into())));
                        }
                        None => return,
                    },
                    () = tokio::time::sleep_until(until) => break,
                }
            }
            reopen = (reopen * 2).min(REOPEN_MAX);
        }
    }

    /// Works the open modem until its port goes (`Ok`) or nobody can send any more (`Err`).
    async fn serve(&self, modem: &mut modem::Modem<SerialLine>, jobs: &mut mpsc::Receiver<Job>) -> Result<(), ()> {
        if self.check(modem).await.is_err() {
            return Ok(());
        }
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.tick().await;
        loop {
            tokio::select! {
                job = jobs.recv() => {
                    let Some(job) = job else { return Err(()) };
                    // A STOP waiting on the SIM is honoured before anything more goes to it.
                    let stopped = match self.read_replies(modem).await {
                        Ok(replies) => replies.iter().any(|r| r.from == job.to && is_stop_reply(&r.text)),
                        Err(error) => {
                            // The supervisor reads this as the notice's reason: the port, not
                            // the task, is what went.
                            let _ = job.done.send(Err(SendError::from(error)));
                            return Ok(());
                        }
                    };
                    if stopped {
                        let _ = job.done.send(Err(SendError::Permanent("the citizen answered STOP".into())));
                        continue;
                    }
                    let result = modem.send(&job.to, &job.text).await;
                    let gone = matches!(result, Err(ModemError::Gone(_) | ModemError::Timeout));
                    match &result {
                        Ok(_) => self.health.seen(MODEM_ID, self.now_ms()),
                        Err(error) if !error.is_permanent() => self.health.failed(MODEM_ID, error.to_string()),
                        // The number or the text was refused, not the modem.
                        Err(_) => {}
                    }
                    let _ = job.done.send(result.map(|_| ()).map_err(SendError::from));
                    if gone {
                        return Ok(());
                    }
                }
                _ = ticks.tick() => {
                    if self.check(modem).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Health, then the replies waiting on the SIM. `Err` when the port is gone.
    async fn check(&self, modem: &mut modem::Modem<SerialLine>) -> Result<(), ()> {
        match modem.check().await {
            Ok(health) => match health.problem() {
                None => self.health.seen(MODEM_ID, self.now_ms()),
                Some(problem) => self.health.failed(MODEM_ID, problem.to_string()),
            },
            Err(error) => {
                let gone = matches!(error, ModemError::Gone(_) | ModemError::Timeout);
                self.health.failed(MODEM_ID, error.to_string());
                return if gone { Err(()) } else { Ok(()) };
            }
        }
        self.read_replies(modem).await.map(|_| ()).map_err(|_| ())
    }

    /// Reads the replies waiting on the SIM and passes them on; `Err` when the port is gone.
    async fn read_replies(&self, modem: &mut modem::Modem<SerialLine>) -> Result<Vec<IncomingSms>, ModemError> {
        match modem.received().await {
            Ok(replies) => {
                for reply in &replies {
                    let _ = self.incoming.send(reply.clone()).await;
                }
                Ok(replies)
            }
            Err(error @ (ModemError::Gone(_) | ModemError::Timeout)) => {
                self.health.failed(MODEM_ID, error.to_string());
                Err(error)
            }
            Err(error) => {
                tracing::warn!(%error, "the modem's stored messages could not be read");
                Ok(Vec::new())
            }
        }
    }

    fn now_ms(&self) -> i64 {
        self.clock.as_ref()().as_ms()
    }
}
