//! The business-day document, `branch/<office>/day/<yyyy-mm-dd>`:
//!
//! ```text
//! { schema: 1, office: "centro", day: "2026-11-29",
//!   tickets:   { "000001": { prefix, seq, service, class, issuer, category, status, counter, ... } },
//!   counters:  { "4": { status, agent, current, preferential_streak } },
//!   calls:     { "000001": { ticket, prefix, seq, counter, agent, actor, at, reason, note, skipped: [..] } },
//!   sequences: { "A": 23 } }
//! ```
//! Tickets and calls live in maps keyed by id, never in lists, and are never deleted. Only the
//! edge creates this document (one creator for the skeleton) and only the edge allocates numbers.

use std::collections::HashMap;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value, ROOT};

use super::keys::{self, call as ck, counter as cok, refusal as rk, survey as sk, ticket as tk};
use super::scalar::{self, i, opt_s, opt_t, s, t, Fields, Record};
use super::DocError;
use crate::day::{CallRecord, CounterState, CounterStatus, Day, SurveyAnswer};
use crate::ids::{AgentId, BusinessDay, CategoryId, CounterId, ServiceId, TicketId, Timestamp};
use crate::remote::{Refusal, RefusalReason};
use crate::rule::CallReason;
use crate::ticket::{Away, Class, Ticket, TicketNumber, TicketStatus, WaitRange, Who};

pub struct DayDoc {
    doc: AutoCommit,
    at: Objects,
}

impl DayDoc {
    /// The skeleton of a new day. Only the edge calls this, and every edge makes the very same
    /// first change (a fixed actor and time): a replaced box that creates today's skeleton again
    /// shares it with the copy central holds, instead of a rival `tickets` map that would hide
    /// every ticket issued before. Later changes are written as `actor`.
    pub fn create(office: &str, day: BusinessDay, actor: &[u8]) -> Result<Self, DocError> {
        let skeleton_actor = format!("fila-day-skeleton/{office}/{day}");
        let mut doc = AutoCommit::new().with_actor(ActorId::from(skeleton_actor.as_bytes()));
        doc.put(ROOT, keys::SCHEMA, keys::SCHEMA_VERSION)?;
        doc.put(ROOT, keys::OFFICE, office)?;
        doc.put(ROOT, keys::DAY, day.to_string())?;
        let tickets = doc.put_object(ROOT, keys::TICKETS, ObjType::Map)?;
        let counters = doc.put_object(ROOT, keys::COUNTERS, ObjType::Map)?;
        let calls = doc.put_object(ROOT, keys::CALLS, ObjType::Map)?;
        let sequences = doc.put_object(ROOT, keys::SEQUENCES, ObjType::Map)?;
        doc.commit_with(automerge::transaction::CommitOptions::default().with_time(0));
        doc.set_actor(ActorId::from(actor));
        let at = Objects {
            tickets,
            counters,
            calls,
            sequences,
            surveys: None,
            refusals: None,
            ticket_objs: HashMap::new(),
            counter_objs: HashMap::new(),
        };
        Ok(DayDoc { doc, at })
    }

    /// A day document from its stored chunks (a snapshot and/or incremental saves, in order).
    pub fn load(chunks: &[Vec<u8>], actor: &[u8]) -> Result<(Self, Day), DocError> {
        let mut doc = super::load_chunks("day", chunks);
        if doc.get_heads().is_empty() {
            return Err(DocError::Empty);
        }
        doc.set_actor(ActorId::from(actor));
        let (day, at) = read_with_objects(&doc)?;
        Ok((DayDoc { doc, at }, day))
    }

    pub fn put_ticket(&mut self, old: Option<&Ticket>, new: &Ticket) -> Result<(), DocError> {
        match self.at.ticket_objs.get(&new.id) {
            Some(obj) => {
                let obj = obj.clone();
                let old = old.map(ticket_fields);
                scalar::write(&mut self.doc, &obj, old.as_ref(), &ticket_fields(new))
            }
            None => {
                let obj = scalar::create(&mut self.doc, &self.at.tickets, &new.id.key(), &ticket_fields(new), None)?;
                self.at.ticket_objs.insert(new.id, obj);
                Ok(())
            }
        }
    }

