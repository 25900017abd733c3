//! `sajin check`: whether the database and the image tree agree, and the repair when not.
//!
//! Two things can disagree. A row whose files are missing (removed by hand, a disk error)
//! shows a broken upload; a file no row knows is unreachable and only takes space. The second
//! is what a deletion leaves when it cannot remove a file, or a file put there by hand. An
//! upload cut short by a crash between placing its files and committing its row leaves them
//! too, until the server's next start removes them (see `storage`'s write order).
//!
//! The check runs beside a live server. Files under `tmp/` are never looked at, and a file
//! under `images/` changed within [`GRACE`] is skipped: an upload claims its names there a
//! moment before its row is committed. The walk of the tree happens before the rows are read,
//! so a row committed during the walk cannot make its files look unknown, and a row whose
//! files look missing is read again, since a deletion removes the row before the files.
//!
//! The repair removes rows whose original is gone (and whatever variant files they still
//! have), and moves unknown files into `lost+found/` under the data directory, keeping their
//! path: nothing is deleted that could still be wanted.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::db::uploads::{self, StoredFiles};
use crate::db::{Db, DbError};
use crate::storage::{Storage, StorageError, IMAGES_DIR};

/// Folder, under the data directory, that the repair moves unknown files into.
pub const LOST_AND_FOUND_DIR: &str = "lost+found";
/// Files changed more recently than this may belong to an upload being stored right now.
pub const GRACE: Duration = Duration::from_secs(10 * 60);

/// Errors while checking or repairing.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("could not {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> CheckError {
    let path = path.to_path_buf();
    move |source| CheckError::Io {
        action,
        path,
        source,
    }
}

/// A row with at least one of its files missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFiles {
    pub upload: StoredFiles,
    /// The names that are not on disk, original first when it is one of them.
    pub missing: Vec<String>,
}

impl MissingFiles {
    /// Whether the original is gone (not only a variant).
    pub fn is_original_missing(&self) -> bool {
        self.upload.file_names.first() == self.missing.first()
    }
}

/// What a check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Rows whose files are not all on disk.
    pub missing: Vec<MissingFiles>,
    /// Files under `images/` that no row knows, relative to the data directory.
    pub orphans: Vec<PathBuf>,
    /// Unknown files left alone because they changed within [`GRACE`].
    pub recent: usize,
    /// Rows checked.
    pub rows: usize,
}

impl Report {
    /// Whether rows and files agree.
    pub fn is_consistent(&self) -> bool {
        self.missing.is_empty() && self.orphans.is_empty()
    }
}

/// What a repair did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repair {
    /// Ids of the rows removed because their original was gone.
    pub removed_rows: Vec<i64>,
    /// Unknown files and where they were moved, both relative to the data directory.
    pub moved: Vec<(PathBuf, PathBuf)>,
    /// Rows kept although variants are missing: their original is still there, and the
    /// repair does not make images.
    pub left: Vec<MissingFiles>,
}

impl Repair {
    /// Whether everything the check found was fixed.
    pub fn is_complete(&self) -> bool {
        self.left.is_empty()
    }
}

/// Checks the data directory at `now`. Blocks.
pub fn check(db: &Db, storage: &Storage, now: SystemTime) -> Result<Report, CheckError> {
    let root = storage.root();
    let mut files = Vec::new();
    walk(root, &root.join(IMAGES_DIR), &mut files)?;
    let rows = db.with_conn(|conn| uploads::all_stored_files(conn))?;
    let known: HashSet<PathBuf> = rows
        .iter()
        .flat_map(|row| {
            let dir = Path::new(&row.storage_dir);
            row.file_names.iter().map(move |name| dir.join(name))
        })
        .collect();

    let mut report = Report {
        rows: rows.len(),
        ..Report::default()
    };
    for (path, modified) in files {
        if known.contains(&path) {
            continue;
        }
        if is_recent(modified, now) {
            report.recent += 1;
        } else {
            report.orphans.push(path);
        }
    }
    for row in rows {
        if let Some(missing) = missing_files(db, root, row)? {
            report.missing.push(missing);
        }
    }
    Ok(report)
}

fn is_recent(modified: SystemTime, now: SystemTime) -> bool {
    now.duration_since(modified).map_or(true, |age| age < GRACE)
}

/// Every entry under `dir` that is not a folder, relative to `root`, with its change time.
fn walk(root: &Path, dir: &Path, found: &mut Vec<(PathBuf, SystemTime)>) -> Result<(), CheckError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(io_error("list", dir)(err)),
    };
    for entry in entries {
        let path = entry.map_err(io_error("list", dir))?.path();
        let metadata = match fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(io_error("inspect", &path)(err)),
        };
        if metadata.is_dir() {
            walk(root, &path, found)?;
            continue;
        }
        let modified = metadata.modified().map_err(io_error("inspect", &path))?;
        let relative = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        found.push((relative, modified));
    }
    Ok(())
}

/// The row's missing files, when some are missing and the row is still there.
fn missing_files(
    db: &Db,
    root: &Path,
    row: StoredFiles,
) -> Result<Option<MissingFiles>, CheckError> {
    let missing = absent_names(root, &row)?;
    if missing.is_empty() {
        return Ok(None);
    }
    // A deletion removes the row first and the files after it: read the row again.
    let still_there = db.with_conn(|conn| uploads::stored_files(conn, row.id))?;
    let Some(row) = still_there else {
        return Ok(None);
    };
    let missing = absent_names(root, &row)?;
    Ok((!missing.is_empty()).then_some(MissingFiles {
        upload: row,
        missing,
    }))
}

