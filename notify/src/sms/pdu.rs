//! SMS-SUBMIT and SMS-DELIVER TPDUs (3GPP TS 23.040 §9.2.2), as hex for `AT+CMGS`/`AT+CMGL` in
//! PDU mode, each preceded by the SMSC address the modem adds or reports.

use std::time::Duration;

use super::segment::{self, Encoding, PARTS_MAX};
use super::{address, alphabet, septet, SmsError};

/// TP-MTI of an SMS-DELIVER (network to phone) and of an SMS-SUBMIT (phone to network).
const MTI_DELIVER: u8 = 0b00;
const MTI_SUBMIT: u8 = 0b01;
/// TP-VPF bits: a relative validity period of one octet.
const VPF_RELATIVE: u8 = 0b10 << 3;
/// TP-UDHI: the user data starts with a header.
const UDHI: u8 = 1 << 6;
/// TP-MMS in an SMS-DELIVER: set when no more messages are waiting.
const NO_MORE_MESSAGES: u8 = 1 << 2;
/// TP-DCS of the default alphabet and of UCS-2, class-less.
const DCS_GSM7: u8 = 0x00;
const DCS_UCS2: u8 = 0x08;
/// Information elements of a concatenation header, 8- and 16-bit references.
const IE_CONCAT_8: u8 = 0x00;
const IE_CONCAT_16: u8 = 0x08;
/// User data octets in one TPDU.
const USER_DATA_OCTETS_MAX: usize = 140;
const USER_DATA_SEPTETS_MAX: usize = 160;

/// How long the network keeps trying to deliver (TP-VP, relative format, §9.2.3.12.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity(u8);

impl Validity {
    /// A notice about a queue is stale after a day.
    pub const ONE_DAY: Validity = Validity(167);

    pub fn from_code(code: u8) -> Validity {
        Validity(code)
    }

    pub fn code(self) -> u8 {
        self.0
    }

    pub fn duration(self) -> Duration {
        const MINUTE: u64 = 60;
        let code = u64::from(self.0);
        Duration::from_secs(match self.0 {
            0..=143 => (code + 1) * 5 * MINUTE,
            144..=167 => 12 * 60 * MINUTE + (code - 143) * 30 * MINUTE,
            168..=196 => (code - 166) * 24 * 60 * MINUTE,
            197..=255 => (code - 192) * 7 * 24 * 60 * MINUTE,
        })
    }
}

/// How parts of one message find each other (the concatenation information element).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Concat {
    /// The same in every part of one message.
    pub reference: u16,
    pub total: u8,
    /// From 1.
    pub sequence: u8,
}

/// What the sender chooses for every part of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmitOptions {
    pub validity: Validity,
    /// The concatenation reference; only used when the text takes several parts.
    pub reference: u8,
}

impl Default for SubmitOptions {
    fn default() -> Self {
        SubmitOptions { validity: Validity::ONE_DAY, reference: 0 }
    }
}

/// One part, ready for `AT+CMGS=<tpdu_len>` and then `<hex>` and Ctrl-Z.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitPdu {
    /// The SMSC length octet `00` (the SIM's SMSC) and the TPDU, in upper-case hex.
    pub hex: String,
    /// Octets of the TPDU: the PDU without its SMSC octet.
    pub tpdu_len: usize,
}

/// An SMS-SUBMIT read back (what the emulator receives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    pub to: String,
    pub message_reference: u8,
    /// `None` when absent or in the enhanced or absolute format.
    pub validity: Option<Validity>,
    pub encoding: Encoding,
    pub text: String,
    pub concat: Option<Concat>,
}

/// An SMS-DELIVER: a message a phone sent us (a citizen answering STOP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deliver {
    /// The SMSC that passed it on, if the modem reports one.
    pub service_centre: Option<String>,
    /// A number, or an alphanumeric sender.
    pub from: String,
    pub timestamp: Timestamp,
    pub encoding: Encoding,
    pub text: String,
    pub concat: Option<Concat>,
}

/// TP-SCTS: when the SMSC received it, in the SMSC's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timestamp {
    /// Two digits.
    pub year: u8,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Offset from UTC in quarters of an hour.
    pub offset_quarters: i8,
}

