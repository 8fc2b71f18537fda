//! Why a command was refused, in the words a counter agent or supervisor would use.

use thiserror::Error;

use crate::ids::{AgentId, CategoryId, CounterId, ServiceId};
use crate::ticket::{TicketNumber, TicketStatus};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Rejection {
    #[error("there is no service \"{0}\"")]
    UnknownService(ServiceId),
    #[error("there is no preferential category \"{0}\"")]
    UnknownCategory(CategoryId),
    #[error("there is no counter \"{0}\"")]
    UnknownCounter(CounterId),
    #[error("there is no ticket {0} today")]
    UnknownTicket(TicketNumber),
    #[error("no ticket has that tracking token")]
    UnknownToken,
    #[error("the survey of ticket {0} opens when the visit is finished")]
    SurveyNotOpen(TicketNumber),
    #[error("the survey of ticket {0} is already answered; one answer per ticket")]
    SurveyAnswered(TicketNumber),
    #[error("{0}")]
    BadSurvey(&'static str),
    #[error("counter {0} is closed")]
    CounterClosed(CounterId),
    #[error("counter {0} is paused")]
    CounterPaused(CounterId),
    #[error("counter {0} is not paused")]
    CounterNotPaused(CounterId),
    #[error("counter {counter} is taken by {agent}")]
    CounterTaken { counter: CounterId, agent: AgentId },
    #[error("counter {0} is attending a citizen; finish, transfer, park or mark a no-show first")]
    CounterBusy(CounterId),
    #[error("counter {0} has no citizen called")]
    CounterIdle(CounterId),
    #[error("counter {0} is not yours")]
    NotYourCounter(CounterId),
    #[error("nobody is waiting for the services of counter {0}")]
    QueueEmpty(CounterId),
    #[error("counter {counter} does not serve the service of ticket {number}")]
    ServiceNotServedHere { counter: CounterId, number: TicketNumber },
    #[error("ticket {number} is {}, not waiting", .status.name())]
    TicketNotWaiting { number: TicketNumber, status: TicketStatus },
    #[error("ticket {number} is {}, not called", .status.name())]
    TicketNotCalled { number: TicketNumber, status: TicketStatus },
    #[error("ticket {number} is {}, not parked", .status.name())]
    TicketNotParked { number: TicketNumber, status: TicketStatus },
    #[error("ticket {number} is already {}", .status.name())]
    TicketClosed { number: TicketNumber, status: TicketStatus },
    #[error("ticket {0} is at a counter; the counter finishes, transfers or parks it")]
    TicketAtCounter(TicketNumber),
    #[error("ticket {0} is already in that service")]
    SameService(TicketNumber),
    #[error("ticket {0} has been transferred too many times")]
    TooManyTransfers(TicketNumber),
    #[error("service {0} has issued its last number for today")]
    ServiceFull(ServiceId),
    #[error("a reason is required")]
    ReasonRequired,
    #[error("the text is longer than {0} characters")]
    TextTooLong(usize),
    #[error("the tracking token is malformed")]
    BadToken,
    #[error("only a booking made at headquarters issues an appointment ticket")]
    AppointmentNeedsBooking,
    #[error("this booking was checked in already: ticket {0}")]
    AlreadyCheckedIn(TicketNumber),
    #[error("this box is recovering the office's records from headquarters; it issues again once they are here")]
    Recovering,
    #[error("the box's clock ({now}) is behind its last stored change ({last}); check its time (NTP)")]
    ClockBehind { now: String, last: String },
    #[error("the office is closed now{}", opening_text(.next_opening))]
    OfficeClosed { next_opening: Option<String> },
    #[error("a new ticket for \"{service}\" would not be called before the office closes{}", opening_text(.next_opening))]
    ServiceClosing { service: ServiceId, next_opening: Option<String> },
    #[error("service \"{0}\" does not take remote joins")]
    NotRemote(ServiceId),
    #[error("remote join {0} is already answered")]
    RemoteAnswered(String),
    #[error("the office's day document failed; the command was not applied")]
    Internal,
}

/// "; it opens again at 2026-12-07 08:00" (the office's local time), or nothing.
fn opening_text(next: &Option<String>) -> String {
    next.as_ref().map(|at| format!("; it opens again at {at}")).unwrap_or_default()
}

impl Rejection {
    /// A stable, machine-readable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::UnknownService(_) => "unknown_service",
            Rejection::UnknownCategory(_) => "unknown_category",
            Rejection::UnknownCounter(_) => "unknown_counter",
            Rejection::UnknownTicket(_) => "unknown_ticket",
            Rejection::UnknownToken => "unknown_token",
            Rejection::SurveyNotOpen(_) => "survey_not_open",
            Rejection::SurveyAnswered(_) => "survey_answered",
            Rejection::BadSurvey(_) => "bad_answer",
            Rejection::CounterClosed(_) => "counter_closed",
            Rejection::CounterPaused(_) => "counter_paused",
            Rejection::CounterNotPaused(_) => "counter_not_paused",
            Rejection::CounterTaken { .. } => "counter_taken",
            Rejection::CounterBusy(_) => "counter_busy",
            Rejection::CounterIdle(_) => "counter_idle",
            Rejection::NotYourCounter(_) => "not_your_counter",
            Rejection::QueueEmpty(_) => "queue_empty",
            Rejection::ServiceNotServedHere { .. } => "service_not_served_here",
            Rejection::TicketNotWaiting { .. } => "ticket_not_waiting",
            Rejection::TicketNotCalled { .. } => "ticket_not_called",
            Rejection::TicketNotParked { .. } => "ticket_not_parked",
            Rejection::TicketClosed { .. } => "ticket_closed",
            Rejection::TicketAtCounter(_) => "ticket_at_counter",
            Rejection::SameService(_) => "same_service",
            Rejection::TooManyTransfers(_) => "too_many_transfers",
            Rejection::ServiceFull(_) => "service_full",
            Rejection::ReasonRequired => "reason_required",
            Rejection::TextTooLong(_) => "text_too_long",
            Rejection::BadToken => "bad_token",
            Rejection::AppointmentNeedsBooking => "appointment_needs_booking",
            Rejection::AlreadyCheckedIn(_) => "already_checked_in",
            Rejection::Recovering => "recovering",
            Rejection::ClockBehind { .. } => "clock_behind",
            Rejection::OfficeClosed { .. } => "office_closed",
            Rejection::ServiceClosing { .. } => "service_closing",
            Rejection::NotRemote(_) => "not_remote",
            Rejection::RemoteAnswered(_) => "remote_answered",
            Rejection::Internal => "internal",
        }
    }

    /// Whether the thing named does not exist (HTTP 404) rather than being in the wrong state.
    /// The next opening a closed or closing office gave, in its local time.
    pub fn next_opening(&self) -> Option<&str> {
        match self {
            Rejection::OfficeClosed { next_opening } | Rejection::ServiceClosing { next_opening, .. } => {
                next_opening.as_deref()
            }
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Rejection::UnknownCounter(_) | Rejection::UnknownTicket(_) | Rejection::UnknownToken)
    }
}
