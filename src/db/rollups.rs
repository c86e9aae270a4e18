//! The report rollups (`sales_rollup`, `ticket_rollup`, migration `report_rollups`): per-sorteo
//! aggregates of the money population, rebuilt in the transaction of every change to a drawn
//! sorteo, and the per-banca generation number the report cache is keyed by.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::query_scalar;

/// Replaces the rollup rows of sorteo `id` with its current money population (none when it has
/// no result or is deleted). Call it after the sorteo's state change, in the same transaction.
/// Returns the `sales_rollup` rows written.
pub async fn rebuild_sorteo(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    query_scalar::<i32>("SELECT rebuild_sorteo_rollup($1)")
        .bind(id)
        .fetch_one(conn)
        .await
        .map(i64::from)
}

/// The report generation of banca `banca` (every bank's sum when `None`): it grows with every
/// committed write that changes report money (triggers on the rollups, prize payments,
/// movements, statements and adjustments).
pub async fn generation<'e, E>(exec: E, banca: Option<Uuid>) -> Result<i64, sqlx::Error>
where
    E: sqlx::PgExecutor<'e>,
{
    match banca {
        Some(b) => query_scalar::<i64>(
            "SELECT COALESCE((SELECT generation FROM report_generations WHERE banca_id = $1), 0)",
        )
        .bind(b)
        .fetch_one(exec)
        .await,
        None => {
            query_scalar::<i64>(
                "SELECT COALESCE(sum(generation), 0)::bigint FROM report_generations",
            )
            .fetch_one(exec)
            .await
        }
    }
}
