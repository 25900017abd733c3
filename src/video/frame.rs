//! The poster frame of a video: a still from ffmpeg when the server has it, a plain gray
//! picture of the video's shape when it does not.
//!
//! ffmpeg reads the upload from a temp file in the data directory's `tmp/` (removed when the
//! frame is taken), seeks before opening the input and decodes keyframes only, so the frame is
//! the first keyframe at or after a quarter of the video, and a long clip costs one decode. One
//! ffmpeg runs at a time (a 1080p decode takes about 100 MB), each under a time limit after
//! which it is killed.

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

use super::{Container, VideoError, VideoInfo};

/// How long one frame grab may take before ffmpeg is killed.
const GRAB_TIMEOUT: Duration = Duration::from_secs(20);
/// How long `ffmpeg -version` may take at start-up.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// A frame JPEG larger than this is not a frame.
const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;
/// How much of ffmpeg's error output is kept for the log.
const MAX_STDERR_BYTES: usize = 2048;
/// How often a running ffmpeg is checked on.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// Longer side of a placeholder frame; the thumbnail and medium need no more.
const PLACEHOLDER_MAX_SIDE: u32 = 1280;
const PLACEHOLDER_GRAY: u8 = 0x80;
const PLACEHOLDER_QUALITY: u8 = 80;

/// Where poster frames come from: one ffmpeg binary, or placeholders when there is none.
pub struct FrameSource {
    ffmpeg: Option<PathBuf>,
    /// The data directory's `tmp/`, absolute.
    scratch_dir: PathBuf,
    timeout: Duration,
    /// Held while ffmpeg runs: at most one at a time.
    running: Mutex<()>,
}

/// A poster frame as JPEG bytes.
pub(super) struct Poster {
    pub jpeg: Vec<u8>,
    pub is_placeholder: bool,
}

impl FrameSource {
    /// Checks that `ffmpeg_path` (a path, or a name looked up on the PATH) runs; when it does
    /// not, every frame will be a placeholder. Temp files go to `scratch_dir`.
    pub fn probe(ffmpeg_path: &Path, scratch_dir: &Path) -> Self {
        let works = run(ffmpeg_path, &[OsString::from("-version")], PROBE_TIMEOUT)
            .is_ok_and(|output| output.status.success());
        Self::new(works.then(|| ffmpeg_path.to_path_buf()), scratch_dir)
    }

    fn new(ffmpeg: Option<PathBuf>, scratch_dir: &Path) -> Self {
        FrameSource {
            ffmpeg,
            scratch_dir: std::path::absolute(scratch_dir).unwrap_or_else(|_| scratch_dir.into()),
            timeout: GRAB_TIMEOUT,
            running: Mutex::new(()),
        }
    }

    /// The ffmpeg that makes frames; `None` when frames are placeholders.
    pub fn ffmpeg(&self) -> Option<&Path> {
        self.ffmpeg.as_deref()
    }

    /// The frame a quarter into the video, or a placeholder. A video ffmpeg cannot decode at
    /// all is refused, and so is one whose frames are larger than `max_pixels` whatever its
    /// container said; an ffmpeg that cannot be started or runs out of time gets the
    /// placeholder, since the video itself may well be fine.
    pub(super) fn poster(
        &self,
        bytes: &[u8],
        container: Container,
        info: &VideoInfo,
        max_pixels: u64,
    ) -> Result<Poster, VideoError> {
        let Some(ffmpeg) = &self.ffmpeg else {
            return placeholder(info);
        };
        let request = Request {
            container,
            at: info.duration / 4,
            max_pixels,
        };
        match self.grab(ffmpeg, bytes, &request)? {
            Grab::Frame(jpeg) => Ok(Poster {
                jpeg,
                is_placeholder: false,
            }),
            Grab::NotRun(reason) => {
                tracing::warn!(%reason, "no frame from ffmpeg; the video gets a placeholder");
                placeholder(info)
            }
        }
    }

