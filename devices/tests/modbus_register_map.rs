//! What a counter display's registers hold for a call, and which register maps make sense.

use fila_devices::modbus::{decode_text, DisplayContent, RegisterMap, RegisterWrite, TextEncoding};

fn ascii(chars: u16) -> RegisterMap {
    RegisterMap {
        text_register: 0x0010,
        text_chars: chars,
        encoding: TextEncoding::Ascii,
        blink_register: Some(0x0020),
        brightness_register: None,
    }
}

fn led_485_segments() -> RegisterMap {
    RegisterMap {
        text_register: 0x0080,
        text_chars: 6,
        encoding: TextEncoding::SevenSegment,
        blink_register: None,
        brightness_register: None,
    }
}

fn led_485_number() -> RegisterMap {
    RegisterMap {
        text_register: 0x0000,
        text_chars: 4,
        encoding: TextEncoding::Number,
        blink_register: None,
        brightness_register: None,
    }
}

fn call(ticket: &str, counter: &str) -> DisplayContent {
    DisplayContent::Call { ticket: ticket.into(), counter: counter.into(), blink: 3 }
}

/// The one place that checks a frame: the writes, and the text read back from them.
fn check_frame(map: &RegisterMap, content: &DisplayContent, writes: &[RegisterWrite], shown: &str) {
    assert_eq!(map.frame(content), writes, "frame of {content:?}");
    assert_eq!(map.text(content), shown, "text of {content:?}");
    let registers = match &writes[0] {
        RegisterWrite::Multiple { values, .. } => values.clone(),
        RegisterWrite::Single { value, .. } => vec![*value],
    };
    assert_eq!(decode_text(map, &registers), shown, "registers read back");
}

#[test]
fn a_six_character_display_drops_the_dash_to_fit_the_counter() {
    check_frame(
        &ascii(6),
        &call("A-023", "4"),
        &[
            RegisterWrite::Multiple { register: 0x0010, values: vec![0x4130, 0x3233, 0x2034] },
            RegisterWrite::Single { register: 0x0020, value: 3 },
        ],
        "A023 4",
    );
}

#[test]
fn an_eight_character_display_keeps_the_dash_and_right_aligns_the_counter() {
    check_frame(
        &ascii(8),
        &call("A-023", "4"),
        &[
            RegisterWrite::Multiple { register: 0x0010, values: vec![0x412D, 0x3032, 0x3320, 0x2034] },
            RegisterWrite::Single { register: 0x0020, value: 3 },
        ],
        "A-023  4",
    );
}

#[test]
fn a_seven_segment_display_gets_segment_bytes() {
    // A = 0x77, 0 = 0x3F, 2 = 0x5B, 3 = 0x4F, blank = 0x00, 4 = 0x66.
    check_frame(
        &led_485_segments(),
        &call("A-023", "4"),
        &[RegisterWrite::Multiple { register: 0x0080, values: vec![0x773F, 0x5B4F, 0x0066] }],
        "A023 4",
    );
}

#[test]
fn a_number_only_display_gets_the_ticket_digits_with_fc06() {
    check_frame(
        &led_485_number(),
        &call("A-023", "4"),
        &[RegisterWrite::Single { register: 0x0000, value: 23 }],
        "  23",
    );
}

#[test]
fn blank_clears_the_text_and_stops_blinking() {
    check_frame(
        &ascii(6),
        &DisplayContent::Blank,
        &[
            RegisterWrite::Multiple { register: 0x0010, values: vec![0x2020, 0x2020, 0x2020] },
            RegisterWrite::Single { register: 0x0020, value: 0 },
        ],
        "      ",
    );
    check_frame(&led_485_number(), &DisplayContent::Blank, &[RegisterWrite::Single { register: 0, value: 0 }], "    ");
    check_frame(
        &led_485_segments(),
        &DisplayContent::Blank,
        &[RegisterWrite::Multiple { register: 0x0080, values: vec![0, 0, 0] }],
        "      ",
    );
}

#[test]
fn an_odd_width_pads_the_last_register_with_a_blank() {
    check_frame(
        &RegisterMap { blink_register: None, ..ascii(5) },
        &call("B-7", "2"),
        &[RegisterWrite::Multiple { register: 0x0010, values: vec![0x422D, 0x3720, 0x3220] }],
        "B-7 2",
    );
}

#[test]
fn text_layouts_put_the_ticket_left_and_the_counter_right() {
    let cases = [
        // (chars, ticket, counter, shown)
        (6, "A-023", "4", "A023 4"),
        (7, "A-023", "4", "A-023 4"),
        (8, "A-023", "12", "A-023 12"),
        (6, "A-023", "12", "A023  "), // no room for the counter: the ticket matters more
        (4, "A-023", "4", "A023"),
        (3, "A-023", "4", "023"), // the number tells tickets apart, not the letter
        (10, "A-023", "", "A-023     "),
        (6, " C-5 ", " 3 ", "C-5  3"),
        (6, "Ñ-001", "4", "?001 4"), // an ASCII display cannot show Ñ
    ];
    for (chars, ticket, counter, shown) in cases {
        let map = ascii(chars);
        assert_eq!(map.text(&call(ticket, counter)), shown, "{ticket:?} at {counter:?} on {chars} characters");
    }
}

