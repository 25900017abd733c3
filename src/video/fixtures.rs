//! Tiny MP4 and WebM files built box by box and element by element, for the container tests.
//! They hold no real pictures (the frame bytes are filler), only the structure the parsers
//! read: size, length, tracks and where the frames are.

/// What a tiny MP4 should declare.
pub struct Mp4Spec {
    /// The track's handler: `vide` for video.
    pub handler: [u8; 4],
    /// Store a 90° turn in the track's matrix.
    pub is_rotated: bool,
    /// Where the chunk of frames is said to start; `None` puts it at the real `mdat` data.
    pub chunk_offset: Option<u32>,
}

impl Default for Mp4Spec {
    fn default() -> Self {
        Mp4Spec {
            handler: *b"vide",
            is_rotated: false,
            chunk_offset: None,
        }
    }
}

const MP4_WIDTH: u16 = 64;
const MP4_HEIGHT: u16 = 48;
/// 2.5 s at 1000 units per second.
const MP4_TIMESCALE: u32 = 1000;
const MP4_DURATION: u32 = 2500;
const MP4_SAMPLES: [&[u8]; 2] = [b"first frame", b"second frame"];

/// A 64x48, 2.5 s MP4 with one H.264 track of two samples.
pub fn tiny_mp4(spec: &Mp4Spec) -> Vec<u8> {
    let ftyp = mp4_box(
        b"ftyp",
        &[b"isom", &512u32.to_be_bytes()[..], b"isom", b"avc1"].concat(),
    );
    let moov_len = moov(spec, 0).len();
    let data_offset = (ftyp.len() + moov_len + 8) as u32;
    let moov = moov(spec, spec.chunk_offset.unwrap_or(data_offset));
    let mdat = mp4_box(b"mdat", &MP4_SAMPLES.concat());
    [ftyp, moov, mdat].concat()
}

fn moov(spec: &Mp4Spec, chunk_offset: u32) -> Vec<u8> {
    let mvhd = full_box(
        b"mvhd",
        0,
        &[
            &[0u8; 8][..],
            &MP4_TIMESCALE.to_be_bytes(),
            &MP4_DURATION.to_be_bytes(),
            &0x0001_0000u32.to_be_bytes(),
            &0x0100u16.to_be_bytes(),
            &[0u8; 10],
            &matrix(false),
            &[0u8; 24],
            &2u32.to_be_bytes(),
        ]
        .concat(),
    );
    let trak = mp4_box(b"trak", &[tkhd(spec), mdia(spec, chunk_offset)].concat());
    mp4_box(b"moov", &[mvhd, trak].concat())
}

fn tkhd(spec: &Mp4Spec) -> Vec<u8> {
    let body = [
        &[0u8; 8][..],
        &1u32.to_be_bytes(),
        &[0u8; 4],
        &MP4_DURATION.to_be_bytes(),
        &[0u8; 16],
        &matrix(spec.is_rotated),
        &(u32::from(MP4_WIDTH) << 16).to_be_bytes(),
        &(u32::from(MP4_HEIGHT) << 16).to_be_bytes(),
    ]
    .concat();
    full_box(b"tkhd", 3, &body)
}

fn mdia(spec: &Mp4Spec, chunk_offset: u32) -> Vec<u8> {
    let mdhd = full_box(
        b"mdhd",
        0,
        &[
            &[0u8; 8][..],
            &MP4_TIMESCALE.to_be_bytes(),
            &MP4_DURATION.to_be_bytes(),
            &0x55C4u16.to_be_bytes(),
            &[0u8; 2],
        ]
        .concat(),
    );
    let hdlr = full_box(
        b"hdlr",
        0,
        &[&[0u8; 4][..], &spec.handler, &[0u8; 12], b"Handler\0"].concat(),
    );
    let vmhd = full_box(b"vmhd", 1, &[0u8; 8]);
    let dref = full_box(
        b"dref",
        0,
        &[&1u32.to_be_bytes()[..], &full_box(b"url ", 1, &[])].concat(),
    );
    let dinf = mp4_box(b"dinf", &dref);
    let stbl = mp4_box(b"stbl", &sample_table(chunk_offset));
    let minf = mp4_box(b"minf", &[vmhd, dinf, stbl].concat());
    mp4_box(b"mdia", &[mdhd, hdlr, minf].concat())
}

