//! Ticket layout: turns a [`TicketPrint`] into the ESC/POS bytes a printer prints.
//!
//! Pure and deterministic, so tickets are checked byte for byte against goldens. Every line is
//! centred, wrapped to the printer's columns (divided by the character width in use), and
//! encoded with the profile's code page, whose `ESC t` is re-sent after every `ESC @` because
//! initialising resets the printer to its default table (usually PC437).

use escpos::utils::{
    ESC_CHARACTER_PAGE_CODE, ESC_HARDWARE_INIT, ESC_PAPER_FEED, ESC_TEXT_EMPHASIS_OFF, ESC_TEXT_EMPHASIS_ON,
    ESC_TEXT_JUSTIFY_CENTER, GS_TEXT_SIZE_SELECT, LF,
};
use serde::{Deserialize, Serialize};

use super::codepage::CodePage;
use crate::Lang;

/// What the edge knows about one printer model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrinterProfile {
    pub code_page: CodePage,
    /// The `ESC t` number to send instead of Epson's for `code_page`: clones number their
    /// tables differently (some have WPC1252 at 71).
    pub table: Option<u8>,
    /// Characters per line in the normal font: 48 on 80 mm paper, 32 on 58 mm.
    pub columns: u8,
    /// The printer has QR firmware (`GS ( k`); without it the tracking URL is printed as text.
    pub qr: bool,
    /// The printer has a cutter; without it the ticket is fed out to be torn off.
    pub cut: bool,
}

impl Default for PrinterProfile {
    fn default() -> Self {
        PrinterProfile { code_page: CodePage::Pc850, table: None, columns: 48, qr: true, cut: true }
    }
}

impl PrinterProfile {
    /// The `ESC t` number selecting `code_page` on this printer.
    pub fn table_number(&self) -> u8 {
        self.table.unwrap_or(self.code_page.table())
    }

    /// Characters per line, never zero, so that a misconfigured profile still prints.
    pub(crate) fn line_columns(&self) -> usize {
        usize::from(self.columns.max(MIN_COLUMNS))
    }
}

/// Fewer columns than this is a configuration mistake; print as if there were this many.
const MIN_COLUMNS: u8 = 16;

/// One ticket as the citizen takes it from the kiosk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPrint {
    pub office: String,
    /// The number called out, e.g. "A-023".
    pub number: String,
    pub service: String,
    /// Already formatted in the office's time zone, e.g. "29/11/2026 10:42".
    pub issued_at: String,
    /// People waiting before this ticket.
    pub ahead: u32,
    /// The estimated wait, lowest to highest minutes.
    pub wait_minutes: Option<(u32, u32)>,
    pub tracking_url: Option<String>,
    /// The preferential category (e.g. "Adulto mayor"), printed when set.
    pub preferential: Option<String>,
    pub lang: Lang,
    /// The waiting room was full: the citizen waits outside until told to come.
    pub wait_outside: bool,
}

/// QR module size in dots: 6 scans well from a phone on 80 and 58 mm paper.
const QR_MODULE_SIZE: u8 = 6;
/// Most bytes a QR symbol holds at error correction M (version 40); a longer URL is printed as
/// text.
const QR_DATA_MAX: usize = 2331;
/// Lines fed before a cut: from the print head past the cutter blade.
const FEED_BEFORE_CUT: u8 = 3;
/// Lines fed when there is no cutter, so the ticket can be torn off whole.
const FEED_TO_TEAR: u8 = 5;

/// `GS ( k` QR functions (cn = 49), from notes §1.3. Written out because the `escpos` constants
/// for them sit behind its `codes_2d` feature, which this crate does not enable.
const QR_MODEL_2: [u8; 9] = [0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00];
const QR_SIZE: [u8; 7] = [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43];
const QR_ERROR_CORRECTION_M: [u8; 8] = [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31];
const QR_STORE: [u8; 3] = [0x1D, 0x28, 0x6B];
const QR_PRINT: [u8; 8] = [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30];
/// Partial cut after feeding to the cutter. Not the `escpos` crate's `GS_PAPER_CUT_PARTIAL`,
/// which is `GS V A 1`: a full cut.
pub const PARTIAL_CUT: [u8; 4] = [0x1D, 0x56, 0x42, 0x00];

