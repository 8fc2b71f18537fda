//! The command line an installer uses.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn fila_edge(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fila-edge")).args(args).output().expect("runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/edge.example.toml");
const PLACEHOLDER: &str = "REPLACE-ME: the output of fila-edge hash-password";

#[test]
fn the_example_configuration_is_refused_only_for_its_placeholder_password_hash() {
    let (ok, text) = fila_edge(&["check-config", EXAMPLE]);
    assert!(!ok, "{text}");
    let problems: Vec<&str> = text.lines().filter(|line| line.starts_with("  - ")).collect();
    assert_eq!(
        problems,
        ["  - users[0].password_hash: is not an argon2 hash; make one with `fila-edge hash-password`"],
        "{text}"
    );
}

#[test]
fn the_example_configuration_is_valid_once_each_user_has_a_hash_of_their_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = example_with_a_real_hash(dir.path(), "");
    let (ok, text) = fila_edge(&["check-config", file.to_str().expect("path")]);
    assert!(ok, "{text}");
    assert!(!text.contains("note:"), "{text}");
}

#[test]
fn check_config_notes_a_link_to_central_that_is_not_encrypted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let central = "[central]\nurl = \"ws://hq.example.gob/api/v1/sync\"\ntoken = \"t\"\n";
    let file = example_with_a_real_hash(dir.path(), central);
    let (ok, text) = fila_edge(&["check-config", file.to_str().expect("path")]);
    assert!(ok, "allowed, on a VPN for instance: {text}");
    assert!(text.contains("note: central.url \"ws://hq.example.gob/api/v1/sync\" is not encrypted"), "{text}");

    let local = "[central]\nurl = \"ws://127.0.0.1:9090/api/v1/sync\"\ntoken = \"t\"\n";
    let file = example_with_a_real_hash(dir.path(), local);
    let (ok, text) = fila_edge(&["check-config", file.to_str().expect("path")]);
    assert!(ok && !text.contains("note:"), "loopback stays on the box: {text}");
}

#[test]
fn check_config_reads_the_ca_file_and_the_certificate_it_is_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_pem = dir.path().join("ministry-ca.pem");
    std::fs::write(&not_pem, "ask IT for the real file").expect("write");
    let sections =
        format!("[central]\nurl = \"ws://hq.example.gob/api/v1/sync\"\ntoken = \"t\"\nca_file = {not_pem:?}\n");
    let file = example_with_a_real_hash(dir.path(), &sections);
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace("[server]\n", "[server]\ntls_cert = \"/nowhere/fullchain.pem\"\ntls_key = \"/nowhere/privkey.pem\"\n");
    std::fs::write(&file, text).expect("write");
    let (ok, text) = fila_edge(&["check-config", file.to_str().expect("path")]);
    assert!(!ok, "{text}");
    for problem in [
        "central.ca_file: is only used with a wss:// url",
        "central.ca_file: ",
        "ministry-ca.pem holds no PEM certificate",
        "server.tls_cert: cannot read /nowhere/fullchain.pem",
    ] {
        assert!(text.contains(problem), "{problem:?} missing from:\n{text}");
    }
}

