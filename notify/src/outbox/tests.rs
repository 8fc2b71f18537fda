use proptest::prelude::*;

use super::*;

const T0: i64 = 1_796_371_200; // 2026-12-04T08:00:00Z

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(T0 + seconds).expect("in range")
}

fn key(ticket: u32, kind: NoticeKind) -> NoticeKey {
    NoticeKey { cause: format!("ticket/centro/2026-12-04/{ticket:06}"), kind }
}

fn draft(key: NoticeKey, contact: &str) -> Draft {
    Draft {
        key,
        medium: Medium::Sms,
        contact: Fingerprint(contact.into()),
        message: Rendered { subject: "Centro".into(), text: "Turno A-001".into(), opt_out_link: None },
        not_before: None,
        office: None,
    }
}

fn transient() -> Result<(), SendError> {
    Err(SendError::Transient("no signal".into()))
}

/// The shell's side, as the daemons do it: store what changed, then act.
fn stored(outbox: &mut Outbox, disk: &mut BTreeMap<NoticeKey, Notice>) {
    for notice in outbox.take_changed() {
        disk.insert(notice.key.clone(), notice);
    }
}

#[test]
fn deriving_a_notice_again_finds_the_first() {
    let mut outbox = Outbox::new(Policy::default());
    assert!(outbox.enqueue(draft(key(1, NoticeKind::Called), "c1"), at(0)));
    assert!(!outbox.enqueue(draft(key(1, NoticeKind::Called), "c1"), at(5)));
    assert!(outbox.enqueue(draft(key(1, NoticeKind::SurveyInvite), "c1"), at(5)), "another kind is another notice");
    assert_eq!(outbox.counts().queued, 2);
}

#[test]
fn a_due_notice_is_handed_out_once_and_is_sent() {
    let mut outbox = Outbox::new(Policy::default());
    outbox.enqueue(draft(key(1, NoticeKind::Called), "c1"), at(0));
    let out = outbox.start_due(at(0), 10);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].state, State::Sending);
    assert!(outbox.start_due(at(1), 10).is_empty(), "being sent is not due again");
    outbox.finish(&key(1, NoticeKind::Called), Ok(()), at(1));
    assert_eq!(outbox.get(&key(1, NoticeKind::Called)).expect("a known notice").state, State::Sent);
    assert!(outbox.start_due(at(3600), 10).is_empty());
    assert_eq!(outbox.next_wake(), None);
}

#[test]
fn a_transient_failure_is_retried_later_with_doubling_waits() {
    let mut outbox = Outbox::new(Policy::default());
    let k = key(1, NoticeKind::SurveyInvite);
    outbox.enqueue(draft(k.clone(), "c1"), at(0));
    let mut now = at(0);
    let mut waits = Vec::new();
    for _ in 0..4 {
        assert_eq!(outbox.start_due(now, 10).len(), 1);
        outbox.finish(&k, transient(), now);
        let notice = outbox.get(&k).expect("a known notice").clone();
        assert_eq!(notice.state, State::Queued);
        assert_eq!(notice.reason.as_deref(), Some("no signal"), "the supervisor sees why");
        waits.push(notice.next_attempt_at.duration_since(now).as_secs());
        assert!(outbox.start_due(now, 10).is_empty(), "not before its wait");
        now = notice.next_attempt_at;
    }
    assert_eq!(waits, [15, 30, 60, 120]);
    assert_eq!(outbox.next_wake(), Some(now));
}

#[test]
fn a_notice_that_cannot_go_in_its_lifetime_fails_as_expired() {
    let mut outbox = Outbox::new(Policy::default());
    let k = key(1, NoticeKind::Called);
    outbox.enqueue(draft(k.clone(), "c1"), at(0));
    let mut now = at(0);
    while outbox.get(&k).expect("a known notice").state == State::Queued {
        for _ in outbox.start_due(now, 10) {
            outbox.finish(&k, transient(), now);
        }
        now = outbox.next_wake().unwrap_or(now).max(now + SignedDuration::from_secs(1));
        assert!(now < at(3600), "a call notice does not retry for an hour");
    }
    let notice = outbox.get(&k).expect("a known notice");
    assert_eq!(notice.state, State::Failed);
    assert!(notice.updated_at <= at(600), "called notices live ten minutes");
}

