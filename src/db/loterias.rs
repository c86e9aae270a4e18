//! Queries over loterías: insert, read (plain and locked), update, soft delete and restore,
//! and the scoped list.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::bancas::like_contains;
use crate::db::{query_as, query_scalar};

/// A lotería as stored. `banca_id = None` is a global template.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoteriaRow {
    pub id: Uuid,
    pub banca_id: Option<Uuid>,
    pub name: String,
    pub rules_json: Value,
    pub is_active: bool,
    pub deleted_at: Option<DateTime<Utc>>,
    pub deleted_by: Option<String>,
    pub deleted_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl LoteriaRow {
    /// Active and not deleted: may take new sorteos.
    pub fn is_live(&self) -> bool {
        self.is_active && self.deleted_at.is_none()
    }
}

const COLUMNS: &str = "id, banca_id, name, rules_json, is_active, deleted_at, deleted_by,
    deleted_reason, created_at, updated_at";

/// The unique constraint on `(name, banca_id)` (NULL banca counts as one value).
pub const NAME_KEY: &str = "loterias_name_banca_key";

pub async fn insert(
    conn: &mut PgConnection,
    banca_id: Option<Uuid>,
    name: &str,
    rules: &Value,
    is_active: bool,
) -> Result<LoteriaRow, sqlx::Error> {
    query_as(&format!(
        "INSERT INTO loterias (banca_id, name, rules_json, is_active) VALUES ($1, $2, $3, $4)
         RETURNING {COLUMNS}"
    ))
    .bind(banca_id)
    .bind(name)
    .bind(rules)
    .bind(is_active)
    .fetch_one(conn)
    .await
}

/// A lotería whatever its state.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<LoteriaRow>, sqlx::Error> {
    query_as(&format!("SELECT {COLUMNS} FROM loterias WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// As `find`, with the row locked for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LoteriaRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT {COLUMNS} FROM loterias WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Writes the editable columns.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    name: &str,
    rules: &Value,
    is_active: bool,
) -> Result<LoteriaRow, sqlx::Error> {
    query_as(&format!(
        "UPDATE loterias SET name = $2, rules_json = $3, is_active = $4, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(name)
    .bind(rules)
    .bind(is_active)
    .fetch_one(conn)
    .await
}

/// Deactivates a lotería and records who and why.
pub async fn soft_delete(
    conn: &mut PgConnection,
    id: Uuid,
    deleted_by: &str,
    reason: Option<&str>,
) -> Result<LoteriaRow, sqlx::Error> {
    query_as(&format!(
        "UPDATE loterias SET is_active = false, deleted_at = now(), deleted_by = $2,
             deleted_reason = $3, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(deleted_by)
    .bind(reason)
    .fetch_one(conn)
    .await
}

/// Reactivates a lotería and clears the deletion trio.
pub async fn restore(conn: &mut PgConnection, id: Uuid) -> Result<LoteriaRow, sqlx::Error> {
    query_as(&format!(
        "UPDATE loterias SET is_active = true, deleted_at = NULL, deleted_by = NULL,
             deleted_reason = NULL, updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .fetch_one(conn)
    .await
}

/// Filters of the lotería list.
#[derive(Debug, Clone, Default)]
pub struct LoteriaFilter {
    /// Bancas whose loterías are listed; `None` means every banca.
    pub bancas: Option<Vec<Uuid>>,
    /// Also list global templates (`banca_id IS NULL`) when `bancas` is set.
    pub include_global: bool,
    /// Case-insensitive substring of the name.
    pub search: Option<String>,
    pub is_active: Option<bool>,
}

const LIST_WHERE: &str = "WHERE ($1::uuid[] IS NULL OR banca_id = ANY($1)
          OR ($2 AND banca_id IS NULL))
      AND ($3::text IS NULL OR name ILIKE $3)
      AND ($4::boolean IS NULL OR is_active = $4)";

/// One page of loterías, newest first, and the total count.
pub async fn list(
    conn: &mut PgConnection,
    f: &LoteriaFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<LoteriaRow>, i64), sqlx::Error> {
    let pattern = f.search.as_deref().map(like_contains);
    let total: i64 = query_scalar(&format!("SELECT count(*) FROM loterias {LIST_WHERE}"))
        .bind(&f.bancas)
        .bind(f.include_global)
        .bind(&pattern)
        .bind(f.is_active)
        .fetch_one(&mut *conn)
        .await?;
    let rows = query_as(&format!(
        "SELECT {COLUMNS} FROM loterias {LIST_WHERE}
         ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"
    ))
    .bind(&f.bancas)
    .bind(f.include_global)
    .bind(&pattern)
    .bind(f.is_active)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// As `find`, with a share lock: concurrent readers (two seeds) proceed, a delete waits.
pub async fn find_for_share(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LoteriaRow>, sqlx::Error> {
    query_as(&format!(
        "SELECT {COLUMNS} FROM loterias WHERE id = $1 FOR SHARE"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}
