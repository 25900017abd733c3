//! Reading an upload request's parameters: query string, urlencoded body or multipart body.
//!
//! Bodies are streamed under two caps. The whole body, counted byte by byte across every part
//! and the multipart framing, may not pass [`FormLimits::max_body_bytes`]: the server keeps
//! every distinct field it reads, so without a running total many small fields could add up to
//! any amount of memory. Each part has its own cap besides, so a too-large file is stopped as
//! soon as it passes the upload limit. Past either cap, reading stops at once. The client is
//! usually still sending then; actix-web discards the rest while the answer goes out (for a
//! body of declared length it closes the connection a second later), so the client reads the
//! JSON error instead of a reset connection.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::HttpRequest;
use futures_util::{Stream, StreamExt, TryStreamExt};

use crate::domain::base64_source::TextEncoding;

/// Fields whose value may be the upload itself.
pub const SOURCE_FIELDS: [&str; 2] = ["source", "image"];

/// The other fields the API reads. Any other multipart part is read past and dropped, as
/// Chevereto ignores unknown parameters; its bytes still count towards the body cap.
pub const PARAMETER_FIELDS: [&str; 11] = [
    "key",
    "format",
    "title",
    "description",
    "tags",
    "album_id",
    "category_id",
    "width",
    "expiration",
    "nsfw",
    "use_file_date",
];

/// Room in a body for every field besides the source.
const OTHER_FIELDS_BYTES: u64 = 1024 * 1024;

/// How the body is encoded, from its Content-Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Multipart,
    UrlEncoded,
    /// Anything else, which carries no parameters and is not read.
    Other,
}

impl BodyKind {
    fn of(req: &HttpRequest) -> Self {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            BodyKind::Multipart
        } else if content_type.starts_with("application/x-www-form-urlencoded") {
            BodyKind::UrlEncoded
        } else {
            BodyKind::Other
        }
    }
}

/// Size limits for one request.
#[derive(Debug, Clone, Copy)]
pub struct FormLimits {
    /// Largest file the server accepts.
    pub max_file_bytes: u64,
    /// Largest plain field (title, tags, …).
    pub max_field_bytes: u64,
}

impl FormLimits {
    /// Limits for uploads of at most `max_file_bytes`.
    pub fn for_upload_size(max_file_bytes: u64) -> Self {
        Self {
            max_file_bytes,
            max_field_bytes: 64 * 1024,
        }
    }

    /// A text source may hold the file in base64 (a third larger), wrapped with a CRLF every
    /// 76 characters as MIME does, behind a data URI prefix.
    fn max_text_source_bytes(&self) -> u64 {
        let base64_bytes = self.max_file_bytes.div_ceil(3) * 4;
        base64_bytes + base64_bytes / 38 + 1024
    }

    /// The largest body read at all, counting the framing: one full-size text source plus room
    /// for the other fields. An urlencoded body holds the same text percent-encoded, where `+`,
    /// `/`, `=` and line breaks take three bytes each; that grows wrapped base64 by about a
    /// tenth, so it gets a quarter more.
    pub fn max_body_bytes(&self, kind: BodyKind) -> u64 {
        let text_bytes = self.max_text_source_bytes();
        let source_bytes = match kind {
            BodyKind::UrlEncoded => text_bytes + text_bytes / 4,
            BodyKind::Multipart | BodyKind::Other => text_bytes,
        };
        source_bytes + OTHER_FIELDS_BYTES
    }

    /// How much of one part is kept before it is refused. A part with a file name is a file, so
    /// it may not pass the upload limit; a source part without one may still be base64 text.
    fn part_cap(&self, is_source: bool, has_file_name: bool) -> u64 {
        match (is_source, has_file_name) {
            (true, true) => self.max_file_bytes,
            (true, false) => self.max_text_source_bytes(),
            (false, _) => self.max_field_bytes,
        }
    }
}

/// A file sent as a multipart part.
#[derive(Debug)]
pub struct FilePart {
    /// `source` or `image`.
    pub field: &'static str,
    pub bytes: Vec<u8>,
    pub file_name: Option<String>,
}

