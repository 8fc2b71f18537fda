//! One RS-485 bus with counter displays on it, driven as a Modbus RTU master.
//!
//! RS-485 is half-duplex and every display hears every request, so one task owns the port and
//! runs one request at a time; [`DisplayBus`] is a cheap handle that queues jobs to it. Each
//! request is bounded by `timeout_ms` and retried `retries` times. After any failed attempt the
//! task drops its tokio-modbus context and drains the line, so a late or garbled reply cannot be
//! read as the answer to the next request.

use std::{
    io,
    path::PathBuf,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context as TaskContext, Poll},
    time::Duration,
};

use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf},
    sync::{mpsc, oneshot},
    time::Instant,
};
use tokio_modbus::{
    client::{Client as _, Context},
    slave::SlaveContext as _,
    ExceptionCode, Request, Response, Slave,
};
use tracing::Instrument as _;

use super::register_map::{DisplayContent, RegisterMap, RegisterWrite};

/// Jobs waiting for the bus. A full queue makes `show` wait: the displays are slower than the
/// office, and a caller that cannot wait can drop the future.
const QUEUE_CAPACITY: usize = 32;

/// Modbus RTU slave addresses; 0 is broadcast, which no display answers, and 248..=255 are
/// reserved.
const UNIT_MIN: u8 = 1;
const UNIT_MAX: u8 = 247;

/// The serial line a bus of displays hangs on, from the installer's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BusSettings {
    /// The serial device, e.g. `/dev/ttyUSB0` or a udev symlink.
    pub path: PathBuf,
    /// Bits per second, 8N1. LED-485 displays leave the factory at 9600.
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// How long one attempt waits for a display's reply.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Attempts after the first before giving up on a display.
    #[serde(default = "default_retries")]
    pub retries: u8,
}

fn default_baud() -> u32 {
    9600
}

fn default_timeout_ms() -> u64 {
    200
}

fn default_retries() -> u8 {
    2
}

impl BusSettings {
    /// Settings for `path` with the defaults: 9600 baud, 200 ms timeout, 2 retries.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        BusSettings {
            path: path.into(),
            baud: default_baud(),
            timeout_ms: default_timeout_ms(),
            retries: default_retries(),
        }
    }
}

/// Why a display did not take what it was sent.
#[derive(Debug, thiserror::Error)]
pub enum DisplayError {
    #[error("display at unit {unit} did not answer ({attempts} attempts)")]
    Timeout { unit: u8, attempts: u8 },
    #[error("display at unit {unit} refused the request: {exception}")]
    Exception { unit: u8, exception: ExceptionCode },
    #[error("display at unit {unit} answered nonsense ({attempts} attempts): {detail}")]
    BadReply { unit: u8, attempts: u8, detail: String },
    #[error("unit {unit} is not a display address (1 to 247)")]
    InvalidUnit { unit: u8 },
    #[error("the display's register map is wrong: {0}")]
    InvalidMap(String),
    #[error("cannot open the display bus {path}: {source}")]
    Open { path: PathBuf, source: tokio_serial::Error },
    #[error("display bus I/O failed: {0}")]
    Io(#[from] io::Error),
    #[error("the display bus has stopped")]
    BusClosed,
}

/// A handle to one RS-485 bus of displays; clones share the bus.
#[derive(Debug, Clone)]
pub struct DisplayBus {
    jobs: mpsc::Sender<Job>,
}

impl DisplayBus {
    /// Opens the serial port at 8N1 and starts the bus task; the port is opened again after it
    /// is lost. Must be called within a tokio runtime.
    pub fn open_serial(settings: &BusSettings) -> Result<DisplayBus, DisplayError> {
        let port = open_port(settings)?;
        Ok(DisplayBus::start(Some(port), Some(reopener(settings)), settings))
    }

    /// A bus on a serial line that may not be there yet (a USB adapter plugged in after the
    /// start): it is opened at the first request that finds it, and again after it is lost
    /// (unplugged and plugged back). Until then requests fail with [`DisplayError::Open`]. Must
    /// be called within a tokio runtime.
    pub fn serial(settings: &BusSettings) -> DisplayBus {
        DisplayBus::start(None, Some(reopener(settings)), settings)
    }

    /// Runs Modbus RTU over any byte stream (a serial port, a pty, `tokio::io::duplex`). Must be
    /// called within a tokio runtime. The task ends when the last handle is dropped.
    pub fn spawn<T: AsyncRead + AsyncWrite + Send + Unpin + 'static>(io: T, settings: &BusSettings) -> DisplayBus {
        DisplayBus::start(Some(io), None, settings)
    }

