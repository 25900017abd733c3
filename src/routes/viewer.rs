//! `GET /image/<slug>.<id>`, `/video/<slug>.<id>` and the short `/image/<id>`, `/video/<id>`:
//! the viewer page of one upload.
//!
//! A minimal server-rendered page: the image (medium when there is one, linking to the full
//! size) or an HTML5 player for a video, its title and description, and Open Graph tags so
//! links preview in chat apps. A path that is not the canonical one (a wrong slug, or
//! `/image/` for a video) redirects there.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::response::{display_image, format_bytes};
use crate::db::unix_now;
use crate::db::uploads::{self, UploadRecord};
use crate::links::Links;
use crate::startup::AppState;
use crate::video::{minutes_and_seconds, whole_seconds};

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
    if record.is_video() {
        return render_video(record, links);
    }
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
    let description = description_html(record);
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
        size = format_bytes(record.size),
        date = text(&record.date_gmt),
    );
    html::page(StatusCode::OK, &title, &head, &body)
}

/// The page of a video: a player that streams the original (the files route answers Range
/// requests, so it seeks), with the frame as its poster.
fn render_video(record: &UploadRecord, links: &Links<'_>) -> HttpResponse {
    let title = record.title.clone().unwrap_or_else(|| record.name.clone());
    let original = links.original(record);
    let (poster, _, _) = display_image(record, links);
    let head = format!(
        "<meta property=\"og:type\" content=\"video.other\">\n\
         <meta property=\"og:title\" content=\"{title}\">\n\
         <meta property=\"og:image\" content=\"{poster}\">\n\
         <meta property=\"og:video\" content=\"{video}\">\n\
         <meta property=\"og:video:type\" content=\"{mime}\">\n\
         <meta property=\"og:video:width\" content=\"{width}\">\n\
         <meta property=\"og:video:height\" content=\"{height}\">\n\
         <meta property=\"og:url\" content=\"{viewer}\">\n",
        title = attr(&title),
        poster = attr(&poster),
        video = attr(&original),
        mime = attr(&record.mime),
        width = record.width,
        height = record.height,
        viewer = attr(&links.viewer(record)),
    );
    let seconds = record
        .video
        .as_ref()
        .map_or(0, |video| whole_seconds(video.duration()));
    // No `type` on the player: browsers that decline `video/quicktime` by name still play
    // most MOV files when they look at the bytes.
    let body = format!(
        "<h1>{title}</h1>\n\
         <figure><video src=\"{original}\" poster=\"{poster}\" controls preload=\"metadata\" \
         playsinline width=\"{width}\" height=\"{height}\">\
         <a href=\"{original}\">Download the video</a></video></figure>\n{description}\
         <p class=\"meta\">{width} × {height} · {duration} · {size} · {date} UTC</p>\n\
         <p><a href=\"{original}\" download>Download</a></p>\n",
        title = text(&title),
        original = attr(&original),
        poster = attr(&poster),
        width = record.width,
        height = record.height,
        description = description_html(record),
        duration = minutes_and_seconds(seconds),
        size = format_bytes(record.size),
        date = text(&record.date_gmt),
    );
    html::page(StatusCode::OK, &title, &head, &body)
}

fn description_html(record: &UploadRecord) -> String {
    record
        .description
        .as_deref()
        .map(|description| format!("<p class=\"description\">{}</p>\n", text(description)))
        .unwrap_or_default()
}
