//! Black-box tests of `sajin check`, `sajin backup` and `sajin restore`, run as the binary
//! beside a live server on the same data directory, as an operator would run them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use std::io::{BufRead, BufReader};

use serde_json::Value;

const SAJIN: &str = env!("CARGO_BIN_EXE_sajin");
/// Longest a single request may take before the test fails instead of hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// `sajin ARGS --data-dir DIR` with an empty config file and no `SAJIN_*` variables.
fn command(data_dir: &Path) -> Command {
    let config = data_dir.with_extension("toml");
    std::fs::write(&config, "").expect("an empty config file");
    let mut command = Command::new(SAJIN);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--config")
        .arg(config)
        .env_clear()
        .stdin(Stdio::null());
    command
}

fn sajin(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
fn succeeds(output: Output) -> String {
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[track_caller]
fn fails(output: Output) -> String {
    assert!(!output.status.success(), "{}", text(&output));
    text(&output)
}

/// A server started as the binary on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    key: String,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let mut child = command(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // Keeps reading after the port line, so the server never writes into a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(port) = line.split("port=").nth(1) {
                    let _ = port_tx.send(port.trim().parse::<u16>().ok());
                }
            }
        });
        let port = port_rx
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .flatten()
            .expect("the server logs its port");
        let key = succeeds(sajin(data_dir, &["key", "create", "--user", "admin"]));
        Server {
            child,
            port,
            key: key.trim().to_string(),
        }
    }

    /// Uploads `bytes` as `name`; returns the `image` object of the answer.
    fn upload(&self, name: &str, bytes: Vec<u8>) -> Value {
        let form = reqwest::blocking::multipart::Form::new().part(
            "source",
            reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
        let response = reqwest::blocking::Client::new()
            .post(format!("http://127.0.0.1:{}/api/1/upload", self.port))
            .header("X-API-Key", &self.key)
            .multipart(form)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().expect("JSON");
        body["image"].clone()
    }

    fn status_of(&self, url: &str) -> u16 {
        reqwest::blocking::Client::new()
            .get(url)
            .timeout(REQUEST_TIMEOUT)
            .send()
            .expect("an answer")
            .status()
            .as_u16()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, seed])
    });
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .expect("a PNG");
    bytes
}

/// Where the file behind an upload's URL field is, under `data_dir`.
fn file_of(data_dir: &Path, image: &Value, pointer: &str) -> PathBuf {
    let url = image
        .pointer(pointer)
        .and_then(Value::as_str)
        .expect("a URL");
    let path = url::Url::parse(url).expect("a URL").path().to_string();
    data_dir.join(path.trim_start_matches('/'))
}

fn make_old(path: &Path) {
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(hour_ago))
        .expect("the file's time is set back");
}

#[test]
fn check_passes_on_a_consistent_data_dir_and_ignores_tmp() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path());
    server.upload("one.png", png(64, 64, 1));
    server.upload("two.png", png(640, 480, 2));
    std::fs::write(data.path().join("tmp/being-written"), b"partial").expect("a tmp file");
    make_old(&data.path().join("tmp/being-written"));

    let stdout = succeeds(sajin(data.path(), &["check"]));

    assert!(
        stdout.contains("2 rows checked: 0 with missing files, 0 unknown files"),
        "{stdout}"
    );
}

#[test]
fn check_reports_a_missing_original_and_an_unknown_file_and_repair_fixes_both() {
    let data = tempfile::tempdir().expect("tempdir");
    let root = data.path();
    let server = Server::start(root);
    let broken = server.upload("broken.png", png(640, 480, 1));
    let kept = server.upload("kept.png", png(64, 64, 2));
    let original = file_of(root, &broken, "/url");
    let thumb = file_of(root, &broken, "/thumb/url");
    std::fs::remove_file(&original).expect("the original is removed by hand");
    // What a server killed between writing the files and committing the row leaves behind.
    let ghost = root.join("images/2026/01/01/ghost.png");
    std::fs::create_dir_all(ghost.parent().expect("a folder")).expect("mkdir");
    std::fs::write(&ghost, b"ghost bytes").expect("an unknown file");
    make_old(&ghost);
    let fresh = root.join("images/2026/01/01/being-stored.png");
    std::fs::write(&fresh, b"new").expect("a file written just now");

    let report = fails(sajin(root, &["check"]));

    let original_rel = original.strip_prefix(root).expect("under the data dir");
    assert!(
        report.contains(&format!("original missing: {}", original_rel.display())),
        "{report}"
    );
    assert!(
        report.contains("unknown file: images/2026/01/01/ghost.png"),
        "{report}"
    );
    assert!(
        !report.contains("being-stored"),
        "a fresh file was flagged: {report}"
    );
    assert!(report.contains("--repair"), "{report}");

    let repaired = succeeds(sajin(root, &["check", "--repair"]));

    assert!(
        repaired.contains("1 rows removed, 1 files moved"),
        "{repaired}"
    );
    assert!(
        !thumb.exists(),
        "the broken upload's thumbnail is still there"
    );
    let found = root.join("lost+found/images/2026/01/01/ghost.png");
    assert_eq!(
        std::fs::read(found).expect("moved, not deleted"),
        b"ghost bytes"
    );
    assert!(!ghost.exists());
    assert!(fresh.exists(), "the repair touched a fresh file");
    let viewer = broken["url_viewer"].as_str().expect("a viewer URL");
    assert_eq!(server.status_of(viewer), 404);
    let kept_url = kept["url"].as_str().expect("a URL");
    assert_eq!(server.status_of(kept_url), 200);
    let again = succeeds(sajin(root, &["check"]));
    assert!(
        again.contains("1 rows checked: 0 with missing files, 0 unknown files"),
        "{again}"
    );
}

