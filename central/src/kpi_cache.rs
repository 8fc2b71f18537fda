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
//!
//! An ended day's tally is also kept in the store, with the sequences of the last stored chunks
//! of both documents it was computed from (`Store::last_seqs`, which change with every stored
//! change and are never reused). After a start, [`KpiCache::warm`] loads those that still match
//! their documents, day by day, so the first roll-up after a restart merges kept tallies rather
//! than reading 30,000 day documents; the days without one are computed then, in the
//! background, and kept. Only the last [`WARM_DAYS`] days are kept in the store; older ones go
//! at each warm-up and each day after ([`KpiCache::forget_old`]). Where replicas share the
//! store, one of them writes and forgets kept tallies; all read them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use fila_protocol::config::OfficeConfig;
use fila_protocol::doc::keys::{config_doc_id, day_doc_id, DocId};
use fila_protocol::report::{Context, Deviation, GroupBy, Tally};
use fila_protocol::{BusinessDay, Timestamp};
use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::hub::{Hub, OfficeSummary, ReadError};
use crate::kpis::office_config;

/// A day still under way is recomputed at least this often: waits grow with the time.
const RECOMPUTE_MS: i64 = 60_000;

/// Two months of 1,000 offices, a few hundred MB at most.
pub const DAYS_KEPT: usize = 64_000;

/// The ended days whose tallies are kept in the store and loaded after a start: this month's
/// and last month's roll-ups.
pub const WARM_DAYS: i64 = 62;

/// Where ended days' tallies are kept in the store, by day, group and office. The version is
/// raised whenever `Tally`'s layout or meaning changes: what an older build kept is then not
/// read, and is computed again.
const KEPT_PREFIX: &str = "kpi-day/v1/";

/// The one replica (where several share the store) that writes kept tallies: two writing the
/// same values at once would wait on each other's row locks, holding up their other writes.
const KEEPER: &str = "kept-tallies";

/// How far back [`KpiCache::forget_old`] looks for kept days to forget.
const FORGET_DAYS_BACK: i64 = 400;

#[derive(Default)]
pub struct KpiCache {
    configs: Mutex<HashMap<String, CachedConfig>>,
    days: Mutex<Days>,
    /// Where ended days' tallies are kept across restarts; none for a cache in memory only.
    store: Option<Arc<dyn Store>>,
    /// What the warm-up after the start did, once it is done.
    warmed: Mutex<Option<Warmed>>,
}

#[derive(Default)]
struct Days {
    entries: HashMap<(String, BusinessDay, GroupBy), CachedDay>,
    /// Counts uses, so the least recently used can be told.
    clock: u64,
}

/// One day's figures of an office.
#[derive(Debug, Serialize, Deserialize)]
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

/// The sequences of the last stored chunks of a day document and of its office's configuration
/// document (none before the office was configured): what an ended day's tally was computed
/// from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Seqs {
    day: u64,
    config: Option<u64>,
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

/// What a warm-up did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Warmed {
    /// Days whose kept tally still matched its documents.
    pub loaded: usize,
    /// Days computed from their documents (and kept).
    pub computed: usize,
    /// Days left out: their document could not be read.
    pub unreadable: usize,
}

/// A day to warm: its office, configuration and the generation of its document before the
/// store was asked for its sequences.
struct ToWarm {
    office: String,
    config: ConfigAt,
    day_generation: u64,
}

