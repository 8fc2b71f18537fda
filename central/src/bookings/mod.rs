//! Appointments booked at central: central is the only writer of bookings, so a slot's capacity
//! is counted and taken in one place, under one lock per office and date (no double booking,
//! however many citizens race for the last place).
//!
//! The flow: a citizen asks for a slot with their identity and a contact ([`Bookings::request`]);
//! the slot is held while a code goes to that contact; the code confirms it
//! ([`Bookings::confirm`]), which writes the booking into the office's appointments document
//! (ids, slot, state, the short code's hash: nothing personal) and keeps the personal part in
//! central's store (`records`). The confirmation carries the signed pass (the QR code), the
//! short code and a private link to see or cancel the booking.

pub mod identity;
pub mod records;
pub mod secrets;
pub mod waitlist;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use fila_notify::kind::NoticeKind;
use fila_protocol::booking::slots::{self, FreeSlot, Unbookable};
use fila_protocol::booking::{Booking, BookingPass, BookingState, ShortCode};
use fila_protocol::calendar::LocalTime;
use fila_protocol::config::OfficeConfig;
use fila_protocol::{BusinessDay, ServiceId, Timestamp};
use fila_store::{Store, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::hub::{Hub, ReadError};
use crate::outbox::{CentralOutbox, ToCitizen};
use crate::settings::BookingLimits;
use records::{Hold, Person, Record, WaitingState};
use secrets::Secrets;

/// A note to the office is short: what the procedure is, so it can prepare.
pub const NOTE_CHARS_MAX: usize = 300;
const NO_SHOW_DAYS: i64 = 90;
const BOOKING_STRIPES: usize = 64;

/// What a citizen asks for.
#[derive(Debug, Clone)]
pub struct BookingRequest {
    pub office: String,
    pub service: String,
    pub day: BusinessDay,
    pub start: LocalTime,
    pub person: PersonForm,
}

/// Who a booking or a place on a waiting list is for, as the citizen wrote it.
#[derive(Debug, Clone)]
pub struct PersonForm {
    pub document_type: String,
    pub document_number: String,
    pub contact: String,
    pub lang: String,
    pub note: Option<String>,
}

/// A slot held for a citizen until they enter the code sent to their contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldReceipt {
    pub hold: String,
    pub expires_at: Timestamp,
    /// "email" or "sms": where the code went, never the contact itself.
    pub sent_by: &'static str,
}

/// A confirmed booking, as its confirmation shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    pub booking: String,
    pub office: String,
    pub service: String,
    pub day: BusinessDay,
    pub start: LocalTime,
    pub short_code: String,
    /// The signed pass, for the QR code.
    pub pass: String,
    /// The private token of the link to see or cancel it.
    pub manage_token: String,
}

/// What the counter sees of a booking beside the appointments document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CounterDetail {
    pub booking: String,
    pub last4: String,
    pub note: Option<String>,
}

/// Why a booking request, confirmation or cancellation was refused, in words a citizen can act
/// on; each has a stable code for the API.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Unbookable(#[from] Unbookable),
    #[error("this office takes no bookings")]
    OfficeNotBooking,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Limit(String),
    #[error("{0}")]
    SlotsFree(String),
    #[error("you are already on the waiting list for this service")]
    AlreadyWaiting,
    #[error("no booking or hold matches")]
    NotFound,
    #[error("the time to confirm has passed; please book again")]
    Expired,
    #[error("the code is not right")]
    WrongCode,
    #[error("the booking can no longer be cancelled or changed here (it is {0})")]
    TooLate(String),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Refusal {
    /// The API's `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unbookable(Unbookable::Full(_)) => "slot_full",
            Refusal::Unbookable(Unbookable::NoSuchSlot(_)) => "no_such_slot",
            Refusal::Unbookable(Unbookable::UnknownService(_)) => "unknown_service",
            Refusal::Unbookable(_) | Refusal::OfficeNotBooking => "not_bookable",
            Refusal::BadRequest(_) => "bad_request",
            Refusal::Limit(_) => "limit_reached",
            Refusal::SlotsFree(_) => "slots_free",
            Refusal::AlreadyWaiting => "already_waiting",
            Refusal::NotFound => "not_found",
            Refusal::Expired => "hold_expired",
            Refusal::WrongCode => "wrong_code",
            Refusal::TooLate(_) => "too_late",
            Refusal::Read(ReadError::UnknownOffice(_)) => "unknown_office",
            Refusal::Read(_) | Refusal::Store(_) => "internal",
        }
    }
}

