//! WAV files: the call chime, and joining the chime and the spoken phrase into one file.
//!
//! Hand-written rather than a crate (hound) because only canonical PCM is needed and the parser
//! must survive any bytes: espeak-ng's output is read back from disk, and a damaged cache file or
//! a misbehaving engine must give an error, never a panic.

use std::f64::consts::TAU;
use std::fmt;

use super::SpeechError;

/// Length of [`chime_wav`].
pub const CHIME_DURATION_MS: u32 = 900;

/// Silence [`concat_wav`] puts between parts, so the phrase does not start on the chime's tail.
pub const GAP_DURATION_MS: u32 = 300;

/// Sample rates [`chime_wav`] accepts; others are clamped into this range.
pub const CHIME_SAMPLE_RATE_MIN: u32 = 8_000;
pub const CHIME_SAMPLE_RATE_MAX: u32 = 192_000;

/// The highest sample rate [`parse_wav`] accepts.
pub const SAMPLE_RATE_MAX: u32 = 768_000;

const FORMAT_PCM: u16 = 1;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;
const HEADER_LEN: usize = 44;

/// The sample format of a PCM WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavFormat {
    pub channels: u16,
    pub sample_rate: u32,
    pub bits_per_sample: u16,
}

impl WavFormat {
    /// Bytes per frame (one sample of every channel).
    pub fn block_align(self) -> u16 {
        self.channels.saturating_mul(self.bits_per_sample / 8)
    }

    /// Whole frames making `ms` milliseconds.
    fn frames_in(self, ms: u32) -> u64 {
        u64::from(self.sample_rate) * u64::from(ms) / 1000
    }
}

impl fmt::Display for WavFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Hz, {} channel(s), {}-bit PCM", self.sample_rate, self.channels, self.bits_per_sample)
    }
}

/// A parsed WAV file: its format and the bytes of its `data` chunk (whole frames only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wav<'a> {
    pub format: WavFormat,
    pub data: &'a [u8],
}

impl Wav<'_> {
    /// Play time of the samples.
    pub fn duration(&self) -> std::time::Duration {
        let frames = self.data.len() as u64 / u64::from(self.format.block_align().max(1));
        std::time::Duration::from_secs_f64(frames as f64 / f64::from(self.format.sample_rate.max(1)))
    }
}

/// Reads a RIFF/WAVE file of integer PCM (8, 16, 24 or 32 bits). `part` numbers the file in error
/// messages. A `data` chunk declared longer than the file is cut to what is there: streaming
/// writers (espeak-ng `--stdout`, sox to a pipe) cannot know the length when writing the header.
pub fn parse_wav(bytes: &[u8], part: usize) -> Result<Wav<'_>, SpeechError> {
    let malformed = |reason: &str| SpeechError::MalformedWav { part, reason: reason.to_owned() };
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(malformed("not a RIFF/WAVE file"));
    }
    let mut format = None;
    let mut position: usize = 12;
    while let Some(header) = position.checked_add(8).and_then(|end| bytes.get(position..end)) {
        let id = &header[0..4];
        let declared = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let start = position + 8;
        let available = bytes.len() - start;
        match id {
            b"fmt " => {
                let chunk =
                    bytes.get(start..start.saturating_add(declared)).ok_or_else(|| malformed("fmt chunk cut short"))?;
                format = Some(parse_fmt(chunk).map_err(malformed)?);
            }
            b"data" => {
                let format = format.ok_or_else(|| malformed("data chunk before fmt chunk"))?;
                let len = declared.min(available);
                let whole = len - len % usize::from(format.block_align());
                return Ok(Wav { format, data: &bytes[start..start + whole] });
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        position = start.saturating_add(declared).saturating_add(declared & 1);
    }
    Err(malformed(if format.is_some() { "no data chunk" } else { "no fmt chunk" }))
}

fn parse_fmt(chunk: &[u8]) -> Result<WavFormat, &'static str> {
    if chunk.len() < 16 {
        return Err("fmt chunk shorter than 16 bytes");
    }
    let u16_at = |at: usize| u16::from_le_bytes([chunk[at], chunk[at + 1]]);
    let tag = u16_at(0);
    let is_pcm = match tag {
        FORMAT_PCM => true,
        // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its sub-format GUID.
        FORMAT_EXTENSIBLE => chunk.len() >= 26 && u16_at(24) == FORMAT_PCM,
        _ => false,
    };
    if !is_pcm {
        return Err("not integer PCM");
    }
    let format = WavFormat {
        channels: u16_at(2),
        sample_rate: u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]),
        bits_per_sample: u16_at(14),
    };
    if !matches!(format.bits_per_sample, 8 | 16 | 24 | 32) {
        return Err("bits per sample is not 8, 16, 24 or 32");
    }
    // Bounded so block_align cannot overflow a u16 and the duration is defined.
    if format.channels == 0 || format.channels > 64 {
        return Err("channel count is not between 1 and 64");
    }
    // Bounded so the silence between parts stays small whatever a header claims.
    if format.sample_rate == 0 || format.sample_rate > SAMPLE_RATE_MAX {
        return Err("sample rate is not between 1 Hz and 768 kHz");
    }
    Ok(format)
}

