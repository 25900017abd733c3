//! The ways an upload's bytes may arrive: file part, base64 text (urlencoded, query string,
//! multipart text), ImgBB's `image` field, and a URL for the server to fetch.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{
    expect_api_error, expect_image, expect_success, file_part, png, spawn_app, spawn_app_with,
    str_at,
};

/// A PNG whose length is not a multiple of three, so its base64 form ends in padding.
fn png_needing_padding() -> Vec<u8> {
    (0..=255u8)
        .map(|seed| png(24, 24, seed))
        .find(|bytes| bytes.len() % 3 != 0)
        .expect("some seed gives a length that is not a multiple of three")
}

fn with_line_breaks(encoded: &str, every: usize) -> String {
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(every)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    lines.join("\r\n")
}

#[tokio::test]
async fn base64_in_an_urlencoded_source_is_decoded_in_every_common_spelling() {
    let app = spawn_app().await;
    let bytes = png_needing_padding();
    let encoded = STANDARD.encode(&bytes);
    assert!(encoded.ends_with('='), "the fixture needs padding");
    let cases = [
        ("plain", encoded.clone()),
        ("data URI", format!("data:image/png;base64,{encoded}")),
        ("line breaks every 76", with_line_breaks(&encoded, 76)),
        ("no padding", encoded.trim_end_matches('=').to_string()),
    ];

    for (case, source) in cases {
        let response = app.upload_fields(&[("source", &source)]).await;

        let image = expect_image(response).await;
        assert_eq!(app.get_bytes(str_at(&image, "/url")).await, bytes, "{case}");
        assert_eq!(image["original_filename"], "", "{case}");
    }
}

#[tokio::test]
async fn base64_whose_plus_signs_a_client_forgot_to_escape_is_still_decoded() {
    let app = spawn_app().await;
    let (bytes, encoded) = (0..=255u8)
        .map(|seed| png(24, 24, seed))
        .map(|bytes| {
            let encoded = STANDARD.encode(&bytes);
            (bytes, encoded)
        })
        .find(|(_, encoded)| encoded.contains('+'))
        .expect("some seed gives base64 with a plus sign");
    let body = format!("source={}", encoded.replace('/', "%2F").replace('=', "%3D"));

    let response = app
        .client
        .post(app.url("/api/1/upload"))
        .header("X-API-Key", &app.api_key)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("answered");

    let image = expect_image(response).await;
    assert_eq!(app.get_bytes(str_at(&image, "/url")).await, bytes);
}

#[tokio::test]
async fn base64_in_the_query_string_of_a_get_is_uploaded() {
    let app = spawn_app().await;
    let bytes = png(16, 16, 1);
    let encoded = STANDARD.encode(&bytes);

    let response = app.upload_by_get(&[("source", &encoded)]).await;

    let image = expect_image(response).await;
    assert_eq!(app.get_bytes(str_at(&image, "/url")).await, bytes);
}

#[tokio::test]
async fn base64_in_a_multipart_text_field_is_uploaded() {
    let app = spawn_app().await;
    let bytes = png(32, 32, 1);

    let form = Form::new().text("source", STANDARD.encode(&bytes));
    let image = expect_image(app.upload_form(form).await).await;

    assert_eq!(app.get_bytes(str_at(&image, "/url")).await, bytes);
}

#[tokio::test]
async fn base64_in_a_multipart_text_field_may_hold_spaces_and_line_breaks() {
    let app = spawn_app().await;
    let (bytes, encoded) = (0..=255u8)
        .map(|seed| png(24, 24, seed))
        .map(|bytes| {
            let encoded = STANDARD.encode(&bytes);
            (bytes, encoded)
        })
        .find(|(_, encoded)| encoded.contains('+'))
        .expect("some seed gives base64 with a plus sign");
    let spaced: String = encoded
        .as_bytes()
        .chunks(4)
        .map(|group| std::str::from_utf8(group).expect("base64 is ASCII"))
        .collect::<Vec<_>>()
        .join(" ");
    let cases = [
        ("a space every 4 characters", spaced.clone()),
        ("spaces and line breaks", with_line_breaks(&spaced, 60)),
        ("spaces around it", format!("  {encoded} \r\n ")),
    ];

    for (case, source) in cases {
        let form = Form::new().text("source", source);
        let image = expect_image(app.upload_form(form).await).await;

        assert_eq!(app.get_bytes(str_at(&image, "/url")).await, bytes, "{case}");
    }
}

