//! Telling systemd how the server is doing, for `Type=notify` units: ready once the listener is
//! bound, stopping on shutdown, and a watchdog ping while the runtime keeps running.
//!
//! Without `NOTIFY_SOCKET` in the environment (outside systemd, in tests) every call does
//! nothing. A failed notification is logged and otherwise ignored: systemd then restarts or
//! times out the service, which is the right outcome when it cannot hear from us.

use std::time::Duration;

use sd_notify::NotifyState;
use tokio::sync::watch;

/// Tells systemd the server accepts connections.
pub fn notify_ready() {
    send(&[NotifyState::Ready], "ready");
}

/// Tells systemd the server is shutting down.
pub fn notify_stopping() {
    send(&[NotifyState::Stopping], "stopping");
}

/// The watchdog interval systemd asked for (`WatchdogSec=`), when it asked for one.
pub fn watchdog_interval() -> Option<Duration> {
    let mut usec = 0;
    sd_notify::watchdog_enabled(false, &mut usec).then(|| Duration::from_micros(usec))
}

/// Pings the watchdog at half of `interval` until `shutdown` turns true.
// Limitation: the ping shows that the async runtime runs, not that every HTTP worker answers.
pub async fn run_watchdog(interval: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(interval / 2);
    loop {
        tokio::select! {
            _ = ticker.tick() => send(&[NotifyState::Watchdog], "watchdog"),
            _ = shutdown.changed() => return,
        }
    }
}

fn send(state: &[NotifyState<'_>], what: &str) {
    if let Err(err) = sd_notify::notify(false, state) {
        tracing::warn!(error = %err, "could not send the {what} notification to systemd");
    }
}