impl KpiCache {
    /// A cache that keeps ended days' tallies in `store` across restarts.
    pub fn kept_in(store: Arc<dyn Store>) -> KpiCache {
        KpiCache { store: Some(store), ..KpiCache::default() }
    }

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
        if let Some(figures) = crate::doc_cache::lock(&self.days).fresh(&key, config.generation, day_generation, now) {
            return Ok(figures);
        }
        let zone = config.zone();
        let over = now >= day.next_start(&zone);
        // Asked before the document is read: a change stored meanwhile makes what is kept
        // look older than it is (computed again after a restart), never newer.
        let seqs = if over { self.seqs(office, day) } else { None };
        let kept = seqs.and_then(|seqs| self.kept(office, day, by, seqs));
        let figures = match kept {
            Some(figures) => figures,
            None => {
                let document = hub.day(office, day)?;
                let context = Context { config: config.config.as_deref(), time_zone: &zone, now };
                let mut tally = Tally::new(by);
                tally.add_day(&document, &context, over);
                let deviations = tally.take_deviations();
                let figures = Arc::new(DayFigures { tally, deviations });
                if let Some(seqs) = seqs {
                    self.keep(office, day, by, seqs, &figures);
                }
                figures
            }
        };
        let cached = CachedDay {
            config_generation: config.generation,
            day_generation,
            over,
            computed_ms: now.as_ms(),
            used: 0,
            figures: figures.clone(),
        };
        crate::doc_cache::lock(&self.days).insert(key, cached);
        Ok(figures)
    }

    /// How many days are kept now.
    pub fn days_kept(&self) -> usize {
        crate::doc_cache::lock(&self.days).entries.len()
    }

    /// After a start: every office's ended days of the last [`WARM_DAYS`], from the tallies
    /// kept in the store where they still match their documents, else computed (and kept).
    /// Kept days older than that are forgotten. Blocking; a start runs it in the background.
    pub fn warm(&self, hub: &Hub, now: Timestamp) -> Result<Warmed, ReadError> {
        let Some(store) = self.store.clone() else { return Ok(Warmed::default()) };
        let mut wanted: BTreeMap<BusinessDay, Vec<ToWarm>> = BTreeMap::new();
        for summary in hub.offices() {
            let config = match self.config(hub, &summary.id) {
                Ok(config) => config,
                Err(ReadError::UnknownOffice(_)) => continue,
                Err(error) => return Err(error),
            };
            let zone = config.zone();
            let today = BusinessDay::containing(now, &zone);
            for day in days_held(&summary, days_before(today, WARM_DAYS), today) {
                if now < day.next_start(&zone) {
                    continue;
                }
                let day_generation = hub.generation(&day_doc_id(&summary.id, day));
                let to_warm = ToWarm { office: summary.id.clone(), config: config.clone(), day_generation };
                wanted.entry(day).or_default().push(to_warm);
            }
        }
        let mut warmed = Warmed::default();
        for (day, offices) in &wanted {
            if *hub.stopping().borrow() {
                return Ok(warmed);
            }
            let mut ids: Vec<String> = offices.iter().map(|w| day_doc_id(&w.office, *day)).collect();
            ids.extend(offices.iter().map(|w| config_doc_id(&w.office)));
            let last = store.last_seqs(&ids)?;
            let (day_seqs, config_seqs) = last.split_at(offices.len());
            let mut kept: HashMap<String, Vec<u8>> =
                store.scan_meta(&kept_day_prefix(*day, GroupBy::Office))?.into_iter().collect();
            for ((to_warm, day_seq), config_seq) in offices.iter().zip(day_seqs).zip(config_seqs) {
                let key = kept_key(&to_warm.office, *day, GroupBy::Office);
                let seqs = day_seq.map(|day| Seqs { day, config: *config_seq });
                let loaded = kept.remove(&key).zip(seqs).and_then(|(bytes, seqs)| decode(&key, &bytes, seqs));
                if let Some(figures) = loaded {
                    let cached = CachedDay {
                        config_generation: to_warm.config.generation,
                        day_generation: to_warm.day_generation,
                        over: true,
                        computed_ms: now.as_ms(),
                        used: 0,
                        figures,
                    };
                    crate::doc_cache::lock(&self.days).insert((to_warm.office.clone(), *day, GroupBy::Office), cached);
                    warmed.loaded += 1;
                    continue;
                }
                match self.day(hub, &to_warm.office, *day, GroupBy::Office, &to_warm.config, now) {
                    Ok(_) => warmed.computed += 1,
                    Err(error @ (ReadError::Unreadable(_) | ReadError::NoDocument { .. })) => {
                        tracing::warn!(office = %to_warm.office, %day, %error, "day not warmed");
                        warmed.unreadable += 1;
                    }
                    Err(error) => return Err(error),
                }
            }
            // What is left of the day's kept tallies belongs to offices central no longer holds.
            if keeper(&*store) {
                for key in kept.into_keys() {
                    store.delete_meta(&key)?;
                }
            }
        }
        let first =
            wanted.keys().next().copied().unwrap_or_else(|| BusinessDay::containing(now, &jiff::tz::TimeZone::UTC));
        self.forget_before(&*store, first)?;
        store.flush()?;
        *crate::doc_cache::lock(&self.warmed) = Some(warmed);
        Ok(warmed)
    }

    /// What the warm-up after the start did; `None` until it is done.
    pub fn warmed(&self) -> Option<Warmed> {
        *crate::doc_cache::lock(&self.warmed)
    }

    /// Forgets the tallies kept in the store of days before the last [`WARM_DAYS`] (a roll-up
    /// of an older range keeps its days too). Run daily.
    pub fn forget_old(&self, now: Timestamp) -> Result<(), StoreError> {
        let Some(store) = &self.store else { return Ok(()) };
        // A day behind UTC's: no office's zone is further behind than a day.
        let today = days_before(BusinessDay::containing(now, &jiff::tz::TimeZone::UTC), 1);
        self.forget_before(&**store, days_before(today, WARM_DAYS))?;
        store.flush()
    }

    fn forget_before(&self, store: &dyn Store, first: BusinessDay) -> Result<(), StoreError> {
        if !keeper(store) {
            return Ok(());
        }
        let mut day = days_before(first, FORGET_DAYS_BACK);
        while day < first {
            for by in GroupBy::ALL {
                for (key, _) in store.scan_meta(&kept_day_prefix(day, by))? {
                    store.delete_meta(&key)?;
                }
            }
            day = days_before(day, -1);
        }
        Ok(())
    }

    /// The sequences of the day's documents in the store; `None` when the day has no document
    /// there or the store cannot tell (nothing is kept then).
    fn seqs(&self, office: &str, day: BusinessDay) -> Option<Seqs> {
        let store = self.store.as_ref()?;
        match store.last_seqs(&[day_doc_id(office, day), config_doc_id(office)]) {
            Ok(last) => Some(Seqs { day: (*last.first()?)?, config: last.get(1).copied().flatten() }),
            Err(error) => {
                tracing::warn!(office, %day, %error, "cannot tell what a kept tally was computed from");
                None
            }
        }
    }

    /// The tally kept in the store for the day, if computed from the documents as they are.
    fn kept(&self, office: &str, day: BusinessDay, by: GroupBy, seqs: Seqs) -> Option<Arc<DayFigures>> {
        let key = kept_key(office, day, by);
        match self.store.as_ref()?.get_meta(&key) {
            Ok(bytes) => decode(&key, &bytes?, seqs),
            Err(error) => {
                tracing::warn!(office, %day, %error, "a kept tally could not be read");
                None
            }
        }
    }

    /// Keeps an ended day's tally in the store. A failure costs a computation after a
    /// restart, nothing more.
    fn keep(&self, office: &str, day: BusinessDay, by: GroupBy, seqs: Seqs, figures: &DayFigures) {
        let Some(store) = self.store.as_deref().filter(|store| keeper(*store)) else { return };
        let kept = postcard::to_allocvec(&(seqs, figures)).map_err(|error| error.to_string());
        let result =
            kept.and_then(|bytes| store.put_meta(&kept_key(office, day, by), &bytes).map_err(|e| e.to_string()));
        if let Err(error) = result {
            tracing::warn!(office, %day, %error, "a day's tally could not be kept");
        }
    }
}

