//! The own decoder against `jpeg-decoder` on JPEGs made here by `jpeg-encoder`: every scale,
//! every sampling in scope, restart intervals, one scan per component, odd sizes, gray, Adobe
//! RGB and files cut short; the files it leaves to the fallback; and thousands of damaged files,
//! none of which may panic.
//!
//! The PSNR bound: both decoders compute the same reduced inverse DCT and the same triangle
//! upsampling, in different arithmetic (f32 here, integers there), so they differ by rounding:
//! about one level on some samples: 44 dB and more here, gray exact. 40 dB leaves room for that; a
//! misplaced block, a wrong coefficient or a swapped channel costs far more (under 30 dB).

use image::DynamicImage;
use jpeg_decoder::ColorTransform;
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use super::{Header, JpegError};

const MIN_PSNR_DB: f64 = 40.0;

/// Photo-like pixels: smooth gradients, fine texture and a hard-edged box, in RGB.
fn photo(width: u16, height: u16) -> Vec<u8> {
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    let mut noise = 0x2545_F491u32;
    for y in 0..u32::from(height) {
        for x in 0..u32::from(width) {
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            let grain = (noise % 17) as f32 - 8.0;
            let in_box = (x / 7 + y / 5) % 3 == 0;
            let (fx, fy) = (x as f32, y as f32);
            let red = 128.0 + 90.0 * (fx / 23.0).sin() + grain;
            let green = 60.0 + fy * 150.0 / f32::from(height) + grain;
            let blue = if in_box {
                220.0
            } else {
                40.0 + 50.0 * (fy / 9.0).cos()
            };
            pixels.extend([red as u8, green as u8, blue as u8]);
        }
    }
    pixels
}

/// How a test JPEG is written.
#[derive(Clone, Copy, Debug)]
struct Made {
    width: u16,
    height: u16,
    sampling: SamplingFactor,
    restart: Option<u16>,
    /// One scan per component (what `jpeg-encoder` writes with optimised tables).
    separate_scans: bool,
    is_gray: bool,
}

impl Made {
    fn new(width: u16, height: u16, sampling: SamplingFactor) -> Made {
        Made {
            width,
            height,
            sampling,
            restart: None,
            separate_scans: false,
            is_gray: false,
        }
    }

    fn jpeg(self) -> Vec<u8> {
        let rgb = photo(self.width, self.height);
        let (pixels, color_type) = if self.is_gray {
            let gray = rgb.chunks_exact(3).map(|p| p[1]).collect();
            (gray, ColorType::Luma)
        } else {
            (rgb, ColorType::Rgb)
        };
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, 90);
        encoder.set_sampling_factor(self.sampling);
        encoder.set_optimized_huffman_tables(self.separate_scans);
        if let Some(interval) = self.restart {
            encoder.set_restart_interval(interval);
        }
        encoder
            .encode(&pixels, self.width, self.height, color_type)
            .expect("encodes a test JPEG");
        out
    }
}

fn ours(jpeg: &[u8], reduction: u32) -> Result<DynamicImage, JpegError> {
    let (image, _) = Header::read(jpeg)?.decode(reduction, u64::MAX)?;
    Ok(image)
}

/// `jpeg-decoder`'s pixels at 1/`reduction` scale, with their size.
fn reference(
    jpeg: &[u8],
    reduction: u32,
    transform: Option<ColorTransform>,
) -> (u32, u32, Vec<u8>) {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    if let Some(transform) = transform {
        decoder.set_color_transform(transform);
    }
    decoder.read_info().expect("jpeg-decoder reads the header");
    let info = decoder.info().expect("a frame");
    if reduction > 1 {
        let side = |full: u16| full.div_ceil(reduction as u16);
        decoder
            .scale(side(info.width), side(info.height))
            .expect("scales");
    }
    let pixels = decoder.decode().expect("jpeg-decoder decodes");
    let info = decoder.info().expect("a frame");
    (u32::from(info.width), u32::from(info.height), pixels)
}

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let squared: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = squared / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64.powi(2) / mse).log10()
    }
}

