//! The waiting list: when every slot of a service is taken for the dates a citizen can come,
//! they wait in line for one. When a place frees (a cancellation, a move, a hold let go),
//! central offers it to the first in line as a hold their link confirms, for
//! `waitlist_offer_minutes`; unanswered, the hold lapses and the place goes to the next.
//!
//! The line and the people in it are central's alone (personal data, never in a document);
//! only the count of offers made and taken stays, for headquarters' figures.

use std::collections::BTreeMap;
use std::net::IpAddr;

use fila_notify::kind::NoticeKind;
use fila_protocol::booking::slots;
use fila_protocol::calendar::LocalTime;
use fila_protocol::{BusinessDay, ServiceId, Timestamp};

use super::records::{self, Hold, Waiting, WaitingState};
use super::{lock, sha256_hex, Bookings, PersonForm, Refusal, Slot};
use crate::outbox::ToCitizen;

/// How far apart the first and last dates of one place in line may be.
pub const RANGE_DAYS_MAX: i64 = 31;

/// A citizen's request to wait for a slot between two dates.
#[derive(Debug, Clone)]
pub struct WaitRequest {
    pub office: String,
    pub service: String,
    pub from: BusinessDay,
    pub until: BusinessDay,
    pub person: PersonForm,
}

/// A place in line as its citizen sees it.
#[derive(Debug, Clone)]
pub struct InLine {
    pub waiting: Waiting,
    /// 1 for the first in line; none once out of it.
    pub position: Option<usize>,
    /// The slot offered, while an offer is open: (day, start, until when, ms).
    pub offer: Option<(BusinessDay, String, i64)>,
}

impl Bookings {
    /// Puts a citizen in line for a service's next free slot between two dates. Refused while
    /// a slot is free in that range (book it), and for someone already in that line. Blocking.
    pub fn join_waitlist(
        &self,
        request: WaitRequest,
        address: IpAddr,
        now: Timestamp,
    ) -> Result<(InLine, String), Refusal> {
        let person = self.person(&request.person)?;
        let config = self.config(&request.office)?;
        let service = ServiceId(request.service.clone());
        let (_, settings) = slots::bookable(&config, &service)?;
        let today = BusinessDay::containing(now, &config.time_zone);
        let last = today.plus_days(i64::from(settings.horizon_days));
        if request.until < request.from || request.from < today || request.until > last {
            return Err(Refusal::BadRequest(format!(
                "the dates must run forward, from today ({today}) to at most {last}"
            )));
        }
        if request.until > request.from.plus_days(RANGE_DAYS_MAX) {
            return Err(Refusal::BadRequest(format!("wait for at most {RANGE_DAYS_MAX} days at a time")));
        }
        self.count_address(address, now)?;
        self.check_limits(&person, &request.service, now)?;
        let store = self.store.as_ref();
        let _line = lock(&self.line);
        let line = records::waiting_list(store, &request.office)?;
        let already = line.iter().any(|w| {
            w.state.in_line() && w.service == request.service && w.person.identity_hash == person.identity_hash
        });
        if already {
            return Err(Refusal::AlreadyWaiting);
        }
        if let Some((day, start)) =
            self.first_free(&request.office, &request.service, request.from, request.until, now)?
        {
            return Err(Refusal::SlotsFree(format!("{day} at {start} is free: book it instead")));
        }
        let token = crate::auth::random_token();
        let waiting = Waiting {
            id: crate::auth::random_token(),
            office: request.office,
            service: request.service,
            from: request.from,
            until: request.until,
            person,
            // Strictly after everyone before: the line's order, even within one millisecond.
            created_at: line.iter().map(|w| w.created_at + 1).max().unwrap_or(0).max(now.as_ms()),
            state: WaitingState::Waiting,
            offer: None,
            manage_hash: sha256_hex(&token),
        };
        records::put_waiting(store, &waiting)?;
        store.flush()?;
        tracing::info!(office = %waiting.office, service = %waiting.service, "joined the waiting list");
        let position = line.iter().filter(|w| w.state.in_line() && w.service == waiting.service).count() + 1;
        Ok((InLine { waiting, position: Some(position), offer: None }, token))
    }

    /// After a place freed in an office (a cancellation, a move, someone leaving the line):
    /// offers it at once rather than at the next minute. A failure here is the minute's to
    /// retry, not the citizen's who freed it.
    pub(super) fn offer_after_change(&self, office: &str, now: Timestamp) {
        if let Err(error) = self.offer_freed_in(office, now) {
            tracing::warn!(office, %error, "freed places not offered yet");
        }
    }

