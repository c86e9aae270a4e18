//! `banca jobs list`, `banca jobs run` and `banca worker` as real processes on a real database.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{banca_command, TestDb};

fn jobs(db: &TestDb, args: &[&str]) -> std::process::Output {
    let mut c = banca_command();
    c.arg("jobs").args(args).envs(db.app_env());
    c.output().unwrap()
}

#[tokio::test]
async fn jobs_list_and_run_go_through_the_engine() {
    let db = TestDb::migrated().await;
    let mut conn = db.connect().await;
    sqlx::raw_sql(
        "INSERT INTO users (id, username, name, role, password_hash)
         VALUES ('00000000-0000-0000-0000-000000000001', 'u1', 'U', 'ADMIN', 'x');
         INSERT INTO idempotency_keys (user_id, key, request_hash, status_code, expires_at)
         SELECT '00000000-0000-0000-0000-000000000001', 'k' || g, 'h', 201,
                now() + CASE WHEN g <= 3 THEN interval '-1 hour' ELSE interval '1 hour' END
         FROM generate_series(1, 5) g;",
    )
    .execute(&mut conn)
    .await
    .unwrap();

    let out = jobs(&db, &["list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in [
        "sorteos_auto_create",
        "sorteos_auto_open",
        "sorteos_auto_close",
        "restrictions_auto_date",
        "activity_log_cleanup",
        "idempotency_key_expiry",
        "account_settlement",
        "monthly_closing",
    ] {
        assert!(stdout.contains(name), "{name} listed:\n{stdout}");
    }
    // The sorteo jobs are off until enabled in their configuration.
    let create = stdout
        .lines()
        .find(|l| l.starts_with("sorteos_auto_create"))
        .unwrap();
    assert!(create.contains(" off "), "{create}");

    let out = jobs(&db, &["run", "idempotency_key_expiry"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("idempotency_key_expiry: succeeded"),
        "{stdout}"
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM idempotency_keys")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, 2, "the three expired keys were deleted");
    let run: (String, String) =
        sqlx::query_as("SELECT trigger, status FROM job_runs WHERE job = 'idempotency_key_expiry'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(run, ("cli".into(), "succeeded".into()));

    // While a run is in progress (another instance holds it), the CLI refuses with exit code 2.
    sqlx::query(
        "INSERT INTO job_runs (job, due_at, trigger, status, instance, lease_until)
         VALUES ('activity_log_cleanup', now(), 'schedule', 'running', 'other', now() + interval '1 hour')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let out = jobs(&db, &["run", "activity_log_cleanup"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in progress"));

    let out = jobs(&db, &["run", "no_such_job"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("idempotency_key_expiry"));

    let out = jobs(&db, &["run", "idempotency_key_expiry", "--param", "oops"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEY=VALUE"));
}

#[tokio::test]
async fn the_worker_runs_due_jobs_without_http_and_stops_on_sigterm() {
    let db = TestDb::migrated().await;
    let mut c = banca_command();
    c.arg("worker")
        .envs(db.app_env())
        .env("JOBS_TICK_MS", "100")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    // At start the latest due time of each always-on job has no run yet: it runs once.
    let mut conn = db.connect().await;
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let done: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM job_runs
             WHERE job IN ('activity_log_cleanup', 'idempotency_key_expiry')
               AND status = 'succeeded' AND trigger = 'schedule'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if done == 2 {
            break;
        }
        assert!(Instant::now() < until, "the worker ran the due jobs");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let until = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < until, "the worker stopped");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit {status:?}");
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM job_runs WHERE status = 'running'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(runs, 0, "nothing left running");
}

#[tokio::test]
async fn a_serving_instance_runs_jobs_only_when_jobs_are_enabled() {
    use crate::common::spawn_app;
    let due_jobs = "SELECT count(*) FROM job_runs WHERE trigger = 'schedule'";
    // Off (the harness default, as `serve --no-jobs`): nothing runs.
    let db = TestDb::migrated().await;
    let app = spawn_app(&db, &[("JOBS_TICK_MS", "100")]).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mut conn = db.connect().await;
    let n: i64 = sqlx::query_scalar(due_jobs)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(n, 0);
    drop(app);
    // On: the always-on jobs' latest due times run once.
    let db = TestDb::migrated().await;
    let _app = spawn_app(&db, &[("JOBS_ENABLED", "true"), ("JOBS_TICK_MS", "100")]).await;
    let mut conn = db.connect().await;
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM job_runs WHERE trigger = 'schedule' AND status = 'succeeded'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if n >= 3 {
            break;
        }
        assert!(Instant::now() < until, "the serving instance ran its jobs");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
