//! The built `sajin` binary as an operator runs it: a server on a free loopback port over a
//! data directory the test owns, and the maintenance commands beside it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use image::{ImageFormat, Rgb, RgbImage};
use rand::{Rng, RngCore};
use serde_json::Value;

const SAJIN: &str = env!("CARGO_BIN_EXE_sajin");
/// Longest a single request or start-up may take before the test fails instead of hanging.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// `sajin --data-dir DIR --config FILE` with an empty config file (beside the data directory,
/// so the directory itself holds only what sajin puts there) and no `SAJIN_*` variables.
pub fn command(data_dir: &Path) -> Command {
    let config = data_dir.with_extension("toml");
    if !config.exists() {
        std::fs::write(&config, "").expect("an empty config file");
    }
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

/// Runs a maintenance command to its end.
pub fn sajin(data_dir: &Path, args: &[&str]) -> Output {
    command(data_dir)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Everything a command said, for assertion messages.
pub fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A server started as the binary; killed with SIGKILL and waited for when dropped, so a
/// failing test leaves no process behind.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Every line the server has logged so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `sajin serve` on `127.0.0.1:0` with `extra` settings as `SAJIN_*` variables and
    /// waits until it logs the port it listens on.
    pub fn start(data_dir: &Path, extra: &[(&str, &str)]) -> Server {
        let mut child = command(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = Arc::clone(&log);
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        // Keeps reading after the port line, so the server never writes into a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(port) = line.split("port=").nth(1) {
                    let _ = port_tx.send(port.trim().parse::<u16>().ok());
                }
                lines.lock().expect("the log").push(line);
            }
        });
        let Some(port) = port_rx.recv_timeout(TIMEOUT).ok().flatten() else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server logged no port: {:#?}",
                log.lock().expect("the log")
            );
        };
        Server { child, port, log }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The same path on this server, for a URL another run of the server answered with.
    pub fn moved(&self, url: &str) -> String {
        let parsed = url::Url::parse(url).unwrap_or_else(|_| panic!("not a URL: {url}"));
        self.url(parsed.path())
    }

    /// Sends SIGKILL and reaps the process: the server gets no chance to finish anything.
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A new API key for `admin`, made by `sajin key create` (which also makes the account on a
/// fresh data directory).
pub fn admin_key(data_dir: &Path) -> String {
    let output = sajin(data_dir, &["key", "create", "--user", "admin"]);
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim()
        .to_string()
}

/// Runs `sajin check` and returns its output, asserting it exits 0 and that it skipped no
/// recent unknown file: `check` leaves files changed in the last minutes alone, so without
/// that second test an orphan left a moment ago would pass unseen.
#[track_caller]
pub fn assert_check_clean(data_dir: &Path) -> String {
    let output = sajin(data_dir, &["check"]);
    let all = text(&output);
    assert!(output.status.success(), "{all}");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        stdout.contains("0 with missing files, 0 unknown files"),
        "{all}"
    );
    assert!(!stdout.contains("newer files skipped"), "{all}");
    stdout
}

/// Files under `dir`, recursively, relative to it.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    collect(dir, dir, &mut found);
    found.sort();
    found
}

fn collect(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.map_while(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, found);
        } else {
            found.push(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
        }
    }
}

/// A PNG of `width` x `height`, different for every `seed`.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, seed]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, ImageFormat::Png)
        .expect("the test PNG encodes");
    bytes.into_inner()
}

/// A small JPEG, PNG or GIF (by `rng`), different for every draw; returns its file name too.
pub fn random_image(rng: &mut impl RngCore) -> (String, Vec<u8>) {
    let (width, height) = (rng.gen_range(8..160), rng.gen_range(8..120));
    let seed: [u8; 3] = rng.gen();
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([
            seed[0].wrapping_add(x as u8),
            seed[1].wrapping_add(y as u8),
            seed[2],
        ])
    });
    let (format, extension) = match rng.gen_range(0..3) {
        0 => (ImageFormat::Jpeg, "jpg"),
        1 => (ImageFormat::Png, "png"),
        _ => (ImageFormat::Gif, "gif"),
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, format)
        .expect("the test image encodes");
    let name = format!("img{:08x}.{extension}", rng.next_u32());
    (name, bytes.into_inner())
}

/// Uploads one file as multipart `source`; the answer's status and JSON body, or the
/// transport error's text when no answer came.
pub fn upload(
    client: &reqwest::blocking::Client,
    server_url: &str,
    key: &str,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(u16, Value), String> {
    let form = reqwest::blocking::multipart::Form::new().part(
        "source",
        reqwest::blocking::multipart::Part::bytes(bytes).file_name(name.to_string()),
    );
    let response = client
        .post(format!("{server_url}/api/1/upload"))
        .header("X-API-Key", key)
        .multipart(form)
        .send()
        .map_err(|err| err.to_string())?;
    let status = response.status().as_u16();
    let body = response.text().map_err(|err| err.to_string())?;
    let json = serde_json::from_str(&body).map_err(|_| format!("{status}: not JSON: {body}"))?;
    Ok((status, json))
}

/// A blocking client that never goes through a proxy and gives up after [`TIMEOUT`].
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
        .expect("the HTTP client builds")
}

/// The body of a GET that must answer 200.
#[track_caller]
pub fn fetch(client: &reqwest::blocking::Client, url: &str) -> Vec<u8> {
    let response = client.get(url).send().expect("an answer");
    assert_eq!(response.status().as_u16(), 200, "GET {url}");
    response.bytes().expect("the body").to_vec()
}
