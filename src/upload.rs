//! The upload service: from validated input to files on disk and a committed row.
//!
//! This is the one path every upload takes, whatever its source (file part, base64, URL) and
//! whoever sends it. It blocks (image and video work, disk, SQLite) and runs on the blocking
//! pool. The order is what keeps a failed upload from leaving anything behind:
//!
//! 1. check references and the duplicate policy, and process the image or video in memory;
//! 2. claim room against the disk reserve;
//! 3. [`Storage::store`]: write and fsync every file in `tmp/`, fsync a placement note and
//!    `tmp/`, rename the files into the day's folder without replacing anything, fsync that
//!    folder (the storage module documents each step);
//! 4. insert the row in one `IMMEDIATE` transaction and commit it (durable on return, with
//!    `synchronous = FULL`);
//! 5. only then [`StoredSet::commit`](crate::storage::StoredSet::commit) keeps the files.
//!
//! A failure at any step before 5 drops the stored set, which removes its files, so the
//! client's error leaves no file and no row; a crash in steps 3 to 5 is undone at the next
//! start. The answer goes out only after step 5.

use chrono::{DateTime, Local, NaiveDateTime, TimeZone, Utc};
use md5::{Digest, Md5};
use rand::RngCore;
use rusqlite::TransactionBehavior;
use sha2::Sha256;

use crate::config::{Config, DuplicatePolicy};
use crate::db::uploads::{self, UploadRecord};
use crate::db::users::{Role, UserRecord};
use crate::db::{Db, DbError};
use crate::disk::{Claim, Claims, DiskStatus};
use crate::domain::expiration::Expiration;
use crate::domain::filename;
use crate::domain::id_codec::IdCodec;
use crate::imaging::{ImagingError, Metadata};
use crate::metrics::Metrics;
use crate::storage::{Storage, StorageError};
use crate::telemetry::error_chain;
use crate::video::{FrameSource, VideoError};

mod prepared;

use prepared::{prepare, PreparedFile, VideoPart};

/// How far back the duplicate check looks, as Chevereto does.
const DUPLICATE_WINDOW_SECS: i64 = 24 * 60 * 60;
/// Format of Chevereto's `date` and `date_gmt` fields.
pub const DATE_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Everything the upload path needs, shared by all requests.
pub struct Services {
    pub config: Config,
    pub db: Db,
    pub storage: Storage,
    /// Public upload ids: the configured salt and padding.
    pub ids: IdCodec,
    /// API key ids: this install's own salt and a fixed padding, so that changing the id
    /// settings to carry over old URLs leaves every key working.
    pub key_ids: IdCodec,
    /// Where video poster frames come from.
    pub frames: FrameSource,
    /// What the server counts for `/metrics`.
    pub metrics: Metrics,
    /// Room claimed by uploads being written, for the disk reserve.
    pub disk_claims: Claims,
}

impl Services {
    /// Free space on the data directory's volume against the configured reserve.
    pub fn disk_status(&self) -> std::io::Result<DiskStatus> {
        DiskStatus::of(self.storage.root(), self.config.disk_reserve)
    }

    /// Claims room for `bytes` more, or refuses when writing them (beside the uploads being
    /// written now) would leave less than the reserve free. Hold the claim until the files are
    /// on disk.
    pub fn claim_room_for(&self, bytes: u64) -> Result<Claim<'_>, UploadError> {
        let claimed = self
            .disk_claims
            .claim(self.storage.root(), self.config.disk_reserve, bytes)
            .map_err(UploadError::DiskSpace)?;
        let status = match claimed {
            Ok(claim) => return Ok(claim),
            Err(status) => status,
        };
        tracing::warn!(
            bytes,
            free_bytes = status.space.available_bytes,
            reserve_bytes = status.reserve_bytes,
            "refused an upload: it would leave less free space than the reserve"
        );
        Err(UploadError::BelowReserve)
    }
}

/// What a client asked for besides the bytes, already validated.
#[derive(Debug, Default, Clone)]
pub struct UploadOptions {
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub album_id: Option<i64>,
    pub category_id: Option<i64>,
    pub width: Option<u32>,
    pub expiration: Option<Expiration>,
    pub is_nsfw: bool,
    pub use_file_date: bool,
}

/// One upload to store.
pub struct UploadInput {
    pub bytes: Vec<u8>,
    pub client_file_name: Option<String>,
    pub options: UploadOptions,
    pub owner: UserRecord,
    pub uploader_ip: Option<String>,
}

