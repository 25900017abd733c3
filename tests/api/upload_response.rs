//! The success answer of a plain file upload, field for field, and the files it points to.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    dimensions, header, md5_hex, png, spawn_app, str_at, unix_from_gmt, url_path,
};

/// The JSON type a field of the answer must have.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Num,
    Str,
    Arr,
    Bool,
    Obj,
    Null,
}

fn kind_of(value: &Value) -> Option<Kind> {
    Some(match value {
        Value::Number(_) => Kind::Num,
        Value::String(_) => Kind::Str,
        Value::Array(_) => Kind::Arr,
        Value::Bool(_) => Kind::Bool,
        Value::Object(_) => Kind::Obj,
        Value::Null => Kind::Null,
    })
}

/// Every field Chevereto V4 sends in `image`, with the type it has for a 800x600 PNG upload
/// without title, tags, description, category, expiration or EXIF.
const IMAGE_FIELDS: &[(&str, Kind)] = &[
    ("/name", Kind::Str),
    ("/extension", Kind::Str),
    ("/size", Kind::Num),
    ("/width", Kind::Num),
    ("/height", Kind::Num),
    ("/date", Kind::Str),
    ("/date_gmt", Kind::Str),
    ("/title", Kind::Str),
    ("/tags", Kind::Arr),
    ("/description", Kind::Null),
    ("/nsfw", Kind::Num),
    ("/storage_mode", Kind::Str),
    ("/md5", Kind::Str),
    ("/source_md5", Kind::Str),
    ("/original_filename", Kind::Str),
    ("/original_exifdata", Kind::Null),
    ("/views", Kind::Num),
    ("/category_id", Kind::Null),
    ("/chain", Kind::Num),
    ("/thumb_size", Kind::Num),
    ("/medium_size", Kind::Num),
    ("/frame_size", Kind::Num),
    ("/expiration_date_gmt", Kind::Null),
    ("/likes", Kind::Num),
    ("/is_animated", Kind::Num),
    ("/is_approved", Kind::Num),
    ("/is_360", Kind::Num),
    ("/duration", Kind::Num),
    ("/duration_time", Kind::Str),
    ("/type", Kind::Str),
    ("/tags_string", Kind::Str),
    ("/file/resource/type", Kind::Str),
    ("/id_encoded", Kind::Str),
    ("/filename", Kind::Str),
    ("/mime", Kind::Str),
    ("/url", Kind::Str),
    ("/ratio", Kind::Num),
    ("/size_formatted", Kind::Str),
    ("/image/filename", Kind::Str),
    ("/image/name", Kind::Str),
    ("/image/mime", Kind::Str),
    ("/image/extension", Kind::Str),
    ("/image/url", Kind::Str),
    ("/image/size", Kind::Num),
    ("/thumb/filename", Kind::Str),
    ("/thumb/name", Kind::Str),
    ("/thumb/mime", Kind::Str),
    ("/thumb/extension", Kind::Str),
    ("/thumb/url", Kind::Str),
    ("/thumb/size", Kind::Num),
    ("/medium/filename", Kind::Str),
    ("/medium/name", Kind::Str),
    ("/medium/mime", Kind::Str),
    ("/medium/extension", Kind::Str),
    ("/medium/url", Kind::Str),
    ("/medium/size", Kind::Num),
    ("/url_viewer", Kind::Str),
    ("/path_viewer", Kind::Str),
    ("/url_short", Kind::Str),
    ("/display_url", Kind::Str),
    ("/display_width", Kind::Num),
    ("/display_height", Kind::Num),
    ("/views_label", Kind::Str),
    ("/likes_label", Kind::Str),
    ("/how_long_ago", Kind::Str),
    ("/date_fixed_peer", Kind::Str),
    ("/title_truncated", Kind::Str),
    ("/title_truncated_html", Kind::Str),
    ("/is_use_loader", Kind::Bool),
    ("/display_title", Kind::Str),
    ("/delete_url", Kind::Str),
];

#[tokio::test]
async fn a_file_upload_answers_200_in_chevereto_s_envelope() {
    let app = spawn_app().await;

    let response = app
        .upload_file_with("photo.png", &png(800, 600, 1), &[])
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body["status_code"], Value::from(200));
    assert_eq!(body["success"]["message"], "file uploaded");
    assert_eq!(body["success"]["code"], Value::from(200));
    assert_eq!(body["status_txt"], "OK");
    assert!(body["image"].is_object(), "{body}");
}