/// The PDUs of `text` to `to` (digits, international with a leading `+`), one per part.
pub fn encode_submit(to: &str, text: &str, options: SubmitOptions) -> Result<Vec<SubmitPdu>, SmsError> {
    let split = segment::split(text);
    let total = checked_total(split.parts.len())?;
    let mut destination = Vec::with_capacity(12);
    address::encode_number(to, &mut destination)?;
    let mut pdus = Vec::with_capacity(split.parts.len());
    for (index, part) in split.parts.iter().enumerate() {
        let concat = split.is_concatenated().then(|| concat_header(options.reference, total, index));
        let mut tpdu = Vec::with_capacity(USER_DATA_OCTETS_MAX + 20);
        tpdu.push(MTI_SUBMIT | VPF_RELATIVE | if concat.is_some() { UDHI } else { 0 });
        // TP-MR 0: the modem numbers the message itself and answers the number in +CMGS.
        tpdu.push(0x00);
        tpdu.extend_from_slice(&destination);
        tpdu.push(0x00);
        tpdu.push(dcs(split.encoding));
        tpdu.push(options.validity.code());
        push_user_data(split.encoding, part, concat.as_ref(), &mut tpdu)?;
        pdus.push(SubmitPdu { hex: format!("00{}", hex::encode_upper(&tpdu)), tpdu_len: tpdu.len() });
    }
    Ok(pdus)
}

/// The PDUs of an SMS-DELIVER from `from` (a number, or an alphanumeric sender), as a modem
/// lists them: with the SMSC address `service_centre` first.
pub fn encode_deliver(
    service_centre: &str,
    from: &str,
    text: &str,
    timestamp: Timestamp,
    reference: u8,
) -> Result<Vec<String>, SmsError> {
    let split = segment::split(text);
    let total = checked_total(split.parts.len())?;
    let mut head = Vec::with_capacity(24);
    let mut centre = Vec::with_capacity(12);
    address::encode_number(service_centre, &mut centre)?;
    // The SMSC field counts octets, type included, not semi-octets.
    head.push(u8::try_from(centre.len() - 1).map_err(|_| SmsError::InvalidNumber)?);
    head.extend_from_slice(&centre[1..]);
    let first_octet_at = head.len();
    head.push(MTI_DELIVER | NO_MORE_MESSAGES);
    address::encode_sender(from, &mut head)?;
    head.push(0x00);
    head.push(dcs(split.encoding));
    push_timestamp(timestamp, &mut head);
    let mut pdus = Vec::with_capacity(split.parts.len());
    for (index, part) in split.parts.iter().enumerate() {
        let concat = split.is_concatenated().then(|| concat_header(reference, total, index));
        let mut pdu = head.clone();
        if concat.is_some() {
            pdu[first_octet_at] |= UDHI;
        }
        push_user_data(split.encoding, part, concat.as_ref(), &mut pdu)?;
        pdus.push(hex::encode_upper(&pdu));
    }
    Ok(pdus)
}

fn checked_total(parts: usize) -> Result<u8, SmsError> {
    u8::try_from(parts).ok().filter(|_| parts <= PARTS_MAX).ok_or(SmsError::TooLong { parts, max: PARTS_MAX })
}

fn concat_header(reference: u8, total: u8, index: usize) -> Concat {
    // At most PARTS_MAX parts were checked, so the sequence fits.
    let sequence = u8::try_from(index + 1).unwrap_or(u8::MAX);
    Concat { reference: u16::from(reference), total, sequence }
}

fn dcs(encoding: Encoding) -> u8 {
    match encoding {
        Encoding::Gsm7 => DCS_GSM7,
        Encoding::Ucs2 => DCS_UCS2,
    }
}