    pub fn put_counter(
        &mut self,
        id: &CounterId,
        old: Option<&CounterState>,
        new: &CounterState,
    ) -> Result<(), DocError> {
        match self.at.counter_objs.get(id) {
            Some(obj) => {
                let obj = obj.clone();
                let old = old.map(counter_fields);
                scalar::write(&mut self.doc, &obj, old.as_ref(), &counter_fields(new))
            }
            None => {
                let obj = scalar::create(&mut self.doc, &self.at.counters, id.as_str(), &counter_fields(new), None)?;
                self.at.counter_objs.insert(id.clone(), obj);
                Ok(())
            }
        }
    }

    pub fn put_call(&mut self, call: &CallRecord) -> Result<(), DocError> {
        let fields = vec![
            (ck::TICKET, i(call.ticket.0)),
            (ck::PREFIX, s(&call.number.prefix.to_string())),
            (ck::SEQ, i(call.number.seq)),
            (ck::COUNTER, s(call.counter.as_str())),
            (ck::AGENT, s(call.agent.as_str())),
            (ck::ACTOR, s(call.actor.as_str())),
            (ck::AT, t(call.at)),
            (ck::REASON, s(call.reason.name())),
            (ck::NOTE, opt_s(call.note.as_deref())),
        ];
        let skipped: Vec<ScalarValue> = call.skipped.iter().map(|id| i(id.0)).collect();
        scalar::create(
            &mut self.doc,
            &self.at.calls,
            &TicketId(call.seq).key(),
            &fields,
            Some((ck::SKIPPED, skipped)),
        )?;
        Ok(())
    }

    /// A survey answer is written once and never changed.
    pub fn put_survey(&mut self, ticket: TicketId, answer: &SurveyAnswer) -> Result<(), DocError> {
        let surveys = match &self.at.surveys {
            Some(surveys) => surveys.clone(),
            None => {
                let surveys = self.doc.put_object(ROOT, keys::SURVEYS, ObjType::Map)?;
                self.at.surveys = Some(surveys.clone());
                surveys
            }
        };
        let optional = |n: Option<u8>| n.map_or(ScalarValue::Null, i);
        let fields = vec![
            (sk::SATISFACTION, optional(answer.satisfaction)),
            (sk::RECOMMEND, optional(answer.recommend)),
            (sk::RESOLVED, answer.resolved.map_or(ScalarValue::Null, ScalarValue::Boolean)),
            (sk::COMMENTED, ScalarValue::Boolean(answer.commented)),
            (sk::AT, t(answer.at)),
            (sk::BY, s(&answer.by.to_text())),
        ];
        scalar::create(&mut self.doc, &surveys, &ticket.key(), &fields, None)?;
        Ok(())
    }

    /// A refused remote join is written once and never changed.
    pub fn put_refusal(&mut self, request: &str, refusal: &Refusal) -> Result<(), DocError> {
        let refusals = match &self.at.refusals {
            Some(refusals) => refusals.clone(),
            None => {
                let refusals = self.doc.put_object(ROOT, keys::REFUSALS, ObjType::Map)?;
                self.at.refusals = Some(refusals.clone());
                refusals
            }
        };
        let fields = vec![(rk::REASON, s(refusal.reason.name())), (rk::AT, t(refusal.at))];
        scalar::create(&mut self.doc, &refusals, request, &fields, None)?;
        Ok(())
    }

    pub fn put_sequence(&mut self, prefix: char, seq: u16) -> Result<(), DocError> {
        self.doc.put(&self.at.sequences, prefix.to_string(), i(seq))?;
        Ok(())
    }

