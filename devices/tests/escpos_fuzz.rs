//! Whatever bytes arrive, nothing panics: the decoder, the emulator and the driver's status
//! query survive garbage; and any ticket reads back with all its fields.

use std::time::Duration;

use fila_devices::escpos::{
    decode, encode_ticket, parse_command, serve, EmulatorOptions, Parsed, Printer, PrinterProfile, PrinterStatus,
    TicketPrint,
};
use fila_devices::Lang;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Byte sequences that start commands, so that random input reaches deep into the parser.
fn fragments() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..8),
        Just(b"\x1B\x40".to_vec()),
        (any::<u8>()).prop_map(|n| vec![0x1B, b't', n]),
        (any::<u8>()).prop_map(|n| vec![0x1D, b'!', n]),
        (any::<u8>()).prop_map(|n| vec![0x1B, b'd', n]),
        (any::<u8>()).prop_map(|m| vec![0x1D, b'V', m, 0]),
        (any::<u8>(), any::<u8>()).prop_map(|(low, high)| vec![0x1D, b'(', b'k', low, high, 0x31, 0x50, 0x30]),
        Just(vec![0x1D, b'(', b'k', 3, 0, 0x31, 0x51, 0x30]),
        (any::<u8>()).prop_map(|n| vec![0x10, 0x04, n]),
        (any::<u8>(), any::<u8>()).prop_map(|(m, n)| vec![0x1D, b'k', m, n]),
        Just(vec![0x1D, b'v', b'0', 0, 0xFF, 0xFF, 0xFF, 0xFF]),
        Just(vec![0x1B, b'*', 33, 0xFF, 0xFF]),
        Just(b"Atenci\xA2n\n".to_vec()),
    ]
}

fn job() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(fragments(), 0..40).prop_map(|parts| parts.concat())
}

fn word() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9áéíóúñÑüÁÉÍÓÚ¿¡?!:/.-]{1,10}"
}

fn words() -> impl Strategy<Value = String> {
    proptest::collection::vec(word(), 1..6).prop_map(|words| words.join(" "))
}

fn ticket() -> impl Strategy<Value = TicketPrint> {
    (
        (words(), word(), words(), words()),
        (
            any::<u32>(),
            proptest::option::of((0..600_u32, 1..60_u32).prop_map(|(low, width)| (low, low + width))),
            proptest::option::of(word()),
            proptest::option::of(words()),
        ),
        any::<bool>(),
    )
        .prop_map(|((office, number, service, issued_at), (ahead, wait_minutes, url, preferential), english)| {
            TicketPrint {
                office,
                number,
                service,
                issued_at,
                ahead,
                wait_minutes,
                tracking_url: url.map(|url| format!("https://fila.example/t/{url}")),
                preferential,
                lang: if english { Lang::En } else { Lang::Es },
                wait_outside: english,
            }
        })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a test runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decode_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048), columns in any::<u8>()) {
        let profile = PrinterProfile { columns, ..PrinterProfile::default() };
        let printout = decode(&bytes, &profile);
        let _ = printout.text();
    }

    #[test]
    fn decode_survives_command_soup(bytes in job()) {
        let printout = decode(&bytes, &PrinterProfile::default());
        let _ = printout.text();
        prop_assert!(printout.problems.len() <= 65, "problems are bounded");
    }

    #[test]
    fn parser_consumes_at_least_one_byte_and_never_more_than_given(bytes in job()) {
        if let Parsed::Complete { len, .. } = parse_command(&bytes) {
            prop_assert!(len >= 1 && len <= bytes.len());
        }
    }

    #[test]
    fn every_ticket_reads_back_with_all_its_fields(ticket in ticket(), narrow in any::<bool>(), qr in any::<bool>()) {
        let columns = if narrow { 32 } else { 48 };
        let profile = PrinterProfile { columns, qr, ..PrinterProfile::default() };
        let printout = decode(&encode_ticket(&ticket, &profile), &profile);
        prop_assert!(printout.problems.is_empty(), "{:?}", printout.problems);
        // Wrapping turns spaces into line breaks; nothing else changes.
        let text = printout.text().replace('\n', " ");
        for field in [&ticket.office, &ticket.number, &ticket.service, &ticket.issued_at] {
            prop_assert!(text.contains(field.as_str()), "{field:?} missing from {text:?}");
        }
        prop_assert!(text.contains(&ticket.ahead.to_string()));
        if let Some((low, high)) = ticket.wait_minutes {
            let wait = format!("{low}-{high} min");
            prop_assert!(text.contains(&wait));
        }
        if let Some(category) = &ticket.preferential {
            prop_assert!(text.contains(category.as_str()));
        }
        match (&ticket.tracking_url, qr) {
            (Some(url), true) => prop_assert_eq!(&printout.qr_codes, &vec![url.clone()]),
            (Some(url), false) => prop_assert!(text.contains(url.as_str()) || narrow),
            (None, _) => prop_assert!(printout.qr_codes.is_empty()),
        }
        prop_assert_eq!(printout.cuts.len(), 1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn status_query_survives_any_answer(answer in proptest::collection::vec(any::<u8>(), 0..16), close in any::<bool>()) {
        let silent = answer.is_empty();
        let status = runtime().block_on(async move {
            let (ours, mut theirs) = tokio::io::duplex(64);
            let mut printer = Printer::new(ours, PrinterProfile::default())
                .with_timeouts(Duration::from_millis(200), Duration::from_millis(20));
            let peer = tokio::spawn(async move {
                let mut request = [0_u8; 3];
                let _ = theirs.read_exact(&mut request).await;
                let _ = theirs.write_all(&answer).await;
                if !close {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            });
            let status = printer.status().await;
            peer.abort();
            status
        });
        // Whatever came back, the answer is a status; silence is Unknown.
        if silent {
            prop_assert_eq!(status, PrinterStatus::Unknown);
        }
    }

    #[test]
    fn emulator_survives_any_stream(bytes in job()) {
        let result = runtime().block_on(async move {
            let (_status_tx, status) = tokio::sync::watch::channel(PrinterStatus::Ok);
            let options = EmulatorOptions { profile: PrinterProfile::default(), out_dir: None, status };
            let (mut ours, theirs) = tokio::io::duplex(1 << 16);
            let emulator = tokio::spawn(async move { serve(theirs, &options).await });
            ours.write_all(&bytes).await?;
            ours.shutdown().await?;
            // Drain answers so the emulator never blocks on a full pipe.
            let mut answers = Vec::new();
            ours.read_to_end(&mut answers).await?;
            emulator.await.map_err(std::io::Error::other)?
        });
        prop_assert!(result.is_ok(), "{result:?}");
    }
}
