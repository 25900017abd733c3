//! The optional upload parameters: title, description, tags, nsfw, width, expiration, album
//! and category, and what happens to values the API cannot use.

use serde_json::Value;

use crate::helpers::{
    dimensions, expect_api_error, expect_image, png, spawn_app, str_at, unix_from_gmt,
};

#[tokio::test]
async fn title_description_and_tags_are_stored_and_returned() {
    let app = spawn_app().await;

    let fields = [
        ("title", "  Sunset over the bay "),
        ("description", "Taken from the pier.\nSecond line."),
        ("tags", " a,b,, c ,a "),
    ];
    let response = app
        .upload_file_with("photo.png", &png(64, 64, 1), &fields)
        .await;
    let image = expect_image(response).await;

    assert_eq!(image["title"], "Sunset over the bay");
    assert_eq!(image["display_title"], "Sunset over the bay");
    assert_eq!(image["description"], "Taken from the pier.\nSecond line.");
    assert_eq!(image["tags"], serde_json::json!(["a", "b", "c"]));
    assert_eq!(image["tags_string"], "a, b, c");
    let id = str_at(&image, "/id_encoded");
    assert_eq!(
        image["path_viewer"],
        Value::from(format!("/image/sunset-over-the-bay.{id}"))
    );
}

#[tokio::test]
async fn a_long_title_is_truncated_in_title_truncated_only() {
    let app = spawn_app().await;
    let title = "Badgers animated music video MrWeebl";

    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &[("title", title)])
        .await;
    let image = expect_image(response).await;

    assert_eq!(image["title"], title);
    assert_eq!(image["title_truncated"], "Badgers animated music vi...");
}

