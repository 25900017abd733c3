//! Decoding under limits: the header is checked against the pixel budget before any decoder
//! allocates, and every decoder runs with its allocation limit set.
//!
//! A JPEG is decoded straight at a reduced DCT scale (1/2, 1/4 or 1/8) when every output still
//! has twice its size in the result: the inverse DCT then computes only the low frequencies and
//! the full-size pixels never exist. A 12-megapixel photo decodes in about 5 MB instead of
//! 36 MB. sajin's own decoder (`super::jpeg`) takes the baseline and extended sequential files
//! cameras write, and decodes only the coefficients the reduced transform reads; everything
//! else (progressive, arithmetic coding, 12-bit, CMYK, unusual sampling) and any file it finds
//! damaged goes to `jpeg-decoder` at the same scale, and what that refuses to the `image`
//! crate's own decoder at full size, as every other format does.
use std::borrow::Cow;
use std::io::Cursor;

use image::codecs::webp::WebPDecoder;
use image::codecs::{bmp::BmpDecoder, gif::GifDecoder, jpeg::JpegDecoder, png::PngDecoder};
use image::{DynamicImage, GrayImage, ImageDecoder, ImageError, ImageResult, RgbImage};
use jpeg_decoder::{CodingProcess, PixelFormat};

use super::resize::{from_samples, RowReducer};
use super::{header, jpeg, Format, ImagingError, Limits};

/// A decoded first frame, reduced to 8-bit luma, RGB or (only when some pixel is not opaque) RGBA.
pub(crate) struct Decoded {
    /// The pixels in stored orientation; smaller than `size` when decoded at reduced scale.
    pub image: DynamicImage,
    /// The full stored width and height, as the decoder read them.
    pub size: (u32, u32),
    /// An RGB or gray ICC profile matching `image`, worth embedding in re-encodes.
    pub icc_profile: Option<Vec<u8>>,
}

/// Decodes the first frame of `bytes`, refusing oversized images from the header alone.
///
/// `min_scale` tells, from the stored size, the smallest fraction of it the caller can use;
/// formats that cannot decode at reduced scale ignore it and return the full size.
pub(crate) fn decode(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    min_scale: impl FnOnce((u32, u32)) -> f64,
) -> Result<Decoded, ImagingError> {
    let (width, height) = header::dimensions(bytes, format)?;
    check_pixels(width, height, limits)?;

    match format {
        Format::Jpeg => match decode_jpeg_scaled(bytes, limits, min_scale) {
            Ok(decoded) => return Ok(decoded),
            Err(ImagingError::TooManyPixels { .. }) => {
                return Err(too_large(width, height, limits))
            }
            Err(error) => tracing::debug!(%error, "decoding the JPEG again with the image crate"),
        },
        Format::Png => match decode_png_reduced(bytes, limits, min_scale) {
            Ok(Some(decoded)) => return Ok(decoded),
            Ok(None) => {}
            Err(ImagingError::TooManyPixels { .. }) => {
                return Err(too_large(width, height, limits))
            }
            Err(error) => return Err(error),
        },
        Format::Gif | Format::WebP | Format::Bmp => {}
    }

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
    Ok(Decoded {
        size: (image.width(), image.height()),
        icc_profile: icc_profile.filter(|icc| icc_matches(icc, &image)),
        image,
    })
}

/// Decodes an 8-bit DCT JPEG at the smallest DCT scale that `min_scale` allows: by sajin's own
/// decoder when the file is in its scope and decodes, else by `jpeg-decoder`.
fn decode_jpeg_scaled(
    bytes: &[u8],
    limits: &Limits,
    min_scale: impl FnOnce((u32, u32)) -> f64,
) -> Result<Decoded, ImagingError> {
    let header = match jpeg::Header::read(bytes) {
        Ok(header) => header,
        Err(error) => {
            tracing::debug!(%error, "decoding the JPEG with jpeg-decoder");
            return decode_jpeg_decoder(bytes, limits, min_scale);
        }
    };
    let size = header.size();
    check_pixels(size.0, size.1, limits)?;
    let min_scale = min_scale(size);
    match header.decode(dct_reduction(min_scale), limits.max_decode_bytes) {
        Ok((image, icc_profile)) => Ok(Decoded {
            icc_profile: icc_profile.filter(|icc| icc_matches(icc, &image)),
            image,
            size,
        }),
        Err(jpeg::JpegError::TooLarge) => Err(too_large(size.0, size.1, limits)),
        Err(error) => {
            tracing::debug!(%error, "decoding the JPEG again with jpeg-decoder");
            decode_jpeg_decoder(bytes, limits, |_| min_scale)
        }
    }
}

