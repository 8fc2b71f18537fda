//! The headquarters dashboard: `GET /dashboard` (the page, its script and style sheet) and the
//! charts it shows, `GET /api/v1/dashboard/charts/{waits,served}.svg?office=&from=&to=`.
//!
//! The page itself holds no data, so it is public; it asks for an analyst token once, keeps it in
//! `sessionStorage` and sends it as a bearer token to the API and the charts, which require it.
//! Charts are drawn on the server (`crate::charts`) from the same report as `/api/v1/kpis`.
//! Everything is served from here: no external URL, font or CDN, and a content security policy
//! that says so.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::report::{GroupBy, KpiRow};
use fila_protocol::BusinessDay;

use super::auth::Analyst;
use super::error::{ApiError, ErrorBody};
use super::kpis::{compute, parse, Parameters};
use super::AppState;
use crate::charts::{Chart, Series, BLUE, GREEN, ORANGE, SLATE};
use crate::kpis::KpiReport;

const PAGE: &str = include_str!("../pages/dashboard.html");
const SCRIPT: &str = include_str!("../pages/dashboard.js");
const STYLE: &str = include_str!("../pages/dashboard.css");
/// The office configuration editor (`/dashboard/office/{office}/config`): the same token, its
/// own page, since the forms have nothing to do with the figures.
const CONFIG_PAGE: &str = include_str!("../pages/config.html");
const CONFIG_SCRIPT: &str = include_str!("../pages/config.js");
const CONFIG_STYLE: &str = include_str!("../pages/config.css");
/// Only this origin: no inline script, no third party. Charts arrive as blob: images.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; \
                   connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";
/// The hours a day chart shows even when the office was quiet: a usual opening day.
const HOURS_SHOWN: std::ops::RangeInclusive<u32> = 8..=17;

pub async fn page() -> HttpResponse {
    static_file("text/html; charset=utf-8", PAGE)
}

pub async fn script() -> HttpResponse {
    static_file("text/javascript; charset=utf-8", SCRIPT)
}

pub async fn style() -> HttpResponse {
    static_file("text/css; charset=utf-8", STYLE)
}

pub async fn config_page() -> HttpResponse {
    static_file("text/html; charset=utf-8", CONFIG_PAGE)
}

pub async fn config_script() -> HttpResponse {
    static_file("text/javascript; charset=utf-8", CONFIG_SCRIPT)
}

pub async fn config_style() -> HttpResponse {
    static_file("text/css; charset=utf-8", CONFIG_STYLE)
}

