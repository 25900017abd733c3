//! `GET|POST /api/1/upload`: Chevereto API V1.1's upload endpoint.
//!
//! Authenticate (before reading the body when the key is outside it; the upload page's session
//! cookie with its CSRF header counts as a key), read the parameters, parse them into domain
//! values, get the bytes (from the request or by fetching the URL), hand them to the upload
//! service on the blocking pool, and answer in the requested format. Browser uploads take this
//! same path, with the same checks. A disk already below the free-space reserve refuses the
//! upload before its body is read. Every answer is counted for `/metrics` by result and type.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::auth::{self, KeyRejection};
use crate::db::users::UserRecord;
use crate::links::Links;
use crate::metrics::{UploadKind, UploadResult};
use crate::routes::web_session::{self, CSRF_HEADER, SESSION_COOKIE};
use crate::routes::{base_url, client_ip};
use crate::startup::AppState;
use crate::upload::{self, UploadInput, Uploaded};

use super::error::{from_fetch, from_form, ApiError};
use super::form::{read_fields, FormLimits, RequestFields};
use super::params::{self, ResponseFormat, Source};
use super::response::success_body;

/// The upload endpoint.
pub async fn upload(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (response, kind) = answer(&req, payload, &state).await;
    state
        .services
        .metrics
        .count_upload(result_of(response.status()), kind);
    response
}

fn result_of(status: StatusCode) -> UploadResult {
    if status.is_server_error() {
        UploadResult::Failed
    } else if status.is_client_error() {
        UploadResult::Refused
    } else {
        UploadResult::Stored
    }
}

async fn answer(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> (HttpResponse, UploadKind) {
    let refused = |err: ApiError, format| (err.respond(format), UploadKind::Unknown);
    let early_owner = match authenticate_before_body(req, state).await {
        Ok(owner) => owner,
        Err(err) => return refused(err, format_from_query(req)),
    };
    if let Err(err) = ensure_above_reserve(state).await {
        return refused(err, format_from_query(req));
    }
    let max_bytes = state.services.config.max_upload_bytes;
    let limits = FormLimits::for_upload_size(max_bytes);
    let mut fields = match read_fields(req, payload, limits).await {
        Ok(fields) => fields,
        Err(err) => return refused(from_form(err, max_bytes), format_from_query(req)),
    };
    let format = match ResponseFormat::from_fields(&fields) {
        Ok(format) => format,
        Err(err) => return refused(err, ResponseFormat::Json),
    };
    match handle(req, state, &mut fields, early_owner).await {
        Ok((uploaded, is_imgbb)) => {
            let kind = match uploaded.record.is_video() {
                true => UploadKind::Video,
                false => UploadKind::Image,
            };
            let response = respond(req, state, &uploaded, is_imgbb, format);
            (response, kind)
        }
        Err(err) => refused(err, format),
    }
}

/// Refuses at once when the free space is already below the reserve, before the body is read.
/// The upload service checks again with the real size before it writes anything.
async fn ensure_above_reserve(state: &AppState) -> Result<(), ApiError> {
    let services = Arc::clone(&state.services);
    web::block(move || services.claim_room_for(0).map(drop))
        .await
        .map_err(|err| ApiError::internal("the disk space check failed", &err))?
        .map_err(ApiError::from)
}

/// Any other method on the upload endpoint: a JSON 405 naming the methods it takes.
pub async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    let mut response = ApiError::method_not_allowed().respond(format_from_query(&req));
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("GET, POST"));
    response
}

/// The format for errors found before the body could be read: from the query string only.
fn format_from_query(req: &HttpRequest) -> ResponseFormat {
    let fields = RequestFields {
        query: query_params(req),
        ..RequestFields::default()
    };
    ResponseFormat::from_fields(&fields).unwrap_or(ResponseFormat::Json)
}

fn query_params(req: &HttpRequest) -> HashMap<String, String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect()
}

async fn handle(
    req: &HttpRequest,
    state: &AppState,
    fields: &mut RequestFields,
    early_owner: Option<EarlyOwner>,
) -> Result<(Uploaded, bool), ApiError> {
    let owner = authenticate_after_body(req, state, fields, early_owner).await?;
    let options = params::options(fields, &state.services.ids)?;
    let source = params::source(fields).await?;
    let (bytes, client_file_name) = match source.source {
        Source::Bytes { bytes, file_name } => (bytes, file_name),
        Source::Url(url) => {
            let max_bytes = state.services.config.max_upload_bytes;
            let fetched = state
                .fetcher
                .fetch(&url)
                .await
                .map_err(|err| from_fetch(err, max_bytes))?;
            (fetched.bytes, fetched.file_name)
        }
    };
    if bytes.len() as u64 > state.services.config.max_upload_bytes {
        return Err(ApiError::too_big(state.services.config.max_upload_bytes));
    }
    let input = UploadInput {
        bytes,
        client_file_name,
        options,
        owner,
        uploader_ip: client_ip(req, &state.services.config),
    };
    let uploaded = store(state, input).await?;
    Ok((uploaded, source.is_imgbb))
}

