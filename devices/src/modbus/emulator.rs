//! Counter displays without hardware: a Modbus RTU slave answering for several units.
//!
//! Each emulated display keeps the holding registers its [`RegisterMap`] names and nothing else,
//! so a master writing the wrong register gets the exception a real display would send. Units
//! not in the list never answer, as on a real bus, and a display set silent stops answering.
//! The behaviour lives in one tokio-modbus [`Service`]; [`Emulator::serve_pty`] runs it under
//! tokio-modbus's RTU server, and [`Emulator::serve_rtu`] under a small RTU framer of our own,
//! because tokio-modbus's RTU server only accepts a `SerialStream` and the tests use
//! `tokio::io::duplex`.

use std::{
    collections::BTreeMap,
    io,
    path::Path,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _},
    sync::broadcast,
};
use tokio_modbus::{server::Service, ExceptionCode, Request, Response, SlaveRequest};
use tokio_serial::SerialPort as _;

use super::register_map::{decode_text, RegisterMap};

/// Changes a slow subscriber may fall behind by before it misses some.
const CHANGES_CAPACITY: usize = 64;

/// A request whose bytes stop arriving for this long is noise: RTU frames are sent without gaps.
const FRAME_SILENCE: Duration = Duration::from_millis(20);

/// Most registers one read (FC03) and one write (FC16) may carry, from the Modbus specification.
const READ_REGISTERS_MAX: u16 = 125;
const WRITE_REGISTERS_MAX: usize = 123;

/// One display on the emulated bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmulatedDisplay {
    /// Its Modbus address.
    pub unit: u8,
    /// The counter it hangs over; only a label for logs.
    pub counter: String,
    pub map: RegisterMap,
}

/// Emulated displays sharing one bus. Clones share the displays.
#[derive(Debug, Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    displays: Mutex<BTreeMap<u8, DisplayState>>,
    changes: broadcast::Sender<(u8, String)>,
    /// Print each change on stdout (a person watching); benchmarks turn it off.
    print: std::sync::atomic::AtomicBool,
}

#[derive(Debug)]
struct DisplayState {
    counter: String,
    map: RegisterMap,
    /// Every register the display has, and nothing else.
    registers: BTreeMap<u16, u16>,
    silent: bool,
    shown: String,
}

impl Emulator {
    /// Displays start blank. Of two displays with the same unit, the later one is on the bus.
    pub fn new(displays: Vec<EmulatedDisplay>) -> Self {
        let displays = displays
            .into_iter()
            .map(|EmulatedDisplay { unit, counter, map }| {
                let mut registers: BTreeMap<u16, u16> = (0..map.text_registers())
                    .filter_map(|offset| map.text_register.checked_add(offset))
                    .map(|register| (register, 0))
                    .collect();
                registers.extend(map.blink_register.into_iter().chain(map.brightness_register).map(|r| (r, 0)));
                let shown = decode_text(&map, &[]);
                (unit, DisplayState { counter, map, registers, silent: false, shown })
            })
            .collect();
        let (changes, _) = broadcast::channel(CHANGES_CAPACITY);
        let print = std::sync::atomic::AtomicBool::new(true);
        Emulator { shared: Arc::new(Shared { displays: Mutex::new(displays), changes, print }) }
    }

