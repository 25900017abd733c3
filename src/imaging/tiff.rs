//! Bounds-checked reads of a TIFF structure, the layout EXIF uses: the byte order, field
//! sizes, and what parsing a structure would cost before the `exif` crate is let at it.

use std::collections::HashSet;

use super::container::{be16, be32, le16, le32};

/// The size of one IFD entry: tag, type, count and a value or offset.
pub(crate) const IFD_ENTRY_LEN: usize = 12;

/// Tags whose value is the offset of another IFD: Exif, GPS and Interoperability.
const IFD_POINTER_TAGS: [u16; 3] = [0x8769, 0x8825, 0xA005];

/// IFD0, the thumbnail's IFD1 and the rare ones after them; the `exif` crate reads no more.
const MAX_CHAINED_IFDS: usize = 8;

/// Byte-order aware reads and writes of a TIFF structure.
#[derive(Clone, Copy)]
pub(crate) struct Tiff {
    little_endian: bool,
}

impl Tiff {
    /// The byte order the header declares; `None` for anything that is not a TIFF header.
    pub fn of(tiff: &[u8]) -> Option<Tiff> {
        match tiff.get(0..2)? {
            b"II" => Some(Tiff {
                little_endian: true,
            }),
            b"MM" => Some(Tiff {
                little_endian: false,
            }),
            _ => None,
        }
    }

    pub fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        if self.little_endian {
            le16(bytes, at)
        } else {
            be16(bytes, at)
        }
    }

    pub fn u32(self, bytes: &[u8], at: usize) -> Option<usize> {
        let value = if self.little_endian {
            le32(bytes, at)
        } else {
            be32(bytes, at)
        };
        value.and_then(|v| usize::try_from(v).ok())
    }

    pub fn put_u16(self, bytes: &mut [u8], at: usize, value: u16) {
        let encoded = if self.little_endian {
            value.to_le_bytes()
        } else {
            value.to_be_bytes()
        };
        if let Some(slot) = bytes.get_mut(at..at + 2) {
            slot.copy_from_slice(&encoded);
        }
    }
}

/// Bytes per value of a TIFF field type; 0 for unknown types.
pub(crate) fn type_len(kind: u16) -> usize {
    match kind {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => 0,
    }
}

/// Whether parsing `tiff` would cost time and memory in proportion to its size.
///
/// The `exif` crate keeps every entry it reaches and copies out every value. In a structure
/// that a camera or editor writes, no two entries and no two values share bytes, so that is
/// at most the structure's own size. A hostile one points thousands of entries at the same
/// bytes, or thousands of IFD pointers into one run of entries, and a 64 KiB JPEG segment
/// would then cost gigabytes. This walk visits everything the crate would (and a little
/// more) and stops as soon as twice the structure's size is spent, so it is linear itself.
pub(crate) fn has_linear_parse_cost(tiff: &[u8]) -> bool {
    let Some(io) = Tiff::of(tiff) else {
        // The crate refuses the structure outright.
        return true;
    };
    let mut walk = Walk {
        tiff,
        io,
        budget: 2 * tiff.len(),
        seen: HashSet::new(),
        children: Vec::new(),
    };
    walk.run().is_some()
}

/// A budgeted visit of every IFD reachable from the header.
struct Walk<'a> {
    tiff: &'a [u8],
    io: Tiff,
    /// Bytes of entries and values still allowed; running out makes the visit fail.
    budget: usize,
    seen: HashSet<usize>,
    /// IFDs that pointer entries lead to, still to be visited.
    children: Vec<usize>,
}

