//! Video uploads: what the answer says about them, what is stored, and which files are refused.

use image::GenericImageView;
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    dimensions, expect_api_error, expect_image, md5_hex, spawn_app, spawn_app_with, str_at, TestApp,
};
use crate::video_clips::{red_green_blue, sideways, test_pattern, Clip};

async fn upload_video(app: &TestApp, name: &str, bytes: &[u8]) -> Value {
    app.upload_file(name, bytes).await
}

/// The bytes behind a URL of the answer, read from disk.
fn stored(app: &TestApp, video: &Value, pointer: &str) -> Vec<u8> {
    std::fs::read(app.disk_path(str_at(video, pointer))).expect("the file is stored")
}

#[tokio::test]
async fn an_mp4_is_a_video_with_its_size_and_length_from_the_container() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 3) else {
        return;
    };
    let app = spawn_app().await;

    let video = upload_video(&app, "holiday clip.mp4", &bytes).await;

    assert_eq!(video["type"], "video");
    assert_eq!(
        (video["width"].clone(), video["height"].clone()),
        (640.into(), 360.into())
    );
    assert_eq!(video["duration"], 3);
    assert_eq!(video["duration_time"], "00:03");
    assert_eq!(video["mime"], "video/mp4");
    assert_eq!(video["extension"], "mp4");
    assert_eq!(video["is_animated"], 0);
    assert_eq!(video["title"], "holiday clip");
    assert_eq!(video["md5"], md5_hex(&bytes));
    assert_eq!(video["source_md5"], md5_hex(&bytes));
    assert_eq!(stored(&app, &video, "/url"), bytes, "stored as uploaded");
}

#[tokio::test]
async fn webm_and_mov_are_videos_too() {
    let cases = [
        (Clip::WebM, "clip.webm", "video/webm", "webm"),
        (Clip::Mov, "clip.mov", "video/quicktime", "mov"),
    ];
    let app = spawn_app().await;

    for (clip, name, mime, extension) in cases {
        let Some(bytes) = test_pattern(clip, 320, 240, 2) else {
            return;
        };

        let video = upload_video(&app, name, &bytes).await;

        assert_eq!(video["type"], "video", "{name}");
        assert_eq!(video["mime"], mime, "{name}");
        assert_eq!(video["extension"], extension, "{name}");
        assert_eq!(
            (video["width"].clone(), video["height"].clone()),
            (320.into(), 240.into())
        );
        assert_eq!(video["duration"], 2, "{name}");
        assert_eq!(video["duration_time"], "00:02", "{name}");
        let url = str_at(&video, "/url");
        assert!(url.ends_with(&format!(".{extension}")), "{url}");
    }
}

#[tokio::test]
async fn the_frame_thumbnail_and_medium_are_jpegs_made_from_the_frame() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 2) else {
        return;
    };
    let app = spawn_app().await;

    let video = upload_video(&app, "clip.mp4", &bytes).await;

    let cases = [
        ("/url_frame", ".fr.jpeg", (640, 360), "/frame_size"),
        ("/thumb/url", ".th.jpeg", (320, 320), "/thumb_size"),
        ("/medium/url", ".md.jpeg", (500, 281), "/medium_size"),
    ];
    for (pointer, suffix, size, size_field) in cases {
        let url = str_at(&video, pointer);
        assert!(url.ends_with(suffix), "{pointer}: {url}");
        let file = stored(&app, &video, pointer);
        assert_eq!(dimensions(&file), size, "{pointer}");
        assert_eq!(
            video.pointer(size_field).and_then(Value::as_u64),
            Some(file.len() as u64),
            "{size_field}"
        );
        assert_eq!(app.get_bytes(url).await, file, "{pointer} is served");
    }
}

#[tokio::test]
async fn the_frame_is_the_first_keyframe_at_or_after_a_quarter_of_the_video() {
    let Some(bytes) = red_green_blue() else {
        return;
    };
    let app = spawn_app().await;

    let video = upload_video(&app, "colours.mp4", &bytes).await;

    assert_eq!(video["duration"], 4);
    let frame = image::load_from_memory(&stored(&app, &video, "/url_frame")).expect("a JPEG");
    let image::Rgba([red, green, blue, _]) = frame.get_pixel(320, 180);
    assert!(
        blue > 200 && red < 60 && green < 60,
        "the frame should be the blue keyframe at 2 s, not red (0 s) or green (1 s): \
         {red},{green},{blue}"
    );
}