/// Decodes an 8-bit DCT JPEG with `jpeg-decoder` at the smallest DCT scale that `min_scale`
/// allows.
fn decode_jpeg_decoder(
    bytes: &[u8],
    limits: &Limits,
    min_scale: impl FnOnce((u32, u32)) -> f64,
) -> Result<Decoded, ImagingError> {
    // A file cut short gets an end-of-image marker here: the decoder then fills the missing
    // data with zero bits and finishes, where it would otherwise fail at the end of the input.
    // Only such files (and those with bytes after their end) are copied for it; a plain slice
    // also reads much faster than a chained reader, byte by byte as the decoder reads.
    let closed: Cow<[u8]> = if bytes.ends_with(&EOI) {
        Cow::Borrowed(bytes)
    } else {
        Cow::Owned([bytes, &EOI].concat())
    };
    let mut decoder = jpeg_decoder::Decoder::new(closed.as_ref());
    let max_bytes = usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX);
    decoder.set_max_decoding_buffer_size(max_bytes);
    decoder.read_info().map_err(jpeg_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| jpeg_error("no frame header"))?;
    let size = (u32::from(info.width), u32::from(info.height));
    check_pixels(size.0, size.1, limits)?;
    if info.coding_process == CodingProcess::Lossless {
        // Its samples can be wider than 8 bits, which the pixel layouts here do not carry.
        return Err(jpeg_error("lossless JPEG"));
    }
    if info.coding_process == CodingProcess::DctProgressive
        && coefficient_bytes(size, info.pixel_format) > limits.max_decode_bytes
    {
        // A progressive file is refined scan by scan, so every coefficient of the full image
        // is held until the last scan, whatever the scale; the limit counts them.
        return Err(too_large(size.0, size.1, limits));
    }

    let reduction = dct_reduction(min_scale(size));
    if reduction > 1 {
        let side = |full: u32| u16::try_from(full.div_ceil(reduction)).unwrap_or(u16::MAX);
        decoder
            .scale(side(size.0), side(size.1))
            .map_err(jpeg_error)?;
    }
    let pixels = decoder.decode().map_err(jpeg_error)?;
    let info = decoder
        .info()
        .ok_or_else(|| jpeg_error("no frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let image = match info.pixel_format {
        PixelFormat::L8 => GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8),
        PixelFormat::RGB24 => {
            RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8)
        }
        PixelFormat::CMYK32 => cmyk_to_rgb(width, height, &pixels).map(DynamicImage::ImageRgb8),
        PixelFormat::L16 => None,
    }
    .ok_or_else(|| jpeg_error("the decoded pixels do not fill the frame"))?;

    let icc_profile = decoder.icc_profile().filter(|icc| icc_matches(icc, &image));
    Ok(Decoded {
        image,
        size,
        icc_profile,
    })
}

const EOI: [u8; 2] = [0xFF, 0xD9];

/// The most a progressive decode holds in coefficients: two bytes for every sample of every
/// component, none of them subsampled, over whole 8x8 blocks.
fn coefficient_bytes((width, height): (u32, u32), pixel_format: PixelFormat) -> u64 {
    let components = match pixel_format {
        PixelFormat::L8 | PixelFormat::L16 => 1,
        PixelFormat::RGB24 => 3,
        PixelFormat::CMYK32 => 4,
    };
    let blocks = |side: u32| u64::from(side.div_ceil(8)) * 8;
    blocks(width) * blocks(height) * components * 2
}

