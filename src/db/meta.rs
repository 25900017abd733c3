//! Install-wide values kept in the `meta` table, such as the id-encoding salt.

use rusqlite::{params, Connection, OptionalExtension};

use super::DbError;

/// Reads a value.
pub fn get(conn: &Connection, key: &str) -> Result<Option<String>, DbError> {
    let value = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(value)
}

/// Returns the stored value, or stores and returns `make()` when there is none yet.
pub fn get_or_insert(
    conn: &Connection,
    key: &str,
    make: impl FnOnce() -> String,
) -> Result<String, DbError> {
    if let Some(value) = get(conn, key)? {
        return Ok(value);
    }
    let value = make();
    // OR IGNORE: a concurrent start-up may have won the race; the SELECT below returns the winner.
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
        params![key, value],
    )?;
    get(conn, key)?.ok_or_else(|| DbError::Corrupt(format!("meta key {key} vanished")))
}
