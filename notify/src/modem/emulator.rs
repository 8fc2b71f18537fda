//! A GSM modem without hardware: it answers the AT dialogue the driver speaks, takes messages
//! in PDU mode and reads them with the `sms` decoder, the way a network would, and keeps
//! incoming messages for `AT+CMGL`.
//!
//! A clone is a control handle: tests (and `fila-devsim modem`) take the SIM out, change the
//! signal, make sends fail with a `+CMS ERROR`, put a citizen's reply in storage, and read what
//! was sent, reassembled. Echo, error verbosity and message mode belong to one connection, as
//! they belong to one power-up of a real modem; it starts in text mode, as many USB sticks do,
//! so a driver that forgets `AT+CMGF=0` finds out.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio_serial::SerialPort as _;

use super::at::{self, Registration};
use super::port::SerialLine;
use crate::sms::{self, Encoding, Reassembler, SmsError, Timestamp};

/// Bytes of one command or PDU; past this without an end, the input is noise and dropped.
const INPUT_MAX: usize = 4096;
/// The service centre named in the messages it stores.
const SERVICE_CENTRE: &str = "+34609090909";
const CTRL_Z: u8 = 0x1A;
const ESCAPE: u8 = 0x1B;
/// What the modem hears when it has signal, unless told otherwise (about -73 dBm).
const SIGNAL_DEFAULT: u8 = 20;
/// `+CMS ERROR` codes the emulator answers with.
const CMS_INVALID_PDU: u16 = 304;
const CMS_NOT_SUPPORTED: u16 = 303;
const CMS_SIM_NOT_INSERTED: u16 = 310;
const CMS_SIM_PIN: u16 = 311;
const CMS_INVALID_INDEX: u16 = 321;
const CMS_NO_NETWORK: u16 = 331;
const CME_SIM_NOT_INSERTED: u16 = 10;

/// The SIM in the emulated modem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmulatedSim {
    Ready,
    /// No SIM in the slot.
    Absent,
    /// Waiting for its PIN.
    PinRequired,
}

/// A message the emulated modem sent, with every part put back together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    pub to: String,
    pub text: String,
    pub encoding: Encoding,
    pub parts: usize,
}

/// The emulated modem; clones share it.
#[derive(Debug, Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Print each message on stdout (a person watching the demo); tests turn it off.
    print: AtomicBool,
    /// A file, or a directory to hold `sms.txt`, where each message is written as a line.
    out: Mutex<Option<PathBuf>>,
}

#[derive(Debug)]
struct State {
    sim: EmulatedSim,
    signal: Option<u8>,
    registration: Registration,
    /// Codes the next sends fail with, one each.
    failures: VecDeque<u16>,
    /// Incoming messages by storage index: PDU, and whether it was listed already.
    storage: BTreeMap<u16, (String, bool)>,
    sent: Vec<SentSms>,
    reassembler: Reassembler,
    next_message_reference: u8,
    next_concat_reference: u8,
    muted: bool,
    unplug_during_next_send: bool,
}

/// One power-up's settings.
struct Session {
    echo: bool,
    /// `AT+CMEE`: 0 bare `ERROR`, 1 numbers, 2 words.
    errors: u8,
    pdu_mode: bool,
    /// After `AT+CMGS=<n>`'s prompt: the TPDU length announced.
    awaiting_pdu: Option<usize>,
}

enum Step {
    Reply(Vec<u8>),
    Unplug,
}

impl Default for Emulator {
    fn default() -> Self {
        Emulator::new()
    }
}

impl Emulator {
    /// A modem with a ready SIM, good signal, registered at home.
    pub fn new() -> Self {
        let state = State {
            sim: EmulatedSim::Ready,
            signal: Some(SIGNAL_DEFAULT),
            registration: Registration::Home,
            failures: VecDeque::new(),
            storage: BTreeMap::new(),
            sent: Vec::new(),
            reassembler: Reassembler::new(),
            next_message_reference: 1,
            next_concat_reference: 1,
            muted: false,
            unplug_during_next_send: false,
        };
        let shared = Shared { state: Mutex::new(state), print: AtomicBool::new(true), out: Mutex::new(None) };
        Emulator { shared: Arc::new(shared) }
    }

