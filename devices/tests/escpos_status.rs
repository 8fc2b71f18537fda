//! What the printer says about itself (`DLE EOT`), and what the office concludes from it.

use std::time::{Duration, Instant};

use fila_devices::escpos::{
    decode_status, status_reply, summarize, Printer, PrinterProfile, PrinterStatus, StatusError, StatusFlags,
};
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn check(n: u8, byte: u8, expected: StatusFlags) {
    assert_eq!(decode_status(n, byte), Ok(expected), "DLE EOT {n} answered {byte:#04X}");
}

fn printer(offline: bool) -> StatusFlags {
    StatusFlags::Printer { drawer_high: false, offline, waiting_recovery: false, feed_button: false }
}

fn offline_cause(cover_open: bool, paper_end_stop: bool, error: bool) -> StatusFlags {
    StatusFlags::OfflineCause { cover_open, feeding_by_button: false, paper_end_stop, error }
}

fn paper(near_end: bool, end: bool) -> StatusFlags {
    StatusFlags::Paper { near_end, end }
}

#[test]
fn printer_status_bytes() {
    check(1, 0x12, printer(false));
    check(1, 0x1A, printer(true));
    check(
        1,
        0x16,
        StatusFlags::Printer { drawer_high: true, offline: false, waiting_recovery: false, feed_button: false },
    );
    check(
        1,
        0x7E,
        StatusFlags::Printer { drawer_high: true, offline: true, waiting_recovery: true, feed_button: true },
    );
}

#[test]
fn offline_cause_bytes() {
    check(2, 0x12, offline_cause(false, false, false));
    check(2, 0x16, offline_cause(true, false, false));
    check(2, 0x32, offline_cause(false, true, false));
    check(2, 0x52, offline_cause(false, false, true));
    check(
        2,
        0x1A,
        StatusFlags::OfflineCause { cover_open: false, feeding_by_button: true, paper_end_stop: false, error: false },
    );
}

#[test]
fn error_cause_bytes() {
    check(3, 0x12, StatusFlags::ErrorCause { autocutter: false, unrecoverable: false, auto_recoverable: false });
    check(3, 0x1A, StatusFlags::ErrorCause { autocutter: true, unrecoverable: false, auto_recoverable: false });
    check(3, 0x32, StatusFlags::ErrorCause { autocutter: false, unrecoverable: true, auto_recoverable: false });
    check(3, 0x52, StatusFlags::ErrorCause { autocutter: false, unrecoverable: false, auto_recoverable: true });
}

#[test]
fn paper_sensor_bytes() {
    check(4, 0x12, paper(false, false));
    check(4, 0x1E, paper(true, false));
    // Clones set only one bit of each pair.
    check(4, 0x16, paper(true, false));
    check(4, 0x72, paper(false, true));
    check(4, 0x32, paper(false, true));
    check(4, 0x7E, paper(true, true));
}

#[test]
fn bytes_without_the_fixed_bits_are_rejected() {
    for byte in [0x00, 0x02, 0x10, 0x13, 0x92, 0xFF, 0x0A] {
        assert_eq!(decode_status(1, byte), Err(StatusError::NotAStatusByte { n: 1, byte }), "{byte:#04X}");
    }
    assert_eq!(decode_status(5, 0x12), Err(StatusError::UnknownRequest(5)));
    assert_eq!(decode_status(0, 0x12), Err(StatusError::UnknownRequest(0)));
}

#[test]
fn summaries_say_what_staff_must_do() {
    let ok = (Some(printer(false)), Some(offline_cause(false, false, false)), Some(paper(false, false)));
    assert_eq!(summarize(ok.0, ok.1, ok.2), PrinterStatus::Ok);
    // Paper out: the printer stops, says why, and the sensor agrees.
    assert_eq!(
        summarize(Some(printer(true)), Some(offline_cause(false, true, false)), Some(paper(true, true))),
        PrinterStatus::Out
    );
    assert_eq!(summarize(ok.0, ok.1, Some(paper(true, false))), PrinterStatus::NearEnd);
    // An open cover also blinds the paper sensor; closing it comes first.
    assert_eq!(
        summarize(Some(printer(true)), Some(offline_cause(true, false, false)), Some(paper(true, true))),
        PrinterStatus::CoverOpen
    );
    assert_eq!(summarize(Some(printer(true)), Some(offline_cause(false, false, true)), ok.2), PrinterStatus::Offline);
    assert_eq!(summarize(Some(printer(true)), None, None), PrinterStatus::Offline);
    assert_eq!(summarize(None, None, None), PrinterStatus::Unknown);
}

#[test]
fn who_may_print() {
    let printing: Vec<PrinterStatus> = [
        PrinterStatus::Ok,
        PrinterStatus::NearEnd,
        PrinterStatus::Out,
        PrinterStatus::CoverOpen,
        PrinterStatus::Offline,
        PrinterStatus::Unknown,
    ]
    .into_iter()
    .filter(|status| status.can_print())
    .collect();
    assert_eq!(printing, [PrinterStatus::Ok, PrinterStatus::NearEnd, PrinterStatus::Unknown]);
}