/// Decodes `jpeg` both ways at every scale; the sizes must match and the pixels agree.
fn assert_matches_reference(jpeg: &[u8], what: &str, transform: Option<ColorTransform>) {
    for reduction in [1, 2, 4, 8] {
        let image = ours(jpeg, reduction).unwrap_or_else(|e| panic!("{what} 1/{reduction}: {e}"));
        let (width, height, expected) = reference(jpeg, reduction, transform);

        assert_eq!(
            (image.width(), image.height()),
            (width, height),
            "{what} 1/{reduction}"
        );
        let quality = psnr(image.as_bytes(), &expected);
        assert!(
            quality >= MIN_PSNR_DB,
            "{what} 1/{reduction}: {quality:.1} dB"
        );
    }
}

fn count_markers(jpeg: &[u8], code: u8) -> usize {
    jpeg.windows(2).filter(|w| w == &[0xFF, code]).count()
}

#[test]
fn every_sampling_in_scope_matches_jpeg_decoder_at_every_scale_and_odd_size() {
    let samplings = [
        SamplingFactor::F_1_1,
        SamplingFactor::F_2_1,
        SamplingFactor::F_2_2,
        SamplingFactor::F_1_2,
    ];
    let sizes = [(67, 45), (128, 96), (9, 250), (1, 1), (250, 17)];
    for sampling in samplings {
        for (width, height) in sizes {
            let made = Made::new(width, height, sampling);

            assert_matches_reference(&made.jpeg(), &format!("{made:?}"), None);
        }
    }
}

#[test]
fn restart_intervals_match_jpeg_decoder() {
    for (sampling, interval) in [
        (SamplingFactor::F_2_2, 1),
        (SamplingFactor::F_2_2, 3),
        (SamplingFactor::F_1_1, 7),
        (SamplingFactor::F_2_1, 5),
    ] {
        let made = Made {
            restart: Some(interval),
            ..Made::new(83, 61, sampling)
        };
        let jpeg = made.jpeg();
        assert!(count_markers(&jpeg, 0xDD) == 1 && count_markers(&jpeg, 0xD1) > 0);

        assert_matches_reference(&jpeg, &format!("{made:?}"), None);
    }
}

#[test]
fn gray_jpegs_match_jpeg_decoder() {
    for (width, height) in [(67, 45), (16, 16), (13, 200)] {
        let made = Made {
            is_gray: true,
            restart: (width == 16).then_some(2),
            ..Made::new(width, height, SamplingFactor::F_1_1)
        };
        let jpeg = made.jpeg();

        assert_matches_reference(&jpeg, &format!("{made:?}"), None);
        assert!(matches!(ours(&jpeg, 1), Ok(DynamicImage::ImageLuma8(_))));
    }
}

#[test]
fn one_scan_per_component_matches_jpeg_decoder() {
    for sampling in [SamplingFactor::F_2_2, SamplingFactor::F_1_1] {
        let made = Made {
            separate_scans: true,
            ..Made::new(77, 50, sampling)
        };
        let jpeg = made.jpeg();
        assert_eq!(count_markers(&jpeg, 0xDA), 3);

        assert_matches_reference(&jpeg, &format!("{made:?}"), None);
    }
}

/// The file `jpeg-encoder` writes for `Ycbcr` samples, with its JFIF segment swapped for an
/// Adobe one whose transform flag is 0: the samples are then RGB as they are.
fn adobe_rgb(width: u16, height: u16) -> (Vec<u8>, Vec<u8>) {
    let rgb = photo(width, height);
    let mut coded = Vec::new();
    let mut encoder = Encoder::new(&mut coded, 95);
    encoder.set_sampling_factor(SamplingFactor::F_1_1);
    encoder
        .encode(&rgb, width, height, ColorType::Ycbcr)
        .expect("encodes");
    assert_eq!(coded[2..6], [0xFF, 0xE0, 0, 16], "a JFIF segment first");
    let adobe = [&[0xFF, 0xEE, 0, 14][..], b"Adobe", &[0, 100, 0, 0, 0, 0, 0]];
    let jpeg = [&coded[..2], &adobe.concat(), &coded[20..]].concat();
    (jpeg, rgb)
}

