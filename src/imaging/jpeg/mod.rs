//! sajin's own JPEG decoder for the files cameras and phones write: sequential Huffman DCT
//! (SOF0/SOF1), 8-bit, gray or three components (YCbCr, or RGB by the Adobe transform flag or
//! the component ids), sampling ratios of 1 or 2 each way (4:4:4, 4:2:2, 4:2:0, 4:4:0),
//! restart intervals, one scan per component or interleaved scans.
//!
//! It decodes straight at 1/8, 1/4, 1/2 or full scale: only the coefficients the scaled
//! inverse DCT reads are decoded, the bits of the others are stepped over by one table lookup
//! per coefficient, and each component lives in a plane at output scale, so memory stays
//! about twice the output's size. Files outside that scope are `Unsupported` before any pixel
//! is decoded, and the caller falls back to `jpeg-decoder` (progressive, arithmetic coding,
//! 12-bit, lossless, CMYK/YCCK, DNL, 4:1:1 and other ratios, several frames).
//!
//! The reader follows libjpeg's colour rules: JFIF means YCbCr; else the Adobe segment's
//! transform flag decides (0 is RGB); else component ids R, G, B mean RGB. `jpeg-decoder`
//! lets ids 1, 2, 3 overrule an Adobe flag of 0, so such files decode differently in the two.
//!
//! A file cut inside its data decodes to the end of the frame, the missing blocks flat (zero
//! bits), as `jpeg-decoder` does. Damaged entropy data (a code no table has) is an error, so
//! the caller's fallback sees the file as before. Work is linear in the input and the frame:
//! each component is decoded by at most one scan.
//!
//! Limitation: decoding runs on one thread. The entropy decoding it cannot split is most of the
//! work, and the pipeline's second thread is already busy with the MD5 and the medium image.

mod bits;
mod color;
mod huffman;
mod idct;
mod markers;
mod scan;
#[cfg(test)]
mod tests;

use image::DynamicImage;

use color::ColourSpace;
use markers::{Scan, State};
use scan::{Plane, Selection};

