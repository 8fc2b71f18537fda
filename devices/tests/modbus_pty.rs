//! The emulator on a pseudo-terminal, opened by the bus as a serial port: what the edge does on
//! a developer's machine without displays, socat or hardware.

use std::{path::Path, time::Duration};

use fila_devices::modbus::{
    BusSettings, DisplayBus, DisplayContent, EmulatedDisplay, Emulator, RegisterMap, TextEncoding,
};

/// Opening pseudo-terminals is not thread-safe (serialport's own tests say so): one test at a
/// time.
static PTY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn ascii() -> RegisterMap {
    RegisterMap {
        text_register: 0x0010,
        text_chars: 6,
        encoding: TextEncoding::Ascii,
        blink_register: Some(0x0020),
        brightness_register: None,
    }
}

async fn wait_for_link(link: &Path) {
    for _ in 0..200 {
        if std::fs::read_link(link).is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} never appeared", link.display());
}

#[tokio::test]
async fn the_bus_drives_emulated_displays_through_a_pty_link() {
    let _pty = PTY.lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("ttyDISPLAYS");
    // A link left behind by an earlier run is replaced.
    std::os::unix::fs::symlink("/dev/pts/nonexistent", &link).expect("stale link");

    let emulator = Emulator::new(vec![
        EmulatedDisplay { unit: 1, counter: "1".into(), map: ascii() },
        EmulatedDisplay { unit: 4, counter: "4".into(), map: ascii() },
    ]);
    let server = emulator.clone();
    let served_link = link.clone();
    let serving = tokio::spawn(async move { server.serve_pty(&served_link).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    wait_for_link(&link).await;
    assert_ne!(std::fs::read_link(&link).expect("link"), Path::new("/dev/pts/nonexistent"));

    let settings = BusSettings { timeout_ms: 500, retries: 2, ..BusSettings::new(&link) };
    let bus = DisplayBus::open_serial(&settings).expect("the link opens as a serial port");
    let content = DisplayContent::Call { ticket: "A-023".into(), counter: "4".into(), blink: 2 };
    bus.show(4, &ascii(), &content).await.expect("display 4 answers");
    bus.probe(1, &ascii()).await.expect("display 1 answers");
    assert_eq!(emulator.shown(4).as_deref(), Some("A023 4"));
    assert_eq!(emulator.blink(4), Some(2));

    bus.show(4, &ascii(), &DisplayContent::Blank).await.expect("cleared");
    assert_eq!(emulator.shown(4).as_deref(), Some("      "));
    serving.abort();
}

#[tokio::test]
async fn a_link_over_a_regular_file_is_refused() {
    let _pty = PTY.lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("not-a-link");
    std::fs::write(&link, b"precious").expect("file");
    let emulator = Emulator::new(vec![]);
    let error = emulator.serve_pty(&link).await.expect_err("must not clobber a file");
    assert_eq!(error.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(std::fs::read(&link).expect("file"), b"precious");
}

#[tokio::test]
async fn opening_a_missing_port_says_which() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ttyNONE");
    let error = DisplayBus::open_serial(&BusSettings::new(&path)).expect_err("no such port");
    assert!(error.to_string().contains("ttyNONE"), "{error}");
}

#[tokio::test]
async fn a_line_plugged_in_after_the_start_is_opened_when_it_appears() {
    let _pty = PTY.lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("ttyLATE");
    let settings = BusSettings { timeout_ms: 300, retries: 1, ..BusSettings::new(&link) };
    let bus = DisplayBus::serial(&settings);
    let content = DisplayContent::Call { ticket: "B-007".into(), counter: "2".into(), blink: 0 };
    let missing = bus.show(2, &ascii(), &content).await.expect_err("no line yet");
    assert!(matches!(missing, fila_devices::modbus::DisplayError::Open { .. }), "{missing}");

    let emulator = Emulator::new(vec![EmulatedDisplay { unit: 2, counter: "2".into(), map: ascii() }]);
    let (server, served_link) = (emulator.clone(), link.clone());
    let serving = tokio::spawn(async move { server.serve_pty(&served_link).await });
    wait_for_link(&link).await;
    bus.show(2, &ascii(), &content).await.expect("the same bus opens the line once it is there");
    assert_eq!(emulator.shown(2).as_deref(), Some("B007 2"));
    serving.abort();
}
