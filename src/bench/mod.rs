//! `banca bench`: the benchmark harness of the sale path (issue 6, item 7).
//!
//! It creates its own database (`banca_bench_<pid>`) on the local PostgreSQL server, migrates
//! and seeds it with a demo catalog, starts this binary's server as a child process, and drives
//! concurrent HTTP sales from this process. Per scenario it prints throughput, latency
//! percentiles and the failed requests by status and error code; it then checks in SQL that no
//! limit was exceeded, that the running totals equal the jugadas, and that no idempotency key
//! produced two tickets. It also runs `pgbench` on the same server for a yardstick, and reads
//! the server's peak RSS. Scenario e seeds a sorteo with many jugadas in SQL and times its
//! evaluation, revert and re-evaluation over HTTP, then checks the payouts in SQL. Scenario r
//! generates the report dataset (`dataset`) in a database of its own and times every report,
//! dashboard and export endpoint on it (`reports`). See docs/benchmarks.md.

mod database;
pub mod dataset;
mod eval;
mod load;
mod pgbench;
mod report;
mod reports;
mod seed;
mod server;
mod sigterm;
mod stats;
mod verify;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::config::Config;

pub use stats::{percentile, Latency, Outcome, Samples, ScenarioResult};

/// One scenario of the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Spread numbers on one sorteo, 1 seller.
    A1,
    /// Spread numbers on one sorteo, 16 sellers.
    A16,
    /// Spread numbers on one sorteo, 64 sellers.
    A64,
    /// One hot number with a limit, 200 buyers at once.
    B,
    /// Spread numbers over 4 sorteos, 64 sellers.
    C,
    /// Reads: GET /tickets and GET /sorteos, 16 sellers.
    D,
    /// Evaluate/revert/re-evaluate a sorteo with --eval-jugadas jugadas (seeded in SQL), as ADMIN.
    E,
    /// Reports: a generated dataset of --report-jugadas jugadas over 90 days in its own
    /// database; p50/p95/max of every report, dashboard and export endpoint (cache off, then
    /// on), and the 90-day XLSX cierre.
    R,
    /// SIGTERM under load: sales at concurrency 16 on one sorteo, SIGTERM to the server
    /// --sigterm-after seconds in, selling on until it has exited; then every acknowledged
    /// sale must be stored whole and every refused or unanswered one must have left nothing.
    /// Runs after the other scenarios (it stops the server).
    S,
}

/// Options of `banca bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Seconds each timed scenario runs (a1, a16, a64, c, d; and pgbench).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: u64,
    /// Scenarios to run, comma-separated, in this order.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "a1,a16,a64,b,c,d,e"
    )]
    pub scenarios: Vec<Scenario>,
    /// Jugadas scenario e seeds on its sorteo (5 per ticket) before evaluating it.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(5..=1_000_000))]
    pub eval_jugadas: u32,
    /// Jugadas of scenario r's dataset (90 days, 5 ventanas, 200 vendedores, 6 loterías).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1_000..=20_000_000))]
    pub report_jugadas: u64,
    /// Measured requests per endpoint in scenario r (files: at most 5).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub report_requests: u64,
    /// Also write the results as JSON to this file (scenario r's next to it, `.reports.json`).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Keep the bench database (banca_bench_<pid>) instead of dropping it at the end.
    #[arg(long)]
    pub keep_db: bool,
    /// Skip the pgbench yardstick.
    #[arg(long)]
    pub no_pgbench: bool,
    /// Fraction of successful sales re-sent with the same idempotency key (0..1).
    #[arg(long, default_value_t = 0.05)]
    pub replay_fraction: f64,
    /// Seconds into scenario s at which the server gets SIGTERM.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub sigterm_after: f64,
    /// Path of the sale route (to try the harness against a missing or renamed route).
    #[arg(long, default_value = "/api/v1/tickets", hide = true)]
    pub sale_path: String,
}

/// Buyers of scenario b.
const HOT_BUYERS: usize = 200;

/// What has to be cleaned up, whatever happens.
struct Resources {
    db: database::Server,
    bench_db: String,
    pgbench_db: String,
    reports_db: String,
    bench_db_created: bool,
    pgbench_db_created: bool,
    reports_db_created: bool,
    pool: Option<sqlx::PgPool>,
    server: Option<server::ServerProcess>,
}

