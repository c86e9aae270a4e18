//! SQL of the account statement reads (domain-money §5.6, §5.7, §7): stored statements of a
//! scope and range, the adjustments booked on them, the per-sorteo figures and movements of a
//! day, the entities with statements, and the lookups the routes' scoping needs. Read-only;
//! every function takes a pool so the caller can point it at the replica.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::{query_as, query_scalar};

/// Which statement rows: one dimension, the bancas in reach (`None`: every banca), and an
/// optional entity filter.
#[derive(Debug, Clone)]
pub struct Scope {
    /// `banca`, `ventana` or `vendedor`.
    pub dimension: String,
    pub banca_ids: Option<Vec<Uuid>>,
    /// Ventana rows: that ventana; vendedor rows: vendedores of that ventana.
    pub ventana_id: Option<Uuid>,
    /// Vendedor rows: that vendedor.
    pub vendedor_id: Option<Uuid>,
}

/// One stored statement with the names of its entity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StatementRow {
    pub id: Uuid,
    pub date: NaiveDate,
    pub month: String,
    pub dimension: String,
    pub entity_id: Uuid,
    pub banca_id: Uuid,
    pub banca_name: Option<String>,
    pub banca_code: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub ventana_code: Option<String>,
    pub vendedor_id: Option<Uuid>,
    pub vendedor_name: Option<String>,
    pub vendedor_code: Option<String>,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub listero_commission: Decimal,
    pub vendedor_commission: Decimal,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    pub total_adjustments: Decimal,
    pub remaining_balance: Decimal,
    pub ticket_count: i32,
    pub is_settled: bool,
    pub settled_at: Option<DateTime<Utc>>,
}

/// `$1` dimension, `$2` bancas (NULL: all), `$3` ventana, `$4` vendedor over alias `s`.
const SCOPE_SQL: &str = "s.dimension = $1
      AND ($2::uuid[] IS NULL OR s.banca_id = ANY($2))
      AND ($3::uuid IS NULL OR s.ventana_id = $3)
      AND ($4::uuid IS NULL OR s.vendedor_id = $4)";

/// The statements of `scope` dated `from..=to`, oldest first, then by entity name.
pub async fn statements(
    pool: &PgPool,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<StatementRow>, sqlx::Error> {
    let sql = format!(
        "SELECT s.id, s.date, s.month::text AS month, s.dimension, s.entity_id, s.banca_id,
                b.name AS banca_name, b.code AS banca_code,
                s.ventana_id, v.name AS ventana_name, v.code AS ventana_code,
                s.vendedor_id, u.name AS vendedor_name, COALESCE(u.code, u.username::text)
                  AS vendedor_code,
                s.total_sales, s.total_payouts, s.listero_commission, s.vendedor_commission,
                s.total_paid, s.total_collected, s.total_adjustments, s.remaining_balance,
                s.ticket_count, s.is_settled, s.settled_at
         FROM account_statements s
         JOIN bancas b ON b.id = s.banca_id
         LEFT JOIN ventanas v ON v.id = s.ventana_id
         LEFT JOIN users u ON u.id = s.vendedor_id
         WHERE {SCOPE_SQL} AND s.date BETWEEN $5 AND $6
         ORDER BY s.date, COALESCE(u.name, v.name, b.name), s.entity_id"
    );
    query_as(&sql)
        .bind(&scope.dimension)
        .bind(scope.banca_ids.as_deref())
        .bind(scope.ventana_id)
        .bind(scope.vendedor_id)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
}

/// An adjustment booked on a statement's day (a settled day's correction, decision 11).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdjustmentRow {
    pub id: Uuid,
    pub entity_id: Uuid,
    pub settled_date: NaiveDate,
    pub applied_date: NaiveDate,
    pub amount: Decimal,
    pub reason: String,
}

