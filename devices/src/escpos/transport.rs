//! Opening a printer from configuration: a serial port (RS-232, USB-serial, CDC-ACM), raw TCP
//! (port 9100) or a device file (`/dev/usb/lp0`, write-only).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use tokio_serial::SerialPortBuilderExt;

use super::encode::PrinterProfile;
use super::printer::Printer;

/// How long a network printer may take to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the printer is, as written in the edge's settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "transport", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrinterTransport {
    /// A serial port, 8N1.
    Serial {
        path: PathBuf,
        #[serde(default = "default_baud")]
        baud: u32,
        /// Big jobs overrun a printer's buffer without it; tickets of a few hundred bytes
        /// rarely do.
        #[serde(default)]
        flow_control: FlowControl,
    },
    /// Raw TCP, usually port 9100: "10.0.0.5:9100".
    Tcp { address: String },
    /// A device file written to without reading back, such as `/dev/usb/lp0`.
    File { path: PathBuf },
}

fn default_baud() -> u32 {
    9600
}

/// How a serial printer says "wait": RTS/CTS wires, XON/XOFF bytes, or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowControl {
    #[default]
    None,
    Hardware,
    Software,
}

impl From<FlowControl> for tokio_serial::FlowControl {
    fn from(flow: FlowControl) -> Self {
        match flow {
            FlowControl::None => tokio_serial::FlowControl::None,
            FlowControl::Hardware => tokio_serial::FlowControl::Hardware,
            FlowControl::Software => tokio_serial::FlowControl::Software,
        }
    }
}

impl std::fmt::Display for PrinterTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrinterTransport::Serial { path, baud, .. } => write!(f, "serial {} at {baud} baud", path.display()),
            PrinterTransport::Tcp { address } => write!(f, "tcp {address}"),
            PrinterTransport::File { path } => write!(f, "file {}", path.display()),
        }
    }
}

/// Any byte stream a printer can sit on.
pub trait PrinterIo: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> PrinterIo for T {}

pub type BoxedPrinter = Printer<Box<dyn PrinterIo>>;

#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    #[error("cannot open printer {device}: {source}")]
    Open {
        device: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open serial port {device}: {source}")]
    Serial {
        device: String,
        #[source]
        source: tokio_serial::Error,
    },
    #[error("printer {device} did not accept a connection within {after:?}")]
    ConnectTimeout { device: String, after: Duration },
    #[error("printer {device} failed while printing: {source}")]
    Write {
        device: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "printer {device} did not take the job within {after:?} (out of paper, cover open, offline or unplugged?)"
    )]
    WriteTimeout { device: String, after: Duration },
}

/// Opens the printer `transport` points at.
pub async fn open(transport: &PrinterTransport, profile: PrinterProfile) -> Result<BoxedPrinter, PrinterError> {
    let device = transport.to_string();
    match transport {
        PrinterTransport::Serial { path, baud, flow_control } => {
            let port = tokio_serial::new(path.to_string_lossy(), *baud)
                .flow_control((*flow_control).into())
                .open_native_async()
                .map_err(|source| PrinterError::Serial { device: device.clone(), source })?;
            let io: Box<dyn PrinterIo> = Box::new(crate::serial::NoDrain(port));
            Ok(Printer::new(io, profile).with_name(device))
        }
        PrinterTransport::Tcp { address } => {
            let stream = match timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address.as_str())).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(source)) => return Err(PrinterError::Open { device, source }),
                Err(_) => return Err(PrinterError::ConnectTimeout { device, after: CONNECT_TIMEOUT }),
            };
            // Status queries are 3 bytes; without this they would wait for Nagle's timer.
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(device = %device, %error, "could not disable Nagle's algorithm");
            }
            let io: Box<dyn PrinterIo> = Box::new(stream);
            Ok(Printer::new(io, profile).with_name(device))
        }
        PrinterTransport::File { path } => {
            // Never create the file: a missing /dev/usb/lp0 means the printer is unplugged, and
            // creating it would swallow tickets into a regular file.
            let file = tokio::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .await
                .map_err(|source| PrinterError::Open { device: device.clone(), source })?;
            let io: Box<dyn PrinterIo> = Box::new(file);
            Ok(Printer::write_only(io, profile).with_name(device))
        }
    }
}
