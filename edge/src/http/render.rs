//! Turning replies and events into DTOs. Runs inside an office query where it needs the day's
//! state (positions, numbers of skipped tickets).

use fila_protocol::office::{Event, Office, Position, Reply};
use fila_protocol::{OfficeConfig, Ticket, TicketId, Timestamp};
use serde_json::Value;

use super::dto::{CallDto, CallSummary, CounterDto, PublicCounterDto, PublicTicketDto, TicketDto};
use crate::office_loop::LoopError;

/// A reply as its DTO, as JSON.
pub fn reply(office: &Office, now: Timestamp, reply: &Reply) -> Result<Value, LoopError> {
    Ok(reply_json(office, now, reply))
}

/// A reply that must be a ticket, as its DTO for the citizen (`with_token`) or staff.
pub fn ticket_reply(with_token: bool) -> impl Fn(&Office, Timestamp, &Reply) -> Result<TicketDto, LoopError> {
    move |office, now, reply| match reply {
        Reply::Ticket(ticket) => Ok(ticket_dto(office, now, ticket, with_token)),
        other => Err(LoopError::Storage(format!("expected a ticket, the office replied {other:?}"))),
    }
}

/// A ticket just issued: its DTO for the kiosk that asked, and the ticket with its place in the
/// queue for the printer (which lays out domain types, not DTOs).
pub fn issued_ticket(
    office: &Office,
    now: Timestamp,
    reply: &Reply,
) -> Result<(TicketDto, Ticket, Option<Position>), LoopError> {
    match reply {
        Reply::Ticket(ticket) => {
            let position = office.position(ticket.id, now);
            let dto = TicketDto::new(ticket, office.config(), position, true);
            Ok((dto, ticket.clone(), position))
        }
        other => Err(LoopError::Storage(format!("expected a ticket, the office replied {other:?}"))),
    }
}

fn reply_json(office: &Office, now: Timestamp, reply: &Reply) -> Value {
    let config = office.config();
    let json = match reply {
        // Staff never see a tracking token: it is the citizen's key to their ticket (cancel
        // included), and only the kiosk that prints it hands it over.
        Reply::Ticket(ticket) => serde_json::to_value(ticket_dto(office, now, ticket, false)),
        Reply::Call { ticket, call } => {
            let ticket = ticket_dto(office, now, ticket, false);
            serde_json::to_value(CallDto::new(call, ticket, config, |id| number_of(office, id)))
        }
        Reply::Counter { counter, .. } => serde_json::to_value(counter_dto(office, now, counter.as_str())),
        Reply::Refused(refusal) => serde_json::to_value(refusal),
    };
    json.unwrap_or(Value::Null)
}

pub fn ticket_dto(office: &Office, now: Timestamp, ticket: &Ticket, with_token: bool) -> TicketDto {
    TicketDto::new(ticket, office.config(), office.position(ticket.id, now), with_token)
}

pub fn counter_dto(office: &Office, now: Timestamp, id: &str) -> CounterDto {
    let counter = fila_protocol::CounterId::new(id);
    let state = office.day().counter(&counter);
    let current = state.current.and_then(|t| office.ticket(t)).map(|t| ticket_dto(office, now, t, false));
    CounterDto::new(id, &state, office.config(), current)
}

pub fn number_of(office: &Office, id: TicketId) -> String {
    office.ticket(id).map_or_else(|| id.to_string(), |t| t.number.to_string())
}

pub fn call_summary(config: &OfficeConfig, ticket: &Ticket, recall: bool) -> Option<CallSummary> {
    let counter = ticket.counter.as_ref()?;
    Some(CallSummary {
        number: ticket.number.to_string(),
        counter: counter.to_string(),
        counter_name: config.counter(counter).map_or_else(|| counter.to_string(), |c| c.name.clone()),
        service_name: config.service(&ticket.service).map_or_else(String::new, |s| s.name.clone()),
        at: ticket.called_at.map_or(0, |t| t.as_ms()),
        recalls: ticket.recalls,
        recall,
    })
}

/// An event as a server-sent event name and JSON data, for anyone who listens (the stream is
/// anonymous): numbers, counters and statuses only. No tracking token, agent, outcome, cancel
/// reason or preferential category ever leaves here.
pub fn event(config: &OfficeConfig, event: &Event) -> Option<(&'static str, Value)> {
    let ticket = |t: &Ticket| serde_json::to_value(PublicTicketDto::new(t, config)).ok();
    Some(match event {
        Event::DayStarted(day) => ("day", serde_json::json!({ "day": day.to_string() })),
        Event::Issued(t) => ("issued", ticket(t)?),
        Event::Called { ticket: t, call } => {
            ("called", serde_json::to_value(call_summary(config, t, call.is_none())?).ok()?)
        }
        Event::TicketChanged(t) => ("ticket", ticket(t)?),
        Event::CounterChanged { counter, state } => {
            ("counter", serde_json::to_value(PublicCounterDto::new(counter.as_str(), state, config)).ok()?)
        }
        Event::LegalWaitAlarm(t) => ("alarm", ticket(t)?),
    })
}