#[test]
fn status_names_are_the_mqtt_payloads() {
    let all = [
        PrinterStatus::Ok,
        PrinterStatus::NearEnd,
        PrinterStatus::Out,
        PrinterStatus::CoverOpen,
        PrinterStatus::Offline,
        PrinterStatus::Unknown,
    ];
    let names: Vec<&str> = all.iter().map(|status| status.as_str()).collect();
    assert_eq!(names, ["ok", "near_end", "out", "cover_open", "offline", "unknown"]);
    for status in all {
        assert_eq!(serde_json::to_string(&status).expect("serialises"), format!("\"{}\"", status.as_str()));
    }
}

#[test]
fn emulated_answers_summarise_back_to_the_status() {
    for status in [
        PrinterStatus::Ok,
        PrinterStatus::NearEnd,
        PrinterStatus::Out,
        PrinterStatus::CoverOpen,
        PrinterStatus::Offline,
    ] {
        let answer = |n| status_reply(status, n).map(|byte| decode_status(n, byte).expect("a valid status byte"));
        assert_eq!(summarize(answer(1), answer(2), answer(4)), status);
        assert!(answer(3).is_some());
    }
    assert_eq!(status_reply(PrinterStatus::Unknown, 1), None);
    // The notes' examples: paper-end stop and no paper.
    assert_eq!(status_reply(PrinterStatus::Out, 2), Some(0x32));
    assert_eq!(status_reply(PrinterStatus::Out, 4), Some(0x7E));
}

#[tokio::test]
async fn write_only_printer_is_always_unknown() {
    let (ours, mut theirs) = tokio::io::duplex(64);
    let mut printer = Printer::write_only(ours, PrinterProfile::default());
    // Even a peer ready to answer is never asked.
    theirs.write_all(&[0x12, 0x12, 0x12]).await.expect("duplex write");
    assert_eq!(printer.status().await, PrinterStatus::Unknown);
    printer.print(b"\x1B\x40").await.expect("printed");
    drop(printer);
    let mut sent = Vec::new();
    theirs.read_to_end(&mut sent).await.expect("duplex read");
    assert_eq!(sent, b"\x1B\x40", "no status request was sent");
}

#[tokio::test]
async fn silent_printer_is_unknown_within_a_second() {
    let (ours, _silent) = tokio::io::duplex(64);
    let mut printer = Printer::new(ours, PrinterProfile::default());
    let started = Instant::now();
    assert_eq!(printer.status().await, PrinterStatus::Unknown);
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn garbage_answer_is_unknown() {
    let (ours, mut theirs) = tokio::io::duplex(64);
    let mut printer = Printer::new(ours, PrinterProfile::default());
    let peer = tokio::spawn(async move {
        let mut request = [0_u8; 3];
        theirs.read_exact(&mut request).await.expect("a request");
        theirs.write_all(b"A").await.expect("an answer");
        theirs
    });
    assert_eq!(printer.status().await, PrinterStatus::Unknown);
    peer.await.expect("peer task");
}

#[tokio::test]
async fn stale_answers_are_discarded_before_asking() {
    let (ours, mut theirs) = tokio::io::duplex(64);
    let mut printer = Printer::new(ours, PrinterProfile::default());
    // A late "paper out" from an earlier query sits in the buffer.
    theirs.write_all(&[0x7E, 0x7E]).await.expect("stale bytes");
    let peer = tokio::spawn(async move {
        for _ in 0..3 {
            let mut request = [0_u8; 3];
            theirs.read_exact(&mut request).await.expect("a request");
            theirs.write_all(&[0x12]).await.expect("an answer");
        }
        theirs
    });
    assert_eq!(printer.status().await, PrinterStatus::Ok);
    peer.await.expect("peer task");
}

#[tokio::test]
async fn a_printer_that_stops_taking_data_times_out() {
    let (ours, _stuck) = tokio::io::duplex(8);
    let mut printer = Printer::new(ours, PrinterProfile::default())
        .with_name("test printer")
        .with_timeouts(Duration::from_millis(100), Duration::from_millis(100));
    let error = printer.print(&[b'x'; 64]).await.expect_err("the peer never reads");
    assert_eq!(
        error.to_string(),
        "printer test printer did not take the job within 100ms (out of paper, cover open, offline or unplugged?)"
    );
}

proptest! {
    #[test]
    fn decode_status_never_panics_and_accepts_only_answers(n in any::<u8>(), byte in any::<u8>()) {
        match decode_status(n, byte) {
            Ok(_) => prop_assert!((1..=4).contains(&n) && byte & 0x93 == 0x12),
            Err(_) => prop_assert!(!(1..=4).contains(&n) || byte & 0x93 != 0x12),
        }
    }
}
