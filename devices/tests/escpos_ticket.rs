//! What a citizen's ticket looks like, byte for byte and as read back from the paper.
//!
//! Goldens live in `tests/golden/`; after an intended layout change regenerate them with
//! `FILA_BLESS=1 cargo test -p fila-devices --test escpos_ticket` and review the diff.

use std::path::PathBuf;

use fila_devices::escpos::{
    decode, encode_test_page, encode_ticket, parse_command, Align, CodePage, Command, Cut, Parsed, PrinterProfile,
    TicketPrint, ALL_CODE_PAGES,
};
use fila_devices::Lang;

fn spanish_ticket() -> TicketPrint {
    TicketPrint {
        office: "Oficina Peñalolén".to_owned(),
        number: "A-023".to_owned(),
        service: "Atención al público".to_owned(),
        issued_at: "29/11/2026 10:42".to_owned(),
        ahead: 4,
        wait_minutes: Some((9, 15)),
        tracking_url: Some("https://fila.example/t/8f3k2".to_owned()),
        preferential: None,
        lang: Lang::Es,
        wait_outside: false,
    }
}

fn english_ticket() -> TicketPrint {
    TicketPrint {
        office: "Peñalolén Civil Registry, Avenida Grecia branch".to_owned(),
        number: "P-007".to_owned(),
        service: "Certificates".to_owned(),
        issued_at: "29/11/2026 10:43".to_owned(),
        ahead: 0,
        wait_minutes: None,
        tracking_url: Some("https://fila.example/t/p007".to_owned()),
        preferential: Some("Senior citizen".to_owned()),
        lang: Lang::En,
        wait_outside: false,
    }
}

fn profile_58mm() -> PrinterProfile {
    PrinterProfile { columns: 32, qr: false, cut: false, ..PrinterProfile::default() }
}

fn profile_wpc1252() -> PrinterProfile {
    PrinterProfile { code_page: CodePage::Wpc1252, ..PrinterProfile::default() }
}

/// Compares `bytes` with the golden file `name`, or writes it when `FILA_BLESS` is set.
fn check_golden(name: &str, bytes: &[u8], profile: &PrinterProfile) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("FILA_BLESS").is_some() {
        std::fs::write(&path, bytes).expect("golden directory is writable");
        return;
    }
    let golden = std::fs::read(&path)
        .unwrap_or_else(|error| panic!("{}: {error}; run with FILA_BLESS=1 to create it", path.display()));
    if golden != bytes {
        let at = golden.iter().zip(bytes).position(|(a, b)| a != b).unwrap_or(golden.len().min(bytes.len()));
        let from = at.saturating_sub(16);
        panic!(
            "{name} differs from the golden at byte {at} (golden {} bytes, now {} bytes)\n\
             golden: {}\nnow:    {}\n\ngolden reads:\n{}\n\nnow reads:\n{}\n\n\
             If the change is intended, run with FILA_BLESS=1.",
            golden.len(),
            bytes.len(),
            hex(golden.get(from..(at + 16).min(golden.len())).unwrap_or_default()),
            hex(bytes.get(from..(at + 16).min(bytes.len())).unwrap_or_default()),
            decode(&golden, profile).text(),
            decode(bytes, profile).text(),
        );
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// Every command of a job, in order.
fn commands(bytes: &[u8]) -> Vec<Command<'_>> {
    let mut rest = bytes;
    let mut all = Vec::new();
    while let Parsed::Complete { command, len } = parse_command(rest) {
        all.push(command);
        rest = &rest[len..];
    }
    assert!(rest.is_empty(), "job ends inside a command: {}", hex(rest));
    all
}

#[test]
fn spanish_ticket_matches_the_golden() {
    let profile = PrinterProfile::default();
    check_golden("ticket_es.bin", &encode_ticket(&spanish_ticket(), &profile), &profile);
}

#[test]
fn ticket_on_58mm_without_qr_or_cutter_matches_the_golden() {
    let profile = profile_58mm();
    check_golden("ticket_58mm.bin", &encode_ticket(&english_ticket(), &profile), &profile);
}

#[test]
fn ticket_in_wpc1252_matches_the_golden() {
    let profile = profile_wpc1252();
    let ticket = TicketPrint { preferential: Some("Adulto mayor".to_owned()), ..spanish_ticket() };
    let bytes = encode_ticket(&ticket, &profile);
    check_golden("ticket_wpc1252.bin", &bytes, &profile);
    assert!(decode(&bytes, &profile).text().contains("Atención al público\nAtención preferencial: Adulto mayor\n"));
}

