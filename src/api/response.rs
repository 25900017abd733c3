//! The success answer of the upload API, field for field as Chevereto V4 sends it.
//!
//! Clients read `image.url`, `image.url_viewer`, `image.thumb.url`, `image.delete_url` and rely
//! on JSON types (numbers as numbers, `status_code` a number, `success` an object), so the
//! names and types here follow Chevereto's published example exactly.

use serde_json::{json, Map, Value};

use crate::db::uploads::{UploadRecord, VariantRecord};
use crate::links::Links;
use crate::video::{minutes_and_seconds, whole_seconds};

/// Characters of the title kept in `title_truncated`.
const TRUNCATED_TITLE_CHARS: usize = 25;

/// The JSON body for a stored upload. With `is_imgbb` (the source came as ImgBB's `image`
/// field) the upload is under `data`, with `data.id` and a numeric `status`, as ImgBB clients
/// expect.
pub fn success_body(
    record: &UploadRecord,
    links: &Links<'_>,
    delete_secret: &str,
    is_imgbb: bool,
) -> Value {
    let mut image = image_object(record, links, delete_secret);
    let mut body = Map::new();
    body.insert("status_code".into(), json!(200));
    body.insert(
        "success".into(),
        json!({ "message": "file uploaded", "code": 200 }),
    );
    if is_imgbb {
        image.insert("id".into(), json!(links.id(record)));
        body.insert("data".into(), Value::Object(image));
        body.insert("status".into(), json!(200));
    } else {
        body.insert("image".into(), Value::Object(image));
    }
    body.insert("status_txt".into(), json!("OK"));
    Value::Object(body)
}

fn image_object(
    record: &UploadRecord,
    links: &Links<'_>,
    delete_secret: &str,
) -> Map<String, Value> {
    let mut image = stored_fields(record);
    image.extend(derived_fields(record, links));
    image.extend(display_fields(record, links));
    image.insert(
        "delete_url".into(),
        json!(links.delete(record, delete_secret)),
    );
    image
}

/// Chevereto's `chain`: one bit per stored file (frame 16, original 8, image 4, medium 2,
/// thumb 1). Images have always been sent image, medium and thumb, and keep that.
fn chain(record: &UploadRecord) -> u8 {
    let medium = if record.medium.is_some() { 2 } else { 0 };
    let video = if record.is_video() { 16 | 8 } else { 0 };
    video | 4 | medium | 1
}

/// Fields that mirror the stored row.
fn stored_fields(record: &UploadRecord) -> Map<String, Value> {
    let medium_size = record.medium.as_ref().map_or(0, |medium| medium.size);
    let frame_size = record.video.as_ref().map_or(0, |video| video.frame.size);
    let expiration = record.expires_at.and_then(format_unix);
    let seconds = record
        .video
        .as_ref()
        .map(|video| whole_seconds(video.duration()));
    let value = json!({
        "name": record.name,
        "extension": record.extension,
        "size": record.size,
        "width": record.width,
        "height": record.height,
        "date": record.date_local,
        "date_gmt": record.date_gmt,
        "title": record.title,
        "tags": record.tags,
        "description": record.description,
        "nsfw": u8::from(record.is_nsfw),
        "storage_mode": "datefolder",
        "md5": record.md5,
        "source_md5": record.source_md5,
        "original_filename": record.original_filename,
        "original_exifdata": record.exif_json,
        "views": record.views,
        "category_id": record.category_id,
        "chain": chain(record),
        "thumb_size": record.thumb.size,
        "medium_size": medium_size,
        "frame_size": frame_size,
        "expiration_date_gmt": expiration,
        "likes": record.likes,
        "is_animated": u8::from(record.is_animated),
        "is_approved": 1,
        "is_360": u8::from(record.is_360),
        "duration": seconds.unwrap_or(0),
        // Images have no length to show.
        "duration_time": seconds.map(minutes_and_seconds).unwrap_or_default(),
        "type": if record.is_video() { "video" } else { "image" },
        "tags_string": record.tags.join(", "),
        "file": { "resource": { "type": "path" } },
    });
    into_map(value)
}

