//! `GET /healthz`: whether the database answers, the data directory is writable and the free
//! space is above the reserve.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use crate::db::uploads;
use crate::startup::AppState;
use crate::storage::TMP_DIR;
use crate::upload::Services;

/// Answers 200 when healthy, 503 naming the failing check otherwise.
pub async fn check(state: web::Data<AppState>) -> HttpResponse {
    let services = Arc::clone(&state.services);
    match web::block(move || run_checks(&services)).await {
        Ok(Ok(body)) => {
            tracing::debug!(%body, "health check passed");
            HttpResponse::Ok().json(body)
        }
        Ok(Err(body)) => {
            tracing::warn!(%body, "health check failed");
            HttpResponse::ServiceUnavailable().json(body)
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({ "status": "error" })),
    }
}

/// The checks in order; the first that fails names itself in `failed`.
fn run_checks(services: &Services) -> Result<Value, Value> {
    let failed = |check: &str| json!({ "status": "error", "failed": check });
    let uploads = services
        .db
        .with_conn(|conn| uploads::count(conn))
        .map_err(|_| failed("database"))?;
    let probe = services.storage.root().join(TMP_DIR).join(".healthz");
    std::fs::write(&probe, b"ok").map_err(|_| failed("data directory not writable"))?;
    let _ = std::fs::remove_file(&probe);
    let disk = services
        .disk_status()
        .map_err(|_| failed("free space unreadable"))?;
    let mut body = json!({
        "status": "ok",
        "uploads": uploads,
        "free_bytes": disk.space.available_bytes,
        "reserve_bytes": disk.reserve_bytes,
    });
    if !disk.is_above_reserve() {
        body["status"] = "error".into();
        body["failed"] = "free space below the reserve".into();
        return Err(body);
    }
    Ok(body)
}
