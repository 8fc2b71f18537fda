//! Serial ports without the blocking drain.
//!
//! tokio-serial's `poll_flush` calls `tcdrain`, a blocking system call, on the runtime's thread:
//! a printer holding CTS low (off, out of paper) or one that stopped reading would freeze a
//! worker until it takes the bytes, out of reach of any timeout. The bytes are in the kernel's
//! buffer once written; waiting for the wire is what timeouts on the answer are for.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A port whose flush returns at once.
pub struct NoDrain<T>(pub T);

impl<T: AsyncRead + Unpin> AsyncRead for NoDrain<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for NoDrain<T> {
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

#[cfg(test)]
mod tests {
    use super::NoDrain;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_pass_both_ways_and_flush_never_waits() {
        let (near, far) = tokio::io::duplex(64);
        let (mut near, mut far) = (NoDrain(near), NoDrain(far));
        near.write_all(b"ping").await.expect("write");
        near.flush().await.expect("flush");
        let mut got = [0u8; 4];
        far.read_exact(&mut got).await.expect("read");
        assert_eq!(&got, b"ping");
    }
}
