//! Shared pieces of the cross-crate tests.

pub mod rng;

pub use rng::Rng;
