//! `GET /uploads`: the logged-in user's uploads, newest first, a page at a time, each with a
//! delete button (the owner's delete, which needs the session's CSRF token). Guests are sent
//! to the login page.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::db::unix_now;
use crate::db::uploads::{self, UploadRecord};
use crate::links::Links;
use crate::session::Session;
use crate::startup::AppState;

use super::html::{self, attr, text, PageContext};
use super::{base_url, page_context, request_session};

/// Uploads on one page.
const PAGE_SIZE: u32 = 24;

/// `?page=N`, counted from 1.
#[derive(Deserialize)]
pub struct PageQuery {
    page: Option<u64>,
}

/// The page.
pub async fn show(
    req: HttpRequest,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let session = match request_session(&req, &state).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login?next=/uploads"))
                .finish()
        }
        Err(response) => return response,
    };
    let page = query.page.unwrap_or(1).max(1);
    let services = Arc::clone(&state.services);
    let user_id = session.user.id;
    let offset = (page - 1).saturating_mul(u64::from(PAGE_SIZE));
    let found = web::block(move || {
        services
            .db
            .with_conn(|conn| uploads::page_of_user(conn, user_id, unix_now(), PAGE_SIZE, offset))
    })
    .await;
    let (records, total) = match found {
        Ok(Ok(found)) => found,
        Ok(Err(err)) => return html::server_error("listing uploads failed", &err),
        Err(err) => return html::server_error("listing uploads failed", &err),
    };
    let base = base_url(&req, &state.services.config);
    let links = Links::new(&base, &state.services.ids);
    let ctx = page_context(&req, &state, Some(&session));
    let body = format!(
        "<h1>{title}</h1>\n{grid}{pager}",
        title = ctx.t("mine.title"),
        grid = grid_html(&ctx, &session, &records, &links),
        pager = pager_html(&ctx, page, total),
    );
    html::layout(&ctx, StatusCode::OK, ctx.catalog.t("mine.title"), "", &body)
}

fn grid_html(
    ctx: &PageContext<'_>,
    session: &Session,
    records: &[UploadRecord],
    links: &Links<'_>,
) -> String {
    if records.is_empty() {
        return format!("<p>{}</p>\n", ctx.t("mine.empty"));
    }
    let items: String = records
        .iter()
        .map(|record| item_html(ctx, session, record, links))
        .collect();
    format!("<ul class=\"grid mine\">\n{items}</ul>\n")
}

fn item_html(
    ctx: &PageContext<'_>,
    session: &Session,
    record: &UploadRecord,
    links: &Links<'_>,
) -> String {
    let title = record.title.clone().unwrap_or_else(|| record.name.clone());
    let thumb = links.file(record, Some("th"), &record.thumb.extension);
    format!(
        "<li class=\"item\"><a href=\"{viewer}\"><img src=\"{thumb}\" alt=\"{alt}\" \
         loading=\"lazy\" width=\"{width}\" height=\"{height}\"></a>\
         <span class=\"name\">{name}</span>\
         <form method=\"post\" action=\"{action}\" data-confirm=\"{ask}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" class=\"danger\" aria-label=\"{label}\">{delete}</button>\
         </form></li>\n",
        viewer = attr(&links.viewer_path(record)),
        thumb = attr(&thumb),
        alt = attr(&title),
        width = record.thumb.width,
        height = record.thumb.height,
        name = text(&title),
        action = attr(&format!("{}/delete", links.short_path(record))),
        ask = attr(ctx.catalog.t("viewer.delete_confirm")),
        csrf = attr(&session.csrf_token),
        label = attr(&ctx.catalog.format("mine.delete", &[("name", &title)])),
        delete = ctx.t("viewer.delete"),
    )
}

fn pager_html(ctx: &PageContext<'_>, page: u64, total: u64) -> String {
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    if pages == 1 {
        return String::new();
    }
    let newer = if page > 1 {
        format!(
            "<a href=\"/uploads?page={}\">{}</a>",
            page - 1,
            ctx.t("mine.newer")
        )
    } else {
        String::new()
    };
    let older = if page < pages {
        format!(
            "<a href=\"/uploads?page={}\">{}</a>",
            page + 1,
            ctx.t("mine.older")
        )
    } else {
        String::new()
    };
    let position = ctx.catalog.format(
        "mine.page",
        &[("page", &page.to_string()), ("pages", &pages.to_string())],
    );
    format!(
        "<nav class=\"pager\" aria-label=\"{label}\">{newer}<span>{position}</span>{older}</nav>\n",
        label = attr(ctx.catalog.t("mine.title")),
        position = text(&position),
    )
}