fn static_file(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// Waiting time (p50 and p90, minutes): per hour for one day, per day for a range.
#[utoipa::path(get, path = "/api/v1/dashboard/charts/waits.svg", tag = "headquarters",
    params(super::openapi::Period),
    responses((status = 200, content_type = "image/svg+xml", body = String, description = "the chart"),
              (status = 400, body = ErrorBody,
               description = "`bad_query`, `unknown_parameter` (`by` too), `repeated_parameter`, `missing_parameter`, \
                              `bad_date`, `bad_range`, `range_too_long`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn waits(_: Analyst, request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut query = parse(request.query_string(), Parameters::RangeOnly)?;
    let one_day = query.from == query.to;
    query.by = if one_day { GroupBy::Hour } else { GroupBy::Office };
    let report = compute(&state, query).await?;
    let minutes = |row: &KpiRow, seconds: f64| (row.tickets_called > 0).then_some(seconds / 60.0);
    let (x_labels, rows): (Vec<String>, Vec<Option<&KpiRow>>) = if one_day {
        let hours = hours(&report.totals);
        let rows = hours.iter().map(|label| report.totals.iter().find(|r| &r.group == label)).collect();
        (hours, rows)
    } else {
        let days = days(report.from, report.to);
        let rows = days.iter().map(|day| report.rows.iter().find(|r| r.day == *day).map(|r| &r.kpis)).collect();
        (days.iter().map(|day| short_date(*day)).collect(), rows)
    };
    let p50 = rows.iter().map(|row| row.and_then(|r| minutes(r, r.wait_p50_seconds))).collect();
    let p90 = rows.iter().map(|row| row.and_then(|r| minutes(r, r.wait_p90_seconds))).collect();
    let per = if one_day { "por hora de llegada" } else { "por día" };
    let chart = Chart {
        title: format!("Espera hasta el primer llamado, {per}"),
        subtitle: period(&report),
        y_label: "minutos".into(),
        x_labels,
        series: vec![
            Series { name: "Mediana (p50)".into(), color: BLUE, values: p50 },
            Series { name: "p90".into(), color: ORANGE, values: p90 },
        ],
        empty_text: "Sin turnos llamados en el período".into(),
        whole_numbers: false,
    };
    svg(chart.lines())
}

/// Tickets issued and served, per hour of arrival, over the range.
#[utoipa::path(get, path = "/api/v1/dashboard/charts/served.svg", tag = "headquarters",
    params(super::openapi::Period),
    responses((status = 200, content_type = "image/svg+xml", body = String, description = "the chart"),
              (status = 400, body = ErrorBody,
               description = "`bad_query`, `unknown_parameter` (`by` too), `repeated_parameter`, `missing_parameter`, \
                              `bad_date`, `bad_range`, `range_too_long`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn served(_: Analyst, request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut query = parse(request.query_string(), Parameters::RangeOnly)?;
    query.by = GroupBy::Hour;
    let report = compute(&state, query).await?;
    let hours = hours(&report.totals);
    let count = |label: &String, field: fn(&KpiRow) -> u32| {
        Some(report.totals.iter().find(|r| &r.group == label).map_or(0.0, |r| f64::from(field(r))))
    };
    let issued = hours.iter().map(|h| count(h, |r| r.tickets_issued)).collect();
    let served = hours.iter().map(|h| count(h, |r| r.tickets_served)).collect();
    let chart = Chart {
        title: "Turnos emitidos y atendidos, por hora de llegada".into(),
        subtitle: period(&report),
        y_label: "turnos".into(),
        x_labels: hours,
        series: vec![
            Series { name: "Emitidos".into(), color: SLATE, values: issued },
            Series { name: "Atendidos".into(), color: GREEN, values: served },
        ],
        empty_text: "Sin turnos en el período".into(),
        whole_numbers: true,
    };
    let chart = if report.total.tickets_issued == 0 {
        Chart { series: chart.series.into_iter().map(|s| Series { values: Vec::new(), ..s }).collect(), ..chart }
    } else {
        chart
    };
    svg(chart.bars())
}

fn svg(rendered: Result<String, crate::charts::ChartError>) -> Result<HttpResponse, ApiError> {
    let body = rendered.map_err(|error| ApiError::Internal(error.to_string()))?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body))
}

/// The hour labels a chart shows: a usual opening day, stretched to any hour that has tickets.
fn hours(rows: &[KpiRow]) -> Vec<String> {
    let seen = rows.iter().filter_map(|r| r.group.get(..2).and_then(|h| h.parse::<u32>().ok()));
    let (first, last) = seen.fold((*HOURS_SHOWN.start(), *HOURS_SHOWN.end()), |(a, b), h| (a.min(h), b.max(h)));
    (first..=last).map(|hour| format!("{hour:02}:00")).collect()
}

/// Every date from `from` to `to`.
fn days(from: BusinessDay, to: BusinessDay) -> Vec<BusinessDay> {
    from.0.series(jiff::Span::new().days(1)).take_while(|day| *day <= to.0).map(BusinessDay).collect()
}

/// "29/11", as dates are written in Spanish.
fn short_date(day: BusinessDay) -> String {
    format!("{:02}/{:02}", day.0.day(), day.0.month())
}

fn long_date(day: BusinessDay) -> String {
    format!("{:02}/{:02}/{}", day.0.day(), day.0.month(), day.0.year())
}

fn period(report: &KpiReport) -> String {
    let office = &report.office_name;
    if report.from == report.to {
        format!("{office}, {}", long_date(report.from))
    } else {
        format!("{office}, {} – {}", long_date(report.from), long_date(report.to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_labels_cover_the_opening_day_and_any_hour_with_tickets() {
        let row = |group: &str| KpiRow {
            group: group.into(),
            label: None,
            tickets_issued: 1,
            tickets_called: 0,
            tickets_served: 0,
            tickets_waiting: 0,
            no_shows: 0,
            left_before_call: 0,
            wait_mean_seconds: 0.0,
            wait_p50_seconds: 0.0,
            wait_p90_seconds: 0.0,
            wait_max_seconds: 0.0,
            service_mean_seconds: 0.0,
            within_target_wait: None,
            within_target_wait_share: None,
            preferential_with_legal_max: None,
            preferential_within_legal_max: None,
            preferential_within_legal_max_share: None,
            out_of_order_calls: 0,
            estimates_scored: 0,
            estimate_inside_share: 0.0,
            estimate_midpoint_error_minutes: 0.0,
            estimate_width_minutes: 0.0,
        };
        assert_eq!(hours(&[]).first().map(String::as_str), Some("08:00"));
        assert_eq!(hours(&[]).len(), 10);
        let stretched = hours(&[row("07:00"), row("19:00")]);
        assert_eq!((stretched[0].as_str(), stretched[stretched.len() - 1].as_str()), ("07:00", "19:00"));
    }

    #[test]
    fn a_range_of_days_lists_every_date() {
        let day = |text: &str| BusinessDay::parse(text).expect("date");
        let days = days(day("2026-11-29"), day("2026-12-02"));
        assert_eq!(days.iter().map(|d| short_date(*d)).collect::<Vec<_>>(), ["29/11", "30/11", "01/12", "02/12"]);
    }
}
