//! The image pipeline: pure, synchronous functions from uploaded bytes to the files sajin
//! stores (the original, a thumbnail, a medium image) and the metadata it records.
//!
//! [`process`] is the entry point. It recognises the format from magic bytes, refuses files
//! that do not end where their format says (polyglots) and decompression bombs from the
//! header, reads EXIF and XMP, decodes the first frame once under limits (a JPEG straight at
//! the smallest DCT scale its outputs allow), keeps the upload byte for byte where it can
//! (removing GPS losslessly) and derives upright variants.
//! It never panics on hostile input, and its work grows linearly with the input's size;
//! callers run it on a blocking thread.

mod container;
mod decode;
mod encode;
mod error;
mod format;
mod gif;
mod gps;
mod header;
mod jpeg;
mod metadata;
mod original;
mod resize;
mod structure;
mod tags;
mod tiff;
mod variants;
mod xmp;

#[cfg(test)]
mod corpus;
#[cfg(test)]
mod tests;

pub use error::ImagingError;
pub use format::{detect_format, Format};
pub use metadata::{DateTaken, Metadata};

use md5::{Digest, Md5};

use resize::Pixels;
use variants::{Plan, Upright, Variants};

/// Resource limits applied before and during decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted width x height, checked from the header before decoding.
    pub max_pixels: u64,
    /// Largest allocation a decoder may make, in bytes.
    pub max_decode_bytes: u64,
}

impl Default for Limits {
    /// 100 megapixels and 512 MiB.
    fn default() -> Self {
        Limits {
            max_pixels: 100_000_000,
            max_decode_bytes: 512 * 1024 * 1024,
        }
    }
}

/// What the caller asks of [`process`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Store the original at this width (kept ratio) when it is narrower than the image;
    /// never upscales, ignored for animations and when 0.
    pub resize_width: Option<u32>,
    /// Remove GPS from the stored original (losslessly) and from `Metadata::exif_json`.
    pub strip_gps: bool,
    /// Decoding limits.
    pub limits: Limits,
}

/// One encoded file.
#[derive(Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Its format, which decides the served extension and media type.
    pub format: Format,
    /// Display width (EXIF orientation applied).
    pub width: u32,
    /// Display height (EXIF orientation applied).
    pub height: u32,
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded")
            .field("bytes", &format_args!("<{} bytes>", self.bytes.len()))
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// Everything sajin stores for one upload.
#[derive(Clone, Debug)]
pub struct Processed {
    /// The stored original: the upload unchanged, except GPS removed losslessly (when asked),
    /// BMP converted to PNG, re-encoded at `resize_width`, or a truncated JPEG closed with an
    /// EOI marker (its data untouched). Its size is the display size.
    pub original: Encoded,
    /// Hex MD5 of the uploaded bytes.
    pub source_md5: String,
    /// Hex MD5 of `original.bytes`.
    pub md5: String,
    /// More than one frame: animated GIF, APNG or animated WebP.
    pub is_animated: bool,
    /// Upright square thumbnail, at most 320 px, from the first frame.
    pub thumb: Encoded,
    /// Upright 500 px wide image, only for images wider than that.
    pub medium: Option<Encoded>,
    /// Descriptive metadata from EXIF and XMP.
    pub metadata: Metadata,
}

/// Turns an upload into the files to store; synchronous CPU work that never panics.
pub fn process(input: Vec<u8>, options: &Options) -> Result<Processed, ImagingError> {
    let format = detect_format(&input).ok_or(ImagingError::Unsupported)?;
    structure::check(&input, format)?;
    let blocks = container::metadata_blocks(&input, format);
    let exif = blocks.first_exif(&input).and_then(tags::parse);
    let metadata = metadata::extract(exif.as_ref(), blocks.first_xmp(&input), options.strip_gps);
    let orientation = tags::orientation(exif.as_ref());
    let is_animated = header::is_animated(&input, format);

    // The outputs depend on the size the decoder reads, and tell it how small it may decode.
    let plan = |size| {
        let upright = Upright { size, orientation };
        let original = original::resize_target(&upright, is_animated, options.resize_width);
        Plan::new(upright, original)
    };
    // The hash needs nothing but the bytes, so it is taken beside the decoding.
    let (source_md5, decoded) = beside(
        || md5_hex(&input),
        || {
            decode::decode(&input, format, &options.limits, |size| {
                plan(size).min_scale()
            })
        },
    );
    let decoded = decoded?;
    let plan = plan(decoded.size);
    let stored = match plan.original {
        Some(size) => store_resized(decoded, &plan, size, format)?,
        None => store_upload(input, format, decoded, &plan, &blocks, options)?,
    };

    tracing::debug!(?format, original = ?stored.original, is_animated, "processed an upload");
    // An unchanged original reuses the upload's hash instead of a second pass over it.
    let md5 = if stored.is_upload {
        source_md5.clone()
    } else {
        md5_hex(&stored.original.bytes)
    };
    Ok(Processed {
        original: stored.original,
        source_md5,
        md5,
        is_animated,
        thumb: stored.variants.thumb,
        medium: stored.variants.medium,
        metadata,
    })
}

/// The stored original with its variants.
struct Stored {
    original: Encoded,
    variants: Variants,
    /// `original.bytes` are exactly the uploaded bytes.
    is_upload: bool,
}

/// Stores the whole image resampled to the requested display `size`, and derives from it.
fn store_resized(
    decoded: decode::Decoded,
    plan: &Plan,
    size: (u32, u32),
    format: Format,
) -> Result<Stored, ImagingError> {
    let icc_profile = decoded.icc_profile.as_deref();
    let pixels = Pixels::new(decoded.image, decoded.size, plan.min_scale())?;
    Ok(Stored {
        original: original::resized(&pixels, &plan.upright, size, format, icc_profile)?,
        variants: variants::build(&pixels, plan, icc_profile)?,
        is_upload: false,
    })
}

/// Stores the upload itself (as far as possible) and derives from its decoded pixels.
fn store_upload(
    input: Vec<u8>,
    format: Format,
    decoded: decode::Decoded,
    plan: &Plan,
    blocks: &container::Blocks,
    options: &Options,
) -> Result<Stored, ImagingError> {
    // A BMP is kept as a PNG of its full pixels, so that comes before they are reduced.
    let (original, is_upload) = original::kept(
        input,
        format,
        &decoded.image,
        &plan.upright,
        blocks,
        options,
    )?;
    let icc_profile = decoded.icc_profile.as_deref();
    let pixels = Pixels::new(decoded.image, decoded.size, plan.min_scale())?;
    Ok(Stored {
        original,
        variants: variants::build(&pixels, plan, icc_profile)?,
        is_upload,
    })
}

/// Runs `first` on a second thread while `second` runs on this one; the two cores of a small
/// board then share one upload. A panic on the second thread goes on on this one, as it would
/// have here.
pub(crate) fn beside<A: Send, B>(
    first: impl Fn() -> A + Sync,
    second: impl FnOnce() -> B,
) -> (A, B) {
    std::thread::scope(|scope| {
        let first = &first;
        let spawned = std::thread::Builder::new().spawn_scoped(scope, first);
        let second = second();
        let first = match spawned {
            Ok(thread) => thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // The process is out of threads: this one does both.
            Err(_) => first(),
        };
        (first, second)
    })
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}
