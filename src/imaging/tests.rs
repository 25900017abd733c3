//! Whole-pipeline tests of [`super::process`] on images built in memory.

use std::io::Cursor;

use exif::{Context, In, Tag};
use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{
    Delay, DynamicImage, Frame, ImageEncoder, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage,
};

use super::container::crc32;
use super::gps::tests::exif_with_gps;
use super::tags::tests::tiff_le;
use super::{process, Format, ImagingError, Options};

const RED: [u8; 3] = [230, 30, 30];
const GREEN: [u8; 3] = [30, 200, 30];
const BLUE: [u8; 3] = [30, 30, 230];
const YELLOW: [u8; 3] = [240, 220, 20];

/// Red top left, green top right, blue bottom left, yellow bottom right.
fn quadrants(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let colour = match (x < width / 2, y < height / 2) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => YELLOW,
        };
        Rgb(colour)
    })
}

fn assert_quadrants(image: &DynamicImage, context: &str) {
    let rgb = image.to_rgb8();
    let (w, h) = rgb.dimensions();
    let samples = [
        (w / 4, h / 4),
        (3 * w / 4, h / 4),
        (w / 4, 3 * h / 4),
        (3 * w / 4, 3 * h / 4),
    ];
    for ((x, y), expected) in samples.into_iter().zip([RED, GREEN, BLUE, YELLOW]) {
        let got = rgb.get_pixel(x, y).0;
        let close = got.iter().zip(expected).all(|(&a, b)| a.abs_diff(b) <= 40);
        assert!(
            close,
            "{context}: pixel ({x},{y}) is {got:?}, expected {expected:?}"
        );
    }
}

fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("a stored file decodes")
}

fn jpeg(image: &DynamicImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, 95);
    if let Some(exif) = exif {
        encoder.set_exif_metadata(exif).expect("JPEG carries EXIF");
    }
    image
        .write_with_encoder(encoder)
        .expect("encodes a test JPEG");
    out
}

fn png(image: &DynamicImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = PngEncoder::new(&mut out);
    if let Some(exif) = exif {
        encoder.set_exif_metadata(exif).expect("PNG carries EXIF");
    }
    image
        .write_with_encoder(encoder)
        .expect("encodes a test PNG");
    out
}

fn webp(image: &DynamicImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = WebPEncoder::new_lossless(&mut out);
    if let Some(exif) = exif {
        encoder.set_exif_metadata(exif).expect("WebP carries EXIF");
    }
    image
        .write_with_encoder(encoder)
        .expect("encodes a test WebP");
    out
}

fn encoded_as(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image
        .write_to(&mut out, format)
        .expect("encodes a test image");
    out.into_inner()
}

fn orientation_exif(value: u16) -> Vec<u8> {
    tiff_le(&[(0x0112, 3, 1, [value as u8, 0, 0, 0])], b"")
}

fn with_gps_stripping() -> Options {
    Options {
        strip_gps: true,
        ..Options::default()
    }
}

#[test]
fn every_exif_orientation_gives_upright_variants_and_display_dimensions() {
    let display = DynamicImage::ImageRgb8(quadrants(600, 800));
    for value in 1..=8u16 {
        let orientation = Orientation::from_exif(value as u8).expect("valid orientation");
        let mut stored = display.clone();
        stored.apply_orientation(inverse(orientation));
        let input = jpeg(&stored, Some(orientation_exif(value)));

        let processed = process(input, &Options::default()).expect("processes");

        let context = format!("orientation {value}");
        assert_eq!(
            (processed.original.width, processed.original.height),
            (600, 800),
            "{context}"
        );
        assert_quadrants(&decode(&processed.thumb.bytes), &format!("{context} thumb"));
        let medium = processed.medium.expect("600 px wide gets a medium image");
        assert_eq!((medium.width, medium.height), (500, 667), "{context}");
        assert_quadrants(&decode(&medium.bytes), &format!("{context} medium"));
    }
}