/// Runs the upload service on the blocking pool, processing at most one image per CPU at a
/// time; the slot is given back before the files are synced to disk.
async fn store(state: &AppState, input: UploadInput) -> Result<Uploaded, ApiError> {
    let permit = Arc::clone(&state.image_permits).acquire_owned().await;
    let services = Arc::clone(&state.services);
    let result = web::block(move || {
        let started = Instant::now();
        let stored = upload::store(&services, input, move || drop(permit));
        if stored.is_ok() {
            services.metrics.observe_processing(started.elapsed());
        }
        stored
    })
    .await;
    match result {
        Ok(stored) => Ok(stored?),
        Err(err) => Err(ApiError::internal("the upload task failed", &err)),
    }
}

/// The owner of a key checked before the body was read.
struct EarlyOwner {
    user: UserRecord,
}

/// Checks a key sent in the `X-API-Key` header, or a browser session with its CSRF header,
/// before reading the body, so that a client with a wrong key cannot make the server read and
/// hold one. The header wins over every other place a key can be, so its answer is final. A
/// key in the query string can still be overridden by a `key` body field, so it is checked
/// only after the body (which the body cap bounds). `None` when there is neither a header key
/// nor a CSRF header; a blank key header counts as none.
async fn authenticate_before_body(
    req: &HttpRequest,
    state: &AppState,
) -> Result<Option<EarlyOwner>, ApiError> {
    let header_key = req
        .headers()
        .get("x-api-key")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .filter(|key| !is_blank(key));
    if let Some(key) = header_key {
        let user = verify_key(state, key).await?;
        return Ok(Some(EarlyOwner { user }));
    }
    match req.headers().get(CSRF_HEADER) {
        Some(sent) => session_owner(req, state, sent.as_bytes()).await.map(Some),
        None => Ok(None),
    }
}

/// The owner of a browser upload: the session its cookie names, when the request also carries
/// that session's CSRF token in the header. Only a script on one of this server's pages can
/// set that header, so the cookie alone, which the browser attaches to any request, never
/// authenticates an upload.
async fn session_owner(
    req: &HttpRequest,
    state: &AppState,
    sent_token: &[u8],
) -> Result<EarlyOwner, ApiError> {
    let session = web_session::current(req, state)
        .await
        .map_err(|err| ApiError::internal("looking up a session failed", &err))?
        .ok_or_else(ApiError::no_session)?;
    let sent_token = String::from_utf8_lossy(sent_token);
    if !session.is_csrf_token(sent_token.trim()) {
        tracing::warn!(user = %session.user.username, "a browser upload had a wrong CSRF token");
        return Err(ApiError::bad_csrf_token());
    }
    Ok(EarlyOwner { user: session.user })
}

fn is_blank(key: &str) -> bool {
    key.trim().is_empty()
}

/// The request's owner: the header's key wins, then the body's `key`, then the query's. With
/// no key at all, a request that carries a session cookie is told its page token is missing
/// rather than asked for an API key.
async fn authenticate_after_body(
    req: &HttpRequest,
    state: &AppState,
    fields: &RequestFields,
    early_owner: Option<EarlyOwner>,
) -> Result<UserRecord, ApiError> {
    if let Some(early) = early_owner {
        return Ok(early.user);
    }
    match present_key(&fields.body).or_else(|| present_key(&fields.query)) {
        Some(key) => verify_key(state, key.clone()).await,
        None if web_session::cookie(req, SESSION_COOKIE).is_some() => {
            Err(ApiError::missing_csrf_token())
        }
        None => Err(ApiError::missing_key()),
    }
}

fn present_key(fields: &HashMap<String, String>) -> Option<&String> {
    fields.get("key").filter(|key| !is_blank(key))
}

async fn verify_key(state: &AppState, key: String) -> Result<UserRecord, ApiError> {
    if is_blank(&key) {
        return Err(ApiError::missing_key());
    }
    let services = Arc::clone(&state.services);
    let checked = web::block(move || {
        services
            .db
            .with_conn(|conn| auth::verify_api_key(conn, &services.key_ids, &key))
    })
    .await
    .map_err(|err| ApiError::internal("the key check task failed", &err))?
    .map_err(|err| ApiError::internal("checking an API key failed", &err))?;
    match checked {
        Ok(user) => Ok(user),
        Err(KeyRejection::Invalid) => Err(ApiError::invalid_key()),
        Err(KeyRejection::Revoked) => Err(ApiError::revoked_key()),
    }
}

fn respond(
    req: &HttpRequest,
    state: &AppState,
    uploaded: &Uploaded,
    is_imgbb: bool,
    format: ResponseFormat,
) -> HttpResponse {
    let base = base_url(req, &state.services.config);
    let links = Links::new(&base, &state.services.ids);
    let record = &uploaded.record;
    match format {
        ResponseFormat::Json => HttpResponse::Ok().json(success_body(
            record,
            &links,
            &uploaded.delete_secret,
            is_imgbb,
        )),
        ResponseFormat::Txt => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(links.original(record)),
        ResponseFormat::Redirect => HttpResponse::Found()
            .insert_header((header::LOCATION, links.viewer_path(record)))
            .finish(),
    }
}