    /// Offers made and taken per (day, service) of an office, for headquarters' figures.
    pub fn offer_counts(
        &self,
        office: &str,
        from: BusinessDay,
        until: BusinessDay,
    ) -> Result<records::OfferCounts, Refusal> {
        Ok(records::offers(self.store.as_ref(), office, from, until)?)
    }

    /// A place in line by its private link's token.
    pub fn in_line(&self, token: &str) -> Result<InLine, Refusal> {
        let store = self.store.as_ref();
        let waiting = records::waiting_by_manage_hash(store, &sha256_hex(token))?.ok_or(Refusal::NotFound)?;
        let line = records::waiting_list(store, &waiting.office)?;
        let position = waiting.state.in_line().then(|| {
            line.iter()
                .filter(|w| w.state.in_line() && w.service == waiting.service)
                .take_while(|w| w.id != waiting.id)
                .count()
                + 1
        });
        let offer = match (&waiting.offer, waiting.state) {
            (Some(hold), WaitingState::Offered) => {
                records::hold(store, hold)?.map(|hold| (hold.day, hold.start, hold.expires_at))
            }
            _ => None,
        };
        Ok(InLine { waiting, position, offer })
    }

    /// Leaves the line; an open offer's slot goes back at once. Blocking.
    pub fn leave_waitlist(&self, token: &str, now: Timestamp) -> Result<InLine, Refusal> {
        let left = self.leave_line(token)?;
        self.offer_after_change(&left.waiting.office, now);
        Ok(left)
    }

    fn leave_line(&self, token: &str) -> Result<InLine, Refusal> {
        let store = self.store.as_ref();
        let _line = lock(&self.line);
        let mut waiting = records::waiting_by_manage_hash(store, &sha256_hex(token))?.ok_or(Refusal::NotFound)?;
        if !waiting.state.in_line() {
            return Err(Refusal::TooLate(waiting.state.name().into()));
        }
        if let Some(hold) = waiting.offer.take() {
            self.drop_hold(&hold)?;
        }
        waiting.state = WaitingState::Left;
        records::put_waiting(store, &waiting)?;
        store.flush()?;
        Ok(InLine { waiting, position: None, offer: None })
    }

    /// Lets an offer's hold go under its day's lock: a confirmation under way either books
    /// before this or finds the hold gone.
    fn drop_hold(&self, id: &str) -> Result<(), Refusal> {
        let store = self.store.as_ref();
        let Some(hold) = records::hold(store, id)? else { return Ok(()) };
        let day_lock = self.day_lock(&hold.office, hold.day);
        let _held = lock(&day_lock);
        records::delete_hold(store, &hold)?;
        Ok(())
    }

    /// The first slot with a place between two dates, from now on.
    fn first_free(
        &self,
        office: &str,
        service: &str,
        from: BusinessDay,
        until: BusinessDay,
        now: Timestamp,
    ) -> Result<Option<(BusinessDay, LocalTime)>, Refusal> {
        let mut day = from;
        while day <= until {
            match self.free_slots(office, service, day, now) {
                Ok(free) => {
                    if let Some(slot) = free.iter().find(|slot| slot.free > 0) {
                        return Ok(Some((day, slot.start)));
                    }
                }
                // A closed day, or one past the horizon, has no slot to offer.
                Err(Refusal::Unbookable(_)) => {}
                Err(other) => return Err(other),
            }
            day = day.plus_days(1);
        }
        Ok(None)
    }

    /// Closes offers whose time ran out (the place passes on), then offers each free slot to
    /// the first in line who can take it. Runs every minute and after each cancellation.
    /// Returns how many offers it made. Blocking.
    pub fn offer_freed(&self, now: Timestamp) -> Result<usize, Refusal> {
        let mut offered = 0;
        for office in self.hub.offices() {
            // One office's failure is logged; the others' lines go on.
            match self.offer_freed_in(&office.id, now) {
                Ok(made) => offered += made,
                Err(error) => tracing::error!(office = %office.id, %error, "freed places not offered"),
            }
        }
        Ok(offered)
    }

