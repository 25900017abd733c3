//! Expiring uploads: gone from every URL the moment they expire, and from disk at the purge.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use sajin::purge::purge_expired;
use sajin::upload::Services;

use crate::helpers::{expect_image, png, spawn_app_with, str_at, TestApp};

/// A server whose own purge timer does not fire during a test, so the test decides when the
/// purge runs.
async fn app_without_timed_purge() -> TestApp {
    spawn_app_with(|config| config.purge_interval = Duration::from_secs(24 * 60 * 60)).await
}

async fn purge(services: &Arc<Services>) -> usize {
    let services = Arc::clone(services);
    tokio::task::spawn_blocking(move || purge_expired(&services))
        .await
        .expect("the purge task finishes")
        .expect("the purge pass succeeds")
}

async fn upload_expiring(app: &TestApp, seed: u8) -> Value {
    let bytes = png(800, 600, seed);
    let response = app
        .upload_file_with("photo.png", &bytes, &[("expiration", "PT5M")])
        .await;
    expect_image(response).await
}

/// Moves an upload's expiry into the past, as if its time had run out.
fn expire_now(app: &TestApp, image: &Value) {
    let record = app.record(str_at(image, "/id_encoded")).expect("the row");
    let changed = app.execute_sql(
        "UPDATE uploads SET expires_at = 1 WHERE id = ?1",
        [record.id],
    );
    assert_eq!(changed, 1);
}

fn urls(image: &Value) -> Vec<String> {
    [
        "/url",
        "/thumb/url",
        "/medium/url",
        "/url_viewer",
        "/url_short",
        "/delete_url",
    ]
    .into_iter()
    .map(|pointer| str_at(image, pointer).to_string())
    .collect()
}

#[tokio::test]
async fn an_expired_upload_answers_404_everywhere_before_the_purge() {
    let app = app_without_timed_purge().await;
    let image = upload_expiring(&app, 1).await;
    for url in urls(&image) {
        let status = app.status_of(&url).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "{url} before expiry: {status}"
        );
    }

    expire_now(&app, &image);

    for url in urls(&image) {
        assert_eq!(
            app.status_of(&url).await,
            StatusCode::NOT_FOUND,
            "{url} after expiry"
        );
    }
    let delete = app
        .client
        .delete(str_at(&image, "/delete_url"))
        .send()
        .await
        .expect("answer");
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.snapshot().files.len(),
        3,
        "the files wait for the purge"
    );
}

#[tokio::test]
async fn the_purge_removes_expired_uploads_and_leaves_the_others() {
    let app = app_without_timed_purge().await;
    let expired = upload_expiring(&app, 1).await;
    let still_running = upload_expiring(&app, 2).await;
    let permanent = app.upload_file("keep.png", &png(800, 600, 3)).await;
    expire_now(&app, &expired);
    let expired_files: Vec<_> = ["/url", "/thumb/url", "/medium/url"]
        .into_iter()
        .map(|pointer| app.disk_path(str_at(&expired, pointer)))
        .collect();

    let removed = purge(&app.services).await;

    assert_eq!(removed, 1);
    for file in &expired_files {
        assert!(!file.exists(), "{} survived the purge", file.display());
    }
    assert!(app.record(str_at(&expired, "/id_encoded")).is_none());
    assert_eq!(app.row_count(), 2);
    assert_eq!(app.snapshot().files.len(), 6);
    for image in [&still_running, &permanent] {
        assert_eq!(app.status_of(str_at(image, "/url")).await, StatusCode::OK);
        assert_eq!(
            app.status_of(str_at(image, "/url_viewer")).await,
            StatusCode::OK
        );
    }
    assert_eq!(purge(&app.services).await, 0, "a second pass finds nothing");
}

#[tokio::test]
async fn the_purge_removes_the_row_of_an_upload_whose_files_were_already_deleted_by_hand() {
    let app = app_without_timed_purge().await;
    let image = upload_expiring(&app, 1).await;
    expire_now(&app, &image);
    for file in app.snapshot().files {
        std::fs::remove_file(file).expect("the file is removed by hand");
    }

    assert_eq!(purge(&app.services).await, 1);

    assert_eq!(app.row_count(), 0);
    assert_eq!(purge(&app.services).await, 0);
}

#[tokio::test]
async fn the_purge_timer_removes_uploads_that_expired_before_start_up() {
    let app = app_without_timed_purge().await;
    let image = upload_expiring(&app, 1).await;
    expire_now(&app, &image);
    let data_dir = app.stop().await;

    let restarted = crate::helpers::spawn_app_in(data_dir, |_| {}).await;

    // The purge removes the row first and the files after it, so wait for both.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let is_done = || restarted.row_count() == 0 && restarted.snapshot().files.is_empty();
    while !is_done() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        restarted.row_count(),
        0,
        "the start-up purge pass did not run"
    );
    assert!(restarted.snapshot().files.is_empty());
}

#[tokio::test]
async fn a_file_the_purge_cannot_remove_does_not_keep_the_other_expired_uploads() {
    let app = app_without_timed_purge().await;
    let stuck = upload_expiring(&app, 1).await;
    let other = upload_expiring(&app, 2).await;
    expire_now(&app, &stuck);
    expire_now(&app, &other);
    // A non-empty folder where the original should be: removing it as a file fails, even as
    // root, where permissions would not.
    let stuck_original = app.disk_path(str_at(&stuck, "/url"));
    std::fs::remove_file(&stuck_original).expect("the original is removed by hand");
    std::fs::create_dir_all(stuck_original.join("in-the-way")).expect("a folder is made");

    assert_eq!(purge(&app.services).await, 2);

    assert_eq!(app.row_count(), 0);
    for image in [&stuck, &other] {
        for pointer in ["/thumb/url", "/medium/url"] {
            let file = app.disk_path(str_at(image, pointer));
            assert!(!file.exists(), "{} survived the purge", file.display());
        }
    }
    assert!(
        stuck_original.is_dir(),
        "only the folder in the way is left"
    );
}
