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

#[cfg(test)]
mod tests {
    use fila_protocol::office::{Actor, Command, Priority, Reply};
    use fila_protocol::{AgentId, CounterId, ServiceId, Who};

    use super::*;

    /// Monday 2026-11-30, 11:00 at the demo office (Buenos Aires).
    const NOW: Timestamp = Timestamp(1_796_047_200_000);

    /// The demo office with one counter open and `waiting` kiosk tickets, each with a contact.
    fn office_with(waiting: usize) -> (Office, BTreeSet<(BusinessDay, TicketId)>) {
        let config = crate::demo::settings("127.0.0.1:0".parse().expect("addr"), "/nowhere".into()).office;
        let mut office = Office::restore(config, b"edge".to_vec(), NOW, &[]).expect("office");
        let by = Actor { agent: AgentId::new("ana"), supervisor: false };
        office.handle_command(NOW, Command::SignIn { counter: CounterId::new("1"), by }).expect("signed in");
        let mut with_contact = BTreeSet::new();
        for n in 0..waiting {
            let issue = Command::Issue {
                service: ServiceId::new("general"),
                priority: Priority::Normal,
                issuer: Who::Kiosk("entrada".into()),
                token: format!("tok{n}"),
            };
            let Ok(Reply::Ticket(ticket)) = office.handle_command(NOW, issue) else { panic!("issued") };
            with_contact.insert((office.day().day, ticket.id));
        }
        (office, with_contact)
    }

    fn told_near(office: &Office, with_contact: &BTreeSet<(BusinessDay, TicketId)>, ahead: u32, minutes: u32) -> usize {
        let thresholds = Thresholds { ahead, minutes, survey: true, survey_delay_ms: 0 };
        let (_, wanted) = wanted(office, NOW, with_contact, thresholds);
        wanted.iter().filter(|w| w.kind == NoticeKind::TurnNear).count()
    }

    #[test]
    fn your_turn_is_near_goes_to_those_few_enough_places_from_the_front() {
        let (office, with_contact) = office_with(8);
        let positions = office.positions(NOW);
        // 0, 1, 2 or 3 people ahead, and whoever may be called at once (the range's short end is
        // 0 for the first few).
        let expected = |ahead: u32| positions.values().filter(|p| p.people_ahead <= ahead || p.wait.low == 0).count();
        assert!(expected(3) >= 4 && expected(3) < 8, "{positions:?}");
        assert_eq!(told_near(&office, &with_contact, 3, 0), expected(3));
        assert_eq!(told_near(&office, &with_contact, 0, 0), expected(0), "the next in line");
    }

    #[test]
    fn your_turn_is_near_goes_to_those_whose_estimated_wait_is_short_enough_however_many_are_ahead() {
        let (office, with_contact) = office_with(8);
        let positions = office.positions(NOW);
        let lows: Vec<u32> = positions.values().map(|p| p.wait.low).collect();
        let threshold = *lows.iter().max().expect("eight waiting");
        assert!(threshold > 0, "a wait to compare: {lows:?}");
        // Only the next in line counts by place; everyone else whose wait may be this short hears
        // it too.
        let expected = positions.values().filter(|p| p.people_ahead == 0 || p.wait.low < threshold).count();
        assert!(expected < 8, "{lows:?}");
        assert_eq!(told_near(&office, &with_contact, 0, threshold - 1), expected);
        assert_eq!(told_near(&office, &with_contact, 0, threshold), 8);
    }
}