fn inverse(orientation: Orientation) -> Orientation {
    match orientation {
        Orientation::Rotate90 => Orientation::Rotate270,
        Orientation::Rotate270 => Orientation::Rotate90,
        other => other,
    }
}

#[test]
fn a_resized_original_is_upright_and_carries_no_orientation() {
    let mut stored = DynamicImage::ImageRgb8(quadrants(600, 800));
    stored.apply_orientation(Orientation::Rotate270);
    let input = jpeg(&stored, Some(orientation_exif(6)));
    let options = Options {
        resize_width: Some(300),
        ..Options::default()
    };

    let processed = process(input, &options).expect("processes");

    let original = &processed.original;
    assert_eq!(
        (original.format, original.width, original.height),
        (Format::Jpeg, 300, 400)
    );
    let decoded = decode(&original.bytes);
    assert_eq!((decoded.width(), decoded.height()), (300, 400));
    assert_quadrants(&decoded, "resized original");
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(&original.bytes));
    assert!(exif.is_err(), "a fresh encode has no EXIF");
}

#[test]
fn resize_width_never_upscales_and_zero_means_no_resize() {
    let input = jpeg(&DynamicImage::ImageRgb8(quadrants(400, 300)), None);
    for width in [Some(400), Some(1000), Some(0), None] {
        let processed = process(
            input.clone(),
            &Options {
                resize_width: width,
                ..Options::default()
            },
        )
        .expect("processes");

        assert_eq!(processed.original.bytes, input, "{width:?}");
        assert_eq!(processed.md5, processed.source_md5, "{width:?}");
    }
}

#[test]
fn a_narrower_width_keeps_the_ratio_and_the_format() {
    let input = png(&DynamicImage::ImageRgb8(quadrants(400, 300)), None);
    let options = Options {
        resize_width: Some(200),
        ..Options::default()
    };

    let processed = process(input, &options).expect("processes");

    let original = &processed.original;
    assert_eq!(
        (original.format, original.width, original.height),
        (Format::Png, 200, 150)
    );
    assert_ne!(processed.md5, processed.source_md5);
}

#[test]
fn transparency_is_kept_in_png_variants() {
    let badge = RgbaImage::from_fn(800, 800, |x, y| {
        let inside = (240..560).contains(&x) && (240..560).contains(&y);
        if inside {
            Rgba([230, 30, 30, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    });
    let input = png(&DynamicImage::ImageRgba8(badge), None);

    let processed = process(input, &Options::default()).expect("processes");

    for variant in [Some(&processed.thumb), processed.medium.as_ref()]
        .into_iter()
        .flatten()
    {
        assert_eq!(variant.format, Format::Png);
        let rgba = decode(&variant.bytes).to_rgba8();
        assert_eq!(rgba.get_pixel(0, 0)[3], 0, "a corner stays transparent");
        let centre = rgba.get_pixel(rgba.width() / 2, rgba.height() / 2);
        assert_eq!(centre.0, [230, 30, 30, 255]);
    }
}

#[test]
fn opaque_images_get_jpeg_variants() {
    let input = png(
        &DynamicImage::ImageRgba8(RgbaImage::from_pixel(600, 400, Rgba([1, 2, 3, 255]))),
        None,
    );

    let processed = process(input, &Options::default()).expect("processes");

    assert_eq!(processed.thumb.format, Format::Jpeg);
    assert_eq!(processed.medium.map(|m| m.format), Some(Format::Jpeg));
}

#[test]
fn a_bmp_is_stored_as_png_with_the_same_pixels() {
    let image = DynamicImage::ImageRgb8(quadrants(240, 160));
    let input = encoded_as(&image, ImageFormat::Bmp);

    let processed = process(input, &Options::default()).expect("processes");

    let original = &processed.original;
    assert_eq!(
        (original.format, original.width, original.height),
        (Format::Png, 240, 160)
    );
    assert_eq!(decode(&original.bytes).to_rgb8(), image.to_rgb8());
    assert_ne!(processed.md5, processed.source_md5);
}

fn animated_gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).expect("sets repeat");
        let frames = [RED, GREEN, BLUE].map(|colour| {
            let pixels =
                RgbaImage::from_pixel(120, 90, Rgba([colour[0], colour[1], colour[2], 255]));
            Frame::from_parts(pixels, 0, 0, Delay::from_numer_denom_ms(100, 1))
        });
        encoder.encode_frames(frames).expect("encodes a test GIF");
    }
    out
}