/// One slot of an office's service on a date.
#[derive(Debug, Clone, Copy)]
struct Slot<'a> {
    office: &'a str,
    day: BusinessDay,
    service: &'a str,
    start: LocalTime,
}

/// How a booking has its place: a hold taken for it before, or a place counted now.
#[derive(Debug, Clone, Copy)]
enum Seat<'a> {
    Held(&'a str),
    Room,
}

/// Held while a slot of an office's date is counted and taken.
type DayLock = Arc<Mutex<()>>;

pub struct Bookings {
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    outbox: Arc<CentralOutbox>,
    secrets: Secrets,
    limits: BookingLimits,
    /// Counting what a slot holds and taking a place is one step per office and date.
    locks: Mutex<HashMap<(String, BusinessDay), DayLock>>,
    /// Requests per client address in the last hour (memory only: a restart forgives).
    addresses: Mutex<HashMap<IpAddr, VecDeque<i64>>>,
    /// Held while someone joins a waiting list or free places are offered to them.
    line: Mutex<()>,
    /// Changes to one booking (cancel and move by its link, the minute's settling) one at a
    /// time, by a stripe of its link's hash: bounded however many bookings there are.
    stripes: Vec<Mutex<()>>,
    /// Where citizens reach central: the private links in messages start with it.
    citizen_url: String,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

impl Bookings {
    pub fn new(
        store: Arc<dyn Store>,
        hub: Arc<Hub>,
        outbox: Arc<CentralOutbox>,
        secrets: Secrets,
        limits: BookingLimits,
        citizen_url: String,
    ) -> Bookings {
        Bookings {
            store,
            hub,
            outbox,
            secrets,
            limits,
            locks: Mutex::new(HashMap::new()),
            addresses: Mutex::new(HashMap::new()),
            line: Mutex::new(()),
            stripes: (0..BOOKING_STRIPES).map(|_| Mutex::new(())).collect(),
            citizen_url,
        }
    }

    /// The public key edges check passes with.
    pub fn public_key(&self) -> String {
        self.secrets.public_key()
    }

    /// The office's configuration, if it takes bookings at all.
    pub fn config(&self, office: &str) -> Result<OfficeConfig, Refusal> {
        let config = crate::kpis::office_config(&self.hub, office)?.ok_or(Refusal::OfficeNotBooking)?;
        if config.services.iter().all(|s| s.booking.is_none()) {
            return Err(Refusal::OfficeNotBooking);
        }
        Ok(config)
    }

    /// The offices that take bookings, by id and name. Blocking.
    pub fn bookable_offices(&self) -> Vec<(String, String)> {
        self.hub
            .offices()
            .into_iter()
            .filter_map(|office| self.config(&office.id).ok().map(|config| (office.id, config.name)))
            .collect()
    }

    /// The slots of a day with what is left in each (holds count as taken). Blocking.
    pub fn free_slots(
        &self,
        office: &str,
        service: &str,
        day: BusinessDay,
        now: Timestamp,
    ) -> Result<Vec<FreeSlot>, Refusal> {
        let config = self.config(office)?;
        let taken = self.taken(office, day, now)?;
        let service = ServiceId(service.to_string());
        let free = slots::free_slots(&config, &service, day, now, |start| {
            taken.get(&(service.clone(), start)).copied().unwrap_or(0)
        })?;
        Ok(free)
    }

