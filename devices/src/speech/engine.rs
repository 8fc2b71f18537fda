//! espeak-ng behind a per-phrase cache of WAV files.
//!
//! espeak-ng is spawned directly rather than through the `tts` crate, which needs the
//! speech-dispatcher daemon on Linux. The sentence goes in as one argv argument, never through a
//! shell, so a counter named `"; rm -rf /` is only an odd thing to say.
//!
//! A file appears in the cache only complete: it is written under a temporary name and renamed.
//! Tasks asking for the same phrase at once wait for the first one's result (a lock per key), so
//! the engine runs once per phrase; other phrases are not held up.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::process::Command;

use super::phrase::call_phrase;
use super::wav::{chime_wav, concat_wav, parse_wav};
use super::SpeechError;
use crate::Lang;

/// How long espeak-ng may take for one phrase; it needs tens of milliseconds, so reaching this
/// means it hung.
pub const ENGINE_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);

/// Bytes of the engine's stderr kept in an error.
const STDERR_KEPT_MAX: usize = 1_000;

/// Names the cache layout and the chime; change it when either changes so old files are not served.
const CACHE_VERSION: &[u8] = b"fila-call-audio-v1";

/// Makes temporary file names unique within this process (the pid covers other processes).
static TEMP_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// The espeak-ng voice for one language.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Voice {
    pub lang: Lang,
    /// An espeak-ng voice name (`-v`), e.g. "es-419", "es" or "en".
    pub espeak_voice: String,
    /// Speaking rate (`-s`), in words per minute.
    pub speed_wpm: u32,
}

impl Voice {
    /// Latin-American Spanish ("es-419") or English ("en") at 150 words per minute, a little
    /// slower than espeak-ng's 175 so a waiting room catches every digit.
    pub fn default_for(lang: Lang) -> Voice {
        let espeak_voice = match lang {
            Lang::Es => "es-419",
            Lang::En => "en",
        };
        Voice { lang, espeak_voice: espeak_voice.to_owned(), speed_wpm: 150 }
    }

