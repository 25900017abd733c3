//! Logging: the tracing subscriber, the line each request leaves, and error chains for log
//! lines.

use std::io::IsTerminal;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber on stderr: `RUST_LOG` when set, else `info` (and `warn` for
/// the chattier libraries). Human lines are coloured only on a terminal, so the journal and log
/// files stay plain text; JSON lines never are.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn,rustls=warn,hyper=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// The span of each request, and one `answered` line at info when the answer goes out.
///
/// The span names the method, the path without its query string (a client may send its API
/// key there) and with a delete link's secret masked, and the connection's peer address
/// (forwarded-for headers are not trusted here, since any client can send them); the line
/// adds the status and the time taken.
pub struct RequestLog;

/// When the request came in, kept in its extensions for the closing line.
#[derive(Clone, Copy)]
struct Started(Instant);

impl RootSpanBuilder for RequestLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        request.extensions_mut().insert(Started(Instant::now()));
        let peer = request.peer_addr().map(|addr| addr.ip());
        tracing::info_span!(
            "request",
            method = %request.method(),
            path = %logged_path(request.path()),
            peer = peer.map(tracing::field::display),
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let _entered = span.enter();
        match outcome {
            Ok(response) => {
                let elapsed_ms = response
                    .request()
                    .extensions()
                    .get::<Started>()
                    .map_or(0, |started| started.0.elapsed().as_millis() as u64);
                let status = response.status().as_u16();
                tracing::info!(status, elapsed_ms, "answered");
            }
            Err(err) => {
                let status = err.as_response_error().status_code().as_u16();
                tracing::info!(status, "answered");
            }
        }
    }
}

/// `path` as the log shows it: a delete link (`/image/ID/delete/SECRET`) carries the secret
/// that deletes the upload, which anyone who can read the journal could otherwise use.
fn logged_path(path: &str) -> std::borrow::Cow<'_, str> {
    let segments: Vec<&str> = path.splitn(5, '/').collect();
    match segments.as_slice() {
        ["", kind @ ("image" | "video"), id, "delete", secret] if !secret.is_empty() => {
            std::borrow::Cow::Owned(format!("/{kind}/{id}/delete/<secret>"))
        }
        _ => std::borrow::Cow::Borrowed(path),
    }
}

/// An error with all of its causes, `outer: inner: innermost`, for the log.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::logged_path;

    #[test]
    fn a_delete_links_secret_is_masked_in_the_log() {
        assert_eq!(
            logged_path("/image/GD1/delete/f6e559f4"),
            "/image/GD1/delete/<secret>"
        );
        assert_eq!(
            logged_path("/video/x/delete/abc/more"),
            "/video/x/delete/<secret>"
        );
        assert_eq!(logged_path("/image/GD1/delete"), "/image/GD1/delete");
        assert_eq!(logged_path("/image/GD1/delete/"), "/image/GD1/delete/");
        assert_eq!(logged_path("/image/slug.GD1"), "/image/slug.GD1");
        assert_eq!(logged_path("/api/1/upload"), "/api/1/upload");
    }
}
