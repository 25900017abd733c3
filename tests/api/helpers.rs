//! The test server and the typed requests the tests send it.
//!
//! [`spawn_app`] starts the real server on a loopback port chosen by the OS, over a fresh
//! temporary data directory, and creates an API key for the `admin` account that start-up
//! made. Dropping the [`TestApp`] stops the server task and removes the directory, so tests
//! share nothing and run in parallel.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use image::{ImageFormat, Rgb, RgbImage};
use md5::{Digest, Md5};
use reqwest::multipart::{Form, Part};
use reqwest::{redirect, Client, Response, StatusCode};
use serde_json::Value;
use tempfile::TempDir;
use tokio::task::JoinHandle;

use sajin::auth::{create_api_key_for, reset_password};
use sajin::config::Config;
use sajin::db::uploads::{self, UploadRecord};
use sajin::startup::Application;
use sajin::storage::{IMAGES_DIR, TMP_DIR};
use sajin::upload::Services;

/// The longest any one request of a test may take; a hung server fails the test instead of
/// hanging the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A running server over its own data directory.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub address: String,
    pub port: u16,
    /// A valid key of the `admin` account.
    pub api_key: String,
    pub services: Arc<Services>,
    pub client: Client,
    data_dir: Option<TempDir>,
    server: JoinHandle<std::io::Result<()>>,
}

/// A server with the default configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A server whose configuration `tweak` adjusted first.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("a temporary data directory");
    spawn_app_in(data_dir, tweak).await
}

/// A server over an existing data directory, as after a restart.
pub async fn spawn_app_in(data_dir: TempDir, tweak: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = Config::for_data_dir(data_dir.path());
    config.workers = Some(1);
    tweak(&mut config);
    let app = Application::build(config)
        .await
        .expect("the application builds");
    let port = app.port();
    let services = app.services();
    let server = tokio::spawn(app.run_until_stopped());
    let api_key = new_admin_key(&services);
    let client = Client::builder()
        .redirect(redirect::Policy::none())
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("the HTTP client builds");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        api_key,
        services,
        client,
        data_dir: Some(data_dir),
        server,
    }
}

/// A fresh key for the `admin` account that start-up created.
pub fn new_admin_key(services: &Services) -> String {
    services
        .db
        .with_conn(|conn| Ok(create_api_key_for(conn, &services.key_ids, "admin")))
        .expect("the database answers")
        .expect("the admin account exists")
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A logged-in browser: its `Cookie` header value and its session's CSRF token.
pub struct BrowserSession {
    pub cookie: String,
    pub csrf: String,
}

/// The value a `Set-Cookie` header of the answer gives the cookie `name`.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            let (pair, _) = value.split_once(';').unwrap_or((value, ""));
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_string())
        })
}

/// The whole `Set-Cookie` header that sets `name`, attributes included.
pub fn set_cookie_header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .unwrap_or_default()
        .to_string()
}

/// The value of the hidden input `name` in a page.
#[track_caller]
pub fn hidden_value(html: &str, name: &str) -> String {
    attribute_after(html, &format!("name=\"{name}\" value=\""))
}

/// The content of `<meta name="NAME" content="…">` in a page.
#[track_caller]
pub fn meta_content(html: &str, name: &str) -> String {
    attribute_after(html, &format!("<meta name=\"{name}\" content=\""))
}

#[track_caller]
fn attribute_after(html: &str, prefix: &str) -> String {
    let start = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in\n{html}"))
        + prefix.len();
    let end = html[start..].find('"').expect("a closing quote") + start;
    html[start..end].to_string()
}

/// What the data directory held at one moment: every file under `images/` and the row count.
#[derive(Debug, PartialEq, Eq)]
pub struct StoreSnapshot {
    pub files: BTreeSet<PathBuf>,
    pub rows: u64,
}

impl TestApp {
    /// Stops the server (its listener is closed when this returns) and hands back the data
    /// directory, for a restart.
    pub async fn stop(mut self) -> TempDir {
        self.server.abort();
        let _ = (&mut self.server).await;
        self.data_dir
            .take()
            .expect("the data directory is still owned")
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.data_dir
            .as_ref()
            .expect("the data directory is still owned")
            .path()
    }

    /// An absolute URL on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    // ---- requests ----

    /// `POST /api/1/upload` with a multipart body and the key in `X-API-Key`.
    pub async fn upload_form(&self, form: Form) -> Response {
        self.upload_form_at("", Some(&self.api_key), form).await
    }

    /// `POST /api/1/upload?<query>` with a multipart body and, when given, `X-API-Key`.
    pub async fn upload_form_at(&self, query: &str, key: Option<&str>, form: Form) -> Response {
        let mut request = self.client.post(self.upload_url(query)).multipart(form);
        if let Some(key) = key {
            request = request.header("X-API-Key", key);
        }
        request
            .send()
            .await
            .expect("the upload request is answered")
    }

