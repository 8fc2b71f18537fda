//! Network roll-ups: the KPIs of every office (or those of a tag) per day, ISO week or calendar
//! month, ranked by one KPI, with the total of the network; and one office's out-of-order calls.
//!
//! Built from the per-day tallies of [`KpiCache`], merged per office and period: a month of
//! 1,000 offices is 30,000 days merged, not 30,000 documents read, once they were computed.

use fila_protocol::report::{Deviation, GroupBy, KpiRow, Tally};
use fila_protocol::{BusinessDay, Timestamp};
use serde::Serialize;

use crate::hub::{Hub, ReadError};
use crate::kpi_cache::{days_held, KpiCache};

/// The longest range one request may cover: a year, leap day included.
pub const RANGE_DAYS_MAX: i64 = 366;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    /// ISO 8601 weeks, Monday first, named like 2026-W48.
    Week,
    /// Calendar months, named like 2026-11.
    Month,
}

impl Period {
    pub const NAMES: [&'static str; 3] = ["day", "week", "month"];

    pub fn from_name(name: &str) -> Option<Period> {
        match name {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    /// The period `day` falls in: its name and its first day.
    fn of(self, day: BusinessDay) -> (String, BusinessDay) {
        let date = day.0;
        match self {
            Period::Day => (day.to_string(), day),
            Period::Week => {
                let week = date.iso_week_date();
                let back = i64::from(date.weekday().to_monday_zero_offset());
                let monday = date.checked_sub(jiff::Span::new().days(back)).unwrap_or(date);
                (format!("{}-W{:02}", week.year(), week.week()), BusinessDay(monday))
            }
            Period::Month => (format!("{}-{:02}", date.year(), date.month()), BusinessDay(date.first_of_month())),
        }
    }
}

/// The KPI offices are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    Office,
    Issued,
    Served,
    WaitMean,
    WaitP90,
    WithinTarget,
    PreferentialWithinLegalMax,
    OutOfOrder,
    NoShows,
    LeftBeforeCall,
    ServiceMean,
}

impl RankBy {
    pub const NAMES: [&'static str; 11] = [
        "office",
        "issued",
        "served",
        "wait_mean",
        "wait_p90",
        "within_target",
        "preferential_within_legal_max",
        "out_of_order",
        "no_shows",
        "left_before_call",
        "service_mean",
    ];
    const ALL: [RankBy; 11] = [
        RankBy::Office,
        RankBy::Issued,
        RankBy::Served,
        RankBy::WaitMean,
        RankBy::WaitP90,
        RankBy::WithinTarget,
        RankBy::PreferentialWithinLegalMax,
        RankBy::OutOfOrder,
        RankBy::NoShows,
        RankBy::LeftBeforeCall,
        RankBy::ServiceMean,
    ];

    pub fn from_name(name: &str) -> Option<RankBy> {
        Self::NAMES.iter().position(|n| *n == name).map(|i| Self::ALL[i])
    }

    /// The row's value; `None` when it has none (a share without the configuration).
    fn value(self, row: &KpiRow) -> Option<f64> {
        match self {
            RankBy::Office => None,
            RankBy::Issued => Some(f64::from(row.tickets_issued)),
            RankBy::Served => Some(f64::from(row.tickets_served)),
            RankBy::WaitMean => Some(row.wait_mean_seconds),
            RankBy::WaitP90 => Some(row.wait_p90_seconds),
            RankBy::WithinTarget => row.within_target_wait_share,
            RankBy::PreferentialWithinLegalMax => row.preferential_within_legal_max_share,
            RankBy::OutOfOrder => Some(f64::from(row.out_of_order_calls)),
            RankBy::NoShows => Some(f64::from(row.no_shows)),
            RankBy::LeftBeforeCall => Some(f64::from(row.left_before_call)),
            RankBy::ServiceMean => Some(row.service_mean_seconds),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    Asc,
    Desc,
}

/// What to roll up. Checked by the caller: `from <= to`, at most [`RANGE_DAYS_MAX`] days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupQuery {
    pub tag: Option<String>,
    pub from: BusinessDay,
    pub to: BusinessDay,
    pub period: Period,
    pub sort: RankBy,
    pub order: Order,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rollup {
    pub tag: Option<String>,
    pub from: BusinessDay,
    pub to: BusinessDay,
    pub period: Period,
    pub sort: RankBy,
    pub order: Order,
    /// The offices rolled up: all, or those with the tag.
    pub offices: usize,
    /// Days central holds but cannot read, per office; left out of every figure.
    pub days_unreadable: Vec<UnreadableDay>,
    pub periods: Vec<PeriodRollup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnreadableDay {
    pub office: String,
    pub day: BusinessDay,
}

/// One period: every office ranked, and the total of them all.
#[derive(Debug, Clone, Serialize)]
pub struct PeriodRollup {
    /// "2026-11-29", "2026-W48" or "2026-11".
    pub period: String,
    /// The period's days inside the range asked for.
    pub from: BusinessDay,
    pub to: BusinessDay,
    pub rows: Vec<RollupRow>,
    /// Every office's tickets together: the network's (or the tag's) figures, group `total`.
    pub total: KpiRow,
}

#[derive(Debug, Clone, Serialize)]
pub struct RollupRow {
    /// 1 for the first in the chosen order.
    pub rank: u32,
    pub office: String,
    pub office_name: String,
    pub tags: Vec<String>,
    /// Days of the period central holds for the office.
    pub days: u32,
    #[serde(flatten)]
    pub kpis: KpiRow,
}

/// Roll up. Blocking: it may read day documents not computed yet.
pub fn rollup(hub: &Hub, cache: &KpiCache, query: &RollupQuery, now: Timestamp) -> Result<Rollup, ReadError> {
    // The periods of the range, in order, each with its office tallies.
    let mut periods: Vec<(String, BusinessDay, BusinessDay)> = Vec::new();
    let mut day = query.from;
    while day <= query.to {
        let (name, start) = query.period.of(day);
        match periods.last_mut() {
            Some(last) if last.0 == name => last.2 = day,
            _ => periods.push((name, start.max(query.from), day)),
        }
        match day.0.tomorrow() {
            Ok(next) => day = BusinessDay(next),
            Err(_) => break,
        }
    }
    let mut per_period: Vec<Vec<(RollupRow, Tally)>> = periods.iter().map(|_| Vec::new()).collect();
    let mut days_unreadable = Vec::new();
    let mut offices = 0;
    for summary in hub.offices() {
        let config = match cache.config(hub, &summary.id) {
            Ok(config) => config,
            Err(ReadError::UnknownOffice(_)) => continue,
            Err(error) => return Err(error),
        };
        let tags = config.config.as_ref().map(|c| c.tags.clone()).unwrap_or_default();
        if query.tag.as_ref().is_some_and(|tag| !tags.contains(tag)) {
            continue;
        }
        offices += 1;
        let name = config.config.as_ref().map_or_else(|| summary.name.clone(), |c| c.name.clone());
        let mut tallies: Vec<(u32, Tally)> = periods.iter().map(|_| (0, Tally::new(GroupBy::Office))).collect();
        for day in days_held(&summary, query.from, query.to) {
            let figures = match cache.day(hub, &summary.id, day, GroupBy::Office, &config, now) {
                Ok(figures) => figures,
                Err(error @ (ReadError::Unreadable(_) | ReadError::NoDocument { .. })) => {
                    tracing::error!(office = %summary.id, %day, %error, "day left out of the roll-up");
                    days_unreadable.push(UnreadableDay { office: summary.id.clone(), day });
                    continue;
                }
                Err(error) => return Err(error),
            };
            let index = periods.partition_point(|(_, _, last)| *last < day);
            if let Some((days, period)) = tallies.get_mut(index) {
                *days += 1;
                period.merge(figures.tally.clone());
            }
        }
        for ((days, tally), rows) in tallies.into_iter().zip(per_period.iter_mut()) {
            let mut kpis = tally.total(&summary.id);
            kpis.label = Some(name.clone());
            let row = RollupRow {
                rank: 0,
                office: summary.id.clone(),
                office_name: name.clone(),
                tags: tags.clone(),
                days,
                kpis,
            };
            rows.push((row, tally));
        }
    }
    let periods = periods
        .into_iter()
        .zip(per_period)
        .map(|((period, from, to), rows)| {
            let mut total = Tally::new(GroupBy::Office);
            let mut ranked = Vec::with_capacity(rows.len());
            for (row, tally) in rows {
                total.merge(tally);
                ranked.push(row);
            }
            rank(&mut ranked, query.sort, query.order);
            let mut total = total.total("total");
            total.label = Some(query.tag.clone().unwrap_or_else(|| "all".to_string()));
            PeriodRollup { period, from, to, rows: ranked, total }
        })
        .collect();
    Ok(Rollup {
        tag: query.tag.clone(),
        from: query.from,
        to: query.to,
        period: query.period,
        sort: query.sort,
        order: query.order,
        offices,
        days_unreadable,
        periods,
    })
}

/// Sort by the KPI in the order asked, offices without a value last, ties by office id; then
/// number the ranks.
fn rank(rows: &mut [RollupRow], by: RankBy, order: Order) {
    rows.sort_by(|a, b| {
        let by_value = match (by.value(&a.kpis), by.value(&b.kpis)) {
            (Some(x), Some(y)) => match order {
                Order::Asc => x.total_cmp(&y),
                Order::Desc => y.total_cmp(&x),
            },
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        let by_office = match (by, order) {
            (RankBy::Office, Order::Desc) => b.office.cmp(&a.office),
            _ => a.office.cmp(&b.office),
        };
        by_value.then(by_office)
    });
    for (index, row) in rows.iter_mut().enumerate() {
        row.rank = u32::try_from(index + 1).unwrap_or(u32::MAX);
    }
}

/// One office's out-of-order calls over a range.
#[derive(Debug, Clone, Serialize)]
pub struct Deviations {
    pub office: String,
    pub office_name: String,
    pub from: BusinessDay,
    pub to: BusinessDay,
    /// The zone of the calls' local times: the office's; UTC when central has no configuration.
    pub time_zone: String,
    pub days_unreadable: Vec<BusinessDay>,
    /// Day by day, in the order they were made: the ticket called, the ticket numbers it was
    /// called ahead of, the counter and agent, and the agent's reason if they gave one.
    pub deviations: Vec<Deviation>,
}

/// The office's out-of-order calls from `from` to `to`. Blocking.
pub fn deviations(
    hub: &Hub,
    cache: &KpiCache,
    office: &str,
    from: BusinessDay,
    to: BusinessDay,
    now: Timestamp,
) -> Result<Deviations, ReadError> {
    let summary = hub
        .offices()
        .into_iter()
        .find(|o| o.id == office)
        .ok_or_else(|| ReadError::UnknownOffice(office.to_string()))?;
    let config = cache.config(hub, office)?;
    let mut list = Vec::new();
    let mut days_unreadable = Vec::new();
    for day in days_held(&summary, from, to) {
        match cache.day(hub, office, day, GroupBy::Office, &config, now) {
            Ok(figures) => list.extend_from_slice(&figures.deviations),
            Err(error @ (ReadError::Unreadable(_) | ReadError::NoDocument { .. })) => {
                tracing::error!(office, %day, %error, "day left out of the deviations");
                days_unreadable.push(day);
            }
            Err(error) => return Err(error),
        }
    }
    Ok(Deviations {
        office: office.to_string(),
        office_name: config.config.as_ref().map_or_else(|| summary.name.clone(), |c| c.name.clone()),
        from,
        to,
        time_zone: config.config.as_ref().map_or_else(|| "UTC".to_string(), |c| c.time_zone_name.clone()),
        days_unreadable,
        deviations: list,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> BusinessDay {
        BusinessDay::parse(text).expect("a date")
    }

    #[test]
    fn weeks_start_on_monday_and_are_named_the_iso_way() {
        // Sunday 2026-11-29 ends ISO week 48, which began on Monday the 23rd.
        assert_eq!(Period::Week.of(day("2026-11-29")), ("2026-W48".to_string(), day("2026-11-23")));
        assert_eq!(Period::Week.of(day("2026-11-30")), ("2026-W49".to_string(), day("2026-11-30")));
        // 2027-01-01 is a Friday of 2026's last ISO week.
        assert_eq!(Period::Week.of(day("2027-01-01")).0, "2026-W53");
        assert_eq!(Period::Month.of(day("2026-11-29")), ("2026-11".to_string(), day("2026-11-01")));
    }
}