#[test]
fn spanish_ticket_has_the_key_byte_sequences() {
    let bytes = encode_ticket(&spanish_ticket(), &PrinterProfile::default());
    assert_eq!(bytes[..5], [0x1B, 0x40, 0x1B, 0x74, 0x02], "starts with ESC @ then ESC t 2 (PC850)");
    // "Atención" in PC850: ó is A2.
    assert!(contains(&bytes, &[0x41, 0x74, 0x65, 0x6E, 0x63, 0x69, 0xA2, 0x6E]));
    // "Peñalolén": ñ A4, é 82.
    assert!(contains(&bytes, &[0x50, 0x65, 0xA4, 0x61, 0x6C, 0x6F, 0x6C, 0x82, 0x6E]));
    // "¿Dudas? ¡Consúltenos!": ¿ A8, ¡ AD, ú A3.
    assert!(contains(&bytes, b"\xA8Dudas? \xADCons\xA3ltenos!"));
    // The number at 4x4.
    assert!(contains(&bytes, b"\x1D\x21\x33A-023\n\x1D\x21\x00"));
    // QR model 2, module 6, error correction M, then the URL stored (28 bytes + 3 = 0x1F) and printed.
    assert!(contains(&bytes, &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]));
    assert!(contains(&bytes, &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x06]));
    assert!(contains(&bytes, &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31]));
    assert!(contains(
        &bytes,
        b"\x1D\x28\x6B\x1F\x00\x31\x50\x30https://fila.example/t/8f3k2\x1D\x28\x6B\x03\x00\x31\x51\x30"
    ));
    // Feed past the cutter, then a real partial cut (GS V B 0), last.
    assert!(bytes.ends_with(&[0x1B, 0x64, 0x03, 0x1D, 0x56, 0x42, 0x00]));
    assert!(!contains(&bytes, &[0x1D, 0x56, 0x41]), "no full cut");
}

#[test]
fn citizen_reads_the_spanish_ticket() {
    let profile = PrinterProfile::default();
    let printout = decode(&encode_ticket(&spanish_ticket(), &profile), &profile);
    assert_eq!(
        printout.text(),
        "Oficina Peñalolén\n\
         \n\
         Su número\n\
         A-023\n\
         Atención al público\n\
         \n\
         29/11/2026 10:42\n\
         Personas delante: 4\n\
         Espera estimada: 9-15 min\n\
         \n\
         Siga su turno en:\n\
         [QR https://fila.example/t/8f3k2]\n\
         Al terminar, escanéelo para opinar\n\
         \n\
         Conserve este ticket\n\
         ¿Dudas? ¡Consúltenos!\n\
         \n\
         \n\
         \n\
         -- partial cut --"
    );
    assert_eq!(printout.problems, Vec::<String>::new());
    assert_eq!(printout.cuts, [Cut::Partial]);
    assert!(printout.lines.iter().filter(|line| !line.text.is_empty()).all(|line| line.align == Align::Centre));
    let number = printout.lines.iter().find(|line| line.text == "A-023").expect("the number is printed");
    assert_eq!((number.width, number.height, number.bold), (4, 4, false));
    let office = &printout.lines[0];
    assert!(office.bold && office.width == 1, "office name is bold at normal size: {office:?}");
}

#[test]
fn citizen_reads_the_same_spanish_ticket_in_wpc1252() {
    let profile = PrinterProfile::default();
    let expected = decode(&encode_ticket(&spanish_ticket(), &profile), &profile).text();
    let bytes = encode_ticket(&spanish_ticket(), &profile_wpc1252());
    assert_eq!(bytes[..5], [0x1B, 0x40, 0x1B, 0x74, 16]);
    assert!(contains(&bytes, b"Atenci\xF3n al p\xFAblico"));
    assert_eq!(decode(&bytes, &profile_wpc1252()).text(), expected);
}

#[test]
fn narrow_printer_without_qr_or_cutter_prints_the_url_and_feeds_to_tear() {
    let profile = profile_58mm();
    let bytes = encode_ticket(&english_ticket(), &profile);
    let printout = decode(&bytes, &profile);
    assert_eq!(
        printout.text(),
        "Peñalolén Civil Registry,\n\
         Avenida Grecia branch\n\
         \n\
         Your number\n\
         P-007\n\
         Certificates\n\
         Priority service: Senior citizen\n\
         \n\
         29/11/2026 10:43\n\
         People ahead: 0\n\
         \n\
         Follow your turn at:\n\
         https://fila.example/t/p007\n\
         After your visit, open it to\n\
         rate us\n\
         \n\
         Keep this ticket\n\
         Questions? Just ask us!\n\
         \n\
         \n\
         \n\
         \n"
    );
    assert!(printout.qr_codes.is_empty() && printout.cuts.is_empty());
    assert!(!contains(&bytes, &[0x1D, 0x28, 0x6B]), "no QR command for a printer without QR firmware");
    assert!(!contains(&bytes, &[0x1D, 0x56]), "no cut command for a printer without cutter");
    assert!(bytes.ends_with(&[0x1B, 0x64, 0x05]));
    assert!(printout.lines.iter().all(|line| line.text.chars().count() * usize::from(line.width) <= 32));
}

