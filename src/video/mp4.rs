//! MP4 and QuickTime: size, rotation and length from the `moov` box, read with Mozilla's
//! `mp4parse` (the parser Firefox uses on every MP4 on the web).

use std::io::Cursor;
use std::time::Duration;

use mp4parse::{MediaContext, SampleEntry, Track, TrackType};

use super::{VideoError, VideoInfo};

/// Reads the first enabled video track. Every top-level box must parse, so a `ftyp` header
/// followed by anything but boxes is refused, and so is a file cut off inside a box.
pub(super) fn probe(bytes: &[u8]) -> Result<VideoInfo, VideoError> {
    let context = mp4parse::read_mp4(&mut Cursor::new(bytes)).map_err(|err| {
        tracing::debug!(error = %err, "an MP4 does not parse");
        VideoError::Damaged("its MP4 boxes do not parse".into())
    })?;
    let track = context
        .tracks
        .iter()
        .find(|track| track.track_type == TrackType::Video && !is_disabled(track))
        .ok_or(VideoError::Unsupported("the file has no video track"))?;
    check_samples(&context, track, bytes.len())?;

    let (width, height) = frame_size(track)
        .ok_or_else(|| VideoError::Damaged("the video track has no frame size".into()))?;
    let (width, height) = if is_quarter_turn(track) {
        (height, width)
    } else {
        (width, height)
    };
    Ok(VideoInfo {
        width,
        height,
        duration: duration(&context, track),
    })
}

fn is_disabled(track: &Track) -> bool {
    track.tkhd.as_ref().is_some_and(|tkhd| tkhd.disabled)
}

/// A plain file must have samples, all inside the file; a fragmented one (`mvex`) keeps them
/// in fragments after the `moov`, which the whole-file parse has already walked.
fn check_samples(context: &MediaContext, track: &Track, file_len: usize) -> Result<(), VideoError> {
    if context.mvex.is_some() {
        return Ok(());
    }
    let has_samples = track
        .stsz
        .as_ref()
        .is_some_and(|stsz| stsz.sample_size > 0 || !stsz.sample_sizes.is_empty());
    let offsets = track.stco.as_ref().map(|stco| &stco.offsets[..]);
    let Some(offsets) = offsets.filter(|offsets| has_samples && !offsets.is_empty()) else {
        return Err(VideoError::Damaged("the video track has no frames".into()));
    };
    if offsets.iter().any(|&offset| offset >= file_len as u64) {
        return Err(VideoError::Damaged(
            "the video's frames lie past the end of the file".into(),
        ));
    }
    Ok(())
}

/// The coded size from the sample description, else the track header's presentation size
/// (for codecs `mp4parse` does not describe, such as HEVC).
fn frame_size(track: &Track) -> Option<(u32, u32)> {
    let described = track.stsd.as_ref().and_then(|stsd| {
        stsd.descriptions.iter().find_map(|entry| match entry {
            SampleEntry::Video(video) => Some((u32::from(video.width), u32::from(video.height))),
            _ => None,
        })
    });
    // The track header stores 16.16 fixed point.
    let from_header = track
        .tkhd
        .as_ref()
        .map(|tkhd| (tkhd.width >> 16, tkhd.height >> 16));
    [described, from_header]
        .into_iter()
        .flatten()
        .find(|&(width, height)| width > 0 && height > 0)
}

/// Phones record sideways and store a 90° or 270° turn in the track's matrix, which players
/// (and ffmpeg) apply; the displayed width is then the stored height.
fn is_quarter_turn(track: &Track) -> bool {
    track.tkhd.as_ref().is_some_and(|tkhd| {
        let matrix = &tkhd.matrix;
        matrix.a == 0 && matrix.d == 0 && matrix.b != 0 && matrix.c != 0
    })
}

/// The track's length: the edit list's, else the track header's, else the media's, else the
/// fragments' declared total. Zero when none is known.
fn duration(context: &MediaContext, track: &Track) -> Duration {
    let movie_scale = context.timescale.map(|scale| scale.0);
    let candidates = [
        track.edited_duration.map(|d| d.0).zip(movie_scale),
        track
            .tkhd
            .as_ref()
            .map(|tkhd| tkhd.duration)
            .zip(movie_scale),
        track
            .duration
            .map(|d| d.0)
            .zip(track.timescale.map(|s| s.0)),
        context
            .mvex
            .as_ref()
            .and_then(|mvex| mvex.fragment_duration)
            .map(|d| d.0)
            .zip(movie_scale),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|(units, scale)| scaled(units, scale))
        .unwrap_or_default()
}

/// `units / scale` seconds; `None` for zero, for a zero scale, and for the all-ones value that
/// means "unknown".
fn scaled(units: u64, scale: u64) -> Option<Duration> {
    if units == 0 || scale == 0 || units == u64::from(u32::MAX) || units == u64::MAX {
        return None;
    }
    let millis = u128::from(units) * 1000 / u128::from(scale);
    Some(Duration::from_millis(
        u64::try_from(millis).unwrap_or(u64::MAX),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{tiny_mp4, Mp4Spec};
    use super::*;

    #[test]
    fn a_tiny_mp4_gives_its_size_and_length() {
        let bytes = tiny_mp4(&Mp4Spec::default());

        let info = probe(&bytes).expect("the tiny MP4 parses");

        assert_eq!((info.width, info.height), (64, 48));
        assert_eq!(info.duration, Duration::from_millis(2_500));
    }

    #[test]
    fn a_quarter_turn_swaps_the_displayed_width_and_height() {
        let bytes = tiny_mp4(&Mp4Spec {
            is_rotated: true,
            ..Mp4Spec::default()
        });

        let info = probe(&bytes).expect("the rotated MP4 parses");

        assert_eq!((info.width, info.height), (48, 64));
    }

    #[test]
    fn an_mp4_header_followed_by_garbage_is_damaged() {
        // The 24-byte `ftyp` box, then noise.
        let mut bytes = tiny_mp4(&Mp4Spec::default())[..24].to_vec();
        bytes.extend((0..2048u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));

        assert!(matches!(probe(&bytes), Err(VideoError::Damaged(_))));
    }

    #[test]
    fn an_mp4_cut_short_is_damaged() {
        let bytes = tiny_mp4(&Mp4Spec::default());

        let cut = &bytes[..bytes.len() - 10];

        assert!(matches!(probe(cut), Err(VideoError::Damaged(_))));
    }

    #[test]
    fn an_mp4_whose_frames_point_past_its_end_is_damaged() {
        let bytes = tiny_mp4(&Mp4Spec {
            chunk_offset: Some(1 << 30),
            ..Mp4Spec::default()
        });

        assert!(matches!(probe(&bytes), Err(VideoError::Damaged(_))));
    }

    #[test]
    fn an_mp4_without_a_video_track_is_unsupported() {
        let bytes = tiny_mp4(&Mp4Spec {
            handler: *b"meta",
            ..Mp4Spec::default()
        });

        assert!(matches!(probe(&bytes), Err(VideoError::Unsupported(_))));
    }

    #[test]
    fn all_ones_means_an_unknown_length() {
        assert_eq!(scaled(u64::from(u32::MAX), 1000), None);
        assert_eq!(scaled(1500, 1000), Some(Duration::from_millis(1500)));
        assert_eq!(scaled(10, 0), None);
    }
}
