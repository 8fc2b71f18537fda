//! Notices to citizens from the office: "your turn is near", "you are called at counter 4",
//! and the survey invitation after finish, by SMS (a GSM modem on the box, or an HTTP gateway)
//! or e-mail (SMTP on the LAN), so they keep going with the WAN down.
//!
//! The pure parts are in `fila_notify`: the outbox's states, contacts, templates. Here they meet
//! the office: a contact given at the kiosk or on the tracking page is stored beside the day
//! document (never in it), the runner derives notices from the office's state after every event
//! (`derive.rs`), stores them before sending, and sends them through the channels.

mod derive;
mod runner;

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use fila_notify::channel::Channel;
use fila_notify::contact::{Contact, Medium};
use fila_notify::contact_book::ContactBook;
use fila_notify::dispatch::Dispatch;
use fila_notify::email::Mailer;
use fila_notify::http_sms::HttpGateway;
use fila_notify::modem::IncomingSms;
use fila_notify::outbox::{Counts, Notice, Policy, QuietHours, State};
use fila_protocol::{BusinessDay, TicketId, Timestamp};
use fila_store::{Store, StoreError};
use tokio::sync::{mpsc, Notify};

pub use fila_notify::dispatch::Channels;

pub use derive::Thresholds;

use crate::office_loop::{Clock, OfficeHandle};
use crate::settings::{NoticeSettings, SmsRoute};

/// Sends in flight at once: a modem sends one SMS at a time anyway; SMTP takes a few.
const IN_FLIGHT_MAX: usize = 8;

/// What the runner needs to know, from `[notices]`.
#[derive(Clone)]
pub struct NoticeRules {
    pub thresholds: Thresholds,
    pub policy: Policy,
    pub retention: jiff::SignedDuration,
    /// Put in front of national numbers (typed at the kiosk, or a reply's sender).
    pub country_code: String,
    /// With a central, survey invitations link to its pages, which citizens reach from home
    /// (this box is usually behind the office's NAT); without, to this box's tracking page.
    pub central_surveys: Option<CentralSurveys>,
}

/// Where survey links point when the office has a central: its citizen address, and the key
/// both share (from the branch token) that makes each link checkable there.
#[derive(Clone, Debug)]
pub struct CentralSurveys {
    pub base_url: String,
    pub key: fila_notify::survey_link::SurveyKey,
}

impl CentralSurveys {
    pub fn from_settings(central: &crate::settings::CentralSettings) -> CentralSurveys {
        CentralSurveys {
            base_url: central.citizen_url(),
            key: fila_notify::survey_link::SurveyKey::from_branch_token(&central.token),
        }
    }
}

impl NoticeRules {
    /// The rules of `[notices]`, or the defaults when the section is absent (nothing is sent
    /// then: there is no channel).
    pub fn from_settings(settings: Option<&NoticeSettings>, zone: &jiff::tz::TimeZone) -> NoticeRules {
        let settings = settings.cloned().unwrap_or_else(crate::demo::notice_defaults);
        // Checked with the settings; a window that does not read is none.
        let quiet_hours = settings.quiet_hours.as_deref().and_then(|w| QuietHours::parse(w, zone.clone()).ok());
        NoticeRules {
            thresholds: Thresholds {
                ahead: settings.turn_near_ahead,
                minutes: settings.turn_near_minutes,
                survey: settings.survey,
                survey_delay_ms: i64::from(settings.survey_delay_seconds) * 1000,
            },
            policy: Policy {
                per_contact_per_hour: settings.per_contact_per_hour as usize,
                quiet_hours,
                ..Policy::default()
            },
            retention: jiff::SignedDuration::from_hours(24 * i64::from(settings.retention_days)),
            country_code: settings.country_code,
            central_surveys: None,
        }
    }
}

/// The channels `[notices]` names; `modem` is the `[devices.modem]`'s, when there is one.
pub fn channels_from_settings(
    settings: Option<&NoticeSettings>,
    modem: Option<Arc<dyn Channel>>,
) -> anyhow::Result<Channels> {
    let Some(settings) = settings else { return Ok(Channels::default()) };
    let email = match &settings.smtp {
        Some(smtp) => Some(Arc::new(Mailer::new(smtp).context("[notices.smtp]")?) as Arc<dyn Channel>),
        None => None,
    };
    let sms = match (settings.sms, &settings.sms_gateway) {
        (Some(SmsRoute::Modem), _) => modem,
        (Some(SmsRoute::Gateway), Some(gateway)) => {
            Some(Arc::new(HttpGateway::new(gateway).context("[notices.sms_gateway]")?) as Arc<dyn Channel>)
        }
        _ => None,
    };
    Ok(Channels { sms, email })
}

