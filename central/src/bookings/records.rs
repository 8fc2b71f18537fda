//! What central keeps of a booking beside the appointments document: the personal part (the
//! identity's hash and last four characters, the contact, the note), in its own store, never in
//! a document, deleted after the retention period. Indexes by identity and by contact make the
//! limits a range scan, not a search of every booking.

use fila_notify::contact::Contact;
use fila_protocol::BusinessDay;
use fila_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

const HOLD: &str = "booking/hold/";
const HOLD_BY_DAY: &str = "booking/hold-by-day/";
const RECORD: &str = "booking/record/";
const BY_IDENTITY: &str = "booking/by-identity/";
const BY_CONTACT: &str = "booking/by-contact/";
const MANAGE: &str = "booking/manage/";
const NO_SHOW: &str = "booking/no-show/";
const BY_DAY: &str = "booking/by-day/";
const WAITING: &str = "booking/waiting/";
const WAITING_MANAGE: &str = "booking/waiting-manage/";
const OFFER: &str = "booking/offer/";

/// Who a hold, a booking or a place on the waiting list is for: the personal part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Person {
    pub identity_hash: String,
    pub last4: String,
    pub contact: Contact,
    pub contact_fingerprint: String,
    pub lang: String,
    pub note: Option<String>,
}

/// A slot held while the citizen confirms their contact with the code sent to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hold {
    pub id: String,
    pub office: String,
    pub day: BusinessDay,
    pub service: String,
    /// "09:30".
    pub start: String,
    #[serde(flatten)]
    pub person: Person,
    /// SHA-256 of the code sent to the contact (or of the token in a waiting-list offer's link).
    pub code_hash: String,
    pub attempts: u32,
    /// ms since the epoch.
    pub expires_at: i64,
    /// The place on the waiting list this slot is offered to, if it is an offer.
    #[serde(default)]
    pub waitlist: Option<String>,
}

/// A confirmed booking's personal part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub office: String,
    pub day: BusinessDay,
    pub service: String,
    pub start: String,
    pub minutes: u32,
    #[serde(flatten)]
    pub person: Person,
    /// booked, cancelled, checked_in or no_show.
    pub state: String,
    pub created_at: i64,
    /// The signed pass (the QR code) and the short code, for the citizen's own page.
    #[serde(default)]
    pub pass: String,
    #[serde(default)]
    pub short_code: String,
    /// SHA-256 of the private link's token (the link itself is never stored).
    #[serde(default)]
    pub manage_hash: String,
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    // Plain structs of strings and numbers always serialise.
    serde_json::to_vec(value).unwrap_or_default()
}

pub fn put_hold(store: &dyn Store, hold: &Hold) -> Result<(), StoreError> {
    store.put_meta(&format!("{HOLD}{}", hold.id), &json(hold))?;
    store.put_meta(&format!("{HOLD_BY_DAY}{}/{}/{}", hold.office, hold.day, hold.id), &[])
}