    /// Messages are only logged (by length), not printed on stdout.
    pub fn quiet(self) -> Self {
        self.shared.print.store(false, Ordering::Relaxed);
        self
    }

    /// Also writes each message as a line (number, encoding, parts, text; tab-separated, line
    /// breaks as `\n`) to `path`, or to `path/sms.txt` when it is a directory.
    pub fn with_output(self, path: PathBuf) -> Self {
        *self.shared.out.lock().unwrap_or_else(PoisonError::into_inner) = Some(path);
        self
    }

    pub fn set_sim(&self, sim: EmulatedSim) {
        self.shared.lock().sim = sim;
    }

    pub fn remove_sim(&self) {
        self.set_sim(EmulatedSim::Absent);
    }

    /// 0 to 31; `None` hears no network.
    pub fn set_signal(&self, signal: Option<u8>) {
        self.shared.lock().signal = signal.map(|rssi| rssi.min(31));
    }

    /// What `AT+CREG?` says while there is a SIM and signal.
    pub fn set_registration(&self, registration: Registration) {
        self.shared.lock().registration = registration;
    }

    /// The next `count` parts sent are refused with `+CMS ERROR: <code>`.
    pub fn fail_next_sends(&self, count: usize, code: u16) {
        self.shared.lock().failures.extend(std::iter::repeat_n(code, count));
    }

    /// A message from `from` (a number or an alphanumeric sender) arrives and is stored, in as
    /// many parts as it takes.
    pub fn inject_sms(&self, from: &str, text: &str) -> Result<(), SmsError> {
        let mut state = self.shared.lock();
        let timestamp = Timestamp { year: 26, month: 11, day: 29, hour: 10, minute: 42, second: 0, offset_quarters: 4 };
        let pdus = sms::encode_deliver(SERVICE_CENTRE, from, text, timestamp, state.next_concat_reference)?;
        state.next_concat_reference = state.next_concat_reference.wrapping_add(1);
        drop(state);
        for pdu in pdus {
            self.inject_pdu(&pdu);
        }
        Ok(())
    }

    /// Stores one PDU as it is (a part of a message, or a malformed one), as if it arrived.
    pub fn inject_pdu(&self, pdu: &str) {
        let mut state = self.shared.lock();
        let index = (1..=u16::MAX).find(|index| !state.storage.contains_key(index)).unwrap_or(u16::MAX);
        state.storage.insert(index, (pdu.to_owned(), false));
    }

    /// Messages sent so far, whole, in the order their last part came.
    pub fn sent(&self) -> Vec<SentSms> {
        self.shared.lock().sent.clone()
    }

    /// Incoming messages (parts) still in storage.
    pub fn stored(&self) -> usize {
        self.shared.lock().storage.len()
    }

    /// A muted modem reads everything and answers nothing, like a hung one.
    pub fn set_muted(&self, muted: bool) {
        self.shared.lock().muted = muted;
    }

    /// At the next PDU it is sent, the modem drops the connection without answering, as a USB
    /// modem that resets mid-send vanishes with its port.
    pub fn unplug_during_next_send(&self) {
        self.shared.lock().unplug_during_next_send = true;
    }

    /// Answers AT commands on `io` until it closes (or the modem is unplugged).
    pub async fn serve<T: AsyncRead + AsyncWrite + Unpin>(&self, mut io: T) -> io::Result<()> {
        let mut session = Session { echo: true, errors: 0, pdu_mode: false, awaiting_pdu: None };
        let mut pending = Vec::with_capacity(512);
        let mut chunk = [0_u8; 512];
        loop {
            let read = io.read(&mut chunk).await?;
            if read == 0 {
                return Ok(());
            }
            if self.shared.lock().muted {
                continue;
            }
            pending.extend_from_slice(&chunk[..read]);
            while let Some(step) = self.next_step(&mut session, &mut pending) {
                match step {
                    Step::Reply(reply) => {
                        io.write_all(&reply).await?;
                        io.flush().await?;
                    }
                    Step::Unplug => {
                        tracing::info!("the emulated modem was unplugged");
                        return Ok(());
                    }
                }
            }
            if pending.len() > INPUT_MAX {
                pending.clear();
            }
        }
    }

