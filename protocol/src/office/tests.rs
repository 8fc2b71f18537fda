//! The office as a counter agent and a citizen know it.

use proptest::prelude::*;

use super::*;
use crate::config::tests::sample;
use crate::doc::day::read_day;
use crate::ids::{AgentId, BusinessDay, CategoryId};

const T0: Timestamp = Timestamp(1_795_953_600_000); // 2026-11-29 09:00 in Buenos Aires

fn office() -> Office {
    Office::restore(sample(), b"edge-1".to_vec(), T0, &[]).expect("new office")
}

fn agent(name: &str) -> Actor {
    Actor { agent: AgentId::new(name), supervisor: false }
}

fn counter(id: &str) -> CounterId {
    CounterId::new(id)
}

fn minutes(n: i64) -> Timestamp {
    T0.plus_minutes(n)
}

/// Run a command that must succeed.
fn check(office: &mut Office, at: Timestamp, command: Command) -> Reply {
    office.handle_command(at, command).expect("command accepted")
}

fn issue(office: &mut Office, at: Timestamp, service: &str, priority: Priority) -> Ticket {
    let token = format!("tok{}", office.day().tickets.len() + 1);
    let issuer = match priority {
        Priority::Appointment(_) => Who::Booking(format!("b{}", office.day().tickets.len() + 1)),
        _ => Who::Kiosk("entrada".into()),
    };
    match check(office, at, Command::Issue { service: ServiceId::new(service), priority, issuer, token }) {
        Reply::Ticket(ticket) => ticket,
        other => panic!("issue replied {other:?}"),
    }
}

fn call_next(office: &mut Office, at: Timestamp, id: &str, by: &str) -> (Ticket, CallRecord) {
    match check(office, at, Command::CallNext { counter: counter(id), by: agent(by) }) {
        Reply::Call { ticket, call } => (ticket, call),
        other => panic!("call replied {other:?}"),
    }
}

fn open(office: &mut Office, id: &str, by: &str) {
    check(office, T0, Command::SignIn { counter: counter(id), by: agent(by) });
}

fn preferential() -> Priority {
    Priority::Preferential(CategoryId::new("embarazada"))
}

fn finish(office: &mut Office, at: Timestamp, id: &str, by: &str) {
    check(office, at, Command::Finish { counter: counter(id), by: agent(by), outcome: String::new() });
}

fn answer(office: &mut Office, at: Timestamp, ticket: &Ticket, satisfaction: u8) -> Result<Reply, Rejection> {
    let answer =
        SurveyInput { satisfaction: Some(satisfaction), recommend: Some(9), resolved: Some(true), commented: true };
    let command = Command::AnswerSurvey { ticket: SurveyTicket::Token(ticket.token.clone()), answer, by: Who::Citizen };
    office.handle_command(at, command)
}

#[test]
fn a_finished_visit_takes_one_survey_answer_kept_in_the_day_without_its_comment() {
    let mut office = office();
    let ticket = issue(&mut office, T0, "general", Priority::Normal);
    assert_eq!(answer(&mut office, minutes(1), &ticket, 5), Err(Rejection::SurveyNotOpen(ticket.number)));
    open(&mut office, "1", "ana");
    call_next(&mut office, minutes(1), "1", "ana");
    check(&mut office, minutes(2), Command::Start { counter: counter("1"), by: agent("ana") });
    finish(&mut office, minutes(5), "1", "ana");
    assert_eq!(answer(&mut office, minutes(6), &ticket, 6), Err(Rejection::BadSurvey("satisfaction is 1 to 5")));
    answer(&mut office, minutes(6), &ticket, 4).expect("answered");
    assert_eq!(answer(&mut office, minutes(7), &ticket, 5), Err(Rejection::SurveyAnswered(ticket.number)));
    let kept = &office.day().surveys[&ticket.id];
    assert_eq!(
        (kept.satisfaction, kept.recommend, kept.resolved, kept.commented),
        (Some(4), Some(9), Some(true), true)
    );
    assert_eq!(read_day(office.doc.automerge()).expect("reads"), *office.day(), "the document holds it");
    let by_number = Command::AnswerSurvey {
        ticket: SurveyTicket::Number(ticket.number),
        answer: SurveyInput { satisfaction: Some(1), ..SurveyInput::default() },
        by: Who::Kiosk("salida".into()),
    };
    assert_eq!(
        office.handle_command(minutes(8), by_number),
        Err(Rejection::SurveyAnswered(ticket.number)),
        "the exit tablet too"
    );
}

#[test]
fn a_received_change_that_rewrites_a_survey_answer_is_a_breach() {
    let mut office = office();
    let ticket = issue(&mut office, T0, "general", Priority::Normal);
    open(&mut office, "1", "ana");
    call_next(&mut office, minutes(1), "1", "ana");
    finish(&mut office, minutes(5), "1", "ana");
    answer(&mut office, minutes(6), &ticket, 2).expect("answered");
    let before = office.day().clone();
    let mut after = before.clone();
    after.surveys.get_mut(&ticket.id).expect("answer").satisfaction = Some(5);
    assert_eq!(before.check_successor(&after), Err(Breach::SurveyRewritten(ticket.id)));
    after.surveys.clear();
    assert_eq!(before.check_successor(&after), Err(Breach::SurveyRewritten(ticket.id)));
}

