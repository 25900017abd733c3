//! Reading EXIF (a TIFF structure) with the `exif` crate: orientation, date taken, texts and the
//! JSON summary stored with each image.
//!
//! Broken EXIF is common and never fatal: whatever parses is used, the rest is logged at debug.

use chrono::{FixedOffset, NaiveDateTime};
use exif::{Context, Exif, Field, In, Tag, Value};
use image::metadata::Orientation;
use serde_json::{Map, Number, Value as Json};

use super::tiff::has_linear_parse_cost;
use super::DateTaken;

/// The largest EXIF structure read. A JPEG segment holds at most 64 KiB and cameras write no
/// more into other formats; parsing copies every value out, so a larger one costs memory for
/// nothing a camera wrote.
const MAX_EXIF_BYTES: usize = 1024 * 1024;
/// Longest text kept in the JSON summary, in characters.
const MAX_TEXT_CHARS: usize = 2000;
/// Longest list of numbers kept in the JSON summary.
const MAX_LIST_LEN: usize = 64;
/// Longest binary (UNDEFINED) value shown; longer ones are opaque blobs.
const MAX_BLOB_BYTES: usize = 16;

/// Parses a TIFF structure, keeping every field that could be read; one too large or too
/// costly to parse is ignored (its GPS is still removed, from the raw bytes).
pub(crate) fn parse(tiff: &[u8]) -> Option<Exif> {
    if tiff.len() > MAX_EXIF_BYTES {
        tracing::debug!(bytes = tiff.len(), "ignoring oversized EXIF data");
        return None;
    }
    if !has_linear_parse_cost(tiff) {
        tracing::debug!("ignoring EXIF data whose entries overlap");
        return None;
    }
    let result = exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec());
    let partial = result.or_else(|error| {
        error.distill_partial_result(|errors| {
            tracing::debug!(?errors, "ignoring the unreadable parts of the EXIF data");
        })
    });
    partial
        .map_err(|error| tracing::debug!(%error, "ignoring unreadable EXIF data"))
        .ok()
}

/// The EXIF orientation; absent, unreadable and out-of-range values (0, 9, 65535) mean upright.
pub(crate) fn orientation(exif: Option<&Exif>) -> Orientation {
    exif.and_then(|exif| exif.get_field(Tag::Orientation, In::PRIMARY))
        .and_then(|field| field.value.get_uint(0))
        .and_then(|value| u8::try_from(value).ok())
        .and_then(Orientation::from_exif)
        .unwrap_or(Orientation::NoTransforms)
}

/// DateTimeOriginal with OffsetTimeOriginal (not OffsetTime, which is when the file was last
/// changed); impossible dates give `None`.
pub(crate) fn date_taken(exif: &Exif) -> Option<DateTaken> {
    let text = ascii(exif, Tag::DateTimeOriginal)?;
    let local = NaiveDateTime::parse_from_str(text.trim(), "%Y:%m:%d %H:%M:%S").ok()?;
    // Cameras with a flat clock battery write 1970 or earlier; no photograph predates 1826.
    if !(1826..=9999).contains(&chrono::Datelike::year(&local)) {
        return None;
    }
    let offset = ascii(exif, Tag::OffsetTimeOriginal).and_then(|t| parse_offset(&t));
    Some(DateTaken { local, offset })
}

