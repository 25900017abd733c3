//! Resampling: a box average first brings a large image down to about twice its largest output
//! (libvips shrinks the same way), then `fast_image_resize` cuts out and scales each output
//! with Lanczos3. An image with alpha is premultiplied once, in place, so transparent pixels
//! never bleed their hidden colour into edges; an opaque one skips that pass.

use fast_image_resize::pixels::{U8x2, U8x3, U8x4, U8};
use fast_image_resize::{
    FilterType, IntoImageView, IntoImageViewMut, MulDiv, PixelTrait, ResizeAlg, ResizeOptions,
    Resizer,
};
use image::ColorType;
use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

use super::ImagingError;

/// A rectangle of the stored image, in its pixels; fractions are allowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Region {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Region {
    /// All of an image of `size`.
    pub fn whole((width, height): (u32, u32)) -> Region {
        Region {
            left: 0.0,
            top: 0.0,
            width: f64::from(width),
            height: f64::from(height),
        }
    }

    /// The largest square in the middle of an image of `size`.
    pub fn centre_square((width, height): (u32, u32)) -> Region {
        let side = width.min(height);
        Region {
            left: f64::from(width - side) / 2.0,
            top: f64::from(height - side) / 2.0,
            width: f64::from(side),
            height: f64::from(side),
        }
    }
}

/// Decoded pixels ready to resample, and how they lie over the stored image, which they may
/// show at reduced scale.
pub(crate) struct Pixels {
    /// Luma, RGB, or RGBA with premultiplied alpha.
    image: DynamicImage,
    /// Stored pixels per pixel of `image`, across and down.
    scale: (f64, f64),
}

impl Pixels {
    /// Takes the decoded pixels of a stored image of `stored` size, box-averaged by the
    /// largest whole factor that keeps at least `min_scale` of that size, when the factor is
    /// 2 or more.
    pub fn new(
        image: DynamicImage,
        stored: (u32, u32),
        min_scale: f64,
    ) -> Result<Pixels, ImagingError> {
        let scale_of = |image: &DynamicImage| {
            (
                f64::from(stored.0) / f64::from(image.width().max(1)),
                f64::from(stored.1) / f64::from(image.height().max(1)),
            )
        };
        let (across, down) = scale_of(&image);
        let factor = (1.0 / (min_scale * across.max(down))).floor();
        let mut image = if factor >= 2.0 {
            reduced(&image, factor.min(f64::from(u16::MAX)) as u32)?
        } else {
            image
        };
        if image.color().has_alpha() {
            apply_alpha(&mut image, AlphaStep::Premultiply)?;
        }
        Ok(Pixels {
            scale: scale_of(&image),
            image,
        })
    }

    /// Scales the stored `region` to `width` x `height` with Lanczos3; alpha comes out straight.
    pub fn resize(
        &self,
        region: Region,
        width: u32,
        height: u32,
    ) -> Result<DynamicImage, ImagingError> {
        let (image_width, image_height) = (
            f64::from(self.image.width()),
            f64::from(self.image.height()),
        );
        let left = (region.left / self.scale.0).clamp(0.0, image_width);
        let top = (region.top / self.scale.1).clamp(0.0, image_height);
        let within = Region {
            left,
            top,
            width: (region.width / self.scale.0).min(image_width - left),
            height: (region.height / self.scale.1).min(image_height - top),
        };
        let mut resized =
            self.resampled(within, (width.max(1), height.max(1)), FilterType::Lanczos3)?;
        if resized.color().has_alpha() {
            apply_alpha(&mut resized, AlphaStep::Divide)?;
        }
        Ok(resized)
    }

    /// Resamples `within`, in the pixels' own coordinates, keeping premultiplied alpha.
    fn resampled(
        &self,
        within: Region,
        (width, height): (u32, u32),
        filter: FilterType,
    ) -> Result<DynamicImage, ImagingError> {
        let mut resized = DynamicImage::new(width, height, self.image.color());
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(filter))
            .crop(within.left, within.top, within.width, within.height)
            .use_alpha(false);
        match self.image.color() {
            ColorType::L8 => resize_as::<U8>(&self.image, &mut resized, &options),
            ColorType::La8 => resize_as::<U8x2>(&self.image, &mut resized, &options),
            ColorType::Rgb8 => resize_as::<U8x3>(&self.image, &mut resized, &options),
            ColorType::Rgba8 => resize_as::<U8x4>(&self.image, &mut resized, &options),
            other => Err(resize_error(format!("{other:?} pixels"))),
        }?;
        Ok(resized)
    }
}

