//! From component planes to the output pixels, row by row: subsampled components are upsampled
//! by a triangle filter (each output sample 3/4 its nearest stored sample and 1/4 the next, in
//! each subsampled direction), then YCbCr is converted to RGB in fixed point, straight into the
//! output buffer.

use image::{DynamicImage, GrayImage, RgbImage};

use super::markers::Frame;
use super::scan::Plane;
use super::JpegError;

/// How the three components of a colour frame code their pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ColourSpace {
    Gray,
    YCbCr,
    Rgb,
}

/// One component's plane as the output reads it.
struct Source<'a> {
    plane: &'a Plane,
    /// Its samples across and down that cover the image, at the output scale.
    width: usize,
    height: usize,
    /// Output pixels per sample across and down: 1 or 2.
    across: usize,
    down: usize,
}

impl Source<'_> {
    fn row(&self, y: usize) -> &[u8] {
        let start = y.min(self.height - 1) * self.plane.stride;
        self.plane
            .samples
            .get(start..start + self.width)
            .unwrap_or(&[])
    }

    /// Output row `y` of this component, upsampled into `out` when it is subsampled.
    fn output_row<'s>(&'s self, y: usize, sums: &mut Vec<u16>, out: &'s mut [u8]) -> &'s [u8] {
        if self.across == 1 && self.down == 1 {
            return self.row(y);
        }
        let near_y = y / self.down;
        let far_y = match (self.down, y % 2) {
            (1, _) => near_y,
            (_, 0) => near_y.saturating_sub(1),
            _ => near_y + 1,
        };
        // Four times the vertically filtered sample.
        sums.clear();
        let (near, far) = (self.row(near_y), self.row(far_y));
        sums.extend(near.iter().zip(far).map(|(&n, &f)| {
            let (n, f) = (u16::from(n), u16::from(f));
            if self.down == 1 {
                4 * n
            } else {
                3 * n + f
            }
        }));
        if self.across == 1 {
            for (sample, &sum) in out.iter_mut().zip(sums.iter()) {
                *sample = ((sum + 2) >> 2) as u8;
            }
        } else {
            upsample_across(sums, out);
        }
        out
    }
}

/// Doubles a row of four-times samples across: each output is 3/4 its sample and 1/4 the
/// neighbour on its side, the edges repeating.
fn upsample_across(sums: &[u16], out: &mut [u8]) {
    let last = sums.len().saturating_sub(1);
    for (i, pair) in out.chunks_mut(2).enumerate() {
        let at = |j: usize| u32::from(sums.get(j.min(last)).copied().unwrap_or(0));
        let here = 3 * at(i);
        if let Some(left) = pair.first_mut() {
            *left = ((here + at(i.saturating_sub(1)) + 8) >> 4) as u8;
        }
        if let Some(right) = pair.get_mut(1) {
            *right = ((here + at(i + 1) + 7) >> 4) as u8;
        }
    }
}

/// Builds the output image of `width` x `height` pixels from the planes at `size` samples per
/// block side.
pub(super) fn to_image(
    frame: &Frame,
    planes: &[Plane],
    colour: ColourSpace,
    (width, height): (usize, usize),
    size: usize,
) -> Result<DynamicImage, JpegError> {
    let sources = frame
        .components
        .iter()
        .zip(planes)
        .map(|(c, plane)| source(frame, c.h, c.v, plane, size))
        .collect::<Result<Vec<_>, _>>()?;
    let fail = || JpegError::Corrupt("pixels do not fill the frame");
    let (out_width, out_height) = (width as u32, height as u32);
    match (colour, sources.as_slice()) {
        (ColourSpace::Gray, [gray]) => {
            let mut pixels = Vec::with_capacity(width * height);
            let (mut sums, mut line) = (Vec::new(), vec![0; width]);
            for y in 0..height {
                pixels.extend_from_slice(gray.output_row(y, &mut sums, &mut line));
            }
            let image = GrayImage::from_raw(out_width, out_height, pixels).ok_or_else(fail)?;
            Ok(DynamicImage::ImageLuma8(image))
        }
        (ColourSpace::YCbCr | ColourSpace::Rgb, [first, second, third]) => {
            let mut pixels = vec![0u8; width * height * 3];
            let mut sums = Vec::new();
            let mut lines = [vec![0; width], vec![0; width], vec![0; width]];
            let [line0, line1, line2] = &mut lines;
            for (y, out) in pixels.chunks_exact_mut(width * 3).enumerate() {
                let rows = [
                    first.output_row(y, &mut sums, line0),
                    second.output_row(y, &mut sums, line1),
                    third.output_row(y, &mut sums, line2),
                ];
                if colour == ColourSpace::Rgb {
                    interleave(rows, out);
                } else {
                    ycbcr_to_rgb(rows, out);
                }
            }
            let image = RgbImage::from_raw(out_width, out_height, pixels).ok_or_else(fail)?;
            Ok(DynamicImage::ImageRgb8(image))
        }
        _ => Err(JpegError::Unsupported("colour space")),
    }
}

