//! The derived images: a square thumbnail and a 500 px wide medium image, both upright.
//!
//! Pixels stay in stored orientation while they are large; the EXIF orientation is applied to
//! the small result, which is cheaper than rotating the full image first.

use image::metadata::Orientation;
use image::DynamicImage;

use super::encode::{encode, variant_format, VARIANT_QUALITY};
use super::resize::resize;
use super::{Encoded, ImagingError};

/// Side of the square thumbnail.
pub(crate) const THUMB_SIDE: u32 = 320;
/// Width of the medium image; only made for wider images.
pub(crate) const MEDIUM_WIDTH: u32 = 500;

/// Pixels in stored orientation plus the EXIF orientation that shows them upright.
pub(crate) struct Upright<'a> {
    pub image: &'a DynamicImage,
    pub orientation: Orientation,
}

impl Upright<'_> {
    /// Width and height as displayed.
    pub fn display_size(&self) -> (u32, u32) {
        let (width, height) = (self.image.width(), self.image.height());
        if swaps_axes(self.orientation) {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Resizes to a display size and returns upright pixels.
    pub fn resized(&self, width: u32, height: u32) -> DynamicImage {
        let (stored_width, stored_height) = if swaps_axes(self.orientation) {
            (height, width)
        } else {
            (width, height)
        };
        let mut small = resize(self.image, stored_width, stored_height);
        small.apply_orientation(self.orientation);
        small
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

/// The encoded thumbnail and, for wide images, the medium image.
pub(crate) struct Variants {
    pub thumb: Encoded,
    pub medium: Option<Encoded>,
}

/// Builds the medium image from the full pixels and the thumbnail from the medium image when
/// that has enough resolution, so the full image is resampled once.
pub(crate) fn build(
    source: &Upright,
    icc_profile: Option<&[u8]>,
) -> Result<Variants, ImagingError> {
    let (width, height) = source.display_size();
    let medium = (width > MEDIUM_WIDTH).then(|| {
        let medium_height = scaled_height(width, height, MEDIUM_WIDTH);
        source.resized(MEDIUM_WIDTH, medium_height)
    });

    let side = THUMB_SIDE.min(width).min(height);
    let thumb = match medium
        .as_ref()
        .filter(|m| m.width().min(m.height()) >= side)
    {
        Some(medium) => square(medium, side),
        None => {
            let mut thumb = square(source.image, side);
            thumb.apply_orientation(source.orientation);
            thumb
        }
    };

    let encode_variant =
        |image: &DynamicImage| encode(image, variant_format(image), VARIANT_QUALITY, icc_profile);
    Ok(Variants {
        thumb: encode_variant(&thumb)?,
        medium: medium.as_ref().map(encode_variant).transpose()?,
    })
}

/// The height that keeps the aspect ratio at `new_width`, at least one pixel.
pub(crate) fn scaled_height(width: u32, height: u32, new_width: u32) -> u32 {
    let scaled =
        (u64::from(height) * u64::from(new_width) + u64::from(width) / 2) / u64::from(width);
    u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
}

/// The centred square crop of `image`, scaled to `side`; the centre square is the same in
/// every orientation, so this works on stored pixels too.
fn square(image: &DynamicImage, side: u32) -> DynamicImage {
    let crop = image.width().min(image.height());
    let x = (image.width() - crop) / 2;
    let y = (image.height() - crop) / 2;
    if crop == image.width() && crop == image.height() {
        return resize(image, side, side);
    }
    resize(&image.crop_imm(x, y, crop, crop), side, side)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    fn flat(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_pixel(width, height, Rgb([9, 9, 9])))
    }

    fn dims(encoded: &Encoded) -> (u32, u32) {
        (encoded.width, encoded.height)
    }

    #[test]
    fn the_medium_is_500_wide_and_the_thumb_320_square() {
        let image = flat(1200, 800);
        let source = Upright {
            image: &image,
            orientation: Orientation::NoTransforms,
        };

        let variants = build(&source, None).expect("builds");

        assert_eq!(dims(&variants.thumb), (320, 320));
        assert_eq!(variants.medium.as_ref().map(dims), Some((500, 333)));
    }

    #[test]
    fn a_rotated_image_gets_a_portrait_medium() {
        let image = flat(1600, 1200);
        let source = Upright {
            image: &image,
            orientation: Orientation::Rotate90,
        };

        let variants = build(&source, None).expect("builds");

        assert_eq!(source.display_size(), (1200, 1600));
        assert_eq!(variants.medium.as_ref().map(dims), Some((500, 667)));
    }

    #[test]
    fn small_images_are_never_upscaled() {
        let image = flat(200, 90);
        let source = Upright {
            image: &image,
            orientation: Orientation::NoTransforms,
        };

        let variants = build(&source, None).expect("builds");

        assert_eq!(dims(&variants.thumb), (90, 90));
        assert!(variants.medium.is_none());
    }

    #[test]
    fn a_wide_panorama_takes_its_thumb_from_the_full_image() {
        let image = flat(4000, 1000);
        let source = Upright {
            image: &image,
            orientation: Orientation::NoTransforms,
        };

        let variants = build(&source, None).expect("builds");

        assert_eq!(variants.medium.as_ref().map(dims), Some((500, 125)));
        assert_eq!(dims(&variants.thumb), (320, 320));
    }

    #[test]
    fn a_one_pixel_line_keeps_at_least_one_pixel() {
        assert_eq!(scaled_height(10_000, 1, 500), 1);
    }
}
