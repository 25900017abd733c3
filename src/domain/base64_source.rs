//! The `source` text field of an upload: either a URL for the fetcher or inline image bytes
//! (base64, or a base64 data URI), told apart and decoded here.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use thiserror::Error;
use url::Url;

/// Tolerates what real clients send: padding present or missing, and stray bits in the last
/// character, which PHP's decoder (and so Chevereto) accepts.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// A URL scheme is short; looking further would scan a whole base64 payload for nothing.
const MAX_SCHEME_CHARS: usize = 32;

/// What a text source turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextSource {
    /// A URL to fetch; the fetcher decides which schemes it allows.
    Url(Url),
    /// Decoded inline bytes.
    Bytes(Vec<u8>),
}

/// Why a text source was refused; each message tells the client what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SourceError {
    /// Nothing to upload.
    #[error("Empty upload source")]
    Empty,

    /// It looked like a URL but did not parse as one.
    #[error("Invalid URL: {0}")]
    InvalidUrl(#[source] url::ParseError),

    /// A `data:` URI whose payload is not base64.
    #[error("Invalid data URI: only base64 data URIs are accepted")]
    UnsupportedDataUri,

    /// Neither a URL nor valid base64.
    #[error("Invalid base64 string")]
    InvalidBase64(#[source] base64::DecodeError),
}

/// Tells a URL from inline base64 and decodes the latter.
pub fn classify_text_source(raw: &str) -> Result<TextSource, SourceError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(SourceError::Empty);
    }

    if let Some(payload) = data_uri_payload(text)? {
        return decode(payload).map(TextSource::Bytes);
    }
    if has_url_scheme(text) {
        return Url::parse(text)
            .map(TextSource::Url)
            .map_err(SourceError::InvalidUrl);
    }
    // Spaces at the ends stay: they are `+` signs a form decoder mangled, and dropping one
    // would silently shift every decoded byte.
    decode(raw.trim_matches(|c: char| c.is_whitespace() && c != ' ')).map(TextSource::Bytes)
}

/// The payload of a `data:<anything>;base64,<payload>` URI, or `None` for other text. The
/// declared media type is ignored: the image decoder sniffs the real format.
fn data_uri_payload(text: &str) -> Result<Option<&str>, SourceError> {
    let Some(prefix) = text.get(..5) else {
        return Ok(None);
    };
    if !prefix.eq_ignore_ascii_case("data:") {
        return Ok(None);
    }

    let (header, payload) = text
        .split_once(',')
        .ok_or(SourceError::UnsupportedDataUri)?;
    let marker = b";base64";
    let header = header.as_bytes();
    let is_base64 = header.len() >= marker.len()
        && header[header.len() - marker.len()..].eq_ignore_ascii_case(marker);
    if is_base64 {
        Ok(Some(payload))
    } else {
        Err(SourceError::UnsupportedDataUri)
    }
}

/// True for `scheme://…` with an RFC 3986 scheme. A colon never occurs in base64, so this
/// cannot misread an inline payload.
fn has_url_scheme(text: &str) -> bool {
    let Some(colon) = text
        .bytes()
        .take(MAX_SCHEME_CHARS + 1)
        .position(|b| b == b':')
    else {
        return false;
    };
    let (scheme, rest) = text.split_at(colon);
    let mut chars = scheme.bytes();
    let starts_with_letter = chars.next().is_some_and(|b| b.is_ascii_alphabetic());
    let is_scheme_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');

    starts_with_letter && chars.all(is_scheme_char) && rest.starts_with("://")
}

fn decode(payload: &str) -> Result<Vec<u8>, SourceError> {
    let bytes = LENIENT
        .decode(normalize(payload))
        .map_err(SourceError::InvalidBase64)?;
    if bytes.is_empty() {
        return Err(SourceError::Empty);
    }
    Ok(bytes)
}