impl Days {
    /// The figures kept for `key` if still true: neither document changed since, and the day
    /// had ended or they are recent.
    fn fresh(
        &mut self,
        key: &(String, BusinessDay, GroupBy),
        config_generation: u64,
        day_generation: u64,
        now: Timestamp,
    ) -> Option<Arc<DayFigures>> {
        self.clock += 1;
        let clock = self.clock;
        let cached = self.entries.get_mut(key)?;
        let fresh = cached.config_generation == config_generation
            && cached.day_generation == day_generation
            && (cached.over || (0..RECOMPUTE_MS).contains(&(now.as_ms() - cached.computed_ms)));
        if !fresh {
            return None;
        }
        cached.used = clock;
        Some(cached.figures.clone())
    }

    fn insert(&mut self, key: (String, BusinessDay, GroupBy), mut cached: CachedDay) {
        self.clock += 1;
        cached.used = self.clock;
        self.entries.insert(key, cached);
        if self.entries.len() > DAYS_KEPT {
            self.forget_least_used();
        }
    }

    /// Drop the half of the days used longest ago: one sort for many insertions.
    fn forget_least_used(&mut self) {
        let mut uses: Vec<u64> = self.entries.values().map(|c| c.used).collect();
        uses.sort_unstable();
        let median = uses[uses.len() / 2];
        self.entries.retain(|_, cached| cached.used > median);
    }
}

