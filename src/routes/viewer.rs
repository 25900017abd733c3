//! `GET /image/<slug>.<id>`, `/video/<slug>.<id>` and the short `/image/<id>`, `/video/<id>`:
//! the viewer page of one upload.
//!
//! A server-rendered, translated page: the image (medium when there is one, linking to the
//! full size) or an HTML5 player for a video; its title, description, tags, dimensions, size
//! and date; the share links with copy buttons; download; and, for its owner, delete. NSFW
//! media is blurred until the viewer clicks to show it. Open Graph and Twitter card tags let
//! links preview in chat apps; an NSFW upload's tags carry no picture, so a preview does not
//! show what the page hides. A path that is not the canonical one (a wrong slug, or `/image/`
//! for a video) redirects there. Everything the uploader typed goes through `text`/`attr`.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::DateTime;

use crate::api::response::{display_image, format_bytes};
use crate::db::unix_now;
use crate::db::uploads::{self, UploadRecord};
use crate::db::users::Role;
use crate::links::Links;
use crate::session::Session;
use crate::startup::AppState;
use crate::video::{minutes_and_seconds, whole_seconds};

use super::html::{self, attr, text, PageContext};
use super::{base_url, page_context, request_session};

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

/// Whether the session's user may delete the upload: its owner, or an admin.
pub fn may_delete(session: &Session, record: &UploadRecord) -> bool {
    session.user.role == Role::Admin || record.user_id == Some(session.user.id)
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
    let session = match request_session(&req, &state).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ctx = page_context(&req, &state, session.as_ref());
    render(&ctx, &record, &links)
}

fn render(ctx: &PageContext<'_>, record: &UploadRecord, links: &Links<'_>) -> HttpResponse {
    let title = record.title.clone().unwrap_or_else(|| record.name.clone());
    let body = format!(
        "<article class=\"viewer\">\n<h1>{heading}</h1>\n{media}{description}{tags}{facts}\
         {actions}{share}</article>",
        heading = text(&title),
        media = media_html(ctx, record, links, &title),
        description = description_html(record),
        tags = tags_html(ctx, record),
        facts = facts_html(ctx, record),
        actions = actions_html(ctx, record, links),
        share = share_html(ctx, record, links, &title),
    );
    let head = card_tags(record, links, &title);
    html::layout(ctx, StatusCode::OK, &title, &head, &body)
}

/// Open Graph and Twitter card tags.
fn card_tags(record: &UploadRecord, links: &Links<'_>, title: &str) -> String {
    let (picture, width, height) = display_image(record, links);
    let mut head = format!(
        "<meta property=\"og:site_name\" content=\"sajin\">\n\
         <meta property=\"og:type\" content=\"{kind}\">\n\
         <meta property=\"og:title\" content=\"{title}\">\n\
         <meta property=\"og:url\" content=\"{viewer}\">\n\
         <meta name=\"twitter:title\" content=\"{title}\">\n",
        kind = if record.is_video() {
            "video.other"
        } else {
            "website"
        },
        title = attr(title),
        viewer = attr(&links.viewer(record)),
    );
    if let Some(description) = &record.description {
        head.push_str(&format!(
            "<meta property=\"og:description\" content=\"{0}\">\n\
             <meta name=\"twitter:description\" content=\"{0}\">\n",
            attr(description)
        ));
    }
    if record.is_nsfw {
        head.push_str("<meta name=\"twitter:card\" content=\"summary\">\n");
        return head;
    }
    head.push_str(&format!(
        "<meta property=\"og:image\" content=\"{picture}\">\n\
         <meta property=\"og:image:width\" content=\"{width}\">\n\
         <meta property=\"og:image:height\" content=\"{height}\">\n\
         <meta name=\"twitter:card\" content=\"summary_large_image\">\n\
         <meta name=\"twitter:image\" content=\"{picture}\">\n",
        picture = attr(&picture),
    ));
    if record.is_video() {
        head.push_str(&format!(
            "<meta property=\"og:video\" content=\"{video}\">\n\
             <meta property=\"og:video:type\" content=\"{mime}\">\n\
             <meta property=\"og:video:width\" content=\"{width}\">\n\
             <meta property=\"og:video:height\" content=\"{height}\">\n",
            video = attr(&links.original(record)),
            mime = attr(&record.mime),
            width = record.width,
            height = record.height,
        ));
    }
    head
}

/// The picture or player, blurred behind a "show" button when NSFW.
fn media_html(
    ctx: &PageContext<'_>,
    record: &UploadRecord,
    links: &Links<'_>,
    title: &str,
) -> String {
    let original = links.original(record);
    let class = if record.is_nsfw {
        " class=\"blurred\""
    } else {
        ""
    };
    let media = if record.is_video() {
        video_html(ctx, record, links, class)
    } else {
        let (shown, width, height) = display_image(record, links);
        format!(
            "<a href=\"{original}\" title=\"{full}\"><img id=\"media\"{class} src=\"{shown}\" \
             alt=\"{alt}\" width=\"{width}\" height=\"{height}\"></a>",
            original = attr(&original),
            full = attr(ctx.catalog.t("viewer.full")),
            shown = attr(&shown),
            alt = attr(title),
        )
    };
    let reveal = if record.is_nsfw {
        format!(
            "<button type=\"button\" class=\"reveal\" data-reveal=\"media\">{} · {}</button>",
            ctx.t("viewer.nsfw"),
            ctx.t("viewer.nsfw_show")
        )
    } else {
        String::new()
    };
    format!("<figure>{media}{reveal}</figure>\n")
}

