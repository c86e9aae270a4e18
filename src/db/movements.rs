//! SQL of account movements (`account_payments`, domain-money §5.4): payments to and
//! collections from a banca, ventana or vendedor, their statements, the targets they name, the
//! deletion of an empty statement and the vendedor's `balanceResetAt`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::db::{query, query_as, query_scalar};

/// One movement, with the name of who reversed it.
#[derive(Debug, Clone, FromRow)]
pub struct MovementRow {
    pub id: Uuid,
    pub account_statement_id: Option<Uuid>,
    pub date: NaiveDate,
    pub month: String,
    pub time: String,
    pub banca_id: Uuid,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub amount: Decimal,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub method: String,
    pub notes: Option<String>,
    pub is_final: bool,
    pub is_reversed: bool,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_by: Option<Uuid>,
    pub reversed_by_name: Option<String>,
    pub reversed_reason: Option<String>,
    pub paid_by_id: Option<Uuid>,
    pub paid_by_name: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MovementRow {
    /// The movement's level: `vendedor`, `ventana` or `banca`.
    pub fn dimension(&self) -> &'static str {
        if self.vendedor_id.is_some() {
            "vendedor"
        } else if self.ventana_id.is_some() {
            "ventana"
        } else {
            "banca"
        }
    }

    /// The entity whose statement the movement belongs to.
    pub fn entity(&self) -> Uuid {
        self.vendedor_id
            .or(self.ventana_id)
            .unwrap_or(self.banca_id)
    }
}

const MOVEMENT_COLUMNS: &str = "p.id, p.account_statement_id, p.date, p.month::text AS month,
    p.time::text AS time, p.banca_id, p.ventana_id, p.vendedor_id, p.amount, p.type, p.method,
    p.notes, p.is_final, p.is_reversed, p.reversed_at, p.reversed_by,
    r.name AS reversed_by_name, p.reversed_reason, p.paid_by_id, p.paid_by_name,
    p.idempotency_key, p.created_at, p.updated_at";

/// One statement row (domain-money §5.1, plus `total_adjustments`).
#[derive(Debug, Clone, FromRow)]
pub struct StatementRow {
    pub id: Uuid,
    pub date: NaiveDate,
    pub month: String,
    pub dimension: String,
    pub banca_id: Uuid,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub listero_commission: Decimal,
    pub vendedor_commission: Decimal,
    pub balance: Decimal,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    pub total_adjustments: Decimal,
    pub remaining_balance: Decimal,
    pub accumulated_balance: Decimal,
    pub ticket_count: i32,
    pub is_settled: bool,
    pub can_edit: bool,
    pub settled_at: Option<DateTime<Utc>>,
    pub settled_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const STATEMENT_COLUMNS: &str = "id, date, month::text AS month, dimension, banca_id,
    ventana_id, vendedor_id, total_sales, total_payouts, listero_commission, vendedor_commission,
    balance, total_paid, total_collected, total_adjustments, remaining_balance,
    accumulated_balance, ticket_count, is_settled, can_edit, settled_at, settled_by, created_at,
    updated_at";

/// A movement to insert (the caller resolved and checked its entity).
#[derive(Debug, Clone)]
pub struct NewMovement<'a> {
    pub date: NaiveDate,
    pub time: &'a str,
    pub banca_id: Uuid,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub amount: Decimal,
    pub kind: &'a str,
    pub method: &'a str,
    pub notes: Option<&'a str>,
    pub is_final: bool,
    pub paid_by_id: Uuid,
    pub paid_by_name: &'a str,
    pub idempotency_key: Option<&'a str>,
}

