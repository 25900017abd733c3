//! Walks the JPEG, PNG and WebP container structures to find the metadata payloads (EXIF, XMP)
//! without decoding pixels, so they can be read and edited in place.
//!
//! Every read is bounds-checked: a truncated or lying structure ends the walk, never panics.

use std::ops::Range;

use super::Format;

const EXIF_PREFIX: &[u8] = b"Exif\0\0";
const XMP_JPEG_PREFIX: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_PNG_KEYWORD: &[u8] = b"XML:com.adobe.xmp";

/// A metadata payload inside the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Block {
    /// The payload: a TIFF structure for EXIF, XML text for XMP.
    pub range: Range<usize>,
    /// PNG only: the chunk type and data, whose CRC-32 follows them and must be rewritten after
    /// the payload is edited.
    pub crc_covers: Option<Range<usize>>,
}

/// All EXIF and XMP payloads of a file, in file order.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    pub exif: Vec<Block>,
    pub xmp: Vec<Block>,
}

impl Blocks {
    /// The first EXIF payload: the one readers honour.
    pub fn first_exif<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        self.exif
            .first()
            .and_then(|block| bytes.get(block.range.clone()))
    }

    /// The first XMP payload.
    pub fn first_xmp<'a>(&self, bytes: &'a [u8]) -> Option<&'a [u8]> {
        self.xmp
            .first()
            .and_then(|block| bytes.get(block.range.clone()))
    }
}

/// Finds the EXIF and XMP payloads; GIF and BMP carry none that browsers honour.
// Limitation: XMP in a GIF application extension is not read (no title from GIF files).
pub(crate) fn metadata_blocks(bytes: &[u8], format: Format) -> Blocks {
    match format {
        Format::Jpeg => jpeg_blocks(bytes),
        Format::Png => png_blocks(bytes),
        Format::WebP => webp_blocks(bytes),
        Format::Gif | Format::Bmp => Blocks::default(),
    }
}

fn jpeg_blocks(bytes: &[u8]) -> Blocks {
    let mut blocks = Blocks::default();
    for segment in JpegSegments::new(bytes).filter(|s| s.marker == 0xE1) {
        let payload = &bytes[segment.payload.clone()];
        let start = segment.payload.start;
        let end = segment.payload.end;
        if payload.starts_with(EXIF_PREFIX) {
            blocks
                .exif
                .push(plain_block(start + EXIF_PREFIX.len()..end));
        } else if payload.starts_with(XMP_JPEG_PREFIX) {
            blocks
                .xmp
                .push(plain_block(start + XMP_JPEG_PREFIX.len()..end));
        }
    }
    blocks
}

fn png_blocks(bytes: &[u8]) -> Blocks {
    let mut blocks = Blocks::default();
    for chunk in PngChunks::new(bytes) {
        let crc_covers = Some(chunk.data.start - 4..chunk.data.end);
        match &chunk.kind {
            b"eXIf" => blocks.exif.push(Block {
                range: chunk.data,
                crc_covers,
            }),
            b"iTXt" => {
                if let Some(text) = itxt_xmp_text(&bytes[chunk.data.clone()]) {
                    let start = chunk.data.start + text.start;
                    let range = start..start + text.len();
                    blocks.xmp.push(Block { range, crc_covers });
                }
            }
            _ => {}
        }
    }
    blocks
}

/// The uncompressed XMP text inside an iTXt chunk's data, relative to the data.
// Limitation: compressed iTXt XMP is neither read nor cleaned of GPS; writers rarely compress it.
fn itxt_xmp_text(data: &[u8]) -> Option<Range<usize>> {
    let rest = data.strip_prefix(XMP_PNG_KEYWORD)?.strip_prefix(b"\0")?;
    let (&compressed, rest) = rest.split_first()?;
    if compressed != 0 {
        return None;
    }
    let rest = rest.get(1..)?;
    let language_end = rest.iter().position(|&b| b == 0)?;
    let rest = rest.get(language_end + 1..)?;
    let keyword_end = rest.iter().position(|&b| b == 0)?;
    let text_len = rest.len() - keyword_end - 1;
    Some(data.len() - text_len..data.len())
}

