//! Spoken calls as the waiting room hears them: the sentence (checked against the browser's own
//! i18n.js under node), the WAV file espeak-ng makes, and the cache in front of it.

mod tools;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fila_devices::speech::{
    call_phrase, chime_wav, concat_wav, number_words, parse_wav, SpeechEngine, SpeechError, WavFormat,
    CHIME_DURATION_MS, GAP_DURATION_MS,
};
use fila_devices::Lang;
use proptest::prelude::*;

fn check_phrase(ticket: &str, counter: &str, es: &str, en: &str) {
    assert_eq!(call_phrase(Lang::Es, ticket, counter), es, "Spanish call of {ticket:?} at {counter:?}");
    assert_eq!(call_phrase(Lang::En, ticket, counter), en, "English call of {ticket:?} at {counter:?}");
}

// ---- the sentence ----

#[test]
fn a_call_says_ticket_and_counter_as_people_do() {
    check_phrase("A-023", "4", "Turno A cero veintitrés, puesto cuatro", "Ticket A twenty-three, counter four");
    check_phrase("A-100", "1", "Turno A cien, puesto uno", "Ticket A one hundred, counter one");
    check_phrase("A-101", "2", "Turno A ciento uno, puesto dos", "Ticket A one hundred one, counter two");
    check_phrase("A-000", "3", "Turno A cero cero cero, puesto tres", "Ticket A zero, counter three");
    check_phrase("AB-007", "10", "Turno A B cero cero siete, puesto diez", "Ticket A B seven, counter ten");
    check_phrase("A-021", "21", "Turno A cero veintiuno, puesto veintiuno", "Ticket A twenty-one, counter twenty-one");
    check_phrase(
        "A-031",
        "31",
        "Turno A cero treinta y uno, puesto treinta y uno",
        "Ticket A thirty-one, counter thirty-one",
    );
}

#[test]
fn a_named_counter_is_read_as_given() {
    check_phrase("B-015", "Caja rápida", "Turno B cero quince, Caja rápida", "Ticket B fifteen, Caja rápida");
    check_phrase("B-015", "", "Turno B cero quince", "Ticket B fifteen");
}

#[test]
fn large_numbers_shorten_uno_before_mil() {
    assert_eq!(number_words(1000, Lang::Es), "mil");
    assert_eq!(number_words(1000, Lang::En), "one thousand");
    assert_eq!(number_words(21_000, Lang::Es), "veintiún mil");
    assert_eq!(number_words(21_000, Lang::En), "twenty-one thousand");
    assert_eq!(number_words(21, Lang::Es), "veintiuno");
    assert_eq!(number_words(31, Lang::Es), "treinta y uno");
    assert_eq!(number_words(1_000_000, Lang::Es), "1000000");
}

#[test]
fn every_number_up_to_999_has_its_own_words_in_both_languages() {
    for lang in [Lang::Es, Lang::En] {
        let mut seen = std::collections::HashSet::new();
        for n in 0..=999 {
            let words = number_words(n, lang);
            let allowed = |c: char| c.is_alphabetic() || c == ' ' || c == '-';
            assert!(!words.is_empty() && words.chars().all(allowed), "{lang:?} {n}: {words:?}");
            assert!(seen.insert(words.clone()), "{lang:?} {n}: {words:?} said twice");
        }
    }
}

// ---- the same sentence as the browser ----

