//! The upload size limit: refused early, with Chevereto's message, leaving nothing behind.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{expect_api_error, expect_image, noise_png, png, spawn_app_with, TestApp};

const LIMIT: u64 = 1_000_000;

async fn app_with_one_megabyte_limit() -> TestApp {
    spawn_app_with(|config| config.max_upload_bytes = LIMIT).await
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_with_413_and_chevereto_s_message() {
    let app = app_with_one_megabyte_limit().await;
    let big = noise_png(720, 720, 1);
    assert!(big.len() > 1_500_000, "the fixture is {} bytes", big.len());
    let before = app.snapshot();

    let response = app.upload_file_with("big.png", &big, &[]).await;

    let message = expect_api_error(response, 413, 400).await;
    assert_eq!(message, "File too big - max 1 MB");
    app.assert_nothing_stored(&before);
    let next = app
        .upload_file_with("small.png", &png(32, 32, 1), &[])
        .await;
    expect_image(next).await;
}

#[tokio::test]
async fn a_file_just_over_the_limit_is_refused_too() {
    let app = app_with_one_megabyte_limit().await;
    let big = noise_png(590, 590, 2);
    assert!(
        (LIMIT as usize..1_360_000).contains(&big.len()),
        "the fixture is {} bytes, meant to be between the limit and its base64 allowance",
        big.len()
    );
    let before = app.snapshot();

    let response = app.upload_file_with("big.png", &big, &[]).await;

    let message = expect_api_error(response, 413, 400).await;
    assert_eq!(message, "File too big - max 1 MB");
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn base64_of_a_file_over_the_limit_is_refused_with_413() {
    use base64::Engine;
    let app = app_with_one_megabyte_limit().await;
    let big = noise_png(620, 620, 3);
    assert!(big.len() as u64 > LIMIT);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&big);
    let before = app.snapshot();

    let response = app.upload_fields(&[("source", &encoded)]).await;

    let message = expect_api_error(response, 413, 400).await;
    assert_eq!(message, "File too big - max 1 MB");
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn a_declared_content_length_far_over_the_limit_is_refused_without_reading_the_body() {
    let app = app_with_one_megabyte_limit().await;
    let before = app.snapshot();
    let request = format!(
        "POST /api/1/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n\
         Content-Type: multipart/form-data; boundary=xyz\r\n\
         Content-Length: 100000000\r\n\r\n",
        port = app.port,
        key = app.api_key,
    );
    let port = app.port;

    let head = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        stream
            .write_all(request.as_bytes())
            .expect("the head is sent");
        let mut answer = vec![0u8; 4096];
        let read = stream
            .read(&mut answer)
            .expect("an answer before the timeout");
        String::from_utf8_lossy(&answer[..read]).into_owned()
    })
    .await
    .expect("the raw client finishes");

    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("File too big - max 1 MB"), "{head}");
    app.assert_nothing_stored(&before);
    let next = app
        .upload_file_with("small.png", &png(32, 32, 1), &[])
        .await;
    assert_eq!(next.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_too_big_upload_asked_for_as_txt_in_the_query_gets_a_plain_text_413() {
    let app = app_with_one_megabyte_limit().await;
    let before = app.snapshot();

    let form = crate::helpers::file_form("big.png", &noise_png(720, 720, 4));
    let response = app
        .upload_form_at("format=txt", Some(&app.api_key), form)
        .await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(crate::helpers::header(&response, "content-type").starts_with("text/plain"));
    assert_eq!(
        response.text().await.expect("a body"),
        "File too big - max 1 MB"
    );
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn an_image_over_the_pixel_limit_is_refused_before_decoding() {
    let app = spawn_app_with(|config| config.max_image_pixels = 10_000).await;
    let before = app.snapshot();

    let response = app
        .upload_file_with("wide.png", &png(200, 100, 1), &[])
        .await;

    let message = expect_api_error(response, 400, 400).await;
    assert!(!message.is_empty());
    app.assert_nothing_stored(&before);
    expect_image(app.upload_file_with("ok.png", &png(100, 100, 1), &[]).await).await;
}
