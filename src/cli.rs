//! The command line: `serve` (the default), `config example`, `key create`, `user add`,
//! `user passwd`.
//!
//! The account commands open the same database the server uses and work while it runs
//! (SQLite in WAL mode lets them write beside it).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::auth;
use crate::config::{self, Config, FlagOverrides};
use crate::db::users::Role;
use crate::startup::{open_services, Application};

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
        }
    }
}

fn load_config(args: &CommonArgs) -> anyhow::Result<Config> {
    let flags = FlagOverrides {
        listen: args.listen.clone(),
        data_dir: args.data_dir.clone(),
        public_url: args.public_url.clone(),
        max_upload_size: args.max_upload_size.clone(),
    };
    Config::load(args.config.as_deref(), &flags).context("invalid configuration")
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until_stopped()
        .await
        .context("the server stopped with an error")
}
