//! Decoding under limits: the header is checked against the pixel budget before any decoder
//! allocates, and every decoder runs with `image::Limits` set.

use std::io::Cursor;

use image::codecs::webp::WebPDecoder;
use image::codecs::{bmp::BmpDecoder, gif::GifDecoder, jpeg::JpegDecoder, png::PngDecoder};
use image::{DynamicImage, ImageDecoder, ImageError, ImageResult};

use super::{header, Format, ImagingError, Limits};

/// A decoded first frame, reduced to 8-bit luma, RGB or (only when some pixel is not opaque) RGBA.
pub(crate) struct Decoded {
    pub image: DynamicImage,
    /// An RGB or gray ICC profile matching `image`, worth embedding in re-encodes.
    pub icc_profile: Option<Vec<u8>>,
}

/// Decodes the first frame of `bytes`, refusing oversized images from the header alone.
pub(crate) fn decode(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
) -> Result<Decoded, ImagingError> {
    let (width, height) = header::dimensions(bytes, format)?;
    check_pixels(width, height, limits)?;

    let cursor = Cursor::new(bytes);
    let guard = Guard {
        width,
        height,
        limits,
    };
    let (image, icc_profile) = match format {
        Format::Jpeg => guard.run(JpegDecoder::new(cursor)),
        Format::Png => guard.run(PngDecoder::with_limits(cursor, image_limits(limits))),
        // Limitation: the gif crate caps one frame at 50 MB of RGBA (about 12.5 megapixels)
        // whatever `Limits` says, and reports larger frames as undecodable (`Corrupt`).
        Format::Gif => guard.run(GifDecoder::new(cursor)),
        Format::WebP => guard.run(WebPDecoder::new(cursor)),
        Format::Bmp => guard.run(BmpDecoder::new(cursor)),
    }?;

    let image = normalise(image);
    let icc_profile = icc_profile.filter(|icc| icc_matches(icc, &image));
    Ok(Decoded { image, icc_profile })
}

/// Refuses `width * height > max_pixels`.
pub(crate) fn check_pixels(width: u32, height: u32, limits: &Limits) -> Result<(), ImagingError> {
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(too_large(width, height, limits));
    }
    Ok(())
}

fn too_large(width: u32, height: u32, limits: &Limits) -> ImagingError {
    ImagingError::TooManyPixels {
        width,
        height,
        max_pixels: limits.max_pixels,
    }
}

fn image_limits(limits: &Limits) -> image::Limits {
    // No side can exceed the pixel budget when the other side is at least one pixel.
    let max_side = u32::try_from(limits.max_pixels).unwrap_or(u32::MAX);
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(max_side);
    image_limits.max_image_height = Some(max_side);
    image_limits.max_alloc = Some(limits.max_decode_bytes);
    image_limits
}

/// Runs a constructed decoder under the limits, with the header's size for error messages.
struct Guard<'a> {
    width: u32,
    height: u32,
    limits: &'a Limits,
}

impl Guard<'_> {
    fn run<D: ImageDecoder>(
        &self,
        decoder: ImageResult<D>,
    ) -> Result<(DynamicImage, Option<Vec<u8>>), ImagingError> {
        let mut decoder = decoder.map_err(|e| self.error(e))?;

        // The decoder may read a different size than our header parse (several SOF markers…).
        let (width, height) = decoder.dimensions();
        check_pixels(width, height, self.limits)?;
        if decoder.total_bytes() > self.limits.max_decode_bytes {
            return Err(too_large(width, height, self.limits));
        }
        decoder
            .set_limits(image_limits(self.limits))
            .map_err(|e| self.error(e))?;

        let icc_profile = decoder.icc_profile().unwrap_or_else(|error| {
            tracing::debug!(%error, "ignoring an unreadable ICC profile");
            None
        });
        let image = DynamicImage::from_decoder(decoder).map_err(|e| self.error(e))?;
        Ok((image, icc_profile))
    }

    fn error(&self, error: ImageError) -> ImagingError {
        match error {
            ImageError::Limits(_) => too_large(self.width, self.height, self.limits),
            other => ImagingError::Corrupt(other.to_string()),
        }
    }
}

/// Reduces every decoder output to the three layouts the pipeline handles; alpha is dropped
/// when every pixel is opaque, so such images get JPEG variants.
fn normalise(image: DynamicImage) -> DynamicImage {
    let color = image.color();
    if !color.has_alpha() {
        return drop_alpha(image, color.has_color());
    }
    let rgba = image.into_rgba8();
    if rgba
        .as_raw()
        .chunks_exact(4)
        .all(|pixel| pixel[3] == u8::MAX)
    {
        drop_alpha(DynamicImage::ImageRgba8(rgba), color.has_color())
    } else {
        DynamicImage::ImageRgba8(rgba)
    }
}

fn drop_alpha(image: DynamicImage, has_color: bool) -> DynamicImage {
    if has_color {
        DynamicImage::ImageRgb8(image.into_rgb8())
    } else {
        DynamicImage::ImageLuma8(image.into_luma8())
    }
}

/// Keeps only a well-formed profile whose colour space is the decoded one: a CMYK profile
/// on the RGB output of a CMYK JPEG would shift every colour.
fn icc_matches(icc: &[u8], image: &DynamicImage) -> bool {
    let declared_len = icc
        .get(0..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes);
    let well_formed = declared_len == Some(icc.len() as u32) && icc.get(36..40) == Some(b"acsp");
    let wanted: &[u8] = if image.color().has_color() {
        b"RGB "
    } else {
        b"GRAY"
    };
    well_formed && icc.get(16..20) == Some(wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgba, RgbaImage};

    fn encode_png(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image
            .write_to(&mut out, ImageFormat::Png)
            .expect("encoding a test PNG");
        out.into_inner()
    }

    #[test]
    fn an_opaque_rgba_png_decodes_to_rgb() {
        let png = encode_png(&DynamicImage::ImageRgba8(RgbaImage::from_pixel(
            4,
            4,
            Rgba([10, 20, 30, 255]),
        )));

        let decoded = decode(&png, Format::Png, &Limits::default()).expect("decodes");

        assert_eq!(decoded.image.color(), image::ColorType::Rgb8);
    }

    #[test]
    fn a_transparent_png_keeps_its_alpha() {
        let png = encode_png(&DynamicImage::ImageRgba8(RgbaImage::new(4, 4)));

        let decoded = decode(&png, Format::Png, &Limits::default()).expect("decodes");

        assert_eq!(decoded.image.color(), image::ColorType::Rgba8);
    }

    #[test]
    fn an_image_over_the_pixel_budget_is_refused_before_decoding() {
        let png = encode_png(&DynamicImage::ImageRgba8(RgbaImage::new(100, 100)));
        let limits = Limits {
            max_pixels: 9_999,
            ..Limits::default()
        };

        let result = decode(&png, Format::Png, &limits);

        assert!(matches!(
            result,
            Err(ImagingError::TooManyPixels {
                width: 100,
                height: 100,
                max_pixels: 9_999
            })
        ));
    }
}
