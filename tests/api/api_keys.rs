//! Where the API key may come from, and what a request without a valid one gets.

use reqwest::multipart::Form;

use crate::helpers::{
    assert_api_error_body, chunk, expect_api_error, expect_image, file_form, file_part, header,
    png, spawn_app,
};

#[tokio::test]
async fn the_key_is_accepted_from_the_header_the_form_and_the_query_string() {
    let app = spawn_app().await;
    let bytes = png(32, 32, 1);

    let key = app.api_key.clone();
    let from_header = app
        .upload_form_at("", Some(&key), file_form("a.png", &bytes))
        .await;
    let form_with_key = file_form("a.png", &bytes).text("key", key.clone());
    let from_form = app.upload_form_at("", None, form_with_key).await;
    let query = format!("key={key}");
    let from_query = app
        .upload_form_at(&query, None, file_form("a.png", &bytes))
        .await;

    for (place, response) in [
        ("header", from_header),
        ("form", from_form),
        ("query", from_query),
    ] {
        let image = expect_image(response).await;
        assert!(image["url"].is_string(), "key in the {place}: {image}");
    }
    assert_eq!(app.row_count(), 3);
}

#[tokio::test]
async fn the_key_is_accepted_in_an_urlencoded_body() {
    let app = spawn_app().await;
    let encoded = base64_png();

    let response = app
        .client
        .post(app.url("/api/1/upload"))
        .form(&[("key", app.api_key.as_str()), ("source", encoded.as_str())])
        .send()
        .await
        .expect("answered");

    expect_image(response).await;
}

#[tokio::test]
async fn the_header_key_wins_over_a_wrong_form_key() {
    let app = spawn_app().await;

    let form = Form::new()
        .text("key", "chv_wrong_key")
        .part("source", file_part("a.png", &png(32, 32, 1)));
    let response = app.upload_form_at("", Some(&app.api_key), form).await;

    expect_image(response).await;
}

#[tokio::test]
async fn requests_without_a_valid_key_are_refused_with_401_code_100_and_store_nothing() {
    let app = spawn_app().await;
    let mut changed_secret = app.api_key.clone();
    let last = changed_secret.pop().expect("a non-empty key");
    changed_secret.push(if last == 'a' { 'b' } else { 'a' });
    let cases: [(&str, Option<&str>); 6] = [
        ("no key at all", None),
        ("an empty key", Some("")),
        ("a key of spaces", Some("   ")),
        ("a made-up key", Some("chv_nope_0123456789")),
        ("not a chv key", Some("12345")),
        (
            "a real key id with a changed secret",
            Some(changed_secret.as_str()),
        ),
    ];
    let before = app.snapshot();

    for (case, key) in cases {
        let response = app
            .upload_form_at("", key, file_form("a.png", &png(32, 32, 1)))
            .await;

        assert_eq!(header(&response, "www-authenticate"), "X-API-Key", "{case}");
        let message = expect_api_error(response, 401, 100).await;
        assert!(!message.is_empty(), "{case}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn a_missing_key_is_reported_before_a_missing_source() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/1/upload"))
        .send()
        .await
        .expect("answered");

    expect_api_error(response, 401, 100).await;
}

#[tokio::test]
async fn a_revoked_key_or_a_disabled_account_is_refused_with_403_code_100() {
    let app = spawn_app().await;
    let cases = [
        (
            "a revoked key",
            "UPDATE api_keys SET revoked_at = 1",
            "UPDATE api_keys SET revoked_at = NULL",
        ),
        (
            "a disabled account",
            "UPDATE users SET is_disabled = 1",
            "UPDATE users SET is_disabled = 0",
        ),
    ];
    let before = app.snapshot();

    for (case, refuse, restore) in cases {
        app.execute_sql(refuse, []);
        let response = app.upload_file_with("a.png", &png(32, 32, 1), &[]).await;

        let message = expect_api_error(response, 403, 100).await;
        assert!(message.contains("revoked"), "{case}: {message}");
        app.assert_nothing_stored(&before);
        app.execute_sql(restore, []);
    }
    expect_image(app.upload_file_with("a.png", &png(32, 32, 1), &[]).await).await;
}

fn base64_png() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(png(32, 32, 2))
}

#[tokio::test]
async fn a_wrong_header_key_is_refused_before_the_body_is_read() {
    let app = spawn_app().await;
    let multipart = "Content-Type: multipart/form-data; boundary=xyz";
    let cases = [
        (
            "a wrong header key, chunked body",
            format!("POST /api/1/upload HTTP/1.1\r\nX-API-Key: chv_nope_0123\r\n{multipart}\r\nTransfer-Encoding: chunked"),
        ),
        (
            "a wrong header key, declared length",
            format!("POST /api/1/upload HTTP/1.1\r\nX-API-Key: chv_nope_0123\r\n{multipart}\r\nContent-Length: 5000000"),
        ),
    ];
    let before = app.snapshot();

    for (case, head) in cases {
        let answer = app
            .answer_to_unfinished_request(&head, chunk(b"--xyz\r\n"))
            .await;

        assert_eq!(answer.status, 401, "{case}: {answer:?}");
        let message = assert_api_error_body(&answer.json(), 401, 100);
        assert_eq!(message, "Invalid API key", "{case}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn a_form_key_overrides_a_query_key() {
    let app = spawn_app().await;
    let other_key = crate::helpers::new_admin_key(&app.services);
    let encoded_id = other_key.split('_').nth(1).expect("chv_<id>_<secret>");
    let other_id = app.services.key_ids.decode(encoded_id).expect("a key id") as i64;
    app.execute_sql(
        "UPDATE api_keys SET revoked_at = 1 WHERE id = ?1",
        [other_id],
    );
    let query = format!("key={}", app.api_key);
    let form = file_form("a.png", &png(32, 32, 1)).text("key", other_key);

    let response = app.upload_form_at(&query, None, form).await;

    let message = expect_api_error(response, 403, 100).await;
    assert!(message.contains("revoked"), "{message}");
}

#[tokio::test]
async fn a_good_form_key_wins_over_a_wrong_query_key_or_a_blank_header() {
    let app = spawn_app().await;
    let form = || file_form("a.png", &png(32, 32, 1)).text("key", app.api_key.clone());

    let with_wrong_query = app.upload_form_at("key=chv_nope_0123", None, form()).await;
    let with_blank_header = app
        .client
        .post(app.url("/api/1/upload"))
        .header("X-API-Key", "")
        .multipart(form())
        .send()
        .await
        .expect("an answer");

    expect_image(with_wrong_query).await;
    expect_image(with_blank_header).await;
}
