//! Headquarters' alerts: the rules that turn what central knows of each office into alerts that
//! open and close, pure and on a time the caller gives.
//!
//! Each rule reads one office's [`OfficeFacts`] and says whether its condition holds and since
//! when. Where the documents say when a condition began (the link went down, a citizen passed
//! their target), that is the alert's `since`; where they do not (a rate, a mean), it is when
//! [`Alerts`] first saw the condition hold. An alert opens once its condition has held for the
//! rule's duration and closes as soon as it stops; there is one per (office, kind) at a time.
//! State lives in memory: after a restart it is recomputed from the documents, and the device
//! reports and the link's state come back within a minute.
//!
//! While an office has been offline long enough for that alert, the rules on waits are not
//! applied: central's copy of its day is stale, and would show citizens waiting forever.
//!
//! Details carry counts and device ids, never a citizen's number, name or contact.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use fila_protocol::config::ConfigProblem;
use fila_protocol::Timestamp;
use serde::{Deserialize, Serialize};

use crate::network::WaitLimits;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The office's box has not been connected for `offline_minutes`.
    Offline,
    /// A citizen has been waiting past their service's target for `wait_above_target_minutes`.
    WaitAboveTarget,
    /// A preferential citizen is waiting past their category's legal maximum.
    PreferentialPastLegalMax,
    /// Today's out-of-order calls are at least `out_of_order_rate` of the calls.
    OutOfOrderRate,
    /// A printer, display or broker of the box has been down for `device_down_minutes`.
    DeviceDown,
    /// Today's mean satisfaction is below `satisfaction_below`.
    LowSatisfaction,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::Offline,
        AlertKind::WaitAboveTarget,
        AlertKind::PreferentialPastLegalMax,
        AlertKind::OutOfOrderRate,
        AlertKind::DeviceDown,
        AlertKind::LowSatisfaction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Offline => "offline",
            AlertKind::WaitAboveTarget => "wait_above_target",
            AlertKind::PreferentialPastLegalMax => "preferential_past_legal_max",
            AlertKind::OutOfOrderRate => "out_of_order_rate",
            AlertKind::DeviceDown => "device_down",
            AlertKind::LowSatisfaction => "low_satisfaction",
        }
    }
}

/// `[alerts]` in central's settings: the thresholds. Every field has a default.
///
/// ```toml
/// [alerts]
/// offline_minutes = 15             # no link for this long
/// wait_above_target_minutes = 10   # someone waits past the service's target this long
/// preferential_past_legal_max = true
/// out_of_order_rate = 0.1          # out-of-order calls / calls today...
/// out_of_order_calls_min = 20      # ...once there are this many calls
/// device_down_minutes = 5
/// satisfaction_below = 3.0         # today's mean, of 5...
/// satisfaction_answers_min = 5     # ...once this many answered
/// email = ["guardia@example.gob"]  # optional; needs [notices.smtp]
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsSection {
    pub offline_minutes: u32,
    pub wait_above_target_minutes: u32,
    pub preferential_past_legal_max: bool,
    pub out_of_order_rate: f64,
    pub out_of_order_calls_min: u32,
    pub device_down_minutes: u32,
    pub satisfaction_below: f64,
    pub satisfaction_answers_min: u32,
    pub email: Vec<String>,
}

impl Default for AlertsSection {
    fn default() -> Self {
        AlertsSection {
            offline_minutes: 15,
            wait_above_target_minutes: 10,
            preferential_past_legal_max: true,
            out_of_order_rate: 0.1,
            out_of_order_calls_min: 20,
            device_down_minutes: 5,
            satisfaction_below: 3.0,
            satisfaction_answers_min: 5,
            email: Vec::new(),
        }
    }
}

/// Addresses alerts are sent to, at most.
pub const EMAILS_MAX: usize = 20;

