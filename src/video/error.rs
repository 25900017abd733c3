//! Why a video upload could not be stored, worded so that the client's mistakes can be shown to
//! the uploader as they are.

use crate::imaging::ImagingError;

/// A video that was not stored.
///
/// `Unsupported`, `Damaged`, `TooManyPixels` and `Undecodable` are the client's doing (4xx);
/// `Frame` and `Scratch` are ours (5xx).
#[derive(thiserror::Error, Debug)]
pub enum VideoError {
    /// A container sajin does not take (Matroska other than WebM) or one with no video in it.
    #[error("Unsupported video: {0}")]
    Unsupported(&'static str),

    /// The container does not parse: a video header followed by something else, or a file
    /// cut short.
    #[error("The video is damaged or incomplete: {0}")]
    Damaged(String),

    /// The container declares a frame size over the pixel limit.
    #[error(
        "Video too large: {width}x{height} pixels exceeds the {} megapixel limit",
        *.max_pixels as f64 / 1e6
    )]
    TooManyPixels {
        /// Width declared by the container.
        width: u32,
        /// Height declared by the container.
        height: u32,
        /// The limit that was exceeded, in pixels.
        max_pixels: u64,
    },

    /// ffmpeg could not decode a single frame from it.
    #[error("The video cannot be decoded: no frame of it could be read")]
    Undecodable,

    /// The frame ffmpeg made (or the placeholder) did not go through the image pipeline.
    #[error("could not make the video's thumbnail")]
    Frame(#[source] ImagingError),

    /// The copy of the upload that ffmpeg reads could not be written.
    #[error("could not write the video for ffmpeg")]
    Scratch(#[source] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_error_names_the_dimensions_and_the_limit() {
        let error = VideoError::TooManyPixels {
            width: 20000,
            height: 10000,
            max_pixels: 100_000_000,
        };

        assert_eq!(
            error.to_string(),
            "Video too large: 20000x10000 pixels exceeds the 100 megapixel limit"
        );
    }
}