/// The adjustments of `dimension` booked on `from..=to` for the entities `entities`.
pub async fn adjustments(
    pool: &PgPool,
    dimension: &str,
    entities: &[Uuid],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<AdjustmentRow>, sqlx::Error> {
    query_as(
        "SELECT id, entity_id, settled_date, applied_date, amount, reason
         FROM statement_adjustments
         WHERE dimension = $1 AND entity_id = ANY($2) AND applied_date BETWEEN $3 AND $4
         ORDER BY applied_date, settled_date, id",
    )
    .bind(dimension)
    .bind(entities)
    .bind(from)
    .bind(to)
    .fetch_all(pool)
    .await
}

/// The summed remaining balance, over the entities of `scope`, of each one's latest statement
/// dated before `day` (0 without any).
pub async fn opening_before(
    pool: &PgPool,
    scope: &Scope,
    day: NaiveDate,
) -> Result<Decimal, sqlx::Error> {
    let sql = format!(
        "SELECT COALESCE(sum(remaining_balance), 0) FROM (
             SELECT DISTINCT ON (s.entity_id)
                    -- A seller's balance reset starts its balance from 0 on the reset's day:
                    -- a statement from before that day does not open a later day.
                    CASE WHEN s.dimension = 'vendedor' AND r.day IS NOT NULL
                              AND r.day <= $5 AND s.date < r.day
                         THEN 0 ELSE s.remaining_balance END AS remaining_balance
             FROM account_statements s
             LEFT JOIN LATERAL (
                 SELECT ((u.settings->>'balanceResetAt')::timestamptz AT TIME ZONE $6)::date AS day
                 FROM users u
                 WHERE s.dimension = 'vendedor' AND u.id = s.entity_id
                   AND COALESCE(u.settings->>'balanceResetAt', '') <> '') r ON true
             WHERE {SCOPE_SQL} AND s.date < $5
             ORDER BY s.entity_id, s.date DESC) x"
    );
    query_scalar(&sql)
        .bind(&scope.dimension)
        .bind(scope.banca_ids.as_deref())
        .bind(scope.ventana_id)
        .bind(scope.vendedor_id)
        .bind(day)
        .bind(crate::db::statements::business_tz())
        .fetch_one(pool)
        .await
}

/// The figures of one sorteo of a day, over the tickets in scope.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SorteoDayRow {
    pub sorteo_id: Uuid,
    pub sorteo_name: String,
    pub loteria_id: Uuid,
    pub loteria_name: String,
    pub scheduled_at: DateTime<Utc>,
    pub status: String,
    pub winning_number: Option<String>,
    pub extra_outcome_code: Option<String>,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub listero_commission: Decimal,
    pub vendedor_commission: Decimal,
    pub ticket_count: i64,
}

