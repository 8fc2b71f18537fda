//! The office state machine: the only writer of a branch office's live queue.
//!
//! Shaped like a sans-IO protocol: [`Office::handle_command`] takes the time and a command and
//! returns a [`Reply`] or a [`Rejection`]; what must be stored comes out of
//! [`Office::poll_persist`] and what screens and devices must learn comes out of
//! [`Office::poll_event`]. The shell may apply a batch of commands, persist once, and only then
//! acknowledge them (group commit). A rejected command changes nothing: every command is first
//! validated and turned into a [`Change`] against the current state, and only then written to
//! the day document and to memory.

mod command;
mod error;
mod event;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::{Deserialize, Serialize};

pub use crate::day::{Breach, CallRecord, CounterState, CounterStatus, Day, SurveyAnswer};
pub use command::{Actor, Command, Priority, Reply, SurveyInput, SurveyTicket};
pub use error::Rejection;
pub use event::Event;

use crate::config::{OfficeConfig, TransferPosition};
use crate::doc::day::DayDoc;
use crate::doc::DocError;
use crate::estimate::{Estimator, Expected, History, WaitRange};
use crate::ids::{BusinessDay, CounterId, ServiceId, TicketId, Timestamp};
use crate::limits;
use crate::remote::{Refusal, RefusalReason, Request};
use crate::rule::{self, CallReason, Ranked};
use crate::sync::{Outgoing, PeerSync, SyncError};
use crate::ticket::{Away, Class, Ticket, TicketNumber, TicketStatus, Who};

/// Bytes of a document to store, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persist {
    pub doc_id: String,
    pub bytes: Vec<u8>,
}

/// Where a waiting ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub people_ahead: u32,
    /// The estimated wait from now ([`crate::estimate`]).
    pub wait: WaitRange,
}

/// The waiting room now: open tickets present and away, and what it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Room {
    pub present: u32,
    pub away: u32,
    pub capacity: Option<u32>,
}

impl Room {
    pub fn is_full(&self) -> bool {
        self.capacity.is_some_and(|capacity| self.present >= capacity)
    }
}

/// What one accepted command changes, computed before anything is written.
#[derive(Debug, Default)]
struct Change {
    tickets: Vec<Ticket>,
    counters: Vec<(CounterId, CounterState)>,
    call: Option<CallRecord>,
    sequence: Option<(char, u16)>,
    survey: Option<(TicketId, SurveyAnswer)>,
    refusal: Option<(String, Refusal)>,
    events: Vec<Event>,
}

pub struct Office {
    config: OfficeConfig,
    day: Day,
    doc: DayDoc,
    actor: Vec<u8>,
    numbers: HashMap<TicketNumber, TicketId>,
    tokens: HashMap<String, TicketId>,
    /// Waiting tickets per service: the rule looks at these, not at the whole day.
    waiting: HashMap<ServiceId, BTreeSet<TicketId>>,
    /// The office's past days as the wait estimate uses them (the shell loads them).
    history: History,
    /// Today's booked appointments not checked in yet (the shell reads central's bookings).
    expected: Vec<Expected>,
    events: VecDeque<Event>,
    persist: VecDeque<Persist>,
    /// Bytes of the current day document as handed out by `poll_persist`: the last good save,
    /// from which the document is rebuilt if automerge panics.
    saved: Vec<u8>,
    /// Set when the document had to be rebuilt: commands applied since the last persist are gone.
    failed: bool,
    /// The time of the latest applied command: changes are committed per persisted batch, so
    /// a batch of commands is one automerge change (history, and so every later cost, stays
    /// proportional to batches, not commands).
    last_applied: Option<Timestamp>,
    alarmed: BTreeSet<TicketId>,
    /// Commands are refused until the clock passes this: the newest change already stored. A
    /// box whose clock runs behind must not issue into a past day and number it again later.
    clock_floor: Timestamp,
    /// A box that lost its records (an empty store) waits for headquarters' copy of the day
    /// before it numbers anything, so it never issues a number twice.
    recovering: bool,
    /// The stored day broke the rules whole; it was restored from the longest good prefix of its
    /// chunks, which the shell should store compacted.
    repaired: bool,
}

impl Office {
    /// A new office, or one restored from the stored chunks of its current day document.
    /// `actor` must be fresh for every process start (an automerge actor id never repeats a seq).
    /// The stored day is checked (`Day::check`); if it breaks the rules whole, the longest prefix
    /// of its chunks that keeps them is restored instead (see [`Office::take_repaired`]).
    pub fn restore(config: OfficeConfig, actor: Vec<u8>, now: Timestamp, chunks: &[Vec<u8>]) -> Result<Self, DocError> {
        let today = BusinessDay::containing(now, &config.time_zone);
        let mut repaired = false;
        let (doc, day, saved) = if chunks.is_empty() {
            let mut doc = DayDoc::create(&config.id, today, &actor)?;
            let saved = doc.save_incremental();
            (doc, Day::new(&config.id, today), saved)
        } else {
            let expected = Day::new(&config.id, today);
            let whole = DayDoc::load(chunks, &actor)
                .map_err(|e| e.to_string())
                .and_then(|(doc, day)| expected.check_next(&day).map(|()| (doc, day)).map_err(|b| b.to_string()));
            match whole {
                Ok((doc, day)) => (doc, day, chunks.concat()),
                Err(problem) => {
                    tracing::error!(office = %config.id, day = %today, %problem, "stored day breaks the rules; restoring its last good part");
                    repaired = true;
                    good_prefix(&expected, chunks, &actor)?
                }
            }
        };
        let mut office = Office {
            config,
            day,
            doc,
            actor,
            numbers: HashMap::new(),
            tokens: HashMap::new(),
            waiting: HashMap::new(),
            history: History::default(),
            expected: Vec::new(),
            events: VecDeque::new(),
            persist: VecDeque::new(),
            saved: Vec::new(),
            failed: false,
            last_applied: None,
            alarmed: BTreeSet::new(),
            clock_floor: Timestamp(i64::MIN),
            recovering: false,
            repaired,
        };
        office.reindex();
        if chunks.is_empty() {
            office.persist.push_back(Persist { doc_id: office.doc_id(), bytes: saved.clone() });
        }
        office.saved = saved;
        office.roll_over(now)?;
        Ok(office)
    }