#[test]
fn an_animated_gif_is_kept_byte_for_byte_with_a_first_frame_thumb() {
    let input = animated_gif();
    let options = Options {
        resize_width: Some(60),
        ..Options::default()
    };

    let processed = process(input.clone(), &options).expect("processes");

    assert!(processed.is_animated);
    assert_eq!(processed.original.bytes, input);
    assert_eq!(
        (processed.original.width, processed.original.height),
        (120, 90)
    );
    let thumb = decode(&processed.thumb.bytes).to_rgb8();
    let centre = thumb.get_pixel(thumb.width() / 2, thumb.height() / 2).0;
    assert!(
        centre.iter().zip(RED).all(|(&a, b)| a.abs_diff(b) <= 20),
        "{centre:?}"
    );
}

#[test]
fn a_still_gif_is_not_animated() {
    let input = encoded_as(
        &DynamicImage::ImageRgb8(quadrants(40, 30)),
        ImageFormat::Gif,
    );

    let processed = process(input, &Options::default()).expect("processes");

    assert!(!processed.is_animated);
    assert_eq!(processed.original.format, Format::Gif);
}

#[test]
fn a_png_header_claiming_100000_squared_is_refused_as_too_large() {
    let mut input = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    input.extend_from_slice(&100_000u32.to_be_bytes());
    input.extend_from_slice(&100_000u32.to_be_bytes());
    input.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);

    let error = process(input, &Options::default()).expect_err("refused");

    assert!(matches!(
        error,
        ImagingError::TooManyPixels {
            width: 100_000,
            height: 100_000,
            ..
        }
    ));
    assert!(error.to_string().contains("100 megapixel limit"), "{error}");
}

#[test]
fn a_jpeg_frame_header_claiming_30000_squared_is_refused_as_too_large() {
    let mut input = jpeg(&DynamicImage::ImageRgb8(quadrants(16, 16)), None);
    let sof = input
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline SOF");
    input[sof + 5..sof + 7].copy_from_slice(&30_000u16.to_be_bytes());
    input[sof + 7..sof + 9].copy_from_slice(&30_000u16.to_be_bytes());

    let error = process(input, &Options::default()).expect_err("refused");

    assert!(matches!(
        error,
        ImagingError::TooManyPixels {
            width: 30_000,
            height: 30_000,
            ..
        }
    ));
}

#[test]
fn garbage_text_svg_and_empty_input_are_unsupported() {
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let tiff = tiff_le(
        &[(0x0100, 3, 1, [8, 0, 0, 0]), (0x0101, 3, 1, [8, 0, 0, 0])],
        &[0; 64],
    );
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let cases: [&[u8]; 5] = [b"", b"just some text\n", svg, &tiff, &garbage];

    for input in cases {
        let result = process(input.to_vec(), &Options::default());

        assert!(
            matches!(result, Err(ImagingError::Unsupported)),
            "{:?}",
            &input[..input.len().min(16)]
        );
    }
}

#[test]
fn truncated_files_of_every_format_never_panic() {
    let image = DynamicImage::ImageRgb8(quadrants(64, 48));
    let files = [
        jpeg(&image, Some(orientation_exif(6))),
        png(&image, None),
        encoded_as(&image, ImageFormat::Gif),
        webp(&image, None),
        encoded_as(&image, ImageFormat::Bmp),
        animated_gif(),
    ];

    for file in &files {
        for cut in (0..file.len()).step_by(7) {
            let result = process(file[..cut].to_vec(), &Options::default());

            assert!(
                !matches!(result, Err(ImagingError::Encode(_))),
                "cut at {cut}"
            );
        }
    }
}