/// The request's parameters: body fields override query ones.
#[derive(Debug, Default)]
pub struct RequestFields {
    pub query: HashMap<String, String>,
    pub body: HashMap<String, String>,
    /// The body was multipart, whose text arrives as sent instead of form-decoded.
    pub is_multipart_body: bool,
    /// The media type each multipart text part declared, by field name.
    pub declared_types: HashMap<String, String>,
    pub file: Option<FilePart>,
}

/// A text parameter, with what the request said about how it was sent.
#[derive(Debug)]
pub struct TextField {
    pub value: String,
    pub encoding: TextEncoding,
    /// The part's Content-Type (`type/subtype`, lowercase), when a multipart part declared one.
    pub declared_type: Option<String>,
}

impl RequestFields {
    /// A parameter from the body, else from the query string.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.body
            .get(name)
            .or_else(|| self.query.get(name))
            .map(String::as_str)
    }

    /// Takes a parameter out of the body, else out of the query string, without copying it.
    pub fn take_text(&mut self, name: &str) -> Option<TextField> {
        if let Some(value) = self.body.remove(name) {
            let encoding = if self.is_multipart_body {
                TextEncoding::Multipart
            } else {
                TextEncoding::UrlEncoded
            };
            let declared_type = self.declared_types.remove(name);
            return Some(TextField {
                value,
                encoding,
                declared_type,
            });
        }
        let value = self.query.remove(name)?;
        Some(TextField {
            value,
            encoding: TextEncoding::UrlEncoded,
            declared_type: None,
        })
    }
}

/// Why the parameters could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("upload is larger than the limit")]
    TooLarge,
    #[error("field {0:?} is too long")]
    FieldTooLong(String),
    #[error("malformed request body: {0}")]
    Malformed(String),
    #[error("the task parsing the body failed")]
    Task(#[source] actix_web::error::BlockingError),
}

/// Reads every parameter of the request.
pub async fn read_fields(
    req: &HttpRequest,
    payload: web::Payload,
    limits: FormLimits,
) -> Result<RequestFields, FormError> {
    let mut fields = RequestFields {
        query: parse_urlencoded(req.query_string().as_bytes()),
        ..Default::default()
    };
    let kind = BodyKind::of(req);
    let max_body_bytes = limits.max_body_bytes(kind);
    if declared_length(req).is_some_and(|length| length > max_body_bytes) {
        return Err(FormError::TooLarge);
    }
    let body = CappedBody::new(payload, max_body_bytes);
    match kind {
        BodyKind::Multipart => {
            fields.is_multipart_body = true;
            read_multipart(req, body, limits, &mut fields).await?;
        }
        BodyKind::UrlEncoded => fields.body = read_urlencoded(body).await?,
        BodyKind::Other => {}
    }
    Ok(fields)
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    let value = req.headers().get(header::CONTENT_LENGTH)?;
    value.to_str().ok()?.trim().parse().ok()
}

fn parse_urlencoded(text: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(text).into_owned().collect()
}

/// Reads the whole body, then parses it on the blocking pool: percent-decoding a full-size
/// base64 source takes long enough to stall every other request on this worker.
async fn read_urlencoded(mut body: CappedBody) -> Result<HashMap<String, String>, FormError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.map_err(from_payload)?);
    }
    web::block(move || parse_urlencoded(&bytes))
        .await
        .map_err(FormError::Task)
}

fn from_payload(err: PayloadError) -> FormError {
    match err {
        PayloadError::Overflow => FormError::TooLarge,
        other => FormError::Malformed(other.to_string()),
    }
}

fn from_multipart(err: MultipartError) -> FormError {
    match err {
        MultipartError::Payload(err) => from_payload(err),
        other => FormError::Malformed(other.to_string()),
    }
}

async fn read_multipart(
    req: &HttpRequest,
    body: CappedBody,
    limits: FormLimits,
    fields: &mut RequestFields,
) -> Result<(), FormError> {
    let mut multipart = Multipart::new(req.headers(), body);
    while let Some(part) = multipart.try_next().await.map_err(from_multipart)? {
        read_one_part(part, limits, fields).await?;
    }
    Ok(())
}

/// What a part's headers say about it.
struct PartHead {
    name: String,
    file_name: Option<String>,
    /// `type/subtype` of the part's Content-Type, lowercase.
    declared_type: Option<String>,
}

