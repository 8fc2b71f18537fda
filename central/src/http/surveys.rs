//! Surveys at central.
//!
//! For citizens (public, the link is the credential): `GET /s/{office}/{day}/{ticket}/{mac}` (the
//! page) and `GET|POST /api/v1/public/surveys/{office}/{day}/{ticket}/{mac}` (its state, and the
//! answer). A link that does not check out is `404` like any unknown address: it tells a guesser
//! nothing.
//!
//! For analysts: `GET /api/v1/surveys[.csv]?office=&from=&to=&by=` (figures, counting each ticket
//! once whether answered at the office or by link), `GET /api/v1/surveys/comments?office=` (the
//! comments left by link, low scores flagged) and the trend chart
//! `GET /api/v1/dashboard/charts/satisfaction.svg?office=&from=&to=`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use fila_protocol::office::SurveyInput;
use fila_protocol::report::GroupBy;
use serde::{Deserialize, Serialize};

use super::auth::Analyst;
use super::error::{ApiError, ErrorBody};
use super::kpis::{parse, Parameters};
use super::AppState;
use crate::charts::{Chart, Series, BLUE, GREEN};
use crate::surveys::{self, Refusal, SurveyRef, SurveyReport};

const PAGE: &str = include_str!("../pages/survey.html");
const SCRIPT: &str = include_str!("../pages/survey.js");
const STYLE: &str = include_str!("../pages/survey.css");
/// The survey page runs only its own script and talks only to this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LinkPath {
    /// The office's id.
    office: String,
    /// The business day of the visit.
    day: String,
    /// The ticket's id.
    ticket: String,
    /// The link's signature: a link that does not check out is not found.
    mac: String,
}

/// The citizen's answer. Every question is optional; at least one must be answered.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkAnswer {
    /// 1 to 5.
    #[serde(default)]
    satisfaction: Option<u8>,
    /// 0 to 10.
    #[serde(default)]
    recommend: Option<u8>,
    /// Whether the visit resolved what the citizen came for.
    #[serde(default)]
    resolved: Option<bool>,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
struct CommentDto {
    day: String,
    ticket: String,
    satisfaction: Option<u8>,
    text: String,
    /// When it was left, in ms since the Unix epoch.
    at: i64,
    /// A low score with a comment: the office supervisor's to look at.
    low: bool,
}

pub async fn page() -> HttpResponse {
    static_file("text/html; charset=utf-8", PAGE)
}
pub async fn script() -> HttpResponse {
    static_file("text/javascript; charset=utf-8", SCRIPT)
}
pub async fn style() -> HttpResponse {
    static_file("text/css; charset=utf-8", STYLE)
}

fn static_file(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // The link is the survey's credential: no other site learns it from a Referer.
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(body)
}

fn checked(state: &AppState, path: &LinkPath) -> Result<SurveyRef, ApiError> {
    state
        .surveys
        .check_link(&path.office, &path.day, &path.ticket, &path.mac)
        .ok_or_else(|| ApiError::NotFound("no such survey".into()))
}

#[utoipa::path(get, path = "/api/v1/public/surveys/{office}/{day}/{ticket}/{mac}", tag = "public", params(LinkPath),
    responses((status = 200, body = Object,
               description = "`state` (`open`, `answered` or `closed`), `office_name`, `ticket_number`, `open_until`, \
                              `comment_chars_max`, `questions` (which of `satisfaction`, `recommend`, `resolved`, \
                              `comment` the form asks)"),
              (status = 404, body = ErrorBody, description = "`not_found`: no such survey")))]
pub async fn link_state(state: web::Data<AppState>, path: web::Path<LinkPath>) -> Result<HttpResponse, ApiError> {
    let survey = checked(&state, &path)?;
    let (hub, surveys) = (state.hub.clone(), state.surveys.clone());
    let found = web::block(move || surveys.state(&hub, &survey, hub.now())).await?;
    Ok(HttpResponse::Ok().json(found.map_err(refusal)?))
}

#[utoipa::path(post, path = "/api/v1/public/surveys/{office}/{day}/{ticket}/{mac}", tag = "public",
    params(LinkPath), request_body = LinkAnswer,
    responses((status = 201, body = Object, description = "`state`: `answered`"),
              (status = 400, body = ErrorBody,
               description = "`bad_answer` (a question the form does not ask, a score out of range, a long comment, \
                              a visit not finished), `bad_body`"),
              (status = 404, body = ErrorBody, description = "`not_found`: no such survey"),
              (status = 409, body = ErrorBody, description = "`survey_answered`, `survey_closed`"),
              (status = 413, body = ErrorBody, description = "`bad_body`: the body is too large")))]
