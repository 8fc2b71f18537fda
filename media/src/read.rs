//! Bounded reads at offsets: every position and length comes from an untrusted file, so each is
//! checked against the file's size, and running out is a `Malformed`, never a panic.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

use crate::{MediaKind, MediaProblem};

/// Reads what fits of `buf` from `offset`; how many bytes it got.
pub fn at_most<R: Read + Seek>(file: &mut R, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    file.seek(SeekFrom::Start(offset))?;
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(got)
}

/// A file being inspected: its length and what it claims to be, for the errors.
pub struct Source<'a, R> {
    pub file: &'a mut R,
    pub len: u64,
    pub kind: MediaKind,
}

impl<R: Read + Seek> Source<'_, R> {
    pub fn malformed(&self, why: impl Into<String>) -> MediaProblem {
        MediaProblem::Malformed { kind: self.kind, why: why.into() }
    }

    /// Exactly `N` bytes at `offset`.
    pub fn array<const N: usize>(&mut self, offset: u64) -> Result<[u8; N], MediaProblem> {
        let mut buf = [0u8; N];
        self.exact(offset, &mut buf)?;
        Ok(buf)
    }

    /// Exactly `len` bytes at `offset`, for small fields (a few hundred bytes at most).
    pub fn bytes(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, MediaProblem> {
        if len > 4096 {
            return Err(self.malformed(format!("a {len}-byte field where a short one belongs")));
        }
        let mut buf = vec![0u8; len as usize];
        self.exact(offset, &mut buf)?;
        Ok(buf)
    }

    fn exact(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), MediaProblem> {
        let end = offset.checked_add(buf.len() as u64);
        if end.is_none_or(|end| end > self.len) {
            return Err(self.malformed(format!("it ends before byte {}", offset.saturating_add(buf.len() as u64))));
        }
        if at_most(self.file, offset, buf)? < buf.len() {
            return Err(self.malformed("it ends early"));
        }
        Ok(())
    }
}

pub fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

pub fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

pub fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}