/// Per sorteo with a result (EVALUATED, or CLOSED after its evaluation) of business day `day`,
/// oldest draw first: the statements' population (§5.2, as `db::statements::rebuild_from`
/// counts it) restricted to the bancas, ventana and vendedor of `scope` (the dimension does
/// not filter tickets).
pub async fn sorteos_of_day(
    pool: &PgPool,
    scope: &Scope,
    day: NaiveDate,
) -> Result<Vec<SorteoDayRow>, sqlx::Error> {
    query_as(
        "WITH pop AS (
             SELECT t.id, t.sorteo_id, t.total_payout
             FROM tickets t JOIN sorteos s ON s.id = t.sorteo_id
             LEFT JOIN users ru ON $5 = 'vendedor' AND ru.id = t.vendedor_id
                 AND COALESCE(ru.settings->>'balanceResetAt', '') <> ''
             WHERE t.business_date = $1
               AND ($2::uuid[] IS NULL OR t.banca_id = ANY($2))
               AND ($3::uuid IS NULL OR t.ventana_id = $3)
               AND ($4::uuid IS NULL OR t.vendedor_id = $4)
               -- A seller's view after a balance reset counts, from the reset's day on, only
               -- tickets sold after it (as its statements do).
               AND (ru.id IS NULL
                    OR t.business_date < (((ru.settings->>'balanceResetAt')::timestamptz)
                                          AT TIME ZONE $6)::date
                    OR t.created_at >= (ru.settings->>'balanceResetAt')::timestamptz)
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
             GROUP BY j.ticket_id)
         SELECT s.id AS sorteo_id, s.name AS sorteo_name, s.loteria_id,
                l.name AS loteria_name, s.scheduled_at, s.status::text AS status,
                s.winning_number, s.extra_outcome_code,
                COALESCE(sum(jug.sales), 0) AS total_sales,
                COALESCE(sum(pop.total_payout), 0) AS total_payouts,
                COALESCE(sum(jug.listero), 0) AS listero_commission,
                COALESCE(sum(jug.vend), 0) AS vendedor_commission,
                count(*) AS ticket_count
         FROM pop
         LEFT JOIN jug ON jug.ticket_id = pop.id
         JOIN sorteos s ON s.id = pop.sorteo_id
         JOIN loterias l ON l.id = s.loteria_id
         GROUP BY s.id, l.name
         ORDER BY s.scheduled_at, s.id",
    )
    .bind(day)
    .bind(scope.banca_ids.as_deref())
    .bind(scope.ventana_id)
    .bind(scope.vendedor_id)
    .bind(&scope.dimension)
    .bind(crate::db::statements::business_tz())
    .fetch_all(pool)
    .await
}

/// One movement (payment to / collection from an entity).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MovementRow {
    pub id: Uuid,
    pub date: NaiveDate,
    pub time: String,
    pub created_at: DateTime<Utc>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub entity_name: Option<String>,
    pub amount: Decimal,
    /// `payment` or `collection`.
    pub kind: String,
    pub method: String,
    pub notes: Option<String>,
    pub paid_by_name: Option<String>,
    pub is_reversed: bool,
}

/// The movements of `scope`'s level (vendedor: vendedor movements; ventana: ventana-level;
/// banca: banca-level) dated `from..=to`, oldest first; reversed ones only when `reversed`.
pub async fn movements(
    pool: &PgPool,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
    reversed: bool,
) -> Result<Vec<MovementRow>, sqlx::Error> {
    query_as(
        "SELECT p.id, p.date, p.time::text AS time, p.created_at, p.ventana_id, p.vendedor_id,
                COALESCE(u.name, v.name, b.name) AS entity_name,
                p.amount, p.type AS kind, p.method, p.notes, p.paid_by_name, p.is_reversed
         FROM account_payments p
         JOIN bancas b ON b.id = p.banca_id
         LEFT JOIN ventanas v ON v.id = p.ventana_id
         LEFT JOIN users u ON u.id = p.vendedor_id
         WHERE p.date BETWEEN $5 AND $6
           -- A seller's balance reset: from its day on, only movements made after it count.
           AND NOT ($1 = 'vendedor' AND COALESCE(u.settings->>'balanceResetAt', '') <> ''
                    AND p.date >= (((u.settings->>'balanceResetAt')::timestamptz)
                                   AT TIME ZONE $8)::date
                    AND p.created_at < (u.settings->>'balanceResetAt')::timestamptz)
           AND ($2::uuid[] IS NULL OR p.banca_id = ANY($2))
           AND CASE $1 WHEN 'vendedor' THEN p.vendedor_id IS NOT NULL
                       WHEN 'ventana' THEN p.ventana_id IS NOT NULL AND p.vendedor_id IS NULL
                       ELSE p.ventana_id IS NULL AND p.vendedor_id IS NULL END
           AND ($3::uuid IS NULL OR p.ventana_id = $3)
           AND ($4::uuid IS NULL OR p.vendedor_id = $4)
           AND ($7 OR NOT p.is_reversed)
         ORDER BY p.date, p.time, p.created_at, p.id",
    )
    .bind(&scope.dimension)
    .bind(scope.banca_ids.as_deref())
    .bind(scope.ventana_id)
    .bind(scope.vendedor_id)
    .bind(from)
    .bind(to)
    .bind(reversed)
    .bind(crate::db::statements::business_tz())
    .fetch_all(pool)
    .await
}