impl PartHead {
    fn of(part: &Field) -> Self {
        Self {
            name: part.name().unwrap_or_default().to_string(),
            file_name: part
                .content_disposition()
                .and_then(|disposition| disposition.get_filename())
                .map(str::to_string),
            declared_type: part
                .content_type()
                .map(|mime| mime.essence_str().to_ascii_lowercase()),
        }
    }
}

/// Reads one part into `fields`: a source part as a file or as text, any other as text.
async fn read_one_part(
    part: Field,
    limits: FormLimits,
    fields: &mut RequestFields,
) -> Result<(), FormError> {
    let head = PartHead::of(&part);
    let source_field = SOURCE_FIELDS.into_iter().find(|known| *known == head.name);
    if source_field.is_none() && !PARAMETER_FIELDS.contains(&head.name.as_str()) {
        return skip_part(part).await;
    }
    let cap = limits.part_cap(source_field.is_some(), head.file_name.is_some());
    let Some(bytes) = read_part(part, cap).await? else {
        return Err(match source_field {
            Some(_) => FormError::TooLarge,
            None => FormError::FieldTooLong(head.name),
        });
    };
    match source_field {
        Some(field) => keep_source(field, head, bytes, limits, fields),
        None => {
            let text = String::from_utf8(bytes)
                .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned());
            fields.body.insert(head.name, text);
            Ok(())
        }
    }
}

fn keep_source(
    field: &'static str,
    head: PartHead,
    bytes: Vec<u8>,
    limits: FormLimits,
    fields: &mut RequestFields,
) -> Result<(), FormError> {
    match as_source_text(bytes, head.file_name.is_some()) {
        Ok(text) => {
            match head.declared_type {
                Some(declared_type) => fields
                    .declared_types
                    .insert(head.name.clone(), declared_type),
                None => fields.declared_types.remove(&head.name),
            };
            fields.body.insert(head.name, text);
        }
        Err(bytes) if bytes.len() as u64 > limits.max_file_bytes => {
            return Err(FormError::TooLarge)
        }
        Err(bytes) => {
            let file_name = head.file_name;
            fields.file = Some(FilePart {
                field,
                bytes,
                file_name,
            });
        }
    }
    Ok(())
}

/// A source part is text (base64 or a URL) unless it names a file or its bytes are not text;
/// then it comes back as the file's bytes. Some clients send the file without a file name;
/// base64 and URLs are always valid UTF-8 and never hold a NUL, while a small dark BMP can be
/// valid UTF-8 but always has NULs in its header.
fn as_source_text(bytes: Vec<u8>, has_file_name: bool) -> Result<String, Vec<u8>> {
    if has_file_name {
        return Err(bytes);
    }
    match String::from_utf8(bytes) {
        Ok(text) if !text.contains('\0') => Ok(text),
        Ok(text) => Err(text.into_bytes()),
        Err(err) => Err(err.into_bytes()),
    }
}

/// Reads a part to its end, keeping nothing.
async fn skip_part(mut part: Field) -> Result<(), FormError> {
    while part.try_next().await.map_err(from_multipart)?.is_some() {}
    Ok(())
}

/// Reads one part, or `None` as soon as it passes `cap` bytes.
async fn read_part(mut part: Field, cap: u64) -> Result<Option<Vec<u8>>, FormError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = part.try_next().await.map_err(from_multipart)? {
        if (bytes.len() + chunk.len()) as u64 > cap {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// The request body, failing with [`PayloadError::Overflow`] as soon as it passes `max_bytes`.
/// The chunk that crosses the cap is never handed on, and nothing more is read after it.
struct CappedBody {
    payload: web::Payload,
    remaining_bytes: u64,
    is_over: bool,
}

impl CappedBody {
    fn new(payload: web::Payload, max_bytes: u64) -> Self {
        Self {
            payload,
            remaining_bytes: max_bytes,
            is_over: false,
        }
    }
}

impl Stream for CappedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.is_over {
            return Poll::Ready(Some(Err(PayloadError::Overflow)));
        }
        let chunk = match Pin::new(&mut this.payload).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => chunk,
            other => return other,
        };
        match this.remaining_bytes.checked_sub(chunk.len() as u64) {
            Some(remaining_bytes) => {
                this.remaining_bytes = remaining_bytes;
                Poll::Ready(Some(Ok(chunk)))
            }
            None => {
                this.is_over = true;
                Poll::Ready(Some(Err(PayloadError::Overflow)))
            }
        }
    }
}