#[tokio::test]
async fn every_image_field_is_present_with_its_json_type() {
    let app = spawn_app().await;

    let image = app.upload_file("photo.png", &png(800, 600, 1)).await;

    let mut wrong = Vec::new();
    for &(pointer, kind) in IMAGE_FIELDS {
        match image.pointer(pointer).and_then(kind_of) {
            Some(found) if std::mem::discriminant(&found) == std::mem::discriminant(&kind) => {}
            found => wrong.push(format!("{pointer}: expected {kind:?}, found {found:?}")),
        }
    }
    assert!(
        wrong.is_empty(),
        "fields missing or of the wrong type:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn the_image_fields_describe_the_upload_exactly() {
    let app = spawn_app().await;
    let bytes = png(800, 600, 1);

    let image = app.upload_file("photo.png", &bytes).await;

    let name = str_at(&image, "/name");
    let id = str_at(&image, "/id_encoded");
    let expected = [
        ("/extension", Value::from("png")),
        ("/size", Value::from(bytes.len())),
        ("/width", Value::from(800)),
        ("/height", Value::from(600)),
        ("/title", Value::from("photo")),
        ("/tags", Value::Array(vec![])),
        ("/nsfw", Value::from(0)),
        ("/storage_mode", Value::from("datefolder")),
        ("/original_filename", Value::from("photo.png")),
        ("/views", Value::from(0)),
        ("/chain", Value::from(7)),
        ("/frame_size", Value::from(0)),
        ("/likes", Value::from(0)),
        ("/is_animated", Value::from(0)),
        ("/is_approved", Value::from(1)),
        ("/is_360", Value::from(0)),
        ("/duration", Value::from(0)),
        ("/type", Value::from("image")),
        ("/tags_string", Value::from("")),
        ("/filename", Value::from(format!("{name}.png"))),
        ("/mime", Value::from("image/png")),
        ("/ratio", Value::from(800.0 / 600.0)),
        ("/image/filename", Value::from(format!("{name}.png"))),
        ("/image/name", Value::from(name)),
        ("/image/mime", Value::from("image/png")),
        ("/image/extension", Value::from("png")),
        ("/image/size", Value::from(bytes.len())),
        ("/thumb/name", Value::from(format!("{name}.th"))),
        ("/medium/name", Value::from(format!("{name}.md"))),
        ("/url_short", Value::from(app.url(&format!("/image/{id}")))),
        ("/path_viewer", Value::from(format!("/image/photo.{id}"))),
        (
            "/url_viewer",
            Value::from(app.url(&format!("/image/photo.{id}"))),
        ),
        ("/display_width", Value::from(500)),
        ("/display_height", Value::from(375)),
        ("/title_truncated", Value::from("photo")),
        ("/title_truncated_html", Value::from("photo")),
        ("/display_title", Value::from("photo")),
        ("/is_use_loader", Value::from(false)),
    ];
    for (pointer, value) in expected {
        assert_eq!(image.pointer(pointer), Some(&value), "{pointer} in {image}");
    }
    assert_eq!(image["url"], image["image"]["url"]);
    assert_eq!(image["display_url"], image["medium"]["url"]);
    assert_eq!(image["date_fixed_peer"], image["date_gmt"]);
    let size_formatted = str_at(&image, "/size_formatted");
    assert!(
        size_formatted.ends_with(" KB") || size_formatted.ends_with(" B"),
        "{size_formatted}"
    );
}

#[tokio::test]
async fn the_dates_are_now_in_chevereto_s_format() {
    let app = spawn_app().await;
    let before = chrono::Utc::now().timestamp();

    let image = app.upload_file("photo.png", &png(64, 64, 1)).await;

    let after = chrono::Utc::now().timestamp();
    let date_gmt = unix_from_gmt(str_at(&image, "/date_gmt"));
    assert!(
        (before..=after).contains(&date_gmt),
        "{date_gmt} not in {before}..={after}"
    );
    unix_from_gmt(str_at(&image, "/date"));
}

#[tokio::test]
async fn md5_and_source_md5_are_the_md5_of_the_uploaded_bytes() {
    let app = spawn_app().await;
    let bytes = png(120, 80, 3);

    let image = app.upload_file("photo.png", &bytes).await;

    assert_eq!(str_at(&image, "/md5"), md5_hex(&bytes));
    assert_eq!(str_at(&image, "/source_md5"), md5_hex(&bytes));
}

#[tokio::test]
async fn the_delete_url_is_the_short_url_with_a_48_character_secret() {
    let app = spawn_app().await;

    let image = app.upload_file("photo.png", &png(64, 64, 1)).await;

    let delete_url = str_at(&image, "/delete_url");
    let prefix = format!("{}/delete/", str_at(&image, "/url_short"));
    let secret = delete_url
        .strip_prefix(&prefix)
        .expect("the delete URL extends the short URL");
    assert_eq!(secret.len(), 48, "{secret}");
    assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
}

#[tokio::test]
async fn the_original_is_served_byte_for_byte_as_png_with_nosniff_and_an_etag() {
    let app = spawn_app().await;
    let bytes = png(120, 80, 4);
    let image = app.upload_file("photo.png", &bytes).await;

    let response = app.get(str_at(&image, "/url")).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "image/png");
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert!(
        !header(&response, "etag").is_empty(),
        "no ETag: {response:?}"
    );
    assert_eq!(
        response.bytes().await.expect("body").as_ref(),
        bytes.as_slice()
    );
}

