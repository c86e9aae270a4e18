//! Queries over bancas and the user↔banca links.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::{query, query_as, query_scalar};

/// True when the banca exists, is active and not deleted.
pub async fn is_active(conn: &mut PgConnection, banca_id: Uuid) -> Result<bool, sqlx::Error> {
    query_scalar(
        "SELECT EXISTS (SELECT 1 FROM bancas WHERE id = $1 AND is_active AND deleted_at IS NULL)",
    )
    .bind(banca_id)
    .fetch_one(conn)
    .await
}

/// Active bancas linked to a user, the default first.
pub async fn assigned_to(conn: &mut PgConnection, user_id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    query_scalar(
        "SELECT ub.banca_id FROM user_bancas ub JOIN bancas b ON b.id = ub.banca_id
         WHERE ub.user_id = $1 AND b.is_active AND b.deleted_at IS NULL
         ORDER BY ub.is_default DESC, ub.created_at ASC",
    )
    .bind(user_id)
    .fetch_all(conn)
    .await
}

/// `{id, name, code}` of a banca.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct BancaRef {
    pub id: Uuid,
    pub name: String,
    pub code: String,
}

/// The limits a VENDEDOR login checks, with the banca row locked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionLimits {
    pub vendor_limit: Option<i32>,
    pub max_sessions_per_vendedor: i32,
}

pub async fn lock_session_limits(
    conn: &mut PgConnection,
    banca_id: Uuid,
) -> Result<Option<SessionLimits>, sqlx::Error> {
    query_as("SELECT vendor_limit, max_sessions_per_vendedor FROM bancas WHERE id = $1 FOR UPDATE")
        .bind(banca_id)
        .fetch_optional(conn)
        .await
}

/// Active bancas by name: every one (`ids = None`) or those listed.
pub async fn refs(
    conn: &mut PgConnection,
    ids: Option<&[Uuid]>,
) -> Result<Vec<BancaRef>, sqlx::Error> {
    query_as(
        "SELECT id, name, code FROM bancas
         WHERE is_active AND deleted_at IS NULL AND ($1::uuid[] IS NULL OR id = ANY($1))
         ORDER BY name",
    )
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// A banca as the API shows it (never its commission policy, read separately).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BancaRow {
    pub id: Uuid,
    pub name: String,
    pub code: String,
    pub email: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub is_active: bool,
    pub default_min_bet: Decimal,
    pub global_max_per_number: Decimal,
    pub sales_cutoff_minutes: i32,
    pub vendor_limit: Option<i32>,
    pub max_sessions_per_vendedor: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

const BANCA_COLUMNS: &str = "id, name, code, email, address, phone, is_active, default_min_bet,
    global_max_per_number, sales_cutoff_minutes, vendor_limit, max_sessions_per_vendedor,
    created_at, updated_at, deleted_at";

/// The editable columns of a banca, written whole by `insert` and `update`.
#[derive(Debug, Clone, PartialEq)]
pub struct BancaFields {
    pub name: String,
    pub code: String,
    pub email: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub default_min_bet: Decimal,
    pub global_max_per_number: Decimal,
    pub sales_cutoff_minutes: i32,
    pub vendor_limit: Option<i32>,
    pub max_sessions_per_vendedor: i32,
}

impl From<&BancaRow> for BancaFields {
    fn from(r: &BancaRow) -> Self {
        BancaFields {
            name: r.name.clone(),
            code: r.code.clone(),
            email: r.email.clone(),
            address: r.address.clone(),
            phone: r.phone.clone(),
            default_min_bet: r.default_min_bet,
            global_max_per_number: r.global_max_per_number,
            sales_cutoff_minutes: r.sales_cutoff_minutes,
            vendor_limit: r.vendor_limit,
            max_sessions_per_vendedor: r.max_sessions_per_vendedor,
        }
    }
}

pub async fn insert(
    conn: &mut PgConnection,
    f: &BancaFields,
    is_active: bool,
) -> Result<BancaRow, sqlx::Error> {
    query_as(&format!(
        "INSERT INTO bancas (name, code, email, address, phone, default_min_bet,
             global_max_per_number, sales_cutoff_minutes, vendor_limit,
             max_sessions_per_vendedor, is_active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING {BANCA_COLUMNS}"
    ))
    .bind(&f.name)
    .bind(&f.code)
    .bind(&f.email)
    .bind(&f.address)
    .bind(&f.phone)
    .bind(f.default_min_bet)
    .bind(f.global_max_per_number)
    .bind(f.sales_cutoff_minutes)
    .bind(f.vendor_limit)
    .bind(f.max_sessions_per_vendedor)
    .bind(is_active)
    .fetch_one(conn)
    .await
}

/// A banca whatever its state (active, inactive or deleted).
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<BancaRow>, sqlx::Error> {
    query_as(&format!("SELECT {BANCA_COLUMNS} FROM bancas WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// As `find`, with the row locked for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<BancaRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT {BANCA_COLUMNS} FROM bancas WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    f: &BancaFields,
) -> Result<BancaRow, sqlx::Error> {
    query_as(&format!(
        "UPDATE bancas SET name = $2, code = $3, email = $4, address = $5, phone = $6,
             default_min_bet = $7, global_max_per_number = $8, sales_cutoff_minutes = $9,
             vendor_limit = $10, max_sessions_per_vendedor = $11, updated_at = now()
         WHERE id = $1
         RETURNING {BANCA_COLUMNS}"
    ))
    .bind(id)
    .bind(&f.name)
    .bind(&f.code)
    .bind(&f.email)
    .bind(&f.address)
    .bind(&f.phone)
    .bind(f.default_min_bet)
    .bind(f.global_max_per_number)
    .bind(f.sales_cutoff_minutes)
    .bind(f.vendor_limit)
    .bind(f.max_sessions_per_vendedor)
    .fetch_one(conn)
    .await
}

/// Which of `name` / `code` another banca (any state, `except` aside) already uses:
/// `Some("name")`, `Some("code")` or `None`. Both are unique over every row.
pub async fn taken_field(
    conn: &mut PgConnection,
    name: &str,
    code: &str,
    except: Option<Uuid>,
) -> Result<Option<&'static str>, sqlx::Error> {
    let (name_taken, code_taken): (bool, bool) = query_as(
        "SELECT COALESCE(bool_or(name = $1), false), COALESCE(bool_or(code = $2), false)
         FROM bancas WHERE (name = $1 OR code = $2) AND ($3::uuid IS NULL OR id <> $3)",
    )
    .bind(name)
    .bind(code)
    .bind(except)
    .fetch_one(conn)
    .await?;
    Ok(if name_taken {
        Some("name")
    } else if code_taken {
        Some("code")
    } else {
        None
    })
}

/// Active, not deleted ventanas of a banca.
pub async fn count_active_ventanas(
    conn: &mut PgConnection,
    banca_id: Uuid,
) -> Result<i64, sqlx::Error> {
    query_scalar(
        "SELECT count(*) FROM ventanas WHERE banca_id = $1 AND is_active AND deleted_at IS NULL",
    )
    .bind(banca_id)
    .fetch_one(conn)
    .await
}

/// Deactivates a banca and records who and why.
pub async fn soft_delete(
    conn: &mut PgConnection,
    id: Uuid,
    deleted_by: &str,
    reason: Option<&str>,
) -> Result<BancaRow, sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::AllSessions);
    query_as(&format!(
        "UPDATE bancas SET is_active = false, deleted_at = now(), deleted_by = $2,
             deleted_reason = $3, updated_at = now()
         WHERE id = $1
         RETURNING {BANCA_COLUMNS}"
    ))
    .bind(id)
    .bind(deleted_by)
    .bind(reason)
    .fetch_one(conn)
    .await
}

