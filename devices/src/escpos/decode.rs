//! Reads ESC/POS bytes back as the printed paper: lines of text with their style, QR codes and
//! cuts. Tests use it to check a ticket reads right; the emulator uses it to show what a real
//! printer would have printed.
//!
//! It follows the subset of commands fila and common printers use, and the printer's behaviour
//! where it matters for what a citizen reads: `ESC @` discards unprinted text and goes back to
//! the power-on table (PC437, as most printers), `ESC t` switches tables, a line wraps when it
//! is full. Any other input, however malformed, ends up in `problems`; nothing panics.
//!
//! Parsing is split from interpretation ([`parse_command`] then [`Decoder::apply`]) so that the
//! emulator can parse a stream as it arrives and spot `DLE EOT` only where it is a command, not
//! inside the data of a QR code.

use serde::Serialize;

use super::codepage::CodePage;
use super::encode::PrinterProfile;

/// What a citizen reads on the paper.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Printout {
    pub lines: Vec<PrintedLine>,
    /// Data of each QR printed, in order.
    pub qr_codes: Vec<String>,
    pub cuts: Vec<Cut>,
    /// Commands the decoder did not understand or that a printer would get wrong.
    pub problems: Vec<String>,
    /// Lines, QR codes and cuts in the order they came out of the printer.
    pub order: Vec<Printed>,
}

/// One entry of [`Printout::order`]: an index into `lines`, `qr_codes` or `cuts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Printed {
    Line(usize),
    Qr(usize),
    Cut(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrintedLine {
    pub text: String,
    /// Some character of the line was bold.
    pub bold: bool,
    /// The largest character width and height multiple used on the line (1 = normal).
    pub width: u8,
    pub height: u8,
    pub align: Align,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Align {
    #[default]
    Left,
    Centre,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Cut {
    Full,
    Partial,
}

impl Printout {
    /// The printout as text: lines joined by `\n`, a QR as `[QR <data>]` and a cut as
    /// `-- partial cut --` or `-- full cut --`, each on its own line where it was printed.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(self.order.len());
        for item in &self.order {
            let part = match *item {
                Printed::Line(i) => self.lines.get(i).map(|line| line.text.clone()),
                Printed::Qr(i) => self.qr_codes.get(i).map(|data| format!("[QR {data}]")),
                Printed::Cut(i) => self.cuts.get(i).map(|cut| match cut {
                    Cut::Full => "-- full cut --".to_owned(),
                    Cut::Partial => "-- partial cut --".to_owned(),
                }),
            };
            parts.extend(part);
        }
        parts.join("\n")
    }

    /// Nothing but blank lines was printed.
    pub fn is_blank(&self) -> bool {
        self.qr_codes.is_empty() && self.lines.iter().all(|line| line.text.trim().is_empty())
    }
}

/// One command (or one printable byte) of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// A byte printed as a character of the current table.
    Print(u8),
    /// HT: printed as a space (fila never sets tab stops).
    Tab,
    LineFeed,
    /// ESC @
    Init,
    /// ESC t n
    SelectTable(u8),
    /// ESC E n
    Bold(bool),
    /// ESC a n
    Align(u8),
    /// GS ! n
    CharacterSize(u8),
    /// ESC ! n
    PrintMode(u8),
    /// ESC d n
    Feed(u8),
    /// GS V
    Cut(Cut),
    /// DLE EOT n: the printer answers at once with one status byte.
    StatusRequest(u8),
    /// GS ( k, QR fn 180: data to print with the next `QrPrint`.
    QrStore(&'a [u8]),
    /// GS ( k, QR fn 181.
    QrPrint,
    /// A known command that changes nothing a reader sees (underline, QR size, barcode set-up,
    /// drawer pulse, CR ...).
    Other,
    /// Bytes this decoder does not know; a printer may print them as garbage or hang.
    Unknown(&'a [u8]),
}

/// The outcome of parsing the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed<'a> {
    Complete {
        command: Command<'a>,
        len: usize,
    },
    /// More bytes are needed (or the buffer is empty).
    Incomplete,
}

/// A declared length beyond this is treated as garbage rather than waited for: a raster image
/// header can claim gigabytes, and the emulator must not buffer them.
const COMMAND_LEN_MAX: usize = 1 << 20;
/// A NUL-terminated barcode longer than this is garbage.
const BARCODE_LEN_MAX: usize = 255;
/// Problems recorded per printout; after that one more says the rest were dropped.
const PROBLEMS_MAX: usize = 64;

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const DLE: u8 = 0x10;
const FS: u8 = 0x1C;

/// Parses the command at the start of `bytes`.
pub fn parse_command(bytes: &[u8]) -> Parsed<'_> {
    let Some(&first) = bytes.first() else {
        return Parsed::Incomplete;
    };
    let complete = |command, len| Parsed::Complete { command, len };
    match first {
        b'\n' => complete(Command::LineFeed, 1),
        b'\t' => complete(Command::Tab, 1),
        // CR is ignored by printers in their default configuration; FF and CAN act in page
        // mode only.
        b'\r' | 0x0C | 0x18 => complete(Command::Other, 1),
        ESC => parse_esc(bytes),
        GS => parse_gs(bytes),
        DLE => parse_dle(bytes),
        FS => parse_fs(bytes),
        0x00..=0x1F | 0x7F => complete(Command::Unknown(&bytes[..1]), 1),
        _ => complete(Command::Print(first), 1),
    }
}

/// A command of `len` bytes, or `Incomplete` while fewer have arrived.
fn fixed<'a>(bytes: &'a [u8], len: usize, command: impl FnOnce(&'a [u8]) -> Command<'a>) -> Parsed<'a> {
    match bytes.get(..len) {
        Some(whole) => Parsed::Complete { command: command(whole), len },
        None => Parsed::Incomplete,
    }
}

