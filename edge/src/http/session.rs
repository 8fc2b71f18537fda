//! Staff sign in with their username and password or PIN and get a session token.

use std::net::IpAddr;

use actix_web::{web, HttpRequest, HttpResponse};

use super::caller::bearer;
use super::dto::{LoginReply, LoginRequest};
use super::error::{ApiError, ErrorBody};
use super::{now_ms, AppState};
use crate::security::NotNow;

/// Sign in. The password is checked against its argon2 hash. From the fifth wrong password in a
/// row for a username (or many from one address) sign-ins are locked for a while, growing with
/// each further failure: 429 with `Retry-After`, even for the right password.
#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginReply), (status = 401, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "locked out, or every password check busy; see Retry-After")))]
pub async fn login(
    request: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.into_inner();
    // The peer's own address: a forwarded-for header is the client's to invent.
    let address = request.peer_addr().map_or(IpAddr::from([0, 0, 0, 0]), |peer| peer.ip());
    let attempt = state.security.sign_in(&username, address).await.map_err(|not_now| match not_now {
        NotNow::Locked(retry_after) => ApiError::TooMany {
            code: "too_many_attempts",
            message: "too many wrong passwords: signing in is locked for a while".into(),
            retry_after,
        },
        NotNow::Busy => ApiError::TooMany {
            code: "busy_signing_in",
            message: "many sign-ins at once; try again in a moment".into(),
            retry_after: std::time::Duration::from_secs(1),
        },
    })?;
    let auth = state.auth.clone();
    // argon2 is slow on purpose: keep it off the async workers (the attempt holds one of the
    // few checks allowed at once until it is judged).
    let (result, attempt) = web::block(move || (auth.login(&username, &password), attempt))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some((token, caller)) = result else {
        state.security.refused(attempt, now_ms());
        return Err(ApiError::BadCredentials);
    };
    state.security.signed_in(attempt);
    tracing::info!(user = %caller.id, role = ?caller.role, "signed in");
    Ok(HttpResponse::Ok().json(LoginReply { token, role: caller.role, user: caller.id, name: caller.name }))
}

/// Sign out: the session token stops working.
#[utoipa::path(post, path = "/api/v1/logout", tag = "session", responses((status = 204)), security(("bearer" = [])))]
pub async fn logout(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    if let Some(token) = bearer(&request) {
        state.auth.logout(token);
    }
    HttpResponse::NoContent().finish()
}
