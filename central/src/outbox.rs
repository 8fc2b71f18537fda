//! Central's outbox: what central sends by itself, through the same durable outbox as the edge
//! (`fila_notify::dispatch`), so a crash never loses a message and never sends one twice.
//!
//! Today that is the office supervisor's alert for a low survey score with a comment answered
//! by link (answers at the office alert the supervisor on the box itself); bookings' codes and
//! reminders go the same way. Contacts and finished notices are deleted after the retention
//! period, with the survey comments.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use fila_notify::channel::Channel;
use fila_notify::contact::Contact;
use fila_notify::contact_book::ContactBook;
use fila_notify::dispatch::{Channels, Dispatch};
use fila_notify::email::Mailer;
use fila_notify::http_sms::HttpGateway;
use fila_notify::kind::NoticeKind;
use fila_notify::outbox::{Counts, Draft, NoticeKey, Policy};
use fila_notify::survey_comments::Comment;
use fila_notify::template::{OptOut, Templates};
use fila_protocol::Timestamp;
use fila_store::{Store, StoreError};

use crate::hub::Clock;
use crate::settings::Settings;
use crate::surveys::Surveys;

/// Sends in flight at once: SMTP servers take many connections, and reminders for a national
/// network come in thousands.
const IN_FLIGHT_MAX: usize = 32;
/// How long contacts and finished notices are kept.
const RETENTION_DAYS: i64 = crate::surveys::RETENTION_DAYS;
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Staff alerts are written in the office's language; central's offices speak Spanish first.
const ALERT_LANG: &str = "es";

/// Who a booking's messages go to, in which language, with what to fill in, and the office's
/// own texts if headquarters wrote any.
pub struct ToCitizen<'a> {
    pub contact: &'a Contact,
    pub lang: &'a str,
    pub values: &'a BTreeMap<&'a str, String>,
    pub texts: Option<&'a fila_protocol::config::NoticesConfig>,
}

pub struct CentralOutbox {
    dispatch: Arc<Dispatch>,
    /// The supervisors' address per office, where one is configured.
    supervisors: HashMap<String, Contact>,
    names: HashMap<String, String>,
    templates: Templates,
    country_code: Option<String>,
}

impl CentralOutbox {
    /// Blocking: restores the outbox from the store.
    pub fn open(store: Arc<dyn Store>, settings: &Settings, now: Timestamp) -> anyhow::Result<CentralOutbox> {
        let email = match &settings.smtp {
            Some(smtp) => Some(Arc::new(Mailer::new(smtp).context("[notices.smtp]")?) as Arc<dyn Channel>),
            None => None,
        };
        let sms = match &settings.sms_gateway {
            Some(gateway) => {
                Some(Arc::new(HttpGateway::new(gateway).context("[notices.sms_gateway]")?) as Arc<dyn Channel>)
            }
            None => None,
        };
        let book = ContactBook::open(store.clone())?;
        let dispatch = Dispatch::open(
            store,
            book,
            Channels { sms, email },
            Policy { per_contact_per_hour: 60, ..Policy::default() },
            IN_FLIGHT_MAX,
            to_jiff(now),
        )?;
        let supervisors = settings
            .offices
            .iter()
            .filter_map(|office| {
                let contact = Contact::parse(office.supervisor_email.as_deref()?, "").ok()?;
                Some((office.id.clone(), contact))
            })
            .collect();
        let names = settings.offices.iter().map(|o| (o.id.clone(), o.name.clone())).collect();
        Ok(CentralOutbox {
            dispatch,
            supervisors,
            names,
            templates: Templates::builtin(),
            country_code: settings.country_code.clone(),
        })
    }

    /// Sends until aborted, and deletes what is past its retention period every hour.
    pub fn start(&self, clock: Clock, surveys: Arc<Surveys>) -> Vec<tokio::task::JoinHandle<()>> {
        let outbox_clock: fila_notify::dispatch::Clock = {
            let clock = clock.clone();
            Arc::new(move || to_jiff(Timestamp(clock())))
        };
        let dispatch = self.dispatch.clone();
        vec![
            tokio::spawn(dispatch.clone().run(outbox_clock)),
            tokio::spawn(async move {
                loop {
                    let (dispatch, surveys, now) = (dispatch.clone(), surveys.clone(), Timestamp(clock()));
                    match tokio::task::spawn_blocking(move || purge(&dispatch, &surveys, now)).await {
                        Ok(Ok((0, 0, 0))) => {}
                        Ok(Ok((contacts, notices, comments))) => {
                            tracing::info!(contacts, notices, comments, "retention period: deleted")
                        }
                        _ => tracing::error!("data past its retention period could not be deleted"),
                    }
                    tokio::time::sleep(PURGE_EVERY).await;
                }
            }),
        ]
    }

    pub fn counts(&self) -> Counts {
        self.dispatch.counts()
    }

