//! What a client's file name is allowed to become: a safe ASCII stem for the stored file, and
//! a display title that keeps the original spelling.
//!
//! Both drop any directory part and the last extension; the stored extension always comes
//! from the detected image format, never from the client.

/// The longest storage stem; the caller adds a suffix and an extension and the whole name
/// must stay within 200 characters.
pub const MAX_STEM_CHARS: usize = 180;

/// The longest display title, in characters.
pub const MAX_TITLE_CHARS: usize = 100;

/// The stem used when nothing usable is left of the client's name.
const FALLBACK_STEM: &str = "image";

/// A storage file stem made from a client's file name: ASCII letters, digits, `-` and `_`
/// only, never empty and at most [`MAX_STEM_CHARS`] long.
///
/// Inner dots become `_` so the stem holds no dot at all: `shell.php.png` must not become a
/// stored name that a later step could leave ending in a script extension.
pub fn sanitize_stem(client_name: &str) -> String {
    let ascii = deunicode::deunicode(without_extension(base_name(client_name)));
    let mut stem = String::with_capacity(ascii.len().min(MAX_STEM_CHARS));
    let mut pending: Option<char> = None;

    for c in ascii.chars() {
        match c {
            c if c.is_ascii_alphanumeric() || c == '_' => {
                push_pending(&mut stem, pending.take());
                stem.push(c);
            }
            // A run mixing dots with other characters reads as a word break, so `-` wins.
            '.' if pending != Some('-') => pending = Some('_'),
            _ => pending = Some('-'),
        }
        if stem.len() >= MAX_STEM_CHARS {
            break;
        }
    }

    finish_stem(stem)
}

/// The display title from a client's file name: the base name without its last extension,
/// with control characters removed, trimmed, at most [`MAX_TITLE_CHARS`] characters.
pub fn title_from_filename(client_name: &str) -> Option<String> {
    let stem = without_extension(base_name(client_name));
    let visible: String = stem
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE_CHARS)
        .collect();
    let title = visible.trim();

    (!title.is_empty()).then(|| title.to_owned())
}

/// The part after the last `/` or `\`; browsers on Windows may send either.
fn base_name(client_name: &str) -> &str {
    client_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(client_name)
}

/// Everything before the last dot; a name that starts with its only dot, such as `.png`, has
/// no stem left.
fn without_extension(base_name: &str) -> &str {
    base_name
        .rfind('.')
        .map_or(base_name, |dot| &base_name[..dot])
}

/// Leading separators are skipped by never pushing one into an empty stem.
fn push_pending(stem: &mut String, pending: Option<char>) {
    if let Some(separator) = pending {
        if !stem.is_empty() {
            stem.push(separator);
        }
    }
}

fn finish_stem(mut stem: String) -> String {
    stem.truncate(MAX_STEM_CHARS);
    let trimmed_len = stem.trim_end_matches('-').len();
    stem.truncate(trimmed_len);

    if stem.is_empty() {
        FALLBACK_STEM.to_owned()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_become_safe_ascii_stems() {
        let cases: &[(&str, &str)] = &[
            ("photo.jpg", "photo"),
            ("../../x.png", "x"),
            ("..\\..\\windows\\x.png", "x"),
            ("C:\\Users\\me\\My Pictures\\cat.jpeg", "cat"),
            ("..", FALLBACK_STEM),
            (".", FALLBACK_STEM),
            ("", FALLBACK_STEM),
            (".png", FALLBACK_STEM),
            ("dir/", FALLBACK_STEM),
            ("日本語 テスト ü.png", "Ri-Ben-Yu-tesuto-u"),
            ("my photo (1) final.png", "my-photo-1-final"),
            ("shell.php.png", "shell_php"),
            ("a..b...c.png", "a_b_c"),
            ("...hidden.png", "hidden"),
            ("trailing...png", "trailing"),
            ("a . b.png", "a-b"),
            ("no_extension", "no_extension"),
            ("under__score-dash.gif", "under__score-dash"),
            ("--x--.png", "x"),
            (
                "<img src=x onerror=alert(1)>.png",
                "img-src-x-onerror-alert-1",
            ),
            ("a\u{0}b\nc.png", "a-b-c"),
            ("%2e%2e%2fetc%2fpasswd", "2e-2e-2fetc-2fpasswd"),
        ];

        for &(name, expected) in cases {
            assert_eq!(sanitize_stem(name), expected, "{name:?}");
        }
    }

    #[test]
    fn stems_hold_only_safe_characters_and_never_two_dots() {
        let names = [
            "x",
            "../..",
            "a.b.c.d",
            "ü.ö.ä",
            "\u{202e}gnp.exe",
            "🙂🙂.png",
            "a\\..\\b",
        ];

        for name in names {
            let stem = sanitize_stem(name);
            let is_safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
            assert!(
                !stem.is_empty() && stem.chars().all(is_safe),
                "{name:?} -> {stem:?}"
            );
            assert!(
                !stem.starts_with('-') && !stem.ends_with('-'),
                "{name:?} -> {stem:?}"
            );
        }
    }

    #[test]
    fn long_names_are_cut_to_the_stem_limit_without_a_trailing_dash() {
        let long = format!("{}-b.png", "a".repeat(MAX_STEM_CHARS - 1));
        let stem = sanitize_stem(&long);
        assert_eq!(stem, "a".repeat(MAX_STEM_CHARS - 1));

        let huge = "ü".repeat(100_000);
        assert_eq!(sanitize_stem(&huge).len(), MAX_STEM_CHARS);
    }

    #[test]
    fn titles_keep_the_original_spelling() {
        let cases: &[(&str, Option<&str>)] = &[
            ("photo.jpg", Some("photo")),
            ("../../x.png", Some("x")),
            ("C:\\pics\\Crème brûlée.jpeg", Some("Crème brûlée")),
            ("日本語 テスト ü.png", Some("日本語 テスト ü")),
            ("  spaced  .png", Some("spaced")),
            ("shell.php.png", Some("shell.php")),
            ("a\u{0}b\u{7}.png", Some("ab")),
            ("no_extension", Some("no_extension")),
            ("", None),
            (".png", None),
            ("   .png", None),
            ("dir/", None),
        ];

        for &(name, expected) in cases {
            assert_eq!(title_from_filename(name).as_deref(), expected, "{name:?}");
        }
    }

    #[test]
    fn titles_are_cut_to_the_title_limit() {
        let title = title_from_filename(&format!("{}.png", "ü".repeat(500)));

        assert_eq!(title.map(|t| t.chars().count()), Some(MAX_TITLE_CHARS));
    }
}
