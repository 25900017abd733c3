//! `GET /metrics`: the Prometheus text page, and who may read it.

use reqwest::StatusCode;

use sajin::auth::{create_api_key, create_user};
use sajin::db::users::Role;

use crate::helpers::{expect_api_error, header, png, spawn_app, spawn_app_with, TestApp};

async fn metrics_page(app: &TestApp) -> String {
    let response = app.get(&app.url("/metrics")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        header(&response, "content-type").starts_with("application/openmetrics-text"),
        "{response:?}"
    );
    response.text().await.expect("the page arrives")
}

/// The value of the sample named exactly `name` (with its labels), when the page has it.
fn sample(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

fn user_key(app: &TestApp, name: &str, role: Role) -> String {
    app.services
        .db
        .with_conn(|conn| {
            let (user_id, _) = create_user(conn, name, role).expect("the user is created");
            create_api_key(conn, &app.services.key_ids, user_id)
        })
        .expect("the key is created")
}

#[tokio::test]
async fn the_page_counts_uploads_by_result_and_type_and_the_bytes_stored() {
    let app = spawn_app().await;
    let image = app.upload_file("a.png", &png(800, 600, 1)).await;
    let refused = app
        .upload_form_at(
            "",
            Some("chv_wrong_key"),
            crate::helpers::file_form("b.png", &png(8, 8, 2)),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let page = metrics_page(&app).await;

    let stored = r#"sajin_uploads_total{result="stored",type="image"}"#;
    let rejected = r#"sajin_uploads_total{result="refused",type="unknown"}"#;
    assert_eq!(sample(&page, stored), Some(1.0), "{page}");
    assert_eq!(sample(&page, rejected), Some(1.0), "{page}");
    assert_eq!(
        sample(&page, "sajin_upload_processing_seconds_count"),
        Some(1.0),
        "{page}"
    );
    let record = app
        .record(crate::helpers::str_at(&image, "/id_encoded"))
        .expect("the row");
    let medium = record.medium.as_ref().map_or(0, |medium| medium.size);
    let bytes = record.size + record.thumb.size + medium;
    assert_eq!(
        sample(&page, "sajin_stored_bytes"),
        Some(bytes as f64),
        "{page}"
    );
    assert!(
        sample(&page, "sajin_disk_free_bytes").is_some_and(|free| free > 0.0),
        "{page}"
    );
    assert!(
        sample(&page, "sajin_disk_reserve_bytes").is_some(),
        "{page}"
    );
    assert!(sample(&page, "sajin_purge_runs_total").is_some(), "{page}");
    assert!(
        sample(&page, "sajin_purged_uploads_total").is_some(),
        "{page}"
    );
    assert!(
        page.contains("# TYPE sajin_upload_processing_seconds histogram"),
        "{page}"
    );
    assert!(page.ends_with("# EOF\n"), "{page}");
}

#[tokio::test]
async fn through_a_proxy_the_page_needs_an_admin_key() {
    let app = spawn_app().await;
    let user = user_key(&app, "alice", Role::User);
    let cases = [
        (None, StatusCode::UNAUTHORIZED),
        (Some("chv_not_a_key"), StatusCode::UNAUTHORIZED),
        (Some(user.as_str()), StatusCode::FORBIDDEN),
        (Some(app.api_key.as_str()), StatusCode::OK),
    ];

    for (key, expected) in cases {
        let mut request = app
            .client
            .get(app.url("/metrics"))
            .header("X-Forwarded-For", "203.0.113.9");
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        let response = request.send().await.expect("answered");

        assert_eq!(response.status(), expected, "key {key:?}");
        if expected != StatusCode::OK {
            let code = if expected == StatusCode::FORBIDDEN {
                403
            } else {
                100
            };
            expect_api_error(response, expected.as_u16(), code).await;
        }
    }
}

#[tokio::test]
async fn metrics_public_opens_the_page_to_proxied_clients_without_a_key() {
    let app = spawn_app_with(|config| config.metrics_public = true).await;

    let response = app
        .client
        .get(app.url("/metrics"))
        .header("Forwarded", "for=203.0.113.9")
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.expect("the page");
    assert!(page.contains("sajin_disk_free_bytes"), "{page}");
}
