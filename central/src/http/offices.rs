//! The headquarters read API: every office's status, and any business day central holds.

use actix_web::{web, HttpResponse};
use fila_protocol::BusinessDay;
use serde::Serialize;

use super::auth::{Analyst, HqAdmin};
use super::error::{ApiError, ErrorBody, ProblemDto};
use super::hq::HqDay;
use super::AppState;
use crate::hub::OfficeSummary;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OfficeDto {
    pub id: String,
    pub name: String,
    pub online: bool,
    /// When its edge was last heard from, in ms since the Unix epoch; null if never.
    pub last_seen: Option<i64>,
    /// How old the newest change was when it reached headquarters, in seconds (the edge stamps
    /// changes in whole seconds); null before any change arrived.
    pub sync_lag_seconds: Option<f64>,
    /// The documents central holds for it.
    pub docs: Vec<String>,
    /// `token_shared`: more than 5 of its connections replaced each other within 10 minutes (two
    /// boxes with one branch token, or a stolen token).
    pub alerts: Vec<String>,
}

impl From<OfficeSummary> for OfficeDto {
    fn from(office: OfficeSummary) -> Self {
        OfficeDto {
            id: office.id,
            name: office.name,
            online: office.online,
            last_seen: office.last_seen_ms,
            sync_lag_seconds: office.sync_lag_ms.map(|ms| ms as f64 / 1000.0),
            docs: office.docs,
            alerts: office.alerts,
        }
    }
}

/// Every office with its link status, sync lag and alerts.
#[utoipa::path(get, path = "/api/v1/offices", tag = "headquarters",
    responses((status = 200, body = [OfficeDto]),
              (status = 401, body = ErrorBody, description = "no valid analyst token")),
    security(("bearer" = [])))]
pub async fn list(_: Analyst, state: web::Data<AppState>) -> web::Json<Vec<OfficeDto>> {
    web::Json(state.hub.offices().into_iter().map(OfficeDto::from).collect())
}

/// A business day of an office, as headquarters may see it (`hq::HqDay`: no tracking tokens, no
/// free text but administrators' view of deviation notes).
#[utoipa::path(get, path = "/api/v1/offices/{office}/days/{day}", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id"),
           ("day" = String, Path, description = "the business day, like 2026-11-29")),
    responses((status = 200, body = Object,
               description = "the day as headquarters sees it: `day`, `office`, `tickets` (by id), `counters`, \
                              `calls`, `sequences` (last number per service prefix); no tracking tokens, and \
                              out-of-order call reasons for administrators only"),
              (status = 400, body = ErrorBody, description = "`bad_date`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office, or central holds no document of that day"),
              (status = 412, body = ErrorBody, description = "`unknown_version`: the day's document is of a version this server cannot read")),
    security(("bearer" = [])))]
