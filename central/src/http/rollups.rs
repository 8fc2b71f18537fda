//! `GET /api/v1/rollups[.csv]`: every office's KPIs (or a tag's) per day, week or month,
//! ranked; and `GET /api/v1/offices/{office}/deviations[.csv]`: one office's out-of-order calls.
//!
//! Roll-up query: `from=<yyyy-mm-dd>[&to=<yyyy-mm-dd>][&tag=<tag>][&period=day|week|month]
//! [&sort=<kpi>][&order=asc|desc]`; `to` defaults to `from`, `period` to `month`, `sort` to
//! `served`, `order` to `desc`. Deviations: `from` and `to`. At most 366 days per request.
//! Analyst tokens only. CSVs are RFC 4180 with CRLF line ends.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::report::KpiRow;
use fila_protocol::Timestamp;

use super::auth::Analyst;
use super::error::{ApiError, ErrorBody};
use super::query::{clip, range, read};
use super::{now_ms, AppState};
use crate::rollups::{self, Deviations, Order, Period, RankBy, Rollup, RollupQuery, RANGE_DAYS_MAX};

const ROLLUP_ERRORS: &str = "`bad_query`, `unknown_parameter`, `repeated_parameter`, `missing_parameter`, \
                             `bad_date`, `bad_period`, `bad_sort`, `bad_order`, `bad_range`, `range_too_long`";

#[utoipa::path(get, path = "/api/v1/rollups", tag = "headquarters",
    params(
        ("from" = String, Query, description = "first day, yyyy-mm-dd"),
        ("to" = Option<String>, Query, description = "last day (default `from`); at most 366 days"),
        ("tag" = Option<String>, Query, description = "only offices with this tag"),
        ("period" = Option<String>, Query, description = "`day`, `week` (ISO, Monday first) or `month` (default)"),
        ("sort" = Option<String>, Query, description = "the KPI to rank by: `office`, `issued`, `served` (default), \
            `wait_mean`, `wait_p90`, `within_target`, `preferential_within_legal_max`, `out_of_order`, `no_shows`, \
            `left_before_call`, `service_mean`; offices without a value last"),
        ("order" = Option<String>, Query, description = "`desc` (default) or `asc`")),
    responses((status = 200, body = Object,
               description = "`tag`, `from`, `to`, `period`, `sort`, `order`, `offices`, `days_unreadable`, and \
                              `periods`: each with `period` (2026-11-29, 2026-W48, 2026-11), `from`, `to`, `rows` \
                              (per office: `rank`, `office`, `office_name`, `tags`, `days` and the KPIs as in \
                              /api/v1/kpis) and `total` (every office together)"),
              (status = 400, body = ErrorBody, description = ROLLUP_ERRORS),
              (status = 401, body = ErrorBody, description = "no valid analyst token")),
    security(("bearer" = [])))]
pub async fn json(_: Analyst, request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = parse(request.query_string())?;
    let rollup = compute(&state, query).await?;
    Ok(HttpResponse::Ok().json(rollup))
}

#[utoipa::path(get, path = "/api/v1/rollups.csv", tag = "headquarters",
    params(
        ("from" = String, Query, description = "first day, yyyy-mm-dd"),
        ("to" = Option<String>, Query, description = "last day (default `from`); at most 366 days"),
        ("tag" = Option<String>, Query, description = "only offices with this tag"),
        ("period" = Option<String>, Query, description = "`day`, `week` or `month` (default)"),
        ("sort" = Option<String>, Query, description = "the KPI to rank by, as in /api/v1/rollups"),
        ("order" = Option<String>, Query, description = "`desc` (default) or `asc`")),
    responses((status = 200, content_type = "text/csv", body = String,
               description = "per period, the offices in rank order, then the period's total (`rank` and `office` \
                              empty, `office_name` the tag or `all`)"),
              (status = 400, body = ErrorBody, description = ROLLUP_ERRORS),
              (status = 401, body = ErrorBody, description = "no valid analyst token")),
    security(("bearer" = [])))]
pub async fn csv(_: Analyst, request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = parse(request.query_string())?;
    let rollup = compute(&state, query).await?;
    let body = rollup_csv(&rollup).map_err(|error| ApiError::Internal(format!("CSV writing failed: {error}")))?;
    let tag = rollup.tag.as_deref().unwrap_or("all");
    let period = Period::NAMES[rollup.period as usize];
    let file = format!("rollup-{tag}-{}-{}-{period}.csv", rollup.from, rollup.to);
    Ok(attachment(body, &file))
}

