//! An office's staffing forecast for a week, and the week after, its error against what came,
//! from the day documents central holds.
//!
//! The numbers come from `fila_protocol::forecast`; this is the shell around it: which days
//! central holds, the office's configuration (services, target waits, time zone), the clock, and
//! a cache. Only days that are over feed a forecast (today's, half-lived, would read as a quiet
//! day), so a past week's forecast recomputed later is the one shown then. Reading eight weeks of
//! day documents is the slow part: each answer is kept with the generations of the documents it
//! read (`Hub::generation`) and reused until one of them changes or another day is held.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use fila_protocol::config::OfficeConfig;
use fila_protocol::doc::keys::{config_doc_id, day_doc_id, DocId};
use fila_protocol::forecast::{self, Accuracy, Forecast, Params};
use fila_protocol::{BusinessDay, Day, Timestamp};
use serde::Serialize;

use crate::doc_cache::lock;
use crate::hub::{Hub, OfficeSummary, ReadError};
use crate::kpis::office_config;

/// Answers kept at most; past it the cache starts again (a few offices' weeks are read most).
const CACHED_MAX: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum ForecastError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("central holds no valid configuration of office {0:?}; the forecast needs its services and target waits")]
    NoConfiguration(String),
    #[error("the week of {week} is not over yet (the office's date is {today}); its accuracy is known from {after}")]
    WeekNotOver { week: BusinessDay, today: BusinessDay, after: BusinessDay },
}

/// What to forecast: checked by the caller (`week` a Monday, `service_level` within 0 and 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastQuery {
    pub office: String,
    pub week: BusinessDay,
    pub service_level: f64,
}

/// The forecast of one office's week, as the HQ API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastReport {
    pub office: String,
    pub office_name: String,
    /// The zone hours are in: the office's.
    pub time_zone: String,
    /// Service names by id, for tables.
    pub service_names: BTreeMap<String, String>,
    #[serde(flatten)]
    pub forecast: Forecast,
}

/// A past week's forecast against what came, as the HQ API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct AccuracyReport {
    pub office: String,
    pub office_name: String,
    pub time_zone: String,
    pub service_names: BTreeMap<String, String>,
    pub service_level: f64,
    #[serde(flatten)]
    pub accuracy: Accuracy,
}

/// The documents an answer was computed from: the configuration's generation and each day's.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Read {
    config: u64,
    days: Vec<(BusinessDay, u64)>,
}

type Key = (String, BusinessDay, u64);

/// Forecasts and accuracies computed, each with what it was computed from.
#[derive(Default)]
pub struct Forecasts {
    forecasts: Mutex<HashMap<Key, (Read, Arc<ForecastReport>)>>,
    accuracies: Mutex<HashMap<Key, (Read, Arc<AccuracyReport>)>>,
}

/// An office's configuration and the days to read, decided before anything is loaded.
struct Plan {
    summary: OfficeSummary,
    config: OfficeConfig,
    today: BusinessDay,
    read: Read,
}

impl Forecasts {
    /// The forecast of `query.week`. Blocking: loads day documents.
    pub fn forecast(
        &self,
        hub: &Hub,
        query: &ForecastQuery,
        now: Timestamp,
    ) -> Result<Arc<ForecastReport>, ForecastError> {
        let params = params(query);
        let plan = plan(hub, &query.office, now, |day| in_history(day, query.week, params))?;
        let key = (query.office.clone(), query.week, query.service_level.to_bits());
        if let Some(report) = cached(&self.forecasts, &key, &plan.read) {
            return Ok(report);
        }
        let days = load(hub, &query.office, &plan.read)?;
        let forecast = forecast::forecast(&days, &plan.config, query.week, params);
        let report = Arc::new(ForecastReport {
            office: query.office.clone(),
            office_name: plan.config.name.clone(),
            time_zone: plan.config.time_zone_name.clone(),
            service_names: service_names(&plan.config),
            forecast,
        });
        keep(&self.forecasts, key, plan.read, report.clone());
        Ok(report)
    }