#[test]
fn english_ticket_omits_the_wait_when_unknown() {
    let printout = decode(&encode_ticket(&english_ticket(), &PrinterProfile::default()), &PrinterProfile::default());
    let text = printout.text();
    assert!(!text.contains("Estimated wait"), "{text}");
    assert!(text.contains("Priority service: Senior citizen"), "{text}");
    assert_eq!(printout.qr_codes, ["https://fila.example/t/p007"]);
}

#[test]
fn long_text_wraps_to_the_columns_and_nothing_is_lost() {
    let mut ticket = spanish_ticket();
    ticket.office =
        "Dirección Regional del Servicio de Registro Civil e Identificación de la Región Metropolitana".to_owned();
    ticket.number = "PREFERENTE-1234".to_owned();
    for columns in [32_u8, 42, 48] {
        let profile = PrinterProfile { columns, ..PrinterProfile::default() };
        let printout = decode(&encode_ticket(&ticket, &profile), &profile);
        for line in &printout.lines {
            assert!(
                line.text.chars().count() * usize::from(line.width) <= usize::from(columns),
                "{columns} columns: {line:?}"
            );
        }
        let text = printout.text().replace('\n', " ");
        assert!(text.contains(&ticket.office), "{columns} columns: {text}");
        assert!(text.contains("PREFERENTE-1234"), "{columns} columns: {text}");
    }
}

#[test]
fn every_init_is_followed_by_the_table_of_the_profile() {
    let clone = PrinterProfile { code_page: CodePage::Wpc1252, table: Some(71), ..PrinterProfile::default() };
    for profile in [PrinterProfile::default(), profile_58mm(), profile_wpc1252(), clone] {
        for bytes in [encode_ticket(&spanish_ticket(), &profile), encode_test_page(&profile)] {
            let all = commands(&bytes);
            let inits: Vec<usize> = (0..all.len()).filter(|&i| all[i] == Command::Init).collect();
            assert!(!inits.is_empty());
            for i in inits {
                assert_eq!(all.get(i + 1), Some(&Command::SelectTable(profile.table_number())), "{profile:?}");
            }
            assert_eq!(decode(&bytes, &profile).problems, Vec::<String>::new(), "{profile:?}");
        }
    }
}

#[test]
fn clone_with_its_own_table_number_reads_right() {
    let clone = PrinterProfile { code_page: CodePage::Wpc1252, table: Some(71), ..PrinterProfile::default() };
    let bytes = encode_ticket(&spanish_ticket(), &clone);
    assert_eq!(bytes[..5], [0x1B, 0x40, 0x1B, 0x74, 71]);
    assert!(decode(&bytes, &clone).text().contains("Atención al público"));
}

#[test]
fn test_page_shows_every_spanish_character_in_every_code_page() {
    for code_page in ALL_CODE_PAGES {
        let profile = PrinterProfile { code_page, ..PrinterProfile::default() };
        let text = decode(&encode_test_page(&profile), &profile).text();
        let expected_capitals = if code_page == CodePage::Pc437 { "? É ? ? ?" } else { "Á É Í Ó Ú" };
        assert!(text.contains("á é í ó ú ñ Ñ ü ¿ ¡"), "{code_page:?}:\n{text}");
        assert!(text.contains(expected_capitals), "{code_page:?}:\n{text}");
        assert!(text.contains(&format!("{} (ESC t {})", code_page.name(), code_page.table())), "{text}");
        assert!(text.contains("123456789012345678901234567890123456789012345678"), "ruler of 48 columns:\n{text}");
    }
}

#[test]
fn decoder_follows_table_switches() {
    let profile = PrinterProfile::default();
    let mut bytes = vec![0x1B, 0x40, 0x1B, 0x74, 2];
    bytes.extend_from_slice(b"Atenci\xA2n \xB5\n");
    bytes.extend_from_slice(&[0x1B, 0x74, 16]);
    bytes.extend_from_slice(b"Atenci\xF3n \xC1\n");
    bytes.extend_from_slice(&[0x1B, 0x74, 19]);
    bytes.extend_from_slice(b"\xD5 5\n");
    bytes.extend_from_slice(&[0x1B, 0x74, 0]);
    bytes.extend_from_slice(b"\xB5\n");
    let printout = decode(&bytes, &profile);
    assert_eq!(printout.text(), "Atención Á\nAtención Á\n€ 5\n╡");
    assert_eq!(printout.problems, Vec::<String>::new());
}