/// A stored upload and the secret of its delete link (shown once, stored hashed).
pub struct Uploaded {
    pub record: UploadRecord,
    pub delete_secret: String,
}

/// Why an upload was not stored.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("empty upload source")]
    Empty,
    #[error(transparent)]
    Imaging(#[from] ImagingError),
    #[error(transparent)]
    Video(#[from] VideoError),
    #[error("duplicated upload")]
    Duplicate,
    #[error("album not found, or not yours")]
    AlbumNotOwned,
    #[error("category {0} does not exist")]
    UnknownCategory(i64),
    #[error("could not store the files")]
    Storage(#[from] StorageError),
    #[error("could not record the upload")]
    Db(#[from] DbError),
    #[error("storing it would leave less free disk space than the reserve")]
    BelowReserve,
    #[error("could not read the free disk space")]
    DiskSpace(#[source] std::io::Error),
}

impl From<rusqlite::Error> for UploadError {
    fn from(err: rusqlite::Error) -> Self {
        UploadError::Db(err.into())
    }
}

/// Stores one upload. Blocks.
///
/// `processed` runs once the image work is over, before the files are written and synced (it
/// is dropped uncalled when the upload is refused earlier): callers that bound the number of
/// concurrent image jobs free their slot there, so the next job's decoding overlaps this
/// one's waits on the disk.
pub fn store(
    services: &Services,
    input: UploadInput,
    processed: impl FnOnce(),
) -> Result<Uploaded, UploadError> {
    if input.bytes.is_empty() {
        return Err(UploadError::Empty);
    }
    check_references(services, &input)?;
    // Only the duplicate check needs the hash before the image work; otherwise the image
    // pipeline takes it on its second thread.
    let early_md5 = match services.config.duplicate_policy {
        DuplicatePolicy::Reject => {
            let md5 = hex::encode(Md5::digest(&input.bytes));
            reject_duplicate(services, &md5, input.uploader_ip.as_deref(), None)?;
            Some(md5)
        }
        DuplicatePolicy::Allow => None,
    };

    let UploadInput {
        bytes,
        client_file_name,
        options,
        owner,
        uploader_ip,
    } = input;
    let prepared = prepare(services, bytes, early_md5, &options);
    processed();
    let prepared = prepared?;
    let now = Utc::now();
    let fallback_stem = if prepared.video.is_some() {
        "video"
    } else {
        "image"
    };
    let stem = filename::sanitize_stem(client_file_name.as_deref().unwrap_or(fallback_stem));
    let files = prepared.files_to_store();
    let total_bytes = files.iter().map(|file| file.bytes.len() as u64).sum();
    let _room = services.claim_room_for(total_bytes)?;
    let stored = services.storage.store(now.date_naive(), &stem, &files)?;

    let delete_secret = new_delete_secret();
    let mut record = UploadRecord {
        id: 0,
        user_id: Some(owner.id),
        album_id: options.album_id,
        category_id: options.category_id,
        storage_dir: stored.dir.clone(),
        name: stored.name.clone(),
        extension: prepared.original.extension.to_string(),
        mime: prepared.mime.to_string(),
        size: prepared.original.bytes.len() as u64,
        width: prepared.original.width,
        height: prepared.original.height,
        thumb: prepared.thumb.record(),
        medium: prepared.medium.as_ref().map(PreparedFile::record),
        video: prepared.video.as_ref().map(VideoPart::record),
        title: pick_title(&options, client_file_name.as_deref(), &prepared.metadata),
        original_filename: client_file_name.unwrap_or_default(),
        description: options
            .description
            .clone()
            .or(prepared.metadata.description.clone()),
        tags: options.tags.clone(),
        is_nsfw: options.is_nsfw,
        md5: prepared.md5.clone(),
        source_md5: prepared.source_md5.clone(),
        exif_json: prepared.metadata.exif_json.clone(),
        is_animated: prepared.is_animated,
        is_360: prepared.metadata.is_360,
        date_local: String::new(),
        date_gmt: String::new(),
        created_at: now.timestamp(),
        expires_at: options
            .expiration
            .map(|exp| exp.expires_at(now).timestamp()),
        delete_hash: hash_delete_secret(&delete_secret),
        uploader_ip,
        views: 0,
        likes: 0,
    };
    let wants_file_date = options.use_file_date && owner.role == Role::Admin;
    let shown_date = shown_date(wants_file_date, &prepared.metadata, now);
    record.date_local = shown_date
        .with_timezone(&Local)
        .format(DATE_FORMAT)
        .to_string();
    record.date_gmt = shown_date.format(DATE_FORMAT).to_string();

    record.id = insert_row(services, &record)?;
    stored.commit();
    tracing::info!(id = record.id, size = record.size, mime = %record.mime, "stored upload");
    Ok(Uploaded {
        record,
        delete_secret,
    })
}

fn check_references(services: &Services, input: &UploadInput) -> Result<(), UploadError> {
    let (album_id, category_id) = (input.options.album_id, input.options.category_id);
    if album_id.is_none() && category_id.is_none() {
        return Ok(());
    }
    services.db.with_conn(|conn| {
        if let Some(album_id) = album_id {
            if !uploads::album_belongs_to(conn, album_id, input.owner.id)? {
                return Ok(Err(UploadError::AlbumNotOwned));
            }
        }
        if let Some(category_id) = category_id {
            if !uploads::category_exists(conn, category_id)? {
                return Ok(Err(UploadError::UnknownCategory(category_id)));
            }
        }
        Ok(Ok(()))
    })?
}

/// Refuses the upload when the duplicate policy says so. Runs once before the image work (to
/// save it) and again inside the insert transaction (so two concurrent copies cannot both win).
fn reject_duplicate(
    services: &Services,
    source_md5: &str,
    ip: Option<&str>,
    conn: Option<&rusqlite::Connection>,
) -> Result<(), UploadError> {
    let (DuplicatePolicy::Reject, Some(ip)) = (services.config.duplicate_policy, ip) else {
        return Ok(());
    };
    let since = Utc::now().timestamp() - DUPLICATE_WINDOW_SECS;
    let is_duplicate = match conn {
        Some(conn) => uploads::has_recent_duplicate(conn, source_md5, ip, since)?,
        None => services
            .db
            .with_conn(|conn| uploads::has_recent_duplicate(conn, source_md5, ip, since))?,
    };
    if is_duplicate {
        return Err(UploadError::Duplicate);
    }
    Ok(())
}

fn insert_row(services: &Services, record: &UploadRecord) -> Result<i64, UploadError> {
    services.db.with_conn(|conn| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Err(err) = reject_duplicate(
            services,
            &record.source_md5,
            record.uploader_ip.as_deref(),
            Some(&tx),
        ) {
            return Ok(Err(err));
        }
        let id = uploads::insert(&tx, record)?;
        tx.commit()?;
        Ok(Ok(id))
    })?
}

fn pick_title(
    options: &UploadOptions,
    client_file_name: Option<&str>,
    metadata: &Metadata,
) -> Option<String> {
    let from_name = || client_file_name.and_then(filename::title_from_filename);
    options
        .title
        .clone()
        .or_else(|| metadata.title.clone())
        .or_else(from_name)
}

/// The upload's shown date: now, or for admins who ask, when the photo was taken. A taken
/// time without a UTC offset is read as the server's local time.
fn shown_date(wants_file_date: bool, metadata: &Metadata, now: DateTime<Utc>) -> DateTime<Utc> {
    let taken = metadata.date_taken.as_ref().filter(|_| wants_file_date);
    let Some(taken) = taken else {
        return now;
    };
    let utc = match taken.offset {
        Some(offset) => offset
            .from_local_datetime(&taken.local)
            .single()
            .map(|t| t.to_utc()),
        None => local_to_utc(&taken.local),
    };
    utc.unwrap_or(now)
}

fn local_to_utc(local: &NaiveDateTime) -> Option<DateTime<Utc>> {
    Local
        .from_local_datetime(local)
        .earliest()
        .map(|t| t.to_utc())
}

/// 48 hex characters, as in Chevereto's delete links.
fn new_delete_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The stored form of a delete secret.
pub fn hash_delete_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Removes an upload: the row first, so its URLs stop working at once, then its files.
/// Returns false when the row was already gone.
///
/// Once the row is gone the upload is deleted for every client, so a file that cannot be
/// removed is logged rather than failing the deletion.
// Limitation: such a file stays on disk, unreachable, until an operator removes it.
pub fn remove(services: &Services, record: &UploadRecord) -> Result<bool, UploadError> {
    let existed = services
        .db
        .with_conn(|conn| uploads::delete(conn, record.id))?;
    if let Err(err) = services
        .storage
        .remove(&record.storage_dir, &record.file_names())
    {
        tracing::warn!(
            id = record.id,
            error = %error_chain(&err),
            "deleted upload left files behind"
        );
    }
    Ok(existed)
}
