//! Files on local disk: the `images/YYYY/MM/DD/` tree under the data directory.
//!
//! Writes are crash-safe: each file is written to `tmp/` on the same file system, fsynced, and
//! renamed onto a name that was claimed with an exclusive create, then the folder is fsynced.
//! A [`StoredSet`] removes every file it placed unless the caller commits it, so an upload that
//! fails after its files were written (say, at the database insert) leaves nothing behind.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDate;
use rand::distributions::{Alphanumeric, DistString};

/// Folder, under the data directory, that holds the images.
pub const IMAGES_DIR: &str = "images";
/// Folder, under the data directory, for files being written. Emptied when the server starts.
pub const TMP_DIR: &str = "tmp";

/// How many random suffixes to try before giving up on a name.
const NAME_ATTEMPTS: usize = 16;

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("could not {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no free file name for {0}")]
    NoFreeName(String),
}

impl StorageError {
    /// Whether the failure is the disk being full (or over quota).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StorageError::Io { source, .. }
            if matches!(source.raw_os_error(), Some(28) | Some(122)))
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StorageError {
    let path = path.to_path_buf();
    move |source| StorageError::Io {
        action,
        path,
        source,
    }
}

/// One file of an upload: the original (`suffix` None) or a variant (`th`, `md`).
pub struct FileToStore<'a> {
    pub suffix: Option<&'static str>,
    pub extension: &'a str,
    pub bytes: &'a [u8],
}

/// The data directory's image tree.
#[derive(Debug, Clone)]
pub struct Storage {
    root: PathBuf,
}

impl Storage {
    /// Opens the tree under `data_dir`, creating it. Leaves `tmp/` alone: a command run beside
    /// a live server opens the same tree while that server is writing there.
    pub fn open(data_dir: &Path) -> Result<Self, StorageError> {
        let storage = Self {
            root: data_dir.to_path_buf(),
        };
        let images = storage.root.join(IMAGES_DIR);
        fs::create_dir_all(&images).map_err(io_error("create", &images))?;
        let tmp = storage.root.join(TMP_DIR);
        fs::create_dir_all(&tmp).map_err(io_error("create", &tmp))?;
        Ok(storage)
    }

    /// Removes what interrupted writes left in `tmp/`. Only the server calls this, at start-up,
    /// before it accepts uploads; returns how many files it removed.
    pub fn clear_temp(&self) -> Result<usize, StorageError> {
        let tmp = self.root.join(TMP_DIR);
        let entries = fs::read_dir(&tmp).map_err(io_error("list", &tmp))?;
        let mut removed = 0;
        for entry in entries {
            let path = entry.map_err(io_error("list", &tmp))?.path();
            let result = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            result.map_err(io_error("clear", &path))?;
            removed += 1;
        }
        Ok(removed)
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Stores an upload's files under the folder for `day`, named from `stem` (with a random
    /// suffix when the name is taken). The files stay only if the returned set is committed.
    pub fn store(
        &self,
        day: NaiveDate,
        stem: &str,
        files: &[FileToStore<'_>],
    ) -> Result<StoredSet, StorageError> {
        let dir = format!("{IMAGES_DIR}/{}", day.format("%Y/%m/%d"));
        let abs_dir = self.root.join(&dir);
        fs::create_dir_all(&abs_dir).map_err(io_error("create", &abs_dir))?;

        let mut temps = TempFiles(Vec::new());
        for file in files {
            temps.0.push(self.write_temp(file.bytes)?);
        }
        let (name, claimed) = claim_names(&abs_dir, stem, files)?;
        let set = StoredSet {
            paths: claimed,
            dir,
            name,
            is_committed: false,
        };
        // A temp file that was renamed is gone; dropping `temps` removes only the others.
        for (temp, target) in temps.0.iter().zip(&set.paths) {
            fs::rename(temp, target).map_err(io_error("move into place", target))?;
        }
        sync_dir(&abs_dir)?;
        Ok(set)
    }

    fn write_temp(&self, bytes: &[u8]) -> Result<PathBuf, StorageError> {
        let name = Alphanumeric.sample_string(&mut rand::thread_rng(), 16);
        let path = self.root.join(TMP_DIR).join(name);
        let result = write_synced(&path, bytes);
        if result.is_err() {
            let _ = fs::remove_file(&path);
        }
        result.map(|()| path)
    }

    /// Removes an upload's files; files already gone are fine. Tries every file even when one
    /// fails, and reports the first failure.
    pub fn remove(&self, dir: &str, file_names: &[String]) -> Result<(), StorageError> {
        let abs_dir = self.root.join(dir);
        let mut first_error = None;
        for name in file_names {
            let path = abs_dir.join(name);
            match fs::remove_file(&path) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => {
                    first_error.get_or_insert_with(|| io_error("remove", &path)(err));
                }
                _ => {}
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The absolute path of a file named by a URL path below `images/`, or None when the path
    /// tries to leave the tree.
    pub fn resolve(&self, relative: &str) -> Option<PathBuf> {
        let relative = Path::new(relative);
        let is_plain = relative
            .components()
            .all(|part| matches!(part, Component::Normal(_)));
        is_plain.then(|| self.root.join(IMAGES_DIR).join(relative))
    }
}

/// Claims free names for every file with exclusive creates; returns the stem and the paths.
fn claim_names(
    dir: &Path,
    stem: &str,
    files: &[FileToStore<'_>],
) -> Result<(String, Vec<PathBuf>), StorageError> {
    for attempt in 0..NAME_ATTEMPTS {
        let name = match attempt {
            0 => stem.to_string(),
            _ => format!(
                "{stem}-{}",
                Alphanumeric.sample_string(&mut rand::thread_rng(), 6)
            ),
        };
        let mut claimed = Vec::with_capacity(files.len());
        let mut is_taken = false;
        for file in files {
            let path = dir.join(file_name(&name, file.suffix, file.extension));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(_) => claimed.push(path),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                    is_taken = true;
                    break;
                }
                Err(err) => {
                    remove_all(&claimed);
                    return Err(io_error("create", &path)(err));
                }
            }
        }
        if !is_taken {
            return Ok((name, claimed));
        }
        remove_all(&claimed);
    }
    Err(StorageError::NoFreeName(stem.to_string()))
}

/// `NAME.EXT` for the original, `NAME.SUFFIX.EXT` for a variant.
pub fn file_name(name: &str, suffix: Option<&str>, extension: &str) -> String {
    match suffix {
        Some(suffix) => format!("{name}.{suffix}.{extension}"),
        None => format!("{name}.{extension}"),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let mut file = File::create(path).map_err(io_error("create", path))?;
    file.write_all(bytes).map_err(io_error("write", path))?;
    file.sync_all().map_err(io_error("sync", path))
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error("sync", dir))
}

fn remove_all(paths: &[PathBuf]) {
    for path in paths {
        let _ = fs::remove_file(path);
    }
}

/// Temp files that are removed if the store does not get as far as renaming them.
struct TempFiles(Vec<PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        remove_all(&self.0);
    }
}

/// The files of one upload, in place on disk. Dropped without [`StoredSet::commit`], it
/// removes them again.
#[derive(Debug)]
pub struct StoredSet {
    paths: Vec<PathBuf>,
    /// Folder relative to the data directory, e.g. `images/2026/12/03`.
    pub dir: String,
    /// The stem all the files share.
    pub name: String,
    is_committed: bool,
}

impl StoredSet {
    /// Keeps the files: call once the database row that points at them is committed.
    pub fn commit(mut self) {
        self.is_committed = true;
    }
}

impl Drop for StoredSet {
    fn drop(&mut self) {
        if !self.is_committed {
            remove_all(&self.paths);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 3).expect("valid date")
    }

    fn files<'a>(bytes: &'a [u8]) -> Vec<FileToStore<'a>> {
        vec![
            FileToStore {
                suffix: None,
                extension: "png",
                bytes,
            },
            FileToStore {
                suffix: Some("th"),
                extension: "jpg",
                bytes: b"thumb",
            },
        ]
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_committed_set_stays_under_the_date_folder() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        let set = storage
            .store(day(), "cat", &files(b"original"))
            .expect("store");
        assert_eq!(set.dir, "images/2026/12/03");
        assert_eq!(set.name, "cat");
        set.commit();
        let dir = data.path().join("images/2026/12/03");
        assert_eq!(names_in(&dir), ["cat.png", "cat.th.jpg"]);
        assert_eq!(fs::read(dir.join("cat.png")).expect("read"), b"original");
        assert!(names_in(&data.path().join(TMP_DIR)).is_empty());
    }