#[test]
fn numbers_count_up_per_service_from_one() {
    let mut office = office();
    let a1 = issue(&mut office, T0, "general", Priority::Normal);
    let b1 = issue(&mut office, T0, "pagos", Priority::Normal);
    let a2 = issue(&mut office, T0, "general", Priority::Normal);
    assert_eq!([a1.number, b1.number, a2.number].map(|n| n.to_string()), ["A-001", "B-001", "A-002"]);
}

#[test]
fn the_waiting_count_per_service_follows_issues_and_calls() {
    let mut office = office();
    let general = ServiceId::new("general");
    issue(&mut office, minutes(0), "general", Priority::Normal);
    issue(&mut office, minutes(1), "general", Priority::Normal);
    issue(&mut office, minutes(2), "pagos", Priority::Normal);
    assert_eq!(office.waiting_count(&general), 2);
    // Counter 1 serves both services, first come first served: the first "general" goes.
    open(&mut office, "1", "ana");
    call_next(&mut office, minutes(3), "1", "ana");
    assert_eq!(office.waiting_count(&general), 1);
    assert_eq!(office.waiting_count(&ServiceId::new("pagos")), 1);
    assert_eq!(office.waiting_count(&ServiceId::new("nothing")), 0);
}

#[test]
fn a_counter_calls_first_come_first_served_across_its_services() {
    let mut office = office();
    open(&mut office, "1", "ana");
    issue(&mut office, minutes(0), "pagos", Priority::Normal);
    issue(&mut office, minutes(1), "general", Priority::Normal);
    let (ticket, call) = call_next(&mut office, minutes(2), "1", "ana");
    assert_eq!(ticket.number.to_string(), "B-001");
    assert_eq!(call.reason, CallReason::FirstComeFirstServed);
    assert_eq!(ticket.status, TicketStatus::Called);
    assert_eq!(ticket.counter, Some(counter("1")));
}

#[test]
fn preferential_tickets_go_first_but_normal_ones_are_not_starved() {
    let mut office = office(); // preferential_ratio = 2
    open(&mut office, "1", "ana");
    issue(&mut office, minutes(0), "general", Priority::Normal);
    for i in 1..=3 {
        issue(&mut office, minutes(i), "general", preferential());
    }
    let mut reasons = Vec::new();
    for i in 0..4 {
        let (ticket, call) = call_next(&mut office, minutes(10 + i), "1", "ana");
        reasons.push((ticket.number.to_string(), call.reason));
        finish(&mut office, minutes(10 + i), "1", "ana");
    }
    assert_eq!(
        reasons,
        [
            ("A-002".to_string(), CallReason::Preferential),
            ("A-003".to_string(), CallReason::Preferential),
            ("A-001".to_string(), CallReason::AntiStarvation),
            ("A-004".to_string(), CallReason::Preferential),
        ]
    );
}

#[test]
fn a_preferential_ticket_near_its_legal_limit_beats_everyone() {
    let mut office = office(); // embarazada: 30 minutes, margin 5
    open(&mut office, "1", "ana");
    let p = issue(&mut office, minutes(0), "general", preferential());
    // The counter has just called two preferential tickets: the ratio would now favour normal.
    office.day.counters.get_mut(&counter("1")).expect("open").preferential_streak = 2;
    issue(&mut office, minutes(1), "general", Priority::Appointment(minutes(20)));
    issue(&mut office, minutes(1), "general", Priority::Normal);
    let (ticket, call) = call_next(&mut office, minutes(25), "1", "ana");
    assert_eq!(ticket.id, p.id);
    assert_eq!(call.reason, CallReason::PreferentialAtLegalLimit);
}

#[test]
fn a_booking_checked_in_twice_is_refused_with_its_first_ticket() {
    let mut office = office();
    let booking = || Who::Booking("K7Q2M9XP".into());
    let command = |token: &str| Command::Issue {
        service: ServiceId::new("general"),
        priority: Priority::Appointment(minutes(30)),
        issuer: booking(),
        token: token.into(),
    };
    let Ok(Reply::Ticket(first)) = office.handle_command(minutes(1), command("t1")) else { panic!("checked in") };
    let before = office.day().clone();
    assert_eq!(office.handle_command(minutes(2), command("t2")), Err(Rejection::AlreadyCheckedIn(first.number)));
    assert_eq!(office.day(), &before, "nothing changed");
}

#[test]
fn a_due_appointment_is_called_at_its_time() {
    let mut office = office();
    open(&mut office, "1", "ana");
    issue(&mut office, minutes(0), "general", Priority::Normal);
    let appointment = issue(&mut office, minutes(1), "general", Priority::Appointment(minutes(30)));
    let (early, _) = call_next(&mut office, minutes(2), "1", "ana");
    assert_ne!(early.id, appointment.id, "not due yet: first come, first served");
    finish(&mut office, minutes(3), "1", "ana");
    issue(&mut office, minutes(4), "general", Priority::Normal);
    let (due, call) = call_next(&mut office, minutes(25), "1", "ana");
    assert_eq!((due.id, call.reason), (appointment.id, CallReason::AppointmentDue));
}

