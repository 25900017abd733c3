//! WebM: size and length from the segment's Info and Tracks, read with `matroska-demuxer`,
//! which checks every declared element size against the bytes there are.

use std::io::Cursor;
use std::time::Duration;

use matroska_demuxer::{DemuxError, Frame, MatroskaFile, TrackType};

use super::{VideoError, VideoInfo};

/// Reads the first video track, then walks every frame: the walk proves the clusters hold
/// blocks rather than garbage, and gives the length when the header leaves it out (browsers
/// recording with MediaRecorder write no Duration).
pub(super) fn probe(bytes: &[u8]) -> Result<VideoInfo, VideoError> {
    let mut file = MatroskaFile::open(Cursor::new(bytes)).map_err(damaged)?;
    if file.ebml_header().doc_type() != "webm" {
        return Err(VideoError::Unsupported(
            "only WebM is accepted of the Matroska family",
        ));
    }
    let track = file
        .tracks()
        .iter()
        .find(|track| track.track_type() == TrackType::Video)
        .ok_or(VideoError::Unsupported("the file has no video track"))?;
    let number = track.track_number().get();
    let video = track
        .video()
        .ok_or_else(|| VideoError::Damaged("the video track has no frame size".into()))?;
    let (width, height) = (pixels(video.pixel_width())?, pixels(video.pixel_height())?);

    let tick_ns = file.info().timestamp_scale().get();
    let declared = file
        .info()
        .duration()
        .and_then(|ticks| seconds_f64(ticks, tick_ns));
    let last_end_ticks = last_frame_end(&mut file, number)?;
    let duration = declared.unwrap_or_else(|| ticks_to_duration(last_end_ticks, tick_ns));
    Ok(VideoInfo {
        width,
        height,
        duration,
    })
}

fn damaged(err: DemuxError) -> VideoError {
    tracing::debug!(error = %err, "a WebM does not parse");
    VideoError::Damaged("its WebM elements do not parse".into())
}

fn pixels(value: std::num::NonZeroU64) -> Result<u32, VideoError> {
    u32::try_from(value.get())
        .map_err(|_| VideoError::Damaged(format!("a frame side of {value} pixels")))
}

/// The end of the video track's last frame, in ticks; refuses a track without frames.
fn last_frame_end(file: &mut MatroskaFile<Cursor<&[u8]>>, track: u64) -> Result<u64, VideoError> {
    let mut frame = Frame::default();
    let mut frames = 0u64;
    let mut end = 0u64;
    while file.next_frame(&mut frame).map_err(damaged)? {
        if frame.track != track {
            continue;
        }
        frames += 1;
        end = end.max(frame.timestamp.saturating_add(frame.duration.unwrap_or(0)));
    }
    if frames == 0 {
        return Err(VideoError::Damaged("the video track has no frames".into()));
    }
    Ok(end)
}

/// A Duration element (a float count of ticks) as a duration; `None` when it is zero or not
/// a finite number.
fn seconds_f64(ticks: f64, tick_ns: u64) -> Option<Duration> {
    Duration::try_from_secs_f64(ticks * tick_ns as f64 / 1e9)
        .ok()
        .filter(|duration| !duration.is_zero())
}

fn ticks_to_duration(ticks: u64, tick_ns: u64) -> Duration {
    let nanos = u128::from(ticks) * u128::from(tick_ns);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{tiny_webm, WebmSpec};
    use super::*;

    #[test]
    fn a_tiny_webm_gives_its_size_and_declared_length() {
        let bytes = tiny_webm(&WebmSpec::default());

        let info = probe(&bytes).expect("the tiny WebM parses");

        assert_eq!((info.width, info.height), (64, 48));
        assert_eq!(info.duration, Duration::from_millis(2_500));
    }

    #[test]
    fn without_a_declared_length_the_last_frame_gives_it() {
        let bytes = tiny_webm(&WebmSpec {
            duration_ms: None,
            ..WebmSpec::default()
        });

        let info = probe(&bytes).expect("the WebM parses");

        assert_eq!(info.duration, Duration::from_millis(2_000));
    }

    #[test]
    fn matroska_that_is_not_webm_is_unsupported() {
        let bytes = tiny_webm(&WebmSpec {
            doc_type: "matroska",
            ..WebmSpec::default()
        });

        assert!(matches!(probe(&bytes), Err(VideoError::Unsupported(_))));
    }

    #[test]
    fn a_webm_header_followed_by_garbage_is_damaged() {
        let webm = tiny_webm(&WebmSpec::default());
        let segment = webm
            .windows(4)
            .position(|id| id == [0x18, 0x53, 0x80, 0x67])
            .expect("a segment");
        let mut bytes = webm[..segment].to_vec();
        bytes.extend((0..2048u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));

        assert!(matches!(probe(&bytes), Err(VideoError::Damaged(_))));
    }

    #[test]
    fn a_webm_without_frames_is_damaged() {
        let bytes = tiny_webm(&WebmSpec {
            frame_times_ms: vec![],
            ..WebmSpec::default()
        });

        assert!(matches!(probe(&bytes), Err(VideoError::Damaged(_))));
    }
}
