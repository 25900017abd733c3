//! The readable part of viewer URLs (`/image/<slug>.<id>`), made from an upload's title.

/// The longest slug, in characters (all ASCII).
pub const MAX_SLUG_CHARS: usize = 64;

/// A lowercase ASCII slug: transliterated, letters and digits kept, every other run turned
/// into one `-`, at most 64 characters and cut at a `-` when one is available. Returns an
/// empty string when nothing usable is left; the caller then shows just the id.
pub fn slugify(title: &str) -> String {
    let ascii = deunicode::deunicode(title).to_ascii_lowercase();
    let mut slug = String::with_capacity(ascii.len().min(MAX_SLUG_CHARS + 1));

    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        // One character past the limit is enough to know whether the cut falls on a word end.
        if slug.len() > MAX_SLUG_CHARS {
            break;
        }
    }

    shorten(slug)
}

fn shorten(mut slug: String) -> String {
    if slug.len() > MAX_SLUG_CHARS {
        let cut_on_word_end = slug.as_bytes()[MAX_SLUG_CHARS] == b'-';
        slug.truncate(MAX_SLUG_CHARS);
        if !cut_on_word_end {
            if let Some(last_dash) = slug.rfind('-') {
                slug.truncate(last_dash);
            }
        }
    }

    let trimmed_len = slug.trim_end_matches('-').len();
    slug.truncate(trimmed_len);
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_become_lowercase_ascii_slugs() {
        let cases: &[(&str, &str)] = &[
            ("Hello World", "hello-world"),
            ("  --Hello,   World!!  ", "hello-world"),
            ("Crème Brûlée", "creme-brulee"),
            ("日本語", "ri-ben-yu"),
            ("my_photo (1).final", "my-photo-1-final"),
            ("ÄÖÜ ß", "aou-ss"),
            ("!!!", ""),
            ("", ""),
            ("<script>alert(1)</script>", "script-alert-1-script"),
            ("a/b\\c?d#e", "a-b-c-d-e"),
        ];

        for &(title, expected) in cases {
            assert_eq!(slugify(title), expected, "{title:?}");
        }
    }

    #[test]
    fn long_titles_are_cut_at_a_word_end() {
        let cases: &[(String, String)] = &[
            // The 65th character is a dash, so the 64 before it are whole words.
            ("word ".repeat(30), vec!["word"; 13].join("-")),
            // The limit falls inside a word, which is dropped.
            ("words ".repeat(30), ["words"; 10].join("-")),
            (format!("{} tail", "a".repeat(64)), "a".repeat(64)),
        ];

        for (title, expected) in cases {
            assert_eq!(&slugify(title), expected, "{title:?}");
            assert!(expected.len() <= MAX_SLUG_CHARS);
        }
    }

    #[test]
    fn a_single_long_word_is_cut_at_the_limit() {
        let slug = slugify(&"x".repeat(500));

        assert_eq!(slug, "x".repeat(MAX_SLUG_CHARS));
    }
}
