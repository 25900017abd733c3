//! Browser sessions: logging in with a password, finding the session a cookie names, and
//! logging out. Everything here blocks (argon2, SQLite) and runs off the async executor.
//!
//! A session token is 32 random bytes, sent to the browser once as a cookie and stored only
//! as its SHA-256, so a copy of the database holds no usable cookie. Each session carries its
//! own CSRF token, which the pages send back on every request that changes state; it is stored
//! in clear because it is worthless without the cookie. Sessions last [`SESSION_LIFETIME_SECS`]
//! from login and are not renewed. This module is the seam the accounts work builds on:
//! account pages call [`login`] and [`find`] as the upload page does.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::hash_password;
use crate::db::sessions::{self, SessionRecord};
use crate::db::users::{self, UserRecord};
use crate::db::{unix_now, DbError};

/// How long a session lasts after login: 30 days.
pub const SESSION_LIFETIME_SECS: i64 = 30 * 24 * 60 * 60;
/// Random bytes in a session token and in a CSRF token.
const TOKEN_BYTES: usize = 32;

/// A session that was just created: the token goes into the cookie and is not kept.
pub struct NewSession {
    pub token: String,
    pub user: UserRecord,
}

/// A live session, found by its cookie.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserRecord,
    pub csrf_token: String,
}

impl Session {
    /// Whether `sent` is this session's CSRF token; takes the same time whatever was sent.
    pub fn is_csrf_token(&self, sent: &str) -> bool {
        tokens_match(&self.csrf_token, sent)
    }
}

/// Compares two tokens in constant time.
pub fn tokens_match(expected: &str, sent: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

/// A new random token: 32 bytes in URL-safe base64.
pub fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Checks a user name and password and, when they match an enabled account, opens a session.
/// `None` for any wrong combination; an unknown user costs one argon2 verification like a
/// known one, so the answer's timing does not tell which names exist.
pub fn login(
    conn: &Connection,
    username: &str,
    password: &str,
) -> Result<Option<NewSession>, DbError> {
    let found = users::find_with_password(conn, username.trim())?;
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, dummy_hash().to_string()),
    };
    let is_verified = verify_password(&hash, password);
    let Some(user) = user.filter(|user| is_verified && !user.is_disabled) else {
        return Ok(None);
    };
    let token = new_token();
    let now = unix_now();
    let expires_at = now + SESSION_LIFETIME_SECS;
    sessions::insert(
        conn,
        &hash_token(&token),
        user.id,
        &new_token(),
        now,
        expires_at,
    )?;
    sessions::delete_expired(conn, now)?;
    Ok(Some(NewSession { token, user }))
}

fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A valid argon2 hash of a password nobody has, verified against when the user is unknown.
/// Made once per process with the same parameters as real hashes.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
}

/// The live session a cookie token names, when its account is still enabled.
pub fn find(conn: &Connection, token: &str) -> Result<Option<Session>, DbError> {
    let found = sessions::find_live(conn, &hash_token(token), unix_now())?;
    Ok(found
        .filter(|record: &SessionRecord| !record.user.is_disabled)
        .map(|record| Session {
            user: record.user,
            csrf_token: record.csrf_token,
        }))
}

/// Ends the session a cookie token names; nothing happens for an unknown token.
pub fn logout(conn: &Connection, token: &str) -> Result<(), DbError> {
    sessions::delete(conn, &hash_token(token))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ensure_first_admin;
    use crate::db::Db;
    use crate::domain::id_codec::IdCodec;

    #[test]
    fn a_login_opens_a_session_that_logout_ends() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Db::open(dir.path()).expect("db");
        let ids = IdCodec::new("salt", 999);
        db.with_conn(|conn| {
            let admin = ensure_first_admin(conn, &ids).expect("admin").expect("new");
            assert!(login(conn, "admin", "wrong")?.is_none());
            assert!(login(conn, "nobody", &admin.password)?.is_none());
            let opened = login(conn, "admin", &admin.password)?.expect("a session");

            let session = find(conn, &opened.token)?.expect("the session is live");
            assert_eq!(session.user.username, "admin");
            assert!(session.is_csrf_token(&session.csrf_token.clone()));
            assert!(!session.is_csrf_token(""));
            assert!(find(conn, "not-a-token")?.is_none());

            logout(conn, &opened.token)?;
            assert!(find(conn, &opened.token)?.is_none());
            Ok(())
        })
        .expect("db");
    }
}
