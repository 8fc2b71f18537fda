//! Topics and payloads of fila's MQTT devices, without a broker: the layout, id checks, round
//! trips, size caps, clear errors, and parsers that survive any input.

use std::collections::BTreeMap;

use fila_devices::mqtt::payload::{status_payload, BOARD_PAYLOAD_BYTES_MAX, DEVICE_PAYLOAD_BYTES_MAX};
use fila_devices::mqtt::{
    parse_device_status, parse_display_state, parse_kiosk_button, parse_kiosk_ticket, validate_id, BoardCall,
    BoardState, CallEvent, DisplayState, InboundTopic, KioskButton, KioskTicket, PayloadError, PrinterStatusPayload,
    TopicError, Topics,
};
use proptest::prelude::*;

fn display_state(ticket: Option<&str>) -> DisplayState {
    DisplayState {
        seq: 812,
        counter: "4".into(),
        label: "Ventanilla 4".into(),
        ticket: ticket.map(Into::into),
        blink: 3,
        ts: 1_764_450_000_000,
    }
}

fn assert_error_mentions<T: std::fmt::Debug>(result: Result<T, PayloadError>, fragment: &str) {
    match result {
        Err(error) => assert!(error.to_string().contains(fragment), "{error:?} should mention {fragment:?}"),
        Ok(value) => panic!("expected an error mentioning {fragment:?}, got {value:?}"),
    }
}

#[test]
fn the_topic_layout_is_the_documented_one() {
    let topics = Topics::new("qms", "centro");
    assert_eq!(topics.edge_status(), "qms/centro/edge/status");
    assert_eq!(topics.display_state("4"), "qms/centro/display/4/state");
    assert_eq!(topics.display_status("4"), "qms/centro/display/4/status");
    assert_eq!(topics.call(), "qms/centro/call");
    assert_eq!(topics.board_state(), "qms/centro/board/state");
    assert_eq!(topics.printer_status("p1"), "qms/centro/printer/p1/status");
    assert_eq!(topics.kiosk_button("k1"), "qms/centro/kiosk/k1/button");
    assert_eq!(topics.kiosk_ticket("k1"), "qms/centro/kiosk/k1/ticket");
    assert_eq!(topics.display_status_filter(), "qms/centro/display/+/status");
    assert_eq!(topics.kiosk_button_filter(), "qms/centro/kiosk/+/button");
}

#[test]
fn ids_become_lowercase_topic_levels_and_bad_ones_never_add_levels_or_wildcards() {
    let topics = Topics::new("qms", "Centro_Norte");
    assert_eq!(topics.display_state("Caja-2"), "qms/centro_norte/display/caja-2/state");
    assert_eq!(topics.display_state("a/b"), "qms/centro_norte/display/a_b/state");
    assert_eq!(topics.kiosk_button("#"), "qms/centro_norte/kiosk/_/button");
    assert_eq!(topics.printer_status(""), "qms/centro_norte/printer/_/status");
    assert_eq!(validate_id("Caja-2"), Ok("caja-2".to_owned()));
    assert_eq!(validate_id(""), Err(TopicError::EmptyId));
    assert!(matches!(validate_id("caja 2"), Err(TopicError::IdCharacter { .. })));
    assert!(matches!(validate_id(&"x".repeat(33)), Err(TopicError::IdTooLong { .. })));
    assert!(Topics::try_new("qms", "centro/norte").is_err());
    assert_eq!(Topics::try_new("qms", "Centro"), Ok(Topics::new("qms", "centro")));
}