impl AlertsSection {
    /// Checked rules, or every problem found (`at` under `alerts.`). `can_email`: central has an
    /// SMTP server to send through.
    pub fn check(self, can_email: bool) -> Result<AlertRules, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let mut problem = |at: &str, text: &str| {
            problems.push(ConfigProblem { at: format!("alerts.{at}"), problem: text.to_string() });
        };
        const DAY_MINUTES: u32 = 24 * 60;
        for (at, minutes) in [
            ("offline_minutes", self.offline_minutes),
            ("wait_above_target_minutes", self.wait_above_target_minutes),
            ("device_down_minutes", self.device_down_minutes),
        ] {
            if !(1..=DAY_MINUTES).contains(&minutes) {
                problem(at, "must be 1 to 1440 minutes");
            }
        }
        if !(self.out_of_order_rate > 0.0 && self.out_of_order_rate <= 1.0) {
            problem("out_of_order_rate", "must be a share above 0 and at most 1, e.g. 0.1");
        }
        if !(self.satisfaction_below > 1.0 && self.satisfaction_below <= 5.0) {
            problem("satisfaction_below", "must be a score above 1 and at most 5, e.g. 3.0");
        }
        if self.email.len() > EMAILS_MAX {
            problem("email", &format!("at most {EMAILS_MAX} addresses"));
        }
        for (i, email) in self.email.iter().enumerate() {
            let medium = fila_notify::contact::Contact::parse(email, "").map(|c| c.medium()).ok();
            if medium != Some(fila_notify::contact::Medium::Email) {
                problem(&format!("email[{i}]"), "is not an e-mail address");
            }
        }
        if !self.email.is_empty() && !can_email {
            problem("email", "needs [notices.smtp], the server central sends e-mail through");
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let minutes = |m: u32| Duration::from_secs(u64::from(m) * 60);
        Ok(AlertRules {
            offline: minutes(self.offline_minutes),
            wait_above_target: minutes(self.wait_above_target_minutes),
            preferential_past_legal_max: self.preferential_past_legal_max,
            out_of_order_rate: self.out_of_order_rate,
            out_of_order_calls_min: self.out_of_order_calls_min,
            device_down: minutes(self.device_down_minutes),
            satisfaction_below: self.satisfaction_below,
            satisfaction_answers_min: self.satisfaction_answers_min,
            email: self.email,
            evaluate_every: Duration::from_secs(10),
        })
    }
}

/// The checked thresholds (see [`AlertsSection`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    pub offline: Duration,
    pub wait_above_target: Duration,
    pub preferential_past_legal_max: bool,
    pub out_of_order_rate: f64,
    pub out_of_order_calls_min: u32,
    pub device_down: Duration,
    pub satisfaction_below: f64,
    pub satisfaction_answers_min: u32,
    /// Who hears of an alert when it opens.
    pub email: Vec<String>,
    /// Not in the file: how often the rules are applied (tests shorten it).
    pub evaluate_every: Duration,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertsSection::default().check(false).unwrap_or_else(|_| unreachable!("the defaults are valid"))
    }
}

/// A device of an office's box that is down, as central last heard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceDown {
    pub id: String,
    /// printer, display, mqtt_display, broker, modem.
    pub kind: String,
    /// When central first heard it was down.
    pub since_ms: i64,
}

/// What central knows of one office now, as the rules read it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OfficeFacts {
    pub office: String,
    /// When the box's link went down (or central started without it); `None` while it is
    /// connected, and for a box that never synced anything (not installed yet).
    pub offline_since_ms: Option<i64>,
    pub limits: WaitLimits,
    pub out_of_order_calls: u32,
    pub satisfaction_mean: Option<f64>,
    pub satisfaction_answers: u32,
    pub devices_down: Vec<DeviceDown>,
}

/// One alert: open while `closed_ms` is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    pub office: String,
    /// When its condition began, in ms since the epoch.
    pub since_ms: i64,
    pub closed_ms: Option<i64>,
    /// A short explanation, without personal data.
    pub detail: String,
}

