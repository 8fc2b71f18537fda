//! Erlang C: how many counters an hour of arrivals needs so that enough citizens are called
//! within the target wait.
//!
//! The model is M/M/c: arrivals at random (Poisson) within the hour, service times spread
//! exponentially around their mean, `c` counters taking from one queue, nobody leaving. With an
//! offered load of `A = λ·s` erlangs (arrivals per minute times minutes per ticket),
//! the probability that an arrival waits at all is Erlang C, `C(c, A)`, and the share called
//! within `t` minutes is `1 − C(c, A)·e^{−(c − A)·t/s}`.
//!
//! `C` is computed from Erlang B by its recursion `B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1))`
//! and `C = c·B / (c − A·(1 − B))`: every step stays between 0 and 1, where the textbook form
//! with `A^c / c!` overflows an `f64` past about 170 counters and loses precision well before.

/// No hour of one office needs more; a load beyond it is reported as this many (a bug or absurd
/// history, not a staffing plan).
pub const COUNTERS_NEEDED_MAX: u32 = 1_000;

/// Probability that an arrival waits (Erlang C) at `counters` counters under `load` erlangs.
/// 1 when the counters cannot keep up (`load ≥ counters`): the queue then grows all hour.
pub fn wait_probability(counters: u32, load: f64) -> f64 {
    if load <= 0.0 {
        return 0.0;
    }
    if f64::from(counters) <= load {
        return 1.0;
    }
    erlang_c(counters, load, erlang_b(counters, load))
}

/// Share of arrivals called within `target_minutes` at `counters` counters, each ticket taking
/// `service_minutes` on average, under `load` erlangs.
pub fn service_level(counters: u32, load: f64, service_minutes: f64, target_minutes: f64) -> f64 {
    if load <= 0.0 {
        return 1.0;
    }
    let servers = f64::from(counters);
    if servers <= load {
        return 0.0;
    }
    let waits = wait_probability(counters, load);
    1.0 - waits * (-(servers - load) * target_minutes / service_minutes.max(f64::MIN_POSITIVE)).exp()
}

/// The fewest counters at which at least `level` of `arrivals_per_hour` arrivals, each taking
/// `service_minutes`, are called within `target_minutes`. No arrivals need no counter.
///
/// `level` is clamped below 0.999: a share of exactly 1 is never reached by a queue with random
/// arrivals, however many counters open.
pub fn counters_needed(arrivals_per_hour: f64, service_minutes: f64, target_minutes: f64, level: f64) -> u32 {
    if arrivals_per_hour <= 0.0 || !arrivals_per_hour.is_finite() {
        return 0;
    }
    let service_minutes = service_minutes.max(f64::MIN_POSITIVE);
    let level = level.clamp(0.0, 0.999);
    let load = arrivals_per_hour * service_minutes / 60.0;
    // Fewer counters than the load can never keep up; start at the first that can.
    let first = (load.floor() as u32).saturating_add(1).min(COUNTERS_NEEDED_MAX);
    let mut b = erlang_b(first, load);
    let mut counters = first;
    loop {
        let servers = f64::from(counters);
        let waits = erlang_c(counters, load, b);
        let within = 1.0 - waits * (-(servers - load) * target_minutes / service_minutes).exp();
        if within >= level || counters >= COUNTERS_NEEDED_MAX {
            return counters;
        }
        counters += 1;
        b = next_b(b, counters, load);
    }
}

/// Erlang B (the share an `counters`-server system without a queue would turn away) by the
/// recursion, which never leaves [0, 1].
fn erlang_b(counters: u32, load: f64) -> f64 {
    (1..=counters).fold(1.0, |b, k| next_b(b, k, load))
}

fn next_b(previous: f64, k: u32, load: f64) -> f64 {
    load * previous / (f64::from(k) + load * previous)
}

/// Erlang C from Erlang B of the same counters; only for `counters > load`.
fn erlang_c(counters: u32, load: f64, b: f64) -> f64 {
    let servers = f64::from(counters);
    (servers * b / (servers - load * (1.0 - b))).clamp(0.0, 1.0)
}