    /// A citizen left a low score with a comment, by link: the office's supervisors hear of it,
    /// once per ticket. Nothing happens for an office without a supervisor address. Blocking.
    pub fn low_score(&self, office: &str, comment: &Comment, now: Timestamp) -> Result<bool, StoreError> {
        let Some(supervisor) = self.supervisors.get(office) else { return Ok(false) };
        let cause = format!("survey-alert/{office}/{}/{}", comment.day, comment.ticket);
        let values = BTreeMap::from([
            ("office", self.names.get(office).cloned().unwrap_or_else(|| office.to_string())),
            ("day", comment.day.clone()),
            ("ticket", comment.ticket.clone()),
            ("score", comment.satisfaction.map_or_else(|| "?".to_string(), |s| s.to_string())),
            ("comment", comment.text.clone()),
        ]);
        let no_way_out = OptOut { reply_stop: false, link: None };
        let kind = NoticeKind::LowScoreAlert;
        let Some(message) = self.templates.render(kind, ALERT_LANG, supervisor.medium(), &values, &no_way_out) else {
            return Ok(false);
        };
        self.send(&cause, kind, supervisor.clone(), message, now)
    }

    /// A message to a citizen about their booking, in their language, with the office's own
    /// texts where headquarters wrote them; once per (cause, kind), no earlier than `not_before`
    /// (a reminder). Booking messages answer the citizen's own request: no opt-out line.
    /// Blocking.
    pub fn to_citizen(
        &self,
        cause: &str,
        kind: NoticeKind,
        to: &ToCitizen<'_>,
        not_before: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let templates = to.texts.map(Templates::configured);
        let templates = templates.as_ref().unwrap_or(&self.templates);
        let requested = OptOut { reply_stop: false, link: None };
        let Some(message) = templates.render(kind, to.lang, to.contact.medium(), to.values, &requested) else {
            return Ok(false);
        };
        self.send_in(cause, kind, to.contact.clone(), to.lang, message, not_before, now)
    }

    /// What is still queued under `cause` will not be sent (a cancelled booking's reminders).
    /// Blocking.
    pub fn cancel(&self, cause: &str, reason: &str, now: Timestamp) -> Result<(), StoreError> {
        self.dispatch.outbox().cancel_cause(cause, reason, to_jiff(now));
        self.dispatch.persist()
    }

    /// Whether central can send to this kind of contact at all.
    /// How central can reach citizens: "email", "sms" or both.
    pub fn media(&self) -> Vec<&'static str> {
        let channels = self.dispatch.channels();
        [fila_notify::contact::Medium::Email, fila_notify::contact::Medium::Sms]
            .into_iter()
            .filter(|medium| channels.for_medium(*medium).is_some())
            .map(|medium| medium.as_str())
            .collect()
    }

    /// Reads the contact a citizen gave, refusing one central cannot send to, in words they can
    /// act on.
    pub fn contact(&self, text: &str) -> Result<Contact, String> {
        let national = !text.contains('@') && !text.trim_start_matches(['(', ' ']).starts_with(['+', '0']);
        let country_code = match (&self.country_code, national) {
            (Some(code), _) => code.as_str(),
            (None, true) => return Err("write the mobile number with its country code, e.g. +54 9 11 2345 6789".into()),
            (None, false) => "",
        };
        let contact = Contact::parse(text, country_code).map_err(|e| e.to_string())?;
        if self.dispatch.channels().for_medium(contact.medium()).is_none() {
            return Err(format!("central sends no {} messages; give an e-mail address", contact.medium().as_str()));
        }
        Ok(contact)
    }

    /// Queues a message to any contact under `cause` (benchmarks and the bookings to come).
    /// Blocking.
    pub fn send(
        &self,
        cause: &str,
        kind: NoticeKind,
        contact: Contact,
        message: fila_notify::template::Rendered,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.send_in(cause, kind, contact, ALERT_LANG, message, None, now)
    }

    #[allow(clippy::too_many_arguments)]
    fn send_in(
        &self,
        cause: &str,
        kind: NoticeKind,
        contact: Contact,
        lang: &str,
        message: fila_notify::template::Rendered,
        not_before: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let book = self.dispatch.book();
        book.put(cause, contact.clone(), lang, to_jiff(now))?;
        let draft = Draft {
            key: NoticeKey { cause: cause.to_string(), kind },
            medium: contact.medium(),
            contact: book.fingerprint(&contact),
            message,
            not_before: not_before.map(to_jiff),
        };
        self.dispatch.enqueue(draft, to_jiff(now))
    }
}

fn purge(dispatch: &Dispatch, surveys: &Surveys, now: Timestamp) -> Result<(usize, usize, usize), StoreError> {
    let cutoff = to_jiff(now) - jiff::SignedDuration::from_hours(24 * RETENTION_DAYS);
    let contacts = dispatch.book().purge(cutoff)?;
    let forgotten = dispatch.forget_before(cutoff)?;
    let comments = surveys.purge(now)?;
    Ok((contacts, forgotten, comments))
}

fn to_jiff(at: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(at.as_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}
