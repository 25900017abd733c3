//! What the server tells the operator about video frames, read from the log of the built
//! binary: once at start-up, and not again for each video.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::video_clips::{have_ffmpeg, test_pattern, Clip};

const SAJIN: &str = env!("CARGO_BIN_EXE_sajin");
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// `sajin serve` on a free loopback port over a temporary data directory, with the log's
/// lines arriving on a channel; killed when dropped.
struct LoggedServer {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    _data_dir: tempfile::TempDir,
}

impl LoggedServer {
    fn start(ffmpeg_path: &str) -> LoggedServer {
        let data_dir = tempfile::tempdir().expect("a temporary data directory");
        let config = data_dir.path().join("none.toml");
        std::fs::write(&config, "").expect("an empty config file");
        let mut child = Command::new(SAJIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir.path())
            .arg("--config")
            .arg(&config)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SAJIN_FFMPEG_PATH", ffmpeg_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut server = LoggedServer {
            child,
            lines,
            seen: Vec::new(),
            _data_dir: data_dir,
        };
        server.read_until(|line| line.contains(" listening"));
        server
    }

    /// Collects log lines until one matches, or fails the test after a minute.
    fn read_until(&mut self, is_wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the awaited line never came: {:#?}", self.seen));
            self.seen.push(line.clone());
            if is_wanted(&line) {
                return line;
            }
        }
    }

    fn port(&self) -> u16 {
        self.seen
            .iter()
            .find_map(|line| line.split("port=").nth(1))
            .and_then(|port| port.trim().parse().ok())
            .expect("the server logs its port")
    }

    /// The first admin's key, which the first start logs once.
    fn api_key(&self) -> String {
        self.seen
            .iter()
            .find_map(|line| line.split("API key ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .expect("the first start logs the admin's key")
            .to_string()
    }

    fn count(&self, needle: &str) -> usize {
        self.seen
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn upload(port: u16, key: &str, name: &str, bytes: &[u8]) -> reqwest::blocking::Response {
    let part =
        reqwest::blocking::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string());
    reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/1/upload"))
        .header("X-API-Key", key)
        .multipart(reqwest::blocking::multipart::Form::new().part("source", part))
        .send()
        .expect("the upload is answered")
}

#[test]
fn without_ffmpeg_the_log_says_once_at_start_up_that_frames_are_placeholders() {
    let Some(clip) = test_pattern(Clip::Mp4, 320, 240, 1) else {
        return;
    };
    let mut server = LoggedServer::start("/nonexistent/ffmpeg");
    assert_eq!(server.count("placeholder"), 1, "{:#?}", server.seen);
    let (port, key) = (server.port(), server.api_key());

    for name in ["one.mp4", "two.mp4"] {
        assert!(upload(port, &key, name, &clip).status().is_success());
        server.read_until(|line| line.contains("stored upload"));
    }

    assert_eq!(server.count("placeholder"), 1, "{:#?}", server.seen);
}

#[test]
fn with_ffmpeg_the_log_names_the_binary_that_makes_frames() {
    if !have_ffmpeg() {
        return;
    }

    let server = LoggedServer::start("ffmpeg");

    assert_eq!(
        server.count("video frames come from ffmpeg"),
        1,
        "{:#?}",
        server.seen
    );
    assert_eq!(server.count("placeholder"), 0, "{:#?}", server.seen);
}
