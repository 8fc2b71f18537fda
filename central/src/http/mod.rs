//! Central's HTTP face. Every route is in the table below.
//!
//! - `GET /api/v1/sync`: the WebSocket an edge opens with its branch token (`sync.rs`);
//! - `GET /api/v1/offices[/{id}/days/{date}]`: the headquarters read API, analyst tokens only;
//! - `GET /api/v1/kpis[.csv]?office=&from=&to=&by=`: KPIs from the day documents (`kpis.rs`);
//! - `GET /api/v1/rollups[.csv]?tag=&from=&to=&period=&sort=&order=`: every office's KPIs per
//!   period, ranked; `GET /api/v1/offices/{id}/deviations[.csv]?from=&to=`: its out-of-order
//!   calls (`rollups.rs`);
//! - `GET /api/v1/offices/{id}/forecast[/accuracy][.csv]?week=`: the staffing forecast of a week and
//!   its error once over (`forecast.rs`);
//! - `GET /s/{office}/{day}/{ticket}/{mac}` and `/api/v1/public/surveys/...`: a citizen answers
//!   a survey by link; `GET /api/v1/surveys[.csv|/comments]`: HQ's survey figures (`surveys.rs`);
//! - `/api/v1/public/offices/{office}/{services,slots}`, `/api/v1/public/bookings...`: citizens
//!   book, confirm, see and cancel appointments (`bookings.rs`);
//! - `/api/v1/public/offices/{office}/joins`, `/api/v1/public/joins...`: citizens join a queue
//!   from home and follow their ticket (`joins.rs`);
//! - `GET /dashboard` and its charts `GET /api/v1/dashboard/charts/*.svg`, and an office's
//!   configuration editor `GET /dashboard/office/{id}/config` (`dashboard.rs`);
//! - `/api/v1/templates[/{tag}]`, `/api/v1/offices/{id}/overrides[/{field}]`: templates by tag and
//!   the fields an office keeps its own (`templates.rs`);
//! - `GET /api/v1/alerts`: headquarters' alerts; `POST /api/v1/branch/devices`: a box's devices'
//!   health, for them (`alerts.rs`);
//! - `GET /healthz`, `GET /metrics`: public, for monitoring;
//! - `GET /api/openapi.json`: the OpenAPI document of all of the above (`openapi.rs`).

mod access;
mod alerts;
mod auth;
mod bookings;
mod dashboard;
pub mod error;
mod forecast;
mod headers;
mod health;
pub mod hq;
mod joins;
mod kpis;
mod metrics;
mod network;
mod notices;
mod offices;
mod openapi;
mod query;
mod rollups;
mod signage;
mod surveys;
mod sync;
mod templates;
mod waitlist;

use std::sync::Arc;

use actix_web::web;

pub use headers::security_headers;
pub use openapi::ApiDoc;

use crate::auth::Tokens;
use crate::hub::Hub;
use crate::settings::Heartbeat;

const PLAY_REPORT_BYTES_MAX: usize = 256 << 10;
/// A network's signage catalog: hundreds of media, playlists and schedules.
const NETWORK_BYTES_MAX: usize = 1 << 20;

pub struct AppState {
    pub hub: Arc<Hub>,
    pub tokens: Tokens,
    pub heartbeat: Heartbeat,
    /// Survey answers taken by link.
    pub surveys: Arc<crate::surveys::Surveys>,
    pub outbox: Arc<crate::outbox::CentralOutbox>,
    /// Appointments booked by citizens.
    pub bookings: Arc<crate::bookings::Bookings>,
    /// Queues joined from home.
    pub remote_joins: Arc<crate::remote_joins::RemoteJoins>,
    /// Signage files, by hash.
    pub media: Arc<crate::media::MediaLibrary>,
    /// What offices' screens played.
    pub plays: Arc<crate::signage_plays::SignagePlays>,
    /// Every office's row of the network view, computed once per change.
    pub network: Arc<crate::network::Network>,
    /// Headquarters' alerts, and the devices boxes reported.
    pub alerts: Arc<crate::alert_monitor::AlertMonitor>,
    /// Staffing forecasts computed, per office and week.
    pub forecasts: Arc<crate::forecast::Forecasts>,
    /// Each office's KPIs per day, computed once per change (KPIs, roll-ups, deviations).
    pub kpi_cache: Arc<crate::kpi_cache::KpiCache>,
    /// The store beside the documents (the signage catalog).
    pub store: Arc<dyn fila_store::Store>,
}

