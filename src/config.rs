//! Configuration: the raw layered settings and the validated [`Config`] the server runs on.
//!
//! Layers, lowest first: built-in defaults, the TOML file (`--config FILE`, else
//! `/etc/sajin/config.toml` when it exists), `SAJIN_*` environment variables, then command-line
//! flags. Every setting has one name in all layers: the file key `max_upload_size` is the env
//! var `SAJIN_MAX_UPLOAD_SIZE` and, where a flag exists, `--max-upload-size`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::disk::Reserve;

/// Where the config file is looked for when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/sajin/config.toml";

/// Every setting's name; `SAJIN_` plus one of these in capitals is read from the environment.
/// Other `SAJIN_*` variables are left alone, so scripts may use the prefix for themselves.
pub const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "public_url",
    "trust_proxy",
    "allow_private_urls",
    "max_upload_size",
    "max_image_pixels",
    "strip_gps",
    "duplicate_policy",
    "purge_interval_secs",
    "url_fetch_timeout_secs",
    "keep_alive_secs",
    "client_timeout_secs",
    "workers",
    "id_padding",
    "id_salt",
    "ffmpeg_path",
    "disk_reserve",
    "metrics_public",
    "log_format",
];

/// The settings exactly as the layers give them, before validation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    pub public_url: Option<String>,
    pub trust_proxy: bool,
    pub allow_private_urls: bool,
    pub max_upload_size: ByteSize,
    pub max_image_pixels: u64,
    pub strip_gps: bool,
    pub duplicate_policy: DuplicatePolicy,
    pub purge_interval_secs: u64,
    pub url_fetch_timeout_secs: u64,
    pub keep_alive_secs: u64,
    pub client_timeout_secs: u64,
    pub workers: Option<usize>,
    pub id_padding: u64,
    pub id_salt: Option<String>,
    pub ffmpeg_path: PathBuf,
    /// Unset: 1 GiB, or 5 % of the volume when that is smaller.
    pub disk_reserve: Option<ByteSize>,
    pub metrics_public: bool,
    pub log_format: LogFormat,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            listen: "0.0.0.0:8080".into(),
            data_dir: PathBuf::from("./sajin-data"),
            public_url: None,
            trust_proxy: false,
            allow_private_urls: false,
            max_upload_size: ByteSize(20_000_000),
            max_image_pixels: 100_000_000,
            strip_gps: true,
            duplicate_policy: DuplicatePolicy::Allow,
            purge_interval_secs: 60,
            url_fetch_timeout_secs: 30,
            keep_alive_secs: 5,
            client_timeout_secs: 60,
            workers: None,
            id_padding: 999,
            id_salt: None,
            ffmpeg_path: PathBuf::from("ffmpeg"),
            disk_reserve: None,
            metrics_public: false,
            log_format: LogFormat::Human,
        }
    }
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "human" => Ok(LogFormat::Human),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("log format {other:?}: use human or json")),
        }
    }
}

/// What to do when the same bytes come again from the same address within a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuplicatePolicy {
    /// Every upload is its own item.
    Allow,
    /// Chevereto's behaviour: refuse with error 101.
    Reject,
}

/// A size in bytes, written in files as a number of bytes or as a string such as `"20 MB"`.
/// `KB`, `MB`, `GB` and `TB` are decimal (1 MB = 1,000,000 bytes), as in Chevereto's "max
/// 20 MB"; `KiB`, `MiB`, `GiB` and `TiB` are binary (1 GiB = 2^30 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ByteSizeInput", into = "u64")]
pub struct ByteSize(pub u64);

#[derive(Deserialize)]
#[serde(untagged)]
enum ByteSizeInput {
    Number(u64),
    Text(String),
}

impl From<ByteSize> for u64 {
    fn from(size: ByteSize) -> u64 {
        size.0
    }
}

impl TryFrom<ByteSizeInput> for ByteSize {
    type Error = String;

    fn try_from(input: ByteSizeInput) -> Result<Self, Self::Error> {
        match input {
            ByteSizeInput::Number(bytes) => Ok(ByteSize(bytes)),
            ByteSizeInput::Text(text) => parse_byte_size(&text).map(ByteSize),
        }
    }
}

/// Parses `"20 MB"`, `"512KB"`, `"1GiB"` or a plain number of bytes.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("invalid size {text:?}: write it like \"20 MB\" or 20000000"))?;
    let multiplier = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1.0,
        "KB" | "K" => 1e3,
        "MB" | "M" => 1e6,
        "GB" | "G" => 1e9,
        "TB" | "T" => 1e12,
        "KIB" => 1024.0,
        "MIB" => 1024.0 * 1024.0,
        "GIB" => 1024.0 * 1024.0 * 1024.0,
        "TIB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ))
        }
    };
    Ok((number * multiplier).round() as u64)
}