/// A command of a header plus a declared data length.
fn sized(bytes: &[u8], header: usize, data: usize) -> Parsed<'_> {
    if data > COMMAND_LEN_MAX {
        let len = header.min(bytes.len());
        return Parsed::Complete { command: Command::Unknown(&bytes[..len]), len };
    }
    fixed(bytes, header + data, |_| Command::Other)
}

fn parse_esc(bytes: &[u8]) -> Parsed<'_> {
    let Some(&code) = bytes.get(1) else {
        return Parsed::Incomplete;
    };
    let arg = |whole: &[u8]| whole.get(2).copied().unwrap_or(0);
    match code {
        b'@' => fixed(bytes, 2, |_| Command::Init),
        b't' => fixed(bytes, 3, |w| Command::SelectTable(arg(w))),
        b'E' => fixed(bytes, 3, |w| Command::Bold(arg(w) & 1 == 1)),
        b'a' => fixed(bytes, 3, |w| Command::Align(arg(w))),
        b'!' => fixed(bytes, 3, |w| Command::PrintMode(arg(w))),
        b'd' => fixed(bytes, 3, |w| Command::Feed(arg(w))),
        b'2' | b'<' | b'L' | b'S' => fixed(bytes, 2, |_| Command::Other),
        b'-' | b'R' | b'G' | b'M' | b'V' | b'{' | b'3' | b'J' | b' ' | b'U' | b'r' | b'=' | b'e' | b'%' | b'K' => {
            fixed(bytes, 3, |_| Command::Other)
        }
        b'c' | b'$' | b'\\' => fixed(bytes, 4, |_| Command::Other),
        b'p' => fixed(bytes, 5, |_| Command::Other),
        // ESC * m nL nH d: bit image, 1 byte per column in 8-dot modes, 3 in 24-dot modes.
        b'*' => match bytes.get(2..5) {
            Some(&[m, low, high]) => {
                let per_column = if m >= 32 { 3 } else { 1 };
                sized(bytes, 5, usize::from(u16::from_le_bytes([low, high])) * per_column)
            }
            _ => Parsed::Incomplete,
        },
        _ => fixed(bytes, 2, Command::Unknown),
    }
}

