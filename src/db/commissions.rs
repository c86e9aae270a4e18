//! SQL of the commission reports (`/commissions`, domain-money §6.3), read from the per-jugada
//! sale-time snapshots only (never recomputed).
//!
//! The population (invariant 1): tickets of the business days in range that are not deleted,
//! active, in status ACTIVE/EVALUATED/PAID/PAGADO, of a sorteo with a result (EVALUATED, or
//! CLOSED after its evaluation) that is not deleted, outside any whole-list exclusion of their
//! ventana/vendedor; their jugadas that are active, not excluded and not deleted. Of each jugada:
//! the listero commission is `listero_commission_amount`; the vendedor (seller) commission is
//! `commission_amount` when `commission_origin = 'USER'` (the seller's own policy), else 0.
//!
//! Every response is one set-based statement (GROUP BY / GROUPING SETS); nothing loops over rows.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::query_as;

/// Which tickets count.
#[derive(Debug, Clone)]
pub struct Filter {
    /// `None`: every banca (ADMIN without an active banca).
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    /// Inclusive business days.
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// `$1…$6` of [`Filter`], then `pop` (tickets) and `live` (their jugadas, with the two
/// commissions).
macro_rules! population {
    () => {
        "WITH pop AS (
            SELECT t.id, t.business_date AS d, t.ventana_id, t.vendedor_id, t.loteria_id,
                   t.sorteo_id, t.total_payout, t.ticket_number, t.total_amount, t.created_at
            FROM tickets t
            JOIN sorteos s ON s.id = t.sorteo_id
            WHERE t.business_date BETWEEN $5 AND $6
              AND ($1::uuid IS NULL OR t.banca_id = $1)
              AND ($2::uuid IS NULL OR t.ventana_id = $2)
              AND ($3::uuid IS NULL OR t.vendedor_id = $3)
              AND ($4::uuid IS NULL OR t.loteria_id = $4)
              AND t.deleted_at IS NULL AND t.is_active
              AND t.status IN ('ACTIVE', 'EVALUATED', 'PAID', 'PAGADO')
              AND s.winning_number IS NOT NULL AND s.status IN ('EVALUATED', 'CLOSED')
              AND s.deleted_at IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM sorteo_lista_exclusions x
                  WHERE x.sorteo_id = t.sorteo_id AND x.multiplier_id IS NULL
                    AND x.number IS NULL
                    AND (x.ventana_id IS NULL OR x.ventana_id = t.ventana_id)
                    AND (x.vendedor_id IS NULL OR x.vendedor_id = t.vendedor_id))
        ), live AS (
            SELECT j.ticket_id, j.type, j.multiplier_id, j.amount,
                   COALESCE(j.payout, 0) AS payout,
                   j.listero_commission_amount AS listero,
                   CASE WHEN j.commission_origin = 'USER' THEN j.commission_amount ELSE 0 END
                       AS vend,
                   -- REVENTADO lines (and a NUMERO line without a multiplier) share the key NULL.
                   CASE WHEN j.type = 'REVENTADO' THEN NULL ELSE j.multiplier_id END AS mkey
            FROM jugadas j
            JOIN pop ON pop.id = j.ticket_id
            WHERE j.is_active AND NOT j.is_excluded AND j.deleted_at IS NULL
        )"
    };
}

/// The label of multiplier key `mkey` joined as `m`: REVENTADO for NULL, `Base <X>x` for a
/// NUMERO multiplier named Base, else its name.
macro_rules! multiplier_label {
    () => {
        "CASE WHEN g.mkey IS NULL THEN 'REVENTADO'
              WHEN m.id IS NULL THEN 'Desconocido'
              WHEN lower(m.name) = 'base' AND m.kind = 'NUMERO'
                  THEN 'Base ' || trim_scale(m.value_x)::text || 'x'
              ELSE m.name END"
    };
}

/// One row of [`daily`]: a summary row (`loteria_id` NULL) or, with the breakdown, one per
/// lotería × sorteo × multiplier under it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DailyRow {
    pub d: NaiveDate,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub vendedor_id: Option<Uuid>,
    pub vendedor_name: Option<String>,
    /// Breakdown rows only.
    pub loteria_id: Option<Uuid>,
    pub loteria_name: Option<String>,
    pub sorteo_time: Option<String>,
    pub multiplier_name: Option<String>,
    pub tickets: i64,
    pub sales: Decimal,
    pub payouts: Decimal,
    pub listero: Decimal,
    pub vendedor: Decimal,
}

