//! The durable outbox, as a state machine with no I/O: the shell stores what it says changed,
//! sends what it hands out, and reports back.
//!
//! A notice is derived from its cause (a ticket or a booking) and named by (cause, kind), so
//! deriving it again after a crash finds it already there: a crash between cause and send never
//! loses it, and never makes a second one. The order that keeps it so:
//!
//! 1. `enqueue` a draft, `take_changed` and store it before anything is sent;
//! 2. `start_due` hands out due notices marked `Sending`; store that before sending;
//! 3. `finish` with the channel's answer; store it.
//!
//! A notice found `Sending` when the outbox is restored was being sent when the process died; it
//! may have reached the citizen, so it is not sent again (at most once, and the supervisor sees
//! it as interrupted). A transient failure is retried with backoff until the notice's lifetime
//! ends; a permanent one ends it at once. Sends to one contact are limited per hour.

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::channel::SendError;
use crate::contact::{Fingerprint, Medium};
use crate::kind::NoticeKind;
use crate::template::Rendered;

/// What names a notice: what caused it and which kind it is. The cause is the caller's words for
/// one ticket or booking, e.g. `ticket/centro/2026-12-04/000023`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NoticeKey {
    pub cause: String,
    pub kind: NoticeKind,
}

impl NoticeKey {
    /// The key under which the notice is stored.
    pub fn storage_key(&self) -> String {
        format!("{}#{}", self.cause, self.kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Queued,
    Sending,
    Sent,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Failed => "failed",
        }
    }
}

/// A notice as the caller derives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub key: NoticeKey,
    pub medium: Medium,
    /// Whom it goes to, as a keyed hash: for the rate limit. The contact itself stays in the
    /// caller's contact book.
    pub contact: Fingerprint,
    pub message: Rendered,
    /// Not before this time (the end of quiet hours, for kinds that wait them out).
    pub not_before: Option<Timestamp>,
    /// The office it is about, where a daemon sends for many (central): whose staff may list it.
    pub office: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub key: NoticeKey,
    pub medium: Medium,
    pub contact: Fingerprint,
    pub message: Rendered,
    pub state: State,
    /// Why it failed, or why the last attempt did.
    pub reason: Option<String>,
    pub attempts: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub next_attempt_at: Timestamp,
    /// When it was last handed to a channel: what the hourly limit per contact counts.
    pub last_attempt_at: Option<Timestamp>,
    /// After this it is no longer worth sending.
    pub expires_at: Timestamp,
    #[serde(default)]
    pub office: Option<String>,
}

/// The outbox's knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// The wait after a first transient failure; it doubles with each further one.
    pub first_retry: SignedDuration,
    pub retry_max: SignedDuration,
    /// Messages to one contact within any hour; more wait.
    pub per_contact_per_hour: usize,
    /// Hours when kinds that can wait (reminders, offers, survey invitations) are held back.
    pub quiet_hours: Option<QuietHours>,
}

/// A nightly window, in a time zone, when nobody wants a reminder: 21:00 to 08:00, say. A
/// window that ends before it starts runs past midnight.
#[derive(Debug, Clone, PartialEq)]
pub struct QuietHours {
    pub from: jiff::civil::Time,
    pub to: jiff::civil::Time,
    pub zone: jiff::tz::TimeZone,
}

impl QuietHours {
    /// Reads `"21:00-08:00"`.
    pub fn parse(text: &str, zone: jiff::tz::TimeZone) -> Result<QuietHours, String> {
        let wrong = || format!("{text:?} is not a window like \"21:00-08:00\"");
        let (from, to) = text.split_once('-').ok_or_else(wrong)?;
        let time = |t: &str| t.trim().parse::<jiff::civil::Time>().map_err(|_| wrong());
        let (from, to) = (time(from)?, time(to)?);
        if from == to {
            return Err(format!("{text:?} starts and ends at the same time"));
        }
        Ok(QuietHours { from, to, zone })
    }

    /// The first moment at or after `at` outside the window.
    pub fn first_allowed(&self, at: Timestamp) -> Timestamp {
        let local = at.to_zoned(self.zone.clone());
        let time = local.time();
        let inside =
            if self.from < self.to { self.from <= time && time < self.to } else { time >= self.from || time < self.to };
        if !inside {
            return at;
        }
        // The window ends today at `to`, or tomorrow when it runs past midnight and it is evening.
        let end_day =
            if self.from > self.to && time >= self.from { local.date().tomorrow().ok() } else { Some(local.date()) };
        end_day
            .and_then(|day| day.to_datetime(self.to).to_zoned(self.zone.clone()).ok())
            .map_or(at, |end| end.timestamp())
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            first_retry: SignedDuration::from_secs(15),
            retry_max: SignedDuration::from_mins(10),
            per_contact_per_hour: 6,
            quiet_hours: None,
        }
    }
}