#[test]
fn decoder_flags_text_after_init_without_a_table() {
    // The printer forgot PC850 at ESC @ and prints Á as PC437's box drawing.
    let bytes = b"\x1B\x40\x1B\x74\x02\xB5\n\x1B\x40\xB5\n";
    let printout = decode(bytes, &PrinterProfile::default());
    assert_eq!(printout.text(), "Á\n╡");
    assert_eq!(printout.problems.len(), 1, "{:?}", printout.problems);
    assert!(printout.problems[0].contains("no ESC t since ESC @"), "{:?}", printout.problems);
}

#[test]
fn decoder_reports_unknown_and_truncated_commands() {
    let printout = decode(b"\x1B\x40\x1B\x74\x02ok\n\x1B\x7A\x1D\x28\x6B\x10", &PrinterProfile::default());
    assert_eq!(printout.text(), "ok");
    assert_eq!(printout.problems.len(), 2, "{:?}", printout.problems);
    assert!(printout.problems[0].contains("unknown command 1B 7A"), "{:?}", printout.problems);
    assert!(printout.problems[1].contains("ends inside a command"), "{:?}", printout.problems);
}

#[test]
fn status_request_inside_qr_data_is_data() {
    // A URL containing the bytes of DLE EOT 1 must be stored, not answered.
    let data = b"x\x10\x04\x01y";
    let mut bytes = vec![0x1D, 0x28, 0x6B, 8, 0, 0x31, 0x50, 0x30];
    bytes.extend_from_slice(data);
    let all = commands(&bytes);
    assert_eq!(all, [Command::QrStore(data)]);
}

#[test]
fn code_page_tables_agree_with_the_escpos_crate() {
    use std::cell::RefCell;
    use std::rc::Rc;

    use escpos::driver::Driver;
    use escpos::printer::Printer;
    use escpos::printer_options::PrinterOptions;
    use escpos::utils::{PageCode, Protocol};

    #[derive(Clone, Default)]
    struct Capture(Rc<RefCell<Vec<u8>>>);
    impl Driver for Capture {
        fn name(&self) -> String {
            "capture".to_owned()
        }
        fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
            self.0.borrow_mut().extend_from_slice(data);
            Ok(())
        }
        fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
            Ok(0)
        }
        fn flush(&self) -> escpos::errors::Result<()> {
            Ok(())
        }
    }

    let mut disagreements = Vec::new();
    for (ours, theirs) in [
        (CodePage::Pc437, PageCode::PC437),
        (CodePage::Pc850, PageCode::PC850),
        (CodePage::Pc858, PageCode::PC858),
        (CodePage::Wpc1252, PageCode::WPC1252),
    ] {
        for byte in 0x80..=0xFF_u8 {
            let c = ours.decode_byte(byte);
            if c == '\u{FFFD}' {
                continue;
            }
            let capture = Capture::default();
            let mut printer =
                Printer::new(capture.clone(), Protocol::default(), Some(PrinterOptions::new(Some(theirs), None, 48)));
            let printed = printer.write(&c.to_string()).and_then(|printer| printer.print()).map(|_| ());
            let bytes = capture.0.borrow().clone();
            if printed.is_err() || bytes != [byte] {
                disagreements.push(format!("{ours:?} {byte:#04X} {c:?}: escpos gives {bytes:02X?}"));
            }
        }
    }
    // escpos 0.20.1's PC858 table is wrong around ¿: it maps ® to A8 (¿'s byte, as in PC850 and
    // the notes' verified values), Ô to E3 (Ò's), and lacks ¿ and Ò, which it would send as
    // UTF-8. Its PC850 lacks the soft hyphen. Everything else agrees; these are why the tables
    // are ours. A new escpos version that fixes them makes this test fail: then drop the lines.
    assert_eq!(
        disagreements,
        [
            r"Pc850 0xF0 '\u{ad}': escpos gives [C2, AD]",
            "Pc858 0xA8 '¿': escpos gives [C2, BF]",
            "Pc858 0xA9 '®': escpos gives [A8]",
            "Pc858 0xE2 'Ô': escpos gives [E3]",
            "Pc858 0xE3 'Ò': escpos gives [C3, 92]",
            r"Pc858 0xF0 '\u{ad}': escpos gives [C2, AD]",
        ]
    );
}

#[test]
fn a_ticket_sent_outside_a_full_room_says_so_under_the_wait() {
    let ticket = TicketPrint { wait_outside: true, ..spanish_ticket() };
    let text = decode(&encode_ticket(&ticket, &PrinterProfile::default()), &PrinterProfile::default()).text();
    assert!(
        text.contains("Espera estimada: 9-15 min\n\nSALA LLENA: espere afuera\nLe avisaremos cuando venir"),
        "{text}"
    );
    let english = TicketPrint { wait_outside: true, ..english_ticket() };
    let text = decode(&encode_ticket(&english, &profile_58mm()), &profile_58mm()).text();
    assert!(text.contains("ROOM FULL: please wait outside"), "{text}");
}
