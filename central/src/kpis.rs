//! An office's KPIs over a range of business days, from the day documents central holds.
//!
//! The numbers themselves come from `fila_protocol::report`; this is the shell around it: which
//! days central holds, the office's configuration document (target waits, legal maximum waits,
//! time zone) if central holds one, and the clock. Because every figure is recomputed from the
//! documents, an office that comes back after days offline has its KPIs right as soon as its
//! days have synced.

use fila_protocol::config::OfficeConfig;
use fila_protocol::report::{Deviation, GroupBy, KpiRow, Tally};
use fila_protocol::{BusinessDay, Timestamp};
use serde::Serialize;

use crate::hub::{Hub, ReadError};
use crate::kpi_cache::KpiCache;

/// The longest range one request may cover: a quarter. Each day is a document to load.
pub const RANGE_DAYS_MAX: i64 = 92;

/// What to report on. Checked by the caller: `from <= to`, at most [`RANGE_DAYS_MAX`] days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KpiQuery {
    pub office: String,
    pub from: BusinessDay,
    pub to: BusinessDay,
    pub by: GroupBy,
}

/// The KPIs of one office over a range, as the HQ API returns them.
#[derive(Debug, Clone, Serialize)]
pub struct KpiReport {
    pub office: String,
    pub office_name: String,
    pub from: BusinessDay,
    pub to: BusinessDay,
    pub by: GroupBy,
    /// The zone hours are in: the office's, from its configuration; UTC when central has none.
    pub time_zone: String,
    /// Whether central holds the office's configuration. Without it the shares within the target
    /// wait and within the legal maximum are null.
    pub targets_known: bool,
    /// The days of the range central holds a document for; other days have no rows.
    pub days: Vec<BusinessDay>,
    /// Days central holds but cannot read (damaged); they are left out of every figure.
    pub days_unreadable: Vec<BusinessDay>,
    /// One row per group per day.
    pub rows: Vec<DayRow>,
    /// One row per group over the whole range.
    pub totals: Vec<KpiRow>,
    /// Everything over the whole range.
    pub total: KpiRow,
    /// The out-of-order calls of the range, day by day.
    pub deviations: Vec<Deviation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayRow {
    pub day: BusinessDay,
    #[serde(flatten)]
    pub kpis: KpiRow,
}

/// Compute the report from the days' figures in `cache` (each day computed once per change).
/// Loads every day of the range not computed yet: CPU and disk work, so call it off the async
/// workers.
pub fn report(hub: &Hub, cache: &KpiCache, query: &KpiQuery, now: Timestamp) -> Result<KpiReport, ReadError> {
    let office = hub
        .offices()
        .into_iter()
        .find(|o| o.id == query.office)
        .ok_or_else(|| ReadError::UnknownOffice(query.office.clone()))?;
    let config_at = cache.config(hub, &query.office)?;
    let config = config_at.config.clone();

    let mut days = days_held(&office, query);

    let mut range = Tally::new(query.by);
    let mut rows = Vec::new();
    let mut days_unreadable = Vec::new();
    let mut deviations = Vec::new();
    for &day in &days {
        let figures = match cache.day(hub, &query.office, day, query.by, &config_at, now) {
            Ok(figures) => figures,
            Err(error @ (ReadError::Unreadable(_) | ReadError::NoDocument { .. })) => {
                tracing::error!(office = %query.office, %day, %error, "day left out of the KPIs");
                days_unreadable.push(day);
                continue;
            }
            Err(error) => return Err(error),
        };
        rows.extend(figures.tally.rows().into_iter().map(|kpis| DayRow { day, kpis }));
        range.merge(figures.tally.clone());
        deviations.extend_from_slice(&figures.deviations);
    }
    days.retain(|day| !days_unreadable.contains(day));

    let mut total = range.total(&query.office);
    if total.label.is_none() {
        total.label = Some(office.name.clone());
    }
    Ok(KpiReport {
        office: query.office.clone(),
        office_name: office.name,
        from: query.from,
        to: query.to,
        by: query.by,
        time_zone: config.as_ref().map_or_else(|| "UTC".to_string(), |c| c.time_zone_name.clone()),
        targets_known: config.is_some(),
        days,
        days_unreadable,
        totals: range.rows(),
        total,
        deviations,
        rows,
    })
}

/// The days of the query's range central holds a document for, in order.
pub(crate) fn days_held(office: &crate::hub::OfficeSummary, query: &KpiQuery) -> Vec<BusinessDay> {
    crate::kpi_cache::days_held(office, query.from, query.to)
}

/// The office's configuration from its document, if central holds a valid one. A broken
/// configuration document costs the two shares that need it, not the whole report.
pub(crate) fn office_config(hub: &Hub, office: &str) -> Result<Option<OfficeConfig>, ReadError> {
    let raw = match hub.config(office) {
        Ok(raw) => raw,
        Err(ReadError::Unreadable(error)) => {
            tracing::warn!(office, %error, "configuration document unreadable; KPIs without targets");
            return Ok(None);
        }
        Err(error) => return Err(error),
    };
    let Some((raw, _version)) = raw else {
        return Ok(None);
    };
    match raw.validate() {
        Ok(config) if config.id == office => Ok(Some(config)),
        Ok(config) => {
            tracing::warn!(office, found = %config.id, "configuration document names another office; ignored");
            Ok(None)
        }
        Err(problems) => {
            tracing::warn!(office, problems = problems.len(), "configuration document invalid; KPIs without targets");
            Ok(None)
        }
    }
}
