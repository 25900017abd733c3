//! Checks of a file's block structure that need no decoding: the file must end where its
//! format says, and a GIF's logical screen must be about the size of its frames.
//!
//! Bytes after the end are how polyglots are made: a GIF whose width bytes open a JavaScript
//! comment and whose tail closes it is a script as well as an image, and a PNG followed by a
//! ZIP is also an archive. A host that serves such a file vouches for the second reading too.
//! JPEG is exempt, because phones append data after EOI on purpose (Motion Photos, MPF
//! indexes) and a file served as `image/jpeg` with `nosniff` is never run as anything else;
//! BMP is never stored as it was uploaded.

use super::container::{png_end, webp_end};
use super::{gif, Format, ImagingError};

/// How many times wider or taller than all of its frames a GIF's logical screen may be.
const MAX_SCREEN_TO_FRAMES: u32 = 4;

/// Refuses a file with data after its end (`Unsupported`), or a GIF whose frames cover a small
/// corner of its logical screen (`Corrupt`).
pub(crate) fn check(bytes: &[u8], format: Format) -> Result<(), ImagingError> {
    match format {
        Format::Gif => {
            let layout = gif::layout(bytes);
            check_tail(bytes, layout.end)?;
            check_screen(bytes, &layout)
        }
        Format::Png => check_tail(bytes, png_end(bytes)),
        Format::WebP => check_tail(bytes, webp_end(bytes)),
        Format::Jpeg | Format::Bmp => Ok(()),
    }
}

/// `end` is where the format's structure stops. A file that stops inside its structure
/// (`None`) has nothing after its end, and whether it decodes is the decoder's call: a GIF cut
/// short still shows its first frames, and a WebP whose RIFF size overstates the file still
/// decodes.
fn check_tail(bytes: &[u8], end: Option<usize>) -> Result<(), ImagingError> {
    let Some(end) = end else {
        return Ok(());
    };
    let tail = bytes.get(end..).unwrap_or_default();
    // Zeros and white space pad files (to an even length, to a block, after a copy) and can
    // carry nothing.
    if tail.iter().all(|&b| b == 0 || b.is_ascii_whitespace()) {
        return Ok(());
    }
    tracing::debug!(
        bytes = tail.len(),
        "refusing data after the end of the image"
    );
    Err(ImagingError::Unsupported)
}