#[test]
fn a_magic_png_holding_html_is_a_client_error() {
    let input = b"\x89PNG\r\n\x1a\n<!DOCTYPE html><html><body>hi</body></html>".to_vec();

    let result = process(input, &Options::default());

    assert!(matches!(
        result,
        Err(ImagingError::Corrupt(_) | ImagingError::Unsupported)
    ));
}

fn has_gps(bytes: &[u8]) -> bool {
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Ok(exif) => exif.fields().any(|f| f.tag.context() == Context::Gps),
        Err(_) => false,
    }
}

#[test]
fn gps_is_stripped_losslessly_from_jpeg_png_and_webp() {
    let image = DynamicImage::ImageRgb8(quadrants(64, 48));
    let cases = [
        ("jpeg", jpeg(&image, Some(exif_with_gps()))),
        ("png", png(&image, Some(exif_with_gps()))),
        ("webp", webp(&image, Some(exif_with_gps()))),
    ];

    for (name, input) in cases {
        assert!(has_gps(&input), "{name} test file has GPS");

        let processed = process(input.clone(), &with_gps_stripping()).expect("processes");

        let stored = &processed.original.bytes;
        assert_eq!(stored.len(), input.len(), "{name}");
        assert!(!has_gps(stored), "{name}: GPS left in the original");
        let exif = exif::Reader::new()
            .read_from_container(&mut Cursor::new(stored))
            .expect("EXIF still readable");
        assert!(
            exif.get_field(Tag::Make, In::PRIMARY).is_some(),
            "{name}: Make kept"
        );
        let orientation = exif
            .get_field(Tag::Orientation, In::PRIMARY)
            .map(|f| f.value.get_uint(0));
        assert_eq!(orientation, Some(Some(6)), "{name}: Orientation kept");
        assert_eq!(
            decode(stored).to_rgb8(),
            decode(&input).to_rgb8(),
            "{name}: same pixels"
        );
        let json = processed.metadata.exif_json.expect("EXIF summary");
        assert!(
            json.contains("\"Make\":\"Cam\"") && !json.contains("GPS"),
            "{name}: {json}"
        );
    }
}

#[test]
fn without_stripping_gps_stays_in_the_original_and_the_summary() {
    let input = jpeg(
        &DynamicImage::ImageRgb8(quadrants(64, 48)),
        Some(exif_with_gps()),
    );

    let processed = process(input.clone(), &Options::default()).expect("processes");

    assert_eq!(processed.original.bytes, input);
    let json = processed.metadata.exif_json.expect("EXIF summary");
    assert!(json.contains("GPSLatitude"), "{json}");
}

#[test]
fn a_file_without_gps_is_stored_unchanged_when_stripping() {
    let input = jpeg(
        &DynamicImage::ImageRgb8(quadrants(64, 48)),
        Some(orientation_exif(1)),
    );

    let processed = process(input.clone(), &with_gps_stripping()).expect("processes");

    assert_eq!(processed.original.bytes, input);
    assert_eq!(processed.md5, processed.source_md5);
}

#[test]
fn the_date_taken_uses_the_original_offset_and_bad_dates_are_dropped() {
    let cases = [
        ("2021:06:15 14:30:00", Some("2021-06-15T14:30:00+09:00")),
        ("0000:00:00 00:00:00", None),
        ("2021:13:45 25:61:61", None),
    ];
    for (date, expected) in cases {
        let input = jpeg(
            &DynamicImage::ImageRgb8(quadrants(16, 16)),
            Some(dated_exif(date)),
        );

        let processed = process(input, &Options::default()).expect("processes");

        let taken = processed.metadata.date_taken.map(|taken| {
            let offset = taken.offset.expect("offset recorded");
            taken
                .local
                .and_local_timezone(offset)
                .single()
                .expect("fixed offset")
                .to_rfc3339()
        });
        assert_eq!(taken.as_deref(), expected, "{date}");
    }
}

