//! The file stored as the original: the upload byte for byte whenever possible, because any
//! re-encode loses quality and metadata. It is rewritten only to remove GPS (losslessly), to
//! turn BMP into PNG, to honour a requested smaller width, or to close a truncated JPEG.

use image::DynamicImage;

use super::container::{jpeg_lacks_eoi, Blocks};
use super::encode::{encode, Purpose};
use super::resize::{Pixels, Region};
use super::variants::{scaled_height, Upright};
use super::{gps, Encoded, Format, ImagingError, Options};

/// The display size a requested width resizes to, if it applies: never upscale, never flatten
/// an animation, and treat 0 as "no width given".
// Limitation: an animation is stored at its own size even when a width is requested, because
// re-encoding every frame is not implemented; only its thumbnail and medium image are small.
pub(crate) fn resize_target(
    source: &Upright,
    is_animated: bool,
    resize_width: Option<u32>,
) -> Option<(u32, u32)> {
    let (width, height) = source.display_size();
    let wanted = resize_width.filter(|&w| w > 0 && w < width && !is_animated)?;
    Some((wanted, scaled_height(width, height, wanted)))
}

/// Resamples the whole image to the upright display `size` and encodes it in the upload's
/// format (BMP becomes PNG).
pub(crate) fn resized(
    pixels: &Pixels,
    source: &Upright,
    size: (u32, u32),
    format: Format,
    icc_profile: Option<&[u8]>,
) -> Result<Encoded, ImagingError> {
    let image = source.render(pixels, Region::whole(source.size), size)?;
    encode(&image, format, Purpose::Original, icc_profile)
}

/// The upload itself, minus GPS when asked and with an EOI marker added to a truncated JPEG;
/// a BMP is converted to PNG from its full decoded `image`. The flag tells whether the bytes
/// are still exactly the upload's.
pub(crate) fn kept(
    input: Vec<u8>,
    format: Format,
    image: &DynamicImage,
    source: &Upright,
    blocks: &Blocks,
    options: &Options,
) -> Result<(Encoded, bool), ImagingError> {
    if format == Format::Bmp {
        // BMP carries no EXIF, so the stored pixels are already upright.
        let png = encode(image, Format::Png, Purpose::Original, None)?;
        return Ok((png, false));
    }
    let mut bytes = input;
    let mut is_upload = !(options.strip_gps && gps::strip(&mut bytes, blocks));
    // A file that ends in an EOI marker has one, which spares a scan of its data.
    if format == Format::Jpeg && !bytes.ends_with(&[0xFF, 0xD9]) && jpeg_lacks_eoi(&bytes) {
        // Browsers show a cut-off JPEG (grey below the cut) but strict decoders refuse it;
        // the end marker makes the stored file complete without touching its data.
        bytes.extend_from_slice(&[0xFF, 0xD9]);
        is_upload = false;
    }
    let (width, height) = source.display_size();
    Ok((
        Encoded {
            bytes,
            format,
            width,
            height,
        },
        is_upload,
    ))
}
