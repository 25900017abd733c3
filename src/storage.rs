//! Files on local disk: the `images/YYYY/MM/DD/` tree under the data directory.
//!
//! # Write order
//!
//! An upload's files reach the tree in an order that a crash or a power cut at any point
//! cannot turn into a row without its files or files that stay without a row:
//!
//! 1. Each file is written to `tmp/` (on the same file system) under a random name, and
//!    fsynced.
//! 2. A placement note, `tmp/RANDOM.placing`, lists each temp file with the path it is to take
//!    under `images/`. The note is fsynced, then `tmp/` itself, so the temp files and the note
//!    are on disk before anything appears in the tree.
//! 3. Each temp file is renamed onto its path without replacing anything (`RENAME_NOREPLACE`;
//!    a hard link and an unlink where the file system lacks it). When a name is taken, the
//!    files already placed are moved back and the next name gets a new note.
//! 4. The day's folder is fsynced, and the folders above it when the day's folder was new.
//! 5. The caller commits the database row (SQLite with `synchronous = FULL`), then calls
//!    [`StoredSet::commit`], which removes the note.
//!
//! A crash between steps 3 and 5 leaves files that no row knows. Before the server empties
//! `tmp/` at start-up, [`Storage::recover_interrupted`] reads every note left there and removes
//! each file the note placed (its temp file is gone, or is the same file) that no row knows.
//! An upload that fails without a crash undoes itself ([`StoredSet`]'s drop): the placed files
//! first, then the note, then the temp files, so a crash during that cleanup still leaves a
//! note for whatever was placed.
//!
//! A [`StoredSet`] removes every file it placed unless the caller commits it, so an upload
//! that fails after its files were written (say, at the database insert) leaves nothing behind.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDate;
use rand::distributions::{Alphanumeric, DistString};
use rustix::fs::{RenameFlags, CWD};
use rustix::io::Errno;

/// Folder, under the data directory, that holds the images.
pub const IMAGES_DIR: &str = "images";
/// Folder, under the data directory, for files being written. Emptied when the server starts.
pub const TMP_DIR: &str = "tmp";

/// How many random suffixes to try before giving up on a name.
const NAME_ATTEMPTS: usize = 16;
/// Extension of the placement notes in `tmp/`.
const NOTE_EXTENSION: &str = "placing";

/// Why a lookup of the files rows know failed.
pub type LookupError = Box<dyn std::error::Error + Send + Sync>;

