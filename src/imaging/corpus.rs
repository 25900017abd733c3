//! Runs [`super::process`] over the upload acceptance corpus and checks each image case the
//! way the HTTP runner will, before any server exists.
//!
//! Ignored by default because the corpus is generated, not committed:
//!
//! ```sh
//! python3 -m venv /tmp/corpus-venv && /tmp/corpus-venv/bin/pip install pillow
//! /tmp/corpus-venv/bin/python ../shared/corpus/make_corpus.py /tmp/corpus
//! SAJIN_CORPUS=/tmp/corpus cargo test --lib imaging::corpus -- --ignored --nocapture
//! ```
//!
//! `SAJIN_CORPUS_CASES` overrides the cases file (default `../shared/corpus/cases.json`);
//! `SAJIN_CORPUS_OUT=DIR` also writes every stored file to `DIR/<case id>/` for inspection.

use std::collections::BTreeSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::codecs::{gif::GifDecoder, webp::WebPDecoder};
use image::{AnimationDecoder, DynamicImage, RgbImage};
use serde_json::Value;

use super::{container, process, tags, Encoded, Format, ImagingError, Options, Processed};

const QUADRANTS: [[u8; 3]; 4] = [[230, 30, 30], [30, 200, 30], [30, 30, 230], [240, 220, 20]];