    /// `POST /api/1/upload` with an urlencoded body and the key in `X-API-Key`.
    pub async fn upload_fields(&self, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(self.upload_url(""))
            .header("X-API-Key", &self.api_key)
            .form(fields)
            .send()
            .await
            .expect("the upload request is answered")
    }

    /// `GET /api/1/upload?<fields>` with the key in `X-API-Key`.
    pub async fn upload_by_get(&self, fields: &[(&str, &str)]) -> Response {
        self.client
            .get(self.upload_url(""))
            .header("X-API-Key", &self.api_key)
            .query(fields)
            .send()
            .await
            .expect("the upload request is answered")
    }

    /// Uploads `bytes` as the multipart file `source` named `file_name`, with extra text
    /// `fields`.
    pub async fn upload_file_with(
        &self,
        file_name: &str,
        bytes: &[u8],
        fields: &[(&str, &str)],
    ) -> Response {
        let mut form = Form::new().part("source", file_part(file_name, bytes));
        for (name, value) in fields {
            form = form.text(name.to_string(), value.to_string());
        }
        self.upload_form(form).await
    }

    /// Uploads a file that must be accepted; returns the `image` object of the answer.
    pub async fn upload_file(&self, file_name: &str, bytes: &[u8]) -> Value {
        expect_image(self.upload_file_with(file_name, bytes, &[]).await).await
    }

    /// `GET` an absolute URL.
    pub async fn get(&self, url: &str) -> Response {
        self.client
            .get(url)
            .send()
            .await
            .expect("the GET request is answered")
    }

    /// `GET` an absolute URL that must answer 200; returns the body.
    pub async fn get_bytes(&self, url: &str) -> Vec<u8> {
        let response = self.get(url).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        response.bytes().await.expect("the body arrives").to_vec()
    }

    /// The answer's status to a `GET` of an absolute URL.
    pub async fn status_of(&self, url: &str) -> StatusCode {
        self.get(url).await.status()
    }

    fn upload_url(&self, query: &str) -> String {
        match query {
            "" => self.url("/api/1/upload"),
            query => self.url(&format!("/api/1/upload?{query}")),
        }
    }

    // ---- browser sessions ----

    /// A new password for the `admin` account, as `sajin user passwd admin` makes one.
    pub fn admin_password(&self) -> String {
        self.services
            .db
            .with_conn(|conn| Ok(reset_password(conn, "admin")))
            .expect("the database answers")
            .expect("the admin account exists")
    }

    /// Posts the login form as a browser does: first `GET /login` for the form's token and
    /// its cookie, then the form. Returns the answer to the post.
    pub async fn post_login(&self, username: &str, password: &str) -> Response {
        let form_page = self.get(&self.url("/login")).await;
        let login_cookie = set_cookie(&form_page, "sajin_login").expect("a login cookie");
        let html = form_page.text().await.expect("the form");
        let token = hidden_value(&html, "csrf");
        self.client
            .post(self.url("/login"))
            .header("Cookie", format!("sajin_login={login_cookie}"))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf", &token),
                ("next", "/"),
            ])
            .send()
            .await
            .expect("the login is answered")
    }

    /// Logs `admin` in; returns the session cookie and the CSRF token its pages carry.
    pub async fn login(&self) -> BrowserSession {
        let password = self.admin_password();
        let response = self.post_login("admin", &password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{response:?}");
        let token = set_cookie(&response, "sajin_session").expect("a session cookie");
        let cookie = format!("sajin_session={token}");
        let page = self.get_with_cookie("/", &cookie).await;
        let html = page.text().await.expect("the upload page");
        let csrf = meta_content(&html, "csrf-token");
        assert!(!csrf.is_empty(), "no CSRF token on the page:\n{html}");
        BrowserSession { cookie, csrf }
    }

    /// `GET` a path with a `Cookie` header.
    pub async fn get_with_cookie(&self, path: &str, cookie: &str) -> Response {
        self.client
            .get(self.url(path))
            .header("Cookie", cookie)
            .send()
            .await
            .expect("the GET request is answered")
    }

    /// An upload as the upload page sends it: multipart, the session cookie, and `csrf` (when
    /// given) in `X-CSRF-Token`.
    pub async fn browser_upload(
        &self,
        cookie: Option<&str>,
        csrf: Option<&str>,
        form: Form,
    ) -> Response {
        let mut request = self.client.post(self.upload_url("")).multipart(form);
        if let Some(cookie) = cookie {
            request = request.header("Cookie", cookie);
        }
        if let Some(csrf) = csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        request
            .send()
            .await
            .expect("the upload request is answered")
    }

    // ---- what is stored ----

    /// Number of upload rows.
    pub fn row_count(&self) -> u64 {
        self.services
            .db
            .with_conn(|conn| uploads::count(conn))
            .expect("the database answers")
    }

    /// The row of an upload, by its public id.
    pub fn record(&self, id_encoded: &str) -> Option<UploadRecord> {
        let id = self
            .services
            .ids
            .decode(id_encoded)
            .expect("a valid public id") as i64;
        self.services
            .db
            .with_conn(|conn| uploads::get(conn, id))
            .expect("the database answers")
    }

    /// Runs SQL against the app's database, as an operator with `sqlite3` would.
    pub fn execute_sql(&self, sql: &str, params: impl rusqlite::Params) -> usize {
        self.services
            .db
            .with_conn(|conn| Ok(conn.execute(sql, params)?))
            .expect("the statement runs")
    }

    /// The file an absolute image URL of this app is stored in.
    pub fn disk_path(&self, url: &str) -> PathBuf {
        let path = url_path(url);
        let relative = path.strip_prefix('/').expect("an absolute path");
        assert!(
            relative.starts_with(&format!("{IMAGES_DIR}/")),
            "not an image URL: {url}"
        );
        self.data_dir().join(relative)
    }

    /// Every file under `images/` and the row count.
    pub fn snapshot(&self) -> StoreSnapshot {
        let mut files = BTreeSet::new();
        collect_files(&self.data_dir().join(IMAGES_DIR), &mut files);
        StoreSnapshot {
            files,
            rows: self.row_count(),
        }
    }

    /// Files left in `tmp/`, where uploads are written before they are moved into place.
    pub fn tmp_files(&self) -> BTreeSet<PathBuf> {
        let mut files = BTreeSet::new();
        collect_files(&self.data_dir().join(TMP_DIR), &mut files);
        files
    }

    /// A refused request left nothing: the same files and rows as `before`, and `tmp/` empty.
    #[track_caller]
    pub fn assert_nothing_stored(&self, before: &StoreSnapshot) {
        assert_eq!(
            &self.snapshot(),
            before,
            "a refused request changed what is stored"
        );
        assert_eq!(
            self.tmp_files(),
            BTreeSet::new(),
            "a refused request left files in tmp/"
        );
    }
}

