//! Queries over accounts and their API keys.

use rusqlite::{params, Connection, OptionalExtension};

use super::{unix_now, DbError};

/// An account's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    User,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }

    pub(crate) fn parse(text: &str) -> Role {
        if text == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

/// An account.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub is_disabled: bool,
}

/// An API key row joined with its owner.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    pub key_id: i64,
    pub secret_hash: Vec<u8>,
    pub is_revoked: bool,
    pub user: UserRecord,
}

/// Number of accounts.
pub fn count(conn: &Connection) -> Result<u64, DbError> {
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?;
    Ok(count as u64)
}

/// Creates an account and returns its id.
pub fn insert(
    conn: &Connection,
    username: &str,
    password_hash: &str,
    role: Role,
) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO users (username, password_hash, role, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![username, password_hash, role.as_str(), unix_now()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Replaces an account's password hash; returns false when there is no such account.
pub fn set_password_hash(
    conn: &Connection,
    username: &str,
    password_hash: &str,
) -> Result<bool, DbError> {
    let changed = conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE username = ?1",
        params![username, password_hash],
    )?;
    Ok(changed > 0)
}

/// Finds an account by name (case-insensitive).
pub fn find_by_name(conn: &Connection, username: &str) -> Result<Option<UserRecord>, DbError> {
    let found = conn
        .query_row(
            "SELECT id, username, role, is_disabled FROM users WHERE username = ?1",
            [username],
            |row| {
                Ok(UserRecord {
                    id: row.get(0)?,
                    username: row.get(1)?,
                    role: Role::parse(&row.get::<_, String>(2)?),
                    is_disabled: row.get(3)?,
                })
            },
        )
        .optional()?;
    Ok(found)
}

/// An account with its password hash (PHC string), for a login.
pub fn find_with_password(
    conn: &Connection,
    username: &str,
) -> Result<Option<(UserRecord, String)>, DbError> {
    let found = conn
        .query_row(
            "SELECT id, username, role, is_disabled, password_hash FROM users
             WHERE username = ?1",
            [username],
            |row| {
                let user = UserRecord {
                    id: row.get(0)?,
                    username: row.get(1)?,
                    role: Role::parse(&row.get::<_, String>(2)?),
                    is_disabled: row.get(3)?,
                };
                Ok((user, row.get(4)?))
            },
        )
        .optional()?;
    Ok(found)
}

/// Stores a new API key for `user_id` and returns the key's id.
pub fn insert_api_key(conn: &Connection, user_id: i64, secret_hash: &[u8]) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO api_keys (user_id, secret_hash, created_at) VALUES (?1, ?2, ?3)",
        params![user_id, secret_hash, unix_now()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Looks an API key up by id, with its owner.
pub fn find_api_key(conn: &Connection, key_id: i64) -> Result<Option<ApiKeyRecord>, DbError> {
    let found = conn
        .query_row(
            "SELECT k.id, k.secret_hash, k.revoked_at IS NOT NULL, u.id, u.username, u.role,
                    u.is_disabled
             FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?1",
            [key_id],
            |row| {
                Ok(ApiKeyRecord {
                    key_id: row.get(0)?,
                    secret_hash: row.get(1)?,
                    is_revoked: row.get(2)?,
                    user: UserRecord {
                        id: row.get(3)?,
                        username: row.get(4)?,
                        role: Role::parse(&row.get::<_, String>(5)?),
                        is_disabled: row.get(6)?,
                    },
                })
            },
        )
        .optional()?;
    Ok(found)
}