    /// Runs ffmpeg at `at`, and at the start when no keyframe follows `at` (a short clip is
    /// often a single keyframe and the frames that depend on it).
    fn grab(&self, ffmpeg: &Path, bytes: &[u8], request: &Request) -> Result<Grab, VideoError> {
        let input = self.scratch_copy(bytes).map_err(VideoError::Scratch)?;
        let _running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        let mut attempts = vec![request.at];
        if !request.at.is_zero() {
            attempts.push(Duration::ZERO);
        }
        for at in attempts {
            let args = frame_args(&Request { at, ..*request }, input.path());
            let output = match run(ffmpeg, &args, self.timeout) {
                Ok(output) => output,
                Err(reason) => return Ok(Grab::NotRun(reason)),
            };
            if !output.status.success() {
                // The detail names the temp file, so it goes to the log, not to the client.
                tracing::warn!(detail = %describe_failure(&output), "ffmpeg refused a video");
                return Err(VideoError::Undecodable);
            }
            if !output.stdout.is_empty() {
                return Ok(Grab::Frame(output.stdout));
            }
        }
        tracing::warn!("ffmpeg found no frame in a video");
        Err(VideoError::Undecodable)
    }

    fn scratch_copy(&self, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
        let mut file = tempfile::Builder::new()
            .prefix("video-")
            .tempfile_in(&self.scratch_dir)?;
        file.write_all(bytes)?;
        file.flush()?;
        Ok(file)
    }
}

/// One frame to take.
#[derive(Clone, Copy)]
struct Request {
    container: Container,
    /// Where to seek to.
    at: Duration,
    /// The decoder refuses larger frames, so that a container that understates its size
    /// cannot make ffmpeg allocate a huge picture.
    max_pixels: u64,
}

/// What a grab came to, short of refusing the video.
enum Grab {
    Frame(Vec<u8>),
    NotRun(RunError),
}

/// ffmpeg's arguments for one JPEG of the first keyframe at or after the seek. The demuxer is
/// named and only local files are allowed, so ffmpeg reads nothing but the temp file.
fn frame_args(request: &Request, input: &Path) -> Vec<OsString> {
    let mut location = OsString::from("file:");
    location.push(input);
    let at = format!("{}.{:03}", request.at.as_secs(), request.at.subsec_millis());
    // ffmpeg reads the limit as a 32-bit number.
    let max_pixels = request.max_pixels.min(i32::MAX as u64).to_string();
    let before_input = [
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-threads",
        "1",
        "-protocol_whitelist",
        "file",
        "-f",
        request.container.demuxer(),
        "-skip_frame",
        "nokey",
        "-max_pixels",
        &max_pixels,
        "-ss",
        &at,
        "-i",
    ];
    let after_input = [
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-an",
        "-sn",
        "-dn",
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "-pix_fmt",
        "yuvj420p",
        "-q:v",
        "2",
        "pipe:1",
    ];
    let mut args: Vec<OsString> = before_input.iter().map(OsString::from).collect();
    args.push(location);
    args.extend(after_input.iter().map(OsString::from));
    args
}

fn describe_failure(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last_line = stderr.lines().rev().find(|line| !line.trim().is_empty());
    match last_line {
        Some(line) => format!("ffmpeg said \"{}\"", line.trim()),
        None => format!("ffmpeg ended with {}", output.status),
    }
}

/// A gray JPEG of the video's shape, at most [`PLACEHOLDER_MAX_SIDE`] on its longer side.
// Limitation: without ffmpeg the poster and thumbnail show no picture from the video; sajin
// has no video decoder of its own.
fn placeholder(info: &VideoInfo) -> Result<Poster, VideoError> {
    let (width, height) = capped(info.width, info.height, PLACEHOLDER_MAX_SIDE);
    let image = RgbImage::from_pixel(width, height, Rgb([PLACEHOLDER_GRAY; 3]));
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, PLACEHOLDER_QUALITY)
        .encode_image(&image)
        .map_err(|err| VideoError::Frame(crate::imaging::ImagingError::Encode(err.to_string())))?;
    Ok(Poster {
        jpeg,
        is_placeholder: true,
    })
}

/// Scales `width` x `height` down to fit `max_side`, keeping the ratio and at least a pixel.
fn capped(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let longer = width.max(height).max(1);
    if longer <= max_side {
        return (width.max(1), height.max(1));
    }
    let scale = |side: u32| {
        let scaled =
            (u64::from(side) * u64::from(max_side) + u64::from(longer) / 2) / u64::from(longer);
        (scaled as u32).max(1)
    };
    (scale(width), scale(height))
}