    /// Places taken per (service, slot): bookings holding one, and holds not yet expired.
    fn taken(
        &self,
        office: &str,
        day: BusinessDay,
        now: Timestamp,
    ) -> Result<HashMap<(ServiceId, LocalTime), u32>, Refusal> {
        let mut taken = HashMap::new();
        for booking in self.hub.appointments(office, day)?.bookings.values() {
            if booking.state.holds_place() {
                *taken.entry((booking.service.clone(), booking.start)).or_default() += 1;
            }
        }
        for hold in records::holds_on(self.store.as_ref(), office, day)? {
            if let (true, Some(start)) = (hold.expires_at > now.as_ms(), LocalTime::parse(&hold.start)) {
                *taken.entry((ServiceId(hold.service.clone()), start)).or_default() += 1;
            }
        }
        Ok(taken)
    }

    /// Whether `slot` still has a place, holds counted; the caller holds its day's lock.
    fn admit_locked(&self, config: &OfficeConfig, slot: Slot<'_>, now: Timestamp) -> Result<(), Refusal> {
        let service = ServiceId(slot.service.to_string());
        let taken = self.taken(slot.office, slot.day, now)?;
        let in_slot = taken.get(&(service.clone(), slot.start)).copied().unwrap_or(0);
        slots::admit(config, &service, slot.day, slot.start, now, in_slot)?;
        Ok(())
    }

    fn day_lock(&self, office: &str, day: BusinessDay) -> DayLock {
        lock(&self.locks).entry((office.to_string(), day)).or_default().clone()
    }

    /// Runs `step`, which counts a date's places and takes one, with the date locked in this
    /// process and, where replicas of central share the store, in all of them. With a shared
    /// store what `step` wrote is committed before the lock goes, so the next replica to take it
    /// counts it: a place is given once across replicas.
    fn admitting<T>(
        &self,
        office: &str,
        day: BusinessDay,
        step: impl FnOnce() -> Result<T, Refusal>,
    ) -> Result<T, Refusal> {
        let day_lock = self.day_lock(office, day);
        let _held = lock(&day_lock);
        let doc = fila_protocol::doc::keys::appointments_doc_id(office, day);
        fila_store::with_doc_locked(&*self.store, &doc, || {
            let value = step()?;
            if self.store.shared() {
                self.store.flush()?;
            }
            Ok(value)
        })
    }

    /// Reads who a request is for: the identity kept as its keyed hash, the contact central
    /// can reach, the note within its length.
    fn person(&self, form: &PersonForm) -> Result<Person, Refusal> {
        let identity = identity::identify(&self.secrets.identity, &form.document_type, &form.document_number)
            .map_err(|e| Refusal::BadRequest(e.to_string()))?;
        let contact = self.outbox.contact(&form.contact).map_err(Refusal::BadRequest)?;
        let note = form.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
        if note.as_ref().is_some_and(|n| n.chars().count() > NOTE_CHARS_MAX) {
            return Err(Refusal::BadRequest(format!("a note is at most {NOTE_CHARS_MAX} characters")));
        }
        Ok(Person {
            identity_hash: identity.hash,
            last4: identity.last4,
            contact_fingerprint: contact.fingerprint(&self.secrets.identity).0,
            contact,
            lang: if form.lang == "en" { "en" } else { "es" }.to_string(),
            note,
        })
    }

