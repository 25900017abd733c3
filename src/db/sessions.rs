//! Queries over browser sessions. Rows are found by the SHA-256 of the cookie's token; the
//! token itself is never stored.

use rusqlite::{params, Connection, OptionalExtension};

use super::users::{Role, UserRecord};
use super::DbError;

/// A live session row joined with its account.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub csrf_token: String,
    pub expires_at: i64,
}

/// Stores a new session.
pub fn insert(
    conn: &Connection,
    token_hash: &[u8],
    user_id: i64,
    csrf_token: &str,
    created_at: i64,
    expires_at: i64,
) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, user_id, csrf_token, created_at, expires_at],
    )?;
    Ok(())
}

/// The session with this token hash, when it has not expired at `now`.
pub fn find_live(
    conn: &Connection,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<SessionRecord>, DbError> {
    let found = conn
        .query_row(
            "SELECT u.id, u.username, u.role, u.is_disabled, s.csrf_token, s.expires_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            params![token_hash, now],
            |row| {
                Ok(SessionRecord {
                    user: UserRecord {
                        id: row.get(0)?,
                        username: row.get(1)?,
                        role: Role::parse(&row.get::<_, String>(2)?),
                        is_disabled: row.get(3)?,
                    },
                    csrf_token: row.get(4)?,
                    expires_at: row.get(5)?,
                })
            },
        )
        .optional()?;
    Ok(found)
}

/// Removes one session; false when there was none.
pub fn delete(conn: &Connection, token_hash: &[u8]) -> Result<bool, DbError> {
    Ok(conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])? > 0)
}

/// Removes every session that expired before `now`; returns how many.
pub fn delete_expired(conn: &Connection, now: i64) -> Result<usize, DbError> {
    Ok(conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?)
}
