//! The headquarters read API: every office's status, and any business day central holds.

use actix_web::{web, HttpResponse};
use fila_protocol::BusinessDay;
use serde::Serialize;

use super::auth::Analyst;
use super::error::ApiError;
use super::AppState;
use crate::hub::OfficeSummary;

#[derive(Debug, Serialize)]
pub struct OfficeDto {
    pub id: String,
    pub name: String,
    pub online: bool,
    /// When its edge was last heard from, in ms since the Unix epoch; null if never.
    pub last_seen: Option<i64>,
    /// The documents central holds for it.
    pub docs: Vec<String>,
}

impl From<OfficeSummary> for OfficeDto {
    fn from(office: OfficeSummary) -> Self {
        OfficeDto {
            id: office.id,
            name: office.name,
            online: office.online,
            last_seen: office.last_seen_ms,
            docs: office.docs,
        }
    }
}

pub async fn list(_: Analyst, state: web::Data<AppState>) -> web::Json<Vec<OfficeDto>> {
    web::Json(state.hub.offices().into_iter().map(OfficeDto::from).collect())
}

pub async fn day(
    _: Analyst,
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
    Ok(HttpResponse::Ok().json(day))
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}
