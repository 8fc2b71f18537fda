//! The HTTP face of the edge: the JSON API under `/api/v1`, the event stream, the pages.
//! Every route is in the table below. Handlers are thin: role, body, one command or query.

mod admin;
pub mod caller;
mod checkins;
mod counter;
mod devices;
pub mod dto;
pub mod error;
mod events;
mod headers;
mod kiosk;
mod metrics;
mod notices;
mod openapi;
mod pages;
mod public;
mod qr;
pub(crate) mod render;
mod session;
mod signage;
mod staff;
mod surveys;

use std::sync::Arc;

use actix_web::web;

pub use admin::KIOSK_META_PREFIX;
pub use headers::security_headers;
pub use openapi::ApiDoc;

use crate::auth::Auth;
use crate::office_loop::OfficeHandle;
use fila_store::Store;

pub struct AppState {
    pub office: OfficeHandle,
    pub auth: Arc<Auth>,
    pub store: Arc<dyn Store>,
    /// Where citizens reach the pages, if the installer set it.
    pub public_url: Option<String>,
    /// The link to central, when one is configured.
    pub central: Option<Arc<crate::sync_client::LinkStatus>>,
    pub devices: Arc<crate::devices::Devices>,
    /// Sign-in lockouts, kiosk rates, the event stream's cap, and the events they raise.
    pub security: Arc<crate::security::Security>,
    /// Contacts and notices to citizens.
    pub notices: Arc<crate::notices::Notices>,
    /// Survey comments, kept on the box for supervisors.
    pub comments: fila_notify::survey_comments::SurveyComments,
    /// Central's public key for booking passes, when the office has one.
    pub booking_key: Option<fila_protocol::booking::code::VerifyingKey>,
    /// What counters see of the day's bookings (last four characters, note), from central.
    pub booking_details: Arc<crate::booking_details::BookingDetails>,
    /// Signage media on the box, by hash.
    pub media: Arc<crate::signage::MediaCache>,
    /// What screens played, until central has it.
    pub plays: crate::signage::plays::PlayLog,
}

impl AppState {
    /// Where citizens' phones reach this box: the configured public address, else the address
    /// this request came to (what the kiosk's browser sees too).
    pub fn base_url(&self, request: &actix_web::HttpRequest) -> String {
        self.public_url.clone().unwrap_or_else(|| {
            let info = request.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        })
    }
}

