//! CPU-heavy request work runs on the blocking pool, so one large upload does not stall the
//! other requests its worker serves. The test server has a single worker.

use std::time::{Duration, Instant};

use crate::helpers::{expect_api_error, spawn_app};

/// Health checks answered this late mean the worker was busy computing, not waiting.
const MAX_STALL: Duration = Duration::from_millis(300);

#[tokio::test]
async fn a_full_size_base64_upload_does_not_stall_other_requests() {
    let app = spawn_app().await;
    // Base64 of 20 MB of zeros: nothing to percent-encode, so the body is the whole limit's
    // worth of text to parse and decode.
    let body = format!("source={}", "A".repeat(26_666_664));
    let upload = app
        .client
        .post(app.url("/api/1/upload"))
        .header("X-API-Key", &app.api_key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send();
    let mut upload = std::pin::pin!(upload);
    let mut slowest = Duration::ZERO;

    let response = loop {
        tokio::select! {
            response = &mut upload => break response.expect("the upload is answered"),
            _ = tokio::time::sleep(Duration::from_millis(10)) => {
                let started = Instant::now();
                let status = app.status_of(&app.url("/healthz")).await;
                assert!(status.is_success(), "{status}");
                slowest = slowest.max(started.elapsed());
            }
        }
    };

    eprintln!("slowest health check during the upload: {slowest:?}");
    expect_api_error(response, 400, 610).await;
    assert!(slowest < MAX_STALL, "a health check took {slowest:?}");
}
