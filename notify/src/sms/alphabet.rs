//! The GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1) and its extension table.
//!
//! A character of the extension table costs two septets: the escape 0x1B, then its code. What
//! a handset shows for an escape followed by a code the table lacks is the character of the
//! basic table (TS 23.038 says so), and the decoder does the same.

/// The escape to the extension table.
pub const ESCAPE: u8 = 0x1B;

/// The basic table, indexed by septet. Slot 0x1B is the escape and never stands for a character;
/// it holds a placeholder that `septets` never looks up.
const BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: (code after the escape, character).
const EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// The septets of `c`: one from the basic table, two (escape, code) from the extension table,
/// `None` when the alphabet lacks it.
pub fn septets(c: char) -> Option<Septets> {
    if let Some((code, _)) = EXTENSION.iter().find(|(_, ext)| *ext == c) {
        return Some(Septets::Escaped(*code));
    }
    BASIC
        .iter()
        .position(|basic| *basic == c)
        .filter(|&index| index != usize::from(ESCAPE))
        .and_then(|index| u8::try_from(index).ok())
        .map(Septets::Basic)
}

/// Whether `c` can be sent in GSM 7-bit.
pub fn contains(c: char) -> bool {
    septets(c).is_some()
}

/// How many septets `c` costs, `None` when the alphabet lacks it.
pub fn septet_len(c: char) -> Option<usize> {
    septets(c).map(Septets::count)
}

/// One character's septets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Septets {
    Basic(u8),
    /// After the escape.
    Escaped(u8),
}

impl Septets {
    /// Septets it takes: 1 or 2.
    pub fn count(self) -> usize {
        match self {
            Septets::Basic(_) => 1,
            Septets::Escaped(_) => 2,
        }
    }

    pub fn push_to(self, out: &mut Vec<u8>) {
        match self {
            Septets::Basic(septet) => out.push(septet),
            Septets::Escaped(code) => out.extend([ESCAPE, code]),
        }
    }
}

/// Text from septets (each below 0x80; higher bits are ignored).
pub fn decode(septets: &[u8]) -> String {
    let mut text = String::with_capacity(septets.len());
    let mut septets = septets.iter().map(|s| s & 0x7F);
    while let Some(septet) = septets.next() {
        if septet != ESCAPE {
            text.push(BASIC[usize::from(septet)]);
            continue;
        }
        match septets.next() {
            // A lone escape at the end stands for nothing.
            None => {}
            // An escape of an escape is reserved for a further table; TS 23.038 has the
            // receiver show a space.
            Some(ESCAPE) => text.push(' '),
            Some(code) => {
                let extended = EXTENSION.iter().find(|(ext, _)| *ext == code).map(|(_, c)| *c);
                text.push(extended.unwrap_or(BASIC[usize::from(code)]));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spanish_letters_but_acute_a_i_o_u_are_in_the_alphabet() {
        for c in "éñÑüÜ¿¡ÉÇàèù@£$".chars() {
            assert!(contains(c), "{c} is in GSM 03.38");
        }
        for c in "áíóúÁÍÓÚ`ç".chars() {
            assert!(!contains(c), "{c} is not in GSM 03.38");
        }
    }

    #[test]
    fn the_extension_table_costs_two_septets() {
        for c in "€[]{}\\^~|\u{0C}".chars() {
            assert_eq!(septet_len(c), Some(2), "{c:?}");
        }
        assert_eq!(septet_len('A'), Some(1));
        assert_eq!(septets('€'), Some(Septets::Escaped(0x65)));
        assert_eq!(septets('@'), Some(Septets::Basic(0x00)));
        assert_eq!(septets('ñ'), Some(Septets::Basic(0x7D)));
    }

    #[test]
    fn the_escape_itself_is_not_a_character_to_send() {
        assert_eq!(septets('\u{1B}'), None);
    }

    #[test]
    fn every_character_decodes_to_itself() {
        for index in 0..128_u8 {
            if index == ESCAPE {
                continue;
            }
            let c = BASIC[usize::from(index)];
            let mut out = Vec::new();
            septets(c).expect("in the table").push_to(&mut out);
            assert_eq!(decode(&out), c.to_string());
        }
        for (_, c) in EXTENSION {
            let mut out = Vec::new();
            septets(c).expect("in the table").push_to(&mut out);
            assert_eq!(decode(&out), c.to_string());
        }
    }

    #[test]
    fn an_unknown_escape_shows_the_basic_character_and_a_trailing_one_nothing() {
        assert_eq!(decode(&[ESCAPE, 0x41]), "A");
        assert_eq!(decode(&[0x41, ESCAPE]), "A");
        assert_eq!(decode(&[ESCAPE, ESCAPE]), " ");
    }
}
