//! `/login` and `/logout`: the password form that opens a browser session, and closing it.
//!
//! The login form is protected from cross-site posts by a double-submit token: the form's
//! hidden field must equal a `SameSite=Strict` cookie set with the form, which another site
//! can neither read nor send. Logging out is a POST carrying the session's CSRF token. The
//! password check (argon2) runs on the blocking pool. Limitation: failed logins are not
//! throttled; argon2's cost is the only brake on guessing.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::session::{self, tokens_match};
use crate::startup::AppState;

use super::html::{self, attr, PageContext};
use super::web_session::{
    cookie, local_path, login_cookie, removal_cookie, session_cookie, LOGIN_COOKIE, SESSION_COOKIE,
};
use super::{page_context, request_session};

/// The login form's fields; a missing one is empty, and is refused as a wrong token or
/// password would be.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

/// A form whose only field is the session's CSRF token (logout, delete); a missing token is
/// empty, and refused.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

impl CsrfForm {
    /// The token the form sent.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// Where to go after logging in, from `?next=`.
#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /login`: the form, or straight on when already logged in.
pub async fn show(
    req: HttpRequest,
    query: web::Query<NextQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let next = local_path(query.next.as_deref());
    match request_session(&req, &state).await {
        Ok(Some(_)) => see_other(&next),
        Ok(None) => form_page(&req, &state, &next, None),
        Err(response) => response,
    }
}

/// `POST /login`: checks the password and opens a session.
pub async fn submit(
    req: HttpRequest,
    form: web::Form<LoginForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let form = form.into_inner();
    let next = local_path(form.next.as_deref());
    let expected = cookie(&req, LOGIN_COOKIE).unwrap_or_default();
    if !tokens_match(&expected, &form.csrf) {
        tracing::warn!("login form posted without its CSRF token");
        return form_page(&req, &state, &next, Some("login.expired"));
    }
    let services = Arc::clone(&state.services);
    let (username, password) = (form.username, form.password);
    let opened = web::block(move || {
        services
            .db
            .with_conn(|conn| session::login(conn, &username, &password))
    })
    .await;
    match opened {
        Ok(Ok(Some(opened))) => {
            tracing::info!(user = %opened.user.username, "logged in");
            let config = &state.services.config;
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, next))
                .append_header((header::SET_COOKIE, session_cookie(&opened.token, config)))
                .append_header((
                    header::SET_COOKIE,
                    removal_cookie(LOGIN_COOKIE, "/login", config),
                ))
                .finish()
        }
        Ok(Ok(None)) => {
            tracing::warn!("a login was refused");
            form_page(&req, &state, &next, Some("login.wrong"))
        }
        Ok(Err(err)) => html::server_error("checking a login failed", &err),
        Err(err) => html::server_error("checking a login failed", &err),
    }
}

/// `POST /logout`: ends the session when the form carries its CSRF token.
pub async fn logout(
    req: HttpRequest,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let session = match request_session(&req, &state).await {
        Ok(Some(session)) => session,
        Ok(None) => return see_other("/"),
        Err(response) => return response,
    };
    if !session.is_csrf_token(&form.csrf) {
        tracing::warn!("logout posted without the session's CSRF token");
        return forbidden(&req, &state);
    }
    let token = cookie(&req, SESSION_COOKIE).unwrap_or_default();
    let services = Arc::clone(&state.services);
    let ended = web::block(move || services.db.with_conn(|conn| session::logout(conn, &token)));
    match ended.await {
        Ok(Ok(())) => {
            tracing::info!(user = %session.user.username, "logged out");
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/"))
                .append_header((
                    header::SET_COOKIE,
                    removal_cookie(SESSION_COOKIE, "/", &state.services.config),
                ))
                .finish()
        }
        Ok(Err(err)) => html::server_error("ending a session failed", &err),
        Err(err) => html::server_error("ending a session failed", &err),
    }
}

/// The 403 page for a state-changing request without the session's CSRF token.
pub fn forbidden(req: &HttpRequest, state: &AppState) -> HttpResponse {
    let ctx = page_context(req, state, None);
    let body = format!(
        "<h1>{}</h1>\n<p>{}</p>",
        ctx.t("csrf.title"),
        ctx.t("csrf.message")
    );
    html::layout(
        &ctx,
        StatusCode::FORBIDDEN,
        ctx.catalog.t("csrf.title"),
        "",
        &body,
    )
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_string()))
        .finish()
}

/// The form, with a fresh double-submit token; `error` is a catalog key.
fn form_page(req: &HttpRequest, state: &AppState, next: &str, error: Option<&str>) -> HttpResponse {
    let ctx = page_context(req, state, None);
    let token = session::new_token();
    let status = match error {
        None => StatusCode::OK,
        Some("login.expired") => StatusCode::FORBIDDEN,
        Some(_) => StatusCode::UNAUTHORIZED,
    };
    let body = form_html(&ctx, &token, next, error);
    let mut response = html::layout(&ctx, status, ctx.catalog.t("login.title"), "", &body);
    if let Ok(value) = login_cookie(&token, &state.services.config).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn form_html(ctx: &PageContext<'_>, token: &str, next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|key| format!("<p class=\"error\" role=\"alert\">{}</p>\n", ctx.t(key)))
        .unwrap_or_default();
    format!(
        "<h1>{title}</h1>\n{error}<form method=\"post\" action=\"/login\" class=\"login\">\n\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <label>{user} <input name=\"username\" autocomplete=\"username\" required \
         autofocus></label>\n\
         <label>{password} <input name=\"password\" type=\"password\" \
         autocomplete=\"current-password\" required></label>\n\
         <button type=\"submit\">{submit}</button>\n</form>\n<p class=\"meta\">{hint}</p>",
        title = ctx.t("login.title"),
        token = attr(token),
        next = attr(next),
        user = ctx.t("login.username"),
        password = ctx.t("login.password"),
        submit = ctx.t("login.submit"),
        hint = ctx.t("login.hint"),
    )
}
