//! The network at a glance: every office's state today in one row (headquarters' first view of
//! a national network), from what central holds: the link (online, sync lag) and today's day
//! document read with the office's configuration.

use fila_protocol::report::{day_kpis, Context, GroupBy};
use fila_protocol::{BusinessDay, CounterStatus, TicketStatus, Timestamp};
use serde::Serialize;

use crate::hub::{Hub, OfficeSummary, ReadError};
use crate::kpis::office_config;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfficeGlance {
    pub office: String,
    pub name: String,
    pub tags: Vec<String>,
    pub online: bool,
    pub last_seen_ms: Option<i64>,
    pub sync_lag_ms: Option<i64>,
    /// The office's business day now, in its zone.
    pub day: String,
    pub waiting: u32,
    /// How long the longest-waiting citizen has waited, as central last heard.
    pub longest_wait_seconds: i64,
    pub counters_open: u32,
    pub served: u32,
    pub within_target_share: Option<f64>,
    pub preferential_within_legal_max_share: Option<f64>,
    pub out_of_order_calls: u32,
}

/// Every office's row, at `now`. Blocking.
pub fn glance(hub: &Hub, now: Timestamp) -> Result<Vec<OfficeGlance>, ReadError> {
    hub.offices().into_iter().map(|summary| office_glance(hub, summary, now)).collect()
}

fn office_glance(hub: &Hub, summary: OfficeSummary, now: Timestamp) -> Result<OfficeGlance, ReadError> {
    let config = office_config(hub, &summary.id)?;
    let zone = config.as_ref().map_or(jiff::tz::TimeZone::UTC, |c| c.time_zone.clone());
    let today = BusinessDay::containing(now, &zone);
    let mut row = OfficeGlance {
        name: config.as_ref().map_or_else(|| summary.name.clone(), |c| c.name.clone()),
        tags: config.as_ref().map(|c| c.tags.clone()).unwrap_or_default(),
        office: summary.id.clone(),
        online: summary.online,
        last_seen_ms: summary.last_seen_ms,
        sync_lag_ms: summary.sync_lag_ms,
        day: today.to_string(),
        waiting: 0,
        longest_wait_seconds: 0,
        counters_open: 0,
        served: 0,
        within_target_share: None,
        preferential_within_legal_max_share: None,
        out_of_order_calls: 0,
    };
    let day = match hub.day(&summary.id, today) {
        Ok(day) => day,
        // Nothing synced today yet: the office has not opened, or is offline since before.
        Err(ReadError::NoDocument { .. }) => return Ok(row),
        Err(error) => return Err(error),
    };
    let context = Context { config: config.as_ref(), time_zone: &zone, now };
    let total = day_kpis(&day, GroupBy::Office, &context, false).total;
    row.waiting = total.tickets_waiting;
    row.served = total.tickets_served;
    row.within_target_share = total.within_target_wait_share;
    row.preferential_within_legal_max_share = total.preferential_within_legal_max_share;
    row.out_of_order_calls = total.out_of_order_calls;
    row.longest_wait_seconds = day
        .tickets
        .values()
        .filter(|t| t.status == TicketStatus::Waiting)
        .map(|t| (now.as_ms() - t.issued_at.as_ms()).max(0) / 1000)
        .max()
        .unwrap_or(0);
    row.counters_open = day.counters.values().filter(|c| c.status == CounterStatus::Open).count() as u32;
    Ok(row)
}