/// What a finished ffmpeg left.
#[derive(Debug)]
struct Output {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Why ffmpeg gave no answer at all.
#[derive(Debug, thiserror::Error)]
enum RunError {
    #[error("ffmpeg could not be started: {0}")]
    Spawn(#[source] io::Error),
    #[error("ffmpeg ran past {0:?} and was killed")]
    TimedOut(Duration),
    #[error("ffmpeg wrote more than a frame's worth")]
    TooMuchOutput,
    #[error("waiting for ffmpeg failed: {0}")]
    Wait(#[source] io::Error),
}

/// Runs `program` with `args`, collecting its output, and kills it at `timeout`.
fn run(program: &Path, args: &[OsString], timeout: Duration) -> Result<Output, RunError> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    let mut child = Reaped(child);
    let stdout = child.0.stdout.take().map(read_stdout);
    let stderr = child.0.stderr.take().map(read_stderr);

    let deadline = Instant::now() + timeout;
    let status = wait_until(&mut child.0, deadline)
        .ok_or(RunError::TimedOut(timeout))?
        .map_err(RunError::Wait)?;
    // The pipes close when the program ends, unless a child it started holds them: the
    // readers get until the deadline, and are left behind after it.
    let stdout = stdout.and_then(|reader| join_by(reader, deadline));
    let stderr = stderr.and_then(|reader| join_by(reader, deadline));
    let stdout = match stdout {
        Some(Some(bytes)) => bytes,
        Some(None) => return Err(RunError::TooMuchOutput),
        None => return Err(RunError::TimedOut(timeout)),
    };
    let stderr = stderr.unwrap_or_default();
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// Waits for the child until `deadline`; past it the child is killed and `None` returned.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<io::Result<ExitStatus>> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(Ok(status)),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => thread::sleep(POLL_INTERVAL),
            Err(err) => return Some(Err(err)),
        }
    }
}

/// The reader's result, if it finishes by `deadline`.
fn join_by<T>(reader: thread::JoinHandle<T>, deadline: Instant) -> Option<T> {
    while !reader.is_finished() {
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL_INTERVAL);
    }
    reader.join().ok()
}

/// Reads stdout up to the frame limit; past it the pipe is closed, which stops ffmpeg.
fn read_stdout(pipe: ChildStdout) -> thread::JoinHandle<Option<Vec<u8>>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let limit = MAX_FRAME_BYTES as u64 + 1;
        pipe.take(limit).read_to_end(&mut bytes).ok()?;
        (bytes.len() <= MAX_FRAME_BYTES).then_some(bytes)
    })
}

/// Reads all of stderr, so that ffmpeg never blocks on it, and keeps the start.
fn read_stderr(mut pipe: ChildStderr) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(read) = pipe.read(&mut buffer) {
            if read == 0 {
                break;
            }
            let room = MAX_STDERR_BYTES.saturating_sub(kept.len());
            kept.extend_from_slice(&buffer[..read.min(room)]);
        }
        kept
    })
}

