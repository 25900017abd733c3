//! The SQLite database: connections, schema migrations and the queries the app runs.
//!
//! Every call here blocks; the web layer runs them on the blocking thread pool. Connections are
//! kept in a small pool so that concurrent requests do not queue behind one handle; SQLite in
//! WAL mode lets readers proceed while one writer commits.

pub mod meta;
mod migrations;
pub mod sessions;
pub mod uploads;
pub mod users;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::Connection;

/// Name of the database file inside the data directory.
pub const DB_FILE: &str = "sajin.db";

/// Errors from the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database schema is version {found}, newer than this sajin knows ({known})")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

/// A pool of connections to one SQLite file.
pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database in `data_dir` and migrates it to the current
    /// schema.
    pub fn open(data_dir: &Path) -> Result<Self, DbError> {
        let db = Self {
            path: data_dir.join(DB_FILE),
            idle: Mutex::new(Vec::new()),
        };
        db.with_conn(migrations::migrate)?;
        Ok(db)
    }

    /// Runs `f` with a pooled connection.
    pub fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut conn = match self.take_idle() {
            Some(conn) => conn,
            None => self.connect()?,
        };
        let result = f(&mut conn);
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        result
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle.lock().ok()?.pop()
    }

    fn connect(&self) -> Result<Connection, DbError> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // FULL makes a commit durable once it returns: an upload answered with 200 survives a
        // power cut, which matters more on a NAS than the extra fsync per upload.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;",
        )?;
        Ok(conn)
    }
}

/// Seconds since the Unix epoch, the unit every timestamp column uses.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