fn parse_offset(text: &str) -> Option<FixedOffset> {
    let text = text.trim();
    let (sign, rest) = if let Some(rest) = text.strip_prefix('+') {
        (1, rest)
    } else {
        (-1, text.strip_prefix('-')?)
    };
    let (hours, minutes) = rest.split_once(':')?;
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

/// The image description, unless it is a camera's placeholder.
pub(crate) fn description(exif: &Exif) -> Option<String> {
    // Some cameras fill the field with their own name or spaces on every shot.
    const PLACEHOLDERS: [&str; 4] = [
        "OLYMPUS DIGITAL CAMERA",
        "SONY DSC",
        "DIGITAL CAMERA",
        "default",
    ];
    let text = ascii(exif, Tag::ImageDescription)?;
    let text = text.trim();
    let is_placeholder = text.is_empty() || PLACEHOLDERS.contains(&text);
    (!is_placeholder).then(|| text.to_owned())
}

/// The user comment, decoded from its character-code prefix.
pub(crate) fn user_comment(exif: &Exif) -> Option<String> {
    let field = exif.get_field(Tag::UserComment, In::PRIMARY)?;
    let Value::Undefined(bytes, _) = &field.value else {
        return None;
    };
    decode_user_comment(bytes, exif.little_endian())
}

fn decode_user_comment(bytes: &[u8], little_endian: bool) -> Option<String> {
    let (code, text) = (bytes.get(..8)?, bytes.get(8..)?);
    let decoded = if code == b"UNICODE\0" {
        let units = text.chunks_exact(2).map(|pair| {
            let pair = [pair[0], pair[1]];
            if little_endian {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{FFFD}'))
            .collect()
    } else {
        // ASCII, JIS and "undefined" codes: writers put UTF-8 in practice.
        String::from_utf8_lossy(text).into_owned()
    };
    let trimmed = decoded.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// The primary image's fields as a JSON object string: integers as numbers, texts as strings,
/// rationals and short binary values in their conventional notation ("1/125", "2.31").
/// MakerNote, thumbnail fields, unknown tags and (when asked) GPS are left out.
pub(crate) fn to_json(exif: &Exif, strip_gps: bool) -> Option<String> {
    let mut object = Map::new();
    for field in exif
        .fields()
        .filter(|field| is_summarised(field, strip_gps))
    {
        if let Some(value) = json_value(field, exif) {
            object.entry(field.tag.to_string()).or_insert(value);
        }
    }
    (!object.is_empty()).then(|| Json::Object(object).to_string())
}

fn is_summarised(field: &Field, strip_gps: bool) -> bool {
    let is_gps = field.tag.context() == Context::Gps;
    field.ifd_num == In::PRIMARY
        && field.tag != Tag::MakerNote
        && field.tag.description().is_some()
        && !(strip_gps && is_gps)
}

fn json_value(field: &Field, exif: &Exif) -> Option<Json> {
    match &field.value {
        Value::Ascii(parts) => text(parts.first()?),
        Value::Byte(v) => numbers(v.iter().map(|&n| Number::from(n))),
        Value::Short(v) => numbers(v.iter().map(|&n| Number::from(n))),
        Value::Long(v) => numbers(v.iter().map(|&n| Number::from(n))),
        Value::SByte(v) => numbers(v.iter().map(|&n| Number::from(n))),
        Value::SShort(v) => numbers(v.iter().map(|&n| Number::from(n))),
        Value::SLong(v) => numbers(v.iter().map(|&n| Number::from(n))),
        Value::Float(v) => numbers(v.iter().filter_map(|&n| Number::from_f64(f64::from(n)))),
        Value::Double(v) => numbers(v.iter().filter_map(|&n| Number::from_f64(n))),
        Value::Rational(v) if v.len() <= MAX_LIST_LEN => displayed(field),
        Value::SRational(v) if v.len() <= MAX_LIST_LEN => displayed(field),
        Value::Undefined(_, _) if field.tag == Tag::UserComment => {
            user_comment(exif).map(Json::String)
        }
        Value::Undefined(bytes, _) if bytes.len() <= MAX_BLOB_BYTES => displayed(field),
        _ => None,
    }
}

fn text(bytes: &[u8]) -> Option<Json> {
    let text = lossy_text(bytes);
    let text = text.trim();
    (!text.is_empty()).then(|| Json::String(text.chars().take(MAX_TEXT_CHARS).collect()))
}

fn numbers(values: impl Iterator<Item = Number>) -> Option<Json> {
    let mut list: Vec<Json> = values.take(MAX_LIST_LEN + 1).map(Json::Number).collect();
    match list.len() {
        0 => None,
        1 => list.pop(),
        n if n > MAX_LIST_LEN => None,
        _ => Some(Json::Array(list)),
    }
}

fn displayed(field: &Field) -> Option<Json> {
    let shown = field.display_value().to_string();
    (!shown.is_empty()).then(|| Json::String(shown.chars().take(MAX_TEXT_CHARS).collect()))
}

/// The first value of an ASCII field.
fn ascii(exif: &Exif, tag: Tag) -> Option<String> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => Some(lossy_text(parts.first()?)),
        _ => None,
    }
}

/// EXIF ASCII is often UTF-8 in practice and sometimes Latin-1; never fail on either.
fn lossy_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.trim_end_matches('\0').to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A little-endian TIFF structure with the given IFD0 entries (tag, type, count, 4 bytes of
    /// value) followed by `extra` data, which out-of-line values point into (offsets from the
    /// start of the TIFF header).
    pub(crate) fn tiff_le(entries: &[(u16, u16, u32, [u8; 4])], extra: &[u8]) -> Vec<u8> {
        let mut out = b"II*\0\x08\0\0\0".to_vec();
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(value);
        }
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(extra);
        out
    }

    fn short(value: u16) -> [u8; 4] {
        let [a, b] = value.to_le_bytes();
        [a, b, 0, 0]
    }

    #[test]
    fn out_of_range_orientations_mean_upright() {
        for value in [0u16, 9, 65535] {
            let exif = parse(&tiff_le(&[(0x0112, 3, 1, short(value))], b""));

            assert_eq!(
                orientation(exif.as_ref()),
                Orientation::NoTransforms,
                "{value}"
            );
        }
    }

    #[test]
    fn each_valid_orientation_is_read() {
        for value in 1u16..=8 {
            let exif = parse(&tiff_le(&[(0x0112, 3, 1, short(value))], b""));

            assert_eq!(orientation(exif.as_ref()).to_exif(), value as u8);
        }
    }

    #[test]
    fn an_ifd_claiming_more_entries_than_exist_still_yields_what_is_there() {
        let mut tiff = tiff_le(&[(0x0112, 3, 1, short(6))], b"");
        tiff[8] = 12;
        tiff.truncate(8 + 2 + 12);

        let exif = parse(&tiff);

        assert_eq!(orientation(exif.as_ref()), Orientation::Rotate90);
    }

    #[test]
    fn offsets_are_parsed_with_their_sign() {
        let cases = [
            ("+09:00", Some(9 * 3600)),
            ("-03:30", Some(-(3 * 3600 + 1800))),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_offset(text).map(|o| o.local_minus_utc()),
                seconds,
                "{text}"
            );
        }
        for garbage in ["", "09:00", "+25:00", "+ab:cd", "   :  "] {
            assert_eq!(parse_offset(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn a_unicode_user_comment_is_decoded_with_the_tiff_byte_order() {
        let mut bytes = b"UNICODE\0".to_vec();
        bytes.extend("Hi ✓".encode_utf16().flat_map(u16::to_le_bytes));

        assert_eq!(decode_user_comment(&bytes, true).as_deref(), Some("Hi ✓"));
    }

    #[test]
    fn an_empty_ascii_user_comment_is_none() {
        assert_eq!(decode_user_comment(b"ASCII\0\0\0\0\0   ", false), None);
    }

    #[test]
    fn exif_too_large_or_too_costly_to_parse_is_ignored() {
        let oversized = tiff_le(&[(0x0112, 3, 1, short(6))], &vec![0; MAX_EXIF_BYTES]);
        // IFD0 at 8 holds 4 entries, so the shared value starts at 8 + 2 + 48 + 4 = 62.
        let shared = (0x9286, 7, 60_000, 62u32.to_le_bytes());
        let entries = [(0x0112, 3, 1, short(6)), shared, shared, shared];
        let overlapping = tiff_le(&entries, &[b'x'; 60_000]);

        assert!(parse(&oversized[..MAX_EXIF_BYTES]).is_some());
        assert!(parse(&oversized).is_none());
        assert!(parse(&overlapping).is_none());
    }
}