#[test]
fn an_adobe_rgb_jpeg_is_read_as_rgb() {
    let (jpeg, rgb) = adobe_rgb(45, 38);

    assert_matches_reference(&jpeg, "Adobe RGB", Some(ColorTransform::RGB));
    let image = ours(&jpeg, 1).expect("decodes");
    let quality = psnr(image.as_bytes(), &rgb);
    assert!(quality >= 30.0, "against the source: {quality:.1} dB");
}

#[test]
fn a_jpeg_cut_short_decodes_its_missing_blocks_as_jpeg_decoder_does() {
    let jpeg = Made::new(96, 80, SamplingFactor::F_2_2).jpeg();
    for cut in [jpeg.len() / 3, jpeg.len() / 2, jpeg.len() - 40] {
        let cut = &jpeg[..cut];
        let closed = [cut, &[0xFF, 0xD9]].concat();
        for reduction in [1, 4] {
            let image = ours(cut, reduction).expect("decodes what is there");
            let (width, height, expected) = reference(&closed, reduction, None);

            assert_eq!((image.width(), image.height()), (width, height));
            let quality = psnr(image.as_bytes(), &expected);
            assert!(
                quality >= MIN_PSNR_DB,
                "cut at {}: {quality:.1} dB",
                cut.len()
            );
        }
    }
}

#[test]
fn a_jpeg_with_restart_intervals_cut_short_keeps_the_rows_before_the_cut() {
    // jpeg-decoder refuses such a file (it wants the next restart marker), so the reference
    // is the whole file: its first MCU row is in the first third of the data.
    let jpeg = Made {
        restart: Some(4),
        ..Made::new(96, 80, SamplingFactor::F_2_2)
    }
    .jpeg();
    let whole = ours(&jpeg, 1).expect("decodes");

    let cut = ours(&jpeg[..jpeg.len() / 3], 1).expect("decodes what is there");

    assert_eq!((cut.width(), cut.height()), (96, 80));
    let first_rows = 96 * 3 * 8;
    assert_eq!(cut.as_bytes()[..first_rows], whole.as_bytes()[..first_rows]);
    assert_ne!(cut.as_bytes(), whole.as_bytes());
}

#[test]
fn a_narrow_jpeg_is_decoded_at_the_scale_asked_for() {
    // jpeg-decoder would pick 1/8 here: its choice only needs one side to reach the request.
    let jpeg = Made::new(3, 200, SamplingFactor::F_2_2).jpeg();

    let image = ours(&jpeg, 4).expect("decodes");

    assert_eq!((image.width(), image.height()), (1, 50));
}

#[test]
fn files_outside_the_scope_are_left_to_the_fallback() {
    let rgb = photo(32, 32);
    let encode = |color_type: ColorType, pixels: &[u8], sampling, is_progressive| {
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, 90);
        encoder.set_sampling_factor(sampling);
        encoder.set_progressive(is_progressive);
        encoder.encode(pixels, 32, 32, color_type).expect("encodes");
        out
    };
    let cmyk = [10u8, 200, 30, 40].repeat(32 * 32);
    let usual = SamplingFactor::F_2_2;
    let cases = [
        ("progressive", encode(ColorType::Rgb, &rgb, usual, true)),
        ("CMYK", encode(ColorType::Cmyk, &cmyk, usual, false)),
        ("YCCK", encode(ColorType::CmykAsYcck, &cmyk, usual, false)),
        (
            "4:1:1",
            encode(ColorType::Rgb, &rgb, SamplingFactor::F_4_1, false),
        ),
        ("12-bit", twelve_bit_gray()),
    ];
    for (what, jpeg) in cases {
        let result = Header::read(&jpeg).map(|_| ());

        assert!(
            matches!(result, Err(JpegError::Unsupported(_))),
            "{what}: {result:?}"
        );
    }
}

