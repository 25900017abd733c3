//! Files that are an image and something else at once: bytes after a GIF's trailer or a PNG's
//! IEND are refused as an unsupported type, and nothing is stored; a JPEG may carry data after
//! its end, as phones write it.

use image::ImageFormat;

use crate::helpers::{expect_api_error, header, image_in, md5_hex, png, spawn_app, str_at};

/// What make_corpus.py writes as `gif/polyglot_js.gif`: its width bytes `/*` open a script
/// comment that the text after the trailer closes, so it reads as 10,799 px wide.
const POLYGLOT_GIF: &[u8] = b"GIF89a/*\x0a\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00\
    \x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b*/=1;alert('polyglot');";

#[tokio::test]
async fn an_image_followed_by_a_script_or_an_archive_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut png_zip = png(32, 24, 1);
    png_zip.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x08\x00");
    let mut gif_html = image_in(ImageFormat::Gif, 32, 24, 2);
    gif_html.extend_from_slice(b"<script>alert(1)</script>");
    let cases = [
        ("polyglot.gif", POLYGLOT_GIF.to_vec()),
        ("archive.png", png_zip),
        ("page.gif", gif_html),
    ];

    for (file_name, bytes) in cases {
        let before = app.snapshot();

        let response = app.upload_file_with(file_name, &bytes, &[]).await;

        let message = expect_api_error(response, 400, 610).await;
        assert!(message.contains("file type"), "{file_name}: {message}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn a_jpeg_with_a_video_after_its_end_is_stored_and_served_as_jpeg() {
    let app = spawn_app().await;
    let mut bytes = image_in(ImageFormat::Jpeg, 64, 48, 3);
    bytes.extend_from_slice(b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom motion photo");

    let image = app.upload_file("motion.jpg", &bytes).await;

    assert_eq!(image["md5"], md5_hex(&bytes).as_str());
    let response = app.get(str_at(&image, "/url")).await;
    assert_eq!(header(&response, "content-type"), "image/jpeg");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert_eq!(response.bytes().await.expect("body").as_ref(), bytes);
}
