//! Browser sessions: logging in and out, and the CSRF tokens every state-changing browser
//! request must carry, including uploads from the upload page.

use reqwest::StatusCode;

use crate::helpers::{
    expect_api_error, expect_image, file_form, header, hidden_value, png, set_cookie,
    set_cookie_header, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn a_login_opens_a_session_whose_pages_name_the_user_and_logout_ends_it() {
    let app = spawn_app().await;
    let session = app.login().await;

    let page = app.get_with_cookie("/", &session.cookie).await;
    let html = page.text().await.expect("a page");
    assert!(html.contains("<span class=\"user\">admin</span>"), "{html}");
    assert!(
        html.contains("id=\"drop-zone\""),
        "not the uploader:\n{html}"
    );
    assert!(
        !html.contains("{{"),
        "a template name was left unfilled:\n{html}"
    );

    let logout = app
        .client
        .post(app.url("/logout"))
        .header("Cookie", &session.cookie)
        .form(&[("csrf", session.csrf.as_str())])
        .send()
        .await
        .expect("an answer");
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie_header(&logout, "sajin_session").contains("Max-Age=0"));

    let after = app.get_with_cookie("/", &session.cookie).await;
    let html = after.text().await.expect("a page");
    assert!(html.contains("href=\"/login\""), "still logged in:\n{html}");
    assert!(!html.contains("id=\"drop-zone\""), "{html}");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_secure_behind_https() {
    let cases = [
        (None, false),
        (Some("http://nas.local:8080"), false),
        (Some("https://photos.example"), true),
    ];
    for (public_url, is_secure) in cases {
        let app = spawn_app_with(|config| config.public_url = public_url.map(str::to_string)).await;
        let password = app.admin_password();

        let response = app.post_login("admin", &password).await;

        let cookie = set_cookie_header(&response, "sajin_session");
        assert!(cookie.contains("; HttpOnly"), "{cookie}");
        assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
        assert_eq!(
            cookie.contains("; Secure"),
            is_secure,
            "{public_url:?}: {cookie}"
        );
    }
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_are_refused_alike_without_a_session() {
    let app = spawn_app().await;
    let password = app.admin_password();
    let cases = [
        ("admin", "not the password"),
        ("nobody", password.as_str()),
        ("admin", ""),
    ];

    for (username, password) in cases {
        let response = app.post_login(username, password).await;

        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{username}");
        assert_eq!(set_cookie(&response, "sajin_session"), None, "{username}");
        let html = response.text().await.expect("a page");
        assert!(html.contains("Wrong user name or password."), "{html}");
    }
}

#[tokio::test]
async fn a_login_post_without_its_form_token_opens_no_session() {
    let app = spawn_app().await;
    let password = app.admin_password();
    let form_page = app.get(&app.url("/login")).await;
    let cookie = set_cookie(&form_page, "sajin_login").expect("a login cookie");
    let token = hidden_value(&form_page.text().await.expect("a form"), "csrf");
    let cases = [
        ("no cookie", None, token.clone()),
        ("another token", Some(cookie.clone()), "forged".to_string()),
        ("an empty token", Some(String::new()), String::new()),
    ];

    for (case, cookie, sent) in cases {
        let mut request = app.client.post(app.url("/login")).form(&[
            ("username", "admin"),
            ("password", password.as_str()),
            ("csrf", sent.as_str()),
        ]);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", format!("sajin_login={cookie}"));
        }
        let response = request.send().await.expect("an answer");

        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{case}");
        assert_eq!(set_cookie(&response, "sajin_session"), None, "{case}");
    }
}

#[tokio::test]
async fn forms_with_missing_fields_get_the_page_s_refusal() {
    let app = spawn_app().await;
    let session = app.login().await;
    let cases = [
        ("/login", None, "username=admin"),
        ("/logout", Some(session.cookie.as_str()), ""),
    ];

    for (path, cookie, body) in cases {
        let mut request = app
            .client
            .post(app.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        let response = request.send().await.expect("an answer");

        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            header(&response, "content-type").starts_with("text/html"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn logout_without_the_session_s_csrf_token_is_refused_and_keeps_the_session() {
    let app = spawn_app().await;
    let session = app.login().await;

    for sent in ["", "forged"] {
        let response = app
            .client
            .post(app.url("/logout"))
            .header("Cookie", &session.cookie)
            .form(&[("csrf", sent)])
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{sent:?}");
    }

    let page = app.get_with_cookie("/", &session.cookie).await;
    let html = page.text().await.expect("a page");
    assert!(html.contains("id=\"drop-zone\""), "logged out:\n{html}");
}

#[tokio::test]
async fn the_login_page_only_sends_on_to_local_paths() {
    let app = spawn_app().await;
    let session = app.login().await;
    let cases = [
        ("/login?next=/uploads", "/uploads"),
        ("/login?next=//evil.example/", "/"),
        ("/login?next=https://evil.example/", "/"),
    ];

    for (path, expected) in cases {
        let response = app.get_with_cookie(path, &session.cookie).await;

        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(header(&response, "location"), expected, "{path}");
    }
}

#[tokio::test]
async fn a_browser_upload_is_stored_for_the_session_s_user() {
    let app = spawn_app().await;
    let session = app.login().await;

    let response = app
        .browser_upload(
            Some(&session.cookie),
            Some(&session.csrf),
            file_form("a.png", &png(40, 30, 1)),
        )
        .await;

    let image = expect_image(response).await;
    let id = image["id_encoded"].as_str().expect("an id");
    let record = app.record(id).expect("a row");
    let admin_id: i64 = app
        .services
        .db
        .with_conn(|conn| sajin::db::users::find_by_name(conn, "admin"))
        .expect("the database answers")
        .expect("admin")
        .id;
    assert_eq!(record.user_id, Some(admin_id));
}

#[tokio::test]
async fn a_browser_upload_without_its_session_or_csrf_token_stores_nothing() {
    let app = spawn_app().await;
    let session = app.login().await;
    let before = app.snapshot();
    let cases = [
        (
            "a wrong token",
            Some(session.cookie.as_str()),
            Some("forged"),
            403,
        ),
        (
            "an empty token",
            Some(session.cookie.as_str()),
            Some(""),
            403,
        ),
        ("no session", None, Some(session.csrf.as_str()), 401),
        (
            "an unknown session",
            Some("sajin_session=forged"),
            Some(session.csrf.as_str()),
            401,
        ),
        ("the cookie alone", Some(session.cookie.as_str()), None, 403),
    ];

    for (case, cookie, csrf, status) in cases {
        let response = app
            .browser_upload(cookie, csrf, file_form("a.png", &png(40, 30, 2)))
            .await;

        let message = expect_api_error(response, status, 100).await;
        assert!(!message.is_empty(), "{case}");
        if cookie.is_some() && csrf.is_none() {
            assert!(
                message.contains("security token is missing"),
                "{case}: {message}"
            );
        }
    }
    app.assert_nothing_stored(&before);
}
