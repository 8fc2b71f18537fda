//! SMS encoding as properties: whatever the text, it comes back whole; whatever the bytes, the
//! decoders answer instead of panicking.

use fila_notify::sms::{self, Encoding, Reassembler, SubmitOptions};
use proptest::prelude::*;

/// Texts that mix the GSM alphabet, its extension, Spanish accents and emoji.
fn text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("a".to_owned()),
        Just("Ñ".to_owned()),
        Just("€".to_owned()),
        Just("[".to_owned()),
        Just("á".to_owned()),
        Just("😀".to_owned()),
        Just(" ".to_owned()),
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(pieces, 0..400).prop_map(|pieces| pieces.concat())
}

fn number() -> impl Strategy<Value = String> {
    "\\+?[0-9]{1,20}"
}

proptest! {
    #[test]
    fn any_text_sent_reads_back_whole(to in number(), text in text(), reference in any::<u8>()) {
        let options = SubmitOptions { reference, ..SubmitOptions::default() };
        let pdus = sms::encode_submit(&to, &text, options).expect("fewer than 255 parts");
        prop_assert_eq!(pdus.len(), sms::segment_count(&text));
        let mut reassembler = Reassembler::new();
        let mut whole = Vec::new();
        for pdu in &pdus {
            prop_assert_eq!(pdu.hex.len(), 2 * (pdu.tpdu_len + 1));
            let part = sms::decode_submit(&pdu.hex).expect("our own PDU decodes");
            prop_assert_eq!(&part.to, &to);
            prop_assert_eq!(part.encoding, Encoding::for_text(&text));
            whole.extend(reassembler.push(&part.to, part.text, part.concat));
        }
        prop_assert_eq!(whole, vec![text]);
    }

    #[test]
    fn any_text_received_reads_back_whole(text in text(), reference in any::<u8>()) {
        let timestamp = sms::Timestamp { year: 26, month: 11, day: 29, ..sms::Timestamp::default() };
        let pdus = sms::encode_deliver("+34609090909", "+34600111222", &text, timestamp, reference)
            .expect("fewer than 255 parts");
        let mut reassembler = Reassembler::new();
        let mut whole = Vec::new();
        for pdu in &pdus {
            let part = sms::decode_deliver(pdu).expect("our own PDU decodes");
            prop_assert_eq!(part.timestamp, timestamp);
            whole.extend(reassembler.push(&part.from, part.text, part.concat));
        }
        prop_assert_eq!(whole, vec![text]);
    }

    #[test]
    fn segment_count_is_the_number_of_parts(text in text()) {
        let split = sms::split(&text);
        prop_assert_eq!(sms::segment_count(&text), split.parts.len());
        prop_assert_eq!(split.parts.concat(), text);
    }

    #[test]
    fn decoders_survive_any_hex(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        let _ = sms::decode_submit(&hex);
        let _ = sms::decode_deliver(&hex);
    }

    #[test]
    fn decoders_survive_any_text(text in ".{0,300}") {
        let _ = sms::decode_submit(&text);
        let _ = sms::decode_deliver(&text);
    }

    #[test]
    fn decoders_survive_a_damaged_pdu(text in text(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let pdus = sms::encode_submit("+34600111222", &text, SubmitOptions::default()).expect("encodes");
        let mut bytes = hex::decode(&pdus[0].hex).expect("hex");
        let at = at.index(bytes.len());
        bytes[at] = byte;
        let _ = sms::decode_submit(&hex::encode(&bytes));
        let _ = sms::decode_deliver(&hex::encode(&bytes));
    }
}

#[test]
fn every_part_fits_in_140_octets_of_user_data() {
    for text in ["a".repeat(1000), "á".repeat(500), "€".repeat(400), "😀".repeat(300)] {
        for pdu in sms::encode_submit("+34600111222", &text, SubmitOptions::default()).expect("encodes") {
            // 14 octets of header for an 11-digit number, then at most 140 of user data.
            assert!(pdu.tpdu_len <= 14 + 140, "{}", pdu.tpdu_len);
        }
    }
}