pub async fn day(
    analyst: Analyst,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (office, day) = path.into_inner();
    let day = BusinessDay::parse(&day).ok_or_else(|| {
        ApiError::bad_request("bad_date", format!("{:?} is not a date like 2026-11-29", truncate(&day)))
    })?;
    let hub = state.hub.clone();
    // Loading a day document is CPU work (tens of ms for a busy day): keep it off the workers.
    let day = web::block(move || hub.day(&office, day)).await??;
    Ok(HttpResponse::Ok().json(HqDay::new(&day, analyst.audience)))
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// An office's live queue as headquarters sees it: from the latest business day central holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LiveQueueDto {
    pub office: String,
    pub online: bool,
    pub day: String,
    pub waiting: usize,
    pub services: Vec<ServiceQueueDto>,
    pub counters: Vec<CounterNowDto>,
    /// The latest calls, newest first.
    pub recent_calls: Vec<RecentCallDto>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceQueueDto {
    pub service: String,
    pub waiting: usize,
    /// How long the longest-waiting ticket of the service has waited, in seconds.
    pub oldest_wait_seconds: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CounterNowDto {
    pub counter: String,
    /// closed, open or paused.
    pub status: String,
    pub agent: Option<String>,
    /// The ticket called to or served at the counter now.
    pub current: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecentCallDto {
    pub number: String,
    pub counter: String,
    pub at: i64,
    pub reason: String,
    pub out_of_order: bool,
}

const RECENT_CALLS: usize = 10;

#[utoipa::path(get, path = "/api/v1/offices/{office}/queue", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id")),
    responses((status = 200, body = LiveQueueDto),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office, or central holds no day of it yet")),
    security(("bearer" = [])))]
pub async fn queue(
    _: Analyst,
    office: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let office = office.into_inner();
    let summary = state
        .hub
        .offices()
        .into_iter()
        .find(|o| o.id == office)
        .ok_or_else(|| ApiError::NotFound(format!("no office {:?}", truncate(&office))))?;
    let latest = summary
        .docs
        .iter()
        .filter_map(|doc| match fila_protocol::doc::keys::DocId::parse(doc) {
            Some(fila_protocol::doc::keys::DocId::Day { day, .. }) => Some(day),
            _ => None,
        })
        .max()
        .ok_or_else(|| ApiError::NotFound(format!("central holds no day of office {office:?} yet")))?;
    let hub = state.hub.clone();
    let id = office.clone();
    let day = web::block(move || hub.day(&id, latest)).await??;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    Ok(HttpResponse::Ok().json(live_queue(&summary, &day, now)))
}

fn live_queue(summary: &OfficeSummary, day: &fila_protocol::office::Day, now_ms: i64) -> LiveQueueDto {
    use fila_protocol::TicketStatus;
    let waiting: Vec<&fila_protocol::Ticket> =
        day.tickets.values().filter(|t| t.status == TicketStatus::Waiting).collect();
    let mut services: std::collections::BTreeMap<String, ServiceQueueDto> = std::collections::BTreeMap::new();
    for ticket in &waiting {
        let entry = services.entry(ticket.service.to_string()).or_insert_with(|| ServiceQueueDto {
            service: ticket.service.to_string(),
            waiting: 0,
            oldest_wait_seconds: 0,
        });
        entry.waiting += 1;
        entry.oldest_wait_seconds = entry.oldest_wait_seconds.max((now_ms - ticket.issued_at.as_ms()).max(0) / 1000);
    }
    let number = |id: fila_protocol::TicketId| day.tickets.get(&id).map(|t| t.number.to_string());
    LiveQueueDto {
        office: summary.id.clone(),
        online: summary.online,
        day: day.day.to_string(),
        waiting: waiting.len(),
        services: services.into_values().collect(),
        counters: day
            .counters
            .iter()
            .map(|(id, state)| CounterNowDto {
                counter: id.to_string(),
                status: state.status.name().to_string(),
                agent: state.agent.as_ref().map(|a| a.to_string()),
                current: state.current.and_then(number),
            })
            .collect(),
        recent_calls: day
            .calls
            .iter()
            .rev()
            .take(RECENT_CALLS)
            .map(|call| RecentCallDto {
                number: call.number.to_string(),
                counter: call.counter.to_string(),
                at: call.at.as_ms(),
                reason: call.reason.name().to_string(),
                out_of_order: call.is_out_of_order(),
            })
            .collect(),
    }
}

/// The configuration headquarters holds for an office.
#[utoipa::path(get, path = "/api/v1/offices/{office}/config", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id")),
    responses((status = 200, body = Object,
               description = "the office's configuration as written (`office`, `calendar`, `rule`, `services`, `categories`, \
                              `counters`, `notices`: the same fields as an office's TOML)",
               headers(("ETag" = String, description = "the configuration's version, to send back as If-Match with an edit"))),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 404, body = ErrorBody, description = "no such office, or no configuration set for it yet")),
    security(("bearer" = [])))]
pub async fn get_config(
    _: Analyst,
    office: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let office = office.into_inner();
    let hub = state.hub.clone();
    let id = office.clone();
    let (config, version) = web::block(move || hub.config(&id)).await??.ok_or_else(|| {
        ApiError::NotFound(format!("headquarters has set no configuration for {:?} yet", truncate(&office)))
    })?;
    // The version to send back with an edit (If-Match), so the edit cannot undo others' since.
    Ok(HttpResponse::Ok().insert_header(("ETag", format!("\"{version}\""))).json(config))
}

/// Set an office's configuration: checked here (every problem at once), then pushed to the
/// office, which applies it at once if connected or when it next connects.
#[utoipa::path(put, path = "/api/v1/offices/{office}/config", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id"),
           ("If-Match" = Option<String>, Header,
            description = "the version (ETag) the edit was made from; without it the edit applies to the latest")),
    request_body(content = Object,
                 description = "the whole configuration (`office`, `calendar`, `rule`, `services`, `categories`, \
                                `counters`, `notices`), as `GET` gives it; `office.id` must be this office"),
    responses((status = 200, body = Object,
               description = "`changed` (whether anything changed), `version`, `templates` (each message template's \
                              SMS length)",
               headers(("ETag" = String, description = "the new version"))),
              (status = 400, body = ErrorBody, description = "`bad_config` (every problem at once), `wrong_office`, `bad_body`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 403, body = ErrorBody, description = "the token is not a headquarters administrator's"),
              (status = 404, body = ErrorBody, description = "no such office"),
              (status = 412, body = ErrorBody, description = "`unknown_version`: If-Match names a version this server does not have"),
              (status = 413, body = ErrorBody, description = "`bad_body`: the body is too large")),
    security(("bearer" = [])))]
