//! Huffman tables from a DHT segment, built for decoding by lookahead: the next 9 bits find any
//! code of up to 9 bits in one step, and for AC tables also the coefficient it starts (run of
//! zeros, value with its extra bits) when code and value fit in those 9 bits together. A second
//! AC table, by the next 11 bits, steps over one or two coefficients whose values a reduced
//! decode does not need. Longer codes are found from the canonical code ranges of each length.

use super::bits::{extend, BitReader};
use super::JpegError;

/// Bits of lookahead: codes up to this long are found in one table step.
pub(super) const LOOKAHEAD: u32 = 9;
const SLOTS: usize = 1 << LOOKAHEAD;
const SLOT_MASK: u32 = SLOTS as u32 - 1;

/// Bits of lookahead of the skip table.
const SKIP_LOOKAHEAD: u32 = 11;
const SKIP_SLOTS: usize = 1 << SKIP_LOOKAHEAD;

/// The run of a symbol that ends the block (EOB): it carries the position past the last one.
pub(super) const END_OF_BLOCK_RUN: u32 = 63;

/// One decoding table.
pub(super) struct Huffman {
    /// By the next 9 bits: `length << 8 | symbol` of the code they start, 0 for longer codes.
    short: [u16; SLOTS],
    /// AC tables, by the next 9 bits: `value << 16 | run << 8 | bits` of a whole coefficient
    /// (code and value bits), 0 when they need more than 9 bits.
    coefficient: [i32; SLOTS],
    /// AC tables, by the next 11 bits: how to step over the coefficients they code (see
    /// [`Skip`]); 0 when the code is longer.
    skip: Vec<u32>,
    /// By code length: the first code, aligned right.
    first_code: [u32; 17],
    /// By code length: how many codes have it.
    count: [u32; 17],
    /// By code length: where its symbols begin in `symbols`.
    first_index: [u32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    /// Builds a table from the code counts by length (1 to 16 bits) and the symbols in code
    /// order, refusing counts that overfill the code space.
    pub fn new(counts: &[u8; 16], symbols: &[u8], is_ac: bool) -> Result<Box<Huffman>, JpegError> {
        let total: usize = counts.iter().map(|&n| usize::from(n)).sum();
        if total != symbols.len() || total > 256 {
            return Err(JpegError::Corrupt("Huffman table size"));
        }
        let mut table = Box::new(Huffman {
            short: [0; SLOTS],
            coefficient: [0; SLOTS],
            skip: Vec::new(),
            first_code: [0; 17],
            count: [0; 17],
            first_index: [0; 17],
            symbols: symbols.to_vec(),
        });
        let mut code = 0u32;
        let mut index = 0u32;
        for (length, &n) in (1u32..).zip(counts) {
            table.first_code[length as usize] = code;
            table.first_index[length as usize] = index;
            table.count[length as usize] = u32::from(n);
            for symbol in symbols.iter().skip(index as usize).take(usize::from(n)) {
                if length <= LOOKAHEAD {
                    table.fill_short(code, length, *symbol);
                }
                code += 1;
            }
            index += u32::from(n);
            if code > 1 << length {
                return Err(JpegError::Corrupt("overfull Huffman table"));
            }
            code <<= 1;
        }
        if is_ac {
            table.fill_ac();
        }
        Ok(table)
    }

    /// Every lookahead that starts with `code` finds its symbol.
    fn fill_short(&mut self, code: u32, length: u32, symbol: u8) {
        let spread = LOOKAHEAD - length;
        let first = (code << spread) as usize;
        let entry = (length as u16) << 8 | u16::from(symbol);
        if let Some(slots) = self.short.get_mut(first..first + (1 << spread)) {
            slots.fill(entry);
        }
    }

    fn fill_ac(&mut self) {
        self.skip = (0..SKIP_SLOTS as u32)
            .map(|slot| self.skip_entry(slot))
            .collect();
        for (slot, &entry) in self.short.iter().enumerate() {
            if entry == 0 {
                continue;
            }
            let length = u32::from(entry >> 8);
            let (run, size) = run_and_size(entry as u8);
            let bits = length + size;
            if bits <= LOOKAHEAD {
                let raw = (slot as u32 >> (LOOKAHEAD - bits)) & ((1 << size) - 1);
                let value = if size == 0 { 0 } else { extend(raw, size) };
                self.coefficient[slot] = value << 16 | (run << 8 | bits) as i32;
            }
        }
    }

    /// The skip entry of the 11 bits `slot`: the first coefficient, and both when a second one
    /// fits in those bits too.
    fn skip_entry(&self, slot: u32) -> u32 {
        let window = slot << (16 - SKIP_LOOKAHEAD);
        let Some((length, symbol)) = self.code_at(window) else {
            return 0;
        };
        if length > SKIP_LOOKAHEAD {
            return 0;
        }
        let (run, size) = run_and_size(symbol);
        let first = Skip::pack(length + size, run + 1);
        if length + size >= SKIP_LOOKAHEAD || run + 1 >= 64 {
            return first;
        }
        let rest = (window << (length + size)) & 0xFFFF;
        let Some((second_length, second_symbol)) = self.code_at(rest) else {
            return first;
        };
        let (second_run, second_size) = run_and_size(second_symbol);
        let bits = length + size + second_length + second_size;
        if bits > SKIP_LOOKAHEAD {
            return first;
        }
        first | Skip::pack(bits, run + 1 + second_run + 1) << 12
    }

    /// The code at the start of the 16 bits `window`, with its length.
    fn code_at(&self, window: u32) -> Option<(u32, u8)> {
        (1..=16u32).find_map(|length| {
            let at = length as usize;
            let rank = (window >> (16 - length)).wrapping_sub(self.first_code[at]);
            if rank < self.count[at] {
                let index = (self.first_index[at] + rank) as usize;
                self.symbols.get(index).map(|&symbol| (length, symbol))
            } else {
                None
            }
        })
    }

    /// The next symbol, its code taken from `reader`, which must hold 16 readable bits.
    #[inline(always)]
    pub fn decode(&self, reader: &mut BitReader) -> Result<u8, JpegError> {
        let entry = self.short[(reader.peek(LOOKAHEAD) & SLOT_MASK) as usize];
        if entry != 0 {
            reader.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        self.decode_long(reader)
    }

    fn decode_long(&self, reader: &mut BitReader) -> Result<u8, JpegError> {
        let bits = reader.peek(16);
        for length in LOOKAHEAD + 1..=16 {
            let at = length as usize;
            let code = bits >> (16 - length);
            let rank = code.wrapping_sub(self.first_code[at]);
            if rank < self.count[at] {
                reader.consume(length);
                let index = (self.first_index[at] + rank) as usize;
                return self
                    .symbols
                    .get(index)
                    .copied()
                    .ok_or(JpegError::Corrupt("Huffman symbol"));
            }
        }
        Err(JpegError::Corrupt("no Huffman code matches"))
    }

    /// The whole-coefficient entry for the next bits (see `coefficient`); 0 when the slow way
    /// is needed.
    #[inline(always)]
    pub fn coefficient(&self, reader: &BitReader) -> i32 {
        self.coefficient[(reader.peek(LOOKAHEAD) & SLOT_MASK) as usize]
    }

    /// The skip entry for the next bits (see [`Skip`]); 0 when the slow way is needed.
    #[inline(always)]
    pub fn skip(&self, reader: &BitReader) -> u32 {
        let slot = reader.peek(SKIP_LOOKAHEAD) as usize;
        self.skip.get(slot).copied().unwrap_or(0)
    }
}

/// The layout of a skip entry: bits 0-11 step over the next coefficient, bits 12-23 over the
/// next two (0 when the second does not fit the lookahead); each half is `advance << 5 | bits`,
/// where `bits` is what its codes and values take and `advance` how many zigzag positions
/// they cover (64 or more at the end of the block).
pub(super) struct Skip;

impl Skip {
    const fn pack(bits: u32, advance: u32) -> u32 {
        advance << 5 | bits
    }

    /// The bits and the advance of one half.
    #[inline(always)]
    pub fn unpack(half: u32) -> (u32, usize) {
        (half & 31, (half >> 5 & 127) as usize)
    }
}

/// The zeros before an AC coefficient and the bits of its value, from its symbol. EOB, and
/// the zero-size symbols other than a run of 16 zeros (which the standard leaves undefined),
/// end the block.
#[inline(always)]
pub(super) fn run_and_size(symbol: u8) -> (u32, u32) {
    let run = u32::from(symbol >> 4);
    let size = u32::from(symbol & 15);
    if size == 0 && run != 15 {
        (END_OF_BLOCK_RUN, 0)
    } else {
        (run, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes 0 (A, 1 bit), 10 (B, 2 bits), 110 (C), and 10 more of 12 bits from 1110_0000_0000.
    fn table(is_ac: bool) -> Box<Huffman> {
        let mut counts = [0u8; 16];
        counts[0] = 1;
        counts[1] = 1;
        counts[2] = 1;
        counts[11] = 10;
        let symbols: Vec<u8> = (0..13).map(|i| 0x11 + i).collect();
        Huffman::new(&counts, &symbols, is_ac).expect("a valid table")
    }

    fn decode_all(table: &Huffman, data: &[u8], n: usize) -> Vec<u8> {
        let mut reader = BitReader::new(data, 0);
        (0..n)
            .map(|_| {
                reader.ensure();
                table.decode(&mut reader).expect("decodes")
            })
            .collect()
    }

    #[test]
    fn short_and_long_codes_decode_to_their_symbols() {
        // 0 | 10 | 110 | 1110_0000_0001 | 1110_0000_1001 | 0 ...
        let data = [0b0101_1011, 0b1000_0000, 0b0111_1000, 0b0010_0100];

        let symbols = decode_all(&table(false), &data, 5);

        assert_eq!(symbols, [0x11, 0x12, 0x13, 0x15, 0x1D]);
    }

    #[test]
    fn a_code_outside_the_table_is_an_error() {
        let data = [0xFE; 4];
        let mut reader = BitReader::new(&data, 0);
        reader.ensure();

        assert!(table(false).decode(&mut reader).is_err());
    }

    #[test]
    fn an_overfull_table_is_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3;

        assert!(Huffman::new(&counts, &[1, 2, 3], false).is_err());
    }

    #[test]
    fn an_ac_entry_holds_the_run_the_value_and_the_bits_taken() {
        // Symbol 0x11 (one zero, then a 1-bit value) has code 0: "0" then value bit "0" is -1.
        let data = [0b0000_0000, 0, 0, 0];
        let table = table(true);
        let mut reader = BitReader::new(&data, 0);
        reader.ensure();

        let entry = table.coefficient(&reader);
        let skip = table.skip(&reader);

        assert_eq!((entry >> 16, entry >> 8 & 0xFF, entry & 0xFF), (-1, 1, 2));
        assert_eq!(Skip::unpack(skip & 0xFFF), (2, 2));
        assert_eq!(Skip::unpack(skip >> 12), (4, 4));
    }

    #[test]
    fn end_of_block_carries_the_block_past_its_end() {
        assert_eq!(run_and_size(0x00), (END_OF_BLOCK_RUN, 0));
        assert_eq!(run_and_size(0xF0), (15, 0));
        assert_eq!(run_and_size(0x3A), (3, 10));
    }
}
