//! Just enough XMP: the title and description texts, the 360° projection flag, and blanking
//! `exif:GPS*` properties in place.
//!
//! XMP is XML, but sajin needs four properties from it, so it is searched as text rather than
//! parsed. Blanking overwrites with spaces, which keeps every length and offset of the file
//! valid and leaves well-formed XML behind.
//!
//! The uploader chooses the packet's size (a PNG text chunk can hold megabytes), so every scan
//! here is linear: a search starts where the previous one stopped and never goes back, and a
//! construct left open runs to the end of the packet instead of being searched for again.
//! Packets larger than [`MAX_XMP_BYTES`] are not read at all.

use std::borrow::Cow;
use std::ops::Range;

/// The largest packet read for metadata or searched property by property for GPS. Real packets
/// are a few kilobytes; Photoshop's longest histories stay well below this.
pub(crate) const MAX_XMP_BYTES: usize = 1024 * 1024;

/// The longest entity name decoded (`#x10FFFF` with a few leading zeros): a `;` further away
/// than this from its `&` is not looked for, so each `&` costs a bounded look-ahead.
const MAX_ENTITY_LEN: usize = 12;

const GPS_NAME: &[u8] = b"exif:GPS";

/// The packet as text, or `None` when it is too large to be worth reading.
pub(crate) fn readable(xmp: &[u8]) -> Option<Cow<'_, str>> {
    if xmp.len() > MAX_XMP_BYTES {
        tracing::debug!(bytes = xmp.len(), "ignoring an oversized XMP packet");
        return None;
    }
    Some(String::from_utf8_lossy(xmp))
}

/// `dc:title`, preferring the first alternative (by convention the `x-default` language).
pub(crate) fn title(xmp: &str) -> Option<String> {
    element_text(xmp, "dc:title")
}

/// `dc:description`.
pub(crate) fn description(xmp: &str) -> Option<String> {
    element_text(xmp, "dc:description")
}

/// Whether `GPano:ProjectionType` is `equirectangular`, as attribute or element.
pub(crate) fn is_equirectangular(xmp: &str) -> bool {
    let Some(at) = xmp.find("GPano:ProjectionType") else {
        return false;
    };
    let rest = xmp[at + "GPano:ProjectionType".len()..].trim_start();
    let value = rest
        .strip_prefix('=')
        .map(str::trim_start)
        .and_then(|r| r.get(1..));
    let value = value.or_else(|| rest.strip_prefix('>')).unwrap_or("");
    value.trim_start().starts_with("equirectangular")
}

fn element_text(xmp: &str, name: &str) -> Option<String> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let start = xmp
        .match_indices(&open)
        .map(|(i, _)| i + open.len())
        .find(|&i| xmp[i..].starts_with(|c: char| c == '>' || c.is_ascii_whitespace()))?;
    let body_start = start + xmp[start..].find('>')? + 1;
    let body_end = body_start + xmp[body_start..].find(&close)?;
    let body = &xmp[body_start..body_end];
    let text = first_list_item(body).unwrap_or(body);
    let text = unescape(text.trim());
    (!text.is_empty() && !text.contains('<')).then_some(text)
}

fn first_list_item(body: &str) -> Option<&str> {
    let item = body.find("<rdf:li")?;
    let content = item + body[item..].find('>')? + 1;
    let end = content + body[content..].find("</rdf:li>")?;
    Some(&body[content..end])
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp + 1..];
        match reference(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => out.push('&'),
        }
    }
    out.push_str(rest);
    out
}

