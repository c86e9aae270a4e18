//! The activity log: who did what to which object, written in the same transaction as the change.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::db::{query, query_as, query_scalar};

/// One entry to write.
#[derive(Debug, Clone)]
pub struct NewActivity<'a> {
    pub user_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<String>,
    pub details: Value,
    pub request_id: Option<String>,
}

pub async fn insert(conn: &mut PgConnection, a: &NewActivity<'_>) -> Result<Uuid, sqlx::Error> {
    query_scalar(
        "INSERT INTO activity_logs (user_id, banca_id, action, target_type, target_id, details, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(a.user_id)
    .bind(a.banca_id)
    .bind(a.action)
    .bind(a.target_type)
    .bind(&a.target_id)
    .bind(&a.details)
    .bind(&a.request_id)
    .fetch_one(conn)
    .await
}

/// A stored entry with its author.
#[derive(Debug, Clone, FromRow)]
pub struct ActivityRow {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub details: Option<Value>,
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub username: Option<String>,
    pub user_name: Option<String>,
    pub user_role: Option<String>,
}

/// Filters of the activity list. `banca_ids = None` means every banca (ADMIN without scope).
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    pub banca_ids: Option<Vec<Uuid>>,
    pub user_id: Option<Uuid>,
    pub action: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub search: Option<String>,
}

const SELECT: &str = "SELECT a.id, a.user_id, a.banca_id, a.action, a.target_type, a.target_id,
        a.details, a.request_id, a.created_at, u.username::text AS username, u.name AS user_name,
        u.role::text AS user_role
    FROM activity_logs a LEFT JOIN users u ON u.id = a.user_id";

const WHERE: &str = "WHERE ($1::uuid[] IS NULL OR a.banca_id = ANY($1))
      AND ($2::uuid IS NULL OR a.user_id = $2)
      AND ($3::text IS NULL OR a.action = $3)
      AND ($4::text IS NULL OR a.target_type = $4)
      AND ($5::text IS NULL OR a.target_id = $5)
      AND ($6::timestamptz IS NULL OR a.created_at >= $6)
      AND ($7::timestamptz IS NULL OR a.created_at <= $7)
      AND ($8::text IS NULL OR a.action ILIKE '%' || $8 || '%' OR a.target_type ILIKE '%' || $8 || '%'
           OR a.target_id ILIKE '%' || $8 || '%' OR u.username::text ILIKE '%' || $8 || '%'
           OR u.name ILIKE '%' || $8 || '%')";

/// One page of entries, newest first, and the total count.
pub async fn list(
    conn: &mut PgConnection,
    f: &ActivityFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ActivityRow>, i64), sqlx::Error> {
    let total: i64 = query_scalar(&format!(
        "SELECT count(*) FROM activity_logs a LEFT JOIN users u ON u.id = a.user_id {WHERE}"
    ))
    .bind(&f.banca_ids)
    .bind(f.user_id)
    .bind(&f.action)
    .bind(&f.target_type)
    .bind(&f.target_id)
    .bind(f.start)
    .bind(f.end)
    .bind(&f.search)
    .fetch_one(&mut *conn)
    .await?;
    let rows = query_as(&format!(
        "{SELECT} {WHERE} ORDER BY a.created_at DESC, a.id DESC LIMIT $9 OFFSET $10"
    ))
    .bind(&f.banca_ids)
    .bind(f.user_id)
    .bind(&f.action)
    .bind(&f.target_type)
    .bind(&f.target_id)
    .bind(f.start)
    .bind(f.end)
    .bind(&f.search)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<ActivityRow>, sqlx::Error> {
    query_as(&format!("{SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Deletes entries older than `before` within the scope; returns how many.
pub async fn delete_older_than(
    conn: &mut PgConnection,
    banca_ids: &Option<Vec<Uuid>>,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(query(
        "DELETE FROM activity_logs WHERE created_at < $2 AND ($1::uuid[] IS NULL OR banca_id = ANY($1))",
    )
    .bind(banca_ids)
    .bind(before)
    .execute(conn)
    .await?
    .rows_affected())
}