#[test]
fn calling_a_specific_ticket_records_who_it_skipped_and_why() {
    let mut office = office();
    open(&mut office, "1", "ana");
    let first = issue(&mut office, minutes(0), "general", Priority::Normal);
    let second = issue(&mut office, minutes(1), "general", Priority::Normal);
    let third = issue(&mut office, minutes(2), "general", Priority::Normal);
    let reply = check(
        &mut office,
        minutes(3),
        Command::CallSpecific {
            counter: counter("1"),
            by: agent("ana"),
            number: third.number,
            reason: "  documento ya revisado  ".into(),
        },
    );
    let Reply::Call { call, .. } = reply else { panic!("a call") };
    assert!(call.is_out_of_order());
    assert_eq!(call.skipped, vec![first.id, second.id]);
    assert_eq!(call.note.as_deref(), Some("documento ya revisado"));
    assert_eq!(call.agent, AgentId::new("ana"));
    assert_eq!(office.day().calls.last(), Some(&call), "the deviation is in the day record");
}

#[test]
fn calling_a_specific_ticket_needs_a_reason_and_changes_nothing_without_one() {
    let mut office = office();
    open(&mut office, "1", "ana");
    let ticket = issue(&mut office, minutes(0), "general", Priority::Normal);
    let before = office.day().clone();
    let refused = office.handle_command(
        minutes(1),
        Command::CallSpecific { counter: counter("1"), by: agent("ana"), number: ticket.number, reason: "  ".into() },
    );
    assert_eq!(refused, Err(Rejection::ReasonRequired));
    assert_eq!(office.day(), &before);
}

#[test]
fn the_ticket_the_rule_would_pick_is_not_out_of_order_when_called_by_number() {
    let mut office = office();
    open(&mut office, "1", "ana");
    let first = issue(&mut office, minutes(0), "general", Priority::Normal);
    let Reply::Call { call, .. } = check(
        &mut office,
        minutes(1),
        Command::CallSpecific { counter: counter("1"), by: agent("ana"), number: first.number, reason: "x".into() },
    ) else {
        panic!("a call")
    };
    assert!(!call.is_out_of_order());
}

