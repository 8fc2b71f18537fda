//! Survey comments are kept by `fila_notify::survey_comments`, shared with central.
pub use fila_notify::survey_comments::*;
