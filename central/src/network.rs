//! The network at a glance: every office's state today in one row (headquarters' first view of
//! a national network), from what central holds: the link (online, sync lag) and today's day
//! document read with the office's configuration.
//!
//! A row is computed from the documents once per change: [`Network`] keeps each office's row
//! with the generations of its configuration and day documents (`Hub::generation`), and
//! recomputes it only when one changed, the day turned, or a minute passed (shares that depend
//! on the time). What moves by itself (the link, the longest wait) is filled in at each answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fila_protocol::doc::keys::{config_doc_id, day_doc_id};
use fila_protocol::report::{day_kpis, Context, GroupBy};
use fila_protocol::OfficeConfig;
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

/// A row is recomputed at least this often, for what depends on the time of day.
const RECOMPUTE_MS: i64 = 60_000;

/// Every office's row, computed once per change of its documents.
#[derive(Default)]
pub struct Network {
    rows: Mutex<HashMap<String, Cached>>,
}

struct Cached {
    config_generation: u64,
    config: Option<Arc<OfficeConfig>>,
    day: BusinessDay,
    day_generation: u64,
    computed_ms: i64,
    row: OfficeGlance,
    /// When the longest-waiting citizen took their ticket.
    oldest_waiting_ms: Option<i64>,
}

impl Network {
    /// Every office's row at `now`. Blocking.
    pub fn glance(&self, hub: &Hub, now: Timestamp) -> Result<Vec<OfficeGlance>, ReadError> {
        hub.offices().into_iter().map(|summary| self.office(hub, summary, now)).collect()
    }

    fn office(&self, hub: &Hub, summary: OfficeSummary, now: Timestamp) -> Result<OfficeGlance, ReadError> {
        let config_generation = hub.generation(&config_doc_id(&summary.id));
        let cached = crate::doc_cache::lock(&self.rows).remove(&summary.id);
        let config = match cached.as_ref().filter(|c| c.config_generation == config_generation) {
            Some(cached) => cached.config.clone(),
            None => office_config(hub, &summary.id)?.map(Arc::new),
        };
        let zone = config.as_ref().map_or(jiff::tz::TimeZone::UTC, |c| c.time_zone.clone());
        let day = BusinessDay::containing(now, &zone);
        let day_generation = hub.generation(&day_doc_id(&summary.id, day));
        let fresh = cached.filter(|c| {
            c.config_generation == config_generation
                && c.day == day
                && c.day_generation == day_generation
                && now.as_ms() - c.computed_ms < RECOMPUTE_MS + stagger_ms(&summary.id)
        });
        let mut cached = match fresh {
            Some(cached) => cached,
            None => {
                let (row, oldest_waiting_ms) = office_glance(hub, &summary, config.as_deref(), &zone, day, now)?;
                Cached {
                    config_generation,
                    config,
                    day,
                    day_generation,
                    computed_ms: now.as_ms(),
                    row,
                    oldest_waiting_ms,
                }
            }
        };
        cached.row.online = summary.online;
        cached.row.last_seen_ms = summary.last_seen_ms;
        cached.row.sync_lag_ms = summary.sync_lag_ms;
        cached.row.longest_wait_seconds = cached.oldest_waiting_ms.map_or(0, |at| (now.as_ms() - at).max(0) / 1000);
        let row = cached.row.clone();
        crate::doc_cache::lock(&self.rows).insert(summary.id, cached);
        Ok(row)
    }
}

/// Up to 30 s more for some offices than others, so rows computed together (at a start) do not
/// all expire in the same pass.
fn stagger_ms(office: &str) -> i64 {
    office.bytes().fold(0i64, |sum, b| (sum * 31 + i64::from(b)) % 30_000)
}

fn office_glance(
    hub: &Hub,
    summary: &OfficeSummary,
    config: Option<&OfficeConfig>,
    zone: &jiff::tz::TimeZone,
    today: BusinessDay,
    now: Timestamp,
) -> Result<(OfficeGlance, Option<i64>), ReadError> {
    let mut row = OfficeGlance {
        name: config.map_or_else(|| summary.name.clone(), |c| c.name.clone()),
        tags: config.map(|c| c.tags.clone()).unwrap_or_default(),
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
        Err(ReadError::NoDocument { .. }) => return Ok((row, None)),
        Err(error) => return Err(error),
    };
    let context = Context { config, time_zone: zone, now };
    let total = day_kpis(&day, GroupBy::Office, &context, false).total;
    row.waiting = total.tickets_waiting;
    row.served = total.tickets_served;
    row.within_target_share = total.within_target_wait_share;
    row.preferential_within_legal_max_share = total.preferential_within_legal_max_share;
    row.out_of_order_calls = total.out_of_order_calls;
    row.counters_open = day.counters.values().filter(|c| c.status == CounterStatus::Open).count() as u32;
    let oldest = day.tickets.values().filter(|t| t.status == TicketStatus::Waiting).map(|t| t.issued_at.as_ms()).min();
    Ok((row, oldest))
}
