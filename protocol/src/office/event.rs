//! What happened, for screens, consoles and devices. Events are derived from accepted commands;
//! the day document is the record, events are only notifications.

use crate::day::{CallRecord, CounterState};
use crate::ids::{BusinessDay, CounterId};
use crate::ticket::Ticket;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    DayStarted(BusinessDay),
    Issued(Ticket),
    /// A ticket was called (or called again by a recall) to a counter.
    Called {
        ticket: Ticket,
        call: Option<CallRecord>,
    },
    /// Any other change of a ticket's state.
    TicketChanged(Ticket),
    CounterChanged {
        counter: CounterId,
        state: CounterState,
    },
    /// A preferential ticket is near its legal maximum wait: supervisors must act.
    LegalWaitAlarm(Ticket),
}
