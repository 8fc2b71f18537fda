//! Whatever a display (or noise on the line) answers, the bus neither panics nor wedges, and
//! decoding any register contents is safe.

use std::time::Duration;

use fila_devices::modbus::{
    decode_text, BusSettings, DisplayBus, DisplayContent, DisplayError, EmulatedDisplay, Emulator, RegisterMap,
    RegisterWrite, TextEncoding,
};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn settings() -> BusSettings {
    BusSettings { timeout_ms: 30, retries: 1, ..BusSettings::new("fuzz") }
}

fn map(encoding: TextEncoding, text_chars: u16) -> RegisterMap {
    RegisterMap { text_register: 0x0010, text_chars, encoding, blink_register: Some(0x0040), brightness_register: None }
}

fn encodings() -> impl Strategy<Value = TextEncoding> {
    prop_oneof![Just(TextEncoding::Ascii), Just(TextEncoding::SevenSegment), Just(TextEncoding::Number)]
}

/// CRC-16/MODBUS, so some answers are well-formed frames with wrong contents.
fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xFFFF_u16, |crc, byte| {
        (0..8).fold(crc ^ u16::from(*byte), |crc, _| if crc & 1 == 1 { (crc >> 1) ^ 0xA001 } else { crc >> 1 })
    })
}

/// Arbitrary bytes, or an arbitrary frame with a valid CRC (a confused display).
fn answers() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        (
            any::<u8>(),
            prop_oneof![Just(0x03_u8), Just(0x06), Just(0x10), Just(0x83), Just(0x86), any::<u8>()],
            proptest::collection::vec(any::<u8>(), 0..12)
        )
            .prop_map(|(unit, function, data)| {
                let mut frame = vec![unit, function];
                frame.extend(data);
                let crc = crc16(&frame);
                frame.extend(crc.to_le_bytes());
                frame
            }),
    ]
}

/// The display at unit 1 first answers `answer` to one request, then behaves (the emulator takes
/// over the line). `probe` picks the request.
fn check_survives(answer: Vec<u8>, encoding: TextEncoding, probe: bool) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async move {
        let display_map = map(encoding, 6);
        let emulator = Emulator::new(vec![EmulatedDisplay { unit: 1, counter: "1".into(), map: display_map.clone() }]);
        let (near, mut far) = tokio::io::duplex(1024);
        let bus = DisplayBus::spawn(near, &settings());
        let server = emulator.clone();
        tokio::spawn(async move {
            let mut request = [0_u8; 256];
            let read = far.read(&mut request).await?;
            if read > 0 {
                far.write_all(&answer).await?;
            }
            server.serve_rtu(far).await
        });

        let content = DisplayContent::Call { ticket: "A-023".into(), counter: "1".into(), blink: 2 };
        let first = if probe { bus.probe(1, &display_map).await } else { bus.show(1, &display_map, &content).await };
        assert!(!matches!(first, Err(DisplayError::BusClosed)), "the bus task died: {first:?}");

        // Whatever happened, a well-behaved display is reached afterwards.
        let after = tokio::time::timeout(Duration::from_secs(5), bus.show(1, &display_map, &content)).await;
        assert!(matches!(after, Ok(Ok(()))), "after {first:?}: {after:?}");
        assert_eq!(emulator.shown(1), Some(display_map.text(&content)));
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn show_survives_any_answer(answer in answers(), encoding in encodings()) {
        check_survives(answer, encoding, false);
    }

    #[test]
    fn probe_survives_any_answer(answer in answers()) {
        check_survives(answer, TextEncoding::Ascii, true);
    }
}

proptest! {
    #[test]
    fn decode_text_takes_any_registers(
        encoding in encodings(),
        text_chars in 0_u16..80,
        registers in proptest::collection::vec(any::<u16>(), 0..50),
    ) {
        let map = map(encoding, text_chars);
        let text = decode_text(&map, &registers);
        prop_assert_eq!(text.chars().count(), usize::from(text_chars));
    }

    /// What `text` promises is what the registers written by `frame` read back as.
    #[test]
    fn frames_read_back_as_their_text(
        encoding in encodings(),
        text_chars in 1_u16..=64,
        ticket in "\\PC{0,12}",
        counter in "\\PC{0,4}",
        blink in any::<u8>(),
        blank in any::<bool>(),
    ) {
        let map = map(encoding, text_chars);
        let content = if blank { DisplayContent::Blank } else { DisplayContent::Call { ticket, counter, blink } };
        let text = map.text(&content);
        prop_assert_eq!(text.chars().count(), usize::from(text_chars));
        let writes = map.frame(&content);
        let registers = match &writes[0] {
            RegisterWrite::Multiple { register, values } => {
                prop_assert_eq!(*register, map.text_register);
                values.clone()
            }
            RegisterWrite::Single { register, value } => {
                prop_assert_eq!(*register, map.text_register);
                vec![*value]
            }
        };
        prop_assert_eq!(registers.len(), usize::from(map.text_registers()));
        prop_assert_eq!(decode_text(&map, &registers), text);
    }
}
