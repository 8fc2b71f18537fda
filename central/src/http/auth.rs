//! Extractors for the two kinds of callers: `Branch` (an edge, by branch token) and `Analyst`
//! (headquarters, by analyst token). Either answers 401 before the handler runs.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use super::error::ApiError;
use super::AppState;

/// An edge, authenticated as its office.
pub struct Branch {
    pub office: String,
}

/// A headquarters analyst, or an administrator reading as one (administrators see a little more:
/// see `hq.rs`).
pub struct Analyst {
    pub audience: super::hq::Audience,
}

/// A headquarters administrator (an analyst token with `can_configure`), by name.
pub struct HqAdmin {
    pub name: String,
}

fn bearer(request: &HttpRequest) -> Option<&str> {
    let value = request.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::trim).filter(|token| !token.is_empty())
}

fn state(request: &HttpRequest) -> Result<&AppState, ApiError> {
    request
        .app_data::<web::Data<AppState>>()
        .map(|data| data.get_ref())
        .ok_or_else(|| ApiError::Internal("application state is missing".into()))
}

impl FromRequest for Branch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(request).and_then(|state| {
            let office = bearer(request).and_then(|token| state.tokens.office(token)).ok_or(ApiError::Unauthorized)?;
            Ok(Branch { office: office.to_string() })
        }))
    }
}

impl FromRequest for Analyst {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(request).and_then(|state| {
            let token = bearer(request).ok_or(ApiError::Unauthorized)?;
            state.tokens.analyst(token).ok_or(ApiError::Unauthorized)?;
            let audience = if state.tokens.can_configure(token) {
                super::hq::Audience::Admin
            } else {
                super::hq::Audience::Analyst
            };
            Ok(Analyst { audience })
        }))
    }
}

/// An office's edge or a headquarters analyst: who may fetch signage media.
pub struct MediaReader;

impl FromRequest for MediaReader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(request).and_then(|state| {
            let token = bearer(request).ok_or(ApiError::Unauthorized)?;
            match state.tokens.office(token).is_some() || state.tokens.analyst(token).is_some() {
                true => Ok(MediaReader),
                false => Err(ApiError::Unauthorized),
            }
        }))
    }
}

impl FromRequest for HqAdmin {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(state(request).and_then(|state| {
            let token = bearer(request).ok_or(ApiError::Unauthorized)?;
            let name = state.tokens.analyst(token).ok_or(ApiError::Unauthorized)?;
            if !state.tokens.can_configure(token) {
                return Err(ApiError::Forbidden("setting configuration needs a headquarters administrator token"));
            }
            Ok(HqAdmin { name: name.to_string() })
        }))
    }
}
