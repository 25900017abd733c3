//! Lossless GPS removal: the pixels and every other byte of the file stay as they were.
//!
//! EXIF is edited in place: the GPSInfo pointer leaves IFD0 (the entries after it move up
//! and the freed twelve bytes become zeros) and the GPS IFD with its out-of-line values is
//! zeroed. XMP `exif:GPS*` properties become spaces (all of an oversized packet that mentions
//! GPS). No length changes, so the container (JPEG segment lengths, WebP RIFF sizes) stays
//! valid; PNG chunks get their CRC rewritten. Hostile structures cost linear work: bytes that
//! many entries share are zeroed once.

use std::ops::Range;

use super::container::{crc32, Blocks};
use super::tiff::{type_len, Tiff, IFD_ENTRY_LEN};
use super::xmp;

const GPS_INFO_TAG: u16 = 0x8825;

/// Removes GPS data from the file in place; false, with nothing written, when there was none.
pub(crate) fn strip(bytes: &mut [u8], blocks: &Blocks) -> bool {
    let mut changed = false;
    for block in &blocks.exif {
        if bytes
            .get_mut(block.range.clone())
            .is_some_and(remove_gps_ifd)
        {
            fix_crc(bytes, block.crc_covers.as_ref());
            changed = true;
        }
    }
    for block in &blocks.xmp {
        if bytes
            .get_mut(block.range.clone())
            .is_some_and(xmp::strip_gps)
        {
            fix_crc(bytes, block.crc_covers.as_ref());
            changed = true;
        }
    }
    changed
}

fn fix_crc(bytes: &mut [u8], covers: Option<&Range<usize>>) {
    let Some(covers) = covers else {
        return;
    };
    let Some(crc) = bytes.get(covers.clone()).map(crc32) else {
        return;
    };
    if let Some(slot) = bytes.get_mut(covers.end..covers.end + 4) {
        slot.copy_from_slice(&crc.to_be_bytes());
    }
}

/// Removes the GPS IFD from a TIFF structure in place; false (and nothing written) when there
/// is none or the structure is unreadable.
pub(crate) fn remove_gps_ifd(tiff: &mut [u8]) -> bool {
    let Some(io) = Tiff::of(tiff) else {
        return false;
    };
    let Some(ifd0) = io.u32(tiff, 4) else {
        return false;
    };
    let Some(count) = io.u16(tiff, ifd0).map(usize::from) else {
        return false;
    };
    let entries = ifd0 + 2;
    let present = count.min(tiff.len().saturating_sub(entries) / IFD_ENTRY_LEN);
    let entry_at = |i: usize| entries + i * IFD_ENTRY_LEN;
    let Some(index) = (0..present).find(|&i| io.u16(tiff, entry_at(i)) == Some(GPS_INFO_TAG))
    else {
        return false;
    };

    let table = ifd0..entry_at(count) + 4;
    if let Some(gps_ifd) = io.u32(tiff, entry_at(index) + 8) {
        zero_ifd(tiff, io, gps_ifd, &table);
    }
    remove_entry(tiff, io, ifd0, count, index);
    true
}

/// Drops entry `index` from the IFD at `ifd`, moving the later entries and the next-IFD
/// pointer up by one entry.
fn remove_entry(tiff: &mut [u8], io: Tiff, ifd: usize, count: usize, index: usize) {
    let entries = ifd + 2;
    let moved = entries + (index + 1) * IFD_ENTRY_LEN..(entries + count * IFD_ENTRY_LEN + 4);
    let moved = moved.start..moved.end.min(tiff.len());
    let freed_end = moved.end - IFD_ENTRY_LEN;
    tiff.copy_within(moved.clone(), entries + index * IFD_ENTRY_LEN);
    tiff[freed_end..moved.end].fill(0);
    io.put_u16(tiff, ifd, (count - 1) as u16);
}

/// Zeroes an IFD and the values it points to, sparing `protected` (IFD0's own table, which a
/// hostile file could make the GPS IFD overlap).
fn zero_ifd(tiff: &mut [u8], io: Tiff, ifd: usize, protected: &Range<usize>) {
    let Some(count) = io.u16(tiff, ifd).map(usize::from) else {
        return;
    };
    let mut ranges = Vec::with_capacity(count + 1);
    ranges.push(ifd..ifd + 2 + count * IFD_ENTRY_LEN + 4);
    for i in 0..count {
        let entry = ifd + 2 + i * IFD_ENTRY_LEN;
        let (Some(kind), Some(n)) = (io.u16(tiff, entry + 2), io.u32(tiff, entry + 4)) else {
            break;
        };
        let len = type_len(kind).saturating_mul(n);
        // Values of four bytes or less sit inside the entry itself.
        if len > 4 {
            if let Some(at) = io.u32(tiff, entry + 8) {
                ranges.push(at..at.saturating_add(len));
            }
        }
    }
    zero(tiff, ranges, protected);
}

