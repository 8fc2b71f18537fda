//! The `[devices]` section of the edge's TOML: what is wired to this box and how.
//!
//! ```toml
//! [devices]
//! lang = "es"                      # printed tickets and spoken calls
//! speech = true                    # spoken calls made with espeak-ng when it is installed
//!
//! [devices.mqtt]                   # the broker on the box (fila_devices::mqtt documents the topics)
//! host = "127.0.0.1"
//! port = 1883
//!
//! [[devices.printers]]
//! id = "entrada"
//! kiosks = ["entrada"]             # kiosks whose tickets it prints; empty: every kiosk
//! transport = "tcp"                # tcp (port 9100), serial or file (/dev/usb/lp0)
//! address = "192.168.1.50:9100"
//! code_page = "pc850"              # pc437, pc850, pc858, wpc1252; `table` overrides the ESC t number
//!
//! [[devices.display_models]]       # the register map of one model of Modbus RTU display
//! id = "led485-8"
//! text_register = 128
//! text_chars = 8
//!
//! [[devices.buses]]                # an RS-485 line; several displays share it by unit address
//! id = "rs485"
//! path = "/dev/ttyUSB0"
//!
//! [[devices.displays]]
//! counter = "4"
//! bus = "rs485"                    # a Modbus display: bus, unit, model
//! unit = 4
//! model = "led485-8"
//!
//! [devices.modem]                 # a GSM modem for SMS notices (see [notices])
//! path = "/dev/ttyUSB2"
//!
//! [[devices.displays]]
//! counter = "5"
//! mqtt = true                      # an MQTT display (its online state is watched)
//! ```
//! Every problem is reported at once, with where it is.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use fila_devices::escpos::{CodePage, FlowControl, PrinterProfile, PrinterTransport};
use fila_devices::modbus::{BusSettings, RegisterMap};
use fila_devices::mqtt::MqttSettings;
use fila_devices::Lang;
use fila_protocol::config::{ConfigProblem, OfficeConfig};
use fila_protocol::ids::is_valid_id;
use serde::Deserialize;

/// The devices of one office, checked.
#[derive(Debug, Clone)]
pub struct DeviceSettings {
    pub lang: Lang,
    pub speech: bool,
    pub mqtt: Option<MqttSettings>,
    pub printers: Vec<PrinterSettings>,
    pub buses: Vec<BusSpec>,
    pub displays: Vec<DisplaySettings>,
    /// A GSM modem that sends the office's SMS notices (and reads STOP replies).
    pub modem: Option<ModemSettings>,
}

/// `[devices.modem]`: a USB 3G/4G stick or an industrial modem on a serial port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModemSettings {
    /// The modem's AT port, e.g. /dev/ttyUSB2 (a udev rule gives it a stable name).
    pub path: PathBuf,
    #[serde(default = "default_modem_baud")]
    pub baud: u32,
}

fn default_modem_baud() -> u32 {
    115_200
}