/// Refuses a GIF whose logical screen is far larger than the frames drawn on it.
///
/// Browsers size a GIF by its logical screen and leave what no frame covers transparent, so
/// reporting the frames' size would disagree with every viewer, and reporting the screen's
/// would store and thumbnail a canvas that is almost all empty. Cameras and editors do not
/// write such files; polyglots do (the width bytes `/*` make 10,799 px), and so do canvas
/// bombs, where 35 bytes cost seconds of decoding into a 100-megapixel canvas. Someone who
/// uploads a picture expects that picture back, so the file is refused as damaged rather than
/// kept as a mostly empty strip.
fn check_screen(bytes: &[u8], layout: &gif::Layout) -> Result<(), ImagingError> {
    let Some((width, height)) = gif::screen(bytes) else {
        return Ok(());
    };
    let (frames_width, frames_height) = layout.extent;
    let is_far_larger =
        |screen: u32, frames: u32| screen > frames.saturating_mul(MAX_SCREEN_TO_FRAMES);
    if is_far_larger(width, frames_width) || is_far_larger(height, frames_height) {
        return Err(ImagingError::Corrupt(format!(
            "the GIF's {width}x{height} screen is far larger than its \
             {frames_width}x{frames_height} frames"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::container::tests::png_chunk;
    use crate::imaging::gif::tests::gif;

    /// A 1x1 grey PNG (its IDAT left out, which does not matter here) followed by `tail`.
    fn png(tail: &[u8]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]));
        out.extend(png_chunk(b"IEND", b""));
        out.extend_from_slice(tail);
        out
    }

    fn webp(riff_size: u32, tail: &[u8]) -> Vec<u8> {
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&riff_size.to_le_bytes());
        out.extend_from_slice(b"WEBPVP8L\x04\0\0\0\x2f\0\0\0");
        out.extend_from_slice(tail);
        out
    }

    fn with_tail(mut bytes: Vec<u8>, tail: &[u8]) -> Vec<u8> {
        bytes.extend_from_slice(tail);
        bytes
    }

    /// What make_corpus.py writes as `gif/polyglot_js.gif`: the width bytes open a comment that
    /// the script after the trailer closes.
    fn polyglot() -> Vec<u8> {
        let mut bytes = gif((10, 10), &[(0, 0, 10, 10)]);
        bytes[6..8].copy_from_slice(b"/*");
        with_tail(bytes, b"*/=1;alert('polyglot');")
    }

    #[derive(Debug, PartialEq, Eq)]
    enum Verdict {
        Accepted,
        Unsupported,
        Corrupt,
    }

    fn verdict(bytes: &[u8], format: Format) -> Verdict {
        match check(bytes, format) {
            Ok(()) => Verdict::Accepted,
            Err(ImagingError::Unsupported) => Verdict::Unsupported,
            Err(ImagingError::Corrupt(_)) => Verdict::Corrupt,
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn each_format_must_end_where_its_structure_says() {
        use Format::{Gif, Jpeg, Png, WebP};
        use Verdict::{Accepted, Unsupported};
        let still = gif((10, 10), &[(0, 0, 10, 10)]);
        let cut = still[..still.len() - 3].to_vec();
        let no_trailer = still[..still.len() - 1].to_vec();
        let junk = with_tail(no_trailer.clone(), b"*/alert(1)");
        let cut_png = png(b"")[..40].to_vec();
        let jpeg = b"\xFF\xD8\xFF\xFE\0\x04hi\xFF\xDA\0\x02\x12\xFF\xD9MotionPhoto_Data";
        let cases = [
            ("a GIF", still.clone(), Gif, Accepted),
            ("padding", with_tail(still, b"\0\0\r\n"), Gif, Accepted),
            ("a script", polyglot(), Gif, Unsupported),
            ("no trailer", no_trailer, Gif, Accepted),
            ("junk", junk, Gif, Unsupported),
            ("a cut", cut, Gif, Accepted),
            ("a PNG", png(b""), Png, Accepted),
            ("padding", png(b"\0\n"), Png, Accepted),
            ("a ZIP", png(b"PK\x03\x04\x14\0"), Png, Unsupported),
            ("a cut", cut_png, Png, Accepted),
            ("a WebP", webp(16, b""), WebP, Accepted),
            ("padding", webp(16, b"\0"), WebP, Accepted),
            ("HTML", webp(16, b"<html>"), WebP, Unsupported),
            ("a cut", webp(17, b""), WebP, Accepted),
            ("data after EOI", jpeg.to_vec(), Jpeg, Accepted),
        ];

        for (name, bytes, format, expected) in cases {
            assert_eq!(verdict(&bytes, format), expected, "{format:?} with {name}");
        }
    }

    #[test]
    fn a_gif_screen_far_larger_than_its_frames_is_corrupt() {
        use Verdict::{Accepted, Corrupt};
        let cases = [
            ((40, 30), vec![(0, 0, 40, 30)], Accepted),
            ((40, 30), vec![(0, 0, 10, 30)], Accepted),
            ((40, 30), vec![(30, 0, 1, 30)], Accepted),
            ((40, 30), vec![(0, 0, 9, 30)], Corrupt),
            ((40, 30), vec![(0, 0, 1, 1), (0, 0, 40, 30)], Accepted),
            ((10_799, 10), vec![(0, 0, 10, 10)], Corrupt),
            ((10_000, 10_000), vec![(0, 0, 1, 1)], Corrupt),
            ((40, 30), vec![], Corrupt),
        ];

        for (screen, frames, expected) in cases {
            let got = verdict(&gif(screen, &frames), Format::Gif);

            assert_eq!(got, expected, "{screen:?} with {frames:?}");
        }
    }
}
