//! `banca import --from <URL>`: copies a banca's data from the existing system (Prisma's
//! PostgreSQL schema, `shared/spec/domain-sales.md` §1) into Banca, keeping every id, and
//! verifies the result. The runbook and every rule are in docs/migrating.md.
//!
//! - [`tables`]: what each Banca table is filled from, in foreign-key order;
//! - [`money`]: floats to exact decimals, and the rounding report;
//! - [`copy`]: the paged, idempotent upsert of each table;
//! - [`derived`]: running totals, per-number sales, rollups and the ticket sequence, rebuilt;
//! - [`verify`]: counts and money sums compared between the two databases;
//! - [`report`]: what the command prints; [`command`]: its arguments.

pub mod command;
pub mod copy;
pub mod derived;
pub mod money;
pub mod report;
pub mod tables;
pub mod verify;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, PgConnection, PgPool};

use crate::db::{query, query_scalar};
use copy::{Collected, Mode, TableOutcome};
use derived::DerivedOutcome;
use money::Rounded;
use verify::Verification;

/// What to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The existing system's database URL (Prisma's `?schema=` is honoured).
    pub source_url: String,
    /// Read and convert everything and write inside a transaction that is rolled back.
    pub dry_run: bool,
    /// Only compare the two databases.
    pub verify_only: bool,
    /// Skip the verification after the import.
    pub skip_verify: bool,
    /// Where to write the rounding report (CSV).
    pub rounding_report: Option<PathBuf>,
    /// Legacy rows per page (one transaction each).
    pub batch_size: i64,
    /// How the run shows its progress on stderr.
    pub progress: Progress,
    /// The business time zone (legacy timestamps hold UTC; business days are local).
    pub business_tz: chrono_tz::Tz,
}

/// How a run shows its progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (tests, library use).
    Quiet,
    /// A progress bar per step (stderr is a terminal).
    Bars,
    /// Lines for logs (stderr is not a terminal): how far a running step is every
    /// [`STEP_LINE_EVERY`], and what each step did when it ends.
    Lines,
}

