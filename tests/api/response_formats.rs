//! The `format` parameter: JSON (the default), plain text, and a redirect to the viewer.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_api_error, header, png, spawn_app};

#[tokio::test]
async fn format_txt_answers_the_image_url_as_plain_text() {
    let app = spawn_app().await;
    let bytes = png(32, 32, 1);

    let response = app
        .upload_file_with("a.png", &bytes, &[("format", "txt")])
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        header(&response, "content-type").starts_with("text/plain"),
        "{response:?}"
    );
    let url = response.text().await.expect("a body");
    assert!(
        url.starts_with(&app.url("/images/")) && url.ends_with(".png"),
        "{url}"
    );
    assert_eq!(app.get_bytes(&url).await, bytes);
}

#[tokio::test]
async fn format_txt_in_the_query_string_is_honoured() {
    let app = spawn_app().await;
    let bytes = png(32, 32, 2);

    let form = crate::helpers::file_form("a.png", &bytes);
    let response = app
        .upload_form_at("format=txt", Some(&app.api_key), form)
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let url = response.text().await.expect("a body");
    assert_eq!(app.get_bytes(&url).await, bytes);
}

#[tokio::test]
async fn format_redirect_answers_302_to_the_viewer_path() {
    let app = spawn_app().await;

    let fields = [("format", "redirect"), ("title", "Red door")];
    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &fields)
        .await;

    assert_eq!(response.status(), StatusCode::FOUND);
    let location = header(&response, "location");
    assert!(location.starts_with("/image/red-door."), "{location}");
    let page = app.get(&app.url(&location)).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(app.row_count(), 1);
}

#[tokio::test]
async fn an_unknown_format_is_refused_with_a_json_error_and_stores_nothing() {
    let app = spawn_app().await;
    let before = app.snapshot();

    for format in ["xml", "html", "JSON "] {
        let response = app
            .upload_file_with("a.png", &png(32, 32, 1), &[("format", format)])
            .await;

        let message = expect_api_error(response, 400, 400).await;
        assert!(message.contains("format"), "format={format:?}: {message}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn errors_asked_for_as_txt_are_plain_text_with_a_4xx_status() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let cases = [
        (
            "a bad key",
            "key=chv_wrong_key&format=txt",
            StatusCode::UNAUTHORIZED,
        ),
        ("an empty source", "format=txt", StatusCode::BAD_REQUEST),
    ];

    for (case, query, status) in cases {
        let mut request = app.client.post(app.url(&format!("/api/1/upload?{query}")));
        if !query.contains("key=") {
            request = request.header("X-API-Key", &app.api_key);
        }
        let response = request
            .form(&[("source", "")])
            .send()
            .await
            .expect("answered");

        assert_eq!(response.status(), status, "{case}");
        assert!(
            header(&response, "content-type").starts_with("text/plain"),
            "{case}"
        );
        let text = response.text().await.expect("a body");
        assert!(!text.is_empty(), "{case}");
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "{case}: JSON body {text}"
        );
        app.assert_nothing_stored(&before);
    }
}
