//! `GET /api/v1/alerts`: headquarters' alerts, open and recently closed; and
//! `POST /api/v1/branch/devices`: a box reports its devices' health, for the device-down alert.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::auth::{Analyst, Branch};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use crate::alerts::Alert;

/// One alert as headquarters sees it.
#[derive(Debug, Serialize)]
pub struct AlertDto {
    /// offline, wait_above_target, preferential_past_legal_max, out_of_order_rate, device_down,
    /// low_satisfaction.
    pub kind: &'static str,
    pub office: String,
    /// When its condition began, ms since the epoch.
    pub since_ms: i64,
    /// When it closed; absent while open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_ms: Option<i64>,
    pub detail: String,
}

impl From<&Alert> for AlertDto {
    fn from(alert: &Alert) -> Self {
        AlertDto {
            kind: alert.kind.as_str(),
            office: alert.office.clone(),
            since_ms: alert.since_ms,
            closed_ms: alert.closed_ms,
            detail: alert.detail.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AlertsDto {
    /// Open now, the oldest first.
    pub open: Vec<AlertDto>,
    /// Closed since central started (the last 200), the most recent first.
    pub closed: Vec<AlertDto>,
}

impl AlertsDto {
    pub fn now(state: &AppState) -> AlertsDto {
        AlertsDto {
            open: state.alerts.open().iter().map(AlertDto::from).collect(),
            closed: state.alerts.closed().iter().map(AlertDto::from).collect(),
        }
    }
}

/// Headquarters' alerts: an office offline, a wait above target, a preferential citizen past the
/// legal maximum, out-of-order calls above the rate, a device down, low satisfaction.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "headquarters",
    responses((status = 200, body = Object, description = "`open` and recently `closed` alerts: `kind`, `office`, `since_ms`, `closed_ms`, `detail`"),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(_: Analyst, state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(AlertsDto::now(&state))
}

/// The box's devices now: each id, kind, up or down, and a problem code. Replaces the last
/// report; a device down in both keeps the time central first heard it.
#[utoipa::path(post, path = "/api/v1/branch/devices", tag = "branch",
    request_body(content = Object, description = "`devices`: a list of `id`, `kind` (printer, display, mqtt_display, broker, modem), `up`, `problem` (offline, paper_out, cover_open, paper_low)"),
    responses((status = 204, description = "taken"),
              (status = 400, body = ErrorBody, description = "`bad_report`: names the device and field"),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn devices_reported(
    branch: Branch,
    state: web::Data<AppState>,
    report: web::Json<fila_protocol::device_report::DeviceReport>,
) -> Result<HttpResponse, ApiError> {
    let report = report.into_inner();
    if let Some(problem) = report.problem() {
        return Err(ApiError::bad_request("bad_report", problem));
    }
    let (alerts, now) = (state.alerts.clone(), state.hub.now());
    web::block(move || alerts.devices_reported(&branch.office, &report, now))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::NoContent().finish())
}
