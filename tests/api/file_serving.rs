//! The HTTP side of serving stored files: conditional requests, ranges, HEAD and caching.

use reqwest::StatusCode;

use crate::helpers::{expect_image, header, png, spawn_app, str_at};

#[tokio::test]
async fn a_request_with_the_current_etag_answers_304() {
    let app = spawn_app().await;
    let image = app.upload_file("a.png", &png(32, 32, 1)).await;
    let url = str_at(&image, "/url");
    let etag = header(&app.get(url).await, "etag");

    let response = app
        .client
        .get(url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("ok");

    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert!(response.bytes().await.expect("body").is_empty());
}

#[tokio::test]
async fn a_range_past_the_end_answers_416() {
    let app = spawn_app().await;
    let bytes = png(32, 32, 1);
    let image = app.upload_file("a.png", &bytes).await;

    let range = format!("bytes={}-", bytes.len() + 10);
    let response = app
        .client
        .get(str_at(&image, "/url"))
        .header("Range", range)
        .send()
        .await
        .expect("ok");

    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn head_on_an_image_url_answers_like_get_without_a_body() {
    let app = spawn_app().await;
    let bytes = png(32, 32, 1);
    let image = app.upload_file("a.png", &bytes).await;

    let response = app
        .client
        .head(str_at(&image, "/url"))
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(header(&response, "content-length"), bytes.len().to_string());
}

#[tokio::test]
async fn head_on_the_viewer_page_answers_200() {
    let app = spawn_app().await;
    let image = app.upload_file("a.png", &png(32, 32, 1)).await;

    let response = app
        .client
        .head(str_at(&image, "/url_viewer"))
        .send()
        .await
        .expect("answer");

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn permanent_uploads_are_cached_for_a_year_and_expiring_ones_until_they_expire() {
    let app = spawn_app().await;
    let permanent = app.upload_file("a.png", &png(32, 32, 1)).await;
    let response = app
        .upload_file_with("b.png", &png(32, 32, 2), &[("expiration", "PT5M")])
        .await;
    let expiring = expect_image(response).await;

    let permanent_cache = header(&app.get(str_at(&permanent, "/url")).await, "cache-control");
    let expiring_cache = header(&app.get(str_at(&expiring, "/url")).await, "cache-control");

    assert_eq!(permanent_cache, "public, max-age=31536000");
    let max_age: u32 = expiring_cache
        .strip_prefix("public, max-age=")
        .and_then(|age| age.parse().ok())
        .unwrap_or_else(|| panic!("unexpected Cache-Control {expiring_cache:?}"));
    assert!((290..=300).contains(&max_age), "{expiring_cache}");
}