#[test]
fn a_permanent_refusal_ends_the_notice_at_once() {
    let mut outbox = Outbox::new(Policy::default());
    let k = key(1, NoticeKind::Called);
    outbox.enqueue(draft(k.clone(), "c1"), at(0));
    outbox.start_due(at(0), 10);
    outbox.finish(&k, Err(SendError::Permanent("unassigned number (CMS 1)".into())), at(1));
    let notice = outbox.get(&k).expect("a known notice");
    assert_eq!((notice.state, notice.reason.as_deref()), (State::Failed, Some("unassigned number (CMS 1)")));
}

#[test]
fn a_crash_before_sending_loses_nothing() {
    let mut outbox = Outbox::new(Policy::default());
    let mut disk = BTreeMap::new();
    outbox.enqueue(draft(key(1, NoticeKind::SurveyInvite), "c1"), at(0));
    stored(&mut outbox, &mut disk);
    // kill -9 here.
    let mut outbox = Outbox::restore(Policy::default(), disk.values().cloned(), at(20));
    assert_eq!(outbox.start_due(at(20), 10).len(), 1);
}

#[test]
fn a_crash_while_sending_never_sends_twice() {
    let mut outbox = Outbox::new(Policy::default());
    let mut disk = BTreeMap::new();
    outbox.enqueue(draft(key(1, NoticeKind::SurveyInvite), "c1"), at(0));
    assert_eq!(outbox.start_due(at(0), 10).len(), 1);
    stored(&mut outbox, &mut disk);
    // kill -9 while the SMTP server may already have the message.
    let mut outbox = Outbox::restore(Policy::default(), disk.values().cloned(), at(20));
    assert!(outbox.start_due(at(20), 10).is_empty());
    let notice = outbox.get(&key(1, NoticeKind::SurveyInvite)).expect("a known notice");
    assert_eq!((notice.state, notice.reason.as_deref()), (State::Failed, Some(REASON_INTERRUPTED)));
    assert_eq!(outbox.take_changed().len(), 1, "the interruption is stored");
}

#[test]
fn the_sending_replica_adopts_what_another_queued_and_cancelled_and_never_resends() {
    // Replica b, which does not send, queued two notices and cancelled a third; a left one
    // mid-send when it stopped sending.
    let mut b = Outbox::new(Policy::default());
    for ticket in 1..=3 {
        b.enqueue(draft(key(ticket, NoticeKind::Called), "c"), at(0));
    }
    b.cancel_cause(&key(3, NoticeKind::Called).cause, "the citizen opted out", at(1));
    let mut old_sender = Outbox::new(Policy::default());
    old_sender.enqueue(draft(key(4, NoticeKind::Called), "d"), at(0));
    old_sender.start_due(at(0), 10);

    let mut sender = Outbox::new(Policy::default());
    sender.enqueue(draft(key(3, NoticeKind::Called), "c"), at(0));
    let stored: Vec<Notice> = b.take_changed().into_iter().chain(old_sender.take_changed()).collect();
    sender.adopt(stored, at(2));
    let state = |outbox: &Outbox, ticket| outbox.get(&key(ticket, NoticeKind::Called)).expect("known").state;
    assert_eq!([1, 2].map(|t| state(&sender, t)), [State::Queued; 2], "b's notices are the sender's to send");
    assert_eq!(state(&sender, 3), State::Failed, "what b cancelled is not sent");
    assert_eq!(state(&sender, 4), State::Failed, "caught mid-send by the last sender: never sent twice");
    assert_eq!(sender.start_due(at(3), 10).len(), 2);
    // Adopting the same again changes nothing: what is sending here stays so.
    sender.adopt(b.notices().cloned().collect::<Vec<_>>(), at(4));
    assert_eq!([1, 2].map(|t| state(&sender, t)), [State::Sending; 2]);
}