/// How the daily rows are split besides the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One row per day.
    Day,
    /// Per day and ventana.
    Ventana,
    /// Per day and vendedor (with its ventana).
    Vendedor,
}

impl Grouping {
    fn as_str(self) -> &'static str {
        match self {
            Grouping::Day => "day",
            Grouping::Ventana => "ventana",
            Grouping::Vendedor => "vendedor",
        }
    }
}

/// Daily figures per `grouping` (newest day first, then entity name): tickets, sales (Σ live
/// jugada amounts), payouts (Σ ticket `total_payout`), listero and vendedor commissions. With
/// `breakdown`, also one row per day × entity × lotería × sorteo × multiplier (payouts there =
/// Σ winning jugada payouts) in the same statement; `tz` names the zone of the sorteo times.
pub async fn daily(
    pool: &PgPool,
    f: &Filter,
    grouping: Grouping,
    breakdown: bool,
    tz: &str,
) -> Result<Vec<DailyRow>, sqlx::Error> {
    query_as(concat!(
        population!(),
        ", per_ticket AS (
             SELECT pop.id, pop.d,
                    CASE WHEN $7 <> 'day' THEN pop.ventana_id END AS ventana_id,
                    CASE WHEN $7 = 'vendedor' THEN pop.vendedor_id END AS vendedor_id,
                    pop.total_payout, sum(live.amount) AS sales, sum(live.listero) AS listero,
                    sum(live.vend) AS vend
             FROM pop JOIN live ON live.ticket_id = pop.id
             GROUP BY pop.id, pop.d, pop.ventana_id, pop.vendedor_id, pop.total_payout
         ), summary AS (
             SELECT d, ventana_id, vendedor_id, NULL::uuid AS loteria_id, NULL::uuid AS sorteo_id,
                    NULL::uuid AS mkey, false AS is_breakdown, count(*)::int8 AS tickets,
                    sum(sales) AS sales, sum(total_payout) AS payouts, sum(listero) AS listero,
                    sum(vend) AS vend
             FROM per_ticket GROUP BY d, ventana_id, vendedor_id
         ), detail AS (
             SELECT pop.d,
                    CASE WHEN $7 <> 'day' THEN pop.ventana_id END AS ventana_id,
                    CASE WHEN $7 = 'vendedor' THEN pop.vendedor_id END AS vendedor_id,
                    pop.loteria_id, pop.sorteo_id, live.mkey, true AS is_breakdown,
                    count(DISTINCT pop.id)::int8 AS tickets, sum(live.amount) AS sales,
                    sum(live.payout) AS payouts, sum(live.listero) AS listero,
                    sum(live.vend) AS vend
             FROM pop JOIN live ON live.ticket_id = pop.id
             WHERE $8
             GROUP BY 1, 2, 3, pop.loteria_id, pop.sorteo_id, live.mkey
         )
         SELECT g.d, g.ventana_id, v.name AS ventana_name, g.vendedor_id,
                u.name AS vendedor_name, g.loteria_id, l.name AS loteria_name,
                to_char(s.scheduled_at AT TIME ZONE $9, 'HH24:MI') AS sorteo_time,
                CASE WHEN g.is_breakdown THEN ",
        multiplier_label!(),
        " END AS multiplier_name,
                g.tickets, g.sales, g.payouts, g.listero, g.vend AS vendedor
         FROM (SELECT * FROM summary UNION ALL SELECT * FROM detail) g
         LEFT JOIN ventanas v ON v.id = g.ventana_id
         LEFT JOIN users u ON u.id = g.vendedor_id
         LEFT JOIN loterias l ON l.id = g.loteria_id
         LEFT JOIN sorteos s ON s.id = g.sorteo_id
         LEFT JOIN loteria_multipliers m ON m.id = g.mkey
         ORDER BY g.d DESC, v.name NULLS FIRST, u.name NULLS FIRST, g.is_breakdown,
                  l.name, s.scheduled_at, g.mkey NULLS LAST"
    ))
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.loteria_id)
    .bind(f.from)
    .bind(f.to)
    .bind(grouping.as_str())
    .bind(breakdown)
    .bind(tz)
    .fetch_all(pool)
    .await
}

/// One row of [`by_loteria`]: a lotería's total (`total_row`) or one of its multipliers.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoteriaRow {
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub total_row: bool,
    /// `None` on total rows and for the REVENTADO key.
    pub multiplier_id: Option<Uuid>,
    pub multiplier_name: Option<String>,
    pub tickets: i64,
    pub sales: Decimal,
    /// Σ the dimension's commission (listero or vendedor).
    pub commission: Decimal,
    /// Σ winning jugada payouts.
    pub payouts: Decimal,
}

