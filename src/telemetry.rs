//! Logging: the tracing subscriber, the line each request leaves, and error chains for log
//! lines.

use std::io::IsTerminal;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
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

/// The request span of `tracing-actix-web`, plus one `request` line at info when the answer
/// goes out: method, path, status and how long it took.
pub struct RequestLog;

/// When the request came in, kept in its extensions for the closing line.
#[derive(Clone, Copy)]
struct Started(Instant);

impl RootSpanBuilder for RequestLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        request.extensions_mut().insert(Started(Instant::now()));
        DefaultRootSpanBuilder::on_request_start(request)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span.clone(), outcome);
        let _entered = span.enter();
        match outcome {
            Ok(response) => {
                let request = response.request();
                let elapsed_ms = request
                    .extensions()
                    .get::<Started>()
                    .map_or(0, |started| started.0.elapsed().as_millis() as u64);
                tracing::info!(
                    method = %request.method(),
                    path = request.path(),
                    status = response.status().as_u16(),
                    elapsed_ms,
                    "request"
                );
            }
            Err(err) => tracing::info!(
                status = err.as_response_error().status_code().as_u16(),
                "request"
            ),
        }
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
