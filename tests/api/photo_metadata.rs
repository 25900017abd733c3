//! What an upload's EXIF does: GPS removed before storing, the description as the default
//! title, and the date taken as the shown date when an admin asks for it.

use exif::{In, Reader, Tag};
use image::ImageFormat;
use serde_json::Value;

use sajin::auth::{create_api_key, create_user};
use sajin::db::users::Role;

use crate::helpers::{expect_image, file_form, image_in, md5_hex, spawn_app, spawn_app_with};

const DESCRIPTION: &str = "Lighthouse";
const TAKEN: &str = "2021:06:15 10:30:00";

/// A little-endian TIFF with IFD0 {ImageDescription, ExifIFD -> DateTimeOriginal, GPSInfo ->
/// GPSVersionID, GPSLatitudeRef, GPSLatitude}.
fn exif_tiff() -> Vec<u8> {
    const ASCII: u16 = 2;
    const LONG: u16 = 4;
    const BYTE: u16 = 1;
    const RATIONAL: u16 = 5;
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&kind.to_le_bytes());
        tiff.extend_from_slice(&count.to_le_bytes());
        tiff.extend_from_slice(&value);
    };
    // IFD0 at 8: three entries, ends at 50; the description follows at 50.
    let description = format!("{DESCRIPTION}\0");
    let exif_ifd = 50 + description.len() as u32 + 1;
    let taken_at = exif_ifd + 2 + 12 + 4;
    let gps_ifd = taken_at + 20;
    let latitude_at = gps_ifd + 2 + 3 * 12 + 4;
    tiff.extend_from_slice(&3u16.to_le_bytes());
    entry(
        &mut tiff,
        0x010E,
        ASCII,
        description.len() as u32,
        50u32.to_le_bytes(),
    );
    entry(&mut tiff, 0x8769, LONG, 1, exif_ifd.to_le_bytes());
    entry(&mut tiff, 0x8825, LONG, 1, gps_ifd.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(description.as_bytes());
    tiff.push(0);
    assert_eq!(tiff.len() as u32, exif_ifd);
    tiff.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut tiff, 0x9003, ASCII, 20, taken_at.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(format!("{TAKEN}\0").as_bytes());
    assert_eq!(tiff.len() as u32, gps_ifd);
    tiff.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut tiff, 0x0000, BYTE, 4, [2, 2, 0, 0]);
    entry(&mut tiff, 0x0001, ASCII, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x0002, RATIONAL, 3, latitude_at.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    for (numerator, denominator) in [(52u32, 1u32), (30, 1), (0, 1)] {
        tiff.extend_from_slice(&numerator.to_le_bytes());
        tiff.extend_from_slice(&denominator.to_le_bytes());
    }
    tiff
}

/// A JPEG carrying [`exif_tiff`] in an APP1 segment right after SOI.
fn jpeg_with_exif() -> Vec<u8> {
    let jpeg = image_in(ImageFormat::Jpeg, 64, 48, 1);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&exif_tiff());
    let length = u16::try_from(payload.len() + 2).expect("a short segment");
    let mut bytes = jpeg[..2].to_vec();
    bytes.extend_from_slice(&[0xFF, 0xE1]);
    bytes.extend_from_slice(&length.to_be_bytes());
    bytes.extend_from_slice(&payload);
    bytes.extend_from_slice(&jpeg[2..]);
    bytes
}

fn has_gps(jpeg: &[u8]) -> bool {
    let exif = Reader::new()
        .read_from_container(&mut std::io::Cursor::new(jpeg))
        .expect("the EXIF still parses");
    exif.get_field(Tag::GPSLatitudeRef, In::PRIMARY).is_some()
        || exif.get_field(Tag::GPSLatitude, In::PRIMARY).is_some()
}

#[tokio::test]
async fn the_test_photo_carries_gps() {
    assert!(has_gps(&jpeg_with_exif()));
    assert!(image::load_from_memory(&jpeg_with_exif()).is_ok());
}

#[tokio::test]
async fn gps_is_removed_from_the_stored_original_without_re_encoding() {
    let app = spawn_app().await;
    let bytes = jpeg_with_exif();

    let image = app.upload_file("IMG_0001.jpg", &bytes).await;

    let stored = app.get_bytes(image["url"].as_str().expect("url")).await;
    assert!(!has_gps(&stored), "GPS survived in the stored file");
    assert_eq!(stored.len(), bytes.len(), "the removal is in place");
    assert_eq!(image["source_md5"], Value::from(md5_hex(&bytes)));
    assert_eq!(image["md5"], Value::from(md5_hex(&stored)));
    assert_ne!(image["md5"], image["source_md5"]);
    let exif_json = image["original_exifdata"]
        .as_str()
        .expect("an EXIF summary");
    assert!(!exif_json.contains("GPS"), "{exif_json}");
    assert!(exif_json.contains(DESCRIPTION), "{exif_json}");
}

#[tokio::test]
async fn with_strip_gps_off_the_original_is_kept_byte_for_byte() {
    let app = spawn_app_with(|config| config.strip_gps = false).await;
    let bytes = jpeg_with_exif();

    let image = app.upload_file("IMG_0001.jpg", &bytes).await;

    assert_eq!(
        app.get_bytes(image["url"].as_str().expect("url")).await,
        bytes
    );
    assert_eq!(image["md5"], image["source_md5"]);
}

#[tokio::test]
async fn the_exif_description_is_the_title_unless_one_is_sent() {
    let app = spawn_app().await;
    let bytes = jpeg_with_exif();

    let from_exif = app.upload_file("IMG_0001.jpg", &bytes).await;
    let sent = app
        .upload_file_with("IMG_0001.jpg", &bytes, &[("title", "Mine")])
        .await;

    assert_eq!(from_exif["title"], DESCRIPTION);
    assert_eq!(expect_image(sent).await["title"], "Mine");
}

#[tokio::test]
async fn use_file_date_shows_the_date_taken_for_admins_only() {
    let app = spawn_app().await;
    let bytes = jpeg_with_exif();
    let user_key = app
        .services
        .db
        .with_conn(|conn| {
            let (user_id, _password) = create_user(conn, "bob", Role::User).expect("a user");
            create_api_key(conn, &app.services.key_ids, user_id)
        })
        .expect("a key for bob");

    let admin = app
        .upload_file_with("a.jpg", &bytes, &[("use_file_date", "1")])
        .await;
    let form = file_form("a.jpg", &bytes).text("use_file_date", "1");
    let user = app.upload_form_at("", Some(&user_key), form).await;

    let admin = expect_image(admin).await;
    assert_eq!(
        admin["date"], "2021-06-15 10:30:00",
        "the local date is the time taken"
    );
    let user = expect_image(user).await;
    assert_ne!(user["date"], "2021-06-15 10:30:00");
    let now = chrono::Utc::now().timestamp();
    let shown = crate::helpers::unix_from_gmt(user["date_gmt"].as_str().expect("a date"));
    assert!((now - shown).abs() < 60, "a user's upload shows now");
}