/// Runs i18n.js under node on every case; `None` when node is not installed (outside CI).
fn browser_phrases(cases: &[(String, String, &str)]) -> Option<Vec<String>> {
    let version = Command::new("node").arg("--version").output();
    if !tools::available(version.is_ok(), "node", "apt-get install nodejs") {
        return None;
    }
    let version = version.ok()?;
    assert!(version.status.success(), "node --version failed");
    let i18n = Path::new(env!("CARGO_MANIFEST_DIR")).join("../edge/pages/i18n.js");
    assert!(i18n.is_file(), "{} is missing", i18n.display());
    let script = r#"
        const i18n = require(process.argv[1]);
        let input = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', (chunk) => { input += chunk; });
        process.stdin.on('end', () => {
          const cases = JSON.parse(input);
          const out = cases.map(([ticket, counter, lang]) => i18n.spokenCall(ticket, counter, lang));
          process.stdout.write(JSON.stringify(out));
        });
    "#;
    let mut child = Command::new("node")
        .arg("-e")
        .arg(script)
        .arg(&i18n)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    let input = serde_json::to_vec(cases).expect("cases serialize");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Written from a thread so a large input cannot deadlock against node's output.
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
    let output = child.wait_with_output().expect("node runs");
    writer.join().expect("writer thread").expect("node reads its input");
    assert!(output.status.success(), "node failed: {}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).expect("node prints a JSON array"))
}

/// A deterministic generator of awkward strings, so a failure replays.
fn awkward_strings(count: usize) -> Vec<String> {
    const PIECES: [&str; 24] = [
        "A", "b", "Z", "Ñ", "-", "--", " ", "\u{a0}", "\u{3000}", "\u{feff}", "\u{85}", "\t", "0", "1", "7", "00",
        "21", "٣", "é", "Caja", "$1", "{ticket}", "999999", "1000000",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..count).map(|_| (0..next() % 5).map(|_| PIECES[next() % PIECES.len()]).collect()).collect()
}

#[test]
fn every_call_is_worded_exactly_as_the_browser_would_say_it() {
    let mut cases: Vec<(String, String, &str)> = Vec::new();
    for lang in ["es", "en"] {
        for n in 0..=999 {
            cases.push((format!("A-{n:03}"), "4".to_owned(), lang));
            cases.push((format!("{n}"), format!("{n}"), lang));
        }
        for n in (1000..=1_000_100).step_by(997) {
            cases.push((format!("C{n}"), format!("{n}"), lang));
        }
        let tickets = [
            "A-023",
            "ab 7",
            "AB-007",
            " a - 5 ",
            "A--1",
            "A-",
            "-1",
            "Ñ-1",
            "A-٣",
            "",
            "   ",
            "\u{feff}A-1\u{85}",
            "A\u{a0}-\u{3000}7",
            "0001234567",
            "A-12345678901234567890",
            "A-9007199254740993",
            "1234567890123456789012",
            "A-0000000000000000000000001",
        ];
        let huge = format!("A-{}", "9".repeat(400));
        let counters = [
            "4",
            "0",
            "007",
            "21000",
            "999999",
            "1000000",
            "Caja rápida",
            "",
            "  ",
            " 5 ",
            "99999999999999999999999",
            "Puesto {counter}",
        ];
        for ticket in tickets.iter().copied().chain([huge.as_str()]) {
            for counter in counters {
                cases.push((ticket.to_owned(), counter.to_owned(), lang));
            }
        }
        let awkward = awkward_strings(2_000);
        for pair in awkward.chunks(2) {
            cases.push((pair[0].clone(), pair[pair.len() - 1].clone(), lang));
        }
    }
    let Some(browser) = browser_phrases(&cases) else { return };
    assert_eq!(browser.len(), cases.len());
    let mut mismatches = Vec::new();
    for ((ticket, counter, lang), expected) in cases.iter().zip(&browser) {
        let lang_value = if *lang == "es" { Lang::Es } else { Lang::En };
        let ours = call_phrase(lang_value, ticket, counter);
        if &ours != expected {
            mismatches.push(format!("{lang} {ticket:?} at {counter:?}: browser {expected:?}, fila {ours:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{} of {} differ:\n{}", mismatches.len(), cases.len(), mismatches.join("\n"));
}

// ---- the audio file ----

fn mono_16(sample_rate: u32) -> WavFormat {
    WavFormat { channels: 1, sample_rate, bits_per_sample: 16 }
}

fn chime_duration() -> Duration {
    Duration::from_millis(u64::from(CHIME_DURATION_MS))
}

#[test]
fn the_chime_is_a_900_ms_mono_16_bit_wav() {
    let bytes = chime_wav(22_050);
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..16], b"WAVEfmt ");
    let wav = parse_wav(&bytes, 0).expect("the chime parses");
    assert_eq!(wav.format, mono_16(22_050));
    assert_eq!(wav.data.len(), 22_050 * 9 / 10 * 2);
    assert_eq!(wav.duration(), chime_duration());
}

#[test]
fn joined_parts_are_separated_by_silence() {
    let chime = chime_wav(22_050);
    let joined = concat_wav(&[&chime, &chime]).expect("same formats join");
    let wav = parse_wav(&joined, 0).expect("the result parses");
    assert_eq!(wav.format, mono_16(22_050));
    assert_eq!(wav.duration(), chime_duration() * 2 + Duration::from_millis(u64::from(GAP_DURATION_MS)));
}

#[test]
fn joining_different_formats_is_an_error() {
    let (slow, fast) = (chime_wav(22_050), chime_wav(44_100));
    match concat_wav(&[&slow, &fast]) {
        Err(SpeechError::FormatMismatch { part: 1, expected, found }) => {
            assert_eq!((expected, found), (mono_16(22_050), mono_16(44_100)));
        }
        other => panic!("expected a format mismatch, got {other:?}"),
    }
    assert!(matches!(concat_wav(&[&slow, b"RIFF"]), Err(SpeechError::MalformedWav { part: 1, .. })));
    assert!(matches!(concat_wav(&[]), Err(SpeechError::NothingToConcat)));
}

// ---- the engine and its cache ----

/// Writes an executable shell script standing in for espeak-ng. It logs each run's arguments
/// (one per line, then a blank line) to `runs.log`, runs `body`, and knows its output path as `$out`.
#[cfg(unix)]
fn fake_engine(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join("runs.log");
    let script = format!(
        "#!/bin/sh\nfor arg in \"$@\"; do printf '%s\\n' \"$arg\"; done >> '{log}'\necho >> '{log}'\n\
         out=''\nwhile [ $# -gt 0 ]; do if [ \"$1\" = -w ]; then out=\"$2\"; fi; shift; done\n{body}\n",
        log = log.display()
    );
    let path = dir.join("fake-espeak");
    std::fs::write(&path, script).expect("script written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("script made executable");
    path
}

/// A fake engine that answers, after a moment, with a 22050 Hz speech stand-in.
#[cfg(unix)]
fn working_fake_engine(dir: &Path) -> PathBuf {
    let speech = dir.join("speech.wav");
    std::fs::write(&speech, chime_wav(22_050)).expect("fixture written");
    fake_engine(dir, &format!("sleep 0.2\ncp '{}' \"$out\"", speech.display()))
}

/// The argument lists of every run of the fake engine so far.
fn runs(dir: &Path) -> Vec<Vec<String>> {
    let log = std::fs::read_to_string(dir.join("runs.log")).unwrap_or_default();
    log.split("\n\n").filter(|run| !run.is_empty()).map(|run| run.lines().map(str::to_owned).collect()).collect()
}

fn files_in(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            entries.map(|entry| entry.expect("dir entry").file_name().to_string_lossy().into_owned()).collect()
        }
        Err(_) => Vec::new(),
    }
}

fn check_call_wav(path: &Path) -> Duration {
    let bytes = std::fs::read(path).expect("call audio is on disk");
    let wav = parse_wav(&bytes, 0).expect("call audio is a WAV file");
    assert_eq!(wav.format, mono_16(22_050));
    assert!(wav.duration() > chime_duration() + Duration::from_millis(u64::from(GAP_DURATION_MS)));
    wav.duration()
}

#[tokio::test]
async fn espeak_ng_says_the_call_after_the_chime() {
    let cache = tempfile::tempdir().expect("temp dir");
    let engine = SpeechEngine::new(cache.path().join("audio"));
    if !tools::available(engine.available(), "espeak-ng", "apt-get install espeak-ng") {
        return;
    }
    for lang in [Lang::Es, Lang::En] {
        let audio = engine.call_audio(lang, "A-023", "4").await.expect("espeak-ng speaks").expect("engine present");
        assert_eq!(audio.phrase, call_phrase(lang, "A-023", "4"));
        assert_eq!(audio.path, cache.path().join("audio").join(format!("{}.wav", audio.key)));
        let duration = check_call_wav(&audio.path);
        // The phrase takes espeak-ng about two seconds at 150 words per minute.
        assert!(duration > chime_duration() + Duration::from_secs(1), "{lang:?}: only {duration:?}");
        assert_eq!(engine.cached(&audio.key), Some(audio.path.clone()));
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_phrase_is_synthesized_once_even_when_eight_displays_ask_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = Arc::new(SpeechEngine::with_program(dir.path().join("cache"), Some(working_fake_engine(dir.path()))));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let engine = Arc::clone(&engine);
            tokio::spawn(async move { engine.call_audio(Lang::Es, "A-023", "4").await })
        })
        .collect();
    let mut keys = Vec::new();
    for call in calls {
        let audio = call.await.expect("task").expect("audio made").expect("engine present");
        keys.push(audio.key);
    }
    assert!(keys.windows(2).all(|pair| pair[0] == pair[1]), "one phrase, one key: {keys:?}");
    assert_eq!(runs(dir.path()).len(), 1, "the engine ran once for eight concurrent first calls");

    let again = engine.call_audio(Lang::Es, "A-023", "4").await.expect("cached").expect("engine present");
    assert_eq!(runs(dir.path()).len(), 1, "a recall is served from the cache");
    check_call_wav(&again.path);
    assert_eq!(files_in(&dir.path().join("cache")), vec![format!("{}.wav", again.key)], "no temporary files left");

    let other = engine.call_audio(Lang::En, "A-023", "4").await.expect("made").expect("engine present");
    assert_ne!(other.key, again.key);
    assert_eq!(runs(dir.path()).len(), 2, "another phrase runs the engine again");
}

