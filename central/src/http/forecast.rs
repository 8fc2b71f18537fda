//! `GET /api/v1/offices/{office}/forecast[.csv]` and `.../forecast/accuracy[.csv]`: the staffing
//! forecast of a week and, once it is over, its error against what came.
//!
//! Query: `week=<yyyy-mm-dd>` (a Monday) and optionally `service_level=<0..1>` (the share of
//! citizens to be called within their service's target wait; 0.8 when absent). The CSVs hold
//! one row per service, day and hour (RFC 4180, CRLF line ends). Analyst tokens only.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::BusinessDay;

use super::auth::Analyst;
use super::error::{ApiError, ErrorBody};
use super::query::{clip, read};
use super::AppState;
use crate::forecast::{AccuracyReport, ForecastQuery, ForecastReport};

/// The week and service level of a forecast, as its query string gives them. The handlers read
/// the string themselves (every problem named); this only describes it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct Week {
    /// the Monday the week starts, like 2026-11-30
    week: String,
    /// the share of citizens to be called within their service's target wait, above 0 and below
    /// 1; 0.8 when absent
    service_level: Option<f64>,
}

const BAD_QUERY: &str =
    "`bad_query`, `unknown_parameter`, `repeated_parameter`, `missing_parameter`, `bad_date`, `not_monday`, \
     `bad_service_level`";

#[utoipa::path(get, path = "/api/v1/offices/{office}/forecast", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id"), Week),
    responses((status = 200, body = Object,
               description = "`office`, `office_name`, `time_zone`, `service_names` (by id), `week`, `weeks` (of \
                              history read), `service_level`, `days_used` (the past days it rests on), `closed_days` \
                              (the week's closures), `services` \
                              (per service: `service`, `target_wait_minutes`, `hours`: per `day` and local `hour`, \
                              forecast `arrivals`, `service_minutes` and the `counters` Erlang C needs), `totals` \
                              (per `day` and `hour`: `arrivals` and `counters` of every service together)"),
              (status = 400, body = ErrorBody, description = BAD_QUERY),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office"),
              (status = 409, body = ErrorBody, description = "`no_configuration`: central holds no valid configuration of the office")),
    security(("bearer" = [])))]
pub async fn json(
    _: Analyst,
    office: web::Path<String>,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report = forecast(&state, parse(office.into_inner(), request.query_string())?).await?;
    Ok(HttpResponse::Ok().json(&*report))
}

#[utoipa::path(get, path = "/api/v1/offices/{office}/forecast.csv", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id"), Week),
    responses((status = 200, content_type = "text/csv", body = String,
               description = "`office,service,day,hour,arrivals,service_minutes,counters`, one row per service, day \
                              and hour; RFC 4180 with CRLF line ends"),
              (status = 400, body = ErrorBody, description = BAD_QUERY),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office"),
              (status = 409, body = ErrorBody, description = "`no_configuration`")),
    security(("bearer" = [])))]
pub async fn csv(
    _: Analyst,
    office: web::Path<String>,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report = forecast(&state, parse(office.into_inner(), request.query_string())?).await?;
    let office = &report.office;
    let rows = report.forecast.services.iter().flat_map(|service| {
        service.hours.iter().map(move |h| {
            [
                office.clone(),
                service.service.to_string(),
                h.day.to_string(),
                h.hour.to_string(),
                h.arrivals.to_string(),
                h.service_minutes.to_string(),
                h.counters.to_string(),
            ]
        })
    });
    let header = ["office", "service", "day", "hour", "arrivals", "service_minutes", "counters"];
    let file = format!("forecast-{}-{}.csv", report.office, report.forecast.week);
    csv_response(header, rows, &file)
}

#[utoipa::path(get, path = "/api/v1/offices/{office}/forecast/accuracy", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id"), Week),
    responses((status = 200, body = Object,
               description = "a week that is over: `office`, `office_name`, `time_zone`, `service_names`, `week`, \
                              `service_level`, `days_seen` (the week's days with a document), `cells` (per \
                              `service`, `day` and `hour`: `forecast_arrivals`, `actual_arrivals`, \
                              `absolute_error`, `forecast_counters`, `actual_counters`), `hours` (the same per day \
                              and hour, every service together), `total` (the same over the week, with `wape`: \
                              absolute error over actual arrivals, `forecast_counter_hours`, \
                              `actual_counter_hours`, `hours_understaffed`)"),
              (status = 400, body = ErrorBody, description = BAD_QUERY),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office"),
              (status = 409, body = ErrorBody,
               description = "`no_configuration`; `week_not_over`: the week has days still to come")),
    security(("bearer" = [])))]
pub async fn accuracy_json(
    _: Analyst,
    office: web::Path<String>,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report = accuracy(&state, parse(office.into_inner(), request.query_string())?).await?;
    Ok(HttpResponse::Ok().json(&*report))
}

