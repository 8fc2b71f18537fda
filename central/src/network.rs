//! The network at a glance: every office's state today in one row (headquarters' first view of
//! a national network), from what central holds: the link (online, sync lag) and today's day
//! document read with the office's configuration.
//!
//! A row is computed from the documents once per change: [`Network`] keeps each office's row
//! with the generations of its configuration and day documents (`Hub::generation`), and
//! recomputes it only when one changed, the day turned, or a minute passed (shares that depend
//! on the time). What moves by itself (the link, the longest wait) is filled in at each answer.
//!
//! Satisfaction counts today's answers from the day document and those central took by link;
//! an answer by link reaches the row within the minute, when the row is next recomputed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use fila_protocol::doc::keys::{config_doc_id, day_doc_id};
use fila_protocol::report::{day_kpis, Context, GroupBy};
use fila_protocol::survey_report::SurveyTally;
use fila_protocol::OfficeConfig;
use fila_protocol::{BusinessDay, Class, CounterStatus, Day, Ticket, TicketStatus, Timestamp};
use serde::Serialize;

use crate::hub::{Hub, OfficeSummary, ReadError};
use crate::kpis::office_config;
use crate::surveys::Surveys;

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
    /// Today's mean satisfaction score (1 to 5), over `satisfaction_answers` answers.
    pub satisfaction_mean: Option<f64>,
    pub satisfaction_answers: u32,
}

/// What headquarters' alerts need of an office's day beyond its row: when its waiting citizens
/// pass their limits. Times in ms since the epoch; both stay put until the day document changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitLimits {
    /// When the first citizen waiting now passes (or passed) their service's target wait.
    pub first_past_target_ms: Option<i64>,
    /// When the first preferential citizen waiting now passes (or passed) their legal maximum.
    pub first_past_legal_max_ms: Option<i64>,
    /// Calls made today, recalls included: what out-of-order calls are a share of.
    pub calls: u32,
}

/// A row is recomputed at least this often, for what depends on the time of day.
const RECOMPUTE_MS: i64 = 60_000;

/// Below this many offices the rows are always computed on the caller's thread.
const GLANCE_PARALLEL_FROM: usize = 64;
/// At most this many threads compute rows at once (the database's connections are few).
const GLANCE_THREADS_MAX: usize = 4;

/// Every office's row, computed once per change of its documents.
#[derive(Default)]
pub struct Network {
    rows: Mutex<HashMap<String, Cached>>,
    /// The answers central took by link, for today's satisfaction; without them, only the
    /// office's own answers count.
    surveys: Option<Arc<Surveys>>,
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
    limits: WaitLimits,
}

impl Network {
    /// Rows whose satisfaction includes the answers taken by link.
    pub fn with_surveys(surveys: Arc<Surveys>) -> Network {
        Network { rows: Mutex::default(), surveys: Some(surveys) }
    }

    /// Every office's row at `now`. Blocking.
    pub fn glance(&self, hub: &Hub, now: Timestamp) -> Result<Vec<OfficeGlance>, ReadError> {
        Ok(self.glance_with_limits(hub, now)?.into_iter().map(|(row, _)| row).collect())
    }

