//! API errors in Chevereto's shape, and the mapping from every lower-layer error to one.
//!
//! The body is `{"status_code":N,"error":{"message":"…","code":C},"status_txt":"…"}`. `code`
//! is Chevereto V4's error code where one exists (clients key on them: 100 key, 101 duplicate,
//! 120 base64, 130 empty source, 400 too big, 610 type), otherwise the HTTP status. Client
//! errors say what to change; server faults say only that something failed, and the cause
//! chain goes to the log.

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use serde_json::json;

use crate::api::form::FormError;
use crate::api::params::ResponseFormat;
use crate::domain::base64_source::SourceError;
use crate::fetch::FetchError;
use crate::imaging::ImagingError;
use crate::telemetry::error_chain;
use crate::upload::UploadError;
use crate::video::VideoError;

/// An error answer of the upload API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl ApiError {
    /// An error with this status, Chevereto code and message.
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// A parameter has a value the API cannot use.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, 400, message)
    }

    /// No source at all.
    pub fn empty_source() -> Self {
        Self::new(StatusCode::BAD_REQUEST, 130, "Empty upload source")
    }

    /// No key was sent.
    pub fn missing_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            100,
            "Missing API key: send it in the X-API-Key header",
        )
    }

    /// The key is not one this server issued.
    pub fn invalid_key() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 100, "Invalid API key")
    }

    /// The key was revoked or its account disabled.
    pub fn revoked_key() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            100,
            "This API key was revoked or its account is disabled",
        )
    }

    /// A browser upload whose session cookie is missing, expired or unknown.
    pub fn no_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            100,
            "Your session has ended: sign in again, or send an API key",
        )
    }

    /// A request with a session cookie but neither an API key nor the upload page's CSRF
    /// header: a page that lost its token, or another site's form.
    pub fn missing_csrf_token() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            100,
            "The page's security token is missing: reload the page",
        )
    }

    /// A browser upload whose CSRF token is not its session's.
    pub fn bad_csrf_token() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            100,
            "The page's security token does not match your session: reload the page",
        )
    }

    /// The bytes are not an image type we take.
    pub fn unsupported_type() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            610,
            "Invalid or unsupported file type: upload a JPEG, PNG, GIF, WebP or BMP image, \
             or an MP4, MOV or WebM video",
        )
    }

    /// The endpoint does not answer this HTTP method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            405,
            "Method not allowed: upload with GET or POST",
        )
    }

    /// The upload is over the size limit.
    pub fn too_big(max_bytes: u64) -> Self {
        let message = format!("File too big - max {}", format_limit(max_bytes));
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, 400, message)
    }

    /// The disk is full, or an upload would leave less free space than the reserve. Nothing
    /// was stored; the client may try again once an operator has made room.
    pub fn disk_full() -> Self {
        Self::new(
            StatusCode::INSUFFICIENT_STORAGE,
            507,
            "The server is out of disk space for uploads: nothing was stored, try again later",
        )
    }

    /// A fault on our side; the details are logged, not sent.
    pub fn internal(context: &str, err: &dyn std::error::Error) -> Self {
        tracing::error!(error = %error_chain(err), "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            500,
            "Internal server error",
        )
    }

    /// The answer in the format the client asked for.
    pub fn respond(&self, format: ResponseFormat) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "X-API-Key"));
        }
        match format {
            ResponseFormat::Json => response.json(self.body()),
            ResponseFormat::Txt | ResponseFormat::Redirect => response
                .content_type("text/plain; charset=utf-8")
                .body(self.message.clone()),
        }
    }

    fn body(&self) -> serde_json::Value {
        json!({
            "status_code": self.status.as_u16(),
            "error": { "message": self.message, "code": self.code },
            "status_txt": self.status.canonical_reason().unwrap_or("Error"),
        })
    }
}

