//! Survey answers that arrive at central: the citizen follows the link in their invitation
//! (`/s/<office>/<day>/<ticket>/<mac>`) from home, where the office's box cannot be reached.
//!
//! Central checks the link by itself ([`fila_notify::survey_link`]), so answers keep coming with
//! the office offline. The scores are kept in central's store, one answer per ticket, never
//! rewritten, accepted from the day of the visit until `open_days` after it; a comment's text is
//! kept apart and deleted after the retention period. Headquarters' figures count a ticket once:
//! the office's answer (tracking page, exit tablet, in the day document) if there is one, else
//! this one ([`fila_protocol::survey_report`]).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use fila_notify::survey_comments::{Comment, SurveyComments, COMMENT_CHARS_MAX};
use fila_notify::survey_link::SurveyKey;
use fila_protocol::config::SurveyForm;
use fila_protocol::day::SurveyAnswer;
use fila_protocol::office::SurveyInput;
use fila_protocol::report::{Context, GroupBy};
use fila_protocol::survey_report::{SurveyRow, SurveyTally};
use fila_protocol::{BusinessDay, TicketId, TicketStatus, Timestamp, Who};
use fila_store::{Store, StoreError};
use serde::Serialize;

use crate::hub::{Hub, ReadError};
use crate::kpis::{office_config, KpiQuery};
use crate::settings::OfficeSettings;

const ANSWER_PREFIX: &str = "survey/answer/";

/// One ticket's survey, from a link whose MAC checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyRef {
    pub office: String,
    pub day: BusinessDay,
    pub ticket: TicketId,
}

/// Where a linked survey stands, as the citizen's page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkState {
    /// `open`, `answered` or `closed`.
    pub state: &'static str,
    pub office_name: String,
    /// The ticket's number ("A-023"), when central holds the day.
    pub ticket_number: Option<String>,
    /// The last day an answer is accepted.
    pub open_until: BusinessDay,
    pub comment_chars_max: usize,
    pub questions: Questions,
}

/// Which questions the office's survey form asks.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Questions {
    pub satisfaction: bool,
    pub recommend: bool,
    pub resolved: bool,
    pub comment: bool,
}

impl Questions {
    /// The first question `answer` answers that the form does not ask.
    fn unasked(&self, answer: &SurveyAnswer) -> Option<&'static str> {
        [
            (self.satisfaction, answer.satisfaction.is_some(), "satisfaction"),
            (self.recommend, answer.recommend.is_some(), "recommend"),
            (self.resolved, answer.resolved.is_some(), "resolved"),
            (self.comment, answer.commented, "comment"),
        ]
        .into_iter()
        .find(|(asked, answered, _)| !asked && *answered)
        .map(|(_, _, question)| question)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("this survey has been answered already")]
    Answered,
    #[error("this survey closed on {0}")]
    Closed(BusinessDay),
    #[error("{0}")]
    Bad(String),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Surveys {
    store: Arc<dyn Store>,
    keys: HashMap<String, SurveyKey>,
    /// Check-then-store of an answer is one step: two answers racing for a ticket, one wins.
    answering: Mutex<()>,
}

impl Surveys {
    pub fn new(store: Arc<dyn Store>, offices: &[OfficeSettings]) -> Surveys {
        let keys = offices
            .iter()
            .filter_map(|office| Some((office.id.clone(), SurveyKey::from_token_sha256(&office.token_sha256)?)))
            .collect();
        Surveys { store, keys, answering: Mutex::new(()) }
    }

    /// The survey a link names, if the link is one the office's box made.
    pub fn check_link(&self, office: &str, day: &str, ticket: &str, mac: &str) -> Option<SurveyRef> {
        let key = self.keys.get(office)?;
        if !key.verify(office, day, ticket, mac) {
            return None;
        }
        Some(SurveyRef {
            office: office.to_string(),
            day: BusinessDay::parse(day)?,
            ticket: TicketId::from_key(ticket)?,
        })
    }

    /// Where the survey stands now. Blocking (reads the day document).
    pub fn state(&self, hub: &Hub, survey: &SurveyRef, now: Timestamp) -> Result<LinkState, Refusal> {
        let facts = Facts::read(hub, survey)?;
        let answered = facts.answered_at_office || self.answer(survey)?.is_some();
        let state = match (answered, facts.open(now)) {
            (true, _) => "answered",
            (false, true) => "open",
            (false, false) => "closed",
        };
        Ok(LinkState {
            state,
            office_name: facts.office_name,
            ticket_number: facts.ticket_number,
            open_until: facts.open_until,
            comment_chars_max: COMMENT_CHARS_MAX,
            questions: facts.questions,
        })
    }

