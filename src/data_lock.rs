//! The server's hold on its data directory: an exclusive lock on `sajin.lock` inside it.
//!
//! A running server holds the lock for as long as it runs, and the kernel drops it when the
//! process ends, however it ends. A second server on the same folder refuses to start (it would
//! clear the first one's `tmp/`), and `sajin restore` refuses to replace a folder a server is
//! using. The commands that work beside a server (`key`, `user`, `check`, `backup`) do not take
//! the lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// Name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "sajin.lock";

/// Errors while taking the lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another sajin server is using {0} (it holds {LOCK_FILE}); stop it first")]
    Held(PathBuf),
    #[error("could not lock {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The held lock; dropping it releases it.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock on `data_dir` (which must exist) without waiting.
    pub fn acquire(data_dir: &Path) -> Result<Self, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_error)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(TryLockError::WouldBlock) => Err(LockError::Held(data_dir.to_path_buf())),
            Err(TryLockError::Error(source)) => Err(io_error(source)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = DataDirLock::acquire(dir.path()).expect("the first lock");

        let second = DataDirLock::acquire(dir.path());
        assert!(matches!(second, Err(LockError::Held(_))), "{second:?}");

        drop(first);
        DataDirLock::acquire(dir.path()).expect("free again");
    }
}
