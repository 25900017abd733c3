//! A measurement, not a check: how long other requests wait while one worker takes a
//! full-size base64 upload. CPU-heavy request work runs on the blocking pool, so the figure
//! should stay near a normal health check's time; were the parsing on the worker thread, it
//! would grow to the parse time. The test server has a single worker. Run it with
//! `cargo test --test api executor_stalls -- --ignored --nocapture`.

use std::time::{Duration, Instant};

use crate::helpers::{expect_api_error, spawn_app};

#[tokio::test]
#[ignore = "a timing, not a check"]
async fn the_slowest_health_check_during_a_full_size_base64_upload_is_timed() {
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

    expect_api_error(response, 400, 610).await;
    println!("slowest health check during the upload: {slowest:?}");
}
