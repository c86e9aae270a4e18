//! What the bench checks in SQL once the load is over: no limit exceeded, running totals equal
//! to the jugadas they count, no idempotency key with two tickets, and every acknowledged sale
//! stored.

use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

/// A jugada that counts toward limits and running totals: of a live ticket that is not
/// cancelled or excluded, itself active and not excluded.
const COUNTED: &str = "t.status NOT IN ('CANCELLED', 'EXCLUDED') AND t.deleted_at IS NULL \
     AND j.is_active AND j.deleted_at IS NULL AND NOT j.is_excluded";

/// The SQL verdict.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// (rule, sorteo, number, scope) totals compared with a `maxTotal`.
    pub limit_groups: i64,
    /// Those above their limit, described (at most 10).
    pub limit_violations: Vec<String>,
    pub limit_violation_count: i64,
    /// Limit rules with conditions the check does not model (dates, hours, auto-date), skipped.
    pub limit_rules_skipped: i64,
    /// Rows in `sale_counters`.
    pub counter_rows: i64,
    /// Rows whose amount differs from the sum of the jugadas they count.
    pub counter_mismatches: i64,
    /// (sorteo, scope, key, number) totals of sold jugadas without a counter row (not an error:
    /// the sale path may keep only the counters it needs).
    pub totals_without_counter: i64,
    /// (created_by, idempotency_key) pairs with more than one ticket.
    pub idempotency_duplicates: i64,
    /// Tickets that carry an idempotency key.
    pub tickets_with_key: i64,
    /// Tickets stored on the sale scenarios' sorteos (those seeded by scenario e excluded).
    pub tickets_in_db: i64,
    /// Tickets scenario e wrote in SQL on its own sorteos (not sales; counted by every other
    /// check).
    pub tickets_seeded: i64,
    /// Sum of the counted jugadas on the hot number in scenario b's sorteo.
    pub hot_number_sold: Decimal,
}

impl Verification {
    pub fn limits_ok(&self) -> bool {
        self.limit_violation_count == 0
    }
    pub fn counters_ok(&self) -> bool {
        self.counter_mismatches == 0
    }
    pub fn idempotency_ok(&self) -> bool {
        self.idempotency_duplicates == 0
    }
}

#[derive(sqlx::FromRow)]
struct Violation {
    what: String,
    sorteo_id: Uuid,
    number: String,
    total: Decimal,
    max_total: Decimal,
}

