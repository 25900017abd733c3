//! Just enough XMP: the title and description texts, the 360° projection flag, and blanking
//! `exif:GPS*` properties in place.
//!
//! XMP is XML, but sajin needs four properties from it, so it is searched as text rather than
//! parsed. Blanking overwrites with spaces, which keeps every length and offset of the file
//! valid and leaves well-formed XML behind.

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
        rest = &rest[amp..];
        let decoded = rest
            .find(';')
            .and_then(|end| Some((entity(&rest[1..end])?, end)));
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
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

/// Overwrites every `exif:GPS*` attribute and element with spaces; true if anything changed.
// Limitation: only the conventional `exif:` prefix is recognised, and JPEG extended XMP
// (split over several APP1 segments under a checksum) is left as it is.
pub(crate) fn blank_gps(xmp: &mut [u8]) -> bool {
    const NAME: &[u8] = b"exif:GPS";
    let mut changed = false;
    let mut from = 0;
    while let Some(found) = find(xmp.get(from..).unwrap_or_default(), NAME).map(|i| i + from) {
        let span = match found.checked_sub(1).and_then(|i| xmp.get(i)) {
            Some(b'<') => element_end(xmp, found).map(|end| (found - 1, end)),
            Some(b) if b.is_ascii_whitespace() => attribute_end(xmp, found).map(|end| (found, end)),
            _ => None,
        };
        match span {
            Some((start, end)) => {
                xmp[start..end].fill(b' ');
                changed = true;
                from = end;
            }
            None => from = found + NAME.len(),
        }
    }
    changed
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn name_end(xmp: &[u8], at: usize) -> usize {
    let is_name_end = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'=' | b'>' | b'/');
    xmp[at..]
        .iter()
        .position(is_name_end)
        .map_or(xmp.len(), |i| at + i)
}

fn skip_space(xmp: &[u8], at: usize) -> usize {
    xmp[at..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(xmp.len(), |i| at + i)
}

/// The end of `name="value"` starting at `at`.
fn attribute_end(xmp: &[u8], at: usize) -> Option<usize> {
    let equals = skip_space(xmp, name_end(xmp, at));
    if xmp.get(equals) != Some(&b'=') {
        return None;
    }
    let open = skip_space(xmp, equals + 1);
    let quote = *xmp.get(open).filter(|q| matches!(q, b'"' | b'\''))?;
    let close = open + 1 + xmp.get(open + 1..)?.iter().position(|&b| b == quote)?;
    Some(close + 1)
}

/// The end of the element whose name starts at `at` (just after its `<`).
fn element_end(xmp: &[u8], at: usize) -> Option<usize> {
    let name = &xmp[at..name_end(xmp, at)];
    let tag_end = at + find(&xmp[at..], b">")?;
    if xmp[tag_end - 1] == b'/' {
        return Some(tag_end + 1);
    }
    let closing = [b"</", name, b">"].concat();
    let close = tag_end + find(&xmp[tag_end..], &closing)?;
    Some(close + closing.len())
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
}