fn parse_gs(bytes: &[u8]) -> Parsed<'_> {
    let Some(&code) = bytes.get(1) else {
        return Parsed::Incomplete;
    };
    match code {
        b'!' => fixed(bytes, 3, |w| Command::CharacterSize(w.get(2).copied().unwrap_or(0))),
        b'V' => match bytes.get(2) {
            None => Parsed::Incomplete,
            Some(0 | 48) => fixed(bytes, 3, |_| Command::Cut(Cut::Full)),
            Some(1 | 49) => fixed(bytes, 3, |_| Command::Cut(Cut::Partial)),
            Some(65 | 97 | 103) => fixed(bytes, 4, |_| Command::Cut(Cut::Full)),
            Some(66 | 98 | 104) => fixed(bytes, 4, |_| Command::Cut(Cut::Partial)),
            Some(_) => fixed(bytes, 3, Command::Unknown),
        },
        b'(' => parse_gs_paren(bytes),
        b'k' => match bytes.get(2) {
            None => Parsed::Incomplete,
            // Format A: data up to a NUL.
            Some(0..=6) => {
                let data = bytes.get(3..).unwrap_or_default();
                match data.iter().take(BARCODE_LEN_MAX + 1).position(|&b| b == 0) {
                    Some(end) => Parsed::Complete { command: Command::Other, len: 3 + end + 1 },
                    None if data.len() > BARCODE_LEN_MAX => {
                        Parsed::Complete { command: Command::Unknown(&bytes[..3]), len: 3 }
                    }
                    None => Parsed::Incomplete,
                }
            }
            // Format B: a length byte.
            Some(65..=79) => match bytes.get(3) {
                Some(&n) => sized(bytes, 4, usize::from(n)),
                None => Parsed::Incomplete,
            },
            Some(_) => fixed(bytes, 3, Command::Unknown),
        },
        b'h' | b'w' | b'H' | b'f' | b'B' | b'b' | b'a' | b'r' | b'I' | b'/' => fixed(bytes, 3, |_| Command::Other),
        b'L' | b'W' | b'P' | b'$' | b'\\' => fixed(bytes, 4, |_| Command::Other),
        // GS v 0 m xL xH yL yH d: raster image of x bytes by y dots.
        b'v' => match bytes.get(2..8) {
            Some(&[_, _, x_low, x_high, y_low, y_high]) => {
                let x = usize::from(u16::from_le_bytes([x_low, x_high]));
                let y = usize::from(u16::from_le_bytes([y_low, y_high]));
                sized(bytes, 8, x * y)
            }
            _ => Parsed::Incomplete,
        },
        _ => fixed(bytes, 2, Command::Unknown),
    }
}

/// `GS ( fn pL pH data`: every function of this family declares its length.
fn parse_gs_paren(bytes: &[u8]) -> Parsed<'_> {
    let Some(&[function, low, high]) = bytes.get(2..5) else {
        return Parsed::Incomplete;
    };
    let len = usize::from(u16::from_le_bytes([low, high]));
    let Some(data) = bytes.get(5..5 + len) else {
        return Parsed::Incomplete;
    };
    let command = match (function, data) {
        // cn 49 = QR; fn 80 store (m = 48), fn 81 print.
        (b'k', [0x31, 0x50, 0x30, payload @ ..]) => Command::QrStore(payload),
        (b'k', [0x31, 0x51, ..]) => Command::QrPrint,
        _ => Command::Other,
    };
    Parsed::Complete { command, len: 5 + len }
}

fn parse_dle(bytes: &[u8]) -> Parsed<'_> {
    match bytes.get(1) {
        None => Parsed::Incomplete,
        Some(0x04) => match bytes.get(2) {
            None => Parsed::Incomplete,
            // DLE EOT 7 and 8 take one more byte.
            Some(7 | 8) => fixed(bytes, 4, |_| Command::Other),
            Some(&n) => Parsed::Complete { command: Command::StatusRequest(n), len: 3 },
        },
        Some(0x05) => fixed(bytes, 3, |_| Command::Other),
        Some(0x14) => fixed(bytes, 5, |_| Command::Other),
        Some(_) => fixed(bytes, 1, Command::Unknown),
    }
}

fn parse_fs(bytes: &[u8]) -> Parsed<'_> {
    match bytes.get(1) {
        None => Parsed::Incomplete,
        Some(b'&' | b'.') => fixed(bytes, 2, |_| Command::Other),
        Some(b'!' | b'-' | b'W' | b'C') => fixed(bytes, 3, |_| Command::Other),
        Some(b'p' | b'S') => fixed(bytes, 4, |_| Command::Other),
        Some(_) => fixed(bytes, 2, Command::Unknown),
    }
}

/// Decodes a whole print job.
pub fn decode(bytes: &[u8], profile: &PrinterProfile) -> Printout {
    let mut decoder = Decoder::new(profile);
    let mut rest = bytes;
    while !rest.is_empty() {
        match parse_command(rest) {
            Parsed::Complete { command, len } => {
                decoder.apply(command, len);
                rest = rest.get(len..).unwrap_or_default();
            }
            Parsed::Incomplete => {
                decoder.problem(format!("the job ends inside a command: {}", hex_prefix(rest)));
                break;
            }
        }
    }
    decoder.finish()
}

/// The printer's state while decoding.
#[derive(Debug, Clone)]
struct Mode {
    bold: bool,
    width: u8,
    height: u8,
    align: Align,
    page: CodePage,
    /// `ESC t` came after the last `ESC @`.
    page_selected: bool,
}

impl Mode {
    fn power_on() -> Self {
        Mode { bold: false, width: 1, height: 1, align: Align::Left, page: CodePage::Pc437, page_selected: false }
    }
}