/// Appends TP-UDL and TP-UD: the header if any, then the text.
fn push_user_data(encoding: Encoding, text: &str, concat: Option<&Concat>, out: &mut Vec<u8>) -> Result<(), SmsError> {
    let header: Vec<u8> = match concat {
        None => Vec::new(),
        Some(concat) => {
            let [_, reference] = concat.reference.to_be_bytes();
            vec![0x05, IE_CONCAT_8, 0x03, reference, concat.total, concat.sequence]
        }
    };
    let (length, data) = match encoding {
        Encoding::Gsm7 => {
            let skip = if header.is_empty() { 0 } else { septet::header_septets(header.len()) };
            let mut septets = vec![0_u8; skip];
            for c in text.chars() {
                alphabet::septets(c).ok_or(SmsError::NotInAlphabet)?.push_to(&mut septets);
            }
            // The header takes the first octets; the zero septets under it become the fill bits.
            let mut packed = septet::pack(&septets);
            packed.splice(..header.len(), header.iter().copied());
            (septets.len(), packed)
        }
        Encoding::Ucs2 => {
            let mut data = header;
            data.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            (data.len(), data)
        }
    };
    out.push(u8::try_from(length).map_err(|_| SmsError::UserDataTooLong)?);
    out.extend(data);
    Ok(())
}

fn push_timestamp(timestamp: Timestamp, out: &mut Vec<u8>) {
    let fields = [timestamp.year, timestamp.month, timestamp.day, timestamp.hour, timestamp.minute, timestamp.second];
    for field in fields {
        out.push(swapped_bcd(field % 100));
    }
    let quarters = timestamp.offset_quarters.unsigned_abs() % 80;
    let sign = if timestamp.offset_quarters < 0 { 0x08 } else { 0x00 };
    out.push(swapped_bcd(quarters) | sign);
}

fn swapped_bcd(value: u8) -> u8 {
    (value % 10) << 4 | (value / 10)
}

fn from_swapped_bcd(octet: u8) -> u8 {
    (octet & 0x0F) * 10 + (octet >> 4)
}

/// Reads an SMS-SUBMIT PDU in hex, SMSC field first.
pub fn decode_submit(hex: &str) -> Result<Submit, SmsError> {
    let bytes = from_hex(hex)?;
    let (_, smsc_len) = address::decode_service_centre(&bytes)?;
    let mut reader = Reader { bytes: &bytes, at: smsc_len };
    let first = reader.octet()?;
    if first & 0b11 != MTI_SUBMIT {
        return Err(SmsError::WrongType { expected: "SUBMIT" });
    }
    let message_reference = reader.octet()?;
    let to = reader.address()?;
    let _protocol = reader.octet()?;
    let encoding = encoding_of(reader.octet()?)?;
    let validity = match (first >> 3) & 0b11 {
        0b00 => None,
        0b10 => Some(Validity(reader.octet()?)),
        _ => {
            reader.take(7)?;
            None
        }
    };
    let (text, concat) = reader.user_data(encoding, first & UDHI != 0)?;
    Ok(Submit { to, message_reference, validity, encoding, text, concat })
}

/// Reads an SMS-DELIVER PDU in hex, SMSC field first (as `AT+CMGL` lists it).
pub fn decode_deliver(hex: &str) -> Result<Deliver, SmsError> {
    let bytes = from_hex(hex)?;
    let (service_centre, smsc_len) = address::decode_service_centre(&bytes)?;
    let mut reader = Reader { bytes: &bytes, at: smsc_len };
    let first = reader.octet()?;
    if first & 0b11 != MTI_DELIVER {
        return Err(SmsError::WrongType { expected: "DELIVER" });
    }
    let from = reader.address()?;
    let _protocol = reader.octet()?;
    let encoding = encoding_of(reader.octet()?)?;
    let scts = reader.take(7)?;
    let tz = scts[6];
    let quarters = i8::try_from(from_swapped_bcd(tz & !0x08)).map_err(|_| SmsError::BadTimestamp)?;
    let timestamp = Timestamp {
        year: from_swapped_bcd(scts[0]),
        month: from_swapped_bcd(scts[1]),
        day: from_swapped_bcd(scts[2]),
        hour: from_swapped_bcd(scts[3]),
        minute: from_swapped_bcd(scts[4]),
        second: from_swapped_bcd(scts[5]),
        offset_quarters: if tz & 0x08 != 0 { -quarters } else { quarters },
    };
    let (text, concat) = reader.user_data(encoding, first & UDHI != 0)?;
    Ok(Deliver { service_centre, from, timestamp, encoding, text, concat })
}