    pub fn config(&self) -> &OfficeConfig {
        &self.config
    }

    /// Refuse every command until the clock reaches `floor` (the newest change the shell has
    /// stored): a clock that went back must not write history before what is already written.
    pub fn set_clock_floor(&mut self, floor: Timestamp) {
        self.clock_floor = floor;
    }

    /// Whether the clock is behind the newest stored change, so commands are refused.
    pub fn clock_behind(&self, now: Timestamp) -> bool {
        now < self.clock_floor
    }

    /// Hold every command until headquarters' copy of the day is merged ([`Office::catch_up`]).
    pub fn start_recovery(&mut self) {
        tracing::warn!(office = %self.config.id, "no records on this box: waiting for headquarters' copy before numbering");
        self.recovering = true;
    }

    pub fn is_recovering(&self) -> bool {
        self.recovering
    }

    /// A recovering office is caught up once it holds every change the peer said it has.
    pub fn catch_up(&mut self, peer: &PeerSync) {
        if !self.recovering {
            return;
        }
        let Some(theirs) = peer.their_heads() else { return };
        let doc = self.doc.automerge_mut();
        if theirs.iter().all(|hash| doc.get_change_by_hash(hash).is_some()) {
            self.recovering = false;
            tracing::info!(
                office = %self.config.id, tickets = self.day.tickets.len(),
                "recovered the day from headquarters; numbering continues"
            );
        }
    }

    /// True once if the stored day had to be restored from a good prefix: store it compacted.
    pub fn take_repaired(&mut self) -> bool {
        std::mem::take(&mut self.repaired)
    }

    /// Take a new configuration (pushed by headquarters). Tickets keep their services and
    /// numbers; a counter or service that is gone simply stops being offered. The office id and
    /// time zone cannot change under a running day.
    pub fn replace_config(&mut self, config: OfficeConfig) -> Result<(), Rejection> {
        if config.id != self.config.id || config.time_zone_name != self.config.time_zone_name {
            return Err(Rejection::Internal);
        }
        tracing::info!(office = %config.id, "configuration replaced");
        self.config = config;
        self.reindex();
        Ok(())
    }
    pub fn day(&self) -> &Day {
        &self.day
    }
    pub fn doc_id(&self) -> String {
        crate::doc::keys::day_doc_id(&self.config.id, self.day.day)
    }

    pub fn ticket(&self, id: TicketId) -> Option<&Ticket> {
        self.day.tickets.get(&id)
    }
    pub fn ticket_by_number(&self, number: TicketNumber) -> Option<&Ticket> {
        self.numbers.get(&number).and_then(|id| self.day.tickets.get(id))
    }
    pub fn ticket_by_token(&self, token: &str) -> Option<&Ticket> {
        self.tokens.get(token).and_then(|id| self.day.tickets.get(id))
    }

    pub fn handle_command(&mut self, now: Timestamp, command: Command) -> Result<Reply, Rejection> {
        if now < self.clock_floor {
            return Err(Rejection::ClockBehind { now: show_time(now), last: show_time(self.clock_floor) });
        }
        if self.recovering {
            return Err(Rejection::Recovering);
        }
        if self.roll_over(now).is_err() {
            self.failed = true;
            return Err(Rejection::Internal);
        }
        let (change, reply) = self.decide(now, command)?;
        self.apply(now, change)?;
        Ok(reply)
    }