/// Why the own decoder did not produce pixels.
#[derive(thiserror::Error, Debug, PartialEq, Eq)]
pub(crate) enum JpegError {
    /// A feature outside this decoder's scope; another decoder may handle it.
    #[error("not handled by sajin's JPEG decoder: {0}")]
    Unsupported(&'static str),
    /// The data breaks the format.
    #[error("damaged JPEG: {0}")]
    Corrupt(&'static str),
    /// Decoding would need more memory than allowed.
    #[error("the decode needs more memory than allowed")]
    TooLarge,
}

/// A JPEG within this decoder's scope, read up to its first scan.
pub(crate) struct Header<'a> {
    bytes: &'a [u8],
    state: State,
    first_scan: Scan,
    colour: ColourSpace,
}

impl<'a> Header<'a> {
    /// Reads the segments up to the first scan, refusing what the decoder does not handle.
    pub fn read(bytes: &'a [u8]) -> Result<Header<'a>, JpegError> {
        if !bytes.starts_with(&[0xFF, 0xD8]) {
            return Err(JpegError::Corrupt("no SOI"));
        }
        let mut state = State::default();
        let first_scan = state
            .read_to_scan(bytes, 2)?
            .ok_or(JpegError::Corrupt("no scan"))?;
        let frame = state.frame.as_ref().ok_or(JpegError::Corrupt("no frame"))?;
        let ratios_fit = frame.components.iter().all(|c| {
            color::sampling_ratio(frame.h_max, c.h).is_some()
                && color::sampling_ratio(frame.v_max, c.v).is_some()
        });
        if !ratios_fit {
            return Err(JpegError::Unsupported("sampling factors"));
        }
        let colour = colour_space(&state)?;
        Ok(Header {
            bytes,
            state,
            first_scan,
            colour,
        })
    }

    /// The stored width and height.
    pub fn size(&self) -> (u32, u32) {
        self.state
            .frame
            .as_ref()
            .map_or((0, 0), |f| (u32::from(f.width), u32::from(f.height)))
    }

    /// Decodes at 1/`reduction` of the stored size (1, 2, 4 or 8; each side rounded up),
    /// refusing to allocate more than `max_bytes`; returns the pixels and the ICC profile.
    pub fn decode(
        mut self,
        reduction: u32,
        max_bytes: u64,
    ) -> Result<(DynamicImage, Option<Vec<u8>>), JpegError> {
        let size = match reduction {
            8 => 1,
            4 => 2,
            2 => 4,
            _ => 8,
        };
        let frame = self
            .state
            .frame
            .as_ref()
            .ok_or(JpegError::Corrupt("no frame"))?;
        let output = (
            usize::from(frame.width).div_ceil(8 / size),
            usize::from(frame.height).div_ceil(8 / size),
        );
        if memory_bytes(&self.state, output, size) > max_bytes {
            return Err(JpegError::TooLarge);
        }
        let mut planes = Plane::for_frame(frame, size);
        self.decode_scans(&mut planes, size)?;

        let frame = self
            .state
            .frame
            .as_ref()
            .ok_or(JpegError::Corrupt("no frame"))?;
        let image = color::to_image(frame, &planes, self.colour, output, size)?;
        Ok((image, self.state.icc_profile(self.bytes)))
    }

    /// Decodes every scan up to the end of the image or of the file.
    fn decode_scans(&mut self, planes: &mut [Plane], size: usize) -> Result<(), JpegError> {
        let selection = Selection::new(size);
        let idct = idct::Idct::new(size);
        let mut is_coded = vec![false; planes.len()];
        let mut scan = Some(std::mem::replace(
            &mut self.first_scan,
            Scan {
                components: Vec::new(),
                data_start: 0,
            },
        ));
        while let Some(current) = scan {
            for &(index, _, _) in &current.components {
                match is_coded.get_mut(index) {
                    Some(coded @ false) => *coded = true,
                    _ => return Err(JpegError::Corrupt("a component coded twice")),
                }
            }
            let end = scan::decode(
                self.bytes,
                &self.state,
                &current,
                planes,
                &selection,
                &idct,
                size,
            )?;
            scan = self.state.read_to_scan(self.bytes, end)?;
        }
        Ok(())
    }
}

/// The planes' and the output's bytes, in u64 so that no header overflows the sum on 32-bit
/// boards.
fn memory_bytes(state: &State, (width, height): (usize, usize), size: usize) -> u64 {
    let Some(frame) = state.frame.as_ref() else {
        return 0;
    };
    let (across, down) = scan::mcus(frame);
    let mcu_samples = (across as u64) * (down as u64) * (size as u64).pow(2);
    let blocks_per_mcu: u64 = frame
        .components
        .iter()
        .map(|c| u64::from(c.h) * u64::from(c.v))
        .sum();
    let channels = if frame.components.len() == 1 { 1 } else { 3 };
    mcu_samples * blocks_per_mcu + (width as u64) * (height as u64) * channels
}

/// libjpeg's reading of the colour space; big-gamut YCC (ids 1, 34, 35) is left to the
/// fallback.
fn colour_space(state: &State) -> Result<ColourSpace, JpegError> {
    let Some(frame) = state.frame.as_ref() else {
        return Err(JpegError::Corrupt("no frame"));
    };
    let ids: Vec<u8> = frame.components.iter().map(|c| c.id).collect();
    match (ids.as_slice(), state.is_jfif, state.adobe_transform) {
        ([_], _, _) => Ok(ColourSpace::Gray),
        ([_, _, _], true, _) => Ok(ColourSpace::YCbCr),
        ([_, _, _], false, Some(0)) => Ok(ColourSpace::Rgb),
        ([_, _, _], false, Some(1)) => Ok(ColourSpace::YCbCr),
        ([_, _, _], false, Some(_)) => Err(JpegError::Unsupported("Adobe colour transform")),
        ([b'R', b'G', b'B'], false, None) => Ok(ColourSpace::Rgb),
        ([1, 34, 35] | [b'r', b'g', b'b'], false, None) => {
            Err(JpegError::Unsupported("big-gamut colour"))
        }
        ([_, _, _], false, None) => Ok(ColourSpace::YCbCr),
        _ => Err(JpegError::Unsupported("not gray or three components")),
    }
}
