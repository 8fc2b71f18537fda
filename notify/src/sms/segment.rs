//! Which alphabet a text goes in, and how it is cut into the parts of a concatenated SMS.
//!
//! One part carries 140 octets of user data: 160 septets or 70 UCS-2 units. A concatenated
//! part gives 6 octets to its header (`05 00 03 ref total seq`), leaving 153 septets (the header
//! plus one fill bit take 7 septets) or 67 units. A character is never cut: an extension
//! character's escape stays with its code, and a surrogate pair stays whole, because a handset
//! shows a half as garbage.

use super::alphabet;

/// Septets in a part that stands alone.
pub const SINGLE_SEPTETS: usize = 160;
/// Septets in a part of a concatenated message.
pub const CONCATENATED_SEPTETS: usize = 153;
/// UCS-2 units (16-bit) in a part that stands alone.
pub const SINGLE_UNITS: usize = 70;
/// UCS-2 units in a part of a concatenated message.
pub const CONCATENATED_UNITS: usize = 67;
/// Most parts one message can have: the header counts them in one octet.
pub const PARTS_MAX: usize = 255;

/// The alphabet of a message's user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// The GSM 03.38 default alphabet, 7 bits a character (two for the extension table).
    Gsm7,
    /// UTF-16 big-endian, which handsets read as UCS-2; characters beyond the BMP as surrogate
    /// pairs.
    Ucs2,
}

impl Encoding {
    /// GSM 7-bit when every character is in the alphabet or its extension, UCS-2 otherwise.
    pub fn for_text(text: &str) -> Encoding {
        if text.chars().all(alphabet::contains) {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        }
    }

    /// The lower-case name used in logs and the emulator's output.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }

    /// What `c` costs in this encoding's units (septets or 16-bit units).
    fn cost(self, c: char) -> usize {
        match self {
            Encoding::Gsm7 => alphabet::septet_len(c).unwrap_or(1),
            Encoding::Ucs2 => c.len_utf16(),
        }
    }

    fn capacity(self, concatenated: bool) -> usize {
        match (self, concatenated) {
            (Encoding::Gsm7, false) => SINGLE_SEPTETS,
            (Encoding::Gsm7, true) => CONCATENATED_SEPTETS,
            (Encoding::Ucs2, false) => SINGLE_UNITS,
            (Encoding::Ucs2, true) => CONCATENATED_UNITS,
        }
    }
}

/// A text cut into the parts it is sent in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub encoding: Encoding,
    /// The text of each part, in order; one (maybe empty) part at least.
    pub parts: Vec<String>,
}

impl Split {
    pub fn is_concatenated(&self) -> bool {
        self.parts.len() > 1
    }
}

/// The parts `text` is sent in.
pub fn split(text: &str) -> Split {
    let encoding = Encoding::for_text(text);
    let total: usize = text.chars().map(|c| encoding.cost(c)).sum();
    if total <= encoding.capacity(false) {
        return Split { encoding, parts: vec![text.to_owned()] };
    }
    let capacity = encoding.capacity(true);
    let mut parts = Vec::with_capacity(total.div_ceil(capacity));
    let mut part = String::new();
    let mut used = 0;
    for c in text.chars() {
        let cost = encoding.cost(c);
        if used + cost > capacity {
            parts.push(std::mem::take(&mut part));
            used = 0;
        }
        part.push(c);
        used += cost;
    }
    parts.push(part);
    Split { encoding, parts }
}

/// How many SMS `text` takes: what HQ shows beside a template as it is saved.
pub fn segment_count(text: &str) -> usize {
    split(text).parts.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, encoding: Encoding, part_lengths: &[usize]) {
        let split = split(text);
        assert_eq!(split.encoding, encoding, "{text:?}");
        let lengths: Vec<usize> = split.parts.iter().map(|p| p.chars().count()).collect();
        assert_eq!(lengths, part_lengths, "{text:?}");
        assert_eq!(split.parts.concat(), text);
        assert_eq!(segment_count(text), part_lengths.len());
    }

    #[test]
    fn a_plain_spanish_notice_is_one_gsm_part() {
        check("Su turno A-023: acérquese a la ventanilla 4. ¿Dudas? ¡Gracias! Señor Muñoz", Encoding::Gsm7, &[74]);
    }

    #[test]
    fn one_acute_a_makes_the_whole_message_ucs2() {
        check("Atención en la ventanilla 4", Encoding::Ucs2, &[27]);
    }

    #[test]
    fn gsm_fits_160_septets_in_one_part_and_153_in_each_of_more() {
        check(&"a".repeat(160), Encoding::Gsm7, &[160]);
        check(&"a".repeat(161), Encoding::Gsm7, &[153, 8]);
        check(&"a".repeat(306), Encoding::Gsm7, &[153, 153]);
        check(&"a".repeat(307), Encoding::Gsm7, &[153, 153, 1]);
    }

    #[test]
    fn ucs2_fits_70_units_in_one_part_and_67_in_each_of_more() {
        check(&"á".repeat(70), Encoding::Ucs2, &[70]);
        check(&"á".repeat(71), Encoding::Ucs2, &[67, 4]);
        check(&"á".repeat(134), Encoding::Ucs2, &[67, 67]);
    }

    #[test]
    fn the_euro_sign_costs_two_septets_and_its_escape_is_never_cut() {
        check(&"€".repeat(80), Encoding::Gsm7, &[80]);
        check(&"€".repeat(81), Encoding::Gsm7, &[76, 5]);
        // 152 septets of 'a', then a '€' that would straddle the 153rd septet.
        check(&format!("{}€{}", "a".repeat(152), "b".repeat(10)), Encoding::Gsm7, &[152, 11]);
    }

    #[test]
    fn a_surrogate_pair_is_never_cut() {
        // 66 units, then an emoji of two units that would straddle unit 67.
        let text = format!("{}😀xxxxx", "á".repeat(66));
        check(&text, Encoding::Ucs2, &[66, 6]);
    }

    #[test]
    fn an_empty_text_is_one_empty_part() {
        check("", Encoding::Gsm7, &[0]);
    }
}
