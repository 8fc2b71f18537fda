//! A ticket printer without hardware, for development, demos and tests: it reads ESC/POS from
//! a serial port, a pty or TCP, answers status queries as a printer in a chosen state would, and
//! shows each ticket it "prints" (log, stdout and numbered text files).

use std::path::{Path, PathBuf};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use super::decode::{parse_command, Command, Decoder, Parsed, Printout};
use super::encode::PrinterProfile;
use super::status::{status_reply, PrinterStatus};

#[derive(Debug, Clone)]
pub struct EmulatorOptions {
    pub profile: PrinterProfile,
    /// Where to write `ticket-0001.txt`, `ticket-0002.txt` ...; numbering continues after the
    /// files already there, so restarts and reconnections never overwrite a ticket.
    pub out_dir: Option<PathBuf>,
    /// The state the emulated printer reports; change it while serving to simulate paper out.
    pub status: watch::Receiver<PrinterStatus>,
}

/// Input kept waiting for the rest of a command at most; a larger command is already rejected
/// as garbage by the parser, so this only bounds memory against a bug.
const PENDING_MAX: usize = 2 << 20;

/// Emulates a printer on `io` until the peer closes it.
pub async fn serve<T: AsyncRead + AsyncWrite + Unpin>(mut io: T, options: &EmulatorOptions) -> std::io::Result<()> {
    let mut decoder = Decoder::new(&options.profile);
    let mut pending: Vec<u8> = Vec::new();
    let mut chunk = vec![0_u8; 4096];
    loop {
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        pending.extend_from_slice(chunk.get(..n).unwrap_or_default());
        let mut used = 0;
        while let Parsed::Complete { command, len } = parse_command(pending.get(used..).unwrap_or_default()) {
            match command {
                Command::StatusRequest(request) => {
                    // Copied out first: the watch guard must not be held across the write.
                    let status = *options.status.borrow();
                    if let Some(byte) = status_reply(status, request) {
                        io.write_all(&[byte]).await?;
                        io.flush().await?;
                    }
                }
                // Printers without a cutter never cut: a new job's ESC @ ends the previous ticket.
                Command::Init if decoder.has_printed() => emit(decoder.take(), options).await,
                _ => {}
            }
            decoder.apply(command, len);
            if let Command::Cut(_) = command {
                emit(decoder.take(), options).await;
            }
            used += len;
        }
        pending.drain(..used.min(pending.len()));
        if pending.len() > PENDING_MAX {
            tracing::warn!(bytes = pending.len(), "emulated printer discarded input it could not parse");
            pending.clear();
        }
    }
    let rest = decoder.finish();
    if !rest.is_blank() {
        emit(rest, options).await;
    }
    Ok(())
}

/// Emulates a printer on every connection to `listener`, one at a time, like a 9100 port.
pub async fn serve_tcp(listener: tokio::net::TcpListener, options: EmulatorOptions) -> std::io::Result<()> {
    loop {
        let (stream, peer) = listener.accept().await?;
        tracing::debug!(%peer, "emulated printer connected");
        if let Err(error) = serve(stream, &options).await {
            tracing::warn!(%peer, %error, "emulated printer connection failed");
        }
    }
}

/// Shows one printed ticket.
async fn emit(printout: Printout, options: &EmulatorOptions) {
    let text = printout.text();
    tracing::info!(problems = ?printout.problems, "emulated printer printed a ticket:\n{text}");
    println!("{text}\n");
    if let Some(dir) = &options.out_dir {
        match write_ticket(dir, &text).await {
            Ok(path) => tracing::debug!(path = %path.display(), "ticket written"),
            Err(error) => tracing::warn!(dir = %dir.display(), %error, "could not write the emulated ticket"),
        }
    }
}

/// Writes `text` to the next free `ticket-NNNN.txt` in `dir`, whole or not at all.
async fn write_ticket(dir: &Path, text: &str) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let mut last = 0_u32;
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let number = name
            .to_str()
            .and_then(|name| name.strip_prefix("ticket-"))
            .and_then(|name| name.strip_suffix(".txt"))
            .and_then(|number| number.parse::<u32>().ok());
        last = last.max(number.unwrap_or(0));
    }
    let name = format!("ticket-{:04}.txt", last.saturating_add(1));
    // Written aside and renamed into place, so whoever watches the directory (a person, a test)
    // never reads half a ticket.
    let partial = dir.join(format!(".{name}.partial"));
    let mut file = tokio::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&partial).await?;
    file.write_all(text.as_bytes()).await?;
    file.write_all(b"\n").await?;
    file.flush().await?;
    let path = dir.join(name);
    tokio::fs::rename(&partial, &path).await?;
    Ok(path)
}