/// Closed alerts kept for the view, newest first.
pub const CLOSED_KEPT: usize = 200;

/// A condition that holds now: since when (if the facts say), how long it must hold, and why.
struct Holding {
    kind: AlertKind,
    since_ms: Option<i64>,
    hold: Duration,
    detail: String,
}

/// Every office's alerts, opened and closed as [`Alerts::handle_facts`] is given the facts.
#[derive(Debug, Default)]
pub struct Alerts {
    open: BTreeMap<(String, AlertKind), Alert>,
    /// Conditions without a start of their own: when each was first seen holding.
    first_seen: BTreeMap<(String, AlertKind), i64>,
    closed: VecDeque<Alert>,
    raised: BTreeMap<AlertKind, u64>,
}

impl Alerts {
    /// Apply the rules to every office's facts at `now`; returns the alerts that opened.
    /// Offices missing from `facts` keep their alerts as they are.
    pub fn handle_facts(&mut self, rules: &AlertRules, facts: &[OfficeFacts], now: Timestamp) -> Vec<Alert> {
        let mut opened = Vec::new();
        for office in facts {
            let holding = conditions(rules, office, now);
            for kind in AlertKind::ALL {
                let key = (office.office.clone(), kind);
                match holding.iter().find(|h| h.kind == kind) {
                    Some(condition) => opened.extend(self.holds(key, condition, now)),
                    None => self.stopped(key, now),
                }
            }
        }
        opened
    }

    fn holds(&mut self, key: (String, AlertKind), condition: &Holding, now: Timestamp) -> Option<Alert> {
        if let Some(open) = self.open.get_mut(&key) {
            open.detail.clone_from(&condition.detail);
            return None;
        }
        let since_ms = match condition.since_ms {
            Some(since) => since,
            None => *self.first_seen.entry(key.clone()).or_insert(now.as_ms()),
        };
        let held_ms = now.as_ms().saturating_sub(since_ms);
        if held_ms < duration_ms(condition.hold) {
            return None;
        }
        self.first_seen.remove(&key);
        let alert =
            Alert { kind: key.1, office: key.0.clone(), since_ms, closed_ms: None, detail: condition.detail.clone() };
        *self.raised.entry(key.1).or_default() += 1;
        self.open.insert(key, alert.clone());
        Some(alert)
    }

    fn stopped(&mut self, key: (String, AlertKind), now: Timestamp) {
        self.first_seen.remove(&key);
        if let Some(mut alert) = self.open.remove(&key) {
            alert.closed_ms = Some(now.as_ms());
            self.closed.push_front(alert);
            self.closed.truncate(CLOSED_KEPT);
        }
    }

    /// Open alerts, the oldest first.
    pub fn open(&self) -> Vec<Alert> {
        let mut open: Vec<Alert> = self.open.values().cloned().collect();
        open.sort_by(|a, b| a.since_ms.cmp(&b.since_ms).then_with(|| a.office.cmp(&b.office)));
        open
    }

    /// Alerts that closed, the most recent first.
    pub fn closed(&self) -> impl Iterator<Item = &Alert> {
        self.closed.iter()
    }

    /// Alerts open now of `kind`.
    pub fn open_count(&self, kind: AlertKind) -> usize {
        self.open.keys().filter(|(_, k)| *k == kind).count()
    }

    /// Alerts of `kind` opened since this process started.
    pub fn raised(&self, kind: AlertKind) -> u64 {
        self.raised.get(&kind).copied().unwrap_or(0)
    }
}

