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
/// deleted. Returns the rows written.
pub async fn rebuild_number_sales(conn: &mut PgConnection, id: Uuid) -> Result<u64, sqlx::Error> {
    drop_number_sales(conn, id).await?;
    query(
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
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// Removes the per-number sales of sorteo `id` (its evaluation was reverted).
pub async fn drop_number_sales(conn: &mut PgConnection, id: Uuid) -> Result<u64, sqlx::Error> {
    query("DELETE FROM daily_number_sales WHERE sorteo_id = $1")
        .bind(id)
        .execute(conn)
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

/// Rebuilds every account statement of banca `banca` dated `from` or later (domain-money §5.2),
/// in one statement, and returns the rows written. The caller holds [`lock_banca`].
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
/// - `remaining_balance = accumulated_balance = opening + Σ (balance + paid − collected)` over
///   the entity's days up to this one, `opening` being the remaining balance of its latest
///   statement before `from` (0 without one);
/// - `is_settled = tickets > 0 ∧ |remaining| < 0.01 ∧ (paid > 0 ∨ collected > 0)`.
///
/// Days with activity get a row; existing rows without activity any more are kept with zero
/// figures and the carried balance. A row closed by settlement (`settled_at` set) is never
/// rewritten (decision 11; corrections to a closed day are booked as adjustments on an open day,
/// which comes with the accounts issue); later days carry on from its stored balance.
pub async fn rebuild_from(
    conn: &mut PgConnection,
    banca: Uuid,
    from: NaiveDate,
) -> Result<u64, sqlx::Error> {
    query(
        "WITH pop AS (
             SELECT t.id, t.business_date AS d, t.ventana_id, t.vendedor_id, t.total_payout
             FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
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
             FROM tk GROUP BY vendedor_id, d
             UNION ALL
             SELECT 'ventana', ventana_id, d, sum(sales), sum(total_payout), sum(listero),
                    sum(vend), count(*)
             FROM tk GROUP BY ventana_id, d
             UNION ALL
             SELECT 'banca', $1::uuid, d, sum(sales), sum(total_payout), sum(listero),
                    sum(vend), count(*)
             FROM tk GROUP BY d),
         mov AS (
             SELECT CASE WHEN vendedor_id IS NOT NULL THEN 'vendedor'
                         WHEN ventana_id IS NOT NULL THEN 'ventana' ELSE 'banca' END AS dim,
                    COALESCE(vendedor_id, ventana_id, banca_id) AS entity, date AS d,
                    COALESCE(sum(amount) FILTER (WHERE type = 'payment'), 0) AS paid,
                    COALESCE(sum(amount) FILTER (WHERE type = 'collection'), 0) AS collected
             FROM account_payments
             WHERE banca_id = $1 AND date >= $2 AND NOT is_reversed
             GROUP BY 1, 2, 3),
         keys AS (
             SELECT dim, entity, d FROM act
             UNION SELECT dim, entity, d FROM mov
             UNION SELECT dimension, entity_id, date FROM account_statements
                   WHERE banca_id = $1 AND date >= $2),
         day AS (
             SELECT k.dim, k.entity, k.d,
                    COALESCE(a.sales, 0) AS sales, COALESCE(a.payouts, 0) AS payouts,
                    COALESCE(a.listero, 0) AS listero, COALESCE(a.vend, 0) AS vend,
                    COALESCE(a.n, 0) AS n,
                    COALESCE(m.paid, 0) AS paid, COALESCE(m.collected, 0) AS collected,
                    COALESCE(a.sales, 0) - COALESCE(a.payouts, 0)
                      - CASE WHEN k.dim = 'vendedor' THEN COALESCE(a.vend, 0)
                             ELSE COALESCE(a.listero, 0) END AS balance
             FROM keys k
             LEFT JOIN act a ON a.dim = k.dim AND a.entity = k.entity AND a.d = k.d
             LEFT JOIN mov m ON m.dim = k.dim AND m.entity = k.entity AND m.d = k.d),
         opening AS (
             SELECT DISTINCT ON (dimension, entity_id) dimension AS dim, entity_id AS entity,
                    remaining_balance
             FROM account_statements WHERE banca_id = $1 AND date < $2
             ORDER BY dimension, entity_id, date DESC),
         run AS (
             SELECT day.*,
                    round(COALESCE(o.remaining_balance, 0)
                          + sum(day.balance + day.paid - day.collected)
                              OVER (PARTITION BY day.dim, day.entity ORDER BY day.d), 2)
                      AS remaining
             FROM day LEFT JOIN opening o ON o.dim = day.dim AND o.entity = day.entity)
         INSERT INTO account_statements AS st (date, month, dimension, banca_id, ventana_id,
             vendedor_id, total_sales, total_payouts, listero_commission, vendedor_commission,
             balance, total_paid, total_collected, remaining_balance, accumulated_balance,
             ticket_count, is_settled, can_edit)
         SELECT r.d, to_char(r.d, 'YYYY-MM'), r.dim, $1,
                CASE r.dim WHEN 'ventana' THEN r.entity
                           WHEN 'vendedor' THEN (SELECT u.ventana_id FROM users u
                                                 WHERE u.id = r.entity) END,
                CASE WHEN r.dim = 'vendedor' THEN r.entity END,
                r.sales, r.payouts, r.listero, r.vend, r.balance, r.paid, r.collected,
                r.remaining, r.remaining, r.n,
                r.n > 0 AND abs(r.remaining) < 0.01 AND (r.paid > 0 OR r.collected > 0),
                NOT (r.n > 0 AND abs(r.remaining) < 0.01 AND (r.paid > 0 OR r.collected > 0))
         FROM run r
         ON CONFLICT (dimension, entity_id, date) DO UPDATE SET
             total_sales = EXCLUDED.total_sales,
             total_payouts = EXCLUDED.total_payouts,
             listero_commission = EXCLUDED.listero_commission,
             vendedor_commission = EXCLUDED.vendedor_commission,
             balance = EXCLUDED.balance,
             total_paid = EXCLUDED.total_paid,
             total_collected = EXCLUDED.total_collected,
             remaining_balance = EXCLUDED.remaining_balance,
             accumulated_balance = EXCLUDED.accumulated_balance,
             ticket_count = EXCLUDED.ticket_count,
             is_settled = EXCLUDED.is_settled,
             can_edit = EXCLUDED.can_edit,
             updated_at = now()
         WHERE st.settled_at IS NULL",
    )
    .bind(banca)
    .bind(from)
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// Settles (decision 11: closes for good) up to `limit` unsettled statements dated before
/// `cutoff`, oldest first, at `at` by `by`; statements of a banca with a pending rebuild from
/// their date or earlier are left for a later run (they may be about to change). Returns
/// `(settled, left because a rebuild is pending)`.
pub async fn settle_before(
    conn: &mut PgConnection,
    cutoff: NaiveDate,
    limit: i64,
    at: chrono::DateTime<chrono::Utc>,
    by: Option<Uuid>,
) -> Result<(i64, i64), sqlx::Error> {
    query_as(
        "WITH pending AS (
             SELECT banca_id, min(from_date) AS from_date FROM statement_refreshes
             GROUP BY banca_id),
         cand AS (
             SELECT s.id FROM account_statements s
             LEFT JOIN pending p ON p.banca_id = s.banca_id
             WHERE s.settled_at IS NULL AND s.date < $1
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
    .fetch_one(conn)
    .await
}

/// Carry-forward (domain-money §5.5 step 5): a zero-activity statement on `day` for every active
/// banca, active ventana and active VENDEDOR (with a ventana) that has none, carrying the
/// remaining balance of its latest earlier statement (0 without one). Returns
/// `(created, already there)`.
pub async fn carry_forward(
    conn: &mut PgConnection,
    day: NaiveDate,
) -> Result<(i64, i64), sqlx::Error> {
    query_as(
        "WITH ents AS (
             SELECT 'banca' AS dim, b.id AS banca_id, NULL::uuid AS ventana_id,
                    NULL::uuid AS vendedor_id, b.id AS entity
             FROM bancas b WHERE b.is_active AND b.deleted_at IS NULL
             UNION ALL
             SELECT 'ventana', v.banca_id, v.id, NULL, v.id
             FROM ventanas v JOIN bancas b ON b.id = v.banca_id
             WHERE v.is_active AND v.deleted_at IS NULL AND b.deleted_at IS NULL
             UNION ALL
             SELECT 'vendedor', v.banca_id, u.ventana_id, u.id, u.id
             FROM users u JOIN ventanas v ON v.id = u.ventana_id
             WHERE u.role = 'VENDEDOR' AND u.is_active AND u.deleted_at IS NULL
               AND v.deleted_at IS NULL),
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
    .fetch_one(conn)
    .await
}

/// Writes (or rewrites) the monthly closing of `month` ('YYYY-MM', domain-money §5.8) for every
/// entity with statements that month, at `at`: the month's sums, its net flow
/// (`sales − payouts − commission − collected + paid`, commission the vendedor's for vendedores
/// and the listero's otherwise) and the remaining balance of its last statement. Returns the
/// rows written.
pub async fn close_month(
    conn: &mut PgConnection,
    month: &str,
    at: chrono::DateTime<chrono::Utc>,
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
             FROM account_statements WHERE month = $1
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
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}
