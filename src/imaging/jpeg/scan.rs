//! One sequential Huffman scan, MCU by MCU: each block's coefficients are decoded (only those
//! the output scale reads; the bits of the others are stepped over), dequantised and inverse
//! transformed straight into its component's plane.

use super::bits::BitReader;
use super::huffman::{run_and_size, Huffman, Skip};
use super::idct::Idct;
use super::markers::{Frame, Scan, State, ZIGZAG};
use super::JpegError;

/// One component's samples at the output scale, over whole MCUs.
pub(super) struct Plane {
    pub samples: Vec<u8>,
    /// Samples per row.
    pub stride: usize,
}

impl Plane {
    /// Planes for every component of `frame`, `size` samples per block side.
    pub fn for_frame(frame: &Frame, size: usize) -> Vec<Plane> {
        let (mcus_across, mcus_down) = mcus(frame);
        frame
            .components
            .iter()
            .map(|c| {
                let stride = mcus_across * usize::from(c.h) * size;
                let rows = mcus_down * usize::from(c.v) * size;
                Plane {
                    samples: vec![0; stride * rows],
                    stride,
                }
            })
            .collect()
    }
}

/// The MCUs across and down an interleaved scan of `frame`.
pub(super) fn mcus(frame: &Frame) -> (usize, usize) {
    (
        usize::from(frame.width).div_ceil(8 * usize::from(frame.h_max)),
        usize::from(frame.height).div_ceil(8 * usize::from(frame.v_max)),
    )
}

/// Which coefficients one output scale reads.
pub(super) struct Selection {
    /// Zigzag positions up to this one are decoded; the later ones are only stepped over.
    last: usize,
    /// By zigzag position: the natural position, or 64 for one the scale does not read.
    slot: [u8; 64],
    /// The natural positions read, cleared before each block.
    used: Vec<u8>,
}

impl Selection {
    /// For `size` (1, 2, 4 or 8) samples per block side: the `size` x `size` lowest frequencies.
    pub fn new(size: usize) -> Selection {
        let is_read = |at: u8| usize::from(at / 8) < size && usize::from(at % 8) < size;
        let slot = ZIGZAG.map(|at| if is_read(at) { at } else { 64 });
        Selection {
            last: slot.iter().rposition(|&at| at < 64).unwrap_or(0),
            slot,
            used: (0..64).filter(|&at| is_read(at)).collect(),
        }
    }
}

/// What decoding one component's blocks needs.
struct Coder<'a> {
    dc: &'a Huffman,
    ac: &'a Huffman,
    /// Dequantisation factors in natural order.
    quant: [f32; 64],
    prediction: i32,
    plane: usize,
    /// Blocks across and down in one MCU.
    h: usize,
    v: usize,
}

/// Decodes the scan into `planes` and returns the offset where its data ended.
pub(super) fn decode(
    bytes: &[u8],
    state: &State,
    scan: &Scan,
    planes: &mut [Plane],
    selection: &Selection,
    idct: &Idct,
    size: usize,
) -> Result<usize, JpegError> {
    let frame = state.frame.as_ref().ok_or(JpegError::Corrupt("no frame"))?;
    let mut coders = scan
        .components
        .iter()
        .map(|&(index, dc, ac)| coder(state, frame, index, dc, ac))
        .collect::<Result<Vec<_>, _>>()?;
    let (mcus_across, mcus_down) = if let [only] = coders.as_mut_slice() {
        // A scan of one component codes its blocks one by one, over its own size only.
        let blocks = |side: u16, factor: u8, max: u8| {
            (usize::from(side) * usize::from(factor)).div_ceil(usize::from(max) * 8)
        };
        let across = blocks(frame.width, frame.components[only.plane].h, frame.h_max);
        let down = blocks(frame.height, frame.components[only.plane].v, frame.v_max);
        (only.h, only.v) = (1, 1);
        (across, down)
    } else {
        mcus(frame)
    };

    let mut reader = BitReader::new(bytes, scan.data_start);
    let mut block = [0.0f32; 64];
    let interval = usize::from(state.restart_interval);
    let mut until_restart = interval;
    for mcu_row in 0..mcus_down {
        for mcu_col in 0..mcus_across {
            if interval > 0 {
                if until_restart == 0 {
                    reader.restart();
                    coders.iter_mut().for_each(|c| c.prediction = 0);
                    until_restart = interval;
                }
                until_restart -= 1;
            }
            for coder in &mut coders {
                let plane = planes
                    .get_mut(coder.plane)
                    .ok_or(JpegError::Corrupt("plane"))?;
                for down in 0..coder.v {
                    for across in 0..coder.h {
                        decode_block(&mut reader, coder, selection, &mut block)?;
                        let row = (mcu_row * coder.v + down) * size;
                        let col = (mcu_col * coder.h + across) * size;
                        let at = row * plane.stride + col;
                        idct.block(&block, &mut plane.samples, at, plane.stride);
                    }
                }
            }
        }
    }
    Ok(reader.position())
}

