//! Central's HTTP face. Every route is in the table below.
//!
//! - `GET /api/v1/sync`: the WebSocket an edge opens with its branch token (`sync.rs`);
//! - `GET /api/v1/offices[/{id}/days/{date}]`: the headquarters read API, analyst tokens only;
//! - `GET /healthz`, `GET /metrics`: public, for monitoring.

mod auth;
pub mod error;
mod health;
mod metrics;
mod offices;
mod sync;

use std::sync::Arc;

use actix_web::web;

use crate::auth::Tokens;
use crate::hub::Hub;
use crate::settings::Heartbeat;

pub struct AppState {
    pub hub: Arc<Hub>,
    pub tokens: Tokens,
    pub heartbeat: Heartbeat,
}

pub fn routes(config: &mut web::ServiceConfig) {
    use web::{get, resource as at};
    config
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .service(at("/healthz").route(get().to(health::healthz)))
        .service(at("/metrics").route(get().to(metrics::metrics)))
        .service(
            web::scope("/api/v1")
                .service(at("/sync").route(get().to(sync::sync)))
                .service(at("/offices").route(get().to(offices::list)))
                .service(at("/offices/{office}/days/{day}").route(get().to(offices::day))),
        )
        .default_service(web::to(error::not_found));
}

/// Milliseconds since the Unix epoch, from the system clock.
fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
