//! The `Caller` extractor: a bearer token turned into a role, or a 401.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};

use super::error::ApiError;
use super::AppState;
pub use crate::auth::{Caller, Role};

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(request))
    }
}

pub fn bearer(request: &HttpRequest) -> Option<&str> {
    let header = request.headers().get(actix_web::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer "))?.trim();
    (!token.is_empty() && token.len() <= 256).then_some(token)
}

fn authenticate(request: &HttpRequest) -> Result<Caller, ApiError> {
    let state = request
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))?;
    let token = bearer(request).ok_or(ApiError::Unauthorized)?;
    state.auth.authenticate(token).ok_or(ApiError::Unauthorized)
}

impl Caller {
    /// Who this caller is in the day's records: a kiosk by its id, anyone else by username.
    pub fn who(&self) -> fila_protocol::Who {
        match self.role {
            Role::Kiosk => fila_protocol::Who::Kiosk(self.id.clone()),
            _ => fila_protocol::Who::Staff(fila_protocol::AgentId::new(self.id.clone())),
        }
    }

    /// This caller acting at a counter (supervisors and admins may act at any).
    pub fn actor(&self) -> fila_protocol::office::Actor {
        fila_protocol::office::Actor {
            agent: fila_protocol::AgentId::new(self.id.clone()),
            supervisor: self.role.oversees_counters(),
        }
    }

    /// Refuse unless the caller has one of `roles`; `action` says what was refused.
    pub fn require(&self, roles: &[Role], action: &'static str) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(action))
        }
    }
}

pub const STAFF: &[Role] = &[Role::Agent, Role::Supervisor, Role::Admin];
pub const SUPERVISORS: &[Role] = &[Role::Supervisor, Role::Admin];
pub const ISSUERS: &[Role] = &[Role::Kiosk, Role::Supervisor, Role::Admin];
pub const ADMINS: &[Role] = &[Role::Admin];
