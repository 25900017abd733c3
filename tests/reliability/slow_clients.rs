//! Slow and broken clients beside well-behaved ones: a body sent one byte a second, a client
//! that hangs up mid-body, bodies shorter and longer than their Content-Length, and 200
//! connections that never send a byte. The other clients' uploads all succeed meanwhile, the
//! idle connections are closed after `client_timeout_secs`, and nothing is left behind: the
//! slow upload and the one declared too long are stored whole, the others not at all.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::server::{
    admin_key, assert_check_clean, client, fetch, files_under, random_image, upload, Server,
    TIMEOUT,
};

const BOUNDARY: &str = "sajin-test-boundary";
/// Connections that connect and send nothing.
const IDLE_CONNECTIONS: usize = 200;
/// Uploads the well-behaved client sends while the others misbehave.
const GOOD_UPLOADS: usize = 8;
/// Most bytes the slow client sends one a second, so it ends even if the others hang.
const MAX_SLOW_BYTES: usize = 30;
/// `client_timeout_secs` for the test's server: how long a connection may take to send its
/// request head.
const CLIENT_TIMEOUT_SECS: &str = "2";

/// A multipart body holding `bytes` as the file `source`.
fn multipart_body(bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"source\"; filename=\"a.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The head of an upload request declaring `content_length` body bytes.
fn upload_head(port: u16, key: &str, content_length: usize) -> String {
    format!(
        "POST /api/1/upload HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    )
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(TIMEOUT))
        .expect("a read timeout");
    stream
}

/// Everything the server sends until it closes the connection (or the read times out).
fn read_all(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(read @ 1..) = stream.read(&mut buffer) {
        received.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

/// The status of the first answer in what a connection received; 0 when there is none.
fn first_status(received: &str) -> u16 {
    received
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Sends the body one byte a second while `others_running` holds (at most
/// [`MAX_SLOW_BYTES`]), then the rest at once; returns how many bytes went slowly and what
/// the server answered.
fn slow_upload(port: u16, key: &str, png: &[u8], others_running: &AtomicBool) -> (usize, String) {
    let body = multipart_body(png);
    let mut stream = connect(port);
    stream
        .write_all(upload_head(port, key, body.len()).as_bytes())
        .expect("the head is sent");
    let mut sent = 0;
    while others_running.load(Ordering::SeqCst) && sent < MAX_SLOW_BYTES {
        stream
            .write_all(&body[sent..=sent])
            .expect("a byte is sent");
        sent += 1;
        std::thread::sleep(Duration::from_secs(1));
    }
    stream.write_all(&body[sent..]).expect("the rest is sent");
    (sent, read_all(&mut stream))
}

/// Sends half the body and hangs up.
fn disconnecting_upload(port: u16, key: &str, png: &[u8]) {
    let body = multipart_body(png);
    let mut stream = connect(port);
    stream
        .write_all(upload_head(port, key, body.len()).as_bytes())
        .expect("the head is sent");
    stream
        .write_all(&body[..body.len() / 2])
        .expect("half the body is sent");
    let _ = stream.shutdown(Shutdown::Both);
}

/// Sends the whole body under a Content-Length `declared_extra` bytes off (negative: the
/// body is longer than declared), waits until `others_running` ends, and returns what the
/// server answered by then.
fn mislabelled_upload(
    port: u16,
    key: &str,
    png: &[u8],
    declared_extra: isize,
    others_running: &AtomicBool,
) -> String {
    let body = multipart_body(png);
    let declared = body.len().saturating_add_signed(declared_extra);
    let mut stream = connect(port);
    stream
        .write_all(upload_head(port, key, declared).as_bytes())
        .expect("the head is sent");
    let _ = stream.write_all(&body);
    while others_running.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(20));
    }
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("a read timeout");
    let received = read_all(&mut stream);
    let _ = stream.shutdown(Shutdown::Both);
    received
}

#[test]
fn slow_and_broken_clients_block_no_upload_and_leave_nothing_behind() {
    let data = tempfile::tempdir().expect("tempdir");
    let root = data.path().join("data");
    let key = admin_key(&root);
    let server = Server::start(&root, &[("SAJIN_CLIENT_TIMEOUT_SECS", CLIENT_TIMEOUT_SECS)]);
    let port = server.port;
    let mut rng = StdRng::seed_from_u64(11);
    let pngs: Vec<Vec<u8>> = (0..4)
        .map(|seed| crate::server::png(32, 24, seed))
        .collect();
    let others_running = Arc::new(AtomicBool::new(true));

    let idle: Vec<TcpStream> = (0..IDLE_CONNECTIONS).map(|_| connect(port)).collect();
    let misbehaving = {
        let (key, pngs, running) = (key.clone(), pngs.clone(), Arc::clone(&others_running));
        std::thread::spawn(move || {
            std::thread::scope(|scope| {
                let slow = scope.spawn(|| slow_upload(port, &key, &pngs[0], &running));
                scope.spawn(|| disconnecting_upload(port, &key, &pngs[1]));
                let long = scope.spawn(|| mislabelled_upload(port, &key, &pngs[2], 100, &running));
                let short = scope.spawn(|| mislabelled_upload(port, &key, &pngs[3], -40, &running));
                let join = |handle: std::thread::ScopedJoinHandle<String>| {
                    handle.join().expect("a misbehaving client ends")
                };
                let slow = slow.join().expect("the slow client ends");
                (slow, join(long), join(short))
            })
        })
    };
    // Let the misbehaving clients get their heads (and first bytes) in first.
    std::thread::sleep(Duration::from_secs(1));
    let http = client();
    let mut good = Vec::new();
    for _ in 0..GOOD_UPLOADS {
        let (name, bytes) = random_image(&mut rng);
        let answer = upload(&http, &server.url(""), &key, &name, bytes.clone());
        let (status, body) = answer.expect("an answer while others misbehave");
        assert_eq!(status, 200, "{body}");
        good.push((
            body["image"]["url"].as_str().expect("a URL").to_string(),
            bytes,
        ));
    }
    others_running.store(false, Ordering::SeqCst);
    let ((slow_bytes, slow), long, short) =
        misbehaving.join().expect("the misbehaving clients end");
    eprintln!(
        "{GOOD_UPLOADS} uploads answered 200 while the slow client sent {slow_bytes} bytes one \
         a second, beside {IDLE_CONNECTIONS} idle connections"
    );

    assert_eq!(first_status(&slow), 200, "the slow client: {slow}");
    // A multipart body ends at its closing boundary, so one declared longer than it is holds
    // the whole file: the server stores it without waiting for bytes that never come.
    assert_eq!(first_status(&long), 200, "declared too long: {long}");
    assert_eq!(first_status(&short), 400, "declared too short: {short}");
    let mut timed_out = 0;
    for mut stream in idle {
        stream
            .set_read_timeout(Some(TIMEOUT))
            .expect("a read timeout");
        let received = read_all(&mut stream);
        timed_out += usize::from(first_status(&received) == 408);
        assert!(
            received.is_empty() || first_status(&received) == 408,
            "an idle connection got {received:?}"
        );
        let mut buffer = [0u8; 16];
        let after = stream.read(&mut buffer);
        assert!(
            matches!(after, Ok(0)) || after.as_ref().is_err_and(|err| !is_timeout(err)),
            "an idle connection was not closed: {after:?}"
        );
    }
    eprintln!("{timed_out} of {IDLE_CONNECTIONS} idle connections were answered 408, then closed");
    for (url, bytes) in &good {
        assert!(fetch(&http, url) == *bytes, "{url} is not what was sent");
    }
    let report = assert_check_clean(&root);
    let rows = GOOD_UPLOADS + 2;
    assert!(report.contains(&format!("{rows} rows checked")), "{report}");
    assert_eq!(
        files_under(&root.join("tmp")),
        Vec::<std::path::PathBuf>::new()
    );
    drop(server);
}

fn is_timeout(err: &std::io::Error) -> bool {
    matches!(
        err.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
