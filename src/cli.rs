//! The command line: `serve` (the default), `config example`, `key create`, `user add`,
//! `user passwd`, `check`, `backup` and `restore`.
//!
//! The account commands, `check` and `backup` open the same database the server uses and work
//! while it runs (SQLite in WAL mode lets them write beside it). `restore` refuses a data
//! directory a server holds.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Config, FlagOverrides, LogFormat};
use crate::db::users::Role;
use crate::db::{Db, DB_FILE};
use crate::startup::{open_services, Application};
use crate::storage::Storage;
use crate::{auth, backup, consistency};

/// sajin: a self-hosted image host for the home network, speaking Chevereto's upload API.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    common: CommonArgs,
}

/// Flags every command takes; each also reads the `SAJIN_*` variable of the same name.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Configuration file [default: /etc/sajin/config.toml when it exists]
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Folder for the database and images (SAJIN_DATA_DIR) [default: ./sajin-data]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Address to listen on (SAJIN_LISTEN) [default: 0.0.0.0:8080]
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<String>,
    /// Base URL for links, e.g. http://nas.local:8080 (SAJIN_PUBLIC_URL)
    #[arg(long, global = true, value_name = "URL")]
    public_url: Option<String>,
    /// Largest upload, e.g. "20 MB" (SAJIN_MAX_UPLOAD_SIZE) [default: 20 MB]
    #[arg(long, global = true, value_name = "SIZE")]
    max_upload_size: Option<String>,
    /// Log lines as "human" or "json" (SAJIN_LOG_FORMAT) [default: human]
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<LogFormat>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default when no command is given)
    Serve,
    /// Configuration helpers
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// API keys
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Accounts
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Report rows whose files are missing and files no row knows; exit status 0 only when
    /// there are none. Safe while the server runs.
    Check {
        /// Remove rows whose original is gone and move unknown files to lost+found/
        #[arg(long)]
        repair: bool,
    },
    /// Copy the database (SQLite's online backup) and the files into DEST, a new or empty
    /// folder. Safe while the server runs.
    Backup {
        /// Where the copy goes
        dest: PathBuf,
    },
    /// Replace the data directory's contents with a backup made by `sajin backup`. The server
    /// must be stopped.
    Restore {
        /// The backup folder
        src: PathBuf,
        /// Replace a data directory that is not empty
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print a fully commented sample configuration
    Example,
}

#[derive(Debug, Subcommand)]
enum KeyCommand {
    /// Create an API key for a user and print it on stdout
    Create {
        /// The account that owns the key
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account and print its one-time password on stdout
    Add {
        /// The account name: letters, digits, '-', '_' or '.'
        name: String,
        /// Make the account an administrator
        #[arg(long)]
        admin: bool,
    },
    /// Give an account a new random password and print it on stdout
    Passwd {
        /// The account name
        name: String,
    },
}

impl Cli {
    /// The log format from the flag, `SAJIN_LOG_FORMAT` or the config file; the default when
    /// the configuration does not load (that error is reported when the command runs).
    pub fn log_format(&self) -> LogFormat {
        load_config(&self.common).map_or(LogFormat::default(), |config| config.log_format)
    }

    /// Runs the chosen command.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(load_config(&self.common)?).await,
            Command::Config {
                command: ConfigCommand::Example,
            } => {
                print!("{}", config::EXAMPLE);
                Ok(())
            }
            Command::Key {
                command: KeyCommand::Create { user },
            } => {
                let services = open_services(load_config(&self.common)?)?;
                let key = services.db.with_conn(|conn| {
                    Ok(auth::create_api_key_for(conn, &services.key_ids, &user))
                })??;
                println!("{key}");
                Ok(())
            }
            Command::User {
                command: UserCommand::Add { name, admin },
            } => {
                let role = if admin { Role::Admin } else { Role::User };
                let services = open_services(load_config(&self.common)?)?;
                let (_, password) = services
                    .db
                    .with_conn(|conn| Ok(auth::create_user(conn, &name, role)))??;
                println!("{password}");
                Ok(())
            }
            Command::User {
                command: UserCommand::Passwd { name },
            } => {
                let services = open_services(load_config(&self.common)?)?;
                let password = services
                    .db
                    .with_conn(|conn| Ok(auth::reset_password(conn, &name)))??;
                println!("{password}");
                Ok(())
            }
            Command::Check { repair } => {
                let config = load_config(&self.common)?;
                blocking(move || check(&config, repair)).await
            }
            Command::Backup { dest } => {
                let config = load_config(&self.common)?;
                blocking(move || run_backup(&config, &dest)).await
            }
            Command::Restore { src, force } => {
                let config = load_config(&self.common)?;
                blocking(move || run_restore(&config, &src, force)).await
            }
        }
    }
}

async fn blocking(
    work: impl FnOnce() -> anyhow::Result<()> + Send + 'static,
) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(work)
        .await
        .context("the command's task failed")?
}

fn check(config: &Config, repair: bool) -> anyhow::Result<()> {
    let data_dir = &config.data_dir;
    if !data_dir.join(DB_FILE).is_file() {
        bail!("there is no sajin database in {}", data_dir.display());
    }
    let storage = Storage::open(data_dir).context("opening the image folder")?;
    let db = Db::open(data_dir).context("opening the database")?;
    let report = consistency::check(&db, &storage, std::time::SystemTime::now())
        .context("checking the data directory")?;
    println!("{report}");
    if report.is_consistent() {
        return Ok(());
    }
    if !repair {
        bail!("the data directory is not consistent: run `sajin check --repair` to fix it");
    }
    let repaired = consistency::repair(&db, &storage, &report).context("repairing")?;
    println!("{repaired}");
    if !repaired.is_complete() {
        bail!("some uploads are still missing variant files");
    }
    Ok(())
}

fn run_backup(config: &Config, dest: &std::path::Path) -> anyhow::Result<()> {
    let summary = backup::backup(&config.data_dir, dest)
        .with_context(|| format!("backing up into {}", dest.display()))?;
    println!(
        "backed up {} uploads ({} files, {} bytes) into {}",
        summary.uploads,
        summary.files,
        summary.bytes,
        dest.display()
    );
    if !summary.left_out.is_empty() {
        println!(
            "left out {} uploads deleted while the backup ran",
            summary.left_out.len()
        );
    }
    Ok(())
}

fn run_restore(config: &Config, src: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let summary = backup::restore(src, &config.data_dir, force)
        .with_context(|| format!("restoring {}", src.display()))?;
    println!(
        "restored {} files ({} bytes) into {}",
        summary.files,
        summary.bytes,
        config.data_dir.display()
    );
    Ok(())
}

fn load_config(args: &CommonArgs) -> anyhow::Result<Config> {
    let flags = FlagOverrides {
        listen: args.listen.clone(),
        data_dir: args.data_dir.clone(),
        public_url: args.public_url.clone(),
        max_upload_size: args.max_upload_size.clone(),
        log_format: args.log_format,
    };
    Config::load(args.config.as_deref(), &flags).context("invalid configuration")
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until_stopped()
        .await
        .context("the server stopped with an error")
}