    /// Every office's row with its wait limits, for the alerts. Blocking.
    ///
    /// While most rows were never computed (after a start) the offices are shared among a few
    /// threads: every such row reads its office's documents, which is CPU (loading them) and
    /// waiting (the database's round trips), and a national network's first look should not take
    /// that one office after another. Later, the few rows that change (the every-2-s path of
    /// the live view and the alerts) are computed on the caller's thread.
    pub fn glance_with_limits(&self, hub: &Hub, now: Timestamp) -> Result<Vec<(OfficeGlance, WaitLimits)>, ReadError> {
        let offices = hub.offices();
        let cold = crate::doc_cache::lock(&self.rows).len() < offices.len() / 2;
        if !cold || offices.len() < GLANCE_PARALLEL_FROM {
            return offices.into_iter().map(|summary| self.office(hub, summary, now)).collect();
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(2, GLANCE_THREADS_MAX);
        let share = offices.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = offices
                .chunks(share)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter().map(|summary| self.office(hub, summary.clone(), now)).collect::<Result<Vec<_>, _>>()
                    })
                })
                .collect();
            let mut rows = Vec::with_capacity(offices.len());
            for part in parts {
                rows.extend(part.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
            }
            Ok(rows)
        })
    }

    fn office(
        &self,
        hub: &Hub,
        summary: OfficeSummary,
        now: Timestamp,
    ) -> Result<(OfficeGlance, WaitLimits), ReadError> {
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
                let surveys = self.surveys.as_deref();
                let (row, oldest_waiting_ms, limits) =
                    office_glance(hub, surveys, &summary, config.as_deref(), &zone, day, now)?;
                Cached {
                    config_generation,
                    config,
                    day,
                    day_generation,
                    computed_ms: now.as_ms(),
                    row,
                    oldest_waiting_ms,
                    limits,
                }
            }
        };
        cached.row.online = summary.online;
        cached.row.last_seen_ms = summary.last_seen_ms;
        cached.row.sync_lag_ms = summary.sync_lag_ms;
        cached.row.longest_wait_seconds = cached.oldest_waiting_ms.map_or(0, |at| (now.as_ms() - at).max(0) / 1000);
        let (row, limits) = (cached.row.clone(), cached.limits);
        crate::doc_cache::lock(&self.rows).insert(summary.id, cached);
        Ok((row, limits))
    }
}

/// Up to 30 s more for some offices than others, so rows computed together (at a start) do not
/// all expire in the same pass.
fn stagger_ms(office: &str) -> i64 {
    office.bytes().fold(0i64, |sum, b| (sum * 31 + i64::from(b)) % 30_000)
}

fn office_glance(
    hub: &Hub,
    surveys: Option<&Surveys>,
    summary: &OfficeSummary,
    config: Option<&OfficeConfig>,
    zone: &jiff::tz::TimeZone,
    today: BusinessDay,
    now: Timestamp,
) -> Result<(OfficeGlance, Option<i64>, WaitLimits), ReadError> {
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
        satisfaction_mean: None,
        satisfaction_answers: 0,
    };
    let day = match hub.day(&summary.id, today) {
        Ok(day) => day,
        // Nothing synced today yet: the office has not opened, or is offline since before.
        Err(ReadError::NoDocument { .. }) => return Ok((row, None, WaitLimits::default())),
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
    let remote = match surveys {
        Some(surveys) => surveys.answers_of_day(&summary.id, today)?,
        None => Default::default(),
    };
    let mut tally = SurveyTally::new(GroupBy::Office);
    tally.add_day(&day, &remote, &context);
    let satisfaction = tally.total(&summary.id);
    row.satisfaction_mean = satisfaction.satisfaction_mean;
    row.satisfaction_answers = satisfaction.satisfaction_answers;
    let oldest = day.tickets.values().filter(|t| t.status == TicketStatus::Waiting).map(|t| t.issued_at.as_ms()).min();
    Ok((row, oldest, wait_limits(&day, config)))
}

/// When today's waiting citizens pass their target and legal maximum waits. A wait counts from
/// the ticket's issue, as in the KPIs.
pub fn wait_limits(day: &Day, config: Option<&OfficeConfig>) -> WaitLimits {
    let mut limits = WaitLimits { calls: u32::try_from(day.calls.len()).unwrap_or(u32::MAX), ..WaitLimits::default() };
    let Some(config) = config else { return limits };
    let minutes_after = |ticket: &Ticket, minutes: u32| ticket.issued_at.as_ms() + i64::from(minutes) * 60_000;
    for ticket in day.tickets.values().filter(|t| t.status == TicketStatus::Waiting) {
        let service = config.service_by_prefix(ticket.number.prefix).or_else(|| config.service(&ticket.service));
        if let Some(service) = service {
            let at = minutes_after(ticket, service.target_wait_minutes);
            limits.first_past_target_ms = Some(limits.first_past_target_ms.map_or(at, |first| first.min(at)));
        }
        if let Class::Preferential { category } = &ticket.class {
            if let Some(minutes) = config.category(category).and_then(|c| c.max_wait_minutes) {
                let at = minutes_after(ticket, minutes);
                limits.first_past_legal_max_ms = Some(limits.first_past_legal_max_ms.map_or(at, |first| first.min(at)));
            }
        }
    }
    limits
}
