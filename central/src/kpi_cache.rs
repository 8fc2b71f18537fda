//! Each office's KPIs of one business day, computed once per change of its documents.
//!
//! A roll-up over 1,000 offices and a month reads 30,000 day documents; recomputing them on
//! every look at the dashboard would take seconds. A day's figures depend only on the day
//! document, the configuration document (targets, time zone) and, while the day is not over,
//! the time. So a day's [`Tally`] (mergeable: waits are kept whole) is kept with the
//! generations (`Hub::generation`) of both documents and recomputed only when one changed
//! (a sync, from any replica), or, for a day still under way, after a minute.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fila_protocol::config::OfficeConfig;
use fila_protocol::doc::keys::{config_doc_id, day_doc_id, DocId};
use fila_protocol::report::{Context, GroupBy, Tally};
use fila_protocol::{BusinessDay, Timestamp};

use crate::hub::{Hub, OfficeSummary, ReadError};
use crate::kpis::office_config;

/// A day still under way is recomputed at least this often: waits grow with the time.
const RECOMPUTE_MS: i64 = 60_000;

#[derive(Default)]
pub struct KpiCache {
    configs: Mutex<HashMap<String, CachedConfig>>,
    days: Mutex<HashMap<(String, BusinessDay, GroupBy), CachedDay>>,
}

struct CachedConfig {
    generation: u64,
    config: Option<Arc<OfficeConfig>>,
}

struct CachedDay {
    config_generation: u64,
    day_generation: u64,
    /// Whether the day had ended when computed; if not, the figures age.
    over: bool,
    computed_ms: i64,
    tally: Arc<Tally>,
}

/// An office's configuration, with the generation of its document it was read at.
#[derive(Clone)]
pub struct ConfigAt {
    pub generation: u64,
    pub config: Option<Arc<OfficeConfig>>,
}

impl ConfigAt {
    /// The zone the office's days are in: its own, UTC without a configuration.
    pub fn zone(&self) -> jiff::tz::TimeZone {
        self.config.as_ref().map_or(jiff::tz::TimeZone::UTC, |c| c.time_zone.clone())
    }
}

impl KpiCache {
    /// The office's configuration, read again only when its document changed. Blocking.
    pub fn config(&self, hub: &Hub, office: &str) -> Result<ConfigAt, ReadError> {
        let generation = hub.generation(&config_doc_id(office));
        if let Some(cached) = crate::doc_cache::lock(&self.configs).get(office) {
            if cached.generation == generation {
                return Ok(ConfigAt { generation, config: cached.config.clone() });
            }
        }
        let config = office_config(hub, office)?.map(Arc::new);
        crate::doc_cache::lock(&self.configs)
            .insert(office.to_string(), CachedConfig { generation, config: config.clone() });
        Ok(ConfigAt { generation, config })
    }

    /// One day's tally of the office, grouped `by`. Errors as `Hub::day`'s: `NoDocument` and
    /// `Unreadable` mean the day is left out. Blocking.
    pub fn day(
        &self,
        hub: &Hub,
        office: &str,
        day: BusinessDay,
        by: GroupBy,
        config: &ConfigAt,
        now: Timestamp,
    ) -> Result<Arc<Tally>, ReadError> {
        let day_generation = hub.generation(&day_doc_id(office, day));
        let key = (office.to_string(), day, by);
        if let Some(cached) = crate::doc_cache::lock(&self.days).get(&key) {
            let fresh = cached.config_generation == config.generation
                && cached.day_generation == day_generation
                && (cached.over || (0..RECOMPUTE_MS).contains(&(now.as_ms() - cached.computed_ms)));
            if fresh {
                return Ok(cached.tally.clone());
            }
        }
        let document = hub.day(office, day)?;
        let zone = config.zone();
        let context = Context { config: config.config.as_deref(), time_zone: &zone, now };
        let over = now >= day.next_start(&zone);
        let mut tally = Tally::new(by);
        tally.add_day(&document, &context, over);
        let tally = Arc::new(tally);
        let cached = CachedDay {
            config_generation: config.generation,
            day_generation,
            over,
            computed_ms: now.as_ms(),
            tally: tally.clone(),
        };
        crate::doc_cache::lock(&self.days).insert(key, cached);
        Ok(tally)
    }
}

/// The days from `from` to `to` central holds a document for, in order.
pub fn days_held(office: &OfficeSummary, from: BusinessDay, to: BusinessDay) -> Vec<BusinessDay> {
    let mut days: Vec<BusinessDay> = office
        .docs
        .iter()
        .filter_map(|doc| match DocId::parse(doc) {
            Some(DocId::Day { day, .. }) if (from..=to).contains(&day) => Some(day),
            _ => None,
        })
        .collect();
    days.sort();
    days
}
