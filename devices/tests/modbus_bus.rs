//! Displays on one RS-485 bus, driven over `tokio::io::duplex`: the bytes on the wire, and the
//! bus against emulated displays that answer, refuse, or fall silent.

use std::time::{Duration, Instant};

use fila_devices::modbus::ExceptionCode;
use fila_devices::modbus::{
    BusSettings, DisplayBus, DisplayContent, DisplayError, EmulatedDisplay, Emulator, RegisterMap, TextEncoding,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};

const TIMEOUT_MS: u64 = 50;
const RETRIES: u8 = 2;

fn settings() -> BusSettings {
    BusSettings { timeout_ms: TIMEOUT_MS, retries: RETRIES, ..BusSettings::new("duplex") }
}

fn ascii(chars: u16) -> RegisterMap {
    RegisterMap {
        text_register: 0x0010,
        text_chars: chars,
        encoding: TextEncoding::Ascii,
        blink_register: Some(0x0020),
        brightness_register: None,
    }
}

fn number() -> RegisterMap {
    RegisterMap {
        text_register: 0x0000,
        text_chars: 4,
        encoding: TextEncoding::Number,
        blink_register: None,
        brightness_register: None,
    }
}

fn segments() -> RegisterMap {
    RegisterMap {
        text_register: 0x0080,
        text_chars: 6,
        encoding: TextEncoding::SevenSegment,
        blink_register: None,
        brightness_register: None,
    }
}

fn call(ticket: &str, counter: &str) -> DisplayContent {
    DisplayContent::Call { ticket: ticket.into(), counter: counter.into(), blink: 3 }
}

/// An office with four counters, each display a different model, all on one bus.
fn office() -> Vec<EmulatedDisplay> {
    [(1, "1", ascii(6)), (2, "2", ascii(8)), (3, "3", segments()), (4, "4", number())]
        .into_iter()
        .map(|(unit, counter, map)| EmulatedDisplay { unit, counter: counter.into(), map })
        .collect()
}

fn map_of(unit: u8) -> RegisterMap {
    office().into_iter().find(|display| display.unit == unit).map(|display| display.map).expect("unit in the office")
}

/// A bus whose far end is the emulator.
fn bus_to(emulator: &Emulator) -> DisplayBus {
    let (near, far) = tokio::io::duplex(1024);
    let server = emulator.clone();
    tokio::spawn(async move { server.serve_rtu(far).await });
    DisplayBus::spawn(near, &settings())
}

/// Reads one request's bytes as the master wrote them.
async fn read_request(far: &mut DuplexStream) -> Vec<u8> {
    let mut request = vec![0; 256];
    let read = far.read(&mut request).await.expect("the master writes a request");
    request.truncate(read);
    request
}

#[tokio::test]
async fn showing_23_on_a_number_display_writes_the_led_485_example_frame() {
    let (near, mut far) = tokio::io::duplex(1024);
    let bus = DisplayBus::spawn(near, &settings());
    let show = tokio::spawn(async move { bus.show(1, &number(), &call("A-023", "4")).await });
    let request = read_request(&mut far).await;
    assert_eq!(request, [0x01, 0x06, 0x00, 0x00, 0x00, 0x17, 0xC9, 0xC4]);
    far.write_all(&request).await.expect("reply"); // FC06 answers with an echo
    show.await.expect("show task").expect("the display took it");
}

#[tokio::test]
async fn showing_text_writes_one_fc16_frame_then_the_blink_count() {
    let (near, mut far) = tokio::io::duplex(1024);
    let bus = DisplayBus::spawn(near, &settings());
    let map = RegisterMap { blink_register: None, ..ascii(6) };
    let show = tokio::spawn(async move { bus.show(4, &map, &call("A-023", "4")).await });
    let request = read_request(&mut far).await;
    let text = [0x04, 0x10, 0x00, 0x10, 0x00, 0x03, 0x06, 0x41, 0x30, 0x32, 0x33, 0x20, 0x34, 0x42, 0xA5];
    assert_eq!(request, text, "unit 4, registers 0x10.., \"A023 4\"");
    far.write_all(&[0x04, 0x10, 0x00, 0x10, 0x00, 0x03, 0x81, 0x98]).await.expect("reply");
    show.await.expect("show task").expect("the display took it");
}