    /// Time passed: roll the day over at local midnight, raise legal-wait alarms.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if self.roll_over(now).is_err() {
            self.failed = true;
        }
        for ticket in self.day.tickets.values() {
            if ticket.status != TicketStatus::Waiting || self.alarmed.contains(&ticket.id) {
                continue;
            }
            if rule::legal_alarm_at(&self.config, ticket).is_some_and(|at| at <= now) {
                self.alarmed.insert(ticket.id);
                self.events.push_back(Event::LegalWaitAlarm(ticket.clone()));
            }
        }
    }

    /// When `handle_timeout` should next be called.
    pub fn next_deadline(&self) -> Timestamp {
        let rollover = self.day.day.next_start(&self.config.time_zone);
        self.day
            .tickets
            .values()
            .filter(|t| t.status == TicketStatus::Waiting && !self.alarmed.contains(&t.id))
            .filter_map(|t| rule::legal_alarm_at(&self.config, t))
            .fold(rollover, Timestamp::min)
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next bytes to store: chunks of earlier documents first, then the current day's
    /// changes since the last call.
    pub fn poll_persist(&mut self) -> Option<Persist> {
        if let Some(persist) = self.persist.pop_front() {
            return Some(persist);
        }
        self.commit_pending();
        let bytes = self.doc.save_incremental();
        if bytes.is_empty() {
            return None;
        }
        self.saved.extend_from_slice(&bytes);
        Some(Persist { doc_id: self.doc_id(), bytes })
    }

    /// A compacted save of the current day document, to replace its stored chunks.
    /// Call only after `poll_persist` returned `None`.
    pub fn snapshot(&mut self) -> Persist {
        self.commit_pending();
        let bytes = self.doc.save();
        self.saved = bytes.clone();
        Persist { doc_id: self.doc_id(), bytes }
    }

    /// The next sync message for a peer about the current day document, if it needs one.
    /// Call after persisting: only what is on disk should leave the box.
    pub fn sync_generate(&mut self, peer: &mut PeerSync) -> Option<Outgoing> {
        peer.generate_or_snapshot(self.doc.automerge_mut())
    }

    /// Apply a peer's sync message to the current day document. Changes it brings are read
    /// back into the day (and stored by the next `poll_persist`); a message that leaves the
    /// document unreadable is undone by rebuilding from the last good save.
    pub fn sync_receive(&mut self, peer: &mut PeerSync, message: &[u8]) -> Result<bool, SyncError> {
        self.commit_pending();
        let changed = match peer.receive(self.doc.automerge_mut(), message) {
            Ok(changed) => changed,
            Err(SyncError::Panicked) => {
                self.rebuild();
                return Err(SyncError::Panicked);
            }
            Err(error) => return Err(error),
        };
        if changed {
            let problem = match self.doc.read() {
                Ok(day) => match self.day.check_next(&day) {
                    Ok(()) => {
                        self.day = day;
                        self.reindex();
                        return Ok(true);
                    }
                    Err(breach) => breach.to_string(),
                },
                Err(error) => format!("the day does not read: {error}"),
            };
            tracing::error!(office = %self.config.id, doc = %self.doc_id(), %problem, "sync message refused and undone");
            self.rebuild();
            return Err(SyncError::Refused(problem));
        }
        Ok(changed)
    }

    /// True once if the document was rebuilt since the last call: replies computed since the
    /// previous persist must not be acknowledged.
    pub fn take_failure(&mut self) -> bool {
        std::mem::take(&mut self.failed)
    }

    /// How many tickets of `service` wait, from the per-service index (no scan of the day).
    pub fn waiting_count(&self, service: &ServiceId) -> usize {
        self.waiting.get(service).map_or(0, BTreeSet::len)
    }

    /// The waiting tickets in the order an idle counter serving every service would call them.
    pub fn ranked_waiting(&self, now: Timestamp) -> Vec<Ranked> {
        let services: Vec<ServiceId> = self.config.services.iter().map(|s| s.id.clone()).collect();
        rule::rank(&self.config, self.waiting_in(&services), &services, 0, &self.capped(now), now)
    }

    /// The waiting tickets in the order this counter would call them.
    pub fn ranked_for_counter(&self, counter: &CounterId, now: Timestamp) -> Vec<Ranked> {
        let Some(config) = self.config.counter(counter) else {
            return Vec::new();
        };
        let streak = self.day.counter(counter).preferential_streak;
        rule::rank(&self.config, self.waiting_in(&config.services), &config.services, streak, &self.capped(now), now)
    }

    /// The ticket this counter would call now, and why.
    pub fn next_for_counter(&self, counter: &CounterId, now: Timestamp) -> Option<Ranked> {
        let config = self.config.counter(counter)?;
        let streak = self.day.counter(counter).preferential_streak;
        rule::first(&self.config, self.waiting_in(&config.services), &config.services, streak, &self.capped(now), now)
    }

    /// The services whose due appointments have had their share of the last hour's calls.
    fn capped(&self, now: Timestamp) -> rule::Capped {
        rule::capped(&self.config, &self.day, now)
    }

    /// The waiting tickets of some services.
    fn waiting_in<'a>(&'a self, services: &'a [ServiceId]) -> impl Iterator<Item = &'a Ticket> + 'a {
        services.iter().filter_map(|s| self.waiting.get(s)).flatten().filter_map(|id| self.day.tickets.get(id))
    }

    /// People ahead of a waiting ticket in its service, and the wait that suggests.
    pub fn position(&self, id: TicketId, now: Timestamp) -> Option<Position> {
        let ticket = self.day.tickets.get(&id)?;
        if ticket.status != TicketStatus::Waiting {
            return None;
        }
        let services = [ticket.service.clone()];
        let ahead = rule::ahead(&self.config, self.waiting_in(&services), &services, ticket, &self.capped(now), now)?;
        Some(Position { people_ahead: ahead, wait: self.estimator(now).range(ticket, ahead) })
    }

    /// The positions of every waiting ticket, ranking each service once (for queue views).
    pub fn positions(&self, now: Timestamp) -> HashMap<TicketId, Position> {
        let mut positions = HashMap::new();
        let capped = self.capped(now);
        let estimator = self.estimator(now);
        for service in self.waiting.keys() {
            let services = [service.clone()];
            let ranked = rule::rank(&self.config, self.waiting_in(&services), &services, 0, &capped, now);
            for (ahead, ranked) in ranked.iter().enumerate() {
                let ahead = ahead as u32;
                let wait = estimator.range(&self.day.tickets[&ranked.ticket], ahead);
                positions.insert(ranked.ticket, Position { people_ahead: ahead, wait });
            }
        }
        positions
    }

    /// Who is in the waiting room and who waits outside, against its capacity.
    pub fn room(&self) -> Room {
        let mut room = Room { present: 0, away: 0, capacity: self.config.room.capacity };
        for ticket in self.day.tickets.values().filter(|t| t.status.is_open()) {
            match ticket.away {
                Some(_) => room.away += 1,
                None => room.present += 1,
            }
        }
        room
    }

    /// The wait model of the office as it stands now.
    pub fn estimator(&self, now: Timestamp) -> Estimator<'_> {
        Estimator::new(&self.config, &self.day, &self.history, &self.expected, now)
    }

    /// The office's past days, for the wait estimate (the shell gives them at start and at
    /// each new day).
    pub fn set_history(&mut self, history: History) {
        self.history = history;
    }

    /// Today's booked appointments that have not come yet, for the wait estimate.
    pub fn set_expected(&mut self, expected: Vec<Expected>) {
        self.expected = expected;
    }

    fn reindex(&mut self) {
        self.numbers = self.day.tickets.values().map(|t| (t.number, t.id)).collect();
        self.tokens = self.day.tickets.values().map(|t| (t.token.clone(), t.id)).collect();
        self.waiting.clear();
        for ticket in self.day.tickets.values() {
            index_waiting(&mut self.waiting, None, ticket);
        }
    }

    /// The maintained indexes equal indexes rebuilt from the day (tests call this).
    #[cfg(test)]
    pub(crate) fn check_indexes(&mut self) {
        let nonempty =
            |w: &HashMap<ServiceId, BTreeSet<TicketId>>| -> std::collections::BTreeMap<ServiceId, BTreeSet<TicketId>> {
                w.iter().filter(|(_, set)| !set.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect()
            };
        let waiting = nonempty(&self.waiting);
        self.reindex();
        assert_eq!(nonempty(&self.waiting), waiting, "waiting index");
    }

    /// Close the automerge change holding every command applied since the last persist.
    fn commit_pending(&mut self) {
        if let Some(at) = self.last_applied.take() {
            self.doc.commit(at);
        }
    }

    fn roll_over(&mut self, now: Timestamp) -> Result<(), DocError> {
        let today = BusinessDay::containing(now, &self.config.time_zone);
        if today <= self.day.day {
            return Ok(());
        }
        self.commit_pending();
        let last = self.doc.save_incremental();
        if !last.is_empty() {
            self.persist.push_back(Persist { doc_id: self.doc_id(), bytes: last });
        }
        let mut doc = DayDoc::create(&self.config.id, today, &self.actor)?;
        self.saved = doc.save_incremental();
        self.doc = doc;
        self.day = Day::new(&self.config.id, today);
        self.alarmed.clear();
        self.reindex();
        self.persist.push_back(Persist { doc_id: self.doc_id(), bytes: self.saved.clone() });
        tracing::info!(office = %self.config.id, day = %today, "business day started");
        self.events.push_back(Event::DayStarted(today));
        Ok(())
    }

    /// Write a change to the document, then to memory. Automerge is guarded: if it panics the
    /// document is rebuilt from its last good save and the command is refused.
    fn apply(&mut self, now: Timestamp, change: Change) -> Result<(), Rejection> {
        let day = &self.day;
        let doc = &mut self.doc;
        let written = catch_unwind(AssertUnwindSafe(|| -> Result<(), DocError> {
            for ticket in &change.tickets {
                doc.put_ticket(day.tickets.get(&ticket.id), ticket)?;
            }
            for (id, state) in &change.counters {
                doc.put_counter(id, day.counters.get(id), state)?;
            }
            if let Some(call) = &change.call {
                doc.put_call(call)?;
            }
            if let Some((prefix, seq)) = change.sequence {
                doc.put_sequence(prefix, seq)?;
            }
            if let Some((ticket, answer)) = &change.survey {
                doc.put_survey(*ticket, answer)?;
            }
            if let Some((request, refusal)) = &change.refusal {
                doc.put_refusal(request, refusal)?;
            }
            Ok(())
        }));
        match written {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(office = %self.config.id, %error, "day document write failed");
                self.rebuild();
                return Err(Rejection::Internal);
            }
            Err(_) => {
                tracing::error!(office = %self.config.id, "automerge panicked; rebuilding the day document");
                self.rebuild();
                return Err(Rejection::Internal);
            }
        }
        self.last_applied = Some(now);
        for ticket in change.tickets {
            index_waiting(&mut self.waiting, self.day.tickets.get(&ticket.id), &ticket);
            self.numbers.insert(ticket.number, ticket.id);
            self.tokens.insert(ticket.token.clone(), ticket.id);
            self.day.tickets.insert(ticket.id, ticket);
        }
        for (id, state) in change.counters {
            self.day.counters.insert(id, state);
        }
        if let Some(call) = change.call {
            self.day.calls.push(call);
        }
        if let Some((prefix, seq)) = change.sequence {
            let previous = self.day.sequences.insert(prefix, seq);
            assert!(previous.is_none_or(|p| p < seq), "ticket numbers strictly increase");
        }
        if let Some((ticket, answer)) = change.survey {
            self.day.surveys.insert(ticket, answer);
        }
        if let Some((request, refusal)) = change.refusal {
            self.day.refusals.insert(request, refusal);
        }
        self.events.extend(change.events);
        Ok(())
    }

    /// Back to the last persisted state: the document from its saved bytes, memory from it.
    fn rebuild(&mut self) {
        self.failed = true;
        self.last_applied = None;
        // Events since the last persist describe changes the rebuild discards.
        self.events.clear();
        match DayDoc::load(std::slice::from_ref(&self.saved), &self.actor) {
            Ok((doc, day)) => {
                self.doc = doc;
                self.day = day;
                self.reindex();
            }
            Err(error) => {
                // The saved bytes are what is on disk; if they do not load, restarting from
                // the store is the only way on.
                panic!("day document cannot be rebuilt from its own save: {error}");
            }
        }
    }

    fn decide(&self, now: Timestamp, command: Command) -> Result<(Change, Reply), Rejection> {
        match command {
            Command::Issue { service, priority, issuer, token } => self.issue(now, service, priority, issuer, token, 0),
            Command::ConfirmPresent { token, by: _ } => {
                let ticket = self.ticket_by_token(&token).ok_or(Rejection::UnknownToken)?;
                if ticket.status.is_closed() {
                    return Err(Rejection::TicketClosed { number: ticket.number, status: ticket.status });
                }
                if ticket.away.is_none() {
                    // Already counted in the room: saying so again changes nothing.
                    return Ok((Change::default(), Reply::Ticket(ticket.clone())));
                }
                let present = Ticket { away: None, ..ticket.clone() };
                let change = Change {
                    tickets: vec![present.clone()],
                    events: vec![Event::TicketChanged(present.clone())],
                    ..Change::default()
                };
                Ok((change, Reply::Ticket(present)))
            }
            Command::JoinRemote { request, token } => self.join_remote(now, request, token),
            Command::SignIn { counter, by } => self.sign_in(counter, by),
            Command::Pause { counter, by } => {
                let state = self.counter_state(&counter, &by)?;
                self.require_open(&counter, &state)?;
                if state.current.is_some() {
                    return Err(Rejection::CounterBusy(counter));
                }
                self.counter_change(counter, CounterState { status: CounterStatus::Paused, ..state })
            }
            Command::Reopen { counter, by } => {
                let state = self.counter_state(&counter, &by)?;
                if state.status != CounterStatus::Paused {
                    return Err(Rejection::CounterNotPaused(counter));
                }
                self.counter_change(counter, CounterState { status: CounterStatus::Open, ..state })
            }
            Command::Close { counter, by } => {
                let state = self.counter_state(&counter, &by)?;
                if state.current.is_some() {
                    return Err(Rejection::CounterBusy(counter));
                }
                self.counter_change(counter, CounterState::default())
            }
            Command::CallNext { counter, by } => {
                let state = self.idle_counter(&counter, &by)?;
                let first =
                    self.next_for_counter(&counter, now).ok_or_else(|| Rejection::QueueEmpty(counter.clone()))?;
                let ticket = &self.day.tickets[&first.ticket];
                Ok(self.call(now, counter, state, by, ticket, first.reason, None, Vec::new()))
            }
            Command::CallSpecific { counter, by, number, reason } => {
                let note = required_text(&reason)?;
                let state = self.idle_counter(&counter, &by)?;
                let ticket = self.find(number)?;
                if ticket.status != TicketStatus::Waiting {
                    return Err(Rejection::TicketNotWaiting { number, status: ticket.status });
                }
                if !self.serves(&counter, &ticket.service) {
                    return Err(Rejection::ServiceNotServedHere { counter, number });
                }
                let skipped: Vec<TicketId> = self
                    .ranked_for_counter(&counter, now)
                    .iter()
                    .take_while(|r| r.ticket != ticket.id)
                    .map(|r| r.ticket)
                    .collect();
                let reason = CallReason::Specific;
                Ok(self.call(now, counter, state, by, ticket, reason, Some(note), skipped))
            }
            Command::Resume { counter, by, number } => {
                let state = self.idle_counter(&counter, &by)?;
                let ticket = self.find(number)?;
                if ticket.status != TicketStatus::Parked {
                    return Err(Rejection::TicketNotParked { number, status: ticket.status });
                }
                Ok(self.call(now, counter, state, by, ticket, CallReason::Resumed, None, Vec::new()))
            }
            Command::Recall { counter, by } => {
                let (state, ticket) = self.current(&counter, &by)?;
                if ticket.status != TicketStatus::Called {
                    return Err(Rejection::TicketNotCalled { number: ticket.number, status: ticket.status });
                }
                if ticket.recalls >= self.config.rule.recalls_max {
                    return Ok(self.release(now, counter, state, &by, ticket, TicketStatus::NoShow, None));
                }
                let ticket = Ticket { recalls: ticket.recalls + 1, called_at: Some(now), ..ticket.clone() };
                let change = Change {
                    events: vec![Event::Called { ticket: ticket.clone(), call: None }],
                    tickets: vec![ticket.clone()],
                    ..Change::default()
                };
                Ok((change, Reply::Ticket(ticket)))
            }
            Command::Start { counter, by } => {
                let (_, ticket) = self.current(&counter, &by)?;
                if ticket.status != TicketStatus::Called {
                    return Err(Rejection::TicketNotCalled { number: ticket.number, status: ticket.status });
                }
                let ticket = Ticket { status: TicketStatus::Serving, started_at: Some(now), ..ticket.clone() };
                Ok(ticket_change(ticket))
            }
            Command::Finish { counter, by, outcome } => {
                let outcome = optional_text(&outcome)?.unwrap_or_else(|| "served".to_string());
                let (state, ticket) = self.current(&counter, &by)?;
                let ticket = Ticket { started_at: ticket.started_at.or(ticket.called_at), ..ticket.clone() };
                Ok(self.release(now, counter, state, &by, &ticket, TicketStatus::Finished, Some(outcome)))
            }
            Command::NoShow { counter, by } => {
                let (state, ticket) = self.current(&counter, &by)?;
                if ticket.status != TicketStatus::Called {
                    return Err(Rejection::TicketNotCalled { number: ticket.number, status: ticket.status });
                }
                Ok(self.release(now, counter, state, &by, ticket, TicketStatus::NoShow, None))
            }
            Command::Park { counter, by } => {
                let (state, ticket) = self.current(&counter, &by)?;
                Ok(self.release(now, counter, state, &by, ticket, TicketStatus::Parked, None))
            }
            Command::Transfer { counter, by, service } => {
                let (state, ticket) = self.current(&counter, &by)?;
                if self.config.service(&service).is_none() {
                    return Err(Rejection::UnknownService(service));
                }
                if ticket.service == service {
                    return Err(Rejection::SameService(ticket.number));
                }
                if ticket.transfers >= limits::TRANSFERS_PER_TICKET_MAX {
                    return Err(Rejection::TooManyTransfers(ticket.number));
                }
                let head = self.config.rule.transfer_position == TransferPosition::Head;
                let ticket = Ticket {
                    service,
                    status: TicketStatus::Waiting,
                    counter: None,
                    agent: None,
                    recalls: 0,
                    transfers: ticket.transfers + 1,
                    queued_at: if head { now } else { ticket.queued_at },
                    front: head || ticket.front,
                    ..ticket.clone()
                };
                Ok(leave_counter(counter, state, ticket))
            }
            Command::Cancel { number, reason, by } => {
                let reason = required_text(&reason)?;
                let ticket = self.find(number)?;
                self.cancel(now, ticket, reason, Who::Staff(by.agent))
            }
            Command::CancelByToken { token } => {
                let ticket = self.ticket_by_token(&token).ok_or(Rejection::UnknownToken)?;
                self.cancel(now, ticket, "cancelled by the citizen".to_string(), Who::Citizen)
            }
            Command::AnswerSurvey { ticket, answer, by } => self.answer_survey(now, ticket, answer, by),
        }
    }

    fn answer_survey(
        &self,
        now: Timestamp,
        which: SurveyTicket,
        input: SurveyInput,
        by: Who,
    ) -> Result<(Change, Reply), Rejection> {
        let ticket = match which {
            SurveyTicket::Token(token) => self.ticket_by_token(&token).ok_or(Rejection::UnknownToken)?,
            SurveyTicket::Number(number) => self
                .numbers
                .get(&number)
                .and_then(|id| self.day.tickets.get(id))
                .ok_or(Rejection::UnknownTicket(number))?,
        };
        if ticket.status != TicketStatus::Finished {
            return Err(Rejection::SurveyNotOpen(ticket.number));
        }
        if self.day.surveys.contains_key(&ticket.id) {
            return Err(Rejection::SurveyAnswered(ticket.number));
        }
        let answer = SurveyAnswer {
            satisfaction: input.satisfaction,
            recommend: input.recommend,
            resolved: input.resolved,
            commented: input.commented,
            at: now,
            by,
        };
        if let Some(problem) = answer.problem() {
            return Err(Rejection::BadSurvey(problem));
        }
        let change = Change { survey: Some((ticket.id, answer)), ..Change::default() };
        Ok((change, Reply::Ticket(ticket.clone())))
    }

    /// `travel_minutes` is a remote join's (0 for anyone else).
    fn issue(
        &self,
        now: Timestamp,
        service: ServiceId,
        priority: Priority,
        issuer: Who,
        token: String,
        travel_minutes: u32,
    ) -> Result<(Change, Reply), Rejection> {
        let config = self.config.service(&service).ok_or_else(|| Rejection::UnknownService(service.clone()))?;
        let class = match priority {
            Priority::Normal => Class::Normal,
            Priority::Preferential(category) => {
                if self.config.category(&category).is_none() {
                    return Err(Rejection::UnknownCategory(category));
                }
                Class::Preferential { category }
            }
            // An appointment jumps the queue at its time: only a real booking may ask for one.
            Priority::Appointment(at) if matches!(issuer, Who::Booking(_)) => Class::Appointment { at },
            Priority::Appointment(_) => return Err(Rejection::AppointmentNeedsBooking),
        };
        // A booking is one visit: checked in twice, the citizen is told the first ticket.
        if let Who::Booking(_) = &issuer {
            if let Some(first) = self.day.tickets.values().find(|t| t.issuer == issuer) {
                return Err(Rejection::AlreadyCheckedIn(first.number));
            }
        }
        let token_ok = !token.is_empty()
            && token.len() <= limits::TOKEN_LEN_MAX
            && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !token_ok || self.tokens.contains_key(&token) {
            return Err(Rejection::BadToken);
        }
        let seq = self.day.sequences.get(&config.prefix).copied().unwrap_or(0).saturating_add(1);
        if seq > limits::TICKETS_PER_SERVICE_MAX {
            return Err(Rejection::ServiceFull(service));
        }
        let id = TicketId(self.day.tickets.keys().next_back().map_or(1, |last| last.0 + 1));
        let mut ticket =
            Ticket::issued(id, TicketNumber { prefix: config.prefix, seq }, service, class, issuer, token, now);
        let estimate = self.estimate_new(&ticket, now);
        self.check_hours(&ticket, estimate, now)?;
        ticket.estimate = Some(estimate);
        // Joined from home, the citizen is away; at a full room, the kiosk sends them outside.
        ticket.away = match &ticket.issuer {
            Who::Remote(_) => Some(Away { travel_minutes }),
            Who::Kiosk(_) | Who::Button(_) if self.room().is_full() => Some(Away { travel_minutes: 0 }),
            _ => None,
        };
        let change = Change {
            events: vec![Event::Issued(ticket.clone())],
            tickets: vec![ticket.clone()],
            sequence: Some((config.prefix, seq)),
            ..Change::default()
        };
        Ok((change, Reply::Ticket(ticket)))
    }

    /// A remote join is taken only while the office is open. When the calendar sets a last-call
    /// margin, kiosk and button tickets follow the hours too, and any of them is issued only if
    /// its estimated call comes that long before the doors close. Without one the kiosk issues
    /// at any hour (hours that only shape bookings). Staff may always issue (a citizen let in at
    /// the last minute).
    fn check_hours(&self, ticket: &Ticket, estimate: WaitRange, now: Timestamp) -> Result<(), Rejection> {
        let calendar = &self.config.calendar;
        let margin = calendar.last_call_margin_minutes;
        let remote = matches!(ticket.issuer, Who::Remote(_));
        let walk_in = matches!(ticket.issuer, Who::Kiosk(_) | Who::Button(_));
        if !(remote || walk_in && margin.is_some()) {
            return Ok(());
        }
        let zone = &self.config.time_zone;
        let next_opening = || calendar.next_opening(now, zone).map(|at| local_text(at, zone));
        let Some(closes) = calendar.closes_after(now, zone) else {
            return Err(Rejection::OfficeClosed { next_opening: next_opening() });
        };
        let Some(margin) = margin else { return Ok(()) };
        let called = now.plus_minutes(estimate.midpoint().round() as i64);
        if called.plus_minutes(i64::from(margin)) > closes {
            return Err(Rejection::ServiceClosing { service: ticket.service.clone(), next_opening: next_opening() });
        }
        Ok(())
    }

    /// A remote join answered: the ticket if the office can give one now, or the refusal it
    /// records. Anything else (a box recovering, a clock behind) leaves it unanswered for later.
    fn join_remote(&self, now: Timestamp, request: Request, token: String) -> Result<(Change, Reply), Rejection> {
        if self.day.remote_answered().contains(request.id.as_str()) {
            return Err(Rejection::RemoteAnswered(request.id));
        }
        let offered = self.config.service(&request.service).is_some_and(|s| s.remote_join);
        let issued = match offered {
            true => {
                let issuer = Who::Remote(request.id.clone());
                self.issue(now, request.service.clone(), Priority::Normal, issuer, token, request.travel_minutes)
            }
            false => Err(Rejection::NotRemote(request.service.clone())),
        };
        let reason = match issued {
            Ok(issued) => return Ok(issued),
            Err(Rejection::OfficeClosed { .. }) => RefusalReason::Closed,
            Err(Rejection::ServiceClosing { .. }) => RefusalReason::Closing,
            Err(Rejection::NotRemote(_) | Rejection::UnknownService(_)) => RefusalReason::NotOffered,
            Err(Rejection::ServiceFull(_)) => RefusalReason::Full,
            Err(other) => return Err(other),
        };
        let refusal = Refusal { reason, at: now };
        Ok((Change { refusal: Some((request.id, refusal)), ..Change::default() }, Reply::Refused(refusal)))
    }

    /// The range a ticket about to be issued is told, as if it were already in the queue.
    fn estimate_new(&self, ticket: &Ticket, now: Timestamp) -> WaitRange {
        let services = [ticket.service.clone()];
        let others = self.waiting_in(&services);
        let ahead = rule::ahead(&self.config, others, &services, ticket, &self.capped(now), now).unwrap_or(0);
        self.estimator(now).range(ticket, ahead)
    }

    fn sign_in(&self, counter: CounterId, by: Actor) -> Result<(Change, Reply), Rejection> {
        if self.config.counter(&counter).is_none() {
            return Err(Rejection::UnknownCounter(counter));
        }
        let state = self.day.counter(&counter);
        match &state.agent {
            Some(agent) if *agent == by.agent => {
                if state.status == CounterStatus::Closed {
                    let state = CounterState { status: CounterStatus::Open, ..state };
                    return self.counter_change(counter, state);
                }
                return Ok((Change::default(), Reply::Counter { counter, state }));
            }
            Some(agent) => {
                return Err(Rejection::CounterTaken { counter, agent: agent.clone() });
            }
            None => {}
        }
        let mut change = Change::default();
        // An agent works at one counter at a time: signing in elsewhere signs them out here.
        for (other, other_state) in &self.day.counters {
            if other_state.agent.as_ref() == Some(&by.agent) {
                if other_state.current.is_some() {
                    return Err(Rejection::CounterBusy(other.clone()));
                }
                let closed = CounterState::default();
                change.events.push(Event::CounterChanged { counter: other.clone(), state: closed.clone() });
                change.counters.push((other.clone(), closed));
            }
        }
        let state =
            CounterState { status: CounterStatus::Open, agent: Some(by.agent), current: None, preferential_streak: 0 };
        change.events.push(Event::CounterChanged { counter: counter.clone(), state: state.clone() });
        change.counters.push((counter.clone(), state.clone()));
        Ok((change, Reply::Counter { counter, state }))
    }

    fn counter_change(&self, counter: CounterId, state: CounterState) -> Result<(Change, Reply), Rejection> {
        let change = Change {
            events: vec![Event::CounterChanged { counter: counter.clone(), state: state.clone() }],
            counters: vec![(counter.clone(), state.clone())],
            ..Change::default()
        };
        Ok((change, Reply::Counter { counter, state }))
    }

    /// The counter's state, if it exists and `by` may act at it.
    fn counter_state(&self, counter: &CounterId, by: &Actor) -> Result<CounterState, Rejection> {
        if self.config.counter(counter).is_none() {
            return Err(Rejection::UnknownCounter(counter.clone()));
        }
        let state = self.day.counter(counter);
        match &state.agent {
            _ if by.supervisor => Ok(state),
            Some(agent) if *agent == by.agent => Ok(state),
            Some(_) => Err(Rejection::NotYourCounter(counter.clone())),
            None => Err(Rejection::CounterClosed(counter.clone())),
        }
    }

    fn require_open(&self, counter: &CounterId, state: &CounterState) -> Result<(), Rejection> {
        match state.status {
            CounterStatus::Open => Ok(()),
            CounterStatus::Paused => Err(Rejection::CounterPaused(counter.clone())),
            CounterStatus::Closed => Err(Rejection::CounterClosed(counter.clone())),
        }
    }

    /// An open counter with nobody at it, ready to call.
    fn idle_counter(&self, counter: &CounterId, by: &Actor) -> Result<CounterState, Rejection> {
        let state = self.counter_state(counter, by)?;
        self.require_open(counter, &state)?;
        if state.current.is_some() {
            return Err(Rejection::CounterBusy(counter.clone()));
        }
        Ok(state)
    }

    /// The counter and the ticket called to it.
    fn current(&self, counter: &CounterId, by: &Actor) -> Result<(CounterState, &Ticket), Rejection> {
        let state = self.counter_state(counter, by)?;
        let ticket = state
            .current
            .and_then(|id| self.day.tickets.get(&id))
            .ok_or_else(|| Rejection::CounterIdle(counter.clone()))?;
        debug_assert!(ticket.status.is_at_counter(), "a counter's current ticket is at it");
        Ok((state, ticket))
    }

    fn find(&self, number: TicketNumber) -> Result<&Ticket, Rejection> {
        self.ticket_by_number(number).ok_or(Rejection::UnknownTicket(number))
    }

    fn serves(&self, counter: &CounterId, service: &ServiceId) -> bool {
        self.config.counter(counter).is_some_and(|c| c.services.contains(service))
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &self,
        now: Timestamp,
        counter: CounterId,
        state: CounterState,
        by: Actor,
        ticket: &Ticket,
        reason: CallReason,
        note: Option<String>,
        skipped: Vec<TicketId>,
    ) -> (Change, Reply) {
        let preferential = match reason {
            CallReason::Specific | CallReason::Resumed => {
                matches!(ticket.class, Class::Preferential { .. })
            }
            other => other.is_preferential(),
        };
        let agent = state.agent.clone().unwrap_or_else(|| by.agent.clone());
        let ticket = Ticket {
            status: TicketStatus::Called,
            counter: Some(counter.clone()),
            agent: Some(agent.clone()),
            recalls: 0,
            called_at: Some(now),
            first_called_at: ticket.first_called_at.or(Some(now)),
            ..ticket.clone()
        };
        let state = CounterState {
            current: Some(ticket.id),
            preferential_streak: if preferential { state.preferential_streak + 1 } else { 0 },
            ..state
        };
        let call = CallRecord {
            seq: self.day.calls.len() as u32 + 1,
            ticket: ticket.id,
            number: ticket.number,
            counter: counter.clone(),
            agent,
            actor: by.agent,
            at: now,
            reason,
            note,
            skipped,
        };
        if call.is_out_of_order() {
            tracing::warn!(
                office = %self.config.id, ticket = %ticket.number, counter = %counter,
                skipped = call.skipped.len(), "out-of-order call"
            );
        }
        let change = Change {
            events: vec![
                Event::Called { ticket: ticket.clone(), call: Some(call.clone()) },
                Event::CounterChanged { counter: counter.clone(), state: state.clone() },
            ],
            tickets: vec![ticket.clone()],
            counters: vec![(counter, state)],
            call: Some(call.clone()),
            ..Change::default()
        };
        (change, Reply::Call { ticket, call })
    }

    /// The ticket leaves the counter (finished, no-show or parked); the counter is idle again.
    #[allow(clippy::too_many_arguments)]
    fn release(
        &self,
        now: Timestamp,
        counter: CounterId,
        state: CounterState,
        by: &Actor,
        ticket: &Ticket,
        status: TicketStatus,
        outcome: Option<String>,
    ) -> (Change, Reply) {
        let closed = status.is_closed();
        let ticket = Ticket {
            status,
            counter: None,
            closed_at: closed.then_some(now),
            closed_by: closed.then(|| Who::Staff(by.agent.clone())),
            outcome,
            ..ticket.clone()
        };
        leave_counter(counter, state, ticket)
    }

    fn cancel(&self, now: Timestamp, ticket: &Ticket, reason: String, by: Who) -> Result<(Change, Reply), Rejection> {
        if ticket.status.is_closed() {
            return Err(Rejection::TicketClosed { number: ticket.number, status: ticket.status });
        }
        if ticket.status.is_at_counter() {
            return Err(Rejection::TicketAtCounter(ticket.number));
        }
        let ticket = Ticket {
            status: TicketStatus::Cancelled,
            closed_at: Some(now),
            outcome: Some(reason),
            closed_by: Some(by),
            ..ticket.clone()
        };
        Ok(ticket_change(ticket))
    }
}