// `fast_image_resize` reaches its code for a pixel layout through generics; naming the four
// 8-bit layouts decoding produces, rather than letting it dispatch over all thirteen (16-bit
// and float ones included), keeps the kernels of the other nine out of the binary.

/// Resizes `src` into `dst`, both known to hold `P` pixels.
fn resize_as<P: PixelTrait>(
    src: &DynamicImage,
    dst: &mut DynamicImage,
    options: &ResizeOptions,
) -> Result<(), ImagingError> {
    match (src.image_view::<P>(), dst.image_view_mut::<P>()) {
        (Some(src), Some(mut dst)) => Resizer::new()
            .resize_typed(&src, &mut dst, options)
            .map_err(resize_error),
        _ => Err(resize_error("the pixel layouts differ")),
    }
}

/// What `apply_alpha` does to the colour channels.
#[derive(Clone, Copy)]
enum AlphaStep {
    Premultiply,
    Divide,
}

/// Premultiplies or divides the colour of a luma + alpha or RGBA image by its alpha.
fn apply_alpha(image: &mut DynamicImage, step: AlphaStep) -> Result<(), ImagingError> {
    match image.color() {
        ColorType::La8 => alpha_as::<U8x2>(image, step),
        ColorType::Rgba8 => alpha_as::<U8x4>(image, step),
        other => Err(resize_error(format!(
            "{other:?} pixels have no 8-bit alpha"
        ))),
    }
}

fn alpha_as<P: PixelTrait>(image: &mut DynamicImage, step: AlphaStep) -> Result<(), ImagingError> {
    let mul_div = MulDiv::default();
    let mut view = image
        .image_view_mut::<P>()
        .ok_or_else(|| resize_error("the pixel layout differs"))?;
    match step {
        AlphaStep::Premultiply => mul_div.multiply_alpha_inplace_typed(&mut view),
        AlphaStep::Divide => mul_div.divide_alpha_inplace_typed(&mut view),
    }
    .map_err(resize_error)
}

/// Box-averages rows as they come (from a decoder, say), every `factor` x `factor` block of
/// pixels into one, so that a large image never has to exist at full size. Blocks cut by the
/// right and bottom edges average the pixels they have. With two or four channels the last is
/// alpha: colour is weighted by it, so a transparent pixel's hidden colour counts for nothing,
/// and comes out straight.
pub(crate) struct RowReducer {
    width: usize,
    channels: usize,
    factor: usize,
    /// Column sums of the rows of the current block: samples, or colour times alpha.
    sums: Vec<u32>,
    block_rows: usize,
    reduced: Vec<u8>,
    reduced_rows: u32,
}

impl RowReducer {
    /// A reducer of rows `width` pixels of `channels` (1 to 4) 8-bit samples wide. `factor` is
    /// capped at 65,535, which keeps the weighted sums of a block column within 32 bits.
    pub fn new(width: u32, channels: usize, factor: u32) -> Result<RowReducer, ImagingError> {
        if !(1..=4).contains(&channels) {
            return Err(resize_error(format!("{channels} channels")));
        }
        let width = width as usize;
        Ok(RowReducer {
            width,
            channels,
            factor: factor.clamp(1, u32::from(u16::MAX)) as usize,
            sums: vec![0; width * channels],
            block_rows: 0,
            reduced: Vec::new(),
            reduced_rows: 0,
        })
    }

    fn has_alpha(&self) -> bool {
        self.channels == 2 || self.channels == 4
    }

    /// Takes the next row of the image; a shorter row leaves the missing samples at zero.
    pub fn push(&mut self, row: &[u8]) {
        if self.has_alpha() {
            for (sums, pixel) in self
                .sums
                .chunks_exact_mut(self.channels)
                .zip(row.chunks_exact(self.channels))
            {
                let (colour_sums, alpha_sum) = sums.split_at_mut(self.channels - 1);
                let (colour, alpha) = pixel.split_at(self.channels - 1);
                let alpha = u32::from(alpha[0]);
                for (sum, &sample) in colour_sums.iter_mut().zip(colour) {
                    *sum += u32::from(sample) * alpha;
                }
                alpha_sum[0] += alpha;
            }
        } else {
            for (sum, &sample) in self.sums.iter_mut().zip(row) {
                *sum += u32::from(sample);
            }
        }
        self.block_rows += 1;
        if self.block_rows == self.factor {
            self.emit();
        }
    }

