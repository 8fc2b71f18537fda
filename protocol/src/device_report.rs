//! What an office's box tells central of its devices, so headquarters can alert on a printer or
//! display down: an id, a kind, up or down, and why as a code. Nothing else: no error text (it
//! may quote what a device printed or showed), no names.
//!
//! The box sends it over HTTPS with its branch token (`POST /api/v1/branch/devices`), beside the
//! sync WebSocket rather than as a new wire frame: a central that does not know the route
//! answers 404 and the box carries on, where an unknown frame would close the sync connection.

use serde::{Deserialize, Serialize};

/// Devices in one report: a box has a few printers, a display per counter, a broker and a modem.
pub const DEVICES_PER_REPORT_MAX: usize = 128;

/// A device's id: the box's own (`display-<counter>` for a counter's display, so longer than
/// other ids).
pub const DEVICE_ID_LEN_MAX: usize = 64;

/// The kinds of device a box reports.
pub const DEVICE_KINDS: [&str; 5] = ["printer", "display", "mqtt_display", "broker", "modem"];

/// Why a device is flagged: the codes the box's supervisors see.
pub const DEVICE_PROBLEMS: [&str; 4] = ["offline", "paper_out", "cover_open", "paper_low"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceReport {
    pub devices: Vec<DeviceState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceState {
    pub id: String,
    /// One of [`DEVICE_KINDS`].
    pub kind: String,
    /// Whether it can do its work: a printer out of paper is down, one running low is up.
    pub up: bool,
    /// One of [`DEVICE_PROBLEMS`], when there is one.
    #[serde(default)]
    pub problem: Option<String>,
}

impl DeviceReport {
    /// Why this report cannot be taken, if it cannot: it comes from the network.
    pub fn problem(&self) -> Option<String> {
        if self.devices.len() > DEVICES_PER_REPORT_MAX {
            return Some(format!("devices: at most {DEVICES_PER_REPORT_MAX}"));
        }
        self.devices.iter().enumerate().find_map(|(i, device)| {
            let id_ok = !device.id.is_empty()
                && device.id.len() <= DEVICE_ID_LEN_MAX
                && device.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            let why = if !id_ok {
                format!("id: 1-{DEVICE_ID_LEN_MAX} letters, digits, '-' or '_'")
            } else if !DEVICE_KINDS.contains(&device.kind.as_str()) {
                format!("kind: one of {}", DEVICE_KINDS.join(", "))
            } else if device.problem.as_deref().is_some_and(|p| !DEVICE_PROBLEMS.contains(&p)) {
                format!("problem: one of {}", DEVICE_PROBLEMS.join(", "))
            } else if self.devices[..i].iter().any(|d| d.id == device.id) {
                "id: reported twice".to_string()
            } else {
                return None;
            };
            Some(format!("devices[{i}].{why}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, kind: &str, up: bool, problem: Option<&str>) -> DeviceState {
        DeviceState { id: id.into(), kind: kind.into(), up, problem: problem.map(str::to_string) }
    }

    #[test]
    fn a_report_of_known_devices_is_taken_and_anything_else_is_named() {
        let good = DeviceReport {
            devices: vec![
                device("entrada", "printer", false, Some("paper_out")),
                device("broker", "broker", true, None),
            ],
        };
        assert_eq!(good.problem(), None);
        let cases = [
            (device("a b", "printer", true, None), "devices[0].id"),
            (device("p1", "toaster", true, None), "devices[0].kind"),
            (device("p1", "printer", false, Some("Juan Pérez jammed it")), "devices[0].problem"),
        ];
        for (bad, expected) in cases {
            let problem = DeviceReport { devices: vec![bad] }.problem().expect("refused");
            assert!(problem.starts_with(expected), "{problem}");
        }
        let twice = DeviceReport { devices: vec![device("p1", "printer", true, None); 2] };
        assert_eq!(twice.problem().as_deref(), Some("devices[1].id: reported twice"));
        let many = DeviceReport { devices: vec![device("p1", "printer", true, None); DEVICES_PER_REPORT_MAX + 1] };
        assert!(many.problem().is_some_and(|p| p.starts_with("devices: at most")));
    }

    #[test]
    fn a_report_with_fields_it_does_not_know_does_not_decode() {
        let text = r#"{"devices": [{"id": "p1", "kind": "printer", "up": true, "last_error": "x"}]}"#;
        assert!(serde_json::from_str::<DeviceReport>(text).is_err());
    }
}