#[test]
fn parse_recognises_only_the_inbound_topics_of_this_office() {
    let topics = Topics::new("qms", "centro");
    assert_eq!(topics.parse("qms/centro/display/4/status"), Some(InboundTopic::DisplayStatus { counter: "4".into() }));
    assert_eq!(topics.parse("qms/centro/kiosk/k1/button"), Some(InboundTopic::KioskButton { kiosk: "k1".into() }));
    for other in [
        "qms/centro/display/4/state",
        "qms/centro/edge/status",
        "qms/norte/display/4/status",
        "qms/centrox/display/4/status",
        "qms/centro/display/4/status/x",
        "qms/centro/display//status",
        "qms/centro/display/A/status",
        "qms/centro/kiosk/k1",
        "qms/centro",
        "",
    ] {
        assert_eq!(topics.parse(other), None, "{other}");
    }
    assert_eq!(
        topics.parse(&topics.display_status("Caja-2")),
        Some(InboundTopic::DisplayStatus { counter: "caja-2".into() })
    );
}

#[test]
fn payloads_round_trip_and_match_the_documented_json() {
    let state = display_state(Some("A-023"));
    let bytes = state.to_payload().expect("fits");
    assert_eq!(
        String::from_utf8(bytes.clone()).expect("JSON is UTF-8"),
        r#"{"seq":812,"counter":"4","label":"Ventanilla 4","ticket":"A-023","blink":3,"ts":1764450000000}"#
    );
    assert_eq!(parse_display_state(&bytes), Ok(state));
    let blank = display_state(None);
    assert_eq!(parse_display_state(&blank.to_payload().expect("fits")), Ok(blank));

    let call = CallEvent {
        seq: 813,
        ticket: "A-023".into(),
        counter: "4".into(),
        label: "Ventanilla 4".into(),
        service: "a".into(),
        ts: 1,
    };
    assert_eq!(serde_json::from_slice::<CallEvent>(&call.to_payload().expect("fits")).expect("parses back"), call);

    let board = BoardState {
        seq: 77,
        calls: vec![BoardCall { ticket: "A-023".into(), counter: "4".into(), ts: 1 }],
        waiting: BTreeMap::from([("a".to_owned(), 5), ("b".to_owned(), 0)]),
    };
    assert_eq!(serde_json::from_slice::<BoardState>(&board.to_payload().expect("fits")).expect("parses back"), board);

    let printer = PrinterStatusPayload { state: "near_end".into(), ts: 1 };
    assert_eq!(
        String::from_utf8(printer.to_payload().expect("fits")).expect("parses back"),
        r#"{"state":"near_end","ts":1}"#
    );

    let button = KioskButton { service: "A".into(), category: Some("senior".into()) };
    assert_eq!(parse_kiosk_button(&button.to_payload().expect("fits")), Ok(button));
    let answer = KioskTicket { ticket: None, error: Some("service closed".into()) };
    assert_eq!(parse_kiosk_ticket(&answer.to_payload().expect("fits")), Ok(answer));
    assert_eq!(parse_device_status(status_payload(true)), Ok(true));
    assert_eq!(parse_device_status(status_payload(false)), Ok(false));
}