#[tokio::test]
async fn nsfw_accepts_0_and_1_and_refuses_anything_else() {
    let app = spawn_app().await;
    let accepted = [("1", 1), ("0", 0), ("true", 1), ("false", 0), ("", 0)];
    for (value, expected) in accepted {
        let response = app
            .upload_file_with("a.png", &png(32, 32, 1), &[("nsfw", value)])
            .await;

        let image = expect_image(response).await;
        assert_eq!(image["nsfw"], Value::from(expected), "nsfw={value:?}");
    }
    let before = app.snapshot();

    for value in ["maybe", "2", "yes"] {
        let response = app
            .upload_file_with("a.png", &png(32, 32, 1), &[("nsfw", value)])
            .await;

        let message = expect_api_error(response, 400, 400).await;
        assert!(message.contains("nsfw"), "nsfw={value:?}: {message}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn width_narrower_than_the_image_resizes_the_stored_original() {
    let app = spawn_app().await;
    let bytes = png(800, 600, 1);

    let response = app
        .upload_file_with("photo.png", &bytes, &[("width", "200")])
        .await;
    let image = expect_image(response).await;

    assert_eq!(image["width"], Value::from(200));
    assert_eq!(image["height"], Value::from(150));
    assert_ne!(image["md5"], image["source_md5"]);
    let stored = app.get_bytes(str_at(&image, "/url")).await;
    assert_eq!(dimensions(&stored), (200, 150));
    assert_eq!(image["size"], Value::from(stored.len()));
    assert_eq!(
        image["chain"],
        Value::from(5),
        "a 200 wide original has no medium"
    );
}

#[tokio::test]
async fn width_at_least_the_image_width_leaves_it_unchanged() {
    let app = spawn_app().await;
    let bytes = png(800, 600, 1);

    for width in ["5000", "800"] {
        let response = app
            .upload_file_with("photo.png", &bytes, &[("width", width)])
            .await;

        let image = expect_image(response).await;
        assert_eq!(
            (&image["width"], &image["height"]),
            (&Value::from(800), &Value::from(600))
        );
        assert_eq!(image["md5"], image["source_md5"], "width={width}");
        assert_eq!(
            app.get_bytes(str_at(&image, "/url")).await,
            bytes,
            "width={width}"
        );
    }
}

#[tokio::test]
async fn width_that_is_not_a_positive_whole_number_is_refused() {
    let app = spawn_app().await;
    let before = app.snapshot();

    for width in ["abc", "0", "-1", "1.5", "99999999999"] {
        let response = app
            .upload_file_with("photo.png", &png(64, 64, 1), &[("width", width)])
            .await;

        let message = expect_api_error(response, 400, 400).await;
        assert!(message.contains("width"), "width={width}: {message}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn an_expiration_sets_expiration_date_gmt_that_far_ahead() {
    let app = spawn_app().await;
    let cases = [
        ("PT5M", 300),
        ("P3D", 3 * 86_400),
        ("pt1h", 3_600),
        ("P1W", 7 * 86_400),
    ];

    for (expiration, seconds) in cases {
        let before = chrono::Utc::now().timestamp();
        let response = app
            .upload_file_with("a.png", &png(32, 32, 1), &[("expiration", expiration)])
            .await;
        let after = chrono::Utc::now().timestamp();

        let image = expect_image(response).await;
        let expires = unix_from_gmt(str_at(&image, "/expiration_date_gmt"));
        let window = before + seconds..=after + seconds;
        assert!(
            window.contains(&expires),
            "{expiration}: {expires} not in {window:?}"
        );
        let record = app.record(str_at(&image, "/id_encoded")).expect("the row");
        assert_eq!(record.expires_at, Some(expires), "{expiration}");
    }
}

#[tokio::test]
async fn an_empty_expiration_means_the_upload_never_expires() {
    let app = spawn_app().await;

    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &[("expiration", "")])
        .await;

    let image = expect_image(response).await;
    assert_eq!(image["expiration_date_gmt"], Value::Null);
}

#[tokio::test]
async fn an_expiration_that_is_not_an_iso_8601_duration_is_refused() {
    let app = spawn_app().await;
    let before = app.snapshot();

    for expiration in ["tomorrow", "-P1D", "PT0S", "300", "P", "PT", "P1H"] {
        let response = app
            .upload_file_with("a.png", &png(32, 32, 1), &[("expiration", expiration)])
            .await;

        let message = expect_api_error(response, 400, 400).await;
        assert!(message.contains("expiration"), "{expiration}: {message}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn an_album_that_does_not_exist_is_refused() {
    let app = spawn_app().await;
    let unknown_but_well_formed = app.services.ids.encode(999);
    let before = app.snapshot();

    for album in [unknown_but_well_formed.as_str(), "!!!", "0"] {
        let response = app
            .upload_file_with("a.png", &png(32, 32, 1), &[("album_id", album)])
            .await;

        let status = response.status();
        assert!(status.is_client_error(), "album_id={album}: {status}");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(body["status_code"], Value::from(status.as_u16()), "{body}");
        assert!(body["error"]["message"].is_string(), "{body}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn a_category_id_that_is_not_a_number_or_does_not_exist_is_refused() {
    let app = spawn_app().await;
    let before = app.snapshot();
    let cases = [("abc", Some(400)), ("-3", Some(400)), ("999", None)];

    for (category, exact_status) in cases {
        let response = app
            .upload_file_with("a.png", &png(32, 32, 1), &[("category_id", category)])
            .await;

        let status = response.status().as_u16();
        match exact_status {
            Some(expected) => assert_eq!(status, expected, "category_id={category}"),
            None => assert!(
                (400..500).contains(&status),
                "category_id={category}: {status}"
            ),
        }
        let body: Value = response.json().await.expect("a JSON error");
        assert!(body["error"]["message"].is_string(), "{body}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let app = spawn_app().await;

    // ShareX and browsers send fields of their own; a large one is no reason to refuse.
    let large = "x".repeat(200 * 1024);
    let fields = [
        ("frobnicate", "yes"),
        ("album", "x"),
        ("private", "1"),
        ("client_state", large.as_str()),
        ("format", "json"),
    ];
    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &fields)
        .await;

    expect_image(response).await;
}

#[tokio::test]
async fn a_title_with_markup_is_returned_raw_in_json_and_escaped_on_the_viewer_page() {
    let app = spawn_app().await;
    let title = "<script>alert(1)</script> & \"quotes\"";

    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &[("title", title)])
        .await;
    let image = expect_image(response).await;

    assert_eq!(image["title"], title);
    assert_eq!(image["display_title"], title);
    let html = app
        .get(str_at(&image, "/url_viewer"))
        .await
        .text()
        .await
        .expect("a page");
    assert!(
        !html.contains("<script>alert"),
        "the title is not escaped:\n{html}"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
}

#[tokio::test]
async fn a_text_field_over_64_kb_is_refused_with_a_json_error() {
    let app = spawn_app().await;
    let long_title = "x".repeat(200_000);
    let before = app.snapshot();

    let form = reqwest::multipart::Form::new()
        .text("title", long_title)
        .part(
            "source",
            crate::helpers::file_part("a.png", &crate::helpers::noise_png(600, 600, 1)),
        );
    let response = app.upload_form(form).await;

    let message = expect_api_error(response, 400, 400).await;
    assert!(message.contains("title"), "{message}");
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn expirations_are_clamped_to_one_minute_and_one_year() {
    let app = spawn_app().await;
    let year_from = |seconds: i64| {
        let time = chrono::DateTime::from_timestamp(seconds, 0).expect("a time");
        time.checked_add_months(chrono::Months::new(12))
            .expect("a year later")
            .timestamp()
    };
    type ExpiresAt = fn(i64) -> i64;
    let cases: [(&str, ExpiresAt); 4] = [
        ("PT1M", |now| now + 60),
        ("PT1S", |now| now + 60),
        ("PT30S", |now| now + 60),
        ("P99999999999Y", year_from),
    ];

    for (expiration, expected) in cases {
        let before = chrono::Utc::now().timestamp();
        let response = app
            .upload_file_with("a.png", &png(32, 32, 1), &[("expiration", expiration)])
            .await;
        let after = chrono::Utc::now().timestamp();

        let image = expect_image(response).await;
        let expires = unix_from_gmt(str_at(&image, "/expiration_date_gmt"));
        let window = expected(before)..=expected(after);
        assert!(
            window.contains(&expires),
            "{expiration}: {expires} not in {window:?}"
        );
    }
}

#[tokio::test]
async fn a_description_with_markup_is_escaped_on_the_viewer_and_delete_pages() {
    let app = spawn_app().await;
    let fields = [
        ("title", "<b>bold</b>"),
        ("description", "<img src=x onerror=alert(1)>"),
    ];

    let response = app
        .upload_file_with("a.png", &png(32, 32, 1), &fields)
        .await;
    let image = expect_image(response).await;

    assert_eq!(image["description"], "<img src=x onerror=alert(1)>");
    for pointer in ["/url_viewer", "/delete_url"] {
        let html = app
            .get(str_at(&image, pointer))
            .await
            .text()
            .await
            .expect("a page");
        assert!(!html.contains("<b>bold"), "{pointer}:\n{html}");
        assert!(!html.contains("<img src=x"), "{pointer}:\n{html}");
        assert!(
            html.contains("&lt;b&gt;bold&lt;/b&gt;"),
            "{pointer}:\n{html}"
        );
    }
}