/// Reactivates a banca and clears the deletion trio.
pub async fn restore(conn: &mut PgConnection, id: Uuid) -> Result<BancaRow, sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::AllSessions);
    query_as(&format!(
        "UPDATE bancas SET is_active = true, deleted_at = NULL, deleted_by = NULL,
             deleted_reason = NULL, updated_at = now()
         WHERE id = $1
         RETURNING {BANCA_COLUMNS}"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Filters of the banca list. `ids = None` means every banca.
#[derive(Debug, Clone, Default)]
pub struct BancaFilter {
    pub ids: Option<Vec<Uuid>>,
    /// Matched case-insensitively, as a substring, against name and code.
    pub search: Option<String>,
    pub is_active: Option<bool>,
}

/// Escapes `%`, `_` and `\` so `s` matches literally inside an ILIKE pattern.
pub fn like_contains(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

const BANCA_WHERE: &str = "WHERE ($1::uuid[] IS NULL OR id = ANY($1))
      AND ($2::text IS NULL OR name ILIKE $2 OR code ILIKE $2)
      AND ($3::boolean IS NULL OR is_active = $3)";

/// One page of bancas, newest first, and the total count.
pub async fn list(
    conn: &mut PgConnection,
    f: &BancaFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<BancaRow>, i64), sqlx::Error> {
    let pattern = f.search.as_deref().map(like_contains);
    let total: i64 = query_scalar(&format!("SELECT count(*) FROM bancas {BANCA_WHERE}"))
        .bind(&f.ids)
        .bind(&pattern)
        .bind(f.is_active)
        .fetch_one(&mut *conn)
        .await?;
    let rows = query_as(&format!(
        "SELECT {BANCA_COLUMNS} FROM bancas {BANCA_WHERE}
         ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5"
    ))
    .bind(&f.ids)
    .bind(&pattern)
    .bind(f.is_active)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// Revokes the open sessions of every VENDEDOR of a banca (profile banca, else its ventana's);
/// returns how many.
pub async fn revoke_vendedor_sessions(
    conn: &mut PgConnection,
    banca_id: Uuid,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::AllSessions);
    Ok(query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
         WHERE revoked_at IS NULL AND user_id IN (
             SELECT u.id FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id
             WHERE u.role = 'VENDEDOR' AND COALESCE(v.banca_id, u.banca_id) = $1)",
    )
    .bind(banca_id)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected())
}