    /// Serves a new pseudo-terminal and points `link` at it, so a driver can open `link` as
    /// its serial port. An old symlink at `link` is replaced; anything else there is an error.
    pub async fn serve_pty(&self, link: &Path) -> io::Result<()> {
        let (master, slave) = tokio_serial::SerialStream::pair().map_err(io::Error::from)?;
        let name = slave.name().ok_or_else(|| io::Error::other("the pseudo-terminal has no name"))?;
        replace_symlink(link, Path::new(&name))?;
        tracing::info!(link = %link.display(), pty = name, "emulated modem listening");
        let served = self.serve(SerialLine::from_stream(master)).await;
        // Held until now: with no slave open, reads on the master fail with EIO, so the modem
        // would stop whenever the driver closes its port to open it again.
        drop(slave);
        served
    }

    /// The next command or PDU in `pending`, handled; `None` until one is complete.
    fn next_step(&self, session: &mut Session, pending: &mut Vec<u8>) -> Option<Step> {
        if let Some(tpdu_len) = session.awaiting_pdu {
            let end = pending.iter().position(|b| matches!(*b, CTRL_Z | ESCAPE))?;
            let body: Vec<u8> = pending.drain(..=end).collect();
            session.awaiting_pdu = None;
            let mut reply = Vec::new();
            if session.echo {
                reply.extend_from_slice(&body);
            }
            if body.last() == Some(&ESCAPE) {
                reply.extend_from_slice(b"\r\nOK\r\n");
                return Some(Step::Reply(reply));
            }
            if std::mem::take(&mut self.shared.lock().unplug_during_next_send) {
                return Some(Step::Unplug);
            }
            let hex = String::from_utf8_lossy(&body[..body.len() - 1]).trim().to_owned();
            reply.extend(self.submit(session, &hex, tpdu_len));
            return Some(Step::Reply(reply));
        }
        let start = pending.iter().position(|b| *b != b'\n').unwrap_or(pending.len());
        pending.drain(..start);
        let end = pending.iter().position(|b| *b == b'\r')?;
        let line: Vec<u8> = pending.drain(..=end).collect();
        let command = String::from_utf8_lossy(&line[..line.len() - 1]).trim().to_owned();
        let mut reply = Vec::new();
        if session.echo {
            reply.extend_from_slice(&line);
        }
        if !command.is_empty() {
            reply.extend(self.command(session, &command));
        }
        Some(Step::Reply(reply))
    }