/// Keep the per-service index of waiting tickets in step with a ticket's change from `old` to
/// `new` (a free function, so a rebuild can walk the day's tickets without copying them).
fn index_waiting(waiting: &mut HashMap<ServiceId, BTreeSet<TicketId>>, old: Option<&Ticket>, new: &Ticket) {
    if let Some(old) = old.filter(|t| t.status == TicketStatus::Waiting) {
        if let Some(set) = waiting.get_mut(&old.service) {
            set.remove(&old.id);
        }
    }
    if new.status == TicketStatus::Waiting {
        waiting.entry(new.service.clone()).or_default().insert(new.id);
    }
}

/// The longest prefix of a day's chunks that loads and keeps the rules (a damaged or breaking
/// tail is left out; sync brings back what central holds).
fn good_prefix(expected: &Day, chunks: &[Vec<u8>], actor: &[u8]) -> Result<(DayDoc, Day, Vec<u8>), DocError> {
    for end in (1..chunks.len()).rev() {
        if let Ok((doc, day)) = DayDoc::load(&chunks[..end], actor) {
            if expected.check_next(&day).is_ok() {
                return Ok((doc, day, chunks[..end].concat()));
            }
        }
    }
    Err(DocError::Empty)
}

fn show_time(at: Timestamp) -> String {
    jiff::Timestamp::from_millisecond(at.0).map_or_else(|_| at.0.to_string(), |t| t.to_string())
}

