//! The one error type of the image pipeline, worded so that the 4xx variants can be shown to the
//! uploader as they are.

/// Why an upload could not be turned into stored images.
///
/// `Unsupported`, `TooManyPixels` and `Corrupt` are the client's doing (4xx); `Encode` is ours
/// (5xx).
#[derive(thiserror::Error, Debug)]
pub enum ImagingError {
    /// The bytes are not one of the five accepted formats (SVG, HTML, TIFF, text, empty, …),
    /// or are one and something else too (a script or archive after the image's end).
    #[error("Unsupported file type: only JPEG, PNG, GIF, WebP and BMP images are accepted")]
    Unsupported,

    /// The header declares more pixels than allowed, or decoding would need more memory than
    /// `Limits::max_decode_bytes`; refused before any pixel is decoded.
    #[error(
        "Image too large: {width}x{height} pixels exceeds the {} megapixel limit",
        megapixels(*.max_pixels)
    )]
    TooManyPixels {
        /// Width declared by the file.
        width: u32,
        /// Height declared by the file.
        height: u32,
        /// The limit that was exceeded, in pixels.
        max_pixels: u64,
    },

    /// The format was recognised but the data cannot be decoded.
    #[error("The image data is damaged or incomplete: {0}")]
    Corrupt(String),

    /// Encoding a stored file failed; a bug or resource problem on our side.
    #[error("Could not encode the image: {0}")]
    Encode(String),
}

/// Formats a pixel limit as megapixels without a misleading ".0" ("100", "2.5").
fn megapixels(max_pixels: u64) -> String {
    if max_pixels.is_multiple_of(1_000_000) {
        (max_pixels / 1_000_000).to_string()
    } else {
        format!("{:.1}", max_pixels as f64 / 1_000_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_error_names_the_dimensions_and_the_limit() {
        let error = ImagingError::TooManyPixels {
            width: 30000,
            height: 30000,
            max_pixels: 100_000_000,
        };

        assert_eq!(
            error.to_string(),
            "Image too large: 30000x30000 pixels exceeds the 100 megapixel limit"
        );
    }

    #[test]
    fn a_fractional_limit_keeps_one_decimal() {
        assert_eq!(megapixels(2_500_000), "2.5");
    }
}
