//! `fila-devsim`, the emulators an installer runs without hardware.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fila_devices::escpos::{self, PrinterProfile, PrinterStatus, PrinterTransport, TicketPrint};
use fila_devices::Lang;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn devsim(args: &[&str]) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_fila-devsim"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fila-devsim starts");
    Running(child)
}

#[tokio::test]
async fn the_printer_emulator_prints_what_it_receives_and_answers_its_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let address = format!("127.0.0.1:{port}");
    let out = dir.path().to_str().expect("path");
    let _printer = devsim(&["printer", "--listen", &address, "--out", out, "--status", "near_end"]);

    let transport = PrinterTransport::Tcp { address };
    let mut printer = None;
    for _ in 0..100 {
        if let Ok(p) = escpos::open(&transport, PrinterProfile::default()).await {
            printer = Some(p);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut printer = printer.expect("the emulator listens");
    assert_eq!(printer.status().await, PrinterStatus::NearEnd);
    let ticket = TicketPrint {
        office: "Oficina Peñalolén".into(),
        number: "A-023".into(),
        service: "Atención general".into(),
        issued_at: "29/11/2026 10:42".into(),
        ahead: 4,
        wait_minutes: Some((9, 15)),
        tracking_url: Some("http://10.0.0.2:8080/t/abc".into()),
        preferential: None,
        lang: Lang::Es,
        wait_outside: false,
    };
    printer.print(&escpos::encode_ticket(&ticket, &PrinterProfile::default())).await.expect("printed");

    let file = dir.path().join("ticket-0001.txt");
    for _ in 0..100 {
        if file.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = std::fs::read_to_string(&file).expect("the ticket is written as text");
    for line in ["Oficina Peñalolén", "A-023", "Atención general", "[QR http://10.0.0.2:8080/t/abc]", "partial cut"]
    {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
}

#[test]
fn a_wrong_status_is_refused_with_the_choices() {
    let output = Command::new(env!("CARGO_BIN_EXE_fila-devsim"))
        .args(["printer", "--listen", "127.0.0.1:0", "--status", "jammed"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("near_end, out, cover_open"), "{text}");
}