/// What [`Storage::recover_interrupted`] removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Recovered {
    /// Files placed in the tree by uploads whose rows were never committed.
    pub removed_files: usize,
    /// Entries emptied out of `tmp/`.
    pub cleared_temp_files: usize,
}

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
    #[error("could not look up which files the database knows")]
    Lookup(#[source] LookupError),
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

    /// Removes what interrupted writes left in `tmp/`; returns how many entries it removed.
    /// Only for a data directory no server is writing to: the server calls it, through
    /// [`Storage::recover_interrupted`], at start-up.
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
    /// suffix when the name is taken), in the order the module documents. The files stay only
    /// if the returned set is committed.
    pub fn store(
        &self,
        day: NaiveDate,
        stem: &str,
        files: &[FileToStore<'_>],
    ) -> Result<StoredSet, StorageError> {
        let dir = format!("{IMAGES_DIR}/{}", day.format("%Y/%m/%d"));
        let abs_dir = self.root.join(&dir);
        self.create_day_dir(&abs_dir)?;

        let mut temps = TempFiles(Vec::new());
        for file in files {
            temps.0.push(self.write_temp(file.bytes)?);
        }
        // Declared after `temps`, so it is dropped first: placed files and the note go before
        // the temp files, the order a crash during the cleanup can recover from.
        let mut set = StoredSet {
            placed: Vec::new(),
            note: None,
            dir,
            name: String::new(),
            is_committed: false,
        };
        for attempt in 0..NAME_ATTEMPTS {
            let name = candidate_name(stem, attempt);
            let targets: Vec<PathBuf> = files
                .iter()
                .map(|file| abs_dir.join(file_name(&name, file.suffix, file.extension)))
                .collect();
            if targets
                .iter()
                .any(|target| target.symlink_metadata().is_ok())
            {
                continue;
            }
            self.write_note(&mut set, &temps.0, &targets)?;
            if place_all(&temps.0, &targets, &mut set.placed)? {
                sync_dir(&abs_dir)?;
                set.name = name;
                temps.0.clear();
                return Ok(set);
            }
            move_back(&mut set.placed)?;
        }
        Err(StorageError::NoFreeName(stem.to_string()))
    }

    /// Creates the day's folder; when it is new, fsyncs the folders above it up to `images/`,
    /// which hold the new entries, so a power cut cannot take a synced file's folder away.
    fn create_day_dir(&self, abs_dir: &Path) -> Result<(), StorageError> {
        if abs_dir.is_dir() {
            return Ok(());
        }
        fs::create_dir_all(abs_dir).map_err(io_error("create", abs_dir))?;
        let images = self.root.join(IMAGES_DIR);
        for parent in abs_dir.ancestors().skip(1) {
            sync_dir(parent)?;
            if parent == images {
                break;
            }
        }
        Ok(())
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

    /// Replaces the set's placement note with one for `targets`, synced with `tmp/`.
    fn write_note(
        &self,
        set: &mut StoredSet,
        temps: &[PathBuf],
        targets: &[PathBuf],
    ) -> Result<(), StorageError> {
        if let Some(old) = set.note.take() {
            let _ = fs::remove_file(old);
        }
        let mut note = String::new();
        for (temp, target) in temps.iter().zip(targets) {
            let temp = temp.file_name().unwrap_or_default().to_string_lossy();
            let target = target.strip_prefix(&self.root).unwrap_or(target);
            note.push_str(&format!("{temp}\t{}\n", target.display()));
        }
        let tmp = self.root.join(TMP_DIR);
        let name = Alphanumeric.sample_string(&mut rand::thread_rng(), 16);
        let path = tmp.join(format!("{name}.{NOTE_EXTENSION}"));
        set.note = Some(path.clone());
        write_synced(&path, note.as_bytes())?;
        sync_dir(&tmp)
    }

    /// Undoes what uploads cut short by a crash left: every file a placement note in `tmp/`
    /// placed and `is_known(folder, file name)` does not claim is removed, then `tmp/` is
    /// emptied. Only the server calls this, at start-up, holding the data directory's lock and
    /// before it accepts uploads.
    pub fn recover_interrupted(
        &self,
        mut is_known: impl FnMut(&str, &str) -> Result<bool, LookupError>,
    ) -> Result<Recovered, StorageError> {
        let tmp = self.root.join(TMP_DIR);
        let entries = fs::read_dir(&tmp).map_err(io_error("list", &tmp))?;
        let mut recovered = Recovered::default();
        for entry in entries {
            let path = entry.map_err(io_error("list", &tmp))?.path();
            if path.extension().is_some_and(|ext| ext == NOTE_EXTENSION) {
                recovered.removed_files += self.undo_note(&path, &mut is_known)?;
            }
        }
        recovered.cleared_temp_files = self.clear_temp()?;
        Ok(recovered)
    }

    fn undo_note(
        &self,
        note: &Path,
        is_known: &mut impl FnMut(&str, &str) -> Result<bool, LookupError>,
    ) -> Result<usize, StorageError> {
        // A note that does not read back was cut short while being written, before anything
        // was placed.
        let Ok(text) = fs::read_to_string(note) else {
            return Ok(0);
        };
        let mut removed = 0;
        for line in text.lines() {
            let Some((temp, target)) = line.split_once('\t') else {
                continue;
            };
            let (temp, relative) = (self.root.join(TMP_DIR).join(temp), Path::new(target));
            let is_plain = relative
                .components()
                .all(|part| matches!(part, Component::Normal(_)));
            let (Some(dir), Some(name)) = (relative.parent(), relative.file_name()) else {
                continue;
            };
            let target = self.root.join(relative);
            if !is_plain || !relative.starts_with(IMAGES_DIR) || !was_placed(&temp, &target) {
                continue;
            }
            let (dir, name) = (dir.to_string_lossy(), name.to_string_lossy());
            if is_known(&dir, &name).map_err(StorageError::Lookup)? {
                continue;
            }
            fs::remove_file(&target).map_err(io_error("remove", &target))?;
            tracing::info!(file = %relative.display(), "removed a file of an interrupted upload");
            removed += 1;
        }
        Ok(removed)
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

/// The stem itself first, then the stem with a random suffix.
fn candidate_name(stem: &str, attempt: usize) -> String {
    match attempt {
        0 => stem.to_string(),
        _ => format!(
            "{stem}-{}",
            Alphanumeric.sample_string(&mut rand::thread_rng(), 6)
        ),
    }
}

/// Moves each temp file onto its target without replacing anything, recording each one placed.
/// False when a target was taken (by an upload racing this one); the caller moves the placed
/// files back.
fn place_all(
    temps: &[PathBuf],
    targets: &[PathBuf],
    placed: &mut Vec<(PathBuf, PathBuf)>,
) -> Result<bool, StorageError> {
    for (temp, target) in temps.iter().zip(targets) {
        match place(temp, target) {
            Ok(()) => placed.push((temp.clone(), target.clone())),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Ok(false),
            Err(err) => return Err(io_error("move into place", target)(err)),
        }
    }
    Ok(true)
}

/// Renames `temp` to `target` unless `target` exists. File systems without `RENAME_NOREPLACE`
/// get a hard link, which fails the same way on an existing target, and an unlink.
fn place(temp: &Path, target: &Path) -> io::Result<()> {
    let renamed = rustix::fs::renameat_with(CWD, temp, CWD, target, RenameFlags::NOREPLACE);
    match renamed {
        Err(errno) if [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP].contains(&errno) => {
            fs::hard_link(temp, target)?;
            let _ = fs::remove_file(temp);
            Ok(())
        }
        other => other.map_err(io::Error::from),
    }
}

/// Moves placed files back to their temp names, for another try under another name.
fn move_back(placed: &mut Vec<(PathBuf, PathBuf)>) -> Result<(), StorageError> {
    while let Some((temp, target)) = placed.last() {
        fs::rename(target, temp).map_err(io_error("move back", target))?;
        placed.pop();
    }
    Ok(())
}

/// Whether a note's temp file reached its target: it is gone from `tmp/` (renamed), or it is
/// the target itself (linked, not yet unlinked). A temp file still apart from the target was
/// never placed, and the target, if any, belongs to someone else.
fn was_placed(temp: &Path, target: &Path) -> bool {
    let Ok(target) = fs::symlink_metadata(target) else {
        return false;
    };
    match fs::symlink_metadata(temp) {
        Ok(temp) => temp.dev() == target.dev() && temp.ino() == target.ino(),
        Err(err) => err.kind() == io::ErrorKind::NotFound,
    }
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
/// removes them again, then its placement note.
#[derive(Debug)]
pub struct StoredSet {
    /// Each placed file's temp path and its place in the tree.
    placed: Vec<(PathBuf, PathBuf)>,
    /// The placement note in `tmp/` that covers the placed files.
    note: Option<PathBuf>,
    /// Folder relative to the data directory, e.g. `images/2026/12/03`.
    pub dir: String,
    /// The stem all the files share.
    pub name: String,
    is_committed: bool,
}

impl StoredSet {
    /// Keeps the files: call once the database row that points at them is committed. Removes
    /// the placement note, which start-up would otherwise read (and find the files known).
    pub fn commit(mut self) {
        self.is_committed = true;
        if let Some(note) = self.note.take() {
            let _ = fs::remove_file(note);
        }
    }
}

impl Drop for StoredSet {
    fn drop(&mut self) {
        if !self.is_committed {
            for (_, target) in &self.placed {
                let _ = fs::remove_file(target);
            }
        }
        if let Some(note) = self.note.take() {
            let _ = fs::remove_file(note);
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

    fn never_known(_: &str, _: &str) -> Result<bool, LookupError> {
        Ok(false)
    }

    #[test]
    fn files_placed_by_a_set_that_was_never_committed_nor_dropped_are_removed_at_recovery() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        let kept = storage.store(day(), "kept", &files(b"k")).expect("store");
        kept.commit();
        // What a SIGKILL between placing the files and committing the row leaves.
        std::mem::forget(storage.store(day(), "cut", &files(b"c")).expect("store"));

        let recovered = storage.recover_interrupted(never_known).expect("recover");

        let dir = data.path().join("images/2026/12/03");
        assert_eq!(names_in(&dir), ["kept.png", "kept.th.jpg"]);
        assert_eq!(recovered.removed_files, 2);
        assert!(names_in(&data.path().join(TMP_DIR)).is_empty());
    }

    #[test]
    fn recovery_keeps_files_a_row_knows_although_their_note_is_left() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        // The row was committed, and the server died before the note was removed.
        std::mem::forget(storage.store(day(), "cat", &files(b"c")).expect("store"));

        let recovered = storage
            .recover_interrupted(|dir, name| {
                Ok(dir == "images/2026/12/03" && name.starts_with("cat."))
            })
            .expect("recover");

        assert_eq!(recovered.removed_files, 0);
        assert_eq!(
            names_in(&data.path().join("images/2026/12/03")),
            ["cat.png", "cat.th.jpg"]
        );
    }

    #[test]
    fn recovery_leaves_a_target_alone_when_the_temp_file_never_reached_it() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        let dir = data.path().join("images/2026/12/03");
        fs::create_dir_all(&dir).expect("mkdir");
        fs::write(dir.join("other.png"), b"someone else's").expect("write");
        let tmp = data.path().join(TMP_DIR);
        fs::write(tmp.join("unplaced"), b"mine").expect("write");
        fs::write(
            tmp.join("n.placing"),
            "unplaced\timages/2026/12/03/other.png\n",
        )
        .expect("note");

        storage.recover_interrupted(never_known).expect("recover");

        assert_eq!(
            fs::read(dir.join("other.png")).expect("kept"),
            b"someone else's"
        );
        assert!(names_in(&tmp).is_empty());
    }

    #[test]
    fn recovery_removes_a_linked_target_and_ignores_notes_that_point_outside_the_tree() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        let dir = data.path().join("images/2026/12/03");
        fs::create_dir_all(&dir).expect("mkdir");
        let tmp = data.path().join(TMP_DIR);
        fs::write(tmp.join("linked"), b"mine").expect("write");
        fs::hard_link(tmp.join("linked"), dir.join("linked.png")).expect("link");
        fs::write(data.path().join("keep.txt"), b"outside").expect("write");
        let note = "linked\timages/2026/12/03/linked.png\ngone\t../keep.txt\ngone\tkeep.txt\n";
        fs::write(tmp.join("n.placing"), note).expect("note");

        let recovered = storage.recover_interrupted(never_known).expect("recover");

        assert_eq!(recovered.removed_files, 1);
        assert!(names_in(&dir).is_empty());
        assert!(data.path().join("keep.txt").exists());
    }

    #[test]
    fn a_stored_set_leaves_its_note_until_commit_and_none_after() {
        let data = tempfile::tempdir().expect("tempdir");
        let storage = Storage::open(data.path()).expect("open");
        let tmp = data.path().join(TMP_DIR);

        let set = storage.store(day(), "cat", &files(b"c")).expect("store");

        let notes = names_in(&tmp);
        assert_eq!(notes.len(), 1, "{notes:?}");
        let note = fs::read_to_string(tmp.join(&notes[0])).expect("note");
        assert!(note.contains("\timages/2026/12/03/cat.png\n"), "{note}");
        assert!(note.contains("\timages/2026/12/03/cat.th.jpg\n"), "{note}");
        set.commit();
        assert!(names_in(&tmp).is_empty());
    }

    #[test]
    fn a_name_taken_midway_moves_the_placed_files_back_and_replaces_nothing() {
        let data = tempfile::tempdir().expect("tempdir");
        let (tmp, dir) = (data.path().join("tmp"), data.path().join("day"));
        fs::create_dir_all(&tmp).expect("mkdir");
        fs::create_dir_all(&dir).expect("mkdir");
        let temps = [tmp.join("a"), tmp.join("b")];
        fs::write(&temps[0], b"original").expect("write");
        fs::write(&temps[1], b"thumb").expect("write");
        // Another upload took the thumbnail's name after the free-name check.
        fs::write(dir.join("cat.th.jpg"), b"theirs").expect("write");
        let targets = [dir.join("cat.png"), dir.join("cat.th.jpg")];
        let mut placed = Vec::new();

        let is_placed = place_all(&temps, &targets, &mut placed).expect("no I/O error");

        assert!(!is_placed);
        assert_eq!(placed.len(), 1);
        move_back(&mut placed).expect("moved back");
        assert_eq!(names_in(&dir), ["cat.th.jpg"]);
        assert_eq!(fs::read(dir.join("cat.th.jpg")).expect("read"), b"theirs");
        assert_eq!(fs::read(&temps[0]).expect("back in tmp"), b"original");
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