#[tokio::test]
async fn markup_sent_as_a_text_source_is_refused_as_an_unsupported_type_and_bad_base64_as_such() {
    let app = spawn_app().await;
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>"#;
    let text_part = |text: &str| Part::text(text.to_string());
    let typed_part = |text: &str, mime: &str| {
        Part::text(text.to_string())
            .mime_str(mime)
            .expect("a valid media type")
    };
    let cases = [
        (
            "an SVG as curl -F source=<file sends it",
            text_part(svg),
            610,
        ),
        (
            "an SVG after a BOM and a line break",
            text_part(&format!("\u{feff}\n{svg}")),
            610,
        ),
        ("HTML", text_part("<!DOCTYPE html><p>hi</p>"), 610),
        (
            "text declared as HTML",
            typed_part("hello <b>you</b>", "text/html"),
            610,
        ),
        (
            "text declared as SVG",
            typed_part("not markup", "image/svg+xml"),
            610,
        ),
        ("bad base64", text_part("@@@@not*base64@@@@"), 120),
        (
            "bad base64 declared as text",
            typed_part("QUJD*", "text/plain"),
            120,
        ),
    ];
    let before = app.snapshot();

    for (case, part, code) in cases {
        let response = app.upload_form(Form::new().part("source", part)).await;

        let message = expect_api_error(response, 400, code).await;
        assert!(!message.is_empty(), "{case}");
        app.assert_nothing_stored(&before);
    }
    let response = app.upload_fields(&[("source", svg)]).await;
    expect_api_error(response, 400, 610).await;
}

#[tokio::test]
async fn the_imgbb_image_field_answers_with_data_and_status() {
    let app = spawn_app().await;
    let bytes = png(32, 32, 1);
    let cases = [
        (
            "file part",
            Form::new().part("image", file_part("a.png", &bytes)),
        ),
        (
            "base64 text",
            Form::new().text("image", STANDARD.encode(&bytes)),
        ),
    ];

    for (case, form) in cases {
        let body = expect_success(app.upload_form(form).await).await;

        assert_eq!(body["status"], Value::from(200), "{case}: {body}");
        assert!(body.get("image").is_none(), "{case}: {body}");
        let data = &body["data"];
        assert_eq!(data["id"], data["id_encoded"], "{case}: {body}");
        assert!(
            data["id"].as_str().is_some_and(|id| !id.is_empty()),
            "{case}: {body}"
        );
        assert_eq!(app.get_bytes(str_at(data, "/url")).await, bytes, "{case}");
        assert_eq!(body["status_code"], Value::from(200), "{case}");
    }
}