#[test]
#[ignore = "needs the generated corpus: see the module docs"]
fn every_image_case_of_the_corpus_passes() {
    let corpus = PathBuf::from(std::env::var("SAJIN_CORPUS").unwrap_or("/tmp/corpus".into()));
    let cases_path = std::env::var("SAJIN_CORPUS_CASES")
        .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/cases.json").into());
    let cases = std::fs::read_to_string(&cases_path).expect("cases.json is readable");
    let cases: Value = serde_json::from_str(&cases).expect("cases.json is JSON");

    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    let mut passed = 0;
    for case in cases["cases"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| is_image_case(c))
    {
        let id = case["id"].as_str().unwrap_or("?");
        let width = case["request"]["params"]["width"].as_str().unwrap_or("");
        if !seen.insert((case["file"].to_string(), width.to_owned())) {
            continue;
        }
        match run_case(&corpus, case) {
            Ok(()) => passed += 1,
            Err(why) => failures.push(format!("{id}: {why}")),
        }
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    println!("{passed} passed, {} failed", failures.len());
    assert!(failures.is_empty());
}

/// Flips, overwrites and cuts bytes of every corpus file; `process` must answer each with a
/// result, never a panic, and never blame itself (`Encode`) for a client's bytes.
#[test]
#[ignore = "needs the generated corpus: see the module docs"]
fn mutated_corpus_files_never_panic() {
    let corpus = PathBuf::from(std::env::var("SAJIN_CORPUS").unwrap_or("/tmp/corpus".into()));
    let mut files = Vec::new();
    collect_files(&corpus, &mut files);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        // xorshift64: deterministic, so a failure can be replayed.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e != "json"))
    {
        let Ok(original) = std::fs::read(file) else {
            continue;
        };
        for round in 0..40 {
            let mut input = original.clone();
            for _ in 0..=(next() % 8) {
                if input.is_empty() {
                    break;
                }
                let at = (next() % input.len() as u64) as usize;
                input[at] = next() as u8;
            }
            if round % 4 == 0 {
                input.truncate((next() % (input.len() as u64 + 1)) as usize);
            }
            let result = process(
                input,
                &Options {
                    strip_gps: true,
                    ..Options::default()
                },
            );
            let blamed_us = matches!(result, Err(ImagingError::Encode(_)));
            assert!(!blamed_us, "{} round {round}: {result:?}", file.display());
        }
    }
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// Cases whose outcome depends on the image alone (no auth, expiry or other parameters).
fn is_image_case(case: &Value) -> bool {
    let request = &case["request"];
    let params_ok = request["params"]
        .as_object()
        .is_none_or(|params| params.keys().all(|k| k == "format" || k == "width"));
    // Pattern files ("conc/color_%d.png") belong to the concurrency cases, not to imaging.
    let is_single_file = case["file"].as_str().is_some_and(|f| !f.contains('%'));
    is_single_file && request["auth"] == "key" && params_ok
}

fn run_case(corpus: &Path, case: &Value) -> Result<(), String> {
    let file = corpus.join(case["file"].as_str().unwrap_or_default());
    let input = std::fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let width = case["request"]["params"]["width"]
        .as_str()
        .and_then(|w| w.parse().ok());
    let options = Options {
        resize_width: width,
        strip_gps: true,
        ..Options::default()
    };

    let started = Instant::now();
    let result = process(input.clone(), &options);
    let elapsed = started.elapsed();

    let status = match &result {
        Ok(_) => "2xx",
        Err(ImagingError::Encode(_)) => "5xx",
        Err(_) => "4xx",
    };
    let expected = &case["expect"]["status"];
    let allowed = expected
        .as_array()
        .map_or(vec![expected.clone()], Clone::clone);
    if !allowed.iter().any(|s| s == status) {
        return Err(format!("status {status} ({result:?}), expected {expected}"));
    }
    if let Ok(processed) = &result {
        dump(case, processed);
    }
    let checks = case["expect"]["checks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for check in checks.iter().filter(|c| applies(c, status)) {
        let outcome = run_check(check, &result, &input, elapsed);
        let outcome = outcome.map_err(|why| format!("{}: {why}", check["type"]));
        match outcome {
            Err(why) if check["severity"] == "warn" => println!("warn {}: {why}", case["id"]),
            other => other?,
        }
    }
    Ok(())
}

fn applies(check: &Value, status: &str) -> bool {
    check["if_status"].as_str().is_none_or(|s| s == status)
}

fn run_check(
    check: &Value,
    result: &Result<Processed, ImagingError>,
    input: &[u8],
    elapsed: Duration,
) -> Result<(), String> {
    let kind = check["type"].as_str().unwrap_or_default();
    if kind == "max_time" {
        let limit = check["seconds"].as_f64().unwrap_or(f64::MAX);
        return (elapsed.as_secs_f64() <= limit)
            .then_some(())
            .ok_or(format!("{elapsed:?}"));
    }
    if kind == "error_message" {
        return error_message(check, result);
    }
    let Ok(processed) = result else {
        return Ok(());
    };
    match kind {
        "dims" => dims(check, &processed.original),
        "field_in" | "field_equals" => field(check, processed),
        "animated" => animated(check, processed, input),
        "quadrants" => with_target(check, processed, quadrants),
        "corners_light" => with_target(check, processed, corners_light),
        "center_color" => with_target(check, processed, center_color),
        "no_gps" | "no_exif_orientation" => {
            with_target(check, processed, |_, t| no_metadata(kind, t))
        }
        _ => Ok(()),
    }
}

fn error_message(check: &Value, result: &Result<Processed, ImagingError>) -> Result<(), String> {
    let Err(error) = result else {
        return Err("no error".into());
    };
    let message = error.to_string().to_lowercase();
    let pattern = check["pattern"].as_str().unwrap_or_default();
    let matches = pattern.split('|').any(|word| message.contains(word));
    matches
        .then_some(())
        .ok_or(format!("{message:?} does not match {pattern:?}"))
}

fn dims(check: &Value, original: &Encoded) -> Result<(), String> {
    let tolerance = check["tolerance"].as_u64().unwrap_or(0);
    let (width, height) = (check["width"].as_u64(), check["height"].as_u64());
    let close =
        |got: u32, want: Option<u64>| want.is_some_and(|w| u64::from(got).abs_diff(w) <= tolerance);
    let ok = close(original.width, width) && close(original.height, height);
    ok.then_some(())
        .ok_or(format!("{}x{}", original.width, original.height))
}

fn field(check: &Value, processed: &Processed) -> Result<(), String> {
    let got = match check["path"].as_str() {
        Some("image.mime") => Value::from(processed.original.format.mime()),
        Some("image.is_animated") => Value::from(u8::from(processed.is_animated)),
        _ => return Ok(()),
    };
    let wanted = check.get("values").and_then(Value::as_array).cloned();
    let ok = wanted.map_or(check["value"] == got, |values| values.contains(&got));
    ok.then_some(()).ok_or(format!("got {got}"))
}

fn animated(check: &Value, processed: &Processed, input: &[u8]) -> Result<(), String> {
    let bytes = &processed.original.bytes;
    let cursor = Cursor::new(bytes.as_slice());
    let frames = match processed.original.format {
        Format::Gif => GifDecoder::new(cursor).map(|d| d.into_frames().count()),
        Format::WebP => WebPDecoder::new(cursor).map(|d| d.into_frames().count()),
        _ => Ok(1),
    };
    let frames = frames.map_err(|e| e.to_string())?;
    let min = check["min_frames"].as_u64().unwrap_or(2) as usize;
    let ok = frames >= min && bytes == input;
    ok.then_some(())
        .ok_or(format!("{frames} frames, unchanged: {}", bytes == input))
}

/// A decoded target as a browser shows it: EXIF orientation applied, alpha over white.
struct Target<'a> {
    encoded: &'a Encoded,
    shown: RgbImage,
}

fn with_target(
    check: &Value,
    processed: &Processed,
    test: impl Fn(&Value, &Target) -> Result<(), String>,
) -> Result<(), String> {
    let path = check["target"].as_str().unwrap_or_default();
    let encoded = match path.trim_end_matches('?') {
        "image.url" => Some(&processed.original),
        "image.thumb.url" => Some(&processed.thumb),
        "image.medium.url" => processed.medium.as_ref(),
        _ => return Ok(()),
    };
    match encoded {
        Some(encoded) => test(
            check,
            &Target {
                encoded,
                shown: shown(encoded)?,
            },
        ),
        None if path.ends_with('?') => Ok(()),
        None => Err(format!("{path} missing")),
    }
}

fn shown(encoded: &Encoded) -> Result<RgbImage, String> {
    let mut image = image::load_from_memory(&encoded.bytes).map_err(|e| e.to_string())?;
    let blocks = container::metadata_blocks(&encoded.bytes, encoded.format);
    let exif = blocks.first_exif(&encoded.bytes).and_then(tags::parse);
    image.apply_orientation(tags::orientation(exif.as_ref()));
    Ok(on_white(&image))
}

fn on_white(image: &DynamicImage) -> RgbImage {
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend =
            |c: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a))) / 255) as u8;
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

