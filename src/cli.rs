//! The `banca` command line: serve, migrate, create-admin, seed-demo, check-config, bench,
//! import.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::db::bootstrap::{self, LocalCluster};
use crate::db::migrate;
use crate::db::pools::{DbTargets, Pools};
use crate::services::admin;

/// Banca: the backend of a lottery banca (tiempos, sorteos, prizes, settlements).
///
/// Configuration comes from the environment and a `.env` file in the working folder; see
/// docs/configuration.md. With no configuration at all, commands use a local PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "banca", version, about, long_about = None, after_help = "Examples:\n  banca serve\n  banca migrate\n  BANCA_ADMIN_PASSWORD=… banca create-admin --username admin\n  banca seed-demo\n  banca check-config\n  banca bench --duration 5\n  banca import --from postgres://…/legacy --dry-run")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the HTTP server (migrates at start unless AUTO_MIGRATE=false).
    #[command(
        after_help = "Example:\n  PORT=3000 banca serve\n\nStops cleanly on SIGTERM/SIGINT, draining requests in flight (SHUTDOWN_TIMEOUT_MS)."
    )]
    Serve {
        /// Port to listen on (overrides PORT).
        #[arg(long)]
        port: Option<u16>,
        /// Never run scheduled jobs on this instance (same as JOBS_ENABLED=false).
        #[arg(long)]
        no_jobs: bool,
    },
    /// Run scheduled jobs without serving HTTP (a dedicated job worker).
    #[command(
        after_help = "Example:\n  DATABASE_URL=postgres://banca:secret@db:5432/banca banca worker\n\nRuns every due job exactly once together with any other instance (serve or worker);\nstops cleanly on SIGTERM/SIGINT, letting running jobs finish within SHUTDOWN_TIMEOUT_MS."
    )]
    Worker,
    /// List the scheduled jobs or run one now.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Recompute the account statements of a date range and report differences (writes nothing).
    #[command(
        after_help = "Example:\n  banca reconcile --from 2026-11-01 --to 2026-11-30\n\nRebuilds each banca's statements inside a transaction that is rolled back and compares\nthem with the stored ones, field by field. Exits 1 when any difference is found."
    )]
    Reconcile {
        /// First business day (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last business day (YYYY-MM-DD).
        #[arg(long)]
        to: chrono::NaiveDate,
    },
    /// Import a banca from the existing system's database into this one (ids kept; idempotent).
    #[command(
        after_help = "Examples:\n  banca import --from postgres://legacy:secret@old-db:5432/bancas --dry-run\n  banca import --from postgres://legacy:secret@old-db:5432/bancas --rounding-report rounding.csv\n  banca import --from postgres://legacy:secret@old-db:5432/bancas --verify-only\n\nWrites into DIRECT_URL (else DATABASE_URL), migrating it first. Re-running imports only what is\nnew or changed. After the import, compares row counts and money sums per business day and\nentity between the two databases and exits 1 when they differ beyond the rounding to cents.\nSee docs/migrating.md for the evening-switch runbook."
    )]
    Import(crate::import::command::ImportArgs),
    /// Apply pending database migrations on DIRECT_URL (or DATABASE_URL) and exit.
    #[command(
        after_help = "Example:\n  DIRECT_URL=postgres://banca:secret@db:5432/banca banca migrate\n\nSafe to run from several machines at once: runs are serialized by an advisory lock."
    )]
    Migrate,
    /// Create an ADMIN user. The password comes from BANCA_ADMIN_PASSWORD or a prompt.
    #[command(
        after_help = "Examples:\n  banca create-admin --username admin --name \"Administración\"\n  BANCA_ADMIN_PASSWORD=… banca create-admin --username admin\n\nThe password is never taken from the command line, so it does not end up in shell history or process lists."
    )]
    CreateAdmin {
        /// Login name (3–64 letters, digits, dots, dashes or underscores).
        #[arg(long)]
        username: String,
        /// Display name.
        #[arg(long, default_value = "Administrador")]
        name: String,
        /// Optional e-mail.
        #[arg(long)]
        email: Option<String>,
    },
    /// Create (or refresh) a demo banca with one login per role, to try things locally.
    #[command(
        after_help = "Example:\n  banca seed-demo\n  DEMO_PASSWORD=demo-pass-123 banca seed-demo\n\nRefused in production. Without DEMO_PASSWORD a random password is generated and printed."
    )]
    SeedDemo,
    /// Validate the environment and print the effective configuration, secrets redacted.
    #[command(
        after_help = "Example:\n  NODE_ENV=production banca check-config\n\nExits 1 with one line per problem when the configuration is invalid."
    )]
    CheckConfig,
    /// Benchmark the sale path and the evaluation: own database, server in a child process.
    #[command(
        after_help = "Examples:\n  cargo run --release -- bench\n  banca bench --duration 5 --scenarios a16,b --json bench.json\n  banca bench --scenarios e --eval-jugadas 100000\n\nCreates banca_bench_<pid> on DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres),\nstarts `banca serve` on a free loopback port, logs in 64 sellers (when a sale scenario runs) and runs the scenarios:\n  a1, a16, a64  spread numbers on 1 sorteo at concurrency 1, 16, 64\n  b             200 buyers at once on one hot number with a limit (exactly limit/amount succeed)\n  c             spread numbers on 4 sorteos at concurrency 64\n  d             GET /tickets and GET /sorteos at concurrency 16\n  e             evaluate, revert and re-evaluate a sorteo of --eval-jugadas jugadas (default 100000)\nthen pgbench (TPC-B, -c 16) for a yardstick, and checks in SQL that no limit was exceeded, the\nrunning totals match the jugadas and no idempotency key sold twice. Exits 1 when a check fails.\nSee docs/benchmarks.md."
    )]
    Bench(crate::bench::BenchArgs),
}

