//! Remote joins at central: a citizen joins a service's queue from home, and follows their
//! ticket by a private link.
//!
//! Central never numbers a ticket. It checks what it can (the office connected, the service
//! offered and the office open now, the limits per contact and address), writes the join into
//! the office's requests document of the date, and keeps the personal part (the contact, for
//! the "come now" message) beside it in its own store under the link's hash. The office answers
//! in its day document, a ticket issued by `remote:<id>` or a refusal, and the citizen's page
//! reads the answer from the synced day, with the same position and estimate the office shows.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use fila_notify::contact::Contact;
use fila_notify::kind::NoticeKind;
use fila_protocol::remote::{RefusalReason, Request, TRAVEL_MINUTES_MAX};
use fila_protocol::{BusinessDay, OfficeConfig, ServiceId, Ticket, Timestamp, Who};
use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::hub::{Hub, ReadError};
use crate::outbox::CentralOutbox;
use crate::settings::RemoteJoinLimits;

const JOIN: &str = "join/record/";
const BY_CONTACT: &str = "join/by-contact/";
/// A join's record is kept through the day after its own: the ticket is of one day only.
const KEEP_DAYS: i64 = 2;

/// What a citizen asks for.
#[derive(Debug, Clone)]
pub struct JoinForm {
    pub office: String,
    pub service: String,
    pub contact: Option<String>,
    pub travel_minutes: u32,
    pub lang: String,
}

/// What central keeps of a join: where its answer is, and the personal part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JoinRecord {
    pub id: String,
    pub office: String,
    pub day: BusinessDay,
    pub service: String,
    pub at: Timestamp,
    pub travel_minutes: u32,
    pub contact: Option<Contact>,
    pub contact_fingerprint: Option<String>,
    pub lang: String,
}

/// A join as its citizen sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum JoinState {
    /// Written for the office, not answered yet (it answers within seconds while connected).
    Pending {
        office_online: bool,
    },
    Refused {
        reason: &'static str,
        next_opening: Option<String>,
    },
    Ticket(TicketView),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketView {
    pub number: String,
    pub status: &'static str,
    pub people_ahead: Option<u32>,
    pub estimated_wait_low_minutes: Option<u32>,
    pub estimated_wait_high_minutes: Option<u32>,
    /// The counter it is called to.
    pub counter: Option<String>,
    /// Not yet confirmed at the office: the page shows the code to scan at the kiosk.
    pub away: bool,
    /// Away, and the earliest its turn may come is within the travel time plus the office's
    /// margin: the page tells the citizen to set off (as the "come now" message does).
    pub come_now: bool,
    /// The ticket's tracking token, which the kiosk takes as "I'm here"; drawn as a QR code by
    /// the page, never put in the JSON.
    #[serde(skip)]
    pub tracking_token: String,
}

/// Why a join is refused at central, with a stable code for the API.
#[derive(Debug, thiserror::Error)]
pub enum JoinRefusal {
    #[error("there is no office {0:?}")]
    UnknownOffice(String),
    #[error("this office does not offer {0:?} by remote join")]
    NotOffered(String),
    #[error("remote join is closed: the office is not connected now. Please come in person")]
    OfficeOffline,
    #[error("the office is closed now{}", .0.as_ref().map(|at| format!("; it opens again at {at}")).unwrap_or_default())]
    OfficeClosed(Option<String>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Limit(String),
    #[error("no remote join matches")]
    NotFound,
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl JoinRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            JoinRefusal::UnknownOffice(_) | JoinRefusal::Read(ReadError::UnknownOffice(_)) => "unknown_office",
            JoinRefusal::NotOffered(_) => "not_offered",
            JoinRefusal::OfficeOffline => "office_offline",
            JoinRefusal::OfficeClosed(_) => "office_closed",
            JoinRefusal::BadRequest(_) => "bad_request",
            JoinRefusal::Limit(_) => "limit_reached",
            JoinRefusal::NotFound => "not_found",
            JoinRefusal::Read(_) | JoinRefusal::Store(_) => "internal",
        }
    }
}

