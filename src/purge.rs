//! The purge: removes uploads whose expiration has passed.
//!
//! A pass deletes expired uploads in small batches, each batch on the blocking pool, so that
//! uploads keep flowing while a large backlog is cleared. The timer task runs one pass at
//! start-up and then one every `purge_interval`; a failed pass is logged and the loop goes on.
//! Expired uploads already answer 404 before the purge reaches them (the serving code checks
//! the expiry), so the interval only bounds how long their files use disk space.

use std::sync::Arc;

use tokio::sync::watch;

use crate::db::{unix_now, uploads};
use crate::telemetry::error_chain;
use crate::upload::{self, Services, UploadError};

/// Uploads removed per batch.
const BATCH: u32 = 100;

/// Runs one pass; returns how many uploads were removed. Blocks.
///
/// An upload that cannot be removed is logged and skipped, so one bad row does not keep the
/// others on disk; a batch in which nothing could be removed ends the pass, since the next
/// query would return the same rows.
pub fn purge_expired(services: &Services) -> Result<usize, UploadError> {
    let mut removed = 0;
    loop {
        let now = unix_now();
        let batch = services
            .db
            .with_conn(|conn| uploads::expired(conn, now, BATCH))?;
        let mut removed_here = 0;
        for record in &batch {
            match upload::remove(services, record) {
                Ok(true) => {
                    tracing::info!(id = record.id, "purged an expired upload");
                    removed_here += 1
                }
                Ok(false) => {}
                Err(err) => tracing::warn!(
                    id = record.id,
                    error = %error_chain(&err),
                    "could not purge an expired upload"
                ),
            }
        }
        removed += removed_here;
        if batch.len() < BATCH as usize || removed_here == 0 {
            return Ok(removed);
        }
    }
}

/// The timer task: a pass now, then one per interval, until `shutdown` turns true.
pub async fn run(services: Arc<Services>, mut shutdown: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(services.config.purge_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => run_pass(&services).await,
            _ = shutdown.changed() => return,
        }
    }
}

async fn run_pass(services: &Arc<Services>) {
    let services = Arc::clone(services);
    let result = {
        let services = Arc::clone(&services);
        tokio::task::spawn_blocking(move || purge_expired(&services)).await
    };
    let removed = match &result {
        Ok(Ok(removed)) => *removed,
        _ => 0,
    };
    services.metrics.count_purge(removed);
    match result {
        Ok(Ok(0)) => tracing::debug!("purge pass found nothing expired"),
        Ok(Ok(removed)) => tracing::info!(removed, "purge pass done"),
        Ok(Err(err)) => tracing::warn!(error = %error_chain(&err), "purge pass failed"),
        Err(err) => tracing::error!(error = %err, "purge pass panicked"),
    }
}
