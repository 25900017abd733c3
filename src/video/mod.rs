//! Video uploads (MP4, QuickTime MOV, WebM): recognition from the bytes, the size and length
//! read from the container, and a poster frame with its thumbnail and medium image.
//!
//! [`detect`] tells a video from anything else by its first bytes, and [`process`] does the
//! rest: it parses the container in Rust (`mp4parse` for MP4 and MOV, `matroska-demuxer` for
//! WebM), so a file whose header says video and whose body is not is refused before anything
//! is stored. The frame comes from `ffmpeg` when the server has one ([`FrameSource`]), else it
//! is a plain gray placeholder; either way the thumbnail and medium image are made from it by
//! the still-image pipeline. Like `imaging`, this module knows nothing of HTTP, and its work
//! blocks: callers run it on a blocking thread.

mod error;
mod frame;
mod mp4;
mod webm;

#[cfg(test)]
mod fixtures;

pub use error::VideoError;
pub use frame::FrameSource;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use crate::imaging::{self, ImagingError, Limits, Processed};

/// A video container sajin accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Container {
    /// ISO base media (MP4, M4V), any brand but QuickTime's.
    Mp4,
    /// Apple QuickTime (MOV): the same box structure under the `qt  ` brand.
    QuickTime,
    /// WebM, Matroska's web subset.
    WebM,
}

impl Container {
    /// The media type the file is served with.
    pub fn mime(self) -> &'static str {
        match self {
            Container::Mp4 => "video/mp4",
            Container::QuickTime => "video/quicktime",
            Container::WebM => "video/webm",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::QuickTime => "mov",
            Container::WebM => "webm",
        }
    }

    /// The ffmpeg demuxer that reads it. Naming it keeps ffmpeg from guessing the format from
    /// the contents, which could make it read a playlist that fetches other files.
    fn demuxer(self) -> &'static str {
        match self {
            Container::Mp4 | Container::QuickTime => "mov",
            Container::WebM => "matroska",
        }
    }
}

/// The first four bytes of every EBML document (Matroska, WebM).
const EBML_MAGIC: &[u8] = &[0x1A, 0x45, 0xDF, 0xA3];

/// `ftyp` brands of still images and camera raw files that share the MP4 box structure
/// (HEIF, AVIF, Canon CR3). They are not videos, and the image pipeline refuses them.
const IMAGE_BRANDS: [&[u8; 4]; 11] = [
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis",
    b"crx ",
];

/// Top-level boxes an old QuickTime file may start with when it has no `ftyp`.
const QUICKTIME_FIRST_BOXES: [&[u8; 4]; 6] = [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"];

/// Recognises a video container from the first bytes of the file; `None` for anything else,
/// which is left to the image pipeline.
pub fn detect(bytes: &[u8]) -> Option<Container> {
    if bytes.starts_with(EBML_MAGIC) {
        return Some(Container::WebM);
    }
    let box_type = bytes.get(4..8)?;
    if box_type == b"ftyp" {
        let brand = bytes.get(8..12)?;
        return match brand {
            b"qt  " => Some(Container::QuickTime),
            brand if IMAGE_BRANDS.iter().any(|image| brand == *image) => None,
            _ => Some(Container::Mp4),
        };
    }
    QUICKTIME_FIRST_BOXES
        .iter()
        .any(|first| box_type == *first)
        .then_some(Container::QuickTime)
}

/// What the container says about the video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VideoInfo {
    /// Width as displayed (a rotation in the container applied).
    pub width: u32,
    /// Height as displayed.
    pub height: u32,
    /// Length of the video track; zero when the container does not say.
    pub duration: Duration,
}

/// A video ready to store: the upload itself is stored unchanged, beside the frame and the
/// variants made from it.
#[derive(Clone, Debug)]
pub struct ProcessedVideo {
    /// Size and length from the container.
    pub info: VideoInfo,
    /// The poster frame run through the image pipeline: `frame.original` is the frame JPEG
    /// (stored as `NAME.fr.jpeg`), with its thumbnail and medium image.
    pub frame: Processed,
    /// The frame is a gray placeholder, not a picture from the video.
    pub is_placeholder: bool,
}

