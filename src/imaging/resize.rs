//! Downscaling: an integer box pre-shrink for large ratios followed by a triangle (bilinear)
//! filter, with premultiplied alpha so transparent pixels never bleed their hidden colour into
//! edges.

use image::imageops::FilterType;
use image::{DynamicImage, ImageBuffer, Pixel, RgbaImage};

/// From this ratio on, the image is first box-averaged to about twice the target size: the
/// triangle filter's cost grows with the ratio, while a box average costs one add per source
/// sample. libvips shrinks the same way before its final filter.
const PRESHRINK_RATIO: u32 = 4;

/// Resizes to exactly `width` x `height` (both at least 1).
pub(crate) fn resize(image: &DynamicImage, width: u32, height: u32) -> DynamicImage {
    let (width, height) = (width.max(1), height.max(1));
    if image.width() == width && image.height() == height {
        return image.clone();
    }
    match image {
        DynamicImage::ImageRgba8(rgba) => {
            let premultiplied = DynamicImage::ImageRgba8(premultiply(rgba.clone()));
            let resized = scale(&premultiplied, width, height).into_rgba8();
            DynamicImage::ImageRgba8(unpremultiply(resized))
        }
        other => scale(other, width, height),
    }
}

fn scale(image: &DynamicImage, width: u32, height: u32) -> DynamicImage {
    let ratio = (image.width() / width).min(image.height() / height);
    let shrunk = (ratio >= PRESHRINK_RATIO).then(|| box_shrink(image, ratio / 2));
    shrunk
        .as_ref()
        .unwrap_or(image)
        .resize_exact(width, height, FilterType::Triangle)
}

/// Averages every `factor` x `factor` block into one pixel; the partial blocks at the right
/// and bottom edges (fewer than `factor` pixels) are dropped.
fn box_shrink(image: &DynamicImage, factor: u32) -> DynamicImage {
    match image {
        DynamicImage::ImageLuma8(gray) => DynamicImage::ImageLuma8(shrink::<_, 1>(gray, factor)),
        DynamicImage::ImageRgb8(rgb) => DynamicImage::ImageRgb8(shrink::<_, 3>(rgb, factor)),
        DynamicImage::ImageRgba8(rgba) => DynamicImage::ImageRgba8(shrink::<_, 4>(rgba, factor)),
        // The decoder output is normalised to the three layouts above.
        other => other.clone(),
    }
}

fn shrink<P, const C: usize>(
    image: &ImageBuffer<P, Vec<u8>>,
    factor: u32,
) -> ImageBuffer<P, Vec<u8>>
where
    P: Pixel<Subpixel = u8>,
{
    let (width, height) = (image.width() / factor, image.height() / factor);
    let factor = factor as usize;
    let row_len = image.width() as usize * C;
    let area = (factor * factor) as u32;
    let mut sums = vec![0u32; width as usize * C];
    let mut out = Vec::with_capacity(sums.len() * height as usize);
    for band in image
        .as_raw()
        .chunks_exact(row_len * factor)
        .take(height as usize)
    {
        sums.fill(0);
        for row in band.chunks_exact(row_len) {
            add_row::<C>(&mut sums, row, factor);
        }
        out.extend(sums.iter().map(|&sum| ((sum + area / 2) / area) as u8));
    }
    ImageBuffer::from_raw(width, height, out).unwrap_or_else(|| ImageBuffer::new(width, height))
}

/// Adds each block of `factor` pixels of `row` to the matching pixel of `sums`.
fn add_row<const C: usize>(sums: &mut [u32], row: &[u8], factor: usize) {
    for (sum, block) in sums.chunks_exact_mut(C).zip(row.chunks_exact(C * factor)) {
        for pixel in block.chunks_exact(C) {
            for (total, &sample) in sum.iter_mut().zip(pixel) {
                *total += u32::from(sample);
            }
        }
    }
}

fn premultiply(mut image: RgbaImage) -> RgbaImage {
    for pixel in image.pixels_mut() {
        let alpha = u16::from(pixel[3]);
        for channel in &mut pixel.0[..3] {
            *channel = ((u16::from(*channel) * alpha + 127) / 255) as u8;
        }
    }
    image
}

fn unpremultiply(mut image: RgbaImage) -> RgbaImage {
    for pixel in image.pixels_mut() {
        let alpha = u16::from(pixel[3]);
        if alpha == 0 {
            continue;
        }
        for channel in &mut pixel.0[..3] {
            *channel = ((u16::from(*channel) * 255 + alpha / 2) / alpha).min(255) as u8;
        }
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Rgb, RgbImage, Rgba};

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

        let small = resize(&DynamicImage::ImageRgba8(image), 8, 8).into_rgba8();

        let edge = small.get_pixel(3, 4);
        assert!(edge[3] > 0);
        assert!(edge[0] > 200, "edge pixel {edge:?} darkened");
    }

    #[test]
    fn a_box_shrink_averages_whole_blocks() {
        let image = GrayImage::from_fn(5, 4, |x, y| image::Luma([(x * 10 + y) as u8]));

        let small = shrink::<_, 1>(&image, 2);

        assert_eq!(small.dimensions(), (2, 2));
        assert_eq!(small.as_raw(), &[6, 26, 8, 28]);
    }

    #[test]
    fn large_ratios_keep_flat_colours_flat() {
        let image = RgbImage::from_pixel(2000, 1000, Rgb([30, 200, 30]));

        let small = resize(&DynamicImage::ImageRgb8(image), 100, 50).into_rgb8();

        assert_eq!(small.dimensions(), (100, 50));
        assert!(small.pixels().all(|p| p
            .0
            .iter()
            .zip([30, 200, 30])
            .all(|(a, b)| a.abs_diff(b) <= 1)));
    }
}