#[tokio::test]
async fn sources_that_are_not_usable_are_refused_with_their_chevereto_code() {
    let app = spawn_app().await;
    let cases = [
        ("invalid base64", "source", "@@@@not*base64@@@@", 400, 120),
        ("an empty source", "source", "", 400, 130),
        ("a blank source", "source", "   ", 400, 130),
        ("no source at all", "title", "nothing", 400, 130),
        (
            "base64 of text",
            "source",
            "aGVsbG8gd29ybGQsIGp1c3QgdGV4dA==",
            400,
            610,
        ),
    ];
    let before = app.snapshot();

    for (case, field, value, status, code) in cases {
        let response = app.upload_fields(&[(field, value)]).await;

        let message = expect_api_error(response, status, code).await;
        assert!(!message.is_empty(), "{case}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn files_that_are_not_raster_images_are_refused_with_code_610() {
    let app = spawn_app().await;
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>"#;
    let cases: [(&str, &str, &[u8]); 4] = [
        ("text", "notes.txt", b"hello world, just text\n"),
        ("text named .png", "notes.png", b"hello world, just text\n"),
        ("SVG", "drawing.svg", svg),
        (
            "a truncated PNG",
            "cut.png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        ),
    ];
    let before = app.snapshot();

    for (case, file_name, bytes) in cases {
        let response = app.upload_file_with(file_name, bytes, &[]).await;

        let message = expect_api_error(response, 400, 610).await;
        assert!(!message.is_empty(), "{case}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn an_empty_file_part_is_refused_as_an_empty_source() {
    let app = spawn_app().await;
    let before = app.snapshot();

    let form = Form::new().part("source", Part::bytes(Vec::new()).file_name("empty.png"));
    let response = app.upload_form(form).await;

    expect_api_error(response, 400, 130).await;
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn a_url_source_is_fetched_when_private_urls_are_allowed() {
    let app = spawn_app_with(|config| config.allow_private_urls = true).await;
    let bytes = png(64, 48, 1);
    let first = app.upload_file("original.png", &bytes).await;

    let response = app
        .upload_fields(&[("source", str_at(&first, "/url"))])
        .await;

    let copy = expect_image(response).await;
    assert_ne!(copy["id_encoded"], first["id_encoded"]);
    assert_ne!(copy["url"], first["url"]);
    assert_eq!(app.get_bytes(str_at(&copy, "/url")).await, bytes);
    assert_eq!(copy["md5"], first["md5"]);
    assert_eq!(app.row_count(), 2);
}

#[tokio::test]
async fn a_loopback_url_source_is_refused_by_default_and_stores_nothing() {
    let app = spawn_app().await;
    let first = app.upload_file("original.png", &png(64, 48, 1)).await;
    let image_url = str_at(&first, "/url").to_string();
    let localhost_url = image_url.replace("127.0.0.1", "localhost");
    let cases = [
        ("the loopback address", image_url.as_str()),
        ("localhost", localhost_url.as_str()),
        ("the IPv6 loopback", "http://[::1]:9/x.png"),
        ("the unspecified address", "http://0.0.0.0:9/x.png"),
    ];
    let before = app.snapshot();

    for (case, url) in cases {
        let response = app.upload_fields(&[("source", url)]).await;

        let status = response.status();
        assert!(status.is_client_error(), "{case}: {status}");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(
            body["status_code"],
            Value::from(status.as_u16()),
            "{case}: {body}"
        );
        assert!(body["error"]["message"].is_string(), "{case}: {body}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn urls_with_schemes_other_than_http_are_refused() {
    let app = spawn_app_with(|config| config.allow_private_urls = true).await;
    let cases = [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x.png",
        "gopher://127.0.0.1:70/x",
    ];
    let before = app.snapshot();

    for url in cases {
        let response = app.upload_fields(&[("source", url)]).await;

        let status = response.status();
        assert!(status.is_client_error(), "{url}: {status}");
        let body: Value = response.json().await.expect("a JSON error");
        assert!(body["error"]["message"].is_string(), "{url}: {body}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn a_url_source_larger_than_the_limit_is_refused_with_413() {
    let host = spawn_app().await;
    let big = crate::helpers::noise_png(720, 720, 1);
    let hosted = host.upload_file("big.png", &big).await;
    let app = spawn_app_with(|config| {
        config.allow_private_urls = true;
        config.max_upload_bytes = 1_000_000;
    })
    .await;
    let before = app.snapshot();

    let response = app
        .upload_fields(&[("source", str_at(&hosted, "/url"))])
        .await;

    let message = expect_api_error(response, 413, 400).await;
    assert_eq!(message, "File too big - max 1 MB");
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn a_url_source_that_redirects_to_a_web_page_is_refused_as_not_an_image() {
    let app = spawn_app_with(|config| config.allow_private_urls = true).await;
    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &[("title", "Page")])
        .await;
    let first = expect_image(response).await;
    let before = app.snapshot();

    let response = app
        .upload_fields(&[("source", str_at(&first, "/url_short"))])
        .await;

    expect_api_error(response, 400, 610).await;
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn a_url_that_answers_404_is_refused_with_a_client_error() {
    let app = spawn_app_with(|config| config.allow_private_urls = true).await;
    let before = app.snapshot();

    let missing = app.url("/images/2020/01/01/missing.png");
    let response = app.upload_fields(&[("source", &missing)]).await;

    let message = expect_api_error(response, 400, 400).await;
    assert!(message.contains("404"), "{message}");
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn a_url_source_that_never_answers_times_out_with_a_client_error() {
    let app = spawn_app_with(|config| {
        config.allow_private_urls = true;
        config.url_fetch_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let silent_url = format!(
        "http://{}/slow.png",
        silent.local_addr().expect("an address")
    );
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = silent.accept().await {
            held.push(connection);
        }
    });
    let before = app.snapshot();

    let response = app.upload_fields(&[("source", &silent_url)]).await;

    holder.abort();
    let message = expect_api_error(response, 400, 400).await;
    assert!(message.contains("Timed out"), "{message}");
    app.assert_nothing_stored(&before);
}