#[test]
fn recalls_run_out_into_a_no_show() {
    let mut office = office(); // recalls_max = 2
    open(&mut office, "1", "ana");
    issue(&mut office, minutes(0), "general", Priority::Normal);
    call_next(&mut office, minutes(1), "1", "ana");
    let recall = |office: &mut Office| match check(
        office,
        minutes(2),
        Command::Recall { counter: counter("1"), by: agent("ana") },
    ) {
        Reply::Ticket(t) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(recall(&mut office).recalls, 1);
    assert_eq!(recall(&mut office).recalls, 2);
    let last = recall(&mut office);
    assert_eq!(last.status, TicketStatus::NoShow);
    assert_eq!(office.day().counter(&counter("1")).current, None, "the counter is free again");
}

#[test]
fn finishing_a_ticket_never_called_is_refused() {
    let mut office = office();
    open(&mut office, "1", "ana");
    issue(&mut office, minutes(0), "general", Priority::Normal);
    let refused = office.handle_command(
        minutes(1),
        Command::Finish { counter: counter("1"), by: agent("ana"), outcome: String::new() },
    );
    assert_eq!(refused, Err(Rejection::CounterIdle(counter("1"))));
}

#[test]
fn a_transferred_ticket_keeps_its_number_and_its_place() {
    let mut office = office();
    open(&mut office, "1", "ana");
    open(&mut office, "2", "beto");
    let moved = issue(&mut office, minutes(0), "general", Priority::Normal);
    issue(&mut office, minutes(1), "pagos", Priority::Normal);
    call_next(&mut office, minutes(2), "1", "ana");
    check(
        &mut office,
        minutes(3),
        Command::Transfer { counter: counter("1"), by: agent("ana"), service: ServiceId::new("pagos") },
    );
    let (next, _) = call_next(&mut office, minutes(4), "2", "beto");
    assert_eq!(next.number, moved.number, "it queued for pagos since 09:00, before B-001");
    assert_eq!(next.service, ServiceId::new("pagos"));
    assert_eq!(next.transfers, 1);
}

#[test]
fn a_parked_ticket_comes_back_to_a_counter() {
    let mut office = office();
    open(&mut office, "1", "ana");
    let ticket = issue(&mut office, minutes(0), "general", Priority::Normal);
    call_next(&mut office, minutes(1), "1", "ana");
    check(&mut office, minutes(2), Command::Park { counter: counter("1"), by: agent("ana") });
    assert_eq!(office.ticket(ticket.id).map(|t| t.status), Some(TicketStatus::Parked));
    let Reply::Call { call, .. } = check(
        &mut office,
        minutes(9),
        Command::Resume { counter: counter("1"), by: agent("ana"), number: ticket.number },
    ) else {
        panic!("a call")
    };
    assert_eq!(call.reason, CallReason::Resumed);
}

#[test]
fn an_agent_cannot_work_another_agents_counter_but_a_supervisor_can() {
    let mut office = office();
    open(&mut office, "1", "ana");
    issue(&mut office, minutes(0), "general", Priority::Normal);
    let refused = office.handle_command(minutes(1), Command::CallNext { counter: counter("1"), by: agent("beto") });
    assert_eq!(refused, Err(Rejection::NotYourCounter(counter("1"))));
    let supervisor = Actor { agent: AgentId::new("sara"), supervisor: true };
    let Reply::Call { call, .. } =
        check(&mut office, minutes(1), Command::CallNext { counter: counter("1"), by: supervisor })
    else {
        panic!("a call")
    };
    assert_eq!(call.agent, AgentId::new("ana"), "the citizen is attended by the counter's agent");
    assert_eq!(call.actor, AgentId::new("sara"), "the call is recorded as the supervisor's, who pressed it");
}

#[test]
fn a_citizen_can_cancel_a_waiting_ticket_by_its_token_but_not_twice() {
    let mut office = office();
    let ticket = issue(&mut office, minutes(0), "general", Priority::Normal);
    check(&mut office, minutes(1), Command::CancelByToken { token: ticket.token.clone() });
    let again = office.handle_command(minutes(2), Command::CancelByToken { token: ticket.token });
    assert!(matches!(again, Err(Rejection::TicketClosed { .. })));
}

#[test]
fn numbering_restarts_at_local_midnight_in_a_new_document() {
    let mut office = office();
    issue(&mut office, minutes(0), "general", Priority::Normal);
    let first_doc = office.doc_id();
    let midnight = office.day().day.next_start(&office.config().time_zone);
    let next_day = issue(&mut office, midnight, "general", Priority::Normal);
    assert_eq!(next_day.number.to_string(), "A-001");
    assert_ne!(office.doc_id(), first_doc);
    assert!(office.doc_id().ends_with("/day/2026-11-30"), "{}", office.doc_id());
    let mut docs = Vec::new();
    while let Some(persist) = office.poll_persist() {
        docs.push(persist.doc_id);
    }
    assert!(docs.contains(&first_doc) && docs.contains(&office.doc_id()), "both days persisted: {docs:?}");
}

#[test]
fn estimated_wait_counts_the_people_ahead() {
    let mut office = office();
    open(&mut office, "1", "ana");
    for i in 0..3 {
        issue(&mut office, minutes(i), "general", Priority::Normal);
    }
    let last = issue(&mut office, minutes(3), "general", Priority::Normal);
    let position = office.position(last.id, minutes(3)).expect("waiting");
    assert_eq!(position.people_ahead, 3);
    assert_eq!(office.positions(minutes(3)).get(&last.id), Some(&position), "one ranking agrees with the other");
    assert!(
        position.wait.low < 15 && 15 < position.wait.high,
        "three people at the configured five minutes: {position:?}"
    );
}

#[test]
fn a_restarted_office_continues_the_numbering() {
    let mut office = office();
    issue(&mut office, minutes(0), "general", Priority::Normal);
    let chunks: Vec<Vec<u8>> = std::iter::from_fn(|| office.poll_persist()).map(|p| p.bytes).collect();
    // Stored chunks load in one pass (the fast path of a cold start), not only one by one.
    assert!(automerge::AutoCommit::load(&chunks.concat()).is_ok());
    let mut restarted = Office::restore(sample(), b"edge-2".to_vec(), minutes(5), &chunks).expect("restore");
    assert_eq!(restarted.day(), office.day());
    assert_eq!(restarted.poll_persist(), None, "a restart stores nothing new");
    let next = issue(&mut restarted, minutes(6), "general", Priority::Normal);
    assert_eq!(next.number.to_string(), "A-002");
}

// ---- properties over random command sequences ----

#[derive(Debug, Clone)]
enum Step {
    Issue(u8, u8),
    SignIn(u8, u8),
    CallNext(u8, u8),
    CallSpecific(u8, u8, u8),
    Recall(u8),
    Start(u8),
    Finish(u8),
    NoShow(u8),
    Transfer(u8, u8),
    Park(u8),
    Resume(u8, u8),
    Cancel(u8),
    Pause(u8),
    Reopen(u8),
    Close(u8),
    Survey(u8, u8),
    Wait(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<u8>(), any::<u8>()).prop_map(|(s, p)| Step::Issue(s, p)),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(c, a)| Step::SignIn(c, a)),
        3 => (any::<u8>(), any::<u8>()).prop_map(|(c, a)| Step::CallNext(c, a)),
        1 => (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(c, a, t)| Step::CallSpecific(c, a, t)),
        1 => any::<u8>().prop_map(Step::Recall),
        1 => any::<u8>().prop_map(Step::Start),
        2 => any::<u8>().prop_map(Step::Finish),
        1 => any::<u8>().prop_map(Step::NoShow),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(c, s)| Step::Transfer(c, s)),
        1 => any::<u8>().prop_map(Step::Park),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(c, t)| Step::Resume(c, t)),
        1 => any::<u8>().prop_map(Step::Cancel),
        1 => any::<u8>().prop_map(Step::Pause),
        1 => any::<u8>().prop_map(Step::Reopen),
        1 => any::<u8>().prop_map(Step::Close),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(t, s)| Step::Survey(t, s)),
        2 => (0u16..600).prop_map(Step::Wait),
    ]
}

