//! The viewer page of an upload and the redirects to its canonical path.

use reqwest::StatusCode;

use crate::helpers::{header, png, spawn_app, str_at};

#[tokio::test]
async fn the_viewer_page_shows_the_image_with_open_graph_tags() {
    let app = spawn_app().await;
    let response = app
        .upload_file_with("a.png", &png(800, 600, 1), &[("title", "Harbour at dusk")])
        .await;
    let image = crate::helpers::expect_image(response).await;

    let page = app.get(str_at(&image, "/url_viewer")).await;

    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        header(&page, "content-type").starts_with("text/html"),
        "{page:?}"
    );
    let html = page.text().await.expect("a page");
    let og_image = format!(
        "<meta property=\"og:image\" content=\"{}\">",
        str_at(&image, "/display_url")
    );
    assert!(html.contains(&og_image), "no {og_image} in\n{html}");
    assert!(html.contains("<h1>Harbour at dusk</h1>"), "{html}");
    assert!(
        html.contains(str_at(&image, "/url")),
        "no link to the original in\n{html}"
    );
}

#[tokio::test]
async fn other_paths_to_an_upload_redirect_permanently_to_the_canonical_one() {
    let app = spawn_app().await;
    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &[("title", "Harbour at dusk")])
        .await;
    let image = crate::helpers::expect_image(response).await;
    let id = str_at(&image, "/id_encoded");
    let canonical = format!("/image/harbour-at-dusk.{id}");
    assert_eq!(str_at(&image, "/path_viewer"), canonical);
    let cases = [
        ("the short URL", str_at(&image, "/url_short").to_string()),
        ("a wrong slug", app.url(&format!("/image/wrong-slug.{id}"))),
        ("a slug with dots", app.url(&format!("/image/a.b.{id}"))),
    ];

    for (case, url) in cases {
        let response = app.get(&url).await;

        assert_eq!(response.status(), StatusCode::MOVED_PERMANENTLY, "{case}");
        assert_eq!(header(&response, "location"), canonical, "{case}");
    }
}

#[tokio::test]
async fn an_upload_without_a_title_has_its_viewer_at_the_short_path() {
    let app = spawn_app().await;

    let form = reqwest::multipart::Form::new()
        .part("source", reqwest::multipart::Part::bytes(png(32, 32, 1)));
    let image = crate::helpers::expect_image(app.upload_form(form).await).await;

    let id = str_at(&image, "/id_encoded");
    assert_eq!(image["title"], serde_json::Value::Null);
    assert_eq!(str_at(&image, "/path_viewer"), format!("/image/{id}"));
    assert_eq!(
        app.status_of(str_at(&image, "/url_short")).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_viewer_ids_answer_404() {
    let app = spawn_app().await;
    let never_used = app.services.ids.encode(4242);
    let cases = [
        format!("/image/{never_used}"),
        format!("/image/some-title.{never_used}"),
        "/image/!!!".to_string(),
        "/image/".to_string(),
        "/image/x.".to_string(),
    ];

    for path in cases {
        let response = app.get(&app.url(&path)).await;

        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn unknown_image_files_answer_404() {
    let app = spawn_app().await;
    let image = app.upload_file("photo.png", &png(32, 32, 1)).await;
    let url = str_at(&image, "/url");
    let cases = [
        url.replace(".png", ".gif"),
        url.replace(".png", ".xx.png"),
        app.url("/images/2020/01/01/nothing.png"),
        app.url("/images/../sajin.db"),
        app.url("/images/%2e%2e/sajin.db"),
        app.url("/sajin.db"),
    ];

    for url in cases {
        let status = app.status_of(&url).await;

        assert_eq!(status, StatusCode::NOT_FOUND, "{url}");
    }
}
