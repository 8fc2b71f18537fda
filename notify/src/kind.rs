//! The kinds of notice, what each may say, and how long each is worth sending.

use std::fmt;
use std::str::FromStr;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// The edge: few people are ahead, or the estimated wait is short.
    TurnNear,
    /// The edge, or central for a remote join: a citizen waiting outside should set off now.
    ComeNow,
    /// The edge: the ticket is called to a counter.
    Called,
    /// The edge: the visit is over; how was it?
    SurveyInvite,
    /// Central: the code that confirms a contact while booking.
    BookingCode,
    /// Central: the booking is made.
    BookingConfirmed,
    /// Central: the appointment is near.
    Reminder,
    /// Central: a slot freed up for someone on the waiting list.
    WaitlistOffer,
    /// Central, to an office's supervisors: a citizen answered a survey with a low score and a
    /// comment.
    LowScoreAlert,
    /// Central, to headquarters' operations staff: an alert opened (an office offline, a wait
    /// past its target, a device down...).
    OpsAlert,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 10] = [
        NoticeKind::TurnNear,
        NoticeKind::ComeNow,
        NoticeKind::Called,
        NoticeKind::SurveyInvite,
        NoticeKind::BookingCode,
        NoticeKind::BookingConfirmed,
        NoticeKind::Reminder,
        NoticeKind::WaitlistOffer,
        NoticeKind::LowScoreAlert,
        NoticeKind::OpsAlert,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::TurnNear => "turn_near",
            NoticeKind::ComeNow => "come_now",
            NoticeKind::Called => "called",
            NoticeKind::SurveyInvite => "survey_invite",
            NoticeKind::BookingCode => "booking_code",
            NoticeKind::BookingConfirmed => "booking_confirmed",
            NoticeKind::Reminder => "reminder",
            NoticeKind::WaitlistOffer => "waitlist_offer",
            NoticeKind::LowScoreAlert => "low_score_alert",
            NoticeKind::OpsAlert => "ops_alert",
        }
    }

    /// The placeholders its templates may use, besides `{office}`, which all may.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            NoticeKind::TurnNear => &["ticket", "ahead", "minutes"],
            NoticeKind::ComeNow => &["ticket", "minutes", "link"],
            NoticeKind::Called => &["ticket", "counter"],
            NoticeKind::SurveyInvite => &["ticket", "link"],
            NoticeKind::BookingCode => &["code"],
            NoticeKind::BookingConfirmed => &["code", "service", "date", "time", "address", "link"],
            NoticeKind::Reminder | NoticeKind::WaitlistOffer => &["service", "date", "time", "link"],
            NoticeKind::LowScoreAlert => &["day", "ticket", "score", "comment"],
            NoticeKind::OpsAlert => &["alert", "since", "detail"],
        }
    }

    /// Whether it goes to staff, not to a citizen: no way out of further messages at its foot
    /// (staff alerts are the office's to configure).
    pub fn is_for_staff(self) -> bool {
        matches!(self, NoticeKind::LowScoreAlert | NoticeKind::OpsAlert)
    }

    /// Whether it waits for the end of quiet hours. What happens in the office now (a call, a
    /// code the citizen is waiting for) cannot wait; a reminder can.
    pub fn waits_out_quiet_hours(self) -> bool {
        matches!(self, NoticeKind::Reminder | NoticeKind::WaitlistOffer | NoticeKind::SurveyInvite)
    }

    /// How long after it is derived a notice is still worth sending: "you are called" an hour
    /// late is noise, and a retry loop must end.
    pub fn lifetime(self) -> SignedDuration {
        let minutes = match self {
            NoticeKind::Called => 10,
            NoticeKind::TurnNear | NoticeKind::ComeNow => 30,
            NoticeKind::BookingCode => 15,
            NoticeKind::SurveyInvite
            | NoticeKind::BookingConfirmed
            | NoticeKind::WaitlistOffer
            | NoticeKind::LowScoreAlert
            | NoticeKind::OpsAlert => 24 * 60,
            NoticeKind::Reminder => 12 * 60,
        };
        SignedDuration::from_mins(minutes)
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NoticeKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        NoticeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| format!("unknown notice kind {text:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::NoticeKind;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in NoticeKind::ALL {
            assert_eq!(kind.as_str().parse::<NoticeKind>(), Ok(kind));
            assert_eq!(serde_json::to_string(&kind).expect("serializes"), format!("\"{kind}\""));
        }
        assert!("turn-near".parse::<NoticeKind>().is_err());
    }

    #[test]
    fn headquarters_alerts_go_to_staff_at_any_hour() {
        assert!(NoticeKind::OpsAlert.is_for_staff(), "no opt-out footer for the duty address");
        assert!(!NoticeKind::OpsAlert.waits_out_quiet_hours(), "an office offline at night is news at night");
    }
}