#[utoipa::path(get, path = "/api/v1/offices/{office}/forecast/accuracy.csv", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id"), Week),
    responses((status = 200, content_type = "text/csv", body = String,
               description = "`office,service,day,hour,forecast_arrivals,actual_arrivals,absolute_error,\
                              forecast_counters,actual_counters`, one row per service, day and hour; RFC 4180 with \
                              CRLF line ends"),
              (status = 400, body = ErrorBody, description = BAD_QUERY),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office"),
              (status = 409, body = ErrorBody, description = "`no_configuration`, `week_not_over`")),
    security(("bearer" = [])))]
pub async fn accuracy_csv(
    _: Analyst,
    office: web::Path<String>,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report = accuracy(&state, parse(office.into_inner(), request.query_string())?).await?;
    let rows = report.accuracy.cells.iter().map(|c| {
        [
            report.office.clone(),
            c.service.to_string(),
            c.day.to_string(),
            c.hour.to_string(),
            c.forecast_arrivals.to_string(),
            c.actual_arrivals.to_string(),
            c.absolute_error.to_string(),
            c.forecast_counters.to_string(),
            c.actual_counters.to_string(),
        ]
    });
    let header = [
        "office",
        "service",
        "day",
        "hour",
        "forecast_arrivals",
        "actual_arrivals",
        "absolute_error",
        "forecast_counters",
        "actual_counters",
    ];
    let file = format!("forecast-accuracy-{}-{}.csv", report.office, report.accuracy.week);
    csv_response(header, rows, &file)
}

/// Read and check the query, naming the first problem found.
fn parse(office: String, query: &str) -> Result<ForecastQuery, ApiError> {
    let [week, level] = read(query, ["week", "service_level"])?;
    let week = week.ok_or_else(|| {
        ApiError::bad_request("missing_parameter", "parameter week is required: week=<yyyy-mm-dd>, a Monday")
    })?;
    let week = BusinessDay::parse(&week).ok_or_else(|| {
        ApiError::bad_request("bad_date", format!("week={:?} is not a date like 2026-11-30", clip(&week)))
    })?;
    let weekday = week.0.weekday();
    if weekday != jiff::civil::Weekday::Monday {
        let monday = week.plus_days(-i64::from(weekday.to_monday_zero_offset()));
        return Err(ApiError::bad_request(
            "not_monday",
            format!("week={week} is a {weekday:?}; a week starts on a Monday (that week's is {monday})"),
        ));
    }
    let service_level = match level {
        None => fila_protocol::forecast::Params::default().service_level,
        Some(text) => text.parse::<f64>().ok().filter(|l| *l > 0.0 && *l < 1.0).ok_or_else(|| {
            ApiError::bad_request(
                "bad_service_level",
                format!("service_level={:?} is not a share above 0 and below 1, like 0.8", clip(&text)),
            )
        })?,
    };
    Ok(ForecastQuery { office, week, service_level })
}

/// Run it on a blocking thread: it loads day documents, which is CPU and disk work.
async fn forecast(
    state: &web::Data<AppState>,
    query: ForecastQuery,
) -> Result<std::sync::Arc<ForecastReport>, ApiError> {
    let (hub, forecasts) = (state.hub.clone(), state.forecasts.clone());
    Ok(web::block(move || forecasts.forecast(&hub, &query, hub.now())).await??)
}

async fn accuracy(
    state: &web::Data<AppState>,
    query: ForecastQuery,
) -> Result<std::sync::Arc<AccuracyReport>, ApiError> {
    let (hub, forecasts) = (state.hub.clone(), state.forecasts.clone());
    Ok(web::block(move || forecasts.accuracy(&hub, &query, hub.now())).await??)
}

fn csv_response<const N: usize>(
    header: [&str; N],
    rows: impl Iterator<Item = [String; N]>,
    file: &str,
) -> Result<HttpResponse, ApiError> {
    let write = || -> Result<Vec<u8>, csv::Error> {
        let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        writer.write_record(header)?;
        for row in rows {
            writer.write_record(row)?;
        }
        writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))
    };
    let body = write().map_err(|error| ApiError::Internal(format!("CSV writing failed: {error}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> Result<ForecastQuery, String> {
        parse("centro".into(), query).map_err(|error| error.to_string())
    }

    #[test]
    fn a_query_names_a_monday_and_may_set_the_service_level() {
        let query = check("week=2026-11-30").expect("a Monday");
        assert_eq!((query.week.to_string(), query.service_level), ("2026-11-30".into(), 0.8));
        assert_eq!(check("week=2026-11-30&service_level=0.9").map(|q| q.service_level), Ok(0.9));
    }

    #[test]
    fn each_bad_query_names_its_problem() {
        for (query, problem) in [
            ("", "week is required"),
            ("week=30/11/2026", "not a date"),
            ("week=2026-12-02", "is a Wednesday; a week starts on a Monday (that week's is 2026-11-30)"),
            ("week=2026-11-30&service_level=1", "not a share above 0 and below 1"),
            ("week=2026-11-30&service_level=ochenta", "not a share"),
            ("week=2026-11-30&from=2026-11-01", "unknown parameter \"from\""),
            ("week=2026-11-30&week=2026-12-07", "given twice"),
        ] {
            let error = check(query).expect_err(query);
            assert!(error.contains(problem), "{query}: {error}");
        }
    }
}