/// Decodes a PNG row by row into a box average, when its outputs allow a reduction by 2 or
/// more: the full-size pixels never exist, and a 12-megapixel PNG needs about 3 MB of pixels
/// instead of 36. `None` leaves the file to the full decode: interlaced PNGs hand their rows
/// out of order, and small images have nothing to reduce.
fn decode_png_reduced(
    bytes: &[u8],
    limits: &Limits,
    min_scale: impl FnOnce((u32, u32)) -> f64,
) -> Result<Option<Decoded>, ImagingError> {
    let max_bytes = usize::try_from(limits.max_decode_bytes).unwrap_or(usize::MAX);
    let png_limits = png::Limits { bytes: max_bytes };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), png_limits);
    // Palettes, transparency chunks and other bit depths become 8-bit gray or colour samples.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().map_err(png_error)?;
    let info = reader.info();
    let size = (info.width, info.height);
    let factor = (1.0 / min_scale(size)).floor();
    if info.interlaced || factor.is_nan() || factor < 2.0 {
        return Ok(None);
    }
    let icc_profile = info.icc_profile.as_deref().map(<[u8]>::to_vec);
    let channels = reader.output_color_type().0.samples();
    let factor = factor.min(f64::from(u16::MAX)) as u32;
    let mut reducer = RowReducer::new(size.0, channels, factor)?;
    let has_alpha = channels == 2 || channels == 4;
    let mut is_opaque = true;
    while let Some(row) = reader.next_row().map_err(png_error)? {
        let row = row.data();
        if has_alpha && is_opaque {
            let mut alphas = row.iter().skip(channels - 1).step_by(channels);
            is_opaque = alphas.all(|&alpha| alpha == u8::MAX);
        }
        reducer.push(row);
    }

    let (width, height, samples) = reducer.finish();
    let image = from_samples(width, height, channels, samples)?;
    let has_color = image.color().has_color();
    let image = if is_opaque {
        drop_alpha(image, has_color)
    } else {
        DynamicImage::ImageRgba8(image.into_rgba8())
    };
    Ok(Some(Decoded {
        icc_profile: icc_profile.filter(|icc| icc_matches(icc, &image)),
        image,
        size,
    }))
}

/// A PNG's own allocation limit is the decode memory limit, whose refusal names the size.
fn png_error(error: png::DecodingError) -> ImagingError {
    match error {
        png::DecodingError::LimitsExceeded => ImagingError::TooManyPixels {
            width: 0,
            height: 0,
            max_pixels: 0,
        },
        other => ImagingError::Corrupt(other.to_string()),
    }
}

/// The largest reduction the DCT offers (8, 4, 2, else 1) that keeps at least `min_scale` of
/// each side; a reduced side is rounded up, so it never falls short.
fn dct_reduction(min_scale: f64) -> u32 {
    [8, 4, 2]
        .into_iter()
        .find(|&reduction| f64::from(reduction) * min_scale <= 1.0)
        .unwrap_or(1)
}

/// `jpeg-decoder` hands CMYK out as ink amounts (0 is no ink), Adobe's inverted files and
/// YCCK already undone; ink multiplies away the light of white paper.
fn cmyk_to_rgb(width: u32, height: u32, cmyk: &[u8]) -> Option<RgbImage> {
    let ink = |c: u8, k: u8| ((255 - u16::from(c)) * (255 - u16::from(k)) / 255) as u8;
    let rgb = cmyk
        .chunks_exact(4)
        .flat_map(|p| [ink(p[0], p[3]), ink(p[1], p[3]), ink(p[2], p[3])])
        .collect();
    RgbImage::from_raw(width, height, rgb)
}

