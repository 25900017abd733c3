//! The `sajin` binary: parse the command line, start logging, run, report how it ended.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = sajin::cli::Cli::parse();
    sajin::telemetry::init(cli.log_format());
    match cli.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sajin: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