pub async fn answer(
    state: web::Data<AppState>,
    path: web::Path<LinkPath>,
    body: web::Json<LinkAnswer>,
) -> Result<HttpResponse, ApiError> {
    let survey = checked(&state, &path)?;
    let body = body.into_inner();
    let input = SurveyInput {
        satisfaction: body.satisfaction,
        recommend: body.recommend,
        resolved: body.resolved,
        commented: body.comment.as_deref().is_some_and(|c| !c.trim().is_empty()),
    };
    let (hub, surveys) = (state.hub.clone(), state.surveys.clone());
    let span = tracing::info_span!("survey", office = %survey.office, day = %survey.day, ticket = %survey.ticket);
    let office = survey.office.clone();
    let kept = web::block(move || {
        let _entered = span.enter();
        let now = hub.now();
        let kept = surveys.answer_by_link(&hub, &survey, input, body.comment.as_deref(), now)?;
        tracing::info!(comment = kept.is_some(), "survey answered by link");
        Ok::<_, Refusal>(kept)
    })
    .await?
    .map_err(refusal)?;
    if let Some(comment) = kept.filter(fila_notify::survey_comments::Comment::is_low) {
        let (outbox, now) = (state.outbox.clone(), state.hub.now());
        match web::block(move || outbox.low_score(&office, &comment, now)).await? {
            Ok(_) => {}
            // The answer is in; the alert is what is lost, and the citizen can do nothing about it.
            Err(error) => tracing::error!(%error, "the supervisor's low-score alert could not be queued"),
        }
    }
    Ok(HttpResponse::Created().json(serde_json::json!({ "state": "answered" })))
}

fn refusal(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::Answered => ApiError::conflict("survey_answered", refusal.to_string()),
        Refusal::Closed(_) => ApiError::conflict("survey_closed", refusal.to_string()),
        Refusal::Bad(message) => ApiError::bad_request("bad_answer", message),
        Refusal::Read(error) => error.into(),
        Refusal::Store(error) => ApiError::Internal(error.to_string()),
    }
}