struct Labels {
    your_number: &'static str,
    preferential: &'static str,
    ahead: &'static str,
    wait: &'static str,
    follow: &'static str,
    /// Under the QR (or the link): the same page opens the survey once the visit is over.
    rate_qr: &'static str,
    rate_link: &'static str,
    keep: &'static str,
    questions: &'static str,
    wait_outside: &'static str,
    called_back: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::Es => Labels {
            your_number: "Su número",
            preferential: "Atención preferencial",
            ahead: "Personas delante",
            wait: "Espera estimada",
            follow: "Siga su turno en:",
            rate_qr: "Al terminar, escanéelo para opinar",
            rate_link: "Al terminar, ábralo para opinar",
            keep: "Conserve este ticket",
            questions: "¿Dudas? ¡Consúltenos!",
            wait_outside: "SALA LLENA: espere afuera",
            called_back: "Le avisaremos cuando venir",
        },
        Lang::En => Labels {
            your_number: "Your number",
            preferential: "Priority service",
            ahead: "People ahead",
            wait: "Estimated wait",
            follow: "Follow your turn at:",
            rate_qr: "After your visit, scan it to rate us",
            rate_link: "After your visit, open it to rate us",
            keep: "Keep this ticket",
            questions: "Questions? Just ask us!",
            wait_outside: "ROOM FULL: please wait outside",
            called_back: "We will tell you when to come in",
        },
    }
}

/// The bytes of one ticket.
pub fn encode_ticket(ticket: &TicketPrint, profile: &PrinterProfile) -> Vec<u8> {
    let labels = labels(ticket.lang);
    let mut out = Layout::start(profile);

    out.bold(true);
    out.text(&ticket.office);
    out.bold(false);
    out.blank();
    out.text(labels.your_number);
    out.big(&ticket.number);
    out.bold(true);
    out.text(&ticket.service);
    out.bold(false);
    if let Some(category) = &ticket.preferential {
        out.text(&format!("{}: {category}", labels.preferential));
    }
    out.blank();
    out.text(&ticket.issued_at);
    out.text(&format!("{}: {}", labels.ahead, ticket.ahead));
    if let Some((low, high)) = ticket.wait_minutes {
        out.text(&format!("{}: {low}-{high} min", labels.wait));
    }
    if ticket.wait_outside {
        out.blank();
        out.bold(true);
        out.text(labels.wait_outside);
        out.bold(false);
        out.text(labels.called_back);
    }
    if let Some(url) = &ticket.tracking_url {
        out.blank();
        out.text(labels.follow);
        out.qr_or_text(url);
        out.text(if profile.qr { labels.rate_qr } else { labels.rate_link });
    }
    out.blank();
    out.text(labels.keep);
    out.text(labels.questions);
    out.finish()
}

/// A code-page test print: staff print it when installing a printer to see whether the
/// configured table shows every Spanish character, and how many columns fit.
pub fn encode_test_page(profile: &PrinterProfile) -> Vec<u8> {
    let mut out = Layout::start(profile);
    out.bold(true);
    out.text("Prueba de impresora / Printer test");
    out.bold(false);
    out.text(&format!("{} (ESC t {})", profile.code_page.name(), profile.table_number()));
    out.blank();
    out.text("á é í ó ú ñ Ñ ü ¿ ¡");
    out.text("Á É Í Ó Ú");
    out.text("Atención, Peñalolén, ¿Dudas? ¡Sí!");
    out.blank();
    // A ruler exactly as wide as the configured columns: it wraps if `columns` is too large.
    let ruler: String = (1..=profile.line_columns()).map(|i| char::from(b'0' + (i % 10) as u8)).collect();
    out.raw_line(&ruler);
    out.big("A-023");
    if profile.qr {
        out.qr_or_text("https://fila.example/t/TEST");
    }
    out.finish()
}

/// Builds a ticket line by line, tracking the character width for wrapping.
struct Layout<'a> {
    profile: &'a PrinterProfile,
    bytes: Vec<u8>,
}

impl<'a> Layout<'a> {
    fn start(profile: &'a PrinterProfile) -> Self {
        let mut bytes = Vec::with_capacity(512);
        bytes.extend_from_slice(ESC_HARDWARE_INIT);
        bytes.extend_from_slice(ESC_CHARACTER_PAGE_CODE);
        bytes.push(profile.table_number());
        bytes.extend_from_slice(ESC_TEXT_JUSTIFY_CENTER);
        Layout { profile, bytes }
    }

