//! Housekeeping jobs (issue 8): activity-log cleanup (with old job runs), idempotency-key
//! expiry and the auto-date roll-over of restriction numbers, each run on a fixed clock against
//! the real database; the settlement job's configuration and status routes
//! (`/account-statements/auto-config`, `/auto-status`) and the job section of
//! `/restrictions/cron-health`.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use banca::jobs::{maintenance, JobCtx, JobSettings, Trigger};

use crate::fixtures::{self, call, World};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn ctx(w: &World, now: DateTime<Utc>, params: Value) -> JobCtx {
    JobCtx {
        pool: w.app.state.pools.primary().clone(),
        now,
        trigger: if params == json!({}) {
            Trigger::Schedule
        } else {
            Trigger::Manual
        },
        requested_by: None,
        params,
        settings: Arc::new(JobSettings {
            business_tz: w.app.state.config.business_timezone,
            activity_log_retention_days: 45,
        }),
    }
}

async fn count(w: &World, sql: &str) -> i64 {
    fixtures::scalar::<i64>(w, sql).await
}

async fn digest(w: &World, table: &str) -> String {
    fixtures::scalar::<Option<String>>(
        w,
        &format!("SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"),
    )
    .await
    .unwrap_or_default()
}

#[tokio::test]
async fn cleanup_deletes_exactly_the_rows_past_retention() {
    let w = fixtures::world().await;
    let now = at("2026-11-20T12:00:00Z");
    let cutoff = now - Duration::days(45);
    let mut conn = w.db.connect().await;
    // 25 000 old entries (three delete batches), the boundary, and recent ones.
    sqlx::query(
        "INSERT INTO activity_logs (action, created_at)
         SELECT 'TEST_OLD', $1 - make_interval(secs => g) FROM generate_series(1, 25000) g",
    )
    .bind(cutoff)
    .execute(&mut conn)
    .await
    .unwrap();
    for (action, when) in [
        ("TEST_EDGE", cutoff),
        ("TEST_NEW", cutoff + Duration::seconds(1)),
        ("TEST_NEW", now - Duration::days(1)),
    ] {
        sqlx::query("INSERT INTO activity_logs (action, created_at) VALUES ($1, $2)")
            .bind(action)
            .bind(when)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    // Job runs: `x` has two old runs and a recent one; `y` only old ones (its latest finished
    // and latest successful run stay); `z` is running since long ago.
    for (job, status, finished_days_ago) in [
        ("x", "succeeded", Some(50)),
        ("x", "failed", Some(49)),
        ("x", "succeeded", Some(1)),
        ("y", "succeeded", Some(90)),
        ("y", "succeeded", Some(80)),
        ("y", "failed", Some(70)),
        ("y", "failed", Some(60)),
        ("z", "running", None),
    ] {
        let finished = finished_days_ago.map(|d: i64| now - Duration::days(d));
        let started = finished.unwrap_or(now - Duration::days(100)) - Duration::minutes(1);
        sqlx::query(
            "INSERT INTO job_runs (job, due_at, trigger, status, instance, lease_until,
                                   started_at, finished_at)
             VALUES ($1, $2, 'schedule', $3, 'test', $2, $2, $4)",
        )
        .bind(job)
        .bind(started)
        .bind(status)
        .bind(finished)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    let old_before = count(
        &w,
        &format!("SELECT count(*) FROM activity_logs WHERE created_at < '{cutoff}'"),
    )
    .await;
    let kept_before = count(
        &w,
        &format!("SELECT count(*) FROM activity_logs WHERE created_at >= '{cutoff}'"),
    )
    .await;
    assert!(old_before >= 25_000);

    let out = maintenance::activity_log_cleanup(ctx(&w, now, json!({})))
        .await
        .unwrap();
    assert_eq!(out["deletedCount"], json!(old_before), "{out}");
    assert_eq!(out["retentionDays"], 45);
    // x: the two old ones; y: the 90- and 70-day ones (80 = latest success, 60 = latest run).
    assert_eq!(out["jobRunsDeleted"], 4, "{out}");
    assert_eq!(
        count(
            &w,
            &format!("SELECT count(*) FROM activity_logs WHERE created_at < '{cutoff}'")
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &w,
            &format!("SELECT count(*) FROM activity_logs WHERE created_at >= '{cutoff}'")
        )
        .await,
        kept_before
    );
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM activity_logs WHERE action = 'TEST_EDGE'"
        )
        .await,
        1
    );
    let runs: Vec<(String, String)> =
        sqlx::query_as("SELECT job, status FROM job_runs ORDER BY job, started_at")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let runs: Vec<(&str, &str)> = runs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        runs,
        [
            ("x", "succeeded"),
            ("y", "succeeded"),
            ("y", "failed"),
            ("z", "running")
        ]
    );

    // Idempotent: the same instant again deletes nothing.
    let again = maintenance::activity_log_cleanup(ctx(&w, now, json!({})))
        .await
        .unwrap();
    assert_eq!(
        (
            again["deletedCount"].clone(),
            again["jobRunsDeleted"].clone()
        ),
        (json!(0), json!(0))
    );

    // A manual run with `days`.
    let manual = maintenance::activity_log_cleanup(ctx(&w, now, json!({ "days": 1 })))
        .await
        .unwrap();
    assert_eq!(manual["retentionDays"], 1);
    assert_eq!(
        count(
            &w,
            &format!(
                "SELECT count(*) FROM activity_logs WHERE created_at < '{}'",
                now - Duration::days(1)
            )
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM activity_logs WHERE action = 'TEST_NEW'"
        )
        .await,
        1
    );
    assert!(
        maintenance::activity_log_cleanup(ctx(&w, now, json!({ "days": 0 })))
            .await
            .is_err()
    );
    assert!(
        maintenance::activity_log_cleanup(ctx(&w, now, json!({ "days": "x" })))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn expiry_deletes_exactly_the_expired_keys() {
    let w = fixtures::world().await;
    let now = at("2026-11-20T12:00:00Z");
    let mut conn = w.db.connect().await;
    let users = [w.a.vendedores[0].user_id, w.a.vendedores[1].user_id];
    let mut n = 0;
    for user in users {
        for (key, expires) in [
            ("old", now - Duration::hours(30)),
            ("edge", now),
            ("live", now + Duration::seconds(1)),
            ("later", now + Duration::hours(20)),
        ] {
            n += 1;
            sqlx::query(
                "INSERT INTO idempotency_keys (user_id, key, request_hash, expires_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(user)
            .bind(key)
            .bind(format!("h{n}"))
            .bind(expires)
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
    let out = maintenance::idempotency_key_expiry(ctx(&w, now, json!({})))
        .await
        .unwrap();
    assert_eq!(out, json!({ "deletedCount": 4 }));
    let left: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT key FROM idempotency_keys ORDER BY key")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(left, ["later", "live"]);
    assert_eq!(count(&w, "SELECT count(*) FROM idempotency_keys").await, 4);
    let again = maintenance::idempotency_key_expiry(ctx(&w, now, json!({})))
        .await
        .unwrap();
    assert_eq!(again, json!({ "deletedCount": 0 }));
    // An hour later the one-second key has expired too.
    let later = maintenance::idempotency_key_expiry(ctx(&w, now + Duration::hours(1), json!({})))
        .await
        .unwrap();
    assert_eq!(later, json!({ "deletedCount": 2 }));
}

/// Inserts a restriction rule of banca A directly; returns its id.
#[allow(clippy::too_many_arguments)]
async fn raw_rule(
    w: &World,
    scope: (&str, Uuid),
    number: Option<&str>,
    auto: bool,
    active: bool,
    max_amount: i64,
    created: DateTime<Utc>,
) -> Uuid {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar(&format!(
        "INSERT INTO restriction_rules (owner_banca_id, {}, number, is_auto_date, is_active,
                                        max_amount, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        scope.0
    ))
    .bind(w.a.banca_id)
    .bind(scope.1)
    .bind(number)
    .bind(auto)
    .bind(active)
    .bind(max_amount)
    .bind(created)
    .fetch_one(&mut conn)
    .await
    .unwrap()
}

async fn number_of(w: &World, id: Uuid) -> Option<String> {
    let mut conn = w.db.connect().await;
    sqlx::query_scalar("SELECT number FROM restriction_rules WHERE id = $1")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn auto_date_roll_over_follows_the_business_day_and_changes_no_rule() {
    let w = fixtures::world().await;
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let (banca, v0) = (w.a.banca_id, w.a.ventanas[0]);
    raw_rule(&w, ("banca_id", banca), None, true, true, 10, t0).await;
    raw_rule(&w, ("ventana_id", v0), None, true, true, 10, t0).await;
    raw_rule(&w, ("banca_id", banca), None, true, false, 10, t0).await;
    let plain = raw_rule(&w, ("banca_id", banca), Some("10"), false, true, 10, t0).await;
    let rules = digest(&w, "restriction_rules").await;

    // 05:59:59Z = 23:59:59 of the 24th in Costa Rica; 06:00:00Z = midnight, the 25th.
    let before = at("2026-11-25T05:59:59Z");
    let out = maintenance::restrictions_auto_date(ctx(&w, before, json!({})))
        .await
        .unwrap();
    assert_eq!(out["number"], "24", "{out}");
    assert_eq!(out["businessDate"], "2026-11-24");
    assert_eq!(out["autoDateRules"], 2, "active auto-date rules only");
    let after = at("2026-11-25T06:00:00Z");
    let out = maintenance::restrictions_auto_date(ctx(&w, after, json!({})))
        .await
        .unwrap();
    assert_eq!(out["number"], "25");
    assert_eq!(out["businessDate"], "2026-11-25");
    // The sale path resolves the same number at the same instant.
    let local = banca::domain::rules::LocalNow::at(after, w.app.state.config.business_timezone);
    assert_eq!(local.auto_date_number(2), "25");
    // Auto-date rules store no number in Banca: nothing was rewritten.
    assert_eq!(digest(&w, "restriction_rules").await, rules);
    assert_eq!(number_of(&w, plain).await.as_deref(), Some("10"));
}

#[tokio::test]
async fn schedules_are_fixed_or_follow_the_settlement_config() {
    let w = fixtures::world().await;
    let pool = w.app.state.pools.primary().clone();
    assert_eq!(
        maintenance::daily_cleanup_schedule(pool.clone())
            .await
            .unwrap(),
        Some("0 2 * * *".into())
    );
    assert_eq!(
        maintenance::hourly_expiry_schedule(pool.clone())
            .await
            .unwrap(),
        Some("0 * * * *".into())
    );
    assert_eq!(
        maintenance::auto_date_schedule(pool.clone()).await.unwrap(),
        Some("0 6 * * *".into())
    );
    assert_eq!(
        maintenance::settlement_schedule(pool.clone())
            .await
            .unwrap(),
        None
    );
    fixtures::exec(
        &w,
        "UPDATE account_statement_settlement_config SET enabled = true",
    )
    .await;
    assert_eq!(
        maintenance::settlement_schedule(pool.clone())
            .await
            .unwrap(),
        Some("0 3 * * *".into())
    );
    fixtures::exec(
        &w,
        "UPDATE account_statement_settlement_config SET cron_schedule = '15 5 * * *'",
    )
    .await;
    assert_eq!(
        maintenance::settlement_schedule(pool.clone())
            .await
            .unwrap(),
        Some("15 5 * * *".into())
    );
    let names: Vec<&str> = maintenance::defs().iter().map(|d| d.name).collect();
    assert_eq!(
        names,
        [
            "activity_log_cleanup",
            "idempotency_key_expiry",
            "restrictions_auto_date"
        ]
    );
}

#[tokio::test]
async fn settlement_auto_config_and_status() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    let path = "/api/v1/account-statements/auto-config";
    let (s, v) = call(&w.app, Method::GET, path, admin, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(
        (
            d["enabled"].clone(),
            d["settlementAgeDays"].clone(),
            d["cronSchedule"].clone(),
            d["batchSize"].clone(),
            d["effectiveCronSchedule"].clone()
        ),
        (
            json!(false),
            json!(7),
            Value::Null,
            json!(1000),
            Value::Null
        )
    );

    // Everyone else: 403, nothing written.
    let config_digest = digest(&w, "account_statement_settlement_config").await;
    for who in w.a.logins() {
        let (s, _) = call(&w.app, Method::GET, path, Some(&who.token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{:?}", who.role);
        let (s, _) = call(
            &w.app,
            Method::PATCH,
            path,
            Some(&who.token),
            Some(&json!({ "enabled": true })),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{:?}", who.role);
    }
    // Invalid bodies: 400 VALIDATION_ERROR, nothing written.
    for body in [
        json!({ "cronSchedule": "not a cron" }),
        json!({ "cronSchedule": "99 * * * *" }),
        json!({ "cronSchedule": "0 0 3 * * *" }),
        json!({ "cronSchedule": "0 3 30 2 *" }),
        json!({ "cronSchedule": 5 }),
        json!({ "settlementAgeDays": 0 }),
        json!({ "settlementAgeDays": 366 }),
        json!({ "batchSize": 99 }),
        json!({ "batchSize": 10001 }),
        json!({ "enabled": "yes" }),
        json!({ "lastExecution": null }),
    ] {
        let (s, v) = call(&w.app, Method::PATCH, path, admin, Some(&body)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("VALIDATION_ERROR")),
            "{body}: {v}"
        );
    }
    assert_eq!(
        digest(&w, "account_statement_settlement_config").await,
        config_digest
    );

    let body = json!({
        "enabled": true, "settlementAgeDays": 10, "cronSchedule": " 30 4 * * * ", "batchSize": 500
    });
    let (s, v) = call(&w.app, Method::PATCH, path, admin, Some(&body)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["enabled"], true);
    assert_eq!(d["settlementAgeDays"], 10);
    assert_eq!(d["cronSchedule"], "30 4 * * *");
    assert_eq!(d["effectiveCronSchedule"], "30 4 * * *");
    assert_eq!(d["batchSize"], 500);
    assert_eq!(d["updatedBy"], w.admin.user_id.to_string());
    assert_eq!(
        count(
            &w,
            "SELECT count(*) FROM activity_logs WHERE action = 'ACCOUNT_SETTLEMENT_CONFIG_UPDATE'"
        )
        .await,
        1
    );

    // Status, for any role.
    let status = "/api/v1/account-statements/auto-status";
    let seller = Some(w.a.vendedores[0].token.as_str());
    let (s, v) = call(&w.app, Method::GET, status, seller, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["enabled"], true);
    assert_eq!(d["cronSchedule"], "30 4 * * *");
    assert_eq!(d["lastExecution"], Value::Null);
    assert_eq!(d["lastSettledCount"], Value::Null);
    let next = at(d["nextScheduledExecution"].as_str().unwrap());
    assert!(next > Utc::now() && next <= Utc::now() + Duration::days(1));
    assert_eq!(next.format("%H:%M:%S").to_string(), "04:30:00");

    // A finished settlement run shows up.
    let finished = Utc::now() - Duration::hours(2);
    sqlx::query(
        "INSERT INTO job_runs (job, due_at, trigger, status, instance, lease_until, started_at,
                               finished_at, outcome)
         VALUES ('account_settlement', $1, 'schedule', 'succeeded', 'test', $1, $1, $1, $2)",
    )
    .bind(finished)
    .bind(
        json!({ "settledCount": 5, "skippedCount": 0, "errorCount": 1,
                  "errors": [{ "id": "x", "error": "boom" }] }),
    )
    .execute(&mut w.db.connect().await)
    .await
    .unwrap();
    let (_, v) = call(&w.app, Method::GET, status, seller, None).await;
    let d = &v["data"];
    assert_eq!(d["lastSettledCount"], 5);
    assert_eq!(d["lastErrorCount"], 1);
    assert_eq!(d["lastErrorMessage"], "boom");
    assert_eq!(d["lastStatus"], "succeeded");
    assert_eq!(
        at(d["lastExecution"].as_str().unwrap()).timestamp(),
        finished.timestamp()
    );

    // Back to the default schedule, then off.
    let (s, v) = call(
        &w.app,
        Method::PATCH,
        path,
        admin,
        Some(&json!({ "cronSchedule": null })),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["data"]["cronSchedule"], Value::Null);
    assert_eq!(v["data"]["effectiveCronSchedule"], "0 3 * * *");
    let (_, v) = call(&w.app, Method::GET, status, seller, None).await;
    assert_eq!(v["data"]["cronSchedule"], "0 3 * * *");
    let (s, _) = call(
        &w.app,
        Method::PATCH,
        path,
        admin,
        Some(&json!({ "enabled": false })),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, v) = call(&w.app, Method::GET, status, seller, None).await;
    assert_eq!(v["data"]["enabled"], false);
    assert_eq!(v["data"]["cronSchedule"], Value::Null);
    assert_eq!(v["data"]["nextScheduledExecution"], Value::Null);
    // Without a token: 401.
    let (s, _) = call(&w.app, Method::GET, status, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cron_health_reports_and_runs_the_auto_date_job() {
    let w = fixtures::world().await;
    let admin = Some(w.admin.token.as_str());
    raw_rule(
        &w,
        ("banca_id", w.a.banca_id),
        None,
        true,
        true,
        10,
        Utc::now(),
    )
    .await;
    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions/cron-health",
        admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let job = &v["data"]["jobs"]["restrictions_auto_date"];
    assert_eq!(job["status"], "never_run", "{v}");
    assert_eq!(job["isHealthy"], false);
    assert_eq!(job["schedule"], "0 6 * * *");
    // The counters part is still there.
    assert_eq!(v["data"]["counters"]["checked"], true);
    assert_eq!(v["data"]["rules"]["autoDate"], 1);

    let execute = "/api/v1/restrictions/cron-health/execute";
    for who in w.a.logins() {
        let (s, _) = call(&w.app, Method::POST, execute, Some(&who.token), None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{:?}", who.role);
    }
    assert_eq!(count(&w, "SELECT count(*) FROM job_runs").await, 0);

    let (s, v) = call(&w.app, Method::POST, execute, admin, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let d = &v["data"];
    assert_eq!(d["executed"], true);
    assert_eq!(d["execution"]["status"], "succeeded", "{v}");
    assert_eq!(d["execution"]["outcome"]["autoDateRules"], 1, "{v}");
    assert_eq!(d["jobs"]["restrictions_auto_date"]["status"], "succeeded");
    assert_eq!(d["jobs"]["restrictions_auto_date"]["isHealthy"], true);
    let expected = d["expectedAutoDateNumber"].as_str().unwrap().to_string();
    assert_eq!(d["execution"]["outcome"]["number"], expected.as_str());
    assert_eq!(
        fixtures::scalar::<Option<String>>(
            &w,
            "SELECT number FROM restriction_rules WHERE is_auto_date"
        )
        .await,
        None,
        "the stored rule is untouched"
    );
    let (trigger, requested_by): (String, Option<Uuid>) = sqlx::query_as(
        "SELECT trigger, requested_by FROM job_runs WHERE job = 'restrictions_auto_date'",
    )
    .fetch_one(&mut w.db.connect().await)
    .await
    .unwrap();
    assert_eq!(
        (trigger.as_str(), requested_by),
        ("manual", Some(w.admin.user_id))
    );

    let (s, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions/cron-health",
        admin,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let job = &v["data"]["jobs"]["restrictions_auto_date"];
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["isHealthy"], true);
    assert_eq!(job["autoDateRules"], 1);
    assert_eq!(job["number"].as_str().unwrap().len(), 2);
    assert_eq!(job["lastTrigger"], "manual");

    // A run in progress: 409.
    fixtures::exec(
        &w,
        "INSERT INTO job_runs (job, due_at, trigger, status, instance, lease_until)
         VALUES ('restrictions_auto_date', now() - interval '1 minute', 'schedule', 'running',
                 'elsewhere', now() + interval '1 hour')",
    )
    .await;
    let (s, v) = call(&w.app, Method::POST, execute, admin, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("JOB_ALREADY_RUNNING")),
        "{v}"
    );
    let (_, v) = call(
        &w.app,
        Method::GET,
        "/api/v1/restrictions/cron-health",
        admin,
        None,
    )
    .await;
    let job = &v["data"]["jobs"]["restrictions_auto_date"];
    assert_eq!(job["status"], "running");
    // The last success is recent, so still healthy.
    assert_eq!(job["isHealthy"], true);
}