    /// Takes the citizen's answer: once per ticket, within the window. Returns the comment kept,
    /// if there was one. Blocking.
    pub fn answer_by_link(
        &self,
        hub: &Hub,
        survey: &SurveyRef,
        input: SurveyInput,
        comment: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Comment>, Refusal> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if comment.is_some_and(|c| c.chars().count() > COMMENT_CHARS_MAX) {
            return Err(Refusal::Bad(format!("a comment is at most {COMMENT_CHARS_MAX} characters")));
        }
        let answer = SurveyAnswer {
            satisfaction: input.satisfaction,
            recommend: input.recommend,
            resolved: input.resolved,
            commented: comment.is_some(),
            at: now,
            by: Who::Citizen,
        };
        if let Some(problem) = answer.problem() {
            return Err(Refusal::Bad(problem.to_string()));
        }
        let facts = Facts::read(hub, survey)?;
        if let Some(question) = facts.questions.unasked(&answer) {
            return Err(Refusal::Bad(format!("this office's survey does not ask {question}")));
        }
        if !facts.open(now) {
            return Err(Refusal::Closed(facts.open_until));
        }
        if facts.answered_at_office {
            return Err(Refusal::Answered);
        }
        let _one_at_a_time = self.answering.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // And one at a time across the replicas sharing the store: the answer is committed
        // before the lock goes (the flushes below), so the next to take it finds it.
        let key = answer_key(&survey.office, survey.day, Some(survey.ticket));
        fila_store::with_doc_locked(&*self.store, &key, || self.take(&key, survey, &facts, &answer, comment, now))
    }

    /// Stores the answer at `key` unless the ticket has one; with its comment, if any. Called
    /// with the survey locked.
    fn take(
        &self,
        key: &str,
        survey: &SurveyRef,
        facts: &Facts,
        answer: &SurveyAnswer,
        comment: Option<&str>,
        now: Timestamp,
    ) -> Result<Option<Comment>, Refusal> {
        if self.answer(survey)?.is_some() {
            return Err(Refusal::Answered);
        }
        let bytes = serde_json::to_vec(answer).map_err(|e| StoreError::Transaction(e.to_string()))?;
        self.store.put_meta(key, &bytes)?;
        let kept = match comment {
            Some(text) => {
                let number = facts.ticket_number.clone().unwrap_or_else(|| survey.ticket.key());
                let comments = SurveyComments::of_office(self.store.clone(), &survey.office);
                comments.put_labelled(survey.day, survey.ticket, &number, answer.satisfaction, text, now)?;
                Some(Comment {
                    day: survey.day.to_string(),
                    ticket: number,
                    satisfaction: answer.satisfaction,
                    text: text.to_string(),
                    at: now.as_ms(),
                })
            }
            None => self.store.flush().map(|()| None)?,
        };
        Ok(kept)
    }