pub async fn put_config(
    request: actix_web::HttpRequest,
    _: HqAdmin,
    office: web::Path<String>,
    body: web::Json<fila_protocol::RawOfficeConfig>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let office = office.into_inner();
    let raw = body.into_inner();
    if raw.office.id != office {
        return Err(ApiError::bad_request(
            "wrong_office",
            format!("the configuration is for {:?}, not {:?}", truncate(&raw.office.id), truncate(&office)),
        ));
    }
    let templates = checked(&raw)?;
    uploaded(&state, &raw).await?;
    let base = match request.headers().get("If-Match").map(|value| value.to_str()) {
        None => None,
        Some(Ok(base)) => Some(base.to_string()),
        Some(Err(_)) => return Err(ApiError::StaleVersion("If-Match is not a version this server gave".into())),
    };
    let (hub, store) = (state.hub.clone(), state.store.clone());
    let id = office.clone();
    let changed = web::block(move || -> Result<bool, ApiError> {
        let before = hub.config(&id)?.map(|(before, _)| before);
        // A field a template sets, edited here to another value, is the office's own from now on.
        // That is recorded (flushed) before the configuration is written: the store has no
        // transaction across a document and meta keys, and of the halves a crash between the two
        // writes can leave, an override without its edit is the harmless one (the field is left
        // alone by templates, listed as the office's own, one click from its template again),
        // while an edit without its override would be overwritten by the next template. An edit
        // refused here (a version this server never gave) takes its overrides back.
        let added = crate::templates::note_edit(store.as_ref(), before.as_ref(), &raw)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let changed = match hub.set_config(&id, &raw, base.as_deref()) {
            Ok(changed) => changed,
            Err(error) => {
                crate::templates::forget_overrides(store.as_ref(), &id, &added)
                    .map_err(|e| ApiError::Internal(e.to_string()))?;
                return Err(error.into());
            }
        };
        // An office that took a tag takes its template at once.
        if before.is_none_or(|before| before.office.tags != raw.office.tags) {
            crate::templates::apply_office(&hub, store.as_ref(), &id).map_err(|e| ApiError::Internal(e.to_string()))?;
        }
        Ok(changed)
    })
    .await??;
    let hub = state.hub.clone();
    let version = web::block(move || hub.config(&office)).await??.map(|(_, version)| version).unwrap_or_default();
    Ok(HttpResponse::Ok()
        .insert_header(("ETag", format!("\"{version}\"")))
        .json(serde_json::json!({ "changed": changed, "version": version, "templates": templates })))
}

/// The signage files a configuration names must be the ones uploaded here: offices fetch them
/// by hash from central.
async fn uploaded(state: &AppState, raw: &fila_protocol::RawOfficeConfig) -> Result<(), ApiError> {
    let (library, named) = (state.media.clone(), raw.signage.media.clone());
    let problems = web::block(move || library.not_uploaded(&named)).await?;
    match problems.is_empty() {
        true => Ok(()),
        false => Err(ApiError::BadConfig(
            problems.into_iter().map(|problem| ProblemDto { at: "signage.media".into(), problem }).collect(),
        )),
    }
}

/// Every problem of an edit at once: the configuration's own, and its message templates' (kinds
/// and placeholders); when there is none, each template's SMS length, for the editor to see.
fn checked(raw: &fila_protocol::RawOfficeConfig) -> Result<Vec<fila_notify::template::ConfiguredReport>, ApiError> {
    let mut problems = raw.clone().validate().err().unwrap_or_default();
    let templates = fila_notify::template::check_configured(&raw.notices).unwrap_or_else(|found| {
        problems.extend(found);
        Vec::new()
    });
    if problems.is_empty() {
        return Ok(templates);
    }
    Err(ApiError::BadConfig(problems.into_iter().map(|p| ProblemDto { at: p.at, problem: p.problem }).collect()))
}
