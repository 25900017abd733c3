//! The upload size limit: refused early, with Chevereto's message, leaving nothing behind; and
//! the cap on a whole body, however it is split into fields.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use image::ImageFormat;
use reqwest::multipart::Form;
use reqwest::StatusCode;

use crate::helpers::{
    assert_api_error_body, chunk, expect_api_error, expect_image, image_in, noise_png, png,
    spawn_app_with, TestApp,
};

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

const BOUNDARY: &str = "sajin-test-boundary";

/// One multipart part: its headers, then `data`, framed by the test boundary.
fn part(disposition: &str, data: &[u8]) -> Vec<u8> {
    let mut framed =
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n\r\n")
            .into_bytes();
    framed.extend_from_slice(data);
    framed.extend_from_slice(b"\r\n");
    framed
}

fn chunked_multipart_head(extra_header: &str) -> String {
    format!(
        "POST /api/1/upload HTTP/1.1\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Transfer-Encoding: chunked{extra_header}"
    )
}

#[tokio::test]
async fn many_small_fields_are_cut_off_at_the_body_cap_without_waiting_for_the_rest() {
    let app = app_with_one_megabyte_limit().await;
    let key_header = format!("\r\nX-API-Key: {}", app.api_key);
    let key_field = chunk(&part(r#"name="key""#, app.api_key.as_bytes()));
    let cases: [(&str, &str, &[u8]); 3] = [
        ("no key", "", b""),
        ("a key in the header", &key_header, b""),
        ("a key only as a form field", "", &key_field),
    ];
    let before = app.snapshot();

    for (case, extra_header, first_chunk) in cases {
        // 50 distinct fields of 60 KB: each under the field limit, 3 MB in all against a cap
        // of about 2.4 MB; and the body never ends, so only a running total can refuse it.
        let mut body = first_chunk.to_vec();
        for index in 0..50 {
            let field = part(&format!(r#"name="field{index}""#), &[b'x'; 60_000]);
            body.extend_from_slice(&chunk(&field));
        }

        let answer = app
            .answer_to_unfinished_request(&chunked_multipart_head(extra_header), body)
            .await;

        assert_eq!(answer.status, 413, "{case}: {answer:?}");
        let message = assert_api_error_body(&answer.json(), 413, 400);
        assert_eq!(message, "File too big - max 1 MB", "{case}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn a_named_file_part_is_refused_as_soon_as_it_passes_the_upload_limit() {
    let app = app_with_one_megabyte_limit().await;
    let head = chunked_multipart_head(&format!("\r\nX-API-Key: {}", app.api_key));
    let opening = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"source\"; \
         filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n"
    );
    let mut body = chunk(opening.as_bytes());
    // 1.1 MB of the file, past the 1 MB limit but well within what a base64 text source may
    // hold; the part never ends.
    for _ in 0..11 {
        body.extend_from_slice(&chunk(&[0x5a; 100_000]));
    }
    let before = app.snapshot();

    let answer = app.answer_to_unfinished_request(&head, body).await;

    assert_eq!(answer.status, 413, "{answer:?}");
    let message = assert_api_error_body(&answer.json(), 413, 400);
    assert_eq!(message, "File too big - max 1 MB");
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn base64_of_a_file_at_the_limit_wrapped_at_76_columns_is_accepted_in_every_body() {
    use base64::Engine;
    let app = app_with_one_megabyte_limit().await;
    let bmp = image_in(ImageFormat::Bmp, 577, 577, 1);
    assert!(
        (990_000..=LIMIT as usize).contains(&bmp.len()),
        "the fixture is {} bytes, meant to be just under the limit",
        bmp.len()
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bmp);
    let wrapped = encoded
        .as_bytes()
        .chunks(76)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect::<Vec<_>>()
        .join("\r\n");

    let multipart = app
        .upload_form(Form::new().text("source", wrapped.clone()))
        .await;
    let urlencoded = app.upload_fields(&[("source", &wrapped)]).await;

    for (body, response) in [("multipart", multipart), ("urlencoded", urlencoded)] {
        let image = expect_image(response).await;
        assert_eq!(image["width"], 577, "{body}: {image}");
    }
}