/// The character of the entity reference that `text` starts with (just after its `&`), and
/// the reference's length including the `;`.
fn reference(text: &str) -> Option<(char, usize)> {
    let window = &text.as_bytes()[..text.len().min(MAX_ENTITY_LEN + 1)];
    let end = window.iter().position(|&b| b == b';')?;
    // The `;` is ASCII, so `end` is a character boundary.
    Some((entity(&text[..end])?, end + 1))
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix('x') {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Removes GPS from a packet in place; true if anything changed.
///
/// A packet within [`MAX_XMP_BYTES`] loses its `exif:GPS*` properties. A larger one is not
/// searched property by property: if it mentions GPS at all it is blanked whole, because
/// keeping a location the uploader asked to remove is worse than losing the packet's other
/// properties.
pub(crate) fn strip_gps(xmp: &mut [u8]) -> bool {
    if xmp.len() <= MAX_XMP_BYTES {
        return blank_gps(xmp);
    }
    if find(xmp, 0, b"GPS").is_none() {
        return false;
    }
    tracing::debug!(
        bytes = xmp.len(),
        "blanking an oversized XMP packet that mentions GPS"
    );
    xmp.fill(b' ');
    true
}

/// Overwrites every `exif:GPS*` attribute and element with spaces; true if anything changed.
// Limitation: only the conventional `exif:` prefix is recognised, and JPEG extended XMP
// (split over several APP1 segments under a checksum) is left as it is.
fn blank_gps(xmp: &mut [u8]) -> bool {
    let mut changed = false;
    let mut from = 0;
    while let Some(found) = find(xmp, from, GPS_NAME) {
        from = match gps_property(xmp, found) {
            Scan::Property(span) => {
                xmp[span.clone()].fill(b' ');
                changed = true;
                span.end
            }
            Scan::Nothing(next) => next,
        };
    }
    changed
}

/// What one occurrence of [`GPS_NAME`] turned out to be.
enum Scan {
    /// A property to blank; the search goes on after it.
    Property(Range<usize>),
    /// No property; the search goes on from this offset, which is past every byte examined.
    Nothing(usize),
}

fn gps_property(xmp: &[u8], found: usize) -> Scan {
    let before = |n: usize| found.checked_sub(n).and_then(|i| xmp.get(i)).copied();
    match (before(2), before(1)) {
        (_, Some(b'<')) => Scan::Property(element(xmp, found - 1)),
        (Some(b'<'), Some(b'/')) => Scan::Property(stray_end_tag(xmp, found - 2)),
        (_, Some(b)) if b.is_ascii_whitespace() => attribute(xmp, found),
        _ => Scan::Nothing(found + GPS_NAME.len()),
    }
}

/// The element whose `<` is at `open`: start tag, content and end tag. An element left open
/// (no `>`, or no end tag) runs to the end of the packet, which is how an XML reader sees it.
fn element(xmp: &[u8], open: usize) -> Range<usize> {
    let name_start = open + 1;
    let name_end = name_end(xmp, name_start);
    let Some(tag_end) = tag_end(xmp, name_end) else {
        return open..xmp.len();
    };
    if xmp[tag_end - 1] == b'/' {
        return open..tag_end + 1;
    }
    let name = &xmp[name_start..name_end];
    open..end_tag(xmp, tag_end + 1, name).unwrap_or(xmp.len())
}

/// An end tag whose start tag went with an enclosing element of the same name; blanking it
/// too keeps the XML well formed.
fn stray_end_tag(xmp: &[u8], open: usize) -> Range<usize> {
    open..find_byte(xmp, open, b'>').map_or(xmp.len(), |close| close + 1)
}

/// A `name="value"` attribute whose name starts at `at`; a value left open runs to the end of
/// the packet.
fn attribute(xmp: &[u8], at: usize) -> Scan {
    let equals = skip_space(xmp, name_end(xmp, at));
    if xmp.get(equals) != Some(&b'=') {
        return Scan::Nothing(equals);
    }
    let open = skip_space(xmp, equals + 1);
    let Some(&quote) = xmp.get(open).filter(|&&q| q == b'"' || q == b'\'') else {
        return Scan::Nothing(open);
    };
    let end = find_byte(xmp, open + 1, quote).map_or(xmp.len(), |close| close + 1);
    Scan::Property(at..end)
}

/// The `>` ending the tag whose attributes start at `from`; one inside a quoted value does
/// not count.
fn tag_end(xmp: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in xmp.get(from..)?.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(from + i),
            None => {}
        }
    }
    None
}

/// The offset just past `</name>` (white space allowed before the `>`), searching from `from`.
fn end_tag(xmp: &[u8], mut from: usize, name: &[u8]) -> Option<usize> {
    let needle = [b"</", name].concat();
    loop {
        let at = find(xmp, from, &needle)?;
        let close = skip_space(xmp, at + needle.len());
        if xmp.get(close) == Some(&b'>') {
            return Some(close + 1);
        }
        // Only name bytes and white space lie before `close`, and no end tag starts there.
        from = close;
    }
}

/// The first `needle` at or after `from`.
///
/// A plain search, and linear because no needle used here repeats its first byte: a partial
/// match cannot hide the start of the next candidate, so each byte is looked at at most twice.
fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    debug_assert!(!rest.contains(&first), "the search would not be linear");
    let mut at = from;
    loop {
        at = find_byte(haystack, at, first)?;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        at += 1;
    }
}