    /// Holds a slot and sends the code that confirms it. Blocking.
    pub fn request(&self, request: BookingRequest, address: IpAddr, now: Timestamp) -> Result<HoldReceipt, Refusal> {
        let person = self.person(&request.person)?;
        self.count_address(address, now)?;
        self.check_limits(&person, &request.service, now)?;

        let config = self.config(&request.office)?;
        let code = format!("{:06}", rand::rngs::OsRng.next_u32() % 1_000_000);
        let hold = Hold {
            id: crate::auth::random_token(),
            office: request.office.clone(),
            day: request.day,
            service: request.service.clone(),
            start: request.start.to_string(),
            person,
            code_hash: sha256_hex(&code),
            attempts: 0,
            expires_at: now.plus_minutes(i64::from(self.limits.hold_minutes)).as_ms(),
            waitlist: None,
        };
        self.admitting(&request.office, request.day, || {
            let slot =
                Slot { office: &request.office, day: request.day, service: &request.service, start: request.start };
            self.admit_locked(&config, slot, now)?;
            Ok(records::put_hold(self.store.as_ref(), &hold)?)
        })?;
        // Durable before the citizen hears of it, but outside the lock: concurrent requests'
        // holds reach the disk in one flush instead of one each, in turn.
        self.store.flush()?;
        let values = BTreeMap::from([("office", config.name.clone()), ("code", code)]);
        let to = ToCitizen { contact: &hold.person.contact, lang: &hold.person.lang, values: &values, office: &config };
        let cause = format!("booking-hold/{}", hold.id);
        self.outbox.to_citizen(&cause, NoticeKind::BookingCode, &to, None, now)?;
        tracing::info!(office = %hold.office, day = %hold.day, service = %hold.service, start = %hold.start, "slot held");
        let sent_by = hold.person.contact.medium().as_str();
        Ok(HoldReceipt { hold: hold.id, expires_at: Timestamp(hold.expires_at), sent_by })
    }

    fn count_address(&self, address: IpAddr, now: Timestamp) -> Result<(), Refusal> {
        let mut addresses = lock(&self.addresses);
        let seen = addresses.entry(address).or_default();
        let hour_ago = now.plus_minutes(-60).as_ms();
        while seen.front().is_some_and(|at| *at <= hour_ago) {
            seen.pop_front();
        }
        if seen.len() as u32 >= self.limits.per_address_per_hour {
            return Err(Refusal::Limit("too many booking requests from this address; try again in an hour".into()));
        }
        seen.push_back(now.as_ms());
        Ok(())
    }

    /// The limits against hoarding: active bookings per identity (per service and overall) and
    /// per contact, and a suspension after repeated no-shows.
    fn check_limits(&self, person: &Person, service: &str, now: Timestamp) -> Result<(), Refusal> {
        let (identity, contact) = (person.identity_hash.as_str(), person.contact_fingerprint.as_str());
        let store = self.store.as_ref();
        let today = BusinessDay::containing(now, &jiff::tz::TimeZone::UTC).plus_days(-1);
        let active = |record: &Record| record.state == "booked" && record.day >= today;
        let mine: Vec<Record> = records::of_identity(store, identity)?.into_iter().filter(active).collect();
        if mine.iter().filter(|r| r.service == service).count() as u32 >= self.limits.per_identity_per_service {
            return Err(Refusal::Limit(
                "you already hold a booking for this service; cancel it to book another".into(),
            ));
        }
        if mine.len() as u32 >= self.limits.per_identity {
            return Err(Refusal::Limit(format!("one person may hold at most {} bookings", self.limits.per_identity)));
        }
        let with_contact = records::of_contact(store, contact)?.into_iter().filter(active).count() as u32;
        if with_contact >= self.limits.per_contact {
            return Err(Refusal::Limit(format!("this contact already holds {with_contact} bookings")));
        }
        let since = today.plus_days(-NO_SHOW_DAYS);
        let mut missed: Vec<BusinessDay> =
            records::no_shows(store, identity)?.into_iter().filter(|d| *d >= since).collect();
        missed.sort();
        if missed.len() as u32 >= self.limits.no_shows_to_suspend {
            let last = missed.last().copied().unwrap_or(today);
            let until = last.plus_days(i64::from(self.limits.suspension_days));
            if today <= until {
                return Err(Refusal::Limit(format!(
                    "booking is suspended until {until} after {} missed appointments",
                    missed.len()
                )));
            }
        }
        Ok(())
    }

