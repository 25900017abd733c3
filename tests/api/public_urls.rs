//! How absolute links are rooted: the request's Host, a trusted proxy's forwarded headers, or
//! the configured `public_url`.

use serde_json::Value;

use crate::helpers::{file_form, png, spawn_app, spawn_app_with, str_at, TestApp};

const URL_FIELDS: [&str; 8] = [
    "/url",
    "/image/url",
    "/thumb/url",
    "/medium/url",
    "/url_viewer",
    "/url_short",
    "/display_url",
    "/delete_url",
];

async fn upload_through_proxy(app: &TestApp, headers: &[(&str, &str)]) -> Value {
    let mut request = app
        .client
        .post(app.url("/api/1/upload"))
        .header("X-API-Key", &app.api_key)
        .multipart(file_form("a.png", &png(800, 600, 1)));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    crate::helpers::expect_image(request.send().await.expect("answered")).await
}

#[tokio::test]
async fn without_trust_proxy_forwarded_headers_are_ignored() {
    let app = spawn_app().await;

    let headers = [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    let image = upload_through_proxy(&app, &headers).await;

    for pointer in URL_FIELDS {
        let url = str_at(&image, pointer);
        assert!(url.starts_with(&app.address), "{pointer} = {url}");
        assert!(!url.contains("evil.example"), "{pointer} = {url}");
    }
}

#[tokio::test]
async fn with_trust_proxy_forwarded_host_and_proto_root_the_urls() {
    let app = spawn_app_with(|config| config.trust_proxy = true).await;

    let headers = [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    let image = upload_through_proxy(&app, &headers).await;

    for pointer in URL_FIELDS {
        let url = str_at(&image, pointer);
        assert!(
            url.starts_with("https://evil.example/"),
            "{pointer} = {url}"
        );
    }
}

#[tokio::test]
async fn with_trust_proxy_a_forwarded_host_that_could_inject_is_ignored() {
    let app = spawn_app_with(|config| config.trust_proxy = true).await;

    let image = upload_through_proxy(&app, &[("X-Forwarded-Host", "evil.example/x\"")]).await;

    for pointer in URL_FIELDS {
        let url = str_at(&image, pointer);
        assert!(url.starts_with(&app.address), "{pointer} = {url}");
    }
}

#[tokio::test]
async fn a_public_url_roots_every_link_whatever_the_request_says() {
    let app = spawn_app_with(|config| {
        config.public_url = Some("http://nas.local:8080".into());
        config.trust_proxy = true;
    })
    .await;

    let image = upload_through_proxy(&app, &[("X-Forwarded-Host", "evil.example")]).await;

    for pointer in URL_FIELDS {
        let url = str_at(&image, pointer);
        assert!(
            url.starts_with("http://nas.local:8080/"),
            "{pointer} = {url}"
        );
    }
    let html = app
        .get(&app.url(str_at(&image, "/path_viewer")))
        .await
        .text()
        .await
        .expect("page");
    assert!(
        html.contains("content=\"http://nas.local:8080/images/"),
        "{html}"
    );
}

#[tokio::test]
async fn format_txt_uses_the_public_url_too() {
    let app =
        spawn_app_with(|config| config.public_url = Some("http://nas.local:8080".into())).await;

    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &[("format", "txt")])
        .await;

    let url = response.text().await.expect("a body");
    assert!(url.starts_with("http://nas.local:8080/images/"), "{url}");
}

#[tokio::test]
async fn the_host_the_client_used_roots_the_urls_and_a_malformed_one_is_ignored() {
    let app = spawn_app().await;
    let cases = [
        ("photos.lan:8080", "http://photos.lan:8080/"),
        ("bad host\"<x>", app.address.as_str()),
    ];

    for (host, expected_start) in cases {
        let response = app
            .client
            .post(app.url("/api/1/upload"))
            .header("X-API-Key", &app.api_key)
            .header("Host", host)
            .multipart(file_form("a.png", &png(32, 32, 1)))
            .send()
            .await
            .expect("answered");

        let image = crate::helpers::expect_image(response).await;
        let url = str_at(&image, "/url");
        assert!(url.starts_with(expected_start), "Host {host:?}: {url}");
    }
}

#[tokio::test]
async fn an_https_public_url_gives_https_links_even_when_the_proxy_says_http() {
    let app = spawn_app_with(|config| {
        config.public_url = Some("https://photos.example.org".into());
        config.trust_proxy = true;
    })
    .await;

    let headers = [
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Host", "127.0.0.1:8080"),
    ];
    let image = upload_through_proxy(&app, &headers).await;

    for pointer in URL_FIELDS {
        let url = str_at(&image, pointer);
        assert!(
            url.starts_with("https://photos.example.org/"),
            "{pointer} = {url}"
        );
    }
}

#[tokio::test]
async fn behind_a_tls_proxy_the_viewer_page_and_format_txt_link_over_https() {
    let app = spawn_app_with(|config| config.trust_proxy = true).await;
    let proxy_headers = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "photos.example.org"),
    ];

    let mut request = app
        .client
        .post(app.url("/api/1/upload?format=txt"))
        .header("X-API-Key", &app.api_key)
        .multipart(file_form("a.png", &png(32, 32, 3)));
    for (name, value) in proxy_headers {
        request = request.header(name, value);
    }
    let url = request
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("a body");
    assert!(
        url.starts_with("https://photos.example.org/images/"),
        "{url}"
    );

    let image = upload_through_proxy(&app, &proxy_headers).await;
    let mut page = app.client.get(app.url(str_at(&image, "/path_viewer")));
    for (name, value) in proxy_headers {
        page = page.header(name, value);
    }
    let html = page
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("page");
    assert!(
        html.contains("content=\"https://photos.example.org/images/"),
        "{html}"
    );
}