pub struct RemoteJoins {
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    outbox: Arc<CentralOutbox>,
    /// Keys contacts' fingerprints, so the per-contact limit never stores a contact in a key.
    fingerprint_key: [u8; 32],
    limits: RemoteJoinLimits,
    /// Joins per client address in the last hour (memory only: a restart forgives).
    addresses: Mutex<HashMap<IpAddr, VecDeque<i64>>>,
    /// One join at a time: the per-contact count and the write are one step.
    writing: Mutex<()>,
    /// Where citizens reach central: the link in a "come now" message starts with it.
    citizen_url: String,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl RemoteJoins {
    pub fn new(
        store: Arc<dyn Store>,
        hub: Arc<Hub>,
        outbox: Arc<CentralOutbox>,
        fingerprint_key: [u8; 32],
        limits: RemoteJoinLimits,
        citizen_url: String,
    ) -> RemoteJoins {
        RemoteJoins {
            store,
            hub,
            outbox,
            fingerprint_key,
            limits,
            addresses: Mutex::new(HashMap::new()),
            writing: Mutex::new(()),
            citizen_url,
        }
    }

    /// The office's configuration, read from its synced document.
    fn config(&self, office: &str) -> Result<OfficeConfig, JoinRefusal> {
        crate::kpis::office_config(&self.hub, office)?.ok_or_else(|| JoinRefusal::UnknownOffice(office.to_string()))
    }

    /// The offices with a service that takes remote joins, by id and name. Blocking.
    pub fn offices(&self) -> Vec<(String, String)> {
        self.hub
            .offices()
            .into_iter()
            .filter_map(|office| self.config(&office.id).ok())
            .filter(|config| config.services.iter().any(|s| s.remote_join))
            .map(|config| (config.id, config.name))
            .collect()
    }

    /// The office's name and the services a citizen may join now, with whether the office is
    /// connected: a page offers joining only then. Blocking.
    pub fn offer(&self, office: &str, now: Timestamp) -> Result<Offer, JoinRefusal> {
        let config = self.config(office)?;
        let online = self.online(office);
        let open = config.calendar.closes_after(now, &config.time_zone).is_some();
        let services = config
            .services
            .iter()
            .filter(|s| s.remote_join && open)
            .map(|s| (s.id.0.clone(), s.name.clone()))
            .collect();
        let next_opening = next_opening(&config, now);
        Ok(Offer { office: config.id, name: config.name, online, open, next_opening, services })
    }

    fn online(&self, office: &str) -> bool {
        self.hub.offices().iter().any(|o| o.id == office && o.online)
    }

    /// Takes a join: checked, written for the office, and its record kept under the private
    /// link's hash. Returns the record and the link's token. Blocking.
    pub fn join(&self, form: JoinForm, address: IpAddr, now: Timestamp) -> Result<(JoinRecord, String), JoinRefusal> {
        let config = self.config(&form.office)?;
        let service = config
            .service(&ServiceId(form.service.clone()))
            .filter(|s| s.remote_join)
            .ok_or_else(|| JoinRefusal::NotOffered(form.service.clone()))?;
        if form.travel_minutes > TRAVEL_MINUTES_MAX {
            return Err(JoinRefusal::BadRequest(format!("travel_minutes is at most {TRAVEL_MINUTES_MAX}")));
        }
        if !self.online(&config.id) {
            return Err(JoinRefusal::OfficeOffline);
        }
        if config.calendar.closes_after(now, &config.time_zone).is_none() {
            return Err(JoinRefusal::OfficeClosed(next_opening(&config, now)));
        }
        let contact = match form.contact.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(text) => Some(self.outbox.contact(text).map_err(JoinRefusal::BadRequest)?),
            None => None,
        };
        let fingerprint = contact.as_ref().map(|c| c.fingerprint(&self.fingerprint_key).0);
        let day = BusinessDay::containing(now, &config.time_zone);
        let _writing = lock(&self.writing);
        if let Some(fingerprint) = &fingerprint {
            let prefix = format!("{BY_CONTACT}{fingerprint}/{day}/");
            if self.store.scan_meta(&prefix)?.len() as u32 >= self.limits.per_contact_per_day {
                return Err(JoinRefusal::Limit(format!(
                    "this contact has joined {} queues today, the most allowed",
                    self.limits.per_contact_per_day
                )));
            }
        }
        self.count_address(address, now)?;
        let token = crate::auth::random_token();
        let record = JoinRecord {
            id: crate::auth::random_token()[..16].to_string(),
            office: config.id.clone(),
            day,
            service: service.id.0.clone(),
            at: now,
            travel_minutes: form.travel_minutes,
            contact,
            contact_fingerprint: fingerprint,
            lang: if form.lang == "en" { "en" } else { "es" }.to_string(),
        };
        // The record first: a join the office answers must always have its page.
        self.put_record(&token, &record)?;
        let request = Request {
            id: record.id.clone(),
            service: service.id.clone(),
            at: now,
            travel_minutes: record.travel_minutes,
        };
        self.hub.write_request(&record.office, day, &request)?;
        tracing::info!(office = %record.office, service = %record.service, request = %record.id, "remote join written");
        Ok((record, token))
    }

