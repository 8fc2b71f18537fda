//! Pure policies that slow attackers down at the doors: lockouts after failed sign-ins, and a
//! rate per kiosk. Time is a parameter (`Instant`), so tests step it without sleeping; the
//! shell (`security.rs`) holds them behind locks and reads the clock.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

// Defined with the settings (`[server]` sets a kiosk's rate); what they do is decided here.
pub use crate::settings::{LockoutPolicy, Rate};

/// Keys a table remembers at most: an attacker inventing usernames must not grow memory. When
/// full, the entry idle longest goes (it is also the one least likely to be under attack).
pub const KEYS_MAX: usize = 4096;

impl LockoutPolicy {
    /// The lockout earned by `failures` consecutive failures, if any.
    pub fn lockout(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.free_failures)?.checked_sub(1)?;
        let factor = 1u32.checked_shl(over).unwrap_or(u32::MAX);
        Some(self.first.saturating_mul(factor).min(self.longest))
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

/// Consecutive failures per key (a username, a client address) and the lockouts they earned.
///
/// An attempt counts as a failure from the moment it starts ([`Strikes::begin`]) until it
/// succeeds: concurrent guesses then cannot all slip in before the first of them is judged.
#[derive(Debug)]
pub struct Strikes<K> {
    policy: LockoutPolicy,
    entries: HashMap<K, Entry>,
}

impl<K: Eq + Hash + Clone> Strikes<K> {
    pub fn new(policy: LockoutPolicy) -> Self {
        Strikes { policy, entries: HashMap::new() }
    }

    /// How long `key` stays locked, if it is.
    pub fn locked(&self, key: &K, now: Instant) -> Option<Duration> {
        let until = self.entries.get(key)?.locked_until?;
        (until > now).then(|| until - now)
    }

    /// An attempt starts: refused with the time left if `key` is locked; otherwise counted as a
    /// failure (and locking, if it is one too many) until [`Strikes::succeeded`] says otherwise.
    pub fn begin(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        if let Some(left) = self.locked(key, now) {
            return Err(left);
        }
        self.make_room(key, now);
        let policy = self.policy;
        let entry = self.entries.entry(key.clone()).or_insert(Entry { failures: 0, locked_until: None, last: now });
        if now.saturating_duration_since(entry.last) > policy.forget_after {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last = now;
        entry.locked_until = policy.lockout(entry.failures).map(|lock| now + lock);
        Ok(())
    }

    /// The attempt failed: the lockout it earned (to report), if it earned one.
    pub fn failed(&self, key: &K, now: Instant) -> Option<(u32, Duration)> {
        let entry = self.entries.get(key)?;
        let left = entry.locked_until.filter(|until| *until > now)?.saturating_duration_since(now);
        Some((entry.failures, left))
    }

    /// The attempt succeeded: with `forget`, the key starts afresh (a user who signed in);
    /// otherwise only this attempt is taken back (an address, where others may be guessing).
    pub fn succeeded(&mut self, key: &K, forget: bool) {
        if forget {
            self.entries.remove(key);
            return;
        }
        if let Some(entry) = self.entries.get_mut(key) {
            entry.failures = entry.failures.saturating_sub(1);
            if self.policy.lockout(entry.failures).is_none() {
                entry.locked_until = None;
            }
        }
    }

    fn make_room(&mut self, key: &K, now: Instant) {
        if self.entries.len() < KEYS_MAX || self.entries.contains_key(key) {
            return;
        }
        let policy = self.policy;
        self.entries.retain(|_, e| {
            e.locked_until.is_some_and(|until| until > now)
                || now.saturating_duration_since(e.last) <= policy.forget_after
        });
        if self.entries.len() >= KEYS_MAX {
            if let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.last).map(|(k, _)| k.clone()) {
                self.entries.remove(&oldest);
            }
        }
    }
}

#[derive(Debug)]
pub struct RateLimit<K> {
    rate: Rate,
    /// Tokens left and when they were counted.
    buckets: HashMap<K, (f64, Instant)>,
}

impl<K: Eq + Hash + Clone> RateLimit<K> {
    pub fn new(rate: Rate) -> Self {
        RateLimit { rate, buckets: HashMap::new() }
    }

