//! What the API sends and receives. Domain types stay free of HTTP; these are their faces.

use fila_protocol::office::{CallRecord, CounterState, Position};
use fila_protocol::ticket::{Class, Ticket};
use fila_protocol::{OfficeConfig, TicketId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Role;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TicketDto {
    pub id: u32,
    /// As printed and called: "A-023".
    pub number: String,
    pub service: String,
    pub service_name: String,
    /// normal, preferential or appointment.
    pub class: String,
    pub category: Option<String>,
    pub appointment_at: Option<i64>,
    /// waiting, called, serving, parked, finished, no_show or cancelled.
    pub status: String,
    pub counter: Option<String>,
    pub counter_name: Option<String>,
    /// Milliseconds since the Unix epoch, like every time in this API.
    pub issued_at: i64,
    pub called_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub outcome: Option<String>,
    pub recalls: u8,
    pub transfers: u8,
    /// Only in the answer to whoever issued the ticket (the kiosk prints it): never to staff
    /// afterwards, nor on the event stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    pub people_ahead: Option<u32>,
    /// The middle of the estimated range, rounded.
    pub estimated_wait_minutes: Option<u32>,
    /// The estimated wait from now, as a range ("12–20 min").
    pub estimated_wait_low_minutes: Option<u32>,
    pub estimated_wait_high_minutes: Option<u32>,
    /// The range this ticket was told when issued (the figure HQ scores the estimate by).
    pub issued_wait_low_minutes: Option<u32>,
    pub issued_wait_high_minutes: Option<u32>,
    /// The citizen waits outside the room (joined from home, or the room was full): the
    /// kiosk says "wait outside", the tracking page offers "I'm here".
    pub away: bool,
    /// Set while away and the earliest their turn may come is within their travel time plus
    /// the office's margin: time to set off.
    pub come_now: bool,
}

impl TicketDto {
    pub fn new(ticket: &Ticket, config: &OfficeConfig, position: Option<Position>, with_token: bool) -> Self {
        let (category, appointment_at) = match &ticket.class {
            Class::Preferential { category } => (Some(category.to_string()), None),
            Class::Appointment { at } => (None, Some(at.as_ms())),
            Class::Normal => (None, None),
        };
        TicketDto {
            id: ticket.id.0,
            number: ticket.number.to_string(),
            service: ticket.service.to_string(),
            service_name: config.service(&ticket.service).map_or_else(String::new, |s| s.name.clone()),
            class: ticket.class.name().to_string(),
            category,
            appointment_at,
            status: ticket.status.name().to_string(),
            counter: ticket.counter.as_ref().map(|c| c.to_string()),
            counter_name: ticket.counter.as_ref().and_then(|c| config.counter(c)).map(|c| c.name.clone()),
            issued_at: ticket.issued_at.as_ms(),
            called_at: ticket.called_at.map(|t| t.as_ms()),
            closed_at: ticket.closed_at.map(|t| t.as_ms()),
            outcome: ticket.outcome.clone(),
            recalls: ticket.recalls,
            transfers: ticket.transfers,
            token: with_token.then(|| ticket.token.clone()),
            tracking_url: with_token.then(|| crate::tracking::path(&ticket.token)),
            people_ahead: position.map(|p| p.people_ahead),
            estimated_wait_minutes: position.map(|p| p.wait.midpoint().round() as u32),
            estimated_wait_low_minutes: position.map(|p| p.wait.low),
            estimated_wait_high_minutes: position.map(|p| p.wait.high),
            issued_wait_low_minutes: ticket.estimate.map(|e| e.low),
            issued_wait_high_minutes: ticket.estimate.map(|e| e.high),
            away: ticket.away.is_some(),
            come_now: match (ticket.away, position) {
                (Some(away), Some(position)) => away.time_to_come(position.wait, config.room.come_margin_minutes),
                _ => false,
            },
        }
    }
}

/// A ticket as the anonymous event stream shows it: what a waiting-room screen and a tracking
/// page need (number, status, counter), nothing about the citizen or the agent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicTicketDto {
    pub number: String,
    pub service: String,
    pub service_name: String,
    /// waiting, called, serving, parked, finished, no_show or cancelled.
    pub status: String,
    pub counter: Option<String>,
    pub counter_name: Option<String>,
    pub issued_at: i64,
    pub called_at: Option<i64>,
    pub recalls: u8,
}