    fn command(&self, session: &mut Session, command: &str) -> Vec<u8> {
        let upper = command.to_ascii_uppercase();
        let (name, argument) = match upper.split_once('=') {
            Some((name, argument)) => (name, Some(argument)),
            None => (upper.as_str(), None),
        };
        let mut state = self.shared.lock();
        match (name, argument) {
            ("AT", None) => ok(&[]),
            ("ATE0", None) => {
                session.echo = false;
                ok(&[])
            }
            ("ATE1" | "ATE", None) => {
                session.echo = true;
                ok(&[])
            }
            ("ATZ", None) => {
                *session = Session { echo: true, errors: 0, pdu_mode: session.pdu_mode, awaiting_pdu: None };
                ok(&[])
            }
            ("AT+CMEE", Some(level @ ("0" | "1" | "2"))) => {
                session.errors = level.parse().unwrap_or(0);
                ok(&[])
            }
            ("AT+CPIN?", None) => match state.sim {
                EmulatedSim::Absent => cme_error(session, CME_SIM_NOT_INSERTED),
                EmulatedSim::PinRequired => ok(&["+CPIN: SIM PIN".into()]),
                EmulatedSim::Ready => ok(&["+CPIN: READY".into()]),
            },
            ("AT+CSQ", None) => ok(&[format!("+CSQ: {},99", state.signal.unwrap_or(99))]),
            ("AT+CREG?", None) => ok(&[format!("+CREG: 0,{}", state.network().code())]),
            ("AT+CMGF", Some(mode @ ("0" | "1"))) => {
                session.pdu_mode = mode == "0";
                ok(&[])
            }
            ("AT+CMGF?", None) => ok(&[format!("+CMGF: {}", if session.pdu_mode { 0 } else { 1 })]),
            ("AT+CMGS", Some(length)) => {
                if !session.pdu_mode {
                    // Text mode is not emulated: the driver speaks PDU mode.
                    return cms_error(session, CMS_NOT_SUPPORTED);
                }
                if let Some(code) = state.sim_error() {
                    return cms_error(session, code);
                }
                match length.parse::<usize>() {
                    Ok(length @ 1..=164) => {
                        session.awaiting_pdu = Some(length);
                        b"\r\n> ".to_vec()
                    }
                    _ => cms_error(session, CMS_INVALID_PDU),
                }
            }
            ("AT+CMGL", Some(status)) => {
                if !session.pdu_mode {
                    return cms_error(session, CMS_NOT_SUPPORTED);
                }
                if let Some(code) = state.sim_error() {
                    return cms_error(session, code);
                }
                match status.parse::<u8>() {
                    Ok(status @ (0 | 1 | 4)) => ok(&state.list(status)),
                    _ => cms_error(session, CMS_INVALID_PDU),
                }
            }
            ("AT+CMGD", Some(argument)) => {
                let index = argument.split(',').next().and_then(|index| index.trim().parse::<u16>().ok());
                match index.and_then(|index| state.storage.remove(&index)) {
                    Some(_) => ok(&[]),
                    None => cms_error(session, CMS_INVALID_INDEX),
                }
            }
            _ => b"\r\nERROR\r\n".to_vec(),
        }
    }

    /// A PDU after the prompt: refused, or sent and recorded.
    fn submit(&self, session: &Session, hex: &str, tpdu_len: usize) -> Vec<u8> {
        let mut state = self.shared.lock();
        let bytes = match hex::decode(hex) {
            Ok(bytes) => bytes,
            Err(_) => return cms_error(session, CMS_INVALID_PDU),
        };
        let smsc_len = bytes.first().map_or(0, |len| usize::from(*len));
        if bytes.len() != 1 + smsc_len + tpdu_len {
            return cms_error(session, CMS_INVALID_PDU);
        }
        let submit = match sms::decode_submit(hex) {
            Ok(submit) => submit,
            Err(error) => {
                tracing::info!(%error, "the emulated modem refused a PDU");
                return cms_error(session, CMS_INVALID_PDU);
            }
        };
        if !state.network().is_registered() {
            return cms_error(session, CMS_NO_NETWORK);
        }
        if let Some(code) = state.failures.pop_front() {
            return cms_error(session, code);
        }
        let reference = state.next_message_reference;
        state.next_message_reference = state.next_message_reference.wrapping_add(1);
        let parts = submit.concat.map_or(1, |concat| usize::from(concat.total));
        let whole = state.reassembler.push(&submit.to, submit.text, submit.concat);
        let sent = whole.map(|text| SentSms { to: submit.to, text, encoding: submit.encoding, parts });
        state.sent.extend(sent.clone());
        drop(state);
        if let Some(sent) = sent {
            self.record(&sent);
        }
        ok(&[format!("+CMGS: {reference}")])
    }

