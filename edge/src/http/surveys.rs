//! The satisfaction survey at the office: on the ticket's tracking page once the visit is
//! finished, or at the exit tablet by ticket number. One answer per ticket, that business day;
//! the scores go into the day document (headquarters counts them), a comment's text stays on the
//! box for the office's supervisors.

use actix_web::{web, HttpResponse};
use fila_protocol::office::{Command, Reply, SurveyInput, SurveyTicket};
use fila_protocol::{BusinessDay, TicketStatus, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::caller::{Caller, ISSUERS, SUPERVISORS};
use super::error::{ApiError, ErrorBody};
use super::{now_ms, AppState};
use fila_notify::survey_comments::{Comment, COMMENT_CHARS_MAX};

/// Which questions the survey asks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyQuestions {
    /// 1 to 5.
    pub satisfaction: bool,
    /// 0 to 10.
    pub recommend: bool,
    /// Was the procedure resolved.
    pub resolved: bool,
    pub comment: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyFormDto {
    pub questions: SurveyQuestions,
    /// Days after the visit its invitation's link is answered (at central).
    pub open_days: u32,
    /// The longest comment kept.
    pub comment_chars_max: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyStateDto {
    /// not_yet (the visit is not finished), open, answered or closed.
    pub state: String,
    pub questions: SurveyQuestions,
    /// The longest comment kept.
    pub comment_chars_max: usize,
}

impl SurveyStateDto {
    fn new(state: &str, questions: SurveyQuestions) -> Self {
        SurveyStateDto { state: state.into(), questions, comment_chars_max: COMMENT_CHARS_MAX }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswerRequest {
    /// The exit tablet's: the ticket number, e.g. A-023. The tracking page names it by its link.
    #[serde(default)]
    pub ticket: Option<String>,
    /// 1 to 5.
    #[serde(default)]
    pub satisfaction: Option<u8>,
    /// 0 to 10.
    #[serde(default)]
    pub recommend: Option<u8>,
    #[serde(default)]
    pub resolved: Option<bool>,
    /// Kept on this box for the office's supervisors; never sent to headquarters.
    #[serde(default)]
    pub comment: Option<String>,
}

/// A comment as supervisors see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CommentDto {
    pub day: String,
    pub ticket: String,
    pub satisfaction: Option<u8>,
    pub text: String,
    /// ms since the epoch.
    pub at: i64,
    /// A low score with a comment: the supervisor's to look at.
    pub low: bool,
}

/// The questions of the office's survey form, as headquarters configured it.
fn questions(state: &AppState) -> SurveyQuestions {
    let form = state.office.config().notices.survey;
    SurveyQuestions {
        satisfaction: form.satisfaction,
        recommend: form.recommend,
        resolved: form.resolved,
        comment: form.comment,
    }
}

/// An answer to a question the form does not ask is refused: the page was out of date, or the
/// answer was made up, and either way the figures would count what nobody was asked.
fn unasked(asked: &SurveyQuestions, body: &SurveyAnswerRequest) -> Option<&'static str> {
    let answered_comment = body.comment.as_deref().is_some_and(|c| !c.trim().is_empty());
    [
        (asked.satisfaction, body.satisfaction.is_some(), "satisfaction"),
        (asked.recommend, body.recommend.is_some(), "recommend"),
        (asked.resolved, body.resolved.is_some(), "resolved"),
        (asked.comment, answered_comment, "comment"),
    ]
    .into_iter()
    .find(|(asked, answered, _)| !asked && *answered)
    .map(|(_, _, question)| question)
}

/// The survey's questions, for the exit tablet.
#[utoipa::path(get, path = "/api/v1/survey-form", tag = "public", responses((status = 200, body = SurveyFormDto)))]
pub async fn form(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(SurveyFormDto {
        questions: questions(&state),
        open_days: state.office.config().notices.survey.open_days,
        comment_chars_max: COMMENT_CHARS_MAX,
    })
}

/// Where the survey of the ticket with this tracking token stands.
#[utoipa::path(get, path = "/api/v1/track/{token}/survey", tag = "public",
    params(("token" = String, Path, description = "the ticket's tracking token")),
    responses((status = 200, body = SurveyStateDto), (status = 404, body = ErrorBody)))]