#[tokio::test]
async fn several_displays_on_one_bus_each_show_their_own_call() {
    let emulator = Emulator::new(office());
    let bus = bus_to(&emulator);
    let calls = [(1, "A-023", "1"), (2, "B-104", "2"), (3, "C-007", "3"), (4, "D-042", "4")];
    for (unit, ticket, counter) in calls {
        bus.show(unit, &map_of(unit), &call(ticket, counter)).await.expect("display answers");
    }
    assert_eq!(emulator.shown(1).as_deref(), Some("A023 1"));
    assert_eq!(emulator.shown(2).as_deref(), Some("B-104  2"));
    assert_eq!(emulator.shown(3).as_deref(), Some("C007 3"));
    assert_eq!(emulator.shown(4).as_deref(), Some("  42"));
    assert_eq!(emulator.blink(1), Some(3));
    for (unit, ticket, counter) in calls {
        assert_eq!(emulator.shown(unit), Some(map_of(unit).text(&call(ticket, counter))), "unit {unit}");
    }
}

#[tokio::test]
async fn blank_clears_a_display_and_the_others_keep_their_call() {
    let emulator = Emulator::new(office());
    let bus = bus_to(&emulator);
    bus.show(1, &map_of(1), &call("A-023", "1")).await.expect("shown");
    bus.show(2, &map_of(2), &call("A-024", "2")).await.expect("shown");
    bus.show(1, &map_of(1), &DisplayContent::Blank).await.expect("cleared");
    assert_eq!(emulator.shown(1).as_deref(), Some("      "));
    assert_eq!(emulator.blink(1), Some(0));
    assert_eq!(emulator.shown(2).as_deref(), Some("A-024  2"));
}

#[tokio::test]
async fn each_change_is_announced_with_its_unit() {
    let emulator = Emulator::new(office());
    let mut changes = emulator.changes();
    let bus = bus_to(&emulator);
    bus.show(3, &map_of(3), &call("A-023", "3")).await.expect("shown");
    bus.show(3, &map_of(3), &call("A-023", "3")).await.expect("shown again");
    bus.show(3, &map_of(3), &DisplayContent::Blank).await.expect("cleared");
    assert_eq!(changes.try_recv().ok(), Some((3, "A023 3".to_owned())));
    assert_eq!(changes.try_recv().ok(), Some((3, "      ".to_owned())), "showing the same text again is no change");
    assert!(changes.try_recv().is_err());
}

#[tokio::test]
async fn a_display_that_stops_answering_times_out_while_the_others_still_work() {
    let emulator = Emulator::new(office());
    let bus = bus_to(&emulator);
    emulator.set_silent(2, true);

    let started = Instant::now();
    let error = bus.show(2, &map_of(2), &call("A-023", "2")).await.expect_err("silent display");
    let took = started.elapsed();
    assert!(matches!(error, DisplayError::Timeout { unit: 2, attempts } if attempts == RETRIES + 1), "{error:?}");
    assert_eq!(error.to_string(), "display at unit 2 did not answer (3 attempts)");
    // Three attempts of 50 ms, each followed by at most 50 ms of draining; generous for slow CI.
    assert!(took >= Duration::from_millis(3 * TIMEOUT_MS), "gave up too soon: {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");

    bus.show(1, &map_of(1), &call("A-024", "1")).await.expect("the neighbour still works");
    bus.probe(4, &map_of(4)).await.expect("the neighbour still answers a probe");
    assert_eq!(emulator.shown(1).as_deref(), Some("A024 1"));

    emulator.set_silent(2, false);
    bus.show(2, &map_of(2), &call("A-025", "2")).await.expect("answers again");
    assert_eq!(emulator.shown(2).as_deref(), Some("A-025  2"));
}

#[tokio::test]
async fn a_unit_nobody_has_times_out() {
    let emulator = Emulator::new(office());
    let bus = bus_to(&emulator);
    let error = bus.probe(9, &ascii(6)).await.expect_err("nobody at unit 9");
    assert!(matches!(error, DisplayError::Timeout { unit: 9, attempts: 3 }), "{error:?}");
    bus.probe(1, &map_of(1)).await.expect("unit 1 answers");
}