/// An entity with statements.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EntityRow {
    /// `ventana` or `vendedor`.
    pub dimension: String,
    pub id: Uuid,
    pub name: String,
    pub code: Option<String>,
    pub ventana_id: Option<Uuid>,
    pub ventana_name: Option<String>,
    pub banca_id: Uuid,
    pub last_date: NaiveDate,
}

/// The ventanas and vendedores with statements in the bancas `bancas` (`None`: all),
/// optionally of one ventana (its own rows and its vendedores') or one vendedor; by name.
pub async fn historical_entities(
    pool: &PgPool,
    bancas: Option<&[Uuid]>,
    ventana: Option<Uuid>,
    vendedor: Option<Uuid>,
) -> Result<Vec<EntityRow>, sqlx::Error> {
    query_as(
        "WITH st AS (
             SELECT dimension, entity_id, banca_id, max(date) AS last_date,
                    (array_agg(ventana_id ORDER BY date DESC))[1] AS ventana_id
             FROM account_statements
             WHERE dimension IN ('ventana', 'vendedor')
               AND ($1::uuid[] IS NULL OR banca_id = ANY($1))
               AND ($2::uuid IS NULL OR ventana_id = $2)
               AND ($3::uuid IS NULL OR (dimension = 'vendedor' AND vendedor_id = $3))
             GROUP BY dimension, entity_id, banca_id)
         SELECT st.dimension, st.entity_id AS id,
                COALESCE(u.name, v.name, '') AS name,
                CASE st.dimension WHEN 'vendedor' THEN COALESCE(u.code, u.username::text)
                                  ELSE v.code END AS code,
                st.ventana_id, vv.name AS ventana_name, st.banca_id, st.last_date
         FROM st
         LEFT JOIN users u ON st.dimension = 'vendedor' AND u.id = st.entity_id
         LEFT JOIN ventanas v ON st.dimension = 'ventana' AND v.id = st.entity_id
         LEFT JOIN ventanas vv ON vv.id = st.ventana_id
         ORDER BY st.dimension DESC, 3, st.entity_id",
    )
    .bind(bancas)
    .bind(ventana)
    .bind(vendedor)
    .fetch_all(pool)
    .await
}

/// The latest statement of ventana `ventana` dated `today` or earlier: (remaining balance,
/// date, updated at).
pub async fn latest_ventana_balance(
    pool: &PgPool,
    ventana: Uuid,
    today: NaiveDate,
) -> Result<Option<(Decimal, NaiveDate, DateTime<Utc>)>, sqlx::Error> {
    query_as(
        "SELECT remaining_balance, date, updated_at FROM account_statements
         WHERE dimension = 'ventana' AND entity_id = $1 AND date <= $2
         ORDER BY date DESC LIMIT 1",
    )
    .bind(ventana)
    .bind(today)
    .fetch_optional(pool)
    .await
}

/// A ventana: (banca, name, code), deleted ones included.
pub async fn ventana(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<(Uuid, String, String)>, sqlx::Error> {
    query_as("SELECT banca_id, name, code FROM ventanas WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// A user as a vendedor: (role, ventana, banca (profile, else the ventana's), name, code or
/// username).
pub async fn vendedor(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<(String, Option<Uuid>, Option<Uuid>, String, String)>, sqlx::Error> {
    query_as(
        "SELECT u.role::text, u.ventana_id, COALESCE(v.banca_id, u.banca_id), u.name,
                COALESCE(u.code, u.username::text)
         FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id WHERE u.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// A banca: (name, code).
pub async fn banca(pool: &PgPool, id: Uuid) -> Result<Option<(String, String)>, sqlx::Error> {
    query_as("SELECT name, code FROM bancas WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}
