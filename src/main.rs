//! The `banca` binary: parse the command line, load configuration, run.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = banca::cli::Cli::parse();
    // A `.env` file in the working folder fills variables the environment does not set.
    let dotenv = dotenvy::dotenv();
    let config = match banca::config::Config::from_env() {
        Ok(c) => c,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::from(1);
        }
    };
    banca::telemetry::init(&config);
    if let Err(e) = &dotenv {
        if !e.not_found() {
            tracing::warn!(error = %e, "could not read .env");
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(banca::cli::run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "command failed");
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
