//! The edge's guards at its doors, and the security events they raise.
//!
//! - Sign-ins: lockouts per username and per client address (`throttle::Strikes`), and at most
//!   a few argon2 checks at a time (each takes tens of MB and a core for tens of ms: 96 at once
//!   took a box from 0.4 to 4 GB).
//! - Kiosks: a ticket rate per kiosk, far above a person's pace and far below a script's.
//! - The anonymous event stream: a cap on open connections (each holds a socket and a file).
//!
//! Every lockout and every kiosk over its rate is a security event: logged with the `security`
//! target (never a password or token) and kept, the latest few, for supervisors.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use crate::settings::SecuritySettings;
use crate::throttle::{RateLimit, Strikes};

/// Security events kept for supervisors; older ones are in the log.
pub const EVENTS_KEPT: usize = 100;
/// How long an event shows among the queue's alerts.
pub const ALERT_FOR: Duration = Duration::from_secs(15 * 60);

/// A security event, as supervisors see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SecurityEvent {
    /// ms since the Unix epoch.
    pub at: i64,
    /// `login_locked` (a username), `address_locked` (a client address), `kiosk_rate_limited`.
    pub kind: String,
    /// The username, address or kiosk concerned.
    pub subject: String,
    pub message: String,
    #[serde(skip)]
    pub instant: Instant,
}

/// Why a sign-in may not even be tried now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotNow {
    /// This username or address is locked out.
    Locked(Duration),
    /// Every password check is busy.
    Busy,
}

pub struct Security {
    settings: SecuritySettings,
    users: Mutex<Strikes<String>>,
    addresses: Mutex<Strikes<IpAddr>>,
    checks: Arc<tokio::sync::Semaphore>,
    kiosks: Mutex<RateLimit<String>>,
    /// Kiosks refused since they last got a ticket: one event per episode, not per request.
    kiosks_refused: Mutex<std::collections::HashSet<String>>,
    events: Mutex<VecDeque<SecurityEvent>>,
    pub lockouts_total: AtomicU64,
    pub kiosk_refusals_total: AtomicU64,
    streams: Arc<AtomicUsize>,
}

