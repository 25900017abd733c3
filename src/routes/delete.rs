//! `/image/<id>/delete/<secret>`: the delete link handed out with every upload; and
//! `POST /image/<id>/delete`, the owner's delete button on the viewer and "my uploads" pages.
//!
//! A GET only shows a confirmation page with a Delete button, so that link previews and
//! crawlers that open the link delete nothing. The POST from that page, or an HTTP DELETE from
//! a script, removes the upload. A wrong secret answers 404, the same as an unknown id, and the
//! comparison takes the same time whatever the secret. The owner's button needs the session
//! and its CSRF token instead of the secret; an admin may delete any upload.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::db::uploads::UploadRecord;
use crate::links::Links;
use crate::routes::login::{forbidden, CsrfForm};
use crate::routes::viewer::may_delete;
use crate::routes::{page_context, request_session};
use crate::startup::AppState;
use crate::upload::{self, hash_delete_secret};

use super::base_url;
use super::html::{self, attr, text};
use super::viewer::find_live;

/// `GET`: the confirmation page.
pub async fn confirm(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (encoded_id, secret) = path.into_inner();
    let record = match authorised(&state, &encoded_id, &secret).await {
        Ok(record) => record,
        Err(response) => return response,
    };
    let session = match request_session(&req, &state).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ctx = page_context(&req, &state, session.as_ref());
    let base = base_url(&req, &state.services.config);
    let links = Links::new(&base, &state.services.ids);
    let title = record.title.clone().unwrap_or_else(|| record.name.clone());
    let thumb = links.file(&record, Some("th"), &record.thumb.extension);
    let body = format!(
        "<h1>{question}</h1>\n\
         <figure><img src=\"{thumb}\" alt=\"{alt}\"></figure>\n<p>{title}</p>\n\
         <form method=\"post\"><button type=\"submit\" class=\"danger\">{delete}</button></form>\n\
         <p><a href=\"{viewer}\">{keep}</a></p>\n",
        question = ctx.t("delete.title"),
        thumb = attr(&thumb),
        alt = attr(&title),
        title = text(&title),
        delete = ctx.t("viewer.delete"),
        viewer = attr(&links.viewer(&record)),
        keep = ctx.t("delete.keep"),
    );
    let head = "<meta name=\"robots\" content=\"noindex\">\n";
    html::layout(
        &ctx,
        StatusCode::OK,
        ctx.catalog.t("delete.title"),
        head,
        &body,
    )
}

/// `POST` (from the page): deletes, then shows a "deleted" page.
pub async fn delete_from_page(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Err(response) = delete(&state, path.into_inner()).await {
        return response;
    }
    let session = match request_session(&req, &state).await {
        Ok(session) => session,
        Err(response) => return response,
    };
    let ctx = page_context(&req, &state, session.as_ref());
    let body = format!(
        "<h1>{}</h1>\n<p>{}</p>",
        ctx.t("viewer.deleted"),
        ctx.t("viewer.deleted_message")
    );
    html::layout(
        &ctx,
        StatusCode::OK,
        ctx.catalog.t("viewer.deleted"),
        "",
        &body,
    )
}

/// `DELETE` (from scripts): deletes, answers JSON.
pub async fn delete_from_script(
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> HttpResponse {
    match delete(&state, path.into_inner()).await {
        Ok(()) => HttpResponse::Ok().json(json!({
            "status_code": 200,
            "success": { "message": "image deleted", "code": 200 },
            "status_txt": "OK",
        })),
        Err(response) => response,
    }
}

/// `POST /image/<id>/delete` from a page of the owner's session: deletes, then goes to the
/// owner's uploads.
pub async fn delete_as_owner(
    req: HttpRequest,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let session = match request_session(&req, &state).await {
        Ok(Some(session)) => session,
        Ok(None) => return forbidden(&req, &state),
        Err(response) => return response,
    };
    if !session.is_csrf_token(form.csrf()) {
        tracing::warn!(user = %session.user.username, "a delete had a wrong CSRF token");
        return forbidden(&req, &state);
    }
    let record = match find_live(&state, &path.into_inner()).await {
        Ok(Some(record)) if may_delete(&session, &record) => record,
        Ok(_) => return html::not_found(),
        Err(response) => return response,
    };
    match remove(&state, record).await {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header((actix_web::http::header::LOCATION, "/uploads"))
            .finish(),
        Err(response) => response,
    }
}

async fn delete(
    state: &AppState,
    (encoded_id, secret): (String, String),
) -> Result<(), HttpResponse> {
    let record = authorised(state, &encoded_id, &secret).await?;
    remove(state, record).await
}

async fn remove(state: &AppState, record: UploadRecord) -> Result<(), HttpResponse> {
    let services = Arc::clone(&state.services);
    let id = record.id;
    match web::block(move || upload::remove(&services, &record)).await {
        Ok(Ok(_)) => {
            tracing::info!(id, "deleted an upload");
            Ok(())
        }
        Ok(Err(err)) => Err(html::server_error("deleting an upload failed", &err)),
        Err(err) => Err(html::server_error("deleting an upload failed", &err)),
    }
}

/// The upload, when the id is live and the secret matches; else the 404 page.
async fn authorised(
    state: &AppState,
    encoded_id: &str,
    secret: &str,
) -> Result<UploadRecord, HttpResponse> {
    let record = find_live(state, encoded_id)
        .await?
        .ok_or_else(html::not_found)?;
    let is_match: bool = hash_delete_secret(secret).ct_eq(&record.delete_hash).into();
    if is_match {
        Ok(record)
    } else {
        Err(html::not_found())
    }
}
