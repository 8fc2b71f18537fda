use super::*;

const MINUTE: i64 = 60_000;
/// 10:00 on some morning.
const T0: i64 = 1_795_957_200_000;

fn at(minutes: i64) -> Timestamp {
    Timestamp(T0 + minutes * MINUTE)
}

fn office(id: &str) -> OfficeFacts {
    OfficeFacts { office: id.into(), ..OfficeFacts::default() }
}

/// The alerts of `kind` that opened and that are open after giving `facts` at `minute`.
fn check(alerts: &mut Alerts, rules: &AlertRules, facts: &OfficeFacts, minute: i64) -> (Vec<Alert>, Vec<Alert>) {
    let opened = alerts.handle_facts(rules, std::slice::from_ref(facts), at(minute));
    (opened, alerts.open())
}

#[test]
fn an_office_offline_opens_an_alert_only_after_the_configured_minutes_and_it_closes_when_back() {
    let (mut alerts, rules) = (Alerts::default(), AlertRules::default());
    let mut centro = office("centro");
    centro.offline_since_ms = Some(at(0).as_ms());
    let (opened, open) = check(&mut alerts, &rules, &centro, 14);
    assert!(opened.is_empty() && open.is_empty(), "14 of 15 minutes: not yet");
    let (opened, open) = check(&mut alerts, &rules, &centro, 15);
    assert_eq!(opened.len(), 1);
    assert_eq!((opened[0].kind, opened[0].office.as_str(), opened[0].since_ms), (AlertKind::Offline, "centro", T0));
    assert_eq!(open, opened);
    let (opened, open) = check(&mut alerts, &rules, &centro, 16);
    assert!(opened.is_empty(), "an alert opens once per episode");
    assert_eq!(open.len(), 1);

    centro.offline_since_ms = None;
    let (_, open) = check(&mut alerts, &rules, &centro, 17);
    assert!(open.is_empty());
    let closed: Vec<&Alert> = alerts.closed().collect();
    assert_eq!((closed.len(), closed[0].closed_ms), (1, Some(at(17).as_ms())));
    assert_eq!((alerts.raised(AlertKind::Offline), alerts.open_count(AlertKind::Offline)), (1, 0));
}

#[test]
fn a_wait_past_target_alerts_once_it_has_lasted_the_configured_minutes() {
    let (mut alerts, rules) = (Alerts::default(), AlertRules::default());
    let mut centro = office("centro");
    // Someone passes the target at 10:05; the rule wants 10 minutes past it.
    centro.limits.first_past_target_ms = Some(at(5).as_ms());
    assert!(check(&mut alerts, &rules, &centro, 0).1.is_empty(), "not yet past the target");
    assert!(check(&mut alerts, &rules, &centro, 14).1.is_empty(), "past it for 9 minutes");
    let (opened, _) = check(&mut alerts, &rules, &centro, 15);
    assert_eq!((opened[0].kind, opened[0].since_ms), (AlertKind::WaitAboveTarget, at(5).as_ms()));
    assert!(!opened[0].detail.contains("A-0"), "no ticket numbers: {}", opened[0].detail);
    // They were called: nobody waits past the target any more.
    centro.limits.first_past_target_ms = None;
    assert!(check(&mut alerts, &rules, &centro, 16).1.is_empty());
}

#[test]
fn a_preferential_citizen_past_the_legal_maximum_alerts_at_once_unless_turned_off() {
    let (mut alerts, rules) = (Alerts::default(), AlertRules::default());
    let mut centro = office("centro");
    centro.limits.first_past_legal_max_ms = Some(at(30).as_ms());
    assert!(check(&mut alerts, &rules, &centro, 29).1.is_empty());
    let (opened, _) = check(&mut alerts, &rules, &centro, 30);
    assert_eq!(opened[0].kind, AlertKind::PreferentialPastLegalMax);
    centro.limits.first_past_legal_max_ms = None;
    assert!(check(&mut alerts, &rules, &centro, 31).1.is_empty(), "called: closed");

    let off = AlertRules { preferential_past_legal_max: false, ..AlertRules::default() };
    centro.limits.first_past_legal_max_ms = Some(at(30).as_ms());
    assert!(check(&mut Alerts::default(), &off, &centro, 40).1.is_empty());
}

#[test]
fn out_of_order_calls_alert_above_the_rate_once_there_are_enough_calls() {
    let (mut alerts, rules) = (Alerts::default(), AlertRules::default());
    let mut centro = office("centro");
    centro.limits.calls = 10;
    centro.out_of_order_calls = 5;
    assert!(check(&mut alerts, &rules, &centro, 0).1.is_empty(), "half of 10 calls, but fewer than 20 calls");
    centro.limits.calls = 20;
    centro.out_of_order_calls = 1;
    assert!(check(&mut alerts, &rules, &centro, 1).1.is_empty(), "5% is under 10%");
    centro.out_of_order_calls = 2;
    let (opened, _) = check(&mut alerts, &rules, &centro, 2);
    assert_eq!((opened[0].kind, opened[0].since_ms), (AlertKind::OutOfOrderRate, at(2).as_ms()));
    assert_eq!(opened[0].detail, "2 of 20 calls today out of order (10%)");
    centro.limits.calls = 40;
    let (_, open) = check(&mut alerts, &rules, &centro, 3);
    assert!(open.is_empty(), "diluted under the rate by later calls");
}