fn jpeg_error(error: impl std::fmt::Display) -> ImagingError {
    ImagingError::Corrupt(error.to_string())
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
    use jpeg_encoder::ColorType;

    fn encode_png(image: &DynamicImage) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image
            .write_to(&mut out, ImageFormat::Png)
            .expect("encoding a test PNG");
        out.into_inner()
    }

    fn full_size(_: (u32, u32)) -> f64 {
        1.0
    }

    /// A JPEG from `jpeg-encoder` of `colour` pixels laid out as `color_type`.
    fn flat_jpeg(width: u16, height: u16, colour: &[u8], color_type: ColorType) -> Vec<u8> {
        let pixels = colour.repeat(usize::from(width) * usize::from(height));
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 95)
            .encode(&pixels, width, height, color_type)
            .expect("encodes a test JPEG");
        out
    }

    #[test]
    fn a_jpeg_is_decoded_at_the_smallest_dct_scale_its_outputs_allow() {
        let cases = [
            (0.25, (400, 300)),
            (0.3, (800, 600)),
            (0.1, (200, 150)),
            (0.9, (1600, 1200)),
        ];
        let jpeg = flat_jpeg(1600, 1200, &[10, 200, 30], ColorType::Rgb);
        for (min_scale, decoded_size) in cases {
            let decoded = decode(&jpeg, Format::Jpeg, &Limits::default(), |size| {
                assert_eq!(size, (1600, 1200));
                min_scale
            })
            .expect("decodes");

            let image = &decoded.image;
            assert_eq!((image.width(), image.height()), decoded_size, "{min_scale}");
            assert_eq!(decoded.size, (1600, 1200));
        }
    }

    /// `jpeg-decoder`'s own output for `jpeg` at 1/`reduction` scale.
    fn jpeg_decoder_output(jpeg: &[u8], reduction: u16) -> (u16, u16, Vec<u8>) {
        let mut decoder = jpeg_decoder::Decoder::new(jpeg);
        decoder.read_info().expect("reads the header");
        let info = decoder.info().expect("a frame");
        let side = |full: u16| full.div_ceil(reduction);
        decoder
            .scale(side(info.width), side(info.height))
            .expect("scales");
        let pixels = decoder.decode().expect("decodes");
        let info = decoder.info().expect("a frame");
        (info.width, info.height, pixels)
    }

    #[test]
    fn a_baseline_jpeg_is_decoded_by_the_own_decoder() {
        let jpeg = flat_jpeg(300, 200, &[40, 90, 160], ColorType::Rgb);

        let decoded = decode(&jpeg, Format::Jpeg, &Limits::default(), |_| 0.25).expect("decodes");

        let header = jpeg::Header::read(&jpeg).expect("in scope");
        let (own, _) = header.decode(4, u64::MAX).expect("decodes");
        assert_eq!(decoded.image.as_bytes(), own.as_bytes());
        assert_eq!(decoded.size, (300, 200));
    }

    #[test]
    fn jpegs_outside_the_own_decoders_scope_decode_through_jpeg_decoder() {
        let pixels: Vec<u8> = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
        let encode = |sampling, is_progressive| {
            let mut jpeg = Vec::new();
            let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 90);
            encoder.set_sampling_factor(sampling);
            encoder.set_progressive(is_progressive);
            encoder
                .encode(&pixels, 64, 48, ColorType::Rgb)
                .expect("encodes");
            jpeg
        };
        let progressive = encode(jpeg_encoder::SamplingFactor::F_2_2, true);
        let four_one_one = encode(jpeg_encoder::SamplingFactor::F_4_1, false);
        for (what, jpeg) in [("progressive", progressive), ("4:1:1", four_one_one)] {
            assert!(jpeg::Header::read(&jpeg).is_err(), "{what} is out of scope");

            let decoded = decode(&jpeg, Format::Jpeg, &Limits::default(), |_| 0.5).expect(what);

            let (width, height, expected) = jpeg_decoder_output(&jpeg, 2);
            let image = &decoded.image;
            assert_eq!((image.width(), image.height()), (32, 24), "{what}");
            assert_eq!((width, height), (32, 24), "{what}");
            assert_eq!(image.as_bytes(), expected, "{what}");
        }
    }

    #[test]
    fn cmyk_and_ycck_jpegs_decode_to_the_colours_of_their_ink() {
        // 20% cyan, 80% magenta, no yellow, 10% black: a purple.
        let ink = [51, 204, 0, 26];
        let expected = [184, 46, 229];
        for color_type in [ColorType::Cmyk, ColorType::CmykAsYcck] {
            let jpeg = flat_jpeg(16, 16, &ink, color_type);

            let decoded =
                decode(&jpeg, Format::Jpeg, &Limits::default(), full_size).expect("decodes");

            let rgb = decoded.image.to_rgb8();
            let got = rgb.get_pixel(8, 8).0;
            let close = got.iter().zip(expected).all(|(&a, b)| a.abs_diff(b) <= 4);
            assert!(close, "{color_type:?}: {got:?} is not {expected:?}");
        }
    }

    #[test]
    fn a_jpeg_cut_inside_its_data_still_decodes() {
        let jpeg = flat_jpeg(256, 256, &[200, 30, 30], ColorType::Rgb);
        let cut = &jpeg[..jpeg.len() * 3 / 4];

        let decoded = decode(cut, Format::Jpeg, &Limits::default(), full_size).expect("decodes");

        let top = decoded.image.to_rgb8().get_pixel(10, 10).0;
        assert!(top[0] > 150 && top[1] < 100, "{top:?}");
    }

    #[test]
    fn a_progressive_jpeg_is_refused_when_its_coefficients_pass_the_memory_limit() {
        let pixels = [90u8, 40, 200].repeat(512 * 512);
        let mut jpeg = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 90);
        encoder.set_progressive(true);
        encoder
            .encode(&pixels, 512, 512, ColorType::Rgb)
            .expect("encodes a progressive test JPEG");
        // The 786 KB of pixels fit; the 1.5 MB of coefficients do not.
        let limits = Limits {
            max_decode_bytes: 1_000_000,
            ..Limits::default()
        };

        let refused = decode(&jpeg, Format::Jpeg, &limits, |_| 0.25);
        let decoded = decode(&jpeg, Format::Jpeg, &Limits::default(), |_| 0.25);

        assert!(matches!(refused, Err(ImagingError::TooManyPixels { .. })));
        let image = decoded.expect("decodes under the default limit").image;
        assert_eq!((image.width(), image.height()), (128, 128));
    }

    #[test]
    fn a_jpeg_over_the_decode_memory_limit_is_refused() {
        let jpeg = flat_jpeg(512, 512, &[1, 2, 3], ColorType::Rgb);
        let limits = Limits {
            max_decode_bytes: 100_000,
            ..Limits::default()
        };

        let result = decode(&jpeg, Format::Jpeg, &limits, full_size);

        assert!(
            matches!(result, Err(ImagingError::TooManyPixels { width: 512, .. })),
            "{:?}",
            result.map(|d| d.size)
        );
    }

    #[test]
    fn an_opaque_rgba_png_decodes_to_rgb() {
        let png = encode_png(&DynamicImage::ImageRgba8(RgbaImage::from_pixel(
            4,
            4,
            Rgba([10, 20, 30, 255]),
        )));

        let decoded = decode(&png, Format::Png, &Limits::default(), full_size).expect("decodes");

        assert_eq!(decoded.image.color(), image::ColorType::Rgb8);
    }

    #[test]
    fn a_transparent_png_keeps_its_alpha() {
        let png = encode_png(&DynamicImage::ImageRgba8(RgbaImage::new(4, 4)));

        let decoded = decode(&png, Format::Png, &Limits::default(), full_size).expect("decodes");

        assert_eq!(decoded.image.color(), image::ColorType::Rgba8);
    }

    #[test]
    fn an_image_over_the_pixel_budget_is_refused_before_decoding() {
        let png = encode_png(&DynamicImage::ImageRgba8(RgbaImage::new(100, 100)));
        let limits = Limits {
            max_pixels: 9_999,
            ..Limits::default()
        };

        let result = decode(&png, Format::Png, &limits, full_size);

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
