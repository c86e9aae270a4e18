//! Queries over ventanas (sales points) and the VENTANA user that logs in for each one.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::bancas::like_contains;
use crate::db::{query, query_as, query_scalar};

/// A ventana with its banca's name and code.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VentanaRow {
    pub id: Uuid,
    pub banca_id: Uuid,
    pub name: String,
    pub code: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub commission_margin_x: Decimal,
    pub is_active: bool,
    pub settings: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub banca_name: String,
    pub banca_code: String,
}

const SELECT: &str = "SELECT v.id, v.banca_id, v.name, v.code, v.email, v.phone, v.address,
        v.commission_margin_x, v.is_active, v.settings, v.created_at, v.updated_at,
        v.deleted_at, b.name AS banca_name, b.code AS banca_code
    FROM ventanas v JOIN bancas b ON b.id = v.banca_id";

/// The editable columns of a ventana, written whole by `insert` and `update`.
#[derive(Debug, Clone, PartialEq)]
pub struct VentanaFields {
    pub name: String,
    pub code: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub commission_margin_x: Decimal,
    pub is_active: bool,
    pub settings: Option<Value>,
}

impl From<&VentanaRow> for VentanaFields {
    fn from(r: &VentanaRow) -> Self {
        VentanaFields {
            name: r.name.clone(),
            code: r.code.clone(),
            email: r.email.clone(),
            phone: r.phone.clone(),
            address: r.address.clone(),
            commission_margin_x: r.commission_margin_x,
            is_active: r.is_active,
            settings: r.settings.clone(),
        }
    }
}

pub async fn insert(
    conn: &mut PgConnection,
    banca_id: Uuid,
    f: &VentanaFields,
) -> Result<Uuid, sqlx::Error> {
    query_scalar(
        "INSERT INTO ventanas (banca_id, name, code, email, phone, address, commission_margin_x,
             is_active, settings)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(banca_id)
    .bind(&f.name)
    .bind(&f.code)
    .bind(&f.email)
    .bind(&f.phone)
    .bind(&f.address)
    .bind(f.commission_margin_x)
    .bind(f.is_active)
    .bind(&f.settings)
    .fetch_one(conn)
    .await
}

/// A ventana whatever its state.
pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<VentanaRow>, sqlx::Error> {
    query_as(&format!("{SELECT} WHERE v.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// As `find`, with the ventana row locked for the rest of the transaction.
pub async fn find_for_update(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<VentanaRow>, sqlx::Error> {
    query_as(&format!("{SELECT} WHERE v.id = $1 FOR UPDATE OF v"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    f: &VentanaFields,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::AllSessions);
    query(
        "UPDATE ventanas SET name = $2, code = $3, email = $4, phone = $5, address = $6,
             commission_margin_x = $7, is_active = $8, settings = $9, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(&f.name)
    .bind(&f.code)
    .bind(&f.email)
    .bind(&f.phone)
    .bind(&f.address)
    .bind(f.commission_margin_x)
    .bind(f.is_active)
    .bind(&f.settings)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether another ventana (any state, `except` aside) uses `code`.
pub async fn code_taken(
    conn: &mut PgConnection,
    code: &str,
    except: Option<Uuid>,
) -> Result<bool, sqlx::Error> {
    query_scalar(
        "SELECT EXISTS (SELECT 1 FROM ventanas WHERE code = $1 AND ($2::uuid IS NULL OR id <> $2))",
    )
    .bind(code)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// Deactivates a ventana and records who and why.
pub async fn soft_delete(
    conn: &mut PgConnection,
    id: Uuid,
    deleted_by: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::AllSessions);
    query(
        "UPDATE ventanas SET is_active = false, deleted_at = now(), deleted_by = $2,
             deleted_reason = $3, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(deleted_by)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reactivates a ventana and clears the deletion trio.
pub async fn restore(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::AllSessions);
    query(
        "UPDATE ventanas SET is_active = true, deleted_at = NULL, deleted_by = NULL,
             deleted_reason = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Filters of the ventana list. `None` in `banca_ids` / `ventana_ids` means no filter on it.
#[derive(Debug, Clone, Default)]
pub struct VentanaFilter {
    pub banca_ids: Option<Vec<Uuid>>,
    pub ventana_ids: Option<Vec<Uuid>>,
    /// Matched case-insensitively, as a substring, against code, name, email and phone.
    pub search: Option<String>,
    pub is_active: Option<bool>,
}

const WHERE: &str = "WHERE ($1::uuid[] IS NULL OR v.banca_id = ANY($1))
      AND ($2::uuid[] IS NULL OR v.id = ANY($2))
      AND ($3::text IS NULL OR v.code ILIKE $3 OR v.name ILIKE $3 OR v.email ILIKE $3
           OR v.phone ILIKE $3)
      AND ($4::boolean IS NULL OR v.is_active = $4)";

/// One page of ventanas, newest first, and the total count.
pub async fn list(
    conn: &mut PgConnection,
    f: &VentanaFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<VentanaRow>, i64), sqlx::Error> {
    let pattern = f.search.as_deref().map(like_contains);
    let total: i64 = query_scalar(&format!("SELECT count(*) FROM ventanas v {WHERE}"))
        .bind(&f.banca_ids)
        .bind(&f.ventana_ids)
        .bind(&pattern)
        .bind(f.is_active)
        .fetch_one(&mut *conn)
        .await?;
    let rows = query_as(&format!(
        "{SELECT} {WHERE} ORDER BY v.created_at DESC, v.id DESC LIMIT $5 OFFSET $6"
    ))
    .bind(&f.banca_ids)
    .bind(&f.ventana_ids)
    .bind(&pattern)
    .bind(f.is_active)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// The login of a ventana: its oldest VENTANA-role user that is not deleted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VentanaLogin {
    pub id: Uuid,
    pub username: String,
}

pub async fn login_user(
    conn: &mut PgConnection,
    ventana_id: Uuid,
) -> Result<Option<VentanaLogin>, sqlx::Error> {
    query_as(
        "SELECT id, username::text AS username FROM users
         WHERE ventana_id = $1 AND role = 'VENTANA' AND deleted_at IS NULL
         ORDER BY created_at ASC LIMIT 1",
    )
    .bind(ventana_id)
    .fetch_optional(conn)
    .await
}

/// Changes the username and/or password hash of a ventana's login (`None` keeps the value).
pub async fn update_login(
    conn: &mut PgConnection,
    user_id: Uuid,
    username: Option<&str>,
    password_hash: Option<&str>,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(user_id));
    query(
        "UPDATE users SET username = COALESCE($2, username), password_hash = COALESCE($3, password_hash),
             updated_at = now()
         WHERE id = $1",
    )
    .bind(user_id)
    .bind(username)
    .bind(password_hash)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_user_active(
    conn: &mut PgConnection,
    user_id: Uuid,
    active: bool,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(user_id));
    query("UPDATE users SET is_active = $2, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(active)
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes the open sessions of every user of a ventana (its VENTANA login and its
/// vendedores); returns how many.
pub async fn revoke_sessions(
    conn: &mut PgConnection,
    ventana_id: Uuid,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::AllSessions);
    Ok(query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $2
         WHERE revoked_at IS NULL AND user_id IN (SELECT id FROM users WHERE ventana_id = $1)",
    )
    .bind(ventana_id)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected())
}