/// `banca jobs …`.
#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Show every job: its schedule (UTC), last run and next due time.
    #[command(after_help = "Example:\n  banca jobs list")]
    List,
    /// Run one job now, through the same claim as scheduled runs (refused while it runs).
    #[command(
        after_help = "Examples:\n  banca jobs run activity_log_cleanup\n  banca jobs run sorteos_auto_create --param daysAhead=3\n\nExits 1 when the job fails, 2 when a run of it is already in progress."
    )]
    Run {
        /// The job's name (see `banca jobs list`).
        name: String,
        /// A parameter as key=value (numbers and booleans are passed as such); repeatable.
        #[arg(long = "param", value_name = "KEY=VALUE")]
        params: Vec<String>,
    },
}

/// `--param key=value` pairs as a JSON object.
fn job_params(pairs: &[String]) -> anyhow::Result<serde_json::Value> {
    let mut map = serde_json::Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--param {p:?}: expected KEY=VALUE"))?;
        let value = serde_json::from_str::<serde_json::Value>(v)
            .ok()
            .filter(|v| v.is_number() || v.is_boolean())
            .unwrap_or_else(|| serde_json::Value::String(v.to_string()));
        map.insert(k.to_string(), value);
    }
    Ok(serde_json::Value::Object(map))
}

/// A job runner for a one-shot command on `pools`.
fn command_runner(config: &Config, pools: &Pools) -> crate::jobs::engine::Runner {
    crate::jobs::engine::Runner::new(
        pools.primary().clone(),
        crate::jobs::registry::all(),
        crate::jobs::JobSettings {
            business_tz: config.business_timezone,
            activity_log_retention_days: config.activity_log_retention_days,
        },
        crate::jobs::engine::instance_id(),
        config.jobs_lease,
    )
}

/// A database chosen for a one-shot command, with the private cluster to stop afterwards.
struct CommandDb {
    pools: Pools,
    cluster: Option<LocalCluster>,
}

impl CommandDb {
    async fn open(config: &Config) -> anyhow::Result<Self> {
        let resolved = bootstrap::resolve_database(config).await?;
        eprintln!("database: {} ({})", resolved.url, resolved.origin);
        let targets = DbTargets::resolve(config, &resolved.url)?;
        crate::db::statements::set_business_tz(config.business_timezone);
        if !config.environment.is_production() {
            bootstrap::ensure_database(&targets.direct.options)
                .await
                .context("cannot reach the database")?;
        }
        Ok(CommandDb {
            pools: Pools::connect_lazy(config, &targets),
            cluster: resolved.cluster,
        })
    }