fn absent_names(root: &Path, row: &StoredFiles) -> Result<Vec<String>, CheckError> {
    let dir = root.join(&row.storage_dir);
    let mut absent = Vec::new();
    for name in &row.file_names {
        let path = dir.join(name);
        match fs::symlink_metadata(&path) {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => absent.push(name.clone()),
            Err(err) => return Err(io_error("inspect", &path)(err)),
        }
    }
    Ok(absent)
}

/// Fixes what `report` found: removes rows whose original is gone and moves unknown files to
/// `lost+found/`. Each is checked again first, so what changed since the check is left alone.
/// Blocks.
pub fn repair(db: &Db, storage: &Storage, report: &Report) -> Result<Repair, CheckError> {
    let mut repair = Repair::default();
    for found in &report.missing {
        if !found.is_original_missing() {
            repair.left.push(found.clone());
            continue;
        }
        if remove_broken_row(db, storage, found.upload.id)? {
            repair.removed_rows.push(found.upload.id);
        }
    }
    for orphan in &report.orphans {
        if let Some(target) = move_orphan(db, storage.root(), orphan)? {
            repair.moved.push((orphan.clone(), target));
        }
    }
    Ok(repair)
}

/// Removes the row when its original is still missing, then its remaining files.
fn remove_broken_row(db: &Db, storage: &Storage, id: i64) -> Result<bool, CheckError> {
    let Some(row) = db.with_conn(|conn| uploads::stored_files(conn, id))? else {
        return Ok(false);
    };
    let original = storage
        .root()
        .join(&row.storage_dir)
        .join(&row.file_names[0]);
    if original.exists() {
        return Ok(false);
    }
    db.with_conn(|conn| uploads::delete(conn, id))?;
    storage.remove(&row.storage_dir, &row.file_names)?;
    tracing::info!(id, "removed an upload whose original file was gone");
    Ok(true)
}

/// Moves an unknown file to the same path under `lost+found/`; returns where it went, or
/// None when it is gone or a row knows it by now.
fn move_orphan(db: &Db, root: &Path, orphan: &Path) -> Result<Option<PathBuf>, CheckError> {
    let source = root.join(orphan);
    if fs::symlink_metadata(&source).is_err() || is_known(db, orphan)? {
        return Ok(None);
    }
    let target = free_target(&Path::new(LOST_AND_FOUND_DIR).join(orphan), root);
    let absolute = root.join(&target);
    if let Some(parent) = absolute.parent() {
        fs::create_dir_all(parent).map_err(io_error("create", parent))?;
    }
    fs::rename(&source, &absolute).map_err(io_error("move", &source))?;
    tracing::info!(from = %orphan.display(), to = %target.display(), "moved an unknown file");
    Ok(Some(target))
}

fn is_known(db: &Db, relative: &Path) -> Result<bool, CheckError> {
    let (Some(dir), Some(name)) = (relative.parent(), relative.file_name()) else {
        return Ok(false);
    };
    let (dir, name) = (dir.to_string_lossy(), name.to_string_lossy());
    let found = db.with_conn(|conn| uploads::get_by_file(conn, &dir, &name))?;
    Ok(found.is_some())
}

/// `wanted`, or `wanted.1`, `wanted.2`… when an earlier repair already put a file there.
fn free_target(wanted: &Path, root: &Path) -> PathBuf {
    let mut candidate = wanted.to_path_buf();
    let mut counter = 0u32;
    while fs::symlink_metadata(root.join(&candidate)).is_ok() {
        counter += 1;
        let mut name = wanted.as_os_str().to_os_string();
        name.push(format!(".{counter}"));
        candidate = PathBuf::from(name);
    }
    candidate
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for found in &self.missing {
            let what = if found.is_original_missing() {
                "original missing"
            } else {
                "variant missing"
            };
            for name in &found.missing {
                let path = Path::new(&found.upload.storage_dir).join(name);
                writeln!(f, "{what}: {} (upload {})", path.display(), found.upload.id)?;
            }
        }
        for orphan in &self.orphans {
            writeln!(f, "unknown file: {}", orphan.display())?;
        }
        write!(
            f,
            "{} rows checked: {} with missing files, {} unknown files",
            self.rows,
            self.missing.len(),
            self.orphans.len()
        )?;
        if self.recent > 0 {
            write!(
                f,
                " ({} newer files skipped, may be uploads in progress)",
                self.recent
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for id in &self.removed_rows {
            writeln!(f, "removed upload {id}: its original was gone")?;
        }
        for (from, to) in &self.moved {
            writeln!(f, "moved {} to {}", from.display(), to.display())?;
        }
        for found in &self.left {
            writeln!(
                f,
                "kept upload {}: its original is there but {} is missing (upload it again to \
                 get new variants)",
                found.upload.id,
                found.missing.join(", ")
            )?;
        }
        write!(
            f,
            "repaired: {} rows removed, {} files moved to {LOST_AND_FOUND_DIR}/",
            self.removed_rows.len(),
            self.moved.len()
        )
    }
}