    /// The cache key of `phrase` said by this voice: hex SHA-256 of voice, speed and phrase.
    pub fn cache_key(&self, phrase: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(CACHE_VERSION);
        // The voice name's length keeps ("es", "1 …") and ("es 1", "…") apart.
        hasher.update((self.espeak_voice.len() as u64).to_le_bytes());
        hasher.update(self.espeak_voice.as_bytes());
        hasher.update(self.speed_wpm.to_le_bytes());
        hasher.update(phrase.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// True for what [`Voice::cache_key`] makes: 64 lowercase hex digits. Anything else (a path, "..")
/// must never reach the file system.
pub fn is_cache_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A call ready to play: chime and phrase in one WAV file in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAudio {
    /// Hex SHA-256; the edge serves the file as `/audio/{key}.wav`.
    pub key: String,
    pub path: PathBuf,
    /// The sentence spoken, equal to what the page would say itself.
    pub phrase: String,
}

/// Makes call audio with espeak-ng and caches it on disk. Share it behind an `Arc`.
#[derive(Debug)]
pub struct SpeechEngine {
    cache_dir: PathBuf,
    program: Option<PathBuf>,
    es: Voice,
    en: Voice,
    timeout: Duration,
    /// One lock per phrase being made. Weak, so a finished phrase's lock goes away with its last
    /// waiter; dead entries are swept when a new one is added.
    in_flight: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
}

impl SpeechEngine {
    /// An engine using espeak-ng from `PATH`, or the program named by `FILA_ESPEAK` (a path or a
    /// name looked up in `PATH`; empty, "off" or "none" turn speech synthesis off). `cache_dir`
    /// is created on first use.
    pub fn new(cache_dir: PathBuf) -> SpeechEngine {
        let program = match std::env::var_os("FILA_ESPEAK") {
            Some(value) if value.is_empty() || value == "off" || value == "none" => None,
            Some(value) => find_program(Path::new(&value)),
            None => find_program(Path::new("espeak-ng")),
        };
        match &program {
            Some(program) => tracing::info!(program = %program.display(), "spoken calls use espeak-ng"),
            None => tracing::info!("espeak-ng not found: the waiting-room page will speak calls itself"),
        }
        SpeechEngine::with_program(cache_dir, program)
    }

    /// An engine running `program` as if it were espeak-ng (tests use a script), or none at all.
    pub fn with_program(cache_dir: PathBuf, program: Option<PathBuf>) -> SpeechEngine {
        SpeechEngine {
            cache_dir,
            program,
            es: Voice::default_for(Lang::Es),
            en: Voice::default_for(Lang::En),
            timeout: ENGINE_TIMEOUT_DEFAULT,
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    /// Uses `voice` for its language.
    pub fn with_voice(mut self, voice: Voice) -> SpeechEngine {
        match voice.lang {
            Lang::Es => self.es = voice,
            Lang::En => self.en = voice,
        }
        self
    }

    /// How long one run of the engine may take before it is killed.
    pub fn with_timeout(mut self, timeout: Duration) -> SpeechEngine {
        self.timeout = timeout;
        self
    }

    /// True when there is an engine; otherwise [`SpeechEngine::call_audio`] answers `None`.
    pub fn available(&self) -> bool {
        self.program.is_some()
    }

    pub fn program(&self) -> Option<&Path> {
        self.program.as_deref()
    }

    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    pub fn voice(&self, lang: Lang) -> &Voice {
        match lang {
            Lang::Es => &self.es,
            Lang::En => &self.en,
        }
    }

    /// The chime followed by the spoken call of `ticket` at `counter`, as one cached WAV file.
    /// `None` when there is no engine: the page then speaks [`call_phrase`] with the browser.
    pub async fn call_audio(&self, lang: Lang, ticket: &str, counter: &str) -> Result<Option<CallAudio>, SpeechError> {
        let Some(program) = &self.program else {
            return Ok(None);
        };
        let voice = self.voice(lang);
        let phrase = call_phrase(lang, ticket, counter);
        let key = voice.cache_key(&phrase);
        let path = self.cache_dir.join(format!("{key}.wav"));
        let audio = CallAudio { key, path, phrase };
        if is_file(&audio.path).await {
            tracing::debug!(key = %audio.key, "call audio served from cache");
            return Ok(Some(audio));
        }

        let lock = self.phrase_lock(&audio.key);
        let _making = lock.lock().await;
        // Whoever held the lock before us may have made it.
        if is_file(&audio.path).await {
            tracing::debug!(key = %audio.key, "call audio made by a concurrent call");
            return Ok(Some(audio));
        }
        tokio::fs::create_dir_all(&self.cache_dir)
            .await
            .map_err(|source| SpeechError::Cache { path: self.cache_dir.clone(), source })?;
        let started = Instant::now();
        let speech = self.speak(program, voice, &audio).await?;
        let format = parse_wav(&speech, 1)
            .map_err(|error| SpeechError::EngineOutput { program: program.clone(), reason: error.to_string() })?
            .format;
        let joined = concat_wav(&[&chime_wav(format.sample_rate), &speech])
            .map_err(|error| SpeechError::EngineOutput { program: program.clone(), reason: error.to_string() })?;
        let temp = self.temp_path(&audio.key, "tmp");
        let written = match tokio::fs::write(&temp, &joined).await {
            Ok(()) => tokio::fs::rename(&temp, &audio.path).await,
            Err(error) => Err(error),
        };
        if let Err(source) = written {
            remove_quietly(&temp).await;
            return Err(SpeechError::Cache { path: audio.path.clone(), source });
        }
        tracing::info!(
            key = %audio.key,
            voice = %voice.espeak_voice,
            elapsed_ms = started.elapsed().as_millis() as u64,
            bytes = joined.len(),
            "call audio made"
        );
        Ok(Some(audio))
    }

    /// The cached file for `key`, if there is one. Keys other than 64 lowercase hex digits are
    /// refused, so a request path such as "../etc/passwd" never reaches the file system.
    pub fn cached(&self, key: &str) -> Option<PathBuf> {
        if !is_cache_key(key) {
            return None;
        }
        let path = self.cache_dir.join(format!("{key}.wav"));
        path.is_file().then_some(path)
    }

    /// Runs the engine once and returns the WAV it wrote.
    async fn speak(&self, program: &Path, voice: &Voice, audio: &CallAudio) -> Result<Vec<u8>, SpeechError> {
        let out = self.temp_path(&audio.key, "espeak.wav");
        // Control characters could only come from a mistyped counter name; a NUL would stop the
        // spawn itself. The phrase always starts with a word, so it cannot pass for an option, and
        // "--" makes sure of it.
        let text: String = audio.phrase.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let mut command = Command::new(program);
        command
            .arg("-v")
            .arg(&voice.espeak_voice)
            .arg("-s")
            .arg(voice.speed_wpm.to_string())
            .arg("-w")
            .arg(&out)
            .arg("--")
            .arg(&text)
            .stdin(std::process::Stdio::null())
            // The audio goes to the file; nothing on stdout is read.
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            // Dropping the wait on timeout kills it.
            .kill_on_drop(true);
        let result = self.run(program, command, &out).await;
        remove_quietly(&out).await;
        result
    }

    async fn run(&self, program: &Path, mut command: Command, out: &Path) -> Result<Vec<u8>, SpeechError> {
        let child =
            command.spawn().map_err(|source| SpeechError::EngineStart { program: program.to_owned(), source })?;
        let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(source)) => return Err(SpeechError::EngineStart { program: program.to_owned(), source }),
            Err(_) => {
                tracing::warn!(program = %program.display(), timeout = ?self.timeout, "speech engine hung; killed");
                return Err(SpeechError::EngineTimedOut { program: program.to_owned(), timeout: self.timeout });
            }
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let stderr: String = stderr.trim().chars().take(STDERR_KEPT_MAX).collect();
            tracing::warn!(program = %program.display(), status = %output.status, %stderr, "speech engine failed");
            return Err(SpeechError::EngineFailed {
                program: program.to_owned(),
                status: output.status.to_string(),
                stderr,
            });
        }
        tokio::fs::read(out).await.map_err(|error| SpeechError::EngineOutput {
            program: program.to_owned(),
            reason: format!("cannot read {}: {error}", out.display()),
        })
    }

    /// A hidden name in the cache directory that no other task or process uses and that
    /// [`is_cache_key`] would never let [`SpeechEngine::cached`] serve.
    fn temp_path(&self, key: &str, suffix: &str) -> PathBuf {
        let sequence = TEMP_SEQUENCE.fetch_add(1, Ordering::Relaxed);
        self.cache_dir.join(format!(".{key}.{}.{sequence}.{suffix}", std::process::id()))
    }

    fn phrase_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        // The map is only touched briefly here, so a panic while it was held is a bug elsewhere
        // and its contents are still consistent: recover rather than poison every later call.
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(lock) = in_flight.get(key).and_then(Weak::upgrade) {
            return lock;
        }
        in_flight.retain(|_, lock| lock.strong_count() > 0);
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        in_flight.insert(key.to_owned(), Arc::downgrade(&lock));
        lock
    }
}

async fn is_file(path: &Path) -> bool {
    tokio::fs::metadata(path).await.map(|metadata| metadata.is_file()).unwrap_or(false)
}

async fn remove_quietly(path: &Path) {
    // Best effort: a leftover temporary file is hidden and never served.
    if let Err(error) = tokio::fs::remove_file(path).await {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), %error, "could not remove a temporary audio file");
        }
    }
}

/// `name` if it is a path to a file, else the first executable of that name in `PATH`.
fn find_program(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        return name.is_file().then(|| name.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|metadata| metadata.is_file() && metadata.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_are_64_lowercase_hex_digits() {
        let key = Voice::default_for(Lang::Es).cache_key("Turno A uno, puesto dos");
        assert!(is_cache_key(&key), "{key}");
        assert!(!is_cache_key(&key.to_uppercase()));
        assert!(!is_cache_key("../etc/passwd"));
        assert!(!is_cache_key(&format!("{}/x", &key[..62])));
        assert!(!is_cache_key(""));
    }

    #[test]
    fn voice_and_speed_change_the_key() {
        let es = Voice::default_for(Lang::Es);
        let phrase = "Turno A uno, puesto dos";
        let faster = Voice { speed_wpm: 175, ..es.clone() };
        let spain = Voice { espeak_voice: "es".to_owned(), ..es.clone() };
        assert_ne!(es.cache_key(phrase), faster.cache_key(phrase));
        assert_ne!(es.cache_key(phrase), spain.cache_key(phrase));
        assert_eq!(es.cache_key(phrase), Voice::default_for(Lang::Es).cache_key(phrase));
    }
}
