//! The AT dialogue with a modem: health checks, sending a text in PDU mode and reading the
//! messages it has stored.
//!
//! Every wait has a deadline, so a modem that hangs or vanishes (a USB reset mid-command) costs
//! a timeout or an I/O error, never a stuck channel. Before each command whatever the modem
//! said late (the answer to a command that timed out, an unsolicited line) is thrown away, so a
//! late answer is never taken for the next one's.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::time::Instant;

use super::at::{self, Final, Line, Registration, SimState};
use super::ModemError;
use crate::sms::{self, SubmitOptions, Validity};

/// A line longer than this is no modem's answer: a PDU line is at most about 360 characters.
const LINE_MAX: usize = 1024;
/// Ctrl-Z ends a PDU; ESC abandons one.
const CTRL_Z: u8 = 0x1A;
const ESCAPE: u8 = 0x1B;
/// `AT+CMGL=4`: every stored message, read or not.
const LIST_ALL: &str = "AT+CMGL=4";
/// Parts of incomplete messages kept on the SIM, waiting for the rest; beyond this they are
/// deleted, because a full SIM refuses every new message.
const INCOMPLETE_PARTS_MAX: usize = 20;

/// How long each kind of wait may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// A plain command and its final result.
    pub command: Duration,
    /// `AT+CMGS=<n>` until the `> ` prompt.
    pub prompt: Duration,
    /// A part's PDU until `+CMGS` and `OK`: the network answers, which may take long.
    pub submit: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { command: Duration::from_secs(5), prompt: Duration::from_secs(5), submit: Duration::from_secs(60) }
    }
}

/// The modem's state as `check` found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub sim: SimState,
    /// 0 (-113 dBm or less) to 31 (-51 dBm or more); `None` when the modem hears no network.
    pub signal: Option<u8>,
    pub registration: Registration,
}

impl Health {
    /// Why a message cannot go now, if it cannot.
    pub fn problem(&self) -> Option<ModemError> {
        match (&self.sim, self.signal, self.registration) {
            (SimState::Absent, _, _) => Some(ModemError::NoSim),
            (SimState::Pin | SimState::Puk | SimState::Locked(_), _, _) => Some(ModemError::SimPin),
            (SimState::Ready, None, _) => Some(ModemError::NoSignal),
            (SimState::Ready, Some(_), registration) if !registration.is_registered() => {
                Some(ModemError::NotRegistered)
            }
            (SimState::Ready, Some(_), _) => None,
        }
    }

    pub fn is_ready(&self) -> bool {
        self.problem().is_none()
    }
}

/// A message a phone sent to the modem's number, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingSms {
    /// A number (`+34600111222`) or an alphanumeric sender.
    pub from: String,
    pub text: String,
}

/// A GSM modem on a serial line (or anything that talks like one).
pub struct Modem<T> {
    io: T,
    pending: Vec<u8>,
    timeouts: Timeouts,
    validity: Validity,
    next_reference: u8,
}

/// What came back for a command besides its final `OK`.
enum Info {
    Line(Line),
    /// A `+CMGL` entry: storage index and the PDU line that followed it.
    Listed {
        index: u16,
        pdu: String,
    },
}

/// A stored part of a concatenated message: sequence, storage index, text.
type Part = (u8, u16, String);

/// A line, or the `> ` prompt, which has no line ending.
enum Read {
    Line(String),
    Prompt,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Modem<T> {
    pub fn new(io: T) -> Self {
        // Concatenation references should differ between messages to the same phone, also
        // across a restart; the clock's nanoseconds are enough of a start.
        let start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.subsec_nanos().to_le_bytes()[0])
            .unwrap_or(0);
        Modem {
            io,
            pending: Vec::new(),
            timeouts: Timeouts::default(),
            validity: Validity::ONE_DAY,
            next_reference: start,
        }
    }

    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// How long the network keeps trying to deliver a message (a day unless told).
    pub fn with_validity(mut self, validity: Validity) -> Self {
        self.validity = validity;
        self
    }

    pub fn into_inner(self) -> T {
        self.io
    }