/// Inserts a movement; `None` when its idempotency key is already taken.
pub async fn insert(
    conn: &mut PgConnection,
    m: &NewMovement<'_>,
) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar(
        "INSERT INTO account_payments (date, month, time, banca_id, ventana_id, vendedor_id,
             amount, type, method, notes, is_final, paid_by_id, paid_by_name, idempotency_key)
         VALUES ($1, to_char($1, 'YYYY-MM'), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING id",
    )
    .bind(m.date)
    .bind(m.time)
    .bind(m.banca_id)
    .bind(m.ventana_id)
    .bind(m.vendedor_id)
    .bind(m.amount)
    .bind(m.kind)
    .bind(m.method)
    .bind(m.notes)
    .bind(m.is_final)
    .bind(m.paid_by_id)
    .bind(m.paid_by_name)
    .bind(m.idempotency_key)
    .fetch_optional(conn)
    .await
}

/// The movement `id`; `lock` takes its row `FOR UPDATE`.
pub async fn find(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<MovementRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {MOVEMENT_COLUMNS} FROM account_payments p
         LEFT JOIN users r ON r.id = p.reversed_by WHERE p.id = $1{}",
        if lock { " FOR UPDATE OF p" } else { "" }
    );
    query_as(&sql).bind(id).fetch_optional(conn).await
}

/// The movement registered with idempotency key `key`.
pub async fn find_by_key(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<MovementRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {MOVEMENT_COLUMNS} FROM account_payments p
         LEFT JOIN users r ON r.id = p.reversed_by WHERE p.idempotency_key = $1"
    );
    query_as(&sql).bind(key).fetch_optional(conn).await
}

/// Points movement `id` at its day's statement of its own level (written by the rebuild).
pub async fn link_statement(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    query(
        "UPDATE account_payments p SET account_statement_id = s.id, updated_at = now()
         FROM account_statements s
         WHERE p.id = $1 AND s.date = p.date
           AND s.dimension = CASE WHEN p.vendedor_id IS NOT NULL THEN 'vendedor'
                                  WHEN p.ventana_id IS NOT NULL THEN 'ventana'
                                  ELSE 'banca' END
           AND s.entity_id = COALESCE(p.vendedor_id, p.ventana_id, p.banca_id)
           AND p.account_statement_id IS DISTINCT FROM s.id",
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Marks movement `id` reversed by `by` (never deleted).
pub async fn mark_reversed(
    conn: &mut PgConnection,
    id: Uuid,
    by: Uuid,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE account_payments SET is_reversed = true, reversed_at = now(), reversed_by = $2,
             reversed_reason = $3, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(by)
    .bind(reason)
    .execute(conn)
    .await
    .map(|_| ())
}

/// The statement of entity `entity` at level `dimension` on `date`.
pub async fn statement_of(
    conn: &mut PgConnection,
    dimension: &str,
    entity: Uuid,
    date: NaiveDate,
) -> Result<Option<StatementRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {STATEMENT_COLUMNS} FROM account_statements
         WHERE dimension = $1 AND entity_id = $2 AND date = $3"
    );
    query_as(&sql)
        .bind(dimension)
        .bind(entity)
        .bind(date)
        .fetch_optional(conn)
        .await
}

/// The statement `id`; `lock` takes its row `FOR UPDATE`.
pub async fn statement(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> Result<Option<StatementRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {STATEMENT_COLUMNS} FROM account_statements WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    query_as(&sql).bind(id).fetch_optional(conn).await
}

/// Unreversed movements of a statement's entity and day (linked to it or not).
pub async fn live_movements_of(
    conn: &mut PgConnection,
    s: &StatementRow,
) -> Result<i64, sqlx::Error> {
    query_scalar(
        "SELECT count(*) FROM account_payments p
         WHERE NOT p.is_reversed
           AND (p.account_statement_id = $1
                OR (p.date = $2
                    AND CASE WHEN p.vendedor_id IS NOT NULL THEN 'vendedor'
                             WHEN p.ventana_id IS NOT NULL THEN 'ventana'
                             ELSE 'banca' END = $3
                    AND COALESCE(p.vendedor_id, p.ventana_id, p.banca_id) = $4))",
    )
    .bind(s.id)
    .bind(s.date)
    .bind(&s.dimension)
    .bind(entity_of(s))
    .fetch_one(conn)
    .await
}

