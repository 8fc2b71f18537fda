//! An image's dimensions from its header: PNG's `IHDR`, JPEG's start-of-frame segment, WebP's
//! `VP8 `, `VP8L` or `VP8X` chunk.

use std::io::{Read, Seek};

use crate::read::{be_u16, be_u32, Source};
use crate::MediaProblem;

/// JPEG segments walked before giving up on finding the frame header (EXIF, ICC and comments
/// come first; a real file has a dozen or so).
const JPEG_SEGMENTS_MAX: usize = 512;

pub fn png<R: Read + Seek>(source: &mut Source<'_, R>) -> Result<(u32, u32), MediaProblem> {
    let ihdr = source.array::<16>(8)?;
    if &ihdr[4..8] != b"IHDR" {
        return Err(source.malformed("its first chunk is not IHDR"));
    }
    Ok((be_u32(&ihdr[8..12]), be_u32(&ihdr[12..16])))
}

pub fn jpeg<R: Read + Seek>(source: &mut Source<'_, R>) -> Result<(u32, u32), MediaProblem> {
    let mut at = 2u64;
    for _ in 0..JPEG_SEGMENTS_MAX {
        let [fill, mut marker] = source.array::<2>(at)?;
        if fill != 0xFF {
            return Err(source.malformed(format!("no segment marker at byte {at}")));
        }
        at += 2;
        // Padding: any number of 0xFF before a marker.
        while marker == 0xFF {
            marker = source.array::<1>(at)?[0];
            at += 1;
        }
        match marker {
            // Markers without a length.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 | 0xDA => return Err(source.malformed("the image data starts before its frame header")),
            _ => {}
        }
        let length = u64::from(be_u16(&source.array::<2>(at)?));
        if length < 2 {
            return Err(source.malformed("a segment shorter than its own length field"));
        }
        // Start of frame: every SOFn but DHT (C4), JPG (C8) and DAC (CC).
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let frame = source.array::<7>(at)?;
            return Ok((u32::from(be_u16(&frame[5..7])), u32::from(be_u16(&frame[3..5]))));
        }
        at += length;
    }
    Err(source.malformed("no frame header among its first segments"))
}

pub fn webp<R: Read + Seek>(source: &mut Source<'_, R>) -> Result<(u32, u32), MediaProblem> {
    let chunk = source.array::<4>(12)?;
    match &chunk {
        b"VP8 " => {
            // A key frame's tag (3 bytes), its start code, then 14-bit width and height.
            let frame = source.array::<10>(20)?;
            if frame[3..6] != [0x9D, 0x01, 0x2A] {
                return Err(source.malformed("no VP8 start code"));
            }
            let width = u32::from(u16::from_le_bytes([frame[6], frame[7]]) & 0x3FFF);
            let height = u32::from(u16::from_le_bytes([frame[8], frame[9]]) & 0x3FFF);
            Ok((width, height))
        }
        b"VP8L" => {
            let header = source.array::<5>(20)?;
            if header[0] != 0x2F {
                return Err(source.malformed("no VP8L signature"));
            }
            let bits = u32::from_le_bytes([header[1], header[2], header[3], header[4]]);
            Ok(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => {
            let header = source.array::<10>(20)?;
            let width = u32::from_le_bytes([header[4], header[5], header[6], 0]) + 1;
            let height = u32::from_le_bytes([header[7], header[8], header[9], 0]) + 1;
            Ok((width, height))
        }
        _ => Err(source.malformed("no VP8, VP8L or VP8X chunk")),
    }
}
