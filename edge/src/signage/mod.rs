//! Signage on the box: the media its schedules can play, fetched from central by hash into a
//! size-capped cache that screens play from, so an office offline keeps its signage.

pub mod cache;
pub mod fetch;
pub mod plays;

pub use cache::MediaCache;
