//! Central's outbox: what central sends by itself, through the same durable outbox as the edge
//! (`fila_notify::dispatch`), so a crash never loses a message and never sends one twice.
//!
//! That is the office supervisor's alert for a low survey score with a comment answered by link
//! (answers at the office alert the supervisor on the box itself), headquarters' operational
//! alerts to the `[alerts] email` addresses (no quiet hours: they are for staff on duty), and what
//! citizens hear about
//! their bookings, waiting-list places and remote joins. Every message to a citizen ends with an
//! opt-out link (`/o/<mac>`, made from its cause with central's key); reminders and offers wait
//! out the quiet hours in the office's zone. Contacts, finished notices, opt-out links and survey
//! comments are deleted after the retention period.

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
use crate::settings::{NoticeRules, Settings};
use crate::surveys::Surveys;

/// Sends in flight at once: SMTP servers take many connections, and reminders for a national
/// network come in thousands.
const IN_FLIGHT_MAX: usize = 32;
/// Where an opt-out link's MAC leads: the cause whose contact it stops, and when it was made.
const OPT_OUT_LINK: &str = "central/opt-out-link/";
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Staff alerts are written in the office's language; central's offices speak Spanish first.
const ALERT_LANG: &str = "es";

/// Who a message goes to, in which language, with what to fill in, and the office it is about
/// (its own texts if headquarters wrote any, its zone for quiet hours).
pub struct ToCitizen<'a> {
    pub contact: &'a Contact,
    pub lang: &'a str,
    pub values: &'a BTreeMap<&'a str, String>,
    pub office: &'a fila_protocol::config::OfficeConfig,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct OptOutLink {
    cause: String,
    at: jiff::Timestamp,
}

pub struct CentralOutbox {
    dispatch: Arc<Dispatch>,
    store: Arc<dyn Store>,
    /// The supervisors' address per office, where one is configured.
    supervisors: HashMap<String, Contact>,
    /// Where headquarters' alerts go (`[alerts] email`).
    ops: Vec<Contact>,
    names: HashMap<String, String>,
    templates: Templates,
    country_code: Option<String>,
    rules: NoticeRules,
    /// Where citizens reach central: the start of opt-out links.
    citizen_url: String,
}

impl CentralOutbox {
    /// Blocking: restores the outbox from the store.
    pub fn open(
        store: Arc<dyn Store>,
        settings: &Settings,
        citizen_url: &str,
        now: Timestamp,
    ) -> anyhow::Result<CentralOutbox> {
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
            store.clone(),
            book,
            Channels { sms, email },
            // Quiet hours depend on the office's zone: `to_citizen` applies them per message.
            Policy { per_contact_per_hour: settings.notice_rules.per_contact_per_hour as usize, ..Policy::default() },
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
        let ops = settings.alerts.email.iter().filter_map(|email| Contact::parse(email, "").ok()).collect();
        Ok(CentralOutbox {
            dispatch,
            store,
            supervisors,
            ops,
            names,
            templates: Templates::builtin(),
            country_code: settings.country_code.clone(),
            rules: settings.notice_rules.clone(),
            citizen_url: citizen_url.trim_end_matches('/').to_string(),
        })
    }

