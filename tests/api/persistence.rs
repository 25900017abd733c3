//! What survives a restart on the same data directory.

use reqwest::StatusCode;

use sajin::db::users;

use crate::helpers::{expect_image, file_form, png, spawn_app, spawn_app_in, str_at, url_path};

#[tokio::test]
async fn uploads_keys_and_accounts_survive_a_restart() {
    let app = spawn_app().await;
    let bytes = png(800, 600, 1);
    let response = app
        .upload_file_with("photo.png", &bytes, &[("title", "Kept")])
        .await;
    let image = expect_image(response).await;
    let (old_key, old_port) = (app.api_key.clone(), app.port);
    let data_dir = app.stop().await;

    let app = spawn_app_in(data_dir, |_| {}).await;

    assert_ne!(app.port, old_port);
    let url = app.url(&url_path(str_at(&image, "/url")));
    assert_eq!(app.get_bytes(&url).await, bytes);
    let thumb = app.url(&url_path(str_at(&image, "/thumb/url")));
    assert_eq!(app.status_of(&thumb).await, StatusCode::OK);
    let viewer = app.url(str_at(&image, "/path_viewer"));
    assert_eq!(app.status_of(&viewer).await, StatusCode::OK);
    let with_old_key = app
        .upload_form_at("", Some(&old_key), file_form("b.png", &bytes))
        .await;
    let second = expect_image(with_old_key).await;
    assert_ne!(second["id_encoded"], image["id_encoded"]);
    let accounts = app
        .services
        .db
        .with_conn(|conn| users::count(conn))
        .expect("db");
    assert_eq!(accounts, 1, "a second admin was created at restart");
}

#[tokio::test]
async fn a_stopped_server_no_longer_accepts_connections() {
    let app = spawn_app().await;
    let address = app.url("/healthz");
    let client = app.client.clone();

    let _data_dir = app.stop().await;

    assert!(
        client.get(&address).send().await.is_err(),
        "the old port still answers"
    );
}

#[tokio::test]
async fn leftovers_of_interrupted_writes_in_tmp_are_cleared_at_start_up() {
    let app = spawn_app().await;
    let data_dir = app.stop().await;
    let leftover = data_dir.path().join("tmp").join("half-written");
    std::fs::write(&leftover, b"partial").expect("a leftover is written");

    let app = spawn_app_in(data_dir, |_| {}).await;

    assert!(app.tmp_files().is_empty(), "{:?}", app.tmp_files());
}

#[tokio::test]
async fn a_configured_id_salt_gives_chevereto_s_ids_and_leaves_api_keys_working() {
    let app = spawn_app().await;
    let key = app.api_key.clone();
    let data_dir = app.stop().await;

    let app = spawn_app_in(data_dir, |config| {
        config.id_salt = Some("changeme".into());
        config.id_padding = 999;
    })
    .await;
    let response = app
        .client
        .post(app.url("/api/1/upload"))
        .header("X-API-Key", &key)
        .multipart(file_form("a.png", &png(8, 8, 1)))
        .send()
        .await
        .expect("an answer");

    let image = expect_image(response).await;
    // Chevereto's encoding of the first upload id with salt "changeme" and padding 999.
    assert_eq!(str_at(&image, "/id_encoded"), "Gs");
}
