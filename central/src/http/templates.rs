//! Templates by tag (`crate::templates`): `GET /api/v1/templates`, `PUT /api/v1/templates/{tag}`,
//! and an office's own fields, `GET /api/v1/offices/{office}/overrides` and
//! `DELETE /api/v1/offices/{office}/overrides/{field}`.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::auth::{Analyst, HqAdmin};
use super::error::{ApiError, ErrorBody, ProblemDto};
use super::AppState;
use crate::templates::Template;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TagTemplateDto {
    pub tag: String,
    #[serde(flatten)]
    pub template: Template,
}

/// Every template, by tag.
#[utoipa::path(get, path = "/api/v1/templates", tag = "headquarters",
    responses((status = 200, body = [TagTemplateDto]),
              (status = 401, body = ErrorBody, description = "no valid analyst token")),
    security(("bearer" = [])))]
pub async fn list(_: Analyst, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let templates = web::block(move || crate::templates::list(store.as_ref()))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let list: Vec<TagTemplateDto> =
        templates.into_iter().map(|(tag, template)| TagTemplateDto { tag, template }).collect();
    Ok(HttpResponse::Ok().json(list))
}

/// Set the template of a tag and write it into every office with the tag, but for the fields
/// each office set on its own.
#[utoipa::path(put, path = "/api/v1/templates/{tag}", tag = "headquarters",
    params(("tag" = String, Path, description = "the offices' tag (a region)")),
    request_body(content = Template, description = "what the template sets: `rule`, `hours`, `target_waits`, \
                                                   `bookings` (by service id), `notice_templates`, `survey`"),
    responses((status = 200, body = Object,
               description = "`offices`: each office with the tag, whether it `changed`, and the `problem` that kept \
                              the template out of it (the result would not be a valid configuration)"),
              (status = 400, body = ErrorBody, description = "`bad_tag`, `bad_body`, `bad_config` (every problem of the \
                                                              template at once, at its path: `bookings.general.slot_minutes`)"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 403, body = ErrorBody, description = "the token is not a headquarters administrator's")),
    security(("bearer" = [])))]
pub async fn put(
    _: HqAdmin,
    tag: web::Path<String>,
    template: web::Json<Template>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tag = tag.into_inner();
    if !fila_protocol::ids::is_valid_id(&tag) {
        return Err(ApiError::bad_request("bad_tag", "a tag is 1-32 letters, digits, '-' or '_'"));
    }
    let template = template.into_inner();
    let problems = template.check();
    if !problems.is_empty() {
        return Err(ApiError::BadConfig(
            problems.into_iter().map(|p| ProblemDto { at: p.at, problem: p.problem }).collect(),
        ));
    }
    let (hub, store) = (state.hub.clone(), state.store.clone());
    let applied = tag.clone();
    let offices = web::block(move || crate::templates::put(&hub, store.as_ref(), &applied, &template))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(%tag, offices = offices.iter().filter(|o| o.changed).count(), "template applied");
    Ok(HttpResponse::Ok().json(serde_json::json!({ "offices": offices })))
}

/// The fields of an office's templates it set on its own.
#[utoipa::path(get, path = "/api/v1/offices/{office}/overrides", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id")),
    responses((status = 200, body = Object, description = "`fields`: like `rule`, `calendar.hours`, \
                                                          `services.general.target_wait_minutes`, `services.general.booking`, \
                                                          `notices.templates`, `notices.survey`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token")),
    security(("bearer" = [])))]
pub async fn overrides(
    _: Analyst,
    office: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let fields = web::block(move || crate::templates::overrides(store.as_ref(), &office))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "fields": fields })))
}

/// Return a field of an office to its template: the template's value is written back.
#[utoipa::path(delete, path = "/api/v1/offices/{office}/overrides/{field}", tag = "headquarters",
    params(("office" = String, Path, description = "the office's id"),
           ("field" = String, Path, description = "the field, as `GET .../overrides` names it")),
    responses((status = 200, body = Object, description = "the office's outcome: `changed`, `problem`"),
              (status = 401, body = ErrorBody, description = "no valid analyst token"),
              (status = 403, body = ErrorBody, description = "the token is not a headquarters administrator's"),
              (status = 404, body = ErrorBody, description = "the office did not override that field")),
    security(("bearer" = [])))]
pub async fn return_to_template(
    _: HqAdmin,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (office, field) = path.into_inner();
    let (hub, store) = (state.hub.clone(), state.store.clone());
    let named = field.clone();
    let outcome = web::block(move || crate::templates::return_to_template(&hub, store.as_ref(), &office, &named))
        .await?
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| {
            ApiError::NotFound(format!("the office does not override {:?}", field.chars().take(80).collect::<String>()))
        })?;
    Ok(HttpResponse::Ok().json(outcome))
}
