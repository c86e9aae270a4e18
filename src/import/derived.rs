//! Derived data Banca keeps beside the imported rows, rebuilt for every sorteo the import
//! touched (or whose derived data disagrees with its jugadas, after an interrupted run):
//!
//! - per-number running totals of the sale path (`sale_counters`, limits);
//! - per-number daily sales and their rollups (`daily_number_sales`, `number_rollup`,
//!   `sale_hour_rollup`: [`db::statements::rebuild_number_sales`]) of sorteos with a result;
//! - the report rollups (`sales_rollup`, `ticket_rollup`, `ventana_rollup`, `band_rollup` and
//!   the per-day seller rollups: [`db::rollups::rebuild_sorteo`]);
//! - the ticket-number sequence, moved past any imported number of Banca's own shape.
//!
//! Report generations follow by trigger. Account statements are imported, not rebuilt.

use std::collections::BTreeSet;

use anyhow::Context;
use indicatif::ProgressBar;
use sqlx::PgConnection;
use uuid::Uuid;

use super::copy::Mode;
use crate::db::{self, query, query_scalar};

/// What the rebuild did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DerivedOutcome {
    /// Sorteos whose derived data was rebuilt.
    pub sorteos: i64,
    /// Rows written: `sale_counters`, `daily_number_sales`, `sales_rollup`.
    pub counter_rows: i64,
    pub number_sales_rows: i64,
    pub rollup_rows: i64,
    /// The ticket-number sequence's new value, when it had to move.
    pub sequence_moved_to: Option<i64>,
}

/// Legacy sorteos (of `ids`) whose derived data in Banca disagrees with their jugadas: the
/// counters' total, the per-number sales' or the rollups' jugada count. Catches a run that
/// stopped after copying rows and before rebuilding.
pub async fn stale_sorteos(dst: &mut PgConnection, ids: &[Uuid]) -> anyhow::Result<Vec<Uuid>> {
    query_scalar(
        "WITH live AS (
             SELECT j.sorteo_id, j.amount, t.status, t.is_active AS t_active,
                    t.deleted_at IS NULL AS t_live, t.ventana_id, t.vendedor_id
             FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
             WHERE j.sorteo_id = ANY($1) AND j.is_active AND NOT j.is_excluded
               AND j.deleted_at IS NULL),
         counted AS (
             SELECT sorteo_id, sum(amount) AS amount FROM live
             WHERE t_live AND status NOT IN ('CANCELLED', 'EXCLUDED') GROUP BY 1),
         counters AS (
             SELECT sorteo_id, sum(amount) AS amount FROM sale_counters
             WHERE sorteo_id = ANY($1) AND scope_kind = 'BANCA'
               AND mkey = '00000000-0000-0000-0000-000000000000' GROUP BY 1),
         sold AS (
             SELECT l.sorteo_id, count(*) AS n FROM live l JOIN sorteos s ON s.id = l.sorteo_id
             WHERE s.winning_number IS NOT NULL AND l.t_live AND l.t_active
               AND l.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
             GROUP BY 1),
         numbers AS (
             SELECT sorteo_id, sum(jugada_count) AS n FROM daily_number_sales
             WHERE sorteo_id = ANY($1) GROUP BY 1),
         money AS (
             SELECT l.sorteo_id, count(*) AS n FROM live l JOIN sorteos s ON s.id = l.sorteo_id
             WHERE s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
               AND s.deleted_at IS NULL AND l.t_live AND l.t_active
               AND l.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
               AND NOT EXISTS (
                   SELECT 1 FROM sorteo_lista_exclusions x
                   WHERE x.sorteo_id = l.sorteo_id AND x.multiplier_id IS NULL
                     AND x.number IS NULL
                     AND (x.ventana_id IS NULL OR x.ventana_id = l.ventana_id)
                     AND (x.vendedor_id IS NULL OR x.vendedor_id = l.vendedor_id))
             GROUP BY 1),
         rolled AS (
             SELECT sorteo_id, sum(jugada_count) AS n FROM sales_rollup
             WHERE sorteo_id = ANY($1) GROUP BY 1)
         SELECT s.id FROM sorteos s
         WHERE s.id = ANY($1)
           AND ((SELECT amount FROM counted c WHERE c.sorteo_id = s.id)
                  IS DISTINCT FROM (SELECT amount FROM counters c WHERE c.sorteo_id = s.id)
             OR (SELECT n FROM sold c WHERE c.sorteo_id = s.id)
                  IS DISTINCT FROM (SELECT n FROM numbers c WHERE c.sorteo_id = s.id)
             OR (SELECT n FROM money c WHERE c.sorteo_id = s.id)
                  IS DISTINCT FROM (SELECT n FROM rolled c WHERE c.sorteo_id = s.id))
         ORDER BY s.id",
    )
    .bind(ids)
    .fetch_all(dst)
    .await
    .context("cannot compare the derived data with the imported jugadas")
}