#[cfg(unix)]
#[tokio::test]
async fn the_engine_gets_voice_speed_and_the_phrase_as_one_argument() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = SpeechEngine::with_program(dir.path().join("cache"), Some(working_fake_engine(dir.path())));
    let counter = "Caja \"; touch pwned; echo $(id) `id`";
    let audio = engine.call_audio(Lang::Es, "A-1", counter).await.expect("made").expect("engine present");
    assert_eq!(audio.phrase, format!("Turno A uno, {counter}"));
    let runs = runs(dir.path());
    let args = &runs[0];
    assert_eq!(&args[0..4], ["-v", "es-419", "-s", "150"]);
    assert_eq!(args[4], "-w");
    assert_eq!(&args[6..], ["--".to_owned(), audio.phrase.clone()]);
    assert!(!dir.path().join("pwned").exists() && !Path::new("pwned").exists(), "no shell ran the phrase");
}

#[cfg(unix)]
#[tokio::test]
async fn a_failing_engine_is_a_clear_error_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let program = fake_engine(
        dir.path(),
        "printf 'RIFF partial' > \"$out\"\necho \"espeak-ng: voice 'es-419' not found\" >&2\nexit 1",
    );
    let cache = dir.path().join("cache");
    let engine = SpeechEngine::with_program(cache.clone(), Some(program.clone()));
    let error = engine.call_audio(Lang::Es, "A-023", "4").await.expect_err("the engine failed");
    let message = error.to_string();
    assert!(matches!(error, SpeechError::EngineFailed { .. }), "{error:?}");
    assert!(message.contains(&program.display().to_string()), "names the program: {message}");
    assert!(message.contains("voice 'es-419' not found"), "carries stderr: {message}");
    assert_eq!(files_in(&cache), Vec::<String>::new(), "no partial file");
}