pub fn routes(config: &mut web::ServiceConfig) {
    use web::{get, post};
    config
        .app_data(
            web::JsonConfig::default().limit(fila_protocol::limits::BODY_BYTES_MAX).error_handler(error::json_error),
        )
        .app_data(web::PathConfig::default().error_handler(error::path_error))
        .app_data(web::QueryConfig::default().error_handler(error::query_error))
        .service(at("/healthz").route(get().to(public::healthz)))
        .service(at("/metrics").route(get().to(metrics::metrics)))
        .service(at("/api/openapi.json").route(get().to(openapi::document)))
        .service(
            web::scope("/api/v1")
                .service(at("/office").route(get().to(public::office)))
                .service(at("/events").route(get().to(events::events)))
                .service(at("/calls/recent").route(get().to(public::recent_calls)))
                .service(at("/track/{token}").route(get().to(public::track)))
                .service(at("/track/{token}/cancel").route(post().to(public::track_cancel)))
                .service(at("/track/{token}/here").route(post().to(public::track_here)))
                .service(at("/room").route(get().to(public::room)))
                .service(at("/track/{token}/contact").route(post().to(notices::add_contact)))
                .service(at("/notices").route(get().to(notices::list)))
                .service(at("/signage/status").route(get().to(signage::status)))
                .service(at("/signage/now").route(get().to(signage::now)))
                .service(at("/signage/plays").route(post().to(signage::played)))
                .service(at("/signage/urgent").route(post().to(signage::urgent)))
                .service(at("/signage/urgent/{id}").route(web::delete().to(signage::end_urgent)))
                .service(
                    at("/track/{token}/survey")
                        .route(get().to(surveys::state_of))
                        .route(post().to(surveys::answer_by_token)),
                )
                .service(at("/survey-form").route(get().to(surveys::form)))
                .service(at("/surveys").route(post().to(surveys::answer_at_exit)))
                .service(at("/surveys/comments").route(get().to(surveys::comments)))
                .service(at("/login").route(post().to(session::login)))
                .service(at("/logout").route(post().to(session::logout)))
                .service(at("/tickets").route(post().to(kiosk::issue)))
                .service(at("/tickets/here").route(post().to(kiosk::here)))
                .service(at("/checkins").route(post().to(checkins::check_in_booking)))
                .service(at("/appointments").route(get().to(checkins::today)))
                .service(at("/tickets/{number}/cancel").route(post().to(staff::cancel)))
                .service(at("/queue").route(get().to(staff::queue)))
                .service(at("/deviations").route(get().to(staff::deviations)))
                .service(at("/security/events").route(get().to(staff::security_events)))
                .service(at("/counters/{id}/sign-in").route(post().to(counter::sign_in)))
                .service(at("/counters/{id}/pause").route(post().to(counter::pause)))
                .service(at("/counters/{id}/reopen").route(post().to(counter::reopen)))
                .service(at("/counters/{id}/close").route(post().to(counter::close)))
                .service(at("/counters/{id}/call-next").route(post().to(counter::call_next)))
                .service(at("/counters/{id}/call").route(post().to(counter::call_specific)))
                .service(at("/counters/{id}/recall").route(post().to(counter::recall)))
                .service(at("/counters/{id}/start").route(post().to(counter::start)))
                .service(at("/counters/{id}/finish").route(post().to(counter::finish)))
                .service(at("/counters/{id}/no-show").route(post().to(counter::no_show)))
                .service(at("/counters/{id}/transfer").route(post().to(counter::transfer)))
                .service(at("/counters/{id}/park").route(post().to(counter::park)))
                .service(at("/counters/{id}/resume").route(post().to(counter::resume)))
                .service(at("/devices").route(get().to(devices::list)))
                .service(at("/audio/call").route(get().to(devices::call_audio)))
                .service(at("/admin/kiosks").route(post().to(admin::add_kiosk)))
                .service(
                    at("/admin/config").route(get().to(admin::read_config)).route(web::put().to(admin::edit_config)),
                )
                .default_service(web::to(not_found)),
        )
        .service(at("/").route(get().to(pages::index)))
        .service(at("/kiosk").route(get().to(pages::kiosk)))
        .service(at("/counter").route(get().to(pages::counter)))
        .service(at("/display").route(get().to(pages::display)))
        .service(at("/exit").route(get().to(pages::exit)))
        .service(at("/t/{token}").route(get().to(pages::track)))
        .service(at("/media/{sha256}").route(get().to(signage::file)))
        .service(at("/t/{token}/qr.svg").route(get().to(qr::tracking_qr)))
        .service(
            at("/o/{day}/{ticket}/{mac}").route(get().to(notices::opt_out_page)).route(post().to(notices::opt_out)),
        )
        .service(at("/assets/{name}").route(get().to(pages::asset)))
        .default_service(web::to(not_found));
}

/// Milliseconds since the Unix epoch, from the system clock (for security events' times).
fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A resource whose other methods answer 405 with a JSON body.
fn at(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(request: actix_web::HttpRequest) -> actix_web::HttpResponse {
    actix_web::HttpResponse::MethodNotAllowed().json(error::ErrorBody::new(
        "method_not_allowed",
        format!("{} is not allowed on {}", request.method(), request.path()),
    ))
}

async fn not_found(request: actix_web::HttpRequest) -> actix_web::HttpResponse {
    actix_web::HttpResponse::NotFound()
        .json(error::ErrorBody::new("not_found", format!("no route {} {}", request.method(), request.path())))
}
