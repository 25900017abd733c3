//! Building the server: open storage and database, bind the listener, wire the routes, and
//! run the HTTP server beside the purge task until a shutdown signal.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::Compress;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use rand::distributions::{Alphanumeric, DistString};
use tokio::sync::{watch, Semaphore};
use tracing_actix_web::TracingLogger;

use crate::telemetry::RequestLog;

use crate::auth::{self, FirstAdmin};
use crate::config::Config;
use crate::data_lock::DataDirLock;
use crate::db::{meta, uploads, Db};
use crate::disk::Claims;
use crate::domain::id_codec::IdCodec;
use crate::fetch::{FetchPolicy, Fetcher};
use crate::metrics::Metrics;
use crate::routes::i18n::Catalogs;
use crate::storage::{LookupError, Recovered, Storage, TMP_DIR};
use crate::upload::Services;
use crate::video::FrameSource;
use crate::{purge, routes, systemd};

/// Redirects a URL source may take.
const MAX_REDIRECTS: usize = 5;
/// Padding of encoded API key ids; fixed, since keys already handed out must keep decoding.
const KEY_ID_PADDING: u64 = 999;
/// Seconds in-flight requests get to finish after a shutdown signal.
const SHUTDOWN_GRACE_SECS: u64 = 30;
/// Blocking threads each HTTP worker may start (actix-web's default is hundreds). Image work
/// is bounded separately by `AppState::image_permits`; the rest (key checks, file syncs,
/// database commits) waits on the disk, and a queue of it costs less memory than threads.
const BLOCKING_THREADS_PER_WORKER: usize = 8;

/// State every handler shares.
pub struct AppState {
    pub services: Arc<Services>,
    pub fetcher: Fetcher,
    /// Caps concurrent image processing at one job per CPU.
    pub image_permits: Arc<Semaphore>,
    /// The page languages.
    pub catalogs: Catalogs,
}

/// A built server, bound and ready to run.
pub struct Application {
    port: u16,
    server: Server,
    services: Arc<Services>,
    /// Held while the server runs, so no second server or restore takes the data directory.
    lock: DataDirLock,
}

impl Application {
    /// Opens the data directory, binds `config.listen` and builds the server.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("could not create the data directory {:?}", config.data_dir)
        })?;
        let lock = DataDirLock::acquire(&config.data_dir)?;
        let services = Arc::new(open_services(config)?);
        announce_frames(&services);
        recover_interrupted(&services)?;
        let listener = TcpListener::bind(services.config.listen)
            .with_context(|| format!("could not listen on {}", services.config.listen))?;
        let port = listener
            .local_addr()
            .context("reading the bound address")?
            .port();
        let state = web::Data::new(AppState {
            services: Arc::clone(&services),
            fetcher: Fetcher::new(fetch_policy(&services.config))
                .context("building the URL fetcher")?,
            image_permits: Arc::new(Semaphore::new(cpu_count())),
            catalogs: Catalogs::load().context("reading the page languages")?,
        });
        let server = http_server(state, &services.config, listener)?;
        tracing::info!(address = %services.config.listen, port, "listening");
        Ok(Self {
            port,
            server,
            services,
            lock,
        })
    }

    /// The port the server is bound to (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The services the server runs on, for tests and tools that share the data directory.
    pub fn services(&self) -> Arc<Services> {
        Arc::clone(&self.services)
    }

    /// Runs the server and the purge task until SIGINT/SIGTERM, then stops both. In-flight
    /// requests get a grace period to finish. Under systemd it reports readiness, pings the
    /// watchdog when asked to, and says when it stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop_tasks, tasks_stopped) = watch::channel(false);
        let purge = tokio::spawn(purge::run(
            Arc::clone(&self.services),
            tasks_stopped.clone(),
        ));
        // Ready goes out before the watchdog task exists, so systemd hears it first.
        systemd::notify_ready();
        let watchdog = systemd::watchdog_interval()
            .map(|interval| tokio::spawn(systemd::run_watchdog(interval, tasks_stopped)));
        let result = self.server.await;
        systemd::notify_stopping();
        let _ = stop_tasks.send(true);
        let _ = purge.await;
        if let Some(watchdog) = watchdog {
            let _ = watchdog.await;
        }
        tracing::info!("stopped");
        drop(self.lock);
        result
    }
}

