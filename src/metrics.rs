//! What the server counts for `GET /metrics`, in the Prometheus text format.
//!
//! Counters and the processing-time histogram are updated as uploads and purges happen; the
//! gauges (bytes stored, free space, the reserve) are read fresh when the page is asked for.
//! Everything is kept in memory, so counters start again at zero when the server restarts, as
//! Prometheus expects of counters.

use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How an upload request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadResult {
    /// Stored and answered 200.
    Stored,
    /// Refused for something the client can change (a 4xx answer).
    Refused,
    /// Failed on the server's side (a 5xx answer, the disk reserve included).
    Failed,
}

/// What an upload was, as far as it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    Image,
    Video,
    /// Refused before its type was known.
    Unknown,
}

type UploadLabels = [(&'static str, &'static str); 2];

/// The server's counters, shared by every request and the purge task.
pub struct Metrics {
    registry: Registry,
    uploads: Family<UploadLabels, Counter>,
    upload_seconds: Histogram,
    purge_runs: Counter,
    purged_uploads: Counter,
    stored_bytes: Gauge,
    disk_free_bytes: Gauge,
    disk_reserve_bytes: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, registered under the `sajin_` prefix.
    pub fn new() -> Self {
        let mut metrics = Self {
            registry: Registry::with_prefix("sajin"),
            uploads: Family::default(),
            // 10 ms to about 40 s: a thumbnail of a small PNG up to a large photo on a Pi.
            upload_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 13)),
            purge_runs: Counter::default(),
            purged_uploads: Counter::default(),
            stored_bytes: Gauge::default(),
            disk_free_bytes: Gauge::default(),
            disk_reserve_bytes: Gauge::default(),
        };
        metrics.register();
        metrics
    }

    fn register(&mut self) {
        let registry = &mut self.registry;
        registry.register(
            "uploads",
            "Upload requests by result (stored, refused, failed) and type",
            self.uploads.clone(),
        );
        registry.register_with_unit(
            "upload_processing",
            "Time spent storing an accepted upload: image or video work, files, database",
            Unit::Seconds,
            self.upload_seconds.clone(),
        );
        registry.register(
            "purge_runs",
            "Purge passes run, failed ones included",
            self.purge_runs.clone(),
        );
        registry.register(
            "purged_uploads",
            "Expired uploads removed by the purge",
            self.purged_uploads.clone(),
        );
        registry.register_with_unit(
            "stored",
            "Bytes of originals and variants, as recorded in the database",
            Unit::Bytes,
            self.stored_bytes.clone(),
        );
        registry.register_with_unit(
            "disk_free",
            "Bytes free for sajin on the data directory's volume",
            Unit::Bytes,
            self.disk_free_bytes.clone(),
        );
        registry.register_with_unit(
            "disk_reserve",
            "Bytes uploads must leave free on that volume",
            Unit::Bytes,
            self.disk_reserve_bytes.clone(),
        );
    }

    /// Counts one upload request.
    pub fn count_upload(&self, result: UploadResult, kind: UploadKind) {
        let result = match result {
            UploadResult::Stored => "stored",
            UploadResult::Refused => "refused",
            UploadResult::Failed => "failed",
        };
        let kind = match kind {
            UploadKind::Image => "image",
            UploadKind::Video => "video",
            UploadKind::Unknown => "unknown",
        };
        self.uploads
            .get_or_create(&[("result", result), ("type", kind)])
            .inc();
    }

    /// Records how long storing an accepted upload took.
    pub fn observe_processing(&self, took: Duration) {
        self.upload_seconds.observe(took.as_secs_f64());
    }

    /// Counts one purge pass and what it removed.
    pub fn count_purge(&self, removed: usize) {
        self.purge_runs.inc();
        self.purged_uploads.inc_by(removed as u64);
    }

    /// The page, with the gauges set to the given readings.
    pub fn render(&self, readings: &Readings) -> String {
        let as_gauge = |bytes: u64| i64::try_from(bytes).unwrap_or(i64::MAX);
        self.stored_bytes.set(as_gauge(readings.stored_bytes));
        self.disk_free_bytes.set(as_gauge(readings.disk_free_bytes));
        self.disk_reserve_bytes
            .set(as_gauge(readings.disk_reserve_bytes));
        let mut page = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut page, &self.registry);
        page
    }
}

/// Values read at the moment the page is asked for.
#[derive(Debug, Clone, Copy, Default)]
pub struct Readings {
    pub stored_bytes: u64,
    pub disk_free_bytes: u64,
    pub disk_reserve_bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_uploads_and_purges_show_on_the_page() {
        let metrics = Metrics::new();
        metrics.count_upload(UploadResult::Stored, UploadKind::Image);
        metrics.count_upload(UploadResult::Stored, UploadKind::Image);
        metrics.count_upload(UploadResult::Refused, UploadKind::Unknown);
        metrics.observe_processing(Duration::from_millis(30));
        metrics.count_purge(3);

        let page = metrics.render(&Readings {
            stored_bytes: 1234,
            disk_free_bytes: 5678,
            disk_reserve_bytes: 9,
        });

        for line in [
            "sajin_uploads_total{result=\"stored\",type=\"image\"} 2",
            "sajin_uploads_total{result=\"refused\",type=\"unknown\"} 1",
            "sajin_upload_processing_seconds_count 1",
            "sajin_purge_runs_total 1",
            "sajin_purged_uploads_total 3",
            "sajin_stored_bytes 1234",
            "sajin_disk_free_bytes 5678",
            "sajin_disk_reserve_bytes 9",
        ] {
            assert!(page.lines().any(|l| l == line), "{line} not in:\n{page}");
        }
        assert!(page.ends_with("# EOF\n"), "{page}");
    }
}
