//! The job engine against a real PostgreSQL (issue 8, decision 8): several engines on one
//! database run each due time exactly once, a run whose instance dies is taken over after its
//! lease, a manual run cannot overlap a scheduled one, a missed run runs once at start, and a
//! stopping instance releases what it could not finish.

use std::time::{Duration, Instant};

use banca::jobs::engine::{RunError, Runner};
use banca::jobs::{JobCtx, JobDef, JobSettings, Trigger};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::common::TestDb;

fn every_second(_: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    Box::pin(async { Ok(Some("* * * * * *".to_string())) })
}

/// Due once a year (its latest due time is in the past: a "missed" run).
fn yearly(_: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    Box::pin(async { Ok(Some("0 0 1 1 *".to_string())) })
}

/// Records the call, then its effect keyed by the due time (idempotent).
fn tick_body(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    Box::pin(async move {
        sqlx::query("INSERT INTO test_calls (due_at) VALUES ($1)")
            .bind(ctx.now)
            .execute(&ctx.pool)
            .await?;
        let n = sqlx::query("INSERT INTO test_effects (due_at) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(ctx.now)
            .execute(&ctx.pool)
            .await?
            .rows_affected();
        Ok(json!({ "written": n }))
    })
}

/// Records the call, writes its effect in a transaction and commits only once `test_gate`
/// opens: a run that can be caught mid-way.
fn gated_body(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    Box::pin(async move {
        sqlx::query("INSERT INTO test_calls (due_at) VALUES ($1)")
            .bind(ctx.now)
            .execute(&ctx.pool)
            .await?;
        let mut tx = ctx.pool.begin().await?;
        sqlx::query("INSERT INTO test_effects (due_at) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(ctx.now)
            .execute(&mut *tx)
            .await?;
        loop {
            let open: bool = sqlx::query_scalar("SELECT open FROM test_gate")
                .fetch_one(&ctx.pool)
                .await?;
            if open {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tx.commit().await?;
        Ok(json!({ "written": 1 }))
    })
}

fn def(
    name: &'static str,
    schedule: banca::jobs::ScheduleSource,
    body: banca::jobs::JobBody,
) -> JobDef {
    JobDef {
        name,
        description: "test job",
        schedule,
        body,
    }
}

async fn setup() -> (TestDb, PgPool) {
    let db = TestDb::migrated().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE test_calls (due_at timestamptz NOT NULL);
         CREATE TABLE test_effects (due_at timestamptz PRIMARY KEY);
         CREATE TABLE test_gate (open boolean NOT NULL);
         INSERT INTO test_gate VALUES (false);",
    )
    .execute(&pool)
    .await
    .unwrap();
    (db, pool)
}

fn runner(pool: &PgPool, jobs: Vec<JobDef>, name: &str, lease_ms: u64) -> Runner {
    Runner::new(
        pool.clone(),
        jobs,
        JobSettings {
            business_tz: chrono_tz::America::Costa_Rica,
            activity_log_retention_days: 45,
        },
        name.to_string(),
        Duration::from_millis(lease_ms),
    )
}

/// Starts `r`'s scheduling loop; returns its stop token and task.
fn start(
    r: Runner,
    tick_ms: u64,
    drain_ms: u64,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let stop = CancellationToken::new();
    let task = tokio::spawn(r.run_loop(
        Duration::from_millis(tick_ms),
        stop.clone(),
        Duration::from_millis(drain_ms),
    ));
    (stop, task)
}

async fn wait_for(pool: &PgPool, sql: &str, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        let ok: bool = sqlx::query_scalar(sql).fetch_one(pool).await.unwrap();
        if ok {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn three_engines_run_each_due_second_exactly_once() {
    let (_db, pool) = setup().await;
    let jobs = || vec![def("every_second", every_second, tick_body)];
    let started: DateTime<Utc> = Utc::now();
    let engines: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|n| start(runner(&pool, jobs(), n, 5_000), 100, 2_000))
        .collect();
    tokio::time::sleep(Duration::from_secs(10)).await;
    for (stop, _) in &engines {
        stop.cancel();
    }
    for (_, task) in engines {
        task.await.unwrap();
    }
    let ended = Utc::now();

    let rows: Vec<(DateTime<Utc>, String, String)> = sqlx::query_as(
        "SELECT due_at, status, instance FROM job_runs WHERE job = 'every_second' ORDER BY due_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(
        rows.len() >= 9,
        "about ten due seconds ran, got {}",
        rows.len()
    );
    assert!(rows.iter().all(|r| r.1 == "succeeded"), "{rows:?}");
    // No due second inside the window was skipped, none ran twice.
    let first = rows[0].0;
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.0, first + chrono::Duration::seconds(i as i64), "{rows:?}");
    }
    assert!(first <= started + chrono::Duration::seconds(1));
    assert!(rows.last().unwrap().0 >= ended - chrono::Duration::seconds(2));
    // The body ran once per due time, and its effect exists once.
    let calls: Vec<(DateTime<Utc>, i64)> =
        sqlx::query_as("SELECT due_at, count(*) FROM test_calls GROUP BY 1 ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(calls.len(), rows.len());
    assert!(calls.iter().all(|c| c.1 == 1), "{calls:?}");
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM test_effects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(effects as usize, rows.len());
    // The work was shared: more than one instance claimed due times.
    let instances: std::collections::HashSet<&str> = rows.iter().map(|r| r.2.as_str()).collect();
    assert!(instances.len() >= 2, "{instances:?}");
    pool.close().await;
}

#[tokio::test]
async fn a_run_whose_instance_dies_is_taken_over_after_the_lease_and_its_effect_exists_once() {
    let (_db, pool) = setup().await;
    let jobs = || vec![def("missed_yearly", yearly, gated_body)];
    // Instance A claims the (missed) yearly run at start and is caught mid-way.
    let (_stop_a, task_a) = start(runner(&pool, jobs(), "a", 1_500), 100, 2_000);
    assert!(
        wait_for(
            &pool,
            "SELECT EXISTS (SELECT 1 FROM job_runs WHERE instance = 'a' AND status = 'running')
                AND EXISTS (SELECT 1 FROM test_calls)",
            Duration::from_secs(10)
        )
        .await
    );
    // While it runs, a manual run of the same job is refused, not a second run.
    let manual = runner(&pool, jobs(), "m", 1_500)
        .run_now("missed_yearly", Trigger::Manual, None, json!({}))
        .await;
    assert!(
        matches!(manual, Err(RunError::AlreadyRunning)),
        "{manual:?}"
    );
    // A dies (its task is dropped: no more lease renewals, its transaction rolls back).
    task_a.abort();
    let _ = task_a.await;
    sqlx::query("UPDATE test_gate SET open = true")
        .execute(&pool)
        .await
        .unwrap();
    let killed_at = Instant::now();
    let (stop_b, task_b) = start(runner(&pool, jobs(), "b", 1_500), 100, 2_000);
    assert!(
        wait_for(
            &pool,
            "SELECT EXISTS (SELECT 1 FROM job_runs WHERE status = 'succeeded')",
            Duration::from_secs(15)
        )
        .await,
        "B finished the run"
    );
    let row: (String, i32, String) = sqlx::query_as(
        "SELECT instance, attempts, status FROM job_runs WHERE job = 'missed_yearly'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row, ("b".into(), 2, "succeeded".into()));
    assert!(
        killed_at.elapsed() >= Duration::from_millis(500),
        "taken over only after the lease"
    );
    let (runs, calls, effects): (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM job_runs), (SELECT count(*) FROM test_calls),
                (SELECT count(*) FROM test_effects)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (runs, calls, effects),
        (1, 2, 1),
        "one run, two attempts, one effect"
    );

    // A restart does not run the missed due time again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_b.cancel();
    task_b.await.unwrap();
    let (_stop_c, task_c) = start(runner(&pool, jobs(), "c", 1_500), 100, 2_000);
    tokio::time::sleep(Duration::from_millis(800)).await;
    task_c.abort();
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM job_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(runs, 1);
    pool.close().await;
}

#[tokio::test]
async fn a_stopping_instance_releases_an_unfinished_run_for_another() {
    let (_db, pool) = setup().await;
    let jobs = || vec![def("missed_yearly", yearly, gated_body)];
    // Long lease: only the release at shutdown lets B take over quickly.
    let (stop_a, task_a) = start(runner(&pool, jobs(), "a", 60_000), 100, 300);
    assert!(
        wait_for(
            &pool,
            "SELECT EXISTS (SELECT 1 FROM job_runs WHERE instance = 'a' AND status = 'running')",
            Duration::from_secs(10)
        )
        .await
    );
    stop_a.cancel();
    task_a.await.unwrap();
    let released: bool =
        sqlx::query_scalar("SELECT lease_until <= now() FROM job_runs WHERE status = 'running'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(released, "the run was released at shutdown");
    sqlx::query("UPDATE test_gate SET open = true")
        .execute(&pool)
        .await
        .unwrap();
    let (stop_b, task_b) = start(runner(&pool, jobs(), "b", 60_000), 100, 2_000);
    assert!(
        wait_for(
            &pool,
            "SELECT EXISTS (SELECT 1 FROM job_runs WHERE status = 'succeeded' AND instance = 'b')",
            Duration::from_secs(5)
        )
        .await
    );
    stop_b.cancel();
    task_b.await.unwrap();
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM test_effects")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(effects, 1);
    pool.close().await;
}

#[tokio::test]
async fn a_failing_job_leaves_a_failed_row_with_its_error_and_run_now_reports_it() {
    fn failing(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
        Box::pin(async move {
            let _ = ctx;
            anyhow::bail!("no se pudo: prueba")
        })
    }
    let (_db, pool) = setup().await;
    let r = runner(&pool, vec![def("failing", yearly, failing)], "a", 5_000);
    let out = r
        .run_now("failing", Trigger::Cli, None, json!({"x": 1}))
        .await;
    assert!(
        matches!(&out, Err(RunError::Failed(e)) if e.contains("no se pudo")),
        "{out:?}"
    );
    let row: (String, String, Option<String>, Value, bool) = sqlx::query_as(
        "SELECT status, trigger, error, params, finished_at IS NOT NULL FROM job_runs",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.0, "failed");
    assert_eq!(row.1, "cli");
    assert!(row.2.unwrap().contains("no se pudo"));
    assert_eq!(row.3, json!({"x": 1}));
    assert!(row.4);
    let unknown = r.run_now("nope", Trigger::Cli, None, json!({})).await;
    assert!(matches!(unknown, Err(RunError::UnknownJob)));
    pool.close().await;
}

#[tokio::test]
async fn a_manual_run_abandoned_by_its_instance_does_not_block_the_job_for_ever() {
    let (_db, pool) = setup().await;
    sqlx::query("UPDATE test_gate SET open = true")
        .execute(&pool)
        .await
        .unwrap();
    // A manual run whose instance died (no scheduling loop runs anywhere to take it over).
    sqlx::query(
        "INSERT INTO job_runs (job, due_at, trigger, status, instance, lease_until)
         VALUES ('missed_yearly', now() - interval '1 hour', 'manual', 'running', 'gone',
                 now() - interval '1 minute')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let r = runner(
        &pool,
        vec![def("missed_yearly", yearly, gated_body)],
        "a",
        5_000,
    );
    let out = r
        .run_now("missed_yearly", Trigger::Manual, None, json!({}))
        .await;
    assert!(out.is_ok(), "{out:?}");
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT instance, status, error FROM job_runs ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].1, "failed");
    assert!(rows[0].2.as_deref().unwrap().contains("abandoned"));
    assert_eq!((rows[1].0.as_str(), rows[1].1.as_str()), ("a", "succeeded"));
    // An abandoned *scheduled* run is the scheduling loop's to take over: still refused.
    sqlx::query(
        "INSERT INTO job_runs (job, due_at, trigger, status, instance, lease_until)
         VALUES ('missed_yearly', now() - interval '2 hours', 'schedule', 'running', 'gone',
                 now() - interval '1 minute')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let out = r
        .run_now("missed_yearly", Trigger::Manual, None, json!({}))
        .await;
    assert!(matches!(out, Err(RunError::AlreadyRunning)), "{out:?}");
    pool.close().await;
}