/// Per lotería and, under it, per multiplier key: tickets (distinct), sales, the commission of
/// the dimension (`listero`: listero amounts, else the vendedor's USER-origin amounts) and
/// payouts. One statement with GROUPING SETS; loterías by name, total row first.
pub async fn by_loteria(
    pool: &PgPool,
    f: &Filter,
    listero: bool,
) -> Result<Vec<LoteriaRow>, sqlx::Error> {
    query_as(concat!(
        population!(),
        ", x AS (
             SELECT pop.loteria_id, pop.id AS ticket_id, live.mkey, live.amount, live.payout,
                    CASE WHEN $7 THEN live.listero ELSE live.vend END AS comm
             FROM pop JOIN live ON live.ticket_id = pop.id
         ), g AS (
             SELECT loteria_id, mkey, GROUPING(mkey) = 1 AS total_row,
                    count(DISTINCT ticket_id)::int8 AS tickets, sum(amount) AS sales,
                    sum(comm) AS commission, sum(payout) AS payouts
             FROM x GROUP BY GROUPING SETS ((loteria_id), (loteria_id, mkey))
         )
         SELECT g.loteria_id, l.name AS loteria_name, g.total_row, g.mkey AS multiplier_id,
                CASE WHEN g.total_row THEN NULL ELSE ",
        multiplier_label!(),
        " END AS multiplier_name, g.tickets, g.sales, g.commission, g.payouts
         FROM g
         JOIN loterias l ON l.id = g.loteria_id
         LEFT JOIN loteria_multipliers m ON m.id = g.mkey
         ORDER BY l.name, g.loteria_id, g.total_row DESC, m.value_x DESC NULLS LAST,
                  g.mkey NULLS LAST"
    ))
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.loteria_id)
    .bind(f.from)
    .bind(f.to)
    .bind(listero)
    .fetch_all(pool)
    .await
}

/// One ticket of [`tickets`]; the figures are of its jugadas under the asked multiplier.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TicketRow {
    pub total: i64,
    pub id: Option<Uuid>,
    pub ticket_number: Option<String>,
    pub total_amount: Option<Decimal>,
    pub created_at: Option<DateTime<Utc>>,
    pub d: Option<NaiveDate>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub vendedor_id: Option<Uuid>,
    pub vendedor_name: Option<String>,
    pub amount: Option<Decimal>,
    pub listero: Option<Decimal>,
    pub vendedor: Option<Decimal>,
}

/// The tickets with jugadas under multiplier key `mkey` (`None`: the REVENTADO key), newest
/// first, `limit`/`offset`; every row carries the total count, and there is always one row
/// (with only `total`) when the page is empty.
pub async fn tickets(
    pool: &PgPool,
    f: &Filter,
    mkey: Option<Uuid>,
    limit: i64,
    offset: i64,
) -> Result<Vec<TicketRow>, sqlx::Error> {
    query_as(concat!(
        population!(),
        ", m AS (
             SELECT ticket_id, sum(amount) AS amount, sum(listero) AS listero,
                    sum(vend) AS vend
             FROM live
             WHERE mkey IS NOT DISTINCT FROM $7::uuid
             GROUP BY ticket_id
         )
         SELECT c.total, p.id, p.ticket_number, p.total_amount, p.created_at, p.d,
                p.ventana_id, p.ventana_name, p.vendedor_id, p.vendedor_name, p.amount,
                p.listero, p.vendedor
         FROM (SELECT count(*)::int8 AS total FROM m) c
         LEFT JOIN LATERAL (
             SELECT pop.id, pop.ticket_number, pop.total_amount, pop.created_at, pop.d,
                    pop.ventana_id, v.name AS ventana_name, pop.vendedor_id,
                    u.name AS vendedor_name, m.amount, m.listero, m.vend AS vendedor
             FROM m
             JOIN pop ON pop.id = m.ticket_id
             LEFT JOIN ventanas v ON v.id = pop.ventana_id
             LEFT JOIN users u ON u.id = pop.vendedor_id
             ORDER BY pop.created_at DESC, pop.id DESC
             LIMIT $8 OFFSET $9
         ) p ON true"
    ))
    .bind(f.banca_id)
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .bind(f.loteria_id)
    .bind(f.from)
    .bind(f.to)
    .bind(mkey)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}