fn coder<'a>(
    state: &'a State,
    frame: &Frame,
    index: usize,
    dc: u8,
    ac: u8,
) -> Result<Coder<'a>, JpegError> {
    let table = |tables: &'a [Option<Box<Huffman>>; 4], at: u8| {
        tables
            .get(usize::from(at))
            .and_then(Option::as_deref)
            .ok_or(JpegError::Corrupt("scan without its Huffman table"))
    };
    let component = frame
        .components
        .get(index)
        .ok_or(JpegError::Corrupt("component"))?;
    let quant = state
        .quant
        .get(usize::from(component.quant_table))
        .copied()
        .flatten()
        .ok_or(JpegError::Corrupt("scan without its quantisation table"))?;
    Ok(Coder {
        dc: table(&state.dc, dc)?,
        ac: table(&state.ac, ac)?,
        quant: quant.map(f32::from),
        prediction: 0,
        plane: index,
        h: usize::from(component.h),
        v: usize::from(component.v),
    })
}

/// Decodes one block into `block` (dequantised, natural order), writing only the positions
/// `selection` reads.
#[inline(always)]
fn decode_block(
    reader: &mut BitReader,
    coder: &mut Coder,
    selection: &Selection,
    block: &mut [f32; 64],
) -> Result<(), JpegError> {
    if selection.used.len() == 64 {
        *block = [0.0; 64];
    } else {
        for &at in &selection.used {
            if let Some(coefficient) = block.get_mut(usize::from(at)) {
                *coefficient = 0.0;
            }
        }
    }

    reader.ensure();
    let size = u32::from(coder.dc.decode(reader)?);
    if size > 15 {
        return Err(JpegError::Corrupt("DC difference size"));
    }
    coder.prediction = coder.prediction.wrapping_add(reader.receive(size));
    block[0] = coder.prediction as f32 * coder.quant[0];

    let mut k = 1;
    while k <= selection.last {
        reader.ensure();
        let entry = coder.ac.coefficient(reader);
        let (run, value) = if entry != 0 {
            reader.consume((entry & 0xFF) as u32);
            ((entry >> 8 & 0xFF) as usize, entry >> 16)
        } else {
            let (run, size) = run_and_size(coder.ac.decode(reader)?);
            (run as usize, reader.receive(size))
        };
        k += run;
        let Some(&slot) = selection.slot.get(k) else {
            return Ok(());
        };
        let slot = usize::from(slot);
        if let (Some(coefficient), Some(quant)) = (block.get_mut(slot), coder.quant.get(slot)) {
            *coefficient = value as f32 * quant;
        }
        k += 1;
    }
    skip_rest(reader, coder.ac, k)
}

/// Steps over the coefficients from zigzag position `k` to the end of the block, two at a time
/// where the second is still in this block.
#[inline(always)]
fn skip_rest(reader: &mut BitReader, ac: &Huffman, mut k: usize) -> Result<(), JpegError> {
    while k <= 63 {
        reader.ensure();
        let entry = ac.skip(reader);
        if entry == 0 {
            let (run, size) = run_and_size(ac.decode(reader)?);
            reader.consume(size);
            k += run as usize + 1;
            continue;
        }
        let (bits, advance) = Skip::unpack(entry & 0xFFF);
        let (both_bits, both_advance) = Skip::unpack(entry >> 12);
        if both_bits != 0 && k + advance <= 63 {
            reader.consume(both_bits);
            k += both_advance;
        } else {
            reader.consume(bits);
            k += advance;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scale_reads_its_low_square_of_frequencies() {
        let cases = [(1, 0, 1), (2, 4, 4), (4, 24, 16), (8, 63, 64)];
        for (size, last, read) in cases {
            let selection = Selection::new(size);

            assert_eq!(selection.last, last, "{size}");
            assert_eq!(selection.used.len(), read, "{size}");
            assert_eq!(selection.slot.iter().filter(|&&at| at < 64).count(), read);
        }
    }
}