    /// Confirms a held slot with the code sent to the contact (or the token of a waiting-list
    /// offer's link): the booking is written to the office's appointments document and the
    /// confirmation is sent. Blocking.
    pub fn confirm(&self, hold_id: &str, code: &str, now: Timestamp) -> Result<Confirmed, Refusal> {
        let store = self.store.as_ref();
        let mut hold = records::hold(store, hold_id)?.ok_or(Refusal::NotFound)?;
        if hold.expires_at <= now.as_ms() {
            records::delete_hold(store, &hold)?;
            return Err(Refusal::Expired);
        }
        if sha256_hex(code.trim()) != hold.code_hash {
            hold.attempts += 1;
            if hold.attempts >= self.limits.code_attempts {
                records::delete_hold(store, &hold)?;
            } else {
                records::put_hold(store, &hold)?;
            }
            store.flush()?;
            return Err(Refusal::WrongCode);
        }
        let start = LocalTime::parse(&hold.start).ok_or(Refusal::NotFound)?;
        let slot = Slot { office: &hold.office, day: hold.day, service: &hold.service, start };
        // The hold already counts in the slot: it becomes the booking in one step.
        let confirmed = self.book(slot, &hold.person, Seat::Held(hold_id), crate::auth::random_token(), now)?;
        if let Some(waiting) = &hold.waitlist {
            let _line = lock(&self.line);
            if let Some(mut place) = records::waiting(store, waiting)? {
                place.state = WaitingState::Taken;
                place.offer = None;
                records::put_waiting(store, &place)?;
            }
            records::put_offer(store, &hold.office, hold.day, &hold.service, &hold.id, true)?;
        }
        store.flush()?;
        Ok(confirmed)
    }

    /// Writes a booking for `person` into a slot and keeps its personal part, then sends the
    /// confirmation and schedules the reminders. Under the day's lock, the seat is checked once
    /// more: a hold must still be there and unexpired (a double submit, or an offer lapsing
    /// meanwhile, finds it gone) and goes in the same step; a slot taken without a hold must
    /// still have a place. Blocking.
    fn book(
        &self,
        slot: Slot<'_>,
        person: &Person,
        seat: Seat<'_>,
        manage_token: String,
        now: Timestamp,
    ) -> Result<Confirmed, Refusal> {
        let store = self.store.as_ref();
        let config = self.config(slot.office)?;
        let service = ServiceId(slot.service.to_string());
        let (_, settings) = slots::bookable(&config, &service)?;
        let short = ShortCode::from_random(random_bytes());
        let booking = Booking {
            id: new_booking_id(),
            service: service.clone(),
            start: slot.start,
            minutes: settings.slot_minutes,
            state: BookingState::Booked,
            code_hash: short.hash(slot.office),
            booked_at: now,
            updated_at: now,
        };
        self.admitting(slot.office, slot.day, || {
            let hold = match seat {
                Seat::Held(id) => {
                    let hold = records::hold(store, id)?.ok_or(Refusal::NotFound)?;
                    if hold.expires_at <= now.as_ms() {
                        return Err(Refusal::Expired);
                    }
                    // Gone before the write that the write's own flush makes durable.
                    records::delete_hold(store, &hold)?;
                    Some(hold)
                }
                Seat::Room => {
                    self.admit_locked(&config, slot, now)?;
                    None
                }
            };
            let written = self.hub.write_appointments(slot.office, slot.day, |writer, _| writer.put(&booking));
            if let Err(error) = written {
                if let Some(hold) = &hold {
                    records::put_hold(store, hold)?;
                }
                return Err(error.into());
            }
            Ok(())
        })?;
        let pass = BookingPass {
            office: slot.office.to_string(),
            day: slot.day,
            booking: booking.id.clone(),
            service,
            start: slot.start,
            minutes: booking.minutes,
        }
        .sign(&self.secrets.signing);
        let record = Record {
            id: booking.id.clone(),
            office: slot.office.to_string(),
            day: slot.day,
            service: slot.service.to_string(),
            start: slot.start.to_string(),
            minutes: booking.minutes,
            person: person.clone(),
            state: "booked".into(),
            created_at: now.as_ms(),
            pass: pass.clone(),
            short_code: short.to_string(),
            manage_hash: sha256_hex(&manage_token),
        };
        records::put_record(store, &record)?;
        store.flush()?;
        let confirmed = Confirmed {
            booking: booking.id.clone(),
            office: record.office.clone(),
            service: record.service.clone(),
            day: slot.day,
            start: slot.start,
            short_code: short.to_string(),
            pass,
            manage_token,
        };
        let service_name = config.service(&booking.service).map_or_else(|| record.service.clone(), |s| s.name.clone());
        let values = BTreeMap::from([
            ("office", config.name.clone()),
            ("code", confirmed.short_code.clone()),
            ("service", service_name),
            ("date", slot.day.to_string()),
            ("time", record.start.clone()),
            // Without an address configured, the office's name is where to go.
            ("address", config.address.clone().unwrap_or_else(|| config.name.clone())),
            ("link", format!("{}/b/{}", self.citizen_url, confirmed.manage_token)),
        ]);
        let to = ToCitizen { contact: &person.contact, lang: &person.lang, values: &values, office: &config };
        self.outbox.to_citizen(&format!("booking/{}", booking.id), NoticeKind::BookingConfirmed, &to, None, now)?;
        // Reminders before the slot, each on its own cause (one notice per cause and kind).
        let slot_at = slot.start.on(slot.day, &config.time_zone);
        for hours in &self.limits.reminder_hours {
            let at = slot_at.plus_minutes(-60 * i64::from(*hours));
            if at > now {
                let cause = reminder_cause(&booking.id, *hours);
                self.outbox.to_citizen(&cause, NoticeKind::Reminder, &to, Some(at), now)?;
            }
        }
        tracing::info!(office = %record.office, day = %record.day, booking = %booking.id, "booking confirmed");
        Ok(confirmed)
    }

