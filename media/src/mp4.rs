//! An MP4 (ISO base media) file's video: the movie header's duration, and for each track its
//! handler, codec and dimensions, found by walking the boxes `moov/trak/mdia/minf/stbl/stsd`.
//! The `moov` box may come before or after the media data; both are found.

use std::io::{Read, Seek};

use crate::read::{be_u16, be_u32, be_u64, Source};
use crate::{MediaKind, MediaProblem};

/// Boxes looked at in one container before giving up (a real file has a handful).
const BOXES_MAX: usize = 4096;
const TRACKS_MAX: usize = 64;

pub struct Video {
    pub width: u32,
    pub height: u32,
    pub duration_ms: u64,
}

/// One box: its type and where its payload lies.
struct Mp4Box {
    kind: [u8; 4],
    start: u64,
    end: u64,
}

/// The boxes inside `[start, end)`.
fn children<R: Read + Seek>(source: &mut Source<'_, R>, start: u64, end: u64) -> Result<Vec<Mp4Box>, MediaProblem> {
    let mut boxes = Vec::new();
    let mut at = start;
    while at + 8 <= end {
        if boxes.len() == BOXES_MAX {
            return Err(source.malformed("too many boxes"));
        }
        let header = source.array::<8>(at)?;
        let (size, header_len) = match be_u32(&header[..4]) {
            0 => (end - at, 8),
            1 => (be_u64(&source.array::<8>(at + 8)?), 16),
            size => (u64::from(size), 8),
        };
        if size < header_len || size > end - at {
            return Err(source.malformed(format!("a box at byte {at} does not fit its container")));
        }
        let kind = [header[4], header[5], header[6], header[7]];
        boxes.push(Mp4Box { kind, start: at + header_len, end: at + size });
        at += size;
    }
    Ok(boxes)
}

fn find<'b>(boxes: &'b [Mp4Box], kind: &[u8; 4]) -> Option<&'b Mp4Box> {
    boxes.iter().find(|b| &b.kind == kind)
}

/// The path of boxes under `parent`, if every one is there.
fn descend<R: Read + Seek>(
    source: &mut Source<'_, R>,
    parent: &Mp4Box,
    path: &[&[u8; 4]],
) -> Result<Option<Mp4Box>, MediaProblem> {
    let mut current = Mp4Box { kind: parent.kind, start: parent.start, end: parent.end };
    for kind in path {
        let inside = children(source, current.start, current.end)?;
        match find(&inside, kind) {
            Some(found) => current = Mp4Box { kind: found.kind, start: found.start, end: found.end },
            None => return Ok(None),
        }
    }
    Ok(Some(current))
}

pub fn video<R: Read + Seek>(source: &mut Source<'_, R>) -> Result<Video, MediaProblem> {
    let top = children(source, 0, source.len)?;
    let moov = find(&top, b"moov").ok_or_else(|| source.malformed("no movie header (moov)"))?;
    let moov = Mp4Box { kind: moov.kind, start: moov.start, end: moov.end };
    let inside = children(source, moov.start, moov.end)?;
    let mvhd = find(&inside, b"mvhd").ok_or_else(|| source.malformed("no mvhd"))?;
    let duration_ms = movie_duration_ms(source, mvhd.start)?;
    let mut codecs = Vec::new();
    for trak in inside.iter().filter(|b| &b.kind == b"trak").take(TRACKS_MAX) {
        let Some(hdlr) = descend(source, trak, &[b"mdia", b"hdlr"])? else { continue };
        // version and flags (4), pre_defined (4), then the handler type.
        if &source.array::<4>(hdlr.start + 8)? != b"vide" {
            continue;
        }
        let Some(stsd) = descend(source, trak, &[b"mdia", b"minf", b"stbl", b"stsd"])? else {
            return Err(source.malformed("a video track without sample descriptions"));
        };
        // version and flags (4), entry count (4), then the first entry's size (4) and codec.
        let codec = source.array::<4>(stsd.start + 12)?;
        if !matches!(&codec, b"avc1" | b"avc3") {
            codecs.push(String::from_utf8_lossy(&codec).trim().to_string());
            continue;
        }
        let Some(tkhd) = descend(source, trak, &[b"tkhd"])? else {
            return Err(source.malformed("a video track without a track header"));
        };
        let (width, height) = track_size(source, tkhd.start)?;
        return Ok(Video { width, height, duration_ms });
    }
    match codecs.into_iter().next() {
        Some(codec) => Err(MediaProblem::Codec { kind: MediaKind::Mp4, codec, wanted: "H.264 (avc1)" }),
        None => Err(MediaProblem::NoVideo { kind: MediaKind::Mp4 }),
    }
}

fn movie_duration_ms<R: Read + Seek>(source: &mut Source<'_, R>, at: u64) -> Result<u64, MediaProblem> {
    let version = source.array::<1>(at)?[0];
    let (timescale, duration) = if version == 1 {
        let fields = source.array::<32>(at + 4)?;
        (u64::from(be_u32(&fields[16..20])), be_u64(&fields[20..28]))
    } else {
        let fields = source.array::<16>(at + 4)?;
        (u64::from(be_u32(&fields[8..12])), u64::from(be_u32(&fields[12..16])))
    };
    if timescale == 0 {
        return Err(source.malformed("a movie header with no timescale"));
    }
    Ok(duration.saturating_mul(1000) / timescale)
}

/// A track header's width and height (16.16 fixed point, at its end).
fn track_size<R: Read + Seek>(source: &mut Source<'_, R>, at: u64) -> Result<(u32, u32), MediaProblem> {
    let version = source.array::<1>(at)?[0];
    // version/flags, times and ids, reserved, layer, group, volume, reserved, matrix.
    let before = if version == 1 { 4 + 8 + 8 + 4 + 4 + 8 } else { 4 + 4 + 4 + 4 + 4 + 4 } + 8 + 2 + 2 + 2 + 2 + 36;
    let size = source.array::<8>(at + before)?;
    Ok((u32::from(be_u16(&size[0..2])), u32::from(be_u16(&size[4..6]))))
}
