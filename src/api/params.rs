//! Turning the raw request parameters into validated upload options.
//!
//! Each parameter is parsed into its domain type here, so that a bad value is refused with a
//! message naming the parameter before any work is done. Unknown parameters are ignored, as
//! Chevereto does.

use actix_web::web;

use crate::domain::base64_source::{classify_text_source, SourceError, TextSource};
use crate::domain::expiration::parse_expiration;
use crate::domain::id_codec::IdCodec;
use crate::domain::tags::parse_tags;
use crate::upload::UploadOptions;

use super::error::ApiError;
use super::form::{RequestFields, TextField, SOURCE_FIELDS};

/// Longest title kept, in characters.
const MAX_TITLE_CHARS: usize = 100;
/// Longest description kept, in characters.
const MAX_DESCRIPTION_CHARS: usize = 5000;

/// How the client wants the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    Json,
    Txt,
    Redirect,
}

impl ResponseFormat {
    /// Reads `format`; a missing or empty value means JSON.
    pub fn from_fields(fields: &RequestFields) -> Result<Self, ApiError> {
        match fields.get("format").map(str::trim).unwrap_or("") {
            "" | "json" => Ok(ResponseFormat::Json),
            "txt" => Ok(ResponseFormat::Txt),
            "redirect" => Ok(ResponseFormat::Redirect),
            other => Err(ApiError::invalid(format!(
                "Invalid format {other:?}: use json, txt or redirect"
            ))),
        }
    }
}

/// Where the upload's bytes come from.
#[derive(Debug)]
pub enum Source {
    /// Bytes that came with the request (file part or base64), with the client's file name.
    Bytes {
        bytes: Vec<u8>,
        file_name: Option<String>,
    },
    /// A URL for the server to fetch.
    Url(url::Url),
}

/// The parsed source and whether it came as ImgBB's `image` field.
pub struct SourceParam {
    pub source: Source,
    pub is_imgbb: bool,
}

/// Finds the source among the parameters: a file part, else a text `source`, else `image`.
pub async fn source(fields: &mut RequestFields) -> Result<SourceParam, ApiError> {
    if let Some(file) = fields.file.take() {
        let is_imgbb = file.field == "image";
        let source = Source::Bytes {
            bytes: file.bytes,
            file_name: file.file_name,
        };
        return Ok(SourceParam { source, is_imgbb });
    }
    let Some((field, text)) = SOURCE_FIELDS
        .into_iter()
        .find_map(|name| fields.take_text(name).map(|text| (name, text)))
    else {
        return Err(ApiError::empty_source());
    };
    Ok(SourceParam {
        source: text_source(text).await?,
        is_imgbb: field == "image",
    })
}

/// Reads a text source as a URL or base64. Decoding a full-size base64 upload takes tens of
/// milliseconds, so it runs on the blocking pool instead of stalling this worker's requests.
async fn text_source(text: TextField) -> Result<Source, ApiError> {
    let is_declared_file = text
        .declared_type
        .as_deref()
        .is_some_and(|declared| declared != "text/plain");
    let classified = web::block(move || classify_text_source(&text.value, text.encoding))
        .await
        .map_err(|err| ApiError::internal("the base64 decoding task failed", &err))?;
    match classified {
        Ok(TextSource::Url(url)) => Ok(Source::Url(url)),
        Ok(TextSource::Bytes(bytes)) => Ok(Source::Bytes {
            bytes,
            file_name: None,
        }),
        // A part that declared a media type other than text/plain is a file sent without a
        // file name (`curl -F "source=<drawing.svg"`), not base64 that got damaged.
        Err(SourceError::InvalidBase64(_)) if is_declared_file => Err(ApiError::unsupported_type()),
        Err(err) => Err(err.into()),
    }
}

/// Reads every optional parameter.
pub fn options(fields: &RequestFields, ids: &IdCodec) -> Result<UploadOptions, ApiError> {
    Ok(UploadOptions {
        title: text(fields, "title", MAX_TITLE_CHARS),
        description: text(fields, "description", MAX_DESCRIPTION_CHARS),
        tags: match fields.get("tags") {
            Some(raw) => parse_tags(raw).map_err(|err| ApiError::invalid(err.to_string()))?,
            None => Vec::new(),
        },
        album_id: album_id(fields, ids)?,
        category_id: category_id(fields)?,
        width: width(fields)?,
        expiration: match fields.get("expiration") {
            Some(raw) => parse_expiration(raw).map_err(|err| ApiError::invalid(err.to_string()))?,
            None => None,
        },
        is_nsfw: flag(fields, "nsfw")?,
        use_file_date: flag(fields, "use_file_date")?,
    })
}

/// A trimmed text parameter, cut to `max_chars`; empty means absent.
fn text(fields: &RequestFields, name: &str, max_chars: usize) -> Option<String> {
    let value = fields.get(name)?.trim();
    let value: String = value
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    let value: String = value.chars().take(max_chars).collect();
    (!value.is_empty()).then_some(value)
}

fn present<'a>(fields: &'a RequestFields, name: &str) -> Option<&'a str> {
    fields
        .get(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

fn album_id(fields: &RequestFields, ids: &IdCodec) -> Result<Option<i64>, ApiError> {
    let Some(raw) = present(fields, "album_id") else {
        return Ok(None);
    };
    let id = ids.decode(raw).and_then(|id| i64::try_from(id).ok());
    id.map(Some)
        .ok_or_else(|| ApiError::invalid(format!("Album {raw:?} not found")))
}

fn category_id(fields: &RequestFields) -> Result<Option<i64>, ApiError> {
    let Some(raw) = present(fields, "category_id") else {
        return Ok(None);
    };
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(Some(id)),
        _ => Err(ApiError::invalid(format!(
            "Invalid category_id {raw:?}: use a category number"
        ))),
    }
}

fn width(fields: &RequestFields) -> Result<Option<u32>, ApiError> {
    let Some(raw) = present(fields, "width") else {
        return Ok(None);
    };
    match raw.parse::<u32>() {
        Ok(width) if width > 0 => Ok(Some(width)),
        _ => Err(ApiError::invalid(format!(
            "Invalid width {raw:?}: use a whole number of pixels greater than 0"
        ))),
    }
}

fn flag(fields: &RequestFields, name: &str) -> Result<bool, ApiError> {
    match present(fields, name) {
        None | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") => Ok(true),
        Some(other) => Err(ApiError::invalid(format!(
            "Invalid {name} {other:?}: use 0 or 1"
        ))),
    }
}
