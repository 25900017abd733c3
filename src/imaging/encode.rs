//! Encoding decoded pixels back into one of the served formats.

use image::codecs::gif::GifEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageEncoder, ImageResult, Rgb, RgbImage};

use super::{Encoded, Format, ImagingError};

/// JPEG quality of thumbnails and medium images: small files, no visible blocking.
pub(crate) const VARIANT_QUALITY: u8 = 82;
/// JPEG quality of a resized original, which stands in for the upload itself.
pub(crate) const ORIGINAL_QUALITY: u8 = 90;
/// NeuQuant speed for static GIF re-encodes: 1 is far slower for no visible gain.
const GIF_SPEED: i32 = 10;

/// The browser-displayable format for a thumbnail or medium image: PNG keeps transparency,
/// everything else is smaller as JPEG.
pub(crate) fn variant_format(image: &DynamicImage) -> Format {
    if image.color().has_alpha() {
        Format::Png
    } else {
        Format::Jpeg
    }
}

/// Encodes `image` as `format` (BMP is written as PNG), embedding `icc_profile` where the
/// format can carry it.
pub(crate) fn encode(
    image: &DynamicImage,
    format: Format,
    quality: u8,
    icc_profile: Option<&[u8]>,
) -> Result<Encoded, ImagingError> {
    let mut bytes = Vec::new();
    let format = if format == Format::Bmp {
        Format::Png
    } else {
        format
    };
    let icc_profile = icc_profile.map(<[u8]>::to_vec);
    let written = match format {
        Format::Jpeg => {
            let flat = flatten_on_white(image);
            let encoder = JpegEncoder::new_with_quality(&mut bytes, quality);
            write(flat.as_ref().unwrap_or(image), encoder, icc_profile)
        }
        Format::Png | Format::Bmp => {
            let encoder = PngEncoder::new_with_quality(
                &mut bytes,
                CompressionType::Default,
                FilterType::Adaptive,
            );
            write(image, encoder, icc_profile)
        }
        Format::Gif => write(
            image,
            GifEncoder::new_with_speed(&mut bytes, GIF_SPEED),
            None,
        ),
        // Limitation: the image crate only writes lossless WebP, so a resized WebP original can
        // be larger than the upload was.
        Format::WebP => write(image, WebPEncoder::new_lossless(&mut bytes), icc_profile),
    };
    written.map_err(|error| ImagingError::Encode(format!("{format:?}: {error}")))?;
    Ok(Encoded {
        bytes,
        format,
        width: image.width(),
        height: image.height(),
    })
}

fn write(
    image: &DynamicImage,
    mut encoder: impl ImageEncoder,
    icc_profile: Option<Vec<u8>>,
) -> ImageResult<()> {
    if let Some(icc_profile) = icc_profile {
        // An encoder that cannot carry a profile still writes correct, if less exact, colours.
        let _ = encoder.set_icc_profile(icc_profile);
    }
    image.write_with_encoder(encoder)
}

/// JPEG has no alpha: composite translucent pixels over white instead of letting the encoder
/// drop the channel, which would turn transparent areas black.
fn flatten_on_white(image: &DynamicImage) -> Option<DynamicImage> {
    let DynamicImage::ImageRgba8(rgba) = image else {
        return None;
    };
    let flat = RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let (c, a) = (u16::from(c), u16::from(a));
            ((c * a + 255 * (255 - a) + 127) / 255) as u8
        };
        Rgb([over_white(r), over_white(g), over_white(b)])
    });
    Some(DynamicImage::ImageRgb8(flat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn transparent_pixels_become_white_in_a_jpeg() {
        let image = DynamicImage::ImageRgba8(RgbaImage::from_pixel(16, 16, Rgba([0, 0, 0, 0])));

        let encoded = encode(&image, Format::Jpeg, VARIANT_QUALITY, None).expect("encodes");

        let decoded = image::load_from_memory(&encoded.bytes)
            .expect("decodes")
            .into_rgb8();
        assert!(decoded.pixels().all(|p| p.0.iter().all(|&c| c >= 250)));
    }

    #[test]
    fn a_bmp_target_is_written_as_png() {
        let image = DynamicImage::ImageRgb8(RgbImage::new(3, 2));

        let encoded = encode(&image, Format::Bmp, VARIANT_QUALITY, None).expect("encodes");

        assert_eq!(encoded.format, Format::Png);
        assert!(encoded.bytes.starts_with(b"\x89PNG"));
        assert_eq!((encoded.width, encoded.height), (3, 2));
    }
}