#[test]
fn a_device_down_alerts_after_its_minutes_naming_the_device() {
    let (mut alerts, rules) = (Alerts::default(), AlertRules::default());
    let mut centro = office("centro");
    centro.devices_down = vec![DeviceDown { id: "entrada".into(), kind: "printer".into(), since_ms: at(0).as_ms() }];
    assert!(check(&mut alerts, &rules, &centro, 4).1.is_empty(), "4 of 5 minutes");
    let (opened, _) = check(&mut alerts, &rules, &centro, 5);
    assert_eq!((opened[0].kind, opened[0].detail.as_str()), (AlertKind::DeviceDown, "down: printer entrada"));
    centro.devices_down.clear();
    assert!(check(&mut alerts, &rules, &centro, 6).1.is_empty(), "back up: closed");
}

#[test]
fn low_satisfaction_alerts_only_with_enough_answers() {
    let (mut alerts, rules) = (Alerts::default(), AlertRules::default());
    let mut centro = office("centro");
    centro.satisfaction_mean = Some(2.0);
    centro.satisfaction_answers = 4;
    assert!(check(&mut alerts, &rules, &centro, 0).1.is_empty(), "4 answers say little");
    centro.satisfaction_answers = 5;
    let (opened, _) = check(&mut alerts, &rules, &centro, 1);
    assert_eq!(opened[0].kind, AlertKind::LowSatisfaction);
    assert_eq!(opened[0].detail, "mean satisfaction 2.0 of 5 over 5 answers today");
    centro.satisfaction_mean = Some(3.0);
    assert!(check(&mut alerts, &rules, &centro, 2).1.is_empty(), "3.0 is not below 3.0");
}

#[test]
fn each_office_and_kind_is_its_own_alert_and_a_new_episode_is_raised_again() {
    let (mut alerts, rules) = (Alerts::default(), AlertRules::default());
    let mut centro = office("centro");
    let mut norte = office("norte");
    centro.limits.first_past_legal_max_ms = Some(at(0).as_ms());
    norte.limits.first_past_legal_max_ms = Some(at(0).as_ms());
    norte.satisfaction_mean = Some(1.5);
    norte.satisfaction_answers = 8;
    let opened = alerts.handle_facts(&rules, &[centro.clone(), norte.clone()], at(0));
    assert_eq!(opened.len(), 3);
    assert_eq!(alerts.open_count(AlertKind::PreferentialPastLegalMax), 2);

    centro.limits.first_past_legal_max_ms = None;
    alerts.handle_facts(&rules, &[centro.clone(), norte.clone()], at(1));
    centro.limits.first_past_legal_max_ms = Some(at(2).as_ms());
    let opened = alerts.handle_facts(&rules, &[centro, norte], at(2));
    assert_eq!(opened.len(), 1, "a second episode at centro");
    assert_eq!(alerts.raised(AlertKind::PreferentialPastLegalMax), 3);
    assert_eq!(alerts.raised(AlertKind::LowSatisfaction), 1);
}

#[test]
fn the_defaults_are_the_documented_thresholds_and_bad_ones_are_all_reported() {
    let rules = AlertsSection::default().check(false).expect("defaults are valid");
    assert_eq!(rules.offline, Duration::from_secs(15 * 60));
    assert_eq!(rules.wait_above_target, Duration::from_secs(10 * 60));
    let bad = AlertsSection {
        offline_minutes: 0,
        out_of_order_rate: 1.5,
        satisfaction_below: 7.0,
        email: vec!["not-an-address".into()],
        ..AlertsSection::default()
    };
    let problems: Vec<String> = bad.check(false).expect_err("four problems").iter().map(|p| p.to_string()).collect();
    let expected = [
        "alerts.offline_minutes: must be 1 to 1440",
        "alerts.out_of_order_rate: must be a share",
        "alerts.satisfaction_below: must be a score",
        "alerts.email[0]: is not an e-mail address",
        "alerts.email: needs [notices.smtp]",
    ];
    assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    for (problem, expected) in problems.iter().zip(expected) {
        assert!(problem.starts_with(expected), "{problem:?} is not {expected:?}");
    }
}

#[test]
fn an_office_offline_long_enough_alerts_as_offline_not_on_waits_central_cannot_see() {
    let (mut alerts, rules) = (Alerts::default(), AlertRules::default());
    let mut centro = office("centro");
    centro.limits.first_past_legal_max_ms = Some(at(0).as_ms());
    let (opened, _) = check(&mut alerts, &rules, &centro, 0);
    assert_eq!(opened[0].kind, AlertKind::PreferentialPastLegalMax);
    // The link drops at 10:01: a short cut changes nothing...
    centro.offline_since_ms = Some(at(1).as_ms());
    assert_eq!(check(&mut alerts, &rules, &centro, 5).1.len(), 1);
    // ...but after 15 minutes central's copy of the day says nothing of now.
    let (opened, open) = check(&mut alerts, &rules, &centro, 16);
    assert_eq!(opened.iter().map(|a| a.kind).collect::<Vec<_>>(), [AlertKind::Offline]);
    assert_eq!(open.iter().map(|a| a.kind).collect::<Vec<_>>(), [AlertKind::Offline]);
}
