//! The free-space reserve: an upload that would leave less free space than the reserve is
//! refused with 507 before anything is written, `/healthz` says when the disk is below it, and
//! serving and deleting go on.
//!
//! One test mounts a small tmpfs, so the numbers are those of a real, nearly full volume. It
//! needs root (or the capability to mount); without it the test says it was skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;

use sajin::disk::{space_of, Reserve};

use crate::helpers::{
    expect_api_error, noise_png, png, spawn_app, spawn_app_in, str_at, url_path, TestApp,
};

/// A tmpfs mounted on a temporary folder for one test; unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts `size` (as `mount -o size=` reads it), or says why it cannot.
    fn mount(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "sajin-test"])
            .arg(dir.path())
            .output()
            .map_err(|err| format!("mount does not run: {err}"))?;
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
        }
        Ok(Self { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

async fn health(app: &TestApp) -> (StatusCode, Value) {
    let response = app.get(&app.url("/healthz")).await;
    let status = response.status();
    (
        status,
        response.json().await.expect("the health body is JSON"),
    )
}

/// Fills the volume of `dir` until `leave` bytes are free.
fn fill_until_free(dir: &Path, leave: u64) -> PathBuf {
    let free = space_of(dir).expect("statvfs").available_bytes;
    assert!(free > leave, "the volume has only {free} bytes free");
    let filler = dir.join("filler");
    std::fs::write(&filler, vec![0u8; (free - leave) as usize]).expect("the filler fits");
    filler
}

#[tokio::test]
async fn on_a_nearly_full_volume_the_default_reserve_refuses_an_upload_that_would_cross_it() {
    let tmpfs = match Tmpfs::mount("16m") {
        Ok(tmpfs) => tmpfs,
        Err(reason) => {
            eprintln!("SKIPPED: the disk reserve test needs to mount a tmpfs: {reason}");
            return;
        }
    };
    let data_dir = tempfile::tempdir_in(tmpfs.path()).expect("a data dir on the tmpfs");
    let app = spawn_app_in(data_dir, |_| {}).await;
    let total = space_of(app.data_dir()).expect("statvfs").total_bytes;
    let reserve = Reserve::Default.bytes_on(total);
    assert_eq!(reserve, total * 5 / 100, "5 % of a small volume");
    let _filler = fill_until_free(tmpfs.path(), 2_000_000);

    let small = app.upload_file("small.png", &png(32, 32, 1)).await;
    let before = app.snapshot();
    // About 1.3 MB of original plus its variants: it would fit, but leave less than the
    // reserve (about 840 KB) of the 2 MB free.
    let big = noise_png(650, 650, 7);
    let refused = app.upload_file_with("big.png", &big, &[]).await;

    let message = expect_api_error(refused, 507, 507).await;
    assert!(message.contains("disk space"), "{message}");
    app.assert_nothing_stored(&before);
    assert_eq!(health(&app).await.0, StatusCode::OK);
    assert_eq!(app.status_of(str_at(&small, "/url")).await, StatusCode::OK);
    let deleted = app
        .client
        .delete(str_at(&small, "/delete_url"))
        .send()
        .await
        .expect("answered");
    assert_eq!(deleted.status(), StatusCode::OK);
    drop(app.stop().await);
}

#[tokio::test]
async fn of_two_uploads_that_each_fit_above_the_reserve_but_not_together_one_is_stored() {
    let tmpfs = match Tmpfs::mount("16m") {
        Ok(tmpfs) => tmpfs,
        Err(reason) => {
            eprintln!("SKIPPED: the disk reserve test needs to mount a tmpfs: {reason}");
            return;
        }
    };
    let data_dir = tempfile::tempdir_in(tmpfs.path()).expect("a data dir on the tmpfs");
    let app = spawn_app_in(data_dir, |_| {}).await;
    let total = space_of(app.data_dir()).expect("statvfs").total_bytes;
    let (first, second) = (noise_png(420, 420, 1), noise_png(420, 420, 2));
    // Each upload is its original plus a thumbnail well under a third of it: room for one
    // and a half originals above the reserve takes one upload, not two.
    let original = first.len() as u64;
    let _filler = fill_until_free(
        tmpfs.path(),
        Reserve::Default.bytes_on(total) + original * 33 / 20,
    );
    let before = app.snapshot();

    let (a, b) = tokio::join!(
        app.upload_file_with("first.png", &first, &[]),
        app.upload_file_with("second.png", &second, &[]),
    );

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 507]);
    assert_eq!(app.snapshot().rows, before.rows + 1);
    assert!(app.tmp_files().is_empty(), "{:?}", app.tmp_files());
    drop(app.stop().await);
}

#[tokio::test]
async fn a_reserve_above_the_free_space_refuses_uploads_and_fails_health_but_serves_and_deletes() {
    let app = spawn_app().await;
    let image = app.upload_file("kept.png", &png(640, 480, 1)).await;
    let data_dir = app.stop().await;
    let app = spawn_app_in(data_dir, |config| {
        config.disk_reserve = Reserve::Bytes(u64::MAX / 2);
    })
    .await;
    let before = app.snapshot();

    let refused = app.upload_file_with("new.png", &png(32, 32, 2), &[]).await;

    expect_api_error(refused, 507, 507).await;
    app.assert_nothing_stored(&before);
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["failed"], "free space below the reserve", "{body}");
    assert_eq!(body["reserve_bytes"], u64::MAX / 2, "{body}");
    // The links name the first server's port; the restarted one has its own.
    let on_this_app = |pointer: &str| app.url(&url_path(str_at(&image, pointer)));
    for pointer in ["/url", "/thumb/url", "/url_viewer"] {
        let url = on_this_app(pointer);
        assert_eq!(app.status_of(&url).await, StatusCode::OK, "{pointer}");
    }
    let deleted = app
        .client
        .delete(on_this_app("/delete_url"))
        .send()
        .await
        .expect("answered");
    assert_eq!(deleted.status(), StatusCode::OK);
    let gone = app.status_of(&on_this_app("/url")).await;
    assert_eq!(gone, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn healthz_reports_the_free_space_and_the_reserve_when_above_it() {
    let app = spawn_app_with_reserve(1).await;

    let (status, body) = health(&app).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["reserve_bytes"], 1);
    assert!(
        body["free_bytes"].as_u64().is_some_and(|free| free > 1),
        "{body}"
    );
}

async fn spawn_app_with_reserve(bytes: u64) -> TestApp {
    crate::helpers::spawn_app_with(|config| config.disk_reserve = Reserve::Bytes(bytes)).await
}
