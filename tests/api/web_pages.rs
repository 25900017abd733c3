//! The web pages and their assets: the limits endpoint, languages, caching, compression, and
//! HTML that parses without errors.

use std::io::Read;

use html5ever::tendril::TendrilSink;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{expect_image, header, png, spawn_app, spawn_app_with, str_at};

/// Parses a page as a browser would and fails on any parse error (broken nesting, stray end
/// tags, bad attributes…).
#[track_caller]
fn assert_well_formed(page: &str, html: &str) {
    let dom = html5ever::parse_document(
        markup5ever_rcdom::RcDom::default(),
        html5ever::ParseOpts::default(),
    )
    .one(html);
    let errors = dom.errors.borrow();
    assert!(
        errors.is_empty(),
        "{page} has HTML errors {errors:?}:\n{html}"
    );
}

#[test]
fn the_well_formedness_check_catches_broken_nesting() {
    let broken = "<!doctype html><html lang=\"en\"><head><title>x</title></head>\
                  <body><p>a</div></span><table><p></table></body></html>";
    let outcome = std::panic::catch_unwind(|| assert_well_formed("broken", broken));
    assert!(outcome.is_err(), "broken HTML passed the check");
    assert_well_formed(
        "fine",
        "<!doctype html><html lang=\"en\"><head><title>x</title></head><body><p>a</p></body></html>",
    );
}

#[tokio::test]
async fn the_limits_endpoint_says_what_the_server_takes() {
    let app = spawn_app_with(|config| config.max_upload_bytes = 5_000_000).await;

    let response = app.get(&app.url("/api/limits")).await;

    assert_eq!(response.status(), StatusCode::OK);
    let limits: Value = response.json().await.expect("JSON");
    assert_eq!(limits["max_upload_bytes"], 5_000_000);
    assert_eq!(limits["max_upload_size"], "5 MB");
    assert_eq!(
        limits["image_types"],
        serde_json::json!(["JPG", "PNG", "BMP", "GIF", "WEBP"])
    );
    assert_eq!(limits["is_video_enabled"], true);
    let mime_types = limits["mime_types"].as_array().expect("a list");
    assert!(mime_types.contains(&Value::from("image/png")), "{limits}");
}

#[tokio::test]
async fn pages_pick_the_language_from_the_cookie_then_accept_language() {
    let app = spawn_app().await;
    let cases = [
        (None, None, "en", "Sign in to upload."),
        (
            Some("ko-KR,ko;q=0.9,en;q=0.5"),
            None,
            "ko",
            "업로드하려면 로그인하세요.",
        ),
        (
            Some("fr, ko;q=0.3"),
            None,
            "ko",
            "업로드하려면 로그인하세요.",
        ),
        (
            Some("ko"),
            Some("sajin_lang=en"),
            "en",
            "Sign in to upload.",
        ),
        (
            None,
            Some("sajin_lang=ko"),
            "ko",
            "업로드하려면 로그인하세요.",
        ),
        (
            Some("de"),
            Some("sajin_lang=xx"),
            "en",
            "Sign in to upload.",
        ),
    ];

    for (accept, cookie, lang, text) in cases {
        let mut request = app.client.get(app.url("/"));
        if let Some(accept) = accept {
            request = request.header("Accept-Language", accept);
        }
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        let html = request
            .send()
            .await
            .expect("a page")
            .text()
            .await
            .expect("a body");

        assert!(
            html.contains(&format!("<html lang=\"{lang}\">")),
            "{accept:?} {cookie:?}"
        );
        assert!(html.contains(text), "{accept:?} {cookie:?}:\n{html}");
    }
}

