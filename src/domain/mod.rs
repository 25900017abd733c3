//! Validated values that arrive from clients: encoded ids, expirations, tags, file names,
//! base64 sources and slugs. Everything here is pure and free of I/O.

pub mod base64_source;
pub mod expiration;
pub mod filename;
pub mod id_codec;
pub mod slug;
pub mod tags;

pub use base64_source::{classify_text_source, SourceError, TextSource};
pub use expiration::{parse_expiration, Expiration, ExpirationError};
pub use filename::{sanitize_stem, title_from_filename};
pub use id_codec::IdCodec;
pub use slug::slugify;
pub use tags::{parse_tags, tags_string, TagError};
