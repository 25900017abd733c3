//! The write order under injected failures: a step of storing an upload fails after the ones
//! before it have written to disk, and the client's error leaves no partial file, no file in
//! `tmp/` and no row; the next upload goes through.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use chrono::{Days, Utc};

use crate::helpers::{assert_api_error_body, expect_image, file_form, png, spawn_app, TestApp};

/// The day folders an upload sent now may land in (today's, and tomorrow's for a run that
/// crosses midnight UTC).
fn day_dirs(app: &TestApp) -> Vec<PathBuf> {
    let today = Utc::now().date_naive();
    [today, today + Days::new(1)]
        .iter()
        .map(|day| {
            app.data_dir()
                .join(day.format("images/%Y/%m/%d").to_string())
        })
        .collect()
}

async fn upload_fails_with_500(app: &TestApp) {
    let response = app
        .upload_form(file_form("big.png", &png(640, 480, 9)))
        .await;
    assert_eq!(response.status().as_u16(), 500);
    let body = response.json().await.expect("a JSON error");
    let message = assert_api_error_body(&body, 500, 500);
    assert_eq!(message, "Internal server error");
}

#[tokio::test]
async fn an_upload_whose_row_insert_fails_after_its_files_were_synced_leaves_nothing() {
    let app = spawn_app().await;
    app.upload_file("first.png", &png(64, 64, 1)).await;
    let before = app.snapshot();
    // Fails the insert inside the transaction, after every file (original, thumbnail and
    // medium) was placed and its folder synced.
    app.execute_sql(
        "CREATE TRIGGER injected_failure BEFORE INSERT ON uploads
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        [],
    );

    upload_fails_with_500(&app).await;

    app.assert_nothing_stored(&before);
    app.execute_sql("DROP TRIGGER injected_failure", []);
    let image = expect_image(
        app.upload_form(file_form("big.png", &png(640, 480, 9)))
            .await,
    )
    .await;
    assert_eq!(app.row_count(), before.rows + 1);
    assert_eq!(
        app.snapshot().files.len(),
        before.files.len() + 3,
        "{image}"
    );
}

#[tokio::test]
async fn an_upload_whose_files_cannot_be_moved_into_place_leaves_nothing() {
    let app = spawn_app().await;
    // The day's folder is a link to another file system, so renaming the synced temp files
    // into it fails (EXDEV) after they and their placement note were written.
    let Ok(elsewhere) = tempfile::tempdir_in("/dev/shm") else {
        eprintln!("skipped: no /dev/shm to put the day's folder on");
        return;
    };
    let data_device = std::fs::metadata(app.data_dir()).expect("stat").dev();
    let other_device = std::fs::metadata(elsewhere.path()).expect("stat").dev();
    if data_device == other_device {
        eprintln!("skipped: /dev/shm is on the data directory's file system");
        return;
    }
    let days = day_dirs(&app);
    for day in &days {
        std::fs::create_dir_all(day.parent().expect("a month folder")).expect("mkdir");
        std::os::unix::fs::symlink(elsewhere.path(), day).expect("a symlink");
    }
    let before = app.snapshot();

    upload_fails_with_500(&app).await;

    app.assert_nothing_stored(&before);
    assert_eq!(
        entries(elsewhere.path()),
        0,
        "a file reached the other folder"
    );
    for day in &days {
        std::fs::remove_file(day).expect("the link is removed");
    }
    expect_image(
        app.upload_form(file_form("big.png", &png(640, 480, 9)))
            .await,
    )
    .await;
    assert_eq!(app.row_count(), before.rows + 1);
}

fn entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).expect("a folder").count()
}