/// A canonical 44-byte header followed by `data`.
fn write_wav(format: WavFormat, data_len: usize) -> Result<Vec<u8>, SpeechError> {
    // RIFF sizes are 32-bit; the riff chunk also counts the 36 header bytes after its size field.
    let data_len_u32 =
        u32::try_from(data_len).ok().filter(|len| *len <= u32::MAX - 36).ok_or(SpeechError::WavTooLong)?;
    let block_align = format.block_align();
    let mut out = Vec::with_capacity(HEADER_LEN + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len_u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&FORMAT_PCM.to_le_bytes());
    out.extend_from_slice(&format.channels.to_le_bytes());
    out.extend_from_slice(&format.sample_rate.to_le_bytes());
    out.extend_from_slice(&(format.sample_rate.saturating_mul(u32::from(block_align))).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&format.bits_per_sample.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len_u32.to_le_bytes());
    Ok(out)
}

/// A two-tone "ding-dong" (E5 then C5, a falling major third like a doorbell) lasting
/// [`CHIME_DURATION_MS`], as a 16-bit PCM mono WAV. Each tone strikes with a 5 ms attack and rings
/// out with an exponential decay; a touch of the octave gives it a bell's colour. The last 30 ms
/// fade to silence so the file ends without a click.
pub fn chime_wav(sample_rate: u32) -> Vec<u8> {
    let format = WavFormat {
        channels: 1,
        sample_rate: sample_rate.clamp(CHIME_SAMPLE_RATE_MIN, CHIME_SAMPLE_RATE_MAX),
        bits_per_sample: 16,
    };
    let frames = format.frames_in(CHIME_DURATION_MS);
    let rate = f64::from(format.sample_rate);
    // The time of the last sample, which the fade-out brings to exactly zero.
    let last = frames.saturating_sub(1) as f64 / rate;
    let strike = |t: f64, start: f64, frequency: f64| -> f64 {
        let t = t - start;
        if t < 0.0 {
            return 0.0;
        }
        let attack = (t / 0.005).min(1.0);
        let decay = (-t * 4.0).exp();
        let wave = (TAU * frequency * t).sin() + 0.25 * (TAU * 2.0 * frequency * t).sin();
        attack * decay * wave
    };
    let mut samples = Vec::with_capacity(frames as usize * 2);
    for frame in 0..frames {
        let t = frame as f64 / rate;
        let fade_out = ((last - t) / 0.030).clamp(0.0, 1.0);
        let value = (strike(t, 0.0, 659.25) + strike(t, 0.35, 523.25)) * 0.3 * fade_out;
        // Peaks stay below 0.3 * 2 * 1.25 = 0.75, so the cast never saturates audibly.
        let sample = (value * f64::from(i16::MAX)).round() as i16;
        samples.extend_from_slice(&sample.to_le_bytes());
    }
    match write_wav(format, samples.len()) {
        Ok(mut out) => {
            out.extend_from_slice(&samples);
            out
        }
        // 0.9 s at the clamped rate is a few hundred kilobytes, far below the 4 GiB WAV limit.
        Err(_) => unreachable!("a chime of {frames} frames fits in a WAV file"),
    }
}

