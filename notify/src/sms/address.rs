//! Phone numbers as TP addresses (3GPP TS 23.040 §9.1.2.5): a length in semi-octets, a type
//! of address, then the digits two to an octet, low nibble first, padded with F.

use super::{alphabet, septet, SmsError};

/// Type of address: international number, ISDN numbering plan.
pub const INTERNATIONAL: u8 = 0x91;
/// Type of address: unknown type (national as dialled), ISDN numbering plan.
pub const UNKNOWN: u8 = 0x81;
/// Type of address: alphanumeric sender ("Movistar"), GSM 7-bit packed.
pub const ALPHANUMERIC: u8 = 0xD0;

/// Digits in an address field: it holds 10 octets.
pub const DIGITS_MAX: usize = 20;
/// Characters of an alphanumeric sender: 11 is what networks allow.
pub const ALPHANUMERIC_MAX: usize = 11;

/// Appends the address of `number` (digits, international with a leading `+`).
pub fn encode_number(number: &str, out: &mut Vec<u8>) -> Result<(), SmsError> {
    let (toa, digits) = match number.strip_prefix('+') {
        Some(digits) => (INTERNATIONAL, digits),
        None => (UNKNOWN, number),
    };
    if digits.is_empty() || digits.len() > DIGITS_MAX || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SmsError::InvalidNumber);
    }
    let nibbles: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    out.push(u8::try_from(nibbles.len()).map_err(|_| SmsError::InvalidNumber)?);
    out.push(toa);
    push_semi_octets(&nibbles, out);
    Ok(())
}

/// Appends `sender` as a number when it is one, otherwise as an alphanumeric sender.
pub fn encode_sender(sender: &str, out: &mut Vec<u8>) -> Result<(), SmsError> {
    if encode_number(sender, &mut Vec::new()).is_ok() {
        return encode_number(sender, out);
    }
    let count = sender.chars().count();
    if count == 0 || count > ALPHANUMERIC_MAX {
        return Err(SmsError::InvalidNumber);
    }
    let mut septets = Vec::with_capacity(count);
    for c in sender.chars() {
        alphabet::septets(c).ok_or(SmsError::InvalidNumber)?.push_to(&mut septets);
    }
    let packed = septet::pack(&septets);
    // The length counts the semi-octets that carry bits.
    let semi_octets = (septets.len() * 7).div_ceil(4);
    out.push(u8::try_from(semi_octets).map_err(|_| SmsError::InvalidNumber)?);
    out.push(ALPHANUMERIC);
    out.extend(packed);
    Ok(())
}

/// Semi-octets: the first of each pair in the low nibble; an odd count ends with F.
pub fn push_semi_octets(nibbles: &[u8], out: &mut Vec<u8>) {
    for pair in nibbles.chunks(2) {
        let low = pair[0] & 0x0F;
        let high = pair.get(1).map_or(0x0F, |n| n & 0x0F);
        out.push(high << 4 | low);
    }
}

/// Reads an address whose length octet counts semi-octets, returning it in words and the
/// octets it took.
pub fn decode(bytes: &[u8]) -> Result<(String, usize), SmsError> {
    let (&length, rest) = bytes.split_first().ok_or(SmsError::Truncated)?;
    let (&toa, rest) = rest.split_first().ok_or(SmsError::Truncated)?;
    let semi_octets = usize::from(length);
    if semi_octets > 2 * (DIGITS_MAX / 2) {
        return Err(SmsError::BadAddress);
    }
    let octets = semi_octets.div_ceil(2);
    let field = rest.get(..octets).ok_or(SmsError::Truncated)?;
    let text = if toa & 0x70 == ALPHANUMERIC & 0x70 {
        alphabet::decode(&septet::unpack(field, semi_octets * 4 / 7)?)
    } else {
        let mut number = String::with_capacity(semi_octets + 1);
        if toa & 0x70 == INTERNATIONAL & 0x70 {
            number.push('+');
        }
        for index in 0..semi_octets {
            let octet = field[index / 2];
            let nibble = if index % 2 == 0 { octet & 0x0F } else { octet >> 4 };
            number.push(digit(nibble)?);
        }
        number
    };
    Ok((text, 2 + octets))
}

/// Reads an SMSC address, whose length octet counts octets (type included); 0 is none.
pub fn decode_service_centre(bytes: &[u8]) -> Result<(Option<String>, usize), SmsError> {
    let length = usize::from(*bytes.first().ok_or(SmsError::Truncated)?);
    if length == 0 {
        return Ok((None, 1));
    }
    let field = bytes.get(1..=length).ok_or(SmsError::Truncated)?;
    let (&toa, digits) = field.split_first().ok_or(SmsError::BadAddress)?;
    if digits.len() > DIGITS_MAX / 2 {
        return Err(SmsError::BadAddress);
    }
    let mut number = String::with_capacity(2 * digits.len() + 1);
    if toa & 0x70 == INTERNATIONAL & 0x70 {
        number.push('+');
    }
    for octet in digits {
        number.push(digit(octet & 0x0F)?);
        match octet >> 4 {
            0x0F => break,
            high => number.push(digit(high)?),
        }
    }
    Ok((Some(number), 1 + length))
}

fn digit(nibble: u8) -> Result<char, SmsError> {
    match nibble {
        0..=9 => Ok(char::from(b'0' + nibble)),
        0x0A => Ok('*'),
        0x0B => Ok('#'),
        0x0C => Ok('a'),
        0x0D => Ok('b'),
        0x0E => Ok('c'),
        _ => Err(SmsError::BadAddress),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(number: &str) -> Vec<u8> {
        let mut out = Vec::new();
        encode_number(number, &mut out).expect("a valid number");
        out
    }

    #[test]
    fn an_international_number_is_type_91_with_swapped_digits_and_f_padding() {
        assert_eq!(encoded("+34600111222"), [0x0B, 0x91, 0x43, 0x06, 0x10, 0x11, 0x22, 0xF2]);
        assert_eq!(decode(&encoded("+34600111222")), Ok(("+34600111222".to_owned(), 8)));
    }

    #[test]
    fn a_national_number_is_type_81() {
        assert_eq!(encoded("600111222"), [0x09, 0x81, 0x06, 0x10, 0x11, 0x22, 0xF2]);
        assert_eq!(encoded("0612"), [0x04, 0x81, 0x60, 0x21]);
    }

    #[test]
    fn what_is_not_a_number_is_refused_without_repeating_it() {
        for bad in ["", "+", "+34 600 111 222", "600-111", "+123456789012345678901", "uno"] {
            let error = encode_number(bad, &mut Vec::new()).expect_err(bad);
            assert_eq!(error, SmsError::InvalidNumber);
        }
    }

    #[test]
    fn an_alphanumeric_sender_round_trips() {
        let mut out = Vec::new();
        encode_sender("Movistar", &mut out).expect("fits");
        assert_eq!(&out[..2], [14, ALPHANUMERIC]);
        assert_eq!(decode(&out), Ok(("Movistar".to_owned(), out.len())));
    }

    #[test]
    fn a_service_centre_address_counts_octets() {
        let bytes = [0x07, 0x91, 0x43, 0x06, 0x19, 0x09, 0x09, 0xF9];
        assert_eq!(decode_service_centre(&bytes), Ok((Some("+34609190909".to_owned()), 8)));
        assert_eq!(decode_service_centre(&[0x00]), Ok((None, 1)));
    }
}