#[test]
fn a_missing_variant_is_reported_and_kept_by_the_repair() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path());
    let image = server.upload("photo.png", png(640, 480, 1));
    let medium = file_of(data.path(), &image, "/medium/url");
    std::fs::remove_file(&medium).expect("the medium is removed by hand");

    let report = fails(sajin(data.path(), &["check", "--repair"]));

    assert!(report.contains("variant missing"), "{report}");
    assert!(report.contains("kept upload"), "{report}");
    assert_eq!(server.status_of(image["url"].as_str().expect("a URL")), 200);
}

#[test]
fn check_refuses_a_folder_without_a_database() {
    let data = tempfile::tempdir().expect("tempdir");
    let missing = data.path().join("typo");

    let output = fails(sajin(&missing, &["check"]));

    assert!(output.contains("no sajin database"), "{output}");
    assert!(!missing.join("sajin.db").exists());
}

/// An upload's answer and the bytes that were sent.
type Committed = (Value, Vec<u8>);

/// Uploads in a loop on its own thread until told to stop, recording each committed one.
struct Uploader {
    is_done: Arc<AtomicBool>,
    committed: Arc<Mutex<Vec<Committed>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Uploader {
    fn start(server: Arc<Server>) -> Uploader {
        let is_done = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(Mutex::new(Vec::new()));
        let (done, log) = (Arc::clone(&is_done), Arc::clone(&committed));
        let thread = std::thread::spawn(move || {
            // Bounded, so a test that forgets to stop it still ends.
            for seed in 0..200u32 {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                let bytes = png(96, 64, seed as u8);
                let image = server.upload(&format!("live{seed}.png"), bytes.clone());
                log.lock().expect("the log").push((image, bytes));
            }
        });
        Uploader {
            is_done,
            committed,
            thread: Some(thread),
        }
    }

    fn committed(&self) -> Vec<Committed> {
        self.committed.lock().expect("the log").clone()
    }

    fn stop(mut self) {
        self.is_done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the uploader finishes");
        }
    }
}

#[test]
fn a_backup_taken_during_uploads_restores_every_earlier_upload_and_checks_clean() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Arc::new(Server::start(data.path()));
    let mut before = Vec::new();
    for seed in 0..3 {
        let bytes = png(640, 480, seed);
        before.push((server.upload("before.png", bytes.clone()), bytes));
    }
    let uploader = Uploader::start(Arc::clone(&server));
    while uploader.committed().len() < 2 {
        std::thread::yield_now();
    }
    before.extend(uploader.committed());
    let backups = tempfile::tempdir().expect("tempdir");
    let dest = backups.path().join("backup");

    let backed_up = succeeds(sajin(
        data.path(),
        &["backup", dest.to_str().expect("UTF-8")],
    ));

    uploader.stop();
    assert!(backed_up.contains("backed up"), "{backed_up}");
    let restored = backups.path().join("restored");
    succeeds(sajin(
        &restored,
        &["restore", dest.to_str().expect("UTF-8")],
    ));
    for (image, bytes) in &before {
        for pointer in ["/url", "/thumb/url"] {
            let source = std::fs::read(file_of(data.path(), image, pointer)).expect("the source");
            let copy = std::fs::read(file_of(&restored, image, pointer)).expect("restored");
            assert!(copy == source, "{pointer} of {image} differs");
        }
        let original = std::fs::read(file_of(&restored, image, "/url")).expect("restored");
        assert!(
            &original == bytes,
            "the restored original is not the uploaded bytes"
        );
    }
    let checked = succeeds(sajin(&restored, &["check"]));
    assert!(
        checked.contains("0 with missing files, 0 unknown files"),
        "{checked}"
    );
    drop(server);
    let restarted = Server::start(&restored);
    let first = before[0].0["url"].as_str().expect("a URL");
    let path = url::Url::parse(first).expect("a URL").path().to_string();
    let url = format!("http://127.0.0.1:{}{path}", restarted.port);
    assert_eq!(restarted.status_of(&url), 200);
}

