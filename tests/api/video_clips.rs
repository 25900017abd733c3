//! Small test videos, made at test time by the system's ffmpeg. Every maker returns `None`,
//! after printing a note, when ffmpeg is missing, and the test that wanted the clip returns
//! early: a machine without ffmpeg skips the video tests instead of failing them.

use std::path::Path;
use std::process::{Command, Stdio};

/// A container to make a clip in.
#[derive(Clone, Copy, Debug)]
pub enum Clip {
    Mp4,
    Mov,
    WebM,
}

impl Clip {
    fn file_name(self) -> &'static str {
        match self {
            Clip::Mp4 => "clip.mp4",
            Clip::Mov => "clip.mov",
            Clip::WebM => "clip.webm",
        }
    }

    fn codec_args(self) -> &'static [&'static str] {
        match self {
            Clip::Mp4 | Clip::Mov => &["-c:v", "libx264", "-pix_fmt", "yuv420p"],
            Clip::WebM => &["-c:v", "libvpx", "-b:v", "300k"],
        }
    }
}

/// ffmpeg's moving test pattern, `width` x `height` at 10 frames a second.
pub fn test_pattern(clip: Clip, width: u32, height: u32, seconds: u32) -> Option<Vec<u8>> {
    let source = format!("testsrc=size={width}x{height}:rate=10");
    let length = seconds.to_string();
    make(clip, &["-f", "lavfi", "-i", &source, "-t", &length], &[])
}

/// Four seconds, 640x360: red for the first second, green for the next, then blue, with
/// keyframes only at 0 s and 2 s. A quarter in (1 s) is green, and the first keyframe at or
/// after it is blue.
pub fn red_green_blue() -> Option<Vec<u8>> {
    let color = |name: &str, seconds: u32| format!("color=c={name}:s=640x360:r=10:d={seconds}");
    let (red, green, blue) = (color("red", 1), color("lime", 1), color("blue", 2));
    let inputs = [
        "-f", "lavfi", "-i", &red, "-f", "lavfi", "-i", &green, "-f", "lavfi", "-i", &blue,
    ];
    let keyframes = [
        "-filter_complex",
        "concat=n=3:v=1:a=0",
        "-g",
        "20",
        "-sc_threshold",
        "0",
    ];
    make(Clip::Mp4, &inputs, &keyframes)
}

/// The 640x360 test pattern stored sideways, with a 90° turn in the track's matrix, as phones
/// record portrait video.
pub fn sideways() -> Option<Vec<u8>> {
    let upright = test_pattern(Clip::Mp4, 640, 360, 1)?;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (input, output) = (dir.path().join("in.mp4"), dir.path().join("out.mp4"));
    std::fs::write(&input, upright).expect("the clip is written");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-i"])
        .arg(&input)
        .args(["-c", "copy", "-metadata:s:v:0", "rotate=90"])
        .arg(&output)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg could not turn the clip");
    Some(read(&output))
}

/// Whether ffmpeg is on the PATH; prints why the calling test is skipped when it is not.
pub fn have_ffmpeg() -> bool {
    let works = Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !works {
        eprintln!("note: ffmpeg is not on the PATH; skipping a video test");
    }
    works
}

fn make(clip: Clip, inputs: &[&str], filters: &[&str]) -> Option<Vec<u8>> {
    if !have_ffmpeg() {
        return None;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = dir.path().join(clip.file_name());
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(inputs)
        .args(filters)
        .args(clip.codec_args())
        .arg(&out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg could not make {out:?}");
    Some(read(&out))
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).expect("the clip is readable")
}
