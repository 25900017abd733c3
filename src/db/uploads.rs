//! Queries over the `uploads` table: one row per stored image and its variants.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::DbError;

/// A resized copy stored beside the original (`NAME.th.EXT`, `NAME.md.EXT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantRecord {
    pub extension: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
}

/// What a video has besides the fields every upload has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoRecord {
    /// Length in milliseconds; 0 when the container did not say.
    pub duration_ms: u64,
    /// The poster frame (`NAME.fr.EXT`) the thumbnail and medium were made from.
    pub frame: VariantRecord,
}

impl VideoRecord {
    /// The video's length.
    pub fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.duration_ms)
    }
}

/// Everything stored about one upload. `id` is 0 until the row is inserted.
#[derive(Debug, Clone)]
pub struct UploadRecord {
    pub id: i64,
    pub user_id: Option<i64>,
    pub album_id: Option<i64>,
    pub category_id: Option<i64>,
    /// Folder relative to the data directory, e.g. `images/2026/12/03`.
    pub storage_dir: String,
    /// File stem shared by the original and its variants.
    pub name: String,
    pub extension: String,
    pub mime: String,
    pub size: u64,
    pub width: u32,
    pub height: u32,
    pub thumb: VariantRecord,
    pub medium: Option<VariantRecord>,
    /// Set for videos, `None` for images.
    pub video: Option<VideoRecord>,
    pub original_filename: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub is_nsfw: bool,
    pub md5: String,
    pub source_md5: String,
    pub exif_json: Option<String>,
    pub is_animated: bool,
    pub is_360: bool,
    /// Chevereto's `date`: the site-local time, `YYYY-MM-DD HH:MM:SS`.
    pub date_local: String,
    /// Chevereto's `date_gmt`, in UTC.
    pub date_gmt: String,
    /// Unix seconds when the upload was received.
    pub created_at: i64,
    /// Unix seconds after which the upload is gone.
    pub expires_at: Option<i64>,
    /// SHA-256 of the delete secret.
    pub delete_hash: Vec<u8>,
    pub uploader_ip: Option<String>,
    pub views: u64,
    pub likes: u64,
}

impl UploadRecord {
    /// Whether the upload has expired at `now` (Unix seconds), purged or not.
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Whether the upload is a video (its original plays; its frame is the picture).
    pub fn is_video(&self) -> bool {
        self.video.is_some()
    }

    /// File names of the original and every variant, original first.
    pub fn file_names(&self) -> Vec<String> {
        file_names(
            &self.name,
            &self.extension,
            &self.thumb.extension,
            self.medium.as_ref().map(|medium| medium.extension.as_str()),
            self.video
                .as_ref()
                .map(|video| video.frame.extension.as_str()),
        )
    }
}

fn file_names(
    name: &str,
    extension: &str,
    thumb: &str,
    medium: Option<&str>,
    frame: Option<&str>,
) -> Vec<String> {
    let mut names = vec![format!("{name}.{extension}")];
    names.push(format!("{name}.th.{thumb}"));
    if let Some(medium) = medium {
        names.push(format!("{name}.md.{medium}"));
    }
    if let Some(frame) = frame {
        names.push(format!("{name}.fr.{frame}"));
    }
    names
}

/// Where one upload's files are: enough to check them against the disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFiles {
    pub id: i64,
    /// Folder relative to the data directory, e.g. `images/2026/12/03`.
    pub storage_dir: String,
    /// The original first, then every variant.
    pub file_names: Vec<String>,
}