#[test]
fn a_contact_gets_at_most_its_hourly_messages_and_the_rest_waits() {
    let policy = Policy { per_contact_per_hour: 2, ..Policy::default() };
    let mut outbox = Outbox::new(policy);
    for ticket in 1..=3 {
        outbox.enqueue(draft(key(ticket, NoticeKind::SurveyInvite), "same"), at(ticket.into()));
    }
    outbox.enqueue(draft(key(9, NoticeKind::SurveyInvite), "other"), at(3));
    let out = outbox.start_due(at(10), 10);
    assert_eq!(out.len(), 3, "two for one contact, one for the other");
    let waiting = outbox.get(&key(3, NoticeKind::SurveyInvite)).expect("a known notice");
    assert_eq!((waiting.state, waiting.next_attempt_at), (State::Queued, at(10 + 3600)));
    for notice in out {
        outbox.finish(&notice.key, Ok(()), at(11));
    }
    assert!(outbox.start_due(at(3609), 10).is_empty());
    assert_eq!(outbox.start_due(at(3610), 10).len(), 1);
}

#[test]
fn quiet_hours_hold_a_notice_back_and_its_lifetime_starts_after_them() {
    let mut outbox = Outbox::new(Policy::default());
    let mut reminder = draft(NoticeKey { cause: "booking/b1".into(), kind: NoticeKind::Reminder }, "c1");
    reminder.not_before = Some(at(8 * 3600));
    outbox.enqueue(reminder, at(0));
    assert!(outbox.start_due(at(3600), 10).is_empty());
    assert_eq!(outbox.next_wake(), Some(at(8 * 3600)));
    assert_eq!(outbox.start_due(at(8 * 3600), 10).len(), 1);
}

#[test]
fn opting_out_ends_what_is_queued_for_that_cause_only() {
    let mut outbox = Outbox::new(Policy::default());
    outbox.enqueue(draft(key(1, NoticeKind::TurnNear), "c1"), at(0));
    outbox.enqueue(draft(key(1, NoticeKind::Called), "c1"), at(0));
    outbox.enqueue(draft(key(2, NoticeKind::Called), "c2"), at(0));
    outbox.cancel_cause(&key(1, NoticeKind::Called).cause, "opted out", at(1));
    assert_eq!(outbox.counts(), Counts { queued: 1, sending: 0, sent: 0, failed: 2 });
    assert_eq!(outbox.start_due(at(2), 10)[0].key, key(2, NoticeKind::Called));
}

#[test]
fn finished_notices_are_forgotten_after_the_retention_period() {
    let mut outbox = Outbox::new(Policy::default());
    outbox.enqueue(draft(key(1, NoticeKind::Called), "c1"), at(0));
    outbox.enqueue(draft(key(2, NoticeKind::Called), "c2"), at(0));
    outbox.start_due(at(0), 1);
    outbox.finish(&key(1, NoticeKind::Called), Ok(()), at(1));
    assert_eq!(outbox.forget_before(at(100)), [key(1, NoticeKind::Called)]);
    assert_eq!(outbox.counts().queued, 1, "a notice still to send is kept");
}

#[derive(Debug, Clone)]
enum Step {
    Derive(u32),
    Send { ok: bool, permanent: bool },
    Crash,
    Wait(u16),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u32..6).prop_map(Step::Derive),
        (any::<bool>(), any::<bool>()).prop_map(|(ok, permanent)| Step::Send { ok, permanent }),
        Just(Step::Crash),
        (1u16..900).prop_map(Step::Wait),
    ]
}