    /// Take one token for `key`: refused with the wait until the next one if there is none.
    pub fn take(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        let per_second = f64::from(self.rate.per_minute) / 60.0;
        let burst = f64::from(self.rate.burst.max(1));
        if self.buckets.len() >= KEYS_MAX && !self.buckets.contains_key(key) {
            // Keys are configured kiosks, so this is a bug or a flood of new ones: start over.
            self.buckets.clear();
        }
        let (tokens, counted) = self.buckets.entry(key.clone()).or_insert((burst, now));
        let elapsed = now.saturating_duration_since(*counted).as_secs_f64();
        *tokens = (*tokens + elapsed * per_second).min(burst);
        *counted = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        if per_second <= 0.0 {
            return Err(Duration::from_secs(60));
        }
        Err(Duration::from_secs_f64((1.0 - *tokens) / per_second))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: LockoutPolicy = LockoutPolicy {
        free_failures: 4,
        first: Duration::from_secs(30),
        longest: Duration::from_secs(900),
        forget_after: Duration::from_secs(86_400),
    };

    /// `n` failed attempts of `key`, one second apart from `start`; the lockout of the last.
    fn fail(strikes: &mut Strikes<&'static str>, key: &'static str, n: u32, start: Instant) -> Option<Duration> {
        let mut last = None;
        for i in 0..n {
            let now = start + Duration::from_secs(u64::from(i));
            strikes.begin(&key, now).expect("not locked yet");
            last = strikes.failed(&key, now).map(|(_, lock)| lock);
        }
        last
    }

    #[test]
    fn the_fifth_consecutive_failure_locks_and_each_further_one_doubles_the_lock_up_to_the_cap() {
        assert_eq!((1..=4).map(|n| POLICY.lockout(n)).collect::<Vec<_>>(), vec![None; 4]);
        let locks: Vec<u64> = (5..=12).filter_map(|n| POLICY.lockout(n)).map(|d| d.as_secs()).collect();
        assert_eq!(locks, [30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(POLICY.lockout(u32::MAX), Some(Duration::from_secs(900)));
    }

    #[test]
    fn a_locked_key_is_refused_until_its_lock_ends_and_a_success_forgets_its_failures() {
        let start = Instant::now();
        let mut strikes = Strikes::new(POLICY);
        assert_eq!(fail(&mut strikes, "ana", 5, start), Some(Duration::from_secs(30)));
        let locked_at = start + Duration::from_secs(4);
        assert_eq!(strikes.begin(&"ana", locked_at + Duration::from_secs(10)), Err(Duration::from_secs(20)));
        assert_eq!(strikes.begin(&"luis", locked_at), Ok(()), "other users are not locked");
        strikes.begin(&"ana", locked_at + Duration::from_secs(30)).expect("lock over");
        strikes.succeeded(&"ana", true);
        assert_eq!(fail(&mut strikes, "ana", 4, locked_at + Duration::from_secs(31)), None, "counted afresh");
    }

    #[test]
    fn an_attempt_in_flight_counts_so_concurrent_guesses_cannot_slip_past_the_limit() {
        let now = Instant::now();
        let mut strikes = Strikes::new(POLICY);
        let started = (0..20).filter(|_| strikes.begin(&"ana", now).is_ok()).count();
        assert_eq!(started, 5);
    }

    #[test]
    fn an_address_success_takes_back_only_its_own_attempt() {
        let now = Instant::now();
        let mut strikes = Strikes::new(POLICY);
        fail(&mut strikes, "10.0.0.9", 4, now);
        strikes.begin(&"10.0.0.9", now + Duration::from_secs(5)).expect("fifth attempt");
        assert!(strikes.locked(&"10.0.0.9", now + Duration::from_secs(5)).is_some(), "locked while in flight");
        strikes.succeeded(&"10.0.0.9", false);
        assert_eq!(strikes.locked(&"10.0.0.9", now + Duration::from_secs(5)), None);
        assert_eq!(fail(&mut strikes, "10.0.0.9", 1, now + Duration::from_secs(6)), Some(Duration::from_secs(30)));
    }

    #[test]
    fn old_failures_are_forgotten_and_the_table_stays_bounded() {
        let start = Instant::now();
        let mut strikes = Strikes::new(POLICY);
        fail(&mut strikes, "ana", 4, start);
        let next_day = start + POLICY.forget_after + Duration::from_secs(10);
        assert_eq!(fail(&mut strikes, "ana", 1, next_day), None);
        let mut many = Strikes::new(POLICY);
        for i in 0..(KEYS_MAX + 100) {
            many.begin(&i, start + Duration::from_millis(i as u64)).expect("fresh key");
        }
        assert_eq!(many.entries.len(), KEYS_MAX);
    }

    #[test]
    fn a_rate_allows_its_burst_then_one_token_per_interval() {
        let now = Instant::now();
        let mut limit = RateLimit::new(Rate { per_minute: 30, burst: 3 });
        assert_eq!((0..3).filter(|_| limit.take(&"entrada", now).is_ok()).count(), 3);
        assert_eq!(limit.take(&"entrada", now), Err(Duration::from_secs(2)));
        assert_eq!(limit.take(&"salida", now), Ok(()), "each kiosk has its own bucket");
        assert_eq!(limit.take(&"entrada", now + Duration::from_secs(2)), Ok(()));
        assert!(limit.take(&"entrada", now + Duration::from_secs(3)).is_err());
    }
}
