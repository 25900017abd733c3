//! Marker segments: the frame header (SOF0/SOF1), quantisation and Huffman tables, the restart
//! interval, scan headers, and the APP segments that decide colours (JFIF, Adobe, ICC).
//!
//! Every feature outside the decoder's scope (progressive, lossless, arithmetic coding, other
//! precisions, DNL, component counts other than 1 and 3) is reported as `Unsupported` here, so
//! the caller falls back before decoding anything.

use std::ops::Range;

use super::huffman::Huffman;
use super::JpegError;

/// The natural (row-major) position of each coefficient in zigzag order.
pub(super) const ZIGZAG: [u8; 64] = zigzag();

/// Walks the 15 anti-diagonals of the 8x8 block, alternately up and down.
const fn zigzag() -> [u8; 64] {
    let mut order = [0u8; 64];
    let mut next = 0;
    let mut diagonal = 0;
    while diagonal < 15 {
        let mut step = 0;
        while step <= diagonal {
            let (row, col) = if diagonal % 2 == 0 {
                (diagonal - step, step)
            } else {
                (step, diagonal - step)
            };
            if row < 8 && col < 8 {
                order[next] = (row * 8 + col) as u8;
                next += 1;
            }
            step += 1;
        }
        diagonal += 1;
    }
    order
}

/// One component of the frame.
pub(super) struct Component {
    pub id: u8,
    /// Horizontal and vertical sampling factors, 1 to 4.
    pub h: u8,
    pub v: u8,
    pub quant_table: u8,
}

/// The frame header.
pub(super) struct Frame {
    pub width: u16,
    pub height: u16,
    pub components: Vec<Component>,
    pub h_max: u8,
    pub v_max: u8,
}

/// One scan's header: its components (as indexes into the frame's) with their DC and AC tables.
pub(super) struct Scan {
    pub components: Vec<(usize, u8, u8)>,
    /// Where its entropy-coded data begins.
    pub data_start: usize,
}

/// What the segments read so far have set.
#[derive(Default)]
pub(super) struct State {
    pub frame: Option<Frame>,
    /// Quantisation tables in natural order.
    pub quant: [Option<[u16; 64]>; 4],
    pub dc: [Option<Box<Huffman>>; 4],
    pub ac: [Option<Box<Huffman>>; 4],
    pub restart_interval: u16,
    pub is_jfif: bool,
    pub adobe_transform: Option<u8>,
    /// ICC profile chunks: sequence number, chunk count, bytes of the file.
    pub icc_chunks: Vec<(u8, u8, Range<usize>)>,
}

impl State {
    /// Reads segments from `pos` up to the next scan header, which it returns, or to the end
    /// of the image (`None`).
    pub fn read_to_scan(
        &mut self,
        bytes: &[u8],
        mut pos: usize,
    ) -> Result<Option<Scan>, JpegError> {
        while let Some((code, after)) = next_marker(bytes, pos) {
            if code == 0xD9 {
                return Ok(None);
            }
            if is_standalone(code) {
                pos = after;
                continue;
            }
            let (payload, end) = segment(bytes, after)?;
            match code {
                0xDA => return self.scan(payload, end).map(Some),
                _ => self.read_segment(code, payload, after + 2)?,
            }
            pos = end;
        }
        Ok(None)
    }