/// EXIF with an Exif IFD holding DateTimeOriginal, OffsetTime +01:00 and
/// OffsetTimeOriginal +09:00, plus an ImageDescription.
fn dated_exif(date: &str) -> Vec<u8> {
    // IFD0 (8): 2 entries -> ends at 8 + 2 + 24 + 4 = 38; description text at 38 (12 bytes);
    // Exif IFD at 50: 3 entries -> 50 + 2 + 36 + 4 = 92; date text at 92 (20 bytes).
    let mut extra = b"Sunset pier\0".to_vec();
    extra.extend_from_slice(&3u16.to_le_bytes());
    for (tag, kind, count, value) in [
        (0x9003u16, 2u16, 20u32, 92u32.to_le_bytes()),
        (0x9010, 2, 7, 112u32.to_le_bytes()),
        (0x9011, 2, 7, 119u32.to_le_bytes()),
    ] {
        extra.extend_from_slice(&tag.to_le_bytes());
        extra.extend_from_slice(&kind.to_le_bytes());
        extra.extend_from_slice(&count.to_le_bytes());
        extra.extend_from_slice(&value);
    }
    extra.extend_from_slice(&[0; 4]);
    extra.extend_from_slice(date.as_bytes());
    extra.push(0);
    extra.extend_from_slice(b"+01:00\0+09:00\0");
    tiff_le(
        &[
            (0x010E, 2, 12, 38u32.to_le_bytes()),
            (0x8769, 4, 1, 50u32.to_le_bytes()),
        ],
        &extra,
    )
}

#[test]
fn the_title_comes_from_the_exif_description() {
    let input = jpeg(
        &DynamicImage::ImageRgb8(quadrants(16, 16)),
        Some(dated_exif("x")),
    );

    let processed = process(input, &Options::default()).expect("processes");

    assert_eq!(processed.metadata.title.as_deref(), Some("Sunset pier"));
}

#[test]
fn a_truncated_jpeg_is_stored_with_an_end_marker_added() {
    let complete = jpeg(&DynamicImage::ImageRgb8(quadrants(64, 48)), None);
    let input = complete[..complete.len() - 2].to_vec();

    let processed = process(input.clone(), &Options::default()).expect("decodes leniently");

    assert_eq!(processed.original.bytes[..input.len()], input[..]);
    assert!(processed.original.bytes.ends_with(&[0xFF, 0xD9]));
}