/// How many notices are in each state, for `/metrics` and the supervisor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub queued: usize,
    pub sending: usize,
    pub sent: usize,
    pub failed: usize,
}

const HOUR: SignedDuration = SignedDuration::from_hours(1);
pub const REASON_INTERRUPTED: &str = "interrupted while sending; not sent again, it may have arrived";
pub const REASON_EXPIRED: &str = "no longer worth sending";

#[derive(Debug, Clone)]
pub struct Outbox {
    policy: Policy,
    notices: BTreeMap<NoticeKey, Notice>,
    changed: BTreeSet<NoticeKey>,
}

impl Outbox {
    pub fn new(policy: Policy) -> Outbox {
        Outbox { policy, notices: BTreeMap::new(), changed: BTreeSet::new() }
    }

    /// The outbox as stored. A notice that was being sent when the process stopped is closed as
    /// interrupted (see the module's doc): at most once.
    pub fn restore(policy: Policy, stored: impl IntoIterator<Item = Notice>, now: Timestamp) -> Outbox {
        let mut outbox = Outbox::new(policy);
        for mut notice in stored {
            if notice.state == State::Sending {
                notice.state = State::Failed;
                notice.reason = Some(REASON_INTERRUPTED.into());
                notice.updated_at = now;
                outbox.changed.insert(notice.key.clone());
            }
            outbox.notices.insert(notice.key.clone(), notice);
        }
        outbox
    }

    /// Notices other processes sharing the store wrote (replicas of central: one sends, the
    /// others queue and cancel). One new here is taken as it is, except that one left sending
    /// (by a process that stopped sending) is closed as interrupted, as at a restart; one
    /// closed there while still queued here is taken closed.
    pub fn adopt(&mut self, stored: impl IntoIterator<Item = Notice>, now: Timestamp) {
        for mut notice in stored {
            match self.notices.get(&notice.key) {
                None => {
                    if notice.state == State::Sending {
                        notice.state = State::Failed;
                        notice.reason = Some(REASON_INTERRUPTED.into());
                        notice.updated_at = now;
                        self.changed.insert(notice.key.clone());
                    }
                    self.notices.insert(notice.key.clone(), notice);
                }
                Some(here) if here.state == State::Queued && matches!(notice.state, State::Sent | State::Failed) => {
                    self.notices.insert(notice.key.clone(), notice);
                }
                Some(_) => {}
            }
        }
    }

    pub fn get(&self, key: &NoticeKey) -> Option<&Notice> {
        self.notices.get(key)
    }

    pub fn notices(&self) -> impl Iterator<Item = &Notice> {
        self.notices.values()
    }

    /// Adds a notice; `false` when one with its key exists already (derived before a restart,
    /// or by an earlier event), which is then left as it is.
    pub fn enqueue(&mut self, draft: Draft, now: Timestamp) -> bool {
        if self.notices.contains_key(&draft.key) {
            return false;
        }
        let mut start = draft.not_before.map_or(now, |at| at.max(now));
        if let Some(quiet) = self.policy.quiet_hours.as_ref().filter(|_| draft.key.kind.waits_out_quiet_hours()) {
            start = quiet.first_allowed(start);
        }
        let notice = Notice {
            expires_at: start + draft.key.kind.lifetime(),
            key: draft.key.clone(),
            medium: draft.medium,
            contact: draft.contact,
            message: draft.message,
            state: State::Queued,
            reason: None,
            attempts: 0,
            created_at: now,
            updated_at: now,
            next_attempt_at: start,
            last_attempt_at: None,
            office: draft.office,
        };
        self.notices.insert(draft.key.clone(), notice);
        self.changed.insert(draft.key);
        true
    }

    /// Ends every notice of `cause` not yet sent, with `reason` (the citizen opted out, the
    /// contact was deleted).
    pub fn cancel_cause(&mut self, cause: &str, reason: &str, now: Timestamp) {
        for notice in self.notices.values_mut().filter(|n| n.key.cause == cause && n.state == State::Queued) {
            notice.state = State::Failed;
            notice.reason = Some(reason.into());
            notice.updated_at = now;
            self.changed.insert(notice.key.clone());
        }
    }