/// Opens storage and database and loads the install's id salt. Creates the first admin on an
/// empty database, printing its credentials once.
pub fn open_services(config: Config) -> anyhow::Result<Services> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("could not create the data directory {:?}", config.data_dir))?;
    let storage = Storage::open(&config.data_dir).context("opening the image folder")?;
    let db = Db::open(&config.data_dir).context("opening the database")?;
    let salt = db
        .with_conn(|conn| {
            meta::get_or_insert(conn, "id_salt", || {
                Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
            })
        })
        .context("loading the id salt")?;
    let ids = IdCodec::new(
        config.id_salt.as_deref().unwrap_or(&salt),
        config.id_padding,
    );
    let key_ids = IdCodec::new(&salt, KEY_ID_PADDING);
    let first_admin = db
        .with_conn(|conn| Ok(auth::ensure_first_admin(conn, &key_ids)))
        .context("creating the first admin")?
        .context("creating the first admin")?;
    if let Some(admin) = first_admin {
        announce_first_admin(&admin);
    }
    let frames = FrameSource::probe(&config.ffmpeg_path, &storage.root().join(TMP_DIR));
    Ok(Services {
        config,
        db,
        storage,
        ids,
        key_ids,
        frames,
        metrics: Metrics::new(),
        disk_claims: Claims::default(),
    })
}

/// Removes what uploads cut short by a crash left in the image tree and in `tmp/`.
fn recover_interrupted(services: &Services) -> anyhow::Result<()> {
    let is_known = |dir: &str, name: &str| {
        services
            .db
            .with_conn(|conn| uploads::get_by_file(conn, dir, name))
            .map(|row| row.is_some())
            .map_err(LookupError::from)
    };
    let recovered = services
        .storage
        .recover_interrupted(is_known)
        .context("removing leftovers of interrupted uploads")?;
    if recovered != Recovered::default() {
        tracing::info!(
            placed_files = recovered.removed_files,
            temp_files = recovered.cleared_temp_files,
            "removed leftovers of interrupted uploads"
        );
    }
    Ok(())
}

/// Says once, when the server starts, where video frames will come from.
fn announce_frames(services: &Services) {
    match services.frames.ffmpeg() {
        Some(ffmpeg) => tracing::info!(ffmpeg = %ffmpeg.display(), "video frames come from ffmpeg"),
        None => tracing::warn!(
            ffmpeg_path = %services.config.ffmpeg_path.display(),
            "ffmpeg does not run: video uploads get a gray placeholder frame (install ffmpeg \
             or set ffmpeg_path for real ones)"
        ),
    }
}

/// The one time the first admin's secrets are shown: they are not stored in clear anywhere.
fn announce_first_admin(admin: &FirstAdmin) {
    tracing::warn!(
        "created the first account: user {user:?}, one-time password {:?}, API key {} \
         (shown only now: set a new password with `sajin user passwd {user}`, make another \
         key with `sajin key create --user {user}`)",
        admin.password,
        admin.api_key,
        user = admin.username,
    );
}

fn fetch_policy(config: &Config) -> FetchPolicy {
    FetchPolicy {
        allow_private: config.allow_private_urls,
        max_bytes: config.max_upload_bytes,
        timeout: config.url_fetch_timeout,
        max_redirects: MAX_REDIRECTS,
    }
}

fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |count| count.get())
}

fn http_server(
    state: web::Data<AppState>,
    config: &Config,
    listener: TcpListener,
) -> anyhow::Result<Server> {
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(Compress::default())
            .wrap(TracingLogger::<RequestLog>::new())
            .app_data(state.clone())
            .configure(routes::configure)
    })
    .keep_alive(config.keep_alive)
    .client_request_timeout(config.client_timeout)
    .shutdown_timeout(SHUTDOWN_GRACE_SECS)
    .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    Ok(server
        .listen(listener)
        .context("starting the HTTP server")?
        .run())
}
