//! The character tables a ticket printer prints with, and the mapping between them and Unicode.
//!
//! ESC/POS printers take one byte per character: 0x20..0x7E is ASCII everywhere, and the upper
//! half (0x80..0xFF) depends on the table chosen with `ESC t n`. The four tables here cover
//! Spanish; their upper halves are written out below so that both directions (encoding a ticket,
//! decoding what a printer would print) use the same data. `tests/escpos_codepage.rs` checks them
//! against the `escpos` crate's tables and against the byte values verified in the device notes.

use serde::{Deserialize, Serialize};

/// A character table of the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodePage {
    /// The original IBM PC table and the power-on default of most printers: lower-case accents,
    /// ñ, ¿ and ¡ but no Á Í Ó Ú.
    Pc437,
    /// Multilingual Latin 1: every Spanish character; selected with `ESC t 2` on Epson and clones.
    #[default]
    Pc850,
    /// PC850 with € in place of the dotless ı.
    Pc858,
    /// Windows Latin 1, for printers whose PC850 is missing or broken.
    Wpc1252,
}

/// Shown for a byte the table leaves undefined.
const UNDEFINED: char = '\u{FFFD}';

/// Every code page, for tests and configuration screens.
pub const ALL_CODE_PAGES: [CodePage; 4] = [CodePage::Pc437, CodePage::Pc850, CodePage::Pc858, CodePage::Wpc1252];

#[rustfmt::skip]
const PC437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å',
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ',
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»',
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐',
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧',
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀',
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩',
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{A0}',
];

#[rustfmt::skip]
const PC850_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å',
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', 'ø', '£', 'Ø', '×', 'ƒ',
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '®', '¬', '½', '¼', '¡', '«', '»',
    '░', '▒', '▓', '│', '┤', 'Á', 'Â', 'À', '©', '╣', '║', '╗', '╝', '¢', '¥', '┐',
    '└', '┴', '┬', '├', '─', '┼', 'ã', 'Ã', '╚', '╔', '╩', '╦', '╠', '═', '╬', '¤',
    'ð', 'Ð', 'Ê', 'Ë', 'È', 'ı', 'Í', 'Î', 'Ï', '┘', '┌', '█', '▄', '¦', 'Ì', '▀',
    'Ó', 'ß', 'Ô', 'Ò', 'õ', 'Õ', 'µ', 'þ', 'Þ', 'Ú', 'Û', 'Ù', 'ý', 'Ý', '¯', '´',
    '\u{AD}', '±', '‗', '¾', '¶', '§', '÷', '¸', '°', '¨', '·', '¹', '³', '²', '■', '\u{A0}',
];

/// The one byte where PC858 differs from PC850.
const PC858_EURO: u8 = 0xD5;

/// 0x80..0x9F of Windows-1252; 0xA0..0xFF equal Unicode U+00A0..U+00FF.
#[rustfmt::skip]
const WPC1252_C1: [char; 32] = [
    '€', UNDEFINED, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', UNDEFINED, 'Ž', UNDEFINED,
    UNDEFINED, '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '•', '–', '—', '˜', '™', 'š', '›', 'œ', UNDEFINED, 'ž', 'Ÿ',
];

impl CodePage {
    /// The Epson `ESC t n` number of this table. Clones may number tables differently: a printer
    /// profile can override it (`PrinterProfile::table`).
    pub fn table(self) -> u8 {
        match self {
            CodePage::Pc437 => 0,
            CodePage::Pc850 => 2,
            CodePage::Pc858 => 19,
            CodePage::Wpc1252 => 16,
        }
    }

    /// The code page Epson numbers `table`, if it is one of ours.
    pub fn from_table(table: u8) -> Option<CodePage> {
        ALL_CODE_PAGES.into_iter().find(|page| page.table() == table)
    }