    /// How the forecast of `query.week`, a week that is over, compares with what came.
    pub fn accuracy(
        &self,
        hub: &Hub,
        query: &ForecastQuery,
        now: Timestamp,
    ) -> Result<Arc<AccuracyReport>, ForecastError> {
        let params = params(query);
        let week = query.week;
        let after = week.plus_days(7);
        let plan = plan(hub, &query.office, now, |day| in_history(day, week, params) || (week..after).contains(&day))?;
        if plan.today < after {
            return Err(ForecastError::WeekNotOver { week, today: plan.today, after });
        }
        let key = (query.office.clone(), week, query.service_level.to_bits());
        if let Some(report) = cached(&self.accuracies, &key, &plan.read) {
            return Ok(report);
        }
        let days = load(hub, &query.office, &plan.read)?;
        let (history, happened): (Vec<Day>, Vec<Day>) = days.into_iter().partition(|day| day.day < week);
        let forecast = forecast::forecast(&history, &plan.config, week, params);
        let accuracy = forecast::accuracy(&forecast, &happened, &plan.config, params);
        let report = Arc::new(AccuracyReport {
            office: plan.summary.id.clone(),
            office_name: plan.config.name.clone(),
            time_zone: plan.config.time_zone_name.clone(),
            service_names: service_names(&plan.config),
            service_level: query.service_level,
            accuracy,
        });
        keep(&self.accuracies, key, plan.read, report.clone());
        Ok(report)
    }
}

fn params(query: &ForecastQuery) -> Params {
    Params { service_level: query.service_level, ..Params::default() }
}

/// Whether `day` is one of the weeks a forecast of `week` reads.
fn in_history(day: BusinessDay, week: BusinessDay, params: Params) -> bool {
    (week.plus_days(-7 * i64::from(params.weeks))..week).contains(&day)
}

/// The office, its configuration, and the days it holds that `wanted` asks for and are over.
fn plan(hub: &Hub, office: &str, now: Timestamp, wanted: impl Fn(BusinessDay) -> bool) -> Result<Plan, ForecastError> {
    let summary = hub
        .offices()
        .into_iter()
        .find(|o| o.id == office)
        .ok_or_else(|| ReadError::UnknownOffice(office.to_string()))?;
    let config_generation = hub.generation(&config_doc_id(office));
    let config = office_config(hub, office)?.ok_or_else(|| ForecastError::NoConfiguration(office.to_string()))?;
    let today = BusinessDay::containing(now, &config.time_zone);
    let mut days: Vec<(BusinessDay, u64)> = summary
        .docs
        .iter()
        .filter_map(|doc| match DocId::parse(doc) {
            Some(DocId::Day { day, .. }) if day < today && wanted(day) => Some(day),
            _ => None,
        })
        .map(|day| (day, hub.generation(&day_doc_id(office, day))))
        .collect();
    days.sort();
    Ok(Plan { summary, config, today, read: Read { config: config_generation, days } })
}

/// The planned days, loaded; a damaged one is left out (and logged) rather than failing the
/// whole forecast.
fn load(hub: &Hub, office: &str, read: &Read) -> Result<Vec<Day>, ForecastError> {
    let mut days = Vec::with_capacity(read.days.len());
    for &(day, _) in &read.days {
        match hub.day(office, day) {
            Ok(document) => days.push(document),
            Err(error @ (ReadError::Unreadable(_) | ReadError::NoDocument { .. })) => {
                tracing::error!(office, %day, %error, "day left out of the forecast");
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(days)
}

fn service_names(config: &OfficeConfig) -> BTreeMap<String, String> {
    config.services.iter().map(|s| (s.id.to_string(), s.name.clone())).collect()
}

fn cached<T>(cache: &Mutex<HashMap<Key, (Read, Arc<T>)>>, key: &Key, read: &Read) -> Option<Arc<T>> {
    lock(cache).get(key).filter(|(was, _)| was == read).map(|(_, report)| report.clone())
}

fn keep<T>(cache: &Mutex<HashMap<Key, (Read, Arc<T>)>>, key: Key, read: Read, report: Arc<T>) {
    let mut cache = lock(cache);
    if cache.len() >= CACHED_MAX {
        cache.clear();
    }
    cache.insert(key, (read, report));
}