#[tokio::test]
async fn assets_revalidate_by_etag_and_fingerprinted_ones_are_cached_for_good() {
    let app = spawn_app().await;
    let page = app
        .get(&app.url("/login"))
        .await
        .text()
        .await
        .expect("a page");
    let style = page
        .split("href=\"")
        .find_map(|rest| {
            rest.split('"')
                .next()
                .filter(|url| url.ends_with("style.css"))
        })
        .expect("a stylesheet link")
        .to_string();
    assert_ne!(
        style, "/static/style.css",
        "the page links an unversioned stylesheet"
    );

    let cases = [
        (style.as_str(), "public, max-age=31536000, immutable"),
        ("/static/style.css", "no-cache"),
        ("/static/000000000000/style.css", "no-cache"),
    ];
    for (path, cache) in cases {
        let first = app.get(&app.url(path)).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&first, "cache-control"), cache, "{path}");
        let etag = header(&first, "etag");
        assert!(!etag.is_empty(), "{path}");

        let again = app
            .client
            .get(app.url(path))
            .header("If-None-Match", &etag)
            .send()
            .await
            .expect("an answer");

        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(header(&again, "etag"), etag, "{path}");
    }
}

#[tokio::test]
async fn text_is_gzipped_for_clients_that_ask_and_images_are_not() {
    let app = spawn_app().await;
    let image = app.upload_file("a.png", &png(64, 64, 1)).await;
    let plain = app.get_bytes(&app.url("/static/upload.js")).await;

    let gzipped = app
        .client
        .get(app.url("/static/upload.js"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("an answer");
    assert_eq!(header(&gzipped, "content-encoding"), "gzip");
    let compressed = gzipped.bytes().await.expect("a body");
    assert!(
        compressed.len() < plain.len() / 2,
        "{} of {}",
        compressed.len(),
        plain.len()
    );
    let mut unpacked = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut unpacked)
        .expect("valid gzip");
    assert_eq!(unpacked, plain);

    let picture = app
        .client
        .get(str_at(&image, "/url"))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("an answer");
    assert_eq!(header(&picture, "content-encoding"), "");
}

#[tokio::test]
async fn every_page_is_well_formed_html_with_user_text_escaped() {
    let app = spawn_app().await;
    let session = app.login().await;
    let nasty = "<script>alert(1)</script> & \"quotes\"";
    let response = app
        .upload_file_with(
            "a.png",
            &png(900, 600, 3),
            &[
                ("title", nasty),
                ("description", nasty),
                ("tags", "<b>,x\"y"),
                ("nsfw", "1"),
            ],
        )
        .await;
    let image = expect_image(response).await;
    let viewer = crate::helpers::url_path(str_at(&image, "/url_viewer"));
    let delete_link = crate::helpers::url_path(str_at(&image, "/delete_url"));
    let in_korean = format!("{}; sajin_lang=ko", session.cookie);
    let pages = [
        ("/", None),
        ("/", Some(session.cookie.as_str())),
        ("/", Some(in_korean.as_str())),
        ("/login", None),
        (viewer.as_str(), None),
        (viewer.as_str(), Some(session.cookie.as_str())),
        (viewer.as_str(), Some(in_korean.as_str())),
        ("/uploads", Some(session.cookie.as_str())),
        (delete_link.as_str(), None),
        ("/no/such/page", None),
    ];

    for (path, cookie) in pages {
        let response = match cookie {
            Some(cookie) => app.get_with_cookie(path, cookie).await,
            None => app.get(&app.url(path)).await,
        };
        let policy = header(&response, "content-security-policy");
        assert!(policy.contains("script-src 'self';"), "{path}: {policy:?}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy:?}"
        );
        let html = response.text().await.expect("a page");

        assert_well_formed(path, &html);
        assert!(
            !html.contains("<script>alert"),
            "{path} lets markup through:\n{html}"
        );
        assert!(!html.contains("<b>"), "{path} lets markup through:\n{html}");
    }
}

#[tokio::test]
async fn forms_and_query_strings_that_do_not_parse_get_a_page_not_plain_text() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();

    let bodiless_logout = client
        .post(app.url("/logout"))
        .send()
        .await
        .expect("request");
    let bad_page_number = client
        .get(app.url("/uploads?page=abc"))
        .send()
        .await
        .expect("request");

    for (what, response) in [("logout", bodiless_logout), ("page", bad_page_number)] {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{what}");
        let content_type = header(&response, "content-type");
        assert!(
            content_type.starts_with("text/html"),
            "{what}: {content_type}"
        );
        let html = response.text().await.expect("body");
        assert!(html.contains("<h1>Bad request</h1>"), "{what}: {html}");
        assert_well_formed(what, &html);
    }
}
