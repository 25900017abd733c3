//! The five accepted formats and their recognition from magic bytes (never from names or the
//! client's content type, both of which lie).

/// An accepted input format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// JPEG / JFIF / EXIF.
    Jpeg,
    /// PNG, including APNG.
    Png,
    /// GIF 87a and 89a.
    Gif,
    /// WebP: lossy, lossless, extended and animated.
    WebP,
    /// Windows bitmap; never stored as is (converted to PNG).
    Bmp,
}

impl Format {
    /// The media type to serve the format with.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Gif => "image/gif",
            Format::WebP => "image/webp",
            Format::Bmp => "image/bmp",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Gif => "gif",
            Format::WebP => "webp",
            Format::Bmp => "bmp",
        }
    }
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Every BITMAPINFOHEADER generation and the OS/2 variants; two letters alone ("BM") would
/// also match ordinary text.
const BMP_DIB_HEADER_SIZES: [u32; 7] = [12, 40, 52, 56, 64, 108, 124];

/// Recognises the format from the first bytes of the file.
pub fn detect_format(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        Some(Format::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(Format::Gif)
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some(Format::WebP)
    } else if is_bmp(bytes) {
        Some(Format::Bmp)
    } else {
        None
    }
}

fn is_bmp(bytes: &[u8]) -> bool {
    let dib_size = bytes
        .get(14..18)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes);

    bytes.starts_with(b"BM") && dib_size.is_some_and(|size| BMP_DIB_HEADER_SIZES.contains(&size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_recognised_by_its_magic_bytes() {
        let cases: [(&[u8], Format); 6] = [
            (b"\xFF\xD8\xFF\xE0\x00\x10JFIF", Format::Jpeg),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", Format::Png),
            (b"GIF87a\x01\x00", Format::Gif),
            (b"GIF89a\x01\x00", Format::Gif),
            (b"RIFF\x24\x00\x00\x00WEBPVP8 ", Format::WebP),
            (
                b"BM\x3e\x00\x00\x00\x00\x00\x00\x00\x3e\x00\x00\x00\x28\x00\x00\x00",
                Format::Bmp,
            ),
        ];

        for (bytes, format) in cases {
            assert_eq!(detect_format(bytes), Some(format), "{bytes:?}");
        }
    }

    #[test]
    fn text_svg_tiff_and_empty_input_are_not_recognised() {
        let cases: [&[u8]; 7] = [
            b"",
            b"\x89",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"<!DOCTYPE html><html>",
            b"II*\x00\x08\x00\x00\x00",
            b"BMW is a car brand, not a bitmap",
            b"RIFF\x24\x00\x00\x00WAVEfmt ",
        ];

        for bytes in cases {
            assert_eq!(detect_format(bytes), None, "{bytes:?}");
        }
    }

    #[test]
    fn extensions_and_mime_types_match() {
        assert_eq!(Format::Jpeg.extension(), "jpg");
        assert_eq!(Format::WebP.mime(), "image/webp");
        assert_eq!(Format::Bmp.extension(), "bmp");
    }
}
