//! The public URLs of an upload: direct files, viewer page, short link and delete link.
//!
//! Every link is absolute, built on one base URL: `public_url` from the config when set, else
//! the scheme and host the request came in on.

use crate::db::uploads::UploadRecord;
use crate::domain::id_codec::IdCodec;
use crate::domain::slug::slugify;
use crate::storage::file_name;

/// Builds links on one base URL.
pub struct Links<'a> {
    base: &'a str,
    ids: &'a IdCodec,
}

impl<'a> Links<'a> {
    /// `base` has no trailing slash, e.g. `http://nas.local:8080`.
    pub fn new(base: &'a str, ids: &'a IdCodec) -> Self {
        Self { base, ids }
    }

    /// The public id of an upload.
    pub fn id(&self, record: &UploadRecord) -> String {
        self.ids.encode(record.id as u64)
    }

    /// URL of one of the upload's files (`suffix` None for the original).
    pub fn file(&self, record: &UploadRecord, suffix: Option<&str>, extension: &str) -> String {
        let name = file_name(&record.name, suffix, extension);
        format!("{}/{}/{}", self.base, record.storage_dir, name)
    }

    /// URL of the original.
    pub fn original(&self, record: &UploadRecord) -> String {
        self.file(record, None, &record.extension)
    }

    /// `/image/<slug>.<id>` (`/video/…` for a video), or `/image/<id>` when the title gives
    /// no slug.
    pub fn viewer_path(&self, record: &UploadRecord) -> String {
        viewer_path(record, &self.id(record))
    }

    /// Absolute viewer URL.
    pub fn viewer(&self, record: &UploadRecord) -> String {
        format!("{}{}", self.base, self.viewer_path(record))
    }

    /// `/image/<id>` (`/video/<id>` for a video), absolute.
    pub fn short(&self, record: &UploadRecord) -> String {
        format!("{}{}", self.base, self.short_path(record))
    }

    /// `/image/<id>` (`/video/<id>` for a video).
    pub fn short_path(&self, record: &UploadRecord) -> String {
        format!("/{}/{}", kind(record), self.id(record))
    }

    /// The delete link for `secret`.
    pub fn delete(&self, record: &UploadRecord, secret: &str) -> String {
        format!("{}/delete/{secret}", self.short(record))
    }
}

/// The canonical viewer path for an upload whose public id is `id`.
pub fn viewer_path(record: &UploadRecord, id: &str) -> String {
    let slug = record.title.as_deref().map(slugify).unwrap_or_default();
    let kind = kind(record);
    if slug.is_empty() {
        format!("/{kind}/{id}")
    } else {
        format!("/{kind}/{slug}.{id}")
    }
}

/// The first segment of an upload's pages: `image` or `video`, as in Chevereto.
fn kind(record: &UploadRecord) -> &'static str {
    if record.is_video() {
        "video"
    } else {
        "image"
    }
}