/// The conditions that hold for one office at `now`: one rule each.
fn conditions(rules: &AlertRules, facts: &OfficeFacts, now: Timestamp) -> Vec<Holding> {
    // Once the office is offline long enough for that alert, central's copy of its day is stale:
    // how long its citizens wait now is unknown, and the offline alert says so.
    let stale =
        facts.offline_since_ms.is_some_and(|since| now.as_ms().saturating_sub(since) >= duration_ms(rules.offline));
    let waits = if stale { WaitLimits { calls: facts.limits.calls, ..WaitLimits::default() } } else { facts.limits };
    [
        offline(rules, facts),
        wait_above_target(rules, &waits, now),
        preferential_past_legal_max(rules, &waits, now),
        out_of_order_rate(rules, facts),
        device_down(rules, facts, now),
        low_satisfaction(rules, facts),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn offline(rules: &AlertRules, facts: &OfficeFacts) -> Option<Holding> {
    Some(Holding {
        kind: AlertKind::Offline,
        since_ms: Some(facts.offline_since_ms?),
        hold: rules.offline,
        detail: format!("no link with the office's box for more than {}", spoken(rules.offline)),
    })
}

fn wait_above_target(rules: &AlertRules, waits: &WaitLimits, now: Timestamp) -> Option<Holding> {
    let since = waits.first_past_target_ms.filter(|at| *at <= now.as_ms())?;
    Some(Holding {
        kind: AlertKind::WaitAboveTarget,
        since_ms: Some(since),
        hold: rules.wait_above_target,
        detail: format!(
            "a citizen has waited past the service's target wait for more than {}",
            spoken(rules.wait_above_target)
        ),
    })
}

fn preferential_past_legal_max(rules: &AlertRules, waits: &WaitLimits, now: Timestamp) -> Option<Holding> {
    let since = waits.first_past_legal_max_ms.filter(|at| *at <= now.as_ms() && rules.preferential_past_legal_max)?;
    Some(Holding {
        kind: AlertKind::PreferentialPastLegalMax,
        since_ms: Some(since),
        hold: Duration::ZERO,
        detail: "a preferential citizen is waiting past the legal maximum".into(),
    })
}

fn out_of_order_rate(rules: &AlertRules, facts: &OfficeFacts) -> Option<Holding> {
    let (calls, out_of_order) = (facts.limits.calls, facts.out_of_order_calls);
    let holds = calls > 0
        && calls >= rules.out_of_order_calls_min
        && f64::from(out_of_order) >= rules.out_of_order_rate * f64::from(calls);
    let percent = 100.0 * f64::from(out_of_order) / f64::from(calls.max(1));
    holds.then(|| Holding {
        kind: AlertKind::OutOfOrderRate,
        since_ms: None,
        hold: Duration::ZERO,
        detail: format!("{out_of_order} of {calls} calls today out of order ({percent:.0}%)"),
    })
}

fn device_down(rules: &AlertRules, facts: &OfficeFacts, now: Timestamp) -> Option<Holding> {
    let down: Vec<&DeviceDown> = facts
        .devices_down
        .iter()
        .filter(|d| now.as_ms().saturating_sub(d.since_ms) >= duration_ms(rules.device_down))
        .collect();
    let first = down.iter().map(|d| d.since_ms).min()?;
    let names: Vec<String> = down.iter().map(|d| format!("{} {}", d.kind, d.id)).collect();
    Some(Holding {
        kind: AlertKind::DeviceDown,
        since_ms: Some(first),
        hold: rules.device_down,
        detail: format!("down: {}", names.join(", ")),
    })
}

fn low_satisfaction(rules: &AlertRules, facts: &OfficeFacts) -> Option<Holding> {
    let mean = facts.satisfaction_mean.filter(|mean| *mean < rules.satisfaction_below)?;
    (facts.satisfaction_answers >= rules.satisfaction_answers_min).then(|| Holding {
        kind: AlertKind::LowSatisfaction,
        since_ms: None,
        hold: Duration::ZERO,
        detail: format!("mean satisfaction {mean:.1} of 5 over {} answers today", facts.satisfaction_answers),
    })
}

/// "15 min", or seconds below a minute (tests' thresholds).
fn spoken(duration: Duration) -> String {
    match duration.as_secs() {
        seconds if seconds < 60 => format!("{seconds} s"),
        seconds => format!("{} min", seconds / 60),
    }
}

fn duration_ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
