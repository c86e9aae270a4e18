//! The housekeeping jobs' SQL: batched deletes of old activity entries, old job runs and expired
//! idempotency keys; the count of auto-date restriction rules; the settlement job's
//! configuration row (`/account-statements/auto-config`).
//!
//! Every delete takes at most `batch` rows per statement, so a large backlog is removed in many
//! short transactions instead of one that holds locks and bloats the WAL; the caller loops
//! until a batch comes back short. Each statement re-checks its condition on the row it deletes,
//! so a row changed meanwhile (an idempotency key reused by a sale) is left alone.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use super::{query, query_as, query_scalar};

/// Deletes at most `batch` activity entries created before `before`.
pub async fn delete_activity_logs_before(
    pool: &PgPool,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let done = query(
        "DELETE FROM activity_logs a
          WHERE a.id IN (SELECT id FROM activity_logs
                          WHERE created_at < $1
                          LIMIT $2
                          FOR UPDATE SKIP LOCKED)
            AND a.created_at < $1",
    )
    .bind(before)
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes at most `batch` finished job runs that finished before `before`. Running runs are
/// never touched, and each job keeps its latest finished run, its latest successful run (health
/// reports' "last run" and "last success" survive a job that seldom runs) and the run of its
/// latest scheduled due time (so that due time is never claimed again).
pub async fn delete_job_runs_before(
    pool: &PgPool,
    before: DateTime<Utc>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let done = query(
        "WITH keep AS (
             (SELECT DISTINCT ON (job) id FROM job_runs
               WHERE status <> 'running'
               ORDER BY job, started_at DESC, id DESC)
             UNION
             (SELECT DISTINCT ON (job) id FROM job_runs
               WHERE status = 'succeeded'
               ORDER BY job, started_at DESC, id DESC)
             UNION
             -- The latest scheduled due time: without its row an instance starting afresh
             -- would claim (and run) that due time again.
             (SELECT DISTINCT ON (job) id FROM job_runs
               WHERE trigger = 'schedule'
               ORDER BY job, due_at DESC, id DESC)),
         old AS (
             SELECT id FROM job_runs
              WHERE status <> 'running' AND finished_at < $1
                AND id NOT IN (SELECT id FROM keep)
              ORDER BY id
              LIMIT $2
              FOR UPDATE SKIP LOCKED)
         DELETE FROM job_runs r
          USING old
          WHERE r.id = old.id AND r.status <> 'running' AND r.finished_at < $1",
    )
    .bind(before)
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes at most `batch` idempotency keys expired at `now`. A key a sale is reusing right now
/// is skipped (locked) or, once the sale refreshed it, no longer expired.
pub async fn delete_expired_idempotency_keys(
    pool: &PgPool,
    now: DateTime<Utc>,
    batch: i64,
) -> Result<u64, sqlx::Error> {
    let done = query(
        "WITH old AS (
             SELECT user_id, key FROM idempotency_keys
              WHERE expires_at <= $1
              LIMIT $2
              FOR UPDATE SKIP LOCKED)
         DELETE FROM idempotency_keys k
          USING old
          WHERE k.user_id = old.user_id AND k.key = old.key AND k.expires_at <= $1",
    )
    .bind(now)
    .bind(batch)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// How many auto-date restriction rules are active.
pub async fn count_auto_date_rules(pool: &PgPool) -> Result<i64, sqlx::Error> {
    query_scalar("SELECT count(*) FROM restriction_rules WHERE is_active AND is_auto_date")
        .fetch_one(pool)
        .await
}

/// The settlement job's configuration (the singleton of `/account-statements/auto-config`).
#[derive(Debug, Clone, FromRow)]
pub struct SettlementConfig {
    pub id: Uuid,
    pub enabled: bool,
    pub settlement_age_days: i32,
    /// `None`: the default schedule.
    pub cron_schedule: Option<String>,
    pub batch_size: i32,
    pub updated_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const SETTLEMENT_COLUMNS: &str = "id, enabled, settlement_age_days, cron_schedule, batch_size, \
                                  updated_by, created_at, updated_at";

/// The settlement configuration; the migration inserts the row, a missing one is recreated
/// with the defaults.
pub async fn settlement_config(
    conn: &mut sqlx::PgConnection,
) -> Result<SettlementConfig, sqlx::Error> {
    let sql = format!(
        "WITH ins AS (
             INSERT INTO account_statement_settlement_config DEFAULT VALUES
             ON CONFLICT (singleton) DO NOTHING
             RETURNING {SETTLEMENT_COLUMNS})
         SELECT {SETTLEMENT_COLUMNS} FROM ins
         UNION ALL
         SELECT {SETTLEMENT_COLUMNS} FROM account_statement_settlement_config
          WHERE singleton
         LIMIT 1"
    );
    query_as::<SettlementConfig>(&sql).fetch_one(conn).await
}

/// The settlement configuration, locked for an update in the caller's transaction.
pub async fn settlement_config_for_update(
    conn: &mut sqlx::PgConnection,
) -> Result<SettlementConfig, sqlx::Error> {
    let existing = query_as::<SettlementConfig>(&format!(
        "SELECT {SETTLEMENT_COLUMNS} FROM account_statement_settlement_config
          WHERE singleton FOR UPDATE"
    ))
    .fetch_optional(&mut *conn)
    .await?;
    match existing {
        Some(c) => Ok(c),
        None => settlement_config(conn).await,
    }
}

/// Writes the settlement configuration (every editable field) and who changed it.
pub async fn update_settlement_config(
    conn: &mut sqlx::PgConnection,
    c: &SettlementConfig,
    updated_by: Uuid,
) -> Result<SettlementConfig, sqlx::Error> {
    query_as::<SettlementConfig>(&format!(
        "UPDATE account_statement_settlement_config
            SET enabled = $2, settlement_age_days = $3, cron_schedule = $4, batch_size = $5,
                updated_by = $6, updated_at = now()
          WHERE id = $1
         RETURNING {SETTLEMENT_COLUMNS}"
    ))
    .bind(c.id)
    .bind(c.enabled)
    .bind(c.settlement_age_days)
    .bind(&c.cron_schedule)
    .bind(c.batch_size)
    .bind(updated_by)
    .fetch_one(conn)
    .await
}

/// The settlement schedule's inputs: whether it is enabled and its cron string.
pub async fn settlement_schedule(pool: &PgPool) -> Result<(bool, Option<String>), sqlx::Error> {
    let row: Option<(bool, Option<String>)> = query_as(
        "SELECT enabled, cron_schedule FROM account_statement_settlement_config WHERE singleton",
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.unwrap_or((false, None)))
}