/// A ticket leaves its counter (finished, no-show, parked, transferred): the counter is idle.
fn leave_counter(counter: CounterId, state: CounterState, ticket: Ticket) -> (Change, Reply) {
    let state = CounterState { current: None, ..state };
    let change = Change {
        events: vec![
            Event::TicketChanged(ticket.clone()),
            Event::CounterChanged { counter: counter.clone(), state: state.clone() },
        ],
        tickets: vec![ticket.clone()],
        counters: vec![(counter, state)],
        ..Change::default()
    };
    (change, Reply::Ticket(ticket))
}

fn ticket_change(ticket: Ticket) -> (Change, Reply) {
    let change = Change {
        events: vec![Event::TicketChanged(ticket.clone())],
        tickets: vec![ticket.clone()],
        ..Change::default()
    };
    (change, Reply::Ticket(ticket))
}

fn required_text(text: &str) -> Result<String, Rejection> {
    optional_text(text)?.ok_or(Rejection::ReasonRequired)
}

fn optional_text(text: &str) -> Result<Option<String>, Rejection> {
    let text = text.trim();
    if text.chars().count() > limits::REASON_LEN_MAX {
        return Err(Rejection::TextTooLong(limits::REASON_LEN_MAX));
    }
    Ok((!text.is_empty()).then(|| text.to_string()))
}

#[cfg(test)]
mod tests;

/// Where a waiting ticket stands, from a day alone: central holds no `Office`, so it ranks the
/// day's waiting tickets by the same rule and estimates with the same model (without the
/// office's history, which stays at the box).
pub fn position_in(config: &OfficeConfig, day: &Day, id: TicketId, now: Timestamp) -> Option<Position> {
    let ticket = day.tickets.get(&id).filter(|t| t.status == TicketStatus::Waiting)?;
    let services = [ticket.service.clone()];
    let waiting = day.tickets.values().filter(|t| t.status == TicketStatus::Waiting && t.service == ticket.service);
    let ahead = rule::ahead(config, waiting, &services, ticket, &rule::capped(config, day, now), now)?;
    let history = History::default();
    let wait = Estimator::new(config, day, &history, &[], now).range(ticket, ahead);
    Some(Position { people_ahead: ahead, wait })
}

/// An instant as the office's clock shows it: "2026-12-07 08:00".
pub fn local_text(at: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(at.0)
        .map(|instant| instant.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}