/// A 16x8 gray JPEG of 12-bit samples, written by hand: SOF1, a quantisation table of ones,
/// a DC table (code 0: size 0; code 10: size 10), an AC table (code 0: EOB); the left block's
/// DC is +800 (samples 2148 of 4095), the right one's difference 0.
pub(super) fn twelve_bit_gray() -> Vec<u8> {
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend([0xFF, 0xDB, 0, 131, 0x10]);
    jpeg.extend([0, 1].repeat(64));
    jpeg.extend([0xFF, 0xC1, 0, 11, 12, 0, 8, 0, 16, 1, 1, 0x11, 0]);
    let mut dc = vec![0xFF, 0xC4, 0, 21, 0x00, 1, 1];
    dc.extend([0; 14]);
    dc.extend([0, 10]);
    jpeg.extend(dc);
    let mut ac = vec![0xFF, 0xC4, 0, 20, 0x10, 1];
    ac.extend([0; 15]);
    ac.push(0x00);
    jpeg.extend(ac);
    jpeg.extend([0xFF, 0xDA, 0, 8, 1, 1, 0x00, 0, 63, 0]);
    // 10 1100100000 0 | 0 0, then 1s to the byte boundary.
    jpeg.extend([0b1011_0010, 0b0000_0001, 0xFF, 0xD9]);
    jpeg
}

/// xorshift64: deterministic, so a failing case can be replayed from its number.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn damaged_jpegs_decode_or_fail_but_never_panic() {
    let originals = [
        Made {
            restart: Some(2),
            ..Made::new(40, 24, SamplingFactor::F_2_2)
        }
        .jpeg(),
        Made::new(33, 17, SamplingFactor::F_1_1).jpeg(),
        Made {
            separate_scans: true,
            ..Made::new(24, 24, SamplingFactor::F_2_1)
        }
        .jpeg(),
        Made {
            is_gray: true,
            ..Made::new(20, 30, SamplingFactor::F_1_1)
        }
        .jpeg(),
        adobe_rgb(16, 16).0,
    ];
    let mut random = Random(0x9E37_79B9_7F4A_7C15);
    let (mut decoded, mut refused) = (0, 0);
    for case in 0..4000 {
        let mut jpeg = originals[case % originals.len()].clone();
        for _ in 0..=random.below(6) {
            let at = random.below(jpeg.len());
            jpeg[at] = match random.below(3) {
                0 => jpeg[at] ^ (1 << random.below(8)),
                1 => 0xFF,
                _ => random.next() as u8,
            };
        }
        if case % 5 == 0 {
            jpeg.truncate(random.below(jpeg.len() + 1));
        }
        let reduction = [1, 2, 4, 8][random.below(4)];

        // As production does: the pixel budget first, then a memory limit.
        let result = Header::read(&jpeg).and_then(|header| {
            let (width, height) = header.size();
            if u64::from(width) * u64::from(height) > 1 << 20 {
                return Err(JpegError::TooLarge);
            }
            let image = header.decode(reduction, 1 << 24)?.0;
            let expected = (width.div_ceil(reduction), height.div_ceil(reduction));
            assert_eq!((image.width(), image.height()), expected, "case {case}");
            Ok(())
        });
        match result {
            Ok(()) => decoded += 1,
            Err(_) => refused += 1,
        }
    }
    // Most damage lands in the entropy data, which decodes to something.
    assert!(
        decoded > 1000 && refused > 100,
        "{decoded} decoded, {refused} refused"
    );
}

#[test]
fn a_12_bit_jpeg_goes_past_the_own_decoder_to_the_fallbacks_which_refuse_it_as_before() {
    use crate::imaging::{decode::decode, Format, ImagingError, Limits};
    let jpeg = twelve_bit_gray();

    let result = decode(&jpeg, Format::Jpeg, &Limits::default(), |_| 1.0);

    let refused = matches!(&result, Err(ImagingError::Corrupt(why)) if why.contains("12 bits"));
    assert!(refused, "{:?}", result.map(|d| d.size));
}