/// The line being filled.
#[derive(Debug, Clone, Default)]
struct Line {
    text: String,
    cells: usize,
    bold: bool,
    width: u8,
    height: u8,
    align: Align,
}

/// Applies commands one at a time, as a printer would.
#[derive(Debug, Clone)]
pub struct Decoder {
    profile: PrinterProfile,
    mode: Mode,
    line: Line,
    printout: Printout,
    /// Data stored by the last QR fn 180.
    qr_stored: Option<String>,
    /// Bytes applied so far, to place problems.
    offset: usize,
    warned_default_table: bool,
}

impl Decoder {
    pub fn new(profile: &PrinterProfile) -> Self {
        Decoder {
            profile: profile.clone(),
            mode: Mode::power_on(),
            line: Line::default(),
            printout: Printout::default(),
            qr_stored: None,
            offset: 0,
            warned_default_table: false,
        }
    }

    /// Applies one parsed command that took `len` bytes.
    pub fn apply(&mut self, command: Command<'_>, len: usize) {
        match command {
            Command::Print(byte) => self.print_byte(byte),
            Command::Tab => self.print_char(' '),
            Command::LineFeed => self.end_line(),
            Command::Init => {
                if !self.line.text.is_empty() {
                    let lost = std::mem::take(&mut self.line).text;
                    self.problem(format!("ESC @ discarded text not yet printed: {lost:?}"));
                }
                self.mode = Mode::power_on();
                self.warned_default_table = false;
            }
            Command::SelectTable(table) => {
                let page = if self.profile.table == Some(table) {
                    Some(self.profile.code_page)
                } else {
                    CodePage::from_table(table)
                };
                self.mode.page = match page {
                    Some(page) => page,
                    None => {
                        let guess = self.profile.code_page;
                        self.problem(format!("ESC t {table}: unknown table, decoded as {}", guess.name()));
                        guess
                    }
                };
                self.mode.page_selected = true;
            }
            Command::Bold(on) => self.mode.bold = on,
            Command::Align(n) => match n {
                0 | 48 => self.mode.align = Align::Left,
                1 | 49 => self.mode.align = Align::Centre,
                2 | 50 => self.mode.align = Align::Right,
                _ => self.problem(format!("ESC a {n}: not an alignment")),
            },
            Command::CharacterSize(n) => {
                self.mode.width = (n >> 4 & 0x07) + 1;
                self.mode.height = (n & 0x07) + 1;
            }
            Command::PrintMode(n) => {
                self.mode.bold = n & 0x08 != 0;
                self.mode.height = if n & 0x10 != 0 { 2 } else { 1 };
                self.mode.width = if n & 0x20 != 0 { 2 } else { 1 };
            }
            Command::Feed(0) => {
                if !self.line.text.is_empty() {
                    self.end_line();
                }
            }
            Command::Feed(n) => {
                for _ in 0..n {
                    self.end_line();
                }
            }
            Command::Cut(cut) => {
                if !self.line.text.is_empty() {
                    self.end_line();
                }
                self.printout.order.push(Printed::Cut(self.printout.cuts.len()));
                self.printout.cuts.push(cut);
            }
            Command::QrStore(data) => self.qr_stored = Some(String::from_utf8_lossy(data).into_owned()),
            Command::QrPrint => {
                if !self.line.text.is_empty() {
                    self.end_line();
                }
                match self.qr_stored.clone() {
                    Some(data) => {
                        self.printout.order.push(Printed::Qr(self.printout.qr_codes.len()));
                        self.printout.qr_codes.push(data);
                    }
                    None => self.problem("QR print without stored data".to_owned()),
                }
            }
            Command::StatusRequest(_) | Command::Other => {}
            Command::Unknown(bytes) => self.problem(format!("unknown command {}", hex_prefix(bytes))),
        }
        self.offset = self.offset.saturating_add(len);
    }

    /// The printout so far, leaving the decoder ready for the next ticket (modes are kept, as
    /// on paper: a cut changes no setting).
    pub fn take(&mut self) -> Printout {
        self.warned_default_table = false;
        std::mem::take(&mut self.printout)
    }

    /// Whether anything but blank lines has been printed since the last `take`.
    pub fn has_printed(&self) -> bool {
        !self.printout.is_blank() || !self.line.text.trim().is_empty()
    }

    /// The printout, with a line still being filled printed as the printer would on its next
    /// feed.
    pub fn finish(mut self) -> Printout {
        if !self.line.text.is_empty() {
            self.end_line();
        }
        self.printout
    }

