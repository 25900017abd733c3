//! Walks the blocks of a GIF without decoding any: the logical screen, the frames drawn on it,
//! and where the GIF's own bytes end.

use super::container::le16;

const IMAGE_DESCRIPTOR: u8 = 0x2C;
const EXTENSION: u8 = 0x21;
const TRAILER: u8 = 0x3B;

/// What the block structure of a GIF holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Image descriptors found.
    pub frames: usize,
    /// The smallest canvas that holds every frame: their largest right and bottom edges.
    pub extent: (u32, u32),
    /// Where the GIF's bytes end: just past the trailer, or at the first byte that starts no
    /// block (a file without a trailer). `None` when the file stops inside a block.
    pub end: Option<usize>,
}

/// The logical screen's width and height, from the header.
pub(crate) fn screen(bytes: &[u8]) -> Option<(u32, u32)> {
    Some((u32::from(le16(bytes, 6)?), u32::from(le16(bytes, 8)?)))
}

/// Reads every block header once, skipping over the data.
pub(crate) fn layout(bytes: &[u8]) -> Layout {
    let mut layout = Layout::default();
    let Some(mut pos) = blocks_start(bytes) else {
        return layout;
    };
    loop {
        let next = match bytes.get(pos) {
            Some(&IMAGE_DESCRIPTOR) => {
                layout.add_frame(bytes, pos);
                skip_image(bytes, pos)
            }
            Some(&EXTENSION) => skip_sub_blocks(bytes, pos + 2),
            Some(&TRAILER) => {
                layout.end = Some(pos + 1);
                return layout;
            }
            Some(_) => {
                layout.end = Some(pos);
                return layout;
            }
            None => {
                layout.end = (pos == bytes.len()).then_some(pos);
                return layout;
            }
        };
        match next {
            Some(next) => pos = next,
            None => return layout,
        }
    }
}

impl Layout {
    fn add_frame(&mut self, bytes: &[u8], pos: usize) {
        let field = |at: usize| le16(bytes, pos + at).map_or(0, u32::from);
        self.frames += 1;
        self.extent.0 = self.extent.0.max(field(1) + field(5));
        self.extent.1 = self.extent.1.max(field(3) + field(7));
    }
}

/// The offset after the header, logical screen descriptor and global colour table.
fn blocks_start(bytes: &[u8]) -> Option<usize> {
    let flags = *bytes.get(10)?;
    Some(13 + colour_table_len(flags))
}

fn colour_table_len(flags: u8) -> usize {
    if flags & 0x80 == 0 {
        0
    } else {
        3 << ((flags & 0x07) + 1)
    }
}

/// Skips an image descriptor, its local colour table and its LZW data.
fn skip_image(bytes: &[u8], pos: usize) -> Option<usize> {
    let flags = *bytes.get(pos + 9)?;
    let lzw_start = pos + 10 + colour_table_len(flags);
    // One byte of LZW minimum code size precedes the data sub-blocks.
    skip_sub_blocks(bytes, lzw_start + 1)
}

/// Skips a chain of length-prefixed sub-blocks ending with an empty one.
fn skip_sub_blocks(bytes: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = usize::from(*bytes.get(pos)?);
        pos += 1 + len;
        if len == 0 {
            return Some(pos);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A GIF89a with the given logical screen and one frame per `(left, top, width, height)`,
    /// each holding one LZW sub-block, and the trailer.
    pub(crate) fn gif(screen: (u16, u16), frames: &[(u16, u16, u16, u16)]) -> Vec<u8> {
        let mut out = b"GIF89a".to_vec();
        for side in [screen.0, screen.1] {
            out.extend_from_slice(&side.to_le_bytes());
        }
        // A global colour table of two entries: white and black.
        out.extend_from_slice(&[0x80, 0, 0, 255, 255, 255, 0, 0, 0]);
        for &(left, top, width, height) in frames {
            out.push(IMAGE_DESCRIPTOR);
            for field in [left, top, width, height] {
                out.extend_from_slice(&field.to_le_bytes());
            }
            out.extend_from_slice(&[0, 2, 2, 0x44, 0x01, 0]);
        }
        out.push(TRAILER);
        out
    }

    #[test]
    fn frames_their_extent_and_the_end_are_found() {
        let mut bytes = gif((40, 30), &[(0, 0, 40, 20), (10, 20, 5, 10)]);
        let trailer_end = bytes.len();
        bytes.extend_from_slice(b"tail");

        assert_eq!(
            layout(&bytes),
            Layout {
                frames: 2,
                extent: (40, 30),
                end: Some(trailer_end),
            }
        );
        assert_eq!(screen(&bytes), Some((40, 30)));
    }

    #[test]
    fn a_file_cut_inside_a_block_has_no_end() {
        let bytes = gif((4, 4), &[(0, 0, 4, 4)]);
        let cases = [
            (bytes.len() - 1, Some(bytes.len() - 1)),
            (bytes.len() - 3, None),
            (20, None),
            (14, None),
        ];

        for (cut, end) in cases {
            assert_eq!(layout(&bytes[..cut]).end, end, "cut at {cut}");
        }
    }
}
