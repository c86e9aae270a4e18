//! Housekeeping jobs: activity-log cleanup, idempotency-key expiry, auto-date restriction roll-over.
//!
//! Each body is idempotent and takes the time from `ctx.now`: running it twice at the same
//! instant changes nothing the second time.

use std::time::Duration;

use anyhow::{bail, Context};
use futures::future::BoxFuture;
use futures::FutureExt;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::{JobCtx, JobDef};
use crate::db;
use crate::domain::rules::LocalNow;

/// Rows per delete statement: each batch is its own short transaction.
pub const DELETE_BATCH: i64 = 10_000;

/// Daily 02:00 UTC (20:00 CR), like the existing system's (never started) cleanup timer.
pub const ACTIVITY_LOG_CLEANUP_CRON: &str = "0 2 * * *";
/// Every hour on the hour.
pub const IDEMPOTENCY_KEY_EXPIRY_CRON: &str = "0 * * * *";
/// Daily 06:00 UTC = 00:00 CR, like the existing system's pg_cron `update_auto_restrictions_daily`.
pub const RESTRICTIONS_AUTO_DATE_CRON: &str = "0 6 * * *";
/// The settlement job's schedule when its configuration names none (03:00 UTC).
pub const SETTLEMENT_DEFAULT_CRON: &str = "0 3 * * *";

/// Runs `step` until it deletes fewer than a full batch; the total deleted.
async fn delete_in_batches<F, Fut>(mut step: F) -> Result<u64, sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, sqlx::Error>>,
{
    let mut total = 0u64;
    loop {
        let n = step().await?;
        total += n;
        if n < u64::try_from(DELETE_BATCH).unwrap_or(u64::MAX) {
            return Ok(total);
        }
        // Let other work at the tables between batches.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The retention of a cleanup run: `params.days` of a manual or CLI run, else the setting.
fn retention_days(ctx: &JobCtx) -> anyhow::Result<u32> {
    match ctx.params.get("days") {
        None | Some(Value::Null) => Ok(ctx.settings.activity_log_retention_days),
        Some(v) => match v.as_u64() {
            Some(d @ 1..=36_500) => Ok(u32::try_from(d)?),
            _ => bail!("params.days must be a whole number of days from 1 to 36500, got {v}"),
        },
    }
}

/// `activity_log_cleanup`: deletes the activity entries older than the retention
/// (`ACTIVITY_LOG_RETENTION_DAYS`, default 45; `params.days` for a manual run) before
/// `ctx.now`, every banca, and the finished job runs older than the same retention (each job
/// keeps its latest finished and latest successful run). Reports
/// `{deletedCount, jobRunsDeleted, retentionDays, cutoff}`.
pub fn activity_log_cleanup(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    async move {
        let days = retention_days(&ctx)?;
        let cutoff = ctx.now - chrono::Duration::days(i64::from(days));
        let pool = &ctx.pool;
        let deleted = delete_in_batches(move || {
            db::maintenance::delete_activity_logs_before(pool, cutoff, DELETE_BATCH)
        })
        .await
        .context("deleting old activity logs")?;
        let runs = delete_in_batches(move || {
            db::maintenance::delete_job_runs_before(pool, cutoff, DELETE_BATCH)
        })
        .await
        .context("deleting old job runs")?;
        Ok(json!({
            "deletedCount": deleted,
            "jobRunsDeleted": runs,
            "retentionDays": days,
            "cutoff": cutoff,
        }))
    }
    .boxed()
}

/// `idempotency_key_expiry`: deletes the idempotency keys expired at `ctx.now` (the sale path
/// already ignores them; this keeps the table small). Reports `{deletedCount}`.
pub fn idempotency_key_expiry(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    async move {
        let pool = &ctx.pool;
        let now = ctx.now;
        let deleted = delete_in_batches(move || {
            db::maintenance::delete_expired_idempotency_keys(pool, now, DELETE_BATCH)
        })
        .await
        .context("deleting expired idempotency keys")?;
        Ok(json!({ "deletedCount": deleted }))
    }
    .boxed()
}

/// `restrictions_auto_date`: the daily roll-over of auto-date restriction rules (the existing
/// system's pg_cron `update_auto_date_restrictions()` rewrote their stored `number` every
/// midnight). In Banca an auto-date rule stores no number (catalog decision): every reader — the
/// sale path, `GET /restrictions` and the health report — resolves it from the business date
/// with [`LocalNow::auto_date_number`], so the roll-over happens by itself at midnight and this
/// job changes nothing. It records the number in force for the business day of `ctx.now` and how
/// many active auto-date rules it applies to, so the roll-over is visible in `job_runs` and in
/// `/restrictions/cron-health`. Reports `{number, businessDate, autoDateRules, updatedCount: 0}`.
pub fn restrictions_auto_date(ctx: JobCtx) -> BoxFuture<'static, anyhow::Result<Value>> {
    async move {
        let local = LocalNow::at(ctx.now, ctx.settings.business_tz);
        let rules = db::maintenance::count_auto_date_rules(&ctx.pool)
            .await
            .context("counting auto-date rules")?;
        Ok(json!({
            "number": local.auto_date_number(2),
            "businessDate": local.date,
            "autoDateRules": rules,
            "updatedCount": 0,
        }))
    }
    .boxed()
}

/// Schedule of `activity_log_cleanup`.
pub fn daily_cleanup_schedule(_pool: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    async { Ok(Some(ACTIVITY_LOG_CLEANUP_CRON.to_owned())) }.boxed()
}

/// Schedule of `idempotency_key_expiry`.
pub fn hourly_expiry_schedule(_pool: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    async { Ok(Some(IDEMPOTENCY_KEY_EXPIRY_CRON.to_owned())) }.boxed()
}

/// Schedule of `restrictions_auto_date`.
pub fn auto_date_schedule(_pool: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    async { Ok(Some(RESTRICTIONS_AUTO_DATE_CRON.to_owned())) }.boxed()
}

/// The effective cron string of the settlement job for a configuration row: `None` when
/// disabled, else its `cron_schedule` or [`SETTLEMENT_DEFAULT_CRON`].
pub fn effective_settlement_cron(enabled: bool, cron: Option<&str>) -> Option<String> {
    enabled.then(|| {
        cron.map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(SETTLEMENT_DEFAULT_CRON)
            .to_owned()
    })
}

/// Schedule of the settlement job (`account_settlement`, issue 9): from
/// `account_statement_settlement_config`, re-read on every call so a PATCH takes effect.
pub fn settlement_schedule(pool: PgPool) -> BoxFuture<'static, anyhow::Result<Option<String>>> {
    async move {
        let (enabled, cron) = db::maintenance::settlement_schedule(&pool)
            .await
            .context("reading the settlement configuration")?;
        Ok(effective_settlement_cron(enabled, cron.as_deref()))
    }
    .boxed()
}

/// The housekeeping jobs, for the registry (the settlement job registers with issue 9).
pub fn defs() -> Vec<JobDef> {
    vec![
        JobDef {
            name: "activity_log_cleanup",
            description: "delete activity logs and finished job runs past the retention",
            schedule: daily_cleanup_schedule,
            body: activity_log_cleanup,
        },
        JobDef {
            name: "idempotency_key_expiry",
            description: "delete expired sale idempotency keys",
            schedule: hourly_expiry_schedule,
            body: idempotency_key_expiry,
        },
        JobDef {
            name: "restrictions_auto_date",
            description: "set auto-date restriction numbers to today's business day",
            schedule: auto_date_schedule,
            body: restrictions_auto_date,
        },
    ]
}