/// A player that streams the original (the files route answers Range requests, so it seeks),
/// with the frame as its poster.
fn video_html(
    ctx: &PageContext<'_>,
    record: &UploadRecord,
    links: &Links<'_>,
    class: &str,
) -> String {
    let original = attr(&links.original(record));
    let (poster, _, _) = display_image(record, links);
    // No `type` on the player: browsers that decline `video/quicktime` by name still play
    // most MOV files when they look at the bytes.
    format!(
        "<video src=\"{original}\" id=\"media\"{class} poster=\"{poster}\" controls \
         preload=\"metadata\" playsinline width=\"{width}\" height=\"{height}\">\
         <a href=\"{original}\">{download}</a></video>",
        poster = attr(&poster),
        width = record.width,
        height = record.height,
        download = ctx.t("viewer.download"),
    )
}

fn description_html(record: &UploadRecord) -> String {
    record
        .description
        .as_deref()
        .map(|description| format!("<p class=\"description\">{}</p>\n", text(description)))
        .unwrap_or_default()
}

fn tags_html(ctx: &PageContext<'_>, record: &UploadRecord) -> String {
    if record.tags.is_empty() {
        return String::new();
    }
    let items: String = record
        .tags
        .iter()
        .map(|tag| format!("<li>{}</li>", text(tag)))
        .collect();
    format!(
        "<ul class=\"tags\" aria-label=\"{}\">{items}</ul>\n",
        attr(ctx.catalog.t("viewer.tags"))
    )
}

fn facts_html(ctx: &PageContext<'_>, record: &UploadRecord) -> String {
    let mut facts = vec![
        (
            "viewer.dimensions",
            format!("{} × {}", record.width, record.height),
        ),
        ("viewer.size", format_bytes(record.size)),
    ];
    if let Some(video) = &record.video {
        let seconds = whole_seconds(video.duration());
        facts.push(("viewer.duration", minutes_and_seconds(seconds)));
    }
    let rows: String = facts
        .into_iter()
        .map(|(key, value)| format!("<dt>{}</dt><dd>{}</dd>", ctx.t(key), text(&value)))
        .collect();
    let iso = DateTime::from_timestamp(record.created_at, 0)
        .map(|at| at.to_rfc3339())
        .unwrap_or_default();
    format!(
        "<dl class=\"facts\">{rows}<dt>{date}</dt><dd><time datetime=\"{iso}\">{shown} UTC\
         </time></dd></dl>\n",
        date = ctx.t("viewer.date"),
        iso = attr(&iso),
        shown = text(&record.date_gmt),
    )
}

/// Download, and delete when the session's user may.
fn actions_html(ctx: &PageContext<'_>, record: &UploadRecord, links: &Links<'_>) -> String {
    let delete = match ctx.session {
        Some(session) if may_delete(session, record) => format!(
            "<form method=\"post\" action=\"{action}\" class=\"inline\" data-confirm=\"{ask}\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" class=\"danger\">{label}</button></form>",
            action = attr(&format!("{}/delete", links.short_path(record))),
            ask = attr(ctx.catalog.t("viewer.delete_confirm")),
            csrf = attr(&session.csrf_token),
            label = ctx.t("viewer.delete"),
        ),
        _ => String::new(),
    };
    format!(
        "<div class=\"actions\"><a class=\"button\" href=\"{original}\" download>{download}</a>\
         {delete}</div>\n",
        original = attr(&links.original(record)),
        download = ctx.t("viewer.download"),
    )
}

/// The links to copy; the page script adds a copy button after each field.
fn share_html(
    ctx: &PageContext<'_>,
    record: &UploadRecord,
    links: &Links<'_>,
    title: &str,
) -> String {
    let viewer = links.viewer(record);
    let direct = links.original(record);
    let thumb = links.file(record, Some("th"), &record.thumb.extension);
    let alt: String = title
        .chars()
        .filter(|c| !"[]()<>\"&".contains(*c))
        .collect();
    let rows = [
        ("link.viewer", viewer.clone()),
        ("link.direct", direct.clone()),
        ("link.thumb", thumb),
        ("link.markdown", format!("[![{alt}]({direct})]({viewer})")),
        (
            "link.html",
            format!("<a href=\"{viewer}\"><img src=\"{direct}\" alt=\"{alt}\"></a>"),
        ),
        (
            "link.bbcode",
            format!("[url={viewer}][img]{direct}[/img][/url]"),
        ),
    ];
    let fields: String = rows
        .iter()
        .map(|(key, value)| {
            format!(
                "<span>{label}</span><input readonly value=\"{value}\" data-copy=\"{name}\" \
                 aria-label=\"{name}\">\n",
                label = ctx.t(key),
                value = attr(value),
                name = attr(ctx.catalog.t(key)),
            )
        })
        .collect();
    format!(
        "<h2>{}</h2>\n<div class=\"share\">\n{fields}</div>\n",
        ctx.t("viewer.share")
    )
}
