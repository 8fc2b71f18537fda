//! `GET /healthz`: is central up, and how many offices are connected.

use actix_web::web;
use serde::Serialize;

use super::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HealthDto {
    /// Always `ok`: an answer at all is the news.
    pub status: &'static str,
    /// Offices in the configuration.
    pub offices: usize,
    /// Offices with an edge connected now.
    pub online: usize,
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = HealthDto, description = "central is up")))]
pub async fn healthz(state: web::Data<AppState>) -> web::Json<HealthDto> {
    let census = state.hub.census();
    web::Json(HealthDto { status: "ok", offices: census.configured, online: census.online })
}
