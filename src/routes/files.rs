//! `GET /images/YYYY/MM/DD/NAME[.th|.md|.fr].EXT`: the stored files.
//!
//! A file is served only while its upload's row exists and has not expired, so an expired
//! upload answers 404 at once even before the purge removes it. actix-files does the HTTP
//! work: Range requests (which let a video player seek), ETag and Last-Modified with
//! conditional answers.

use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::http::header::{self, CacheControl, CacheDirective, ContentType};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::db::{unix_now, uploads};
use crate::startup::AppState;
use crate::storage::IMAGES_DIR;

/// Longest time a browser may cache a file without asking again.
const MAX_CACHE_SECS: i64 = 365 * 24 * 60 * 60;

/// Serves one stored file.
pub async fn serve(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let relative = path.into_inner();
    let Some((dir, file_name)) = split_path(&relative) else {
        return not_found();
    };
    let services = Arc::clone(&state.services);
    let (dir_key, name_key) = (format!("{IMAGES_DIR}/{dir}"), file_name.to_string());
    let found = web::block(move || {
        services
            .db
            .with_conn(|conn| uploads::get_by_file(conn, &dir_key, &name_key))
    })
    .await;
    let record = match found {
        Ok(Ok(Some(record))) => record,
        Ok(Ok(None)) => return not_found(),
        Ok(Err(err)) => return server_error(&err),
        Err(err) => return server_error(&err),
    };
    let now = unix_now();
    if record.is_expired_at(now) {
        return not_found();
    }
    let Some(full_path) = state.services.storage.resolve(&relative) else {
        return not_found();
    };
    let max_age = record
        .expires_at
        .map_or(MAX_CACHE_SECS, |at| (at - now).min(MAX_CACHE_SECS));
    match NamedFile::open_async(&full_path).await {
        Ok(file) => file_response(file, &req, file_name, max_age),
        Err(_) => not_found(),
    }
}

/// Splits `2026/12/03/cat.th.jpg` into the folder and the file name.
fn split_path(relative: &str) -> Option<(&str, &str)> {
    let (dir, file_name) = relative.rsplit_once('/')?;
    let has_stem = !file_name.starts_with('.') && !file_name.is_empty();
    let is_date_dir = dir.split('/').count() == 3
        && dir
            .split('/')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    (has_stem && is_date_dir).then_some((dir, file_name))
}

fn file_response(
    file: NamedFile,
    req: &HttpRequest,
    file_name: &str,
    max_age: i64,
) -> HttpResponse {
    let content_type = match file_name.rsplit('.').next() {
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("mp4") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("webm") => "video/webm",
        _ => "application/octet-stream",
    };
    let mut response = file
        .set_content_type(content_type.parse().unwrap_or(mime_octet()))
        .disable_content_disposition()
        .into_response(req);
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    let cache = CacheControl(vec![
        CacheDirective::Public,
        CacheDirective::MaxAge(max_age as u32),
    ]);
    if let Ok(value) = cache.to_string().parse() {
        headers.insert(header::CACHE_CONTROL, value);
    }
    response
}

fn mime_octet() -> actix_web::mime::Mime {
    actix_web::mime::APPLICATION_OCTET_STREAM
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .insert_header(ContentType::plaintext())
        .body("Not found")
}

fn server_error(err: &dyn std::error::Error) -> HttpResponse {
    tracing::error!(error = %crate::telemetry::error_chain(err), "serving a file failed");
    HttpResponse::InternalServerError()
        .insert_header(ContentType::plaintext())
        .body("Server error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_date_folder_paths_are_split() {
        assert_eq!(
            split_path("2026/12/03/cat-x1.th.jpg"),
            Some(("2026/12/03", "cat-x1.th.jpg"))
        );
        for bad in [
            "cat.jpg",
            "2026/12/cat.jpg",
            "2026/12/03/.jpg",
            "a/b/c/cat.jpg",
            "2026//03/x.png",
        ] {
            assert_eq!(split_path(bad), None, "{bad}");
        }
    }
}
