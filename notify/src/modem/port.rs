//! A modem's serial port, opened without the blocking drain.
//!
//! tokio-serial's flush calls `tcdrain`, a blocking system call, on the runtime's thread: a
//! modem that stopped reading (hung, or holding CTS low) would freeze a worker out of reach of
//! every timeout. The bytes are in the kernel's buffer once written; the answer's deadline is
//! what notices a modem that never takes them.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A serial line to a modem.
pub struct SerialLine(tokio_serial::SerialStream);

impl SerialLine {
    /// Opens `path` at `baud`, 8N1, no flow control (what USB modems expect; the baud rate of
    /// a USB modem's virtual port is not used, but must be one the driver accepts).
    pub fn open(path: &Path, baud: u32) -> io::Result<SerialLine> {
        let builder = tokio_serial::new(path.to_string_lossy(), baud)
            .data_bits(tokio_serial::DataBits::Eight)
            .parity(tokio_serial::Parity::None)
            .stop_bits(tokio_serial::StopBits::One)
            .flow_control(tokio_serial::FlowControl::None);
        tokio_serial::SerialStream::open(&builder).map(SerialLine).map_err(io::Error::from)
    }

    /// Either end of a pseudo-terminal pair (the emulator's).
    pub(crate) fn from_stream(stream: tokio_serial::SerialStream) -> SerialLine {
        SerialLine(stream)
    }
}

impl AsyncRead for SerialLine {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SerialLine {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
