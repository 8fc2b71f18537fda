//! The command line an installer uses.

use std::process::Command;

fn fila_edge(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fila-edge")).args(args).output().expect("runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn the_example_configuration_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/edge.example.toml");
    let (ok, text) = fila_edge(&["check-config", example]);
    assert!(ok, "{text}");
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