    /// Sets the modem up (echo off, numeric errors, PDU mode) and reads its SIM, signal and
    /// registration. An `Err` is a modem that did not answer sensibly; a modem that answers
    /// but cannot send says why in `Health::problem`.
    pub async fn check(&mut self) -> Result<Health, ModemError> {
        let wait = self.timeouts.command;
        self.command("AT", wait).await?;
        self.command("ATE0", wait).await?;
        self.command("AT+CMEE=1", wait).await?;
        let sim = match self.command("AT+CPIN?", wait).await {
            Ok(infos) => infos
                .into_iter()
                .find_map(|info| match info {
                    Info::Line(Line::Pin(state)) => Some(state),
                    _ => None,
                })
                .ok_or(ModemError::Protocol("no +CPIN line in the answer to AT+CPIN?"))?,
            Err(ModemError::NoSim) => SimState::Absent,
            Err(ModemError::SimPin) => SimState::Pin,
            Err(error) => return Err(error),
        };
        let signal = self
            .command("AT+CSQ", wait)
            .await?
            .into_iter()
            .find_map(|info| match info {
                Info::Line(Line::SignalQuality { rssi, .. }) => Some(rssi),
                _ => None,
            })
            .ok_or(ModemError::Protocol("no +CSQ line in the answer to AT+CSQ"))?;
        let registration = self
            .command("AT+CREG?", wait)
            .await?
            .into_iter()
            .find_map(|info| match info {
                Info::Line(Line::Registration(registration)) => Some(registration),
                _ => None,
            })
            .ok_or(ModemError::Protocol("no +CREG line in the answer to AT+CREG?"))?;
        match self.command("AT+CMGF=0", wait).await {
            Ok(_) => {}
            // Some modems refuse message commands until the SIM is ready; the health says why.
            Err(ModemError::NoSim | ModemError::SimPin | ModemError::Cms(_)) if sim != SimState::Ready => {}
            Err(error) => return Err(error),
        }
        let health = Health { sim, signal, registration };
        tracing::debug!(?health.sim, signal = ?health.signal, ?health.registration, "modem checked");
        Ok(health)
    }

    /// Sends `text` to `to` (digits, international after a `+`) in as many parts as it takes;
    /// answers the network's reference of each part. Each send checks the modem first (the
    /// set-up commands are harmless to repeat, and a modem reset since the last send is set up
    /// again), so one that cannot send now says why before any part goes. If a later part fails, the earlier ones have gone: sending again
    /// repeats them.
    pub async fn send(&mut self, to: &str, text: &str) -> Result<Vec<u8>, ModemError> {
        let options = SubmitOptions { validity: self.validity, reference: self.next_reference };
        let pdus = sms::encode_submit(to, text, options).map_err(ModemError::Message)?;
        if let Some(problem) = self.check().await?.problem() {
            return Err(problem);
        }
        self.next_reference = self.next_reference.wrapping_add(1);
        tracing::debug!(parts = pdus.len(), chars = text.chars().count(), "sending an SMS to a number");
        let mut references = Vec::with_capacity(pdus.len());
        for pdu in &pdus {
            references.push(self.send_part(pdu).await?);
        }
        tracing::info!(parts = pdus.len(), "the network took an SMS to a number");
        Ok(references)
    }

    async fn send_part(&mut self, pdu: &sms::SubmitPdu) -> Result<u8, ModemError> {
        self.discard_stale().await?;
        self.write(format!("AT+CMGS={}\r", pdu.tpdu_len).as_bytes()).await?;
        match self.prompt().await {
            Ok(()) => {}
            Err(error @ ModemError::Gone(_)) => return Err(error),
            Err(error) => {
                // A modem whose prompt is late or was not understood may still wait for a PDU
                // and would swallow the next command as one; the escape ends its wait.
                let _ = self.write(&[ESCAPE]).await;
                return Err(error);
            }
        }
        let mut body = pdu.hex.clone().into_bytes();
        body.push(CTRL_Z);
        self.write(&body).await?;
        let deadline = Instant::now() + self.timeouts.submit;
        let mut reference = None;
        loop {
            let Read::Line(line) = self.read(deadline, false).await? else { continue };
            // A modem that echoes in the prompt sends the PDU back; it is not an answer.
            if line.trim_start_matches('>').trim() == pdu.hex {
                continue;
            }
            match parse(&line)? {
                Line::Sent { reference: sent } => reference = Some(sent),
                Line::Final(Final::Ok) => {
                    return reference.ok_or(ModemError::Protocol("OK without +CMGS after a PDU"));
                }
                Line::Final(result) => return Err(final_error(result)),
                _ => {}
            }
        }
    }

