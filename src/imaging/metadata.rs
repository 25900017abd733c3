//! The descriptive metadata sajin keeps from an upload: texts, the date taken, the EXIF summary
//! and the 360° flag, gathered from EXIF and XMP.

use exif::Exif;

use super::{tags, xmp};

/// When the photo was taken, as the camera's wall clock said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateTaken {
    /// Local date and time (EXIF DateTimeOriginal).
    pub local: chrono::NaiveDateTime,
    /// The camera's UTC offset at that moment (EXIF OffsetTimeOriginal), when recorded.
    pub offset: Option<chrono::FixedOffset>,
}

/// Metadata read from the upload; every field is optional because most files carry little.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// EXIF ImageDescription, else XMP dc:title.
    pub title: Option<String>,
    /// XMP dc:description, else EXIF UserComment.
    pub description: Option<String>,
    /// EXIF as a JSON object string, without MakerNote, and without GPS when it is stripped.
    pub exif_json: Option<String>,
    /// DateTimeOriginal with OffsetTimeOriginal; impossible dates are `None`.
    pub date_taken: Option<DateTaken>,
    /// XMP GPano:ProjectionType is equirectangular (a 360° photo sphere).
    pub is_360: bool,
}

/// Gathers the metadata from parsed EXIF and raw XMP.
pub(crate) fn extract(exif: Option<&Exif>, xmp: Option<&[u8]>, strip_gps: bool) -> Metadata {
    let xmp = xmp.and_then(xmp::readable);
    let xmp = xmp.as_deref();
    Metadata {
        title: exif
            .and_then(tags::description)
            .or_else(|| xmp.and_then(xmp::title)),
        description: xmp
            .and_then(xmp::description)
            .or_else(|| exif.and_then(tags::user_comment)),
        exif_json: exif.and_then(|exif| tags::to_json(exif, strip_gps)),
        date_taken: exif.and_then(tags::date_taken),
        is_360: xmp.is_some_and(xmp::is_equirectangular),
    }
}
