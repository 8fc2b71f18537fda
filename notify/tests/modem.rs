//! The modem channel against the emulated modem, over `tokio::io::duplex` and over a real
//! pseudo-terminal: what an office sees when its USB modem sends notices, loses its SIM or
//! signal, is unplugged, or receives a citizen's STOP.

use std::path::Path;
use std::time::Duration;

use fila_notify::channel::SendError;
use fila_notify::modem::{
    self, EmulatedSim, Emulator, Health, IncomingSms, Modem, ModemError, Registration, SentSms, SimState, Timeouts,
};
use fila_notify::sms::{self, Encoding};

const CITIZEN: &str = "+34600111222";
const NOTICE: &str =
    "Su turno A-023: acérquese a la ventanilla 4, por favor. ¿Dudas? Responda STOP para no recibir más.";

/// Opening pseudo-terminals is not thread-safe (serialport's own tests say so): one at a time.
static PTY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn timeouts() -> Timeouts {
    let wait = Duration::from_secs(2);
    Timeouts { command: wait, prompt: wait, submit: wait }
}

/// A driver talking to `emulator` over an in-memory pipe.
fn connected(emulator: &Emulator) -> Modem<tokio::io::DuplexStream> {
    let (near, far) = tokio::io::duplex(4096);
    let server = emulator.clone();
    tokio::spawn(async move { server.serve(far).await });
    Modem::new(near).with_timeouts(timeouts())
}

fn sent(to: &str, text: &str, encoding: Encoding, parts: usize) -> SentSms {
    SentSms { to: to.into(), text: text.into(), encoding, parts }
}

/// The reason a supervisor reads never names the citizen's number.
fn transient(error: ModemError) -> String {
    let error = SendError::from(error);
    assert!(!error.is_permanent(), "{error}");
    assert!(!error.reason().contains("600111222"), "{error}");
    error.reason().to_owned()
}

#[tokio::test]
async fn a_spanish_notice_with_accents_arrives_intact_as_ucs2() {
    let emulator = Emulator::new().quiet();
    let mut modem = connected(&emulator);
    let references = modem.send(CITIZEN, NOTICE).await.expect("sent");
    // 98 characters in UCS-2 (for the á of "más"): two parts of at most 67.
    assert_eq!(references.len(), 2);
    assert_eq!(emulator.sent(), [sent(CITIZEN, NOTICE, Encoding::Ucs2, 2)]);
}

#[tokio::test]
async fn a_300_character_gsm_message_arrives_in_two_parts_put_back_together() {
    let emulator = Emulator::new().quiet();
    let mut modem = connected(&emulator);
    let text: String = "Su turno A-023 (ventanilla 4): ¿Dudas? ¡Gracias! ".chars().cycle().take(300).collect();
    assert_eq!(sms::segment_count(&text), 2);
    modem.send("600111222", &text).await.expect("sent");
    assert_eq!(emulator.sent(), [sent("600111222", &text, Encoding::Gsm7, 2)]);
}

#[tokio::test]
async fn a_300_character_ucs2_message_arrives_in_five_parts_put_back_together() {
    let emulator = Emulator::new().quiet();
    let mut modem = connected(&emulator);
    let text: String = "Atención: ventanilla 4 🙂 ".chars().cycle().take(300).collect();
    modem.send(CITIZEN, &text).await.expect("sent");
    let parts = sms::segment_count(&text);
    assert!(parts >= 5, "{parts}");
    assert_eq!(emulator.sent(), [sent(CITIZEN, &text, Encoding::Ucs2, parts)]);
}

#[tokio::test]
async fn network_out_of_order_is_cms_38_and_worth_another_try() {
    let emulator = Emulator::new().quiet();
    emulator.fail_next_sends(1, 38);
    let mut modem = connected(&emulator);
    let error = modem.send(CITIZEN, "Su turno A-023").await.expect_err("refused");
    assert!(matches!(error, ModemError::Cms(38)), "{error}");
    assert!(transient(error).contains("Network out of order"));
    assert!(emulator.sent().is_empty());

    modem.send(CITIZEN, "Su turno A-023").await.expect("the next try goes through");
    assert_eq!(emulator.sent().len(), 1);
}

#[tokio::test]
async fn an_unassigned_number_is_refused_for_good() {
    let emulator = Emulator::new().quiet();
    emulator.fail_next_sends(1, 1);
    let mut modem = connected(&emulator);
    let error = modem.send(CITIZEN, "Su turno A-023").await.expect_err("refused");
    assert!(matches!(error, ModemError::Cms(1)), "{error}");
    let error = SendError::from(error);
    assert!(error.is_permanent());
    assert!(!error.reason().contains("600111222"), "{error}");
}

