//! The duplicate policy: every upload is its own by default; Chevereto's refusal on request.

use sajin::config::DuplicatePolicy;

use crate::helpers::{expect_api_error, expect_image, png, spawn_app, spawn_app_with};

#[tokio::test]
async fn by_default_the_same_bytes_may_be_uploaded_twice() {
    let app = spawn_app().await;
    let bytes = png(32, 32, 1);

    let first = app.upload_file("a.png", &bytes).await;
    let second = app.upload_file("a.png", &bytes).await;

    assert_ne!(first["id_encoded"], second["id_encoded"]);
    assert_ne!(first["url"], second["url"]);
    assert_eq!(app.row_count(), 2);
}

#[tokio::test]
async fn with_the_reject_policy_a_second_identical_upload_is_refused_with_code_101() {
    let app = spawn_app_with(|config| config.duplicate_policy = DuplicatePolicy::Reject).await;
    let bytes = png(32, 32, 1);
    app.upload_file("a.png", &bytes).await;
    let before = app.snapshot();

    let response = app
        .upload_file_with("renamed.png", &bytes, &[("title", "again")])
        .await;

    let message = expect_api_error(response, 400, 101).await;
    assert_eq!(message, "Duplicated upload");
    assert_eq!(app.row_count(), 1);
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn with_the_reject_policy_different_bytes_are_still_accepted() {
    let app = spawn_app_with(|config| config.duplicate_policy = DuplicatePolicy::Reject).await;

    app.upload_file("a.png", &png(32, 32, 1)).await;
    let response = app.upload_file_with("a.png", &png(32, 32, 2), &[]).await;

    expect_image(response).await;
    assert_eq!(app.row_count(), 2);
}

#[tokio::test]
async fn with_the_reject_policy_concurrent_identical_uploads_store_exactly_one() {
    let app = spawn_app_with(|config| config.duplicate_policy = DuplicatePolicy::Reject).await;
    let bytes = png(64, 64, 1);

    let uploads = (0..6).map(|_| app.upload_file_with("a.png", &bytes, &[]));
    let answers = futures_util::future::join_all(uploads).await;

    let mut statuses: Vec<u16> = answers
        .iter()
        .map(|response| response.status().as_u16())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400, 400, 400, 400, 400]);
    assert_eq!(app.row_count(), 1);
    assert_eq!(app.snapshot().files.len(), 2);
    assert!(app.tmp_files().is_empty());
}