impl PublicTicketDto {
    pub fn new(ticket: &Ticket, config: &OfficeConfig) -> Self {
        PublicTicketDto {
            number: ticket.number.to_string(),
            service: ticket.service.to_string(),
            service_name: config.service(&ticket.service).map_or_else(String::new, |s| s.name.clone()),
            status: ticket.status.name().to_string(),
            counter: ticket.counter.as_ref().map(|c| c.to_string()),
            counter_name: ticket.counter.as_ref().and_then(|c| config.counter(c)).map(|c| c.name.clone()),
            issued_at: ticket.issued_at.as_ms(),
            called_at: ticket.called_at.map(|t| t.as_ms()),
            recalls: ticket.recalls,
        }
    }
}

/// A counter as the anonymous event stream shows it: open or not, never who sits there.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PublicCounterDto {
    pub id: String,
    pub name: String,
    pub services: Vec<String>,
    /// closed, open or paused.
    pub status: String,
}

impl PublicCounterDto {
    pub fn new(id: &str, state: &CounterState, config: &OfficeConfig) -> Self {
        let counter = config.counters.iter().find(|c| c.id.as_str() == id);
        PublicCounterDto {
            id: id.to_string(),
            name: counter.map_or_else(|| id.to_string(), |c| c.name.clone()),
            services: counter.map(|c| c.services.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
            status: state.status.name().to_string(),
        }
    }
}

/// A ticket just issued, and what became of its printing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedDto {
    #[serde(flatten)]
    pub ticket: TicketDto,
    /// None when the kiosk has no printer.
    pub print: Option<crate::devices::PrintOutcome>,
    /// Whether the contact given with the ticket was kept (absent when none was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_kept: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CallDto {
    pub seq: u32,
    pub ticket: TicketDto,
    pub number: String,
    pub counter: String,
    pub counter_name: String,
    pub agent: String,
    pub at: i64,
    /// Which rule chose the ticket (see the call-next rule in ARCHITECTURE.md).
    pub reason: String,
    /// The agent's reason when they chose the ticket by number.
    pub note: Option<String>,
    /// Tickets the rule ranked above this one.
    pub skipped: Vec<String>,
    pub out_of_order: bool,
}

impl CallDto {
    pub fn new(
        call: &CallRecord,
        ticket: TicketDto,
        config: &OfficeConfig,
        number_of: impl Fn(TicketId) -> String,
    ) -> Self {
        CallDto {
            seq: call.seq,
            ticket,
            number: call.number.to_string(),
            counter: call.counter.to_string(),
            counter_name: config.counter(&call.counter).map_or_else(|| call.counter.to_string(), |c| c.name.clone()),
            agent: call.agent.to_string(),
            at: call.at.as_ms(),
            reason: call.reason.name().to_string(),
            note: call.note.clone(),
            skipped: call.skipped.iter().map(|id| number_of(*id)).collect(),
            out_of_order: call.is_out_of_order(),
        }
    }
}

/// A call as the waiting room sees it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CallSummary {
    pub number: String,
    pub counter: String,
    pub counter_name: String,
    pub service_name: String,
    pub at: i64,
    pub recalls: u8,
    /// True when this is a recall of a ticket already called.
    pub recall: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CounterDto {
    pub id: String,
    pub name: String,
    pub services: Vec<String>,
    /// closed, open or paused.
    pub status: String,
    pub agent: Option<String>,
    pub current: Option<TicketDto>,
}