#[tokio::test]
async fn a_healthy_modem_is_set_up_and_reports_sim_signal_and_network() {
    let emulator = Emulator::new().quiet();
    emulator.set_signal(Some(14));
    let mut modem = connected(&emulator);
    let health = modem.check().await.expect("answers");
    assert_eq!(health, Health { sim: SimState::Ready, signal: Some(14), registration: Registration::Home });
    assert!(health.is_ready());
}

#[tokio::test]
async fn roaming_counts_as_registered() {
    let emulator = Emulator::new().quiet();
    emulator.set_registration(Registration::Roaming);
    let mut modem = connected(&emulator);
    assert!(modem.check().await.expect("answers").is_ready());
    modem.send(CITIZEN, "hola").await.expect("sent while roaming");
}

#[tokio::test]
async fn without_a_sim_check_says_so_and_nothing_is_sent() {
    let emulator = Emulator::new().quiet();
    emulator.remove_sim();
    let mut modem = connected(&emulator);
    let health = modem.check().await.expect("answers");
    assert_eq!(health.sim, SimState::Absent);
    assert!(matches!(health.problem(), Some(ModemError::NoSim)));
    let error = modem.send(CITIZEN, "hola").await.expect_err("no SIM");
    assert!(matches!(error, ModemError::NoSim), "{error}");
    assert_eq!(transient(error), "the modem has no SIM card, or cannot read it");
    assert!(emulator.sent().is_empty());
}

#[tokio::test]
async fn a_sim_waiting_for_its_pin_is_reported() {
    let emulator = Emulator::new().quiet();
    emulator.set_sim(EmulatedSim::PinRequired);
    let mut modem = connected(&emulator);
    assert_eq!(modem.check().await.expect("answers").sim, SimState::Pin);
    let error = modem.send(CITIZEN, "hola").await.expect_err("locked SIM");
    assert!(matches!(error, ModemError::SimPin), "{error}");
    transient(error);
}

#[tokio::test]
async fn without_signal_check_says_so_and_nothing_is_sent() {
    let emulator = Emulator::new().quiet();
    emulator.set_signal(None);
    let mut modem = connected(&emulator);
    let health = modem.check().await.expect("answers");
    assert_eq!(health.signal, None);
    assert!(matches!(health.problem(), Some(ModemError::NoSignal)));
    let error = modem.send(CITIZEN, "hola").await.expect_err("no signal");
    assert!(matches!(error, ModemError::NoSignal), "{error}");
    transient(error);
    assert!(emulator.sent().is_empty());
}

#[tokio::test]
async fn not_registered_check_says_so_and_nothing_is_sent() {
    let emulator = Emulator::new().quiet();
    emulator.set_registration(Registration::Denied);
    let mut modem = connected(&emulator);
    let health = modem.check().await.expect("answers");
    assert_eq!(health.registration, Registration::Denied);
    assert!(matches!(health.problem(), Some(ModemError::NotRegistered)));
    let error = modem.send(CITIZEN, "hola").await.expect_err("not registered");
    assert!(matches!(error, ModemError::NotRegistered), "{error}");
    transient(error);
}

