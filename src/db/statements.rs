//! SQL of the money written after a result: per-number daily sales of an evaluated sorteo,
//! account statements rebuilt from tickets and movements (domain-money §5.2), and the durable
//! queue of statement rebuilds (`statement_refreshes`). Every rebuild is one set-based
//! statement; nothing loops over rows from Rust.

use chrono::NaiveDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{query, query_as, query_scalar};

/// Replaces the per-number sales of sorteo `id` with its live sales, grouped by business day,
/// banca, ventana, vendedor, lotería, number and bet type (domain-money §1.5, "DailyNumberSales"):
/// tickets not deleted, active, ACTIVE/EVALUATED/PAID/PAGADO; jugadas active, not excluded, not
/// deleted. Also writes the same population per sorteo × day × number × type
/// (`number_rollup`) and its sold tickets per hour of sale (`sale_hour_rollup`). Returns the
/// rows written to `daily_number_sales`.
pub async fn rebuild_number_sales(conn: &mut PgConnection, id: Uuid) -> Result<u64, sqlx::Error> {
    drop_number_sales(conn, id).await?;
    let written = query(
        "INSERT INTO daily_number_sales (business_date, banca_id, ventana_id, vendedor_id,
             loteria_id, sorteo_id, number, type, total_amount, ticket_count, jugada_count)
         SELECT t.business_date, t.banca_id, t.ventana_id, t.vendedor_id, t.loteria_id,
                t.sorteo_id, j.number, j.type, sum(j.amount), count(DISTINCT t.id), count(*)
         FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
         WHERE j.sorteo_id = $1 AND t.sorteo_id = $1
           AND t.deleted_at IS NULL AND t.is_active
           AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
           AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
         GROUP BY t.business_date, t.banca_id, t.ventana_id, t.vendedor_id, t.loteria_id,
                  t.sorteo_id, j.number, j.type",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    // The same population per number for the banca-wide numbers reports (`number_rollup`).
    query(
        "INSERT INTO number_rollup (sorteo_id, business_date, number, type, banca_id,
             loteria_id, total_amount, jugada_count)
         SELECT sorteo_id, business_date, number, type, min(banca_id::text)::uuid,
                min(loteria_id::text)::uuid, sum(total_amount), sum(jugada_count)
         FROM daily_number_sales WHERE sorteo_id = $1
         GROUP BY sorteo_id, business_date, number, type",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    // The sold tickets per hour of sale for the tickets summary (`sale_hour_rollup`).
    query(
        "INSERT INTO sale_hour_rollup (sorteo_id, business_date, sale_hour, banca_id,
             loteria_id, ticket_count, total_amount, total_payout, winner_count)
         SELECT t.sorteo_id, t.business_date,
                date_bin('1 hour', t.created_at, timestamptz '2000-01-01 00:00:00+00'),
                min(t.banca_id::text)::uuid, min(t.loteria_id::text)::uuid, count(*),
                sum(t.total_amount),
                COALESCE(sum(t.total_payout) FILTER (WHERE t.status <> 'ACTIVE'), 0),
                count(*) FILTER (WHERE t.is_winner)
         FROM tickets t
         WHERE t.sorteo_id = $1 AND t.deleted_at IS NULL AND t.is_active
           AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
         GROUP BY 1, 2, 3",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(written)
}