impl CounterDto {
    pub fn new(id: &str, state: &CounterState, config: &OfficeConfig, current: Option<TicketDto>) -> Self {
        let counter = config.counters.iter().find(|c| c.id.as_str() == id);
        CounterDto {
            id: id.to_string(),
            name: counter.map_or_else(|| id.to_string(), |c| c.name.clone()),
            services: counter.map(|c| c.services.iter().map(|s| s.to_string()).collect()).unwrap_or_default(),
            status: state.status.name().to_string(),
            agent: state.agent.as_ref().map(|a| a.to_string()),
            current,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QueueDto {
    pub day: String,
    /// Waiting tickets in the order an idle counter serving every service would call them.
    pub waiting: Vec<TicketDto>,
    pub parked: Vec<TicketDto>,
    pub counters: Vec<CounterDto>,
    /// The latest calls, newest first.
    pub recent_calls: Vec<CallDto>,
    pub alerts: Vec<AlertDto>,
    /// The waiting room: tickets present and away (outside, or joined from home).
    pub room: RoomDto,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct RoomDto {
    pub present: u32,
    pub away: u32,
    /// People the room holds; null when the office sets no capacity.
    pub capacity: Option<u32>,
}

impl From<fila_protocol::office::Room> for RoomDto {
    fn from(room: fila_protocol::office::Room) -> Self {
        RoomDto { present: room.present, away: room.away, capacity: room.capacity }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertDto {
    /// legal_wait: a preferential ticket at or near its legal maximum wait; device_offline,
    /// printer_paper_out, printer_paper_low, printer_cover_open: a device needs a hand;
    /// login_locked, address_locked, kiosk_rate_limited: a security event (supervisors only);
    /// notices_failing: messages to citizens failed twice or more and wait (supervisors only).
    pub kind: String,
    /// The ticket of a legal_wait alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The device of a device alert.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The username, client address or kiosk of a security alert (login_locked,
    /// address_locked, kiosk_rate_limited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceDto {
    pub id: String,
    pub prefix: String,
    pub name: String,
    pub target_wait_minutes: u32,
    /// Citizens book it at headquarters' pages (the kiosk then offers check-in).
    #[serde(default)]
    pub bookable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategoryDto {
    pub id: String,
    pub name: String,
    pub max_wait_minutes: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CounterInfoDto {
    pub id: String,
    pub name: String,
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OfficeDto {
    pub id: String,
    /// Where citizens reach this office's pages (for tracking links), when configured.
    pub public_url: Option<String>,
    /// How this office can send a citizen notices: "sms", "email" (the kiosk offers those; none
    /// when the office sends nothing).
    #[serde(default)]
    pub contact_media: Vec<String>,
    pub name: String,
    pub time_zone: String,
    pub day: String,
    pub services: Vec<ServiceDto>,
    pub categories: Vec<CategoryDto>,
    pub counters: Vec<CounterInfoDto>,
}

impl OfficeDto {
    pub fn new(config: &OfficeConfig, day: String) -> Self {
        OfficeDto {
            id: config.id.clone(),
            public_url: None,
            contact_media: Vec::new(),
            name: config.name.clone(),
            time_zone: config.time_zone_name.clone(),
            day,
            services: config
                .services
                .iter()
                .map(|s| ServiceDto {
                    id: s.id.to_string(),
                    prefix: s.prefix.to_string(),
                    name: s.name.clone(),
                    target_wait_minutes: s.target_wait_minutes,
                    bookable: s.booking.is_some(),
                })
                .collect(),
            categories: config
                .categories
                .iter()
                .map(|c| CategoryDto {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                    max_wait_minutes: c.max_wait_minutes,
                })
                .collect(),
            counters: config
                .counters
                .iter()
                .map(|c| CounterInfoDto {
                    id: c.id.to_string(),
                    name: c.name.clone(),
                    services: c.services.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub service: String,
    /// A preferential category id, for preferential attention.
    #[serde(default)]
    pub category: Option<String>,
    /// Not accepted from anyone: appointment tickets come only from real bookings. Read so the
    /// refusal can name it (400 `appointment_not_allowed`), never documented.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub appointment_at: Option<serde_json::Value>,
    /// A mobile number or e-mail the citizen chose to give, for this ticket's notices ("your
    /// turn is near", "you are called") and its survey, and nothing else. Never in the reply.
    #[serde(default)]
    pub contact: Option<String>,
    /// The language of those messages: es or en.
    #[serde(default)]
    pub lang: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginReply {
    pub token: String,
    pub role: Role,
    pub user: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallSpecificRequest {
    pub number: String,
    /// Required: recorded with the call and reported to headquarters.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeRequest {
    pub number: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRequest {
    #[serde(default)]
    pub outcome: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub service: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KioskTokenRequest {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KioskTokenReply {
    pub id: String,
    /// Shown once: only its hash is kept.
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealthDto {
    pub status: String,
    pub office: String,
    pub day: String,
    pub tickets_today: usize,
    /// The link to central, when one is configured.
    pub central: Option<CentralLinkDto>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CentralLinkDto {
    pub connected: bool,
    /// Documents kept in sync with central: the configuration, today, and past days central
    /// does not hold in full yet (sealed days leave).
    pub docs_in_sync: usize,
    /// When central was last heard from (ms since the epoch), if ever.
    pub last_heard: Option<i64>,
}