    #[test]
    fn a_dropped_set_leaves_no_file() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        drop(
            storage
                .store(day(), "cat", &files(b"original"))
                .expect("store"),
        );
        assert!(names_in(&data.path().join("images/2026/12/03")).is_empty());
        assert!(names_in(&data.path().join(TMP_DIR)).is_empty());
    }

    #[test]
    fn a_taken_name_gets_a_random_suffix_and_keeps_the_first_file() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        storage
            .store(day(), "cat", &files(b"first"))
            .expect("store")
            .commit();
        let second = storage
            .store(day(), "cat", &files(b"second"))
            .expect("store");
        assert!(
            second.name.starts_with("cat-") && second.name.len() == 10,
            "{}",
            second.name
        );
        second.commit();
        let dir = data.path().join("images/2026/12/03");
        assert_eq!(fs::read(dir.join("cat.png")).expect("read"), b"first");
        assert_eq!(names_in(&dir).len(), 4);
    }

    #[test]
    fn paths_that_leave_the_image_tree_do_not_resolve() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        assert!(storage.resolve("2026/12/03/cat.png").is_some());
        for bad in ["../sajin.db", "/etc/passwd", "2026/../../x", "./a"] {
            assert!(storage.resolve(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn opening_leaves_tmp_alone_and_clear_temp_empties_it() {
        let data = tempfile::tempdir().expect("tempdir");
        Storage::open(data.path()).expect("first open");
        let tmp = data.path().join(TMP_DIR);
        fs::write(tmp.join("being-written"), b"partial").expect("write");
        fs::create_dir(tmp.join("a-folder")).expect("mkdir");

        let storage = Storage::open(data.path()).expect("second open");
        assert_eq!(names_in(&tmp), ["a-folder", "being-written"]);

        assert_eq!(storage.clear_temp().expect("clear"), 2);
        assert!(names_in(&tmp).is_empty());
    }

    #[test]
    fn remove_goes_on_past_a_file_it_cannot_remove_and_reports_it() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        let dir = data.path().join("images/2026/12/03");
        fs::create_dir_all(dir.join("stuck.png")).expect("a folder where a file should be");
        fs::write(dir.join("cat.th.jpg"), b"thumb").expect("write");
        let names = ["stuck.png".to_string(), "cat.th.jpg".to_string()];

        let result = storage.remove("images/2026/12/03", &names);

        assert!(result.is_err(), "the folder cannot be removed as a file");
        assert_eq!(names_in(&dir), ["stuck.png"]);
    }

    #[test]
    fn removing_missing_files_is_not_an_error() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        storage
            .remove("images/2026/12/03", &["gone.png".to_string()])
            .expect("remove");
    }
}