/// "20 MB" for 20,000,000 bytes; sizes are decimal, as in the configuration.
pub fn format_limit(bytes: u64) -> String {
    if bytes.is_multiple_of(1_000_000) {
        format!("{} MB", bytes / 1_000_000)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

impl From<SourceError> for ApiError {
    fn from(err: SourceError) -> Self {
        match err {
            SourceError::Empty => ApiError::empty_source(),
            SourceError::InvalidBase64(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, 120, "Invalid base64 string")
            }
            SourceError::Markup => ApiError::unsupported_type(),
            SourceError::InvalidUrl(_) | SourceError::UnsupportedDataUri => {
                ApiError::invalid(err.to_string())
            }
        }
    }
}

/// Maps a URL fetch failure; `max_bytes` is the upload limit, which the fetch shares.
pub fn from_fetch(err: FetchError, max_bytes: u64) -> ApiError {
    match err {
        FetchError::TooLarge { .. } => ApiError::too_big(max_bytes),
        FetchError::Timeout => ApiError::new(
            StatusCode::BAD_REQUEST,
            400,
            "Timed out fetching the URL source",
        ),
        other => ApiError::invalid(format!("Could not fetch the URL source: {other}")),
    }
}

impl From<ImagingError> for ApiError {
    fn from(err: ImagingError) -> Self {
        match err {
            ImagingError::Unsupported => ApiError::unsupported_type(),
            ImagingError::TooManyPixels { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, 400, err.to_string())
            }
            ImagingError::Corrupt(_) => ApiError::new(
                StatusCode::BAD_REQUEST,
                610,
                "The image is damaged or incomplete and cannot be read",
            ),
            ImagingError::Encode(_) => ApiError::internal("encoding a variant failed", &err),
        }
    }
}

impl From<VideoError> for ApiError {
    fn from(err: VideoError) -> Self {
        match err {
            VideoError::Unsupported(_) | VideoError::Damaged(_) | VideoError::Undecodable => {
                ApiError::new(StatusCode::BAD_REQUEST, 610, err.to_string())
            }
            VideoError::TooManyPixels { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, 400, err.to_string())
            }
            VideoError::Frame(_) | VideoError::Scratch(_) => {
                ApiError::internal("making a video's frame failed", &err)
            }
        }
    }
}

impl From<UploadError> for ApiError {
    fn from(err: UploadError) -> Self {
        match err {
            UploadError::Empty => ApiError::empty_source(),
            UploadError::Imaging(err) => err.into(),
            UploadError::Video(err) => err.into(),
            UploadError::Duplicate => {
                ApiError::new(StatusCode::BAD_REQUEST, 101, "Duplicated upload")
            }
            UploadError::AlbumNotOwned => ApiError::new(
                StatusCode::FORBIDDEN,
                403,
                "Album not found, or it is not owned by this API key's user",
            ),
            UploadError::UnknownCategory(id) => {
                ApiError::invalid(format!("Category {id} does not exist"))
            }
            UploadError::Storage(ref storage) if storage.is_disk_full() => ApiError::disk_full(),
            UploadError::BelowReserve => ApiError::disk_full(),
            UploadError::Storage(_) | UploadError::Db(_) | UploadError::DiskSpace(_) => {
                ApiError::internal("storing an upload failed", &err)
            }
        }
    }
}

/// Maps a failure to read the request; `max_bytes` is the upload limit.
pub fn from_form(err: FormError, max_bytes: u64) -> ApiError {
    match err {
        FormError::TooLarge => ApiError::too_big(max_bytes),
        FormError::Task(_) => ApiError::internal("reading the request body failed", &err),
        FormError::FieldTooLong(_) | FormError::Malformed(_) => ApiError::invalid(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_limit_reads_like_chevereto() {
        assert_eq!(
            ApiError::too_big(20_000_000).message,
            "File too big - max 20 MB"
        );
        assert_eq!(format_limit(1_500_000), "1.5 MB");
    }

    #[test]
    fn a_damaged_video_is_the_client_s_fault_and_says_so() {
        let error = ApiError::from(VideoError::Damaged("cut short".into()));

        assert_eq!((error.status, error.code), (StatusCode::BAD_REQUEST, 610));
        assert_eq!(
            error.message,
            "The video is damaged or incomplete: cut short"
        );
    }

    #[test]
    fn the_json_body_has_the_chevereto_shape() {
        let body = ApiError::empty_source().body();
        assert_eq!(body["status_code"], 400);
        assert_eq!(body["error"]["code"], 130);
        assert_eq!(body["error"]["message"], "Empty upload source");
        assert_eq!(body["status_txt"], "Bad Request");
    }
}