/// Maps what clients send onto the standard alphabet in one pass: line breaks and tabs
/// dropped; a space read as `+`, because a form decoder turns an unescaped `+` into a space
/// and real base64 never holds one; and the URL-safe `-` and `_` read as `+` and `/`.
fn normalize(payload: &str) -> Vec<u8> {
    let mut cleaned = Vec::with_capacity(payload.len());
    for byte in payload.bytes() {
        match byte {
            b'\r' | b'\n' | b'\t' => {}
            b' ' | b'-' => cleaned.push(b'+'),
            b'_' => cleaned.push(b'/'),
            other => cleaned.push(other),
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use base64::engine::general_purpose::STANDARD;

    use super::*;

    fn bytes(raw: &str) -> Vec<u8> {
        match classify_text_source(raw) {
            Ok(TextSource::Bytes(bytes)) => bytes,
            other => panic!("{raw:?} should decode, got {other:?}"),
        }
    }

    fn url(raw: &str) -> String {
        match classify_text_source(raw) {
            Ok(TextSource::Url(url)) => url.to_string(),
            other => panic!("{raw:?} should be a URL, got {other:?}"),
        }
    }

    #[test]
    fn blank_sources_are_empty() {
        for raw in ["", "   ", "\r\n\t", "data:;base64,", "data:;base64, \n"] {
            assert_eq!(
                classify_text_source(raw),
                Err(SourceError::Empty),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn anything_with_a_scheme_and_slashes_is_a_url() {
        let cases: &[(&str, &str)] = &[
            ("https://example.com/a.png", "https://example.com/a.png"),
            (
                "  http://example.com/a b.png \n",
                "http://example.com/a%20b.png",
            ),
            ("HTTP://EXAMPLE.COM/", "http://example.com/"),
            ("ftp://example.com/a.png", "ftp://example.com/a.png"),
            ("file:///etc/passwd", "file:///etc/passwd"),
            ("gopher://example.com/1", "gopher://example.com/1"),
            ("svn+ssh://host/x", "svn+ssh://host/x"),
        ];

        for &(raw, expected) in cases {
            assert_eq!(url(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn an_unparsable_url_is_refused_as_a_url() {
        let result = classify_text_source("http://exa mple.com/");

        assert!(
            matches!(result, Err(SourceError::InvalidUrl(_))),
            "{result:?}"
        );
    }

    #[test]
    fn base64_variants_clients_send_all_decode() {
        let payload: Vec<u8> = (0u8..=255).collect();
        let standard = STANDARD.encode(&payload);
        let unpadded = standard.trim_end_matches('=').to_owned();
        let wrapped: String = standard
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\r\n", String::from_utf8_lossy(line)))
            .collect();
        let url_safe = standard.replace('+', "-").replace('/', "_");
        let form_mangled = standard.replace('+', " ");
        let tabbed = format!("\t{}\t", standard.replace('/', "/\t"));

        for raw in [
            &standard,
            &unpadded,
            &wrapped,
            &url_safe,
            &form_mangled,
            &tabbed,
        ] {
            assert_eq!(bytes(raw), payload, "{raw:?}");
        }
    }

    #[test]
    fn small_payloads_decode_to_their_bytes() {
        let cases: &[(&str, &[u8])] = &[
            ("QQ==", b"A"),
            ("QQ", b"A"),
            ("QUI=", b"AB"),
            ("QUJD", b"ABC"),
            ("+/8=", &[0xfb, 0xff]),
            (" /8=", &[0xfb, 0xff]),
            ("\n /8=\r\n", &[0xfb, 0xff]),
            ("//8 ", &[0xff, 0xff, 0x3e]),
            ("-_8", &[0xfb, 0xff]),
            ("QR==", b"A"),
            ("data:image/png;base64,QUJD", b"ABC"),
            ("DATA:text/plain;BASE64,QUJD", b"ABC"),
            ("data:;base64,QUJD", b"ABC"),
            ("data:image/gif;name=x.gif;base64,QU\r\nJD", b"ABC"),
        ];

        for &(raw, expected) in cases {
            assert_eq!(bytes(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn text_that_is_neither_url_nor_base64_is_refused() {
        let cases = [
            "not base64!",
            "QUJD*",
            "Q",
            "QQ=QQ==",
            "ü",
            "example.com/a.png",
            "a:b",
        ];

        for raw in cases {
            let result = classify_text_source(raw);
            assert!(
                matches!(result, Err(SourceError::InvalidBase64(_))),
                "{raw:?}: {result:?}"
            );
        }
    }

    #[test]
    fn data_uris_must_carry_base64() {
        let cases = ["data:text/plain,hello", "data:image/png;base64", "data:"];

        for raw in cases {
            assert_eq!(
                classify_text_source(raw),
                Err(SourceError::UnsupportedDataUri),
                "{raw:?}"
            );
        }
        assert_eq!(
            classify_text_source("data:;base64,"),
            Err(SourceError::Empty)
        );
    }

    #[test]
    fn error_messages_tell_the_client_what_was_wrong() {
        let invalid = classify_text_source("***").err().map(|e| e.to_string());
        let empty = classify_text_source(" ").err().map(|e| e.to_string());

        assert_eq!(invalid.as_deref(), Some("Invalid base64 string"));
        assert_eq!(empty.as_deref(), Some("Empty upload source"));
    }

    #[test]
    fn a_27_megabyte_payload_decodes_quickly() {
        let payload = vec![0x5a_u8; 20 * 1024 * 1024];
        let wrapped: String = STANDARD
            .encode(&payload)
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\n", String::from_utf8_lossy(line)))
            .collect();
        assert!(wrapped.len() > 27_000_000);

        let started = Instant::now();
        let decoded = bytes(&wrapped);

        assert_eq!(decoded.len(), payload.len());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