    /// Changes are only logged and broadcast, not printed on stdout.
    pub fn quiet(self) -> Self {
        self.shared.print.store(false, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// What the display at `unit` shows now, `None` if there is none.
    pub fn shown(&self, unit: u8) -> Option<String> {
        self.shared.lock().get(&unit).map(|display| display.shown.clone())
    }

    /// The blink count last written to the display at `unit`, if it has a blink register.
    pub fn blink(&self, unit: u8) -> Option<u16> {
        let displays = self.shared.lock();
        let display = displays.get(&unit)?;
        display.registers.get(&display.map.blink_register?).copied()
    }

    /// A silent display ignores every request, like one unplugged.
    pub fn set_silent(&self, unit: u8, silent: bool) {
        if let Some(display) = self.shared.lock().get_mut(&unit) {
            display.silent = silent;
        }
    }

    /// `(unit, text)` each time a display's text changes.
    pub fn changes(&self) -> broadcast::Receiver<(u8, String)> {
        self.shared.changes.subscribe()
    }

    /// Answers Modbus RTU requests on `io` until it closes.
    pub async fn serve_rtu<T: AsyncRead + AsyncWrite + Send + Unpin + 'static>(&self, io: T) -> io::Result<()> {
        let service = EmulatorService(Arc::clone(&self.shared));
        let mut io = io;
        let mut pending = Vec::with_capacity(256);
        let mut chunk = [0_u8; 256];
        loop {
            while let Some((unit, request)) = next_request(&mut pending) {
                let function = request_function(&request);
                let answer = service.call(SlaveRequest { slave: unit, request }).await;
                if let Some(reply) = encode_reply(unit, function, answer) {
                    io.write_all(&reply).await?;
                    io.flush().await?;
                }
            }
            let read = if pending.is_empty() {
                io.read(&mut chunk).await?
            } else {
                match tokio::time::timeout(FRAME_SILENCE, io.read(&mut chunk)).await {
                    Ok(read) => read?,
                    Err(_silence) => {
                        tracing::debug!(discarded = pending.len(), "dropped an incomplete request");
                        pending.clear();
                        continue;
                    }
                }
            };
            if read == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&chunk[..read]);
        }
    }

