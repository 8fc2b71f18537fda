//! The built-in demo office: what `fila-edge demo` runs, so a newcomer sees the whole product
//! with one command. Its users and kiosk token are documented in README.md.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::auth::{hash_password, sha256_hex, Role};
use crate::settings::devices::{BusSpec, DisplayKind, DisplaySettings, PrinterSettings};
use crate::settings::{KioskSettings, Settings, UserSettings};

/// The demo kiosk's device token (a real office gets random ones: `fila-edge kiosk-token`).
pub const KIOSK_TOKEN: &str = "demo-kiosk-token";

/// (username, name, role, password)
pub const USERS: [(&str, &str, Role, &str); 4] = [
    ("ana", "Ana Pérez", Role::Agent, "1234"),
    ("beto", "Beto Gómez", Role::Agent, "1234"),
    ("sara", "Sara Núñez", Role::Supervisor, "1234"),
    ("admin", "Administración", Role::Admin, "admin"),
];

pub const OFFICE_TOML: &str = include_str!("../demo/office.toml");

pub fn settings(listen: SocketAddr, data_dir: PathBuf) -> Settings {
    let mut settings = Settings::parse(OFFICE_TOML).expect("the demo office configuration is valid");
    settings.listen = listen;
    settings.data_dir = data_dir;
    settings.users = USERS
        .iter()
        .map(|(username, name, role, password)| UserSettings {
            username: username.to_string(),
            name: name.to_string(),
            role: *role,
            password_hash: hash_password(password),
        })
        .collect();
    settings.kiosks = vec![KioskSettings { id: "entrada".into(), token_sha256: sha256_hex(KIOSK_TOKEN) }];
    // The demo's kiosk is also what tests and benchmarks issue through, at a machine's pace: no
    // ticket rate for it (a real office keeps the default, `[server] kiosk_issues_per_minute`).
    settings.security.kiosk_issues = crate::throttle::Rate { per_minute: 1_000_000, burst: 100_000 };
    settings
}

