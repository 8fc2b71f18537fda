//! The limits of the edge's door guards (`security`, `throttle`): the kiosk ticket rate and the
//! event stream's cap come from `[server]`; the sign-in policy is fixed here (tests shorten it).
//! What the limits do is `throttle`'s business (`impl LockoutPolicy`, `RateLimit`).

use std::time::Duration;

/// The guards' parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySettings {
    /// Per username: four wrong passwords cost nothing, the fifth locks for 30 s, each further
    /// one doubles that, up to 15 minutes. Guessing a 4-digit PIN then takes months.
    pub user_lockout: LockoutPolicy,
    /// Per client address, against one machine trying one PIN on every username.
    pub address_lockout: LockoutPolicy,
    /// argon2 checks running at once.
    pub password_checks_max: usize,
    /// How long a sign-in waits for a free check before it is told to retry (429).
    pub password_check_wait: Duration,
    pub kiosk_issues: Rate,
    /// Open connections to the event stream.
    pub event_streams_max: usize,
    /// How often an idle event stream is written to. A stream's place is freed only when a
    /// write finds its client gone (actix notices a disconnect no other way), so this also
    /// bounds how long a departed client holds one.
    pub event_keep_alive: Duration,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        let day = Duration::from_secs(24 * 3600);
        SecuritySettings {
            user_lockout: LockoutPolicy {
                free_failures: 4,
                first: Duration::from_secs(30),
                longest: Duration::from_secs(15 * 60),
                forget_after: day,
            },
            address_lockout: LockoutPolicy {
                free_failures: 19,
                first: Duration::from_secs(30),
                longest: Duration::from_secs(15 * 60),
                forget_after: day,
            },
            // Sized to the box's cores (a Raspberry Pi has 4), at least 2 so one slow check does
            // not hold up every counter at opening time.
            password_checks_max: std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4)),
            password_check_wait: Duration::from_secs(3),
            kiosk_issues: Rate { per_minute: 30, burst: 10 },
            event_streams_max: 512,
            event_keep_alive: Duration::from_secs(15),
        }
    }
}

/// How failures earn a lockout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failures that cost nothing; the next one locks.
    pub free_failures: u32,
    /// The first lockout; each further failure doubles it.
    pub first: Duration,
    /// No lockout is longer than this.
    pub longest: Duration,
    /// Failures this old (with no lockout running) are forgotten.
    pub forget_after: Duration,
}

/// A rate: `per_minute` on average, up to `burst` at once (a token bucket per key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}