fn webp_blocks(bytes: &[u8]) -> Blocks {
    let mut blocks = Blocks::default();
    for chunk in WebpChunks::new(bytes) {
        match &chunk.kind {
            b"EXIF" => {
                let skip = if bytes[chunk.data.clone()].starts_with(EXIF_PREFIX) {
                    6
                } else {
                    0
                };
                blocks
                    .exif
                    .push(plain_block(chunk.data.start + skip..chunk.data.end));
            }
            b"XMP " => blocks.xmp.push(plain_block(chunk.data)),
            _ => {}
        }
    }
    blocks
}

fn plain_block(range: Range<usize>) -> Block {
    Block {
        range,
        crc_covers: None,
    }
}

/// A JPEG marker segment before the image data.
#[derive(Debug)]
pub(crate) struct JpegSegment {
    pub marker: u8,
    /// The bytes after the two length bytes.
    pub payload: Range<usize>,
}

/// The marker segments of a JPEG from SOI up to (excluding) the first SOS.
pub(crate) struct JpegSegments<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> JpegSegments<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        JpegSegments { bytes, pos: 2 }
    }
}

impl Iterator for JpegSegments<'_> {
    type Item = JpegSegment;

    fn next(&mut self) -> Option<JpegSegment> {
        loop {
            if *self.bytes.get(self.pos)? != 0xFF {
                return None;
            }
            // Any number of 0xFF fill bytes may precede a marker.
            let mut at = self.pos + 1;
            while *self.bytes.get(at)? == 0xFF {
                at += 1;
            }
            let marker = *self.bytes.get(at)?;
            if matches!(marker, 0xDA | 0xD9) {
                return None;
            }
            if matches!(marker, 0x01 | 0xD0..=0xD8) {
                self.pos = at + 1;
                continue;
            }
            let length = usize::from(be16(self.bytes, at + 1)?);
            let end = at + 1 + length;
            if length < 2 || end > self.bytes.len() {
                return None;
            }
            self.pos = end;
            return Some(JpegSegment {
                marker,
                payload: at + 3..end,
            });
        }
    }
}

/// Whether a JPEG's image data ends without an EOI marker (an interrupted upload or copy).
///
/// In entropy-coded data 0xFF is always followed by 0x00 or a restart marker, so an FF D9 pair
/// after the first SOS can only be an EOI.
pub(crate) fn jpeg_lacks_eoi(bytes: &[u8]) -> bool {
    let scan = JpegSegments::new(bytes)
        .last()
        .map_or(2, |segment| segment.payload.end);
    let rest = bytes.get(scan..).unwrap_or_default();
    let at_sos = rest
        .iter()
        .position(|&b| b != 0xFF)
        .is_some_and(|i| i > 0 && rest[i] == 0xDA);
    at_sos && !rest.windows(2).any(|pair| pair == [0xFF, 0xD9])
}

/// A PNG chunk.
#[derive(Debug)]
pub(crate) struct PngChunk {
    pub kind: [u8; 4],
    pub data: Range<usize>,
}

/// The chunks of a PNG, up to IEND or the first one that does not fit in the file.
pub(crate) struct PngChunks<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> PngChunks<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        PngChunks { bytes, pos: 8 }
    }
}

impl Iterator for PngChunks<'_> {
    type Item = PngChunk;

    fn next(&mut self) -> Option<PngChunk> {
        let length = usize::try_from(be32(self.bytes, self.pos)?).ok()?;
        let kind: [u8; 4] = self
            .bytes
            .get(self.pos + 4..self.pos + 8)?
            .try_into()
            .ok()?;
        let start = self.pos + 8;
        let end = start.checked_add(length)?;
        if end.checked_add(4)? > self.bytes.len() {
            return None;
        }
        self.pos = if &kind == b"IEND" {
            self.bytes.len()
        } else {
            end + 4
        };
        Some(PngChunk {
            kind,
            data: start..end,
        })
    }
}

/// The offset just past a PNG's IEND chunk, or the end of the file when its chunks stop
/// exactly there without one; `None` when the file stops inside a chunk.
pub(crate) fn png_end(bytes: &[u8]) -> Option<usize> {
    let mut end = 8;
    for chunk in PngChunks::new(bytes) {
        end = chunk.data.end + 4;
        if &chunk.kind == b"IEND" {
            return Some(end);
        }
    }
    (end == bytes.len()).then_some(end)
}