    /// Hands out what is due now, each marked `Sending` (store that before sending), at most
    /// `limit`. Notices past their lifetime fail; a contact over its hourly limit waits.
    pub fn start_due(&mut self, now: Timestamp, limit: usize) -> Vec<Notice> {
        let mut recent = self.recent_sends(now);
        let due: Vec<NoticeKey> = self
            .notices
            .values()
            .filter(|n| n.state == State::Queued && n.next_attempt_at <= now)
            .map(|n| n.key.clone())
            .collect();
        let mut out = Vec::new();
        for key in due {
            let Some(notice) = self.notices.get_mut(&key) else { continue };
            if notice.expires_at <= now {
                notice.state = State::Failed;
                notice.reason = Some(REASON_EXPIRED.into());
                notice.updated_at = now;
                self.changed.insert(key);
                continue;
            }
            if out.len() >= limit {
                break;
            }
            let sends = recent.entry(notice.contact.clone()).or_default();
            if sends.len() >= self.policy.per_contact_per_hour {
                // The earliest send in the window leaves it an hour after it was made.
                sends.sort();
                notice.next_attempt_at = sends[sends.len() - self.policy.per_contact_per_hour] + HOUR;
                notice.reason = Some("waiting: this contact had its messages for the hour".into());
                notice.updated_at = now;
                self.changed.insert(key);
                continue;
            }
            sends.push(now);
            notice.state = State::Sending;
            notice.attempts += 1;
            notice.updated_at = now;
            notice.last_attempt_at = Some(now);
            self.changed.insert(key);
            out.push(notice.clone());
        }
        out
    }

    /// The channel's answer for a notice handed out by `start_due`.
    pub fn finish(&mut self, key: &NoticeKey, result: Result<(), SendError>, now: Timestamp) {
        let policy = &self.policy;
        let Some(notice) = self.notices.get_mut(key) else { return };
        if notice.state != State::Sending {
            return;
        }
        notice.updated_at = now;
        match result {
            Ok(()) => {
                notice.state = State::Sent;
                notice.reason = None;
            }
            Err(error) => {
                notice.reason = Some(error.reason().to_string());
                let retry_at = now + backoff(policy, notice.attempts);
                if error.is_permanent() || retry_at >= notice.expires_at {
                    notice.state = State::Failed;
                } else {
                    notice.state = State::Queued;
                    notice.next_attempt_at = retry_at;
                }
            }
        }
        self.changed.insert(key.clone());
    }

    /// When `start_due` next has something to do.
    pub fn next_wake(&self) -> Option<Timestamp> {
        self.notices.values().filter(|n| n.state == State::Queued).map(|n| n.next_attempt_at.min(n.expires_at)).min()
    }

    /// Notices changed since the last call, to store.
    pub fn take_changed(&mut self) -> Vec<Notice> {
        let keys = std::mem::take(&mut self.changed);
        keys.into_iter().filter_map(|key| self.notices.get(&key).cloned()).collect()
    }

    pub fn counts(&self) -> Counts {
        let mut counts = Counts::default();
        for notice in self.notices.values() {
            *match notice.state {
                State::Queued => &mut counts.queued,
                State::Sending => &mut counts.sending,
                State::Sent => &mut counts.sent,
                State::Failed => &mut counts.failed,
            } += 1;
        }
        counts
    }

    /// Forgets finished notices last touched before `cutoff` (the retention period), and
    /// returns their keys so the shell deletes them from the store.
    pub fn forget_before(&mut self, cutoff: Timestamp) -> Vec<NoticeKey> {
        let old: Vec<NoticeKey> = self
            .notices
            .values()
            .filter(|n| matches!(n.state, State::Sent | State::Failed) && n.updated_at < cutoff)
            .map(|n| n.key.clone())
            .collect();
        for key in &old {
            self.notices.remove(key);
            self.changed.remove(key);
        }
        old
    }

    /// The notices handed to a channel within the last hour, per contact.
    fn recent_sends(&self, now: Timestamp) -> BTreeMap<Fingerprint, Vec<Timestamp>> {
        let mut recent: BTreeMap<Fingerprint, Vec<Timestamp>> = BTreeMap::new();
        for notice in self.notices.values() {
            if let Some(at) = notice.last_attempt_at.filter(|at| *at > now - HOUR) {
                recent.entry(notice.contact.clone()).or_default().push(at);
            }
        }
        recent
    }
}

fn backoff(policy: &Policy, attempts: u32) -> SignedDuration {
    let doublings = attempts.saturating_sub(1).min(16);
    let wait = policy.first_retry.saturating_mul(1 << doublings);
    wait.min(policy.retry_max)
}

#[cfg(test)]
mod tests;