/// Rebuilds the derived data of `sorteos` (one transaction each; savepoints in a dry run) and
/// moves the ticket-number sequence past the imported numbers.
pub async fn rebuild(
    dst: &mut PgConnection,
    sorteos: &BTreeSet<Uuid>,
    mode: Mode,
    bar: &ProgressBar,
) -> anyhow::Result<DerivedOutcome> {
    let mut out = DerivedOutcome::default();
    bar.set_length(sorteos.len() as u64);
    bar.set_position(0);
    for &id in sorteos {
        let (begin, commit) = match mode {
            Mode::Commit => ("BEGIN", "COMMIT"),
            Mode::DryRun => (
                "SAVEPOINT import_derived",
                "RELEASE SAVEPOINT import_derived",
            ),
        };
        query(begin).execute(&mut *dst).await?;
        let r = rebuild_sorteo(dst, id).await;
        match r {
            Ok((counters, numbers, rollups)) => {
                query(commit).execute(&mut *dst).await?;
                out.sorteos += 1;
                out.counter_rows += counters;
                out.number_sales_rows += numbers;
                out.rollup_rows += rollups;
            }
            Err(e) => {
                let rollback = match mode {
                    Mode::Commit => "ROLLBACK",
                    Mode::DryRun => "ROLLBACK TO SAVEPOINT import_derived",
                };
                query(rollback).execute(&mut *dst).await.ok();
                return Err(e.context(format!("cannot rebuild the derived data of sorteo {id}")));
            }
        }
        bar.inc(1);
    }
    out.sequence_moved_to = move_sequence(dst, mode == Mode::Commit).await?;
    Ok(out)
}

/// `(counter rows, per-number sales rows, sales_rollup rows)` written for sorteo `id`.
async fn rebuild_sorteo(dst: &mut PgConnection, id: Uuid) -> anyhow::Result<(i64, i64, i64)> {
    let has_result: Option<bool> =
        query_scalar("SELECT winning_number IS NOT NULL FROM sorteos WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *dst)
            .await?;
    let Some(has_result) = has_result else {
        return Ok((0, 0, 0));
    };
    let numbers = if has_result {
        db::statements::rebuild_number_sales(dst, id).await? as i64
    } else {
        db::statements::drop_number_sales(dst, id).await?;
        0
    };
    let rollups = db::rollups::rebuild_sorteo(dst, id).await?;
    let counters = rebuild_counters(dst, id).await?;
    Ok((counters, numbers, rollups))
}

/// Replaces the sorteo's per-number running totals with the sums of the jugadas they count
/// (the sale path's keys: every jugada under the nil key, NUMERO ones also under their
/// multiplier, REVENTADO ones under the max uuid; per vendedor, ventana and banca).
async fn rebuild_counters(dst: &mut PgConnection, id: Uuid) -> anyhow::Result<i64> {
    query("DELETE FROM sale_counters WHERE sorteo_id = $1")
        .bind(id)
        .execute(&mut *dst)
        .await?;
    let n = query(
        "WITH j AS (
             SELECT j.number, j.type, j.multiplier_id, j.amount, t.vendedor_id, t.ventana_id,
                    t.banca_id
             FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
             WHERE j.sorteo_id = $1 AND t.sorteo_id = $1
               AND t.status NOT IN ('CANCELLED', 'EXCLUDED') AND t.deleted_at IS NULL
               AND j.is_active AND j.deleted_at IS NULL AND NOT j.is_excluded),
         scoped AS (
             SELECT 'VENDEDOR' AS kind, vendedor_id AS scope_id, number, type, multiplier_id,
                    amount FROM j
             UNION ALL SELECT 'VENTANA', ventana_id, number, type, multiplier_id, amount FROM j
             UNION ALL SELECT 'BANCA', banca_id, number, type, multiplier_id, amount FROM j)
         INSERT INTO sale_counters (sorteo_id, scope_kind, scope_id, mkey, number, amount)
         SELECT $1, s.kind, s.scope_id, k.mkey, s.number, sum(s.amount)
         FROM scoped s CROSS JOIN LATERAL (VALUES
             ('00000000-0000-0000-0000-000000000000'::uuid),
             (CASE WHEN s.type = 'NUMERO' THEN s.multiplier_id
                   ELSE 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid END)) AS k(mkey)
         WHERE k.mkey IS NOT NULL
         GROUP BY s.kind, s.scope_id, k.mkey, s.number
         ORDER BY s.scope_id, k.mkey, s.number",
    )
    .bind(id)
    .execute(&mut *dst)
    .await?
    .rows_affected();
    Ok(n as i64)
}

/// Moves `ticket_number_seq` past the largest sequence of an imported number that has Banca's
/// shape (`T<YYMMDD>-<seq>-<CC>`), so a new number can never repeat an imported one. `None`
/// when it was already past. Without `apply` (a dry run: `setval` is never rolled back) only
/// says where it would move.
async fn move_sequence(dst: &mut PgConnection, apply: bool) -> anyhow::Result<Option<i64>> {
    let target: Option<i64> = query_scalar(
        "WITH m AS (
             SELECT max((regexp_match(ticket_number,
                                      '^T[0-9]{6}-([0-9]{5}|[1-9][0-9]{5,12})-[0-9]{2}$'))[1]
                        ::bigint) AS v
             FROM tickets),
         cur AS (
             SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END AS next
             FROM ticket_number_seq)
         SELECT m.v FROM m, cur WHERE m.v >= cur.next",
    )
    .fetch_optional(&mut *dst)
    .await
    .context("cannot read the ticket-number sequence")?;
    if let (Some(v), true) = (target, apply) {
        query("SELECT setval('ticket_number_seq', $1)")
            .bind(v)
            .execute(&mut *dst)
            .await
            .context("cannot move the ticket-number sequence")?;
    }
    Ok(target)
}