const SERVICES: [&str; 3] = ["general", "pagos", "visas"];
const COUNTERS: [&str; 3] = ["1", "2", "9"];
const AGENTS: [&str; 3] = ["ana", "beto", "carla"];

fn pick<'a>(from: &[&'a str], n: u8) -> &'a str {
    from[n as usize % from.len()]
}

fn to_command(office: &Office, step: &Step, n: usize) -> Option<Command> {
    let by = |a: u8| agent(pick(&AGENTS, a));
    let c = |c: u8| counter(pick(&COUNTERS, c));
    let number = |t: u8| {
        let tickets: Vec<&Ticket> = office.day().tickets.values().collect();
        (!tickets.is_empty()).then(|| tickets[t as usize % tickets.len()].number)
    };
    Some(match *step {
        Step::Issue(s, p) => Command::Issue {
            service: ServiceId::new(pick(&SERVICES, s)),
            priority: match p % 4 {
                0 => preferential(),
                1 => Priority::Appointment(minutes(i64::from(p))),
                _ => Priority::Normal,
            },
            // Mostly the right issuer; now and then a kiosk asking for an appointment.
            issuer: match p % 8 {
                1 => Who::Booking(format!("b{n}")),
                5 => Who::Kiosk("entrada".into()),
                _ => Who::Staff(AgentId::new(pick(&AGENTS, p))),
            },
            token: format!("t{n}"),
        },
        Step::SignIn(k, a) => Command::SignIn { counter: c(k), by: by(a) },
        Step::CallNext(k, a) => Command::CallNext { counter: c(k), by: by(a) },
        Step::CallSpecific(k, a, t) => {
            Command::CallSpecific { counter: c(k), by: by(a), number: number(t)?, reason: "r".into() }
        }
        Step::Recall(k) => Command::Recall { counter: c(k), by: by(k) },
        Step::Start(k) => Command::Start { counter: c(k), by: by(k) },
        Step::Finish(k) => Command::Finish { counter: c(k), by: by(k), outcome: "ok".into() },
        Step::NoShow(k) => Command::NoShow { counter: c(k), by: by(k) },
        Step::Transfer(k, s) => {
            Command::Transfer { counter: c(k), by: by(k), service: ServiceId::new(pick(&SERVICES, s)) }
        }
        Step::Park(k) => Command::Park { counter: c(k), by: by(k) },
        Step::Resume(k, t) => Command::Resume { counter: c(k), by: by(k), number: number(t)? },
        Step::Cancel(t) => Command::Cancel { number: number(t)?, reason: "left".into(), by: by(t) },
        Step::Pause(k) => Command::Pause { counter: c(k), by: by(k) },
        Step::Reopen(k) => Command::Reopen { counter: c(k), by: by(k) },
        // Any ticket, any score: the office refuses unfinished, answered and out-of-range ones.
        Step::Survey(t, s) => Command::AnswerSurvey {
            ticket: SurveyTicket::Number(number(t)?),
            answer: SurveyInput {
                satisfaction: Some(s % 7),
                recommend: (s % 3 == 0).then_some(s % 12),
                resolved: Some(s % 2 == 0),
                commented: s % 5 == 0,
            },
            by: Who::Citizen,
        },
        Step::Close(k) => Command::Close { counter: c(k), by: by(k) },
        Step::Wait(_) => return None,
    })
}