/// The notices of one office, shared by handlers and the runner.
pub struct Notices {
    office_id: String,
    store: Arc<dyn Store>,
    /// The outbox, the contact book and the channels, and the loop that sends.
    dispatch: Arc<Dispatch>,
    /// The tickets that have a contact, per business day (what `derive` looks at).
    contacts: Mutex<BTreeSet<(BusinessDay, TicketId)>>,
    rules: NoticeRules,
    /// Where citizens' phones reach this box: the tracking page and the opt-out page.
    base_url: String,
    /// Wakes the runner to derive again: a contact was added.
    wake: Notify,
    /// Survey comments: personal data too, deleted with the contacts.
    comments: fila_notify::survey_comments::SurveyComments,
}

#[derive(Debug, thiserror::Error)]
pub enum ContactRefused {
    #[error("{0}")]
    Bad(#[from] fila_notify::contact::ContactError),
    #[error("this office sends no {0} messages")]
    NoChannel(&'static str),
    #[error("the contact could not be stored: {0}")]
    Store(#[from] StoreError),
}

/// The cause of a ticket's notices, as the outbox and the contact book name it.
pub fn ticket_cause(office: &str, day: BusinessDay, ticket: TicketId) -> String {
    format!("ticket/{office}/{day}/{}", ticket.key())
}

impl Notices {
    pub fn open(
        office_id: &str,
        store: Arc<dyn Store>,
        channels: Channels,
        rules: NoticeRules,
        base_url: String,
        now: Timestamp,
    ) -> Result<Arc<Notices>, StoreError> {
        let comments = fila_notify::survey_comments::SurveyComments::new(store.clone());
        let book = ContactBook::open(store.clone())?;
        // A notice interrupted mid-send by the last stop is closed as such, on disk too.
        let dispatch =
            Dispatch::open(store.clone(), book.clone(), channels, rules.policy.clone(), IN_FLIGHT_MAX, to_jiff(now))?;
        let prefix = format!("ticket/{office_id}/");
        let mut contacts = BTreeSet::new();
        for cause in book.causes(&prefix)? {
            if let Some(found) = parse_cause(&cause[prefix.len()..]) {
                contacts.insert(found);
            }
        }
        Ok(Arc::new(Notices {
            office_id: office_id.to_string(),
            store,
            dispatch,
            contacts: Mutex::new(contacts),
            rules,
            base_url,
            wake: Notify::new(),
            comments,
        }))
    }

    /// Starts the runner, which derives and sends until the office stops, and the reader of
    /// the replies citizens send to the modem.
    pub fn start(
        self: &Arc<Self>,
        office: OfficeHandle,
        clock: Clock,
        replies: Option<mpsc::Receiver<IncomingSms>>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let sending_clock = clock.clone();
        let sending_clock: fila_notify::dispatch::Clock = Arc::new(move || to_jiff(sending_clock.as_ref()()));
        let mut tasks = vec![
            tokio::spawn(runner::run(self.clone(), office, clock.clone())),
            tokio::spawn(self.dispatch.clone().run(sending_clock)),
        ];
        if let Some(replies) = replies {
            tasks.push(tokio::spawn(read_replies(self.clone(), replies, clock)));
        }
        tasks
    }

    /// Reads a contact a citizen typed, and whether the box can reach it.
    pub fn parse_contact(&self, text: &str) -> Result<Contact, ContactRefused> {
        let contact = Contact::parse(text, &self.rules.country_code)?;
        if self.dispatch.channels().for_medium(contact.medium()).is_none() {
            return Err(ContactRefused::NoChannel(contact.medium().as_str()));
        }
        Ok(contact)
    }

    /// Keeps `contact` for a ticket, durably, and wakes the runner (the ticket may already be
    /// near its turn). Blocking: call from `spawn_blocking`.
    pub fn add_contact(
        &self,
        day: BusinessDay,
        ticket: TicketId,
        contact: Contact,
        lang: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let cause = ticket_cause(&self.office_id, day, ticket);
        self.book().put(&cause, contact, lang, to_jiff(now))?;
        self.store.flush()?;
        lock(&self.contacts).insert((day, ticket));
        self.wake.notify_one();
        Ok(())
    }

    /// The citizen asked for no more messages: this contact is stopped for every ticket, and
    /// what is queued for it ends. Blocking.
    pub fn opt_out(&self, contact: &Contact, now: Timestamp) -> Result<usize, StoreError> {
        let stopped = self.dispatch.opt_out(contact, &format!("ticket/{}/", self.office_id), to_jiff(now))?;
        tracing::info!(causes = stopped, "a citizen opted out of messages");
        Ok(stopped)
    }

    /// The opt-out link of a ticket's messages: it names the ticket and carries a keyed hash of
    /// it, so it opens for that ticket alone and needs nothing stored.
    pub fn opt_out_link(&self, day: BusinessDay, ticket: TicketId) -> String {
        format!("{}/o/{day}/{}/{}", self.base_url, ticket.key(), self.opt_out_mac(day, ticket))
    }

    fn opt_out_mac(&self, day: BusinessDay, ticket: TicketId) -> String {
        let mut mac = self.book().keyed_hash(&format!("opt-out {}", ticket_cause(&self.office_id, day, ticket)));
        // 128 bits are plenty for a link, and keep an SMS short.
        mac.truncate(32);
        mac
    }

    /// Follows an opt-out link; `false` when it is not one of this box's.
    pub fn opt_out_by_link(&self, day: &str, ticket: &str, mac: &str, now: Timestamp) -> Result<bool, StoreError> {
        let (Ok(day), Some(ticket)) = (BusinessDay::parse(day).ok_or(()), TicketId::from_key(ticket)) else {
            return Ok(false);
        };
        if !constant_time_eq(self.opt_out_mac(day, ticket).as_bytes(), mac.as_bytes()) {
            return Ok(false);
        }
        match self.book().get(&ticket_cause(&self.office_id, day, ticket))? {
            Some(stored) => self.opt_out(&stored.contact, now).map(|_| true),
            // Already stopped or deleted: the link did its work.
            None => Ok(true),
        }
    }

    pub fn counts(&self) -> Counts {
        self.dispatch.counts()
    }

    /// Every notice the box holds, for supervisors (no contact is in a notice).
    pub fn list(&self) -> Vec<Notice> {
        let mut notices: Vec<Notice> = self.dispatch.outbox().notices().cloned().collect();
        notices.sort_by_key(|notice| std::cmp::Reverse(notice.updated_at));
        notices
    }

    /// The notices still queued after failing `attempts` times or more, and the reason of the
    /// latest failure among them: a channel that keeps failing (the mail server down, the
    /// network refusing the modem) is the supervisor's to see to, though the modem itself may
    /// answer its health checks.
    pub fn failing(&self, attempts: u32) -> (usize, Option<String>) {
        let outbox = self.dispatch.outbox();
        let failing = || outbox.notices().filter(|n| n.state == State::Queued && n.attempts >= attempts);
        let latest = failing().max_by_key(|n| n.updated_at).and_then(|n| n.reason.clone());
        (failing().count(), latest)
    }

    /// Which media the box can send: what the kiosk may offer.
    pub fn media(&self) -> Vec<Medium> {
        let channels = self.dispatch.channels();
        [Medium::Sms, Medium::Email].into_iter().filter(|m| channels.for_medium(*m).is_some()).collect()
    }

    fn book(&self) -> &ContactBook {
        self.dispatch.book()
    }
}

async fn read_replies(notices: Arc<Notices>, mut replies: mpsc::Receiver<IncomingSms>, clock: Clock) {
    while let Some(reply) = replies.recv().await {
        if !fila_notify::contact::is_stop_reply(&reply.text) {
            tracing::info!(chars = reply.text.chars().count(), "an SMS that is not STOP reached the modem; ignored");
            continue;
        }
        // The sender's number as the network gives it: international with its '+'.
        let Ok(contact) = Contact::phone(&reply.from, &notices.rules.country_code) else {
            tracing::warn!("a STOP came from a number that cannot be read; ignored");
            continue;
        };
        let (notices, now) = (notices.clone(), clock.as_ref()());
        match tokio::task::spawn_blocking(move || notices.opt_out(&contact, now)).await {
            Ok(Ok(_)) => {}
            _ => tracing::error!("a STOP could not be stored; the modem will not be asked again"),
        }
    }
}

fn parse_cause(rest: &str) -> Option<(BusinessDay, TicketId)> {
    let (day, ticket) = rest.split_once('/')?;
    Some((BusinessDay::parse(day)?, TicketId::from_key(ticket)?))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn to_jiff(now: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(now.as_ms()).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// A poisoned lock means a panic mid-update elsewhere; the data is plain values, still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