/// A RIFF chunk of a WebP file.
#[derive(Debug)]
pub(crate) struct WebpChunk {
    pub kind: [u8; 4],
    pub data: Range<usize>,
}

/// The top-level chunks of a WebP file.
pub(crate) struct WebpChunks<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> WebpChunks<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        let riff_end = le32(bytes, 4).and_then(|size| usize::try_from(size).ok());
        let end = riff_end.map_or(0, |size| size.saturating_add(8).min(bytes.len()));
        WebpChunks {
            bytes,
            pos: 12,
            end,
        }
    }
}

impl Iterator for WebpChunks<'_> {
    type Item = WebpChunk;

    fn next(&mut self) -> Option<WebpChunk> {
        let kind: [u8; 4] = self.bytes.get(self.pos..self.pos + 4)?.try_into().ok()?;
        let length = usize::try_from(le32(self.bytes, self.pos + 4)?).ok()?;
        let start = self.pos + 8;
        let end = start.checked_add(length)?;
        if end > self.end {
            return None;
        }
        // Chunks are padded to an even length.
        self.pos = end + (length & 1);
        Some(WebpChunk {
            kind,
            data: start..end,
        })
    }
}

/// The offset just past a WebP's RIFF chunk, as its size field gives it; `None` when the file
/// is shorter.
pub(crate) fn webp_end(bytes: &[u8]) -> Option<usize> {
    let size = usize::try_from(le32(bytes, 4)?).ok()?;
    let end = size.checked_add(8)?;
    (end <= bytes.len()).then_some(end)
}

pub(crate) fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn le16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

pub(crate) fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The CRC-32 that PNG chunks carry (ISO 3309, as in zlib).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PNG chunk with its length and CRC.
    pub(crate) fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[4..]);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    #[test]
    fn crc32_matches_the_png_reference_value() {
        // The CRC of an empty IEND chunk, as every PNG ends with it.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn png_exif_and_uncompressed_xmp_are_found() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(png_chunk(b"eXIf", b"MM\0*\0\0\0\x08"));
        png.extend(png_chunk(
            b"iTXt",
            b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>",
        ));
        png.extend(png_chunk(b"IEND", b""));

        let blocks = metadata_blocks(&png, Format::Png);

        assert_eq!(blocks.first_exif(&png), Some(&b"MM\0*\0\0\0\x08"[..]));
        assert_eq!(blocks.first_xmp(&png), Some(&b"<x:xmpmeta/>"[..]));
    }

    #[test]
    fn a_jpeg_segment_running_past_the_end_stops_the_walk() {
        let jpeg = b"\xFF\xD8\xFF\xE1\xFF\xF0Exif\0\0MM";

        assert_eq!(JpegSegments::new(jpeg).count(), 0);
        assert!(metadata_blocks(jpeg, Format::Jpeg).exif.is_empty());
    }

    #[test]
    fn a_jpeg_cut_inside_its_scan_lacks_an_eoi() {
        let complete = b"\xFF\xD8\xFF\xFE\x00\x04hi\xFF\xDA\x00\x02\x12\xFF\x00\x34\xFF\xD9";

        assert!(!jpeg_lacks_eoi(complete));
        assert!(jpeg_lacks_eoi(&complete[..complete.len() - 2]));
        assert!(
            !jpeg_lacks_eoi(b"\xFF\xD8\xFF\xFE\x00\x04hi"),
            "no scan at all"
        );
    }

    #[test]
    fn webp_exif_with_a_redundant_exif_prefix_is_found() {
        let mut webp = b"RIFF\0\0\0\0WEBP".to_vec();
        webp.extend_from_slice(b"EXIF\x0e\0\0\0Exif\0\0II*\0\x08\0\0\0");
        let riff_size = (webp.len() - 8) as u32;
        webp[4..8].copy_from_slice(&riff_size.to_le_bytes());

        let blocks = metadata_blocks(&webp, Format::WebP);

        assert_eq!(blocks.first_exif(&webp), Some(&b"II*\0\x08\0\0\0"[..]));
    }
}
