//! The OpenAPI document at `/api/openapi.json`. `tests/openapi.rs` checks that every route of
//! the table in `mod.rs` is in it, so a new route needs its `#[utoipa::path]` and a line here.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    access, alerts, bookings, dashboard, error, forecast, health, joins, kpis, metrics, network, notices, offices,
    rollups, signage, surveys, sync, templates, waitlist,
};

/// The period of a headquarters report, as its query string gives it. The handlers read the
/// string themselves (every problem named, a `by` refused where it has no meaning); these only
/// describe it.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct Period {
    /// the office's id
    office: String,
    /// the first day, like 2026-11-29
    from: String,
    /// the last day, `from` when absent; at most 92 days in all
    to: Option<String>,
}

/// A [`Period`] and how its figures are grouped.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GroupedPeriod {
    /// the office's id
    office: String,
    /// the first day, like 2026-11-29
    from: String,
    /// the last day, `from` when absent; at most 92 days in all
    to: Option<String>,
    /// office (the default), service, counter, agent or hour
    by: Option<String>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "fila central API", description = "Headquarters' server: every office's edge syncs with it \
        (`branch`, branch tokens), analysts and administrators read offices, KPIs, surveys and bookings and set \
        configurations (`headquarters`, analyst tokens), citizens book appointments, join waiting lists and \
        answer surveys (`public`; a private link's token is the credential for one booking), and monitoring \
        reads health and metrics (`operations`). Errors are `{\"error\": code, \"message\": text}` (with \
        `problems`, each `{at, problem}`, for `bad_config`); any endpoint may answer 500 `internal`."),
    paths(
        health::healthz, metrics::metrics,
        sync::sync, bookings::counter_details,
        offices::list, offices::day, offices::queue, offices::get_config, offices::put_config,
        access::list, access::put_user, access::delete_user, access::add_kiosk, access::delete_kiosk, access::branch,
        templates::list, templates::put, templates::overrides, templates::return_to_template,
        kpis::json, kpis::csv, dashboard::waits, dashboard::served,
        rollups::json, rollups::csv, rollups::deviations_json, rollups::deviations_csv,
        forecast::json, forecast::csv, forecast::accuracy_json, forecast::accuracy_csv,
        surveys::figures, surveys::figures_csv, surveys::comments, surveys::trend_chart,
        notices::list, network::network, network::events, alerts::list, alerts::devices_reported, signage::upload, signage::list, signage::fetch, signage::plays_received, signage::plays_report, signage::plays_csv, signage::publish, signage::network,
        bookings::report, bookings::report_csv,
        bookings::public_key, bookings::offices, bookings::services, bookings::slots,
        bookings::request, bookings::confirm, bookings::view, bookings::cancel, bookings::move_to,
        bookings::qr, bookings::calendar,
        waitlist::join, waitlist::view, waitlist::leave,
        joins::offices, joins::offer, joins::join, joins::view, joins::qr,
        surveys::link_state, surveys::answer,
    ),
    components(schemas(error::ErrorBody, error::ProblemDto)),
    tags(
        (name = "public", description = "For citizens: booking, waiting lists, surveys by link. No token."),
        (name = "branch", description = "For offices' edges, with their branch token."),
        (name = "headquarters", description = "For analysts, and administrators for configuration, with their token."),
        (name = "operations", description = "For monitoring. No token."),
    ),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().json(ApiDoc::openapi())
}