#[test]
fn restore_refuses_a_non_empty_data_dir_without_force_and_a_running_server_always() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path());
    let image = server.upload("a.png", png(64, 64, 1));
    let backups = tempfile::tempdir().expect("tempdir");
    let dest = backups.path().join("backup");
    let dest_arg = dest.to_str().expect("UTF-8");
    succeeds(sajin(data.path(), &["backup", dest_arg]));

    let while_running = fails(sajin(data.path(), &["restore", dest_arg, "--force"]));
    assert!(
        while_running.contains("another sajin server"),
        "{while_running}"
    );
    drop(server);

    let other = backups.path().join("other");
    let other_server = Server::start(&other);
    let other_image = other_server.upload("b.png", png(64, 64, 2));
    drop(other_server);
    let refused = fails(sajin(&other, &["restore", dest_arg]));
    assert!(refused.contains("--force"), "{refused}");
    assert!(
        file_of(&other, &other_image, "/url").exists(),
        "a refused restore removed data"
    );

    succeeds(sajin(&other, &["restore", dest_arg, "--force"]));
    assert!(file_of(&other, &image, "/url").exists());
    assert!(!file_of(&other, &other_image, "/url").exists());
    succeeds(sajin(&other, &["check"]));
}

#[test]
fn backup_refuses_a_destination_that_holds_files() {
    let data = tempfile::tempdir().expect("tempdir");
    succeeds(sajin(data.path(), &["key", "create", "--user", "admin"]));
    let dest = tempfile::tempdir().expect("tempdir");
    std::fs::write(dest.path().join("keep.txt"), b"mine").expect("a file");

    let output = fails(sajin(
        data.path(),
        &["backup", dest.path().to_str().expect("UTF-8")],
    ));

    assert!(output.contains("not an empty folder"), "{output}");
    assert_eq!(
        std::fs::read(dest.path().join("keep.txt")).expect("kept"),
        b"mine"
    );
}

#[test]
fn log_format_json_writes_one_json_object_per_line() {
    let (first, second) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let by_flag = sajin(
        first.path(),
        &["--log-format", "json", "key", "create", "--user", "admin"],
    );
    let by_env = command(second.path())
        .env("SAJIN_LOG_FORMAT", "json")
        .args(["key", "create", "--user", "admin"])
        .output()
        .expect("the binary runs");

    for output in [by_flag, by_env] {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(output.status.success(), "{stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(!lines.is_empty(), "no log lines");
        for line in lines {
            let event: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("{line}"));
            assert!(event["level"].is_string(), "{line}");
            assert!(event["fields"]["message"].is_string(), "{line}");
        }
    }
}

#[test]
fn each_request_leaves_one_json_line_with_its_status_and_no_query_string() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut child = command(data.path())
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let (line_tx, line_rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = line_tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let port = loop {
        let line = line_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server logs its start");
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line}"));
        lines.push(line);
        if event["fields"]["message"] == "listening" {
            break event["fields"]["port"].as_u64().expect("a port");
        }
    };

    let url = format!("http://127.0.0.1:{port}/healthz?key=chv_secret_in_the_query");
    let status = reqwest::blocking::get(url).expect("an answer").status();
    assert_eq!(status.as_u16(), 200);
    let answered = loop {
        let line = line_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the request is logged");
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line}"));
        lines.push(line);
        if event["fields"]["message"] == "answered" {
            break event;
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    reader.join().expect("the reader ends");
    lines.extend(line_rx.try_iter());

    assert_eq!(answered["fields"]["status"], 200, "{answered}");
    assert_eq!(answered["span"]["path"], "/healthz", "{answered}");
    assert_eq!(answered["span"]["method"], "GET", "{answered}");
    assert_eq!(answered["span"]["peer"], "127.0.0.1", "{answered}");
    let answered_lines = lines
        .iter()
        .filter(|line| line.contains("\"answered\""))
        .count();
    assert_eq!(answered_lines, 1, "{lines:#?}");
    assert!(
        lines.iter().all(|line| !line.contains("chv_secret")),
        "a key from the query string was logged: {lines:#?}"
    );
}

#[test]
fn a_second_server_on_the_same_data_dir_refuses_to_start() {
    let data = tempfile::tempdir().expect("tempdir");
    let first = Server::start(data.path());

    let second = fails(sajin(data.path(), &["serve", "--listen", "127.0.0.1:0"]));

    assert!(second.contains("another sajin server"), "{second}");
    let image = first.upload("still.png", png(64, 64, 1));
    assert_eq!(first.status_of(image["url"].as_str().expect("a URL")), 200);
}
