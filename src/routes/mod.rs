//! The URL surface, and how absolute links are rooted for a request.

pub mod assets;
pub mod delete;
pub mod files;
pub mod health;
pub mod html;
pub mod viewer;

use actix_web::http::header;
use actix_web::{web, HttpRequest};

use crate::api;
use crate::config::Config;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let upload = web::resource(["/api/1/upload", "/api/1/upload/"])
        .route(web::get().to(api::upload::upload))
        .route(web::post().to(api::upload::upload))
        .default_service(web::to(api::upload::method_not_allowed));
    cfg.service(upload)
        .route("/images/{path:.+}", web::get().to(files::serve))
        .route("/images/{path:.+}", web::head().to(files::serve))
        .route(
            "/image/{id}/delete/{secret}",
            web::get().to(delete::confirm),
        )
        .route(
            "/image/{id}/delete/{secret}",
            web::post().to(delete::delete_from_page),
        )
        .route(
            "/image/{id}/delete/{secret}",
            web::delete().to(delete::delete_from_script),
        )
        .route("/image/{slug_id}", web::get().to(viewer::show))
        .route("/image/{slug_id}", web::head().to(viewer::show))
        .route("/healthz", web::get().to(health::check))
        .route("/", web::get().to(assets::index))
        .route("/static/{path:.+}", web::get().to(assets::serve))
        .default_service(web::to(not_found));
}

async fn not_found() -> actix_web::HttpResponse {
    html::not_found()
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
    fn hosts_that_could_inject_into_links_are_refused() {
        for good in ["nas.local:8080", "127.0.0.1", "[::1]:8080", "my_host"] {
            assert!(is_plain_host(good), "{good}");
        }
        for bad in ["", "evil.com/x", "a b", "a\"b", "host<script>", "a@b"] {
            assert!(!is_plain_host(bad), "{bad}");
        }
    }
}
