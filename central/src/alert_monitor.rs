//! The shell around [`crate::alerts`]: every few seconds it gathers each office's facts (the
//! network view's rows, the link, the devices its box last reported), applies the rules, and
//! sends an e-mail through the outbox for each alert that opened.
//!
//! Times: the rules run on central's clock (`Hub::now`, which tests set to their scenario). The
//! link's last sign of life is stamped with the wall clock (see `Hub::offices`), so it is turned
//! into an age first and that age is taken from central's clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use fila_protocol::device_report::DeviceReport;
use fila_protocol::Timestamp;
use fila_store::{Store, StoreError};

use crate::alerts::{Alert, AlertKind, AlertRules, Alerts, DeviceDown, OfficeFacts};
use crate::hub::{Hub, ReadError};
use crate::network::Network;
use crate::outbox::CentralOutbox;

/// Per office, the devices its box last reported down, with when central first heard so: in
/// the store, so every replica of central knows what a box told one of them.
const DEVICES_DOWN: &str = "devices-down/";

pub struct AlertMonitor {
    rules: AlertRules,
    alerts: Mutex<Alerts>,
    store: Arc<dyn Store>,
    /// When this central started, by its clock: an office not heard from since is offline since.
    started_ms: i64,
}

impl AlertMonitor {
    pub fn new(rules: AlertRules, store: Arc<dyn Store>, now: Timestamp) -> AlertMonitor {
        AlertMonitor { rules, alerts: Mutex::default(), store, started_ms: now.as_ms() }
    }

    pub fn rules(&self) -> &AlertRules {
        &self.rules
    }

    /// A box reported its devices (checked already). A device still down keeps the time it
    /// was first reported down; devices not in the report are forgotten.
    /// Blocking.
    pub fn devices_reported(&self, office: &str, report: &DeviceReport, now: Timestamp) -> Result<(), StoreError> {
        let key = format!("{DEVICES_DOWN}{office}");
        let before: BTreeMap<String, DeviceDown> = self
            .store
            .get_meta(&key)?
            .and_then(|bytes| serde_json::from_slice::<Vec<DeviceDown>>(&bytes).ok())
            .unwrap_or_default()
            .into_iter()
            .map(|down| (down.id.clone(), down))
            .collect();
        let down: Vec<DeviceDown> = report
            .devices
            .iter()
            .filter(|device| !device.up)
            .map(|device| {
                let since_ms = before.get(&device.id).map_or(now.as_ms(), |known| known.since_ms);
                DeviceDown { id: device.id.clone(), kind: device.kind.clone(), since_ms }
            })
            .collect();
        let bytes = serde_json::to_vec(&down).map_err(|e| StoreError::Transaction(e.to_string()))?;
        self.store.put_meta(&key, &bytes)?;
        self.store.flush()
    }

    /// Every office's devices down, as their boxes last reported to any replica.
    fn devices_down(&self) -> Result<HashMap<String, Vec<DeviceDown>>, StoreError> {
        Ok(self
            .store
            .scan_meta(DEVICES_DOWN)?
            .into_iter()
            .filter_map(|(key, bytes)| {
                let down = serde_json::from_slice::<Vec<DeviceDown>>(&bytes).ok()?;
                Some((key[DEVICES_DOWN.len()..].to_string(), down))
            })
            .collect())
    }

    /// Applies the rules to every office at `now`; returns the alerts that opened, with the
    /// office's name. Blocking (reads documents).
    pub fn evaluate(&self, hub: &Hub, network: &Network, now: Timestamp) -> Result<Vec<(Alert, String)>, ReadError> {
        let rows = network.glance_with_limits(hub, now)?;
        let installed: HashSet<String> =
            hub.offices().into_iter().filter(|office| !office.docs.is_empty()).map(|office| office.id).collect();
        let wall_now = crate::hub::system_clock()();
        let devices = self.devices_down()?;
        let facts: Vec<OfficeFacts> = rows
            .iter()
            .map(|(row, limits)| {
                let offline_since_ms = match (row.online, row.last_seen_ms) {
                    (true, _) => None,
                    (false, Some(seen)) => Some(now.as_ms() - (wall_now - seen).max(0)),
                    (false, None) => installed.contains(&row.office).then_some(self.started_ms),
                };
                OfficeFacts {
                    office: row.office.clone(),
                    offline_since_ms,
                    limits: *limits,
                    out_of_order_calls: row.out_of_order_calls,
                    satisfaction_mean: row.satisfaction_mean,
                    satisfaction_answers: row.satisfaction_answers,
                    devices_down: devices.get(&row.office).cloned().unwrap_or_default(),
                }
            })
            .collect();
        let opened = crate::doc_cache::lock(&self.alerts).handle_facts(&self.rules, &facts, now);
        let names: HashMap<&str, &str> = rows.iter().map(|(row, _)| (row.office.as_str(), row.name.as_str())).collect();
        Ok(opened
            .into_iter()
            .map(|alert| {
                let name = names.get(alert.office.as_str()).map_or_else(|| alert.office.clone(), |n| n.to_string());
                (alert, name)
            })
            .collect())
    }