/// Survey figures, each ticket counted once whether answered at the office or by link.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "headquarters",
    params(super::openapi::GroupedPeriod),
    responses((status = 200, body = Object,
               description = "`office`, `office_name`, `from`, `to`, `by`, `days` (held), `rows` (per group per day: `day` and the figures), \
                              `totals` (per group over the range), `total`; figures are `group`, `label`, `finished`, \
                              `answers`, `response_rate`, `withheld`, `satisfaction_answers`, `satisfaction_mean`, \
                              `satisfaction_counts` (1 to 5), `recommend_answers`, `recommend_score`, \
                              `resolved_answers`, `resolved_rate`, `comments`"),
              (status = 400, body = ErrorBody,
               description = "`bad_query`, `unknown_parameter`, `repeated_parameter`, `missing_parameter`, `bad_date`, \
                              `bad_group`, `bad_range`, `range_too_long`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn figures(_: Analyst, request: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let report = compute(&state, &request, Parameters::WithGrouping).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[utoipa::path(get, path = "/api/v1/surveys.csv", tag = "headquarters",
    params(super::openapi::GroupedPeriod),
    responses((status = 200, content_type = "text/csv", body = String,
               description = "the figures as CSV: the day rows, then the range rows (`day` as `from/to`), the total last"),
              (status = 400, body = ErrorBody,
               description = "`bad_query`, `unknown_parameter`, `repeated_parameter`, `missing_parameter`, `bad_date`, \
                              `bad_group`, `bad_range`, `range_too_long`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn figures_csv(
    _: Analyst,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let report = compute(&state, &request, Parameters::WithGrouping).await?;
    let body = to_csv(&report).map_err(|error| ApiError::Internal(format!("CSV writing failed: {error}")))?;
    let file = format!("surveys-{}-{}-{}-{}.csv", report.office, report.from, report.to, report.by.name());
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")))
        .body(body))
}

/// Daily mean satisfaction (1–5) and response rate (as 0–5, a fifth per 20 %) over the range.
#[utoipa::path(get, path = "/api/v1/dashboard/charts/satisfaction.svg", tag = "headquarters",
    params(super::openapi::Period),
    responses((status = 200, content_type = "image/svg+xml", body = String, description = "the chart"),
              (status = 400, body = ErrorBody,
               description = "`bad_query`, `unknown_parameter` (`by` too), `repeated_parameter`, `missing_parameter`, \
                              `bad_date`, `bad_range`, `range_too_long`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn trend_chart(
    _: Analyst,
    request: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut report = compute(&state, &request, Parameters::RangeOnly).await?;
    report.rows.retain(|row| row.figures.group == report.office);
    let x_labels: Vec<String> = report.rows.iter().map(|row| row.day.to_string()).collect();
    let satisfaction = report.rows.iter().map(|row| row.figures.satisfaction_mean).collect();
    let responses = report.rows.iter().map(|row| row.figures.response_rate.map(|rate| 5.0 * rate)).collect();
    let chart = Chart {
        title: "Satisfacción por día".into(),
        subtitle: format!("{} · {} – {}", report.office_name, report.from, report.to),
        y_label: "1–5".into(),
        x_labels,
        series: vec![
            Series { name: "satisfacción media".into(), color: BLUE, values: satisfaction },
            Series { name: "respuestas (5 = 100 %)".into(), color: GREEN, values: responses },
        ],
        empty_text: "sin respuestas en el período".into(),
        whole_numbers: false,
    };
    let svg = chart.lines().map_err(|error| ApiError::Internal(format!("chart drawing failed: {error}")))?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfficeQuery {
    /// The office's id.
    office: String,
}

/// The comments left by link, low scores flagged.
#[utoipa::path(get, path = "/api/v1/surveys/comments", tag = "headquarters", params(OfficeQuery),
    responses((status = 200, body = [CommentDto]),
              (status = 400, body = ErrorBody, description = "`bad_query`: a missing or malformed parameter"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office")),
    security(("bearer" = [])))]
pub async fn comments(
    _: Analyst,
    state: web::Data<AppState>,
    query: web::Query<OfficeQuery>,
) -> Result<HttpResponse, ApiError> {
    let office = query.into_inner().office;
    if !state.hub.offices().iter().any(|o| o.id == office) {
        return Err(ApiError::NotFound(format!("no office {office:?}")));
    }
    let surveys = state.surveys.clone();
    let comments =
        web::block(move || surveys.comments(&office)).await?.map_err(|e| ApiError::Internal(e.to_string()))?;
    let dtos: Vec<CommentDto> = comments
        .into_iter()
        .map(|c| CommentDto {
            low: c.is_low(),
            day: c.day,
            ticket: c.ticket,
            satisfaction: c.satisfaction,
            text: c.text,
            at: c.at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(dtos))
}

async fn compute(state: &AppState, request: &HttpRequest, parameters: Parameters) -> Result<SurveyReport, ApiError> {
    let mut query = parse(request.query_string(), parameters)?;
    if parameters == Parameters::RangeOnly {
        query.by = GroupBy::Office;
    }
    let (hub, surveys) = (state.hub.clone(), state.surveys.clone());
    let report = web::block(move || surveys::report(&hub, &surveys, &query, hub.now())).await?;
    report.map_err(refusal)
}

const COLUMNS: [&str; 22] = [
    "office",
    "day",
    "by",
    "group",
    "label",
    "finished",
    "answers",
    "response_rate",
    "withheld",
    "satisfaction_answers",
    "satisfaction_mean",
    "satisfaction_1",
    "satisfaction_2",
    "satisfaction_3",
    "satisfaction_4",
    "satisfaction_5",
    "recommend_answers",
    "recommend_score",
    "resolved_answers",
    "resolved_rate",
    "comments",
    "range",
];

fn to_csv(report: &SurveyReport) -> Result<String, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    let range = format!("{}/{}", report.from, report.to);
    for row in &report.rows {
        writer.write_record(cells(report, &row.day.to_string(), &row.figures, false))?;
    }
    for row in &report.totals {
        writer.write_record(cells(report, &range, row, true))?;
    }
    let mut total = report.total.clone();
    total.group = String::new();
    writer.write_record(cells(report, &range, &total, true))?;
    let bytes = writer.into_inner().map_err(|error| csv::Error::from(error.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn cells(report: &SurveyReport, day: &str, row: &fila_protocol::survey_report::SurveyRow, range: bool) -> Vec<String> {
    let number = |value: Option<f64>| value.map(|v| format!("{v:.4}")).unwrap_or_default();
    let mut cells = vec![
        report.office.clone(),
        day.to_string(),
        report.by.name().to_string(),
        row.group.clone(),
        row.label.clone().unwrap_or_default(),
        row.finished.to_string(),
        row.answers.to_string(),
        number(row.response_rate),
        row.withheld.to_string(),
        row.satisfaction_answers.to_string(),
        number(row.satisfaction_mean),
    ];
    cells.extend(row.satisfaction_counts.iter().map(ToString::to_string));
    cells.extend([
        row.recommend_answers.to_string(),
        number(row.recommend_score),
        row.resolved_answers.to_string(),
        number(row.resolved_rate),
        row.comments.to_string(),
        range.to_string(),
    ]);
    cells
}
