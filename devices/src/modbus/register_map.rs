//! Where a display model keeps its text, and how a call becomes register values.
//!
//! Pure: no I/O. The installer describes each display model in the edge's TOML; `frame` turns
//! what the counter should show into the Modbus writes that make the display show it, and
//! `decode_text` goes back from registers to text (the emulator and the tests read displays
//! through it). The invariant the tests rely on: `decode_text(map, registers after frame(c)) ==
//! text(c)`.

use serde::{Deserialize, Serialize};

/// The most characters a display may have. 64 characters are 32 registers, well inside the 123
/// registers one Modbus write (FC16) may carry; no counter display comes near it.
pub const TEXT_CHARS_MAX: u16 = 64;

/// A display model's registers, from the installer's configuration.
///
/// ```toml
/// text_register = 0x0080
/// text_chars = 6
/// encoding = "seven_segment"
/// blink_register = 0x0005
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterMap {
    /// The first holding register of the text.
    pub text_register: u16,
    /// The characters the display has (two per register).
    pub text_chars: u16,
    #[serde(default)]
    pub encoding: TextEncoding,
    /// Written with FC06: the blink count of a call (0 stops blinking), if the model blinks.
    #[serde(default)]
    pub blink_register: Option<u16>,
    /// Written with FC06 by [`RegisterMap::brightness_write`], if the model dims.
    #[serde(default)]
    pub brightness_register: Option<u16>,
}

/// How text is stored in the display's registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TextEncoding {
    /// Two ASCII characters per register, high byte first.
    #[default]
    Ascii,
    /// Raw segment bytes (bit 0 = segment a … bit 6 = g, bit 7 = decimal point), two per
    /// register, high byte first, like the LED-485 register 0x0080.
    SevenSegment,
    /// A numeric-only display: the ticket's digits as one number at `text_register` (FC06), like
    /// the LED-485 register 0x0000. Blank is 0, so ticket number 0 cannot be shown.
    Number,
}

/// What a counter's display should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisplayContent {
    /// A ticket called to this counter: `ticket` as printed ("A-023"), `counter` its label ("4"),
    /// `blink` how many times the display should blink (0 = steady).
    Call { ticket: String, counter: String, blink: u8 },
    /// The counter is closed: nothing shown.
    Blank,
}

/// One Modbus write to a display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterWrite {
    /// FC06, write single register.
    Single { register: u16, value: u16 },
    /// FC16, write multiple registers.
    Multiple { register: u16, values: Vec<u16> },
}