    /// The reduced image: its width, height and samples.
    pub fn finish(mut self) -> (u32, u32, Vec<u8>) {
        if self.block_rows > 0 {
            self.emit();
        }
        let width = self.width.div_ceil(self.factor) as u32;
        (width, self.reduced_rows, self.reduced)
    }

    /// Averages the blocks of the current block row into one reduced row.
    fn emit(&mut self) {
        let (sums, rows, factor) = (&self.sums, self.block_rows, self.factor);
        let out = &mut self.reduced;
        match self.channels {
            1 => average_blocks::<1>(sums, factor, rows, out),
            2 => average_blocks::<2>(sums, factor, rows, out),
            3 => average_blocks::<3>(sums, factor, rows, out),
            _ => average_blocks::<4>(sums, factor, rows, out),
        }
        self.sums.fill(0);
        self.block_rows = 0;
        self.reduced_rows += 1;
    }
}

/// Appends the average of each block of `factor` pixels of `C`-channel column sums over `rows`
/// rows; with 2 or 4 channels the colour sums are weighted by alpha, the last channel.
fn average_blocks<const C: usize>(sums: &[u32], factor: usize, rows: usize, out: &mut Vec<u8>) {
    for block in sums.chunks(factor * C) {
        let mut totals = [0u64; C];
        for pixel in block.chunks_exact(C) {
            for (total, &sum) in totals.iter_mut().zip(pixel) {
                *total += u64::from(sum);
            }
        }
        let pixels = (block.len() / C * rows) as u64;
        if C.is_multiple_of(2) {
            let alpha = totals[C - 1];
            out.extend(
                totals[..C - 1]
                    .iter()
                    .map(|&total| rounded_div(total, alpha)),
            );
            out.push(rounded_div(alpha, pixels));
        } else {
            out.extend(totals.iter().map(|&total| rounded_div(total, pixels)));
        }
    }
}

/// `image` (luma, RGB or RGBA) box-averaged by `factor`.
fn reduced(image: &DynamicImage, factor: u32) -> Result<DynamicImage, ImagingError> {
    let channels = usize::from(image.color().channel_count());
    let mut reducer = RowReducer::new(image.width(), channels, factor)?;
    let row_len = image.width() as usize * channels;
    for row in image.as_bytes().chunks_exact(row_len.max(1)) {
        reducer.push(row);
    }
    let (width, height, samples) = reducer.finish();
    from_samples(width, height, channels, samples)
}

/// An 8-bit image of 1 to 4 channels (the last of 2 or 4 being alpha) from its samples.
pub(crate) fn from_samples(
    width: u32,
    height: u32,
    channels: usize,
    samples: Vec<u8>,
) -> Result<DynamicImage, ImagingError> {
    let image = match channels {
        1 => GrayImage::from_raw(width, height, samples).map(DynamicImage::ImageLuma8),
        2 => GrayAlphaImage::from_raw(width, height, samples).map(DynamicImage::ImageLumaA8),
        3 => RgbImage::from_raw(width, height, samples).map(DynamicImage::ImageRgb8),
        4 => RgbaImage::from_raw(width, height, samples).map(DynamicImage::ImageRgba8),
        _ => None,
    };
    image.ok_or_else(|| resize_error(format!("{channels} channels of {width}x{height}")))
}

fn rounded_div(sum: u64, count: u64) -> u8 {
    if count == 0 {
        return 0;
    }
    u8::try_from((sum + count / 2) / count).unwrap_or(u8::MAX)
}

