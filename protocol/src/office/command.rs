//! What the outside world asks of an office.

use crate::day::{CallRecord, CounterState};
use crate::ids::{AgentId, CategoryId, CounterId, ServiceId, Timestamp};
use crate::remote::{Refusal, Request};
use crate::ticket::{Ticket, TicketNumber, Who};

/// Who acts at a counter. A supervisor may act at any counter; an agent only at their own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub agent: AgentId,
    pub supervisor: bool,
}

/// The priority a kiosk, a supervisor or the appointment desk asks for when issuing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Priority {
    Normal,
    Preferential(CategoryId),
    Appointment(Timestamp),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Issue a ticket. `token` is the tracking token the shell drew at random; `issuer` is the
    /// kiosk, member of staff, button or booking asking. Only a booking issues an appointment.
    Issue {
        service: ServiceId,
        priority: Priority,
        issuer: Who,
        token: String,
    },
    /// An agent takes a counter; it opens with them at it.
    SignIn {
        counter: CounterId,
        by: Actor,
    },
    Pause {
        counter: CounterId,
        by: Actor,
    },
    /// Back from a pause.
    Reopen {
        counter: CounterId,
        by: Actor,
    },
    /// Close the counter; its agent signs out. Refused while a citizen is at it.
    Close {
        counter: CounterId,
        by: Actor,
    },
    CallNext {
        counter: CounterId,
        by: Actor,
    },
    /// Call a ticket by its number. A reason is required; bypassing the rule is recorded.
    CallSpecific {
        counter: CounterId,
        by: Actor,
        number: TicketNumber,
        reason: String,
    },
    Recall {
        counter: CounterId,
        by: Actor,
    },
    Start {
        counter: CounterId,
        by: Actor,
    },
    Finish {
        counter: CounterId,
        by: Actor,
        outcome: String,
    },
    NoShow {
        counter: CounterId,
        by: Actor,
    },
    Transfer {
        counter: CounterId,
        by: Actor,
        service: ServiceId,
    },
    Park {
        counter: CounterId,
        by: Actor,
    },
    /// Call back a parked ticket to this counter.
    Resume {
        counter: CounterId,
        by: Actor,
        number: TicketNumber,
    },
    /// A supervisor cancels a ticket that is not at a counter.
    Cancel {
        number: TicketNumber,
        reason: String,
        by: Actor,
    },
    /// The citizen gives up their own ticket from the tracking page.
    CancelByToken {
        token: String,
    },
    /// Answer a citizen's request to join from home (central's requests document): a ticket
    /// issued by `remote:<id>`, or a refusal recorded under the request's id. Answered once.
    JoinRemote {
        request: Request,
        token: String,
    },
    /// A citizen waiting outside is here: they scanned their ticket at the kiosk, or said so
    /// on their tracking page. Their ticket counts in the room from now on.
    ConfirmPresent {
        token: String,
        by: Who,
    },
    /// The citizen answers the survey of their finished ticket: on its tracking page, or at
    /// the exit tablet by its number. One answer per ticket; it never changes.
    AnswerSurvey {
        ticket: SurveyTicket,
        answer: SurveyInput,
        by: Who,
    },
}

/// Which ticket a survey answer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyTicket {
    Token(String),
    Number(TicketNumber),
}

/// The answer as given; the comment's text stays with the shell (see `SurveyAnswer`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SurveyInput {
    pub satisfaction: Option<u8>,
    pub recommend: Option<u8>,
    pub resolved: Option<bool>,
    pub commented: bool,
}

/// The result of an accepted command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ticket(Ticket),
    Call {
        ticket: Ticket,
        call: CallRecord,
    },
    Counter {
        counter: CounterId,
        state: CounterState,
    },
    /// A remote join the office could not take, as recorded in its day.
    Refused(Refusal),
}