/// A sign-in allowed to run its password check; hand it back with the outcome.
pub struct SignIn {
    username: String,
    address: IpAddr,
    /// One of the few argon2 checks allowed at once, given back when the sign-in is judged.
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Security {
    pub fn new(settings: SecuritySettings) -> Arc<Security> {
        Arc::new(Security {
            users: Mutex::new(Strikes::new(settings.user_lockout)),
            addresses: Mutex::new(Strikes::new(settings.address_lockout)),
            checks: Arc::new(tokio::sync::Semaphore::new(settings.password_checks_max.max(1))),
            kiosks: Mutex::new(RateLimit::new(settings.kiosk_issues)),
            kiosks_refused: Mutex::new(Default::default()),
            events: Mutex::new(VecDeque::new()),
            lockouts_total: AtomicU64::new(0),
            kiosk_refusals_total: AtomicU64::new(0),
            streams: Arc::new(AtomicUsize::new(0)),
            settings,
        })
    }

    pub fn settings(&self) -> &SecuritySettings {
        &self.settings
    }

    /// May `username` at `address` try a password now? A locked one is refused without running
    /// argon2; otherwise the attempt counts as a failure until [`Security::signed_in`].
    pub async fn sign_in(&self, username: &str, address: IpAddr) -> Result<SignIn, NotNow> {
        let address = network_of(address);
        let now = Instant::now();
        {
            let mut users = lock(&self.users);
            let mut addresses = lock(&self.addresses);
            let locked = users.locked(&username.to_string(), now).max(addresses.locked(&address, now));
            if let Some(left) = locked {
                return Err(NotNow::Locked(left));
            }
            users.begin(&username.to_string(), now).map_err(NotNow::Locked)?;
            if let Err(left) = addresses.begin(&address, now) {
                users.succeeded(&username.to_string(), false);
                return Err(NotNow::Locked(left));
            }
        }
        match tokio::time::timeout(self.settings.password_check_wait, self.checks.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(SignIn { username: username.to_string(), address, _permit: permit }),
            _ => {
                // Not tried, so not a failure.
                lock(&self.users).succeeded(&username.to_string(), false);
                lock(&self.addresses).succeeded(&address, false);
                Err(NotNow::Busy)
            }
        }
    }

    /// The password was right: the username starts afresh; the address gets this attempt back.
    pub fn signed_in(&self, attempt: SignIn) {
        lock(&self.users).succeeded(&attempt.username, true);
        lock(&self.addresses).succeeded(&attempt.address, false);
    }

    /// The password was wrong: a lockout it earned becomes a security event.
    pub fn refused(&self, attempt: SignIn, now_ms: i64) {
        let now = Instant::now();
        let user = lock(&self.users).failed(&attempt.username, now);
        let address = lock(&self.addresses).failed(&attempt.address, now);
        if let Some((failures, lock_for)) = user {
            self.raise(
                now_ms,
                "login_locked",
                &attempt.username,
                format!("{failures} wrong passwords in a row; sign-in locked for {} s", secs(lock_for)),
            );
        }
        if let Some((failures, lock_for)) = address {
            self.raise(
                now_ms,
                "address_locked",
                &attempt.address.to_string(),
                format!("{failures} failed sign-ins from this address; locked for {} s", secs(lock_for)),
            );
        }
    }

    /// May this kiosk issue a ticket now?
    pub fn kiosk_issue(&self, kiosk: &str, now_ms: i64) -> Result<(), Duration> {
        let taken = lock(&self.kiosks).take(&kiosk.to_string(), Instant::now());
        let mut refused = lock(&self.kiosks_refused);
        match taken {
            Ok(()) => {
                refused.remove(kiosk);
                Ok(())
            }
            Err(wait) => {
                self.kiosk_refusals_total.fetch_add(1, Ordering::Relaxed);
                if refused.insert(kiosk.to_string()) {
                    let rate = self.settings.kiosk_issues;
                    self.raise(
                        now_ms,
                        "kiosk_rate_limited",
                        kiosk,
                        format!("over {} tickets a minute (burst {}); tickets refused", rate.per_minute, rate.burst),
                    );
                }
                Err(wait)
            }
        }
    }

    /// A place on the event stream, if one is free; the place is given back when dropped.
    pub fn event_stream(&self) -> Option<StreamPlace> {
        let max = self.settings.event_streams_max;
        self.streams
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |open| (open < max).then_some(open + 1))
            .ok()
            .map(|_| StreamPlace { open: self.streams.clone() })
    }

    pub fn event_streams_open(&self) -> usize {
        self.streams.load(Ordering::SeqCst)
    }

    /// The latest security events, newest first.
    pub fn events(&self) -> Vec<SecurityEvent> {
        lock(&self.events).iter().rev().cloned().collect()
    }

    /// Events recent enough to be alerts.
    pub fn recent(&self) -> Vec<SecurityEvent> {
        let now = Instant::now();
        self.events().into_iter().filter(|e| now.saturating_duration_since(e.instant) < ALERT_FOR).collect()
    }

    fn raise(&self, now_ms: i64, kind: &str, subject: &str, message: String) {
        if kind != "kiosk_rate_limited" {
            self.lockouts_total.fetch_add(1, Ordering::Relaxed);
        }
        tracing::warn!(target: "security", kind, subject, "{message}");
        let mut events = lock(&self.events);
        if events.len() >= EVENTS_KEPT {
            events.pop_front();
        }
        events.push_back(SecurityEvent {
            at: now_ms,
            kind: kind.into(),
            subject: subject.into(),
            message,
            instant: Instant::now(),
        });
    }
}

/// Held by an open event stream.
pub struct StreamPlace {
    open: Arc<AtomicUsize>,
}

impl Drop for StreamPlace {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// IPv6 clients are counted per /64, the block one household or machine usually holds: an
/// attacker picks any address inside it at no cost.
fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

fn secs(duration: Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

/// The tables are updated in single steps that cannot be left half done, so a poisoned lock
/// (a panic elsewhere while holding it) still holds consistent data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