/// Whether this process writes kept tallies (see [`KEEPER`]).
fn keeper(store: &dyn Store) -> bool {
    store.try_lead(KEEPER).unwrap_or_else(|error| {
        tracing::warn!(%error, "cannot tell whether this replica keeps the KPI tallies");
        false
    })
}

fn kept_day_prefix(day: BusinessDay, by: GroupBy) -> String {
    format!("{KEPT_PREFIX}{day}/{}/", by.name())
}

fn kept_key(office: &str, day: BusinessDay, by: GroupBy) -> String {
    format!("{}{office}", kept_day_prefix(day, by))
}

/// A kept tally, if it was computed from documents at `seqs`. One that cannot be decoded (a
/// damaged value) is logged and computed again.
fn decode(key: &str, bytes: &[u8], seqs: Seqs) -> Option<Arc<DayFigures>> {
    match postcard::from_bytes::<(Seqs, DayFigures)>(bytes) {
        Ok((kept_seqs, figures)) => (kept_seqs == seqs).then(|| Arc::new(figures)),
        Err(error) => {
            tracing::warn!(key, %error, "a kept tally could not be decoded");
            None
        }
    }
}

/// `days` days before `day` (after, for a negative count); `day` itself at the calendar's ends.
fn days_before(day: BusinessDay, days: i64) -> BusinessDay {
    BusinessDay(day.0.checked_sub(jiff::Span::new().days(days)).unwrap_or(day.0))
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
    fn kept_tallies_older_than_two_months_are_forgotten_and_recent_ones_stay() {
        let dir = tempfile::tempdir().expect("dir");
        let store: Arc<dyn Store> = Arc::new(fila_store::SledStore::open(dir.path(), 1 << 20).expect("store"));
        let now = Timestamp(
            jiff::civil::date(2026, 12, 6).at(12, 0, 0, 0).in_tz("UTC").expect("noon").timestamp().as_millisecond(),
        );
        let day = |text: &str| BusinessDay(text.parse().expect("a date"));
        for (office, kept) in [("centro", "2026-10-01"), ("norte", "2026-10-10"), ("centro", "2026-11-30")] {
            store.put_meta(&kept_key(office, day(kept), GroupBy::Office), b"tally").expect("kept");
        }
        store.put_meta(&kept_key("centro", day("2026-05-02"), GroupBy::Agent), b"tally").expect("kept");
        KpiCache::kept_in(store.clone()).forget_old(now).expect("forgotten");
        let left: Vec<String> = store.scan_meta(KEPT_PREFIX).expect("scan").into_iter().map(|(key, _)| key).collect();
        assert_eq!(left, ["kpi-day/v1/2026-10-10/office/norte", "kpi-day/v1/2026-11-30/office/centro"]);
    }

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
