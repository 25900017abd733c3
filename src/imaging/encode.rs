//! Encoding decoded pixels back into one of the served formats. JPEG goes through the
//! `jpeg-encoder` crate, which is about three times faster than the `image` crate's encoder
//! and can subsample chroma; the other formats through the `image` crate.

use image::codecs::gif::GifEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{DynamicImage, ImageEncoder, ImageResult, Rgb, RgbImage};
use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, SamplingFactor};

use super::{Encoded, Format, ImagingError};

/// What an encoded file is for, which sets its JPEG quality and chroma resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A thumbnail or medium image: quality 85 with 4:2:0 chroma, small and without visible
    /// blocking.
    Variant,
    /// A resized original, which stands in for the upload itself: quality 90, full chroma.
    Original,
}

impl Purpose {
    fn jpeg_settings(self) -> (u8, SamplingFactor) {
        match self {
            Purpose::Variant => (85, SamplingFactor::R_4_2_0),
            Purpose::Original => (90, SamplingFactor::R_4_4_4),
        }
    }
}

/// NeuQuant speed for static GIF re-encodes: 1 is far slower for no visible gain.
const GIF_SPEED: i32 = 10;
/// The longest side a JPEG frame header can declare.
const JPEG_MAX_SIDE: u32 = u16::MAX as u32;