/// Ids, names and URLs.
fn derived_fields(record: &UploadRecord, links: &Links<'_>) -> Map<String, Value> {
    let filename = format!("{}.{}", record.name, record.extension);
    let original = json!({
        "filename": filename,
        "name": record.name,
        "mime": record.mime,
        "extension": record.extension,
        "url": links.original(record),
        "size": record.size,
    });
    let value = json!({
        "id_encoded": links.id(record),
        "filename": filename,
        "mime": record.mime,
        "url": links.original(record),
        "ratio": f64::from(record.width) / f64::from(record.height.max(1)),
        "size_formatted": format_bytes(record.size),
        "image": original,
        "thumb": variant_object(record, links, "th", Some(&record.thumb)),
        "medium": variant_object(record, links, "md", record.medium.as_ref()),
        "url_viewer": links.viewer(record),
        "path_viewer": links.viewer_path(record),
        "url_short": links.short(record),
    });
    let mut fields = into_map(value);
    if let Some(video) = &record.video {
        let frame = variant_object(record, links, "fr", Some(&video.frame));
        fields.insert("url_frame".into(), frame["url"].clone());
        fields.insert("frame".into(), frame);
    }
    fields
}

/// What a page shows: the display image and the labels.
fn display_fields(record: &UploadRecord, links: &Links<'_>) -> Map<String, Value> {
    let (display_url, display_width, display_height) = display_image(record, links);
    let title = record.title.clone().unwrap_or_default();
    let truncated = truncate_title(&title);
    let value = json!({
        "display_url": display_url,
        "display_width": display_width,
        "display_height": display_height,
        "views_label": "views",
        "likes_label": "likes",
        "how_long_ago": "moments ago",
        "date_fixed_peer": record.date_gmt,
        "title_truncated": truncated,
        "title_truncated_html": html_escape::encode_text(&truncated),
        "is_use_loader": false,
        "display_title": title,
    });
    into_map(value)
}

/// The picture that stands for the upload: the medium image, else the original, or for a
/// video (whose original is no picture) its frame.
pub fn display_image(record: &UploadRecord, links: &Links<'_>) -> (String, u32, u32) {
    if let Some(medium) = &record.medium {
        let url = links.file(record, Some("md"), &medium.extension);
        return (url, medium.width, medium.height);
    }
    match &record.video {
        Some(video) => {
            let frame = &video.frame;
            let url = links.file(record, Some("fr"), &frame.extension);
            (url, frame.width, frame.height)
        }
        None => (links.original(record), record.width, record.height),
    }
}

fn variant_object(
    record: &UploadRecord,
    links: &Links<'_>,
    suffix: &str,
    variant: Option<&VariantRecord>,
) -> Value {
    let Some(variant) = variant else {
        return json!({
            "filename": null, "name": null, "mime": null, "extension": null, "url": null,
            "size": null,
        });
    };
    let name = format!("{}.{suffix}", record.name);
    json!({
        "filename": format!("{name}.{}", variant.extension),
        "name": name,
        "mime": mime_of(&variant.extension),
        "extension": variant.extension,
        "url": links.file(record, Some(suffix), &variant.extension),
        "size": variant.size,
    })
}

fn mime_of(extension: &str) -> &'static str {
    match extension {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
}

fn into_map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn format_unix(seconds: i64) -> Option<String> {
    let time = chrono::DateTime::from_timestamp(seconds, 0)?;
    Some(time.format(crate::upload::DATE_FORMAT).to_string())
}

/// Chevereto's title cut: the first 25 characters and "...".
fn truncate_title(title: &str) -> String {
    if title.chars().count() <= TRUNCATED_TITLE_CHARS {
        return title.to_string();
    }
    let cut: String = title.chars().take(TRUNCATED_TITLE_CHARS).collect();
    format!("{}...", cut.trim_end())
}

/// "296.4 KB", "3 MB": decimal units, one decimal, no trailing ".0".
pub fn format_bytes(bytes: u64) -> String {
    let units = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3)];
    for (unit, size) in units {
        if bytes as f64 >= size {
            let value = format!("{:.1}", bytes as f64 / size);
            let value = value.strip_suffix(".0").unwrap_or(&value).to_string();
            return format!("{value} {unit}");
        }
    }
    format!("{bytes} B")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_formatted_like_chevereto() {
        let cases = [
            (296_362, "296.4 KB"),
            (3_011_299, "3 MB"),
            (999, "999 B"),
            (1000, "1 KB"),
        ];
        for (bytes, text) in cases {
            assert_eq!(format_bytes(bytes), text);
        }
    }

    #[test]
    fn long_titles_are_cut_at_25_characters() {
        let title = "Badgers animated music video MrWeebl";
        assert_eq!(truncate_title(title), "Badgers animated music vi...");
        assert_eq!(truncate_title("short"), "short");
    }
}
