//! A small HTML layout shared by the server-rendered pages, and the escaping helpers.
//!
//! Everything a user typed (titles, descriptions, file names) goes through [`text`] or
//! [`attr`] before it reaches a page.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

/// Escapes text for an element's content.
pub fn text(value: &str) -> String {
    html_escape::encode_text(value).into_owned()
}

/// Escapes text for a double-quoted attribute value.
pub fn attr(value: &str) -> String {
    html_escape::encode_double_quoted_attribute(value).into_owned()
}

/// A whole page: `title` is plain text, `head` and `body` are HTML.
pub fn page(status: StatusCode, title: &str, head: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · sajin</title>\n\
         <link rel=\"stylesheet\" href=\"/static/style.css\">\n{head}</head>\n\
         <body>\n<header><a href=\"/\" class=\"brand\">sajin</a></header>\n\
         <main>\n{body}\n</main>\n</body>\n</html>\n",
        title = text(title),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Cache-Control", "no-cache"))
        .body(html)
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
