//! Reads what the file header promises (dimensions, animation) without decoding pixels, so that
//! decompression bombs are refused before any large allocation.

use super::container::{be16, be32, le16, le32, JpegSegments, PngChunks, WebpChunks};
use super::{gif, Format, ImagingError};

/// The width and height the header declares, in stored (not EXIF-rotated) orientation.
pub(crate) fn dimensions(bytes: &[u8], format: Format) -> Result<(u32, u32), ImagingError> {
    let declared = match format {
        Format::Jpeg => jpeg_dimensions(bytes),
        Format::Png => png_dimensions(bytes),
        Format::Gif => gif::screen(bytes),
        Format::WebP => webp_dimensions(bytes),
        Format::Bmp => bmp_dimensions(bytes),
    };
    match declared {
        Some((width, height)) if width > 0 && height > 0 => Ok((width, height)),
        Some(_) => Err(ImagingError::Corrupt(
            "the header declares an empty image".into(),
        )),
        None => Err(ImagingError::Corrupt(
            "the image header is missing or unreadable".into(),
        )),
    }
}

fn jpeg_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the marker range.
    let is_sof = |m: u8| matches!(m, 0xC0..=0xCF) && !matches!(m, 0xC4 | 0xC8 | 0xCC);
    let sof = JpegSegments::new(bytes).find(|segment| is_sof(segment.marker))?;
    let height = be16(bytes, sof.payload.start + 1)?;
    let width = be16(bytes, sof.payload.start + 3)?;
    Some((u32::from(width), u32::from(height)))
}

fn png_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(12..16) != Some(b"IHDR") {
        return None;
    }
    Some((be32(bytes, 16)?, be32(bytes, 20)?))
}

fn webp_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let chunk = WebpChunks::new(bytes).next()?;
    let at = chunk.data.start;
    match &chunk.kind {
        b"VP8X" => {
            let width = le32(bytes, at + 4)? & 0x00FF_FFFF;
            let height = le32(bytes, at + 6)? >> 8;
            Some((width + 1, height + 1))
        }
        b"VP8L" => {
            if *bytes.get(at)? != 0x2F {
                return None;
            }
            let bits = le32(bytes, at + 1)?;
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8 " => {
            if bytes.get(at + 3..at + 6)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            let width = le16(bytes, at + 6)? & 0x3FFF;
            let height = le16(bytes, at + 8)? & 0x3FFF;
            Some((u32::from(width), u32::from(height)))
        }
        _ => None,
    }
}

fn bmp_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if le32(bytes, 14)? == 12 {
        return Some((u32::from(le16(bytes, 18)?), u32::from(le16(bytes, 20)?)));
    }
    let width = le32(bytes, 18)? as i32;
    // A negative height marks a top-down bitmap.
    let height = (le32(bytes, 22)? as i32).checked_abs()?;
    Some((u32::try_from(width).ok()?, height as u32))
}

/// Whether the file holds more than one frame: an animated GIF, an APNG (acTL) or an animated
/// WebP.
pub(crate) fn is_animated(bytes: &[u8], format: Format) -> bool {
    match format {
        Format::Gif => gif::layout(bytes).frames >= 2,
        Format::Png => apng_frame_count(bytes) >= 2,
        Format::WebP => webp_frame_count(bytes) >= 2,
        Format::Jpeg | Format::Bmp => false,
    }
}

fn apng_frame_count(bytes: &[u8]) -> u32 {
    PngChunks::new(bytes)
        .take_while(|chunk| &chunk.kind != b"IDAT")
        .find(|chunk| &chunk.kind == b"acTL")
        .and_then(|chunk| be32(bytes, chunk.data.start))
        .unwrap_or(0)
}

fn webp_frame_count(bytes: &[u8]) -> usize {
    WebpChunks::new(bytes)
        .filter(|chunk| &chunk.kind == b"ANMF")
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_png_header_claiming_100000_squared_is_read_without_decoding() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());

        assert_eq!(dimensions(&png, Format::Png).ok(), Some((100_000, 100_000)));
    }

    #[test]
    fn a_top_down_bmp_reports_a_positive_height() {
        let mut bmp = b"BM".to_vec();
        bmp.extend_from_slice(&[0; 12]);
        bmp.extend_from_slice(&40u32.to_le_bytes());
        bmp.extend_from_slice(&240i32.to_le_bytes());
        bmp.extend_from_slice(&(-160i32).to_le_bytes());

        assert_eq!(dimensions(&bmp, Format::Bmp).ok(), Some((240, 160)));
    }

    #[test]
    fn a_jpeg_without_a_frame_header_is_corrupt() {
        let result = dimensions(b"\xFF\xD8\xFF\xFE\x00\x04hi\xFF\xDA", Format::Jpeg);

        assert!(matches!(result, Err(ImagingError::Corrupt(_))));
    }

    fn png_with(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in chunks {
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            png.extend_from_slice(*kind);
            png.extend_from_slice(data);
            png.extend_from_slice(&[0; 4]);
        }
        png
    }

    #[test]
    fn an_apng_is_animated_only_with_more_than_one_frame() {
        let ihdr: &[u8] = &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0];
        let three = png_with(&[
            (b"IHDR", ihdr),
            (b"acTL", &[0, 0, 0, 3, 0, 0, 0, 0]),
            (b"IDAT", b""),
        ]);
        let one = png_with(&[
            (b"IHDR", ihdr),
            (b"acTL", &[0, 0, 0, 1, 0, 0, 0, 0]),
            (b"IDAT", b""),
        ]);
        let late = png_with(&[
            (b"IHDR", ihdr),
            (b"IDAT", b""),
            (b"acTL", &[0, 0, 0, 3, 0, 0, 0, 0]),
        ]);

        assert!(is_animated(&three, Format::Png));
        assert!(!is_animated(&one, Format::Png));
        assert!(
            !is_animated(&late, Format::Png),
            "acTL after IDAT is ignored, as in APNG"
        );
    }

    #[test]
    fn zero_sized_images_are_corrupt() {
        let gif = b"GIF89a\x00\x00\x10\x00\x00\x00\x00";

        assert!(matches!(
            dimensions(gif, Format::Gif),
            Err(ImagingError::Corrupt(_))
        ));
    }
}
