//! The `sajin` binary: parse the command line, start logging, run, report how it ended.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    sajin::telemetry::init();
    match sajin::cli::Cli::parse().run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sajin: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