fn invariants(office: &Office) {
    let day = office.day();
    assert_eq!(day.check(), Ok(()), "the day keeps its own rules");
    let mut numbers = std::collections::HashSet::new();
    for ticket in day.tickets.values() {
        assert!(numbers.insert(ticket.number), "number {} issued twice", ticket.number);
        assert!(ticket.number.seq <= day.sequences[&ticket.number.prefix]);
        if ticket.status.is_at_counter() {
            let counter = ticket.counter.as_ref().expect("a ticket at a counter names it");
            assert_eq!(day.counter(counter).current, Some(ticket.id), "{} is where it says", ticket.number);
        } else {
            assert_eq!(ticket.counter, None);
        }
    }
    let mut at_counters = std::collections::HashSet::new();
    for state in day.counters.values() {
        if let Some(id) = state.current {
            assert!(at_counters.insert(id), "a ticket is at two counters");
            assert!(day.tickets[&id].status.is_at_counter());
            assert_ne!(state.status, CounterStatus::Closed);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_of_commands_keeps_the_queue_sound(steps in prop::collection::vec(step(), 1..160)) {
        let mut office = office();
        let mut now = T0;
        for (n, step) in steps.iter().enumerate() {
            if let Step::Wait(m) = step {
                now = now.plus_minutes(i64::from(*m) / 10);
                office.handle_timeout(now);
                continue;
            }
            let Some(command) = to_command(&office, step, n) else { continue };
            // The ranking before the command: the ticket call-next must choose.
            let expected_next = match &command {
                Command::CallNext { counter, .. } => office.ranked_for_counter(counter, now).first().copied(),
                _ => None,
            };
            let before = office.day().clone();
            match office.handle_command(now, command.clone()) {
                Ok(Reply::Call { ticket, call }) => {
                    if let Some(expected) = expected_next {
                        prop_assert_eq!(ticket.id, expected.ticket);
                        prop_assert_eq!(call.reason, expected.reason);
                    }
                    if let Command::CallSpecific { counter, .. } = &command {
                        // Every ticket the rule ranked above the chosen one is in the record.
                        let ranked = rule::rank(office.config(), before.tickets.values(),
                            &office.config().counter(counter).expect("known").services,
                            before.counter(counter).preferential_streak,
                            &rule::capped(office.config(), &before, now), now);
                        let above: Vec<TicketId> = ranked.iter().take_while(|r| r.ticket != ticket.id).map(|r| r.ticket).collect();
                        prop_assert_eq!(&call.skipped, &above);
                    }
                }
                Ok(_) => {}
                Err(_) => prop_assert_eq!(office.day(), &before, "a refused command changed nothing"),
            }
            prop_assert_eq!(before.check_successor(office.day()), Ok(()), "history is only appended to");
            invariants(&office);
            office.check_indexes();
        }
        // What is stored is what is live: load the persisted chunks back.
        let doc_id = office.doc_id();
        let chunks: Vec<Vec<u8>> = std::iter::from_fn(|| office.poll_persist())
            .filter(|p| p.doc_id == doc_id)
            .map(|p| p.bytes)
            .collect();
        let restored = Office::restore(office.config().clone(), b"edge-2".to_vec(), now, &chunks).expect("restore");
        prop_assert_eq!(restored.day(), office.day());
        // And a compacted snapshot too.
        let snapshot = office.snapshot();
        let loaded = automerge::AutoCommit::load(&snapshot.bytes).expect("snapshot loads");
        prop_assert_eq!(&read_day(&loaded).expect("reads"), office.day());
    }
}

#[test]
fn the_day_rolls_over_at_midnight_even_when_nobody_acts() {
    let mut office = office();
    issue(&mut office, minutes(0), "general", Priority::Normal);
    while office.poll_event().is_some() {}
    let midnight = office.next_deadline();
    assert_eq!(BusinessDay::containing(midnight, &office.config().time_zone).to_string(), "2026-11-30");
    office.handle_timeout(midnight);
    assert_eq!(office.poll_event(), Some(Event::DayStarted(office.day().day)));
    assert!(office.day().tickets.is_empty());
    assert_eq!(office.day().day.to_string(), "2026-11-30");
}

#[test]
fn supervisors_are_alerted_when_a_preferential_ticket_nears_its_legal_limit() {
    let mut office = office(); // embarazada: 30 minutes, alarm 5 minutes before
    let ticket = issue(&mut office, minutes(0), "general", preferential());
    issue(&mut office, minutes(0), "general", Priority::Normal);
    while office.poll_event().is_some() {}
    assert_eq!(office.next_deadline(), minutes(25), "the loop wakes up for the alarm");
    office.handle_timeout(minutes(24));
    assert_eq!(office.poll_event(), None);
    office.handle_timeout(minutes(25));
    assert!(matches!(office.poll_event(), Some(Event::LegalWaitAlarm(t)) if t.id == ticket.id));
    office.handle_timeout(minutes(26));
    assert_eq!(office.poll_event(), None, "one alarm per ticket");
}

#[test]
fn a_day_serialises_to_json_for_headquarters() {
    let mut office = office();
    open(&mut office, "1", "ana");
    issue(&mut office, minutes(0), "general", Priority::Normal);
    call_next(&mut office, minutes(1), "1", "ana");
    let json = serde_json::to_value(office.day()).expect("serialises");
    assert_eq!(json["tickets"]["1"]["status"], "called");
    assert_eq!(json["sequences"]["A"], 1);
}

/// The sample office open Sundays 08:00-10:00 and Mondays 08:00-16:00, taking remote joins for
/// "general", with the last call required `margin` minutes before closing.
fn office_with_hours(margin: Option<u32>) -> Office {
    let mut raw = sample().to_raw();
    raw.calendar.hours.sun = vec![crate::calendar::TimeSpan::try_from("08:00-10:00".to_string()).expect("span")];
    raw.calendar.hours.mon = vec![crate::calendar::TimeSpan::try_from("08:00-16:00".to_string()).expect("span")];
    raw.calendar.last_call_margin_minutes = margin;
    raw.services[0].remote_join = true;
    Office::restore(raw.validate().expect("valid"), b"edge-1".to_vec(), T0, &[]).expect("new office")
}

fn join(office: &mut Office, at: Timestamp, id: &str, service: &str) -> Result<Reply, Rejection> {
    let request = crate::remote::Request { id: id.into(), service: ServiceId::new(service), at, travel_minutes: 20 };
    office.handle_command(at, Command::JoinRemote { request, token: format!("tok-{id}") })
}

#[test]
fn a_remote_join_becomes_a_ticket_issued_by_the_request_and_is_answered_once() {
    let mut office = office_with_hours(None);
    let Ok(Reply::Ticket(ticket)) = join(&mut office, T0, "r1", "general") else { panic!("a ticket") };
    assert_eq!(ticket.issuer, Who::Remote("r1".into()));
    assert_eq!(ticket.number.to_string(), "A-001");
    assert!(ticket.estimate.is_some(), "told its wait like any other ticket");
    assert_eq!(join(&mut office, minutes(1), "r1", "general"), Err(Rejection::RemoteAnswered("r1".into())));
    assert_eq!(office.day().remote_answered(), ["r1"].into_iter().collect());
    assert_eq!(office.day().tickets.len(), 1, "the same request never takes two numbers");
    // Central, which holds only the synced day, tells the citizen the office's own position.
    issue(&mut office, minutes(2), "general", Priority::Normal);
    let second = office.day().tickets.values().last().expect("second").id;
    let at_central = position_in(office.config(), office.day(), second, minutes(3)).expect("waiting");
    assert_eq!(at_central.people_ahead, office.position(second, minutes(3)).expect("waiting").people_ahead);
    assert_eq!(at_central.people_ahead, 1);
}

#[test]
fn a_remote_join_the_office_cannot_take_is_refused_in_its_day_and_the_day_keeps_it() {
    let mut office = office_with_hours(Some(15));
    let refused = |reason| Ok(Reply::Refused(crate::remote::Refusal { reason, at: T0 }));
    use crate::remote::RefusalReason;
    assert_eq!(join(&mut office, T0, "r1", "pagos"), refused(RefusalReason::NotOffered), "pagos takes no remote joins");
    assert_eq!(join(&mut office, T0, "r2", "visas"), refused(RefusalReason::NotOffered), "no such service");
    let late = T0.plus_minutes(61);
    assert_eq!(
        join(&mut office, late, "r3", "general"),
        Ok(Reply::Refused(crate::remote::Refusal { reason: RefusalReason::Closed, at: late })),
        "after 10:00 on a Sunday"
    );
    assert_eq!(join(&mut office, late, "r3", "general"), Err(Rejection::RemoteAnswered("r3".into())));
    assert!(office.day().tickets.is_empty());
    // The refusals are history: stored in the document, and a peer may not take one back.
    let snapshot = office.snapshot();
    let (_, stored) = DayDoc::load(&[snapshot.bytes], b"reader").expect("reads");
    assert_eq!(stored.refusals, office.day().refusals);
    let mut undone = stored.clone();
    undone.refusals.remove("r3");
    assert_eq!(stored.check_successor(&undone), Err(Breach::RefusalRewritten("r3".into())));
}

#[test]
fn a_day_that_answers_a_remote_join_twice_breaks_the_rules() {
    let mut office = office_with_hours(None);
    join(&mut office, T0, "r1", "general").expect("ticket");
    let mut forged = office.day().clone();
    forged
        .refusals
        .insert("r1".into(), crate::remote::Refusal { reason: crate::remote::RefusalReason::Closed, at: T0 });
    assert_eq!(forged.check(), Err(Breach::RemoteAnsweredTwice("r1".into())));
}

#[test]
fn near_closing_the_last_ticket_that_fits_is_issued_and_the_next_is_told_the_next_opening() {
    // 09:30 on Sunday, doors close at 10:00, the last call 15 minutes before: the kiosk issues
    // while a new ticket's estimated call falls before 09:45.
    let mut office = office_with_hours(Some(15));
    open(&mut office, "1", "ana");
    let at = T0.plus_minutes(30);
    let mut issued = Vec::new();
    let refusal = loop {
        let token = format!("tok{}", issued.len() + 1);
        let command = Command::Issue {
            service: ServiceId::new("general"),
            priority: Priority::Normal,
            issuer: Who::Kiosk("entrada".into()),
            token,
        };
        match office.handle_command(at, command) {
            Ok(Reply::Ticket(ticket)) => issued.push(ticket),
            Ok(other) => panic!("issue replied {other:?}"),
            Err(rejection) => break rejection,
        }
        assert!(issued.len() < 50, "the queue never closed");
    };
    assert!(!issued.is_empty(), "tickets that fit are issued");
    let last = issued.last().and_then(|t| t.estimate).expect("estimate");
    assert!(last.midpoint() <= 15.0, "the last ticket is called by 09:45 by its estimate: {last:?}");
    assert_eq!(
        refusal,
        Rejection::ServiceClosing { service: ServiceId::new("general"), next_opening: Some("2026-11-30 08:00".into()) }
    );
    assert_eq!(refusal.next_opening(), Some("2026-11-30 08:00"));
    // Staff may still let a citizen in at the last minute.
    issue_as(&mut office, at, Who::Staff(AgentId::new("ana"))).expect("staff issue");
    // Once the doors have closed the kiosk refuses with the next opening...
    assert_eq!(
        issue_as(&mut office, T0.plus_minutes(60), Who::Kiosk("entrada".into())),
        Err(Rejection::OfficeClosed { next_opening: Some("2026-11-30 08:00".into()) })
    );
    // ...unless the office sets no last call: its hours then only shape bookings and remote joins.
    let mut office = office_with_hours(None);
    issue_as(&mut office, T0.plus_minutes(60), Who::Kiosk("entrada".into())).expect("after hours");
}

fn issue_as(office: &mut Office, at: Timestamp, issuer: Who) -> Result<Reply, Rejection> {
    let token = format!("tok{}", office.day().tickets.len() + 100);
    office.handle_command(
        at,
        Command::Issue { service: ServiceId::new("general"), priority: Priority::Normal, issuer, token },
    )
}

#[test]
fn a_full_room_sends_kiosk_tickets_outside_until_their_citizen_says_they_are_here() {
    let mut raw = sample().to_raw();
    raw.room.capacity = Some(3);
    let mut office = Office::restore(raw.validate().expect("valid"), b"edge-1".to_vec(), T0, &[]).expect("office");
    let inside: Vec<Ticket> = (0..3).map(|n| issue(&mut office, minutes(n), "general", Priority::Normal)).collect();
    assert!(inside.iter().all(|t| t.away.is_none()), "the first three wait in the room");
    let fourth = issue(&mut office, minutes(3), "general", Priority::Normal);
    assert_eq!(fourth.away, Some(Away { travel_minutes: 0 }), "the fourth waits outside");
    assert_eq!(office.room(), Room { present: 3, away: 1, capacity: Some(3) });
    // Staff letting someone in are not turned away by the count.
    let staff = Command::Issue {
        service: ServiceId::new("general"),
        priority: Priority::Normal,
        issuer: Who::Staff(AgentId::new("ana")),
        token: "staff-1".into(),
    };
    let Reply::Ticket(let_in) = check(&mut office, minutes(4), staff) else { panic!("ticket") };
    assert_eq!(let_in.away, None);
    // "I'm here" brings the fourth in; saying it twice changes nothing.
    let here = Command::ConfirmPresent { token: fourth.token.clone(), by: Who::Citizen };
    let Reply::Ticket(now_here) = check(&mut office, minutes(5), here.clone()) else { panic!("ticket") };
    assert_eq!(now_here.away, None);
    check(&mut office, minutes(6), here);
    assert_eq!(office.room(), Room { present: 5, away: 0, capacity: Some(3) });
    // Back outside it never goes: a peer that tries breaks the day's rules.
    let before = office.day().clone();
    let mut after = before.clone();
    after.tickets.get_mut(&fourth.id).expect("fourth").away = Some(Away { travel_minutes: 0 });
    assert_eq!(before.check_successor(&after), Err(Breach::TicketRewritten { number: fourth.number, field: "away" }));
    // A finished visit leaves the room.
    open(&mut office, "1", "ana");
    call_next(&mut office, minutes(7), "1", "ana");
    finish(&mut office, minutes(9), "1", "ana");
    assert_eq!(office.room().present, 4);
}

#[test]
fn a_remote_ticket_is_away_with_its_travel_time_and_is_told_to_come_once_its_turn_nears() {
    let mut office = office_with_hours(None);
    let Ok(Reply::Ticket(ticket)) = join(&mut office, T0, "r1", "general") else { panic!("a ticket") };
    let away = ticket.away.expect("away");
    assert_eq!(away.travel_minutes, 20);
    assert!(!away.time_to_come(WaitRange { low: 40, high: 55 }, 10), "40 minutes off, 20 to travel: not yet");
    assert!(away.time_to_come(WaitRange { low: 30, high: 45 }, 10), "30 is within 20 + 10: time to leave");
    // Stored as it is, and read back the same, away and then present.
    let stored = |office: &mut Office| DayDoc::load(&[office.snapshot().bytes], b"reader").expect("reads").1;
    assert_eq!(&stored(&mut office), office.day());
    check(&mut office, minutes(1), Command::ConfirmPresent { token: ticket.token.clone(), by: Who::Citizen });
    assert_eq!(&stored(&mut office), office.day());
    assert_eq!(office.day().tickets[&ticket.id].away, None);
}

#[test]
fn a_remote_ticket_called_before_it_is_seen_at_the_office_follows_the_recall_and_no_show_rules() {
    let mut office = office_with_hours(None); // recalls_max = 2
    let Ok(Reply::Ticket(ticket)) = join(&mut office, T0, "r1", "general") else { panic!("a ticket") };
    open(&mut office, "1", "ana");
    call_next(&mut office, minutes(1), "1", "ana");
    assert!(office.day().tickets[&ticket.id].away.is_some(), "called while still away");
    let recall = |office: &mut Office, at| match check(
        office,
        at,
        Command::Recall { counter: counter("1"), by: agent("ana") },
    ) {
        Reply::Ticket(t) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(recall(&mut office, minutes(2)).recalls, 1);
    assert_eq!(recall(&mut office, minutes(3)).recalls, 2);
    let last = recall(&mut office, minutes(4));
    assert_eq!(last.status, TicketStatus::NoShow, "no exemption for having joined from home");
    // Arriving after that is too late: the ticket is closed.
    let late = office.handle_command(minutes(5), Command::ConfirmPresent { token: ticket.token, by: Who::Citizen });
    assert!(late.is_err(), "{late:?}");
    assert_eq!(office.day().tickets[&ticket.id].status, TicketStatus::NoShow);
}