fn resize_error(error: impl std::fmt::Display) -> ImagingError {
    ImagingError::Encode(format!("resizing: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn rgb(width: u32, height: u32, colour: impl Fn(u32, u32) -> [u8; 3]) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| Rgb(colour(x, y))))
    }

    fn is_close(got: &[u8], expected: [u8; 3]) -> bool {
        got.iter().zip(expected).all(|(&a, b)| a.abs_diff(b) <= 1)
    }

    #[test]
    fn a_hidden_colour_under_transparency_does_not_darken_the_edges() {
        // Left half opaque red, right half fully transparent black.
        let image = RgbaImage::from_fn(64, 64, |x, _| {
            if x < 32 {
                Rgba([230, 30, 30, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        });
        let pixels = Pixels::new(DynamicImage::ImageRgba8(image), (64, 64), 1.0).expect("prepares");

        let small = pixels
            .resize(Region::whole((64, 64)), 8, 8)
            .expect("resizes")
            .into_rgba8();

        let edge = small.get_pixel(3, 4);
        assert!(edge[3] > 0);
        assert!(edge[0] > 200, "edge pixel {edge:?} darkened");
    }

    #[test]
    fn reducing_keeps_the_asked_share_of_the_stored_size() {
        let cases = [
            (0.25, (1000, 750)),
            (0.3, (1334, 1000)),
            (0.6, (4000, 3000)),
        ];
        for (min_scale, size) in cases {
            let image = rgb(4000, 3000, |_, _| [9, 9, 9]);

            let pixels = Pixels::new(image, (4000, 3000), min_scale).expect("prepares");

            let reduced = (pixels.image.width(), pixels.image.height());
            assert_eq!(reduced, size, "{min_scale}");
        }
    }

    #[test]
    fn large_ratios_keep_flat_colours_flat() {
        let image = rgb(2000, 1000, |_, _| [30, 200, 30]);
        let pixels = Pixels::new(image, (2000, 1000), 0.1).expect("prepares");

        let small = pixels.resize(Region::whole((2000, 1000)), 100, 50);

        let small = small.expect("resizes").into_rgb8();
        assert_eq!(small.dimensions(), (100, 50));
        assert!(small.pixels().all(|p| is_close(&p.0, [30, 200, 30])));
    }

    #[test]
    fn a_region_of_reduced_pixels_is_found_in_stored_coordinates() {
        // A JPEG decoded at 1/4 scale: 100x50 pixels standing for a 400x200 image.
        let pixels = Pixels::new(
            rgb(
                100,
                50,
                |x, _| if x < 50 { [230, 30, 30] } else { [30, 30, 230] },
            ),
            (400, 200),
            1.0,
        )
        .expect("prepares");
        let right_half = Region {
            left: 220.0,
            top: 0.0,
            width: 160.0,
            height: 200.0,
        };

        let cut = pixels
            .resize(right_half, 16, 20)
            .expect("resizes")
            .into_rgb8();

        assert!(cut.pixels().all(|p| is_close(&p.0, [30, 30, 230])));
    }

    #[test]
    fn rows_are_reduced_as_they_come_and_partial_blocks_count() {
        // 41 rows of 10 pixels: five strips of 4 x 8 rows, then one row alone.
        let mut reducer = RowReducer::new(10, 3, 4).expect("three channels");
        for y in 0..41u8 {
            let colour = if y < 40 { [30, 200, 30] } else { [200, 30, 30] };
            reducer.push(&colour.repeat(10));
        }

        let (width, height, reduced) = reducer.finish();

        assert_eq!((width, height), (3, 11));
        let (top, last) = reduced.split_at(30 * 3);
        assert!(top.chunks(3).all(|p| is_close(p, [30, 200, 30])));
        assert!(last.chunks(3).all(|p| is_close(p, [200, 30, 30])));
    }

    #[test]
    fn a_reduced_row_weights_colour_by_alpha() {
        // Opaque red beside transparent black: the average is translucent red, not dark red.
        let mut reducer = RowReducer::new(2, 4, 2).expect("four channels");
        for _ in 0..2 {
            reducer.push(&[230, 30, 30, 255, 0, 0, 0, 0]);
        }

        let (_, _, reduced) = reducer.finish();

        assert_eq!(reduced[..3], [230, 30, 30]);
        assert!(reduced[3].abs_diff(128) <= 1, "{reduced:?}");
    }

    #[test]
    fn the_centre_square_of_a_landscape_is_centred_across() {
        let square = Region::centre_square((400, 300));

        assert_eq!(
            square,
            Region {
                left: 50.0,
                top: 0.0,
                width: 300.0,
                height: 300.0
            }
        );
    }
}
