//! Versioned frames between an edge and central, over the WebSocket the edge opens.
//!
//! A frame is one binary WebSocket message: a version byte, then the postcard encoding of a
//! [`Frame`]. Every frame from the network is untrusted: it is size-capped before decoding, and a
//! frame that does not decode, has another version, or names a document the peer may not touch
//! is rejected with a [`FrameError`] and changes nothing.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::doc::keys::DocId;
use crate::limits;

pub const WIRE_VERSION: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frame {
    /// The documents the sender keeps in sync with the receiver (the edge sends its config
    /// document and the day documents of its window on connect).
    Docs { docs: Vec<String> },
    /// One automerge sync message for one document.
    Sync { doc: String, message: Vec<u8> },
    /// A whole document, compressed (`save()`), for a peer that has said it holds none of it:
    /// far fewer bytes than sending its changes one by one (see `PeerSync::generate_or_snapshot`).
    Snapshot { doc: String, bytes: Vec<u8> },
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FrameError {
    #[error("frame of {len} bytes is over the {max}-byte limit")]
    TooLong { len: usize, max: usize },
    #[error("frame is empty")]
    Empty,
    #[error("frame has wire version {0}, this build speaks {WIRE_VERSION}")]
    Version(u8),
    #[error("frame does not decode: {0}")]
    Malformed(String),
    #[error("frame names {0:?}, which is not a document id")]
    BadDocId(String),
    #[error("document {doc:?} does not belong to office {office:?}")]
    ForeignDoc { doc: String, office: String },
    #[error("frame lists {0} documents; at most {max} are allowed", max = limits::SYNC_DOCS_MAX)]
    TooManyDocs(usize),
}

impl Frame {
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = vec![WIRE_VERSION];
        // Encoding plain enums of strings and byte vectors into a Vec cannot fail.
        bytes.extend(postcard::to_allocvec(self).expect("frames always encode"));
        bytes
    }

    /// Decode an untrusted frame and check that every document it names is `office`'s.
    pub fn decode(bytes: &[u8], office: &str) -> Result<Frame, FrameError> {
        if bytes.len() > limits::FRAME_BYTES_MAX {
            return Err(FrameError::TooLong { len: bytes.len(), max: limits::FRAME_BYTES_MAX });
        }
        let (&version, body) = bytes.split_first().ok_or(FrameError::Empty)?;
        if version != WIRE_VERSION {
            return Err(FrameError::Version(version));
        }
        let frame: Frame = postcard::from_bytes(body).map_err(|e| FrameError::Malformed(e.to_string()))?;
        let check = |doc: &str| -> Result<(), FrameError> {
            let id = DocId::parse(doc).ok_or_else(|| FrameError::BadDocId(doc.chars().take(80).collect()))?;
            if id.office() != office {
                return Err(FrameError::ForeignDoc { doc: doc.to_string(), office: office.to_string() });
            }
            Ok(())
        };
        match &frame {
            Frame::Docs { docs } => {
                if docs.len() > limits::SYNC_DOCS_MAX {
                    return Err(FrameError::TooManyDocs(docs.len()));
                }
                docs.iter().try_for_each(|d| check(d))?;
            }
            Frame::Sync { doc, .. } | Frame::Snapshot { doc, .. } => check(doc)?,
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_frame_round_trips() {
        let frame = Frame::Sync { doc: "branch/centro/day/2026-11-29".into(), message: vec![1, 2, 3] };
        assert_eq!(Frame::decode(&frame.encode(), "centro"), Ok(frame));
    }

    #[test]
    fn a_frame_about_another_office_is_refused() {
        let frame = Frame::Docs { docs: vec!["branch/norte/config".into()] };
        assert!(matches!(Frame::decode(&frame.encode(), "centro"), Err(FrameError::ForeignDoc { .. })));
    }

    #[test]
    fn oversized_unversioned_and_garbage_frames_are_refused() {
        assert_eq!(Frame::decode(&[], "centro"), Err(FrameError::Empty));
        assert_eq!(Frame::decode(&[9, 0, 0], "centro"), Err(FrameError::Version(9)));
        assert!(matches!(Frame::decode(&[WIRE_VERSION, 7, 7, 7], "centro"), Err(FrameError::Malformed(_))));
        let huge = vec![WIRE_VERSION; limits::FRAME_BYTES_MAX + 1];
        assert!(matches!(Frame::decode(&huge, "centro"), Err(FrameError::TooLong { .. })));
        let bad_doc = Frame::Sync { doc: "../../etc/passwd".into(), message: vec![] };
        assert!(matches!(Frame::decode(&bad_doc.encode(), "centro"), Err(FrameError::BadDocId(_))));
    }

    proptest! {
        #[test]
        fn any_bytes_decode_to_a_frame_or_an_error_never_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = Frame::decode(&bytes, "centro");
        }

        #[test]
        fn a_truncated_frame_never_decodes_to_something_else(cut in 0usize..40) {
            let frame = Frame::Sync { doc: "branch/centro/day/2026-11-29".into(), message: vec![42; 16] };
            let bytes = frame.encode();
            let cut = cut.min(bytes.len() - 1);
            prop_assert_ne!(Frame::decode(&bytes[..cut], "centro"), Ok(frame));
        }
    }
}