/// The example file with its placeholder replaced by a real hash, and `sections` added.
fn example_with_a_real_hash(dir: &std::path::Path, sections: &str) -> std::path::PathBuf {
    let mut hashing = Command::new(env!("CARGO_BIN_EXE_fila-edge"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    hashing.stdin.take().expect("stdin").write_all(b"a PIN of our own\n").expect("write");
    let output = hashing.wait_with_output().expect("hashes");
    let hash = String::from_utf8(output.stdout).expect("text").trim().to_string();
    let example = std::fs::read_to_string(EXAMPLE).expect("example");
    assert!(example.contains(PLACEHOLDER));
    let file = dir.join("edge.toml");
    std::fs::write(&file, example.replace(PLACEHOLDER, &hash) + sections).expect("write");
    file
}

#[test]
fn check_config_lists_every_problem_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("edge.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"nowhere\"\n[office]\nid = \"centro\"\nname = \"Centro\"\ntime_zone = \"Mars/Base\"\n\
         [[services]]\nid = \"general\"\nprefix = \"a\"\nname = \"General\"\n\
         [[counters]]\nid = \"1\"\nname = \"Puesto 1\"\nservices = [\"pagos\"]\n",
    )
    .expect("write");
    let (ok, text) = fila_edge(&["check-config", file.to_str().expect("path")]);
    assert!(!ok);
    for problem in ["server.listen", "unknown time zone", "one capital letter", "unknown service \"pagos\""] {
        assert!(text.contains(problem), "{problem:?} missing from:\n{text}");
    }
}

#[test]
fn a_kiosk_token_comes_with_its_hash() {
    let (ok, text) = fila_edge(&["kiosk-token"]);
    assert!(ok);
    let value = |key: &str| {
        text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split('"').nth(1)).expect("line").to_string()
    };
    assert_eq!(fila_edge::auth::sha256_hex(&value("token ")), value("token_sha256"));
}

#[test]
fn check_config_lists_every_device_problem_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("edge.toml");
    let office = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/office.toml")).expect("demo");
    let devices = "\n[devices]\n\
         [[devices.printers]]\nid = \"p1\"\ntransport = \"usb\"\n\
         [[devices.printers]]\nid = \"p2\"\ntransport = \"tcp\"\npath = \"/dev/usb/lp0\"\n\
         [[devices.display_models]]\nid = \"m\"\ntext_register = 0\ntext_chars = 0\n\
         [[devices.buses]]\nid = \"rs485\"\npath = \"/dev/ttyUSB0\"\n\
         [[devices.displays]]\ncounter = \"1\"\nbus = \"nowhere\"\nunit = 0\nmodel = \"m\"\n\
         [[devices.displays]]\ncounter = \"99\"\nbus = \"rs485\"\nunit = 2\nmodel = \"other\"\n\
         [[devices.displays]]\ncounter = \"2\"\nmqtt = true\n";
    std::fs::write(&file, office + devices).expect("write");
    let (ok, text) = fila_edge(&["check-config", file.to_str().expect("path")]);
    assert!(!ok, "{text}");
    for problem in [
        "devices.printers[0].transport",
        "devices.printers[1].address",
        "devices.display_models[0]",
        "devices.displays[0].bus",
        "devices.displays[0].unit",
        "devices.displays[1].counter",
        "devices.displays[1].model",
        "an MQTT display needs [devices.mqtt]",
    ] {
        assert!(text.contains(problem), "{problem:?} missing from:\n{text}");
    }
}

#[test]
fn the_demo_listens_only_on_loopback_unless_allowed_remote() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("path");
    let (ok, text) = fila_edge(&["demo", "--listen", "0.0.0.0:0", "--data", data, "--no-devices"]);
    assert!(!ok);
    assert!(text.contains("--allow-remote") && text.contains("published"), "{text}");

    let lines = start_logging(&["demo", "--listen", "0.0.0.0:0", "--data", data, "--no-devices", "--allow-remote"]);
    assert!(lines.iter().any(|line| line.contains("edge listening")), "{lines:#?}");
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_str().expect("path");
    let lines = start_logging(&["demo", "--listen", "127.0.0.1:0", "--data", data, "--no-devices"]);
    assert!(lines.iter().any(|line| line.contains("edge listening office=centro port=")), "{lines:#?}");
    assert!(lines.iter().all(|line| !line.contains('\x1b')), "{lines:#?}");
}

/// Runs the demo with standard output to a pipe (as under systemd, NO_COLOR unset) and returns
/// its lines up to the one saying it listens; then stops it.
fn start_logging(args: &[&str]) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fila-edge"))
        .args(args)
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let listening = line.contains("edge listening");
            seen.push(line);
            if listening {
                break;
            }
        }
        let _ = sender.send(seen);
    });
    let lines = receiver.recv_timeout(std::time::Duration::from_secs(30)).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    lines
}