#[test]
fn device_payloads_are_capped_for_a_256_byte_esp32_buffer() {
    let mut state = display_state(Some("A-023"));
    state.label = "x".repeat(DEVICE_PAYLOAD_BYTES_MAX);
    assert_error_mentions(state.to_payload(), "at most 200");
    let oversized = format!(r#"{{"service":"a","pad":"{}"}}"#, " ".repeat(DEVICE_PAYLOAD_BYTES_MAX));
    assert!(matches!(parse_kiosk_button(oversized.as_bytes()), Err(PayloadError::TooLong { .. })));
    assert!(matches!(parse_display_state(&[b' '; 1_000]), Err(PayloadError::TooLong { .. })));

    let board = BoardState {
        seq: 1,
        calls: (0..1_000).map(|i| BoardCall { ticket: format!("A-{i:03}"), counter: "4".into(), ts: i }).collect(),
        waiting: BTreeMap::new(),
    };
    assert_error_mentions(board.to_payload(), &format!("at most {BOARD_PAYLOAD_BYTES_MAX}"));
}

#[test]
fn bad_json_and_wrong_types_are_rejected_with_clear_errors() {
    assert_error_mentions(parse_kiosk_button(b""), "empty");
    assert_error_mentions(parse_kiosk_button(b"press"), "kiosk button payload is not valid JSON");
    assert_error_mentions(parse_kiosk_button(br#"{"service":5}"#), "invalid type: integer `5`, expected a string");
    assert_error_mentions(parse_kiosk_button(br#"{"category":"x"}"#), "missing field `service`");
    assert_error_mentions(parse_kiosk_button(br#"{"service":"a b"}"#), r#"service "a b" is not an id"#);
    assert_error_mentions(parse_kiosk_button(br#"{"service":"a","category":7}"#), "invalid type: integer `7`");
    assert_error_mentions(parse_kiosk_button(br#"["a"]"#), "expected a JSON object");
    assert_error_mentions(parse_display_state(br#"{"seq":-1}"#), "invalid value: integer `-1`");
    assert_error_mentions(parse_display_state(br#"{"seq":1,"counter":"4"}"#), "missing field `label`");
    assert_error_mentions(parse_device_status(b"maybe"), r#"must be "online" or "offline", not "maybe""#);
    assert_error_mentions(parse_device_status(&[0xff, 0xfe]), "must be");
    assert_eq!(parse_device_status(b" ONLINE\r\n"), Ok(true), "Tasmota-style case and a trailing newline");
}

proptest! {
    #[test]
    fn parsers_survive_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_kiosk_button(&bytes);
        let _ = parse_device_status(&bytes);
        let _ = parse_display_state(&bytes);
        let _ = parse_kiosk_ticket(&bytes);
    }

    #[test]
    fn parsers_survive_json_like_text(text in r#"[{}\[\]":,a-z0-9 .\-]{0,220}"#) {
        let _ = parse_kiosk_button(text.as_bytes());
        let _ = parse_display_state(text.as_bytes());
    }

    #[test]
    fn topic_parse_survives_any_string(topic in any::<String>(), near in "(qms/centro/)?((display|kiosk|[a-z]{0,3})/){0,2}[a-zA-Z0-9+#/_-]{0,40}") {
        let topics = Topics::new("qms", "centro");
        let _ = topics.parse(&topic);
        if let Some(InboundTopic::DisplayStatus { counter } | InboundTopic::KioskButton { kiosk: counter }) = topics.parse(&near) {
            prop_assert!(validate_id(&counter) == Ok(counter.clone()));
        }
    }

    #[test]
    fn every_valid_id_round_trips_through_its_topic(id in "[A-Za-z0-9_-]{1,32}") {
        let topics = Topics::new("qms", "centro");
        let lower = id.to_ascii_lowercase();
        prop_assert_eq!(topics.parse(&topics.display_status(&id)), Some(InboundTopic::DisplayStatus { counter: lower.clone() }));
        prop_assert_eq!(topics.parse(&topics.kiosk_button(&id)), Some(InboundTopic::KioskButton { kiosk: lower }));
    }

    #[test]
    fn any_topic_from_any_id_is_a_valid_publish_topic_of_five_levels(id in any::<String>()) {
        let topic = Topics::new("qms", "centro").display_state(&id);
        prop_assert!(!topic.contains(['+', '#', '\0']));
        prop_assert_eq!(topic.split('/').count(), 5);
    }

    #[test]
    fn display_states_that_fit_round_trip(
        seq in any::<u64>(), counter in "[a-z0-9]{1,8}", label in "\\PC{0,40}",
        ticket in proptest::option::of("[A-Z]-[0-9]{3}"), blink in any::<u8>(), ts in any::<i64>(),
    ) {
        let state = DisplayState { seq, counter, label, ticket, blink, ts };
        match state.to_payload() {
            Ok(bytes) => prop_assert_eq!(parse_display_state(&bytes), Ok(state)),
            Err(error) => {
                let too_long = matches!(error, PayloadError::TooLong { .. });
                prop_assert!(too_long, "{}", error);
            }
        }
    }
}