/// Removes the per-number sales of sorteo `id` (its evaluation was reverted), with its
/// `number_rollup` and `sale_hour_rollup` rows.
pub async fn drop_number_sales(conn: &mut PgConnection, id: Uuid) -> Result<u64, sqlx::Error> {
    query("DELETE FROM number_rollup WHERE sorteo_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    query("DELETE FROM sale_hour_rollup WHERE sorteo_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    query("DELETE FROM daily_number_sales WHERE sorteo_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .map(|r| r.rows_affected())
}

/// Asks, inside the caller's transaction, for the statements of every banca with tickets in
/// sorteo `id` to be rebuilt from those tickets' business day on. Returns the rows queued.
pub async fn enqueue_sorteo(
    conn: &mut PgConnection,
    id: Uuid,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    query(
        "INSERT INTO statement_refreshes (banca_id, from_date, reason)
         SELECT banca_id, min(business_date), $2 FROM tickets WHERE sorteo_id = $1
         GROUP BY banca_id",
    )
    .bind(id)
    .bind(reason)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// Asks, inside the caller's transaction, for banca `banca`'s statements to be rebuilt from
/// `from` on.
pub async fn enqueue(
    conn: &mut PgConnection,
    banca: Uuid,
    from: NaiveDate,
    reason: &str,
) -> Result<(), sqlx::Error> {
    query("INSERT INTO statement_refreshes (banca_id, from_date, reason) VALUES ($1, $2, $3)")
        .bind(banca)
        .bind(from)
        .bind(reason)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The banca of the oldest pending rebuild no other transaction is working on (failed ones
/// last), with that row locked; `None` when nothing is pending. `skip` are bancas this drain
/// already tried.
pub async fn next_pending(
    conn: &mut PgConnection,
    skip: &[Uuid],
) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar(
        "SELECT banca_id FROM statement_refreshes
         WHERE NOT (banca_id = ANY($1))
         ORDER BY attempts, id LIMIT 1 FOR UPDATE SKIP LOCKED",
    )
    .bind(skip)
    .fetch_optional(conn)
    .await
}

/// Serialises statement writers of banca `banca` until the transaction ends (a rebuild reads
/// the day before and writes every later day, so two must not interleave).
pub async fn lock_banca(conn: &mut PgConnection, banca: Uuid) -> Result<(), sqlx::Error> {
    query("SELECT pg_advisory_xact_lock(hashtextextended('account_statements:' || $1::text, 0))")
        .bind(banca)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Locks the pending rebuilds of banca `banca` (those no other transaction holds): their ids
/// and the earliest day they ask for.
pub async fn claim(
    conn: &mut PgConnection,
    banca: Uuid,
) -> Result<(Vec<i64>, Option<NaiveDate>), sqlx::Error> {
    let rows: Vec<(i64, NaiveDate)> = query_as(
        "SELECT id, from_date FROM statement_refreshes WHERE banca_id = $1
         ORDER BY id FOR UPDATE SKIP LOCKED",
    )
    .bind(banca)
    .fetch_all(conn)
    .await?;
    let from = rows.iter().map(|r| r.1).min();
    Ok((rows.into_iter().map(|r| r.0).collect(), from))
}

/// Deletes the rebuild requests `ids` (done).
pub async fn complete(conn: &mut PgConnection, ids: &[i64]) -> Result<(), sqlx::Error> {
    query("DELETE FROM statement_refreshes WHERE id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Records a failed attempt on the pending rebuilds of banca `banca`.
pub async fn record_failure(
    conn: &mut PgConnection,
    banca: Uuid,
    error: &str,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE statement_refreshes SET attempts = attempts + 1, last_error = $2
         WHERE banca_id = $1",
    )
    .bind(banca)
    .bind(error)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The business time zone statement SQL computes days in (today, a reset's day). Set once from
/// the configuration when the application state is built; `America/Costa_Rica` until then.
static BUSINESS_TZ: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the business time zone of statement SQL (first call wins).
pub fn set_business_tz(tz: chrono_tz::Tz) {
    let _ = BUSINESS_TZ.set(tz.name().to_string());
}

pub(crate) fn business_tz() -> &'static str {
    BUSINESS_TZ
        .get()
        .map(String::as_str)
        .unwrap_or("America/Costa_Rica")
}

/// The figures of every entity (banca, ventana, vendedor) of banca `$1` on every business day
/// from `$2` on, computed from tickets and movements (CTE `day`: `dim, entity, d, sales,
/// payouts, listero, vend, n, paid, collected, balance`), for the days that have activity or a
/// statement. `$3` is the business time zone. A vendedor with `settings.balanceResetAt` counts,
/// from the reset's business day on, only tickets and movements created at or after that
/// instant (earlier days are left as they were).
const DAY_FIGURES: &str = "
    resets AS (
         SELECT u.id AS vendedor, (u.settings->>'balanceResetAt')::timestamptz AS at
         FROM users u
         WHERE u.settings ? 'balanceResetAt'
           AND COALESCE(u.settings->>'balanceResetAt', '') <> ''),
    pop AS (
         SELECT t.id, t.business_date AS d, t.ventana_id, t.vendedor_id, t.total_payout,
                (r.at IS NULL OR t.business_date < (r.at AT TIME ZONE $3)::date
                 OR t.created_at >= r.at) AS after_reset
         FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
         LEFT JOIN resets r ON r.vendedor = t.vendedor_id
         WHERE t.banca_id = $1 AND t.business_date >= $2
           AND t.deleted_at IS NULL AND t.is_active
           AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
           AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
           AND s.deleted_at IS NULL
           AND NOT EXISTS (
               SELECT 1 FROM sorteo_lista_exclusions x
               WHERE x.sorteo_id = t.sorteo_id AND x.multiplier_id IS NULL
                 AND x.number IS NULL
                 AND (x.ventana_id IS NULL OR x.ventana_id = t.ventana_id)
                 AND (x.vendedor_id IS NULL OR x.vendedor_id = t.vendedor_id))),
    jug AS (
         SELECT j.ticket_id, sum(j.amount) AS sales,
                sum(j.listero_commission_amount) AS listero,
                COALESCE(sum(j.commission_amount)
                         FILTER (WHERE j.commission_origin = 'USER'), 0) AS vend
         FROM jugadas j JOIN pop ON pop.id = j.ticket_id
         WHERE j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
         GROUP BY j.ticket_id),
    tk AS (
         SELECT pop.*, COALESCE(jug.sales, 0) AS sales, COALESCE(jug.listero, 0) AS listero,
                COALESCE(jug.vend, 0) AS vend
         FROM pop LEFT JOIN jug ON jug.ticket_id = pop.id),
    act AS (
         SELECT 'vendedor' AS dim, vendedor_id AS entity, d, sum(sales) AS sales,
                sum(total_payout) AS payouts, sum(listero) AS listero, sum(vend) AS vend,
                count(*) AS n
         FROM tk WHERE after_reset GROUP BY vendedor_id, d
         UNION ALL
         SELECT 'ventana', ventana_id, d, sum(sales), sum(total_payout), sum(listero),
                sum(vend), count(*)
         FROM tk GROUP BY ventana_id, d
         UNION ALL
         SELECT 'banca', $1::uuid, d, sum(sales), sum(total_payout), sum(listero),
                sum(vend), count(*)
         FROM tk GROUP BY d),
    mov AS (
         SELECT CASE WHEN p.vendedor_id IS NOT NULL THEN 'vendedor'
                     WHEN p.ventana_id IS NOT NULL THEN 'ventana' ELSE 'banca' END AS dim,
                COALESCE(p.vendedor_id, p.ventana_id, p.banca_id) AS entity, p.date AS d,
                COALESCE(sum(p.amount) FILTER (WHERE p.type = 'payment'), 0) AS paid,
                COALESCE(sum(p.amount) FILTER (WHERE p.type = 'collection'), 0) AS collected
         FROM account_payments p
         LEFT JOIN resets r ON r.vendedor = p.vendedor_id
         WHERE p.banca_id = $1 AND p.date >= $2 AND NOT p.is_reversed
           AND (r.at IS NULL OR p.date < (r.at AT TIME ZONE $3)::date
                OR p.created_at >= r.at)
         GROUP BY 1, 2, 3),
    stored AS (
         SELECT dimension AS dim, entity_id AS entity, date AS d,
                settled_at IS NOT NULL AS settled,
                balance + total_paid - total_collected AS stored_delta,
                total_adjustments AS stored_adjustments
         FROM account_statements WHERE banca_id = $1 AND date >= $2),
    keys AS (
         SELECT dim, entity, d FROM act
         UNION SELECT dim, entity, d FROM mov
         UNION SELECT dim, entity, d FROM stored
         UNION SELECT dimension, entity_id, applied_date FROM statement_adjustments
               WHERE banca_id = $1 AND applied_date >= $2),
    day AS (
         SELECT k.dim, k.entity, k.d,
                COALESCE(a.sales, 0) AS sales, COALESCE(a.payouts, 0) AS payouts,
                COALESCE(a.listero, 0) AS listero, COALESCE(a.vend, 0) AS vend,
                COALESCE(a.n, 0) AS n,
                COALESCE(m.paid, 0) AS paid, COALESCE(m.collected, 0) AS collected,
                COALESCE(a.sales, 0) - COALESCE(a.payouts, 0)
                  - CASE WHEN k.dim = 'vendedor' THEN COALESCE(a.vend, 0)
                         ELSE COALESCE(a.listero, 0) END AS balance,
                COALESCE(st.settled, false) AS settled, st.stored_delta, st.stored_adjustments
         FROM keys k
         LEFT JOIN act a ON a.dim = k.dim AND a.entity = k.entity AND a.d = k.d
         LEFT JOIN mov m ON m.dim = k.dim AND m.entity = k.entity AND m.d = k.d
         LEFT JOIN stored st ON st.dim = k.dim AND st.entity = k.entity AND st.d = k.d)";

/// Books, for every settled statement of banca `banca` dated `from` or later whose recomputed
/// figures differ from the settled ones, the difference as an adjustment on an open day
/// (decision 11): the first day not settled from today's business day (or the day after the
/// settled one, if later) on. Adjustments already booked on a day that is itself settled are
/// final; the open adjustment of
/// a settled day (at most one) carries `recomputed − settled − Σ final adjustments`: it is
/// updated, created, or removed when that is zero. Nothing settled is ever touched, and running
/// it twice changes nothing. Returns the adjustments written or removed.
pub async fn book_adjustments(
    conn: &mut PgConnection,
    banca: Uuid,
    from: NaiveDate,
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "WITH {DAY_FIGURES},
         booked AS (
             SELECT a.id, a.dimension AS dim, a.entity_id AS entity, a.settled_date AS d,
                    a.amount,
                    EXISTS (SELECT 1 FROM account_statements s
                            WHERE s.dimension = a.dimension AND s.entity_id = a.entity_id
                              AND s.date = a.applied_date AND s.settled_at IS NOT NULL) AS final
             FROM statement_adjustments a
             WHERE a.banca_id = $1 AND a.settled_date >= $2),
         want AS (
             SELECT day.dim, day.entity, day.d,
                    (day.balance + day.paid - day.collected) - day.stored_delta
                      - COALESCE((SELECT sum(b.amount) FROM booked b
                                  WHERE b.final AND b.dim = day.dim AND b.entity = day.entity
                                    AND b.d = day.d), 0) AS amount
             FROM day WHERE day.settled),
         open AS (
             SELECT b.id, b.dim, b.entity, b.d, b.amount FROM booked b WHERE NOT b.final),
         upd AS (
             UPDATE statement_adjustments a SET amount = w.amount, updated_at = now()
             FROM open o JOIN want w ON w.dim = o.dim AND w.entity = o.entity AND w.d = o.d
             WHERE a.id = o.id AND w.amount <> 0 AND o.amount <> w.amount
             RETURNING 1),
         del AS (
             DELETE FROM statement_adjustments a
             USING open o JOIN want w ON w.dim = o.dim AND w.entity = o.entity AND w.d = o.d
             WHERE a.id = o.id AND w.amount = 0
             RETURNING 1),
         ins AS (
             INSERT INTO statement_adjustments (banca_id, dimension, entity_id, settled_date,
                 applied_date, amount, reason)
             SELECT $1, w.dim, w.entity, w.d,
                    -- The first day on or after max(today, settled day + 1) that is not
                    -- settled for the entity.
                    (SELECT min(g)::date
                     FROM generate_series(greatest((now() AT TIME ZONE $3)::date, w.d + 1),
                                          greatest((now() AT TIME ZONE $3)::date, w.d + 1) + 400,
                                          interval '1 day') g
                     WHERE NOT EXISTS (
                         SELECT 1 FROM account_statements s
                         WHERE s.dimension = w.dim AND s.entity_id = w.entity
                           AND s.date = g::date AND s.settled_at IS NOT NULL)),
                    w.amount, 'Corrección de un día cerrado'
             FROM want w
             WHERE w.amount <> 0
               AND NOT EXISTS (SELECT 1 FROM open o
                               WHERE o.dim = w.dim AND o.entity = w.entity AND o.d = w.d)
             ON CONFLICT (dimension, entity_id, settled_date, applied_date) DO NOTHING
             RETURNING 1)
         SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM del)
                + (SELECT count(*) FROM ins)"
    );
    let n: i64 = query_scalar(&sql)
        .bind(banca)
        .bind(from)
        .bind(business_tz())
        .fetch_one(conn)
        .await?;
    Ok(n as u64)
}

/// Rebuilds every account statement of banca `banca` dated `from` or later (domain-money §5.2),
/// and returns the rows written. The caller holds [`lock_banca`]. First, when a day from `from`
/// on is settled, the differences of settled days are booked as adjustments
/// ([`book_adjustments`]); then, in one statement:
///
/// Per entity (the banca, each ventana, each vendedor) and business day:
/// - tickets of the day: not deleted, active, ACTIVE/EVALUATED/PAID/PAGADO, of a sorteo with a
///   result (EVALUATED, or CLOSED after its evaluation) and not deleted, outside any whole-list
///   exclusion of their ventana/vendedor;
///   their live jugadas (active, not excluded, not deleted) give `total_sales` (Σ amount),
///   `listero_commission` (Σ listero amount) and `vendedor_commission` (Σ commission whose origin
///   is the user's policy); `total_payouts` = Σ ticket `total_payout`;
/// - movements of the day (`account_payments`, not reversed, of exactly that entity level):
///   `total_paid` (payments) and `total_collected` (collections);
/// - `balance = sales − payouts − commission` (the vendedor's commission for vendedor rows, the
///   listero's otherwise);
/// - `total_adjustments` = the adjustments booked on the day;
/// - `remaining_balance = accumulated_balance = opening + Σ (balance + paid − collected +
///   adjustments)` over the entity's days up to this one, `opening` being the remaining balance
///   of its latest statement before `from` (0 without one); a settled day counts with its
///   settled figures;
/// - `is_settled = tickets > 0 ∧ |remaining| < 0.01 ∧ (paid > 0 ∨ collected > 0)`;
/// - balance reset ("borrón y cuenta nueva", vendedor rows): only tickets and movements created
///   at or after `settings.balanceResetAt` count, and the running balance starts from 0 on the
///   reset's business day.
///
/// Days with activity get a row; existing rows without activity any more are kept with zero
/// figures and the carried balance. A row closed by settlement (`settled_at` set) is never
/// rewritten (decision 11).
pub async fn rebuild_from(
    conn: &mut PgConnection,
    banca: Uuid,
    from: NaiveDate,
) -> Result<u64, sqlx::Error> {
    // Only settled days carry adjustments: without one from `from` on (the usual case, a
    // recent day) there is nothing to book, and the day figures are computed once.
    let settled: bool = query_scalar(
        "SELECT EXISTS (SELECT 1 FROM account_statements
                        WHERE banca_id = $1 AND date >= $2 AND settled_at IS NOT NULL)",
    )
    .bind(banca)
    .bind(from)
    .fetch_one(&mut *conn)
    .await?;
    if settled {
        book_adjustments(&mut *conn, banca, from).await?;
    }
    let sql = format!(
        "WITH {DAY_FIGURES},
         adj AS (
             SELECT dimension AS dim, entity_id AS entity, applied_date AS d,
                    sum(amount) AS amount
             FROM statement_adjustments WHERE banca_id = $1 AND applied_date >= $2
             GROUP BY 1, 2, 3),
         contrib AS (
             SELECT day.*, COALESCE(adj.amount, 0) AS adjustments,
                    CASE WHEN day.settled THEN day.stored_delta + day.stored_adjustments
                         ELSE day.balance + day.paid - day.collected + COALESCE(adj.amount, 0)
                    END AS delta,
                    CASE WHEN day.dim = 'vendedor'
                         THEN (SELECT (r.at AT TIME ZONE $3)::date FROM resets r
                               WHERE r.vendedor = day.entity) END AS reset_day
             FROM day
             LEFT JOIN adj ON adj.dim = day.dim AND adj.entity = day.entity AND adj.d = day.d),
         opening AS (
             SELECT DISTINCT ON (dimension, entity_id) dimension AS dim, entity_id AS entity,
                    remaining_balance, date AS opening_date
             FROM account_statements WHERE banca_id = $1 AND date < $2
             ORDER BY dimension, entity_id, date DESC),
         run AS (
             SELECT c.*,
                    round(
                      CASE WHEN c.reset_day IS NULL OR c.d < c.reset_day
                           THEN COALESCE(o.remaining_balance, 0)
                           WHEN o.opening_date >= c.reset_day
                           THEN COALESCE(o.remaining_balance, 0)
                           ELSE 0 END
                      + sum(c.delta) OVER w
                      - CASE WHEN c.reset_day IS NOT NULL AND c.d >= c.reset_day
                             THEN sum(CASE WHEN c.d < c.reset_day THEN c.delta ELSE 0 END) OVER w
                             ELSE 0 END, 2) AS remaining
             FROM contrib c
             LEFT JOIN opening o ON o.dim = c.dim AND o.entity = c.entity
             WINDOW w AS (PARTITION BY c.dim, c.entity ORDER BY c.d))
         INSERT INTO account_statements AS st (date, month, dimension, banca_id, ventana_id,
             vendedor_id, total_sales, total_payouts, listero_commission, vendedor_commission,
             balance, total_paid, total_collected, total_adjustments, remaining_balance,
             accumulated_balance, ticket_count, is_settled, can_edit)
         SELECT r.d, to_char(r.d, 'YYYY-MM'), r.dim, $1,
                CASE r.dim WHEN 'ventana' THEN r.entity
                           WHEN 'vendedor' THEN (SELECT u.ventana_id FROM users u
                                                 WHERE u.id = r.entity) END,
                CASE WHEN r.dim = 'vendedor' THEN r.entity END,
                r.sales, r.payouts, r.listero, r.vend, r.balance, r.paid, r.collected,
                r.adjustments, r.remaining, r.remaining, r.n,
                r.n > 0 AND abs(r.remaining) < 0.01 AND (r.paid > 0 OR r.collected > 0),
                NOT (r.n > 0 AND abs(r.remaining) < 0.01 AND (r.paid > 0 OR r.collected > 0))
         FROM run r
         WHERE NOT r.settled
         ON CONFLICT (dimension, entity_id, date) DO UPDATE SET
             total_sales = EXCLUDED.total_sales,
             total_payouts = EXCLUDED.total_payouts,
             listero_commission = EXCLUDED.listero_commission,
             vendedor_commission = EXCLUDED.vendedor_commission,
             balance = EXCLUDED.balance,
             total_paid = EXCLUDED.total_paid,
             total_collected = EXCLUDED.total_collected,
             total_adjustments = EXCLUDED.total_adjustments,
             remaining_balance = EXCLUDED.remaining_balance,
             accumulated_balance = EXCLUDED.accumulated_balance,
             ticket_count = EXCLUDED.ticket_count,
             is_settled = EXCLUDED.is_settled,
             can_edit = EXCLUDED.can_edit,
             updated_at = now()
         WHERE st.settled_at IS NULL"
    );
    query(&sql)
        .bind(banca)
        .bind(from)
        .bind(business_tz())
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// Settles (decision 11: closes for good) up to `limit` unsettled statements of banca `banca`
/// dated before `cutoff`, oldest first, at `at` by `by`; if the banca has a pending rebuild, the
/// statements from its day on are left for a later run (they may be about to change). The
/// caller holds [`lock_banca`], so no rebuild of the banca is half-way. Returns `(settled, left
/// because a rebuild is pending)`.
pub async fn settle_before(
    conn: &mut PgConnection,
    banca: Uuid,
    cutoff: NaiveDate,
    limit: i64,
    at: chrono::DateTime<chrono::Utc>,
    by: Option<Uuid>,
) -> Result<(i64, i64), sqlx::Error> {
    query_as(
        "WITH pending AS (
             SELECT banca_id, min(from_date) AS from_date FROM statement_refreshes
             WHERE banca_id = $5 GROUP BY banca_id),
         cand AS (
             SELECT s.id FROM account_statements s
             LEFT JOIN pending p ON p.banca_id = s.banca_id
             WHERE s.banca_id = $5 AND s.settled_at IS NULL AND s.date < $1
               AND (p.from_date IS NULL OR s.date < p.from_date)
             ORDER BY s.date, s.id LIMIT $2
             FOR UPDATE OF s SKIP LOCKED),
         done AS (
             UPDATE account_statements s SET is_settled = true, can_edit = false,
                 settled_at = $3, settled_by = $4, updated_at = now()
             FROM cand WHERE s.id = cand.id
             RETURNING s.id)
         SELECT (SELECT count(*) FROM done),
                (SELECT count(*) FROM account_statements s
                 JOIN pending p ON p.banca_id = s.banca_id
                 WHERE s.settled_at IS NULL AND s.date < $1 AND s.date >= p.from_date)",
    )
    .bind(cutoff)
    .bind(limit)
    .bind(at)
    .bind(by)
    .bind(banca)
    .fetch_one(conn)
    .await
}

/// Carry-forward (domain-money §5.5 step 5): a zero-activity statement on `day` for banca
/// `banca` (if active) and each of its active ventanas and active VENDEDORes that has none,
/// under the caller's [`lock_banca`], carrying the
/// remaining balance of its latest earlier statement (0 without one). Returns
/// `(created, already there)`.
pub async fn carry_forward(
    conn: &mut PgConnection,
    banca: Uuid,
    day: NaiveDate,
) -> Result<(i64, i64), sqlx::Error> {
    query_as(
        "WITH ents AS (
             SELECT 'banca' AS dim, b.id AS banca_id, NULL::uuid AS ventana_id,
                    NULL::uuid AS vendedor_id, b.id AS entity
             FROM bancas b WHERE b.id = $2 AND b.is_active AND b.deleted_at IS NULL
             UNION ALL
             SELECT 'ventana', v.banca_id, v.id, NULL, v.id
             FROM ventanas v JOIN bancas b ON b.id = v.banca_id
             WHERE v.banca_id = $2 AND v.is_active AND v.deleted_at IS NULL
               AND b.deleted_at IS NULL
             UNION ALL
             SELECT 'vendedor', v.banca_id, u.ventana_id, u.id, u.id
             FROM users u JOIN ventanas v ON v.id = u.ventana_id
             WHERE v.banca_id = $2 AND u.role = 'VENDEDOR' AND u.is_active
               AND u.deleted_at IS NULL AND v.deleted_at IS NULL),
         ins AS (
             INSERT INTO account_statements (date, month, dimension, banca_id, ventana_id,
                 vendedor_id, remaining_balance, accumulated_balance)
             SELECT $1, to_char($1, 'YYYY-MM'), e.dim, e.banca_id, e.ventana_id, e.vendedor_id,
                    COALESCE(p.remaining_balance, 0), COALESCE(p.remaining_balance, 0)
             FROM ents e
             LEFT JOIN LATERAL (
                 SELECT s.remaining_balance FROM account_statements s
                 WHERE s.dimension = e.dim AND s.entity_id = e.entity AND s.date < $1
                 ORDER BY s.date DESC LIMIT 1) p ON true
             ON CONFLICT (dimension, entity_id, date) DO NOTHING
             RETURNING 1)
         SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM ents) - (SELECT count(*) FROM ins)",
    )
    .bind(day)
    .bind(banca)
    .fetch_one(conn)
    .await
}

/// Writes (or rewrites) the monthly closing of `month` ('YYYY-MM', domain-money §5.8) for every
/// entity with statements that month (of banca `banca` only, when given — a movement re-closes
/// its own banca's months under that banca's lock), at `at`: the month's sums, its net flow
/// (`sales − payouts − commission − collected + paid`, commission the vendedor's for vendedores
/// and the listero's otherwise) and the remaining balance of its last statement. Returns the
/// rows written.
pub async fn close_month(
    conn: &mut PgConnection,
    month: &str,
    at: chrono::DateTime<chrono::Utc>,
    banca: Option<Uuid>,
) -> Result<u64, sqlx::Error> {
    query(
        "WITH m AS (
             SELECT dimension, entity_id, banca_id,
                    (array_agg(ventana_id ORDER BY date DESC))[1] AS ventana_id,
                    sum(total_sales) AS sales, sum(total_payouts) AS payouts,
                    CASE WHEN dimension = 'vendedor' THEN sum(vendedor_commission)
                         ELSE sum(listero_commission) END AS commission,
                    sum(total_paid) AS paid, sum(total_collected) AS collected,
                    (array_agg(remaining_balance ORDER BY date DESC))[1] AS remaining,
                    sum(ticket_count) AS tickets
             FROM account_statements
             WHERE date >= to_date($1, 'YYYY-MM')
               AND date < to_date($1, 'YYYY-MM') + interval '1 month'
               AND ($3::uuid IS NULL OR banca_id = $3)
             GROUP BY dimension, entity_id, banca_id)
         INSERT INTO monthly_closing_balances AS c (closing_month, dimension, banca_id,
             ventana_id, vendedor_id, total_sales, total_payouts, total_commission, total_paid,
             total_collected, closing_balance, remaining_balance, ticket_count, closing_date)
         SELECT $1, dimension, banca_id, ventana_id,
                CASE WHEN dimension = 'vendedor' THEN entity_id END,
                sales, payouts, commission, paid, collected,
                sales - payouts - commission - collected + paid, remaining, tickets, $2
         FROM m
         ON CONFLICT (closing_month, dimension, entity_id) DO UPDATE SET
             total_sales = EXCLUDED.total_sales, total_payouts = EXCLUDED.total_payouts,
             total_commission = EXCLUDED.total_commission, total_paid = EXCLUDED.total_paid,
             total_collected = EXCLUDED.total_collected,
             closing_balance = EXCLUDED.closing_balance,
             remaining_balance = EXCLUDED.remaining_balance,
             ticket_count = EXCLUDED.ticket_count, closing_date = EXCLUDED.closing_date,
             updated_at = now()",
    )
    .bind(month)
    .bind(at)
    .bind(banca)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// Bancas that may need settlement or carry-forward: the active ones and those with unsettled
/// statements before `cutoff`.
pub async fn bancas_to_settle(
    conn: &mut PgConnection,
    cutoff: NaiveDate,
) -> Result<Vec<Uuid>, sqlx::Error> {
    query_scalar(
        "SELECT id FROM bancas WHERE is_active AND deleted_at IS NULL
         UNION SELECT DISTINCT banca_id FROM account_statements
               WHERE settled_at IS NULL AND date < $1
         ORDER BY 1",
    )
    .bind(cutoff)
    .fetch_all(conn)
    .await
}

/// Bancas with statements in `month` ('YYYY-MM').
pub async fn bancas_in_month(
    conn: &mut PgConnection,
    month: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    query_scalar(
        "SELECT DISTINCT banca_id FROM account_statements
         WHERE date >= to_date($1, 'YYYY-MM') AND date < to_date($1, 'YYYY-MM') + interval '1 month'
         ORDER BY 1",
    )
    .bind(month)
    .fetch_all(conn)
    .await
}
