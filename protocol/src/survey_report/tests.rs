use std::collections::BTreeMap;

use super::*;
use crate::config::tests::sample;
use crate::ids::{AgentId, BusinessDay, CounterId, ServiceId, Timestamp};
use crate::ticket::{Class, TicketNumber, Who};

/// 2026-11-29 09:00 in Buenos Aires (UTC-3).
const T0: Timestamp = Timestamp(1_795_953_600_000);

fn zone() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("America/Argentina/Buenos_Aires").expect("bundled zone")
}

/// A ticket of `service` served by `agent` at counter 1, finished `minutes` after T0.
fn finished(id: u32, service: &str, agent: &str, minutes: i64) -> Ticket {
    let ticket = Ticket::issued(
        TicketId(id),
        TicketNumber { prefix: 'A', seq: id as u16 },
        ServiceId::new(service),
        Class::Normal,
        Who::Kiosk("entrada".into()),
        format!("t{id}"),
        T0,
    );
    Ticket {
        status: TicketStatus::Finished,
        counter: Some(CounterId::new("1")),
        agent: Some(AgentId::new(agent)),
        closed_at: Some(T0.plus_minutes(minutes)),
        ..ticket
    }
}

fn answer(satisfaction: u8, recommend: u8, resolved: bool) -> SurveyAnswer {
    SurveyAnswer {
        satisfaction: Some(satisfaction),
        recommend: Some(recommend),
        resolved: Some(resolved),
        commented: false,
        at: T0.plus_minutes(90),
        by: Who::Kiosk("salida".into()),
    }
}

fn day(tickets: Vec<Ticket>) -> Day {
    let mut day = Day::new("centro", BusinessDay::parse("2026-11-29").expect("date"));
    day.tickets = tickets.into_iter().map(|t| (t.id, t)).collect();
    day
}

fn tally(by: GroupBy, day: &Day, remote: &BTreeMap<TicketId, SurveyAnswer>) -> SurveyTally {
    let config = sample();
    let zone = zone();
    let context = Context { config: Some(&config), time_zone: &zone, now: T0.plus_minutes(600) };
    let mut tally = SurveyTally::new(by);
    tally.add_day(day, remote, &context);
    tally
}

#[test]
fn the_office_sees_mean_distribution_recommendation_resolution_and_response_rate() {
    let mut day = day((1..=4).map(|id| finished(id, "general", "ana", 10)).collect());
    day.surveys.insert(TicketId(1), answer(5, 10, true));
    day.surveys.insert(TicketId(2), answer(4, 9, true));
    day.surveys.insert(TicketId(3), SurveyAnswer { commented: true, ..answer(1, 2, false) });
    let total = tally(GroupBy::Office, &day, &BTreeMap::new()).total("centro");
    assert_eq!((total.finished, total.answers), (4, 3));
    assert_eq!(total.response_rate, Some(0.75));
    assert_eq!(total.satisfaction_counts, [1, 0, 0, 1, 1]);
    assert_eq!(total.satisfaction_mean, Some(10.0 / 3.0));
    // Two promoters, one detractor out of three: +33 points.
    assert_eq!(total.recommend_score, Some(100.0 / 3.0));
    assert_eq!(total.resolved_rate, Some(2.0 / 3.0));
    assert_eq!(total.comments, 1);
    assert_eq!(total.label.as_deref(), Some("Oficina Centro"));
}

#[test]
fn a_ticket_answered_at_the_office_and_by_link_counts_once_with_the_offices_answer() {
    let mut day = day(vec![finished(1, "general", "ana", 10), finished(2, "general", "ana", 10)]);
    day.surveys.insert(TicketId(1), answer(5, 10, true));
    let remote = BTreeMap::from([(TicketId(1), answer(1, 0, false)), (TicketId(2), answer(3, 7, true))]);
    let total = tally(GroupBy::Office, &day, &remote).total("centro");
    assert_eq!(total.answers, 2);
    assert_eq!(total.satisfaction_counts, [0, 0, 1, 0, 1]);
}

#[test]
fn only_finished_visits_can_be_answered() {
    let mut waiting = finished(2, "general", "ana", 10);
    waiting.status = TicketStatus::Waiting;
    let mut no_show = finished(3, "general", "ana", 10);
    no_show.status = TicketStatus::NoShow;
    let day = day(vec![finished(1, "general", "ana", 10), waiting, no_show]);
    // An answer for a ticket this day does not hold (a damaged or forged link) counts nowhere.
    let remote = BTreeMap::from([(TicketId(9), answer(1, 0, false))]);
    let total = tally(GroupBy::Office, &day, &remote).total("centro");
    assert_eq!((total.finished, total.answers), (1, 0));
    assert_eq!(total.response_rate, Some(0.0));
    assert_eq!(total.satisfaction_mean, None);
}

#[test]
fn an_agents_figures_appear_only_from_five_answers() {
    let mut tickets: Vec<Ticket> = (1..=5).map(|id| finished(id, "general", "ana", 10)).collect();
    tickets.extend((6..=9).map(|id| finished(id, "general", "beto", 10)));
    let mut day = day(tickets);
    for id in 1..=9 {
        day.surveys.insert(TicketId(id), answer(if id <= 5 { 5 } else { 1 }, 8, true));
    }
    let rows = tally(GroupBy::Agent, &day, &BTreeMap::new()).rows();
    let ana = rows.iter().find(|r| r.group == "ana").expect("ana's row");
    assert!(!ana.withheld);
    assert_eq!((ana.answers, ana.satisfaction_mean), (5, Some(5.0)));
    let beto = rows.iter().find(|r| r.group == "beto").expect("beto's row");
    assert!(beto.withheld);
    assert_eq!((beto.answers, beto.satisfaction_mean, beto.satisfaction_counts), (0, None, [0; 5]));
    // Per service nothing is withheld: the answers are not one person's.
    let services = tally(GroupBy::Service, &day, &BTreeMap::new()).rows();
    assert_eq!(services[0].answers, 9);
}

#[test]
fn per_hour_is_the_local_hour_the_visit_ended_and_tallies_merge() {
    let mut day = day(vec![finished(1, "general", "ana", 10), finished(2, "pagos", "ana", 70)]);
    day.surveys.insert(TicketId(1), answer(4, 9, true));
    let rows = tally(GroupBy::Hour, &day, &BTreeMap::new()).rows();
    assert_eq!(rows.iter().map(|r| r.group.as_str()).collect::<Vec<_>>(), ["09:00", "10:00"]);
    let mut services = tally(GroupBy::Service, &day, &BTreeMap::new());
    services.merge(&tally(GroupBy::Service, &day, &BTreeMap::new()));
    let rows = services.rows();
    assert_eq!(rows[0].label.as_deref(), Some("Atención general"));
    assert_eq!((rows[0].finished, rows[0].answers), (2, 2));
    assert_eq!((rows[1].finished, rows[1].answers), (2, 0));
}