pub fn hold(store: &dyn Store, id: &str) -> Result<Option<Hold>, StoreError> {
    Ok(store.get_meta(&format!("{HOLD}{id}"))?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// Deletes a hold and its index entry (the caller has read it: its date names the entry).
pub fn delete_hold(store: &dyn Store, hold: &Hold) -> Result<(), StoreError> {
    store.delete_meta(&format!("{HOLD_BY_DAY}{}/{}/{}", hold.office, hold.day, hold.id))?;
    store.delete_meta(&format!("{HOLD}{}", hold.id))
}

/// The holds on an office's date, expired ones included (the caller decides): what a slot
/// count reads, without reading every hold of the network.
pub fn holds_on(store: &dyn Store, office: &str, day: BusinessDay) -> Result<Vec<Hold>, StoreError> {
    let prefix = format!("{HOLD_BY_DAY}{office}/{day}/");
    let mut found = Vec::new();
    for (key, _) in store.scan_meta(&prefix)? {
        if let Some(held) = hold(store, &key[prefix.len()..])? {
            found.push(held);
        }
    }
    Ok(found)
}

/// Every hold, expired ones included (the caller decides).
pub fn holds(store: &dyn Store) -> Result<Vec<Hold>, StoreError> {
    Ok(store.scan_meta(HOLD)?.into_iter().filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok()).collect())
}

/// Stores a record with its indexes (the private link by its hash).
pub fn put_record(store: &dyn Store, record: &Record) -> Result<(), StoreError> {
    store.put_meta(&format!("{RECORD}{}", record.id), &json(record))?;
    store.put_meta(&format!("{BY_IDENTITY}{}/{}", record.person.identity_hash, record.id), &[])?;
    store.put_meta(&format!("{BY_CONTACT}{}/{}", record.person.contact_fingerprint, record.id), &[])?;
    store.put_meta(&format!("{BY_DAY}{}/{}/{}", record.office, record.day, record.id), &[])?;
    if !record.manage_hash.is_empty() {
        store.put_meta(&format!("{MANAGE}{}", record.manage_hash), record.id.as_bytes())?;
    }
    Ok(())
}

/// Deletes what the retention period is over for: bookings whose day is before `records_before`
/// (the personal part and its indexes; the appointments document never held any), holds expired
/// by `now`, and missed appointments before `no_shows_before`. Returns how many bookings went.
/// The caller flushes.
pub fn purge(
    store: &dyn Store,
    records_before: BusinessDay,
    now_ms: i64,
    no_shows_before: BusinessDay,
) -> Result<usize, StoreError> {
    let mut purged = 0;
    for (key, bytes) in store.scan_meta(RECORD)? {
        let Ok(record) = serde_json::from_slice::<Record>(&bytes) else { continue };
        if record.day >= records_before {
            continue;
        }
        store.delete_meta(&format!("{BY_IDENTITY}{}/{}", record.person.identity_hash, record.id))?;
        store.delete_meta(&format!("{BY_CONTACT}{}/{}", record.person.contact_fingerprint, record.id))?;
        store.delete_meta(&format!("{BY_DAY}{}/{}/{}", record.office, record.day, record.id))?;
        if !record.manage_hash.is_empty() {
            store.delete_meta(&format!("{MANAGE}{}", record.manage_hash))?;
        }
        store.delete_meta(&key)?;
        purged += 1;
    }
    for hold in holds(store)? {
        if hold.expires_at <= now_ms {
            delete_hold(store, &hold)?;
        }
    }
    for (key, _) in store.scan_meta(NO_SHOW)? {
        let day = key[NO_SHOW.len()..].split('/').nth(1).and_then(BusinessDay::parse);
        if day.is_some_and(|day| day < no_shows_before) {
            store.delete_meta(&key)?;
        }
    }
    Ok(purged)
}

pub fn record(store: &dyn Store, id: &str) -> Result<Option<Record>, StoreError> {
    Ok(store.get_meta(&format!("{RECORD}{id}"))?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

pub fn by_manage_hash(store: &dyn Store, hash: &str) -> Result<Option<Record>, StoreError> {
    match store.get_meta(&format!("{MANAGE}{hash}"))? {
        Some(id) => record(store, &String::from_utf8_lossy(&id)),
        None => Ok(None),
    }
}

fn indexed(store: &dyn Store, prefix: &str) -> Result<Vec<Record>, StoreError> {
    let mut records = Vec::new();
    for (key, _) in store.scan_meta(prefix)? {
        if let Some(found) = record(store, &key[prefix.len()..])? {
            records.push(found);
        }
    }
    Ok(records)
}

pub fn of_identity(store: &dyn Store, identity_hash: &str) -> Result<Vec<Record>, StoreError> {
    indexed(store, &format!("{BY_IDENTITY}{identity_hash}/"))
}

/// An office's bookings of one day (all states).
pub fn of_day(store: &dyn Store, office: &str, day: BusinessDay) -> Result<Vec<Record>, StoreError> {
    indexed(store, &format!("{BY_DAY}{office}/{day}/"))
}

pub fn of_contact(store: &dyn Store, fingerprint: &str) -> Result<Vec<Record>, StoreError> {
    indexed(store, &format!("{BY_CONTACT}{fingerprint}/"))
}

/// A missed appointment, kept by the identity's hash alone (nothing personal) for the no-show
/// limit.
pub fn put_no_show(store: &dyn Store, identity_hash: &str, day: BusinessDay, booking: &str) -> Result<(), StoreError> {
    store.put_meta(&format!("{NO_SHOW}{identity_hash}/{day}/{booking}"), &[])
}

/// The days of an identity's missed appointments.
pub fn no_shows(store: &dyn Store, identity_hash: &str) -> Result<Vec<BusinessDay>, StoreError> {
    let prefix = format!("{NO_SHOW}{identity_hash}/");
    Ok(store
        .scan_meta(&prefix)?
        .into_iter()
        .filter_map(|(key, _)| BusinessDay::parse(key[prefix.len()..].split('/').next()?))
        .collect())
}

/// A place on a service's waiting list: the first free slot between `from` and `until` is offered
/// to the first waiting, as a hold their link confirms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Waiting {
    pub id: String,
    pub office: String,
    pub service: String,
    pub from: BusinessDay,
    pub until: BusinessDay,
    #[serde(flatten)]
    pub person: Person,
    /// ms since the epoch: the order of the line.
    pub created_at: i64,
    pub state: WaitingState,
    /// The hold offered, while the state is `offered`.
    #[serde(default)]
    pub offer: Option<String>,
    /// SHA-256 of the private link's token.
    pub manage_hash: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingState {
    Waiting,
    /// A slot is held for them until the offer's hold expires.
    Offered,
    /// They took an offered slot.
    Taken,
    /// An offer went unanswered: the slot passed to the next in line.
    Lapsed,
    /// They left the list.
    Left,
    /// Their last date passed with nothing offered.
    Expired,
}

impl WaitingState {
    pub fn name(self) -> &'static str {
        match self {
            WaitingState::Waiting => "waiting",
            WaitingState::Offered => "offered",
            WaitingState::Taken => "taken",
            WaitingState::Lapsed => "lapsed",
            WaitingState::Left => "left",
            WaitingState::Expired => "expired",
        }
    }

    /// Still in line (an offer outstanding counts).
    pub fn in_line(self) -> bool {
        matches!(self, WaitingState::Waiting | WaitingState::Offered)
    }
}

pub fn put_waiting(store: &dyn Store, waiting: &Waiting) -> Result<(), StoreError> {
    store.put_meta(&format!("{WAITING}{}", waiting.id), &json(waiting))?;
    store.put_meta(&format!("{WAITING_MANAGE}{}", waiting.manage_hash), waiting.id.as_bytes())
}

pub fn waiting(store: &dyn Store, id: &str) -> Result<Option<Waiting>, StoreError> {
    Ok(store.get_meta(&format!("{WAITING}{id}"))?.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

pub fn waiting_by_manage_hash(store: &dyn Store, hash: &str) -> Result<Option<Waiting>, StoreError> {
    match store.get_meta(&format!("{WAITING_MANAGE}{hash}"))? {
        Some(id) => waiting(store, &String::from_utf8_lossy(&id)),
        None => Ok(None),
    }
}

/// Everyone on an office's waiting lists, in the order they joined; those out of line too.
pub fn waiting_list(store: &dyn Store, office: &str) -> Result<Vec<Waiting>, StoreError> {
    let mut list: Vec<Waiting> = store
        .scan_meta(WAITING)?
        .into_iter()
        .filter_map(|(_, bytes)| serde_json::from_slice::<Waiting>(&bytes).ok())
        .filter(|w| w.office == office)
        .collect();
    list.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(list)
}

/// Deletes places out of line (their personal part goes at once; the offers' counts stay) and
/// those whose last date is before `before`. The caller flushes.
pub fn purge_waiting(store: &dyn Store, before: BusinessDay) -> Result<usize, StoreError> {
    let mut purged = 0;
    for (key, bytes) in store.scan_meta(WAITING)? {
        let Ok(waiting) = serde_json::from_slice::<Waiting>(&bytes) else { continue };
        if waiting.state.in_line() && waiting.until >= before {
            continue;
        }
        store.delete_meta(&format!("{WAITING_MANAGE}{}", waiting.manage_hash))?;
        store.delete_meta(&key)?;
        purged += 1;
    }
    Ok(purged)
}

/// Counts an offer for headquarters' figures (nothing personal): made, then perhaps taken.
pub fn put_offer(
    store: &dyn Store,
    office: &str,
    day: BusinessDay,
    service: &str,
    hold: &str,
    taken: bool,
) -> Result<(), StoreError> {
    store.put_meta(&format!("{OFFER}{office}/{day}/{service}/{hold}"), if taken { b"taken" } else { b"made" })
}

/// Offers made and taken, per (day, service).
pub type OfferCounts = std::collections::BTreeMap<(BusinessDay, String), (u32, u32)>;

/// Offers made and taken per (day, service) of an office, for the days from `from` to `until`.
pub fn offers(
    store: &dyn Store,
    office: &str,
    from: BusinessDay,
    until: BusinessDay,
) -> Result<OfferCounts, StoreError> {
    let prefix = format!("{OFFER}{office}/");
    let mut counts = std::collections::BTreeMap::new();
    for (key, value) in store.scan_meta(&prefix)? {
        let mut parts = key[prefix.len()..].split('/');
        let (Some(day), Some(service)) = (parts.next().and_then(BusinessDay::parse), parts.next()) else { continue };
        if day < from || day > until {
            continue;
        }
        let entry: &mut (u32, u32) = counts.entry((day, service.to_string())).or_default();
        entry.0 += 1;
        entry.1 += u32::from(value == b"taken");
    }
    Ok(counts)
}
