//! `sajin backup DEST` and `sajin restore SRC`: a consistent copy of a data directory.
//!
//! A backup is itself a data directory (`sajin.db` and `images/`), so it can be checked with
//! `sajin check --data-dir DEST` or served as it is. The database is copied first, in one step
//! of SQLite's online backup, which reads one consistent snapshot while the server goes on
//! writing (in WAL mode readers and the writer do not wait for each other). Then the files of
//! every row in that copy are copied. An upload deleted or purged between the snapshot and its
//! files' copy is dropped from the copy, so the backup holds exactly the uploads that were
//! committed when it started and are still there, each with all of its files.
//!
//! A restore builds the new data in `.restore/` inside the target folder, and only when that is
//! complete moves the old database and images aside (to `.restore-old/`), the new ones into
//! place, and removes the old ones. Stopped halfway, it leaves the old data as it was or in
//! `.restore-old/`.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::data_lock::{DataDirLock, LockError, LOCK_FILE};
use crate::db::uploads::{self, StoredFiles};
use crate::db::{DbError, DB_FILE};
use crate::storage::{IMAGES_DIR, TMP_DIR};

/// Folder, inside the target, where a restore builds the new data.
const STAGING_DIR: &str = ".restore";
/// Folder, inside the target, where a restore puts the old data until the new is in place.
const OLD_DIR: &str = ".restore-old";
/// Files that belong to a database in WAL mode.
const DB_FILES: [&str; 3] = [DB_FILE, "sajin.db-wal", "sajin.db-shm"];
/// How long the copy waits for the database when a writer holds it longer than usual.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Errors of a backup or a restore. Each says what to change.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("there is no sajin database in {0}")]
    NoDatabase(PathBuf),
    #[error("{0} exists and is not an empty folder: back up into a new folder")]
    DestinationInUse(PathBuf),
    #[error("{0} is not empty: restore into an empty folder, or add --force to replace it")]
    DataDirNotEmpty(PathBuf),
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("copying the database failed")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("could not {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> BackupError {
    let path = path.to_path_buf();
    move |source| BackupError::Io {
        action,
        path,
        source,
    }
}

/// What a backup copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupSummary {
    pub uploads: usize,
    pub files: usize,
    pub bytes: u64,
    /// Uploads in the snapshot that were deleted before their files were copied.
    pub left_out: Vec<i64>,
}

/// What a restore put in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreSummary {
    pub files: usize,
    pub bytes: u64,
}

/// Copies the data directory `data_dir` into `dest`, a new or empty folder. Works while a
/// server runs on `data_dir`. Blocks.
pub fn backup(data_dir: &Path, dest: &Path) -> Result<BackupSummary, BackupError> {
    let source_db = data_dir.join(DB_FILE);
    if !source_db.is_file() {
        return Err(BackupError::NoDatabase(data_dir.to_path_buf()));
    }
    prepare_destination(dest)?;
    let copy_db = dest.join(DB_FILE);
    copy_database(&source_db, &copy_db)?;

    let live = open(&source_db)?;
    let mut copy = open(&copy_db)?;
    let rows = uploads::all_stored_files(&copy)?;
    let mut summary = BackupSummary::default();
    let mut dirs = BTreeSet::new();
    for row in &rows {
        match copy_upload(data_dir, dest, row)? {
            Some((files, bytes)) => {
                summary.uploads += 1;
                summary.files += files;
                summary.bytes += bytes;
                dirs.insert(dest.join(&row.storage_dir));
            }
            None if uploads::stored_files(&live, row.id)?.is_none() => {
                remove_files(&dest.join(&row.storage_dir), &row.file_names);
                uploads::delete(&copy, row.id)?;
                summary.left_out.push(row.id);
            }
            None => summary.uploads += 1,
        }
    }
    finish_database(&mut copy)?;
    for dir in dirs {
        sync(&dir)?;
    }
    sync(dest)?;
    Ok(summary)
}

fn prepare_destination(dest: &Path) -> Result<(), BackupError> {
    match fs::read_dir(dest).map(|mut entries| entries.next().is_none()) {
        Ok(true) => Ok(()),
        Ok(false) => Err(BackupError::DestinationInUse(dest.to_path_buf())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dest).map_err(io_error("create", dest))
        }
        Err(_) => Err(BackupError::DestinationInUse(dest.to_path_buf())),
    }
}

fn open(path: &Path) -> Result<Connection, BackupError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    Ok(conn)
}