fn step(msg: impl AsRef<str>) {
    eprintln!("» {}", msg.as_ref());
}

/// Runs the harness; an error when a correctness check failed (after printing everything).
pub async fn run(args: BenchArgs, config: Config) -> anyhow::Result<()> {
    if config.environment.is_production() {
        anyhow::bail!(
            "bench is refused in production (NODE_ENV=production): it creates and drops databases"
        );
    }
    if !(0.0..=1.0).contains(&args.replay_fraction) {
        anyhow::bail!("--replay-fraction must be between 0 and 1");
    }
    if !(args.sigterm_after > 0.0 && args.sigterm_after <= 3600.0) {
        anyhow::bail!("--sigterm-after must be more than 0 and at most 3600 seconds");
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; take figures with `cargo run --release -- bench`"
        );
    }
    let admin_url = config
        .database_url
        .as_ref()
        .map(|u| u.expose().to_string())
        .unwrap_or_else(|| database::DEFAULT_ADMIN_URL.to_string());
    let db = database::Server::new(&admin_url)?;
    let pid = std::process::id();
    let mut res = Resources {
        db,
        bench_db: format!("banca_bench_{pid}"),
        pgbench_db: format!("banca_bench_pgbench_{pid}"),
        reports_db: format!("banca_bench_reports_{pid}"),
        bench_db_created: false,
        pgbench_db_created: false,
        reports_db_created: false,
        pool: None,
        server: None,
    };
    let tz = config.business_timezone;
    crate::db::statements::set_business_tz(tz);
    let outcome = tokio::select! {
        r = run_inner(&args, &mut res, tz) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    cleanup(&mut res, args.keep_db).await;
    let report = outcome?;
    if report.passed {
        Ok(())
    } else {
        anyhow::bail!("bench: {} check(s) failed", report.failures.len())
    }
}

async fn cleanup(res: &mut Resources, keep_db: bool) {
    if let Some(s) = res.server.take() {
        s.stop().await;
    }
    if let Some(p) = res.pool.take() {
        p.close().await;
    }
    if res.pgbench_db_created {
        if let Err(e) = res.db.drop_database(&res.pgbench_db).await {
            eprintln!("warning: {e:#}");
        }
    }
    if res.reports_db_created {
        if keep_db {
            eprintln!(
                "kept the reports database: {}",
                res.db.redacted_url_of(&res.reports_db)
            );
        } else if let Err(e) = res.db.drop_database(&res.reports_db).await {
            eprintln!("warning: {e:#}");
        }
    }
    if res.bench_db_created {
        if keep_db {
            eprintln!(
                "kept the bench database: {}",
                res.db.redacted_url_of(&res.bench_db)
            );
        } else if let Err(e) = res.db.drop_database(&res.bench_db).await {
            eprintln!("warning: {e:#}");
        }
    }
}