#[cfg(unix)]
#[tokio::test]
async fn an_engine_writing_garbage_is_an_error_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = SpeechEngine::with_program(
        dir.path().join("cache"),
        Some(fake_engine(dir.path(), "printf 'not a wav file' > \"$out\"")),
    );
    let error = engine.call_audio(Lang::Es, "A-023", "4").await.expect_err("garbage is refused");
    assert!(matches!(error, SpeechError::EngineOutput { .. }), "{error:?}");
    assert_eq!(files_in(&dir.path().join("cache")), Vec::<String>::new());
}

#[cfg(unix)]
#[tokio::test]
async fn a_hung_engine_is_killed_after_the_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = SpeechEngine::with_program(dir.path().join("cache"), Some(fake_engine(dir.path(), "exec sleep 30")))
        .with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = engine.call_audio(Lang::Es, "A-023", "4").await.expect_err("the engine hung");
    assert!(matches!(error, SpeechError::EngineTimedOut { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "gave up after {:?}", started.elapsed());
    assert_eq!(files_in(&dir.path().join("cache")), Vec::<String>::new());
}

#[tokio::test]
async fn without_an_engine_the_page_speaks_for_itself() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = SpeechEngine::with_program(dir.path().join("cache"), None);
    assert!(!engine.available());
    assert_eq!(engine.call_audio(Lang::Es, "A-023", "4").await.expect("no error"), None);
    assert!(!dir.path().join("cache").exists(), "nothing written");
}