/// Joins WAV files of the same format into one, with [`GAP_DURATION_MS`] of silence between
/// parts. Every part is parsed (its `fmt` chunk, not just the header bytes); a part in another
/// format or a malformed one is an error naming the part, counted from 0.
pub fn concat_wav(parts: &[&[u8]]) -> Result<Vec<u8>, SpeechError> {
    let wavs = parts.iter().enumerate().map(|(part, bytes)| parse_wav(bytes, part)).collect::<Result<Vec<_>, _>>()?;
    let first = wavs.first().ok_or(SpeechError::NothingToConcat)?;
    let format = first.format;
    if let Some((part, other)) = wavs.iter().enumerate().find(|(_, wav)| wav.format != format) {
        return Err(SpeechError::FormatMismatch { part, expected: format, found: other.format });
    }
    let gap_len = usize::try_from(format.frames_in(GAP_DURATION_MS) * u64::from(format.block_align()))
        .map_err(|_| SpeechError::WavTooLong)?;
    let data_len = wavs
        .iter()
        .map(|wav| wav.data.len())
        .try_fold(gap_len.saturating_mul(wavs.len() - 1), usize::checked_add)
        .ok_or(SpeechError::WavTooLong)?;
    let mut out = write_wav(format, data_len)?;
    // Unsigned 8-bit PCM is silent at its midpoint; wider formats are signed and silent at zero.
    let silence = if format.bits_per_sample == 8 { 0x80 } else { 0 };
    for (index, wav) in wavs.iter().enumerate() {
        if index > 0 {
            out.resize(out.len() + gap_len, silence);
        }
        out.extend_from_slice(wav.data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_header(bytes: &[u8], format: WavFormat, data_len: usize) {
        let wav = parse_wav(bytes, 0).expect("our own output parses");
        assert_eq!(wav.format, format);
        assert_eq!(wav.data.len(), data_len);
        assert_eq!(bytes.len(), HEADER_LEN + data_len);
    }

    #[test]
    fn chime_is_mono_16_bit_and_lasts_900_ms() {
        let mono = |sample_rate| WavFormat { channels: 1, sample_rate, bits_per_sample: 16 };
        check_header(&chime_wav(22_050), mono(22_050), 19_845 * 2);
        check_header(&chime_wav(0), mono(8_000), 7_200 * 2);
        check_header(&chime_wav(u32::MAX), mono(192_000), 172_800 * 2);
    }

    #[test]
    fn chime_starts_and_ends_silent_and_is_loud_in_between() {
        let bytes = chime_wav(22_050);
        let data = parse_wav(&bytes, 0).expect("chime parses").data;
        let samples: Vec<i16> = data.chunks_exact(2).map(|s| i16::from_le_bytes([s[0], s[1]])).collect();
        assert_eq!(samples.first(), Some(&0));
        assert_eq!(samples.last(), Some(&0));
        let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!(peak > 10_000 && peak < 30_000, "peak {peak}");
    }

    #[test]
    fn streaming_header_with_unknown_length_is_cut_to_the_file() {
        let mut bytes = chime_wav(8_000);
        bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        bytes.push(0x7f); // half a frame: dropped
        assert_eq!(parse_wav(&bytes, 0).ok().map(|wav| wav.data.len()), Some(7_200 * 2));
    }
}
