//! `GET /healthz`: whether the database answers and the data directory is writable.

use std::sync::Arc;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db::uploads;
use crate::startup::AppState;

/// Answers 200 when healthy, 503 with the failing check otherwise.
pub async fn check(state: web::Data<AppState>) -> HttpResponse {
    let services = Arc::clone(&state.services);
    let result = web::block(move || {
        let uploads = services
            .db
            .with_conn(|conn| uploads::count(conn))
            .map_err(|_| "database")?;
        let probe = services.storage.root().join("tmp").join(".healthz");
        std::fs::write(&probe, b"ok").map_err(|_| "data directory not writable")?;
        let _ = std::fs::remove_file(&probe);
        Ok::<u64, &'static str>(uploads)
    })
    .await;
    match result {
        Ok(Ok(uploads)) => {
            tracing::debug!(uploads, "health check passed");
            HttpResponse::Ok().json(json!({ "status": "ok", "uploads": uploads }))
        }
        Ok(Err(failed)) => {
            tracing::warn!(failed, "health check failed");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "error", "failed": failed }))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({ "status": "error" })),
    }
}
