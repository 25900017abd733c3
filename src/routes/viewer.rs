//! `GET /image/<slug>.<id>` and `/image/<id>`: the viewer page of one upload.
//!
//! A minimal server-rendered page: the image (medium when there is one, linking to the full
//! size), its title and description, and Open Graph tags so links preview in chat apps. A path
//! whose slug is not the canonical one redirects there.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::db::unix_now;
use crate::db::uploads::{self, UploadRecord};
use crate::links::Links;
use crate::startup::AppState;

use super::base_url;
use super::html::{self, attr, text};

/// Looks up a live (stored, not expired) upload by its public id.
pub async fn find_live(
    state: &AppState,
    encoded_id: &str,
) -> Result<Option<UploadRecord>, HttpResponse> {
    let Some(id) = state
        .services
        .ids
        .decode(encoded_id)
        .and_then(|id| i64::try_from(id).ok())
    else {
        return Ok(None);
    };
    let services = Arc::clone(&state.services);
    let found = web::block(move || services.db.with_conn(|conn| uploads::get(conn, id))).await;
    match found {
        Ok(Ok(record)) => Ok(record.filter(|record| !record.is_expired_at(unix_now()))),
        Ok(Err(err)) => Err(html::server_error("loading an upload failed", &err)),
        Err(err) => Err(html::server_error("loading an upload failed", &err)),
    }
}

/// The viewer page.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let slug_and_id = path.into_inner();
    let encoded_id = slug_and_id.rsplit('.').next().unwrap_or_default();
    let record = match find_live(&state, encoded_id).await {
        Ok(Some(record)) => record,
        Ok(None) => return html::not_found(),
        Err(response) => return response,
    };
    let base = base_url(&req, &state.services.config);
    let links = Links::new(&base, &state.services.ids);
    let canonical = links.viewer_path(&record);
    if canonical != req.path() {
        return HttpResponse::MovedPermanently()
            .insert_header((header::LOCATION, canonical))
            .finish();
    }
    render(&record, &links)
}

fn render(record: &UploadRecord, links: &Links<'_>) -> HttpResponse {
    let title = record.title.clone().unwrap_or_else(|| record.name.clone());
    let shown_url = match &record.medium {
        Some(medium) => links.file(record, Some("md"), &medium.extension),
        None => links.original(record),
    };
    let head = format!(
        "<meta property=\"og:type\" content=\"website\">\n\
         <meta property=\"og:title\" content=\"{title}\">\n\
         <meta property=\"og:image\" content=\"{image}\">\n\
         <meta property=\"og:url\" content=\"{viewer}\">\n\
         <meta name=\"twitter:card\" content=\"summary_large_image\">\n",
        title = attr(&title),
        image = attr(&shown_url),
        viewer = attr(&links.viewer(record)),
    );
    let description = record
        .description
        .as_deref()
        .map(|description| format!("<p class=\"description\">{}</p>\n", text(description)))
        .unwrap_or_default();
    let body = format!(
        "<h1>{title}</h1>\n\
         <figure><a href=\"{original}\"><img src=\"{shown}\" alt=\"{alt}\" width=\"{w}\" \
         height=\"{h}\"></a></figure>\n{description}\
         <p class=\"meta\">{width} × {height} · {size} · {date} UTC</p>\n\
         <p><a href=\"{original}\" download>Download</a></p>\n",
        title = text(&title),
        alt = attr(&title),
        original = attr(&links.original(record)),
        shown = attr(&shown_url),
        w = record
            .medium
            .as_ref()
            .map_or(record.width, |medium| medium.width),
        h = record
            .medium
            .as_ref()
            .map_or(record.height, |medium| medium.height),
        width = record.width,
        height = record.height,
        size = crate::api::response::format_bytes(record.size),
        date = text(&record.date_gmt),
    );
    html::page(StatusCode::OK, &title, &head, &body)
}