/// Runs every check on the bench database. `seeded_sorteos` hold tickets written in SQL by
/// scenario e: they are left out of the comparison with the acknowledged sales.
pub async fn verify(
    pool: &PgPool,
    hot_sorteo: Uuid,
    hot_number: &str,
    seeded_sorteos: &[Uuid],
) -> anyhow::Result<Verification> {
    let mut v = Verification::default();

    // Limits: each simple rule with a maxTotal, plus the banca's globalMaxPerNumber, per sorteo
    // and number, over the scope the rule counts (its user, ventana or banca; per vendedor when
    // `applies_to_vendedor`; everything for a global rule).
    let limit_sql = format!(
        "WITH rules AS ( \
             SELECT r.id::text AS what, r.max_total, r.number, r.banca_id, r.ventana_id, r.user_id, \
                    r.owner_banca_id, r.loteria_id, r.multiplier_id, r.sorteo_id, r.applies_to_vendedor \
             FROM restriction_rules r \
             WHERE r.is_active AND r.max_total IS NOT NULL AND NOT r.is_auto_date \
               AND r.applies_to_date IS NULL AND r.applies_to_hour IS NULL \
               AND r.sales_cutoff_minutes IS NULL \
             UNION ALL \
             SELECT 'globalMaxPerNumber of banca ' || b.id, b.global_max_per_number, NULL, b.id, NULL, \
                    NULL, b.id, NULL, NULL, NULL, false \
             FROM bancas b WHERE b.deleted_at IS NULL \
         ), sums AS ( \
             SELECT r.what, j.sorteo_id, j.number, r.max_total, \
                    CASE WHEN r.applies_to_vendedor THEN t.vendedor_id END AS per_vendedor, \
                    sum(j.amount) AS total \
             FROM rules r \
             JOIN tickets t ON (r.banca_id IS NULL OR t.banca_id = r.banca_id) \
                           AND (r.ventana_id IS NULL OR t.ventana_id = r.ventana_id) \
                           AND (r.user_id IS NULL OR t.vendedor_id = r.user_id) \
                           AND (r.owner_banca_id IS NULL OR t.banca_id = r.owner_banca_id) \
                           AND (r.loteria_id IS NULL OR t.loteria_id = r.loteria_id) \
                           AND (r.sorteo_id IS NULL OR t.sorteo_id = r.sorteo_id) \
             JOIN jugadas j ON j.ticket_id = t.id \
                           AND (r.number IS NULL OR j.number = r.number) \
                           AND (r.multiplier_id IS NULL OR j.multiplier_id = r.multiplier_id) \
             WHERE {COUNTED} \
             GROUP BY 1, 2, 3, 4, 5 \
         ) \
         SELECT what, sorteo_id, number, total, max_total FROM sums \
         WHERE total > max_total ORDER BY total - max_total DESC"
    );
    let violations: Vec<Violation> = crate::db::query_as(&limit_sql).fetch_all(pool).await?;
    v.limit_violation_count = violations.len() as i64;
    v.limit_violations = violations
        .iter()
        .take(10)
        .map(|x| {
            format!(
                "rule {}: sorteo {} number {} sold {} > maxTotal {}",
                x.what, x.sorteo_id, x.number, x.total, x.max_total
            )
        })
        .collect();
    let count_sql = limit_sql.replace(
        "SELECT what, sorteo_id, number, total, max_total FROM sums \
         WHERE total > max_total ORDER BY total - max_total DESC",
        "SELECT count(*) FROM sums",
    );
    v.limit_groups = crate::db::query_scalar(&count_sql).fetch_one(pool).await?;
    v.limit_rules_skipped = crate::db::query_scalar(
        "SELECT count(*) FROM restriction_rules WHERE is_active AND max_total IS NOT NULL \
         AND (is_auto_date OR applies_to_date IS NOT NULL OR applies_to_hour IS NOT NULL \
              OR sales_cutoff_minutes IS NOT NULL)",
    )
    .fetch_one(pool)
    .await?;

    // Running totals: every sale_counters row equals the sum of the jugadas it counts, per
    // sorteo, scope (vendedor, ventana, banca), key (nil: all; a multiplier id: its NUMERO
    // jugadas; max uuid: REVENTADO) and number.
    let counters_sql = format!(
        "WITH j AS ( \
             SELECT j.sorteo_id, j.number, j.type, j.multiplier_id, j.amount, \
                    t.vendedor_id, t.ventana_id, t.banca_id \
             FROM jugadas j JOIN tickets t ON t.id = j.ticket_id WHERE {COUNTED} \
         ), scoped AS ( \
             SELECT sorteo_id, vendedor_id AS scope_id, number, type, multiplier_id, amount FROM j \
             UNION ALL SELECT sorteo_id, ventana_id, number, type, multiplier_id, amount FROM j \
             UNION ALL SELECT sorteo_id, banca_id, number, type, multiplier_id, amount FROM j \
         ), expected AS ( \
             SELECT s.sorteo_id, s.scope_id, k.mkey, s.number, sum(s.amount) AS amount \
             FROM scoped s CROSS JOIN LATERAL (VALUES \
                 ('00000000-0000-0000-0000-000000000000'::uuid), \
                 (CASE WHEN s.type = 'NUMERO' THEN s.multiplier_id \
                       ELSE 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid END) \
             ) AS k(mkey) \
             WHERE k.mkey IS NOT NULL \
             GROUP BY 1, 2, 3, 4 \
         ) \
         SELECT \
             count(*) FILTER (WHERE c.sorteo_id IS NOT NULL), \
             count(*) FILTER (WHERE c.sorteo_id IS NOT NULL AND c.amount <> coalesce(e.amount, 0)), \
             count(*) FILTER (WHERE c.sorteo_id IS NULL) \
         FROM sale_counters c \
         FULL JOIN expected e ON e.sorteo_id = c.sorteo_id AND e.scope_id = c.scope_id \
                             AND e.mkey = c.mkey AND e.number = c.number"
    );
    let (rows, mismatches, missing): (i64, i64, i64) =
        crate::db::query_as(&counters_sql).fetch_one(pool).await?;
    v.counter_rows = rows;
    v.counter_mismatches = mismatches;
    v.totals_without_counter = missing;

    // Idempotency: one ticket per (seller, key).
    v.idempotency_duplicates = crate::db::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM tickets WHERE idempotency_key IS NOT NULL \
         GROUP BY created_by, idempotency_key HAVING count(*) > 1) d",
    )
    .fetch_one(pool)
    .await?;
    let (with_key, total, seeded): (i64, i64, i64) = crate::db::query_as(
        "SELECT count(*) FILTER (WHERE idempotency_key IS NOT NULL), \
                count(*) FILTER (WHERE sorteo_id <> ALL($1)), \
                count(*) FILTER (WHERE sorteo_id = ANY($1)) \
         FROM tickets",
    )
    .bind(seeded_sorteos)
    .fetch_one(pool)
    .await?;
    v.tickets_with_key = with_key;
    v.tickets_in_db = total;
    v.tickets_seeded = seeded;

    v.hot_number_sold = crate::db::query_scalar(&format!(
        "SELECT coalesce(sum(j.amount), 0) FROM jugadas j JOIN tickets t ON t.id = j.ticket_id \
         WHERE {COUNTED} AND j.sorteo_id = $1 AND j.number = $2"
    ))
    .bind(hot_sorteo)
    .bind(hot_number)
    .fetch_one(pool)
    .await?;
    Ok(v)
}
