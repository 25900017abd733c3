//! Property tests of the pure functions that read what clients send: the expiration parser,
//! the base64 source decoder, the file-name sanitizer, the tag parser, the id codec and the
//! upload parameters. Each property runs [`CASES`] generated inputs (a fixed number, so the
//! suite stays fast); proptest shrinks a failure to a small input and prints it.
//!
//! These stand in for fuzzing: `cargo fuzz` needs a nightly compiler, which the build machines
//! do not have.

use std::collections::HashMap;

use base64::Engine;
use chrono::{DateTime, Months, TimeDelta, Utc};
use proptest::prelude::*;

use sajin::api::form::RequestFields;
use sajin::api::params::{self, ResponseFormat};
use sajin::domain::base64_source::TextEncoding;
use sajin::domain::filename::MAX_STEM_CHARS;
use sajin::domain::tags::{MAX_TAGS, MAX_TAG_CHARS};
use sajin::domain::{
    classify_text_source, parse_expiration, parse_tags, sanitize_stem, tags_string,
    title_from_filename, IdCodec, TextSource,
};

/// Generated inputs per property.
const CASES: u32 = 2048;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text that mixes the characters each parser treats specially with arbitrary Unicode.
fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[PTYMWDHS0-9.,:;/\\\\ \\-+=_a-z<>\t\r\n\u{0}\u{feff}\u{301}éß한]{0,80}",
    ]
}

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_764_800_000, 0).expect("a valid time")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn expiration_never_panics_and_accepted_values_land_within_a_minute_and_a_year(
        raw in hostile_text(),
    ) {
        if let Ok(Some(expiration)) = parse_expiration(&raw) {
            let at = expiration.expires_at(now());
            prop_assert!(at >= now() + TimeDelta::seconds(60), "{raw:?} -> {at}");
            let year = now().checked_add_months(Months::new(12)).expect("a year on");
            prop_assert!(at <= year, "{raw:?} -> {at}");
            let hint = expiration.as_seconds_hint();
            prop_assert!((60..=366 * 86_400).contains(&hint), "{raw:?} -> {hint}");
        }
    }

    #[test]
    fn expiration_reads_every_well_formed_duration_in_either_case(
        years in 0u64..3, months in 0u64..30, weeks in 0u64..10, days in 0u64..1000,
        hours in 0u64..100, minutes in 0u64..100_000, seconds in 0u64..10_000_000,
        lower in any::<bool>(),
    ) {
        prop_assume!(years + months + weeks + days + hours + minutes + seconds > 0);
        let mut raw = String::from("P");
        for (value, unit) in [(years, 'Y'), (months, 'M'), (weeks, 'W'), (days, 'D')] {
            if value > 0 {
                raw.push_str(&format!("{value}{unit}"));
            }
        }
        if hours + minutes + seconds > 0 {
            raw.push('T');
            for (value, unit) in [(hours, 'H'), (minutes, 'M'), (seconds, 'S')] {
                if value > 0 {
                    raw.push_str(&format!("{value}{unit}"));
                }
            }
        }
        let raw = if lower { raw.to_ascii_lowercase() } else { raw };
        prop_assert!(matches!(parse_expiration(&raw), Ok(Some(_))), "{raw:?}");
    }

    #[test]
    fn base64_sources_never_panic(raw in hostile_text(), is_multipart in any::<bool>()) {
        let _ = classify_text_source(&raw, encoding(is_multipart));
    }

    #[test]
    fn base64_of_any_bytes_decodes_back_to_them_however_it_is_wrapped(
        bytes in proptest::collection::vec(any::<u8>(), 1..600),
        is_multipart in any::<bool>(),
        padded in any::<bool>(),
        wrapped in any::<bool>(),
        data_uri in any::<bool>(),
    ) {
        let engine = if padded {
            &base64::engine::general_purpose::STANDARD
        } else {
            &base64::engine::general_purpose::STANDARD_NO_PAD
        };
        let mut text = engine.encode(&bytes);
        if wrapped {
            text = wrap_lines(&text, 76);
        }
        if data_uri {
            text = format!("data:image/png;base64,{text}");
        }
        // A form decoder turns an unescaped `+` into a space; the decoder reads it back.
        if !is_multipart {
            text = text.replace('+', " ");
        }
        let decoded = classify_text_source(&text, encoding(is_multipart));
        prop_assert_eq!(decoded, Ok(TextSource::Bytes(bytes)));
    }

    #[test]
    fn sanitized_stems_are_safe_short_and_sanitizing_again_changes_nothing(raw in hostile_text()) {
        let stem = sanitize_stem(&raw);
        prop_assert!(!stem.is_empty() && stem.len() <= MAX_STEM_CHARS, "{stem:?}");
        prop_assert!(
            stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{stem:?}"
        );
        prop_assert!(!stem.starts_with('-') && !stem.ends_with('-'), "{stem:?}");
        prop_assert_eq!(sanitize_stem(&stem), stem.clone());
        if let Some(title) = title_from_filename(&raw) {
            prop_assert!(!title.trim().is_empty(), "{title:?}");
            prop_assert!(!title.chars().any(char::is_control), "{title:?}");
        }
    }

    #[test]
    fn parsed_tags_are_clean_distinct_and_parse_back_to_themselves(raw in hostile_text()) {
        let Ok(tags) = parse_tags(&raw) else {
            return Ok(());
        };
        prop_assert!(tags.len() <= MAX_TAGS);
        let mut seen = std::collections::HashSet::new();
        for tag in &tags {
            prop_assert!(!tag.is_empty() && tag.trim() == tag, "{tag:?}");
            prop_assert!(tag.chars().count() <= MAX_TAG_CHARS, "{tag:?}");
            prop_assert!(!tag.contains(',') && !tag.chars().any(char::is_control), "{tag:?}");
            prop_assert!(seen.insert(tag.to_lowercase()), "{tag:?} twice in {tags:?}");
        }
        prop_assert_eq!(parse_tags(&tags_string(&tags)), Ok(tags.clone()));
    }

    #[test]
    fn ids_decode_back_to_what_was_encoded(
        salt in any::<String>(), padding in any::<u64>(), id in 1u64..,
    ) {
        let codec = IdCodec::new(&salt, padding);
        prop_assert_eq!(codec.decode(&codec.encode(id)), Some(id));
    }

    #[test]
    fn any_decodable_id_has_exactly_that_one_spelling(
        salt in "[a-zA-Z0-9]{0,32}", padding in 0u64..100_000, raw in hostile_text(),
    ) {
        let codec = IdCodec::new(&salt, padding);
        if let Some(id) = codec.decode(&raw) {
            prop_assert!(id >= 1);
            prop_assert_eq!(codec.encode(id), raw);
        }
    }

    #[test]
    fn upload_parameters_never_panic_and_a_refusal_is_a_400_naming_the_problem(
        body in proptest::collection::hash_map(parameter_name(), hostile_text(), 0..8),
        query in proptest::collection::hash_map(parameter_name(), hostile_text(), 0..4),
        is_multipart_body in any::<bool>(),
    ) {
        let fields = RequestFields {
            query,
            body,
            is_multipart_body,
            declared_types: HashMap::new(),
            file: None,
        };
        let codec = IdCodec::new("salt", 999);
        for refusal in [
            params::options(&fields, &codec).err(),
            ResponseFormat::from_fields(&fields).err(),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert_eq!(refusal.status.as_u16(), 400);
            prop_assert!(!refusal.message.is_empty());
        }
    }
}

/// The names the API reads, and a few it does not.
fn parameter_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(
            sajin::api::form::PARAMETER_FIELDS
                .iter()
                .map(|name| name.to_string())
                .collect::<Vec<_>>()
        ),
        "[a-z_]{1,12}",
    ]
}

fn encoding(is_multipart: bool) -> TextEncoding {
    if is_multipart {
        TextEncoding::Multipart
    } else {
        TextEncoding::UrlEncoded
    }
}

/// `text` broken into CRLF-separated lines of `width` characters, as MIME wraps base64.
fn wrap_lines(text: &str, width: usize) -> String {
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(width)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    lines.join("\r\n")
}
