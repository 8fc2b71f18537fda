//! `fila-devsim modem`: the GSM modem an installer points the SMS channel at, without a SIM.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fila_notify::modem::{self, ModemError, Timeouts};

const CITIZEN: &str = "+34600111222";

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn devsim_modem(args: &[&str]) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_fila-devsim"))
        .arg("modem")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fila-devsim starts");
    Running(child)
}

async fn open(link: &Path) -> modem::Modem<modem::SerialLine> {
    for _ in 0..200 {
        if std::fs::read_link(link).is_ok() {
            if let Ok(modem) = modem::open(link, 115_200) {
                let wait = Duration::from_secs(2);
                return modem.with_timeouts(Timeouts { command: wait, prompt: wait, submit: wait });
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{} never appeared", link.display());
}

#[tokio::test]
async fn the_modem_emulator_writes_each_sms_it_sends() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("ttyMODEM");
    let out = dir.path().join("sms");
    std::fs::create_dir(&out).expect("out dir");
    let _modem = devsim_modem(&["--link", link.to_str().expect("path"), "--out", out.to_str().expect("path")]);

    let mut modem = open(&link).await;
    assert!(modem.check().await.expect("answers").is_ready());
    modem
        .send(CITIZEN, "Su turno A-023: ventanilla 4. ¿Dudas? Responda STOP para no recibir más.")
        .await
        .expect("sent");
    let written = std::fs::read_to_string(out.join("sms.txt")).expect("written");
    assert_eq!(
        written,
        "+34600111222\tucs2\t2\tSu turno A-023: ventanilla 4. ¿Dudas? Responda STOP para no recibir más.\n"
    );
}

#[tokio::test]
async fn without_a_sim_the_modem_emulator_refuses_to_send() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("ttyMODEM");
    let _modem = devsim_modem(&["--link", link.to_str().expect("path"), "--no-sim", "--signal", "99"]);

    let mut modem = open(&link).await;
    let health = modem.check().await.expect("answers");
    assert_eq!(health.signal, None);
    assert!(matches!(modem.send(CITIZEN, "hola").await, Err(ModemError::NoSim)));
}

#[tokio::test]
async fn the_modem_emulator_can_refuse_the_first_messages_as_a_network_out_of_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let link = dir.path().join("ttyMODEM");
    let _modem = devsim_modem(&["--link", link.to_str().expect("path"), "--refuse", "1", "--cms-error", "38"]);

    let mut modem = open(&link).await;
    assert!(matches!(modem.send(CITIZEN, "hola").await, Err(ModemError::Cms(38))));
    modem.send(CITIZEN, "hola").await.expect("the next one goes");
}

#[test]
fn a_signal_out_of_range_is_refused() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_fila-devsim")).args(["modem", "--signal", "50"]).output().expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("99 for no signal"));
}
