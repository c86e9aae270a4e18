//! Schema migrations: plain SQL files under `migrations/`, embedded in the binary and applied
//! under PostgreSQL's advisory lock (sqlx's migrator takes it), so instances starting together
//! do not race. Run them on the direct connection, never through PgBouncer.

use sqlx::migrate::Migrator;
use sqlx::PgPool;

/// Every migration in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// What a migration run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied_now: usize,
    pub total: usize,
}

/// Applies pending migrations; a run with nothing pending changes nothing.
pub async fn run(pool: &PgPool) -> Result<MigrationReport, sqlx::migrate::MigrateError> {
    let before = applied_count(pool).await.unwrap_or(0);
    MIGRATOR.run(pool).await?;
    let after = applied_count(pool).await.unwrap_or(before);
    Ok(MigrationReport {
        applied_now: after.saturating_sub(before),
        total: MIGRATOR.iter().count(),
    })
}

async fn applied_count(pool: &PgPool) -> Result<usize, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM _sqlx_migrations WHERE success",
    )
    .fetch_one(pool)
    .await?;
    Ok(n as usize)
}