fn collect_files(dir: &Path, files: &mut BTreeSet<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.insert(path);
        }
    }
}

// ---- request bodies ----

/// A file part named `file_name`, with the content type a browser would guess from the name.
pub fn file_part(file_name: &str, bytes: &[u8]) -> Part {
    let mime = match file_name.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("txt") => "text/plain",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    Part::bytes(bytes.to_vec())
        .file_name(file_name.to_string())
        .mime_str(mime)
        .expect("a valid media type")
}

/// A multipart body holding one file as `source`.
pub fn file_form(file_name: &str, bytes: &[u8]) -> Form {
    Form::new().part("source", file_part(file_name, bytes))
}

// ---- answers ----

/// The JSON body of a 200 upload answer's `image` object.
pub async fn expect_image(response: Response) -> Value {
    let body = expect_success(response).await;
    body["image"].clone()
}

/// The whole JSON body of a 200 upload answer.
pub async fn expect_success(response: Response) -> Value {
    let status = response.status();
    let text = response.text().await.expect("the body arrives");
    assert_eq!(status, StatusCode::OK, "the upload was refused: {text}");
    serde_json::from_str(&text).expect("the body is JSON")
}

/// Checks a Chevereto-shaped error answer; returns its message.
#[track_caller]
pub fn assert_api_error_body(body: &Value, status: u16, code: u64) -> String {
    assert_eq!(body["status_code"], status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body.get("image").is_none(), "{body}");
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason());
    assert_eq!(body["status_txt"].as_str(), reason, "{body}");
    body["error"]["message"]
        .as_str()
        .expect("the error has a message")
        .to_string()
}

/// Reads a JSON error answer and checks its status and code; returns the message.
pub async fn expect_api_error(response: Response, status: u16, code: u64) -> String {
    assert_eq!(response.status().as_u16(), status);
    assert_json_content_type(&response);
    let body: Value = response.json().await.expect("the error body is JSON");
    assert_api_error_body(&body, status, code)
}

/// The answer is JSON.
#[track_caller]
pub fn assert_json_content_type(response: &Response) {
    assert_eq!(
        header(response, "content-type"),
        "application/json",
        "{response:?}"
    );
}

// ---- raw connections ----

/// How long a raw request waits for its answer.
const RAW_ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server answered on a raw connection.
#[derive(Debug)]
pub struct RawAnswer {
    /// 0 when nothing (or no status line) came back in time.
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl RawAnswer {
    /// The body, which must be declared and parse as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        let head = self.head.to_ascii_lowercase();
        assert!(
            head.contains("\r\ncontent-type: application/json"),
            "not declared as JSON: {self:?}"
        );
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {self:?}"))
    }
}

