//! Reading an upload request's parameters: query string, urlencoded body or multipart body.
//!
//! Bodies are streamed with a cap on every part, so a too-large upload is stopped as soon as it
//! passes the limit and is never held in memory whole. After the limit is hit, a bounded amount
//! of the rest is read and thrown away before answering: a client that is still sending would
//! otherwise see a reset connection instead of the JSON error telling it what went wrong.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::{StreamExt, TryStreamExt};

use crate::domain::base64_source::TextEncoding;

/// Fields whose value may be the upload itself.
pub const SOURCE_FIELDS: [&str; 2] = ["source", "image"];

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

    /// A text source may hold the file in base64, a third larger, plus line breaks.
    fn max_text_source_bytes(&self) -> u64 {
        self.max_file_bytes / 3 * 4 + self.max_file_bytes / 38 + 1024
    }

    /// A body larger than this is refused from its Content-Length without reading it.
    fn max_body_bytes(&self) -> u64 {
        self.max_text_source_bytes() + 1024 * 1024
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
}

/// Reads every parameter of the request.
pub async fn read_fields(
    req: &HttpRequest,
    payload: web::Payload,
    limits: FormLimits,
) -> Result<RequestFields, FormError> {
    let mut fields = RequestFields {
        query: parse_urlencoded(req.query_string()),
        ..Default::default()
    };
    if declared_length(req).is_some_and(|length| length > limits.max_body_bytes()) {
        return Err(FormError::TooLarge);
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        fields.is_multipart_body = true;
        read_multipart(req, payload, limits, &mut fields).await?;
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let body = read_capped(payload, limits.max_body_bytes()).await?;
        fields.body = parse_urlencoded(&String::from_utf8_lossy(&body));
    }
    Ok(fields)
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    let value = req.headers().get(header::CONTENT_LENGTH)?;
    value.to_str().ok()?.trim().parse().ok()
}

fn parse_urlencoded(text: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

async fn read_capped(mut payload: web::Payload, max_bytes: u64) -> Result<Vec<u8>, FormError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|err| FormError::Malformed(err.to_string()))?;
        if (body.len() + chunk.len()) as u64 > max_bytes {
            drain(payload, max_bytes).await;
            return Err(FormError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads and discards up to `budget` more bytes, so that the client gets to read the answer.
async fn drain<S, E>(mut stream: S, budget: u64)
where
    S: futures_util::Stream<Item = Result<web::Bytes, E>> + Unpin,
{
    let mut seen = 0u64;
    while let Some(Ok(chunk)) = stream.next().await {
        seen += chunk.len() as u64;
        if seen > budget {
            return;
        }
    }
}

async fn read_multipart(
    req: &HttpRequest,
    payload: web::Payload,
    limits: FormLimits,
    fields: &mut RequestFields,
) -> Result<(), FormError> {
    let mut multipart = Multipart::new(req.headers(), payload);
    while let Some(field) = multipart.try_next().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field
            .content_disposition()
            .and_then(|disposition| disposition.get_filename())
            .map(str::to_string);
        let declared_type = field
            .content_type()
            .map(|mime| mime.essence_str().to_ascii_lowercase());
        let source_field = SOURCE_FIELDS.into_iter().find(|known| *known == name);
        let cap = match source_field {
            Some(_) => limits.max_text_source_bytes().max(limits.max_file_bytes),
            None => limits.max_field_bytes,
        };
        let (bytes, is_over) = read_part(field, cap).await?;
        let is_file = source_field.is_some() && is_file_part(file_name.is_some(), &bytes);
        if is_file && bytes.len() as u64 > limits.max_file_bytes || is_over {
            if source_field.is_none() {
                return Err(FormError::FieldTooLong(name));
            }
            drain_multipart(multipart, limits.max_file_bytes).await;
            return Err(FormError::TooLarge);
        }
        match (source_field, is_file) {
            (Some(field), true) => {
                fields.file = Some(FilePart {
                    field,
                    bytes,
                    file_name,
                })
            }
            (Some(_), false) => {
                match declared_type {
                    Some(declared_type) => {
                        fields.declared_types.insert(name.clone(), declared_type)
                    }
                    None => fields.declared_types.remove(&name),
                };
                fields
                    .body
                    .insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
            (None, _) => {
                fields
                    .body
                    .insert(name, String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    Ok(())
}

/// A source part is a file when it names a file or its bytes are not text. Some clients send
/// the file without a file name; base64 and URLs are always valid UTF-8 and never hold a NUL,
/// while a small dark BMP can be valid UTF-8 but always has NULs in its header.
fn is_file_part(has_file_name: bool, bytes: &[u8]) -> bool {
    has_file_name || std::str::from_utf8(bytes).is_err() || bytes.contains(&0)
}

/// Reads one part up to `cap` bytes; the flag says whether the part went past it.
async fn read_part(
    mut field: actix_multipart::Field,
    cap: u64,
) -> Result<(Vec<u8>, bool), FormError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(malformed)? {
        if (bytes.len() + chunk.len()) as u64 > cap {
            drain(field, cap).await;
            return Ok((bytes, true));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, false))
}

async fn drain_multipart(mut multipart: Multipart, budget: u64) {
    while let Ok(Some(field)) = multipart.try_next().await {
        drain(field, budget).await;
    }
}

fn malformed(err: actix_multipart::MultipartError) -> FormError {
    FormError::Malformed(err.to_string())
}
