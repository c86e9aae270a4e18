//! SQL of the seller's day-by-day ledger (domain-money §1.10).
//!
//! The population (invariant 1): the seller's tickets that are not deleted, active (or
//! inactive on request), in status ACTIVE, EVALUATED, PAID or PAGADO, of a sorteo with a
//! result (EVALUATED, or CLOSED after its evaluation, as statements count it) that is not
//! deleted and whose draw falls in the range; their jugadas that are active, not deleted and
//! not excluded. Every figure is one set-based query over that population.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::{query_as, query_scalar};

/// Whose tickets and which draws.
#[derive(Debug, Clone)]
pub struct Population {
    pub vendedor_id: Uuid,
    /// `false` reads the inactive tickets (`isActive=false`).
    pub active: bool,
    /// Draws at or after this instant…
    pub from_at: DateTime<Utc>,
    /// …and before this one.
    pub to_at: DateTime<Utc>,
    /// The business days of the range (the tickets' `business_date`, for the index).
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub loteria_id: Option<Uuid>,
    /// Only tickets created at or after this instant (a balance reset hides earlier ones).
    pub created_since: Option<DateTime<Utc>>,
}

/// `$1…$8` of [`Population`], then the population `pop` (tickets) and `live` (their jugadas).
macro_rules! population {
    () => {
        "WITH pop AS (
            SELECT t.id, t.sorteo_id, t.status, t.is_winner, t.total_payout
            FROM tickets t
            JOIN sorteos s ON s.id = t.sorteo_id
            WHERE t.vendedor_id = $1
              AND t.is_active = $2
              AND t.business_date BETWEEN $5 AND $6
              AND s.scheduled_at >= $3 AND s.scheduled_at < $4
              AND t.deleted_at IS NULL
              AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
              AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
              AND s.deleted_at IS NULL
              AND ($7::uuid IS NULL OR s.loteria_id = $7)
              AND ($8::timestamptz IS NULL OR t.created_at >= $8)
        ), live AS (
            SELECT j.ticket_id, j.sorteo_id, j.type, j.multiplier_id, j.amount,
                   j.commission_amount, COALESCE(j.payout, 0) AS payout
            FROM jugadas j
            JOIN pop ON pop.id = j.ticket_id
            WHERE j.is_active AND j.deleted_at IS NULL AND NOT j.is_excluded
        )"
    };
}

fn bind_population<'q, O>(
    q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    p: &Population,
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(p.vendedor_id)
        .bind(p.active)
        .bind(p.from_at)
        .bind(p.to_at)
        .bind(p.from_day)
        .bind(p.to_day)
        .bind(p.loteria_id)
        .bind(p.created_since)
}

/// One evaluated sorteo of the seller, with its figures.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SorteoTotalsRow {
    pub sorteo_id: Uuid,
    pub name: String,
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub scheduled_at: DateTime<Utc>,
    pub winning_number: Option<String>,
    pub extra_outcome_code: Option<String>,
    pub extra_multiplier_id: Option<Uuid>,
    pub extra_multiplier_x: Option<Decimal>,
    /// Σ live jugada amount.
    pub total_sales: Decimal,
    /// Σ live jugada commission (and split by bet type).
    pub total_commission: Decimal,
    pub commission_by_number: Decimal,
    pub commission_by_reventado: Decimal,
    /// Σ ticket total_payout.
    pub total_prizes: Decimal,
    pub ticket_count: i64,
    pub winning_tickets: i64,
    pub paid_tickets: i64,
}

/// Per sorteo, oldest draw first.
pub async fn sorteo_totals(
    pool: &PgPool,
    p: &Population,
) -> Result<Vec<SorteoTotalsRow>, sqlx::Error> {
    const SQL: &str = concat!(
        population!(),
        ", per_ticket AS (
            SELECT ticket_id,
                   SUM(amount) AS sales,
                   SUM(commission_amount) AS commission,
                   COALESCE(SUM(commission_amount) FILTER (WHERE type = 'NUMERO'), 0) AS comm_num,
                   COALESCE(SUM(commission_amount) FILTER (WHERE type = 'REVENTADO'), 0) AS comm_rev
            FROM live GROUP BY ticket_id
        )
        SELECT s.id AS sorteo_id, s.name, s.loteria_id, l.name AS loteria_name, s.scheduled_at,
               s.winning_number, s.extra_outcome_code, s.extra_multiplier_id, s.extra_multiplier_x,
               COALESCE(SUM(pt.sales), 0) AS total_sales,
               COALESCE(SUM(pt.commission), 0) AS total_commission,
               COALESCE(SUM(pt.comm_num), 0) AS commission_by_number,
               COALESCE(SUM(pt.comm_rev), 0) AS commission_by_reventado,
               COALESCE(SUM(pop.total_payout), 0) AS total_prizes,
               COUNT(*) AS ticket_count,
               COUNT(*) FILTER (WHERE pop.is_winner) AS winning_tickets,
               COUNT(*) FILTER (WHERE pop.status IN ('PAID', 'PAGADO')) AS paid_tickets
        FROM pop
        LEFT JOIN per_ticket pt ON pt.ticket_id = pop.id
        JOIN sorteos s ON s.id = pop.sorteo_id
        JOIN loterias l ON l.id = s.loteria_id
        GROUP BY s.id, l.name
        ORDER BY s.scheduled_at, s.id"
    );
    bind_population(query_as(SQL), p).fetch_all(pool).await
}

