//! Spoken calls: when an agent calls a ticket, the waiting-room screen plays a chime and says
//! "Turno A cero veintitrés, puesto cuatro" / "Ticket A twenty-three, counter four".
//!
//! - [`numbers`] and [`phrase`] turn a ticket number and a counter into that sentence. They are
//!   transcriptions of `edge/pages/i18n.js`, which the page uses to speak with the browser when
//!   the box has no speech engine; both must say exactly the same words, and a test runs the
//!   JavaScript under node to prove it.
//! - [`engine`] runs espeak-ng (when installed) to say the sentence, puts the chime in front and
//!   caches the WAV file per sentence, so a recall plays at once and the engine runs once per
//!   phrase. The edge serves the file by its key; without espeak-ng it gets `None` and the page
//!   speaks instead.
//! - [`wav`] makes the chime and joins WAV files. No audio device is touched here: the browser plays.

pub mod engine;
pub mod numbers;
pub mod phrase;
pub mod wav;

use std::path::PathBuf;
use std::time::Duration;

pub use engine::{is_cache_key, CallAudio, SpeechEngine, Voice, ENGINE_TIMEOUT_DEFAULT};
pub use numbers::{number_words, NUMBER_WORDS_MAX};
pub use phrase::call_phrase;
pub use wav::{chime_wav, concat_wav, parse_wav, Wav, WavFormat, CHIME_DURATION_MS, GAP_DURATION_MS};

/// What can go wrong making call audio.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("WAV part {part} is malformed: {reason}")]
    MalformedWav { part: usize, reason: String },
    #[error("WAV part {part} is {found}, but part 0 is {expected}; parts must share one format")]
    FormatMismatch { part: usize, expected: WavFormat, found: WavFormat },
    #[error("no WAV parts to concatenate")]
    NothingToConcat,
    #[error("the joined audio is longer than a WAV file can hold (4 GiB)")]
    WavTooLong,
    #[error("could not start the speech engine {}: {source}", program.display())]
    EngineStart { program: PathBuf, source: std::io::Error },
    #[error("the speech engine {} failed ({status}): {stderr}", program.display())]
    EngineFailed { program: PathBuf, status: String, stderr: String },
    #[error("the speech engine {} did not finish within {timeout:?}", program.display())]
    EngineTimedOut { program: PathBuf, timeout: Duration },
    #[error("the speech engine {} wrote unusable audio: {reason}", program.display())]
    EngineOutput { program: PathBuf, reason: String },
    #[error("audio cache {}: {source}", path.display())]
    Cache { path: PathBuf, source: std::io::Error },
}
