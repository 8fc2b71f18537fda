//! Connections of one office replacing each other: normal once in a while (a reconnect after a
//! cut link), a sign of two boxes sharing a branch token, or a stolen one, when it keeps
//! happening. Then it is an alert, not a silent fight.

use std::collections::VecDeque;

/// More replacements than this within [`WINDOW_MS`] raise the alert.
pub const ALERT_OVER: usize = 5;
pub const WINDOW_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Default)]
pub struct Replacements {
    /// When recent replacements happened (ms), oldest first; at most `ALERT_OVER + 1` kept.
    recent: VecDeque<i64>,
    pub total: u64,
}

impl Replacements {
    /// A connection was replaced at `now_ms`. True when this one raises the alert (it was not
    /// raised a moment before), so the caller logs it once per episode.
    pub fn replaced(&mut self, now_ms: i64) -> bool {
        let was = self.alerting(now_ms);
        self.total += 1;
        self.recent.push_back(now_ms);
        while self.recent.len() > ALERT_OVER + 1 {
            self.recent.pop_front();
        }
        !was && self.alerting(now_ms)
    }

    /// More than [`ALERT_OVER`] replacements in the last [`WINDOW_MS`].
    pub fn alerting(&self, now_ms: i64) -> bool {
        self.recent.iter().filter(|at| now_ms.saturating_sub(**at) < WINDOW_MS).count() > ALERT_OVER
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_replacement_within_ten_minutes_raises_the_alert_once_and_it_fades() {
        let mut replacements = Replacements::default();
        let raised: Vec<bool> = (0..8).map(|i| replacements.replaced(i * 1000)).collect();
        assert_eq!(raised, [false, false, false, false, false, true, false, false]);
        assert!(replacements.alerting(8_000));
        assert!(!replacements.alerting(8_000 + WINDOW_MS), "quiet for ten minutes: no alert");
        assert_eq!(replacements.total, 8);
    }

    #[test]
    fn replacements_spread_over_hours_are_reconnects_not_an_alert() {
        let mut replacements = Replacements::default();
        assert!((0..20).all(|i| !replacements.replaced(i * WINDOW_MS / 3)));
    }
}
