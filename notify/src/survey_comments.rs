//! The comments citizens leave with their survey answers. Free text may name people, so, like
//! contacts, it never enters a document (only that there was a comment): it is kept in the store
//! beside the documents, shown to the office's supervisors, and deleted after the retention
//! period. A low score with a comment is an alert for them. The edge keeps its office's comments
//! (answered at the office); central keeps those answered by link, per office.

use std::sync::Arc;

use fila_protocol::{BusinessDay, TicketId, TicketNumber, Timestamp};
use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

const PREFIX: &str = "survey/comment/";
/// The longest comment kept.
pub const COMMENT_CHARS_MAX: usize = 1000;
/// A satisfaction at or below this with a comment raises an alert.
pub const LOW_SCORE: u8 = 2;
/// How long a low score stays among the supervisor's alerts.
const ALERT_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub day: String,
    pub ticket: String,
    pub satisfaction: Option<u8>,
    pub text: String,
    pub at: i64,
}

impl Comment {
    pub fn is_low(&self) -> bool {
        self.satisfaction.is_some_and(|s| s <= LOW_SCORE)
    }
}

#[derive(Clone)]
pub struct SurveyComments {
    store: Arc<dyn Store>,
    /// Where this set's comments are: every comment in the store, or one office's at central.
    prefix: String,
}

impl SurveyComments {
    /// Every comment in the store: the edge's, which holds one office.
    pub fn new(store: Arc<dyn Store>) -> Self {
        SurveyComments { store, prefix: PREFIX.to_string() }
    }

    /// One office's comments in a store that holds many (central's).
    pub fn of_office(store: Arc<dyn Store>, office: &str) -> Self {
        SurveyComments { store, prefix: format!("{PREFIX}{office}/") }
    }

    /// Keeps a comment, durably. Blocking.
    pub fn put(
        &self,
        day: BusinessDay,
        ticket: (TicketId, TicketNumber),
        satisfaction: Option<u8>,
        text: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.put_labelled(day, ticket.0, &ticket.1.to_string(), satisfaction, text, now)
    }

    /// As [`SurveyComments::put`], with the ticket's number as text: central may not have the
    /// office's day yet, and labels the ticket by its id then.
    pub fn put_labelled(
        &self,
        day: BusinessDay,
        ticket: TicketId,
        label: &str,
        satisfaction: Option<u8>,
        text: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let comment = Comment {
            day: day.to_string(),
            ticket: label.to_string(),
            satisfaction,
            text: text.chars().take(COMMENT_CHARS_MAX).collect(),
            at: now.as_ms(),
        };
        let bytes = serde_json::to_vec(&comment).map_err(|e| StoreError::Transaction(e.to_string()))?;
        self.store.put_meta(&format!("{}{day}/{}", self.prefix, ticket.key()), &bytes)?;
        self.store.flush()
    }

    /// Every comment kept, newest first.
    pub fn all(&self) -> Result<Vec<Comment>, StoreError> {
        let mut comments: Vec<Comment> = self
            .store
            .scan_meta(&self.prefix)?
            .into_iter()
            .filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok())
            .collect();
        comments.sort_by_key(|c: &Comment| std::cmp::Reverse(c.at));
        Ok(comments)
    }

    /// Low scores with a comment from the last day: the supervisor's alerts.
    pub fn alerts(&self, now: Timestamp) -> Vec<Comment> {
        let recent = |c: &Comment| c.is_low() && now.as_ms() - c.at < ALERT_MS;
        self.all().unwrap_or_default().into_iter().filter(recent).collect()
    }

    /// Deletes comments older than `cutoff`; returns how many. Blocking.
    pub fn purge(&self, cutoff: Timestamp) -> Result<usize, StoreError> {
        let mut deleted = 0;
        for (key, bytes) in self.store.scan_meta(&self.prefix)? {
            let old = serde_json::from_slice::<Comment>(&bytes).map_or(true, |c| c.at < cutoff.as_ms());
            if old {
                self.store.delete_meta(&key)?;
                deleted += 1;
            }
        }
        if deleted > 0 {
            self.store.flush()?;
        }
        Ok(deleted)
    }
}