    /// The lock of the bookings whose link hashes to `manage_hash`'s stripe. Taken before any
    /// day's lock.
    fn booking_lock(&self, manage_hash: &str) -> MutexGuard<'_, ()> {
        let stripe = manage_hash.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(usize::from(b)));
        lock(&self.stripes[stripe % self.stripes.len()])
    }

    /// A booking by its private link's token, still booked and before its service's deadline
    /// for changes. The caller holds its [`Bookings::booking_lock`].
    fn changeable(&self, manage_token: &str, now: Timestamp) -> Result<Record, Refusal> {
        let store = self.store.as_ref();
        let record = records::by_manage_hash(store, &sha256_hex(manage_token))?.ok_or(Refusal::NotFound)?;
        if record.state != "booked" {
            return Err(Refusal::TooLate(record.state.clone()));
        }
        let config = self.config(&record.office)?;
        let service = ServiceId(record.service.clone());
        let (_, settings) = slots::bookable(&config, &service)?;
        let start = LocalTime::parse(&record.start).ok_or(Refusal::NotFound)?;
        let deadline =
            start.on(record.day, &config.time_zone).plus_minutes(-i64::from(settings.cancel_deadline_minutes));
        if now > deadline {
            return Err(Refusal::TooLate("past the cancellation deadline".into()));
        }
        Ok(record)
    }

    /// Cancels a booking by its private link's token, before the service's deadline. Blocking.
    pub fn cancel(&self, manage_token: &str, now: Timestamp) -> Result<Record, Refusal> {
        let record = {
            let _booking = self.booking_lock(&sha256_hex(manage_token));
            let mut record = self.changeable(manage_token, now)?;
            self.withdraw(&mut record, "cancelled", now)?;
            self.store.flush()?;
            record
        };
        tracing::info!(office = %record.office, booking = %record.id, "booking cancelled");
        self.offer_after_change(&record.office, now);
        Ok(record)
    }

    /// Moves a booking to another slot of the same service (another day too), before the
    /// deadline: the new slot is taken first, then the old one freed, so a citizen never ends
    /// up with neither. The private link stays the same; the codes are new; the old place goes
    /// to its waiting list. Blocking.
    pub fn move_to(
        &self,
        manage_token: &str,
        day: BusinessDay,
        start: LocalTime,
        now: Timestamp,
    ) -> Result<Confirmed, Refusal> {
        let moved = self.move_booking(manage_token, day, start, now)?;
        self.offer_after_change(&moved.office, now);
        Ok(moved)
    }

    fn move_booking(
        &self,
        manage_token: &str,
        day: BusinessDay,
        start: LocalTime,
        now: Timestamp,
    ) -> Result<Confirmed, Refusal> {
        let _booking = self.booking_lock(&sha256_hex(manage_token));
        let mut record = self.changeable(manage_token, now)?;
        if record.day == day && record.start == start.to_string() {
            return Err(Refusal::BadRequest("the booking is already in that slot".into()));
        }
        let slot = Slot { office: &record.office, day, service: &record.service, start };
        let moved = self.book(slot, &record.person, Seat::Room, manage_token.to_string(), now)?;
        // The link now names the new booking; the old record must not take it along when purged.
        let manage_hash = std::mem::take(&mut record.manage_hash);
        if let Err(error) = self.withdraw(&mut record, "moved", now) {
            // Never two bookings for one: the new one goes, and the link names the old again.
            if let Some(mut new) = records::record(self.store.as_ref(), &moved.booking)? {
                new.manage_hash = String::new();
                self.withdraw(&mut new, "cancelled", now)?;
            }
            record.manage_hash = manage_hash;
            records::put_record(self.store.as_ref(), &record)?;
            self.store.flush()?;
            return Err(error);
        }
        self.store.flush()?;
        tracing::info!(office = %record.office, from = %record.id, to = %moved.booking, "booking moved");
        Ok(moved)
    }

    /// Frees a booking's place (cancelled in the appointments document) and drops its
    /// reminders; `state` is what its record says. The caller flushes.
    fn withdraw(&self, record: &mut Record, state: &str, now: Timestamp) -> Result<(), Refusal> {
        {
            let day_lock = self.day_lock(&record.office, record.day);
            let _held = lock(&day_lock);
            let id = record.id.clone();
            self.hub.write_appointments(&record.office, record.day, |writer, current| {
                let Some(booking) = current.bookings.get(&id) else {
                    return Err(fila_protocol::doc::DocError::Field(format!("{id} is not in the document")));
                };
                let cancelled = Booking { state: BookingState::Cancelled, updated_at: now, ..booking.clone() };
                writer.put(&cancelled)
            })?;
        }
        record.state = state.into();
        records::put_record(self.store.as_ref(), record)?;
        for hours in &self.limits.reminder_hours {
            self.outbox.cancel(&reminder_cause(&record.id, *hours), &format!("the booking was {state}"), now)?;
        }
        Ok(())
    }

    /// What the counter may see of an office's bookings of a day, for comparison and to
    /// prepare: the identity's last four characters and the citizen's note. Only for the
    /// office's own box, over its authenticated link; never in a document. Blocking.
    pub fn counter_details(&self, office: &str, day: BusinessDay) -> Result<Vec<CounterDetail>, Refusal> {
        Ok(records::of_day(self.store.as_ref(), office, day)?
            .into_iter()
            .filter(|record| record.state == "booked" || record.state == "checked_in")
            .map(|record| CounterDetail { booking: record.id, last4: record.person.last4, note: record.person.note })
            .collect())
    }

    /// The booking a private link names.
    pub fn lookup(&self, manage_token: &str) -> Result<(Record, Option<BookingState>), Refusal> {
        let record =
            records::by_manage_hash(self.store.as_ref(), &sha256_hex(manage_token))?.ok_or(Refusal::NotFound)?;
        let state = self.hub.appointments(&record.office, record.day)?.bookings.get(&record.id).map(|b| b.state);
        Ok((record, state))
    }
}