    fn record(&self, sent: &SentSms) {
        let chars = sent.text.chars().count();
        tracing::info!(
            chars,
            parts = sent.parts,
            encoding = sent.encoding.name(),
            "the emulated modem sent an SMS to a number"
        );
        let plural = if sent.parts == 1 { "" } else { "s" };
        if self.shared.print.load(Ordering::Relaxed) {
            // The emulated phone's screen: the demo shows what a citizen would read.
            println!("SMS to {} ({}, {} part{plural}): {}", sent.to, sent.encoding.name(), sent.parts, sent.text);
        }
        let out = self.shared.out.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some(out) = out {
            let path = if out.is_dir() { out.join("sms.txt") } else { out };
            let line = format!(
                "{}\t{}\t{}\t{}\n",
                sent.to,
                sent.encoding.name(),
                sent.parts,
                sent.text.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t")
            );
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut file| file.write_all(line.as_bytes()));
            if let Err(error) = written {
                tracing::warn!(path = %path.display(), %error, "could not write a sent SMS to the output");
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change to the state is a single assignment or push: a panic cannot leave it
        // half-made.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// What the modem sees of the network: nothing without a SIM or signal.
    fn network(&self) -> Registration {
        match (self.sim, self.signal) {
            (EmulatedSim::Absent | EmulatedSim::PinRequired, _) => Registration::NotRegistered,
            (EmulatedSim::Ready, None) => Registration::Searching,
            (EmulatedSim::Ready, Some(_)) => self.registration,
        }
    }

    fn sim_error(&self) -> Option<u16> {
        match self.sim {
            EmulatedSim::Ready => None,
            EmulatedSim::Absent => Some(CMS_SIM_NOT_INSERTED),
            EmulatedSim::PinRequired => Some(CMS_SIM_PIN),
        }
    }

    /// `+CMGL` entries of stored messages with `status` (0 unread, 1 read, 4 all); listed
    /// messages become read.
    fn list(&mut self, status: u8) -> Vec<String> {
        let mut lines = Vec::new();
        for (index, (pdu, read)) in &mut self.storage {
            let current = u8::from(*read);
            if status != 4 && status != current {
                continue;
            }
            // The length counts the TPDU: the PDU without its SMSC field.
            let smsc_octets = pdu.get(..2).and_then(|len| u8::from_str_radix(len, 16).ok()).map_or(0, usize::from);
            let length = (pdu.len() / 2).saturating_sub(1 + smsc_octets);
            lines.push(format!("+CMGL: {index},{current},,{length}\r\n{pdu}"));
            *read = true;
        }
        lines
    }
}

/// Information lines, then `OK`.
fn ok(lines: &[String]) -> Vec<u8> {
    let mut reply = String::new();
    for line in lines {
        reply.push_str("\r\n");
        reply.push_str(line);
        reply.push_str("\r\n");
    }
    reply.push_str("\r\nOK\r\n");
    reply.into_bytes()
}

fn cms_error(session: &Session, code: u16) -> Vec<u8> {
    error(session, "+CMS ERROR", code, at::cms_text(code))
}

fn cme_error(session: &Session, code: u16) -> Vec<u8> {
    error(session, "+CME ERROR", code, at::cme_text(code))
}

/// As `AT+CMEE` asked: a bare `ERROR`, the code, or its words.
fn error(session: &Session, kind: &str, code: u16, words: Option<&str>) -> Vec<u8> {
    match (session.errors, words) {
        (0, _) => b"\r\nERROR\r\n".to_vec(),
        (2, Some(words)) => format!("\r\n{kind}: {words}\r\n").into_bytes(),
        _ => format!("\r\n{kind}: {code}\r\n").into_bytes(),
    }
}

fn replace_symlink(link: &Path, target: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(link) {
        Ok(metadata) if metadata.file_type().is_symlink() => std::fs::remove_file(link)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a symlink", link.display()),
            ))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    std::os::unix::fs::symlink(target, link)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` to a fresh session and answers what the modem wrote back.
    fn check(emulator: &Emulator, input: &str) -> String {
        let mut session = Session { echo: false, errors: 1, pdu_mode: true, awaiting_pdu: None };
        let mut pending = input.as_bytes().to_vec();
        let mut out = Vec::new();
        while let Some(step) = emulator.next_step(&mut session, &mut pending) {
            match step {
                Step::Reply(reply) => out.extend(reply),
                Step::Unplug => out.extend_from_slice(b"<unplugged>"),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn it_answers_the_health_questions() {
        let emulator = Emulator::new().quiet();
        assert_eq!(check(&emulator, "AT+CPIN?\r"), "\r\n+CPIN: READY\r\n\r\nOK\r\n");
        assert_eq!(check(&emulator, "AT+CSQ\r"), "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
        assert_eq!(check(&emulator, "at+creg?\r"), "\r\n+CREG: 0,1\r\n\r\nOK\r\n");
        emulator.remove_sim();
        assert_eq!(check(&emulator, "AT+CPIN?\r"), "\r\n+CME ERROR: 10\r\n");
        assert_eq!(check(&emulator, "AT+CREG?\r"), "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
    }

    #[test]
    fn a_pdu_is_taken_after_the_prompt_and_recorded() {
        let emulator = Emulator::new().quiet();
        let pdu = &sms::encode_submit("+34600111222", "hola", sms::SubmitOptions::default()).expect("encodes")[0];
        let reply = check(&emulator, &format!("AT+CMGS={}\r{}\u{1A}", pdu.tpdu_len, pdu.hex));
        assert_eq!(reply, "\r\n> \r\n+CMGS: 1\r\n\r\nOK\r\n");
        let sent = SentSms { to: "+34600111222".into(), text: "hola".into(), encoding: Encoding::Gsm7, parts: 1 };
        assert_eq!(emulator.sent(), [sent]);
    }

    #[test]
    fn a_pdu_whose_length_is_not_the_announced_one_is_refused() {
        let emulator = Emulator::new().quiet();
        let pdu = &sms::encode_submit("+34600111222", "hola", sms::SubmitOptions::default()).expect("encodes")[0];
        let reply = check(&emulator, &format!("AT+CMGS={}\r{}\u{1A}", pdu.tpdu_len + 1, pdu.hex));
        assert_eq!(reply, "\r\n> \r\n+CMS ERROR: 304\r\n");
        assert_eq!(check(&emulator, "AT+CMGS=10\rnot hex\u{1A}"), "\r\n> \r\n+CMS ERROR: 304\r\n");
        assert!(emulator.sent().is_empty());
    }

    #[test]
    fn an_escape_abandons_the_pdu() {
        let emulator = Emulator::new().quiet();
        assert_eq!(check(&emulator, "AT+CMGS=20\r0011\u{1B}"), "\r\n> \r\nOK\r\n");
        assert!(emulator.sent().is_empty());
    }

    #[test]
    fn errors_are_bare_numbered_or_in_words_as_cmee_asks() {
        let emulator = Emulator::new().quiet();
        let mut session = Session { echo: false, errors: 0, pdu_mode: true, awaiting_pdu: None };
        assert_eq!(cms_error(&session, 38), b"\r\nERROR\r\n");
        session.errors = 1;
        assert_eq!(cms_error(&session, 38), b"\r\n+CMS ERROR: 38\r\n");
        session.errors = 2;
        assert_eq!(cms_error(&session, 38), b"\r\n+CMS ERROR: Network out of order\r\n");
        assert_eq!(check(&emulator, "AT+NONSENSE\r"), "\r\nERROR\r\n");
    }

    #[test]
    fn stored_messages_are_listed_with_their_tpdu_length_and_deleted() {
        let emulator = Emulator::new().quiet();
        emulator.inject_sms("+34600111222", "STOP").expect("stored");
        let listed = check(&emulator, "AT+CMGL=4\r");
        // SMSC field 8 octets; TPDU 23: first octet, 8 of address, PID, DCS, 7 of time, UDL, 4.
        assert!(listed.starts_with("\r\n+CMGL: 1,0,,23\r\n07914306090909F904"), "{listed}");
        assert_eq!(check(&emulator, "AT+CMGL=0\r"), "\r\nOK\r\n", "listed messages are read");
        assert_eq!(check(&emulator, "AT+CMGD=1\r"), "\r\nOK\r\n");
        assert_eq!(check(&emulator, "AT+CMGD=1\r"), "\r\n+CMS ERROR: 321\r\n");
        assert_eq!(emulator.stored(), 0);
    }
}
