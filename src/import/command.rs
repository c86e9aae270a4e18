//! The `banca import` subcommand's arguments and its run on the configured database.

use std::io::Write;
use std::path::PathBuf;

use sqlx::PgPool;

use super::report;
use crate::config::Config;

/// `banca import`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The existing system's database URL (its DATABASE_URL or, better, DIRECT_URL).
    #[arg(long = "from", value_name = "URL")]
    pub from: String,
    /// Read and convert everything, report what would change, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Only compare the two databases (counts and money sums); import nothing.
    #[arg(long, conflicts_with_all = ["dry_run", "no_verify"])]
    pub verify_only: bool,
    /// Do not run the verification after the import.
    #[arg(long)]
    pub no_verify: bool,
    /// Write every value that was not already a whole cent to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub rounding_report: Option<PathBuf>,
    /// Legacy rows per page; each page is one transaction.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(i64).range(1..=50_000))]
    pub batch_size: i64,
}

/// Runs the import into `target` (the direct pool of DIRECT_URL, else DATABASE_URL) and prints
/// its report to stdout (progress on stderr). `Ok(false)`: the verification found differences.
pub async fn run(args: ImportArgs, config: &Config, target: &PgPool) -> anyhow::Result<bool> {
    use std::io::IsTerminal;
    let opts = super::Options {
        source_url: args.from,
        dry_run: args.dry_run,
        verify_only: args.verify_only,
        skip_verify: args.no_verify,
        rounding_report: args.rounding_report.clone(),
        batch_size: args.batch_size,
        progress: if std::io::stderr().is_terminal() {
            super::Progress::Bars
        } else {
            super::Progress::Lines
        },
        business_tz: config.business_timezone,
    };
    if args.dry_run {
        eprintln!("dry run: everything is written inside a transaction that is rolled back");
    }
    let outcome = super::run(target, &opts).await?;
    let mut out = std::io::stdout().lock();
    report::print(&mut out, &outcome, args.rounding_report.as_deref())?;
    writeln!(out, "{}", report::summary(&outcome))?;
    Ok(outcome.verified())
}
