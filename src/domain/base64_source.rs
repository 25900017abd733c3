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

/// How a text source reached the server, which decides what a space inside it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    /// An urlencoded body or a query string. A client that forgot to escape `+` there had it
    /// decoded into a space, and real base64 never holds a space, so a space reads as `+`.
    UrlEncoded,
    /// A multipart text field, which carries the text exactly as sent: a `+` arrives as `+`, so
    /// a space is only whitespace and is dropped like a line break.
    Multipart,
}

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

    /// Markup (SVG, HTML, XML) sent as a text field: a file of a type we do not take, not a
    /// damaged base64 string.
    #[error("Invalid or unsupported file type")]
    Markup,

    /// Neither a URL nor valid base64.
    #[error("Invalid base64 string")]
    InvalidBase64(#[source] base64::DecodeError),
}

/// Tells a URL from inline base64 and decodes the latter. This is CPU work proportional to the
/// text (tens of milliseconds for a full-size upload): callers on an async executor run it on
/// the blocking pool.
pub fn classify_text_source(raw: &str, encoding: TextEncoding) -> Result<TextSource, SourceError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(SourceError::Empty);
    }

    // The payload trim, not `text`'s: a form-encoded data URI may end in a `+` that a form
    // decoder turned into a space, and dropping it would lose the last byte.
    if let Some(payload) = data_uri_payload(trim_payload(raw, encoding).trim_start())? {
        if payload.trim().is_empty() {
            return Err(SourceError::Empty);
        }
        return decode(payload, encoding).map(TextSource::Bytes);
    }
    if has_url_scheme(text) {
        return Url::parse(text)
            .map(TextSource::Url)
            .map_err(SourceError::InvalidUrl);
    }
    if is_markup(text) {
        return Err(SourceError::Markup);
    }
    decode(trim_payload(raw, encoding), encoding).map(TextSource::Bytes)
}

/// Whitespace around the payload goes, except that in form-encoded text spaces at the ends
/// stay: they are `+` signs a form decoder mangled, and dropping one would silently shift every
/// decoded byte.
fn trim_payload(raw: &str, encoding: TextEncoding) -> &str {
    match encoding {
        TextEncoding::UrlEncoded => raw.trim_matches(|c: char| c.is_whitespace() && c != ' '),
        TextEncoding::Multipart => raw.trim(),
    }
}

