//! The pages around stored uploads: the viewer's details and owner actions, "my uploads", and
//! deleting from a page with the session's CSRF token.

use reqwest::StatusCode;

use crate::helpers::{expect_image, header, png, spawn_app, str_at, url_path};

#[tokio::test]
async fn the_viewer_shows_tags_facts_and_share_links_and_delete_only_to_the_owner() {
    let app = spawn_app().await;
    let session = app.login().await;
    let fields = [
        ("title", "Harbour"),
        ("tags", "sea,boats"),
        ("description", "At dusk"),
    ];
    let image = expect_image(
        app.upload_file_with("a.png", &png(800, 600, 1), &fields)
            .await,
    )
    .await;
    let viewer = url_path(str_at(&image, "/url_viewer"));

    let as_owner = app.get_with_cookie(&viewer, &session.cookie).await;
    let html = as_owner.text().await.expect("a page");
    assert!(html.contains("<li>sea</li><li>boats</li>"), "{html}");
    assert!(html.contains("<dd>800 × 600</dd>"), "{html}");
    assert!(
        html.contains("<p class=\"description\">At dusk</p>"),
        "{html}"
    );
    let direct = format!("value=\"{}\" data-copy", str_at(&image, "/url"));
    assert!(html.contains(&direct), "no direct link to copy in\n{html}");
    assert!(html.contains("<meta name=\"twitter:card\" content=\"summary_large_image\">"));
    let delete_action = format!("action=\"/image/{}/delete\"", str_at(&image, "/id_encoded"));
    assert!(
        html.contains(&delete_action),
        "no delete for the owner:\n{html}"
    );

    let as_guest = app.get(str_at(&image, "/url_viewer")).await;
    let html = as_guest.text().await.expect("a page");
    assert!(
        !html.contains(&delete_action),
        "a guest may delete:\n{html}"
    );
}

#[tokio::test]
async fn an_nsfw_upload_is_blurred_and_its_preview_tags_carry_no_picture() {
    let app = spawn_app().await;
    let image = expect_image(
        app.upload_file_with("a.png", &png(64, 64, 1), &[("nsfw", "1")])
            .await,
    )
    .await;

    let html = app
        .get(str_at(&image, "/url_viewer"))
        .await
        .text()
        .await
        .expect("a page");

    assert!(html.contains("id=\"media\" class=\"blurred\""), "{html}");
    assert!(html.contains("data-reveal=\"media\""), "{html}");
    assert!(!html.contains("og:image"), "{html}");
}

#[tokio::test]
async fn the_owner_deletes_from_a_page_only_with_the_session_s_csrf_token() {
    let app = spawn_app().await;
    let session = app.login().await;
    let image = app.upload_file("a.png", &png(64, 64, 1)).await;
    let action = app.url(&format!("/image/{}/delete", str_at(&image, "/id_encoded")));
    let post = |cookie: Option<String>, csrf: &str| {
        let mut request = app.client.post(&action).form(&[("csrf", csrf.to_string())]);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        request.send()
    };

    for (case, cookie, csrf) in [
        ("a wrong token", Some(session.cookie.clone()), "forged"),
        ("no session", None, session.csrf.as_str()),
    ] {
        let response = post(cookie, csrf).await.expect("an answer");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{case}");
        assert_eq!(
            app.status_of(str_at(&image, "/url")).await,
            StatusCode::OK,
            "{case}"
        );
    }

    let response = post(Some(session.cookie.clone()), &session.csrf)
        .await
        .expect("an answer");

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&response, "location"), "/uploads");
    assert_eq!(app.row_count(), 0);
    assert_eq!(
        app.status_of(str_at(&image, "/url")).await,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn my_uploads_lists_newest_first_a_page_at_a_time() {
    let app = spawn_app().await;
    let session = app.login().await;
    let mut titles = Vec::new();
    for seed in 0..26u8 {
        let title = format!("Picture {seed:02}");
        let fields = [("title", title.as_str())];
        expect_image(
            app.upload_file_with("a.png", &png(8, 8, seed), &fields)
                .await,
        )
        .await;
        titles.push(title);
    }
    // Uploads within one second share a timestamp; the id orders them then.
    titles.reverse();

    let first = app.get_with_cookie("/uploads", &session.cookie).await;
    let html = first.text().await.expect("a page");
    let shown = names_in(&html);
    assert_eq!(shown, titles[..24].to_vec());
    assert!(html.contains("href=\"/uploads?page=2\""), "{html}");
    assert!(html.contains("Page 1 of 2"), "{html}");

    let second = app
        .get_with_cookie("/uploads?page=2", &session.cookie)
        .await;
    let html = second.text().await.expect("a page");
    assert_eq!(names_in(&html), titles[24..].to_vec());
    assert!(html.contains("href=\"/uploads?page=1\""), "{html}");
}

#[tokio::test]
async fn guests_are_sent_from_my_uploads_to_the_login_page() {
    let app = spawn_app().await;

    let response = app.get(&app.url("/uploads")).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&response, "location"), "/login?next=/uploads");
}

fn names_in(html: &str) -> Vec<String> {
    html.split("<span class=\"name\">")
        .skip(1)
        .filter_map(|rest| rest.split("</span>").next())
        .map(str::to_string)
        .collect()
}