fn from_hex(hex: &str) -> Result<Vec<u8>, SmsError> {
    hex::decode(hex.trim()).map_err(|_| SmsError::NotHex)
}

/// TP-DCS (TS 23.038 §4): the alphabet, for the coding groups that carry text we can read.
fn encoding_of(dcs: u8) -> Result<Encoding, SmsError> {
    let alphabet = match dcs >> 4 {
        // General data coding (and its automatic-deletion twin); bit 5 is compression.
        0x0..=0x7 if dcs & 0x20 == 0 => (dcs >> 2) & 0b11,
        // Message waiting indication: discard or store, default alphabet; store, UCS-2.
        0xC | 0xD => 0b00,
        0xE => 0b10,
        // Data coding/message class: bit 2 chooses 8-bit data.
        0xF => (dcs >> 1) & 0b10,
        _ => return Err(SmsError::UnsupportedDcs(dcs)),
    };
    match alphabet {
        0b00 => Ok(Encoding::Gsm7),
        0b10 => Ok(Encoding::Ucs2),
        _ => Err(SmsError::UnsupportedDcs(dcs)),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn octet(&mut self) -> Result<u8, SmsError> {
        Ok(self.take(1)?[0])
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], SmsError> {
        let end = self.at.checked_add(count).ok_or(SmsError::Truncated)?;
        let taken = self.bytes.get(self.at..end).ok_or(SmsError::Truncated)?;
        self.at = end;
        Ok(taken)
    }

    fn address(&mut self) -> Result<String, SmsError> {
        let rest = self.bytes.get(self.at..).ok_or(SmsError::Truncated)?;
        let (address, taken) = address::decode(rest)?;
        self.at += taken;
        Ok(address)
    }

    /// TP-UDL and TP-UD, which must end the PDU.
    fn user_data(&mut self, encoding: Encoding, has_header: bool) -> Result<(String, Option<Concat>), SmsError> {
        let length = usize::from(self.octet()?);
        let rest = self.bytes.get(self.at..).ok_or(SmsError::Truncated)?;
        let octets = match encoding {
            Encoding::Gsm7 if length > USER_DATA_SEPTETS_MAX => return Err(SmsError::UserDataTooLong),
            Encoding::Gsm7 => (length * 7).div_ceil(8),
            Encoding::Ucs2 if length > USER_DATA_OCTETS_MAX => return Err(SmsError::UserDataTooLong),
            Encoding::Ucs2 => length,
        };
        let data = rest.get(..octets).ok_or(SmsError::Truncated)?;
        if rest.len() > octets {
            return Err(SmsError::TrailingBytes(rest.len() - octets));
        }
        self.at += octets;
        let (concat, header_octets) = if has_header {
            let header_len = usize::from(*data.first().ok_or(SmsError::BadHeader)?);
            let header = data.get(1..=header_len).ok_or(SmsError::BadHeader)?;
            (concat_of(header)?, header_len + 1)
        } else {
            (None, 0)
        };
        let text = match encoding {
            Encoding::Gsm7 => {
                let septets = septet::unpack(data, length)?;
                let skip = if has_header { septet::header_septets(header_octets) } else { 0 };
                alphabet::decode(septets.get(skip..).ok_or(SmsError::BadHeader)?)
            }
            Encoding::Ucs2 => {
                let text = &data[header_octets..];
                if text.len() % 2 != 0 {
                    return Err(SmsError::BadUcs2);
                }
                let units: Vec<u16> = text.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect();
                // Some phones cut a surrogate pair between parts; the half shows as U+FFFD
                // rather than costing the citizen's whole reply.
                String::from_utf16_lossy(&units)
            }
        };
        Ok((text, concat))
    }
}

/// The concatenation element of a user data header, if it has one.
fn concat_of(mut header: &[u8]) -> Result<Option<Concat>, SmsError> {
    let mut found = None;
    while let [id, length, rest @ ..] = header {
        let value = rest.get(..usize::from(*length)).ok_or(SmsError::BadHeader)?;
        let concat = match (*id, value) {
            (IE_CONCAT_8, &[reference, total, sequence]) => Some((u16::from(reference), total, sequence)),
            (IE_CONCAT_16, &[high, low, total, sequence]) => Some((u16::from_be_bytes([high, low]), total, sequence)),
            (IE_CONCAT_8 | IE_CONCAT_16, _) => return Err(SmsError::BadHeader),
            _ => None,
        };
        if let Some((reference, total, sequence)) = concat {
            if total == 0 || sequence == 0 || sequence > total {
                return Err(SmsError::BadHeader);
            }
            found = Some(Concat { reference, total, sequence });
        }
        header = &rest[usize::from(*length)..];
    }
    if !header.is_empty() {
        return Err(SmsError::BadHeader);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(to: &str, text: &str, options: SubmitOptions) -> Vec<SubmitPdu> {
        encode_submit(to, text, options).expect("encodes")
    }

    #[test]
    fn hellohello_to_a_swedish_number_is_the_textbook_pdu() {
        // The classic example worked from TS 23.040: SUBMIT, relative validity 0xAA (4 days),
        // to +46708251358, default alphabet, "hellohello" packed into 9 octets.
        let options = SubmitOptions { validity: Validity::from_code(0xAA), reference: 0 };
        let pdus = submit("+46708251358", "hellohello", options);
        assert_eq!(pdus, [SubmitPdu { hex: "0011000B916407281553F80000AA0AE8329BFD4697D9EC37".into(), tpdu_len: 23 }]);
    }

    #[test]
    fn a_ucs2_message_carries_utf16_big_endian_with_dcs_08() {
        let pdus = submit("+34600111222", "¿Sí?", SubmitOptions::default());
        // 11 | MR 00 | DA 0B 91 43 06 10 11 22 F2 | PID 00 | DCS 08 | VP A7 (1 day) | UDL 08 | UD
        assert_eq!(pdus[0].hex, "0011000B914306101122F20008A70800BF005300ED003F");
        assert_eq!(pdus[0].tpdu_len, 22);
    }

    #[test]
    fn a_concatenated_part_has_udhi_and_its_text_starts_after_one_fill_bit() {
        let mut tpdu = Vec::new();
        let concat = Concat { reference: 0x2A, total: 2, sequence: 1 };
        push_user_data(Encoding::Gsm7, "hi", Some(&concat), &mut tpdu).expect("fits");
        // UDL 9 septets: 7 for the header and its fill bit, then 'h' (0x68) shifted past the
        // fill bit (0xD0), then 'i' (0x69).
        assert_eq!(tpdu, [0x09, 0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0xD0, 0x69]);
    }

    #[test]
    fn a_long_message_is_sent_as_parts_that_name_each_other() {
        let text = "x".repeat(300);
        let options = SubmitOptions { reference: 7, ..SubmitOptions::default() };
        let pdus = submit("+34600111222", &text, options);
        assert_eq!(pdus.len(), 2);
        assert!(pdus[0].hex.starts_with("0051000B914306101122F20000A7A0050003070201"), "{}", pdus[0].hex);
        assert!(pdus[1].hex.starts_with("0051000B914306101122F20000A79A050003070202"), "{}", pdus[1].hex);
        // 14 octets before the user data, whose 160 septets fill 140 octets.
        assert_eq!(pdus[0].tpdu_len, 14 + 140);
        let parts: Vec<Submit> = pdus.iter().map(|pdu| decode_submit(&pdu.hex).expect("decodes")).collect();
        assert_eq!(parts[0].concat, Some(Concat { reference: 7, total: 2, sequence: 1 }));
        assert_eq!(parts[0].text.len() + parts[1].text.len(), 300);
    }

    #[test]
    fn the_tpdu_length_is_the_pdu_without_its_smsc_octet() {
        for pdu in submit("600111222", &"é€".repeat(90), SubmitOptions::default()) {
            assert_eq!(pdu.hex.len() / 2 - 1, pdu.tpdu_len);
        }
    }

    #[test]
    fn a_submit_reads_back() {
        let pdus = submit("600111222", "Su turno: A-023 {ventanilla 4}", SubmitOptions::default());
        let read = decode_submit(&pdus[0].hex).expect("decodes");
        assert_eq!(read.to, "600111222");
        assert_eq!(read.text, "Su turno: A-023 {ventanilla 4}");
        assert_eq!(read.encoding, Encoding::Gsm7);
        assert_eq!(read.validity.map(Validity::duration), Some(Duration::from_secs(24 * 3600)));
        assert_eq!(read.concat, None);
    }

    #[test]
    fn a_deliver_as_a_modem_lists_it_reads_back() {
        // SMSC +34609090909; from +34600111222; "STOP"; 2026-11-29 10:42:07 +01:00.
        let pdu = "07914306090909F9040B914306101122F20000621192012470400453EA130A";
        // (built by hand: first octet 04 (no more messages), PID 00, DCS 00, SCTS 62 11 92 01 24 70 40
        // in swapped BCD (+4 quarters), UDL 04, "STOP" packed as 53 EA 13 0A)
        let read = decode_deliver(pdu).expect("decodes");
        assert_eq!(read.service_centre.as_deref(), Some("+34609090909"));
        assert_eq!(read.from, "+34600111222");
        assert_eq!(read.text, "STOP");
        let timestamp = Timestamp { year: 26, month: 11, day: 29, hour: 10, minute: 42, second: 7, offset_quarters: 4 };
        assert_eq!(read.timestamp, timestamp);
        let encoded = encode_deliver("+34609090909", "+34600111222", "STOP", timestamp, 0).expect("encodes");
        assert_eq!(encoded, [pdu]);
    }

    #[test]
    fn a_negative_time_zone_sets_the_sign_bit() {
        let timestamp = Timestamp { offset_quarters: -12, ..Timestamp::default() };
        let pdus = encode_deliver("+1555", "Movistar", "hola", timestamp, 0).expect("encodes");
        let read = decode_deliver(&pdus[0]).expect("decodes");
        assert_eq!((read.from.as_str(), read.timestamp.offset_quarters), ("Movistar", -12));
    }

    #[test]
    fn a_deliver_is_not_a_submit_nor_the_other_way() {
        let submit_hex = &submit("600111222", "hola", SubmitOptions::default())[0].hex;
        assert_eq!(decode_deliver(submit_hex), Err(SmsError::WrongType { expected: "DELIVER" }));
        let deliver_hex = &encode_deliver("+1555", "600111222", "hola", Timestamp::default(), 0).expect("encodes")[0];
        assert_eq!(decode_submit(deliver_hex), Err(SmsError::WrongType { expected: "SUBMIT" }));
    }

    #[test]
    fn malformed_pdus_are_errors() {
        assert_eq!(decode_deliver("zz"), Err(SmsError::NotHex));
        assert_eq!(decode_deliver(""), Err(SmsError::Truncated));
        assert_eq!(decode_submit("0011000B916407281553F80000AA0AE8329B"), Err(SmsError::Truncated));
        assert_eq!(
            decode_submit("0011000B916407281553F80000AA0AE8329BFD4697D9EC3700"),
            Err(SmsError::TrailingBytes(1))
        );
        // 8-bit data is not text.
        assert_eq!(decode_submit("0011000B916407281553F80004AA0100"), Err(SmsError::UnsupportedDcs(0x04)));
        // A concatenation element whose part number exceeds its total.
        assert_eq!(decode_submit("0051000B916407281553F80008AA0705000301020300"), Err(SmsError::BadHeader));
    }

    #[test]
    fn half_a_surrogate_pair_reads_as_a_replacement_character() {
        // UCS-2 "a" then a lone high surrogate (D83D), from a phone that cut an emoji in two.
        let read = decode_submit("0011000B916407281553F80008AA040061D83D").expect("decodes");
        assert_eq!(read.text, "a\u{FFFD}");
    }

    #[test]
    fn more_parts_than_a_header_can_count_is_refused() {
        let error = encode_submit("600111222", &"a".repeat(153 * 255 + 1), SubmitOptions::default());
        assert_eq!(error, Err(SmsError::TooLong { parts: 256, max: 255 }));
    }
}
