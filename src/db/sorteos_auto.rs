//! Queries of the sorteo jobs (domain-money §2.2–2.5): the `sorteos_auto_config` singleton
//! (flags and cron strings of `/sorteos/auto-config`) and the candidate lists of auto-create,
//! auto-open and auto-close. Each list can be limited to one banca (a BANCA user's manual run);
//! `None` is every banca, global loterías included.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::loterias::LoteriaRow;
use crate::db::{query_as, query_scalar};

/// The singleton row of `sorteos_auto_config`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AutoConfigRow {
    pub auto_open_enabled: bool,
    pub auto_create_enabled: bool,
    pub auto_close_enabled: bool,
    /// Stored 5-field cron strings (UTC); `None` = the job's default.
    pub open_cron_schedule: Option<String>,
    pub create_cron_schedule: Option<String>,
    pub close_cron_schedule: Option<String>,
    pub updated_by: Option<Uuid>,
    /// The username of `updated_by`, when that user still exists.
    pub updated_by_username: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const CONFIG_SELECT: &str = "SELECT c.auto_open_enabled, c.auto_create_enabled,
        c.auto_close_enabled, c.open_cron_schedule, c.create_cron_schedule,
        c.close_cron_schedule, c.updated_by, u.username AS updated_by_username, c.created_at,
        c.updated_at
    FROM sorteos_auto_config c LEFT JOIN users u ON u.id = c.updated_by";

/// The configuration; the row is created (all flags off) if it is missing.
pub async fn get(conn: &mut PgConnection) -> Result<AutoConfigRow, sqlx::Error> {
    if let Some(row) = query_as(CONFIG_SELECT).fetch_optional(&mut *conn).await? {
        return Ok(row);
    }
    query_scalar::<bool>(
        "INSERT INTO sorteos_auto_config DEFAULT VALUES ON CONFLICT (singleton) DO NOTHING
         RETURNING true",
    )
    .fetch_optional(&mut *conn)
    .await?;
    query_as(CONFIG_SELECT).fetch_one(conn).await
}

/// Changes of `PATCH /sorteos/auto-config`: `None` keeps a value; for the cron strings
/// `Some(None)` goes back to the default.
#[derive(Debug, Clone, Default)]
pub struct AutoConfigChanges {
    pub auto_open_enabled: Option<bool>,
    pub auto_create_enabled: Option<bool>,
    pub auto_close_enabled: Option<bool>,
    pub open_cron_schedule: Option<Option<String>>,
    pub create_cron_schedule: Option<Option<String>>,
    pub close_cron_schedule: Option<Option<String>>,
}

/// Applies `c`, records who did it, and returns the row as it is now. Locks the row until the
/// transaction ends.
pub async fn update(
    conn: &mut PgConnection,
    c: &AutoConfigChanges,
    updated_by: Uuid,
) -> Result<AutoConfigRow, sqlx::Error> {
    get(&mut *conn).await?;
    query_scalar::<bool>(
        "UPDATE sorteos_auto_config SET
             auto_open_enabled = COALESCE($1, auto_open_enabled),
             auto_create_enabled = COALESCE($2, auto_create_enabled),
             auto_close_enabled = COALESCE($3, auto_close_enabled),
             open_cron_schedule = CASE WHEN $4 THEN $5 ELSE open_cron_schedule END,
             create_cron_schedule = CASE WHEN $6 THEN $7 ELSE create_cron_schedule END,
             close_cron_schedule = CASE WHEN $8 THEN $9 ELSE close_cron_schedule END,
             updated_by = $10,
             updated_at = now()
         WHERE singleton
         RETURNING true",
    )
    .bind(c.auto_open_enabled)
    .bind(c.auto_create_enabled)
    .bind(c.auto_close_enabled)
    .bind(c.open_cron_schedule.is_some())
    .bind(c.open_cron_schedule.clone().flatten())
    .bind(c.create_cron_schedule.is_some())
    .bind(c.create_cron_schedule.clone().flatten())
    .bind(c.close_cron_schedule.is_some())
    .bind(c.close_cron_schedule.clone().flatten())
    .bind(updated_by)
    .fetch_one(&mut *conn)
    .await?;
    query_as(CONFIG_SELECT).fetch_one(conn).await
}

// ---------------------------------------------------------------------------------------------
// Candidates of the jobs.

/// The live (active, not deleted) loterías auto-create looks at, of `banca` or of every banca.
pub async fn live_loterias(
    conn: &mut PgConnection,
    banca: Option<Uuid>,
) -> Result<Vec<LoteriaRow>, sqlx::Error> {
    query_as(
        "SELECT id, banca_id, name, rules_json, is_active, deleted_at, deleted_by,
                deleted_reason, created_at, updated_at
         FROM loterias
         WHERE is_active AND deleted_at IS NULL AND ($1::uuid IS NULL OR banca_id = $1)
         ORDER BY name, id",
    )
    .bind(banca)
    .fetch_all(conn)
    .await
}

/// The latest instant of an active, not deleted sorteo of the lotería at or after `from`.
pub async fn latest_sorteo_from(
    conn: &mut PgConnection,
    loteria_id: Uuid,
    from: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    query_scalar(
        "SELECT max(scheduled_at) FROM sorteos
         WHERE loteria_id = $1 AND is_active AND deleted_at IS NULL AND scheduled_at >= $2",
    )
    .bind(loteria_id)
    .bind(from)
    .fetch_one(conn)
    .await
}

/// A sorteo a job may act on: its id and banca.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Candidate {
    pub id: Uuid,
    pub banca_id: Option<Uuid>,
}

/// SCHEDULED, active, not deleted sorteos scheduled in `[from, to)`, oldest first.
pub async fn open_candidates(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    banca: Option<Uuid>,
) -> Result<Vec<Candidate>, sqlx::Error> {
    query_as(
        "SELECT id, banca_id FROM sorteos
         WHERE status = 'SCHEDULED' AND is_active AND deleted_at IS NULL
           AND scheduled_at >= $1 AND scheduled_at < $2
           AND ($3::uuid IS NULL OR banca_id = $3)
         ORDER BY scheduled_at, id",
    )
    .bind(from)
    .bind(to)
    .bind(banca)
    .fetch_all(conn)
    .await
}

/// SCHEDULED or OPEN, active, not deleted sorteos scheduled at or before `until` that have no
/// ticket at all (any status, deleted ones included), oldest first.
pub async fn close_candidates(
    conn: &mut PgConnection,
    until: DateTime<Utc>,
    banca: Option<Uuid>,
) -> Result<Vec<Candidate>, sqlx::Error> {
    query_as(
        "SELECT s.id, s.banca_id FROM sorteos s
         WHERE s.status IN ('SCHEDULED', 'OPEN') AND s.is_active AND s.deleted_at IS NULL
           AND s.scheduled_at <= $1
           AND ($2::uuid IS NULL OR s.banca_id = $2)
           AND NOT EXISTS (SELECT 1 FROM tickets t WHERE t.sorteo_id = s.id)
         ORDER BY s.scheduled_at, s.id",
    )
    .bind(until)
    .bind(banca)
    .fetch_all(conn)
    .await
}

/// Whether the sorteo has any ticket (any status, deleted ones included).
pub async fn has_tickets(conn: &mut PgConnection, sorteo_id: Uuid) -> Result<bool, sqlx::Error> {
    query_scalar("SELECT EXISTS (SELECT 1 FROM tickets WHERE sorteo_id = $1)")
        .bind(sorteo_id)
        .fetch_one(conn)
        .await
}