    pub fn commit(&mut self, now: Timestamp) {
        self.doc.commit_with(automerge::transaction::CommitOptions::default().with_time(now.0 / 1000));
    }

    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn automerge(&self) -> &AutoCommit {
        &self.doc
    }

    /// For the sync protocol only: every other write goes through the typed `put_*` methods.
    pub fn automerge_mut(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    /// The whole day, checked field by field.
    pub fn read(&self) -> Result<Day, DocError> {
        read_day(&self.doc)
    }
}

/// The day a peer's change leaves in `doc`, if it may be accepted: a day document must read as a
/// day of its own office and date, keep the day's rules (`Day::check`), and keep everything the
/// day held before (`Day::check_successor`: no call or ticket deleted, no issued ticket's
/// identity or closed ticket rewritten), whoever sent it. Other documents pass as they are
/// (`Ok(None)`). Central runs it on every change an edge sends; the edge on past days central
/// sends back (the current day goes through `Office::sync_receive`, which runs the same rules).
pub fn accept_received(doc_id: &str, before: Option<&Day>, doc: &AutoCommit) -> Result<Option<Day>, String> {
    let Some(super::keys::DocId::Day { office, day }) = super::keys::DocId::parse(doc_id) else { return Ok(None) };
    let after = read_day(doc).map_err(|error| format!("the day does not read: {error}"))?;
    let empty = Day::new(&office, day);
    let before = before.unwrap_or(&empty);
    before.check_next(&after).map_err(|breach| breach.to_string())?;
    Ok(Some(after))
}

/// Read a day from any automerge document holding the day schema.
pub fn read_day(doc: &AutoCommit) -> Result<Day, DocError> {
    read_with_objects(doc).map(|(day, _)| day)
}

/// Where a day's records live in its document (read once, then kept for writing).
struct Objects {
    tickets: ObjId,
    counters: ObjId,
    calls: ObjId,
    sequences: ObjId,
    /// None until the day's first survey answer.
    surveys: Option<ObjId>,
    /// None until the day's first refused remote join.
    refusals: Option<ObjId>,
    ticket_objs: HashMap<TicketId, ObjId>,
    counter_objs: HashMap<CounterId, ObjId>,
}

/// The day, checked field by field, and where its records are. Each object is read in one pass.
fn read_with_objects(doc: &AutoCommit) -> Result<(Day, Objects), DocError> {
    let root = Record::read(doc, &ROOT);
    let schema = root.int(keys::SCHEMA)?;
    if schema != keys::SCHEMA_VERSION {
        return Err(DocError::Schema { expected: keys::SCHEMA_VERSION, found: schema });
    }
    let office = root.str(keys::OFFICE)?;
    let day = BusinessDay::parse(&root.str(keys::DAY)?).ok_or_else(|| DocError::Field(keys::DAY.into()))?;
    let mut result = Day::new(&office, day);
    let mut objects = Objects {
        tickets: root.object(keys::TICKETS)?,
        counters: root.object(keys::COUNTERS)?,
        calls: root.object(keys::CALLS)?,
        sequences: root.object(keys::SEQUENCES)?,
        surveys: root.opt_object(keys::SURVEYS)?,
        refusals: root.opt_object(keys::REFUSALS)?,
        ticket_objs: HashMap::new(),
        counter_objs: HashMap::new(),
    };

    for (key, obj, record) in records(doc, &objects.tickets, keys::TICKETS)? {
        let id = TicketId::from_key(&key).ok_or_else(|| DocError::Field(format!("tickets.{key}")))?;
        result.tickets.insert(id, read_ticket(&record, id)?);
        objects.ticket_objs.insert(id, obj);
    }

    for (key, obj, record) in records(doc, &objects.counters, keys::COUNTERS)? {
        let status = record.str(cok::STATUS)?;
        let state = CounterState {
            status: CounterStatus::from_name(&status).ok_or_else(|| DocError::Field(cok::STATUS.into()))?,
            agent: record.opt_str(cok::AGENT)?.map(AgentId),
            current: record.opt_int(cok::CURRENT)?.map(|n| ticket_id(n, cok::CURRENT)).transpose()?,
            preferential_streak: u32::try_from(record.int(cok::STREAK)?)
                .map_err(|_| DocError::Field(cok::STREAK.into()))?,
        };
        let id = CounterId(key);
        objects.counter_objs.insert(id.clone(), obj);
        result.counters.insert(id, state);
    }

    for (key, _, record) in records(doc, &objects.calls, keys::CALLS)? {
        let seq = TicketId::from_key(&key).ok_or_else(|| DocError::Field(format!("calls.{key}")))?.0;
        let reason = record.str(ck::REASON)?;
        let skipped = doc
            .list_range(&record.object(ck::SKIPPED)?, ..)
            .map(|item| match item.value.into_value() {
                Value::Scalar(v) => match v.as_ref() {
                    ScalarValue::Int(n) => ticket_id(*n, ck::SKIPPED),
                    _ => Err(DocError::Field(ck::SKIPPED.into())),
                },
                _ => Err(DocError::Field(ck::SKIPPED.into())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let agent = AgentId(record.str(ck::AGENT)?);
        result.calls.push(CallRecord {
            seq,
            ticket: ticket_id(record.int(ck::TICKET)?, ck::TICKET)?,
            number: read_number(&record, ck::PREFIX, ck::SEQ)?,
            counter: CounterId(record.str(ck::COUNTER)?),
            // Calls recorded before the actor was kept were pressed by the counter's agent.
            actor: record.opt_str(ck::ACTOR)?.map_or_else(|| agent.clone(), AgentId),
            agent,
            at: record.time(ck::AT)?,
            reason: CallReason::from_name(&reason).ok_or_else(|| DocError::Field(ck::REASON.into()))?,
            note: record.opt_str(ck::NOTE)?,
            skipped,
        });
    }
    result.calls.sort_by_key(|c| c.seq);

    let sequences = Record::read(doc, &objects.sequences);
    if let Some((key, _)) = sequences.objects().next() {
        return Err(DocError::Field(format!("sequences.{key}")));
    }
    for (key, _) in sequences.scalars() {
        let mut chars = key.chars();
        let prefix = match (chars.next(), chars.next()) {
            (Some(letter), None) if letter.is_ascii_uppercase() => letter,
            _ => return Err(DocError::Field(format!("sequences.{key}"))),
        };
        let seq = sequences.int(key)?;
        result.sequences.insert(prefix, u16::try_from(seq).map_err(|_| DocError::Field("sequences".into()))?);
    }
    if let Some(surveys) = &objects.surveys {
        for (key, _, record) in records(doc, surveys, keys::SURVEYS)? {
            let id = TicketId::from_key(&key).ok_or_else(|| DocError::Field(format!("surveys.{key}")))?;
            result.surveys.insert(id, read_survey(&record)?);
        }
    }
    if let Some(refusals) = &objects.refusals {
        for (key, _, record) in records(doc, refusals, keys::REFUSALS)? {
            if !crate::ids::is_valid_id(&key) {
                return Err(DocError::Field(format!("refusals.{key}")));
            }
            let reason = record.str(rk::REASON)?;
            let reason = RefusalReason::parse(&reason).ok_or_else(|| DocError::Field(format!("refusals.{key}")))?;
            result.refusals.insert(key, Refusal { reason, at: record.time(rk::AT)? });
        }
    }
    Ok((result, objects))
}

/// The records of a map of records (tickets, counters, calls), each read in one pass. An entry
/// that is not a record makes the day unreadable.
fn records(doc: &AutoCommit, map: &ObjId, name: &str) -> Result<Vec<(String, ObjId, Record)>, DocError> {
    let entries = Record::read(doc, map);
    if let Some((key, _)) = entries.scalars().next() {
        return Err(DocError::Field(format!("{name}.{key}")));
    }
    Ok(entries.objects().map(|(key, obj)| (key.clone(), obj.clone(), Record::read(doc, obj))).collect())
}

fn ticket_fields(ticket: &Ticket) -> Fields {
    let (class, category, appointment_at) = match &ticket.class {
        Class::Normal => ("normal", None, None),
        Class::Preferential { category } => ("preferential", Some(category.as_str()), None),
        Class::Appointment { at } => ("appointment", None, Some(*at)),
    };
    vec![
        (tk::PREFIX, s(&ticket.number.prefix.to_string())),
        (tk::SEQ, i(ticket.number.seq)),
        (tk::SERVICE, s(ticket.service.as_str())),
        (tk::CLASS, s(class)),
        (tk::ISSUER, s(&ticket.issuer.to_text())),
        (tk::CATEGORY, opt_s(category)),
        (tk::APPOINTMENT_AT, opt_t(appointment_at)),
        (tk::TOKEN, s(&ticket.token)),
        (tk::ISSUED_AT, t(ticket.issued_at)),
        (tk::QUEUED_AT, t(ticket.queued_at)),
        (tk::FRONT, ScalarValue::Boolean(ticket.front)),
        (tk::STATUS, s(ticket.status.name())),
        (tk::COUNTER, opt_s(ticket.counter.as_ref().map(|c| c.as_str()))),
        (tk::AGENT, opt_s(ticket.agent.as_ref().map(|a| a.as_str()))),
        (tk::RECALLS, i(ticket.recalls)),
        (tk::TRANSFERS, i(ticket.transfers)),
        (tk::CALLED_AT, opt_t(ticket.called_at)),
        (tk::FIRST_CALLED_AT, opt_t(ticket.first_called_at)),
        (tk::STARTED_AT, opt_t(ticket.started_at)),
        (tk::CLOSED_AT, opt_t(ticket.closed_at)),
        (tk::OUTCOME, opt_s(ticket.outcome.as_deref())),
        (tk::CLOSED_BY, opt_s(ticket.closed_by.as_ref().map(Who::to_text).as_deref())),
        (tk::ESTIMATE_LOW, ticket.estimate.map_or(ScalarValue::Null, |e| i(e.low))),
        (tk::ESTIMATE_HIGH, ticket.estimate.map_or(ScalarValue::Null, |e| i(e.high))),
        (tk::AWAY_TRAVEL_MINUTES, ticket.away.map_or(ScalarValue::Null, |a| i(a.travel_minutes))),
    ]
}

fn counter_fields(state: &CounterState) -> Fields {
    vec![
        (cok::STATUS, s(state.status.name())),
        (cok::AGENT, opt_s(state.agent.as_ref().map(|a| a.as_str()))),
        (cok::CURRENT, state.current.map_or(ScalarValue::Null, |id| i(id.0))),
        (cok::STREAK, i(state.preferential_streak)),
    ]
}

fn read_number(record: &Record, prefix: &str, seq: &str) -> Result<TicketNumber, DocError> {
    let prefix_text = record.str(prefix)?;
    let mut chars = prefix_text.chars();
    let (Some(letter @ 'A'..='Z'), None) = (chars.next(), chars.next()) else {
        return Err(DocError::Field(prefix.into()));
    };
    let seq = u16::try_from(record.int(seq)?).map_err(|_| DocError::Field(seq.into()))?;
    Ok(TicketNumber { prefix: letter, seq })
}

/// A ticket id as stored: a positive integer that fits the day.
fn ticket_id(n: i64, key: &str) -> Result<TicketId, DocError> {
    u32::try_from(n).ok().filter(|&n| n > 0).map(TicketId).ok_or_else(|| DocError::Field(key.into()))
}

fn who(record: &Record, key: &str) -> Result<Option<Who>, DocError> {
    record.opt_str(key)?.map(|text| Who::from_text(&text).ok_or_else(|| DocError::Field(key.into()))).transpose()
}

/// The range told at issue: both ends or neither, low not above high.
fn read_estimate(record: &Record) -> Result<Option<WaitRange>, DocError> {
    let minutes = |key: &str| -> Result<Option<u32>, DocError> {
        record.opt_int(key)?.map(|n| u32::try_from(n).map_err(|_| DocError::Field(key.into()))).transpose()
    };
    match (minutes(tk::ESTIMATE_LOW)?, minutes(tk::ESTIMATE_HIGH)?) {
        (None, None) => Ok(None),
        (Some(low), Some(high)) if low <= high => Ok(Some(WaitRange { low, high })),
        _ => Err(DocError::Field(tk::ESTIMATE_HIGH.into())),
    }
}

fn small(record: &Record, key: &str) -> Result<u8, DocError> {
    u8::try_from(record.int(key)?).map_err(|_| DocError::Field(key.into()))
}

fn read_survey(record: &Record) -> Result<SurveyAnswer, DocError> {
    let score = |key: &str| -> Result<Option<u8>, DocError> {
        record.opt_int(key)?.map(|n| u8::try_from(n).map_err(|_| DocError::Field(key.into()))).transpose()
    };
    Ok(SurveyAnswer {
        satisfaction: score(sk::SATISFACTION)?,
        recommend: score(sk::RECOMMEND)?,
        resolved: record.opt_bool(sk::RESOLVED)?,
        commented: record.bool(sk::COMMENTED)?,
        at: record.time(sk::AT)?,
        by: who(record, sk::BY)?.ok_or_else(|| DocError::Field(sk::BY.into()))?,
    })
}

fn read_ticket(record: &Record, id: TicketId) -> Result<Ticket, DocError> {
    let class = match record.str(tk::CLASS)?.as_str() {
        "normal" => Class::Normal,
        "preferential" => Class::Preferential {
            category: CategoryId(record.opt_str(tk::CATEGORY)?.ok_or_else(|| DocError::Field(tk::CATEGORY.into()))?),
        },
        "appointment" => Class::Appointment { at: record.time(tk::APPOINTMENT_AT)? },
        _ => return Err(DocError::Field(tk::CLASS.into())),
    };
    let status = record.str(tk::STATUS)?;
    Ok(Ticket {
        id,
        number: read_number(record, tk::PREFIX, tk::SEQ)?,
        service: ServiceId(record.str(tk::SERVICE)?),
        class,
        // Days stored before issuers were kept have none.
        issuer: who(record, tk::ISSUER)?.unwrap_or(Who::Unrecorded),
        token: record.str(tk::TOKEN)?,
        issued_at: record.time(tk::ISSUED_AT)?,
        queued_at: record.time(tk::QUEUED_AT)?,
        front: record.bool(tk::FRONT)?,
        status: TicketStatus::from_name(&status).ok_or_else(|| DocError::Field(tk::STATUS.into()))?,
        counter: record.opt_str(tk::COUNTER)?.map(CounterId),
        agent: record.opt_str(tk::AGENT)?.map(AgentId),
        recalls: small(record, tk::RECALLS)?,
        transfers: small(record, tk::TRANSFERS)?,
        called_at: record.opt_time(tk::CALLED_AT)?,
        first_called_at: record.opt_time(tk::FIRST_CALLED_AT)?,
        started_at: record.opt_time(tk::STARTED_AT)?,
        closed_at: record.opt_time(tk::CLOSED_AT)?,
        outcome: record.opt_str(tk::OUTCOME)?,
        closed_by: who(record, tk::CLOSED_BY)?,
        estimate: read_estimate(record)?,
        away: record
            .opt_int(tk::AWAY_TRAVEL_MINUTES)?
            .map(|n| u32::try_from(n).map(|travel_minutes| Away { travel_minutes }))
            .transpose()
            .map_err(|_| DocError::Field(tk::AWAY_TRAVEL_MINUTES.into()))?,
    })
}
