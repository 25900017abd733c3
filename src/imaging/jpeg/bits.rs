//! The bit reader of entropy-coded data: a 64-bit buffer, most significant bit first, refilled
//! eight bytes at a time where no 0xFF byte is near, byte by byte (undoing the 0xFF00 stuffing)
//! where one is.
//!
//! The reader never steps over a marker. At a marker, or at the end of the input, it supplies
//! zero bits for as long as it is asked: a file cut short then decodes to the end of its frame,
//! the missing blocks flat, and the caller's loops, bounded by the frame's block count, stop.

/// Reads the entropy-coded bits of one scan, starting at a byte offset of the file.
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    /// The next byte not yet in `bits`.
    pos: usize,
    /// Unread bits, aligned left; every bit below the first `count` is zero.
    bits: u64,
    /// How many bits of `bits` are unread; always below 64.
    count: u32,
    /// A marker or the end of the data stopped the refills; zero bits follow.
    is_stopped: bool,
}

/// Each byte of a word, 0x01 or 0x80: the carries of the zero-byte test.
const LOW_BITS: u64 = 0x0101_0101_0101_0101;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

impl<'a> BitReader<'a> {
    pub fn new(data: &'a [u8], pos: usize) -> BitReader<'a> {
        BitReader {
            data,
            pos,
            bits: 0,
            count: 0,
            is_stopped: false,
        }
    }

    /// The offset of the first byte the reader has not taken; the next marker is at or after it.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Makes at least 32 bits readable: the most one Huffman code (16) and its value (15) take.
    #[inline(always)]
    pub fn ensure(&mut self) {
        if self.count < 32 {
            self.refill();
        }
    }

    /// The next `n` bits (1 to 32) as a number, without taking them.
    #[inline(always)]
    pub fn peek(&self, n: u32) -> u32 {
        (self.bits >> (64 - n)) as u32
    }

    /// Takes `n` bits, at most what was made readable.
    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        self.bits = self.bits.wrapping_shl(n);
        self.count = self.count.saturating_sub(n);
    }

    /// Takes `size` bits (0 to 15) and extends them to the signed value they code.
    #[inline(always)]
    pub fn receive(&mut self, size: u32) -> i32 {
        if size == 0 {
            return 0;
        }
        let raw = self.peek(size);
        self.consume(size);
        extend(raw, size)
    }

    /// Drops the buffered bits and steps over the restart marker due here. When none is here
    /// (damaged data), reading goes on as it was: on from here, or zero bits after another
    /// marker.
    pub fn restart(&mut self) {
        self.bits = 0;
        self.count = 0;
        let marker = self.data.get(self.pos..self.pos + 2);
        if let Some(&[0xFF, code]) = marker {
            if (0xD0..=0xD7).contains(&code) {
                self.pos += 2;
                self.is_stopped = false;
            }
        }
    }

    fn refill(&mut self) {
        if self.is_stopped {
            self.count = 63;
            return;
        }
        if let Some(word) = self.data.get(self.pos..self.pos + 8) {
            let word = u64::from_be_bytes(word.try_into().unwrap_or([0xFF; 8]));
            if !has_ff_byte(word) {
                let taken = (63 - self.count) / 8;
                let count = self.count + taken * 8;
                self.bits |= (word >> self.count) & !(u64::MAX >> count);
                self.count = count;
                self.pos += taken as usize;
                return;
            }
        }
        self.refill_bytewise();
    }

    fn refill_bytewise(&mut self) {
        while self.count <= 56 {
            let byte = match self.data.get(self.pos) {
                Some(&0xFF) if self.data.get(self.pos + 1) == Some(&0x00) => {
                    self.pos += 2;
                    0xFF
                }
                Some(&0xFF) | None => {
                    self.is_stopped = true;
                    self.count = 63;
                    return;
                }
                Some(&byte) => {
                    self.pos += 1;
                    byte
                }
            };
            self.bits |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }
}

/// The value coded by `size` bits `raw`: the upper half of the range stands for itself, the
/// lower half for the negative numbers of the same magnitudes.
#[inline(always)]
pub(super) fn extend(raw: u32, size: u32) -> i32 {
    let raw = raw as i32;
    if raw < 1 << (size - 1) {
        raw - (1 << size) + 1
    } else {
        raw
    }
}

/// Whether some byte of `word` is 0xFF: a byte of `!word` is zero, which the borrow of the
/// subtraction shows in that byte's high bit.
fn has_ff_byte(word: u64) -> bool {
    let inverted = !word;
    inverted.wrapping_sub(LOW_BITS) & !inverted & HIGH_BITS != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &[u8], sizes: &[u32]) -> Vec<u32> {
        let mut reader = BitReader::new(data, 0);
        sizes
            .iter()
            .map(|&size| {
                reader.ensure();
                let value = reader.peek(size);
                reader.consume(size);
                value
            })
            .collect()
    }

    #[test]
    fn stuffed_ff_bytes_read_as_ff_and_a_marker_ends_the_data_with_zero_bits() {
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD9, 0x56];

        let values = read(&data, &[8, 8, 8, 8, 8]);

        assert_eq!(values, [0x12, 0xFF, 0x34, 0, 0]);
    }

    #[test]
    fn the_bulk_refill_reads_the_same_bits_as_the_bytewise_one() {
        let data: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37)).collect();
        let sizes = [
            3, 13, 7, 16, 1, 9, 11, 5, 16, 16, 2, 15, 8, 8, 12, 4, 16, 16,
        ];

        let values = read(&data, &sizes);

        let mut expected = Vec::new();
        let mut at = 0usize;
        for size in sizes {
            let mut value = 0u32;
            for _ in 0..size {
                let bit = data.get(at / 8).map_or(0, |byte| byte >> (7 - at % 8) & 1);
                value = value << 1 | u32::from(bit);
                at += 1;
            }
            expected.push(value);
        }
        assert_eq!(values, expected);
    }

    #[test]
    fn a_restart_steps_over_its_marker_and_reads_on() {
        let data = [0xAB, 0xFF, 0xD3, 0xCD];
        let mut reader = BitReader::new(&data, 0);
        reader.ensure();
        assert_eq!(reader.peek(8), 0xAB);

        reader.restart();
        reader.ensure();

        assert_eq!(reader.peek(8), 0xCD);
        assert_eq!(reader.position(), 4);
    }

    #[test]
    fn a_reader_stopped_at_another_marker_stays_stopped_after_a_restart() {
        let data = [0xAB, 0xFF, 0xD9, 0xCD];
        let mut reader = BitReader::new(&data, 0);
        reader.ensure();

        reader.restart();
        reader.ensure();

        assert_eq!(reader.peek(32), 0);
        assert_eq!(reader.position(), 1);
    }

    #[test]
    fn values_extend_to_both_signs() {
        let cases = [
            (0b0, 1, -1),
            (0b1, 1, 1),
            (0b00, 2, -3),
            (0b01, 2, -2),
            (0b11, 2, 3),
        ];
        for (raw, size, value) in cases {
            assert_eq!(extend(raw, size), value, "{raw:b} in {size} bits");
        }
    }

    #[test]
    fn the_ff_test_finds_ff_in_any_byte_and_only_there() {
        let near_misses = [0, 0xFEFE_FEFE_FEFE_FEFE, 0x7F80_7F80_FE01_00FE];
        for word in near_misses {
            assert!(!has_ff_byte(word), "{word:x}");
            for at in 0..8 {
                let with_ff = word | 0xFF << (at * 8);
                assert!(has_ff_byte(with_ff), "{with_ff:x}");
            }
        }
    }
}
