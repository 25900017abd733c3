//! The derived images, a square thumbnail and a 500 px wide medium image, both upright; and
//! the plan of every size one upload is resampled to, which decides how small it may be
//! decoded.
//!
//! Pixels stay in stored orientation while they are large; the EXIF orientation is applied to
//! the small results, which is cheaper than rotating the full image first.

use image::metadata::Orientation;
use image::DynamicImage;

use super::encode::{encode, variant_format, Purpose};
use super::resize::{Pixels, Region};
use super::{beside, Encoded, ImagingError};

/// Side of the square thumbnail.
pub(crate) const THUMB_SIDE: u32 = 320;
/// Width of the medium image; only made for wider images.
pub(crate) const MEDIUM_WIDTH: u32 = 500;
/// Each output is resampled from at least this many times its size when the image has that
/// many pixels, so that the final Lanczos3 pass filters real detail rather than the rounding
/// of a reduced decode.
const MARGIN: f64 = 2.0;

/// The stored size of an image and the EXIF orientation that shows it upright.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Upright {
    pub size: (u32, u32),
    pub orientation: Orientation,
}

impl Upright {
    /// Width and height as displayed.
    pub fn display_size(&self) -> (u32, u32) {
        let (width, height) = self.size;
        if swaps_axes(self.orientation) {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Resamples a stored `region` to a display size and returns upright pixels.
    pub fn render(
        &self,
        pixels: &Pixels,
        region: Region,
        (width, height): (u32, u32),
    ) -> Result<DynamicImage, ImagingError> {
        let (stored_width, stored_height) = if swaps_axes(self.orientation) {
            (height, width)
        } else {
            (width, height)
        };
        let mut small = pixels.resize(region, stored_width, stored_height)?;
        small.apply_orientation(self.orientation);
        Ok(small)
    }
}

fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// Every size one upload is resampled to, in display orientation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub upright: Upright,
    /// The stored original at a requested width, when one applies.
    pub original: Option<(u32, u32)>,
    /// The medium image, for images wider than [`MEDIUM_WIDTH`].
    pub medium: Option<(u32, u32)>,
    /// Side of the thumbnail, cut from the middle: at most [`THUMB_SIDE`], never upscaled.
    pub thumb_side: u32,
}

impl Plan {
    /// The variants of an image, and its resized original when one is asked for.
    pub fn new(upright: Upright, original: Option<(u32, u32)>) -> Plan {
        // The variants show the stored original, so a resized one sets their sizes; they are
        // still resampled from the decoded pixels, not from the smaller original.
        let (width, height) = original.unwrap_or(upright.display_size());
        let medium = (width > MEDIUM_WIDTH)
            .then(|| (MEDIUM_WIDTH, scaled_height(width, height, MEDIUM_WIDTH)));
        Plan {
            upright,
            original,
            medium,
            thumb_side: THUMB_SIDE.min(width).min(height),
        }
    }

