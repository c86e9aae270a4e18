//! The `banca` binary: parse the command line, load configuration, run.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tune_allocator();
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
    let _telemetry = banca::telemetry::init(&config);
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

/// glibc raises its mmap threshold after a large block is freed, so the 19 MiB buffers of
/// argon2 (one per login) end up kept in per-thread arenas: parallel logins once left the
/// server at 600+ MB resident. A fixed threshold hands such blocks back to the system on free,
/// and fewer arenas fragment less.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}