/// Times `process` on a 4000x3000 photo-like JPEG; run with `--ignored --nocapture`.
#[test]
#[ignore = "a timing, not a check"]
fn a_12_megapixel_jpeg_is_timed() {
    let photo = RgbImage::from_fn(4000, 3000, |x, y| {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 27;
        Rgb([(x / 16) as u8, (y / 12) as u8, ((x + y) / 28 + noise) as u8])
    });
    let input = jpeg(&DynamicImage::ImageRgb8(photo), Some(orientation_exif(6)));

    for _ in 0..3 {
        let started = std::time::Instant::now();
        let processed = process(input.clone(), &Options::default()).expect("processes");
        println!(
            "process: {:?} ({} bytes in)",
            started.elapsed(),
            input.len()
        );
        assert_eq!(processed.original.width, 3000);
    }
    let started = std::time::Instant::now();
    let _ = image::load_from_memory(&input).expect("decodes");
    println!("decode alone: {:?}", started.elapsed());
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// `png` with a chunk inserted after its IHDR.
fn with_png_chunk(png: &[u8], kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    let ihdr_end = 8 + 8 + 13 + 4;
    [&png[..ihdr_end], &chunk, &png[ihdr_end..]].concat()
}

/// A 2 MB packet is too large to read, and searched property by property it used to take
/// hours: its title is ignored, and since it mentions GPS it is blanked whole, with the chunk's
/// CRC rewritten.
#[test]
fn a_two_megabyte_xmp_packet_with_gps_is_blanked_whole_and_not_read() {
    let mut xmp =
        b"<x:xmpmeta><dc:title><rdf:Alt><rdf:li>Home</rdf:li></rdf:Alt></dc:title>".to_vec();
    while xmp.len() < 2_000_000 {
        xmp.extend_from_slice(b"<exif:GPSa>");
    }
    let image = DynamicImage::ImageRgb8(quadrants(16, 16));
    let itxt = [&b"XML:com.adobe.xmp\0\0\0\0\0"[..], &xmp].concat();
    let input = with_png_chunk(&png(&image, None), b"iTXt", &itxt);

    let stripped = process(input.clone(), &with_gps_stripping()).expect("processes");
    let kept = process(input.clone(), &Options::default()).expect("processes");

    let stored = &stripped.original.bytes;
    assert_eq!(stored.len(), input.len());
    assert!(!contains(stored, b"GPS") && !contains(stored, b"Home"));
    assert_eq!(
        decode(stored).to_rgb8(),
        image.to_rgb8(),
        "the CRC is valid"
    );
    assert_eq!(kept.original.bytes, input);
    assert_eq!(kept.metadata.title, None);
}

/// 4,000 GPS entries that all point at the same 100 KB: the EXIF parser used to copy 400 MB
/// out of them. The EXIF is not read, but its GPS is still removed.
#[test]
fn exif_whose_entries_share_one_value_is_not_read_but_loses_its_gps() {
    let (entries, value_len) = (4_000u16, 100_000u32);
    let gps_at = 8 + 2 + 12 + 4;
    let values = gps_at + 2 + u32::from(entries) * 12 + 4;
    let mut extra = entries.to_le_bytes().to_vec();
    for tag in 0..entries {
        extra.extend_from_slice(&(tag % 30).to_le_bytes());
        extra.extend_from_slice(&7u16.to_le_bytes());
        extra.extend_from_slice(&value_len.to_le_bytes());
        extra.extend_from_slice(&values.to_le_bytes());
    }
    extra.extend_from_slice(&[0; 4]);
    extra.resize(extra.len() + value_len as usize, b'N');
    let tiff = tiff_le(&[(0x8825, 4, 1, gps_at.to_le_bytes())], &extra);
    let image = DynamicImage::ImageRgb8(quadrants(16, 16));
    let input = png(&image, Some(tiff));

    let processed = process(input, &with_gps_stripping()).expect("processes");

    assert_eq!(processed.metadata.exif_json, None);
    let stored = &processed.original.bytes;
    assert!(!has_gps(stored));
    assert!(!contains(stored, b"NNNN"), "the shared value is zeroed");
}

/// What make_corpus.py writes as `gif/polyglot_js.gif`: the width bytes `/*` open a script
/// comment that the text after the trailer closes.
const POLYGLOT_GIF: &[u8] = b"GIF89a/*\x0a\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00\
    \x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b*/=1;alert('polyglot');";

#[test]
fn a_gif_that_is_also_a_script_is_refused_whatever_its_tail() {
    let trailer = POLYGLOT_GIF
        .iter()
        .position(|&b| b == 0x3B)
        .expect("a trailer");
    let without_script = &POLYGLOT_GIF[..=trailer];

    let polyglot = process(POLYGLOT_GIF.to_vec(), &Options::default());
    let wide = process(without_script.to_vec(), &Options::default());

    assert!(
        matches!(polyglot, Err(ImagingError::Unsupported)),
        "{polyglot:?}"
    );
    assert!(matches!(wide, Err(ImagingError::Corrupt(_))), "{wide:?}");
}

/// Phones append Motion Photo videos and MPF images after EOI; those files must upload.
#[test]
fn a_jpeg_with_data_after_its_end_is_kept_byte_for_byte() {
    let mut input = jpeg(&DynamicImage::ImageRgb8(quadrants(16, 16)), None);
    input.extend_from_slice(b"\0\0\0\x18ftypmp42 appended video");

    let processed = process(input.clone(), &Options::default()).expect("processes");

    assert_eq!(processed.original.bytes, input);
}