pub async fn state_of(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let token = token.into_inner();
    let found = state
        .office
        .query(move |office, _| {
            let ticket = office.ticket_by_token(&token)?;
            Some(match (ticket.status, office.day().surveys.contains_key(&ticket.id)) {
                (_, true) => "answered",
                (TicketStatus::Finished, false) => "open",
                (status, false) if status.is_closed() => "closed",
                _ => "not_yet",
            })
        })
        .await?
        .ok_or_else(|| ApiError::NotFound("no ticket has that tracking token today".into()))?;
    Ok(HttpResponse::Ok().json(SurveyStateDto::new(found, questions(&state))))
}

/// The citizen answers from their ticket's tracking page.
#[utoipa::path(post, path = "/api/v1/track/{token}/survey", tag = "public", request_body = SurveyAnswerRequest,
    params(("token" = String, Path, description = "the ticket's tracking token")),
    responses((status = 201, body = SurveyStateDto),
              (status = 400, body = ErrorBody, description = "`bad_answer`: a score out of range, or nothing answered"),
              (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "`survey_answered`, or `survey_not_open` before the visit is finished")))]
pub async fn answer_by_token(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Json<SurveyAnswerRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    if body.ticket.is_some() {
        return Err(ApiError::bad_request("bad_answer", "the tracking page's link names the ticket"));
    }
    answer(&state, SurveyTicket::Token(token.into_inner()), body, fila_protocol::Who::Citizen).await
}

/// The exit tablet (a kiosk device token): the citizen gives their ticket number and answers.
#[utoipa::path(post, path = "/api/v1/surveys", tag = "kiosk", request_body = SurveyAnswerRequest,
    responses((status = 201, body = SurveyStateDto), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn answer_at_exit(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<SurveyAnswerRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require(ISSUERS, "take survey answers")?;
    let mut body = body.into_inner();
    let text = body.ticket.take().unwrap_or_default();
    let number = text.trim().to_uppercase().parse().map_err(|()| {
        ApiError::bad_request("bad_number", format!("{:?} is not a ticket number like A-023", text.trim()))
    })?;
    answer(&state, SurveyTicket::Number(number), body, caller.who()).await
}

async fn answer(
    state: &AppState,
    ticket: SurveyTicket,
    body: SurveyAnswerRequest,
    by: fila_protocol::Who,
) -> Result<HttpResponse, ApiError> {
    if let Some(question) = unasked(&questions(state), &body) {
        return Err(ApiError::bad_request("bad_answer", format!("this office's survey does not ask {question}")));
    }
    let comment = body.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    if comment.as_ref().is_some_and(|c| c.chars().count() > COMMENT_CHARS_MAX) {
        return Err(ApiError::bad_request(
            "bad_answer",
            format!("a comment is at most {COMMENT_CHARS_MAX} characters"),
        ));
    }
    let input = SurveyInput {
        satisfaction: body.satisfaction,
        recommend: body.recommend,
        resolved: body.resolved,
        commented: comment.is_some(),
    };
    let command = Command::AnswerSurvey { ticket, answer: input, by };
    let reply = state.office.send(command).await?;
    let Reply::Ticket(ticket) = reply else {
        return Err(ApiError::Internal("a survey answer replied with something else than its ticket".into()));
    };
    if let Some(text) = comment {
        let comments = state.comments.clone();
        let day = BusinessDay::containing(ticket.issued_at, &state.office.config().time_zone);
        let now = Timestamp::from_ms(now_ms());
        let stored = tokio::task::spawn_blocking(move || {
            comments.put(day, (ticket.id, ticket.number), input.satisfaction, &text, now)
        })
        .await;
        if !matches!(stored, Ok(Ok(()))) {
            // The scores are in; the comment is what is lost, and the citizen is told nothing
            // they could fix.
            tracing::error!(ticket = %ticket.number, "a survey comment could not be stored");
        }
    }
    tracing::info!(ticket = %ticket.number, "survey answered");
    Ok(HttpResponse::Created().json(SurveyStateDto::new("answered", questions(state))))
}

/// The comments citizens left, newest first, for the office's supervisors.
#[utoipa::path(get, path = "/api/v1/surveys/comments", tag = "staff",
    responses((status = 200, body = [CommentDto]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn comments(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    caller.require(SUPERVISORS, "read survey comments")?;
    let comments = state.comments.clone();
    let all = tokio::task::spawn_blocking(move || comments.all())
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let dtos: Vec<CommentDto> = all.into_iter().map(comment_dto).collect();
    Ok(HttpResponse::Ok().json(dtos))
}

fn comment_dto(comment: Comment) -> CommentDto {
    let low = comment.is_low();
    CommentDto {
        day: comment.day,
        ticket: comment.ticket,
        satisfaction: comment.satisfaction,
        text: comment.text,
        at: comment.at,
        low,
    }
}