/// The browser-displayable format for a thumbnail or medium image: PNG keeps transparency,
/// everything else is smaller as JPEG, as long as JPEG can hold its size (the medium image of
/// a very tall upload cannot).
pub(crate) fn variant_format(image: &DynamicImage) -> Format {
    let fits_jpeg = image.width() <= JPEG_MAX_SIDE && image.height() <= JPEG_MAX_SIDE;
    if image.color().has_alpha() || !fits_jpeg {
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
    purpose: Purpose,
    icc_profile: Option<&[u8]>,
) -> Result<Encoded, ImagingError> {
    let mut bytes = Vec::new();
    let format = if format == Format::Bmp {
        Format::Png
    } else {
        format
    };
    let written = match format {
        Format::Jpeg => write_jpeg(&mut bytes, image, purpose, icc_profile),
        Format::Png | Format::Bmp => {
            let encoder = PngEncoder::new_with_quality(
                &mut bytes,
                CompressionType::Default,
                FilterType::Adaptive,
            );
            write(image, encoder, icc_profile).map_err(|error| error.to_string())
        }
        Format::Gif => write(
            image,
            GifEncoder::new_with_speed(&mut bytes, GIF_SPEED),
            None,
        )
        .map_err(|error| error.to_string()),
        // Limitation: the image crate only writes lossless WebP, so a resized WebP original can
        // be larger than the upload was.
        Format::WebP => write(image, WebPEncoder::new_lossless(&mut bytes), icc_profile)
            .map_err(|error| error.to_string()),
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
    icc_profile: Option<&[u8]>,
) -> ImageResult<()> {
    if let Some(icc_profile) = icc_profile {
        // An encoder that cannot carry a profile still writes correct, if less exact, colours.
        let _ = encoder.set_icc_profile(icc_profile.to_vec());
    }
    image.write_with_encoder(encoder)
}

fn write_jpeg(
    bytes: &mut Vec<u8>,
    image: &DynamicImage,
    purpose: Purpose,
    icc_profile: Option<&[u8]>,
) -> Result<(), String> {
    let rgb;
    let (pixels, color) = match image {
        DynamicImage::ImageLuma8(gray) => (gray.as_raw(), ColorType::Luma),
        DynamicImage::ImageRgb8(colour) => (colour.as_raw(), ColorType::Rgb),
        other => {
            rgb = flatten_on_white(other);
            (rgb.as_raw(), ColorType::Rgb)
        }
    };
    let side = |side: u32| u16::try_from(side).map_err(|_| format!("{side} px is too long"));
    let (width, height) = (side(image.width())?, side(image.height())?);

    let (quality, sampling) = purpose.jpeg_settings();
    let mut encoder = jpeg_encoder::Encoder::new(bytes, quality);
    encoder.set_sampling_factor(sampling);
    // The default takes one pixel of each block; averaging it is what libjpeg does.
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    if let Some(icc_profile) = icc_profile {
        if let Err(error) = encoder.add_icc_profile(icc_profile) {
            tracing::debug!(%error, "writing the JPEG without its ICC profile");
        }
    }
    encoder
        .encode(pixels, width, height, color)
        .map_err(|error| error.to_string())
}

/// JPEG has no alpha: composite translucent pixels over white instead of letting the encoder
/// drop the channel, which would turn transparent areas black.
fn flatten_on_white(image: &DynamicImage) -> RgbImage {
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| {
            let (c, a) = (u16::from(c), u16::from(a));
            ((c * a + 255 * (255 - a) + 127) / 255) as u8
        };
        Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageDecoder, Rgba, RgbaImage};

    #[test]
    fn transparent_pixels_become_white_in_a_jpeg() {
        let image = DynamicImage::ImageRgba8(RgbaImage::from_pixel(16, 16, Rgba([0, 0, 0, 0])));

        let encoded = encode(&image, Format::Jpeg, Purpose::Variant, None).expect("encodes");

        let decoded = image::load_from_memory(&encoded.bytes)
            .expect("decodes")
            .into_rgb8();
        assert!(decoded.pixels().all(|p| p.0.iter().all(|&c| c >= 250)));
    }

    /// The sampling factors (horizontal << 4 | vertical) of each component in the frame header.
    fn sampling_factors(jpeg: &[u8]) -> Vec<u8> {
        let sof = jpeg
            .windows(2)
            .position(|marker| marker == [0xFF, 0xC0])
            .expect("a baseline frame header");
        let components = usize::from(jpeg[sof + 9]);
        (0..components).map(|i| jpeg[sof + 11 + 3 * i]).collect()
    }

    #[test]
    fn variants_subsample_chroma_and_resized_originals_keep_it() {
        let image = DynamicImage::ImageRgb8(RgbImage::from_pixel(64, 48, Rgb([200, 40, 90])));
        let cases = [
            (Purpose::Variant, vec![0x22, 0x11, 0x11]),
            (Purpose::Original, vec![0x11, 0x11, 0x11]),
        ];

        for (purpose, expected) in cases {
            let encoded = encode(&image, Format::Jpeg, purpose, None).expect("encodes");

            assert_eq!(sampling_factors(&encoded.bytes), expected, "{purpose:?}");
        }
    }

    #[test]
    fn a_jpeg_carries_the_icc_profile_it_is_given() {
        let image = DynamicImage::ImageLuma8(image::GrayImage::new(8, 8));
        let profile = b"a stand-in for an ICC profile".as_slice();

        let encoded =
            encode(&image, Format::Jpeg, Purpose::Variant, Some(profile)).expect("encodes");

        let decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&encoded.bytes));
        let mut decoder = decoder.expect("reads the header");
        assert_eq!(
            decoder.icc_profile().expect("reads"),
            Some(profile.to_vec())
        );
    }

    #[test]
    fn an_image_too_tall_for_jpeg_gets_a_png_variant() {
        let image = DynamicImage::ImageRgb8(RgbImage::new(1, 70_000));

        assert_eq!(variant_format(&image), Format::Png);
    }

    #[test]
    fn a_bmp_target_is_written_as_png() {
        let image = DynamicImage::ImageRgb8(RgbImage::new(3, 2));

        let encoded = encode(&image, Format::Bmp, Purpose::Variant, None).expect("encodes");

        assert_eq!(encoded.format, Format::Png);
        assert!(encoded.bytes.starts_with(b"\x89PNG"));
        assert_eq!((encoded.width, encoded.height), (3, 2));
    }
}
