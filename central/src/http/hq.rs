//! What headquarters is sent of an office's day: its own types, not the domain's.
//!
//! HQ sees who did what and when (tickets, calls, counters, agents), never what identifies or
//! describes a citizen: no tracking token (it would let anyone at HQ cancel the ticket), no
//! outcome or cancel reason typed at the counter (one held an ID number and a phone). The
//! agent's reason for an out-of-order call is evidence in the deviation audit, so headquarters
//! administrators see it; analysts see that the call was out of order, whom it skipped, and why
//! the rule would have chosen otherwise, but not the free text.

use std::collections::BTreeMap;

use fila_protocol::{
    BusinessDay, CallReason, CallRecord, Class, CounterState, CounterStatus, Day, Ticket, TicketNumber, TicketStatus,
    Timestamp, Who,
};
use serde::Serialize;

/// Who at headquarters is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Analyst,
    /// An analyst token with `can_configure`.
    Admin,
}

#[derive(Debug, Clone, Serialize)]
pub struct HqDay {
    pub day: BusinessDay,
    pub office: String,
    /// By ticket id.
    pub tickets: BTreeMap<String, HqTicket>,
    pub counters: BTreeMap<String, HqCounter>,
    pub calls: Vec<HqCall>,
    /// The last number issued per service prefix.
    pub sequences: BTreeMap<char, u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HqTicket {
    pub id: u32,
    pub number: TicketNumber,
    pub service: String,
    pub class: Class,
    /// The kiosk, member of staff, button or booking that issued it.
    pub issuer: Who,
    pub issued_at: Timestamp,
    pub queued_at: Timestamp,
    pub front: bool,
    pub status: TicketStatus,
    pub counter: Option<String>,
    pub agent: Option<String>,
    pub recalls: u8,
    pub transfers: u8,
    pub called_at: Option<Timestamp>,
    pub first_called_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// Who finished, cancelled or marked it a no-show.
    pub closed_by: Option<Who>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HqCounter {
    pub status: CounterStatus,
    pub agent: Option<String>,
    pub current: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HqCall {
    pub seq: u32,
    pub ticket: u32,
    pub number: TicketNumber,
    pub counter: String,
    pub agent: String,
    /// Who pressed "call": the agent, or a supervisor at the agent's counter.
    pub actor: String,
    pub at: Timestamp,
    pub reason: CallReason,
    /// The agent's reason for an out-of-order call: administrators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Tickets the rule ranked above this one, by id.
    pub skipped: Vec<u32>,
}

impl HqDay {
    pub fn new(day: &Day, audience: Audience) -> Self {
        HqDay {
            day: day.day,
            office: day.office.clone(),
            tickets: day.tickets.iter().map(|(id, t)| (id.0.to_string(), HqTicket::from(t))).collect(),
            counters: day.counters.iter().map(|(id, c)| (id.to_string(), HqCounter::from(c))).collect(),
            calls: day.calls.iter().map(|call| HqCall::new(call, audience)).collect(),
            sequences: day.sequences.clone(),
        }
    }
}

impl From<&Ticket> for HqTicket {
    fn from(ticket: &Ticket) -> Self {
        HqTicket {
            id: ticket.id.0,
            number: ticket.number,
            service: ticket.service.to_string(),
            class: ticket.class.clone(),
            issuer: ticket.issuer.clone(),
            issued_at: ticket.issued_at,
            queued_at: ticket.queued_at,
            front: ticket.front,
            status: ticket.status,
            counter: ticket.counter.as_ref().map(|c| c.to_string()),
            agent: ticket.agent.as_ref().map(|a| a.to_string()),
            recalls: ticket.recalls,
            transfers: ticket.transfers,
            called_at: ticket.called_at,
            first_called_at: ticket.first_called_at,
            started_at: ticket.started_at,
            closed_at: ticket.closed_at,
            closed_by: ticket.closed_by.clone(),
        }
    }
}

impl From<&CounterState> for HqCounter {
    fn from(counter: &CounterState) -> Self {
        HqCounter {
            status: counter.status,
            agent: counter.agent.as_ref().map(|a| a.to_string()),
            current: counter.current.map(|t| t.0),
        }
    }
}

impl HqCall {
    fn new(call: &CallRecord, audience: Audience) -> Self {
        let note = match audience {
            Audience::Admin if call.is_out_of_order() => call.note.clone(),
            _ => None,
        };
        HqCall {
            seq: call.seq,
            ticket: call.ticket.0,
            number: call.number,
            counter: call.counter.to_string(),
            agent: call.agent.to_string(),
            actor: call.actor.to_string(),
            at: call.at,
            reason: call.reason,
            note,
            skipped: call.skipped.iter().map(|t| t.0).collect(),
        }
    }
}