async fn run_inner(
    args: &BenchArgs,
    res: &mut Resources,
    btz: chrono_tz::Tz,
) -> anyhow::Result<report::Report> {
    let tz = btz.name();
    let run_started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339();
    let duration = Duration::from_secs(args.duration);

    step(format!(
        "creating database {} on {}",
        res.bench_db,
        res.db.redacted()
    ));
    res.db.create_database(&res.bench_db).await?;
    res.bench_db_created = true;
    let pool = res.db.pool(&res.bench_db).await?;
    res.pool = Some(pool.clone());
    crate::db::migrate::run(&pool)
        .await
        .context("migrations failed")?;
    let pg_version: String = crate::db::query_scalar("SHOW server_version")
        .fetch_one(&pool)
        .await?;
    let machine = report::Machine::probe(pg_version);
    eprintln!("{}", machine.line());
    step(format!(
        "seeding: 1 banca, {} ventanas, {} vendedores, lotería BENCH, 6 open sorteos",
        seed::VENTANAS,
        seed::SELLERS
    ));
    let catalog = seed::seed(&pool).await?;

    let log_path =
        std::env::temp_dir().join(format!("banca_bench_{}.server.log", std::process::id()));
    step(format!("starting the server (log: {})", log_path.display()));
    let server = server::ServerProcess::start(&res.db.url_of(&res.bench_db), &log_path)?;
    let base = server.base_url();
    let server = res.server.insert(server);
    let client = load::client()?;
    let ready_in = server.wait_ready(&client, Duration::from_secs(60)).await?;
    step(format!(
        "server pid {} ready on {base} in {} ms",
        server.pid,
        ready_in.as_millis()
    ));

    // Scenarios e and r log in their ADMIN themselves; the sellers are needed by the others.
    let auth = if args
        .scenarios
        .iter()
        .any(|s| !matches!(s, Scenario::E | Scenario::R))
    {
        step(format!(
            "logging in {} sellers, one at a time",
            catalog.sellers.len()
        ));
        let login_started = Instant::now();
        let auth = load::login_all(&client, &base, &catalog.sellers).await?;
        (auth, Some(login_started.elapsed()))
    } else {
        (Vec::new(), None)
    };
    let (auth, login_took) = auth;
    let rss_after_start = res.server.as_ref().and_then(|s| s.peak_rss_bytes());
    eprintln!(
        "  {}server peak RSS so far {} MB",
        login_took
            .map(|d| format!("logged in in {} ms; ", d.as_millis()))
            .unwrap_or_default(),
        rss_after_start.unwrap_or(0) / (1024 * 1024)
    );
    let driver = load::Driver::new(
        client.clone(),
        base.clone(),
        &args.sale_path,
        auth,
        catalog.clone(),
        args.replay_fraction,
    );

    let mut scenarios = Vec::new();
    let mut evaluations: Vec<eval::EvalResult> = Vec::new();
    let mut report_runs: Vec<reports::ReportsResult> = Vec::new();
    let mut sigterm_check: Option<sigterm::SigtermCheck> = None;
    // Scenario s stops the server: it runs last, once.
    let mut order: Vec<Scenario> = args
        .scenarios
        .iter()
        .copied()
        .filter(|s| *s != Scenario::S)
        .collect();
    if args.scenarios.contains(&Scenario::S) {
        order.push(Scenario::S);
    }
    for sc in &order {
        let r = match sc {
            Scenario::S => {
                let after = Duration::from_secs_f64(args.sigterm_after);
                step(format!(
                    "scenario s: spread sales on 1 sorteo, concurrency {}, SIGTERM to the server after {} s",
                    sigterm::CONCURRENCY,
                    args.sigterm_after
                ));
                let Some(server) = res.server.as_mut() else {
                    anyhow::bail!("scenario s needs the server");
                };
                let (r, check) =
                    sigterm::run(&driver, &pool, server, catalog.sorteo_a, after).await?;
                eprintln!("  {}", check.line());
                sigterm_check = Some(check);
                r
            }
            Scenario::R => {
                step(format!(
                    "scenario r: reports on {} jugadas, database {}",
                    args.report_jugadas, res.reports_db
                ));
                if !res.reports_db_created {
                    res.db.create_database(&res.reports_db).await?;
                    res.reports_db_created = true;
                } else {
                    anyhow::bail!("scenario r runs once per bench");
                }
                let rpool = res.db.pool(&res.reports_db).await?;
                crate::db::migrate::run(&rpool)
                    .await
                    .context("migrations of the reports database failed")?;
                let r = reports::run(
                    &rpool,
                    &res.db.url_of(&res.reports_db),
                    &client,
                    btz,
                    args.report_jugadas,
                    usize::try_from(args.report_requests).unwrap_or(30),
                )
                .await;
                rpool.close().await;
                let r = r?;
                eprintln!("  {}", r.summary());
                report_runs.push(r);
                continue;
            }
            Scenario::E => {
                step(format!(
                    "scenario e: evaluate, revert and re-evaluate a sorteo with {} jugadas",
                    args.eval_jugadas
                ));
                let index = u32::try_from(evaluations.len()).unwrap_or(u32::MAX);
                let e = eval::run(
                    &pool,
                    &client,
                    &base,
                    &catalog,
                    tz,
                    args.eval_jugadas,
                    index,
                )
                .await?;
                eprintln!(
                    "  e: evaluate {:.0} ms, revert {:.0} ms, re-evaluate {:.0} ms ({} jugadas), {}",
                    e.evaluate_ms,
                    e.revert_ms,
                    e.reevaluate_ms,
                    e.jugadas,
                    if e.pass { "PASS" } else { "FAIL" }
                );
                evaluations.push(e);
                continue;
            }
            Scenario::A1 | Scenario::A16 | Scenario::A64 => {
                let (id, c) = match sc {
                    Scenario::A1 => ("a1", 1),
                    Scenario::A16 => ("a16", 16),
                    _ => ("a64", 64),
                };
                step(format!(
                    "scenario {id}: spread numbers on 1 sorteo, concurrency {c}, {} s",
                    args.duration
                ));
                driver
                    .timed_sales(
                        id,
                        &format!("a: spread c{c}"),
                        vec![catalog.sorteo_a],
                        c,
                        duration,
                    )
                    .await
            }
            Scenario::B => {
                step(format!(
                    "scenario b: {HOT_BUYERS} buyers at once, {} each on \"{}\" (maxTotal {})",
                    seed::HOT_AMOUNT,
                    seed::HOT_NUMBER,
                    seed::HOT_LIMIT
                ));
                driver.hot_number(HOT_BUYERS).await
            }
            Scenario::C => {
                step(format!(
                    "scenario c: spread numbers on 4 sorteos, concurrency 64, {} s",
                    args.duration
                ));
                driver
                    .timed_sales(
                        "c",
                        "c: 4 sorteos c64",
                        catalog.sorteos_c.clone(),
                        64,
                        duration,
                    )
                    .await
            }
            Scenario::D => {
                step(format!(
                    "scenario d: GET /tickets + GET /sorteos, concurrency 16, {} s",
                    args.duration
                ));
                driver.reads(16, duration).await
            }
        };
        eprintln!(
            "  {}: {:.1} {}/s, p99 {:.1} ms, {} ok, {} errors",
            r.label, r.per_second, r.unit, r.latency.p99_ms, r.ok, r.errors
        );
        scenarios.push(r);
    }

    // The yardstick, while the server idles.
    let (pgbench, pgbench_note) = if args.no_pgbench {
        (None, Some("skipped (--no-pgbench)".to_string()))
    } else if let Some(bin) = pgbench::find_pgbench() {
        step(format!(
            "pgbench: -i -s {} into {}, then -c {} -j {} -T {}",
            pgbench::SCALE,
            res.pgbench_db,
            pgbench::CLIENTS,
            pgbench::THREADS,
            args.duration
        ));
        res.db.create_database(&res.pgbench_db).await?;
        res.pgbench_db_created = true;
        match pgbench::run(&bin, &res.db, &res.pgbench_db, duration).await {
            Ok(p) => (Some(p), None),
            Err(e) => {
                eprintln!("warning: {e:#}");
                (None, Some(format!("failed: {e:#}")))
            }
        }
    } else {
        (
            None,
            Some("not found (install postgresql-client)".to_string()),
        )
    };
    if res.pgbench_db_created {
        res.db.drop_database(&res.pgbench_db).await?;
        res.pgbench_db_created = false;
    }

    let peak_rss = res.server.as_ref().and_then(|s| s.peak_rss_bytes());
    let rss_end = res.server.as_ref().and_then(|s| s.rss_bytes());
    if let Some(s) = res.server.take() {
        step("stopping the server");
        s.stop().await;
    }

    step("verifying in SQL");
    let seeded: Vec<uuid::Uuid> = evaluations.iter().map(|e| e.sorteo_id).collect();
    let verification = verify::verify(&pool, catalog.sorteo_b, seed::HOT_NUMBER, &seeded).await?;

    // Correctness verdicts.
    let mut failures = Vec::new();
    let sales: Vec<&ScenarioResult> = scenarios.iter().filter(|r| r.unit == "tickets").collect();
    let acknowledged: u64 = sales.iter().map(|r| r.ok).sum();
    let transport: u64 = sales
        .iter()
        .flat_map(|r| r.errors_by_code.iter())
        .filter(|(k, _)| k.starts_with("---"))
        .map(|(_, v)| *v)
        .sum();
    let stored = u64::try_from(verification.tickets_in_db).unwrap_or(0);
    let tickets_stored_ok = stored >= acknowledged && stored <= acknowledged + transport;
    if !tickets_stored_ok {
        failures.push(format!(
            "{stored} tickets stored but {acknowledged} acknowledged ({transport} unanswered)"
        ));
    }
    if !verification.limits_ok() {
        failures.push(format!(
            "{} per-number totals above their limit",
            verification.limit_violation_count
        ));
    }
    if !verification.counters_ok() {
        failures.push(format!(
            "{} sale_counters rows differ from the jugadas",
            verification.counter_mismatches
        ));
    }
    if !verification.idempotency_ok() {
        failures.push(format!(
            "{} idempotency keys with more than one ticket",
            verification.idempotency_duplicates
        ));
    }
    let mismatched: u64 = scenarios.iter().map(|r| r.replay_mismatches).sum();
    if mismatched > 0 {
        failures.push(format!(
            "{mismatched} replays did not answer the original ticket"
        ));
    }
    for e in &evaluations {
        failures.extend(e.failures.iter().cloned());
    }
    for r in &report_runs {
        failures.extend(r.failures.iter().cloned());
    }
    if let Some(c) = &sigterm_check {
        failures.extend(c.failures.iter().map(|f| format!("scenario s: {f}")));
    }
    let mut hot = None;
    for r in scenarios.iter_mut().filter(|r| r.id == "b") {
        let expected = u64::from(seed::HOT_LIMIT / seed::HOT_AMOUNT);
        let limit_refusals: u64 = r
            .errors_by_code
            .iter()
            .filter(|(k, _)| {
                k.ends_with("NUMBER_MAXTOTAL_EXCEEDED") || k.ends_with("NUMBER_MAXAMOUNT_EXCEEDED")
            })
            .map(|(_, v)| *v)
            .sum();
        let sold_ok = verification.hot_number_sold
            == rust_decimal::Decimal::from(seed::HOT_AMOUNT)
                * rust_decimal::Decimal::from(expected);
        let pass = r.ok == expected && r.ok + limit_refusals == r.requests && sold_ok;
        if !pass {
            failures.push(format!(
                "scenario b: {} ok (expected {expected}), {} limit refusals, {} sold in SQL",
                r.ok, limit_refusals, verification.hot_number_sold
            ));
        }
        r.pass = Some(pass);
        hot = Some(report::HotCheck {
            number: seed::HOT_NUMBER.to_string(),
            limit: seed::HOT_LIMIT,
            amount: seed::HOT_AMOUNT,
            buyers: HOT_BUYERS,
            expected_ok: expected,
            ok: r.ok,
            limit_refusals,
            sold_in_db: verification.hot_number_sold.normalize().to_string(),
            pass,
        });
    }

    // sale/pgbench: tickets/s at c16 (pgbench's client count) when a16 ran, else the best sale scenario.
    let basis = scenarios.iter().find(|r| r.id == "a16").or_else(|| {
        scenarios
            .iter()
            .filter(|r| r.unit == "tickets" && r.id != "b")
            .max_by(|a, b| a.per_second.total_cmp(&b.per_second))
    });
    let (ratio, ratio_basis) = match (&pgbench, basis) {
        (Some(p), Some(b)) if p.tps > 0.0 => (
            Some(b.per_second / p.tps),
            Some(format!("{} tickets/s", b.id)),
        ),
        _ => (None, None),
    };

    let report = report::Report {
        started_at,
        machine,
        duration_per_scenario_s: args.duration,
        scenarios,
        hot,
        evaluations,
        sigterm: sigterm_check,
        pgbench,
        pgbench_note,
        sale_to_pgbench_ratio: ratio,
        ratio_basis,
        server_peak_rss_bytes: peak_rss,
        server_rss_after_start_bytes: rss_after_start,
        server_rss_end_bytes: rss_end,
        verification,
        tickets_acknowledged: acknowledged,
        sale_transport_errors: transport,
        tickets_stored_ok,
        passed: failures.is_empty(),
        failures,
        total_s: run_started.elapsed().as_secs_f64(),
    };
    println!();
    print!("{}", report.render());
    for r in &report_runs {
        println!();
        print!("{}", r.render());
        println!("{}", r.summary());
    }
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("results written to {}", path.display());
        if let Some(r) = report_runs.first() {
            let rpath = path.with_extension("reports.json");
            std::fs::write(&rpath, serde_json::to_string_pretty(r)? + "\n")
                .with_context(|| format!("cannot write {}", rpath.display()))?;
            eprintln!("scenario r written to {}", rpath.display());
        }
    }
    println!("{}", report.summary());
    Ok(report)
}
