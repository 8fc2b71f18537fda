//! The one place errors become HTTP answers: `{"error": "<code>", "message": "<text>"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use fila_protocol::Rejection;
use serde::Serialize;

use crate::office_loop::LoopError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code, e.g. `ticket_not_waiting`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
    /// When the office opens again (its local time, `2026-12-07 08:00`): with
    /// `office_closed` and `service_closing`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_opening: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("sign in first: this needs a valid bearer token")]
    Unauthorized,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("your role may not {0}")]
    Forbidden(&'static str),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("this box cannot speak (espeak-ng is not installed); use the browser's voice")]
    NoSpeech,
    #[error("the spoken call could not be made: {0}")]
    SpeechFailed(String),
    /// An edit made from a version of a document this box does not have.
    #[error("{0}")]
    StaleVersion(String),
    #[error("the office is busy; try again in a moment")]
    Busy,
    /// The office cannot go on (its store failed): the daemon is stopping to restart clean.
    #[error("the office is out of service: {0}")]
    Unavailable(String),
    /// Too many requests from this caller: 429 with `Retry-After`.
    #[error("{message}")]
    TooMany { code: &'static str, message: String, retry_after: std::time::Duration },
    /// A capped resource is full: 503.
    #[error("{message}")]
    Full { code: &'static str, message: String },
    /// The request is fine but what it names refuses it now (a booking checked in already): 409.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("internal error")]
    Internal(String),
}

impl ErrorBody {
    pub fn new(error: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        ErrorBody { error: error.into(), message: message.into(), next_opening: None }
    }
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict { code, message: message.into() }
    }

    fn code(&self) -> &str {
        match self {
            ApiError::Rejected(rejection) => rejection.code(),
            ApiError::Unauthorized => "unauthorized",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::BadRequest { code, .. } => code,
            ApiError::NotFound(_) => "not_found",
            ApiError::NoSpeech => "no_speech_engine",
            ApiError::SpeechFailed(_) => "speech_failed",
            ApiError::StaleVersion(_) => "unknown_version",
            ApiError::Busy => "busy",
            ApiError::Unavailable(_) => "out_of_service",
            ApiError::TooMany { code, .. } | ApiError::Full { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<LoopError> for ApiError {
    fn from(error: LoopError) -> Self {
        match error {
            LoopError::Rejected(rejection) => ApiError::Rejected(rejection),
            LoopError::Busy | LoopError::Stopped => ApiError::Busy,
            LoopError::Storage(reason) => ApiError::Unavailable(reason),
            LoopError::Sync(reason) => ApiError::Internal(reason),
            LoopError::Config(crate::sync_window::ConfigError::NotEditable(reason)) => {
                ApiError::bad_request("config_not_editable", reason)
            }
            LoopError::Config(error @ crate::sync_window::ConfigError::UnknownVersion(_)) => {
                ApiError::StaleVersion(error.to_string())
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Rejected(rejection) => match rejection {
                r if r.is_not_found() => StatusCode::NOT_FOUND,
                Rejection::Internal | Rejection::Recovering | Rejection::ClockBehind { .. } => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                Rejection::NotYourCounter(_) | Rejection::AppointmentNeedsBooking => StatusCode::FORBIDDEN,
                Rejection::UnknownService(_)
                | Rejection::UnknownCategory(_)
                | Rejection::ReasonRequired
                | Rejection::TextTooLong(_)
                | Rejection::BadToken
                | Rejection::BadSurvey(_)
                | Rejection::SameService(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::CONFLICT,
            },
            ApiError::Unauthorized | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) | ApiError::NoSpeech => StatusCode::NOT_FOUND,
            ApiError::StaleVersion(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Busy | ApiError::SpeechFailed(_) | ApiError::Unavailable(_) | ApiError::Full { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(reason) = self {
            tracing::error!(%reason, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::TooMany { retry_after, .. } = self {
            response.insert_header(("Retry-After", retry_after_seconds(*retry_after).to_string()));
        }
        let next_opening = match self {
            ApiError::Rejected(rejection) => rejection.next_opening().map(str::to_string),
            _ => None,
        };
        response.json(ErrorBody { error: self.code().to_string(), message: self.to_string(), next_opening })
    }
}

/// Whole seconds, rounded up and at least 1: a client told 0 would retry at once.
pub fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// Malformed JSON, wrong content type, oversized bodies: a 4xx naming the problem.
pub fn json_error(error: actix_web::error::JsonPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &error {
        E::OverflowKnownLength { length, limit } => {
            ApiError::bad_request("body_too_large", format!("the body is {length} bytes; at most {limit} are accepted"))
        }
        E::Overflow { limit } => {
            ApiError::bad_request("body_too_large", format!("the body is larger than {limit} bytes"))
        }
        E::ContentType => ApiError::bad_request("bad_content_type", "send the body as application/json"),
        E::Deserialize(e) => ApiError::bad_request("bad_json", format!("the body is not valid: {e}")),
        other => ApiError::bad_request("bad_body", other.to_string()),
    };
    let status = match &error {
        E::OverflowKnownLength { .. } | E::Overflow { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        E::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = ErrorBody::new(api.code().to_string(), api.to_string());
    actix_web::error::InternalError::from_response(error, HttpResponse::build(status).json(body)).into()
}

pub fn path_error(error: actix_web::error::PathError, _: &actix_web::HttpRequest) -> actix_web::Error {
    let body = ErrorBody::new("bad_path", error.to_string());
    actix_web::error::InternalError::from_response(error, HttpResponse::BadRequest().json(body)).into()
}

pub fn query_error(error: actix_web::error::QueryPayloadError, _: &actix_web::HttpRequest) -> actix_web::Error {
    let body = ErrorBody::new("bad_query", error.to_string());
    actix_web::error::InternalError::from_response(error, HttpResponse::BadRequest().json(body)).into()
}