pub fn routes(config: &mut web::ServiceConfig) {
    use web::{get, resource as at};
    config
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .app_data(
            web::JsonConfig::default().limit(fila_protocol::limits::BODY_BYTES_MAX).error_handler(error::json_error),
        )
        .service(at("/healthz").route(get().to(health::healthz)))
        .service(at("/metrics").route(get().to(metrics::metrics)))
        .service(at("/api/openapi.json").route(get().to(openapi::document)))
        .service(at("/dashboard").route(get().to(dashboard::page)))
        .service(at("/dashboard/dashboard.js").route(get().to(dashboard::script)))
        .service(at("/dashboard/dashboard.css").route(get().to(dashboard::style)))
        .service(at("/dashboard/office/{office}/config").route(get().to(dashboard::config_page)))
        .service(at("/dashboard/config.js").route(get().to(dashboard::config_script)))
        .service(at("/dashboard/config.css").route(get().to(dashboard::config_style)))
        .service(at("/s/{office}/{day}/{ticket}/{mac}").route(get().to(surveys::page)))
        .service(at("/s/survey.js").route(get().to(surveys::script)))
        .service(at("/s/survey.css").route(get().to(surveys::style)))
        .service(at("/citas").route(get().to(bookings::page)))
        .service(at("/citas/book.js").route(get().to(bookings::script)))
        .service(at("/citas/book.css").route(get().to(bookings::style)))
        .service(at("/fila").route(get().to(joins::page)))
        .service(at("/fila/join.js").route(get().to(joins::script)))
        .service(at("/f/{token}").route(get().to(joins::page)))
        .service(at("/b/{token}").route(get().to(bookings::manage_page)))
        .service(at("/w/{token}").route(get().to(bookings::manage_page)))
        .service(at("/o/{mac}").route(get().to(notices::opt_out_page)).route(web::post().to(notices::opt_out)))
        .service(
            web::scope("/api/v1")
                .service(at("/sync").route(get().to(sync::sync)))
                .service(at("/offices").route(get().to(offices::list)))
                .service(at("/offices/{office}/days/{day}").route(get().to(offices::day)))
                .service(at("/offices/{office}/queue").route(get().to(offices::queue)))
                .service(at("/offices/{office}/access").route(get().to(access::list)))
                .service(
                    at("/offices/{office}/access/users/{username}")
                        .route(web::put().to(access::put_user))
                        .route(web::delete().to(access::delete_user)),
                )
                .service(
                    at("/offices/{office}/access/kiosks/{id}")
                        .route(web::post().to(access::add_kiosk))
                        .route(web::delete().to(access::delete_kiosk)),
                )
                .service(at("/branch/access").route(get().to(access::branch)))
                .service(at("/offices/{office}/deviations").route(get().to(rollups::deviations_json)))
                .service(at("/offices/{office}/deviations.csv").route(get().to(rollups::deviations_csv)))
                .service(at("/offices/{office}/forecast").route(get().to(forecast::json)))
                .service(at("/offices/{office}/forecast.csv").route(get().to(forecast::csv)))
                .service(at("/offices/{office}/forecast/accuracy").route(get().to(forecast::accuracy_json)))
                .service(at("/offices/{office}/forecast/accuracy.csv").route(get().to(forecast::accuracy_csv)))
                .service(
                    at("/offices/{office}/config")
                        .route(get().to(offices::get_config))
                        .route(web::put().to(offices::put_config)),
                )
                .service(
                    at("/public/surveys/{office}/{day}/{ticket}/{mac}")
                        .route(get().to(surveys::link_state))
                        .route(web::post().to(surveys::answer)),
                )
                .service(at("/booking-key").route(get().to(bookings::public_key)))
                .service(at("/branch/bookings/{day}").route(get().to(bookings::counter_details)))
                .service(at("/bookings/report").route(get().to(bookings::report)))
                .service(at("/bookings/report.csv").route(get().to(bookings::report_csv)))
                .service(at("/public/offices").route(get().to(bookings::offices)))
                .service(at("/public/offices/{office}/services").route(get().to(bookings::services)))
                .service(at("/public/offices/{office}/slots").route(get().to(bookings::slots)))
                .service(at("/public/bookings").route(web::post().to(bookings::request)))
                .service(at("/public/bookings/holds/{hold}/confirm").route(web::post().to(bookings::confirm)))
                .service(at("/public/bookings/{token}").route(get().to(bookings::view)))
                .service(at("/public/bookings/{token}/cancel").route(web::post().to(bookings::cancel)))
                .service(at("/public/bookings/{token}/move").route(web::post().to(bookings::move_to)))
                .service(at("/public/offices/{office}/joins").route(get().to(joins::offer)))
                .service(at("/public/joins").route(get().to(joins::offices)).route(web::post().to(joins::join)))
                .service(at("/public/joins/{token}").route(get().to(joins::view)))
                .service(at("/public/joins/{token}/qr.svg").route(get().to(joins::qr)))
                .service(at("/public/waitlist").route(web::post().to(waitlist::join)))
                .service(at("/public/waitlist/{token}").route(get().to(waitlist::view)))
                .service(at("/public/waitlist/{token}/leave").route(web::post().to(waitlist::leave)))
                .service(at("/public/bookings/{token}/qr.svg").route(get().to(bookings::qr)))
                .service(at("/public/bookings/{token}/booking.ics").route(get().to(bookings::calendar)))
                .service(at("/notices").route(get().to(notices::list)))
                .service(at("/alerts").route(get().to(alerts::list)))
                .service(at("/branch/devices").route(web::post().to(alerts::devices_reported)))
                .service(at("/templates").route(get().to(templates::list)))
                .service(at("/templates/{tag}").route(web::put().to(templates::put)))
                .service(at("/offices/{office}/overrides").route(get().to(templates::overrides)))
                .service(
                    at("/offices/{office}/overrides/{field}").route(web::delete().to(templates::return_to_template)),
                )
                .service(at("/network").route(get().to(network::network)))
                .service(at("/network/events").route(get().to(network::events)))
                .service(at("/signage/media").route(get().to(signage::list)).route(web::post().to(signage::upload)))
                .service(at("/signage/media/{sha256}").route(get().to(signage::fetch)))
                .service(at("/signage/plays").route(get().to(signage::plays_report)))
                .service(
                    at("/signage/network")
                        .app_data(web::JsonConfig::default().limit(NETWORK_BYTES_MAX).error_handler(error::json_error))
                        .route(get().to(signage::network))
                        .route(web::put().to(signage::publish)),
                )
                .service(at("/signage/plays.csv").route(get().to(signage::plays_csv)))
                .service(
                    // A box's report of up to 500 plays is larger than other bodies.
                    at("/branch/signage/plays")
                        .app_data(
                            web::JsonConfig::default().limit(PLAY_REPORT_BYTES_MAX).error_handler(error::json_error),
                        )
                        .route(web::post().to(signage::plays_received)),
                )
                .service(at("/surveys").route(get().to(surveys::figures)))
                .service(at("/surveys.csv").route(get().to(surveys::figures_csv)))
                .service(at("/surveys/comments").route(get().to(surveys::comments)))
                .service(at("/dashboard/charts/satisfaction.svg").route(get().to(surveys::trend_chart)))
                .service(at("/kpis").route(get().to(kpis::json)))
                .service(at("/kpis.csv").route(get().to(kpis::csv)))
                .service(at("/rollups").route(get().to(rollups::json)))
                .service(at("/rollups.csv").route(get().to(rollups::csv)))
                .service(at("/dashboard/charts/waits.svg").route(get().to(dashboard::waits)))
                .service(at("/dashboard/charts/served.svg").route(get().to(dashboard::served))),
        )
        .default_service(web::to(error::not_found));
}

/// Milliseconds since the Unix epoch, from the system clock.
fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