/// Flags given on the command line; `None` leaves the lower layers in force.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_upload_size: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// Errors while loading or validating configuration. Each message says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("could not read the configuration: {0}")]
    Layers(#[from] Box<figment::Error>),
    #[error("listen = {0:?} is not an address like 0.0.0.0:8080 or [::]:8080")]
    Listen(String),
    #[error(
        "public_url = {0:?} must be an absolute http:// or https:// URL, \
         e.g. http://nas.local:8080"
    )]
    PublicUrl(String),
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    #[error("id_salt is empty: remove it to use this install's own salt")]
    EmptySalt,
    #[error(
        "ffmpeg_path is empty: name the ffmpeg binary (the default \"ffmpeg\" looks on the PATH)"
    )]
    EmptyFfmpegPath,
}

/// The validated configuration the server runs on.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Base URL without a trailing slash, e.g. `http://nas.local:8080`.
    pub public_url: Option<String>,
    pub trust_proxy: bool,
    pub allow_private_urls: bool,
    pub max_upload_bytes: u64,
    pub max_image_pixels: u64,
    pub strip_gps: bool,
    pub duplicate_policy: DuplicatePolicy,
    pub purge_interval: Duration,
    pub url_fetch_timeout: Duration,
    pub keep_alive: Duration,
    pub client_timeout: Duration,
    pub workers: Option<usize>,
    pub id_padding: u64,
    /// The salt of public upload ids; `None` uses the one this install made at first start.
    pub id_salt: Option<String>,
    /// The ffmpeg that takes video frames: a path, or a name looked up on the PATH. When it
    /// does not run, videos get placeholder frames.
    pub ffmpeg_path: PathBuf,
    /// Free space an upload must leave on the data directory's volume.
    pub disk_reserve: Reserve,
    /// Whether `/metrics` answers every client, not only loopback ones and admin keys.
    pub metrics_public: bool,
    pub log_format: LogFormat,
}

impl Config {
    /// Loads every layer and validates the result.
    pub fn load(config_file: Option<&Path>, flags: &FlagOverrides) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
        match config_file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.into())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_PATH).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_PATH))
            }
            None => {}
        }
        let raw: RawConfig = figment
            .merge(Env::prefixed("SAJIN_").only(KEYS))
            .merge(Serialized::defaults(flags))
            .extract()
            .map_err(Box::new)?;
        Self::validate(raw)
    }

    /// Turns raw settings into a config, refusing contradictory or unusable values.
    pub fn validate(raw: RawConfig) -> Result<Self, ConfigError> {
        let listen = raw
            .listen
            .parse()
            .map_err(|_| ConfigError::Listen(raw.listen.clone()))?;
        let public_url = raw
            .public_url
            .as_deref()
            .map(validate_public_url)
            .transpose()?;
        if raw.max_upload_size.0 == 0 {
            return Err(ConfigError::Zero("max_upload_size"));
        }
        if raw.max_image_pixels == 0 {
            return Err(ConfigError::Zero("max_image_pixels"));
        }
        if raw.purge_interval_secs == 0 {
            return Err(ConfigError::Zero("purge_interval_secs"));
        }
        if raw.url_fetch_timeout_secs == 0 {
            return Err(ConfigError::Zero("url_fetch_timeout_secs"));
        }
        if raw
            .id_salt
            .as_deref()
            .is_some_and(|salt| salt.trim().is_empty())
        {
            return Err(ConfigError::EmptySalt);
        }
        if raw.ffmpeg_path.as_os_str().is_empty() {
            return Err(ConfigError::EmptyFfmpegPath);
        }
        Ok(Self {
            listen,
            data_dir: raw.data_dir,
            public_url,
            trust_proxy: raw.trust_proxy,
            allow_private_urls: raw.allow_private_urls,
            max_upload_bytes: raw.max_upload_size.0,
            max_image_pixels: raw.max_image_pixels,
            strip_gps: raw.strip_gps,
            duplicate_policy: raw.duplicate_policy,
            purge_interval: Duration::from_secs(raw.purge_interval_secs),
            url_fetch_timeout: Duration::from_secs(raw.url_fetch_timeout_secs),
            keep_alive: Duration::from_secs(raw.keep_alive_secs),
            client_timeout: Duration::from_secs(raw.client_timeout_secs),
            workers: raw.workers,
            id_padding: raw.id_padding,
            id_salt: raw.id_salt,
            ffmpeg_path: raw.ffmpeg_path,
            disk_reserve: raw
                .disk_reserve
                .map_or(Reserve::Default, |size| Reserve::Bytes(size.0)),
            metrics_public: raw.metrics_public,
            log_format: raw.log_format,
        })
    }

    /// A config for tests and embedding: defaults with the given data directory and an
    /// ephemeral loopback port.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        let raw = RawConfig {
            listen: "127.0.0.1:0".into(),
            data_dir: data_dir.into(),
            ..RawConfig::default()
        };
        Self::validate(raw).expect("the built-in defaults are valid")
    }
}

fn validate_public_url(text: &str) -> Result<String, ConfigError> {
    let url = Url::parse(text).map_err(|_| ConfigError::PublicUrl(text.into()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::PublicUrl(text.into()));
    }
    Ok(text.trim_end_matches('/').to_string())
}

