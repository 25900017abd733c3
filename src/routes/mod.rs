//! The URL surface, and how absolute links are rooted for a request.

pub mod assets;
pub mod delete;
pub mod files;
pub mod health;
pub mod html;
pub mod i18n;
pub mod limits;
pub mod login;
pub mod metrics;
pub mod my_uploads;
pub mod upload_page;
pub mod viewer;
pub mod web_session;

use std::net::{IpAddr, SocketAddr};

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api;
use crate::config::Config;
use crate::session::Session;
use crate::startup::AppState;

use self::html::PageContext;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let upload = web::resource(["/api/1/upload", "/api/1/upload/"])
        .route(web::get().to(api::upload::upload))
        .route(web::post().to(api::upload::upload))
        .default_service(web::to(api::upload::method_not_allowed));
    // An upload's pages live under `/image/` or, for a video, `/video/`; either prefix finds
    // any upload, and the viewer redirects to the right one.
    let delete_link = web::resource(["/image/{id}/delete/{secret}", "/video/{id}/delete/{secret}"])
        .route(web::get().to(delete::confirm))
        .route(web::post().to(delete::delete_from_page))
        .route(web::delete().to(delete::delete_from_script))
        .default_service(web::to(not_found));
    let owner_delete = web::resource(["/image/{id}/delete", "/video/{id}/delete"])
        .route(web::post().to(delete::delete_as_owner))
        .default_service(web::to(not_found));
    let viewer = web::resource(["/image/{slug_id}", "/video/{slug_id}"])
        .route(web::get().to(viewer::show))
        .route(web::head().to(viewer::show))
        .default_service(web::to(not_found));
    // Browser forms and query strings that do not parse get a page, not plain text.
    cfg.app_data(web::FormConfig::default().error_handler(|err, _| bad_request(err)))
        .app_data(web::QueryConfig::default().error_handler(|err, _| bad_request(err)));
    cfg.service(upload)
        .route("/images/{path:.+}", web::get().to(files::serve))
        .route("/images/{path:.+}", web::head().to(files::serve))
        .service(delete_link)
        .service(owner_delete)
        .service(viewer)
        .route("/healthz", web::get().to(health::check))
        .route("/metrics", web::get().to(metrics::show))
        .route("/api/limits", web::get().to(limits::show))
        .route("/", web::get().to(upload_page::show))
        .route("/login", web::get().to(login::show))
        .route("/login", web::post().to(login::submit))
        .route("/logout", web::post().to(login::logout))
        .route("/uploads", web::get().to(my_uploads::show))
        .route("/static/{path:.+}", web::get().to(assets::serve))
        .default_service(web::to(not_found));
}

fn bad_request(err: impl Into<actix_web::Error>) -> actix_web::Error {
    actix_web::error::InternalError::from_response(err.into(), html::bad_request()).into()
}

async fn not_found() -> HttpResponse {
    html::not_found()
}

/// The session a page request carries; a lookup failure is already the 500 page.
pub async fn request_session(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<Session>, HttpResponse> {
    web_session::current(req, state)
        .await
        .map_err(|err| html::server_error("looking up a session failed", &err))
}

/// What a translated page needs: the request's language, and the session when there is one.
pub fn page_context<'a>(
    req: &HttpRequest,
    state: &'a AppState,
    session: Option<&'a Session>,
) -> PageContext<'a> {
    PageContext {
        catalog: state.catalogs.for_request(req),
        catalogs: &state.catalogs,
        session,
    }
}

/// The base of every absolute link: `public_url` when configured, else the scheme and host of
/// the request. Forwarded headers count only with `trust_proxy`, since any client can send
/// them.
pub fn base_url(req: &HttpRequest, config: &Config) -> String {
    if let Some(url) = &config.public_url {
        return url.clone();
    }
    let header_value = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let forwarded = |name: &str| {
        if config.trust_proxy {
            header_value(name)
        } else {
            None
        }
    };
    let scheme = match forwarded("x-forwarded-proto").map(|value| value.trim()) {
        Some("https") => "https",
        _ => "http",
    };
    let host = forwarded("x-forwarded-host")
        .or_else(|| header_value(header::HOST.as_str()))
        .map(|value| value.trim())
        .filter(|host| is_plain_host(host))
        .map(str::to_string)
        .unwrap_or_else(|| req.app_config().local_addr().to_string());
    format!("{scheme}://{host}")
}

/// The client's address, as the duplicate policy counts it. With `trust_proxy` it is the
/// left-most valid address in `X-Forwarded-For` (the client, as the first proxy saw it), else
/// the connection's peer; without it the header is ignored, since any client can send one.
pub fn client_ip(req: &HttpRequest, config: &Config) -> Option<String> {
    let forwarded = if config.trust_proxy {
        forwarded_for(req)
    } else {
        None
    };
    forwarded
        .or_else(|| req.peer_addr().map(|addr| addr.ip()))
        .map(|ip| ip.to_canonical().to_string())
}

/// The last entry across every `X-Forwarded-For` header that is an IP address (with or
/// without a port; `unknown` and obfuscated names are skipped). The proxy in front of sajin
/// appends the address it saw; anything before that came from the client and can be forged.
fn forwarded_for(req: &HttpRequest) -> Option<IpAddr> {
    let entries: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .collect();
    entries
        .into_iter()
        .rev()
        .find_map(|entry| parse_forwarded_ip(entry.trim()))
}

fn parse_forwarded_ip(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

/// A host (name or IP, optional port) with nothing that could break out of a URL.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_entries_are_read_as_addresses_with_or_without_a_port() {
        let cases = [
            ("203.0.113.7", Some("203.0.113.7")),
            ("203.0.113.7:4711", Some("203.0.113.7")),
            ("2001:db8::1", Some("2001:db8::1")),
            ("[2001:db8::1]:4711", Some("2001:db8::1")),
            ("unknown", None),
            ("_hidden", None),
            ("", None),
            ("nas.local", None),
        ];

        for (entry, expected) in cases {
            let parsed = parse_forwarded_ip(entry).map(|ip| ip.to_string());
            assert_eq!(parsed.as_deref(), expected, "{entry:?}");
        }
    }

    #[test]
    fn hosts_that_could_inject_into_links_are_refused() {
        for good in ["nas.local:8080", "127.0.0.1", "[::1]:8080", "my_host"] {
            assert!(is_plain_host(good), "{good}");
        }
        for bad in ["", "evil.com/x", "a b", "a\"b", "host<script>", "a@b"] {
            assert!(!is_plain_host(bad), "{bad}");
        }
    }
}
