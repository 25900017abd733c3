//! Versioned schema migrations, tracked in SQLite's `user_version`.
//!
//! Each entry upgrades the schema by one version inside a transaction; a database written by a
//! newer sajin is refused rather than guessed at.

use rusqlite::Connection;

use super::DbError;

/// Migration `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    is_disabled   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE albums (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    description TEXT,
    privacy     TEXT NOT NULL DEFAULT 'public',
    created_at  INTEGER NOT NULL
);

CREATE TABLE categories (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    url_key TEXT NOT NULL UNIQUE
);

CREATE TABLE uploads (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER REFERENCES users (id) ON DELETE SET NULL,
    album_id          INTEGER REFERENCES albums (id) ON DELETE SET NULL,
    category_id       INTEGER REFERENCES categories (id) ON DELETE SET NULL,
    storage_dir       TEXT NOT NULL,
    name              TEXT NOT NULL,
    extension         TEXT NOT NULL,
    mime              TEXT NOT NULL,
    size              INTEGER NOT NULL,
    width             INTEGER NOT NULL,
    height            INTEGER NOT NULL,
    thumb_extension   TEXT NOT NULL,
    thumb_size        INTEGER NOT NULL,
    thumb_width       INTEGER NOT NULL,
    thumb_height      INTEGER NOT NULL,
    medium_extension  TEXT,
    medium_size       INTEGER,
    medium_width      INTEGER,
    medium_height     INTEGER,
    original_filename TEXT NOT NULL,
    title             TEXT,
    description       TEXT,
    tags              TEXT NOT NULL DEFAULT '[]',
    nsfw              INTEGER NOT NULL DEFAULT 0,
    md5               TEXT NOT NULL,
    source_md5        TEXT NOT NULL,
    exif_json         TEXT,
    is_animated       INTEGER NOT NULL DEFAULT 0,
    is_360            INTEGER NOT NULL DEFAULT 0,
    date_local        TEXT NOT NULL,
    date_gmt          TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    delete_hash       BLOB NOT NULL,
    uploader_ip       TEXT,
    views             INTEGER NOT NULL DEFAULT 0,
    likes             INTEGER NOT NULL DEFAULT 0
);

-- Not unique: `cat.png` and `cat.jpg` may share the stem `cat`. File names on disk are unique
-- (storage claims each with an exclusive create), so a file name picks one upload.
CREATE INDEX uploads_location ON uploads (storage_dir, name);
CREATE INDEX uploads_expires_at ON uploads (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX uploads_duplicates ON uploads (source_md5, uploader_ip, created_at);
CREATE INDEX uploads_user ON uploads (user_id, created_at);
"#,
    // Videos: their length and the poster frame their thumbnail and medium come from. A row
    // with a frame is a video.
    r#"
ALTER TABLE uploads ADD COLUMN duration_ms     INTEGER;
ALTER TABLE uploads ADD COLUMN frame_extension TEXT;
ALTER TABLE uploads ADD COLUMN frame_size      INTEGER;
ALTER TABLE uploads ADD COLUMN frame_width     INTEGER;
ALTER TABLE uploads ADD COLUMN frame_height    INTEGER;
"#,
    // Browser sessions: the row is keyed by a hash of the cookie's token, so a copy of the
    // database does not hold a usable cookie. The CSRF token is per session.
    r#"
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX sessions_expires_at ON sessions (expires_at);
"#,
];

/// Brings the schema up to date.
pub fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > known {
        return Err(DbError::SchemaTooNew { found, known });
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = version + 1, "migrated the database schema");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        migrate(&mut conn).expect("first migration");
        migrate(&mut conn).expect("second migration");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_first_version_database_gains_the_video_columns_and_keeps_its_rows() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.execute_batch(MIGRATIONS[0]).expect("the first schema");
        conn.pragma_update(None, "user_version", 1)
            .expect("set version");
        conn.execute(
            "INSERT INTO categories (name, url_key) VALUES ('a', 'a')",
            [],
        )
        .expect("a row");

        migrate(&mut conn).expect("migration");

        let (categories, frames): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM categories),
                        (SELECT COUNT(frame_extension) FROM uploads)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("the new columns exist");
        assert_eq!((categories, frames), (1, 0));
    }

    #[test]
    fn the_upgrade_tests_first_schema_fixture_is_migration_one_word_for_word() {
        let fixture = include_str!("../../tests/fixtures/schema-v1.sql");
        assert!(fixture.ends_with(MIGRATIONS[0]));
        let header = &fixture[..fixture.len() - MIGRATIONS[0].len()];
        assert!(
            header.lines().all(|line| line.starts_with("-- ")),
            "{header}"
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.pragma_update(None, "user_version", 99)
            .expect("set version");
        assert!(matches!(
            migrate(&mut conn),
            Err(DbError::SchemaTooNew { found: 99, .. })
        ));
    }
}
