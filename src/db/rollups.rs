//! The report rollups (`sales_rollup`, `ticket_rollup`, migration `report_rollups`): per-sorteo
//! aggregates of the money population, rebuilt in the transaction of every change to a drawn
//! sorteo, and the per-banca generation number the report cache is keyed by.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{query, query_scalar};

/// Replaces the rollup rows of sorteo `id` with its current money population (none when it has
/// no result or is deleted). Call it after the sorteo's state change, in the same transaction.
/// Returns the `sales_rollup` rows written.
///
/// The per-day seller rollups (`seller_day_rollup`, `seller_day_tickets`, migration
/// `…000007`) follow by difference: the sorteo's old rows are subtracted before the rebuild
/// and the new ones added after it, under one transaction-scoped advisory lock, so that two
/// rebuilds never interleave their differences (and never deadlock on the shared day rows;
/// rebuilds happen a few times an hour); groups left without jugadas are deleted.
pub async fn rebuild_sorteo(conn: &mut PgConnection, id: Uuid) -> Result<i64, sqlx::Error> {
    query("SELECT pg_advisory_xact_lock(hashtextextended('seller_day_rollup', 0))")
        .execute(&mut *conn)
        .await?;
    let mut days = seller_day_apply(conn, id, -1).await?;
    let n = query_scalar::<i32>("SELECT rebuild_sorteo_rollup($1)")
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map(i64::from)?;
    days.extend(seller_day_apply(conn, id, 1).await?);
    if !days.is_empty() {
        days.sort_unstable();
        days.dedup();
        query("DELETE FROM seller_day_rollup WHERE business_date = ANY($1) AND jugada_count = 0")
            .bind(&days)
            .execute(&mut *conn)
            .await?;
        query("DELETE FROM seller_day_tickets WHERE business_date = ANY($1) AND ticket_count = 0")
            .bind(&days)
            .execute(&mut *conn)
            .await?;
    }
    Ok(n)
}

/// Adds `sign` × the sorteo's current `sales_rollup` / `ticket_rollup` rows to the per-day
/// seller rollups; returns the business days touched.
async fn seller_day_apply(
    conn: &mut PgConnection,
    id: Uuid,
    sign: i32,
) -> Result<Vec<NaiveDate>, sqlx::Error> {
    // One row per key in each source (the sorteo fixes the lotería, the ventana the banca).
    let mut days = query_scalar::<NaiveDate>(
        "WITH ins AS (
            INSERT INTO seller_day_rollup AS d (business_date, banca_id, ventana_id,
                vendedor_id, type, band, in_band, total_sales, total_payouts,
                listero_commission, jugada_count, ticket_count)
            SELECT business_date, banca_id, ventana_id, vendedor_id, type, band,
                   in_band, $2 * total_sales, $2 * total_payouts, $2 * listero_commission,
                   $2 * jugada_count, $2 * ticket_count
            FROM sales_rollup WHERE sorteo_id = $1
            ORDER BY business_date, ventana_id, vendedor_id, type, band, in_band
            ON CONFLICT (business_date, ventana_id, vendedor_id, type, band, in_band)
            DO UPDATE SET total_sales = d.total_sales + EXCLUDED.total_sales,
                          total_payouts = d.total_payouts + EXCLUDED.total_payouts,
                          listero_commission = d.listero_commission
                                               + EXCLUDED.listero_commission,
                          jugada_count = d.jugada_count + EXCLUDED.jugada_count,
                          ticket_count = d.ticket_count + EXCLUDED.ticket_count
            RETURNING d.business_date)
         SELECT DISTINCT business_date FROM ins",
    )
    .bind(id)
    .bind(sign)
    .fetch_all(&mut *conn)
    .await?;
    days.extend(
        query_scalar::<NaiveDate>(
            "WITH ins AS (
                INSERT INTO seller_day_tickets AS d (business_date, banca_id, ventana_id,
                    vendedor_id, ticket_count)
                SELECT business_date, banca_id, ventana_id, vendedor_id, $2 * ticket_count
                FROM ticket_rollup WHERE sorteo_id = $1
                ORDER BY business_date, ventana_id, vendedor_id
                ON CONFLICT (business_date, ventana_id, vendedor_id)
                DO UPDATE SET ticket_count = d.ticket_count + EXCLUDED.ticket_count
                RETURNING d.business_date)
             SELECT DISTINCT business_date FROM ins",
        )
        .bind(id)
        .bind(sign)
        .fetch_all(&mut *conn)
        .await?,
    );
    Ok(days)
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
