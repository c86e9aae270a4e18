//! The `banca` command line: serve, migrate, create-admin, seed-demo, check-config, bench.

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
#[command(name = "banca", version, about, long_about = None, after_help = "Examples:\n  banca serve\n  banca migrate\n  BANCA_ADMIN_PASSWORD=… banca create-admin --username admin\n  banca seed-demo\n  banca check-config\n  banca bench --duration 5")]
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
    },
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
        Command::Serve { port } => {
            if let Some(p) = port {
                config.port = p;
            }
            crate::app::serve(config).await
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