impl Walk<'_> {
    /// `None` as soon as the budget is spent.
    fn run(&mut self) -> Option<()> {
        let mut next = self.io.u32(self.tiff, 4);
        for _ in 0..MAX_CHAINED_IFDS {
            match next {
                Some(ifd) if ifd != 0 => next = self.visit(ifd)?,
                _ => break,
            }
        }
        while let Some(child) = self.children.pop() {
            self.visit(child)?;
        }
        Some(())
    }

    /// Charges the IFD at `ifd` and queues the IFDs it points to; the result is the offset of
    /// the next IFD in the chain, if it has one.
    fn visit(&mut self, ifd: usize) -> Option<Option<usize>> {
        // The crate parses an offset once; a second visit ends that branch.
        if !self.seen.insert(ifd) {
            return Some(None);
        }
        let Some(count) = self.io.u16(self.tiff, ifd) else {
            return Some(None);
        };
        let entries = ifd + 2;
        for i in 0..usize::from(count) {
            let entry = entries + i * IFD_ENTRY_LEN;
            if entry + IFD_ENTRY_LEN > self.tiff.len() {
                return Some(None);
            }
            self.spend(IFD_ENTRY_LEN)?;
            self.entry(entry)?;
        }
        let next = entries + usize::from(count) * IFD_ENTRY_LEN;
        Some(self.io.u32(self.tiff, next))
    }

    /// Charges one entry's value and queues the IFD it points to, if it is a pointer.
    fn entry(&mut self, entry: usize) -> Option<()> {
        let (tiff, io) = (self.tiff, self.io);
        let kind = io.u16(tiff, entry + 2).unwrap_or(0);
        let count = io.u32(tiff, entry + 4).unwrap_or(0);
        let len = type_len(kind).saturating_mul(count);
        let at = if len <= 4 {
            entry + 8
        } else {
            io.u32(tiff, entry + 8).unwrap_or(usize::MAX)
        };
        let fits = at.checked_add(len).is_some_and(|end| end <= tiff.len());
        if !fits {
            // The crate skips a value that does not fit.
            return Some(());
        }
        if len > 4 {
            self.spend(len)?;
        }
        let tag = io.u16(tiff, entry).unwrap_or(0);
        if IFD_POINTER_TAGS.contains(&tag) {
            let child = match kind {
                1 => tiff.get(at).map(|&b| usize::from(b)),
                3 => io.u16(tiff, at).map(usize::from),
                4 => io.u32(tiff, at),
                _ => None,
            };
            self.children.extend(child);
        }
        Some(())
    }

    fn spend(&mut self, bytes: usize) -> Option<()> {
        self.budget = self.budget.checked_sub(bytes)?;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imaging::gps::tests::exif_with_gps;
    use crate::imaging::tags::tests::tiff_le;

    /// IFD0 with `entries` UNDEFINED entries, every one pointing at the same `value_len` bytes.
    fn shared_values(entries: u16, value_len: u32) -> Vec<u8> {
        let values = 8 + 2 + u32::from(entries) * 12 + 4;
        let entry = (0x9286, 7, value_len, values.to_le_bytes());
        let list = vec![entry; usize::from(entries)];
        tiff_le(&list, &vec![b'x'; value_len as usize])
    }

    /// IFD0 with `pointers` Exif IFD pointers to consecutive offsets inside a run of 0x10
    /// bytes, each of which reads as an IFD of 4,112 entries.
    fn nested_ifds(pointers: u16, run: usize) -> Vec<u8> {
        let run_at = 8 + 2 + u32::from(pointers) * 12 + 4;
        let list: Vec<_> = (0..u32::from(pointers))
            .map(|i| (0x8769, 4, 1, (run_at + 2 * i).to_le_bytes()))
            .collect();
        tiff_le(&list, &vec![0x10; run])
    }

    #[test]
    fn ordinary_exif_is_cheap_to_parse() {
        assert!(has_linear_parse_cost(&exif_with_gps()));
        assert!(has_linear_parse_cost(&shared_values(1, 60_000)));
        assert!(has_linear_parse_cost(b"not a TIFF structure"));
    }

    #[test]
    fn entries_sharing_their_values_or_ifds_nested_in_each_other_are_too_costly() {
        assert!(!has_linear_parse_cost(&shared_values(3, 60_000)));
        assert!(!has_linear_parse_cost(&nested_ifds(2_000, 60_000)));
    }

    #[test]
    fn an_ifd_chain_looping_back_on_itself_ends() {
        let mut tiff = tiff_le(&[(0x0112, 3, 1, [6, 0, 0, 0])], b"");
        let next = tiff.len() - 4;
        tiff[next..].copy_from_slice(&8u32.to_le_bytes());

        assert!(has_linear_parse_cost(&tiff));
    }
}
