//! Staff and kiosks of an office, managed by headquarters' administrators; the office's box
//! reads its own list (`access.rs`).
//!
//! - `GET /api/v1/offices/{office}/access`: users (without their hashes) and kiosk ids.
//! - `PUT|DELETE /api/v1/offices/{office}/access/users/{username}`: `{name, role, password}`.
//! - `POST|DELETE /api/v1/offices/{office}/access/kiosks/{id}`: a new token, shown once.
//! - `GET /api/v1/branch/access` (the box, by its branch token): its users and kiosks, hashed.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{Branch, HqAdmin};
use super::error::{ApiError, ErrorBody};
use super::AppState;
use fila_store::Store;

use crate::access::{self, AccessError, UserForm};

#[derive(Serialize, ToSchema)]
pub struct AccessDto {
    users: Vec<UserDto>,
    kiosks: Vec<String>,
}

#[derive(Serialize, ToSchema)]
struct UserDto {
    username: String,
    name: String,
    role: String,
}

impl From<AccessError> for ApiError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::Invalid(field, why) => ApiError::bad_request("bad_access", format!("{field}: {why}")),
            AccessError::NotFound(what) => ApiError::NotFound(format!("no such {what} at this office")),
            AccessError::Store(error) => ApiError::Internal(error.to_string()),
        }
    }
}

fn known(state: &AppState, office: &str) -> Result<(), ApiError> {
    match state.hub.offices().iter().any(|o| o.id == office) {
        true => Ok(()),
        false => Err(ApiError::NotFound(format!("there is no office {office:?}"))),
    }
}

/// `step` on the store for a configured office and one of its users or kiosks, off the async
/// workers (argon2 and the store block).
async fn at_office<T: Send + 'static>(
    state: &AppState,
    office: &str,
    who: &str,
    step: impl FnOnce(&dyn Store, &str, &str) -> Result<T, AccessError> + Send + 'static,
) -> Result<T, ApiError> {
    known(state, office)?;
    let (store, office, who) = (state.store.clone(), office.to_string(), who.to_string());
    Ok(web::block(move || step(store.as_ref(), &office, &who)).await??)
}

#[utoipa::path(get, path = "/api/v1/offices/{office}/access", tag = "headquarters",
    responses((status = 200, body = AccessDto), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(_: HqAdmin, state: web::Data<AppState>, office: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let office = office.into_inner();
    known(&state, &office)?;
    let store = state.store.clone();
    let access = web::block(move || access::read(store.as_ref(), &office)).await?.map_err(AccessError::from)?;
    Ok(HttpResponse::Ok().json(AccessDto {
        users: access
            .users
            .into_iter()
            .map(|user| UserDto { username: user.username, name: user.name, role: user.role })
            .collect(),
        kiosks: access.kiosks.into_iter().map(|kiosk| kiosk.id).collect(),
    }))
}

#[utoipa::path(put, path = "/api/v1/offices/{office}/access/users/{username}", tag = "headquarters",
    request_body(content = Object, description = "`name`, `role` (agent, supervisor, admin), `password`"),
    responses((status = 204, description = "set"), (status = 400, body = ErrorBody, description = "`bad_access`: names the field"),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_user(
    admin: HqAdmin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Json<UserForm>,
) -> Result<HttpResponse, ApiError> {
    let (office, username) = path.into_inner();
    at_office(&state, &office, &username, move |store, office, who| access::put_user(store, office, who, &form))
        .await?;
    tracing::info!(office, username, by = %admin.name, "staff user set by headquarters");
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(delete, path = "/api/v1/offices/{office}/access/users/{username}", tag = "headquarters",
    responses((status = 204, description = "removed"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_user(
    admin: HqAdmin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (office, username) = path.into_inner();
    at_office(&state, &office, &username, access::delete_user).await?;
    tracing::info!(office, username, by = %admin.name, "staff user removed by headquarters");
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, path = "/api/v1/offices/{office}/access/kiosks/{id}", tag = "headquarters",
    responses((status = 201, description = "`{id, token}`: the device token, shown this once"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_kiosk(
    admin: HqAdmin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (office, id) = path.into_inner();
    let token = at_office(&state, &office, &id, access::add_kiosk).await?;
    tracing::info!(office, kiosk = %id, by = %admin.name, "kiosk token made by headquarters");
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id, "token": token })))
}

#[utoipa::path(delete, path = "/api/v1/offices/{office}/access/kiosks/{id}", tag = "headquarters",
    responses((status = 204, description = "removed"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete_kiosk(
    admin: HqAdmin,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (office, id) = path.into_inner();
    at_office(&state, &office, &id, access::delete_kiosk).await?;
    tracing::info!(office, kiosk = %id, by = %admin.name, "kiosk removed by headquarters");
    Ok(HttpResponse::NoContent().finish())
}

/// The box's own staff and kiosks, hashed as its file would have them.
#[utoipa::path(get, path = "/api/v1/branch/access", tag = "branch",
    responses((status = 200, description = "`{users: [{username, name, role, password_hash}], kiosks: [{id, token_sha256}]}`"),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn branch(branch: Branch, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let access = web::block(move || access::read(store.as_ref(), &branch.office)).await?.map_err(AccessError::from)?;
    Ok(HttpResponse::Ok().json(access))
}