    /// Waits for the `> ` prompt after `AT+CMGS`.
    async fn prompt(&mut self) -> Result<(), ModemError> {
        let deadline = Instant::now() + self.timeouts.prompt;
        loop {
            match self.read(deadline, true).await? {
                Read::Prompt => return Ok(()),
                Read::Line(line) => match parse(&line)? {
                    Line::Final(result) => return Err(final_error(result)),
                    _ => continue,
                },
            }
        }
    }

    /// The messages the modem has stored, whole, deleted from it once read. Parts of a
    /// message still missing others stay stored until the rest arrive. A message that cannot
    /// be read (not text, malformed) is logged and deleted.
    pub async fn received(&mut self) -> Result<Vec<IncomingSms>, ModemError> {
        let wait = self.timeouts.command;
        self.command("AT+CMGF=0", wait).await?;
        let listed: Vec<(u16, String)> = self
            .command(LIST_ALL, wait)
            .await?
            .into_iter()
            .filter_map(|info| match info {
                Info::Listed { index, pdu } => Some((index, pdu)),
                Info::Line(_) => None,
            })
            .collect();
        let mut whole = Vec::new();
        let mut unreadable = Vec::new();
        // By sender, reference and total: (sequence, storage index, text) of each part.
        let mut parts: BTreeMap<(String, u16, u8), Vec<Part>> = BTreeMap::new();
        for (index, pdu) in listed {
            match sms::decode_deliver(&pdu) {
                Ok(deliver) => match deliver.concat.filter(|concat| concat.total > 1) {
                    None => whole.push((vec![index], IncomingSms { from: deliver.from, text: deliver.text })),
                    Some(concat) => parts.entry((deliver.from, concat.reference, concat.total)).or_default().push((
                        concat.sequence,
                        index,
                        deliver.text,
                    )),
                },
                Err(error) => {
                    tracing::warn!(index, %error, "deleting a stored SMS that cannot be read");
                    unreadable.push(index);
                }
            }
        }
        let mut waiting = Vec::new();
        for ((from, _, total), mut pieces) in parts {
            pieces.sort_by_key(|(sequence, _, _)| *sequence);
            pieces.dedup_by_key(|(sequence, _, _)| *sequence);
            let indices = pieces.iter().map(|(_, index, _)| *index).collect();
            if pieces.len() == usize::from(total) {
                let text = pieces.into_iter().map(|(_, _, text)| text).collect();
                whole.push((indices, IncomingSms { from, text }));
            } else {
                waiting.extend(indices);
            }
        }
        if waiting.len() > INCOMPLETE_PARTS_MAX {
            tracing::warn!(parts = waiting.len(), "deleting parts of SMS whose other parts never came");
            unreadable.append(&mut waiting);
        }
        let mut messages = Vec::with_capacity(whole.len());
        for (indices, message) in whole {
            self.delete(&indices).await;
            messages.push(message);
        }
        self.delete(&unreadable).await;
        if !messages.is_empty() {
            tracing::info!(messages = messages.len(), "read SMS from numbers");
        }
        Ok(messages)
    }

    /// Deletion that fails leaves the message stored, to be read again next time: a repeated
    /// reply (STOP twice) is harmless, a lost one is not. A modem that is gone shows at the
    /// next command.
    async fn delete(&mut self, indices: &[u16]) {
        for index in indices {
            if let Err(error) = self.command(&format!("AT+CMGD={index}"), self.timeouts.command).await {
                tracing::warn!(index, %error, "could not delete a stored SMS");
            }
        }
    }