fn pixel_at(image: &RgbImage, fx: f64, fy: f64) -> [u8; 3] {
    let x = ((f64::from(image.width()) * fx) as u32).min(image.width() - 1);
    let y = ((f64::from(image.height()) * fy) as u32).min(image.height() - 1);
    image.get_pixel(x, y).0
}

fn near(got: [u8; 3], want: [u8; 3], tolerance: u8) -> bool {
    got.iter()
        .zip(want)
        .all(|(&g, w)| g.abs_diff(w) <= tolerance)
}

fn quadrants(check: &Value, target: &Target) -> Result<(), String> {
    let (w, h) = target.shown.dimensions();
    let aspect_ok = match check["aspect"].as_str() {
        _ if w == h => true,
        Some("portrait") => h > w,
        Some("landscape") => w > h,
        _ => true,
    };
    if !aspect_ok {
        return Err(format!("{w}x{h} has the wrong aspect"));
    }
    let spots = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)];
    for ((fx, fy), want) in spots.into_iter().zip(QUADRANTS) {
        let got = pixel_at(&target.shown, fx, fy);
        if !near(got, want, 80) {
            return Err(format!(
                "{w}x{h} at ({fx},{fy}) is {got:?}, expected {want:?}"
            ));
        }
    }
    Ok(())
}

fn corners_light(_: &Value, target: &Target) -> Result<(), String> {
    for (fx, fy) in [(0.03, 0.03), (0.97, 0.03), (0.03, 0.97), (0.97, 0.97)] {
        let got = pixel_at(&target.shown, fx, fy);
        if got.iter().any(|&c| c < 200) {
            return Err(format!("corner ({fx},{fy}) is {got:?}"));
        }
    }
    Ok(())
}

fn center_color(check: &Value, target: &Target) -> Result<(), String> {
    let want: Vec<u8> = check["rgb"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_u64())
        .map(|v| v as u8)
        .collect();
    let want: [u8; 3] = want.try_into().map_err(|_| "bad rgb in case")?;
    let got = pixel_at(&target.shown, 0.5, 0.5);
    near(got, want, 80)
        .then_some(())
        .ok_or(format!("centre is {got:?}"))
}

fn no_metadata(kind: &str, target: &Target) -> Result<(), String> {
    let blocks = container::metadata_blocks(&target.encoded.bytes, target.encoded.format);
    let Some(exif) = blocks
        .first_exif(&target.encoded.bytes)
        .and_then(tags::parse)
    else {
        return Ok(());
    };
    let has_gps = exif.fields().any(|f| f.tag.context() == exif::Context::Gps);
    let turned = tags::orientation(Some(&exif)) != image::metadata::Orientation::NoTransforms;
    let bad = if kind == "no_gps" { has_gps } else { turned };
    (!bad)
        .then_some(())
        .ok_or("metadata left in a derivative".into())
}

fn dump(case: &Value, processed: &Processed) {
    let Ok(out) = std::env::var("SAJIN_CORPUS_OUT") else {
        return;
    };
    let dir = Path::new(&out).join(case["id"].as_str().unwrap_or("unknown"));
    let files = [
        ("original", Some(&processed.original)),
        ("thumb", Some(&processed.thumb)),
        ("medium", processed.medium.as_ref()),
    ];
    for (name, encoded) in files {
        if let Some(encoded) = encoded {
            let path = dir.join(format!("{name}.{}", encoded.format.extension()));
            let written =
                std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &encoded.bytes));
            written.unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
    }
}
