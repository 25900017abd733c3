//! The HTML layout shared by the server-rendered pages, a tiny template filler, and the
//! escaping helpers.
//!
//! Everything a user typed (titles, descriptions, file names, user names) goes through
//! [`text`] or [`attr`] before it reaches a page; catalog strings do too, since a translator's
//! file is data. Pages built with [`layout`] carry the language switcher, the account links,
//! the session's CSRF token (in a `<meta>` for scripts) and their language's catalog.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use crate::session::Session;

use super::assets;
use super::i18n::{Catalog, Catalogs};

/// Escapes text for an element's content.
pub fn text(value: &str) -> String {
    html_escape::encode_text(value).into_owned()
}

/// Escapes text for a double-quoted attribute value.
pub fn attr(value: &str) -> String {
    html_escape::encode_double_quoted_attribute(value).into_owned()
}

/// JSON made safe to sit inside a `<script>` element: no `<` can close it early.
pub fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Replaces each `{{name}}` in `template` with `lookup(name)`; an unknown name is left as is.
pub fn fill(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = &after[..end];
                match lookup(name) {
                    Some(value) => out.push_str(&value),
                    None => out.push_str(&rest[start..start + end + 4]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a page needs to know of its request: its language and who is logged in.
pub struct PageContext<'a> {
    pub catalog: &'a Catalog,
    pub catalogs: &'a Catalogs,
    pub session: Option<&'a Session>,
}

impl PageContext<'_> {
    /// A catalog string, escaped for HTML.
    pub fn t(&self, key: &str) -> String {
        text(self.catalog.t(key))
    }
}

/// A whole translated page with the site header: `title` is plain text, `head` and `body` are
/// HTML.
pub fn layout(
    ctx: &PageContext<'_>,
    status: StatusCode,
    title: &str,
    head: &str,
    body: &str,
) -> HttpResponse {
    let csrf = ctx
        .session
        .map_or("", |session| session.csrf_token.as_str());
    let html = format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · sajin</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <link rel=\"stylesheet\" href=\"{style}\">\n\
         <meta name=\"csrf-token\" content=\"{csrf}\">\n\
         <script type=\"module\" src=\"{common}\"></script>\n{head}</head>\n\
         <body>\n{header}<main id=\"main\">\n{body}\n</main>\n\
         <script type=\"application/json\" id=\"i18n\">{catalog}</script>\n</body>\n</html>\n",
        lang = attr(&ctx.catalog.code),
        title = text(title),
        style = assets::url("style.css"),
        csrf = attr(csrf),
        common = assets::url("common.js"),
        header = site_header(ctx),
        catalog = script_json(&ctx.catalog.json),
    );
    html_response(status, html)
}

fn site_header(ctx: &PageContext<'_>) -> String {
    let account = match ctx.session {
        Some(session) => format!(
            "<a href=\"/uploads\">{mine}</a>\n\
             <form method=\"post\" action=\"/logout\" class=\"inline\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <button type=\"submit\" class=\"link\">{logout}</button></form>\n\
             <span class=\"user\">{user}</span>\n",
            mine = ctx.t("nav.my_uploads"),
            csrf = attr(&session.csrf_token),
            logout = ctx.t("nav.logout"),
            user = text(&session.user.username),
        ),
        None => format!("<a href=\"/login\">{}</a>\n", ctx.t("nav.login")),
    };
    let options: String = ctx
        .catalogs
        .names()
        .map(|(code, name)| {
            let selected = if code == ctx.catalog.code {
                " selected"
            } else {
                ""
            };
            format!(
                "<option value=\"{}\"{selected}>{}</option>",
                attr(code),
                text(name)
            )
        })
        .collect();
    format!(
        "<a class=\"skip\" href=\"#main\">{skip}</a>\n<header class=\"top\">\n\
         <a href=\"/\" class=\"brand\">sajin</a>\n<nav aria-label=\"{nav}\">\n\
         <a href=\"/\">{upload}</a>\n{account}\
         <select id=\"lang-select\" aria-label=\"{language}\">{options}</select>\n\
         </nav>\n</header>\n",
        skip = ctx.t("nav.skip"),
        nav = attr(ctx.catalog.t("nav.label")),
        upload = ctx.t("nav.upload"),
        language = attr(ctx.catalog.t("language.label")),
    )
}

/// A plain English page without the account header, for answers that have no request context
/// (404, 500, the delete link's pages): `title` is plain text, `head` and `body` are HTML.
pub fn page(status: StatusCode, title: &str, head: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · sajin</title>\n<link rel=\"icon\" href=\"data:,\">\n\
         <link rel=\"stylesheet\" href=\"{style}\">\n{head}</head>\n\
         <body>\n<header class=\"top\"><a href=\"/\" class=\"brand\">sajin</a></header>\n\
         <main>\n{body}\n</main>\n</body>\n</html>\n",
        title = text(title),
        style = assets::url("style.css"),
    );
    html_response(status, html)
}

/// What a page may load: its own scripts and styles only, so that markup which slipped past
/// the escaping still cannot run a script. Pictures and videos may come from anywhere, since
/// links follow `public_url`, which can name another host than the one the browser used; the
/// upload previews are `blob:` URLs. No site may frame a page (its buttons delete).
const CONTENT_SECURITY_POLICY: &str = concat!(
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; ",
    "media-src * blob:; object-src 'none'; base-uri 'none'; form-action 'self'; ",
    "frame-ancestors 'none'"
);

fn html_response(status: StatusCode, html: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .insert_header(("Referrer-Policy", "same-origin"))
        .body(html)
}

/// The page for a browser form or query string that does not parse (a missing body, a page
/// number that is not one), instead of the framework's plain-text answer.
pub fn bad_request() -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "Bad request",
        "",
        "<h1>Bad request</h1>\n<p>The page sent something the server could not read. Go back and \
         try again.</p>",
    )
}

/// The 404 page.
pub fn not_found() -> HttpResponse {
    page(
        StatusCode::NOT_FOUND,
        "Not found",
        "",
        "<h1>Not found</h1>\n<p>There is nothing here. It may have expired or been deleted.</p>",
    )
}

/// The 500 page; the cause goes to the log.
pub fn server_error(context: &str, err: &dyn std::error::Error) -> HttpResponse {
    tracing::error!(error = %crate::telemetry::error_chain(err), "{context}");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Server error",
        "",
        "<h1>Something went wrong</h1>\n<p>The server could not answer. Try again later.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filler_replaces_known_names_and_keeps_the_rest() {
        let lookup = |name: &str| (name == "a").then(|| "<1>".to_string());
        let cases = [
            ("x{{a}}y", "x<1>y"),
            ("{{b}}{{a}}", "{{b}}<1>"),
            ("{{a", "{{a"),
            ("none", "none"),
        ];
        for (template, expected) in cases {
            assert_eq!(fill(template, lookup), expected, "{template}");
        }
    }

    #[test]
    fn inline_json_cannot_close_its_script() {
        assert_eq!(
            script_json(r#"{"a":"</script>"}"#),
            r#"{"a":"\u003c/script>"}"#
        );
    }
}
