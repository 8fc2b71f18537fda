//! What the box knows of each device's health, for the supervisor view, the API, `/metrics` and
//! alerts. Device tasks write it; readers take a copy.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use utoipa::ToSchema;

/// One device as the supervisor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DeviceHealth {
    pub id: String,
    /// printer, display, mqtt_display or broker.
    pub kind: String,
    /// The counter a display belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter: Option<String>,
    /// None until the device was first reached (or for a printer that never answers).
    pub online: Option<bool>,
    /// Printers: ok, near_end, out, cover_open, offline or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paper: Option<String>,
    pub last_error: Option<String>,
    /// When the device last answered, ms since the epoch.
    pub last_seen: Option<i64>,
}

impl DeviceHealth {
    pub fn new(id: &str, kind: &str, counter: Option<&str>) -> Self {
        DeviceHealth {
            id: id.into(),
            kind: kind.into(),
            counter: counter.map(str::to_string),
            online: None,
            paper: None,
            last_error: None,
            last_seen: None,
        }
    }

    /// What a supervisor must act on, if anything.
    pub fn alert(&self) -> Option<(&'static str, String)> {
        let name = match (&self.counter, self.kind.as_str()) {
            (Some(counter), _) => format!("the display of counter {counter}"),
            (None, "broker") => "the MQTT broker".to_string(),
            (None, "modem") => "the SMS modem".to_string(),
            (None, kind) => format!("{kind} {}", self.id),
        };
        match self.paper.as_deref() {
            Some("out") => return Some(("printer_paper_out", format!("printer {} is out of paper", self.id))),
            Some("cover_open") => {
                return Some(("printer_cover_open", format!("printer {} has its cover open", self.id)))
            }
            Some("near_end") => {
                return Some(("printer_paper_low", format!("printer {} is running out of paper", self.id)))
            }
            Some("offline") => return Some(("device_offline", format!("printer {} is offline", self.id))),
            _ => {}
        }
        if self.online == Some(false) {
            let why = self.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
            return Some(("device_offline", format!("{name} is offline{why}")));
        }
        None
    }
}

/// Every device's health, shared between device tasks and handlers.
#[derive(Debug, Clone, Default)]
pub struct HealthBoard {
    devices: Arc<RwLock<BTreeMap<String, DeviceHealth>>>,
}

impl HealthBoard {
    pub fn register(&self, health: DeviceHealth) {
        self.write(|devices| {
            devices.insert(health.id.clone(), health);
        });
    }

    /// The device answered.
    pub fn seen(&self, id: &str, now_ms: i64) {
        self.update(id, |h| {
            if h.online != Some(true) {
                tracing::info!(device = id, "device online");
            }
            h.online = Some(true);
            h.last_seen = Some(now_ms);
            h.last_error = None;
        });
    }

    /// The device did not answer, or answered wrong.
    pub fn failed(&self, id: &str, error: String) {
        self.update(id, |h| {
            if h.online != Some(false) {
                tracing::warn!(device = id, %error, "device offline");
            }
            h.online = Some(false);
            h.last_error = Some(error);
        });
    }

    pub fn set_online(&self, id: &str, online: bool, now_ms: i64) {
        if online {
            self.seen(id, now_ms);
        } else {
            self.failed(id, "it reported itself offline".into());
        }
    }

    pub fn set_paper(&self, id: &str, paper: &str) {
        self.update(id, |h| {
            if h.paper.as_deref() != Some(paper) {
                tracing::info!(device = id, paper, "printer status");
            }
            h.paper = Some(paper.to_string());
        });
    }

    pub fn get(&self, id: &str) -> Option<DeviceHealth> {
        self.devices.read().ok().and_then(|d| d.get(id).cloned())
    }

    pub fn all(&self) -> Vec<DeviceHealth> {
        self.devices.read().map(|d| d.values().cloned().collect()).unwrap_or_default()
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut DeviceHealth)) {
        self.write(|devices| {
            if let Some(health) = devices.get_mut(id) {
                change(health);
            }
        });
    }

    fn write(&self, change: impl FnOnce(&mut BTreeMap<String, DeviceHealth>)) {
        // A panicking writer leaves plain data behind: keep using it.
        let mut devices = self.devices.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut devices);
    }
}