impl Options {
    pub fn new(source_url: impl Into<String>, business_tz: chrono_tz::Tz) -> Self {
        Options {
            source_url: source_url.into(),
            dry_run: false,
            verify_only: false,
            skip_verify: false,
            rounding_report: None,
            batch_size: 1000,
            progress: Progress::Quiet,
            business_tz,
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub dry_run: bool,
    pub verify_only: bool,
    /// Migrations applied to the target first.
    pub migrations_applied: usize,
    pub tables: Vec<TableOutcome>,
    pub rounded: Vec<Rounded>,
    /// Jugada and rule numbers zero-padded to the canonical form.
    pub numbers_padded: i64,
    pub derived: DerivedOutcome,
    pub verification: Option<Verification>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn inserted(&self) -> i64 {
        self.tables.iter().map(|t| t.inserted).sum()
    }
    pub fn updated(&self) -> i64 {
        self.tables.iter().map(|t| t.updated).sum()
    }
    pub fn unchanged(&self) -> i64 {
        self.tables.iter().map(|t| t.unchanged()).sum()
    }
    /// Whether the verification (when it ran) passed.
    pub fn verified(&self) -> bool {
        self.verification.as_ref().is_none_or(|v| v.passed())
    }
}

/// Connects to the existing system's database, read only. Prisma-only URL parameters
/// (`schema`, `connection_limit`, `pool_timeout`, `pgbouncer`, …) are dropped; `schema`
/// becomes the search path.
pub async fn connect_source(url: &str) -> anyhow::Result<PgConnection> {
    let mut parsed = url::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("--from is not a PostgreSQL URL ({e})"))?;
    if !matches!(parsed.scheme(), "postgres" | "postgresql") {
        anyhow::bail!("--from must be a postgres:// URL");
    }
    const PRISMA_ONLY: &[&str] = &[
        "schema",
        "connection_limit",
        "pool_timeout",
        "pgbouncer",
        "socket_timeout",
        "statement_cache_size",
        "connect_timeout",
    ];
    let mut schema = None;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter_map(|(k, v)| {
            if k == "schema" {
                schema = Some(v.to_string());
            }
            (!PRISMA_ONLY.contains(&k.as_ref())).then(|| (k.to_string(), v.to_string()))
        })
        .collect();
    parsed.set_query(None);
    if !kept.is_empty() {
        parsed.query_pairs_mut().extend_pairs(kept);
    }
    let mut opts: PgConnectOptions = parsed
        .as_str()
        .parse()
        .map_err(|e| anyhow::anyhow!("--from is not a usable PostgreSQL URL ({e})"))?;
    opts = opts.application_name("banca-import");
    if let Some(s) = schema {
        opts = opts.options([("search_path", s.as_str())]);
    }
    let shown = redact(&parsed);
    let conn = tokio::time::timeout(Duration::from_secs(15), opts.connect())
        .await
        .map_err(|_| anyhow::anyhow!("cannot connect to the source database {shown}: timed out"))?
        .map_err(|e| anyhow::anyhow!("cannot connect to the source database {shown}: {e}"))?;
    Ok(conn)
}

/// The URL without its password.
fn redact(url: &url::Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    u.to_string()
}

/// Checks that `src` holds the existing system's schema on PostgreSQL 12+.
async fn check_source(src: &mut PgConnection) -> anyhow::Result<()> {
    let version: i32 = query_scalar("SELECT current_setting('server_version_num')::int")
        .persistent(false)
        .fetch_one(&mut *src)
        .await
        .context("cannot read the source server's version")?;
    if version < 120_000 {
        anyhow::bail!(
            "the source server runs PostgreSQL {}; the import needs 12 or later",
            version / 10_000
        );
    }
    let wanted = tables::required_legacy_tables();
    let present: Vec<String> = query_scalar(
        "SELECT c.relname::text FROM pg_class c
         WHERE c.relname = ANY($1) AND c.relkind IN ('r', 'p', 'v')
           AND pg_table_is_visible(c.oid)",
    )
    .persistent(false)
    .bind(&wanted)
    .fetch_all(&mut *src)
    .await
    .context("cannot list the source's tables")?;
    let missing: Vec<&str> = wanted
        .iter()
        .copied()
        .filter(|w| !present.iter().any(|p| p == w))
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "the source database does not hold the existing system's schema: missing table{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

/// Migrations of this build not yet applied on `dst`.
async fn pending_migrations(dst: &mut PgConnection) -> usize {
    let applied: Vec<i64> = query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(&mut *dst)
        .await
        .unwrap_or_default();
    crate::db::migrate::MIGRATOR
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
        .count()
}

/// A progress bar on stderr (hidden unless `show`).
fn bar(show: bool, name: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    b.set_style(
        ProgressStyle::with_template("{prefix:>24} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    b.set_prefix(name.to_string());
    b
}

/// How often a step that is still running says how far it is, with [`Progress::Lines`].
const STEP_LINE_EVERY: Duration = Duration::from_secs(10);

/// One step of the run (a table, the derived data, the verification) and its progress as
/// [`Progress`] says: its bar, or lines for logs.
struct Step {
    name: &'static str,
    bar: ProgressBar,
    since: Instant,
    lines: bool,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Step {
    /// `with_bar`: the step has a count to show (a bar with [`Progress::Bars`]).
    fn start(progress: Progress, with_bar: bool, name: &'static str) -> Step {
        let bar = bar(with_bar && progress == Progress::Bars, name);
        let lines = progress == Progress::Lines;
        let since = Instant::now();
        let ticker = lines.then(|| {
            let bar = bar.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(STEP_LINE_EVERY);
                every.tick().await;
                loop {
                    every.tick().await;
                    eprintln!(
                        "{}",
                        step_line(name, bar.position(), bar.length(), since.elapsed())
                    );
                }
            })
        });
        Step {
            name,
            bar,
            since,
            lines,
            ticker,
        }
    }

    /// Ends the step: the bar shows `msg`, and a line on stderr says it with the duration.
    fn done(mut self, msg: String) {
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
        if self.lines {
            eprintln!(
                "{}: {msg} ({} ms)",
                self.name,
                self.since.elapsed().as_millis()
            );
        }
        self.bar.finish_with_message(msg);
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        // A step that failed half-way stops saying how far it is.
        if let Some(t) = self.ticker.take() {
            t.abort();
        }
    }
}

/// The line a running step writes to a log: `tickets: 48000 of 1200000 (4 %), 31 s`.
fn step_line(name: &str, done: u64, total: Option<u64>, elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    match total {
        Some(total) if total > 0 => format!(
            "{name}: {done} of {total} ({} %), {secs} s",
            done.saturating_mul(100) / total
        ),
        _ if done > 0 => format!("{name}: {done} so far, {secs} s"),
        _ => format!("{name}: still running, {secs} s"),
    }
}

/// Runs the import (or the verification alone) into `target` (Banca's direct pool).
pub async fn run(target: &PgPool, opts: &Options) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let tz = opts.business_tz.name().to_string();
    let mut src = connect_source(&opts.source_url).await?;
    check_source(&mut src).await?;
    // One snapshot of the source for the whole run: rows read later never reference rows
    // that did not exist when earlier tables were read.
    query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .persistent(false)
        .execute(&mut src)
        .await
        .context("cannot start a read-only snapshot on the source")?;

    let mut outcome = Outcome {
        dry_run: opts.dry_run,
        verify_only: opts.verify_only,
        ..Outcome::default()
    };
    if !opts.dry_run && !opts.verify_only {
        let m = crate::db::migrate::run(target)
            .await
            .context("cannot migrate the target database")?;
        outcome.migrations_applied = m.applied_now;
    }
    let mut dst = target
        .acquire()
        .await
        .context("cannot connect to the target database")?;
    let pending = pending_migrations(&mut dst).await;
    if pending > 0 {
        anyhow::bail!(
            "the target database lacks {pending} of Banca's migrations; run `banca migrate` \
             first (a {} writes nothing)",
            if opts.dry_run {
                "dry run"
            } else {
                "verification"
            }
        );
    }

    if opts.verify_only {
        outcome.verification = Some(verify::verify(&mut src, &mut dst, &tz).await?);
        outcome.elapsed = started.elapsed();
        return Ok(outcome);
    }

    let mode = if opts.dry_run {
        query("BEGIN").execute(&mut *dst).await?;
        Mode::DryRun
    } else {
        Mode::Commit
    };
    let result = import(&mut src, &mut dst, opts, &tz, mode, &mut outcome).await;
    if mode == Mode::DryRun {
        // Whatever happened, nothing stays.
        query("ROLLBACK").execute(&mut *dst).await.ok();
    }
    result?;
    query("COMMIT")
        .persistent(false)
        .execute(&mut src)
        .await
        .ok();
    if let Some(path) = &opts.rounding_report {
        money::write_csv(path, &outcome.rounded)?;
    }
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

/// The copy, the derived rebuild and (unless skipped) the verification, on `dst` in `mode`.
async fn import(
    src: &mut PgConnection,
    dst: &mut PgConnection,
    opts: &Options,
    tz: &str,
    mode: Mode,
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    let mut collected = Collected::default();
    let batch = opts.batch_size.max(1);
    for t in tables::TABLES {
        let step = Step::start(opts.progress, true, t.target);
        let settings = copy::Settings { tz, batch, mode };
        let o = copy::copy_table(src, dst, t, settings, &step.bar, &mut collected).await?;
        step.done(format!(
            "{} new, {} updated, {} unchanged",
            o.inserted,
            o.updated,
            o.unchanged()
        ));
        outcome.tables.push(o);
    }
    outcome.numbers_padded = query_scalar(
        "SELECT (SELECT count(*) FROM \"Jugada\" j JOIN \"Ticket\" t ON t.id = j.\"ticketId\"
                 JOIN \"Sorteo\" s ON s.id = t.\"sorteoId\"
                 WHERE j.number ~ '^[0-9]+$' AND length(j.number) < s.digits)
              + (SELECT count(*) FROM \"RestrictionRule\" r
                 WHERE r.number ~ '^[0-9]$')",
    )
    .persistent(false)
    .fetch_one(&mut *src)
    .await
    .context("cannot count the numbers to pad")?;

    // Derived data: of the sorteos written now, and of any whose derived data disagrees with
    // the imported jugadas (a run that stopped before this step).
    let legacy_sorteos = copy::legacy_sorteo_ids(src).await?;
    let mut sorteos: BTreeSet<uuid::Uuid> = collected.touched;
    sorteos.extend(derived::stale_sorteos(dst, &legacy_sorteos).await?);
    let step = Step::start(opts.progress, true, "derived data");
    outcome.derived = derived::rebuild(dst, &sorteos, mode, &step.bar).await?;
    step.done(format!("{} sorteos rebuilt", outcome.derived.sorteos));
    outcome.rounded = collected.rounded;

    if !opts.skip_verify {
        // No bar (the verification has no count to show), only the log lines.
        let step = Step::start(opts.progress, false, "verification");
        let v = verify::verify(src, dst, tz).await?;
        step.done(format!(
            "{} money groups compared, {}",
            v.groups,
            if v.passed() {
                "passed"
            } else {
                "FAILED (see the tables)"
            }
        ));
        outcome.verification = Some(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_step_says_how_far_it_is() {
        let at = Duration::from_millis(31_400);
        assert_eq!(
            step_line("tickets", 48_000, Some(1_200_000), at),
            "tickets: 48000 of 1200000 (4 %), 31 s"
        );
        assert_eq!(
            step_line("derived data", 3, Some(3), at),
            "derived data: 3 of 3 (100 %), 31 s"
        );
        assert_eq!(
            step_line("jugadas", 10, None, at),
            "jugadas: 10 so far, 31 s"
        );
        assert_eq!(
            step_line("verification", 0, None, at),
            "verification: still running, 31 s"
        );
        assert_eq!(
            step_line("bancas", 0, Some(0), at),
            "bancas: still running, 31 s"
        );
    }
}