    fn read_segment(&mut self, code: u8, payload: &[u8], start: usize) -> Result<(), JpegError> {
        match code {
            0xC0 | 0xC1 => self.frame(payload),
            0xC2 | 0xC6 | 0xCA | 0xCE => Err(JpegError::Unsupported("progressive")),
            0xC3 | 0xC7 | 0xCB | 0xCF => Err(JpegError::Unsupported("lossless")),
            0xC5 | 0xC8 | 0xC9 | 0xCC | 0xCD => Err(JpegError::Unsupported("arithmetic coding")),
            0xC4 => self.huffman_tables(payload),
            0xDB => self.quant_tables(payload),
            0xDC => Err(JpegError::Unsupported("DNL")),
            0xDD => {
                let interval = payload.get(0..2).ok_or(JpegError::Corrupt("DRI"))?;
                self.restart_interval = u16::from_be_bytes([interval[0], interval[1]]);
                Ok(())
            }
            0xE0 => {
                self.is_jfif |= payload.starts_with(b"JFIF\0");
                Ok(())
            }
            0xE2 => {
                self.icc_chunk(payload, start);
                Ok(())
            }
            0xEE if payload.starts_with(b"Adobe") => {
                self.adobe_transform = payload.get(11).copied();
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn frame(&mut self, payload: &[u8]) -> Result<(), JpegError> {
        if self.frame.is_some() {
            return Err(JpegError::Unsupported("several frames"));
        }
        let [precision, h1, h0, w1, w0, count, ref specs @ ..] = *payload else {
            return Err(JpegError::Corrupt("SOF"));
        };
        if precision != 8 {
            return Err(JpegError::Unsupported("not 8 bits per sample"));
        }
        let (height, width) = (u16::from_be_bytes([h1, h0]), u16::from_be_bytes([w1, w0]));
        if height == 0 {
            return Err(JpegError::Unsupported("DNL"));
        }
        if width == 0 {
            return Err(JpegError::Corrupt("zero width"));
        }
        if count != 1 && count != 3 {
            return Err(JpegError::Unsupported("not gray or three components"));
        }
        let specs = specs
            .get(..3 * usize::from(count))
            .ok_or(JpegError::Corrupt("SOF"))?;
        let components = specs
            .chunks_exact(3)
            .map(|spec| component(spec[0], spec[1], spec[2]))
            .collect::<Result<Vec<_>, _>>()?;
        let ids_repeat = components
            .iter()
            .enumerate()
            .any(|(i, c)| components[..i].iter().any(|other| other.id == c.id));
        if ids_repeat {
            return Err(JpegError::Corrupt("repeated component id"));
        }
        self.frame = Some(Frame {
            width,
            height,
            h_max: components.iter().map(|c| c.h).max().unwrap_or(1),
            v_max: components.iter().map(|c| c.v).max().unwrap_or(1),
            components,
        });
        Ok(())
    }

    fn quant_tables(&mut self, mut payload: &[u8]) -> Result<(), JpegError> {
        while let [spec, ref rest @ ..] = *payload {
            let is_wide = spec >> 4 != 0;
            let slot = self
                .quant
                .get_mut(usize::from(spec & 15))
                .ok_or(JpegError::Corrupt("DQT"))?;
            let width = if is_wide { 2 } else { 1 };
            let values = rest.get(..64 * width).ok_or(JpegError::Corrupt("DQT"))?;
            let mut table = [0u16; 64];
            for (&at, value) in ZIGZAG.iter().zip(values.chunks_exact(width)) {
                table[usize::from(at)] = match *value {
                    [wide1, wide0] => u16::from_be_bytes([wide1, wide0]),
                    [narrow] => u16::from(narrow),
                    _ => 0,
                };
            }
            *slot = Some(table);
            payload = &rest[64 * width..];
        }
        Ok(())
    }

    fn huffman_tables(&mut self, mut payload: &[u8]) -> Result<(), JpegError> {
        while let [spec, ref rest @ ..] = *payload {
            let counts: [u8; 16] = rest
                .get(..16)
                .and_then(|counts| counts.try_into().ok())
                .ok_or(JpegError::Corrupt("DHT"))?;
            let total: usize = counts.iter().map(|&n| usize::from(n)).sum();
            let symbols = rest.get(16..16 + total).ok_or(JpegError::Corrupt("DHT"))?;
            let is_ac = spec >> 4 == 1;
            let tables = match spec >> 4 {
                0 => &mut self.dc,
                1 => &mut self.ac,
                _ => return Err(JpegError::Corrupt("DHT class")),
            };
            let slot = tables
                .get_mut(usize::from(spec & 15))
                .ok_or(JpegError::Corrupt("DHT"))?;
            *slot = Some(Huffman::new(&counts, symbols, is_ac)?);
            payload = &rest[16 + total..];
        }
        Ok(())
    }

    fn scan(&self, payload: &[u8], data_start: usize) -> Result<Scan, JpegError> {
        let frame = self
            .frame
            .as_ref()
            .ok_or(JpegError::Corrupt("scan before frame"))?;
        let [count, ref rest @ ..] = *payload else {
            return Err(JpegError::Corrupt("SOS"));
        };
        let count = usize::from(count);
        let specs = rest.get(..2 * count).ok_or(JpegError::Corrupt("SOS"))?;
        if count == 0 || rest.get(2 * count..2 * count + 3) != Some(&[0, 63, 0]) {
            return Err(JpegError::Corrupt("not a sequential scan"));
        }
        let mut components = Vec::with_capacity(count);
        for spec in specs.chunks_exact(2) {
            let index = frame
                .components
                .iter()
                .position(|c| c.id == spec[0])
                .ok_or(JpegError::Corrupt("scan of an unknown component"))?;
            if components.iter().any(|&(seen, _, _)| seen == index) {
                return Err(JpegError::Corrupt("component twice in a scan"));
            }
            components.push((index, spec[1] >> 4, spec[1] & 15));
        }
        Ok(Scan {
            components,
            data_start,
        })
    }

    fn icc_chunk(&mut self, payload: &[u8], start: usize) {
        const SIGNATURE: &[u8] = b"ICC_PROFILE\0";
        if let [sequence, count, ref data @ ..] = *payload.strip_prefix(SIGNATURE).unwrap_or(&[]) {
            let data_start = start + SIGNATURE.len() + 2;
            self.icc_chunks
                .push((sequence, count, data_start..data_start + data.len()));
        }
    }

    /// The ICC profile, when every chunk it announces is present once.
    pub fn icc_profile(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let count = self.icc_chunks.first()?.1;
        if count == 0 || self.icc_chunks.len() != usize::from(count) {
            return None;
        }
        let mut profile = Vec::new();
        for sequence in 1..=count {
            let (_, _, range) = self.icc_chunks.iter().find(|c| c.0 == sequence)?;
            profile.extend_from_slice(bytes.get(range.clone())?);
        }
        Some(profile)
    }
}

fn component(id: u8, factors: u8, quant_table: u8) -> Result<Component, JpegError> {
    let (h, v) = (factors >> 4, factors & 15);
    if !(1..=4).contains(&h) || !(1..=4).contains(&v) || quant_table > 3 {
        return Err(JpegError::Corrupt("SOF component"));
    }
    Ok(Component {
        id,
        h,
        v,
        quant_table,
    })
}

/// Markers without a length: SOI, EOI, RSTn and TEM.
fn is_standalone(code: u8) -> bool {
    matches!(code, 0x01 | 0xD0..=0xD9)
}

/// The next marker at or after `pos`: its code and the offset after it. Bytes between segments
/// are skipped, as libraries tolerate; fill bytes (0xFF) before a code too.
pub(super) fn next_marker(bytes: &[u8], pos: usize) -> Option<(u8, usize)> {
    let mut at = pos + bytes.get(pos..)?.iter().position(|&b| b == 0xFF)?;
    loop {
        match *bytes.get(at + 1)? {
            0xFF => at += 1,
            0x00 => {
                let rest = bytes.get(at + 2..)?;
                at += 2 + rest.iter().position(|&b| b == 0xFF)?;
            }
            code => return Some((code, at + 2)),
        }
    }
}

/// The payload of the segment whose length field is at `at`, and the offset after it.
fn segment(bytes: &[u8], at: usize) -> Result<(&[u8], usize), JpegError> {
    let length = bytes
        .get(at..at + 2)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        .ok_or(JpegError::Corrupt("cut inside a marker"))?;
    let end = at + length.max(2);
    let payload = bytes
        .get(at + 2..end)
        .ok_or(JpegError::Corrupt("cut inside a segment"))?;
    Ok((payload, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zigzag_order_is_the_standard_one() {
        assert_eq!(ZIGZAG[..10], [0, 1, 8, 16, 9, 2, 3, 10, 17, 24]);
        assert_eq!(ZIGZAG[58..], [61, 54, 47, 55, 62, 63]);
        let mut seen = ZIGZAG;
        seen.sort_unstable();
        assert!(seen.iter().enumerate().all(|(i, &at)| usize::from(at) == i));
    }

    #[test]
    fn markers_are_found_past_fill_bytes_and_stray_data() {
        let bytes = [0x00, 0xFF, 0x00, 0x12, 0xFF, 0xFF, 0xDB, 0x00];

        assert_eq!(next_marker(&bytes, 0), Some((0xDB, 7)));
        assert_eq!(next_marker(&bytes[..6], 0), None);
    }

    #[test]
    fn frames_outside_the_scope_are_unsupported() {
        let cases: [(u8, &[u8]); 5] = [
            (0xC2, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]),
            (0xC0, &[12, 0, 16, 0, 16, 1, 1, 0x11, 0]),
            (0xC0, &[8, 0, 0, 0, 16, 1, 1, 0x11, 0]),
            (
                0xC0,
                &[
                    8, 0, 16, 0, 16, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0,
                ],
            ),
            (0xC9, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]),
        ];
        for (code, payload) in cases {
            let result = State::default().read_segment(code, payload, 0);

            assert!(
                matches!(result, Err(JpegError::Unsupported(_))),
                "{code:x} {payload:?}"
            );
        }
    }

    #[test]
    fn an_icc_profile_is_joined_in_sequence_order_and_dropped_when_a_chunk_is_missing() {
        let mut bytes = Vec::new();
        let mut state = State::default();
        for (sequence, data) in [(2u8, b"world"), (1, b"hello")] {
            let mut payload = b"ICC_PROFILE\0".to_vec();
            payload.extend([sequence, 2]);
            payload.extend_from_slice(data);
            state.icc_chunk(&payload, bytes.len());
            bytes.extend(payload);
        }

        assert_eq!(
            state.icc_profile(&bytes).as_deref(),
            Some(&b"helloworld"[..])
        );
        state.icc_chunks.pop();
        assert_eq!(state.icc_profile(&bytes), None);
    }
}