    /// Serves a new pseudo-terminal and points `link` at it, so a master can open `link` as its
    /// serial port without socat or hardware. An old symlink at `link` is replaced; anything else
    /// there is an error.
    pub async fn serve_pty(&self, link: &Path) -> io::Result<()> {
        let (master, slave) = tokio_serial::SerialStream::pair().map_err(io::Error::from)?;
        let name = slave.name().ok_or_else(|| io::Error::other("the pseudo-terminal has no name"))?;
        replace_symlink(link, Path::new(&name))?;
        tracing::info!(link = %link.display(), pty = name, "emulated displays listening");
        let server = tokio_modbus::server::rtu::Server::new(master);
        let served = server.serve_forever(EmulatorService(Arc::clone(&self.shared))).await;
        // Held until now: with no slave open, reads on the master fail with EIO, so the server
        // would stop whenever the master side closes its port.
        drop(slave);
        served
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u8, DisplayState>> {
        // A panic elsewhere cannot leave the registers half-written: every write is checked first.
        self.displays.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn handle(&self, unit: u8, request: Request<'_>) -> Result<Option<Response>, ExceptionCode> {
        let mut changed = Vec::new();
        let answer = {
            let mut displays = self.lock();
            if unit == 0 {
                // Broadcast: every display that hears it obeys, none answers.
                for (unit, display) in displays.iter_mut().filter(|(_, display)| !display.silent) {
                    if let Ok(Some(_)) = display.handle(&request) {
                        changed.extend(display.refresh().map(|shown| (*unit, display.counter.clone(), shown)));
                    }
                }
                Ok(None)
            } else {
                match displays.get_mut(&unit) {
                    None => Ok(None),
                    Some(display) if display.silent => Ok(None),
                    Some(display) => {
                        let answer = display.handle(&request);
                        changed.extend(display.refresh().map(|shown| (unit, display.counter.clone(), shown)));
                        answer
                    }
                }
            }
        };
        for (unit, counter, shown) in changed {
            let visible = if shown.trim().is_empty() { "(blank)" } else { shown.trim_end() };
            tracing::info!(unit, counter, shown = visible, "display {counter} (unit {unit}): {visible}");
            if self.print.load(std::sync::atomic::Ordering::Relaxed) {
                println!("display {counter} (unit {unit}): {visible}");
            }
            // No subscriber is fine: nobody is watching.
            let _ = self.changes.send((unit, shown));
        }
        answer
    }
}

impl DisplayState {
    fn handle(&mut self, request: &Request<'_>) -> Result<Option<Response>, ExceptionCode> {
        match request {
            Request::ReadHoldingRegisters(register, count) => {
                if *count == 0 || *count > READ_REGISTERS_MAX {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                let values = (0..*count)
                    .map(|offset| register.checked_add(offset).and_then(|r| self.registers.get(&r).copied()))
                    .collect::<Option<Vec<u16>>>()
                    .ok_or(ExceptionCode::IllegalDataAddress)?;
                Ok(Some(Response::ReadHoldingRegisters(values)))
            }
            Request::WriteSingleRegister(register, value) => {
                self.write(*register, &[*value])?;
                Ok(Some(Response::WriteSingleRegister(*register, *value)))
            }
            Request::WriteMultipleRegisters(register, values) => {
                let count = u16::try_from(values.len()).map_err(|_| ExceptionCode::IllegalDataValue)?;
                if values.is_empty() || values.len() > WRITE_REGISTERS_MAX {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                self.write(*register, values)?;
                Ok(Some(Response::WriteMultipleRegisters(*register, count)))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }

    /// All or nothing: a write touching a register the display lacks changes nothing.
    fn write(&mut self, register: u16, values: &[u16]) -> Result<(), ExceptionCode> {
        let registers = (0..values.len())
            .map(|offset| {
                u16::try_from(offset)
                    .ok()
                    .and_then(|offset| register.checked_add(offset))
                    .filter(|r| self.registers.contains_key(r))
            })
            .collect::<Option<Vec<u16>>>()
            .ok_or(ExceptionCode::IllegalDataAddress)?;
        for (register, value) in registers.into_iter().zip(values) {
            self.registers.insert(register, *value);
        }
        Ok(())
    }

    /// The new text, if it changed.
    fn refresh(&mut self) -> Option<String> {
        let text: Vec<u16> = self
            .registers
            .range(self.map.text_register..)
            .take(usize::from(self.map.text_registers()))
            .map(|(_, value)| *value)
            .collect();
        let shown = decode_text(&self.map, &text);
        if shown == self.shown {
            return None;
        }
        self.shown = shown.clone();
        Some(shown)
    }
}

/// The emulator as a tokio-modbus service: `None` is no answer at all.
struct EmulatorService(Arc<Shared>);

impl Service for EmulatorService {
    type Request = SlaveRequest<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = std::future::Ready<Result<Option<Response>, ExceptionCode>>;

    fn call(&self, request: Self::Request) -> Self::Future {
        std::future::ready(self.0.handle(request.slave, request.request))
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

/// Takes the first complete request off `pending`, skipping bytes that cannot start one (noise,
/// a frame with a bad CRC, a function we do not know the length of).
fn next_request(pending: &mut Vec<u8>) -> Option<(u8, Request<'static>)> {
    loop {
        let function = *pending.get(1)?;
        let length = match function {
            0x01..=0x06 => 8,
            0x0F | 0x10 => 9 + usize::from(*pending.get(6)?),
            _ => {
                pending.remove(0);
                continue;
            }
        };
        let frame = pending.get(..length)?;
        let (body, crc) = frame.split_at(length - 2);
        let parsed = if u16::from_le_bytes([crc[0], crc[1]]) == crc16(body) { parse_request(body) } else { None };
        match parsed {
            Some(request) => {
                let unit = body[0];
                pending.drain(..length);
                return Some((unit, request));
            }
            None => {
                pending.remove(0);
            }
        }
    }
}

/// `body` is a CRC-checked frame without its CRC: unit, function, data.
fn parse_request(body: &[u8]) -> Option<Request<'static>> {
    let word = |at: usize| Some(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]));
    let (address, second) = (word(2)?, word(4)?);
    Some(match body[1] {
        0x01 => Request::ReadCoils(address, second),
        0x02 => Request::ReadDiscreteInputs(address, second),
        0x03 => Request::ReadHoldingRegisters(address, second),
        0x04 => Request::ReadInputRegisters(address, second),
        0x05 => Request::WriteSingleCoil(address, second == 0xFF00),
        0x06 => Request::WriteSingleRegister(address, second),
        0x0F => {
            let bits = body.get(7..)?;
            let coils = (0..usize::from(second)).map(|i| bits.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1));
            Request::WriteMultipleCoils(address, coils.collect::<Vec<bool>>().into())
        }
        0x10 => {
            let data = body.get(7..)?;
            if data.len() != 2 * usize::from(second) {
                return None;
            }
            let values: Vec<u16> = data.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect();
            Request::WriteMultipleRegisters(address, values.into())
        }
        _ => return None,
    })
}

fn request_function(request: &Request<'_>) -> u8 {
    match request {
        Request::ReadCoils(..) => 0x01,
        Request::ReadDiscreteInputs(..) => 0x02,
        Request::ReadHoldingRegisters(..) => 0x03,
        Request::ReadInputRegisters(..) => 0x04,
        Request::WriteSingleCoil(..) => 0x05,
        Request::WriteSingleRegister(..) => 0x06,
        Request::WriteMultipleCoils(..) => 0x0F,
        Request::WriteMultipleRegisters(..) => 0x10,
        // `parse_request` makes no other request.
        _ => 0x00,
    }
}

/// The RTU reply frame, or `None` for no reply.
fn encode_reply(unit: u8, function: u8, answer: Result<Option<Response>, ExceptionCode>) -> Option<Vec<u8>> {
    if unit == 0 {
        return None;
    }
    let mut frame = vec![unit];
    match answer {
        Ok(None) => return None,
        Err(exception) => frame.extend([function | 0x80, u8::from(exception)]),
        Ok(Some(Response::ReadHoldingRegisters(values))) => {
            // At most READ_REGISTERS_MAX values, so the byte count fits.
            frame.extend([0x03, u8::try_from(values.len() * 2).ok()?]);
            frame.extend(values.iter().flat_map(|value| value.to_be_bytes()));
        }
        Ok(Some(Response::WriteSingleRegister(register, value))) => {
            frame.push(0x06);
            frame.extend(register.to_be_bytes().into_iter().chain(value.to_be_bytes()));
        }
        Ok(Some(Response::WriteMultipleRegisters(register, count))) => {
            frame.push(0x10);
            frame.extend(register.to_be_bytes().into_iter().chain(count.to_be_bytes()));
        }
        Ok(Some(other)) => {
            tracing::warn!(unit, ?other, "the emulator made a reply it cannot encode");
            return None;
        }
    }
    let crc = crc16(&frame);
    frame.extend(crc.to_le_bytes());
    Some(frame)
}

/// CRC-16/MODBUS: reflected polynomial 0xA001, initial value 0xFFFF; sent low byte first.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xFFFF_u16, |crc, byte| {
        (0..8).fold(crc ^ u16::from(*byte), |crc, _| if crc & 1 == 1 { (crc >> 1) ^ 0xA001 } else { crc >> 1 })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_modbus_check_value() {
        assert_eq!(crc16(b"123456789"), 0x4B37);
        assert_eq!(crc16(&[0x01, 0x06, 0x00, 0x00, 0x00, 0x17]).to_le_bytes(), [0xC9, 0xC4]);
    }

    #[test]
    fn a_request_is_found_after_noise() {
        let mut pending = vec![0xFF, 0x10, 0x33, 0x01, 0x06, 0x00, 0x00, 0x00, 0x17, 0xC9, 0xC4, 0x01];
        assert_eq!(next_request(&mut pending), Some((1, Request::WriteSingleRegister(0, 23))));
        assert_eq!(pending, vec![0x01]);
        assert_eq!(next_request(&mut pending), None);
    }
}