    fn put_record(&self, token: &str, record: &JoinRecord) -> Result<(), StoreError> {
        let json = serde_json::to_vec(&Stored { record: record.clone(), token: token.to_string() }).unwrap_or_default();
        self.store.put_meta(&format!("{JOIN}{}", sha256_hex(token)), &json)?;
        if let Some(fingerprint) = &record.contact_fingerprint {
            self.store.put_meta(&format!("{BY_CONTACT}{fingerprint}/{}/{}", record.day, record.id), &[])?;
        }
        self.store.flush()
    }

    fn count_address(&self, address: IpAddr, now: Timestamp) -> Result<(), JoinRefusal> {
        let mut addresses = lock(&self.addresses);
        let seen = addresses.entry(address).or_default();
        let hour_ago = now.plus_minutes(-60).as_ms();
        while seen.front().is_some_and(|at| *at <= hour_ago) {
            seen.pop_front();
        }
        if seen.len() as u32 >= self.limits.per_address_per_hour {
            return Err(JoinRefusal::Limit("too many remote joins from this address; try again in an hour".into()));
        }
        seen.push_back(now.as_ms());
        Ok(())
    }

    /// The join behind a private link, and how it stands now. Blocking.
    pub fn view(&self, token: &str, now: Timestamp) -> Result<(JoinRecord, JoinState), JoinRefusal> {
        let bytes = self.store.get_meta(&format!("{JOIN}{}", sha256_hex(token)))?.ok_or(JoinRefusal::NotFound)?;
        let record = serde_json::from_slice::<Stored>(&bytes).map_err(|_| JoinRefusal::NotFound)?.record;
        let day = match self.hub.day_now(&record.office, record.day) {
            Ok(day) => Some(day),
            Err(ReadError::NoDocument { .. }) => None,
            Err(error) => return Err(error.into()),
        };
        let refusal = day.as_ref().and_then(|d| d.refusals.get(&record.id).copied());
        let ticket = day.as_ref().and_then(|d| {
            d.tickets.values().find(|t| matches!(&t.issuer, Who::Remote(id) if *id == record.id)).cloned()
        });
        let state = match (ticket, refusal) {
            (Some(ticket), _) => {
                let config = self.config(&record.office)?;
                let position =
                    day.as_ref().and_then(|day| fila_protocol::office::position_in(&config, day, ticket.id, now));
                let come_now = match (ticket.away, &position) {
                    (Some(away), Some(position)) => away.time_to_come(position.wait, config.room.come_margin_minutes),
                    _ => false,
                };
                JoinState::Ticket(ticket_view(&ticket, position, come_now))
            }
            (None, Some(refusal)) => {
                let next = match refusal.reason {
                    RefusalReason::Closed | RefusalReason::Closing => {
                        self.config(&record.office).ok().and_then(|c| next_opening(&c, now))
                    }
                    _ => None,
                };
                JoinState::Refused { reason: refusal.reason.name(), next_opening: next }
            }
            (None, None) => JoinState::Pending { office_online: self.online(&record.office) },
        };
        Ok((record, state))
    }