/// Devices for the demo without hardware, so a newcomer sees tickets printed and displays lit:
/// a printer emulator on a local TCP port (tickets appear in the terminal and in
/// `<data>/printed/`), Modbus displays for counters 1-3 on an emulated RS-485 line (a pty), and,
/// when a broker answers on 127.0.0.1:1883, MQTT displays for the other counters. Keep the
/// returned value alive as long as the edge runs.
pub async fn emulated_devices(settings: &mut Settings) -> anyhow::Result<DemoDevices> {
    use fila_devices::{escpos, modbus, mqtt};
    use std::time::Duration;

    let (status, status_rx) = tokio::sync::watch::channel(escpos::PrinterStatus::Ok);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let options = escpos::EmulatorOptions {
        profile: escpos::PrinterProfile::default(),
        out_dir: Some(settings.data_dir.join("printed")),
        status: status_rx,
    };
    tokio::spawn(async move {
        if let Err(error) = escpos::serve_tcp(listener, options).await {
            tracing::error!(%error, "the demo printer stopped");
        }
    });
    settings.devices.printers.push(PrinterSettings {
        id: "entrada".into(),
        kiosks: vec!["entrada".into()],
        transport: escpos::PrinterTransport::Tcp { address },
        profile: escpos::PrinterProfile::default(),
        poll: Duration::from_secs(10),
    });

    let map = modbus::RegisterMap {
        text_register: 0x0080,
        text_chars: 8,
        encoding: modbus::TextEncoding::Ascii,
        blink_register: Some(0x0010),
        brightness_register: None,
    };
    let counters: Vec<String> = settings.office.counters.iter().map(|c| c.id.as_str().to_string()).collect();
    let (wired, wireless) = counters.split_at(counters.len().min(3));
    let emulator = std::sync::Arc::new(modbus::Emulator::new(
        wired
            .iter()
            .enumerate()
            .map(|(i, counter)| modbus::EmulatedDisplay {
                unit: i as u8 + 1,
                counter: counter.clone(),
                map: map.clone(),
            })
            .collect(),
    ));
    std::fs::create_dir_all(&settings.data_dir)?;
    let link = std::path::absolute(settings.data_dir.join("rs485"))?;
    let serving = emulator.clone();
    let pty = link.clone();
    tokio::spawn(async move {
        if let Err(error) = serving.serve_pty(&pty).await {
            tracing::error!(%error, "the demo displays stopped");
        }
    });
    // The edge opens the line at start: wait for the emulator to make it.
    for _ in 0..50 {
        if link.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    settings.devices.buses.push(BusSpec {
        id: "rs485".into(),
        settings: modbus::BusSettings { path: link, baud: 9600, timeout_ms: 200, retries: 2 },
    });
    for (i, counter) in wired.iter().enumerate() {
        settings.devices.displays.push(DisplaySettings {
            counter: counter.clone(),
            kind: DisplayKind::Modbus { bus: "rs485".into(), unit: i as u8 + 1, map: map.clone() },
        });
    }

    // A GSM modem: the SMS it sends appear in the terminal and in <data>/sms/sms.txt.
    // Made first: the emulator writes into a directory, but to a file of that name when there
    // is none.
    std::fs::create_dir_all(settings.data_dir.join("sms"))?;
    let modem = fila_notify::modem::Emulator::new().with_output(settings.data_dir.join("sms"));
    let modem_link = std::path::absolute(settings.data_dir.join("modem"))?;
    let (serving, pty) = (modem.clone(), modem_link.clone());
    tokio::spawn(async move {
        if let Err(error) = serving.serve_pty(&pty).await {
            tracing::error!(%error, "the demo modem stopped");
        }
    });
    for _ in 0..50 {
        if modem_link.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    settings.devices.modem = Some(crate::settings::devices::ModemSettings { path: modem_link, baud: 115_200 });
    let notices = settings.notices.get_or_insert_with(notice_defaults);
    notices.sms = Some(crate::settings::SmsRoute::Modem);

    let broker =
        tokio::time::timeout(Duration::from_millis(300), tokio::net::TcpStream::connect("127.0.0.1:1883")).await;
    if matches!(broker, Ok(Ok(_))) {
        // A client id of its own per demo, so two demos on one machine do not take turns
        // kicking each other off the broker.
        let client_id = Some(format!("fila-edge-{}-{}", settings.office.id, settings.listen.port()));
        let mqtt_settings = mqtt::MqttSettings { client_id, ..Default::default() };
        for counter in wireless {
            let (shown, _) = tokio::sync::watch::channel(None);
            let (mqtt_settings, office, counter) = (mqtt_settings.clone(), settings.office.id.clone(), counter.clone());
            settings.devices.displays.push(DisplaySettings { counter: counter.clone(), kind: DisplayKind::Mqtt });
            tokio::spawn(async move {
                if let Err(error) = mqtt::run_display(&mqtt_settings, &office, &counter, shown).await {
                    tracing::error!(%error, counter, "the demo MQTT display stopped");
                }
            });
        }
        settings.devices.mqtt = Some(mqtt_settings);
        println!("  devices:  printer, Modbus displays for counters {wired:?}, MQTT displays for {wireless:?}");
    } else {
        println!("  devices:  printer, Modbus displays for counters {wired:?} (no MQTT broker on 127.0.0.1:1883)");
    }
    Ok(DemoDevices { _printer_status: status, _displays: emulator, _modem: modem })
}

/// `[notices]` as an empty section gives it.
pub fn notice_defaults() -> crate::settings::NoticeSettings {
    let empty = toml::Value::Table(toml::Table::new());
    let Some(defaults) = crate::settings::NoticeSettings::parse(empty, false, &mut Vec::new()) else {
        unreachable!("an empty [notices] section is valid")
    };
    defaults
}

/// The demo's e-mail notices go to an SMTP server on `address` (host:port, plain, no login),
/// e.g. a local aiosmtpd or MailHog.
pub fn smtp_notices(settings: &mut Settings, address: &str) -> anyhow::Result<()> {
    let (host, port) = address.rsplit_once(':').ok_or_else(|| anyhow::anyhow!("--smtp is host:port"))?;
    let smtp = format!(
        "host = {host:?}\nport = {port}\nsecurity = \"none\"\nfrom = \"{} <avisos@fila.invalid>\"\n",
        settings.office.name
    );
    let smtp: fila_notify::email::SmtpSettings =
        toml::from_str(&smtp).map_err(|e| anyhow::anyhow!("--smtp {address}: {}", e.message()))?;
    if let Err(problems) = smtp.check() {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::bail!("--smtp {address}: {}", list.join("; "));
    }
    settings.notices.get_or_insert_with(notice_defaults).smtp = Some(smtp);
    Ok(())
}

/// The demo's emulated devices; they stop when the runtime does.
pub struct DemoDevices {
    _printer_status: tokio::sync::watch::Sender<fila_devices::escpos::PrinterStatus>,
    _displays: std::sync::Arc<fila_devices::modbus::Emulator>,
    _modem: fila_notify::modem::Emulator,
}

/// The public key of `fila-central demo`'s booking passes (derived from the published demo
/// seed): the demo office checks the demo's bookings in, offline too.
pub fn booking_key() -> fila_protocol::booking::code::VerifyingKey {
    use fila_protocol::booking::code::{key_from_seed, SigningKey, DEMO_SEED};
    SigningKey::from_bytes(&key_from_seed(DEMO_SEED, "signing")).verifying_key()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_office_is_valid() {
        let settings = super::settings("127.0.0.1:0".parse().expect("addr"), "/tmp/x".into());
        assert!(settings.office.services.len() >= 3);
        assert!(settings.office.counters.len() >= 4);
    }
}