/// How long a booking's personal part is kept after its day.
pub const RETENTION_DAYS: i64 = 30;

impl Bookings {
    /// Deletes the personal part of bookings older than [`RETENTION_DAYS`], expired holds, and
    /// missed appointments older than the 90 days the no-show limit looks at. Blocking.
    pub fn purge(&self, now: Timestamp) -> Result<usize, Refusal> {
        let today = BusinessDay::containing(now, &jiff::tz::TimeZone::UTC);
        let store = self.store.as_ref();
        let purged =
            records::purge(store, today.plus_days(-RETENTION_DAYS), now.as_ms(), today.plus_days(-NO_SHOW_DAYS))?;
        let purged = purged + records::purge_waiting(store, today.plus_days(-1))?;
        store.flush()?;
        if purged > 0 {
            tracing::info!(bookings = purged, "retention period: booking records deleted");
        }
        Ok(purged)
    }

    /// Brings the bookings of today and yesterday up to date with what the offices synced:
    /// checked in when the office issued the booking's ticket, missed when its late window
    /// passed without one (a missed appointment counts toward its identity's suspension).
    /// Returns how many bookings changed. Blocking.
    pub fn settle(&self, now: Timestamp) -> Result<usize, Refusal> {
        let mut changed = 0;
        for office in self.hub.offices() {
            // One office's failure is logged; the others are settled.
            match self.settle_office(&office.id, now) {
                Ok(settled) => changed += settled,
                Err(error) => tracing::error!(office = %office.id, %error, "bookings not settled"),
            }
        }
        Ok(changed)
    }

