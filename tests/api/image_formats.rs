//! Each accepted format: how it is stored, named and served.

use image::ImageFormat;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    animated_gif, dimensions, expect_image, header, image_in, md5_hex, spawn_app, str_at,
};

#[tokio::test]
async fn jpeg_gif_and_webp_are_kept_byte_for_byte_and_served_with_their_type() {
    let app = spawn_app().await;
    let cases = [
        (ImageFormat::Jpeg, "photo.jpg", "jpg", "image/jpeg"),
        (ImageFormat::Gif, "photo.gif", "gif", "image/gif"),
        (ImageFormat::WebP, "photo.webp", "webp", "image/webp"),
    ];

    for (format, file_name, extension, mime) in cases {
        let bytes = image_in(format, 640, 480, 1);
        let image = app.upload_file(file_name, &bytes).await;

        assert_eq!(image["extension"], extension, "{file_name}");
        assert_eq!(image["mime"], mime, "{file_name}");
        assert_eq!(image["md5"], Value::from(md5_hex(&bytes)), "{file_name}");
        let response = app.get(str_at(&image, "/url")).await;
        assert_eq!(response.status(), StatusCode::OK, "{file_name}");
        assert_eq!(header(&response, "content-type"), mime, "{file_name}");
        assert_eq!(
            response.bytes().await.expect("body").as_ref(),
            bytes.as_slice()
        );
        let medium = app.get_bytes(str_at(&image, "/medium/url")).await;
        assert_eq!(dimensions(&medium), (500, 375), "{file_name}");
    }
}

#[tokio::test]
async fn a_bmp_is_stored_as_png() {
    let app = spawn_app().await;
    let bytes = image_in(ImageFormat::Bmp, 64, 48, 1);

    let image = app.upload_file("scan.bmp", &bytes).await;

    assert_eq!(image["extension"], "png");
    assert_eq!(image["mime"], "image/png");
    assert_eq!(image["source_md5"], Value::from(md5_hex(&bytes)));
    assert_ne!(image["md5"], image["source_md5"]);
    let response = app.get(str_at(&image, "/url")).await;
    assert_eq!(header(&response, "content-type"), "image/png");
    let stored = response.bytes().await.expect("body");
    assert_eq!(
        image::guess_format(&stored).expect("a known format"),
        ImageFormat::Png
    );
    assert_eq!(dimensions(&stored), (64, 48));
    assert_eq!(image["md5"], Value::from(md5_hex(&stored)));
}

#[tokio::test]
async fn an_animated_gif_is_flagged_and_never_resized() {
    let app = spawn_app().await;
    let bytes = animated_gif(64, 48, 3);

    let response = app
        .upload_file_with("anim.gif", &bytes, &[("width", "32")])
        .await;

    let image = expect_image(response).await;
    assert_eq!(image["is_animated"], Value::from(1));
    assert_eq!(
        (&image["width"], &image["height"]),
        (&Value::from(64), &Value::from(48))
    );
    assert_eq!(app.get_bytes(str_at(&image, "/url")).await, bytes);
}

#[tokio::test]
async fn a_still_gif_is_not_flagged_as_animated() {
    let app = spawn_app().await;

    let image = app
        .upload_file("still.gif", &image_in(ImageFormat::Gif, 32, 32, 1))
        .await;

    assert_eq!(image["is_animated"], Value::from(0));
}
