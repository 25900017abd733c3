//! Connection handling and the health check.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{header, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_200_with_status_ok() {
    let app = spawn_app().await;

    let response = app.get(&app.url("/healthz")).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "application/json");
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["uploads"], Value::from(0));
    assert!(
        app.tmp_files().is_empty(),
        "the health probe was left in tmp/"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_by_the_server() {
    let app = spawn_app_with(|config| config.keep_alive = Duration::from_secs(1)).await;
    let port = app.port;

    let outcome = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("a read timeout");
        let request = format!(
            "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: keep-alive\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .expect("the request is sent");
        let head = read_one_response(&mut stream);
        let idle_since = Instant::now();
        let mut buffer = [0u8; 256];
        let after_idle = stream.read(&mut buffer);
        (
            head,
            after_idle.map_err(|err| err.kind()),
            idle_since.elapsed(),
        )
    })
    .await
    .expect("the raw client finishes");

    let (head, after_idle, waited) = outcome;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "the server closed at once instead of keeping the connection alive: {head}"
    );
    match after_idle {
        Ok(0) => {}
        Ok(read) => panic!("the server sent {read} more bytes instead of closing"),
        Err(ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            panic!("the idle connection was still open after {waited:?}")
        }
        Err(ErrorKind::ConnectionReset) => {}
        Err(other) => panic!("unexpected read error {other:?}"),
    }
    assert!(
        waited < Duration::from_secs(10),
        "closed only after {waited:?}"
    );
}

/// Reads one HTTP response with a Content-Length body; returns its head.
fn read_one_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        let read = stream.read(&mut buffer).expect("the response arrives");
        assert!(read > 0, "the connection closed before a full response");
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received).into_owned();
        let Some(head_end) = text.find("\r\n\r\n") else {
            continue;
        };
        let head = &text[..head_end];
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .expect("a Content-Length");
        if received.len() >= head_end + 4 + length {
            return head.to_string();
        }
    }
}

#[tokio::test]
async fn unknown_paths_answer_404_and_the_upload_page_is_served() {
    let app = spawn_app().await;

    assert_eq!(
        app.status_of(&app.url("/nope")).await,
        StatusCode::NOT_FOUND
    );
    let index = app.get(&app.url("/")).await;
    assert_eq!(index.status(), StatusCode::OK);
    assert!(header(&index, "content-type").starts_with("text/html"));
}

#[tokio::test]
async fn the_upload_endpoint_answers_only_get_and_post() {
    let app = spawn_app().await;

    let response = app
        .client
        .put(app.url("/api/1/upload"))
        .send()
        .await
        .expect("answered");

    assert!(
        response.status().is_client_error(),
        "{:?}",
        response.status()
    );
    assert_eq!(app.row_count(), 0);
}