#[tokio::test]
async fn a_range_request_for_the_first_ten_bytes_answers_206_with_ten_bytes() {
    let app = spawn_app().await;
    let bytes = png(120, 80, 5);
    let image = app.upload_file("photo.png", &bytes).await;

    let response = app
        .client
        .get(str_at(&image, "/url"))
        .header("Range", "bytes=0-9")
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&response, "content-range"),
        format!("bytes 0-9/{}", bytes.len())
    );
    assert_eq!(response.bytes().await.expect("body").as_ref(), &bytes[..10]);
}

#[tokio::test]
async fn an_800_wide_upload_gets_a_320_square_thumb_and_a_500_wide_medium() {
    let app = spawn_app().await;

    let image = app.upload_file("photo.png", &png(800, 600, 6)).await;

    let thumb = app.get_bytes(str_at(&image, "/thumb/url")).await;
    let medium = app.get_bytes(str_at(&image, "/medium/url")).await;
    assert_eq!(dimensions(&thumb), (320, 320));
    assert_eq!(dimensions(&medium), (500, 375));
    assert_eq!(image["chain"], Value::from(7));
    assert_eq!(image["thumb_size"], Value::from(thumb.len()));
    assert_eq!(image["thumb"]["size"], Value::from(thumb.len()));
    assert_eq!(image["medium_size"], Value::from(medium.len()));
    assert_eq!(image["medium"]["size"], Value::from(medium.len()));
    let thumb_extension = str_at(&image, "/thumb/extension");
    let expected_mime = if thumb_extension == "png" {
        "image/png"
    } else {
        "image/jpeg"
    };
    assert_eq!(str_at(&image, "/thumb/mime"), expected_mime);
}

#[tokio::test]
async fn an_upload_at_most_500_wide_has_no_medium_and_chain_5() {
    let app = spawn_app().await;

    let image = app.upload_file("photo.png", &png(500, 400, 7)).await;

    assert_eq!(image["chain"], Value::from(5));
    assert_eq!(image["medium_size"], Value::from(0));
    let medium = image["medium"].as_object().expect("medium is an object");
    let thumb_keys: Vec<&String> = image["thumb"]
        .as_object()
        .expect("thumb is an object")
        .keys()
        .collect();
    assert_eq!(medium.keys().collect::<Vec<_>>(), thumb_keys, "{image}");
    assert!(medium.values().all(Value::is_null), "{image}");
    assert_eq!(image["display_url"], image["url"]);
    assert_eq!(image["display_width"], Value::from(500));
    assert_eq!(image["display_height"], Value::from(400));
    let thumb = app.get_bytes(str_at(&image, "/thumb/url")).await;
    assert_eq!(dimensions(&thumb), (320, 320));
}

#[tokio::test]
async fn an_upload_smaller_than_the_thumb_gets_a_thumb_of_its_short_side() {
    let app = spawn_app().await;

    let image = app.upload_file("photo.png", &png(200, 90, 8)).await;

    let thumb = app.get_bytes(str_at(&image, "/thumb/url")).await;
    assert_eq!(dimensions(&thumb), (90, 90));
    assert!(url_path(str_at(&image, "/thumb/url")).contains(".th."));
}
