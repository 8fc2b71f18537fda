//! Each office's KPIs of one business day, computed once per change of its documents.
//!
//! A roll-up over 1,000 offices and a month reads 30,000 day documents; recomputing them on
//! every look at the dashboard would take seconds. A day's figures depend only on the day
//! document, the configuration document (targets, time zone) and, while the day is not over,
//! the time. So a day's [`Tally`] (mergeable: waits are kept whole) is kept with the
//! generations (`Hub::generation`) of both documents and recomputed only when one changed
//! (a sync, from any replica), or, for a day still under way, after a minute. The day's
//! out-of-order calls are kept apart from its tally, so roll-ups merge counts without copying
//! them.
//!
//! At most [`DAYS_KEPT`] days are kept; past that, the half used longest ago is dropped (and
//! computed again if asked for).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fila_protocol::config::OfficeConfig;
use fila_protocol::doc::keys::{config_doc_id, day_doc_id, DocId};
use fila_protocol::report::{Context, Deviation, GroupBy, Tally};
use fila_protocol::{BusinessDay, Timestamp};

use crate::hub::{Hub, OfficeSummary, ReadError};
use crate::kpis::office_config;

/// A day still under way is recomputed at least this often: waits grow with the time.
const RECOMPUTE_MS: i64 = 60_000;

/// Two months of 1,000 offices, a few hundred MB at most.
pub const DAYS_KEPT: usize = 64_000;

#[derive(Default)]
pub struct KpiCache {
    configs: Mutex<HashMap<String, CachedConfig>>,
    days: Mutex<Days>,
}

#[derive(Default)]
struct Days {
    entries: HashMap<(String, BusinessDay, GroupBy), CachedDay>,
    /// Counts uses, so the least recently used can be told.
    clock: u64,
}

/// One day's figures of an office.
#[derive(Debug)]
pub struct DayFigures {
    /// Counts, waits and shares, without the out-of-order calls.
    pub tally: Tally,
    /// The day's out-of-order calls, in order.
    pub deviations: Vec<Deviation>,
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
    used: u64,
    figures: Arc<DayFigures>,
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

    /// One day's figures of the office, grouped `by`. Errors as `Hub::day`'s: `NoDocument` and
    /// `Unreadable` mean the day is left out. Blocking.
    pub fn day(
        &self,
        hub: &Hub,
        office: &str,
        day: BusinessDay,
        by: GroupBy,
        config: &ConfigAt,
        now: Timestamp,
    ) -> Result<Arc<DayFigures>, ReadError> {
        let day_generation = hub.generation(&day_doc_id(office, day));
        let key = (office.to_string(), day, by);
        {
            let mut days = crate::doc_cache::lock(&self.days);
            days.clock += 1;
            let clock = days.clock;
            if let Some(cached) = days.entries.get_mut(&key) {
                let fresh = cached.config_generation == config.generation
                    && cached.day_generation == day_generation
                    && (cached.over || (0..RECOMPUTE_MS).contains(&(now.as_ms() - cached.computed_ms)));
                if fresh {
                    cached.used = clock;
                    return Ok(cached.figures.clone());
                }
            }
        }
        let document = hub.day(office, day)?;
        let zone = config.zone();
        let context = Context { config: config.config.as_deref(), time_zone: &zone, now };
        let over = now >= day.next_start(&zone);
        let mut tally = Tally::new(by);
        tally.add_day(&document, &context, over);
        let deviations = tally.take_deviations();
        let figures = Arc::new(DayFigures { tally, deviations });
        let mut days = crate::doc_cache::lock(&self.days);
        let cached = CachedDay {
            config_generation: config.generation,
            day_generation,
            over,
            computed_ms: now.as_ms(),
            used: days.clock,
            figures: figures.clone(),
        };
        days.entries.insert(key, cached);
        if days.entries.len() > DAYS_KEPT {
            days.forget_least_used();
        }
        Ok(figures)
    }

    /// How many days are kept now.
    pub fn days_kept(&self) -> usize {
        crate::doc_cache::lock(&self.days).entries.len()
    }
}

impl Days {
    /// Drop the half of the days used longest ago: one sort for many insertions.
    fn forget_least_used(&mut self) {
        let mut uses: Vec<u64> = self.entries.values().map(|c| c.used).collect();
        uses.sort_unstable();
        let median = uses[uses.len() / 2];
        self.entries.retain(|_, cached| cached.used > median);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_limit_the_days_used_longest_ago_are_forgotten() {
        let day = |n: i8| BusinessDay(jiff::civil::date(2026, 11, 1 + n));
        let mut days = Days::default();
        for n in 0..10 {
            let figures = Arc::new(DayFigures { tally: Tally::new(GroupBy::Office), deviations: Vec::new() });
            let cached =
                CachedDay { config_generation: 1, day_generation: 1, over: true, computed_ms: 0, used: 0, figures };
            days.entries.insert(("centro".to_string(), day(n), GroupBy::Office), cached);
        }
        // Used in the order of the days, then the first day looked at again.
        for (n, cached) in days.entries.iter_mut() {
            cached.used = if n.1 == day(0) { 10 } else { u64::from(n.1 .0.day().unsigned_abs()) - 1 };
        }
        days.forget_least_used();
        let mut kept: Vec<BusinessDay> = days.entries.keys().map(|k| k.1).collect();
        kept.sort();
        assert_eq!(kept, [day(0), day(7), day(8), day(9)]);
    }
}