    /// A short name for logs and test prints.
    pub fn name(self) -> &'static str {
        match self {
            CodePage::Pc437 => "PC437",
            CodePage::Pc850 => "PC850",
            CodePage::Pc858 => "PC858",
            CodePage::Wpc1252 => "WPC1252",
        }
    }

    /// Encodes text to print. A character the table lacks becomes `?`, and so does every control
    /// character: text comes from configuration and citizens, and an ESC or GS inside it would
    /// otherwise be obeyed by the printer as a command.
    pub fn encode(self, text: &str) -> Vec<u8> {
        text.chars().map(|c| self.encode_char(c).unwrap_or(b'?')).collect()
    }

    /// The byte printing `c`, if this table has it.
    pub fn encode_char(self, c: char) -> Option<u8> {
        if (' '..='~').contains(&c) {
            return u8::try_from(c).ok();
        }
        if c == UNDEFINED {
            return None;
        }
        (0x80..=0xFF_u8).find(|&b| self.decode_byte(b) == c)
    }

    /// The character printed for byte `b`. Control bytes (below 0x20, and 0x7F) are returned as
    /// they are; the decoder deals with them before asking. A byte the table leaves undefined
    /// gives U+FFFD.
    pub fn decode_byte(self, b: u8) -> char {
        let Some(high) = b.checked_sub(0x80) else {
            return char::from(b);
        };
        let high = usize::from(high);
        match self {
            CodePage::Pc437 => PC437_HIGH[high],
            CodePage::Pc850 => PC850_HIGH[high],
            CodePage::Pc858 if b == PC858_EURO => '€',
            CodePage::Pc858 => PC850_HIGH[high],
            CodePage::Wpc1252 => match WPC1252_C1.get(high) {
                Some(&c) => c,
                None => char::from(b),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(page: CodePage, text: &str, bytes: &[u8]) {
        assert_eq!(page.encode(text), bytes, "{page:?} encoding {text:?}");
        let back: String = bytes.iter().map(|&b| page.decode_byte(b)).collect();
        assert_eq!(back, text, "{page:?} decoding {bytes:02X?}");
    }

    #[test]
    fn spanish_letters_have_the_bytes_the_notes_verified() {
        let text = "áéíóúñÑü¿¡ÁÉÍÓÚ";
        check(
            CodePage::Pc850,
            text,
            &[0xA0, 0x82, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0x81, 0xA8, 0xAD, 0xB5, 0x90, 0xD6, 0xE0, 0xE9],
        );
        check(
            CodePage::Pc858,
            text,
            &[0xA0, 0x82, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0x81, 0xA8, 0xAD, 0xB5, 0x90, 0xD6, 0xE0, 0xE9],
        );
        check(
            CodePage::Wpc1252,
            text,
            &[0xE1, 0xE9, 0xED, 0xF3, 0xFA, 0xF1, 0xD1, 0xFC, 0xBF, 0xA1, 0xC1, 0xC9, 0xCD, 0xD3, 0xDA],
        );
        check(CodePage::Pc437, "áéíóúñÑü¿¡É", &[0xA0, 0x82, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0x81, 0xA8, 0xAD, 0x90]);
    }

    #[test]
    fn euro_is_only_in_pc858_and_wpc1252() {
        check(CodePage::Pc858, "€", &[0xD5]);
        check(CodePage::Wpc1252, "€", &[0x80]);
        assert_eq!(CodePage::Pc850.encode("€"), b"?");
        assert_eq!(CodePage::Pc437.encode("€"), b"?");
    }

    #[test]
    fn pc437_cannot_print_capital_accents() {
        assert_eq!(CodePage::Pc437.encode("ÁÍÓÚ"), b"????");
    }

    #[test]
    fn control_characters_never_reach_the_printer() {
        assert_eq!(CodePage::Pc850.encode("a\x1b@b\nc\u{7f}"), b"a?@b?c?");
    }

    #[test]
    fn table_numbers_are_epsons() {
        let tables: Vec<u8> = ALL_CODE_PAGES.iter().map(|page| page.table()).collect();
        assert_eq!(tables, [0, 2, 19, 16]);
        assert_eq!(CodePage::from_table(19), Some(CodePage::Pc858));
        assert_eq!(CodePage::from_table(71), None);
    }

    #[test]
    fn every_defined_byte_round_trips() {
        for page in ALL_CODE_PAGES {
            for b in 0x20..=0xFF_u8 {
                let c = page.decode_byte(b);
                if b == 0x7F || c == UNDEFINED {
                    continue;
                }
                assert_eq!(page.encode_char(c), Some(b), "{page:?} byte {b:#04X} = {c:?}");
            }
        }
    }
}