    async fn close(mut self) {
        self.pools.close().await;
        if let Some(c) = self.cluster.as_mut() {
            c.stop();
        }
    }
}

fn read_password(env_key: &str, prompt_label: &str) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(env_key) {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("no password: set {env_key} or run in a terminal to be prompted");
    }
    let first = rpassword::prompt_password(format!("{prompt_label}: "))?;
    let second = rpassword::prompt_password("Repeat it: ")?;
    if first != second {
        anyhow::bail!("the two passwords differ");
    }
    Ok(first)
}

fn random_password() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..14)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli, mut config: Config) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { port, no_jobs } => {
            if let Some(p) = port {
                config.port = p;
            }
            if no_jobs {
                config.jobs_enabled = false;
            }
            crate::app::serve(config).await
        }
        Command::Worker => crate::app::work(config).await,
        Command::Reconcile { from, to } => {
            if from > to {
                anyhow::bail!("--from must not be after --to");
            }
            let started = Instant::now();
            let db = CommandDb::open(&config).await?;
            let result = async {
                if config.auto_migrate {
                    migrate::run(db.pools.direct()).await?;
                }
                let report = crate::services::reconcile::reconcile(
                    db.pools.primary(),
                    from,
                    to,
                    |i, n, banca, rows, diffs| {
                        eprintln!("» [{i}/{n}] banca {banca}: {rows} rows, {diffs} differences");
                    },
                )
                .await?;
                anyhow::Ok(report)
            }
            .await;
            db.close().await;
            let report = result?;
            let mut out = std::io::stdout().lock();
            for d in &report.differences {
                writeln!(
                    out,
                    "{} {} {}: stored {} recomputed {}",
                    d.banca_id,
                    d.row,
                    d.field,
                    d.stored.as_deref().unwrap_or("(missing)"),
                    d.recomputed.as_deref().unwrap_or("(missing)")
                )?;
            }
            writeln!(
                out,
                "reconcile {from}..{to}: {} bancas, {} rows, {} differences ({} ms)",
                report.bancas,
                report.rows_checked,
                report.differences.len(),
                started.elapsed().as_millis()
            )?;
            if !report.differences.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Jobs(JobsCommand::List) => {
            let db = CommandDb::open(&config).await?;
            let result = async {
                if config.auto_migrate {
                    migrate::run(db.pools.direct()).await?;
                }
                let runner = command_runner(&config, &db.pools);
                let lines = crate::jobs::registry::describe(&runner, chrono::Utc::now()).await?;
                let mut out = std::io::stdout().lock();
                for l in &lines {
                    writeln!(out, "{l}")?;
                }
                writeln!(out, "{} jobs", runner.jobs().len())?;
                anyhow::Ok(())
            }
            .await;
            db.close().await;
            result
        }
        Command::Jobs(JobsCommand::Run { name, params }) => {
            let params = job_params(&params)?;
            let started = Instant::now();
            let db = CommandDb::open(&config).await?;
            let result = async {
                if config.auto_migrate {
                    migrate::run(db.pools.direct()).await?;
                }
                let runner = command_runner(&config, &db.pools);
                eprintln!("running {name}…");
                anyhow::Ok(
                    runner
                        .run_now(&name, crate::jobs::Trigger::Cli, None, params)
                        .await,
                )
            }
            .await;
            db.close().await;
            use crate::jobs::engine::RunError;
            match result? {
                Ok(r) => {
                    println!("{}", r.outcome);
                    println!(
                        "{name}: succeeded (run {}, {} ms)",
                        r.run_id,
                        started.elapsed().as_millis()
                    );
                    Ok(())
                }
                Err(RunError::AlreadyRunning) => {
                    eprintln!("{name}: a run of it is already in progress; nothing done");
                    std::process::exit(2);
                }
                Err(RunError::UnknownJob) => {
                    let names: Vec<&str> = crate::jobs::registry::all()
                        .iter()
                        .map(|j| j.name)
                        .collect();
                    anyhow::bail!("unknown job {name:?}; jobs: {}", names.join(", "))
                }
                Err(RunError::Failed(e)) => anyhow::bail!("{name} failed: {e}"),
                Err(RunError::Database(e)) => Err(e.into()),
            }
        }
        Command::Import(args) => {
            let db = CommandDb::open(&config).await?;
            let result = crate::import::command::run(args, &config, db.pools.direct()).await;
            db.close().await;
            if !result? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Migrate => {
            let started = Instant::now();
            let db = CommandDb::open(&config).await?;
            eprintln!("applying migrations…");
            let result = migrate::run(db.pools.direct()).await;
            db.close().await;
            let report = result.context("migrations failed")?;
            println!(
                "migrations: {} applied now, {} in total, up to date ({} ms)",
                report.applied_now,
                report.total,
                started.elapsed().as_millis()
            );
            Ok(())
        }
        Command::CreateAdmin {
            username,
            name,
            email,
        } => {
            let password = read_password("BANCA_ADMIN_PASSWORD", "Password for the new ADMIN")?;
            let db = CommandDb::open(&config).await?;
            let result = async {
                if config.auto_migrate {
                    migrate::run(db.pools.direct()).await?;
                }
                let id = admin::create_admin(
                    db.pools.primary(),
                    &admin::NewAdmin {
                        username: &username,
                        name: &name,
                        email: email.as_deref(),
                        password: &password,
                    },
                )
                .await?;
                anyhow::Ok(id)
            }
            .await;
            db.close().await;
            let id = result?;
            println!("created ADMIN {username} (id {id})");
            Ok(())
        }
        Command::SeedDemo => {
            if config.environment.is_production() {
                anyhow::bail!("seed-demo is refused in production (NODE_ENV=production)");
            }
            let started = Instant::now();
            let (password, generated) = match std::env::var("DEMO_PASSWORD") {
                Ok(p) if !p.is_empty() => (p, false),
                _ => (random_password(), true),
            };
            let db = CommandDb::open(&config).await?;
            let result = async {
                if config.auto_migrate {
                    eprintln!("applying migrations…");
                    migrate::run(db.pools.direct()).await?;
                }
                eprintln!("creating the demo banca…");
                anyhow::Ok(admin::seed_demo(db.pools.primary(), &password).await?)
            }
            .await;
            db.close().await;
            let summary = result?;
            let mut out = std::io::stdout().lock();
            for login in &summary.logins {
                writeln!(out, "  {:<9} {}", login.role.as_str(), login.username)?;
            }
            if generated {
                writeln!(
                    out,
                    "  password: {password}   (set DEMO_PASSWORD to choose it)"
                )?;
            }
            writeln!(
                out,
                "demo banca ready: banca {} with {} logins ({} ms)",
                summary.banca_id,
                summary.logins.len(),
                started.elapsed().as_millis()
            )?;
            Ok(())
        }
        Command::Bench(args) => crate::bench::run(args, config).await,
        Command::CheckConfig => {
            let mut out = std::io::stdout().lock();
            for (k, v) in config.redacted_lines() {
                writeln!(out, "{k}={v}")?;
            }
            writeln!(out, "configuration OK ({})", config.environment.as_str())?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{job_params, Cli, Command, JobsCommand};

    #[test]
    fn job_commands_parse() {
        let cli = Cli::try_parse_from(["banca", "serve", "--no-jobs"]).unwrap();
        assert!(matches!(cli.command, Command::Serve { no_jobs: true, .. }));
        let cli = Cli::try_parse_from(["banca", "serve"]).unwrap();
        assert!(matches!(cli.command, Command::Serve { no_jobs: false, .. }));
        let cli = Cli::try_parse_from(["banca", "worker"]).unwrap();
        assert!(matches!(cli.command, Command::Worker));
        let cli = Cli::try_parse_from([
            "banca",
            "jobs",
            "run",
            "sorteos_auto_create",
            "--param",
            "daysAhead=3",
        ])
        .unwrap();
        match cli.command {
            Command::Jobs(JobsCommand::Run { name, params }) => {
                assert_eq!(name, "sorteos_auto_create");
                assert_eq!(
                    job_params(&params).unwrap(),
                    serde_json::json!({"daysAhead": 3})
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            job_params(&["note=hola".into(), "force=true".into()]).unwrap(),
            serde_json::json!({"note": "hola", "force": true})
        );
        assert!(job_params(&["oops".into()]).is_err());
    }
}