    /// The smallest share of the stored size that still leaves every output its margin; 1
    /// when the image has no pixels to spare.
    pub fn min_scale(&self) -> f64 {
        let (width, height) = self.upright.display_size();
        let share = |output: u32, input: u32| MARGIN * f64::from(output) / f64::from(input.max(1));
        let thumb = share(self.thumb_side, width.min(height));
        self.original
            .into_iter()
            .chain(self.medium)
            .map(|(output_width, _)| share(output_width, width))
            .fold(thumb, f64::max)
            .min(1.0)
    }
}

/// The encoded thumbnail and, for wide images, the medium image.
pub(crate) struct Variants {
    pub thumb: Encoded,
    pub medium: Option<Encoded>,
}

/// Resamples and encodes both variants from `pixels`, which cover the stored image of `plan`.
pub(crate) fn build(
    pixels: &Pixels,
    plan: &Plan,
    icc_profile: Option<&[u8]>,
) -> Result<Variants, ImagingError> {
    let upright = &plan.upright;
    let variant = |region: Region, size: (u32, u32)| {
        let image = upright.render(pixels, region, size)?;
        encode(
            &image,
            variant_format(&image),
            Purpose::Variant,
            icc_profile,
        )
    };
    let medium = || {
        plan.medium
            .map(|size| variant(Region::whole(upright.size), size))
            .transpose()
    };
    let side = plan.thumb_side;
    let thumb = || variant(Region::centre_square(upright.size), (side, side));
    let (medium, thumb) = beside(medium, thumb);
    Ok(Variants {
        thumb: thumb?,
        medium: medium?,
    })
}

/// The height that keeps the aspect ratio at `new_width`, at least one pixel.
pub(crate) fn scaled_height(width: u32, height: u32, new_width: u32) -> u32 {
    let scaled =
        (u64::from(height) * u64::from(new_width) + u64::from(width) / 2) / u64::from(width);
    u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn variants_of(width: u32, height: u32, orientation: Orientation) -> Variants {
        let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, Rgb([9, 9, 9])));
        let plan = Plan::new(
            Upright {
                size: (width, height),
                orientation,
            },
            None,
        );
        let pixels = Pixels::new(image, (width, height), plan.min_scale()).expect("prepares");
        build(&pixels, &plan, None).expect("builds")
    }

    fn dims(encoded: &Encoded) -> (u32, u32) {
        (encoded.width, encoded.height)
    }

    #[test]
    fn the_medium_is_500_wide_and_the_thumb_320_square() {
        let variants = variants_of(1200, 800, Orientation::NoTransforms);

        assert_eq!(dims(&variants.thumb), (320, 320));
        assert_eq!(variants.medium.as_ref().map(dims), Some((500, 333)));
    }

    #[test]
    fn a_rotated_image_gets_a_portrait_medium() {
        let variants = variants_of(1600, 1200, Orientation::Rotate90);

        assert_eq!(variants.medium.as_ref().map(dims), Some((500, 667)));
    }

    #[test]
    fn small_images_are_never_upscaled() {
        let variants = variants_of(200, 90, Orientation::NoTransforms);

        assert_eq!(dims(&variants.thumb), (90, 90));
        assert!(variants.medium.is_none());
    }

    #[test]
    fn a_wide_panorama_gets_a_square_thumb_from_its_middle() {
        let variants = variants_of(4000, 1000, Orientation::NoTransforms);

        assert_eq!(variants.medium.as_ref().map(dims), Some((500, 125)));
        assert_eq!(dims(&variants.thumb), (320, 320));
    }

    #[test]
    fn a_resized_original_sets_the_sizes_of_its_variants() {
        let upright = Upright {
            size: (800, 600),
            orientation: Orientation::NoTransforms,
        };
        let cases = [((200, 150), None, 150), ((600, 450), Some((500, 375)), 320)];

        for (original, medium, thumb_side) in cases {
            let plan = Plan::new(upright, Some(original));

            assert_eq!(
                (plan.medium, plan.thumb_side),
                (medium, thumb_side),
                "{original:?}"
            );
        }
    }

    #[test]
    fn the_decode_scale_leaves_every_output_twice_its_size() {
        let plan = |width, height, original| {
            let upright = Upright {
                size: (width, height),
                orientation: Orientation::Rotate90,
            };
            Plan::new(upright, original).min_scale()
        };
        let cases = [
            // A 12-megapixel photo shown portrait: the 500 px medium needs 1000 of 3000.
            (plan(4000, 3000, None), 1.0 / 3.0),
            (plan(1000, 4000, None), 0.64),
            (plan(4000, 3000, Some((1500, 2000))), 1.0),
            (plan(600, 400, None), 1.0),
        ];

        for (got, expected) in cases {
            assert!((got - expected).abs() < 1e-9, "{got} != {expected}");
        }
    }

    #[test]
    fn a_one_pixel_line_keeps_at_least_one_pixel() {
        assert_eq!(scaled_height(10_000, 1, 500), 1);
    }
}