    fn problem(&mut self, what: String) {
        let problems = &mut self.printout.problems;
        if problems.len() < PROBLEMS_MAX {
            problems.push(format!("at byte {}: {what}", self.offset));
        } else if problems.len() == PROBLEMS_MAX {
            problems.push("further problems omitted".to_owned());
        }
    }

    fn print_byte(&mut self, byte: u8) {
        if byte >= 0x80 && !self.mode.page_selected && !self.warned_default_table {
            self.warned_default_table = true;
            self.problem("text printed with the printer's default table (no ESC t since ESC @)".to_owned());
        }
        let c = self.mode.page.decode_byte(byte);
        self.print_char(c);
    }

    fn print_char(&mut self, c: char) {
        let width = usize::from(self.mode.width);
        // A full line is printed and the character starts the next one, as printers do.
        if self.line.cells > 0 && self.line.cells + width > self.profile_columns() {
            self.end_line();
        }
        if self.line.text.is_empty() {
            self.line.align = self.mode.align;
        }
        self.line.text.push(c);
        self.line.cells += width;
        self.line.bold |= self.mode.bold;
        self.line.width = self.line.width.max(self.mode.width);
        self.line.height = self.line.height.max(self.mode.height);
    }

    fn profile_columns(&self) -> usize {
        self.profile.line_columns()
    }

    fn end_line(&mut self) {
        let line = std::mem::take(&mut self.line);
        let printed = if line.text.is_empty() {
            PrintedLine { text: String::new(), bold: false, width: 1, height: 1, align: self.mode.align }
        } else {
            PrintedLine { text: line.text, bold: line.bold, width: line.width, height: line.height, align: line.align }
        };
        self.printout.order.push(Printed::Line(self.printout.lines.len()));
        self.printout.lines.push(printed);
    }
}

/// Up to 16 bytes in hex, for problem messages.
fn hex_prefix(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02X}")).collect();
    let more = if bytes.len() > 16 { " ..." } else { "" };
    format!("{}{more}", shown.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8], expected: Parsed<'_>) {
        assert_eq!(parse_command(bytes), expected, "parsing {}", hex_prefix(bytes));
    }

    fn complete(command: Command<'_>, len: usize) -> Parsed<'_> {
        Parsed::Complete { command, len }
    }

    #[test]
    fn commands_fila_prints_with() {
        check(b"\x1B\x40rest", complete(Command::Init, 2));
        check(b"\x1B\x74\x02", complete(Command::SelectTable(2), 3));
        check(b"\x1B\x45\x01", complete(Command::Bold(true), 3));
        check(b"\x1B\x61\x01", complete(Command::Align(1), 3));
        check(b"\x1D\x21\x33", complete(Command::CharacterSize(0x33), 3));
        check(b"\x1B\x64\x03", complete(Command::Feed(3), 3));
        check(b"\x1D\x56\x42\x00", complete(Command::Cut(Cut::Partial), 4));
        check(b"\x1D\x56\x41\x00", complete(Command::Cut(Cut::Full), 4));
        check(b"\x1D\x56\x01", complete(Command::Cut(Cut::Partial), 3));
        check(b"\x1D\x28\x6B\x04\x00\x31\x50\x30a", complete(Command::QrStore(b"a"), 9));
        check(b"\x1D\x28\x6B\x03\x00\x31\x51\x30", complete(Command::QrPrint, 8));
        check(b"\x1D\x28\x6B\x03\x00\x31\x43\x06", complete(Command::Other, 8));
        check(b"\x10\x04\x02", complete(Command::StatusRequest(2), 3));
        check(b"A", complete(Command::Print(b'A'), 1));
        check(b"\xA2", complete(Command::Print(0xA2), 1));
    }

    #[test]
    fn incomplete_commands_wait_for_more() {
        for bytes in [&b""[..], b"\x1B", b"\x1B\x74", b"\x1D\x56\x42", b"\x1D\x28\x6B\x05\x00\x31\x50", b"\x10\x04"] {
            check(bytes, Parsed::Incomplete);
        }
    }

    #[test]
    fn absurd_lengths_are_garbage_not_a_wait() {
        check(b"\x1D\x76\x30\x00\xFF\xFF\xFF\xFF", complete(Command::Unknown(b"\x1D\x76\x30\x00\xFF\xFF\xFF\xFF"), 8));
        check(b"\x1B\x7A", complete(Command::Unknown(b"\x1B\x7A"), 2));
        check(b"\x07", complete(Command::Unknown(b"\x07"), 1));
    }
}