    /// Deletes joins whose day is over (their contact with them). Returns how many went; the
    /// caller's store flush follows. Blocking.
    pub fn purge(&self, now: Timestamp) -> Result<usize, StoreError> {
        let today = BusinessDay::containing(now, &jiff::tz::TimeZone::UTC);
        let before = today.plus_days(-KEEP_DAYS);
        let mut gone = 0;
        for (key, bytes) in self.store.scan_meta(JOIN)? {
            let Ok(Stored { record, .. }) = serde_json::from_slice::<Stored>(&bytes) else { continue };
            if record.day >= before {
                continue;
            }
            if let Some(fingerprint) = &record.contact_fingerprint {
                self.store.delete_meta(&format!("{BY_CONTACT}{fingerprint}/{}/{}", record.day, record.id))?;
            }
            self.store.delete_meta(&key)?;
            gone += 1;
        }
        if gone > 0 {
            self.store.flush()?;
        }
        Ok(gone)
    }
}

impl RemoteJoins {
    /// Tells citizens who joined from home with a contact to set off, once, when the earliest
    /// their turn may come is within their travel time plus the office's margin (the office's
    /// box tells those it holds contacts for; these are central's). Run every minute. Blocking.
    pub fn tell_to_come(&self, now: Timestamp) -> Result<usize, JoinRefusal> {
        let mut by_office: HashMap<(String, BusinessDay), Vec<Stored>> = HashMap::new();
        for (_, bytes) in self.store.scan_meta(JOIN)? {
            let Ok(stored) = serde_json::from_slice::<Stored>(&bytes) else { continue };
            if stored.record.contact.is_some() {
                by_office.entry((stored.record.office.clone(), stored.record.day)).or_default().push(stored);
            }
        }
        let mut told = 0;
        for ((office, day), joins) in by_office {
            let Ok(config) = self.config(&office) else { continue };
            if BusinessDay::containing(now, &config.time_zone) != day {
                continue;
            }
            let Ok(synced) = self.hub.day_now(&office, day) else { continue };
            for Stored { record, token } in joins {
                let Some(contact) = &record.contact else { continue };
                let Some(ticket) =
                    synced.tickets.values().find(|t| matches!(&t.issuer, Who::Remote(id) if *id == record.id))
                else {
                    continue;
                };
                let (Some(away), Some(position)) =
                    (ticket.away, fila_protocol::office::position_in(&config, &synced, ticket.id, now))
                else {
                    continue;
                };
                if !away.time_to_come(position.wait, config.room.come_margin_minutes) {
                    continue;
                }
                let values = std::collections::BTreeMap::from([
                    ("office", config.name.clone()),
                    ("ticket", ticket.number.to_string()),
                    ("minutes", position.wait.low.to_string()),
                    ("link", format!("{}/f/{token}", self.citizen_url)),
                ]);
                let to = crate::outbox::ToCitizen { contact, lang: &record.lang, values: &values, office: &config };
                if self.outbox.to_citizen(&format!("join/{}", record.id), NoticeKind::ComeNow, &to, None, now)? {
                    told += 1;
                }
            }
        }
        Ok(told)
    }
}

/// A join as stored: its record and its link's token (the "come now" message carries the link).
#[derive(Serialize, Deserialize)]
struct Stored {
    record: JoinRecord,
    token: String,
}

/// What a citizen may join at an office now.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    pub office: String,
    pub name: String,
    /// The office's box is connected: a join reaches it now.
    pub online: bool,
    /// The office is open now by its hours.
    pub open: bool,
    pub next_opening: Option<String>,
    /// Services that take remote joins, by id and name (none while closed).
    pub services: Vec<(String, String)>,
}

fn next_opening(config: &OfficeConfig, now: Timestamp) -> Option<String> {
    let at = config.calendar.next_opening(now, &config.time_zone)?;
    Some(fila_protocol::office::local_text(at, &config.time_zone))
}

fn ticket_view(ticket: &Ticket, position: Option<fila_protocol::office::Position>, come_now: bool) -> TicketView {
    TicketView {
        number: ticket.number.to_string(),
        status: ticket.status.name(),
        people_ahead: position.map(|p| p.people_ahead),
        estimated_wait_low_minutes: position.map(|p| p.wait.low),
        estimated_wait_high_minutes: position.map(|p| p.wait.high),
        counter: ticket.counter.as_ref().map(|c| c.to_string()),
        away: ticket.away.is_some(),
        come_now,
        tracking_token: ticket.token.clone(),
    }
}