    /// Sends until aborted, and deletes what is past its retention period every hour.
    pub fn start(&self, clock: Clock, surveys: Arc<Surveys>) -> Vec<tokio::task::JoinHandle<()>> {
        let outbox_clock: fila_notify::dispatch::Clock = {
            let clock = clock.clone();
            Arc::new(move || to_jiff(Timestamp(clock())))
        };
        let (dispatch, store) = (self.dispatch.clone(), self.store.clone());
        let retention = jiff::SignedDuration::from_hours(24 * i64::from(self.rules.retention_days));
        vec![
            tokio::spawn(dispatch.clone().run(outbox_clock)),
            tokio::spawn(async move {
                loop {
                    let (dispatch, store, surveys) = (dispatch.clone(), store.clone(), surveys.clone());
                    let now = Timestamp(clock());
                    let cutoff = to_jiff(now) - retention;
                    match tokio::task::spawn_blocking(move || purge(store.as_ref(), &dispatch, &surveys, cutoff)).await
                    {
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
        self.send_in(&cause, kind, supervisor.clone(), ALERT_LANG, message, None, Some(office), now)
    }

    /// An alert opened: each configured address hears of it once per office, kind and
    /// `episode` (see `alert_monitor`), so a restart that finds the same condition does not send
    /// it again. Returns how many were queued. Blocking.
    pub fn ops_alert(
        &self,
        alert: &crate::alerts::Alert,
        office_name: &str,
        since: &str,
        episode: &str,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let values = BTreeMap::from([
            ("office", office_name.to_string()),
            ("alert", crate::alert_monitor::spanish_name(alert.kind).to_string()),
            ("since", since.to_string()),
            ("detail", alert.detail.clone()),
        ]);
        let no_way_out = OptOut { reply_stop: false, link: None };
        let kind = NoticeKind::OpsAlert;
        let mut queued = 0;
        for (i, contact) in self.ops.iter().enumerate() {
            let Some(message) = self.templates.render(kind, ALERT_LANG, contact.medium(), &values, &no_way_out) else {
                continue;
            };
            let cause = format!("ops-alert/{}/{}/{episode}/{i}", alert.office, alert.kind.as_str());
            let office = Some(alert.office.as_str());
            queued +=
                usize::from(self.send_in(&cause, kind, contact.clone(), ALERT_LANG, message, None, office, now)?);
        }
        Ok(queued)
    }

    /// A message to a citizen about their booking, waiting-list place or remote join, in their
    /// language, with the office's own texts where headquarters wrote them; once per (cause,
    /// kind), no earlier than `not_before` (a reminder) nor, for kinds that can wait, inside the
    /// quiet hours. It ends with the opt-out link. Blocking.
    pub fn to_citizen(
        &self,
        cause: &str,
        kind: NoticeKind,
        to: &ToCitizen<'_>,
        not_before: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let templates = Templates::configured(&to.office.notices);
        let opt_out = OptOut { reply_stop: false, link: Some(self.opt_out_link(cause, now)?) };
        let Some(message) = templates.render(kind, to.lang, to.contact.medium(), to.values, &opt_out) else {
            return Ok(false);
        };
        let quiet = self.rules.quiet_hours_in(&to.office.time_zone).filter(|_| kind.waits_out_quiet_hours());
        let not_before = match quiet {
            Some(quiet) => {
                let earliest = not_before.map_or(now, |at| at.max(now));
                Some(Timestamp::from_ms(quiet.first_allowed(to_jiff(earliest)).as_millisecond()))
            }
            None => not_before,
        };
        self.send_in(cause, kind, to.contact.clone(), to.lang, message, not_before, Some(&to.office.id), now)
    }

    /// The opt-out link of `cause`'s messages: a keyed hash of the cause, which central remembers
    /// until the retention period ends, so the link is short and opens for that cause alone.
    fn opt_out_link(&self, cause: &str, now: Timestamp) -> Result<String, StoreError> {
        let book = self.dispatch.book();
        let mut mac = book.keyed_hash(&format!("opt-out {cause}"));
        // 128 bits are plenty for a link, and keep an SMS short.
        mac.truncate(32);
        let link = OptOutLink { cause: cause.to_string(), at: to_jiff(now) };
        let bytes = serde_json::to_vec(&link).map_err(|e| StoreError::Transaction(e.to_string()))?;
        self.store.put_meta(&format!("{OPT_OUT_LINK}{mac}"), &bytes)?;
        Ok(format!("{}/o/{mac}", self.citizen_url))
    }

    /// Follows an opt-out link: no more messages to its contact, for any cause, and what is
    /// queued for it ends. `false` when it is not one of central's links. Blocking.
    pub fn opt_out_by_link(&self, mac: &str, now: Timestamp) -> Result<bool, StoreError> {
        let well_formed = mac.len() == 32 && mac.bytes().all(|b| b.is_ascii_hexdigit());
        let stored = match well_formed {
            true => self.store.get_meta(&format!("{OPT_OUT_LINK}{mac}"))?,
            false => None,
        };
        let Some(link) = stored.and_then(|bytes| serde_json::from_slice::<OptOutLink>(&bytes).ok()) else {
            return Ok(false);
        };
        // Already stopped or deleted: the link did its work.
        let Some(stored) = self.dispatch.book().get(&link.cause)? else { return Ok(true) };
        let stopped = self.dispatch.opt_out(&stored.contact, "", to_jiff(now))?;
        tracing::info!(causes = stopped, "a citizen opted out of central's messages");
        Ok(true)
    }

    /// The notices about `office` (every one when `None`), newest first: their state and why
    /// one failed, never to whom. Blocking.
    pub fn list(&self, office: Option<&str>) -> Vec<fila_notify::outbox::Notice> {
        let mut notices: Vec<_> = self
            .dispatch
            .outbox()
            .notices()
            .filter(|n| office.is_none() || n.office.as_deref() == office)
            .cloned()
            .collect();
        notices.sort_by_key(|n| std::cmp::Reverse(n.created_at));
        notices
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
        self.send_in(cause, kind, contact, ALERT_LANG, message, None, None, now)
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
        office: Option<&str>,
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
            office: office.map(str::to_string),
        };
        self.dispatch.enqueue(draft, to_jiff(now))
    }
}

fn purge(
    store: &dyn Store,
    dispatch: &Dispatch,
    surveys: &Surveys,
    cutoff: jiff::Timestamp,
) -> Result<(usize, usize, usize), StoreError> {
    let contacts = dispatch.book().purge(cutoff)?;
    let forgotten = dispatch.forget_before(cutoff)?;
    for (key, bytes) in store.scan_meta(OPT_OUT_LINK)? {
        let old = serde_json::from_slice::<OptOutLink>(&bytes).map_or(true, |link| link.at < cutoff);
        if old {
            store.delete_meta(&key)?;
        }
    }
    let comments = surveys.purge(Timestamp::from_ms(cutoff.as_millisecond()))?;
    Ok((contacts, forgotten, comments))
}

fn to_jiff(at: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(at.as_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}
