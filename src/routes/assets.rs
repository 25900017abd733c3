//! The web files compiled into the binary from `web/`: the upload page, styles and scripts.
//!
//! ETags come from the embedded files' hashes, so a browser revalidates with `If-None-Match`
//! and gets a 304 until the binary changes. HTML is always revalidated (`no-cache`).

use actix_web::http::header::{self, EntityTag, IfNoneMatch};
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

use super::html;

#[derive(RustEmbed)]
#[folder = "web/"]
struct WebFiles;

/// `GET /`: the upload page.
pub async fn index(req: HttpRequest) -> HttpResponse {
    serve_file(&req, "index.html")
}

/// `GET /static/<path>`.
pub async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    serve_file(&req, &path.into_inner())
}

fn serve_file(req: &HttpRequest, path: &str) -> HttpResponse {
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
        .insert_header((header::CACHE_CONTROL, "no-cache"))
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
