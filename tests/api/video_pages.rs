//! A video's pages and files: the player page, the redirects to it, seeking with Range
//! requests, and deleting or purging every file of it.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use sajin::purge::purge_expired;

use crate::helpers::{expect_image, header, spawn_app, spawn_app_with, str_at, TestApp};
use crate::video_clips::{test_pattern, Clip};

async fn upload_titled(app: &TestApp, bytes: &[u8]) -> Value {
    let response = app
        .upload_file_with("clip.mp4", bytes, &[("title", "Surf at noon")])
        .await;
    expect_image(response).await
}

/// Every file of an upload, by the URLs in its answer.
fn file_urls(video: &Value) -> Vec<String> {
    ["/url", "/url_frame", "/thumb/url", "/medium/url"]
        .into_iter()
        .map(|pointer| str_at(video, pointer).to_string())
        .collect()
}

#[tokio::test]
async fn the_video_page_has_a_player_with_the_frame_as_poster() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 2) else {
        return;
    };
    let app = spawn_app().await;
    let video = upload_titled(&app, &bytes).await;
    let id = str_at(&video, "/id_encoded");
    assert_eq!(
        str_at(&video, "/url_viewer"),
        app.url(&format!("/video/surf-at-noon.{id}"))
    );

    let page = app.get(str_at(&video, "/url_viewer")).await;

    assert_eq!(page.status(), StatusCode::OK);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let html = page.text().await.expect("a page");
    let player = format!("<video src=\"{}\"", str_at(&video, "/url"));
    assert!(html.contains(&player), "no {player} in\n{html}");
    assert!(html.contains("controls"), "{html}");
    let poster = format!("poster=\"{}\"", str_at(&video, "/display_url"));
    assert!(html.contains(&poster), "no {poster} in\n{html}");
    assert!(html.contains("<meta property=\"og:video\""), "{html}");
    assert!(html.contains("00:02"), "{html}");
}

#[tokio::test]
async fn image_and_short_paths_of_a_video_redirect_to_its_video_page() {
    let Some(bytes) = test_pattern(Clip::Mp4, 320, 240, 1) else {
        return;
    };
    let app = spawn_app().await;
    let video = upload_titled(&app, &bytes).await;
    let id = str_at(&video, "/id_encoded");
    let canonical = format!("/video/surf-at-noon.{id}");
    let cases = [
        format!("/image/{id}"),
        format!("/image/surf-at-noon.{id}"),
        format!("/video/{id}"),
        format!("/video/wrong.{id}"),
    ];

    for path in cases {
        let response = app.get(&app.url(&path)).await;

        assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY, "{path}");
        assert_eq!(header(&response, "location"), canonical, "{path}");
    }
}

#[tokio::test]
async fn an_image_under_the_video_prefix_redirects_to_its_image_page() {
    let app = spawn_app().await;
    let image = app
        .upload_file("a.png", &crate::helpers::png(32, 32, 1))
        .await;
    let id = str_at(&image, "/id_encoded");

    let response = app.get(&app.url(&format!("/video/{id}"))).await;

    assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY);
    assert_eq!(
        header(&response, "location"),
        str_at(&image, "/path_viewer")
    );
}

#[tokio::test]
async fn a_video_is_served_with_its_type_and_seeks_with_range_requests() {
    let cases = [
        (Clip::Mp4, "clip.mp4", "video/mp4"),
        (Clip::WebM, "clip.webm", "video/webm"),
        (Clip::Mov, "clip.mov", "video/quicktime"),
    ];
    let app = spawn_app().await;

    for (clip, name, mime) in cases {
        let Some(bytes) = test_pattern(clip, 320, 240, 2) else {
            return;
        };
        let video = app.upload_file(name, &bytes).await;
        let url = str_at(&video, "/url");

        let whole = app.get(url).await;
        assert_eq!(header(&whole, "content-type"), mime, "{name}");
        assert_eq!(
            header(&whole, "x-content-type-options"),
            "nosniff",
            "{name}"
        );
        assert_eq!(header(&whole, "accept-ranges"), "bytes", "{name}");

        let middle = bytes.len() / 2;
        let range = format!("bytes={middle}-{}", middle + 99);
        let part = app
            .client
            .get(url)
            .header("Range", range)
            .send()
            .await
            .expect("answered");

        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT, "{name}");
        let expected_range = format!("bytes {middle}-{}/{}", middle + 99, bytes.len());
        assert_eq!(header(&part, "content-range"), expected_range, "{name}");
        let body = part.bytes().await.expect("the part");
        assert_eq!(&body[..], &bytes[middle..middle + 100], "{name}");
    }
}

#[tokio::test]
async fn deleting_a_video_removes_its_frame_with_every_other_file() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 1) else {
        return;
    };
    let app = spawn_app().await;
    let video = upload_titled(&app, &bytes).await;
    assert_eq!(app.snapshot().files.len(), 4);

    let response = app
        .client
        .delete(str_at(&video, "/delete_url"))
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.snapshot().files.len(), 0, "{:?}", app.snapshot());
    assert_eq!(app.row_count(), 0);
    for url in file_urls(&video) {
        assert_eq!(app.status_of(&url).await, StatusCode::NOT_FOUND, "{url}");
    }
    assert_eq!(
        app.status_of(str_at(&video, "/url_viewer")).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_delete_page_of_a_video_asks_first() {
    let Some(bytes) = test_pattern(Clip::Mp4, 320, 240, 1) else {
        return;
    };
    let app = spawn_app().await;
    let video = upload_titled(&app, &bytes).await;

    let page = app.get(str_at(&video, "/delete_url")).await;

    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("a page");
    assert!(html.contains(str_at(&video, "/thumb/url")), "{html}");
    assert_eq!(app.snapshot().files.len(), 3);
}

#[tokio::test]
async fn the_purge_removes_an_expired_video_and_its_frame() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 1) else {
        return;
    };
    let app = spawn_app_with(|config| config.purge_interval = Duration::from_secs(86_400)).await;
    let response = app
        .upload_file_with("clip.mp4", &bytes, &[("expiration", "PT5M")])
        .await;
    let video = expect_image(response).await;
    let record = app.record(str_at(&video, "/id_encoded")).expect("the row");
    app.execute_sql(
        "UPDATE uploads SET expires_at = 1 WHERE id = ?1",
        [record.id],
    );

    let services = Arc::clone(&app.services);
    let removed = tokio::task::spawn_blocking(move || purge_expired(&services))
        .await
        .expect("the purge finishes")
        .expect("the purge pass succeeds");

    assert_eq!(removed, 1);
    assert!(app.snapshot().files.is_empty(), "{:?}", app.snapshot());
}

#[tokio::test]
async fn format_redirect_sends_a_video_to_its_video_page() {
    let Some(bytes) = test_pattern(Clip::Mp4, 320, 240, 1) else {
        return;
    };
    let app = spawn_app().await;

    let response = app
        .upload_file_with("clip.mp4", &bytes, &[("format", "redirect")])
        .await;

    assert_eq!(response.status(), StatusCode::FOUND);
    assert!(header(&response, "location").starts_with("/video/clip."));
}