#[tokio::test]
async fn a_display_refuses_registers_it_does_not_have() {
    let emulator = Emulator::new(office());
    let bus = bus_to(&emulator);
    // Unit 4 is a number-only display: it has no text at 0x0010.
    let error = bus.show(4, &ascii(6), &call("A-023", "4")).await.expect_err("wrong model configured");
    assert!(
        matches!(error, DisplayError::Exception { unit: 4, exception: ExceptionCode::IllegalDataAddress }),
        "{error:?}"
    );
    let error = bus.probe(4, &ascii(6)).await.expect_err("wrong model configured");
    assert!(matches!(error, DisplayError::Exception { unit: 4, .. }), "{error:?}");
    assert_eq!(emulator.shown(4).as_deref(), Some("    "), "nothing was written");
}

#[tokio::test]
async fn a_late_reply_does_not_answer_the_next_request() {
    let (near, mut far) = tokio::io::duplex(1024);
    let settings = BusSettings { timeout_ms: 100, retries: 0, ..BusSettings::new("duplex") };
    let bus = DisplayBus::spawn(near, &settings);
    let peer = tokio::spawn(async move {
        // Answers the first request after the master gave up, the second at once.
        let first = read_request(&mut far).await;
        tokio::time::sleep(Duration::from_millis(125)).await;
        far.write_all(&first).await.expect("late reply");
        let second = read_request(&mut far).await;
        far.write_all(&second).await.expect("reply");
        (first, second)
    });
    let error = bus.show(1, &number(), &call("A-023", "1")).await.expect_err("too late");
    assert!(matches!(error, DisplayError::Timeout { unit: 1, attempts: 1 }), "{error:?}");
    bus.show(1, &number(), &call("A-042", "1")).await.expect("the stale echo of 23 is not taken for 42");
    let (first, second) = peer.await.expect("peer");
    assert_ne!(first, second);
}

#[tokio::test]
async fn a_reply_from_another_unit_is_not_taken() {
    let (near, mut far) = tokio::io::duplex(1024);
    let settings = BusSettings { retries: 0, ..settings() };
    let bus = DisplayBus::spawn(near, &settings);
    let peer = tokio::spawn(async move {
        read_request(&mut far).await;
        // Unit 2's echo of "write 23 to register 0".
        far.write_all(&[0x02, 0x06, 0x00, 0x00, 0x00, 0x17, 0xC9, 0xF7]).await.expect("reply");
        far
    });
    let error = bus.show(1, &number(), &call("A-023", "1")).await.expect_err("wrong unit answered");
    assert!(matches!(error, DisplayError::BadReply { unit: 1, attempts: 1, .. }), "{error:?}");
    drop(peer.await);
}

#[tokio::test]
async fn a_bus_whose_line_is_gone_reports_io() {
    let (near, far) = tokio::io::duplex(1024);
    drop(far);
    let bus = DisplayBus::spawn(near, &settings());
    let error = bus.show(1, &number(), &call("A-023", "1")).await.expect_err("no line");
    assert!(matches!(error, DisplayError::Io(_)), "{error:?}");
}

#[tokio::test]
async fn nonsense_is_refused_before_it_reaches_the_bus() {
    let (near, _far) = tokio::io::duplex(1024);
    let bus = DisplayBus::spawn(near, &settings());
    let error = bus.show(0, &number(), &call("A-023", "1")).await.expect_err("broadcast");
    assert!(matches!(error, DisplayError::InvalidUnit { unit: 0 }), "{error:?}");
    let error = bus.probe(248, &number()).await.expect_err("reserved");
    assert!(matches!(error, DisplayError::InvalidUnit { unit: 248 }), "{error:?}");
    let error = bus.show(1, &ascii(0), &DisplayContent::Blank).await.expect_err("no characters");
    assert!(matches!(error, DisplayError::InvalidMap(_)), "{error:?}");
}

#[tokio::test]
async fn clones_share_one_bus_and_requests_do_not_interleave() {
    let emulator = Emulator::new(office());
    let bus = bus_to(&emulator);
    let shows = (1..=4_u8).map(|unit| {
        let bus = bus.clone();
        tokio::spawn(async move {
            for number in 1..=5 {
                let ticket = format!("A-{number:03}");
                bus.show(unit, &map_of(unit), &call(&ticket, &unit.to_string())).await.expect("display answers");
            }
        })
    });
    for show in shows.collect::<Vec<_>>() {
        show.await.expect("show task");
    }
    assert_eq!(emulator.shown(1).as_deref(), Some("A005 1"));
    assert_eq!(emulator.shown(4).as_deref(), Some("   5"));
}
