//! An upload's bytes turned into the files to store and the facts its row keeps, the same
//! shape for an image (from `imaging`) and a video (from `video`).

use std::time::Duration;

use md5::{Digest, Md5};

use crate::config::Config;
use crate::db::uploads::{VariantRecord, VideoRecord};
use crate::imaging::{self, Encoded, Format, Metadata, Processed};
use crate::storage::FileToStore;
use crate::video::{self, Container, ProcessedVideo};

use super::{Services, UploadError, UploadOptions};

/// Decoders may allocate at most this much for one image.
const MAX_DECODE_BYTES: u64 = 1 << 30;

/// Processes the bytes as a video when they start like one, else as an image.
///
/// `source_md5` is the upload's hex MD5 when the caller already took it; otherwise it is
/// taken here (for an image, on a second thread beside the decoding).
pub(super) fn prepare(
    services: &Services,
    bytes: Vec<u8>,
    source_md5: Option<String>,
    options: &UploadOptions,
) -> Result<Prepared, UploadError> {
    let limits = decode_limits(&services.config);
    if let Some(container) = video::detect(&bytes) {
        let processed = video::process(&bytes, container, &services.frames, &limits)?;
        let source_md5 = source_md5.unwrap_or_else(|| hex::encode(Md5::digest(&bytes)));
        return Ok(Prepared::video(bytes, container, source_md5, processed));
    }
    let image_options = imaging::Options {
        resize_width: options.width,
        strip_gps: services.config.strip_gps,
        limits,
    };
    Ok(Prepared::image(imaging::process(bytes, &image_options)?))
}

fn decode_limits(config: &Config) -> imaging::Limits {
    imaging::Limits {
        max_pixels: config.max_image_pixels,
        max_decode_bytes: MAX_DECODE_BYTES,
    }
}

/// One upload made ready to store, image or video alike.
pub(super) struct Prepared {
    /// The stored original: the image as `imaging` left it, or the video as uploaded.
    pub(super) original: PreparedFile,
    pub(super) mime: &'static str,
    /// Hex MD5 of `original.bytes`.
    pub(super) md5: String,
    /// Hex MD5 of the bytes as uploaded.
    pub(super) source_md5: String,
    pub(super) thumb: PreparedFile,
    pub(super) medium: Option<PreparedFile>,
    /// Set for a video.
    pub(super) video: Option<VideoPart>,
    /// Empty for a video.
    pub(super) metadata: Metadata,
    pub(super) is_animated: bool,
}

/// What only a video has.
pub(super) struct VideoPart {
    /// The poster frame, which the thumbnail and medium were made from.
    pub(super) frame: PreparedFile,
    pub(super) duration: Duration,
}

/// One file to write, with the facts its row keeps.
pub(super) struct PreparedFile {
    pub(super) bytes: Vec<u8>,
    pub(super) extension: &'static str,
    pub(super) width: u32,
    pub(super) height: u32,
}

impl Prepared {
    fn image(processed: Processed) -> Self {
        let Processed {
            original,
            source_md5,
            md5,
            is_animated,
            thumb,
            medium,
            metadata,
        } = processed;
        Prepared {
            mime: original.format.mime(),
            original: PreparedFile::image(original),
            md5,
            source_md5,
            thumb: PreparedFile::image(thumb),
            medium: medium.map(PreparedFile::image),
            video: None,
            metadata,
            is_animated,
        }
    }

    /// A video is stored as uploaded (videos are never resized), so its MD5 is the upload's.
    fn video(
        bytes: Vec<u8>,
        container: Container,
        source_md5: String,
        processed: ProcessedVideo,
    ) -> Self {
        let ProcessedVideo { info, frame, .. } = processed;
        Prepared {
            original: PreparedFile {
                bytes,
                extension: container.extension(),
                width: info.width,
                height: info.height,
            },
            mime: container.mime(),
            md5: source_md5.clone(),
            source_md5,
            thumb: PreparedFile::frame(frame.thumb),
            medium: frame.medium.map(PreparedFile::frame),
            video: Some(VideoPart {
                frame: PreparedFile::frame(frame.original),
                duration: info.duration,
            }),
            metadata: Metadata::default(),
            is_animated: false,
        }
    }

    pub(super) fn files_to_store(&self) -> Vec<FileToStore<'_>> {
        let mut files = vec![
            self.original.to_store(None),
            self.thumb.to_store(Some("th")),
        ];
        if let Some(medium) = &self.medium {
            files.push(medium.to_store(Some("md")));
        }
        if let Some(video) = &self.video {
            files.push(video.frame.to_store(Some("fr")));
        }
        files
    }
}

impl VideoPart {
    pub(super) fn record(&self) -> VideoRecord {
        VideoRecord {
            duration_ms: u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            frame: self.frame.record(),
        }
    }
}

impl PreparedFile {
    fn image(encoded: Encoded) -> Self {
        PreparedFile {
            extension: encoded.format.extension(),
            bytes: encoded.bytes,
            width: encoded.width,
            height: encoded.height,
        }
    }

    /// A video's frame and its variants are `.jpeg` files, as Chevereto names them.
    fn frame(encoded: Encoded) -> Self {
        let extension = match encoded.format {
            Format::Jpeg => "jpeg",
            other => other.extension(),
        };
        PreparedFile {
            extension,
            ..PreparedFile::image(encoded)
        }
    }

    fn to_store(&self, suffix: Option<&'static str>) -> FileToStore<'_> {
        FileToStore {
            suffix,
            extension: self.extension,
            bytes: &self.bytes,
        }
    }

    pub(super) fn record(&self) -> VariantRecord {
        VariantRecord {
            extension: self.extension.to_string(),
            size: self.bytes.len() as u64,
            width: self.width,
            height: self.height,
        }
    }
}