impl Default for DeviceSettings {
    /// No devices; spoken calls when the box can speak.
    fn default() -> Self {
        DeviceSettings {
            lang: Lang::Es,
            speech: true,
            mqtt: None,
            printers: Vec::new(),
            buses: Vec::new(),
            displays: Vec::new(),
            modem: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PrinterSettings {
    pub id: String,
    pub kiosks: Vec<String>,
    pub transport: PrinterTransport,
    pub profile: PrinterProfile,
    /// How often an idle printer is asked for its status.
    pub poll: Duration,
}

#[derive(Debug, Clone)]
pub struct BusSpec {
    pub id: String,
    pub settings: BusSettings,
}

#[derive(Debug, Clone)]
pub struct DisplaySettings {
    pub counter: String,
    pub kind: DisplayKind,
}

#[derive(Debug, Clone)]
pub enum DisplayKind {
    Modbus { bus: String, unit: u8, map: RegisterMap },
    Mqtt,
}

impl DisplaySettings {
    /// The id under which its health is shown.
    pub fn health_id(&self) -> String {
        match &self.kind {
            DisplayKind::Modbus { .. } => format!("display-{}", self.counter),
            DisplayKind::Mqtt => format!("mqtt-display-{}", self.counter),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevices {
    #[serde(default)]
    lang: Lang,
    #[serde(default = "yes")]
    speech: bool,
    #[serde(default)]
    mqtt: Option<MqttSettings>,
    #[serde(default)]
    printers: Vec<RawPrinter>,
    /// Each an `id` plus a `RegisterMap` (flatten cannot be combined with deny_unknown_fields).
    #[serde(default)]
    display_models: Vec<toml::Table>,
    /// Each an `id` plus `BusSettings`.
    #[serde(default)]
    buses: Vec<toml::Table>,
    #[serde(default)]
    displays: Vec<RawDisplay>,
    #[serde(default)]
    modem: Option<ModemSettings>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrinter {
    id: String,
    #[serde(default)]
    kiosks: Vec<String>,
    transport: String,
    address: Option<String>,
    path: Option<PathBuf>,
    baud: Option<u32>,
    flow_control: Option<FlowControl>,
    #[serde(default)]
    code_page: CodePage,
    table: Option<u8>,
    columns: Option<u8>,
    qr: Option<bool>,
    cut: Option<bool>,
    #[serde(default = "default_poll_secs")]
    poll_secs: u64,
}

fn default_poll_secs() -> u64 {
    15
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDisplay {
    counter: String,
    #[serde(default)]
    mqtt: bool,
    bus: Option<String>,
    unit: Option<u8>,
    model: Option<String>,
}

impl DeviceSettings {
    /// Check the `[devices]` table against the office it serves.
    pub fn parse(value: toml::Value, office: Option<&OfficeConfig>, problems: &mut Vec<ConfigProblem>) -> Self {
        let mut problem = |at: String, text: String| problems.push(ConfigProblem { at, problem: text });
        let raw: RawDevices = match value.try_into() {
            Ok(raw) => raw,
            Err(e) => {
                let e: toml::de::Error = e;
                problem("devices".into(), e.message().to_string());
                return DeviceSettings::default();
            }
        };
        let mut settings = DeviceSettings {
            lang: raw.lang,
            speech: raw.speech,
            mqtt: raw.mqtt,
            modem: raw.modem,
            ..Default::default()
        };
        for text in settings.mqtt.as_ref().map(MqttSettings::problems).unwrap_or_default() {
            problem("devices.mqtt".into(), text);
        }
        if let (Some(_), Some(office)) = (&settings.mqtt, office) {
            // Topic ids are lower case: "A1" and "a1" would share one display's topics.
            let mut topics = std::collections::BTreeMap::new();
            for counter in &office.counters {
                let id = counter.id.as_str();
                let topic = fila_devices::mqtt::topics::validate_id(id).unwrap_or_else(|_| id.to_string());
                if let Some(other) = topics.insert(topic, id) {
                    problem(
                        "devices.mqtt".into(),
                        format!("counters {other:?} and {id:?} differ only in case; MQTT topics would mix them"),
                    );
                }
            }
        }

        let mut ids = BTreeSet::new();
        for (i, p) in raw.printers.into_iter().enumerate() {
            let at = format!("devices.printers[{i}]");
            if !is_valid_id(&p.id) {
                problem(format!("{at}.id"), "must be 1-32 letters, digits, '-' or '_'".into());
            }
            if !ids.insert(p.id.clone()) {
                problem(format!("{at}.id"), format!("{:?} is defined twice", p.id));
            }
            if let Some(kiosk) = p.kiosks.iter().find(|k| !is_valid_id(k)) {
                problem(format!("{at}.kiosks"), format!("{kiosk:?} is not a kiosk id"));
            }
            let transport = match (p.transport.as_str(), p.address, p.path) {
                ("tcp", Some(address), None) => Some(PrinterTransport::Tcp { address }),
                ("serial", None, Some(path)) => Some(PrinterTransport::Serial {
                    path,
                    baud: p.baud.unwrap_or(9600),
                    flow_control: p.flow_control.unwrap_or_default(),
                }),
                ("file", None, Some(path)) => Some(PrinterTransport::File { path }),
                ("tcp", _, _) => {
                    problem(format!("{at}.address"), "a tcp printer needs `address` (host:9100) and no `path`".into());
                    None
                }
                ("serial" | "file", _, _) => {
                    problem(format!("{at}.path"), "a serial or file printer needs `path` and no `address`".into());
                    None
                }
                (other, _, _) => {
                    problem(format!("{at}.transport"), format!("{other:?} is not tcp, serial or file"));
                    None
                }
            };
            if (p.baud.is_some() || p.flow_control.is_some())
                && !matches!(transport, Some(PrinterTransport::Serial { .. }))
            {
                problem(format!("{at}.baud"), "only a serial printer has a baud rate and flow control".into());
            }
            let defaults = PrinterProfile::default();
            let profile = PrinterProfile {
                code_page: p.code_page,
                table: p.table,
                columns: p.columns.unwrap_or(defaults.columns),
                qr: p.qr.unwrap_or(defaults.qr),
                cut: p.cut.unwrap_or(defaults.cut),
            };
            if !(24..=64).contains(&profile.columns) {
                problem(format!("{at}.columns"), "must be between 24 and 64 (32 on 58 mm paper, 48 on 80 mm)".into());
            }
            if !(1..=3600).contains(&p.poll_secs) {
                problem(format!("{at}.poll_secs"), "must be between 1 and 3600".into());
            }
            if let Some(transport) = transport {
                settings.printers.push(PrinterSettings {
                    id: p.id,
                    kiosks: p.kiosks,
                    transport,
                    profile,
                    poll: Duration::from_secs(p.poll_secs),
                });
            }
        }

        let mut models = std::collections::BTreeMap::new();
        for (i, table) in raw.display_models.into_iter().enumerate() {
            let at = format!("devices.display_models[{i}]");
            let Some((id, map)) = with_id::<RegisterMap>(table, &at, &mut problem) else { continue };
            if let Err(e) = map.validate() {
                problem(at.clone(), e);
            }
            if models.insert(id.clone(), map).is_some() {
                problem(format!("{at}.id"), format!("{id:?} is defined twice"));
            }
        }
        let mut bus_ids = BTreeSet::new();
        let mut bus_paths = BTreeSet::new();
        for (i, table) in raw.buses.into_iter().enumerate() {
            let at = format!("devices.buses[{i}]");
            let Some((id, bus)) = with_id::<BusSettings>(table, &at, &mut problem) else { continue };
            if !bus_ids.insert(id.clone()) {
                problem(format!("{at}.id"), format!("{id:?} is defined twice"));
            }
            if !bus_paths.insert(bus.path.clone()) {
                problem(format!("{at}.path"), format!("{} is the path of another bus", bus.path.display()));
            }
            if bus.timeout_ms == 0 || bus.timeout_ms > 10_000 {
                problem(format!("{at}.timeout_ms"), "must be between 1 and 10000".into());
            }
            // Every retry of a dead display holds the whole line: keep them few.
            if bus.retries > 5 {
                problem(format!("{at}.retries"), "must be between 0 and 5".into());
            }
            if !(1200..=115_200).contains(&bus.baud) {
                problem(format!("{at}.baud"), "must be between 1200 and 115200".into());
            } else {
                // An 8-character text frame and its answer are ~25 bytes of 11 bits on the wire.
                let wire_ms = 25 * 11 * 1000 / u64::from(bus.baud);
                if bus.timeout_ms < wire_ms + 20 {
                    problem(
                        format!("{at}.timeout_ms"),
                        format!(
                            "at {} baud a frame and its answer take {wire_ms} ms: allow at least {}",
                            bus.baud,
                            wire_ms + 20
                        ),
                    );
                }
            }
            settings.buses.push(BusSpec { id, settings: bus });
        }

        let mut units = BTreeSet::new();
        let mut counters = BTreeSet::new();
        for (i, d) in raw.displays.into_iter().enumerate() {
            let at = format!("devices.displays[{i}]");
            if let Some(office) = office {
                if !office.counters.iter().any(|c| c.id.as_str() == d.counter) {
                    problem(format!("{at}.counter"), format!("{:?} is not a counter of this office", d.counter));
                }
            }
            let kind = if d.mqtt {
                if d.bus.is_some() || d.unit.is_some() || d.model.is_some() {
                    problem(at.clone(), "an MQTT display has no bus, unit or model".into());
                }
                if settings.mqtt.is_none() {
                    problem(at.clone(), "an MQTT display needs [devices.mqtt]".into());
                }
                Some(DisplayKind::Mqtt)
            } else {
                match (d.bus, d.unit, d.model) {
                    (Some(bus), Some(unit), Some(model)) => {
                        if !bus_ids.contains(&bus) {
                            problem(format!("{at}.bus"), format!("no [[devices.buses]] has id {bus:?}"));
                        }
                        if !(1..=247).contains(&unit) {
                            problem(format!("{at}.unit"), "a Modbus unit address is between 1 and 247".into());
                        }
                        if !units.insert((bus.clone(), unit)) {
                            problem(format!("{at}.unit"), format!("unit {unit} is used twice on bus {bus:?}"));
                        }
                        match models.get(&model) {
                            Some(map) => Some(DisplayKind::Modbus { bus, unit, map: map.clone() }),
                            None => {
                                problem(
                                    format!("{at}.model"),
                                    format!("no [[devices.display_models]] has id {model:?}"),
                                );
                                None
                            }
                        }
                    }
                    _ => {
                        problem(
                            at.clone(),
                            "a display is either `mqtt = true` or has `bus`, `unit` and `model`".into(),
                        );
                        None
                    }
                }
            };
            if let Some(kind) = kind {
                let display = DisplaySettings { counter: d.counter, kind };
                if !counters.insert(display.health_id()) {
                    problem(
                        format!("{at}.counter"),
                        format!("counter {:?} has two displays of one kind", display.counter),
                    );
                }
                settings.displays.push(display);
            }
        }
        settings
    }

    pub fn is_empty(&self) -> bool {
        self.mqtt.is_none() && self.printers.is_empty() && self.displays.is_empty()
    }
}

/// A table of `id` plus the fields of `T`.
fn with_id<T: serde::de::DeserializeOwned>(
    mut table: toml::Table,
    at: &str,
    problem: &mut impl FnMut(String, String),
) -> Option<(String, T)> {
    let id = match table.remove("id") {
        Some(toml::Value::String(id)) if is_valid_id(&id) => id,
        _ => {
            problem(format!("{at}.id"), "must be 1-32 letters, digits, '-' or '_'".into());
            return None;
        }
    };
    match toml::Value::Table(table).try_into::<T>() {
        Ok(value) => Some((id, value)),
        Err(e) => {
            problem(at.to_string(), e.message().to_string());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::settings::Settings;

    const OFFICE: &str =
        "[office]\nid = \"centro\"\nname = \"Centro\"\ntime_zone = \"America/Argentina/Buenos_Aires\"\n\
        [[services]]\nid = \"general\"\nprefix = \"A\"\nname = \"General\"\n\
        [[counters]]\nid = \"A1\"\nname = \"Caja A1\"\nservices = [\"general\"]\n\
        [[counters]]\nid = \"a1\"\nname = \"Caja a1\"\nservices = [\"general\"]\n";

    fn problems(devices: &str) -> Vec<String> {
        match Settings::parse(&format!("{OFFICE}{devices}")) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn counters_that_differ_only_in_case_cannot_share_the_broker() {
        assert!(problems("").is_empty(), "without MQTT they are fine");
        let found = problems("[devices.mqtt]\nhost = \"127.0.0.1\"\n");
        assert!(found.iter().any(|p| p.contains("differ only in case")), "{found:?}");
    }

    #[test]
    fn a_complete_devices_section_is_accepted() {
        let devices = "[devices]\nlang = \"en\"\n\
            [devices.mqtt]\nusername = \"edge\"\npassword = \"secret\"\nprefix = \"qms\"\n\
            [[devices.printers]]\nid = \"door\"\ntransport = \"serial\"\npath = \"/dev/ttyUSB0\"\nbaud = 19200\nflow_control = \"hardware\"\ncolumns = 32\nqr = false\n\
            [[devices.display_models]]\nid = \"led\"\ntext_register = 128\ntext_chars = 6\nencoding = \"seven_segment\"\n\
            [[devices.buses]]\nid = \"line\"\npath = \"/dev/ttyUSB1\"\n\
            [[devices.displays]]\ncounter = \"A1\"\nbus = \"line\"\nunit = 3\nmodel = \"led\"\n";
        let text = format!("{}{devices}", OFFICE.replace("id = \"a1\"", "id = \"b1\""));
        let settings = Settings::parse(&text).unwrap_or_else(|p| panic!("{p:?}"));
        assert_eq!(settings.devices.lang, fila_devices::Lang::En);
        assert_eq!(settings.devices.printers[0].profile.columns, 32);
        assert!(!settings.devices.printers[0].profile.qr);
        assert_eq!(settings.devices.displays.len(), 1);
        assert_eq!(settings.devices.mqtt.as_ref().and_then(|m| m.username.as_deref()), Some("edge"));
    }
}
