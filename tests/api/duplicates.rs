//! The duplicate policy: every upload is its own by default; Chevereto's refusal on request,
//! counted per client address (the forwarded one only behind a trusted proxy).

use sajin::config::DuplicatePolicy;

use crate::helpers::{
    expect_api_error, expect_image, file_form, png, spawn_app, spawn_app_with, TestApp,
};

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

/// Uploads `bytes` with the given `X-Forwarded-For` headers; returns the answer's status.
async fn upload_forwarded_for(app: &TestApp, bytes: &[u8], forwarded: &[&str]) -> u16 {
    let mut request = app
        .client
        .post(app.url("/api/1/upload"))
        .header("X-API-Key", &app.api_key)
        .multipart(file_form("a.png", bytes));
    for value in forwarded {
        request = request.header("X-Forwarded-For", *value);
    }
    let response = request.send().await.expect("the upload is answered");
    response.status().as_u16()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_duplicate_policy_counts_the_forwarded_client() {
    let app = spawn_app_with(|config| {
        config.duplicate_policy = DuplicatePolicy::Reject;
        config.trust_proxy = true;
    })
    .await;
    let bytes = png(32, 32, 1);
    let cases: [(&str, &[&str], u16); 6] = [
        ("the first client", &["203.0.113.5"], 200),
        ("another client", &["203.0.113.6"], 200),
        (
            "the first again, with a forged entry in front",
            &["198.51.100.7, 203.0.113.5"],
            400,
        ),
        (
            "the first again, the header sent twice",
            &["198.51.100.7", "203.0.113.5"],
            400,
        ),
        (
            "the first again, with a port and after an unknown hop",
            &["unknown, 203.0.113.5:4711"],
            400,
        ),
        ("no header: the proxy's own address", &[], 200),
    ];

    for (case, forwarded, status) in cases {
        assert_eq!(
            upload_forwarded_for(&app, &bytes, forwarded).await,
            status,
            "{case}"
        );
    }
    let mut stored_ips: Vec<String> = app
        .services
        .db
        .with_conn(|conn| {
            let mut statement = conn.prepare("SELECT uploader_ip FROM uploads ORDER BY id")?;
            let ips = statement.query_map([], |row| row.get(0))?;
            Ok(ips.collect::<Result<Vec<String>, _>>()?)
        })
        .expect("the database answers");
    stored_ips.sort();
    assert_eq!(stored_ips, ["127.0.0.1", "203.0.113.5", "203.0.113.6"]);
}

#[tokio::test]
async fn without_trust_proxy_a_forwarded_for_header_does_not_dodge_the_duplicate_policy() {
    let app = spawn_app_with(|config| config.duplicate_policy = DuplicatePolicy::Reject).await;
    let bytes = png(32, 32, 1);

    let first = upload_forwarded_for(&app, &bytes, &["203.0.113.5"]).await;
    let second = upload_forwarded_for(&app, &bytes, &["203.0.113.6"]).await;

    assert_eq!((first, second), (200, 400));
}
