//! Schema migrations: plain SQL files under `migrations/`, embedded in the binary and applied
//! under PostgreSQL's advisory lock (sqlx's migrator takes it), so instances starting together
//! do not race. Run them on the direct connection, never through PgBouncer.

use sqlx::migrate::Migrator;
use sqlx::{PgConnection, PgPool};

/// Every migration in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// What a migration run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied_now: usize,
    pub total: usize,
}

/// Advisory lock key serialising whole migration runs (counting included), so the report of
/// each concurrent run is exact. Distinct from the key sqlx's migrator takes.
const RUN_LOCK_KEY: i64 = 0x6261_6e63_615f_6d67; // "banca_mg"

/// Applies pending migrations; a run with nothing pending changes nothing.
pub async fn run(pool: &PgPool) -> Result<MigrationReport, sqlx::migrate::MigrateError> {
    let mut conn = pool.acquire().await?;
    crate::db::query("SELECT pg_advisory_lock($1)")
        .bind(RUN_LOCK_KEY)
        .execute(&mut *conn)
        .await?;
    let result = async {
        let before = applied_count(&mut conn).await;
        MIGRATOR.run_direct(&mut *conn).await?;
        let after = applied_count(&mut conn).await;
        Ok(MigrationReport {
            applied_now: after.saturating_sub(before),
            total: MIGRATOR.iter().count(),
        })
    }
    .await;
    let unlocked = crate::db::query("SELECT pg_advisory_unlock($1)")
        .bind(RUN_LOCK_KEY)
        .execute(&mut *conn)
        .await;
    if unlocked.is_err() {
        // The session lock dies with the connection; do not return it to the pool.
        conn.detach();
    }
    result
}

/// Migrations recorded as applied; 0 before the first run (no table yet).
async fn applied_count(conn: &mut PgConnection) -> usize {
    crate::db::query_scalar::<i64>("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(conn)
        .await
        .map(|n| n as usize)
        .unwrap_or(0)
}