#[test]
fn cached_audio_is_found_only_by_a_well_formed_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).expect("cache dir");
    let key = "0123456789abcdef".repeat(4);
    std::fs::write(cache.join(format!("{key}.wav")), chime_wav(22_050)).expect("file written");
    std::fs::write(dir.path().join("secret.wav"), b"secret").expect("file written");
    let engine = SpeechEngine::with_program(cache.clone(), None);
    assert_eq!(engine.cached(&key), Some(cache.join(format!("{key}.wav"))));
    for bad in ["../etc/passwd", "../secret", "/etc/passwd", "", &key.to_uppercase(), &format!("{key}.wav"), &key[..63]]
    {
        assert_eq!(engine.cached(bad), None, "{bad:?}");
    }
    assert_eq!(engine.cached(&"f".repeat(64)), None, "an unknown key");
}

// ---- no input makes it panic ----

proptest! {
    #[test]
    fn concat_never_panics_on_arbitrary_bytes(parts in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..4)) {
        let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let _ = concat_wav(&parts);
    }

    #[test]
    fn concat_never_panics_on_damaged_wav_files(
        damage in prop::collection::vec((0usize..200, any::<u8>()), 0..8),
        cut in 0usize..300,
    ) {
        let mut damaged = chime_wav(8_000);
        damaged.truncate(cut.max(12) + 44);
        for (at, byte) in damage {
            if let Some(slot) = damaged.get_mut(at % 60) {
                *slot = byte;
            }
        }
        let chime = chime_wav(8_000);
        let _ = concat_wav(&[&chime, &damaged]);
        let _ = concat_wav(&[&damaged, &chime]);
    }

    #[test]
    fn call_phrase_never_panics(ticket in any::<String>(), counter in any::<String>()) {
        for lang in [Lang::Es, Lang::En] {
            let phrase = call_phrase(lang, &ticket, &counter);
            prop_assert!(phrase.starts_with("Turno") || phrase.starts_with("Ticket"));
        }
    }

    #[test]
    fn number_words_never_panics(n in any::<u32>()) {
        for lang in [Lang::Es, Lang::En] {
            prop_assert!(!number_words(n, lang).is_empty());
        }
    }
}