fn source<'a>(
    frame: &Frame,
    h: u8,
    v: u8,
    plane: &'a Plane,
    size: usize,
) -> Result<Source<'a>, JpegError> {
    let ratio = |max: u8, factor: u8| {
        sampling_ratio(max, factor).ok_or(JpegError::Unsupported("sampling factors"))
    };
    // Its share of the scaled image, rounded up as the frame's own size is.
    let side = |full: u16, factor: u8, max: u8| {
        (usize::from(full) * usize::from(factor) * size)
            .div_ceil(usize::from(max) * 8)
            .max(1)
    };
    Ok(Source {
        plane,
        width: side(frame.width, h, frame.h_max),
        height: side(frame.height, v, frame.v_max),
        across: ratio(frame.h_max, h)?,
        down: ratio(frame.v_max, v)?,
    })
}

/// Output pixels per stored sample of a component with sampling `factor` in a frame whose
/// largest is `max`: 1 or 2, else `None`.
pub(super) fn sampling_ratio(max: u8, factor: u8) -> Option<usize> {
    let fits = factor != 0 && max.is_multiple_of(factor) && matches!(max / factor, 1 | 2);
    fits.then(|| usize::from(max / factor))
}

/// JFIF's YCbCr to RGB in 16-bit fixed point: `R = Y + 1.402 Cr`,
/// `G = Y - 0.344136 Cb - 0.714136 Cr`, `B = Y + 1.772 Cb`, chroma centred on 128.
fn ycbcr_to_rgb([y, cb, cr]: [&[u8]; 3], out: &mut [u8]) {
    const HALF: i32 = 1 << 15;
    for (pixel, ((&y, &cb), &cr)) in out.chunks_exact_mut(3).zip(y.iter().zip(cb).zip(cr)) {
        let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
        let red = y + ((91_881 * cr + HALF) >> 16);
        let green = y - ((22_554 * cb + 46_802 * cr - HALF) >> 16);
        let blue = y + ((116_130 * cb + HALF) >> 16);
        pixel[0] = red.clamp(0, 255) as u8;
        pixel[1] = green.clamp(0, 255) as u8;
        pixel[2] = blue.clamp(0, 255) as u8;
    }
}

fn interleave([r, g, b]: [&[u8]; 3], out: &mut [u8]) {
    for (pixel, ((&r, &g), &b)) in out.chunks_exact_mut(3).zip(r.iter().zip(g).zip(b)) {
        pixel.copy_from_slice(&[r, g, b]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doubled_row_weighs_three_quarters_near_and_one_quarter_beside() {
        let sums = [4 * 100, 4 * 200];
        let mut out = [0u8; 4];

        upsample_across(&sums, &mut out);

        assert_eq!(out, [100, 125, 175, 200]);
    }

    #[test]
    fn an_odd_width_takes_the_left_sample_of_the_last_pair() {
        let sums = [4 * 10, 4 * 50];
        let mut out = [0u8; 3];

        upsample_across(&sums, &mut out);

        assert_eq!(out, [10, 20, 40]);
    }

    #[test]
    fn ycbcr_converts_to_the_jfif_rgb_within_rounding() {
        for y in (0..=255u8).step_by(15) {
            for cb in (0..=255u8).step_by(17) {
                for cr in (0..=255u8).step_by(17) {
                    let mut out = [0u8; 3];

                    ycbcr_to_rgb([&[y], &[cb], &[cr]], &mut out);

                    let (y, cb, cr) = (f64::from(y), f64::from(cb) - 128.0, f64::from(cr) - 128.0);
                    let exact = [
                        y + 1.402 * cr,
                        y - 0.344136 * cb - 0.714136 * cr,
                        y + 1.772 * cb,
                    ];
                    for (got, want) in out.iter().zip(exact) {
                        let want = want.round().clamp(0.0, 255.0);
                        assert!((f64::from(*got) - want).abs() <= 1.0, "{out:?} {exact:?}");
                    }
                }
            }
        }
    }
}