#[tokio::test]
async fn a_video_recorded_sideways_is_as_tall_as_players_show_it() {
    let Some(bytes) = sideways() else {
        return;
    };
    let app = spawn_app().await;

    let video = upload_video(&app, "portrait.mp4", &bytes).await;

    assert_eq!(
        (video["width"].clone(), video["height"].clone()),
        (360.into(), 640.into())
    );
    assert_eq!(dimensions(&stored(&app, &video, "/url_frame")), (360, 640));
    assert_eq!(
        video["medium"]["url"],
        Value::Null,
        "360 wide needs no medium"
    );
}

#[tokio::test]
async fn the_answer_has_the_frame_object_and_the_video_chain() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 2) else {
        return;
    };
    let app = spawn_app().await;

    let video = upload_video(&app, "clip.mp4", &bytes).await;

    let name = str_at(&video, "/name");
    let frame = &video["frame"];
    assert_eq!(frame["filename"], format!("{name}.fr.jpeg"));
    assert_eq!(frame["name"], format!("{name}.fr"));
    assert_eq!(frame["mime"], "image/jpeg");
    assert_eq!(frame["extension"], "jpeg");
    assert_eq!(frame["url"], video["url_frame"]);
    assert_eq!(frame["size"], video["frame_size"]);
    assert_eq!(video["chain"], 16 | 8 | 4 | 2 | 1);
    assert_eq!(video["display_url"], video["medium"]["url"]);
    assert_eq!(video["image"]["url"], video["url"]);
    assert_eq!(video["image"]["mime"], "video/mp4");
    let id = str_at(&video, "/id_encoded");
    assert_eq!(str_at(&video, "/path_viewer"), format!("/video/clip.{id}"));
    assert_eq!(
        str_at(&video, "/url_short"),
        app.url(&format!("/video/{id}"))
    );
    let delete_url = str_at(&video, "/delete_url");
    assert!(delete_url.starts_with(&format!("{}/delete/", app.url(&format!("/video/{id}")))));
}

#[tokio::test]
async fn a_video_no_wider_than_500_has_no_medium_and_its_frame_is_shown() {
    let Some(bytes) = test_pattern(Clip::WebM, 320, 240, 1) else {
        return;
    };
    let app = spawn_app().await;

    let video = upload_video(&app, "small.webm", &bytes).await;

    assert_eq!(video["chain"], 16 | 8 | 4 | 1);
    assert_eq!(video["medium"]["url"], Value::Null);
    assert_eq!(video["medium_size"], 0);
    assert_eq!(video["display_url"], video["url_frame"]);
    assert_eq!(dimensions(&stored(&app, &video, "/thumb/url")), (240, 240));
}

#[tokio::test]
async fn images_keep_their_chain_and_carry_no_frame() {
    let app = spawn_app().await;

    let image = app
        .upload_file("a.png", &crate::helpers::png(800, 600, 1))
        .await;

    assert_eq!(image["type"], "image");
    assert_eq!(image["chain"], 4 | 2 | 1);
    assert_eq!(image["frame_size"], 0);
    assert!(image.get("frame").is_none() && image.get("url_frame").is_none());
}

#[tokio::test]
async fn a_width_does_not_resize_a_video() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 1) else {
        return;
    };
    let app = spawn_app().await;

    let response = app
        .upload_file_with("clip.mp4", &bytes, &[("width", "100")])
        .await;

    let video = expect_image(response).await;
    assert_eq!(video["width"], 640);
    assert_eq!(stored(&app, &video, "/url"), bytes);
}

#[tokio::test]
async fn an_mp4_header_followed_by_garbage_is_refused_and_leaves_nothing() {
    let app = spawn_app().await;
    let mut bytes = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2".to_vec();
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8));
    let before = app.snapshot();

    let response = app.upload_file_with("fake.mp4", &bytes, &[]).await;

    let message = expect_api_error(response, 400, 610).await;
    assert!(message.contains("video"), "{message}");
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn refused_videos_leave_nothing_behind() {
    let (Some(mp4), Some(webm)) = (
        test_pattern(Clip::Mp4, 320, 240, 2),
        test_pattern(Clip::WebM, 320, 240, 2),
    ) else {
        return;
    };
    let half_mp4 = mp4[..mp4.len() / 2].to_vec();
    let mut webm_garbage = webm[..webm.len() / 3].to_vec();
    webm_garbage.extend(std::iter::repeat_n(0xA5, webm.len()));
    let cases = [("cut.mp4", half_mp4), ("garbage.webm", webm_garbage)];
    let app = spawn_app().await;
    let before = app.snapshot();

    for (name, bytes) in cases {
        let response = app.upload_file_with(name, &bytes, &[]).await;

        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{name}");
        let body: Value = response.json().await.expect("a JSON error");
        assert_eq!(body["error"]["code"], 610, "{name}: {body}");
        app.assert_nothing_stored(&before);
    }
}