/// A child process that is killed and reaped however the caller leaves, so that an early
/// return or a panic leaves no ffmpeg running.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(width: u32, height: u32) -> VideoInfo {
        VideoInfo {
            width,
            height,
            duration: Duration::from_secs(4),
        }
    }

    #[test]
    fn placeholders_keep_the_shape_and_stay_small() {
        let cases = [
            ((640, 360), (640, 360)),
            ((3840, 2160), (1280, 720)),
            ((1080, 1920), (720, 1280)),
            ((100_000, 10), (1280, 1)),
        ];

        for ((width, height), expected) in cases {
            assert_eq!(capped(width, height, PLACEHOLDER_MAX_SIDE), expected);
        }
    }

    #[test]
    fn a_placeholder_is_a_gray_jpeg_of_the_video_shape() {
        let poster = placeholder(&info(1920, 1080)).expect("encodes");

        let image = image::load_from_memory(&poster.jpeg)
            .expect("decodes")
            .to_rgb8();

        assert!(poster.is_placeholder);
        assert_eq!(image.dimensions(), (1280, 720));
        let Rgb([red, green, blue]) = *image.get_pixel(640, 360);
        assert!([red, green, blue]
            .iter()
            .all(|c| c.abs_diff(PLACEHOLDER_GRAY) <= 2));
    }

    /// A stand-in for ffmpeg: answers `-version`, and for a frame waits `seconds`, then
    /// writes a small JPEG. `mkdir` is atomic, so a second copy running at the same time
    /// leaves an `overlap` file behind.
    fn fake_ffmpeg(dir: &Path, seconds: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;

        let frame = RgbImage::from_pixel(64, 48, Rgb([10, 200, 30]));
        frame.save(dir.join("frame.jpg")).expect("a frame file");
        let script = format!(
            "#!/bin/sh\n[ \"$1\" = -version ] && exit 0\n\
             mkdir {dir}/running 2>/dev/null || touch {dir}/overlap\n\
             (sleep {seconds}; touch {dir}/slept)\nrmdir {dir}/running\ncat {dir}/frame.jpg\n",
            dir = dir.display(),
        );
        let path = dir.join("ffmpeg");
        std::fs::write(&path, script).expect("the script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .expect("executable");
        path
    }

    #[test]
    fn one_ffmpeg_runs_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let frames = FrameSource::probe(&fake_ffmpeg(dir.path(), "0.2"), dir.path());
        assert!(frames.ffmpeg().is_some());

        thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| {
                    let poster = frames
                        .poster(b"bytes", Container::Mp4, &info(64, 48), 1000)
                        .expect("a frame");
                    assert!(!poster.is_placeholder);
                });
            }
        });

        assert!(
            !dir.path().join("overlap").exists(),
            "two ffmpegs ran at once"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("the folder")
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_name().to_string_lossy().starts_with("video-"))
            .collect();
        assert!(left.is_empty(), "temp copies were left: {left:?}");
    }

    #[test]
    fn an_ffmpeg_past_its_time_is_killed_and_the_video_gets_a_placeholder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut frames = FrameSource::probe(&fake_ffmpeg(dir.path(), "5"), dir.path());
        frames.timeout = Duration::from_millis(300);

        let poster = frames
            .poster(b"bytes", Container::Mp4, &info(64, 48), 1000)
            .expect("a placeholder");

        assert!(poster.is_placeholder);
        // The script's `sleep` holds the pipes open after the kill; the answer came before it
        // ended, so reading the output did not wait for it.
        assert!(
            !dir.path().join("slept").exists(),
            "the upload waited for the pipes"
        );
    }

    #[test]
    fn a_missing_ffmpeg_means_placeholders() {
        let scratch = tempfile::tempdir().expect("tempdir");

        let frames = FrameSource::probe(Path::new("/nonexistent/ffmpeg"), scratch.path());

        assert_eq!(frames.ffmpeg(), None);
        let poster = frames
            .poster(b"bytes", Container::Mp4, &info(64, 48), 1000)
            .expect("a placeholder");
        assert!(poster.is_placeholder);
    }

    #[test]
    fn a_program_past_its_time_is_killed() {
        let result = run(
            Path::new("sleep"),
            &[OsString::from("30")],
            Duration::from_millis(200),
        );

        assert!(matches!(result, Err(RunError::TimedOut(_))), "{result:?}");
    }

    #[test]
    fn the_seek_goes_before_the_input_and_only_the_temp_file_is_read() {
        let request = Request {
            container: Container::WebM,
            at: Duration::from_millis(2_250),
            max_pixels: 100_000_000,
        };

        let args = frame_args(&request, Path::new("/data/tmp/video-x"));
        let args: Vec<String> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();

        let position = |wanted: &str| args.iter().position(|arg| arg == wanted);
        assert!(position("-ss") < position("-i"));
        assert_eq!(args[position("-ss").expect("a seek") + 1], "2.250");
        assert_eq!(
            args[position("-i").expect("an input") + 1],
            "file:/data/tmp/video-x"
        );
        assert_eq!(args[position("-f").expect("a demuxer") + 1], "matroska");
        assert_eq!(
            args[position("-protocol_whitelist").expect("a whitelist") + 1],
            "file"
        );
        assert_eq!(
            args[position("-max_pixels").expect("a cap") + 1],
            "100000000"
        );
    }
}