fn find_byte(haystack: &[u8], from: usize, byte: u8) -> Option<usize> {
    let offset = haystack.get(from..)?.iter().position(|&b| b == byte)?;
    Some(from + offset)
}

fn name_end(xmp: &[u8], at: usize) -> usize {
    let is_name_end = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'=' | b'>' | b'/' | b'<');
    xmp[at..]
        .iter()
        .position(is_name_end)
        .map_or(xmp.len(), |i| at + i)
}

fn skip_space(xmp: &[u8], at: usize) -> usize {
    xmp.get(at..)
        .and_then(|rest| rest.iter().position(|b| !b.is_ascii_whitespace()))
        .map_or(xmp.len(), |i| at + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>
 <rdf:Description rdf:about="" exif:GPSLatitude="48,51.4N" exif:GPSLongitude='2,21.1E'
   GPano:ProjectionType="equirectangular" exif:Make="Cam">
  <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Tom &amp; Jerry</rdf:li></rdf:Alt></dc:title>
  <dc:description><rdf:Alt><rdf:li xml:lang="x-default">At the beach</rdf:li></rdf:Alt>
  </dc:description>
  <exif:GPSAltitude>120/1</exif:GPSAltitude>
  <exif:GPSTimeStamp/>
 </rdf:Description></rdf:RDF></x:xmpmeta>"#;

    #[test]
    fn title_and_description_are_read_and_unescaped() {
        assert_eq!(title(SAMPLE).as_deref(), Some("Tom & Jerry"));
        assert_eq!(description(SAMPLE).as_deref(), Some("At the beach"));
    }

    #[test]
    fn the_equirectangular_projection_is_recognised_in_both_notations() {
        assert!(is_equirectangular(SAMPLE));
        let element = "<GPano:ProjectionType>equirectangular</GPano:ProjectionType>";
        assert!(is_equirectangular(element));
        assert!(!is_equirectangular(r#"GPano:ProjectionType="cylindrical""#));
        assert!(!is_equirectangular("<dc:title/>"));
    }

    #[test]
    fn gps_properties_are_blanked_without_changing_the_length() {
        let mut xmp = SAMPLE.as_bytes().to_vec();

        assert!(blank_gps(&mut xmp));

        let text = String::from_utf8(xmp).expect("still UTF-8");
        assert_eq!(text.len(), SAMPLE.len());
        assert!(!text.contains("GPS"), "{text}");
        assert!(text.contains(r#"exif:Make="Cam""#));
        assert_eq!(title(&text).as_deref(), Some("Tom & Jerry"));
    }

    #[test]
    fn xmp_without_gps_is_untouched() {
        let mut xmp = b"<rdf:Description exif:Make=\"Cam\"/> exif:GPS".to_vec();

        assert!(!blank_gps(&mut xmp));
        assert_eq!(xmp, b"<rdf:Description exif:Make=\"Cam\"/> exif:GPS");
    }

    fn blanked(xmp: &str) -> String {
        let mut bytes = xmp.as_bytes().to_vec();
        blank_gps(&mut bytes);
        String::from_utf8(bytes).expect("still UTF-8")
    }

    #[test]
    fn gps_left_open_is_blanked_to_the_end_of_the_packet() {
        let cases = [
            ("<a><exif:GPSLatitude>48,51.4N</a>", "<a>"),
            (r#"<a><exif:GPSLatitude v="48,51.4N"</a>"#, "<a>"),
            (r#"<a exif:GPSLatitude="48,51.4N></a>"#, "<a"),
            ("<a exif:GPSLatitude='48,51.4N></a>", "<a"),
        ];

        for (xmp, kept) in cases {
            let text = blanked(xmp);

            assert_eq!(text.len(), xmp.len(), "{xmp}");
            assert_eq!(text.trim_end(), kept, "{xmp}");
        }
    }

    #[test]
    fn end_tags_may_hold_space_and_quoted_brackets_do_not_end_a_tag() {
        let xmp = concat!(
            r#"<a><exif:GPSLatitude q="/>">48,51.4N</exif:GPSLatitude >"#,
            "<exif:GPSAltitude>1<exif:GPSAltitudeRef>0</exif:GPSAltitudeRef>",
            "</exif:GPSAltitude><b/></a>"
        );

        let text = blanked(xmp);

        assert_eq!(text.split_whitespace().collect::<String>(), "<a><b/></a>");
    }

    #[test]
    fn a_nested_element_of_the_same_name_leaves_no_gps_and_no_stray_end_tag() {
        let xmp = "<a><exif:GPSA><exif:GPSA>1</exif:GPSA></exif:GPSA ></a>";

        assert_eq!(
            blanked(xmp).split_whitespace().collect::<String>(),
            "<a></a>"
        );
    }

    #[test]
    fn names_that_are_not_properties_are_left_alone() {
        let cases = [
            "<a>exif:GPS</a>",
            "<a xexif:GPSA=\"1\"/>",
            "<a exif:GPSA = 1/>",
            "<a exif:GPSA/>",
            "<a exif:GPS",
        ];

        for xmp in cases {
            assert_eq!(blanked(xmp), xmp);
        }
    }

    /// About 95,000 elements that never close: the search for each end tag used to scan the
    /// rest of the packet, hours of work for a packet this size.
    #[test]
    fn a_packet_of_a_megabyte_of_unclosed_gps_elements_is_blanked_in_one_pass() {
        let unit = b"<exif:GPSa>";
        let mut xmp = unit.repeat(MAX_XMP_BYTES / unit.len());

        assert!(strip_gps(&mut xmp));

        assert!(xmp.iter().all(|&b| b == b' '));
    }

    /// Near misses repeated over a megabyte: attributes without a value, end tags that never
    /// quite close, stray end tags, and a name half the packet long.
    #[test]
    fn a_megabyte_of_near_misses_is_scanned_in_one_pass() {
        let mut long_name = b"<exif:GPS".to_vec();
        long_name.resize(MAX_XMP_BYTES / 2, b'a');
        long_name.extend_from_slice(b"></exif:GPS");
        let cases = [
            (&b" exif:GPSa exif:GPSb=x exif:GPSc"[..], false),
            (b"<exif:GPSa></exif:GPSab></exif:GPSa ", true),
            (b"</exif:GPS>", true),
            (&long_name, true),
        ];

        for (unit, is_blanked) in cases {
            let original = unit.repeat(MAX_XMP_BYTES / unit.len());
            let mut xmp = original.clone();

            assert_eq!(strip_gps(&mut xmp), is_blanked);

            let expected = if is_blanked {
                vec![b' '; original.len()]
            } else {
                original
            };
            assert!(
                xmp == expected,
                "{:?}",
                String::from_utf8_lossy(&unit[..20])
            );
        }
    }

    #[test]
    fn an_oversized_packet_is_blanked_whole_only_when_it_mentions_gps() {
        let mut with_gps = vec![b' '; 2 * MAX_XMP_BYTES];
        with_gps[..22].copy_from_slice(br#"<x:xmpmeta dc:title="x"#);
        with_gps[MAX_XMP_BYTES..MAX_XMP_BYTES + 12].copy_from_slice(b"GPSLatitude=");
        let mut without = with_gps.clone();
        without[MAX_XMP_BYTES..MAX_XMP_BYTES + 12].fill(b'-');
        let unchanged = without.clone();

        assert!(strip_gps(&mut with_gps));
        assert!(!strip_gps(&mut without));

        assert!(with_gps.iter().all(|&b| b == b' '));
        assert_eq!(without, unchanged);
        assert!(readable(&unchanged).is_none());
        assert!(readable(&unchanged[..MAX_XMP_BYTES]).is_some());
    }

    #[test]
    fn entity_references_are_decoded_with_a_bounded_look_ahead() {
        let cases = [
            ("a &amp; b &lt;&gt;&quot;&apos;", "a & b <>\"'"),
            ("&#233;&#xE9;&#x0001F600;", "é\u{e9}\u{1F600}"),
            ("AT&T; &unknown; & &#xD800;", "AT&T; &unknown; & &#xD800;"),
            ("&#x00000000000041;", "&#x00000000000041;"),
            ("&&amp;", "&&"),
        ];

        for (text, expected) in cases {
            assert_eq!(unescape(text), expected, "{text}");
        }
    }

    /// Each `&` used to look for a `;` all the way to the end of the text.
    #[test]
    fn a_title_of_a_megabyte_of_ampersands_is_read_in_one_pass() {
        let amps = "&".repeat(MAX_XMP_BYTES - 30);
        let xmp = format!("<dc:title>{amps};</dc:title>");

        assert_eq!(title(&xmp), Some(format!("{amps};")));
    }
}