#[tokio::test]
async fn a_video_over_the_size_limit_is_refused_like_an_image() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 3) else {
        return;
    };
    let limit = bytes.len() as u64 / 2;
    let app = spawn_app_with(|config| config.max_upload_bytes = limit).await;
    let before = app.snapshot();

    let response = app.upload_file_with("clip.mp4", &bytes, &[]).await;

    let message = expect_api_error(response, 413, 400).await;
    assert!(message.starts_with("File too big"), "{message}");
    app.assert_nothing_stored(&before);
}

#[tokio::test]
async fn a_video_over_the_pixel_limit_is_refused_from_its_header() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 1) else {
        return;
    };
    let app = spawn_app_with(|config| config.max_image_pixels = 100_000).await;

    let response = app.upload_file_with("clip.mp4", &bytes, &[]).await;

    let message = expect_api_error(response, 400, 400).await;
    assert!(message.contains("640x360"), "{message}");
}

#[tokio::test]
async fn without_ffmpeg_a_video_is_stored_with_a_gray_placeholder_frame() {
    let Some(bytes) = test_pattern(Clip::Mp4, 640, 360, 2) else {
        return;
    };
    let app = spawn_app_with(|config| config.ffmpeg_path = "/nonexistent/ffmpeg".into()).await;

    let video = upload_video(&app, "clip.mp4", &bytes).await;

    assert_eq!(video["type"], "video");
    assert_eq!(video["duration"], 2, "the length needs no ffmpeg");
    let frame = image::load_from_memory(&stored(&app, &video, "/url_frame")).expect("a JPEG");
    assert_eq!(frame.dimensions(), (640, 360));
    let image::Rgba([red, green, blue, _]) = frame.get_pixel(10, 10);
    assert!(
        [red, green, blue].iter().all(|c| c.abs_diff(128) <= 3),
        "{red},{green},{blue}"
    );
    assert_eq!(dimensions(&stored(&app, &video, "/thumb/url")), (320, 320));
    assert_eq!(app.tmp_files().len(), 0);
}

#[tokio::test]
async fn the_copy_ffmpeg_reads_is_removed_afterwards() {
    let Some(bytes) = test_pattern(Clip::Mp4, 320, 240, 1) else {
        return;
    };
    let app = spawn_app().await;

    upload_video(&app, "clip.mp4", &bytes).await;

    assert_eq!(app.tmp_files().len(), 0, "{:?}", app.tmp_files());
}

/// Rewrites the frame size an MP4's `tkhd` and `avc1` boxes declare, leaving the coded
/// pictures as they are.
fn understate_size(mp4: &mut [u8], width: u16, height: u16) {
    let avc1 = box_type_at(mp4, b"avc1");
    mp4[avc1 + 28..avc1 + 30].copy_from_slice(&width.to_be_bytes());
    mp4[avc1 + 30..avc1 + 32].copy_from_slice(&height.to_be_bytes());
    let tkhd = box_type_at(mp4, b"tkhd");
    mp4[tkhd + 80..tkhd + 84].copy_from_slice(&(u32::from(width) << 16).to_be_bytes());
    mp4[tkhd + 84..tkhd + 88].copy_from_slice(&(u32::from(height) << 16).to_be_bytes());
}

#[tokio::test]
async fn frames_larger_than_the_container_says_are_held_to_the_pixel_limit() {
    let Some(mut bytes) = test_pattern(Clip::Mp4, 640, 360, 1) else {
        return;
    };
    understate_size(&mut bytes, 64, 36);
    let app = spawn_app_with(|config| config.max_image_pixels = 10_000).await;
    let before = app.snapshot();

    let response = app.upload_file_with("liar.mp4", &bytes, &[]).await;

    let message = expect_api_error(response, 400, 610).await;
    assert!(message.contains("cannot be decoded"), "{message}");
    app.assert_nothing_stored(&before);
    let roomy = spawn_app().await;
    let accepted = roomy.upload_file("liar.mp4", &bytes).await;
    assert_eq!(
        accepted["width"], 64,
        "the container's word, under the default limit"
    );
}

/// Where the type of the first `kind` box after the `stsd` box starts (`ftyp` names `avc1`
/// too, as a brand).
fn box_type_at(mp4: &[u8], kind: &[u8]) -> usize {
    let find = |from: usize, wanted: &[u8]| {
        mp4[from..]
            .windows(4)
            .position(|window| window == wanted)
            .map(|at| at + from)
            .expect("the box is there")
    };
    match kind {
        b"avc1" => find(find(0, b"stsd"), kind),
        _ => find(0, kind),
    }
}