    /// Writes `command` and collects its answer up to the final result; a final other than
    /// `OK` is the error.
    async fn command(&mut self, command: &str, wait: Duration) -> Result<Vec<Info>, ModemError> {
        self.discard_stale().await?;
        self.write(format!("{command}\r").as_bytes()).await?;
        let deadline = Instant::now() + wait;
        let mut infos = Vec::new();
        loop {
            let Read::Line(line) = self.read(deadline, false).await? else { continue };
            match parse(&line)? {
                Line::Final(Final::Ok) => return Ok(infos),
                Line::Final(result) => return Err(final_error(result)),
                Line::Echo | Line::Unsolicited | Line::NewMessage { .. } => {}
                Line::Listed { index, .. } => {
                    let Read::Line(pdu) = self.read(deadline, false).await? else {
                        return Err(ModemError::Protocol("a prompt instead of a PDU after +CMGL"));
                    };
                    infos.push(Info::Listed { index, pdu: pdu.trim().to_owned() });
                }
                line => infos.push(Info::Line(line)),
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), ModemError> {
        self.io.write_all(bytes).await.map_err(ModemError::Gone)?;
        self.io.flush().await.map_err(ModemError::Gone)
    }

    /// Drops what was buffered and whatever the port has ready now, without waiting.
    async fn discard_stale(&mut self) -> Result<(), ModemError> {
        self.pending.clear();
        let mut chunk = [0_u8; 256];
        loop {
            match tokio::time::timeout(Duration::ZERO, self.io.read(&mut chunk)).await {
                Err(_nothing_ready) => return Ok(()),
                Ok(Ok(0)) => return Err(gone_eof()),
                Ok(Ok(_)) => continue,
                Ok(Err(error)) => return Err(ModemError::Gone(error)),
            }
        }
    }

    /// The next non-blank line, or the prompt when `prompt` allows one, by `deadline`.
    async fn read(&mut self, deadline: Instant, prompt: bool) -> Result<Read, ModemError> {
        let mut chunk = [0_u8; 256];
        loop {
            let start = self.pending.iter().position(|b| !matches!(b, b'\r' | b'\n')).unwrap_or(self.pending.len());
            self.pending.drain(..start);
            if let Some(end) = self.pending.iter().position(|b| matches!(b, b'\r' | b'\n')) {
                let line: Vec<u8> = self.pending.drain(..end).collect();
                return Ok(Read::Line(String::from_utf8_lossy(&line).into_owned()));
            }
            if prompt && self.pending.first() == Some(&b'>') {
                let end = if self.pending.get(1) == Some(&b' ') { 2 } else { 1 };
                self.pending.drain(..end);
                return Ok(Read::Prompt);
            }
            if self.pending.len() > LINE_MAX {
                self.pending.clear();
                return Err(ModemError::Protocol("a line too long for a modem's answer"));
            }
            match tokio::time::timeout_at(deadline, self.io.read(&mut chunk)).await {
                Err(_elapsed) => return Err(ModemError::Timeout),
                Ok(Ok(0)) => return Err(gone_eof()),
                Ok(Ok(read)) => self.pending.extend_from_slice(&chunk[..read]),
                Ok(Err(error)) => return Err(ModemError::Gone(error)),
            }
        }
    }
}

fn gone_eof() -> ModemError {
    ModemError::Gone(io::Error::new(io::ErrorKind::UnexpectedEof, "the modem's port closed"))
}

fn parse(line: &str) -> Result<Line, ModemError> {
    at::parse_line(line).map_err(|error| {
        tracing::debug!(%error, "the modem said something unexpected");
        ModemError::Protocol("an unrecognised or malformed line")
    })
}

/// The error a final result other than `OK` stands for: the SIM's state when it names it.
fn final_error(result: Final) -> ModemError {
    match result {
        Final::Ok => ModemError::Protocol("OK taken for an error"),
        Final::Error => ModemError::Refused,
        Final::Cme(10 | 13) | Final::Cms(310 | 313) => ModemError::NoSim,
        Final::Cme(11 | 12) | Final::Cms(311 | 312 | 316) => ModemError::SimPin,
        Final::Cms(code) => ModemError::Cms(code),
        Final::Cme(code) => ModemError::Cme(code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::BufReader;

    /// A modem that answers each command it is sent with the next scripted reply, whatever
    /// the command; each reply ends the dialogue for that command.
    fn scripted(replies: Vec<&'static str>) -> Modem<tokio::io::DuplexStream> {
        let (near, far) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            let (read, mut write) = tokio::io::split(far);
            let mut read = BufReader::new(read);
            for reply in replies {
                // A command ends with CR, a PDU with Ctrl-Z.
                loop {
                    match read.read_u8().await {
                        Ok(b'\r' | CTRL_Z) => break,
                        Ok(_) => continue,
                        Err(_) => return,
                    }
                }
                if write.write_all(reply.as_bytes()).await.is_err() {
                    return;
                }
            }
            // Then it keeps the line open and says nothing.
            std::future::pending::<()>().await;
        });
        let timeouts = Timeouts {
            command: Duration::from_millis(300),
            prompt: Duration::from_millis(300),
            submit: Duration::from_millis(300),
        };
        Modem::new(near).with_timeouts(timeouts)
    }

    fn healthy_check() -> Vec<&'static str> {
        vec![
            "AT\r\r\nOK\r\n",
            "ATE0\r\r\nOK\r\n",
            "\r\nOK\r\n",
            "\r\n+CPIN: READY\r\n\r\nOK\r\n",
            "\r\n+CSQ: 18,99\r\n\r\nOK\r\n",
            // An unsolicited line in the middle of an answer is skipped.
            "\r\n+CMTI: \"SM\",1\r\n+CREG: 0,5\r\n\r\nOK\r\n",
            "\r\nOK\r\n",
        ]
    }

    #[tokio::test]
    async fn check_reads_echo_and_unsolicited_lines_past() {
        let mut modem = scripted(healthy_check());
        let health = modem.check().await.expect("answers");
        assert_eq!(health, Health { sim: SimState::Ready, signal: Some(18), registration: Registration::Roaming });
        assert!(health.is_ready());
    }

    #[tokio::test]
    async fn a_prompt_without_its_space_is_still_a_prompt() {
        let mut replies = healthy_check();
        replies.extend(["\r\n>", "\r\n+CMGS: 42\r\n\r\nOK\r\n"]);
        let mut modem = scripted(replies);
        assert_eq!(modem.send("+34600111222", "hola").await.expect("sent"), [42]);
    }

    #[tokio::test]
    async fn a_cms_error_instead_of_the_prompt_is_that_error() {
        let mut replies = healthy_check();
        replies.push("\r\n+CMS ERROR: 330\r\n");
        let mut modem = scripted(replies);
        assert!(matches!(modem.send("+34600111222", "hola").await, Err(ModemError::Cms(330))));
    }

    #[tokio::test]
    async fn ok_without_a_message_reference_is_a_protocol_error() {
        let mut replies = healthy_check();
        replies.extend(["\r\n> ", "\r\nOK\r\n"]);
        let mut modem = scripted(replies);
        assert!(matches!(modem.send("+34600111222", "hola").await, Err(ModemError::Protocol(_))));
    }

    #[tokio::test]
    async fn garbage_for_an_answer_is_a_protocol_error() {
        let mut modem = scripted(vec!["\r\n%%garbage%%\r\n"]);
        assert!(matches!(modem.check().await, Err(ModemError::Protocol(_))));
    }

    #[tokio::test]
    async fn a_silent_modem_times_out() {
        let mut modem = scripted(vec![]);
        let started = Instant::now();
        assert!(matches!(modem.check().await, Err(ModemError::Timeout)));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_bad_number_is_refused_before_the_modem_is_asked() {
        let mut modem = scripted(vec![]);
        assert!(matches!(modem.send("call me", "hola").await, Err(ModemError::Message(sms::SmsError::InvalidNumber))));
    }
}