#[test]
fn seven_segments_show_letters_as_they_can() {
    let map = led_485_segments();
    assert_eq!(map.text(&call("b-017", "2")), "B017 2");
    // S and 5 are the same segments; M cannot be drawn at all.
    assert_eq!(map.text(&call("S-005", "1")), "5005 1");
    assert_eq!(map.text(&call("M-001", "1")), " 001 1");
}

#[test]
fn a_number_only_display_keeps_the_digits_it_has() {
    let two_digits = RegisterMap { text_chars: 2, ..led_485_number() };
    assert_eq!(two_digits.frame(&call("A-123", "4")), vec![RegisterWrite::Single { register: 0, value: 23 }]);
    assert_eq!(two_digits.text(&call("A-123", "4")), "23");
    let six_digits = RegisterMap { text_chars: 6, ..led_485_number() };
    assert_eq!(six_digits.text(&call("A-123456", "4")), "  3456", "at most four digits: LED-485 keeps an i16");
}

#[test]
fn brightness_is_written_only_where_the_model_has_it() {
    assert_eq!(ascii(6).brightness_write(8), None);
    let dimmable = RegisterMap { brightness_register: Some(0x0030), ..ascii(6) };
    assert_eq!(dimmable.brightness_write(8), Some(RegisterWrite::Single { register: 0x0030, value: 8 }));
}

#[test]
fn validate_accepts_real_display_models() {
    for map in
        [ascii(6), RegisterMap { blink_register: Some(0x0050), ..ascii(64) }, led_485_segments(), led_485_number()]
    {
        assert_eq!(map.validate(), Ok(()), "{map:?}");
    }
}

#[test]
fn validate_rejects_nonsense() {
    let cases = [
        (RegisterMap { text_chars: 0, ..ascii(6) }, "text_chars is 0"),
        (ascii(65), "more than the 64"),
        (RegisterMap { blink_register: Some(0x0012), ..ascii(6) }, "blink_register 0x0012 overlaps"),
        (RegisterMap { brightness_register: Some(0x0010), ..ascii(6) }, "brightness_register 0x0010 overlaps"),
        (RegisterMap { brightness_register: Some(0x0020), ..ascii(6) }, "both 0x0020"),
        (RegisterMap { text_register: 0xFFFE, blink_register: None, ..ascii(6) }, "past 0xFFFF"),
        (RegisterMap { blink_register: Some(0x0000), ..led_485_number() }, "overlaps"),
    ];
    for (map, problem) in cases {
        let error = map.validate().expect_err("nonsense must be rejected");
        assert!(error.contains(problem), "{map:?}: {error:?} should mention {problem:?}");
    }
}

#[test]
fn validate_reports_every_problem_at_once() {
    let map =
        RegisterMap { text_chars: 100, blink_register: Some(0x0010), brightness_register: Some(0x0010), ..ascii(6) };
    let error = map.validate().expect_err("three problems");
    assert_eq!(error.matches("; ").count(), 3, "{error}");
}

#[test]
fn decode_text_reads_missing_registers_as_blank_and_junk_as_question_marks() {
    assert_eq!(decode_text(&ascii(6), &[0x4130]), "A0    ");
    assert_eq!(decode_text(&ascii(4), &[0x41FF, 0x0033]), "A? 3");
    assert_eq!(decode_text(&led_485_segments(), &[0x7701, 0x8006]), "A? 1  ", "a decimal point is ignored");
    assert_eq!(decode_text(&led_485_number(), &[]), "    ");
    assert_eq!(decode_text(&led_485_number(), &[65535]), "5535");
}

#[test]
fn a_register_map_reads_from_configuration_with_defaults() {
    let map: RegisterMap = serde_json::from_str(r#"{"text_register": 128, "text_chars": 6}"#).expect("valid map");
    assert_eq!(
        map,
        RegisterMap {
            text_register: 128,
            text_chars: 6,
            encoding: TextEncoding::Ascii,
            blink_register: None,
            brightness_register: None
        }
    );
    let map: RegisterMap = serde_json::from_str(
        r#"{"text_register": 0, "text_chars": 4, "encoding": "seven_segment", "blink_register": 5}"#,
    )
    .expect("valid map");
    assert_eq!(map.encoding, TextEncoding::SevenSegment);
    assert_eq!(map.blink_register, Some(5));
    let typo = serde_json::from_str::<RegisterMap>(r#"{"text_register": 0, "text_chars": 4, "blink": 5}"#);
    assert!(typo.is_err(), "unknown fields are rejected, so a typo is not silently ignored");
}