/// The commented sample configuration printed by `sajin config example`.
pub const EXAMPLE: &str = include_str!("config_example.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_in_decimal_units() {
        let cases = [
            ("20 MB", 20_000_000),
            ("512KB", 512_000),
            ("1GB", 1_000_000_000),
            ("42", 42),
            ("2 TB", 2_000_000_000_000),
            ("1GiB", 1 << 30),
            ("500MiB", 500 << 20),
            ("64 KiB", 65_536),
            ("1 tib", 1 << 40),
        ];
        for (text, bytes) in cases {
            assert_eq!(parse_byte_size(text), Ok(bytes), "{text}");
        }
        assert!(parse_byte_size("20 parsecs").is_err());
        assert!(parse_byte_size("MB").is_err());
    }

    #[test]
    fn the_example_config_parses_to_the_defaults() {
        let raw: RawConfig = Figment::from(Serialized::defaults(RawConfig::default()))
            .merge(Toml::string(EXAMPLE))
            .extract()
            .expect("example parses");
        let config = Config::validate(raw).expect("example validates");
        assert_eq!(config.max_upload_bytes, 20_000_000);
        assert_eq!(config.listen.port(), 8080);
        assert_eq!(config.ffmpeg_path, PathBuf::from("ffmpeg"));
        assert_eq!(config.disk_reserve, Reserve::Default);
        assert!(!config.metrics_public);
        assert_eq!(config.log_format, LogFormat::Human);
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn the_disk_reserve_and_log_format_come_from_file_and_env() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "sajin.toml",
                "disk_reserve = \"500MB\"\nlog_format = \"json\"",
            )?;
            let from_file = Config::load(Some(Path::new("sajin.toml")), &FlagOverrides::default())
                .map_err(|err| err.to_string())?;
            assert_eq!(from_file.disk_reserve, Reserve::Bytes(500_000_000));
            assert_eq!(from_file.log_format, LogFormat::Json);

            jail.set_env("SAJIN_DISK_RESERVE", "1GiB");
            jail.set_env("SAJIN_METRICS_PUBLIC", "true");
            let flags = FlagOverrides {
                log_format: Some(LogFormat::Human),
                ..FlagOverrides::default()
            };
            let from_env = Config::load(Some(Path::new("sajin.toml")), &flags)
                .map_err(|err| err.to_string())?;
            assert_eq!(from_env.disk_reserve, Reserve::Bytes(1 << 30));
            assert!(from_env.metrics_public);
            assert_eq!(from_env.log_format, LogFormat::Human, "flag over file");
            Ok(())
        });
    }

    #[test]
    fn an_empty_ffmpeg_path_is_refused() {
        let raw = RawConfig {
            ffmpeg_path: PathBuf::new(),
            ..RawConfig::default()
        };
        assert!(matches!(
            Config::validate(raw),
            Err(ConfigError::EmptyFfmpegPath)
        ));
    }

    #[test]
    fn a_public_url_without_scheme_is_refused() {
        let raw = RawConfig {
            public_url: Some("nas.local:8080".into()),
            ..RawConfig::default()
        };
        assert!(matches!(
            Config::validate(raw),
            Err(ConfigError::PublicUrl(_))
        ));
    }

    #[test]
    fn a_trailing_slash_on_the_public_url_is_dropped() {
        let raw = RawConfig {
            public_url: Some("http://nas.local:8080/".into()),
            ..RawConfig::default()
        };
        let config = Config::validate(raw).expect("valid");
        assert_eq!(config.public_url.as_deref(), Some("http://nas.local:8080"));
    }

    // `Jail` closures must return figment's own (large) error type.
    #[test]
    #[allow(clippy::result_large_err)]
    fn each_layer_overrides_the_one_below_it() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "sajin.toml",
                r#"
                    listen = "127.0.0.1:7001"
                    public_url = "http://from-file"
                    max_upload_size = "1 MB"
                    purge_interval_secs = 7
                "#,
            )?;
            jail.set_env("SAJIN_PUBLIC_URL", "http://from-env");
            jail.set_env("SAJIN_MAX_UPLOAD_SIZE", "2 MB");
            jail.set_env("SAJIN_ALLOW_PRIVATE_URLS", "true");
            let flags = FlagOverrides {
                max_upload_size: Some("3 MB".into()),
                ..FlagOverrides::default()
            };

            let config = Config::load(Some(Path::new("sajin.toml")), &flags)
                .map_err(|err| err.to_string())?;

            assert_eq!(config.listen.port(), 7001, "file over default");
            assert_eq!(
                config.purge_interval,
                Duration::from_secs(7),
                "file over default"
            );
            assert_eq!(
                config.public_url.as_deref(),
                Some("http://from-env"),
                "env over file"
            );
            assert!(config.allow_private_urls, "env over default");
            assert_eq!(config.max_upload_bytes, 3_000_000, "flag over env");
            assert!(config.strip_gps, "untouched settings keep their default");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn an_unknown_key_in_the_file_is_refused() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("sajin.toml", "max_upload_sise = 5")?;
            let result = Config::load(Some(Path::new("sajin.toml")), &FlagOverrides::default());
            let message = result.err().map(|err| err.to_string()).unwrap_or_default();
            assert!(message.contains("max_upload_sise"), "{message}");
            Ok(())
        });
    }
}
