//! Tags a client attaches to an upload: the comma-separated form field turned into a short,
//! de-duplicated list, and back into the string shown on the page.

use std::collections::HashSet;

use thiserror::Error;

/// The most characters (not bytes) one tag may have.
pub const MAX_TAG_CHARS: usize = 32;

/// The most tags one upload may carry.
pub const MAX_TAGS: usize = 50;

/// The longest piece of a refused tag echoed back in the error message.
const ECHO_LIMIT: usize = 40;

/// Why a tag list was refused; each message tells the client what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TagError {
    /// One tag is too long.
    #[error("Tag \"{tag}\" is longer than {max} characters")]
    TooLong {
        /// The offending tag, shortened if it is very long.
        tag: String,
        /// The limit in characters.
        max: usize,
    },

    /// The list has too many distinct tags.
    #[error("Too many tags: at most {max} are allowed")]
    TooMany {
        /// The limit in tags.
        max: usize,
    },
}

/// Splits a comma-separated tag list: each tag trimmed and stripped of control characters,
/// empties dropped, and repeats (ignoring case) dropped in favour of the first spelling.
pub fn parse_tags(raw: &str) -> Result<Vec<String>, TagError> {
    let mut tags = Vec::new();
    let mut seen = HashSet::new();

    for piece in raw.split(',') {
        let tag = clean(piece);
        if tag.is_empty() || !seen.insert(tag.to_lowercase()) {
            continue;
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(TagError::TooLong {
                tag: echo(&tag),
                max: MAX_TAG_CHARS,
            });
        }
        // Stopping at the first tag past the limit keeps a hostile list from growing the set.
        if tags.len() == MAX_TAGS {
            return Err(TagError::TooMany { max: MAX_TAGS });
        }
        tags.push(tag);
    }

    Ok(tags)
}

/// Joins tags for display, the inverse of [`parse_tags`] for a parsed list.
pub fn tags_string(tags: &[String]) -> String {
    tags.join(", ")
}

fn clean(piece: &str) -> String {
    let without_controls: String = piece.chars().filter(|c| !c.is_control()).collect();
    without_controls.trim().to_owned()
}

fn echo(tag: &str) -> String {
    match tag.char_indices().nth(ECHO_LIMIT) {
        Some((cut, _)) => format!("{}…", &tag[..cut]),
        None => tag.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &str) -> Vec<String> {
        parse_tags(raw).unwrap_or_else(|e| panic!("{raw:?} should parse: {e}"))
    }

    #[test]
    fn lists_are_trimmed_deduplicated_and_keep_their_order() {
        let cases: &[(&str, &[&str])] = &[
            (" a,b,, c ,ünï,a ", &["a", "b", "c", "ünï"]),
            ("", &[]),
            (" , ,, ", &[]),
            ("Cat,cat,CAT,dog", &["Cat", "dog"]),
            ("ÜNÏ,ünï", &["ÜNÏ"]),
            ("two words, x", &["two words", "x"]),
            ("a\u{0}b,\tc\n", &["ab", "c"]),
            ("\u{7}", &[]),
        ];

        for &(raw, expected) in cases {
            assert_eq!(parsed(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn the_length_limit_counts_characters_not_bytes() {
        let thirty_two_wide = "ü".repeat(MAX_TAG_CHARS);
        assert_eq!(
            parsed(&thirty_two_wide),
            std::slice::from_ref(&thirty_two_wide)
        );

        let too_long = "ü".repeat(MAX_TAG_CHARS + 1);
        let error = parse_tags(&format!("ok,{too_long}"));
        assert_eq!(
            error,
            Err(TagError::TooLong {
                tag: too_long,
                max: MAX_TAG_CHARS
            })
        );
    }

    #[test]
    fn the_too_long_error_names_the_tag_and_the_limit() {
        let message = parse_tags(&"x".repeat(33)).err().map(|e| e.to_string());

        assert_eq!(
            message.as_deref(),
            Some(format!("Tag \"{}\" is longer than 32 characters", "x".repeat(33)).as_str())
        );
    }

    #[test]
    fn a_huge_tag_is_not_echoed_in_full() {
        let message = parse_tags(&"x".repeat(100_000))
            .err()
            .map(|e| e.to_string());

        assert!(message.is_some_and(|m| m.len() < 200));
    }

    #[test]
    fn at_most_fifty_distinct_tags_are_accepted() {
        let fifty: Vec<String> = (0..MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert_eq!(parsed(&fifty.join(",")), fifty);

        let with_repeats = format!("{},T0,t1", fifty.join(","));
        assert_eq!(parsed(&with_repeats), fifty);

        let fifty_one = format!("{},t50", fifty.join(","));
        assert_eq!(
            parse_tags(&fifty_one),
            Err(TagError::TooMany { max: MAX_TAGS })
        );
    }

    #[test]
    fn tags_join_with_a_comma_and_a_space() {
        let tags = parsed("a, b ,ünï");

        assert_eq!(tags_string(&tags), "a, b, ünï");
        assert_eq!(tags_string(&[]), "");
        assert_eq!(parsed(&tags_string(&tags)), tags);
    }
}
