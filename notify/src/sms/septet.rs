//! Septets packed into octets (3GPP TS 23.038 §6.1.2.1.1): septet `n` starts at bit `7n`,
//! least significant bit first.

use super::SmsError;

/// Packs septets (only their low 7 bits) into octets.
pub fn pack(septets: &[u8]) -> Vec<u8> {
    let mut out = vec![0_u8; (septets.len() * 7).div_ceil(8)];
    for (index, septet) in septets.iter().enumerate() {
        let bit = index * 7;
        let [low, high] = (u16::from(septet & 0x7F) << (bit % 8)).to_le_bytes();
        if let Some(octet) = out.get_mut(bit / 8) {
            *octet |= low;
        }
        if let Some(octet) = out.get_mut(bit / 8 + 1) {
            *octet |= high;
        }
    }
    out
}

/// The first `count` septets of `octets`.
pub fn unpack(octets: &[u8], count: usize) -> Result<Vec<u8>, SmsError> {
    if octets.len() < (count * 7).div_ceil(8) {
        return Err(SmsError::Truncated);
    }
    Ok((0..count)
        .map(|index| {
            let bit = index * 7;
            let low = octets.get(bit / 8).copied().unwrap_or(0);
            let high = octets.get(bit / 8 + 1).copied().unwrap_or(0);
            let [septet, _] = ((u16::from_le_bytes([low, high]) >> (bit % 8)) & 0x7F).to_le_bytes();
            septet
        })
        .collect())
}

/// Septets a user data header of `octets` octets (its length octet included) takes, fill bits
/// included: text after a header starts on a septet boundary.
pub fn header_septets(octets: usize) -> usize {
    (octets * 8).div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hellohello_packs_as_in_the_textbook_example() {
        let septets: Vec<u8> = b"hellohello".to_vec();
        assert_eq!(pack(&septets), [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]);
        assert_eq!(unpack(&pack(&septets), 10), Ok(septets));
    }

    #[test]
    fn eight_septets_fill_seven_octets() {
        let septets = [0x7F_u8; 8];
        assert_eq!(pack(&septets), [0xFF; 7]);
        assert_eq!(unpack(&[0xFF; 7], 8), Ok(septets.to_vec()));
    }

    #[test]
    fn too_few_octets_for_the_count_is_an_error() {
        assert_eq!(unpack(&[0xE8, 0x32], 3), Err(SmsError::Truncated));
    }

    #[test]
    fn a_six_octet_header_takes_seven_septets_with_one_fill_bit() {
        assert_eq!(header_septets(6), 7);
        assert_eq!(header_septets(7), 8);
    }
}
