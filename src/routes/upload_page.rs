//! `GET /`: the upload page. Logged in, it is the uploader (`web/upload.html`, driven by
//! `web/upload.js`); otherwise it asks to sign in, since every upload belongs to an account.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::startup::AppState;

use super::html::{self, attr, PageContext};
use super::{assets, page_context, request_session};

/// The upload page.
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let session = match request_session(&req, &state).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ctx = page_context(&req, &state, session.as_ref());
    let (head, body) = match session {
        Some(_) => (
            format!(
                "<script type=\"module\" src=\"{}\"></script>\n",
                attr(&assets::url("upload.js"))
            ),
            html::fill(&assets::text("upload.html"), |name| lookup(&ctx, name)),
        ),
        None => (String::new(), guest_body(&ctx)),
    };
    html::layout(
        &ctx,
        StatusCode::OK,
        ctx.catalog.t("upload.title"),
        &head,
        &body,
    )
}

/// `{{t:key}}` is a catalog string, escaped so that it is safe in text and in attributes.
fn lookup(ctx: &PageContext<'_>, name: &str) -> Option<String> {
    name.strip_prefix("t:").map(|key| attr(ctx.catalog.t(key)))
}

fn guest_body(ctx: &PageContext<'_>) -> String {
    format!(
        "<h1>{title}</h1>\n<p>{message}</p>\n\
         <p><a class=\"button\" href=\"/login\">{login}</a></p>",
        title = ctx.t("upload.title"),
        message = ctx.t("upload.guest"),
        login = ctx.t("nav.login"),
    )
}
