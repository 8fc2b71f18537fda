//! The OpenAPI document at `/api/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    admin, checkins, counter, devices, dto, error, events, kiosk, notices, public, session, signage, staff, surveys,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "fila edge API", description = "A branch office's queue: tickets, counters, calls, live events."),
    paths(
        kiosk::issue, kiosk::here,
        checkins::check_in_booking,
        checkins::today,
        counter::sign_in, counter::pause, counter::reopen, counter::close, counter::call_next,
        counter::call_specific, counter::recall, counter::start, counter::finish, counter::no_show,
        counter::transfer, counter::park, counter::resume,
        staff::queue, staff::deviations, staff::security_events, staff::cancel,
        public::office, public::track, public::track_cancel, public::track_here, public::room, public::recent_calls, public::healthz,
        session::login, session::logout,
        admin::add_kiosk, admin::read_config, admin::edit_config,
        events::events,
        devices::list, devices::call_audio,
        notices::add_contact, notices::list, signage::status, signage::urgent, signage::end_urgent,
        surveys::form, surveys::state_of, surveys::answer_by_token, surveys::answer_at_exit, surveys::comments,
    ),
    components(schemas(
        dto::TicketDto, dto::CallDto, dto::CallSummary, dto::CounterDto, dto::QueueDto, dto::RoomDto, dto::AlertDto,
        dto::OfficeDto, dto::ServiceDto, dto::CategoryDto, dto::CounterInfoDto, dto::IssueRequest, checkins::CheckInRequest, checkins::AppointmentDto,
        dto::LoginRequest, dto::LoginReply, dto::CallSpecificRequest, dto::ResumeRequest, dto::FinishRequest,
        dto::TransferRequest, dto::CancelRequest, dto::KioskTokenRequest, dto::KioskTokenReply, dto::HealthDto,
        dto::IssuedDto, dto::PublicTicketDto, dto::PublicCounterDto, crate::security::SecurityEvent,
        crate::devices::PrintOutcome, crate::devices::DeviceHealth,
        error::ErrorBody, crate::auth::Role,
        notices::ContactRequest, notices::NoticeDto,
        surveys::SurveyQuestions, surveys::SurveyFormDto, surveys::SurveyStateDto, surveys::SurveyAnswerRequest,
        surveys::CommentDto,
    )),
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