fn sample_table(chunk_offset: u32) -> Vec<u8> {
    let count = MP4_SAMPLES.len() as u32;
    let avcc = mp4_box(b"avcC", &[1, 0x42, 0xC0, 0x0A, 0xFF, 0xE0, 0x00]);
    let avc1 = mp4_box(
        b"avc1",
        &[
            &[0u8; 6][..],
            &1u16.to_be_bytes(),
            &[0u8; 16],
            &MP4_WIDTH.to_be_bytes(),
            &MP4_HEIGHT.to_be_bytes(),
            &0x0048_0000u32.to_be_bytes(),
            &0x0048_0000u32.to_be_bytes(),
            &[0u8; 4],
            &1u16.to_be_bytes(),
            &[0u8; 32],
            &0x0018u16.to_be_bytes(),
            &(-1i16).to_be_bytes(),
            &avcc,
        ]
        .concat(),
    );
    let stsd = full_box(b"stsd", 0, &[&1u32.to_be_bytes()[..], &avc1].concat());
    let stts = full_box(b"stts", 0, &words(&[1, count, MP4_DURATION / count]));
    let stsc = full_box(b"stsc", 0, &words(&[1, 1, count, 1]));
    let sizes: Vec<u32> = MP4_SAMPLES.iter().map(|s| s.len() as u32).collect();
    let stsz = full_box(b"stsz", 0, &words(&[&[0, count][..], &sizes].concat()));
    let stco = full_box(b"stco", 0, &words(&[1, chunk_offset]));
    [stsd, stts, stsc, stsz, stco].concat()
}

/// The identity matrix, or a 90° turn, in the 16.16 and 2.30 fixed point of MP4.
fn matrix(is_rotated: bool) -> Vec<u8> {
    let one = 0x0001_0000u32;
    let values = if is_rotated {
        [0, one, 0, one.wrapping_neg(), 0, 0, 0, 0, 0x4000_0000]
    } else {
        [one, 0, 0, 0, one, 0, 0, 0, 0x4000_0000]
    };
    words(&values)
}

fn words(values: &[u32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_be_bytes())
        .collect()
}

fn mp4_box(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let size = (8 + payload.len()) as u32;
    [&size.to_be_bytes()[..], kind, payload].concat()
}

fn full_box(kind: &[u8; 4], flags: u32, payload: &[u8]) -> Vec<u8> {
    mp4_box(kind, &[&flags.to_be_bytes()[..], payload].concat())
}

/// What a tiny WebM should declare.
pub struct WebmSpec {
    pub doc_type: &'static str,
    /// The Info's Duration; `None` leaves it out, as browsers recording do.
    pub duration_ms: Option<f64>,
    /// One keyframe block per entry, each in its own cluster.
    pub frame_times_ms: Vec<u64>,
}

impl Default for WebmSpec {
    fn default() -> Self {
        WebmSpec {
            doc_type: "webm",
            duration_ms: Some(2500.0),
            frame_times_ms: vec![0, 2000],
        }
    }
}

/// A 64x48 VP8 WebM with millisecond ticks.
pub fn tiny_webm(spec: &WebmSpec) -> Vec<u8> {
    let header = element(
        &[0x1A, 0x45, 0xDF, 0xA3],
        &[
            uint(&[0x42, 0x86], 1),
            uint(&[0x42, 0xF7], 1),
            uint(&[0x42, 0xF2], 4),
            uint(&[0x42, 0xF3], 8),
            element(&[0x42, 0x82], spec.doc_type.as_bytes()),
            uint(&[0x42, 0x87], 2),
            uint(&[0x42, 0x85], 2),
        ]
        .concat(),
    );
    let mut info = vec![
        uint(&[0x2A, 0xD7, 0xB1], 1_000_000),
        element(&[0x4D, 0x80], b"sajin-test"),
        element(&[0x57, 0x41], b"sajin-test"),
    ];
    if let Some(duration) = spec.duration_ms {
        info.push(element(&[0x44, 0x89], &duration.to_be_bytes()));
    }
    let video = [uint(&[0xB0], 64), uint(&[0xBA], 48)].concat();
    let track = [
        uint(&[0xD7], 1),
        uint(&[0x73, 0xC5], 1),
        uint(&[0x83], 1),
        element(&[0x86], b"V_VP8"),
        element(&[0xE0], &video),
    ]
    .concat();
    let tracks = element(&[0x16, 0x54, 0xAE, 0x6B], &element(&[0xAE], &track));
    let clusters = spec.frame_times_ms.iter().map(|&time| {
        let block = element(&[0xA3], &[0x81, 0x00, 0x00, 0x80, 0x9D, 0x01, 0x2A]);
        element(
            &[0x1F, 0x43, 0xB6, 0x75],
            &[uint(&[0xE7], time), block].concat(),
        )
    });
    let segment_body = [
        element(&[0x15, 0x49, 0xA9, 0x66], &info.concat()),
        tracks,
        clusters.collect::<Vec<_>>().concat(),
    ]
    .concat();
    [header, element(&[0x18, 0x53, 0x80, 0x67], &segment_body)].concat()
}

/// An EBML element with an eight-byte size.
fn element(id: &[u8], payload: &[u8]) -> Vec<u8> {
    let size = (payload.len() as u64) | (1 << 56);
    [id, &size.to_be_bytes()[..], payload].concat()
}

fn uint(id: &[u8], value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    element(id, &bytes[first..])
}