/// True for text that opens like a tag, as SVG, HTML and XML files do (after an optional byte
/// order mark). `<` is not in the base64 alphabet, so no base64 payload is misread as markup.
fn is_markup(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
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

fn decode(payload: &str, encoding: TextEncoding) -> Result<Vec<u8>, SourceError> {
    let bytes = LENIENT
        .decode(normalize(payload, encoding))
        .map_err(SourceError::InvalidBase64)?;
    if bytes.is_empty() {
        return Err(SourceError::Empty);
    }
    Ok(bytes)
}

/// Maps what clients send onto the standard alphabet in one pass: whitespace and line breaks
/// dropped, except that a space in form-encoded text is a `+` (see [`TextEncoding`]); and the
/// URL-safe `-` and `_` read as `+` and `/`.
fn normalize(payload: &str, encoding: TextEncoding) -> Vec<u8> {
    let spaces_are_plus = encoding == TextEncoding::UrlEncoded;
    let mut cleaned = Vec::with_capacity(payload.len());
    for byte in payload.bytes() {
        match byte {
            b' ' if spaces_are_plus => cleaned.push(b'+'),
            b'-' => cleaned.push(b'+'),
            b'_' => cleaned.push(b'/'),
            other if other.is_ascii_whitespace() => {}
            other => cleaned.push(other),
        }
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    const BOTH: [TextEncoding; 2] = [TextEncoding::UrlEncoded, TextEncoding::Multipart];

    fn bytes_in(raw: &str, encoding: TextEncoding) -> Vec<u8> {
        match classify_text_source(raw, encoding) {
            Ok(TextSource::Bytes(bytes)) => bytes,
            other => panic!("{raw:?} ({encoding:?}) should decode, got {other:?}"),
        }
    }

    /// Decodes `raw` sent either way, which must give the same bytes.
    fn bytes(raw: &str) -> Vec<u8> {
        let decoded = bytes_in(raw, TextEncoding::UrlEncoded);
        assert_eq!(bytes_in(raw, TextEncoding::Multipart), decoded, "{raw:?}");
        decoded
    }

    fn classify(raw: &str) -> Result<TextSource, SourceError> {
        let result = classify_text_source(raw, TextEncoding::UrlEncoded);
        let multipart = classify_text_source(raw, TextEncoding::Multipart);
        assert_eq!(multipart, result, "{raw:?} is read the same either way");
        result
    }

    fn url(raw: &str) -> String {
        match classify(raw) {
            Ok(TextSource::Url(url)) => url.to_string(),
            other => panic!("{raw:?} should be a URL, got {other:?}"),
        }
    }

    #[test]
    fn a_form_encoded_data_uri_keeps_a_final_plus_that_became_a_space() {
        // "AAA+" is 00 00 3e; the form decoder turned the `+` into a space.
        let raw = "data:image/png;base64,AAA \r\n";
        assert_eq!(bytes_in(raw, TextEncoding::UrlEncoded), [0, 0, 0x3e]);
        assert_eq!(
            bytes_in("data:image/png;base64,AAA+", TextEncoding::Multipart),
            [0, 0, 0x3e]
        );
    }

    #[test]
    fn blank_sources_are_empty() {
        for raw in ["", "   ", "\r\n\t", "data:;base64,", "data:;base64, \n"] {
            assert_eq!(classify(raw), Err(SourceError::Empty), "{raw:?}");
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
        let result = classify("http://exa mple.com/");

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
        let tabbed = format!("\t{}\t", standard.replace('/', "/\t"));

        for raw in [&standard, &unpadded, &wrapped, &url_safe, &tabbed] {
            assert_eq!(bytes(raw), payload, "{raw:?}");
        }
    }

    #[test]
    fn in_form_encoded_text_a_space_is_a_plus_sign_the_client_forgot_to_escape() {
        let payload: Vec<u8> = (0u8..=255).collect();
        let form_mangled = STANDARD.encode(&payload).replace('+', " ");
        let cases: &[(&str, &[u8])] = &[
            (&form_mangled, &payload),
            (" /8=", &[0xfb, 0xff]),
            ("\n /8=\r\n", &[0xfb, 0xff]),
            ("//8 ", &[0xff, 0xff, 0x3e]),
        ];

        for &(raw, expected) in cases {
            assert_eq!(bytes_in(raw, TextEncoding::UrlEncoded), expected, "{raw:?}");
        }
    }

    #[test]
    fn in_a_multipart_field_spaces_are_whitespace_and_ignored() {
        let payload: Vec<u8> = (0u8..=255).collect();
        let standard = STANDARD.encode(&payload);
        let spaced: String = standard
            .as_bytes()
            .chunks(4)
            .map(|group| format!("{} ", String::from_utf8_lossy(group)))
            .collect();
        let indented = format!("  {}  ", standard.replace('/', "/ \r\n "));
        let cases: &[(&str, &[u8])] = &[
            (&spaced, &payload),
            (&indented, &payload),
            (" /8=", &[0xff]),
            ("+/8 =", &[0xfb, 0xff]),
            ("QU JD", b"ABC"),
        ];

        for &(raw, expected) in cases {
            assert_eq!(bytes_in(raw, TextEncoding::Multipart), expected, "{raw:?}");
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
            ("\n+/8=\r\n", &[0xfb, 0xff]),
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

        for (raw, encoding) in cases.into_iter().flat_map(|raw| BOTH.map(|e| (raw, e))) {
            let result = classify_text_source(raw, encoding);
            assert!(
                matches!(result, Err(SourceError::InvalidBase64(_))),
                "{raw:?} ({encoding:?}): {result:?}"
            );
        }
    }

    #[test]
    fn markup_is_refused_as_a_file_type_not_as_bad_base64() {
        let cases = [
            r#"<svg xmlns="http://www.w3.org/2000/svg"></svg>"#,
            "\n  <?xml version=\"1.0\"?><svg/>",
            "\u{feff}<svg/>",
            "<!DOCTYPE html><html></html>",
        ];

        for raw in cases {
            assert_eq!(classify(raw), Err(SourceError::Markup), "{raw:?}");
        }
    }

    #[test]
    fn data_uris_must_carry_base64() {
        let cases = ["data:text/plain,hello", "data:image/png;base64", "data:"];

        for raw in cases {
            assert_eq!(
                classify(raw),
                Err(SourceError::UnsupportedDataUri),
                "{raw:?}"
            );
        }
        assert_eq!(classify("data:;base64,"), Err(SourceError::Empty));
    }

    #[test]
    fn error_messages_tell_the_client_what_was_wrong() {
        let invalid = classify("***").err().map(|e| e.to_string());
        let empty = classify(" ").err().map(|e| e.to_string());

        assert_eq!(invalid.as_deref(), Some("Invalid base64 string"));
        assert_eq!(empty.as_deref(), Some("Empty upload source"));
    }

    #[test]
    fn a_27_megabyte_wrapped_payload_decodes_whole() {
        let payload = vec![0x5a_u8; 20 * 1024 * 1024];
        let wrapped: String = STANDARD
            .encode(&payload)
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\n", String::from_utf8_lossy(line)))
            .collect();
        assert!(wrapped.len() > 27_000_000);

        let decoded = bytes(&wrapped);

        assert_eq!(decoded.len(), payload.len());
        assert!(decoded == payload);
    }
}