impl RegisterMap {
    /// Checks the map makes sense, reporting every problem at once.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if self.text_chars == 0 {
            problems.push("text_chars is 0: the display would show nothing".to_owned());
        }
        if self.text_chars > TEXT_CHARS_MAX {
            problems
                .push(format!("text_chars is {}, more than the {TEXT_CHARS_MAX} a display may have", self.text_chars));
        }
        let text_end = u32::from(self.text_register) + u32::from(self.text_registers());
        if text_end > 0x1_0000 {
            problems.push(format!(
                "the text registers run past 0xFFFF (text_register 0x{:04X}, {} registers)",
                self.text_register,
                self.text_registers()
            ));
        }
        let in_text = |register: u16| {
            self.text_chars > 0
                && u32::from(register) >= u32::from(self.text_register)
                && u32::from(register) < text_end
        };
        if let Some(blink) = self.blink_register.filter(|register| in_text(*register)) {
            problems.push(format!("blink_register 0x{blink:04X} overlaps the text registers"));
        }
        if let Some(brightness) = self.brightness_register.filter(|register| in_text(*register)) {
            problems.push(format!("brightness_register 0x{brightness:04X} overlaps the text registers"));
        }
        if let (Some(blink), Some(brightness)) = (self.blink_register, self.brightness_register) {
            if blink == brightness {
                problems.push(format!("blink_register and brightness_register are both 0x{blink:04X}"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// How many registers the text occupies.
    pub fn text_registers(&self) -> u16 {
        match self.encoding {
            TextEncoding::Number => 1,
            TextEncoding::Ascii | TextEncoding::SevenSegment => self.text_chars.div_ceil(2),
        }
    }

    /// The writes that make the display show `content`: the text first, then the blink count, so
    /// a display that starts blinking on the blink write blinks the new text.
    pub fn frame(&self, content: &DisplayContent) -> Vec<RegisterWrite> {
        let text = self.text(content);
        let mut writes = Vec::with_capacity(2);
        match self.encoding {
            TextEncoding::Number => {
                writes.push(RegisterWrite::Single { register: self.text_register, value: self.number(content) })
            }
            TextEncoding::Ascii | TextEncoding::SevenSegment => {
                let bytes: Vec<u8> = text.chars().map(|c| self.encode_char(c)).collect();
                let values = bytes
                    .chunks(2)
                    .map(|pair| {
                        let low = pair.get(1).copied().unwrap_or_else(|| self.encode_char(' '));
                        u16::from_be_bytes([pair[0], low])
                    })
                    .collect();
                writes.push(RegisterWrite::Multiple { register: self.text_register, values });
            }
        }
        if let Some(register) = self.blink_register {
            let blink = match content {
                DisplayContent::Call { blink, .. } => *blink,
                DisplayContent::Blank => 0,
            };
            writes.push(RegisterWrite::Single { register, value: u16::from(blink) });
        }
        writes
    }

    /// What the display's digits show for `content`, exactly `text_chars` characters wide.
    ///
    /// The ticket is on the left and the counter right-aligned ("A023 4" on six characters). When
    /// both do not fit with a space between them, the ticket's dash goes first, then the counter
    /// (the display hangs over its counter, so the ticket matters more), then the ticket's trailing
    /// characters (the number at its end is what tells tickets apart). A seven-segment display shows
    /// letters as it can ('S' looks like '5'); a number-only display shows the ticket's digits.
    pub fn text(&self, content: &DisplayContent) -> String {
        let width = usize::from(self.text_chars);
        match (self.encoding, content) {
            (_, DisplayContent::Blank) => " ".repeat(width),
            (TextEncoding::Number, DisplayContent::Call { .. }) => number_text(self.number(content), width),
            (TextEncoding::Ascii | TextEncoding::SevenSegment, DisplayContent::Call { ticket, counter, .. }) => {
                let shown = |text: &str| -> Vec<char> {
                    text.trim().chars().map(|c| self.decode_byte(self.encode_char(c))).collect()
                };
                layout(&shown(ticket), &shown(counter), width)
            }
        }
    }

    /// An FC06 write setting the brightness, if the model has a brightness register.
    pub fn brightness_write(&self, level: u16) -> Option<RegisterWrite> {
        self.brightness_register.map(|register| RegisterWrite::Single { register, value: level })
    }

    /// The number a number-only display shows: the ticket's trailing digits, as many as the
    /// display has and at most four (LED-485 keeps an i16, so 9999 is the largest safe value).
    fn number(&self, content: &DisplayContent) -> u16 {
        let DisplayContent::Call { ticket, .. } = content else {
            return 0;
        };
        let digits: Vec<u16> =
            ticket.chars().filter_map(|c| c.to_digit(10)).filter_map(|d| u16::try_from(d).ok()).collect();
        let keep = usize::from(self.text_chars).min(4);
        digits[digits.len().saturating_sub(keep)..].iter().fold(0, |number, digit| number * 10 + digit)
    }

    fn encode_char(&self, c: char) -> u8 {
        match self.encoding {
            TextEncoding::SevenSegment => segments_of(c),
            TextEncoding::Ascii | TextEncoding::Number => {
                if c == ' ' || c.is_ascii_graphic() {
                    c as u8
                } else {
                    b'?'
                }
            }
        }
    }

    fn decode_byte(&self, byte: u8) -> char {
        match self.encoding {
            TextEncoding::SevenSegment => char_of_segments(byte),
            TextEncoding::Ascii | TextEncoding::Number => match byte {
                // A display cleared by its own firmware holds zeros: they show as blanks.
                0 => ' ',
                0x20..=0x7E => char::from(byte),
                _ => '?',
            },
        }
    }
}

/// Back from registers (starting at `map.text_register`) to the text the display shows. Missing
/// registers read as blank; bytes a display cannot show read as '?'. Never panics.
pub fn decode_text(map: &RegisterMap, registers: &[u16]) -> String {
    let width = usize::from(map.text_chars);
    match map.encoding {
        TextEncoding::Number => number_text(registers.first().copied().unwrap_or(0), width),
        TextEncoding::Ascii | TextEncoding::SevenSegment => {
            let bytes = registers.iter().flat_map(|register| register.to_be_bytes());
            let mut text: String = bytes.take(width).map(|byte| map.decode_byte(byte)).collect();
            let missing = width.saturating_sub(text.chars().count());
            text.extend(std::iter::repeat_n(' ', missing));
            text
        }
    }
}

/// A number right-aligned in `width`; 0 is blank. Keeps the trailing digits if it is too wide.
fn number_text(number: u16, width: usize) -> String {
    if number == 0 {
        return " ".repeat(width);
    }
    let digits = number.to_string();
    let digits = &digits[digits.len().saturating_sub(width)..];
    format!("{digits:>width$}")
}

/// Ticket left, counter right, as described on [`RegisterMap::text`].
fn layout(ticket: &[char], counter: &[char], width: usize) -> String {
    let undashed: Vec<char> = ticket.iter().copied().filter(|c| *c != '-').collect();
    let fits = |ticket: &[char]| {
        if counter.is_empty() {
            ticket.len() <= width
        } else {
            ticket.len() + 1 + counter.len() <= width
        }
    };
    let ticket: &[char] = if fits(ticket) {
        ticket
    } else if fits(&undashed) {
        &undashed
    } else {
        // Not even the undashed ticket fits beside the counter: the ticket alone, keeping its end
        // (the number) if it is still too wide.
        let shown: String = undashed[undashed.len().saturating_sub(width)..].iter().collect();
        return format!("{shown:<width$}");
    };
    let ticket: String = ticket.iter().collect();
    let counter: String = counter.iter().collect();
    let gap = width - ticket.chars().count();
    format!("{ticket}{counter:>gap$}")
}

/// Segment patterns (bit 0 = a, top; 1 = b; 2 = c; 3 = d, bottom; 4 = e; 5 = f; 6 = g, middle),
/// in decoding preference: where two characters share a pattern ('5' and 'S'), the first wins.
const GLYPHS: &[(char, u8)] = &[
    ('0', 0x3F),
    ('1', 0x06),
    ('2', 0x5B),
    ('3', 0x4F),
    ('4', 0x66),
    ('5', 0x6D),
    ('6', 0x7D),
    ('7', 0x07),
    ('8', 0x7F),
    ('9', 0x6F),
    (' ', 0x00),
    ('-', 0x40),
    ('_', 0x08),
    ('A', 0x77),
    ('B', 0x7C),
    ('C', 0x39),
    ('D', 0x5E),
    ('E', 0x79),
    ('F', 0x71),
    ('G', 0x3D),
    ('H', 0x76),
    ('I', 0x30),
    ('J', 0x1E),
    ('L', 0x38),
    ('N', 0x54),
    ('O', 0x5C),
    ('P', 0x73),
    ('Q', 0x67),
    ('R', 0x50),
    ('S', 0x6D),
    ('T', 0x78),
    ('U', 0x3E),
    ('Y', 0x6E),
    ('Z', 0x5B),
];

/// A character seven segments cannot draw (K, M, W, X…) is left blank rather than faked.
fn segments_of(c: char) -> u8 {
    let c = c.to_ascii_uppercase();
    GLYPHS.iter().find(|(glyph, _)| *glyph == c).map_or(0, |(_, segments)| *segments)
}

/// The decimal point is ignored: it never carries part of a ticket.
fn char_of_segments(segments: u8) -> char {
    let segments = segments & 0x7F;
    GLYPHS.iter().find(|(_, pattern)| *pattern == segments).map_or('?', |(glyph, _)| *glyph)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_glyph_decodes_to_a_character_that_encodes_to_it() {
        for (glyph, segments) in GLYPHS {
            assert_eq!(segments_of(char_of_segments(*segments)), *segments, "glyph {glyph:?}");
        }
    }

    #[test]
    fn number_keeps_the_trailing_digits_the_display_has() {
        let map = RegisterMap {
            text_register: 0,
            text_chars: 2,
            encoding: TextEncoding::Number,
            blink_register: None,
            brightness_register: None,
        };
        let call = DisplayContent::Call { ticket: "B-123".into(), counter: "1".into(), blink: 0 };
        assert_eq!(map.number(&call), 23);
        assert_eq!(map.text(&call), "23");
    }
}