/// Reads the container, checks the size against the pixel limit, and makes the poster frame
/// and its variants. Blocks (it may run ffmpeg); never panics on hostile input.
pub fn process(
    bytes: &[u8],
    container: Container,
    frames: &FrameSource,
    limits: &Limits,
) -> Result<ProcessedVideo, VideoError> {
    let info = probe(bytes, container)?;
    check_pixels(&info, limits.max_pixels)?;

    let poster = frames.poster(bytes, container, &info, limits.max_pixels)?;
    let options = imaging::Options {
        resize_width: None,
        strip_gps: false,
        limits: *limits,
    };
    let frame = imaging::process(poster.jpeg, &options).map_err(|err| match err {
        // ffmpeg caps the frame at the same limit; this is for a decoder that does not.
        ImagingError::TooManyPixels {
            width,
            height,
            max_pixels,
        } => VideoError::TooManyPixels {
            width,
            height,
            max_pixels,
        },
        other => VideoError::Frame(other),
    })?;
    tracing::debug!(
        ?container,
        ?info,
        is_placeholder = poster.is_placeholder,
        "processed a video"
    );
    Ok(ProcessedVideo {
        info,
        frame,
        is_placeholder: poster.is_placeholder,
    })
}

/// Parses the container. The parsers are built for hostile input, but a panic in one would
/// still only mean a file it cannot read, so it is answered as one.
pub fn probe(bytes: &[u8], container: Container) -> Result<VideoInfo, VideoError> {
    let parsed = catch_unwind(AssertUnwindSafe(|| match container {
        Container::Mp4 | Container::QuickTime => mp4::probe(bytes),
        Container::WebM => webm::probe(bytes),
    }));
    parsed.unwrap_or_else(|_| Err(VideoError::Damaged("the container parser gave up".into())))
}

fn check_pixels(info: &VideoInfo, max_pixels: u64) -> Result<(), VideoError> {
    if u64::from(info.width) * u64::from(info.height) > max_pixels {
        return Err(VideoError::TooManyPixels {
            width: info.width,
            height: info.height,
            max_pixels,
        });
    }
    Ok(())
}

/// Whole seconds, rounded to the nearest: a clip muxed as 2.999 s is a 3 s clip.
pub fn whole_seconds(duration: Duration) -> u64 {
    (duration.as_millis() as u64).saturating_add(500) / 1000
}

/// `MM:SS` as Chevereto shows a video's length; minutes go past 59 for long videos.
pub fn minutes_and_seconds(seconds: u64) -> String {
    format!("{:02}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_recognised_by_their_first_bytes() {
        let cases: [(&[u8], Option<Container>); 9] = [
            (
                b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00",
                Some(Container::Mp4),
            ),
            (
                b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00",
                Some(Container::Mp4),
            ),
            (
                b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00",
                Some(Container::QuickTime),
            ),
            (
                b"\x00\x00\x00\x08wide\x00\x00\x41\x3emdat",
                Some(Container::QuickTime),
            ),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", Some(Container::WebM)),
            (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", None),
            (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", None),
            (b"\xff\xd8\xff\xe0\x00\x10JFIF", None),
            (b"\x00\x00\x00", None),
        ];

        for (bytes, expected) in cases {
            assert_eq!(detect(bytes), expected, "{bytes:?}");
        }
    }

    #[test]
    fn lengths_round_to_whole_seconds_and_read_as_minutes_and_seconds() {
        let cases = [
            (Duration::from_millis(2_999), 3, "00:03"),
            (Duration::from_millis(3_400), 3, "00:03"),
            (Duration::from_millis(400), 0, "00:00"),
            (Duration::from_secs(75), 75, "01:15"),
            (Duration::from_secs(3_725), 3_725, "62:05"),
        ];

        for (duration, seconds, shown) in cases {
            assert_eq!(whole_seconds(duration), seconds, "{duration:?}");
            assert_eq!(minutes_and_seconds(seconds), shown, "{duration:?}");
        }
    }

    #[test]
    fn a_video_over_the_pixel_limit_is_refused_from_its_header() {
        let info = VideoInfo {
            width: 20_000,
            height: 10_000,
            duration: Duration::from_secs(1),
        };

        let refused = check_pixels(&info, 100_000_000);

        assert!(matches!(refused, Err(VideoError::TooManyPixels { .. })));
    }
}
