//! `GET /metrics`: the Prometheus text page, for loopback clients and admins by default.
//!
//! A request counts as local when it comes from a loopback address and carries no
//! `X-Forwarded-For` or `Forwarded` header: a reverse proxy on the same machine connects from
//! loopback too, and it says so by adding one of those headers. Anyone else needs an admin's
//! key in `X-API-Key`, unless `metrics_public` opens the page to all.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use crate::api::error::ApiError;
use crate::api::params::ResponseFormat;
use crate::auth;
use crate::db::uploads;
use crate::db::users::Role;
use crate::metrics::{Readings, CONTENT_TYPE};
use crate::startup::AppState;
use crate::upload::Services;

/// The metrics page, or 401/403 in the API's error shape.
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let key = req
        .headers()
        .get("x-api-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let is_open = state.services.config.metrics_public || is_local(&req);
    let services = Arc::clone(&state.services);
    let result = web::block(move || {
        let access = if is_open {
            Access::Granted
        } else {
            access_for(&services, key)
        };
        (access, read(&services))
    })
    .await;
    let (access, readings) = match result {
        Ok(answer) => answer,
        Err(_) => {
            return denied(
                StatusCode::INTERNAL_SERVER_ERROR,
                500,
                "Internal server error",
            )
        }
    };
    match access {
        Access::Granted => HttpResponse::Ok()
            .content_type(CONTENT_TYPE)
            .body(state.services.metrics.render(&readings)),
        Access::NoKey => denied(
            StatusCode::UNAUTHORIZED,
            100,
            "Metrics are for loopback clients and admins: send an admin's key in X-API-Key",
        ),
        Access::NotAdmin => denied(
            StatusCode::FORBIDDEN,
            403,
            "Metrics are for admins: this API key's user is not one",
        ),
    }
}

enum Access {
    Granted,
    NoKey,
    NotAdmin,
}

fn is_local(req: &HttpRequest) -> bool {
    let is_loopback = req.peer_addr().is_some_and(|addr| addr.ip().is_loopback());
    let headers = req.headers();
    is_loopback && !headers.contains_key("x-forwarded-for") && !headers.contains_key("forwarded")
}

/// Whether `key` belongs to a live admin. Blocks.
fn access_for(services: &Services, key: Option<String>) -> Access {
    let Some(key) = key.filter(|key| !key.trim().is_empty()) else {
        return Access::NoKey;
    };
    let checked = services
        .db
        .with_conn(|conn| auth::verify_api_key(conn, &services.key_ids, &key));
    match checked {
        Ok(Ok(user)) if user.role == Role::Admin => Access::Granted,
        Ok(Ok(_)) => Access::NotAdmin,
        _ => Access::NoKey,
    }
}

/// The gauges' values now; a reading that fails shows as 0 and is logged.
fn read(services: &Services) -> Readings {
    let stored_bytes = services
        .db
        .with_conn(|conn| uploads::stored_bytes(conn))
        .unwrap_or_else(|err| {
            tracing::warn!(error = %err, "metrics: could not sum the stored bytes");
            0
        });
    let disk = services.disk_status().ok();
    Readings {
        stored_bytes,
        disk_free_bytes: disk.map_or(0, |disk| disk.space.available_bytes),
        disk_reserve_bytes: disk.map_or(0, |disk| disk.reserve_bytes),
    }
}

fn denied(status: StatusCode, code: u32, message: &str) -> HttpResponse {
    ApiError::new(status, code, message).respond(ResponseFormat::Json)
}
