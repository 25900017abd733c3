//! The delete link handed out with every upload: a confirmation page on GET, deletion on POST
//! or DELETE, and nothing at all for a wrong secret.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{header, png, spawn_app, str_at, TestApp};

/// The URLs of an upload that must stop answering once it is deleted.
fn public_urls(image: &Value) -> Vec<String> {
    [
        "/url",
        "/thumb/url",
        "/medium/url",
        "/url_viewer",
        "/url_short",
    ]
    .into_iter()
    .map(|pointer| str_at(image, pointer).to_string())
    .collect()
}

async fn upload(app: &TestApp) -> Value {
    app.upload_file("photo.png", &png(800, 600, 1)).await
}

#[tokio::test]
async fn opening_the_delete_link_shows_a_confirmation_form_and_deletes_nothing() {
    let app = spawn_app().await;
    let image = upload(&app).await;
    let before = app.snapshot();

    let page = app.get(str_at(&image, "/delete_url")).await;

    assert_eq!(page.status(), StatusCode::OK);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let html = page.text().await.expect("a page");
    assert!(html.contains("<form method=\"post\">"), "{html}");
    assert!(html.contains("noindex"), "{html}");
    assert_eq!(app.snapshot(), before);
    assert_eq!(app.status_of(str_at(&image, "/url")).await, StatusCode::OK);
}

#[tokio::test]
async fn posting_to_the_delete_link_removes_the_files_the_row_and_every_url() {
    let app = spawn_app().await;
    let image = upload(&app).await;
    let files: Vec<_> = app.snapshot().files.into_iter().collect();
    assert_eq!(files.len(), 3);

    let response = app
        .client
        .post(str_at(&image, "/delete_url"))
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("a page");
    assert!(html.contains("Deleted"), "{html}");
    for url in public_urls(&image) {
        assert_eq!(app.status_of(&url).await, StatusCode::NOT_FOUND, "{url}");
    }
    for file in files {
        assert!(!file.exists(), "{} is still on disk", file.display());
    }
    assert_eq!(app.row_count(), 0);
    assert!(app.record(str_at(&image, "/id_encoded")).is_none());
}

#[tokio::test]
async fn http_delete_on_the_delete_link_answers_json_and_removes_the_upload() {
    let app = spawn_app().await;
    let image = upload(&app).await;

    let response = app
        .client
        .delete(str_at(&image, "/delete_url"))
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["status_code"], Value::from(200));
    assert_eq!(body["status_txt"], "OK");
    assert_eq!(app.row_count(), 0);
    assert!(app.snapshot().files.is_empty());
    assert_eq!(
        app.status_of(str_at(&image, "/url")).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_used_delete_link_answers_404() {
    let app = spawn_app().await;
    let image = upload(&app).await;
    let delete_url = str_at(&image, "/delete_url");
    let first = app
        .client
        .delete(delete_url)
        .send()
        .await
        .expect("answered");
    assert_eq!(first.status(), StatusCode::OK);

    let again = app.client.post(delete_url).send().await.expect("answered");

    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.status_of(delete_url).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_wrong_secret_answers_404_to_every_method_and_deletes_nothing() {
    let app = spawn_app().await;
    let image = upload(&app).await;
    let other = upload(&app).await;
    let delete_url = str_at(&image, "/delete_url");
    let mut changed = delete_url.to_string();
    let last = changed.pop().expect("a secret");
    changed.push(if last == '0' { '1' } else { '0' });
    let (secret_start, _) = delete_url.rsplit_once('/').expect("a secret segment");
    let other_secret = str_at(&other, "/delete_url")
        .rsplit('/')
        .next()
        .expect("a secret");
    let cases = [
        ("one character changed", changed.clone()),
        (
            "another upload's secret",
            format!("{secret_start}/{other_secret}"),
        ),
        ("a short secret", format!("{secret_start}/abc")),
    ];
    let before = app.snapshot();

    for (case, url) in cases {
        assert_eq!(
            app.status_of(&url).await,
            StatusCode::NOT_FOUND,
            "GET, {case}"
        );
        let post = app.client.post(&url).send().await.expect("answered");
        assert_eq!(post.status(), StatusCode::NOT_FOUND, "POST, {case}");
        let delete = app.client.delete(&url).send().await.expect("answered");
        assert_eq!(delete.status(), StatusCode::NOT_FOUND, "DELETE, {case}");
    }

    assert_eq!(app.snapshot(), before);
    assert_eq!(app.status_of(str_at(&image, "/url")).await, StatusCode::OK);
    assert_eq!(
        app.status_of(str_at(&image, "/url_viewer")).await,
        StatusCode::OK
    );
}
