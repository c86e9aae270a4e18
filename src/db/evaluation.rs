//! Set-based statements of evaluating a sorteo and reverting its evaluation (domain-money
//! §1.5–1.6, decision 9). Every function runs inside the caller's transaction, after the
//! sorteo row was locked `FOR UPDATE`; none of them loops over rows from Rust.

use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{query, query_as, query_scalar};

/// The extra (REVENTADO) multiplier named by an evaluation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExtraMultiplier {
    pub id: Uuid,
    pub loteria_id: Uuid,
    pub name: String,
    pub value_x: Decimal,
    /// `NUMERO` or `REVENTADO`.
    pub kind: String,
    pub is_active: bool,
    pub applies_to_sorteo_id: Option<Uuid>,
}

pub async fn find_multiplier(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ExtraMultiplier>, sqlx::Error> {
    query_as(
        "SELECT id, loteria_id, name, value_x, kind::text AS kind, is_active, applies_to_sorteo_id
         FROM loteria_multipliers WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// What an evaluation wrote.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Evaluated {
    /// Tickets set EVALUATED.
    pub tickets: i64,
    /// Winning tickets.
    pub winners: i64,
    /// Winning jugadas.
    pub winning_jugadas: i64,
    /// Σ ticket `total_payout`.
    pub total_payout: Decimal,
}

/// Marks the winning jugadas of sorteo `id` and sets every live ticket EVALUATED with its
/// totals, in one statement:
/// - NUMERO jugadas whose `number` is `winning`: `payout = round2(amount × final_multiplier_x)`;
/// - REVENTADO jugadas whose `reventado_number` is `winning`, only when `extra_x > 0`:
///   `final_multiplier_x = extra_x, multiplier_id = extra_id, payout = round2(amount × extra_x)`;
///
/// only live jugadas (active, not excluded, not deleted) of tickets neither CANCELLED nor
/// EXCLUDED and not deleted count. Those tickets become EVALUATED with `total_payout` =
/// Σ their winning payouts (= `remaining_amount`), `total_paid = 0`. PostgreSQL's numeric
/// `round(x, 2)` rounds half away from zero.
pub async fn mark_winners(
    conn: &mut PgConnection,
    id: Uuid,
    winning: &str,
    extra_id: Option<Uuid>,
    extra_x: Decimal,
) -> Result<Evaluated, sqlx::Error> {
    query_as(
        "WITH live AS (
             SELECT t.id FROM tickets t
             WHERE t.sorteo_id = $1 AND t.deleted_at IS NULL
               AND t.status NOT IN ('CANCELLED', 'EXCLUDED')),
         won AS (
             UPDATE jugadas j SET
                 is_winner = true,
                 final_multiplier_x = CASE WHEN j.type = 'REVENTADO' THEN $4 ELSE j.final_multiplier_x END,
                 multiplier_id = CASE WHEN j.type = 'REVENTADO' THEN $3 ELSE j.multiplier_id END,
                 payout = round(j.amount * CASE WHEN j.type = 'REVENTADO' THEN $4
                                                ELSE j.final_multiplier_x END, 2),
                 updated_at = now()
             FROM live
             WHERE j.ticket_id = live.id AND j.sorteo_id = $1
               AND j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
               AND ((j.type = 'NUMERO' AND j.number = $2)
                    OR ($4 > 0 AND j.type = 'REVENTADO' AND j.reventado_number = $2))
             RETURNING j.ticket_id, j.payout),
         per AS (
             SELECT ticket_id, sum(payout) AS total FROM won GROUP BY ticket_id),
         tk AS (
             UPDATE tickets t SET
                 status = 'EVALUATED',
                 is_winner = per.ticket_id IS NOT NULL,
                 total_payout = COALESCE(per.total, 0),
                 remaining_amount = COALESCE(per.total, 0),
                 total_paid = 0,
                 updated_at = now()
             FROM live LEFT JOIN per ON per.ticket_id = live.id
             WHERE t.id = live.id
             RETURNING t.is_winner, t.total_payout)
         SELECT count(*) AS tickets,
                count(*) FILTER (WHERE is_winner) AS winners,
                (SELECT count(*) FROM won) AS winning_jugadas,
                COALESCE(sum(total_payout), 0)::numeric AS total_payout
         FROM tk",
    )
    .bind(id)
    .bind(winning)
    .bind(extra_id)
    .bind(extra_x)
    .fetch_one(conn)
    .await
}

/// Sorteo `id` → EVALUATED with its result; `has_winner` from its non-deleted winning tickets.
/// Returns `has_winner`.
pub async fn set_evaluated(
    conn: &mut PgConnection,
    id: Uuid,
    winning: &str,
    extra_id: Option<Uuid>,
    extra_x: Decimal,
    extra_code: Option<&str>,
) -> Result<bool, sqlx::Error> {
    query_scalar(
        "UPDATE sorteos s SET
             status = 'EVALUATED',
             winning_number = $2,
             extra_multiplier_id = $3,
             extra_multiplier_x = $4,
             extra_outcome_code = $5,
             has_winner = EXISTS (SELECT 1 FROM tickets t
                                  WHERE t.sorteo_id = s.id AND t.deleted_at IS NULL AND t.is_winner),
             evaluated_at = now(),
             updated_at = now()
         WHERE s.id = $1
         RETURNING s.has_winner",
    )
    .bind(id)
    .bind(winning)
    .bind(extra_id)
    .bind(extra_x)
    .bind(extra_code)
    .fetch_one(conn)
    .await
}

/// Non-reversed payments of tickets of sorteo `id`: how many and their sum.
pub async fn live_payments(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(i64, Decimal), sqlx::Error> {
    query_as(
        "SELECT count(*), COALESCE(sum(p.amount_paid), 0)::numeric
         FROM ticket_payments p JOIN tickets t ON t.id = p.ticket_id
         WHERE t.sorteo_id = $1 AND NOT p.is_reversed",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Marks every non-reversed payment of tickets of sorteo `id` reversed by `by` with `reason`
/// (rows are kept, decision 9). Returns the ids reversed.
pub async fn reverse_payments(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    reason: &str,
) -> Result<Vec<Uuid>, sqlx::Error> {
    query_scalar(
        "UPDATE ticket_payments p SET
             is_reversed = true, reversed_at = now(), reversed_by = $2, reversed_reason = $3,
             updated_at = now()
         FROM tickets t
         WHERE t.id = p.ticket_id AND t.sorteo_id = $1 AND NOT p.is_reversed
         RETURNING p.id",
    )
    .bind(id)
    .bind(by)
    .bind(reason)
    .fetch_all(conn)
    .await
}

/// What a revert wrote.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Reverted {
    pub tickets: i64,
    pub jugadas: i64,
}

/// Undoes the result on jugadas and tickets of sorteo `id`: jugadas `is_winner = false,
/// payout = NULL` (REVENTADO also `final_multiplier_x = 0, multiplier_id = NULL`); tickets
/// EVALUATED/PAID/PAGADO → ACTIVE with zero totals and no last-payment fields
/// (`payment_history` is kept).
pub async fn revert_tickets(conn: &mut PgConnection, id: Uuid) -> Result<Reverted, sqlx::Error> {
    query_as(
        "WITH tk AS (
             UPDATE tickets t SET
                 status = 'ACTIVE', is_winner = false, total_payout = 0, total_paid = 0,
                 remaining_amount = 0, last_payment_at = NULL, paid_by_id = NULL,
                 payment_method = NULL, payment_notes = NULL, updated_at = now()
             WHERE t.sorteo_id = $1 AND t.status IN ('EVALUATED', 'PAID', 'PAGADO')
             RETURNING t.id),
         jg AS (
             UPDATE jugadas j SET
                 is_winner = false, payout = NULL,
                 final_multiplier_x = CASE WHEN j.type = 'REVENTADO' THEN 0 ELSE j.final_multiplier_x END,
                 multiplier_id = CASE WHEN j.type = 'REVENTADO' THEN NULL ELSE j.multiplier_id END,
                 updated_at = now()
             WHERE j.sorteo_id = $1 AND (j.is_winner OR j.payout IS NOT NULL)
             RETURNING j.id)
         SELECT (SELECT count(*) FROM tk) AS tickets, (SELECT count(*) FROM jg) AS jugadas",
    )
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Sorteo `id` → OPEN without a result.
pub async fn set_reverted(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    query(
        "UPDATE sorteos SET status = 'OPEN', winning_number = NULL, extra_multiplier_id = NULL,
             extra_multiplier_x = NULL, extra_outcome_code = NULL, has_winner = false,
             evaluated_at = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}