proptest! {
    /// Whatever the order of events and crashes: no notice reaches a channel that accepted it
    /// before, every notice stored survives, and each ends sent or failed once time passes.
    #[test]
    fn crashes_never_lose_or_repeat_a_notice(steps in proptest::collection::vec(step(), 1..60)) {
        let policy = Policy { per_contact_per_hour: 100, ..Policy::default() };
        let mut outbox = Outbox::new(policy.clone());
        let mut disk: BTreeMap<NoticeKey, Notice> = BTreeMap::new();
        let mut accepted: BTreeSet<NoticeKey> = BTreeSet::new();
        let mut derived: BTreeSet<NoticeKey> = BTreeSet::new();
        let mut now = at(0);
        for step in steps {
            match step {
                Step::Derive(ticket) => {
                    let k = key(ticket, NoticeKind::SurveyInvite);
                    outbox.enqueue(draft(k.clone(), "c"), now);
                    stored(&mut outbox, &mut disk);
                    derived.insert(k);
                }
                Step::Send { ok, permanent } => {
                    let out = outbox.start_due(now, 2);
                    stored(&mut outbox, &mut disk);
                    for notice in out {
                        prop_assert!(!accepted.contains(&notice.key), "{:?} handed out after it was accepted", notice.key);
                        let result = match (ok, permanent) {
                            (true, _) => Ok(()),
                            (false, true) => Err(SendError::Permanent("refused".into())),
                            (false, false) => transient(),
                        };
                        if result.is_ok() {
                            accepted.insert(notice.key.clone());
                        }
                        outbox.finish(&notice.key, result, now);
                    }
                    stored(&mut outbox, &mut disk);
                }
                Step::Crash => {
                    outbox = Outbox::restore(policy.clone(), disk.values().cloned(), now);
                    stored(&mut outbox, &mut disk);
                }
                Step::Wait(seconds) => now += SignedDuration::from_secs(seconds.into()),
            }
        }
        for k in &derived {
            prop_assert!(outbox.get(k).is_some(), "{k:?} lost");
        }
        // Time passes with a channel that always works: everything ends.
        now += SignedDuration::from_hours(48);
        for notice in outbox.start_due(now, usize::MAX) {
            prop_assert!(!accepted.contains(&notice.key));
            outbox.finish(&notice.key, Ok(()), now);
        }
        prop_assert_eq!(outbox.counts().queued + outbox.counts().sending, 0);
    }
}

/// 21:00 to 08:00 in Madrid (UTC+1 in December): T0 is 09:00 there.
fn nights() -> Policy {
    let zone = jiff::tz::TimeZone::get("Europe/Madrid").expect("bundled zone");
    Policy { quiet_hours: Some(QuietHours::parse("21:00-08:00", zone).expect("a window")), ..Policy::default() }
}

#[test]
fn a_survey_invitation_after_a_late_visit_waits_for_the_morning_but_a_call_does_not() {
    let mut outbox = Outbox::new(nights());
    // 21:30 in Madrid.
    let late = at(12 * 3600 + 30 * 60);
    outbox.enqueue(draft(key(1, NoticeKind::SurveyInvite), "c1"), late);
    outbox.enqueue(draft(key(2, NoticeKind::Called), "c2"), late);
    let out = outbox.start_due(late, 10);
    assert_eq!(out.iter().map(|n| n.key.kind).collect::<Vec<_>>(), [NoticeKind::Called]);
    let held = outbox.get(&key(1, NoticeKind::SurveyInvite)).expect("held");
    // 08:00 the next morning, and it is still worth sending then.
    assert_eq!(held.next_attempt_at, at(23 * 3600));
    assert!(held.expires_at > held.next_attempt_at);
    assert_eq!(outbox.start_due(at(23 * 3600), 10).len(), 1);
}

#[test]
fn quiet_hours_are_a_window_that_may_run_past_midnight() {
    let zone = jiff::tz::TimeZone::get("Europe/Madrid").expect("bundled zone");
    let nights = QuietHours::parse("21:00-08:00", zone.clone()).expect("a window");
    // 02:00 in Madrid is 01:00 UTC: held until 08:00 that morning.
    let small_hours = at(17 * 3600);
    assert_eq!(nights.first_allowed(small_hours), at(23 * 3600));
    assert_eq!(nights.first_allowed(at(0)), at(0), "09:00 is outside");
    let lunch = QuietHours::parse("14:00-16:00", zone.clone()).expect("a window");
    assert_eq!(lunch.first_allowed(at(5 * 3600 + 1800)), at(7 * 3600), "14:30 waits until 16:00");
    for wrong in ["21:00", "25:00-08:00", "08:00-08:00", ""] {
        assert!(QuietHours::parse(wrong, zone.clone()).is_err(), "{wrong}");
    }
}