    fn start<T: AsyncRead + AsyncWrite + Send + Unpin + 'static>(
        io: Option<T>,
        reopen: Option<Reopen<T>>,
        settings: &BusSettings,
    ) -> DisplayBus {
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        let worker = Worker {
            port: io.map(|io| SharedPort(Arc::new(Mutex::new(io)))),
            reopen,
            context: None,
            timeout: Duration::from_millis(settings.timeout_ms),
            retries: settings.retries,
            gap: inter_frame_gap(settings.baud),
            last_io: None,
        };
        let span = tracing::info_span!("display_bus", path = %settings.path.display());
        tokio::spawn(worker.run(queue).instrument(span));
        DisplayBus { jobs }
    }

    /// Makes the display at `unit` show `content`.
    pub async fn show(&self, unit: u8, map: &RegisterMap, content: &DisplayContent) -> Result<(), DisplayError> {
        map.validate().map_err(DisplayError::InvalidMap)?;
        self.write(unit, map.frame(content)).await
    }

    /// Reads the display's first text register: is it there and answering?
    pub async fn probe(&self, unit: u8, map: &RegisterMap) -> Result<(), DisplayError> {
        map.validate().map_err(DisplayError::InvalidMap)?;
        self.submit(unit, vec![Request::ReadHoldingRegisters(map.text_register, 1)]).await
    }

    /// Sends raw writes (e.g. [`RegisterMap::brightness_write`]) in order, stopping at the first
    /// that fails.
    pub async fn write(&self, unit: u8, writes: Vec<RegisterWrite>) -> Result<(), DisplayError> {
        let requests = writes
            .into_iter()
            .map(|write| match write {
                RegisterWrite::Single { register, value } => Request::WriteSingleRegister(register, value),
                RegisterWrite::Multiple { register, values } => {
                    Request::WriteMultipleRegisters(register, values.into())
                }
            })
            .collect();
        self.submit(unit, requests).await
    }

    async fn submit(&self, unit: u8, requests: Vec<Request<'static>>) -> Result<(), DisplayError> {
        if !(UNIT_MIN..=UNIT_MAX).contains(&unit) {
            return Err(DisplayError::InvalidUnit { unit });
        }
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { unit, requests, reply }).await.map_err(|_| DisplayError::BusClosed)?;
        answer.await.map_err(|_| DisplayError::BusClosed)?
    }
}

/// Opens the line again; serial buses have one, byte streams given by the caller do not.
type Reopen<T> = Box<dyn FnMut() -> Result<T, DisplayError> + Send>;

type SerialLine = crate::serial::NoDrain<tokio_serial::SerialStream>;

fn open_port(settings: &BusSettings) -> Result<SerialLine, DisplayError> {
    let port = tokio_serial::new(settings.path.to_string_lossy(), settings.baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None);
    let stream = tokio_serial::SerialStream::open(&port)
        .map_err(|source| DisplayError::Open { path: settings.path.clone(), source })?;
    Ok(crate::serial::NoDrain(stream))
}

fn reopener(settings: &BusSettings) -> Reopen<SerialLine> {
    let settings = settings.clone();
    Box::new(move || {
        let port = open_port(&settings)?;
        tracing::info!(path = %settings.path.display(), "RS-485 line open");
        Ok(port)
    })
}

struct Job {
    unit: u8,
    requests: Vec<Request<'static>>,
    reply: oneshot::Sender<Result<(), DisplayError>>,
}

/// Modbus RTU wants 3.5 character times of silence between frames (11 bits a character), fixed
/// at 1.75 ms above 19200 baud; displays use it to tell where a request starts.
fn inter_frame_gap(baud: u32) -> Duration {
    if baud == 0 || baud > 19_200 {
        return Duration::from_micros(1750);
    }
    Duration::from_micros(38_500_000 / u64::from(baud))
}

/// How one attempt went wrong; the last one decides the error.
enum Failure {
    Timeout,
    BadReply(String),
    Io(io::Error),
}

