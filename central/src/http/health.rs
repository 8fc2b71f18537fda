//! `GET /healthz`: is central up, and how many offices are connected.

use actix_web::web;
use serde::Serialize;

use super::AppState;

#[derive(Debug, Serialize)]
pub struct HealthDto {
    pub status: &'static str,
    pub offices: usize,
    pub online: usize,
}

pub async fn healthz(state: web::Data<AppState>) -> web::Json<HealthDto> {
    let census = state.hub.census();
    web::Json(HealthDto { status: "ok", offices: census.configured, online: census.online })
}
