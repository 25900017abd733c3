//! `GET /api/limits`: what the server accepts, for the upload page and for clients that want
//! to check a file before sending it.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::api::error::format_limit;
use crate::startup::AppState;

/// Image types, as the page shows them.
const IMAGE_TYPES: [&str; 5] = ["JPG", "PNG", "BMP", "GIF", "WEBP"];
/// Video types, as the page shows them.
const VIDEO_TYPES: [&str; 3] = ["MP4", "MOV", "WEBM"];
/// The media types browsers give those files; sajin itself reads the bytes, not the type.
const MIME_TYPES: [&str; 9] = [
    "image/jpeg",
    "image/png",
    "image/bmp",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/quicktime",
    "video/webm",
    "image/x-ms-bmp",
];

/// The limits as JSON. Videos are always accepted (without ffmpeg they get a placeholder
/// frame), and every account may add a URL for the server to fetch.
pub async fn show(state: web::Data<AppState>) -> HttpResponse {
    let max_bytes = state.services.config.max_upload_bytes;
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-cache"))
        .json(json!({
            "max_upload_bytes": max_bytes,
            "max_upload_size": format_limit(max_bytes),
            "image_types": IMAGE_TYPES,
            "video_types": VIDEO_TYPES,
            "mime_types": MIME_TYPES,
            "is_video_enabled": true,
            "is_url_upload_enabled": true,
        }))
}