    fn bold(&mut self, on: bool) {
        self.bytes.extend_from_slice(if on { ESC_TEXT_EMPHASIS_ON } else { ESC_TEXT_EMPHASIS_OFF });
    }

    fn size(&mut self, multiple: u8) {
        let n = multiple.saturating_sub(1).min(7);
        self.bytes.extend_from_slice(GS_TEXT_SIZE_SELECT);
        self.bytes.push(n << 4 | n);
    }

    fn blank(&mut self) {
        self.bytes.push(LF);
    }

    /// Text wrapped at word boundaries to the normal-size line.
    fn text(&mut self, text: &str) {
        for line in wrap(text, self.profile.line_columns()) {
            self.raw_line(&line);
        }
    }

    fn raw_line(&mut self, line: &str) {
        self.bytes.extend(self.profile.code_page.encode(line));
        self.bytes.push(LF);
    }

    /// The ticket number, as large as fits on one line (4x on 80 and 58 mm for "A-023").
    fn big(&mut self, text: &str) {
        let chars = text.chars().count().max(1);
        let columns = self.profile.line_columns();
        let multiple = (1..=4_u8).rev().find(|&m| chars * usize::from(m) <= columns).unwrap_or(1);
        self.size(multiple);
        for line in wrap(text, columns / usize::from(multiple)) {
            self.raw_line(&line);
        }
        self.size(1);
    }

    fn qr_or_text(&mut self, data: &str) {
        if !self.profile.qr || data.is_empty() || data.len() > QR_DATA_MAX {
            // URLs have no spaces: hard-wrap at the column so it stays complete.
            for line in wrap(data, self.profile.line_columns()) {
                self.raw_line(&line);
            }
            return;
        }
        self.bytes.extend_from_slice(&QR_MODEL_2);
        self.bytes.extend_from_slice(&QR_SIZE);
        self.bytes.push(QR_MODULE_SIZE);
        self.bytes.extend_from_slice(&QR_ERROR_CORRECTION_M);
        // The length covers cn, fn and m (3 bytes) besides the data; QR_DATA_MAX keeps it in u16.
        let [low, high] = u16::try_from(data.len() + 3).unwrap_or(u16::MAX).to_le_bytes();
        self.bytes.extend_from_slice(&QR_STORE);
        self.bytes.extend_from_slice(&[low, high, 0x31, 0x50, 0x30]);
        // The QR carries the URL's UTF-8 bytes, not the code page: phones decode UTF-8.
        self.bytes.extend_from_slice(data.as_bytes());
        // The printer returns to the start of a line after the symbol; the caller's next blank
        // line is its quiet zone.
        self.bytes.extend_from_slice(&QR_PRINT);
    }

    fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(ESC_PAPER_FEED);
        if self.profile.cut {
            self.bytes.push(FEED_BEFORE_CUT);
            self.bytes.extend_from_slice(&PARTIAL_CUT);
        } else {
            self.bytes.push(FEED_TO_TEAR);
        }
        self.bytes
    }
}

/// Splits `text` into lines of at most `columns` characters, breaking at spaces where it can and
/// inside a word longer than a line where it must. Never returns an empty list for empty text
/// (an empty line is printed) and never a line wider than `columns`.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    let columns = columns.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        if line_len > 0 && line_len + 1 + word.len() <= columns {
            line.push(' ');
            line.extend(&word);
            line_len += 1 + word.len();
            continue;
        }
        if line_len > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > columns {
            let rest = word.split_off(columns);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        line_len = word.len();
        line = word.into_iter().collect();
    }
    if line_len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    fn check(text: &str, columns: usize, expected: &[&str]) {
        assert_eq!(wrap(text, columns), expected, "wrapping {text:?} at {columns}");
    }

    #[test]
    fn short_text_stays_on_one_line() {
        check("Atención al público", 32, &["Atención al público"]);
    }

    #[test]
    fn long_text_breaks_between_words() {
        check("Oficina de Atención Ciudadana Peñalolén", 16, &["Oficina de", "Atención", "Ciudadana", "Peñalolén"]);
    }

    #[test]
    fn a_word_longer_than_the_line_is_split() {
        check("https://fila.example/t/abcdef", 10, &["https://fi", "la.example", "/t/abcdef"]);
    }

    #[test]
    fn empty_text_is_one_empty_line() {
        check("", 10, &[""]);
        check("   ", 10, &[""]);
    }
}
