//! The web files compiled into the binary from `web/`: styles, scripts, page templates and
//! string catalogs.
//!
//! Every file is served at `/static/<path>` and at `/static/<version>/<path>`, where the
//! version is a hash over all embedded files. Pages link the versioned URLs, which never
//! change content, so browsers keep them for a year without asking (`immutable`); a script's
//! relative imports stay inside the same version. The plain URLs, and versioned ones of another
//! build, are `no-cache`. ETags come from each file's embedded hash, so a revalidation gets a
//! 304 until the binary changes. Compression is left to the app-wide middleware.

use std::sync::OnceLock;

use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::html;

/// The files under `web/`.
#[derive(RustEmbed)]
#[folder = "web/"]
pub struct WebFiles;

/// A year, the longest a fingerprinted file is cached.
const IMMUTABLE_CACHE: &str = "public, max-age=31536000, immutable";

/// The hash over every embedded file, 12 hex digits: the same for one build.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut paths: Vec<_> = WebFiles::iter().collect();
        paths.sort();
        let mut hasher = Sha256::new();
        for path in paths {
            hasher.update(path.as_bytes());
            if let Some(file) = WebFiles::get(&path) {
                hasher.update(file.metadata.sha256_hash());
            }
        }
        hex::encode(hasher.finalize())[..12].to_string()
    })
}

/// The fingerprinted URL of an embedded file, e.g. `/static/0123456789ab/style.css`.
pub fn url(path: &str) -> String {
    format!("/static/{}/{path}", version())
}

/// An embedded text file (a page template), empty when the build lacks it.
pub fn text(path: &str) -> String {
    WebFiles::get(path)
        .map(|file| String::from_utf8_lossy(&file.data).into_owned())
        .unwrap_or_default()
}

/// `GET /static/<path>` and `GET /static/<version>/<path>`.
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let path = path.into_inner();
    let (is_current, file_path) = match path.split_once('/') {
        Some((prefix, rest)) if is_version(prefix) => (prefix == version(), rest),
        _ => (false, path.as_str()),
    };
    let cache = if is_current {
        IMMUTABLE_CACHE
    } else {
        "no-cache"
    };
    serve_file(&req, file_path, cache)
}

fn is_version(segment: &str) -> bool {
    segment.len() == 12 && segment.bytes().all(|b| b.is_ascii_hexdigit())
}

fn serve_file(req: &HttpRequest, path: &str, cache: &str) -> HttpResponse {
    let Some(file) = WebFiles::get(path) else {
        return html::not_found();
    };
    let etag = EntityTag::new_strong(hex::encode(file.metadata.sha256_hash()));
    let is_fresh = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&etag)),
        None => false,
    };
    let mut response = HttpResponse::build(if is_fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    });
    response
        .insert_header(header::ETag(etag))
        .insert_header((header::CACHE_CONTROL, cache.to_string()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .content_type(content_type(path));
    if is_fresh {
        response.finish()
    } else {
        response.body(file.data.into_owned())
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}