    /// Open alerts, the oldest first.
    pub fn open(&self) -> Vec<Alert> {
        crate::doc_cache::lock(&self.alerts).open()
    }

    /// Recently closed alerts, the most recent first.
    pub fn closed(&self) -> Vec<Alert> {
        crate::doc_cache::lock(&self.alerts).closed().cloned().collect()
    }

    /// Per kind: alerts open now, and alerts raised since central started.
    pub fn counts(&self) -> Vec<(AlertKind, usize, u64)> {
        let alerts = crate::doc_cache::lock(&self.alerts);
        AlertKind::ALL.into_iter().map(|kind| (kind, alerts.open_count(kind), alerts.raised(kind))).collect()
    }
}

/// Applies the rules every `evaluate_every` until aborted, and e-mails each alert that opens.
pub fn start(
    monitor: Arc<AlertMonitor>,
    hub: Arc<Hub>,
    network: Arc<Network>,
    outbox: Arc<CentralOutbox>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let (monitor, hub, network, outbox) = (monitor.clone(), hub.clone(), network.clone(), outbox.clone());
            let every = monitor.rules().evaluate_every;
            let pass = tokio::task::spawn_blocking(move || {
                let now = hub.now();
                let opened = match monitor.evaluate(&hub, &network, now) {
                    Ok(opened) => opened,
                    Err(error) => {
                        tracing::error!(%error, "the alert rules could not be applied");
                        return;
                    }
                };
                for (alert, office_name) in opened {
                    tracing::warn!(office = %alert.office, kind = alert.kind.as_str(), detail = %alert.detail, "alert");
                    let (since, episode) = since_and_episode(&hub, &alert);
                    if let Err(error) = outbox.ops_alert(&alert, &office_name, &since, &episode, now) {
                        tracing::error!(%error, office = %alert.office, "an alert's e-mail could not be queued");
                    }
                }
            });
            let _ = pass.await;
            tokio::time::sleep(every).await;
        }
    })
}

/// When the alert's condition began, in the office's zone ("2026-11-29 10:05"), and what makes
/// its episode one: when it began, for conditions the documents date (a restart finds the same
/// time and sends nothing again); the office's day for today's rates and means, whose start
/// central only saw (so at most one e-mail a day each, however often they cross the threshold).
fn since_and_episode(hub: &Hub, alert: &Alert) -> (String, String) {
    let zone = crate::kpis::office_config(hub, &alert.office)
        .ok()
        .flatten()
        .map_or(jiff::tz::TimeZone::UTC, |config| config.time_zone);
    let since = match jiff::Timestamp::from_millisecond(alert.since_ms) {
        Ok(at) => at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => alert.since_ms.to_string(),
    };
    let episode = match alert.kind {
        AlertKind::OutOfOrderRate | AlertKind::LowSatisfaction => {
            fila_protocol::BusinessDay::containing(Timestamp(alert.since_ms), &zone).to_string()
        }
        _ => alert.since_ms.to_string(),
    };
    (since, episode)
}

/// How an alert is named in the e-mail (central's messages to staff are in Spanish).
pub fn spanish_name(kind: AlertKind) -> &'static str {
    match kind {
        AlertKind::Offline => "oficina sin conexión",
        AlertKind::WaitAboveTarget => "espera por encima del objetivo",
        AlertKind::PreferentialPastLegalMax => "atención preferencial fuera del máximo legal",
        AlertKind::OutOfOrderRate => "llamados fuera de orden",
        AlertKind::DeviceDown => "dispositivo fuera de servicio",
        AlertKind::LowSatisfaction => "satisfacción baja",
    }
}
