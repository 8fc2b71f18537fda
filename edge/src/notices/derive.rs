//! Which notices the office's state calls for, among the tickets that have a contact. Run on the
//! office loop as a read-only query; the outbox makes deriving the same notice again harmless,
//! which is what lets the edge derive from the whole state after every event and after a
//! restart, rather than from events it could miss.

use std::collections::{BTreeMap, BTreeSet};

use fila_notify::kind::NoticeKind;
use fila_protocol::office::Office;
use fila_protocol::{BusinessDay, TicketId, TicketStatus, Timestamp};

/// When "your turn is near" goes: this many people ahead or fewer, or an estimate this short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub ahead: u32,
    pub minutes: u32,
    pub survey: bool,
    /// The survey invitation goes this long after the finish.
    pub survey_delay_ms: i64,
}

/// A notice the state calls for, with what its template needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub ticket: TicketId,
    pub kind: NoticeKind,
    pub values: BTreeMap<&'static str, String>,
    /// The ticket's tracking token: its page is where the survey is answered.
    pub token: String,
    /// Not before this (a survey's delay after the finish).
    pub not_before: Option<Timestamp>,
}

/// The notices the office's current day calls for, for tickets in `with_contact` (pairs of
/// business day and ticket; other days' are ignored).
pub fn wanted(
    office: &Office,
    now: Timestamp,
    with_contact: &BTreeSet<(BusinessDay, TicketId)>,
    thresholds: Thresholds,
) -> (BusinessDay, Vec<Wanted>) {
    let day = office.day();
    let mut out = Vec::new();
    // Ranked and estimated once for every waiting ticket with a contact, not once each.
    let mut positions = None;
    for (_, id) in with_contact.iter().filter(|(d, _)| *d == day.day) {
        let Some(ticket) = day.tickets.get(id) else { continue };
        let mut values =
            BTreeMap::from([("office", office.config().name.clone()), ("ticket", ticket.number.to_string())]);
        let mut not_before = None;
        let kind = match ticket.status {
            TicketStatus::Called | TicketStatus::Serving => {
                let Some(counter) = &ticket.counter else { continue };
                values.insert("counter", counter.as_str().to_string());
                NoticeKind::Called
            }
            TicketStatus::Finished if thresholds.survey => {
                not_before = ticket.closed_at.map(|at| Timestamp(at.as_ms() + thresholds.survey_delay_ms));
                NoticeKind::SurveyInvite
            }
            TicketStatus::Waiting => {
                let positions = positions.get_or_insert_with(|| office.positions(now));
                let Some(position) = positions.get(id).copied() else { continue };
                // Waiting outside: told once to set off, by their travel time, not the room's.
                if let Some(away) = ticket.away {
                    if !away.time_to_come(position.wait, office.config().room.come_margin_minutes) {
                        continue;
                    }
                    values.insert("minutes", position.wait.low.to_string());
                    out.push(Wanted {
                        ticket: *id,
                        kind: NoticeKind::ComeNow,
                        values,
                        token: ticket.token.clone(),
                        not_before,
                    });
                    continue;
                }
                // The short end of the range: better early than late.
                if position.people_ahead > thresholds.ahead && position.wait.low > thresholds.minutes {
                    continue;
                }
                values.insert("ahead", position.people_ahead.to_string());
                values.insert("minutes", position.wait.midpoint().round().to_string());
                NoticeKind::TurnNear
            }
            _ => continue,
        };
        out.push(Wanted { ticket: *id, kind, values, token: ticket.token.clone(), not_before });
    }
    (day.day, out)
}