    fn answer(&self, survey: &SurveyRef) -> Result<Option<SurveyAnswer>, StoreError> {
        let bytes = self.store.get_meta(&answer_key(&survey.office, survey.day, Some(survey.ticket)))?;
        Ok(bytes.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    /// The answers central took by link for an office's day.
    pub fn answers_of_day(
        &self,
        office: &str,
        day: BusinessDay,
    ) -> Result<BTreeMap<TicketId, SurveyAnswer>, StoreError> {
        let prefix = answer_key(office, day, None);
        Ok(self
            .store
            .scan_meta(&prefix)?
            .into_iter()
            .filter_map(|(key, bytes)| {
                let ticket = TicketId::from_key(&key[prefix.len()..])?;
                Some((ticket, serde_json::from_slice(&bytes).ok()?))
            })
            .collect())
    }

    /// The comments left by link for an office, newest first.
    pub fn comments(&self, office: &str) -> Result<Vec<Comment>, StoreError> {
        SurveyComments::of_office(self.store.clone(), office).all()
    }

    /// Deletes comments left before `cutoff`, the retention period's start (answers' scores
    /// stay: they hold nothing personal). Blocking.
    pub fn purge(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        SurveyComments::new(self.store.clone()).purge(cutoff)
    }
}

fn answer_key(office: &str, day: BusinessDay, ticket: Option<TicketId>) -> String {
    match ticket {
        Some(ticket) => format!("{ANSWER_PREFIX}{office}/{day}/{}", ticket.key()),
        None => format!("{ANSWER_PREFIX}{office}/{day}/"),
    }
}

/// What central knows of a linked ticket: from the office's configuration and, if it has
/// synced, its day.
struct Facts {
    office_name: String,
    ticket_number: Option<String>,
    answered_at_office: bool,
    opens: Timestamp,
    closes: Timestamp,
    open_until: BusinessDay,
    questions: Questions,
}

impl Facts {
    fn read(hub: &Hub, survey: &SurveyRef) -> Result<Facts, Refusal> {
        let office = hub
            .offices()
            .into_iter()
            .find(|o| o.id == survey.office)
            .ok_or_else(|| ReadError::UnknownOffice(survey.office.clone()))?;
        let config = office_config(hub, &survey.office)?;
        let zone = config.as_ref().map_or(jiff::tz::TimeZone::UTC, |c| c.time_zone.clone());
        // Without the office's configuration, the default form.
        let form = config.as_ref().map_or_else(SurveyForm::default, |c| c.notices.survey);
        let open_days = form.open_days;
        let open_until = survey.day.plus_days(i64::from(open_days) - 1);
        let (mut ticket_number, mut answered_at_office) = (None, false);
        match hub.day(&survey.office, survey.day) {
            Ok(day) => {
                if let Some(ticket) = day.tickets.get(&survey.ticket) {
                    if ticket.status != TicketStatus::Finished {
                        return Err(Refusal::Bad("this visit is not finished".into()));
                    }
                    ticket_number = Some(ticket.number.to_string());
                }
                answered_at_office = day.surveys.contains_key(&survey.ticket);
            }
            // The office may be offline since the visit: the link alone vouches for it.
            Err(ReadError::NoDocument { .. }) => {}
            Err(error) => return Err(error.into()),
        }
        Ok(Facts {
            office_name: office.name,
            ticket_number,
            answered_at_office,
            opens: survey.day.start(&zone),
            closes: open_until.next_start(&zone),
            open_until,
            questions: Questions {
                satisfaction: form.satisfaction,
                recommend: form.recommend,
                resolved: form.resolved,
                comment: form.comment,
            },
        })
    }

    fn open(&self, now: Timestamp) -> bool {
        self.opens <= now && now < self.closes
    }
}

/// An office's survey figures over a range of days, from its day documents and the answers
/// central took by link.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyReport {
    pub office: String,
    pub office_name: String,
    pub from: BusinessDay,
    pub to: BusinessDay,
    pub by: GroupBy,
    /// The days of the range central holds; other days have no rows.
    pub days: Vec<BusinessDay>,
    /// One row per group per day.
    pub rows: Vec<SurveyDayRow>,
    /// One row per group over the whole range.
    pub totals: Vec<SurveyRow>,
    /// Everything over the whole range.
    pub total: SurveyRow,
}

#[derive(Debug, Clone, Serialize)]
pub struct SurveyDayRow {
    pub day: BusinessDay,
    #[serde(flatten)]
    pub figures: SurveyRow,
}

/// Compute the report. Loads every day of the range: call it off the async workers.
pub fn report(hub: &Hub, surveys: &Surveys, query: &KpiQuery, now: Timestamp) -> Result<SurveyReport, Refusal> {
    let office = hub
        .offices()
        .into_iter()
        .find(|o| o.id == query.office)
        .ok_or_else(|| ReadError::UnknownOffice(query.office.clone()))?;
    let config = office_config(hub, &query.office)?;
    let utc = jiff::tz::TimeZone::UTC;
    let context = Context { config: config.as_ref(), time_zone: config.as_ref().map_or(&utc, |c| &c.time_zone), now };
    let mut range = SurveyTally::new(query.by);
    let (mut days, mut rows) = (Vec::new(), Vec::new());
    for day in crate::kpis::days_held(&office, query) {
        let document = match hub.day(&query.office, day) {
            Ok(document) => document,
            Err(error @ (ReadError::Unreadable(_) | ReadError::NoDocument { .. })) => {
                tracing::error!(office = %query.office, %day, %error, "day left out of the survey figures");
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        let mut tally = SurveyTally::new(query.by);
        tally.add_day(&document, &surveys.answers_of_day(&query.office, day)?, &context);
        rows.extend(tally.rows().into_iter().map(|figures| SurveyDayRow { day, figures }));
        range.merge(&tally);
        days.push(day);
    }
    let mut total = range.total(&query.office);
    total.label = total.label.or_else(|| Some(office.name.clone()));
    Ok(SurveyReport {
        office: query.office.clone(),
        office_name: office.name,
        from: query.from,
        to: query.to,
        by: query.by,
        days,
        rows,
        totals: range.rows(),
        total,
    })
}