    fn settle_office(&self, office: &str, now: Timestamp) -> Result<usize, Refusal> {
        let mut changed = 0;
        let Ok(config) = self.config(office) else { return Ok(0) };
        let today = BusinessDay::containing(now, &config.time_zone);
        for day in [today.plus_days(-1), today] {
            let appointments = self.hub.appointments(office, day)?;
            if appointments.bookings.is_empty() {
                continue;
            }
            let office_day = self.hub.day(office, day).ok();
            let settled = fila_protocol::booking::checkin::settle(&config, &appointments, office_day.as_ref(), now);
            if settled.is_empty() {
                continue;
            }
            {
                let day_lock = self.day_lock(office, day);
                let _held = lock(&day_lock);
                self.hub.write_appointments(office, day, |writer, current| {
                    for (id, state) in &settled {
                        // Cancelled or moved since it was looked at: nothing to settle.
                        let Some(booking) = current.bookings.get(id) else { continue };
                        if booking.state.may_become(*state) && booking.state != *state {
                            writer.put(&Booking { state: *state, updated_at: now, ..booking.clone() })?;
                        }
                    }
                    Ok(())
                })?;
            }
            let store = self.store.as_ref();
            for (id, state) in &settled {
                let Some(record) = records::record(store, id)? else { continue };
                let _booking = self.booking_lock(&record.manage_hash);
                let Some(mut record) = records::record(store, id)? else { continue };
                if record.state != "booked" {
                    continue;
                }
                record.state = state.name().to_string();
                records::put_record(store, &record)?;
                if *state == BookingState::NoShow {
                    records::put_no_show(store, &record.person.identity_hash, day, id)?;
                }
            }
            store.flush()?;
            tracing::info!(office, %day, changed = settled.len(), "bookings settled");
            changed += settled.len();
        }
        Ok(changed)
    }
}

fn reminder_cause(booking: &str, hours: u32) -> String {
    format!("booking/{booking}/reminder-{hours}h")
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Sixteen characters of the short code's alphabet: unguessable, and a valid document key.
fn new_booking_id() -> String {
    let [a, b] = [ShortCode::from_random(random_bytes()), ShortCode::from_random(random_bytes())];
    format!("{}{}", a.as_str(), b.as_str())
}
