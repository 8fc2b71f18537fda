//! A ticket travels from the driver to the emulated printer over a serial line (pty pair) or
//! TCP port 9100, and the printer's state comes back.

use std::path::Path;
use std::time::{Duration, Instant};

use fila_devices::escpos::{
    decode, encode_ticket, open, serve, serve_tcp, EmulatorOptions, FlowControl, Printer, PrinterError, PrinterProfile,
    PrinterStatus, PrinterTransport, TicketPrint,
};
use fila_devices::Lang;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio_serial::SerialPort;

/// `pty` pairs are not created safely from several threads at once.
static PTY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn ticket() -> TicketPrint {
    TicketPrint {
        office: "Oficina Peñalolén".to_owned(),
        number: "B-101".to_owned(),
        service: "Atención al público".to_owned(),
        issued_at: "29/11/2026 11:05".to_owned(),
        ahead: 2,
        wait_minutes: Some((4, 8)),
        tracking_url: Some("https://fila.example/t/b101".to_owned()),
        preferential: None,
        lang: Lang::Es,
        wait_outside: false,
    }
}

/// Waits for the emulator to write ticket file `name`.
async fn wait_for_file(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    let started = Instant::now();
    loop {
        if let Ok(text) = tokio::fs::read_to_string(&path).await {
            return text;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{} was never written", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn ticket_over_a_serial_line_reaches_the_emulator_and_status_comes_back() {
    let _pty = PTY.lock().await;
    let (emulator_end, driver_end) = tokio_serial::SerialStream::pair().expect("a pty pair");
    let path = driver_end.name().expect("the pty has a name");
    let out_dir = tempfile::tempdir().expect("temp dir");
    let (status_tx, status) = watch::channel(PrinterStatus::NearEnd);
    let options = EmulatorOptions { profile: PrinterProfile::default(), out_dir: Some(out_dir.path().into()), status };
    let emulator = tokio::spawn(async move { serve(emulator_end, &options).await });

    // Open the port by name, as the edge does from its settings.
    let transport = PrinterTransport::Serial { path: path.into(), baud: 9600, flow_control: FlowControl::Hardware };
    let mut printer = open(&transport, PrinterProfile::default()).await.expect("the pty opens");
    drop(driver_end);
    let bytes = encode_ticket(&ticket(), printer.profile());
    printer.print(&bytes).await.expect("printed");

    let printed = wait_for_file(out_dir.path(), "ticket-0001.txt").await;
    assert_eq!(printed, format!("{}\n", decode(&bytes, &PrinterProfile::default()).text()));
    assert!(printed.contains("B-101\nAtención al público\n"), "{printed}");
    assert!(printed.contains("[QR https://fila.example/t/b101]"), "{printed}");

    assert_eq!(printer.status().await, PrinterStatus::NearEnd);
    status_tx.send(PrinterStatus::CoverOpen).expect("emulator listens");
    assert_eq!(printer.status().await, PrinterStatus::CoverOpen);
    status_tx.send(PrinterStatus::Unknown).expect("emulator listens");
    assert_eq!(printer.status().await, PrinterStatus::Unknown);

    // A second ticket gets the next file.
    printer.print(&bytes).await.expect("printed");
    wait_for_file(out_dir.path(), "ticket-0002.txt").await;
    emulator.abort();
}

#[tokio::test]
async fn paper_out_over_tcp_9100() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
    let address = listener.local_addr().expect("bound").to_string();
    let out_dir = tempfile::tempdir().expect("temp dir");
    let (_status_tx, status) = watch::channel(PrinterStatus::Out);
    let options = EmulatorOptions { profile: PrinterProfile::default(), out_dir: Some(out_dir.path().into()), status };
    let emulator = tokio::spawn(serve_tcp(listener, options));

    let transport = PrinterTransport::Tcp { address: address.clone() };
    let mut printer = open(&transport, PrinterProfile::default()).await.expect("connects");
    assert_eq!(printer.name(), format!("tcp {address}"));
    assert_eq!(printer.status().await, PrinterStatus::Out);
    assert!(!printer.status().await.can_print());

    // The job still arrives (the printer buffers it); the edge decides from the status.
    let bytes = encode_ticket(&ticket(), printer.profile());
    printer.print(&bytes).await.expect("printed");
    let printed = wait_for_file(out_dir.path(), "ticket-0001.txt").await;
    assert!(printed.starts_with("Oficina Peñalolén\n"), "{printed}");

    // The emulator serves the next connection too, and numbering continues.
    drop(printer);
    let mut printer = open(&transport, PrinterProfile::default()).await.expect("reconnects");
    printer.print(&bytes).await.expect("printed");
    wait_for_file(out_dir.path(), "ticket-0002.txt").await;
    emulator.abort();
}

#[tokio::test]
async fn a_tcp_peer_that_never_answers_is_unknown_in_bounded_time() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
    let address = listener.local_addr().expect("bound").to_string();
    // Accepts and reads everything, answers nothing: a print server without a back channel.
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("a connection");
        let mut sink = Vec::new();
        let _ = stream.read_to_end(&mut sink).await;
    });
    let mut printer = open(&PrinterTransport::Tcp { address }, PrinterProfile::default()).await.expect("connects");
    let started = Instant::now();
    assert_eq!(printer.status().await, PrinterStatus::Unknown);
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    peer.abort();
}