/// One multiplier bucket of one sorteo.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MultiplierTotalsRow {
    pub sorteo_id: Uuid,
    /// The jugada's multiplier; a losing REVENTADO line (no multiplier) counts in the sorteo's
    /// extra multiplier, and is `None` only when the sorteo has none.
    pub multiplier_id: Option<Uuid>,
    pub name: Option<String>,
    pub value_x: Option<Decimal>,
    pub kind: String,
    pub total_sales: Decimal,
    pub total_commission: Decimal,
    pub commission_by_number: Decimal,
    pub commission_by_reventado: Decimal,
    /// Σ jugada payout.
    pub total_prizes: Decimal,
    pub ticket_count: i64,
    pub jugada_count: i64,
    pub winning_tickets: i64,
    pub paid_tickets: i64,
}

/// Per sorteo and multiplier, smallest multiplier first.
pub async fn multiplier_totals(
    pool: &PgPool,
    p: &Population,
) -> Result<Vec<MultiplierTotalsRow>, sqlx::Error> {
    const SQL: &str = concat!(
        population!(),
        ", keyed AS (
            SELECT live.*, pop.is_winner, pop.status,
                   COALESCE(live.multiplier_id,
                            CASE WHEN live.type = 'REVENTADO' THEN s.extra_multiplier_id END) AS mid
            FROM live
            JOIN pop ON pop.id = live.ticket_id
            JOIN sorteos s ON s.id = live.sorteo_id
        ), buckets AS (
            SELECT sorteo_id, mid,
                   CASE WHEN mid IS NULL THEN type::text END AS bare_kind,
                   SUM(amount) AS total_sales,
                   SUM(commission_amount) AS total_commission,
                   COALESCE(SUM(commission_amount) FILTER (WHERE type = 'NUMERO'), 0)
                       AS commission_by_number,
                   COALESCE(SUM(commission_amount) FILTER (WHERE type = 'REVENTADO'), 0)
                       AS commission_by_reventado,
                   SUM(payout) AS total_prizes,
                   COUNT(DISTINCT ticket_id) AS ticket_count,
                   COUNT(*) AS jugada_count,
                   COUNT(DISTINCT ticket_id) FILTER (WHERE is_winner) AS winning_tickets,
                   COUNT(DISTINCT ticket_id) FILTER (WHERE status IN ('PAID', 'PAGADO'))
                       AS paid_tickets
            FROM keyed
            GROUP BY sorteo_id, mid, CASE WHEN mid IS NULL THEN type::text END
        )
        SELECT b.sorteo_id, b.mid AS multiplier_id, m.name, m.value_x,
               COALESCE(m.kind::text, b.bare_kind, 'NUMERO') AS kind,
               b.total_sales, b.total_commission, b.commission_by_number,
               b.commission_by_reventado, b.total_prizes, b.ticket_count, b.jugada_count,
               b.winning_tickets, b.paid_tickets
        FROM buckets b
        LEFT JOIN loteria_multipliers m ON m.id = b.mid
        ORDER BY b.sorteo_id, m.value_x NULLS LAST, m.name, b.mid"
    );
    bind_population(query_as(SQL), p).fetch_all(pool).await
}

/// A movement (payment to or collection from the seller).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MovementRow {
    pub id: Uuid,
    pub date: NaiveDate,
    /// `HH:MM` in the business time zone.
    pub time: String,
    /// `payment` or `collection`.
    pub kind: String,
    pub amount: Decimal,
    pub method: String,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The seller's vendedor-level movements of `from..=to` that are not reversed (and not the
/// synthetic carry-over of a previous month), oldest first.
pub async fn movements(
    pool: &PgPool,
    vendedor_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
    created_since: Option<DateTime<Utc>>,
) -> Result<Vec<MovementRow>, sqlx::Error> {
    query_as(
        "SELECT id, date, time::text AS time, type AS kind, amount, method, notes, created_at
         FROM account_payments
         WHERE vendedor_id = $1 AND date BETWEEN $2 AND $3
           AND NOT is_reversed
           AND COALESCE(notes, '') NOT ILIKE '%Saldo arrastrado del mes anterior%'
           AND ($4::timestamptz IS NULL OR created_at >= $4)
         ORDER BY date, time, created_at, id",
    )
    .bind(vendedor_id)
    .bind(from)
    .bind(to)
    .bind(created_since)
    .fetch_all(pool)
    .await
}

/// The seller's latest vendedor statement dated before `before`: its date and remaining
/// balance.
pub async fn balance_before(
    pool: &PgPool,
    vendedor_id: Uuid,
    before: NaiveDate,
) -> Result<Option<(NaiveDate, Decimal)>, sqlx::Error> {
    query_as(
        "SELECT date, remaining_balance FROM account_statements
         WHERE dimension = 'vendedor' AND vendedor_id = $1 AND date < $2
         ORDER BY date DESC LIMIT 1",
    )
    .bind(vendedor_id)
    .bind(before)
    .fetch_optional(pool)
    .await
}

/// `users.settings.balanceResetAt` as stored (an ISO instant), when set.
pub async fn balance_reset_at(pool: &PgPool, user_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    Ok(query_scalar::<Option<String>>(
        "SELECT settings->>'balanceResetAt' FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?
    .flatten())
}