    /// [`Bookings::offer_freed`] for one office: what a cancellation there calls at once.
    pub fn offer_freed_in(&self, office: &str, now: Timestamp) -> Result<usize, Refusal> {
        let store = self.store.as_ref();
        // One pass at a time: the minute's and a cancellation's would offer one place twice.
        let _line = lock(&self.line);
        let mut offered = 0;
        let line = records::waiting_list(store, office)?;
        if !line.iter().any(|w| w.state.in_line()) {
            return Ok(0);
        }
        let Ok(config) = self.config(office) else { return Ok(0) };
        let today = BusinessDay::containing(now, &config.time_zone);
        for mut waiting in line.into_iter().filter(|w| w.state.in_line()) {
            if waiting.state == WaitingState::Offered {
                let open = match &waiting.offer {
                    Some(hold) => records::hold(store, hold)?.is_some_and(|h| h.expires_at > now.as_ms()),
                    None => false,
                };
                if open {
                    continue;
                }
                if let Some(hold) = waiting.offer.take() {
                    self.drop_hold(&hold)?;
                }
                waiting.state = WaitingState::Lapsed;
                records::put_waiting(store, &waiting)?;
                tracing::info!(office, service = %waiting.service, "waiting-list offer lapsed");
                continue;
            }
            if waiting.until < today {
                waiting.state = WaitingState::Expired;
                records::put_waiting(store, &waiting)?;
                continue;
            }
            if self.offer(&mut waiting, today, now)? {
                offered += 1;
            }
        }
        store.flush()?;
        Ok(offered)
    }

    /// Offers one in line the first free slot of their dates, if there is one: a hold for them,
    /// and a message with the link that takes it.
    fn offer(&self, waiting: &mut Waiting, today: BusinessDay, now: Timestamp) -> Result<bool, Refusal> {
        let store = self.store.as_ref();
        let from = waiting.from.max(today);
        let Some((day, start)) = self.first_free(&waiting.office, &waiting.service, from, waiting.until, now)? else {
            return Ok(false);
        };
        // Someone who booked meanwhile, or was suspended, is passed over, not offered.
        if let Err(refused) = self.check_limits(&waiting.person, &waiting.service, now) {
            tracing::info!(office = %waiting.office, reason = %refused, "waiting-list place passed over");
            waiting.state = WaitingState::Lapsed;
            records::put_waiting(store, waiting)?;
            return Ok(false);
        }
        let config = self.config(&waiting.office)?;
        let service = ServiceId(waiting.service.clone());
        let token = crate::auth::random_token();
        let hold = Hold {
            id: crate::auth::random_token(),
            office: waiting.office.clone(),
            day,
            service: waiting.service.clone(),
            start: start.to_string(),
            person: waiting.person.clone(),
            code_hash: sha256_hex(&token),
            attempts: 0,
            expires_at: now.plus_minutes(i64::from(self.limits.waitlist_offer_minutes)).as_ms(),
            waitlist: Some(waiting.id.clone()),
        };
        let offered = self.admitting(&waiting.office, day, || {
            let slot = Slot { office: &waiting.office, day, service: &waiting.service, start };
            // Taken by a citizen booking at this very moment: the next pass finds another.
            if self.admit_locked(&config, slot, now).is_err() {
                return Ok(false);
            }
            records::put_hold(store, &hold)?;
            Ok(true)
        })?;
        if !offered {
            return Ok(false);
        }
        waiting.state = WaitingState::Offered;
        waiting.offer = Some(hold.id.clone());
        records::put_waiting(store, waiting)?;
        records::put_offer(store, &waiting.office, day, &waiting.service, &hold.id, false)?;
        store.flush()?;
        let service_name = config.service(&service).map_or_else(|| waiting.service.clone(), |s| s.name.clone());
        let values = BTreeMap::from([
            ("office", config.name.clone()),
            ("service", service_name),
            ("date", day.to_string()),
            ("time", start.to_string()),
            ("link", format!("{}/citas#offer={}.{token}", self.citizen_url, hold.id)),
        ]);
        let person = &waiting.person;
        let to = ToCitizen { contact: &person.contact, lang: &person.lang, values: &values, office: &config };
        let cause = format!("waitlist-offer/{}", hold.id);
        if let Err(error) = self.outbox.to_citizen(&cause, NoticeKind::WaitlistOffer, &to, None, now) {
            // Not told, not held: the place goes back and they wait on.
            self.drop_hold(&hold.id)?;
            waiting.state = WaitingState::Waiting;
            waiting.offer = None;
            records::put_waiting(store, waiting)?;
            store.flush()?;
            return Err(error.into());
        }
        tracing::info!(office = %waiting.office, %day, start = %start, "waiting-list offer made");
        Ok(true)
    }
}