fn entity_of(s: &StatementRow) -> Uuid {
    match s.dimension.as_str() {
        "vendedor" => s.vendedor_id.unwrap_or(s.banca_id),
        "ventana" => s.ventana_id.unwrap_or(s.banca_id),
        _ => s.banca_id,
    }
}

/// Deletes statement `id`.
pub async fn delete_statement(conn: &mut PgConnection, id: Uuid) -> Result<u64, sqlx::Error> {
    query("DELETE FROM account_statements WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
}

/// What a movement may name as its vendedor.
#[derive(Debug, Clone, FromRow)]
pub struct VendedorTarget {
    pub id: Uuid,
    pub is_vendedor: bool,
    pub ventana_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub reset_at: Option<String>,
}

/// The live (not deleted) user `id` with its ventana, banca (the ventana's, else its own) and
/// `settings.balanceResetAt`.
pub async fn vendedor(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<VendedorTarget>, sqlx::Error> {
    query_as(
        "SELECT u.id, u.role = 'VENDEDOR' AS is_vendedor, u.ventana_id,
                COALESCE(v.banca_id, u.banca_id) AS banca_id,
                u.settings->>'balanceResetAt' AS reset_at
         FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id
         WHERE u.id = $1 AND u.deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The banca of the live ventana `id`.
pub async fn ventana_banca(conn: &mut PgConnection, id: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    query_scalar("SELECT banca_id FROM ventanas WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Whether the live banca `id` exists.
pub async fn banca_exists(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    query_scalar("SELECT EXISTS (SELECT 1 FROM bancas WHERE id = $1 AND deleted_at IS NULL)")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// The display name of user `id`.
pub async fn user_name(conn: &mut PgConnection, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    query_scalar("SELECT name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Sets (`Some`) or removes (`None`) `settings.balanceResetAt` of user `id`, keeping every
/// other settings key.
pub async fn set_balance_reset(
    conn: &mut PgConnection,
    id: Uuid,
    at: Option<&str>,
) -> Result<(), sqlx::Error> {
    query(
        "UPDATE users SET settings = CASE
                 WHEN $2::text IS NULL THEN NULLIF(COALESCE(settings, '{}'::jsonb) - 'balanceResetAt', '{}'::jsonb)
                 ELSE COALESCE(settings, '{}'::jsonb) || jsonb_build_object('balanceResetAt', $2::text)
             END,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Filters of the movement history (all already scoped by the caller).
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub date: Option<NaiveDate>,
    /// `None`: every banca (ADMIN in the global view).
    pub bancas: Option<Vec<Uuid>>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
}

/// One page of movements (newest first) and the total.
pub async fn history(
    conn: &mut PgConnection,
    f: &HistoryFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MovementRow>, i64), sqlx::Error> {
    const WHERE: &str = "($1::date IS NULL OR p.date = $1)
           AND ($2::uuid[] IS NULL OR p.banca_id = ANY($2))
           AND ($3::uuid IS NULL OR p.ventana_id = $3)
           AND ($4::uuid IS NULL OR p.vendedor_id = $4)";
    let total: i64 = query_scalar(&format!(
        "SELECT count(*) FROM account_payments p WHERE {WHERE}"
    ))
    .bind(f.date)
    .bind(f.bancas.as_deref())
    .bind(f.ventana_id)
    .bind(f.vendedor_id)
    .fetch_one(&mut *conn)
    .await?;
    let sql = format!(
        "SELECT {MOVEMENT_COLUMNS} FROM account_payments p
         LEFT JOIN users r ON r.id = p.reversed_by
         WHERE {WHERE}
         ORDER BY p.date DESC, p.time DESC, p.created_at DESC, p.id
         LIMIT $5 OFFSET $6"
    );
    let rows = query_as(&sql)
        .bind(f.date)
        .bind(f.bancas.as_deref())
        .bind(f.ventana_id)
        .bind(f.vendedor_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?;
    Ok((rows, total))
}
