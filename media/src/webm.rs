//! A WebM (Matroska) file's video: the EBML header's doc type, the segment's `Info` (timecode
//! scale and duration) and its video track (codec and pixel size). Elements are variable-length
//! IDs and sizes; clusters (the frames) are skipped, never read.

use std::io::{Read, Seek};

use crate::read::Source;
use crate::{MediaKind, MediaProblem};

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const TIMECODE_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const VIDEO: u32 = 0xE0;
const PIXEL_WIDTH: u32 = 0xB0;
const PIXEL_HEIGHT: u32 = 0xBA;
const CLUSTER: u32 = 0x1F43_B675;
/// Elements looked at in one master element before giving up.
const ELEMENTS_MAX: usize = 4096;

pub struct Video {
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
}

struct Element {
    id: u32,
    start: u64,
    end: u64,
}

/// A variable-length integer at `at`: its value (the length marker kept for IDs, dropped for
/// sizes), its length, and whether it is the reserved "unknown size".
fn vint<R: Read + Seek>(
    source: &mut Source<'_, R>,
    at: u64,
    keep_marker: bool,
) -> Result<(u64, u64, bool), MediaProblem> {
    let first = source.array::<1>(at)?[0];
    if first == 0 {
        return Err(source.malformed(format!("an element at byte {at} with no length marker")));
    }
    let len = u64::from(first.leading_zeros()) + 1;
    let rest = source.bytes(at + 1, len - 1)?;
    // The bits after the length marker (none left for an eight-byte integer).
    let after_marker = 0xFFu8.checked_shr(len as u32).unwrap_or(0);
    let marker_mask = if keep_marker { 0xFF } else { after_marker };
    let mut value = u64::from(first & marker_mask);
    let mut all_ones = (first | !after_marker) == 0xFF;
    for byte in rest {
        value = (value << 8) | u64::from(byte);
        all_ones &= byte == 0xFF;
    }
    Ok((value, len, !keep_marker && all_ones))
}

/// The elements inside `[start, end)`; an element of unknown size runs to `end`.
fn children<R: Read + Seek>(source: &mut Source<'_, R>, start: u64, end: u64) -> Result<Vec<Element>, MediaProblem> {
    let mut found = Vec::new();
    let mut at = start;
    while at < end {
        if found.len() == ELEMENTS_MAX {
            return Err(source.malformed("too many elements"));
        }
        let (id, id_len, _) = vint(source, at, true)?;
        let (size, size_len, unknown) = vint(source, at + id_len, false)?;
        let data = at + id_len + size_len;
        let element_end = if unknown { end } else { data.saturating_add(size) };
        if data > end || element_end > end {
            return Err(source.malformed(format!("an element at byte {at} does not fit its container")));
        }
        let id = u32::try_from(id).map_err(|_| source.malformed("an element id longer than four bytes"))?;
        found.push(Element { id, start: data, end: element_end });
        if id == CLUSTER {
            // The frames: what we need comes before them.
            break;
        }
        at = element_end;
    }
    Ok(found)
}

fn uint<R: Read + Seek>(source: &mut Source<'_, R>, element: &Element) -> Result<u64, MediaProblem> {
    let bytes = source.bytes(element.start, element.end - element.start)?;
    if bytes.len() > 8 {
        return Err(source.malformed("an integer longer than eight bytes"));
    }
    Ok(bytes.iter().fold(0u64, |value, byte| (value << 8) | u64::from(*byte)))
}

fn float<R: Read + Seek>(source: &mut Source<'_, R>, element: &Element) -> Result<f64, MediaProblem> {
    let bytes = source.bytes(element.start, element.end - element.start)?;
    match bytes.len() {
        4 => Ok(f64::from(f32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))),
        8 => Ok(f64::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]])),
        _ => Err(source.malformed("a float that is neither four nor eight bytes")),
    }
}

fn child(elements: &[Element], id: u32) -> Option<&Element> {
    elements.iter().find(|e| e.id == id)
}

pub fn video<R: Read + Seek>(source: &mut Source<'_, R>) -> Result<Video, MediaProblem> {
    let top = children(source, 0, source.len)?;
    let header = child(&top, EBML).ok_or_else(|| source.malformed("no EBML header"))?;
    let header = children(source, header.start, header.end)?;
    let doc_type = match child(&header, DOC_TYPE) {
        Some(e) => source.bytes(e.start, e.end - e.start)?,
        None => return Err(source.malformed("no document type")),
    };
    if doc_type != b"webm" {
        return Err(MediaProblem::Codec {
            kind: MediaKind::Webm,
            codec: format!("a {} document", String::from_utf8_lossy(&doc_type)),
            wanted: "WebM",
        });
    }
    let segment = child(&top, SEGMENT).ok_or_else(|| source.malformed("no segment"))?;
    let segment = children(source, segment.start, segment.end)?;
    let info = child(&segment, INFO).ok_or_else(|| source.malformed("no segment information"))?;
    let info = children(source, info.start, info.end)?;
    let scale_ns = match child(&info, TIMECODE_SCALE) {
        Some(e) => uint(source, e)?,
        None => 1_000_000,
    };
    let duration = match child(&info, DURATION) {
        Some(e) => float(source, e)?,
        None => return Err(source.malformed("no duration (a live stream?)")),
    };
    let duration_ms = duration * scale_ns as f64 / 1e6;
    if !duration_ms.is_finite() || duration_ms < 0.0 {
        return Err(source.malformed("a duration that is not a length of time"));
    }
    let tracks = child(&segment, TRACKS).ok_or(MediaProblem::NoVideo { kind: MediaKind::Webm })?;
    let tracks = children(source, tracks.start, tracks.end)?;
    for entry in tracks.iter().filter(|e| e.id == TRACK_ENTRY) {
        let entry = children(source, entry.start, entry.end)?;
        let is_video = match child(&entry, TRACK_TYPE) {
            Some(e) => uint(source, e)? == 1,
            None => false,
        };
        if !is_video {
            continue;
        }
        let codec = match child(&entry, CODEC_ID) {
            Some(e) => String::from_utf8_lossy(&source.bytes(e.start, e.end - e.start)?).into_owned(),
            None => String::new(),
        };
        if !matches!(codec.as_str(), "V_VP8" | "V_VP9" | "V_AV1") {
            return Err(MediaProblem::Codec { kind: MediaKind::Webm, codec, wanted: "VP8, VP9 or AV1" });
        }
        let video = child(&entry, VIDEO).ok_or_else(|| source.malformed("a video track without its size"))?;
        let video = children(source, video.start, video.end)?;
        let mut side = |id| -> Result<u32, MediaProblem> {
            let value = match child(&video, id) {
                Some(e) => uint(source, e)?,
                None => 0,
            };
            Ok(u32::try_from(value).unwrap_or(u32::MAX))
        };
        let (width, height) = (side(PIXEL_WIDTH)?, side(PIXEL_HEIGHT)?);
        return Ok(Video { width, height, duration_ms: duration_ms.round() as u64 });
    }
    Err(MediaProblem::NoVideo { kind: MediaKind::Webm })
}