/// Zeroes the ranges that spare `protected`, each byte once: a hostile GPS IFD can point all
/// of its 65,535 entries at the same megabyte, and zeroing entry by entry would be quadratic.
fn zero(tiff: &mut [u8], mut ranges: Vec<Range<usize>>, protected: &Range<usize>) {
    let len = tiff.len();
    ranges.retain_mut(|range| {
        *range = range.start.min(len)..range.end.min(len);
        !(range.start < protected.end && protected.start < range.end)
    });
    ranges.sort_unstable_by_key(|range| range.start);
    // Everything below `done` is zero already.
    let mut done = 0;
    for range in ranges {
        let start = range.start.max(done);
        if start < range.end {
            tiff[start..range.end].fill(0);
            done = range.end;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::imaging::container::{be32, metadata_blocks};
    use crate::imaging::tags::tests::tiff_le;
    use crate::imaging::Format;
    use exif::{Context, In, Tag};

    /// EXIF with Make "Cam", Orientation 6 and a GPS IFD (latitude 48° N), little-endian.
    pub(crate) fn exif_with_gps() -> Vec<u8> {
        // IFD0 at 8 holds 3 entries: 8 + 2 + 36 + 4 = 50, where the GPS IFD starts.
        let gps_at = 50u32;
        let lat_at = gps_at + 2 + 2 * 12 + 4;
        let mut extra = 2u16.to_le_bytes().to_vec();
        extra.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
        extra.extend_from_slice(&[2, 0, 5, 0, 3, 0, 0, 0]);
        extra.extend_from_slice(&lat_at.to_le_bytes());
        extra.extend_from_slice(&[0; 4]);
        for (num, den) in [(48u32, 1u32), (51, 1), (2400, 100)] {
            extra.extend_from_slice(&num.to_le_bytes());
            extra.extend_from_slice(&den.to_le_bytes());
        }
        tiff_le(
            &[
                (0x010F, 2, 4, *b"Cam\0"),
                (0x0112, 3, 1, [6, 0, 0, 0]),
                (0x8825, 4, 1, gps_at.to_le_bytes()),
            ],
            &extra,
        )
    }

    fn has_gps(tiff: &[u8]) -> bool {
        let exif = exif::Reader::new()
            .read_raw(tiff.to_vec())
            .expect("EXIF still parses");
        let found = exif
            .fields()
            .any(|f| f.tag.context() == Context::Gps || f.tag == Tag::GPSInfoIFDPointer);
        found
    }

    #[test]
    fn the_gps_ifd_is_removed_and_other_tags_survive() {
        let mut tiff = exif_with_gps();
        assert!(has_gps(&tiff));

        assert!(remove_gps_ifd(&mut tiff));

        assert!(!has_gps(&tiff));
        assert!(
            !tiff.windows(8).any(|w| w == [48, 0, 0, 0, 1, 0, 0, 0]),
            "latitude is gone"
        );
        let exif = exif::Reader::new().read_raw(tiff).expect("parses");
        let make = exif.get_field(Tag::Make, In::PRIMARY).expect("Make kept");
        assert_eq!(make.display_value().to_string(), "\"Cam\"");
        let orientation = exif.get_field(Tag::Orientation, In::PRIMARY).expect("kept");
        assert_eq!(orientation.value.get_uint(0), Some(6));
    }

    #[test]
    fn exif_without_gps_is_left_alone() {
        let original = tiff_le(&[(0x0112, 3, 1, [6, 0, 0, 0])], b"");
        let mut tiff = original.clone();

        assert!(!remove_gps_ifd(&mut tiff));
        assert_eq!(tiff, original);
    }

    #[test]
    fn a_gps_pointer_into_ifd0_itself_does_not_panic() {
        let mut tiff = tiff_le(&[(0x8825, 4, 1, 8u32.to_le_bytes())], b"");

        assert!(remove_gps_ifd(&mut tiff));
    }

    #[test]
    fn a_png_exif_chunk_gets_a_valid_crc_after_stripping() {
        let tiff = exif_with_gps();
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&(tiff.len() as u32).to_be_bytes());
        png.extend_from_slice(b"eXIf");
        png.extend_from_slice(&tiff);
        png.extend_from_slice(&crc32(&png[12..]).to_be_bytes());

        let mut stripped = png.clone();
        assert!(strip(&mut stripped, &metadata_blocks(&png, Format::Png)));

        let data_end = 16 + tiff.len();
        assert_ne!(stripped, png);
        assert_eq!(
            be32(&stripped, data_end),
            Some(crc32(&stripped[12..data_end]))
        );
        assert!(!has_gps(&stripped[16..data_end]));
    }

    /// A GPS IFD of 65,535 entries that all point at the same 16 MiB: zeroing entry by entry
    /// wrote a terabyte.
    #[test]
    fn gps_entries_sharing_one_large_value_are_zeroed_once() {
        let entries = u16::MAX;
        let gps_at = 8 + 2 + 12 + 4;
        let values = gps_at + 2 + u32::from(entries) * 12 + 4;
        let value_len = 16u32 << 20;
        let mut extra = entries.to_le_bytes().to_vec();
        for _ in 0..entries {
            extra.extend_from_slice(&[2, 0, 7, 0]);
            extra.extend_from_slice(&value_len.to_le_bytes());
            extra.extend_from_slice(&values.to_le_bytes());
        }
        extra.extend_from_slice(&[0; 4]);
        extra.resize(extra.len() + value_len as usize, 0x48);
        let mut tiff = tiff_le(&[(0x8825, 4, 1, gps_at.to_le_bytes())], &extra);

        assert!(remove_gps_ifd(&mut tiff));

        assert!(tiff[gps_at as usize..].iter().all(|&b| b == 0));
        assert_eq!(&tiff[8..10], &[0, 0], "IFD0 lost its only entry");
    }
}