#[tokio::test]
async fn refused_connection_names_the_printer() {
    // Bind then drop, so the port is (almost certainly) closed.
    let address = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a local port");
        listener.local_addr().expect("bound").to_string()
    };
    let error = open(&PrinterTransport::Tcp { address: address.clone() }, PrinterProfile::default())
        .await
        .expect_err("nothing listens");
    assert!(matches!(error, PrinterError::Open { .. }), "{error:?}");
    assert!(error.to_string().starts_with(&format!("cannot open printer tcp {address}: ")), "{error}");
}

#[tokio::test]
async fn device_file_is_written_and_never_asked_for_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("lp0");
    std::fs::write(&path, b"").expect("the device file exists");
    let mut printer =
        open(&PrinterTransport::File { path: path.clone() }, PrinterProfile::default()).await.expect("opens");
    assert!(!printer.is_bidirectional());
    let bytes = encode_ticket(&ticket(), printer.profile());
    printer.print(&bytes).await.expect("printed");
    assert_eq!(printer.status().await, PrinterStatus::Unknown);
    assert_eq!(std::fs::read(&path).expect("written"), bytes);
}

#[tokio::test]
async fn missing_device_file_is_an_error_not_a_new_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("usb/lp0");
    let error =
        open(&PrinterTransport::File { path: path.clone() }, PrinterProfile::default()).await.expect_err("no device");
    assert!(error.to_string().contains("cannot open printer file"), "{error}");
    assert!(!path.exists());
}

#[test]
fn transports_read_from_settings() {
    let serial: PrinterTransport =
        serde_json::from_str(r#"{"transport":"serial","path":"/dev/ttyUSB0"}"#).expect("serial settings");
    assert_eq!(
        serial,
        PrinterTransport::Serial { path: "/dev/ttyUSB0".into(), baud: 9600, flow_control: FlowControl::None }
    );
    let tcp: PrinterTransport =
        serde_json::from_str(r#"{"transport":"tcp","address":"10.0.0.5:9100"}"#).expect("tcp settings");
    assert_eq!(tcp, PrinterTransport::Tcp { address: "10.0.0.5:9100".to_owned() });
    assert!(serde_json::from_str::<PrinterTransport>(r#"{"transport":"tcp","address":"x","baud":1}"#).is_err());

    let profile: PrinterProfile = serde_json::from_str(r#"{"columns":32,"qr":false}"#).expect("profile settings");
    assert_eq!(profile, PrinterProfile { columns: 32, qr: false, ..PrinterProfile::default() });
    let clone: PrinterProfile =
        serde_json::from_str(r#"{"code_page":"wpc1252","table":71}"#).expect("profile settings");
    assert_eq!(clone.table_number(), 71);
    assert!(serde_json::from_str::<PrinterProfile>(r#"{"colums":32}"#).is_err(), "typos are rejected");
}

#[tokio::test]
async fn emulator_without_cutter_separates_tickets_at_init() {
    let profile = PrinterProfile { columns: 32, qr: false, cut: false, ..PrinterProfile::default() };
    let out_dir = tempfile::tempdir().expect("temp dir");
    let (_status_tx, status) = watch::channel(PrinterStatus::Ok);
    let options = EmulatorOptions { profile: profile.clone(), out_dir: Some(out_dir.path().into()), status };
    let (ours, theirs) = tokio::io::duplex(4096);
    let emulator = tokio::spawn(async move { serve(theirs, &options).await });
    let mut printer = Printer::new(ours, profile.clone());
    let first = encode_ticket(&ticket(), &profile);
    let second = encode_ticket(&TicketPrint { number: "B-102".to_owned(), ..ticket() }, &profile);
    printer.print(&first).await.expect("printed");
    printer.print(&second).await.expect("printed");
    drop(printer);
    emulator.await.expect("emulator task").expect("emulator ends when the peer closes");
    let one = wait_for_file(out_dir.path(), "ticket-0001.txt").await;
    let two = wait_for_file(out_dir.path(), "ticket-0002.txt").await;
    assert!(one.contains("B-101") && !one.contains("B-102"), "{one}");
    assert!(two.contains("B-102"), "{two}");
}

#[tokio::test]
async fn emulator_answers_status_requests_but_not_their_bytes_inside_a_qr_code() {
    let (_status_tx, status) = watch::channel(PrinterStatus::Ok);
    let options = EmulatorOptions { profile: PrinterProfile::default(), out_dir: None, status };
    let (mut ours, theirs) = tokio::io::duplex(4096);
    let emulator = tokio::spawn(async move { serve(theirs, &options).await });
    // A QR whose data holds DLE EOT 1, sent in two pieces split inside the data.
    let mut qr = vec![0x1D, 0x28, 0x6B, 9, 0, 0x31, 0x50, 0x30];
    qr.extend_from_slice(b"ab\x10\x04\x01cd");
    let (first, second) = qr.split_at(10);
    ours.write_all(first).await.expect("written");
    tokio::time::sleep(Duration::from_millis(20)).await;
    ours.write_all(second).await.expect("written");
    let mut answer = [0_u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(100), ours.read(&mut answer)).await;
    assert!(early.is_err(), "the emulator answered data inside a QR code: {answer:02X?}");
    // A real request is answered.
    ours.write_all(&[0x10, 0x04, 0x01]).await.expect("written");
    let read = tokio::time::timeout(Duration::from_secs(1), ours.read_exact(&mut answer)).await;
    assert!(matches!(read, Ok(Ok(1))), "{read:?}");
    assert_eq!(answer, [0x12]);
    emulator.abort();
}
