//! The one place errors become HTTP answers: `{"error": "<code>", "message": "<text>"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use crate::hub::ReadError;
use fila_protocol::doc::DocError;

/// What every error answer holds, as JSON (and in the OpenAPI document).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable code, e.g. `unauthorized`.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
    /// `bad_config`: every problem with where it is (`services[1].prefix`), so a form can show
    /// each beside its field; absent otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<ProblemDto>,
}

/// One problem of a configuration and the path of the field it is about.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProblemDto {
    pub at: String,
    pub problem: String,
}

impl ErrorBody {
    fn new(error: &str, message: String) -> Self {
        ErrorBody { error: error.to_string(), message, problems: Vec::new() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("this needs a valid bearer token")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{0}")]
    NotFound(String),
    /// The request is fine but the resource's state refuses it (a survey answered already).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// An edit made from a version of the document this server does not have.
    #[error("{0}")]
    StaleVersion(String),
    /// A refusal with its own status (a full slot 409, a limit 429, an expired hold 410).
    #[error("{message}")]
    Refused { status: StatusCode, code: &'static str, message: String },
    /// A configuration with problems: all of them, each with its field's path.
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.at, p.problem)).collect::<Vec<_>>().join("; "))]
    BadConfig(Vec<ProblemDto>),
    #[error("internal error")]
    Internal(String),
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
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::BadRequest { code, .. } | ApiError::Conflict { code, .. } | ApiError::Refused { code, .. } => {
                code
            }
            ApiError::NotFound(_) => "not_found",
            ApiError::StaleVersion(_) => "unknown_version",
            ApiError::BadConfig(_) => "bad_config",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::UnknownOffice(_) | ReadError::NoDocument { .. } => ApiError::NotFound(error.to_string()),
            ReadError::Unreadable(DocError::UnknownVersion(_)) => ApiError::StaleVersion(format!(
                "{error}; read the configuration again (its ETag) and make the edit on that"
            )),
            ReadError::Unreadable(_) | ReadError::Store(_) => ApiError::Internal(error.to_string()),
        }
    }
}

impl From<crate::forecast::ForecastError> for ApiError {
    fn from(error: crate::forecast::ForecastError) -> Self {
        use crate::forecast::ForecastError;
        match error {
            ForecastError::Read(error) => error.into(),
            ForecastError::NoConfiguration(_) => ApiError::conflict("no_configuration", error.to_string()),
            ForecastError::WeekNotOver { .. } => ApiError::conflict("week_not_over", error.to_string()),
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(error: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest { .. } | ApiError::BadConfig(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::StaleVersion(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Refused { status, .. } => *status,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(reason) = self {
            tracing::error!(%reason, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if let ApiError::Unauthorized = self {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        let mut body = ErrorBody::new(self.code(), self.to_string());
        if let ApiError::BadConfig(problems) = self {
            body.problems = problems.clone();
        }
        response.json(body)
    }
}

pub fn path_error(error: actix_web::error::PathError, _: &HttpRequest) -> actix_web::Error {
    let body = ErrorBody::new("bad_path", error.to_string());
    actix_web::error::InternalError::from_response(error, HttpResponse::BadRequest().json(body)).into()
}

pub fn query_error(error: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let body = ErrorBody::new("bad_query", error.to_string());
    actix_web::error::InternalError::from_response(error, HttpResponse::BadRequest().json(body)).into()
}

pub async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("there is nothing at {}", request.path())))
}

pub fn json_error(error: actix_web::error::JsonPayloadError, _: &HttpRequest) -> actix_web::Error {
    let status = match &error {
        actix_web::error::JsonPayloadError::OverflowKnownLength { .. }
        | actix_web::error::JsonPayloadError::Overflow { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = ErrorBody::new("bad_body", error.to_string());
    actix_web::error::InternalError::from_response(error, HttpResponse::build(status).json(body)).into()
}
