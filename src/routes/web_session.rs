//! The HTTP side of sessions: the cookies, and finding the session a request carries.
//!
//! The session cookie is `HttpOnly` (scripts cannot read it), `SameSite=Lax` (other sites'
//! forms and scripts do not send it with a POST) and `Secure` when `public_url` is https. The
//! CSRF token a page needs is written into the page itself, never into a readable cookie;
//! state-changing requests send it back in a form field or the `X-CSRF-Token` header.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest};

use crate::config::Config;
use crate::db::DbError;
use crate::session::{self, Session, SESSION_LIFETIME_SECS};
use crate::startup::AppState;

/// The cookie holding the session token.
pub const SESSION_COOKIE: &str = "sajin_session";
/// The cookie holding the login form's CSRF token (double submit: cookie and form field).
pub const LOGIN_COOKIE: &str = "sajin_login";
/// The header a script sends the session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Why the session could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum SessionLookupError {
    #[error("looking up the session failed")]
    Db(#[from] DbError),
    #[error("the session lookup task failed")]
    Task(#[from] actix_web::error::BlockingError),
}

/// The value of the cookie `name`, when the request has one.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
        .filter(|value| !value.is_empty())
}

/// The live session the request's cookie names, if any.
pub async fn current(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<Session>, SessionLookupError> {
    let Some(token) = cookie(req, SESSION_COOKIE) else {
        return Ok(None);
    };
    let services = Arc::clone(&state.services);
    let found =
        web::block(move || services.db.with_conn(|conn| session::find(conn, &token))).await??;
    Ok(found)
}

/// `Set-Cookie` for a new session.
pub fn session_cookie(token: &str, config: &Config) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; Max-Age={SESSION_LIFETIME_SECS}; HttpOnly; \
         SameSite=Lax{}",
        secure_flag(config)
    )
}

/// `Set-Cookie` for the login form's CSRF token, valid for an hour on `/login` only.
pub fn login_cookie(token: &str, config: &Config) -> String {
    format!(
        "{LOGIN_COOKIE}={token}; Path=/login; Max-Age=3600; HttpOnly; SameSite=Strict{}",
        secure_flag(config)
    )
}

/// `Set-Cookie` that removes the cookie `name` set on `path`.
pub fn removal_cookie(name: &str, path: &str, config: &Config) -> String {
    format!(
        "{name}=; Path={path}; Max-Age=0; HttpOnly; SameSite=Lax{}",
        secure_flag(config)
    )
}

fn secure_flag(config: &Config) -> &'static str {
    let is_https = config
        .public_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"));
    if is_https {
        "; Secure"
    } else {
        ""
    }
}

/// A path on this site to go to after logging in: only local absolute paths, so the login
/// page cannot be made to send someone elsewhere.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        let cases = [
            (Some("/uploads?page=2"), "/uploads?page=2"),
            (Some("//evil.example/"), "/"),
            (Some("/\\evil.example"), "/"),
            (Some("https://evil.example/"), "/"),
            (Some("/a\nb"), "/"),
            (None, "/"),
        ];
        for (next, expected) in cases {
            assert_eq!(local_path(next), expected, "{next:?}");
        }
    }
}