/// Copies the database in one step of the online backup: one read snapshot, so the copy is
/// consistent however busy the server is.
fn copy_database(source: &Path, target: &Path) -> Result<(), BackupError> {
    let source = open(source)?;
    let mut target = Connection::open(target)?;
    {
        let backup = Backup::new(&source, &mut target)?;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                // Busy or locked: another connection holds a lock a moment longer.
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
    Ok(())
}

/// Leaves the copy as one self-contained file, synced.
fn finish_database(copy: &mut Connection) -> Result<(), BackupError> {
    copy.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA synchronous = FULL;")?;
    Ok(())
}

/// Copies one upload's files; None when one of them is gone. Returns files and bytes copied.
fn copy_upload(
    data_dir: &Path,
    dest: &Path,
    row: &StoredFiles,
) -> Result<Option<(usize, u64)>, BackupError> {
    let from_dir = data_dir.join(&row.storage_dir);
    let to_dir = dest.join(&row.storage_dir);
    fs::create_dir_all(&to_dir).map_err(io_error("create", &to_dir))?;
    let mut bytes = 0;
    for name in &row.file_names {
        match copy_synced(&from_dir.join(name), &to_dir.join(name)) {
            Ok(copied) => bytes += copied,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(io_error("copy", &from_dir.join(name))(err)),
        }
    }
    Ok(Some((row.file_names.len(), bytes)))
}

fn copy_synced(from: &Path, to: &Path) -> io::Result<u64> {
    let copied = fs::copy(from, to)?;
    File::open(to)?.sync_all()?;
    Ok(copied)
}

fn remove_files(dir: &Path, names: &[String]) {
    for name in names {
        let _ = fs::remove_file(dir.join(name));
    }
}

fn sync(dir: &Path) -> Result<(), BackupError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error("sync", dir))
}

/// Replaces the data in `data_dir` with the backup in `src`. Refuses a folder that holds
/// anything unless `force`, and always refuses one a running server holds. Blocks.
pub fn restore(src: &Path, data_dir: &Path, force: bool) -> Result<RestoreSummary, BackupError> {
    if !src.join(DB_FILE).is_file() {
        return Err(BackupError::NoDatabase(src.to_path_buf()));
    }
    fs::create_dir_all(data_dir).map_err(io_error("create", data_dir))?;
    let _lock = DataDirLock::acquire(data_dir)?;
    if !force && holds_data(data_dir)? {
        return Err(BackupError::DataDirNotEmpty(data_dir.to_path_buf()));
    }
    let staging = data_dir.join(STAGING_DIR);
    remove_dir_if_present(&staging)?;
    fs::create_dir(&staging).map_err(io_error("create", &staging))?;
    let summary = match stage(src, &staging) {
        Ok(summary) => summary,
        Err(err) => {
            let _ = fs::remove_dir_all(&staging);
            return Err(err);
        }
    };
    swap_in(data_dir, &staging)?;
    Ok(summary)
}

/// Whether the folder holds anything but the lock file.
fn holds_data(data_dir: &Path) -> Result<bool, BackupError> {
    let entries = fs::read_dir(data_dir).map_err(io_error("list", data_dir))?;
    for entry in entries {
        if entry.map_err(io_error("list", data_dir))?.file_name() != LOCK_FILE {
            return Ok(true);
        }
    }
    Ok(false)
}

fn stage(src: &Path, staging: &Path) -> Result<RestoreSummary, BackupError> {
    let db = staging.join(DB_FILE);
    copy_database(&src.join(DB_FILE), &db)?;
    finish_database(&mut open(&db)?)?;
    let mut summary = RestoreSummary::default();
    copy_tree(
        &src.join(IMAGES_DIR),
        &staging.join(IMAGES_DIR),
        &mut summary,
    )?;
    sync(staging)?;
    Ok(summary)
}

fn copy_tree(from: &Path, to: &Path, summary: &mut RestoreSummary) -> Result<(), BackupError> {
    fs::create_dir_all(to).map_err(io_error("create", to))?;
    let entries = match fs::read_dir(from) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(io_error("list", from)(err)),
    };
    for entry in entries {
        let entry = entry.map_err(io_error("list", from))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if entry
            .file_type()
            .map_err(io_error("inspect", &source))?
            .is_dir()
        {
            copy_tree(&source, &target, summary)?;
        } else {
            summary.bytes += copy_synced(&source, &target).map_err(io_error("copy", &source))?;
            summary.files += 1;
        }
    }
    sync(to)
}

/// Moves the old database and images to `.restore-old/`, the staged ones into place, then
/// removes the old ones and empties `tmp/`.
fn swap_in(data_dir: &Path, staging: &Path) -> Result<(), BackupError> {
    let old = data_dir.join(OLD_DIR);
    remove_dir_if_present(&old)?;
    fs::create_dir(&old).map_err(io_error("create", &old))?;
    for name in DB_FILES.iter().copied().chain([IMAGES_DIR]) {
        move_if_present(&data_dir.join(name), &old.join(name))?;
    }
    for name in [DB_FILE, IMAGES_DIR] {
        move_if_present(&staging.join(name), &data_dir.join(name))?;
    }
    sync(data_dir)?;
    remove_dir_if_present(&old)?;
    remove_dir_if_present(staging)?;
    remove_dir_if_present(&data_dir.join(TMP_DIR))?;
    Ok(())
}

fn move_if_present(from: &Path, to: &Path) -> Result<(), BackupError> {
    match fs::rename(from, to) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(io_error("move", from)(err)),
        _ => Ok(()),
    }
}

fn remove_dir_if_present(dir: &Path) -> Result<(), BackupError> {
    match fs::remove_dir_all(dir) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(io_error("remove", dir)(err)),
        _ => Ok(()),
    }
}
