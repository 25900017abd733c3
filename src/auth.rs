//! Accounts and API keys: creating them, and checking a key a client sent.
//!
//! API keys look like Chevereto V4's, `chv_<encoded key id>_<secret>`. Only SHA-256 of the
//! secret is stored: the secret is 40 random characters, far beyond guessing, so a slow
//! password hash would only cost time on every request. Passwords use argon2id. Everything
//! here blocks (database, hashing) and runs off the async executor.

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
use argon2::Argon2;
use rand::distributions::{Alphanumeric, DistString};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::users::{self, Role, UserRecord};
use crate::db::DbError;
use crate::domain::id_codec::IdCodec;

/// Prefix every API key carries.
const KEY_PREFIX: &str = "chv_";
/// Length of a key's random secret.
const SECRET_LEN: usize = 40;

/// Errors while creating accounts or keys.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("could not hash the password")]
    Hash,
    #[error("user {0:?} does not exist")]
    UnknownUser(String),
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("user names are 1 to 64 letters, digits, '-', '_' or '.'")]
    BadUsername,
}

/// Why a key was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRejection {
    /// Not a key at all, unknown, or wrong secret.
    Invalid,
    /// A real key that was revoked, or whose account is disabled.
    Revoked,
}

/// Checks a key a client sent; returns its owner.
pub fn verify_api_key(
    conn: &Connection,
    ids: &IdCodec,
    key: &str,
) -> Result<Result<UserRecord, KeyRejection>, DbError> {
    let Some((key_id, secret)) = split_key(ids, key.trim()) else {
        return Ok(Err(KeyRejection::Invalid));
    };
    let Some(record) = users::find_api_key(conn, key_id)? else {
        return Ok(Err(KeyRejection::Invalid));
    };
    let is_match: bool = hash_secret(secret)
        .as_slice()
        .ct_eq(&record.secret_hash)
        .into();
    Ok(
        match (is_match, record.is_revoked || record.user.is_disabled) {
            (false, _) => Err(KeyRejection::Invalid),
            (true, true) => Err(KeyRejection::Revoked),
            (true, false) => Ok(record.user),
        },
    )
}

fn split_key<'a>(ids: &IdCodec, key: &'a str) -> Option<(i64, &'a str)> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (encoded_id, secret) = rest.split_once('_')?;
    let key_id = i64::try_from(ids.decode(encoded_id)?).ok()?;
    Some((key_id, secret))
}

fn hash_secret(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Creates a new API key for `user_id` and returns it in full; it is not shown again.
pub fn create_api_key(conn: &Connection, ids: &IdCodec, user_id: i64) -> Result<String, DbError> {
    let secret = Alphanumeric.sample_string(&mut rand::thread_rng(), SECRET_LEN);
    let key_id = users::insert_api_key(conn, user_id, &hash_secret(&secret))?;
    Ok(format!(
        "{KEY_PREFIX}{}_{secret}",
        ids.encode(key_id as u64)
    ))
}

/// Creates an account with a random password; returns its id and the password.
pub fn create_user(
    conn: &Connection,
    username: &str,
    role: Role,
) -> Result<(i64, String), AuthError> {
    let is_valid = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !is_valid {
        return Err(AuthError::BadUsername);
    }
    if users::find_by_name(conn, username)?.is_some() {
        return Err(AuthError::UserExists(username.into()));
    }
    let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 20);
    let user_id = users::insert(conn, username, &hash_password(&password)?, role)?;
    Ok((user_id, password))
}

/// Gives the named user a new random password and returns it.
pub fn reset_password(conn: &Connection, username: &str) -> Result<String, AuthError> {
    let password = Alphanumeric.sample_string(&mut rand::thread_rng(), 20);
    if !users::set_password_hash(conn, username, &hash_password(&password)?)? {
        return Err(AuthError::UnknownUser(username.into()));
    }
    Ok(password)
}

/// Creates a key for the named user.
pub fn create_api_key_for(
    conn: &Connection,
    ids: &IdCodec,
    username: &str,
) -> Result<String, AuthError> {
    let user = users::find_by_name(conn, username)?
        .ok_or_else(|| AuthError::UnknownUser(username.into()))?;
    Ok(create_api_key(conn, ids, user.id)?)
}

/// Hashes a password with argon2id and a random salt (PHC string format).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default().hash_password(password.as_bytes(), &salt);
    hash.map(|hash| hash.to_string())
        .map_err(|_| AuthError::Hash)
}

/// What first start-up created: shown once in the log.
pub struct FirstAdmin {
    pub username: String,
    pub password: String,
    pub api_key: String,
}

/// Creates the `admin` account and a key for it when the database has no account yet.
pub fn ensure_first_admin(
    conn: &Connection,
    ids: &IdCodec,
) -> Result<Option<FirstAdmin>, AuthError> {
    if users::count(conn)? > 0 {
        return Ok(None);
    }
    let username = "admin".to_string();
    let (user_id, password) = create_user(conn, &username, Role::Admin)?;
    let api_key = create_api_key(conn, ids, user_id)?;
    Ok(Some(FirstAdmin {
        username,
        password,
        api_key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;

    fn setup() -> (tempfile::TempDir, Db, IdCodec) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path()).expect("db");
        (dir, db, IdCodec::new("test-salt", 999))
    }

    #[test]
    fn a_created_key_verifies_and_a_changed_one_does_not() {
        let (_dir, db, ids) = setup();
        db.with_conn(|conn| {
            let admin = ensure_first_admin(conn, &ids)
                .expect("admin")
                .expect("created");
            assert!(admin.api_key.starts_with("chv_"));
            let user = verify_api_key(conn, &ids, &admin.api_key)?.expect("valid key");
            assert_eq!(user.username, "admin");
            assert_eq!(user.role, Role::Admin);
            let mut tampered = admin.api_key.clone();
            tampered.pop();
            tampered.push('!');
            assert_eq!(
                verify_api_key(conn, &ids, &tampered)?.err(),
                Some(KeyRejection::Invalid)
            );
            for junk in ["", "chv_", "chv__x", "12345", "chv_zzzzzzzz_abc"] {
                assert_eq!(
                    verify_api_key(conn, &ids, junk)?.err(),
                    Some(KeyRejection::Invalid)
                );
            }
            Ok(())
        })
        .expect("db");
    }

    #[test]
    fn the_first_admin_is_created_only_once() {
        let (_dir, db, ids) = setup();
        db.with_conn(|conn| {
            assert!(ensure_first_admin(conn, &ids).expect("first").is_some());
            assert!(ensure_first_admin(conn, &ids).expect("second").is_none());
            Ok(())
        })
        .expect("db");
    }
}