struct Worker<T> {
    /// None until the line is opened, and after it was lost.
    port: Option<SharedPort<T>>,
    reopen: Option<Reopen<T>>,
    /// Rebuilt after any failure: tokio-modbus keeps a half-written request or a failed decoder
    /// in its `Framed`, which would poison the next request.
    context: Option<Context>,
    timeout: Duration,
    retries: u8,
    gap: Duration,
    last_io: Option<Instant>,
}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Worker<T> {
    async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        while let Some(Job { unit, requests, reply }) = queue.recv().await {
            let span = tracing::info_span!("display", unit);
            let result = self.execute(unit, requests).instrument(span).await;
            // The caller may have given up waiting; the display was still updated.
            let _ = reply.send(result);
        }
        tracing::debug!("display bus closed: no handles left");
    }

    async fn execute(&mut self, unit: u8, requests: Vec<Request<'static>>) -> Result<(), DisplayError> {
        for request in requests {
            self.transact(unit, request).await?;
        }
        Ok(())
    }

    async fn transact(&mut self, unit: u8, request: Request<'static>) -> Result<(), DisplayError> {
        let attempts = self.retries.saturating_add(1);
        let mut failure = Failure::Timeout;
        for attempt in 1..=attempts {
            if let Some(last_io) = self.last_io {
                tokio::time::sleep_until(last_io + self.gap).await;
            }
            let port = match &self.port {
                Some(port) => port.clone(),
                None => match self.reopen.as_mut() {
                    Some(reopen) => {
                        let port = SharedPort(Arc::new(Mutex::new(reopen()?)));
                        self.port = Some(port.clone());
                        port
                    }
                    None => return Err(DisplayError::BusClosed),
                },
            };
            let context =
                self.context.get_or_insert_with(|| tokio_modbus::client::rtu::attach_slave(port, Slave(unit)));
            context.set_slave(Slave(unit));
            let outcome = tokio::time::timeout(self.timeout, context.call(request.clone())).await;
            self.last_io = Some(Instant::now());
            failure = match outcome {
                Ok(Ok(Ok(response))) => match check_response(&request, &response) {
                    Ok(()) => return Ok(()),
                    Err(detail) => Failure::BadReply(detail),
                },
                // A display that refuses once refuses again: no retry.
                Ok(Ok(Err(exception))) => return Err(DisplayError::Exception { unit, exception }),
                Ok(Err(tokio_modbus::Error::Protocol(error))) => Failure::BadReply(error.to_string()),
                Ok(Err(tokio_modbus::Error::Transport(error))) if error.kind() == io::ErrorKind::InvalidData => {
                    Failure::BadReply(error.to_string())
                }
                Ok(Err(tokio_modbus::Error::Transport(error))) => Failure::Io(error),
                Err(_elapsed) => Failure::Timeout,
            };
            match &failure {
                Failure::Timeout => tracing::debug!(unit, attempt, "no answer"),
                Failure::BadReply(detail) => tracing::debug!(unit, attempt, detail, "bad reply"),
                Failure::Io(error) => {
                    tracing::debug!(unit, attempt, %error, "bus I/O error");
                    // Unplugged, say: drop the port (and its exclusive lock) to open it afresh.
                    if self.reopen.is_some() {
                        if self.port.take().is_some() {
                            tracing::warn!("RS-485 line lost; reopening");
                        }
                        self.context = None;
                    }
                }
            }
            self.recover().await;
        }
        let error = match failure {
            Failure::Timeout => DisplayError::Timeout { unit, attempts },
            Failure::BadReply(detail) => DisplayError::BadReply { unit, attempts, detail },
            Failure::Io(error) => DisplayError::Io(error),
        };
        tracing::warn!(unit, %error, "display failed");
        Err(error)
    }

    /// Forgets the context and discards whatever is still arriving until the line has been quiet
    /// for a while (a slow display's late reply, noise), bounded so a babbling line cannot stall
    /// the bus.
    async fn recover(&mut self) {
        self.context = None;
        let quiet = (self.timeout / 2).clamp(Duration::from_millis(5), Duration::from_millis(50));
        let deadline = Instant::now() + self.timeout.max(quiet);
        let mut scratch = [0_u8; 256];
        let mut discarded = 0_usize;
        while Instant::now() < deadline {
            let Some(port) = self.port.as_mut() else { break };
            match tokio::time::timeout(quiet, port.read(&mut scratch)).await {
                Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
                Ok(Ok(read)) => discarded += read,
            }
        }
        if discarded > 0 {
            tracing::debug!(discarded, "drained stale bytes from the bus");
        }
        self.last_io = Some(Instant::now());
    }
}

/// tokio-modbus's `Reader`/`Writer` helpers only `debug_assert` that the reply echoes the request,
/// which would panic on a confused display; this checks it and reports it instead.
fn check_response(request: &Request<'_>, response: &Response) -> Result<(), String> {
    let matches = match (request, response) {
        (Request::WriteSingleRegister(register, value), Response::WriteSingleRegister(echoed, echoed_value)) => {
            register == echoed && value == echoed_value
        }
        (Request::WriteMultipleRegisters(register, values), Response::WriteMultipleRegisters(echoed, count)) => {
            register == echoed && values.len() == usize::from(*count)
        }
        (Request::ReadHoldingRegisters(_, count), Response::ReadHoldingRegisters(words)) => {
            words.len() == usize::from(*count)
        }
        _ => false,
    };
    if matches {
        Ok(())
    } else {
        Err(format!("reply {response:?} does not match request {request:?}"))
    }
}

/// The port shared between the bus task (which drains it) and the current tokio-modbus context
/// (which owns a clone). Only one of them uses it at a time, so the lock is never contended; it
/// exists because tokio-modbus takes its transport by value and never gives it back.
struct SharedPort<T>(Arc<Mutex<T>>);

impl<T> Clone for SharedPort<T> {
    fn clone(&self) -> Self {
        SharedPort(Arc::clone(&self.0))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for SharedPort<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let mut port = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Pin::new(&mut *port).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for SharedPort<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut port = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Pin::new(&mut *port).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let mut port = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Pin::new(&mut *port).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let mut port = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Pin::new(&mut *port).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inter_frame_gap_is_three_and_a_half_characters() {
        assert_eq!(inter_frame_gap(9600), Duration::from_micros(4010));
        assert_eq!(inter_frame_gap(115_200), Duration::from_micros(1750));
    }

    #[test]
    fn a_reply_for_another_register_is_not_taken_as_success() {
        let request = Request::WriteSingleRegister(0, 23);
        assert!(check_response(&request, &Response::WriteSingleRegister(0, 23)).is_ok());
        assert!(check_response(&request, &Response::WriteSingleRegister(1, 23)).is_err());
        assert!(check_response(&request, &Response::ReadHoldingRegisters(vec![23])).is_err());
    }
}