/// A chunk of a chunked request body.
pub fn chunk(data: &[u8]) -> Vec<u8> {
    let mut framed = format!("{:x}\r\n", data.len()).into_bytes();
    framed.extend_from_slice(data);
    framed.extend_from_slice(b"\r\n");
    framed
}

impl TestApp {
    /// Sends `head` (request line and headers, without the blank line) and then `body` on a
    /// fresh connection, never finishing the body, and returns what the server answered within
    /// ten seconds. Only a server that answers without the rest of the body gets through: one
    /// that waits for it times out, and the answer has status 0.
    pub async fn answer_to_unfinished_request(&self, head: &str, body: Vec<u8>) -> RawAnswer {
        let head = format!("{head}\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
        let port = self.port;
        tokio::task::spawn_blocking(move || raw_exchange(port, head, body))
            .await
            .expect("the raw client finishes")
    }
}

fn raw_exchange(port: u16, head: String, body: Vec<u8>) -> RawAnswer {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(RAW_ANSWER_TIMEOUT))
        .expect("a read timeout");
    let mut writer = stream.try_clone().expect("a second handle");
    // A server that stops reading leaves a large body unsent; the writer must not hold up
    // reading the answer.
    let sender = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&body);
    });
    let answer = read_answer(&mut stream);
    let _ = stream.shutdown(Shutdown::Both);
    sender.join().expect("the sender thread finishes");
    answer
}

/// Reads one answer: its head, then as many body bytes as Content-Length says.
fn read_answer(stream: &mut TcpStream) -> RawAnswer {
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        if let Some(answer) = parse_answer(&received) {
            return answer;
        }
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => received.extend_from_slice(&buffer[..read]),
        }
    }
    parse_answer(&received).unwrap_or(RawAnswer {
        status: 0,
        head: String::from_utf8_lossy(&received).into_owned(),
        body: String::new(),
    })
}

fn parse_answer(received: &[u8]) -> Option<RawAnswer> {
    let text = String::from_utf8_lossy(received);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    if body.len() < length {
        return None;
    }
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some(RawAnswer {
        status,
        head: head.to_string(),
        body: body[..length].to_string(),
    })
}

/// A header's value, or "" when it is missing.
pub fn header(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().expect("a text header").to_string())
        .unwrap_or_default()
}

/// A string field of a JSON value, by JSON pointer (`/thumb/url`).
#[track_caller]
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{pointer} is not a string in {value}"))
}

/// The path part of an absolute URL.
pub fn url_path(url: &str) -> String {
    let parsed = url::Url::parse(url).unwrap_or_else(|_| panic!("not a URL: {url}"));
    parsed.path().to_string()
}

/// A Chevereto date (`YYYY-MM-DD HH:MM:SS`, UTC) as Unix seconds.
#[track_caller]
pub fn unix_from_gmt(date: &str) -> i64 {
    NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|_| panic!("not a Chevereto date: {date:?}"))
        .and_utc()
        .timestamp()
}

/// Hex MD5 of `bytes`.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

// ---- images ----

/// A PNG with a smooth pattern: small on the wire and quick to process. `seed` changes every
/// pixel, so two seeds never give the same bytes.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    encode(&pattern(width, height, seed), ImageFormat::Png)
}

/// The same pattern in another format (JPEG, GIF, BMP, WebP, ...).
pub fn image_in(format: ImageFormat, width: u32, height: u32, seed: u8) -> Vec<u8> {
    encode(&pattern(width, height, seed), format)
}

/// A GIF of `frames` different frames.
pub fn animated_gif(width: u32, height: u32, frames: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut bytes);
        let frames = (0..frames).map(|seed| {
            let rgba = image::DynamicImage::ImageRgb8(pattern(width, height, seed * 80));
            image::Frame::new(rgba.to_rgba8())
        });
        encoder.encode_frames(frames).expect("the test GIF encodes");
    }
    bytes
}

/// A PNG of noise, which does not compress: its size is about `width * height * 3` bytes.
pub fn noise_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let image = RgbImage::from_fn(width, height, |_, _| {
        let mut next = || {
            // xorshift32: enough randomness to defeat compression, no dependency.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        };
        Rgb([next(), next(), next()])
    });
    encode(&image, ImageFormat::Png)
}

fn pattern(width: u32, height: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let red = (x * 255 / width.max(1)) as u8;
        let green = (y * 255 / height.max(1)) as u8;
        Rgb([red, green, seed])
    })
}

fn encode(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, format)
        .expect("the test image encodes");
    bytes.into_inner()
}

/// Width and height of an encoded image.
pub fn dimensions(bytes: &[u8]) -> (u32, u32) {
    let image = image::load_from_memory(bytes).expect("the bytes decode as an image");
    (image.width(), image.height())
}