/// The files of every upload row, by id.
pub fn all_stored_files(conn: &Connection) -> Result<Vec<StoredFiles>, DbError> {
    let mut stmt = conn.prepare(
        "SELECT id, storage_dir, name, extension, thumb_extension, medium_extension,
            frame_extension FROM uploads ORDER BY id",
    )?;
    let rows = stmt.query_map([], |row| {
        let name: String = row.get(2)?;
        let extension: String = row.get(3)?;
        let thumb: String = row.get(4)?;
        let medium: Option<String> = row.get(5)?;
        let frame: Option<String> = row.get(6)?;
        Ok(StoredFiles {
            id: row.get(0)?,
            storage_dir: row.get(1)?,
            file_names: file_names(
                &name,
                &extension,
                &thumb,
                medium.as_deref(),
                frame.as_deref(),
            ),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The files of one upload row, or None when it is gone.
pub fn stored_files(conn: &Connection, id: i64) -> Result<Option<StoredFiles>, DbError> {
    Ok(get(conn, id)?.map(|record| StoredFiles {
        id: record.id,
        storage_dir: record.storage_dir.clone(),
        file_names: record.file_names(),
    }))
}

/// Bytes the stored files take, originals and variants, as recorded in the rows.
pub fn stored_bytes(conn: &Connection) -> Result<u64, DbError> {
    let bytes: i64 = conn.query_row(
        "SELECT COALESCE(SUM(size + thumb_size + COALESCE(medium_size, 0)
            + COALESCE(frame_size, 0)), 0) FROM uploads",
        [],
        |row| row.get(0),
    )?;
    Ok(bytes.max(0) as u64)
}

const COLUMNS: &str = "id, user_id, album_id, category_id, storage_dir, name, extension, mime, \
    size, width, height, thumb_extension, thumb_size, thumb_width, thumb_height, \
    medium_extension, medium_size, medium_width, medium_height, original_filename, title, \
    description, tags, nsfw, md5, source_md5, exif_json, is_animated, is_360, date_local, \
    date_gmt, created_at, expires_at, delete_hash, uploader_ip, views, likes, duration_ms, \
    frame_extension, frame_size, frame_width, frame_height";

/// Inserts the row and returns its id.
pub fn insert(conn: &Connection, upload: &UploadRecord) -> Result<i64, DbError> {
    let tags = serde_json::to_string(&upload.tags)
        .map_err(|err| DbError::Corrupt(format!("tags do not serialise: {err}")))?;
    let medium = upload.medium.as_ref();
    let video = upload.video.as_ref();
    let frame = video.map(|video| &video.frame);
    conn.execute(
        "INSERT INTO uploads (user_id, album_id, category_id, storage_dir, name, extension, mime,
            size, width, height, thumb_extension, thumb_size, thumb_width, thumb_height,
            medium_extension, medium_size, medium_width, medium_height, original_filename,
            title, description, tags, nsfw, md5, source_md5, exif_json, is_animated, is_360,
            date_local, date_gmt, created_at, expires_at, delete_hash, uploader_ip, duration_ms,
            frame_extension, frame_size, frame_width, frame_height)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
            ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34,
            ?35, ?36, ?37, ?38, ?39)",
        params![
            upload.user_id,
            upload.album_id,
            upload.category_id,
            upload.storage_dir,
            upload.name,
            upload.extension,
            upload.mime,
            upload.size as i64,
            upload.width,
            upload.height,
            upload.thumb.extension,
            upload.thumb.size as i64,
            upload.thumb.width,
            upload.thumb.height,
            medium.map(|m| m.extension.as_str()),
            medium.map(|m| m.size as i64),
            medium.map(|m| m.width),
            medium.map(|m| m.height),
            upload.original_filename,
            upload.title,
            upload.description,
            tags,
            upload.is_nsfw,
            upload.md5,
            upload.source_md5,
            upload.exif_json,
            upload.is_animated,
            upload.is_360,
            upload.date_local,
            upload.date_gmt,
            upload.created_at,
            upload.expires_at,
            upload.delete_hash,
            upload.uploader_ip,
            video.map(|video| video.duration_ms as i64),
            frame.map(|frame| frame.extension.as_str()),
            frame.map(|frame| frame.size as i64),
            frame.map(|frame| frame.width),
            frame.map(|frame| frame.height),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Looks an upload up by id.
pub fn get(conn: &Connection, id: i64) -> Result<Option<UploadRecord>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM uploads WHERE id = ?1");
    let found = conn.query_row(&sql, [id], from_row).optional()?;
    Ok(found)
}

/// The upload that owns file `file_name` (original or variant) in folder `storage_dir`.
pub fn get_by_file(
    conn: &Connection,
    storage_dir: &str,
    file_name: &str,
) -> Result<Option<UploadRecord>, DbError> {
    let Some(stem) = file_name.split('.').next() else {
        return Ok(None);
    };
    let sql = format!("SELECT {COLUMNS} FROM uploads WHERE storage_dir = ?1 AND name = ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![storage_dir, stem], from_row)?;
    for row in rows {
        let record = row?;
        if record.file_names().iter().any(|name| name == file_name) {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// Whether the same source bytes came from `ip` at or after `since` (Unix seconds).
pub fn has_recent_duplicate(
    conn: &Connection,
    source_md5: &str,
    ip: &str,
    since: i64,
) -> Result<bool, DbError> {
    let found: Option<i64> = conn
        .query_row(
            "SELECT id FROM uploads WHERE source_md5 = ?1 AND uploader_ip = ?2
             AND created_at >= ?3 LIMIT 1",
            params![source_md5, ip, since],
            |row| row.get(0),
        )
        .optional()?;
    Ok(found.is_some())
}

/// Up to `limit` uploads that expired at or before `now`, oldest expiry first.
pub fn expired(conn: &Connection, now: i64, limit: u32) -> Result<Vec<UploadRecord>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM uploads WHERE expires_at IS NOT NULL AND expires_at <= ?1
         ORDER BY expires_at LIMIT ?2"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![now, limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One page of a user's live uploads (not expired at `now`), newest first, and how many they
/// have in all.
pub fn page_of_user(
    conn: &Connection,
    user_id: i64,
    now: i64,
    limit: u32,
    offset: u64,
) -> Result<(Vec<UploadRecord>, u64), DbError> {
    let live = "user_id = ?1 AND (expires_at IS NULL OR expires_at > ?2)";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM uploads WHERE {live}"),
        params![user_id, now],
        |row| row.get(0),
    )?;
    let sql = format!(
        "SELECT {COLUMNS} FROM uploads WHERE {live}
         ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![user_id, now, limit, offset as i64], from_row)?;
    Ok((rows.collect::<Result<_, _>>()?, total as u64))
}

/// Deletes the row; returns whether it existed.
pub fn delete(conn: &Connection, id: i64) -> Result<bool, DbError> {
    Ok(conn.execute("DELETE FROM uploads WHERE id = ?1", [id])? > 0)
}

/// Number of upload rows.
pub fn count(conn: &Connection) -> Result<u64, DbError> {
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM uploads", [], |row| row.get(0))?;
    Ok(count as u64)
}

/// Whether album `album_id` exists and belongs to `user_id`.
pub fn album_belongs_to(conn: &Connection, album_id: i64, user_id: i64) -> Result<bool, DbError> {
    let owner: Option<Option<i64>> = conn
        .query_row(
            "SELECT user_id FROM albums WHERE id = ?1",
            [album_id],
            |row| row.get(0),
        )
        .optional()?;
    Ok(owner.flatten() == Some(user_id))
}

/// Whether category `id` exists.
pub fn category_exists(conn: &Connection, id: i64) -> Result<bool, DbError> {
    let found: Option<i64> = conn
        .query_row("SELECT id FROM categories WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?;
    Ok(found.is_some())
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<UploadRecord> {
    let tags: String = row.get("tags")?;
    let medium_extension: Option<String> = row.get("medium_extension")?;
    let medium = match medium_extension {
        Some(extension) => Some(VariantRecord {
            extension,
            size: row.get::<_, i64>("medium_size")? as u64,
            width: row.get("medium_width")?,
            height: row.get("medium_height")?,
        }),
        None => None,
    };
    let frame_extension: Option<String> = row.get("frame_extension")?;
    let video = match frame_extension {
        Some(extension) => Some(VideoRecord {
            duration_ms: row.get::<_, Option<i64>>("duration_ms")?.unwrap_or(0) as u64,
            frame: VariantRecord {
                extension,
                size: row.get::<_, i64>("frame_size")? as u64,
                width: row.get("frame_width")?,
                height: row.get("frame_height")?,
            },
        }),
        None => None,
    };
    Ok(UploadRecord {
        id: row.get("id")?,
        user_id: row.get("user_id")?,
        album_id: row.get("album_id")?,
        category_id: row.get("category_id")?,
        storage_dir: row.get("storage_dir")?,
        name: row.get("name")?,
        extension: row.get("extension")?,
        mime: row.get("mime")?,
        size: row.get::<_, i64>("size")? as u64,
        width: row.get("width")?,
        height: row.get("height")?,
        thumb: VariantRecord {
            extension: row.get("thumb_extension")?,
            size: row.get::<_, i64>("thumb_size")? as u64,
            width: row.get("thumb_width")?,
            height: row.get("thumb_height")?,
        },
        medium,
        video,
        original_filename: row.get("original_filename")?,
        title: row.get("title")?,
        description: row.get("description")?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        is_nsfw: row.get("nsfw")?,
        md5: row.get("md5")?,
        source_md5: row.get("source_md5")?,
        exif_json: row.get("exif_json")?,
        is_animated: row.get("is_animated")?,
        is_360: row.get("is_360")?,
        date_local: row.get("date_local")?,
        date_gmt: row.get("date_gmt")?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        delete_hash: row.get("delete_hash")?,
        uploader_ip: row.get("uploader_ip")?,
        views: row.get::<_, i64>("views")? as u64,
        likes: row.get::<_, i64>("likes")? as u64,
    })
}
