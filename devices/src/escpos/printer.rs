//! The printer driver: sends jobs and asks for the printer's status over any byte stream, so
//! that serial ports, TCP sockets, device files, pty pairs and in-memory pipes are all driven by
//! the same code.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{timeout, Instant};

use super::encode::PrinterProfile;
use super::status::{
    decode_status, status_request, summarize, PrinterStatus, STATUS_OFFLINE_CAUSE, STATUS_PAPER, STATUS_PRINTER,
};
use super::transport::PrinterError;

/// How long a job may take to be accepted. A ticket is under 1 KiB, about a second at 9600 baud;
/// much longer means flow control is holding it (out of paper, cover open) or the link is dead.
pub const PRINT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for each status byte. Printers answer `DLE EOT` within milliseconds even
/// when offline; a printer that has not answered by now will not.
pub const STATUS_TIMEOUT: Duration = Duration::from_millis(300);
/// How long to keep draining stale input before a status query, and how much of it at most.
const DRAIN_WINDOW: Duration = Duration::from_millis(100);
const DRAIN_IDLE: Duration = Duration::from_millis(5);
const DRAIN_BYTES_MAX: usize = 4096;

/// A ticket printer on a byte stream.
pub struct Printer<T> {
    io: T,
    profile: PrinterProfile,
    /// Whether the printer can answer: false for a device file such as `/dev/usb/lp0`.
    bidirectional: bool,
    /// Names the device in errors and logs.
    name: String,
    print_timeout: Duration,
    status_timeout: Duration,
}

// By hand, so that a `Printer<Box<dyn PrinterIo>>` is `Debug` too.
impl<T> std::fmt::Debug for Printer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer")
            .field("name", &self.name)
            .field("profile", &self.profile)
            .field("bidirectional", &self.bidirectional)
            .finish_non_exhaustive()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Printer<T> {
    /// A printer that answers status queries.
    pub fn new(io: T, profile: PrinterProfile) -> Self {
        Printer {
            io,
            profile,
            bidirectional: true,
            name: "printer".to_owned(),
            print_timeout: PRINT_TIMEOUT,
            status_timeout: STATUS_TIMEOUT,
        }
    }

    /// A printer that can only be written to; its status is always `Unknown`.
    pub fn write_only(io: T, profile: PrinterProfile) -> Self {
        Printer { bidirectional: false, ..Printer::new(io, profile) }
    }

    /// Names the device (e.g. "tcp 10.0.0.5:9100") in errors and logs.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Changes how long a job and each status byte may take.
    pub fn with_timeouts(mut self, print: Duration, status: Duration) -> Self {
        self.print_timeout = print;
        self.status_timeout = status;
        self
    }

    pub fn profile(&self) -> &PrinterProfile {
        &self.profile
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn is_bidirectional(&self) -> bool {
        self.bidirectional
    }

    /// The byte stream, e.g. to close it.
    pub fn into_inner(self) -> T {
        self.io
    }

    /// Sends a job and waits until the transport has taken it all.
    pub async fn print(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        let io = &mut self.io;
        let sent = timeout(self.print_timeout, async move {
            io.write_all(bytes).await?;
            io.flush().await
        })
        .await;
        match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(PrinterError::Write { device: self.name.clone(), source }),
            Err(_) => Err(PrinterError::WriteTimeout { device: self.name.clone(), after: self.print_timeout }),
        }
    }

    /// Asks the printer for its state with `DLE EOT 1`, `2` and `4`. A printer that does not
    /// answer, answers garbage or cannot be reached is `Unknown`; this never fails and takes at
    /// most about a second.
    pub async fn status(&mut self) -> PrinterStatus {
        if !self.bidirectional {
            return PrinterStatus::Unknown;
        }
        self.drain().await;
        let mut answers = [None; 3];
        for (answer, n) in answers.iter_mut().zip([STATUS_PRINTER, STATUS_OFFLINE_CAUSE, STATUS_PAPER]) {
            match self.query(n).await {
                Ok(flags) => *answer = Some(flags),
                Err(QueryError::Silent) => {
                    tracing::debug!(device = %self.name, n, "printer did not answer DLE EOT");
                    return PrinterStatus::Unknown;
                }
                Err(QueryError::Failed(why)) => {
                    tracing::warn!(device = %self.name, n, why = %why, "printer status query failed");
                    return PrinterStatus::Unknown;
                }
            }
        }
        let [printer, offline_cause, paper] = answers;
        summarize(printer, offline_cause, paper)
    }

    /// Discards input waiting from before (a late answer to an earlier query would otherwise
    /// be read as the answer to the next one), bounded so a chattering peer cannot hold us.
    async fn drain(&mut self) {
        let started = Instant::now();
        let mut drained = 0;
        let mut buffer = [0_u8; 256];
        while drained < DRAIN_BYTES_MAX && started.elapsed() < DRAIN_WINDOW {
            match timeout(DRAIN_IDLE, self.io.read(&mut buffer)).await {
                Ok(Ok(n)) if n > 0 => drained += n,
                // Nothing waiting, end of stream or an error: the query will tell.
                _ => break,
            }
        }
        if drained > 0 {
            tracing::debug!(device = %self.name, bytes = drained, "discarded stale printer input");
        }
    }

    async fn query(&mut self, n: u8) -> Result<super::status::StatusFlags, QueryError> {
        let io = &mut self.io;
        let sent = timeout(self.status_timeout, async move {
            io.write_all(&status_request(n)).await?;
            io.flush().await
        })
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(QueryError::Failed(format!("sending DLE EOT {n}: {error}"))),
            Err(_) => return Err(QueryError::Silent),
        }
        let mut byte = [0_u8; 1];
        match timeout(self.status_timeout, self.io.read(&mut byte)).await {
            Err(_) => Err(QueryError::Silent),
            Ok(Ok(0)) => Err(QueryError::Failed("the connection was closed".to_owned())),
            Ok(Ok(_)) => decode_status(n, byte[0]).map_err(|error| QueryError::Failed(error.to_string())),
            Ok(Err(error)) => Err(QueryError::Failed(format!("reading the answer: {error}"))),
        }
    }
}

enum QueryError {
    /// No answer in time: the usual case for printers without a back channel.
    Silent,
    /// An answer that makes no sense, or a broken link: worth a warning.
    Failed(String),
}
