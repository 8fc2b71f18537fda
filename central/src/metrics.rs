//! Counters of sync traffic, read by `GET /metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    frames_in: AtomicU64,
    frames_out: AtomicU64,
    frames_rejected: AtomicU64,
    changes_refused: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub frames_in: u64,
    pub frames_out: u64,
    pub frames_rejected: u64,
    pub changes_refused: u64,
}

impl Metrics {
    pub fn frame_in(&self) {
        self.frames_in.fetch_add(1, Ordering::Relaxed);
    }

    pub fn frames_out(&self, count: usize) {
        self.frames_out.fetch_add(count as u64, Ordering::Relaxed);
    }

    /// A message from an edge that central refused (and closed the connection over).
    pub fn frame_rejected(&self) {
        self.frames_rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Changes that broke a day's rules or rewrote its history: refused, nothing stored.
    pub fn change_refused(&self) {
        self.changes_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn counts(&self) -> Counts {
        Counts {
            frames_in: self.frames_in.load(Ordering::Relaxed),
            frames_out: self.frames_out.load(Ordering::Relaxed),
            frames_rejected: self.frames_rejected.load(Ordering::Relaxed),
            changes_refused: self.changes_refused.load(Ordering::Relaxed),
        }
    }
}