#[tokio::test]
async fn a_modem_unplugged_mid_send_is_gone_not_a_hang() {
    let emulator = Emulator::new().quiet();
    emulator.unplug_during_next_send();
    let mut modem = connected(&emulator);
    let started = tokio::time::Instant::now();
    let error = modem.send(CITIZEN, "hola").await.expect_err("unplugged");
    assert!(matches!(error, ModemError::Gone(_)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
    transient(error);
}

#[tokio::test]
async fn a_hung_modem_costs_one_timeout() {
    let emulator = Emulator::new().quiet();
    emulator.set_muted(true);
    let wait = Duration::from_millis(200);
    let mut modem = connected(&emulator).with_timeouts(Timeouts { command: wait, prompt: wait, submit: wait });
    let started = tokio::time::Instant::now();
    let error = modem.send(CITIZEN, "hola").await.expect_err("no answer");
    assert!(matches!(error, ModemError::Timeout), "{error}");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    transient(error);
}

#[tokio::test]
async fn a_late_answer_is_not_taken_for_the_next_command() {
    let emulator = Emulator::new().quiet();
    emulator.set_muted(true);
    let wait = Duration::from_millis(200);
    let mut modem = connected(&emulator).with_timeouts(Timeouts { command: wait, prompt: wait, submit: wait });
    assert!(matches!(modem.check().await, Err(ModemError::Timeout)));
    emulator.set_muted(false);
    let health = modem.check().await.expect("answers once it recovers");
    assert!(health.is_ready());
}

#[tokio::test]
async fn an_incoming_stop_is_read_returned_and_deleted() {
    let emulator = Emulator::new().quiet();
    emulator.inject_sms(CITIZEN, "STOP").expect("stored");
    let mut modem = connected(&emulator);
    let received = modem.received().await.expect("listed");
    assert_eq!(received, [IncomingSms { from: CITIZEN.into(), text: "STOP".into() }]);
    assert_eq!(emulator.stored(), 0);
    assert!(modem.received().await.expect("listed").is_empty(), "read once");
}

#[tokio::test]
async fn a_long_reply_is_returned_whole() {
    let emulator = Emulator::new().quiet();
    let long: String = "No podré ir mañana; ¿puedo cambiar la cita? ".chars().cycle().take(200).collect();
    emulator.inject_sms("+34600333444", &long).expect("stored");
    emulator.inject_sms(CITIZEN, "Gracias").expect("stored");
    let mut modem = connected(&emulator);
    let received = modem.received().await.expect("listed");
    assert_eq!(
        received,
        [
            IncomingSms { from: CITIZEN.into(), text: "Gracias".into() },
            IncomingSms { from: "+34600333444".into(), text: long },
        ]
    );
    assert_eq!(emulator.stored(), 0);
}

#[tokio::test]
async fn parts_of_a_reply_wait_in_the_modem_until_the_last_one_arrives() {
    let emulator = Emulator::new().quiet();
    let long: String = "¿Puedo cambiar la cita al jueves? ".chars().cycle().take(400).collect();
    let parts = sms::encode_deliver("+34609090909", CITIZEN, &long, sms::Timestamp::default(), 9).expect("encodes");
    assert_eq!(parts.len(), 3);
    emulator.inject_pdu(&parts[2]);
    emulator.inject_pdu(&parts[0]);
    let mut modem = connected(&emulator);
    assert!(modem.received().await.expect("listed").is_empty());
    assert_eq!(emulator.stored(), 2, "the parts stay stored");

    emulator.inject_pdu(&parts[1]);
    let received = modem.received().await.expect("listed");
    assert_eq!(received, [IncomingSms { from: CITIZEN.into(), text: long }]);
    assert_eq!(emulator.stored(), 0);
}

#[tokio::test]
async fn a_stored_message_that_cannot_be_read_is_deleted_and_the_rest_returned() {
    let emulator = Emulator::new().quiet();
    emulator.inject_pdu("07914306090909F9040B91");
    emulator.inject_sms(CITIZEN, "STOP").expect("stored");
    let mut modem = connected(&emulator);
    let received = modem.received().await.expect("listed");
    assert_eq!(received, [IncomingSms { from: CITIZEN.into(), text: "STOP".into() }]);
    assert_eq!(emulator.stored(), 0);
}

#[tokio::test]
async fn each_message_sent_is_a_line_in_the_output_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let emulator = Emulator::new().quiet().with_output(dir.path().to_path_buf());
    let mut modem = connected(&emulator);
    modem.send(CITIZEN, "Línea 1\nLínea 2").await.expect("sent");
    let written = std::fs::read_to_string(dir.path().join("sms.txt")).expect("written");
    assert_eq!(written, "+34600111222\tucs2\t1\tLínea 1\\nLínea 2\n");
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
async fn a_notice_goes_through_a_pseudo_terminal_as_through_a_usb_modem() {
    let _pty = PTY.lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("ttyMODEM");
    let emulator = Emulator::new().quiet();
    let (server, served_link) = (emulator.clone(), link.clone());
    let serving = tokio::spawn(async move { server.serve_pty(&served_link).await });
    wait_for_link(&link).await;

    let mut modem = modem::open(&link, 115_200).expect("the link opens as a serial port").with_timeouts(timeouts());
    assert!(modem.check().await.expect("answers").is_ready());
    modem.send(CITIZEN, NOTICE).await.expect("sent");
    assert_eq!(emulator.sent(), [sent(CITIZEN, NOTICE, Encoding::Ucs2, 2)]);

    emulator.inject_sms(CITIZEN, "STOP").expect("stored");
    let received = modem.received().await.expect("listed");
    assert_eq!(received, [IncomingSms { from: CITIZEN.into(), text: "STOP".into() }]);
    serving.abort();
}

#[tokio::test]
async fn a_modem_that_vanishes_from_its_pseudo_terminal_is_gone() {
    let _pty = PTY.lock().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("ttyMODEM");
    let emulator = Emulator::new().quiet();
    let (server, served_link) = (emulator.clone(), link.clone());
    let serving = tokio::spawn(async move { server.serve_pty(&served_link).await });
    wait_for_link(&link).await;

    let mut modem = modem::open(&link, 115_200).expect("opens").with_timeouts(timeouts());
    emulator.unplug_during_next_send();
    let started = tokio::time::Instant::now();
    let error = modem.send(CITIZEN, "hola").await.expect_err("unplugged");
    assert!(matches!(error, ModemError::Gone(_)), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    assert!(serving.await.expect("the emulator ends").is_ok());
}

#[tokio::test]
async fn opening_a_missing_port_is_an_open_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let error = modem::open(&dir.path().join("ttyNONE"), 115_200).err().expect("no such port");
    assert!(matches!(error, ModemError::Open(_)), "{error}");
    transient(error);
}
