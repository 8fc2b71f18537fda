//! Signage media checked by what they contain, never by their name or the type a browser claims:
//! the type from its magic bytes, an image's dimensions from its header (so a file that would
//! decompress to a huge bitmap is refused before anything decodes it), a video's codec,
//! dimensions and duration from its container, and size caps. Central checks every upload with
//! [`inspect`]; nothing here decodes pixels or frames.
//!
//! Reading is bounded: every length read from a file is checked against the file's size, nesting
//! is limited, and a damaged or cut file is a [`MediaProblem`], never a panic.

mod image;
mod mp4;
mod read;
mod webm;

use std::fmt;
use std::io::{Read, Seek, SeekFrom};

use serde::{Deserialize, Serialize};

/// What signage can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Png,
    Jpeg,
    Webp,
    /// MP4 with H.264 video: what every screen's browser plays.
    Mp4,
    /// WebM with VP8, VP9 or AV1 video.
    Webm,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Png => "png",
            MediaKind::Jpeg => "jpeg",
            MediaKind::Webp => "webp",
            MediaKind::Mp4 => "mp4",
            MediaKind::Webm => "webm",
        }
    }

    /// The `Content-Type` it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            MediaKind::Png => "image/png",
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::Webp => "image/webp",
            MediaKind::Mp4 => "video/mp4",
            MediaKind::Webm => "video/webm",
        }
    }

    pub fn is_video(self) -> bool {
        matches!(self, MediaKind::Mp4 | MediaKind::Webm)
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MediaKind::Png => "PNG",
            MediaKind::Jpeg => "JPEG",
            MediaKind::Webp => "WebP",
            MediaKind::Mp4 => "MP4",
            MediaKind::Webm => "WebM",
        })
    }
}

/// What a checked file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub kind: MediaKind,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    /// A video's length; none for images.
    pub duration_ms: Option<u64>,
}

/// The caps a file must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub image_bytes_max: u64,
    pub video_bytes_max: u64,
    /// Width × height an image may decode to: a screen needs no more, and a few kilobytes of
    /// PNG can claim gigabytes of bitmap.
    pub pixels_max: u64,
    /// Either side of an image or a video.
    pub side_max: u32,
    pub duration_max_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            image_bytes_max: 20 << 20,
            video_bytes_max: 500 << 20,
            // An 8K frame and a little more: 7680 × 4320 is 33 megapixels.
            pixels_max: 40_000_000,
            side_max: 8192,
            duration_max_ms: 30 * 60 * 1000,
        }
    }
}

/// Why a file is refused, in words for the administrator who uploaded it.
#[derive(Debug, thiserror::Error)]
pub enum MediaProblem {
    #[error("the file is empty")]
    Empty,
    #[error("not a file signage can show: PNG, JPEG, WebP, MP4 (H.264) or WebM")]
    UnknownType,
    #[error("{kind} files may be at most {max} bytes; this one has {bytes}")]
    TooLarge { kind: MediaKind, bytes: u64, max: u64 },
    #[error("the image is {width}×{height}, which decodes to more than {max} pixels")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the {kind} is {width}×{height}; neither side may exceed {max}")]
    TooWide { kind: MediaKind, width: u32, height: u32, max: u32 },
    #[error("the video lasts {seconds} s; at most {max_seconds} s")]
    TooLong { seconds: u64, max_seconds: u64 },
    #[error("the {kind} file has no video track")]
    NoVideo { kind: MediaKind },
    #[error("the {kind} file's video is {codec}; screens play {wanted}")]
    Codec { kind: MediaKind, codec: String, wanted: &'static str },
    #[error("the {kind} file is damaged or cut short ({why})")]
    Malformed { kind: MediaKind, why: String },
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
}

impl MediaProblem {
    /// A stable code for an API's error body.
    pub fn code(&self) -> &'static str {
        match self {
            MediaProblem::Empty | MediaProblem::UnknownType => "unsupported_type",
            MediaProblem::TooLarge { .. } => "too_large",
            MediaProblem::TooManyPixels { .. } | MediaProblem::TooWide { .. } => "too_many_pixels",
            MediaProblem::TooLong { .. } => "too_long",
            MediaProblem::NoVideo { .. } | MediaProblem::Codec { .. } => "unsupported_codec",
            MediaProblem::Malformed { .. } | MediaProblem::Io(_) => "malformed",
        }
    }
}

/// What `file` is, if signage may show it under `limits`.
pub fn inspect<R: Read + Seek>(file: &mut R, limits: &Limits) -> Result<MediaInfo, MediaProblem> {
    let bytes = file.seek(SeekFrom::End(0))?;
    if bytes == 0 {
        return Err(MediaProblem::Empty);
    }
    let mut head = [0u8; 16];
    let got = read::at_most(file, 0, &mut head)?;
    let kind = sniff(&head[..got]).ok_or(MediaProblem::UnknownType)?;
    let max = if kind.is_video() { limits.video_bytes_max } else { limits.image_bytes_max };
    if bytes > max {
        return Err(MediaProblem::TooLarge { kind, bytes, max });
    }
    let mut source = read::Source { file, len: bytes, kind };
    let (width, height, duration_ms) = match kind {
        MediaKind::Png => image::png(&mut source).map(|(w, h)| (w, h, None))?,
        MediaKind::Jpeg => image::jpeg(&mut source).map(|(w, h)| (w, h, None))?,
        MediaKind::Webp => image::webp(&mut source).map(|(w, h)| (w, h, None))?,
        MediaKind::Mp4 => mp4::video(&mut source).map(|v| (v.width, v.height, Some(v.duration_ms)))?,
        MediaKind::Webm => webm::video(&mut source).map(|v| (v.width, v.height, Some(v.duration_ms)))?,
    };
    if width == 0 || height == 0 {
        return Err(MediaProblem::Malformed { kind, why: "no dimensions".into() });
    }
    if width > limits.side_max || height > limits.side_max {
        return Err(MediaProblem::TooWide { kind, width, height, max: limits.side_max });
    }
    if !kind.is_video() && u64::from(width) * u64::from(height) > limits.pixels_max {
        return Err(MediaProblem::TooManyPixels { width, height, max: limits.pixels_max });
    }
    if let Some(ms) = duration_ms.filter(|ms| *ms > limits.duration_max_ms) {
        return Err(MediaProblem::TooLong { seconds: ms / 1000, max_seconds: limits.duration_max_ms / 1000 });
    }
    Ok(MediaInfo { kind, bytes, width, height, duration_ms })
}

/// The type by its first bytes.
fn sniff(head: &[u8]) -> Option<MediaKind> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(MediaKind::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaKind::Jpeg)
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(MediaKind::Webp)
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        Some(MediaKind::Mp4)
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(MediaKind::Webm)
    } else {
        None
    }
}