#[utoipa::path(get, path = "/api/v1/offices/{office}/deviations", tag = "headquarters",
    params(("office" = String, Path),
        ("from" = String, Query, description = "first day, yyyy-mm-dd"),
        ("to" = Option<String>, Query, description = "last day (default `from`); at most 366 days")),
    responses((status = 200, body = Object,
               description = "`office`, `office_name`, `from`, `to`, `time_zone`, `days_unreadable`, `deviations`: \
                              each out-of-order call with `day`, `at_ms`, `local_time`, `ticket`, `service`, \
                              `counter`, `agent`, `actor`, `reason`, `note`, `skipped_count`, `skipped` (ticket \
                              numbers)"),
              (status = 400, body = ErrorBody, description = "as /api/v1/rollups"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn deviations_json(
    _: Analyst,
    office: web::Path<String>,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let list = deviations(&state, office.into_inner(), request.query_string()).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[utoipa::path(get, path = "/api/v1/offices/{office}/deviations.csv", tag = "headquarters",
    params(("office" = String, Path),
        ("from" = String, Query, description = "first day, yyyy-mm-dd"),
        ("to" = Option<String>, Query, description = "last day (default `from`); at most 366 days")),
    responses((status = 200, content_type = "text/csv", body = String,
               description = "one line per out-of-order call; `skipped` holds the ticket numbers separated by spaces"),
              (status = 400, body = ErrorBody, description = "as /api/v1/rollups"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn deviations_csv(
    _: Analyst,
    office: web::Path<String>,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let list = deviations(&state, office.into_inner(), request.query_string()).await?;
    let body = deviations_to_csv(&list).map_err(|error| ApiError::Internal(format!("CSV writing failed: {error}")))?;
    let file = format!("deviations-{}-{}-{}.csv", list.office, list.from, list.to);
    Ok(attachment(body, &file))
}

fn attachment(body: Vec<u8>, file: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")))
        .body(body)
}

async fn compute(state: &web::Data<AppState>, query: RollupQuery) -> Result<Rollup, ApiError> {
    let (hub, cache) = (state.hub.clone(), state.kpi_cache.clone());
    Ok(web::block(move || rollups::rollup(&hub, &cache, &query, Timestamp(now_ms()))).await??)
}

async fn deviations(state: &web::Data<AppState>, office: String, query: &str) -> Result<Deviations, ApiError> {
    let [from, to] = read(query, ["from", "to"])?;
    let (from, to) = range(from, to, RANGE_DAYS_MAX)?;
    let (hub, cache) = (state.hub.clone(), state.kpi_cache.clone());
    Ok(web::block(move || rollups::deviations(&hub, &cache, &office, from, to, Timestamp(now_ms()))).await??)
}

/// Read and check a roll-up query, naming the first problem found.
fn parse(query: &str) -> Result<RollupQuery, ApiError> {
    let [from, to, tag, period, sort, order] = read(query, ["from", "to", "tag", "period", "sort", "order"])?;
    let (from, to) = range(from, to, RANGE_DAYS_MAX)?;
    let tag = tag.filter(|tag| !tag.is_empty());
    let period = match period {
        None => Period::Month,
        Some(name) => Period::from_name(&name).ok_or_else(|| {
            ApiError::bad_request("bad_period", format!("period={:?} is not one of day, week, month", clip(&name)))
        })?,
    };
    let sort = match sort {
        None => RankBy::Served,
        Some(name) => RankBy::from_name(&name).ok_or_else(|| {
            ApiError::bad_request(
                "bad_sort",
                format!("sort={:?} is not one of {}", clip(&name), RankBy::NAMES.join(", ")),
            )
        })?,
    };
    let order = match order.as_deref() {
        None | Some("desc") => Order::Desc,
        Some("asc") => Order::Asc,
        Some(other) => {
            return Err(ApiError::bad_request("bad_order", format!("order={:?} is not asc or desc", clip(other))))
        }
    };
    Ok(RollupQuery { tag, from, to, period, sort, order })
}

/// The roll-up CSV's columns, in order.
const ROLLUP_COLUMNS: [&str; 20] = [
    "period",
    "period_from",
    "period_to",
    "rank",
    "office",
    "office_name",
    "days",
    "tickets_issued",
    "tickets_called",
    "tickets_served",
    "tickets_waiting",
    "no_shows",
    "left_before_call",
    "wait_mean_seconds",
    "wait_p50_seconds",
    "wait_p90_seconds",
    "service_mean_seconds",
    "within_target_wait_share",
    "preferential_within_legal_max_share",
    "out_of_order_calls",
];

fn kpi_cells(row: &KpiRow) -> [String; 13] {
    // Unknown shares (no configuration) are empty cells, as spreadsheets expect.
    let optional = |value: Option<f64>| value.map(|v| v.to_string()).unwrap_or_default();
    [
        row.tickets_issued.to_string(),
        row.tickets_called.to_string(),
        row.tickets_served.to_string(),
        row.tickets_waiting.to_string(),
        row.no_shows.to_string(),
        row.left_before_call.to_string(),
        row.wait_mean_seconds.to_string(),
        row.wait_p50_seconds.to_string(),
        row.wait_p90_seconds.to_string(),
        row.service_mean_seconds.to_string(),
        optional(row.within_target_wait_share),
        optional(row.preferential_within_legal_max_share),
        row.out_of_order_calls.to_string(),
    ]
}

fn rollup_csv(rollup: &Rollup) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(ROLLUP_COLUMNS)?;
    for period in &rollup.periods {
        let head = [period.period.clone(), period.from.to_string(), period.to.to_string()];
        for row in &period.rows {
            let who = [row.rank.to_string(), row.office.clone(), row.office_name.clone(), row.days.to_string()];
            writer.write_record(head.iter().chain(&who).chain(&kpi_cells(&row.kpis)))?;
        }
        let label = period.total.label.clone().unwrap_or_default();
        let who = [String::new(), String::new(), label, String::new()];
        writer.write_record(head.iter().chain(&who).chain(&kpi_cells(&period.total)))?;
    }
    writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))
}

const DEVIATION_COLUMNS: [&str; 13] = [
    "office",
    "day",
    "local_time",
    "ticket",
    "service",
    "counter",
    "agent",
    "actor",
    "reason",
    "note",
    "skipped_count",
    "skipped",
    "time_zone",
];

fn deviations_to_csv(list: &Deviations) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(DEVIATION_COLUMNS)?;
    for call in &list.deviations {
        let reason = serde_json::to_value(call.reason).ok().and_then(|v| v.as_str().map(str::to_string));
        writer.write_record([
            list.office.clone(),
            call.day.to_string(),
            call.local_time.clone(),
            call.ticket.clone(),
            call.service.as_ref().map(ToString::to_string).unwrap_or_default(),
            call.counter.to_string(),
            call.agent.to_string(),
            call.actor.to_string(),
            reason.unwrap_or_default(),
            call.note.clone().unwrap_or_default(),
            call.skipped_count.to_string(),
            call.skipped.join(" "),
            list.time_zone.clone(),
        ])?;
    }
    writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollup_query_takes_defaults_and_names_each_problem() {
        let query = parse("from=2026-11-01&to=2026-11-30").expect("valid");
        assert_eq!(
            (query.period, query.sort, query.order, query.tag),
            (Period::Month, RankBy::Served, Order::Desc, None)
        );
        let query =
            parse("from=2026-01-01&to=2026-12-31&tag=capital&period=week&sort=wait_mean&order=asc").expect("a year");
        assert_eq!((query.period, query.sort, query.order), (Period::Week, RankBy::WaitMean, Order::Asc));
        for (text, problem) in [
            ("to=2026-11-29", "from is required"),
            ("from=2026-11-31", "not a date"),
            ("from=2026-11-29&period=year", "period=\"year\" is not one of day, week, month"),
            ("from=2026-11-29&sort=mood", "sort=\"mood\" is not one of"),
            ("from=2026-11-29&order=up", "order=\"up\" is not asc or desc"),
            ("from=2026-11-29&to=2026-11-01", "is after"),
            ("from=2026-01-01&to=2027-01-02", "367 days"),
            ("from=2026-11-29&office=centro", "unknown parameter \"office\""),
            ("from=2026-11-29&tag=a&tag=b", "given twice"),
        ] {
            let error = parse(text).expect_err(text).to_string();
            assert!(error.contains(problem), "{text}: {error}");
        }
    }
}
