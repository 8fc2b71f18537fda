//! Staff sign in with their username and password or PIN and get a session token.

use actix_web::{web, HttpRequest, HttpResponse};

use super::caller::bearer;
use super::dto::{LoginReply, LoginRequest};
use super::error::{ApiError, ErrorBody};
use super::AppState;

/// Sign in. The password is checked against its argon2 hash.
#[utoipa::path(post, path = "/api/v1/login", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = LoginReply), (status = 401, body = ErrorBody)))]
pub async fn login(state: web::Data<AppState>, body: web::Json<LoginRequest>) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.into_inner();
    let auth = state.auth.clone();
    // argon2 is slow on purpose: keep it off the async workers.
    let result =
        web::block(move || auth.login(&username, &password)).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    let (token, caller) = result.ok_or(ApiError::BadCredentials)?;
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
