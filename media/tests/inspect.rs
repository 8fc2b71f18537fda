//! Signage media are what their bytes say: real files made by ffmpeg are read right, and what
//! is too big, too long, the wrong codec, a decompression bomb, damaged or not media at all is
//! refused with the reason, never a panic.

use std::io::Cursor;

use fila_media::{inspect, Limits, MediaInfo, MediaKind, MediaProblem};
use proptest::prelude::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check(bytes: &[u8]) -> Result<MediaInfo, MediaProblem> {
    inspect(&mut Cursor::new(bytes), &Limits::default())
}

#[test]
fn images_are_known_by_their_bytes_with_their_size() {
    for (name, kind) in [
        ("blue-64x48.png", MediaKind::Png),
        ("blue-64x48.jpg", MediaKind::Jpeg),
        ("blue-64x48.webp", MediaKind::Webp),
        ("blue-64x48-lossless.webp", MediaKind::Webp),
    ] {
        let bytes = fixture(name);
        let info = check(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            info,
            MediaInfo { kind, bytes: bytes.len() as u64, width: 64, height: 48, duration_ms: None },
            "{name}"
        );
    }
}

#[test]
fn videos_are_read_for_codec_size_and_length_wherever_the_movie_header_is() {
    for name in ["clip-160x90-2s.mp4", "clip-160x90-2s-moov-last.mp4", "clip-160x90-2s.webm"] {
        let info = check(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((info.width, info.height), (160, 90), "{name}");
        let ms = info.duration_ms.expect("a length");
        assert!((1900..=2100).contains(&ms), "{name}: {ms} ms");
    }
}

#[test]
fn an_mp4_that_is_not_h264_is_refused_by_name() {
    let refused = check(&fixture("clip-hevc.mp4")).expect_err("HEVC");
    assert!(
        matches!(&refused, MediaProblem::Codec { codec, .. } if codec.starts_with("hev") || codec.starts_with("hvc")),
        "{refused}"
    );
    assert_eq!(refused.code(), "unsupported_codec");
    assert!(refused.to_string().contains("H.264"), "{refused}");
}

#[test]
fn a_few_kilobytes_of_png_that_decode_to_400_megapixels_are_refused_before_decoding() {
    let bomb = fixture("bomb-20000x20000.png");
    assert!(bomb.len() < 64 << 10, "small on disk");
    let refused = check(&bomb).expect_err("a bomb");
    assert!(matches!(refused, MediaProblem::TooWide { width: 20000, height: 20000, .. }), "{refused}");
    assert_eq!(refused.code(), "too_many_pixels");
    // Within the side limit, the pixel count still catches it.
    let limits = Limits { side_max: 30_000, ..Limits::default() };
    let refused = inspect(&mut Cursor::new(&bomb), &limits).expect_err("a bomb");
    assert!(matches!(refused, MediaProblem::TooManyPixels { .. }), "{refused}");
}

#[test]
fn size_and_length_caps_are_kept_with_the_figures_in_the_reason() {
    let image = fixture("blue-64x48.png");
    let limits = Limits { image_bytes_max: 100, ..Limits::default() };
    let refused = inspect(&mut Cursor::new(&image), &limits).expect_err("too large");
    assert_eq!(refused.to_string(), format!("PNG files may be at most 100 bytes; this one has {}", image.len()));
    let limits = Limits { duration_max_ms: 1000, ..Limits::default() };
    let refused = inspect(&mut Cursor::new(fixture("clip-160x90-2s.webm")), &limits).expect_err("too long");
    assert_eq!(refused.code(), "too_long", "{refused}");
}

#[test]
fn what_is_not_media_is_refused_as_such() {
    for bytes in [&b"%PDF-1.7 a document"[..], b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"GIF89a......", b"MZ"] {
        assert!(matches!(check(bytes), Err(MediaProblem::UnknownType)), "{:?}", String::from_utf8_lossy(bytes));
    }
    assert!(matches!(check(b""), Err(MediaProblem::Empty)));
}

#[test]
fn every_cut_of_a_real_file_is_refused_or_read_never_a_panic() {
    for name in ["blue-64x48.png", "blue-64x48.jpg", "blue-64x48.webp", "clip-160x90-2s.mp4", "clip-160x90-2s.webm"] {
        let bytes = fixture(name);
        for len in 1..bytes.len() {
            // Dimensions may sit early; a cut file either reads or is refused.
            let _ = check(&bytes[..len]);
        }
        // Cut inside the headers: always refused.
        assert!(check(&bytes[..20.min(bytes.len())]).is_err(), "{name} cut at 20 bytes");
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_after_a_real_signature_never_panic(
        signature in prop::sample::select(vec![
            b"\x89PNG\r\n\x1a\n".to_vec(), vec![0xFF, 0xD8, 0xFF], b"RIFF\0\0\0\0WEBPVP8 ".to_vec(),
            b"\0\0\0\x18ftypisom".to_vec(), vec![0x1A, 0x45, 0xDF, 0xA3],
        ]),
        tail in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let bytes: Vec<u8> = signature.into_iter().chain(tail).collect();
        let _ = check(&bytes);
    }

    #[test]
    fn a_real_file_with_bytes_flipped_never_panics(which in 0usize..5, flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let name = ["blue-64x48.png", "blue-64x48.jpg", "blue-64x48.webp", "clip-160x90-2s.mp4", "clip-160x90-2s.webm"][which];
        let mut bytes = fixture(name);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = check(&bytes);
    }
}
