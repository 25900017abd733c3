//! Where uploads land on disk and how their files are named.

use std::collections::BTreeSet;
use std::path::PathBuf;

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{expect_image, png, spawn_app, str_at, url_path};

#[tokio::test]
async fn files_are_stored_under_the_upload_day_with_th_and_md_variants() {
    let app = spawn_app().await;

    let image = app.upload_file("photo.png", &png(800, 600, 1)).await;

    let (name, date) = (str_at(&image, "/name"), str_at(&image, "/date_gmt"));
    let day = format!("{}/{}/{}", &date[0..4], &date[5..7], &date[8..10]);
    let dir = app.data_dir().join("images").join(&day);
    let thumb_extension = str_at(&image, "/thumb/extension");
    let medium_extension = str_at(&image, "/medium/extension");
    let expected: BTreeSet<PathBuf> = [
        format!("{name}.png"),
        format!("{name}.th.{thumb_extension}"),
        format!("{name}.md.{medium_extension}"),
    ]
    .into_iter()
    .map(|file| dir.join(file))
    .collect();
    assert_eq!(app.snapshot().files, expected);
    assert_eq!(
        url_path(str_at(&image, "/url")),
        format!("/images/{day}/{name}.png")
    );
    let today = chrono::Utc::now().date_naive();
    let stored_day = chrono::NaiveDate::parse_from_str(&day, "%Y/%m/%d").expect("a date folder");
    assert!(
        (today - stored_day).num_days().abs() <= 1,
        "{stored_day} is not today ({today})"
    );
}

#[tokio::test]
async fn the_stored_name_is_the_original_name_made_safe() {
    let app = spawn_app().await;

    let image = app.upload_file("my photo (1).png", &png(64, 64, 1)).await;

    let name = str_at(&image, "/name");
    assert!(name.starts_with("my"), "{name}");
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "unsafe characters in {name:?}"
    );
    assert!(
        !str_at(&image, "/url").contains(['(', ')', ' ', '%']),
        "{image}"
    );
    assert_eq!(str_at(&image, "/original_filename"), "my photo (1).png");
}

#[tokio::test]
async fn two_uploads_with_the_same_name_get_different_urls_and_keep_their_own_bytes() {
    let app = spawn_app().await;
    let (first_bytes, second_bytes) = (png(64, 64, 1), png(64, 64, 2));

    let first = app.upload_file("same.png", &first_bytes).await;
    let second = app.upload_file("same.png", &second_bytes).await;

    let (first_url, second_url) = (str_at(&first, "/url"), str_at(&second, "/url"));
    assert_ne!(first_url, second_url);
    assert_ne!(str_at(&first, "/thumb/url"), str_at(&second, "/thumb/url"));
    assert_eq!(app.get_bytes(first_url).await, first_bytes);
    assert_eq!(app.get_bytes(second_url).await, second_bytes);
    assert_eq!(app.snapshot().files.len(), 4);
}

#[tokio::test]
async fn a_file_part_without_file_name_or_content_type_is_still_uploaded() {
    let app = spawn_app().await;
    let bytes = png(64, 64, 1);

    let form = Form::new().part("source", Part::bytes(bytes.clone()));
    let image = expect_image(app.upload_form(form).await).await;

    assert_eq!(image["extension"], "png");
    assert_eq!(image["original_filename"], "");
    assert_eq!(app.get_bytes(str_at(&image, "/url")).await, bytes);
}

#[tokio::test]
async fn the_extension_comes_from_the_bytes_not_the_file_name() {
    let app = spawn_app().await;
    let bytes = png(64, 64, 1);

    let image = app.upload_file("photo.jpg", &bytes).await;

    assert_eq!(image["extension"], "png");
    assert_eq!(image["mime"], "image/png");
    assert_eq!(image["image"]["mime"], "image/png");
    assert!(str_at(&image, "/url").ends_with(".png"), "{image}");
    let on_disk = app.disk_path(str_at(&image, "/url"));
    assert_eq!(std::fs::read(on_disk).expect("the stored file"), bytes);
    assert_eq!(image["original_filename"], Value::from("photo.jpg"));
}

#[tokio::test]
async fn the_stored_file_on_disk_is_the_upload() {
    let app = spawn_app().await;
    let bytes = png(64, 64, 9);

    let image = app.upload_file("photo.png", &bytes).await;

    let on_disk = app.disk_path(str_at(&image, "/url"));
    assert_eq!(std::fs::read(on_disk).expect("the stored file"), bytes);
    assert!(app.tmp_files().is_empty(), "{:?}", app.tmp_files());
}

#[tokio::test]
async fn concurrent_uploads_with_the_same_name_each_keep_their_own_file() {
    let app = spawn_app().await;
    let images: Vec<Vec<u8>> = (0..8).map(|seed| png(48, 48, seed)).collect();

    let uploads = images
        .iter()
        .map(|bytes| app.upload_file("same.png", bytes));
    let answers = futures_util::future::join_all(uploads).await;

    let urls: BTreeSet<&str> = answers.iter().map(|image| str_at(image, "/url")).collect();
    assert_eq!(urls.len(), images.len(), "two uploads share a URL");
    for (image, bytes) in answers.iter().zip(&images) {
        assert_eq!(&app.get_bytes(str_at(image, "/url")).await, bytes);
    }
    assert_eq!(app.row_count(), images.len() as u64);
    assert_eq!(app.snapshot().files.len(), 2 * images.len());
}

/// A 4x4 dark 24-bit BMP whose every byte is below 0x80: valid UTF-8, though binary.
fn ascii_only_bmp() -> Vec<u8> {
    let pixels = [10u8, 20, 30].repeat(16);
    let mut bmp = b"BM".to_vec();
    bmp.extend_from_slice(&(54 + pixels.len() as u32).to_le_bytes());
    bmp.extend_from_slice(&[0, 0, 0, 0]);
    bmp.extend_from_slice(&54u32.to_le_bytes());
    bmp.extend_from_slice(&40u32.to_le_bytes());
    bmp.extend_from_slice(&4i32.to_le_bytes());
    bmp.extend_from_slice(&4i32.to_le_bytes());
    bmp.extend_from_slice(&1u16.to_le_bytes());
    bmp.extend_from_slice(&24u16.to_le_bytes());
    bmp.extend_from_slice(&[0; 4]);
    bmp.extend_from_slice(&(pixels.len() as u32).to_le_bytes());
    bmp.extend_from_slice(&[0; 16]);
    bmp.extend_from_slice(&pixels);
    bmp
}

#[tokio::test]
async fn a_binary_file_part_without_file_name_is_a_file_even_when_it_is_valid_utf8() {
    let app = spawn_app().await;
    let bmp = ascii_only_bmp();
    assert!(
        std::str::from_utf8(&bmp).is_ok(),
        "the fixture must be valid UTF-8"
    );
    assert_eq!(crate::helpers::dimensions(&bmp), (4, 4));

    let form = Form::new().part("source", Part::bytes(bmp));
    let image = expect_image(app.upload_form(form).await).await;

    assert_eq!(image["extension"], "png");
    assert_eq!(
        (&image["width"], &image["height"]),
        (&Value::from(4), &Value::from(4))
    );
}
