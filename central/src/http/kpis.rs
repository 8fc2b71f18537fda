//! `GET /api/v1/kpis` and `GET /api/v1/kpis.csv`: an office's KPIs over a range of days.
//!
//! Query: `office=<id>&from=<yyyy-mm-dd>[&to=<yyyy-mm-dd>][&by=office|service|counter|agent|hour]`;
//! `to` defaults to `from`, `by` to `office`. At most 92 days per request. The JSON holds one
//! row per group per day, one per group over the range (`totals`) and the range's `total`, plus
//! the out-of-order calls; the CSV holds the same rows (RFC 4180, CRLF line ends), the range
//! rows with `day` written as the ISO 8601 interval `from/to`, and the range total last with an
//! empty `group`. Analyst tokens only.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::report::{GroupBy, KpiRow};
use fila_protocol::Timestamp;

use super::auth::Analyst;
use super::error::{ApiError, ErrorBody};
use super::query::{clip, range, read};
use super::{now_ms, AppState};
use crate::kpis::{self, KpiQuery, KpiReport, RANGE_DAYS_MAX};

#[utoipa::path(get, path = "/api/v1/kpis", tag = "headquarters",
    params(super::openapi::GroupedPeriod),
    responses((status = 200, body = Object,
               description = "`office`, `office_name`, `from`, `to`, `by`, `time_zone`, `targets_known`, `days`, \
                              `days_unreadable`, `rows` (per group per day: `day` and the KPIs), `totals` (per group \
                              over the range), `total`, `deviations` (the out-of-order calls); the KPIs are the CSV's \
                              columns from `group` to `estimate_width_minutes` (the wait estimate's accuracy: tickets scored, \
                              share inside the range told at issue, mean error of its midpoint, mean width)"),
              (status = 400, body = ErrorBody,
               description = "`bad_query`, `unknown_parameter`, `repeated_parameter`, `missing_parameter`, `bad_date`, \
                              `bad_group`, `bad_range`, `range_too_long`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn json(_: Analyst, request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = parse(request.query_string(), Parameters::WithGrouping)?;
    let report = compute(&state, query).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[utoipa::path(get, path = "/api/v1/kpis.csv", tag = "headquarters",
    params(super::openapi::GroupedPeriod),
    responses((status = 200, content_type = "text/csv", body = String,
               description = "the day rows, then the range rows (`day` as `from/to`), the range total last with an \
                              empty `group`; RFC 4180 with CRLF line ends"),
              (status = 400, body = ErrorBody,
               description = "`bad_query`, `unknown_parameter`, `repeated_parameter`, `missing_parameter`, `bad_date`, \
                              `bad_group`, `bad_range`, `range_too_long`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn csv(_: Analyst, request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = parse(request.query_string(), Parameters::WithGrouping)?;
    let report = compute(&state, query).await?;
    let body = to_csv(&report).map_err(|error| ApiError::Internal(format!("CSV writing failed: {error}")))?;
    let file = format!("kpis-{}-{}-{}-{}.csv", report.office, report.from, report.to, report.by.name());
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")))
        .body(body))
}

/// Which query parameters an endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Parameters {
    /// `office`, `from`, `to` and `by`.
    WithGrouping,
    /// `office`, `from` and `to`: the charts choose their own grouping.
    RangeOnly,
}

/// Read and check the query, naming the first problem found.
pub(super) fn parse(query: &str, parameters: Parameters) -> Result<KpiQuery, ApiError> {
    let [office, from, to, by] = match parameters {
        Parameters::WithGrouping => read(query, ["office", "from", "to", "by"])?,
        Parameters::RangeOnly => {
            let [office, from, to] = read(query, ["office", "from", "to"])?;
            [office, from, to, None]
        }
    };
    let office = office
        .filter(|office| !office.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing_parameter", "parameter office is required: office=<id>"))?;
    let (from, to) = range(from, to, RANGE_DAYS_MAX)?;
    let by = match by {
        None => GroupBy::Office,
        Some(by) => GroupBy::from_name(&by).ok_or_else(|| {
            ApiError::bad_request(
                "bad_group",
                format!("by={:?} is not one of office, service, counter, agent, hour", clip(&by)),
            )
        })?,
    };
    Ok(KpiQuery { office, from, to, by })
}

/// Run the report on a blocking thread: it loads day documents, which is CPU and disk work.
pub(super) async fn compute(state: &web::Data<AppState>, query: KpiQuery) -> Result<KpiReport, ApiError> {
    let (hub, cache) = (state.hub.clone(), state.kpi_cache.clone());
    let report = web::block(move || kpis::report(&hub, &cache, &query, Timestamp(now_ms()))).await??;
    Ok(report)
}

/// The CSV columns, in order; [`cells`] fills them.
const COLUMNS: [&str; 26] = [
    "office",
    "day",
    "group",
    "label",
    "tickets_issued",
    "tickets_called",
    "tickets_served",
    "tickets_waiting",
    "no_shows",
    "left_before_call",
    "wait_mean_seconds",
    "wait_p50_seconds",
    "wait_p90_seconds",
    "wait_max_seconds",
    "service_mean_seconds",
    "within_target_wait",
    "within_target_wait_share",
    "preferential_with_legal_max",
    "preferential_within_legal_max",
    "preferential_within_legal_max_share",
    "out_of_order_calls",
    "estimates_scored",
    "estimate_inside_share",
    "estimate_midpoint_error_minutes",
    "estimate_width_minutes",
    "time_zone",
];

fn cells(report: &KpiReport, day: &str, row: &KpiRow) -> [String; COLUMNS.len()] {
    // Unknown values (no configuration) are empty cells, as spreadsheets expect.
    fn optional<T: ToString>(value: Option<T>) -> String {
        value.map(|v| v.to_string()).unwrap_or_default()
    }
    [
        report.office.clone(),
        day.to_string(),
        row.group.clone(),
        row.label.clone().unwrap_or_default(),
        row.tickets_issued.to_string(),
        row.tickets_called.to_string(),
        row.tickets_served.to_string(),
        row.tickets_waiting.to_string(),
        row.no_shows.to_string(),
        row.left_before_call.to_string(),
        row.wait_mean_seconds.to_string(),
        row.wait_p50_seconds.to_string(),
        row.wait_p90_seconds.to_string(),
        row.wait_max_seconds.to_string(),
        row.service_mean_seconds.to_string(),
        optional(row.within_target_wait),
        optional(row.within_target_wait_share),
        optional(row.preferential_with_legal_max),
        optional(row.preferential_within_legal_max),
        optional(row.preferential_within_legal_max_share),
        row.out_of_order_calls.to_string(),
        row.estimates_scored.to_string(),
        row.estimate_inside_share.to_string(),
        row.estimate_midpoint_error_minutes.to_string(),
        row.estimate_width_minutes.to_string(),
        report.time_zone.clone(),
    ]
}

fn to_csv(report: &KpiReport) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for row in &report.rows {
        writer.write_record(cells(report, &row.day.to_string(), &row.kpis))?;
    }
    let range = format!("{}/{}", report.from, report.to);
    for row in &report.totals {
        writer.write_record(cells(report, &range, row))?;
    }
    let total = KpiRow { group: String::new(), ..report.total.clone() };
    writer.write_record(cells(report, &range, &total))?;
    writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> Result<KpiQuery, String> {
        parse(query, Parameters::WithGrouping).map_err(|error| error.to_string())
    }

    #[test]
    fn a_query_takes_defaults_for_to_and_by() {
        let query = check("office=centro&from=2026-11-29").expect("valid");
        assert_eq!((query.from, query.to, query.by), (query.from, query.from, GroupBy::Office));
        let query = check("office=centro&from=2026-09-01&to=2026-12-01&by=hour").expect("92 days");
        assert_eq!(query.by, GroupBy::Hour);
    }

    #[test]
    fn each_bad_query_names_its_problem() {
        for (query, problem) in [
            ("from=2026-11-29", "office is required"),
            ("office=centro", "from is required"),
            ("office=centro&from=29/11/2026", "not a date"),
            ("office=centro&from=2026-11-29&to=2026-02-30", "to=\"2026-02-30\" is not a date"),
            ("office=centro&from=2026-11-29&by=week", "not one of office"),
            ("office=centro&from=2026-11-29&to=2026-11-01", "is after"),
            ("office=centro&from=2026-09-01&to=2026-12-02", "93 days"),
            ("office=centro&from=2026-11-29&form=x", "unknown parameter \"form\""),
            ("office=centro&office=norte&from=2026-11-29", "given twice"),
        ] {
            let error = check(query).expect_err(query);
            assert!(error.contains(problem), "{query}: {error}");
        }
        let error = parse("office=centro&from=2026-11-29&by=hour", Parameters::RangeOnly).expect_err("charts");
        assert!(error.to_string().contains("unknown parameter \"by\""), "{error}");
    }
}
