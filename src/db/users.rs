//! Queries over users, bancas, ventanas and their links used by the admin commands.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::roles::Role;

/// A user row to insert.
pub struct NewUser<'a> {
    pub name: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: Role,
    pub ventana_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
}

pub async fn username_exists(conn: &mut PgConnection, username: &str) -> Result<bool, sqlx::Error> {
    crate::db::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE username = $1::citext)")
        .bind(username)
        .fetch_one(conn)
        .await
}

pub async fn insert_user(conn: &mut PgConnection, u: &NewUser<'_>) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO users (name, username, email, password_hash, role, ventana_id, banca_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(u.name)
    .bind(u.username)
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.role)
    .bind(u.ventana_id)
    .bind(u.banca_id)
    .fetch_one(conn)
    .await
}

/// Inserts or refreshes a user by username (demo data); returns its id.
pub async fn upsert_user(conn: &mut PgConnection, u: &NewUser<'_>) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO users (name, username, email, password_hash, role, ventana_id, banca_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (username) DO UPDATE SET
             name = EXCLUDED.name, password_hash = EXCLUDED.password_hash, role = EXCLUDED.role,
             ventana_id = EXCLUDED.ventana_id, banca_id = EXCLUDED.banca_id,
             is_active = true, deleted_at = NULL, updated_at = now()
         RETURNING id",
    )
    .bind(u.name)
    .bind(u.username)
    .bind(u.email)
    .bind(u.password_hash)
    .bind(u.role)
    .bind(u.ventana_id)
    .bind(u.banca_id)
    .fetch_one(conn)
    .await
}

/// Inserts or re-activates a banca by code; returns its id.
pub async fn upsert_banca(
    conn: &mut PgConnection,
    name: &str,
    code: &str,
) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO bancas (name, code) VALUES ($1, $2)
         ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, is_active = true,
             deleted_at = NULL, updated_at = now()
         RETURNING id",
    )
    .bind(name)
    .bind(code)
    .fetch_one(conn)
    .await
}

/// Inserts or re-activates a ventana by code; returns its id.
pub async fn upsert_ventana(
    conn: &mut PgConnection,
    banca_id: Uuid,
    name: &str,
    code: &str,
) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO ventanas (banca_id, name, code) VALUES ($1, $2, $3)
         ON CONFLICT (code) DO UPDATE SET banca_id = EXCLUDED.banca_id, name = EXCLUDED.name,
             is_active = true, deleted_at = NULL, updated_at = now()
         RETURNING id",
    )
    .bind(banca_id)
    .bind(name)
    .bind(code)
    .fetch_one(conn)
    .await
}

/// Links a user to a banca as its default banca.
pub async fn link_default_banca(
    conn: &mut PgConnection,
    user_id: Uuid,
    banca_id: Uuid,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(user_id));
    crate::db::query("UPDATE user_bancas SET is_default = false, updated_at = now() WHERE user_id = $1 AND banca_id <> $2")
        .bind(user_id)
        .bind(banca_id)
        .execute(&mut *conn)
        .await?;
    crate::db::query(
        "INSERT INTO user_bancas (user_id, banca_id, is_default) VALUES ($1, $2, true)
         ON CONFLICT (user_id, banca_id) DO UPDATE SET is_default = true, updated_at = now()",
    )
    .bind(user_id)
    .bind(banca_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// `(id, username)` of the oldest active ADMIN (DISABLE_AUTH in development).
pub async fn oldest_active_admin(
    conn: &mut PgConnection,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    crate::db::query_as(
        "SELECT id, username::text FROM users
         WHERE role = 'ADMIN' AND is_active AND deleted_at IS NULL ORDER BY created_at LIMIT 1",
    )
    .fetch_optional(conn)
    .await
}

/// What login needs of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LoginUser {
    pub id: Uuid,
    pub role: Role,
    pub password_hash: String,
    pub is_active: bool,
    pub deleted: bool,
    pub ventana_id: Option<Uuid>,
    /// Profile banca, else the ventana's banca.
    pub banca_id: Option<Uuid>,
    pub max_sessions_per_vendedor: Option<i32>,
    /// False when the user's ventana or banca is deactivated or deleted.
    pub tenant_active: bool,
}

/// Columns of `LoginUser`, joined to the ventana and the banca.
const LOGIN_SELECT: &str = "SELECT u.id, u.role, u.password_hash, u.is_active,
        (u.deleted_at IS NOT NULL) AS deleted, u.ventana_id,
        COALESCE(v.banca_id, u.banca_id) AS banca_id, u.max_sessions_per_vendedor,
        (COALESCE(v.is_active AND v.deleted_at IS NULL, true)
         AND COALESCE(b.is_active AND b.deleted_at IS NULL, true)) AS tenant_active
    FROM users u
    LEFT JOIN ventanas v ON v.id = u.ventana_id
    LEFT JOIN bancas b ON b.id = COALESCE(v.banca_id, u.banca_id)";

pub async fn find_for_login(
    conn: &mut PgConnection,
    username: &str,
) -> Result<Option<LoginUser>, sqlx::Error> {
    crate::db::query_as(&format!("{LOGIN_SELECT} WHERE u.username = $1::citext"))
        .bind(username)
        .fetch_optional(conn)
        .await
}

pub async fn find_for_login_by_id(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<LoginUser>, sqlx::Error> {
    crate::db::query_as(&format!("{LOGIN_SELECT} WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn set_password_hash(
    conn: &mut PgConnection,
    id: Uuid,
    hash: &str,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(id));
    crate::db::query("UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_client_info(
    conn: &mut PgConnection,
    id: Uuid,
    platform: Option<&str>,
    app_version: Option<&str>,
) -> Result<(), sqlx::Error> {
    crate::db::query(
        "UPDATE users SET platform = COALESCE($2, platform), app_version = COALESCE($3, app_version)
         WHERE id = $1",
    )
    .bind(id)
    .bind(platform)
    .bind(app_version)
    .execute(conn)
    .await?;
    Ok(())
}

/// A user as shown by the API (never the password hash), with its ventana and banca.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub name: String,
    pub username: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Role,
    pub code: Option<String>,
    pub ventana_id: Option<Uuid>,
    /// The profile banca (`users.banca_id`).
    pub profile_banca_id: Option<Uuid>,
    /// Profile banca, else the ventana's banca.
    pub banca_id: Option<Uuid>,
    pub is_active: bool,
    pub settings: Option<serde_json::Value>,
    pub platform: Option<String>,
    pub app_version: Option<String>,
    pub max_sessions_per_vendedor: Option<i32>,
    pub commission_policy_json: Option<serde_json::Value>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub ventana_name: Option<String>,
    pub ventana_code: Option<String>,
    pub ventana_banca_id: Option<Uuid>,
    pub banca_name: Option<String>,
    pub banca_code: Option<String>,
}

/// The SELECT list and joins for `UserRow`; append a WHERE clause.
pub const USER_SELECT: &str =
    "SELECT u.id, u.name, u.username::text AS username, u.email::text AS email,
        u.phone, u.role, u.code, u.ventana_id, u.banca_id AS profile_banca_id,
        COALESCE(v.banca_id, u.banca_id) AS banca_id, u.is_active, u.settings, u.platform,
        u.app_version, u.max_sessions_per_vendedor, u.commission_policy_json, u.created_at,
        u.updated_at, u.deleted_at, v.name AS ventana_name, v.code AS ventana_code,
        v.banca_id AS ventana_banca_id, b.name AS banca_name, b.code AS banca_code
    FROM users u
    LEFT JOIN ventanas v ON v.id = u.ventana_id
    LEFT JOIN bancas b ON b.id = COALESCE(v.banca_id, u.banca_id)";

pub async fn find_row(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    crate::db::query_as(&format!("{USER_SELECT} WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A user row to insert with every field the API sets.
pub struct UserInsert<'a> {
    pub name: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub password_hash: &'a str,
    pub role: Role,
    pub code: Option<&'a str>,
    pub ventana_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub is_active: bool,
    pub max_sessions_per_vendedor: Option<i32>,
}

pub async fn insert_user_full(
    conn: &mut PgConnection,
    u: &UserInsert<'_>,
) -> Result<Uuid, sqlx::Error> {
    crate::db::query_scalar(
        "INSERT INTO users (name, username, email, phone, password_hash, role, code, ventana_id,
                            banca_id, is_active, max_sessions_per_vendedor)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(u.name)
    .bind(u.username)
    .bind(u.email)
    .bind(u.phone)
    .bind(u.password_hash)
    .bind(u.role)
    .bind(u.code)
    .bind(u.ventana_id)
    .bind(u.banca_id)
    .bind(u.is_active)
    .bind(u.max_sessions_per_vendedor)
    .fetch_one(conn)
    .await
}

/// Locks a user row for the rest of the transaction; false when it does not exist.
pub async fn lock_user(conn: &mut PgConnection, id: Uuid) -> Result<bool, sqlx::Error> {
    let found: Option<Uuid> =
        crate::db::query_scalar("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Which of a username, an e-mail and a code already belong to another user (`except`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Taken {
    pub username: bool,
    pub email: bool,
    pub code: bool,
}

pub async fn taken(
    conn: &mut PgConnection,
    username: Option<&str>,
    email: Option<&str>,
    code: Option<&str>,
    except: Option<Uuid>,
) -> Result<Taken, sqlx::Error> {
    crate::db::query_as(
        "SELECT
            ($1::text IS NOT NULL AND EXISTS (SELECT 1 FROM users
                WHERE username = $1::citext AND ($4::uuid IS NULL OR id <> $4))) AS username,
            ($2::text IS NOT NULL AND EXISTS (SELECT 1 FROM users
                WHERE email = $2::citext AND ($4::uuid IS NULL OR id <> $4))) AS email,
            ($3::text IS NOT NULL AND EXISTS (SELECT 1 FROM users
                WHERE code = $3 AND ($4::uuid IS NULL OR id <> $4))) AS code",
    )
    .bind(username)
    .bind(email)
    .bind(code)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// A ventana as user rules need it: its banca and whether both are usable.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct VentanaInfo {
    pub id: Uuid,
    pub banca_id: Uuid,
    /// The ventana is active and not deleted.
    pub active: bool,
    /// Its banca is active and not deleted.
    pub banca_active: bool,
}

pub async fn ventana_info(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<VentanaInfo>, sqlx::Error> {
    crate::db::query_as(
        "SELECT v.id, v.banca_id, (v.is_active AND v.deleted_at IS NULL) AS active,
                (b.is_active AND b.deleted_at IS NULL) AS banca_active
         FROM ventanas v JOIN bancas b ON b.id = v.banca_id
         WHERE v.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// `Some(is_active)` for a banca that exists and is not deleted.
pub async fn banca_state(conn: &mut PgConnection, id: Uuid) -> Result<Option<bool>, sqlx::Error> {
    crate::db::query_scalar("SELECT is_active FROM bancas WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Active, non-deleted VENDEDOR users of a banca (profile banca, else the ventana's), besides
/// `except`.
pub async fn count_active_vendedores(
    conn: &mut PgConnection,
    banca_id: Uuid,
    except: Option<Uuid>,
) -> Result<i64, sqlx::Error> {
    crate::db::query_scalar(
        "SELECT count(*) FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id
         WHERE u.role = 'VENDEDOR' AND u.is_active AND u.deleted_at IS NULL
           AND COALESCE(v.banca_id, u.banca_id) = $1
           AND ($2::uuid IS NULL OR u.id <> $2)",
    )
    .bind(banca_id)
    .bind(except)
    .fetch_one(conn)
    .await
}

/// The full editable state of a user, written at once over a locked row.
pub struct UserWrite<'a> {
    pub name: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub role: Role,
    pub code: Option<&'a str>,
    pub ventana_id: Option<Uuid>,
    pub banca_id: Option<Uuid>,
    pub is_active: bool,
    pub settings: Option<&'a serde_json::Value>,
    pub max_sessions_per_vendedor: Option<i32>,
    pub commission_policy_json: Option<&'a serde_json::Value>,
    /// A new hash, or `None` to keep the current one.
    pub password_hash: Option<&'a str>,
}

pub async fn write_user(
    conn: &mut PgConnection,
    id: Uuid,
    w: &UserWrite<'_>,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(id));
    crate::db::query(
        "UPDATE users SET name = $2, username = $3, email = $4, phone = $5, role = $6, code = $7,
             ventana_id = $8, banca_id = $9, is_active = $10, settings = $11,
             max_sessions_per_vendedor = $12, commission_policy_json = $13,
             password_hash = COALESCE($14, password_hash), updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(w.name)
    .bind(w.username)
    .bind(w.email)
    .bind(w.phone)
    .bind(w.role)
    .bind(w.code)
    .bind(w.ventana_id)
    .bind(w.banca_id)
    .bind(w.is_active)
    .bind(w.settings)
    .bind(w.max_sessions_per_vendedor)
    .bind(w.commission_policy_json)
    .bind(w.password_hash)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deactivates a user (soft delete: `is_active = false`, who and why recorded; the row stays
/// listed).
pub async fn deactivate(
    conn: &mut PgConnection,
    id: Uuid,
    deleted_by: &str,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(id));
    crate::db::query(
        "UPDATE users SET is_active = false, deleted_by = $2, deleted_reason = $3, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(deleted_by)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reactivates a user and clears every soft-delete mark.
pub async fn reactivate(conn: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(id));
    crate::db::query(
        "UPDATE users SET is_active = true, deleted_at = NULL, deleted_by = NULL,
             deleted_reason = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Revokes every open session of a user except `keep` (the caller's own); returns how many.
pub async fn revoke_sessions_except(
    conn: &mut PgConnection,
    user_id: Uuid,
    keep: Option<Uuid>,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(user_id));
    Ok(crate::db::query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = $3
         WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2)",
    )
    .bind(user_id)
    .bind(keep)
    .bind(reason)
    .execute(conn)
    .await?
    .rows_affected())
}

/// Filters of the user lists. `banca_ids = None` means every banca.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub banca_ids: Option<Vec<Uuid>>,
    pub ventana_id: Option<Uuid>,
    pub role: Option<Role>,
    pub is_active: Option<bool>,
    /// Case-insensitive substring of name, username, e-mail, code or ventana name.
    pub search: Option<String>,
    /// Only VENDEDOR users, plus this user (a VENTANA caller's own view).
    pub vendedores_and: Option<Uuid>,
}

const USER_WHERE: &str = "WHERE u.deleted_at IS NULL
      AND ($1::uuid[] IS NULL OR u.banca_id = ANY($1) OR v.banca_id = ANY($1))
      AND ($2::uuid IS NULL OR u.ventana_id = $2)
      AND ($3::user_role IS NULL OR u.role = $3)
      AND ($4::boolean IS NULL OR u.is_active = $4)
      AND ($5::text IS NULL OR strpos(lower(u.name), lower($5)) > 0
           OR strpos(lower(u.username::text), lower($5)) > 0
           OR strpos(lower(COALESCE(u.email::text, '')), lower($5)) > 0
           OR strpos(lower(COALESCE(u.code, '')), lower($5)) > 0
           OR strpos(lower(COALESCE(v.name, '')), lower($5)) > 0)
      AND ($6::uuid IS NULL OR u.role = 'VENDEDOR' OR u.id = $6)";

/// One page of users, newest first, and the total count. Deleted rows are never listed.
pub async fn list_users(
    conn: &mut PgConnection,
    f: &UserFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    let total: i64 = crate::db::query_scalar(&format!(
        "SELECT count(*) FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id {USER_WHERE}"
    ))
    .bind(&f.banca_ids)
    .bind(f.ventana_id)
    .bind(f.role)
    .bind(f.is_active)
    .bind(&f.search)
    .bind(f.vendedores_and)
    .fetch_one(&mut *conn)
    .await?;
    let rows = crate::db::query_as(&format!(
        "{USER_SELECT} {USER_WHERE} ORDER BY u.created_at DESC, u.id DESC LIMIT $7 OFFSET $8"
    ))
    .bind(&f.banca_ids)
    .bind(f.ventana_id)
    .bind(f.role)
    .bind(f.is_active)
    .bind(&f.search)
    .bind(f.vendedores_and)
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok((rows, total))
}

/// A user↔banca link with its banca.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BancaLink {
    pub user_id: Uuid,
    pub banca_id: Uuid,
    pub is_default: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub banca_name: String,
    pub banca_is_active: bool,
}

const LINK_SELECT: &str = "SELECT ub.user_id, ub.banca_id, ub.is_default, ub.created_at,
        b.name AS banca_name, (b.is_active AND b.deleted_at IS NULL) AS banca_is_active
    FROM user_bancas ub JOIN bancas b ON b.id = ub.banca_id";

/// A user's links, the default first, then oldest first.
pub async fn banca_links(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<BancaLink>, sqlx::Error> {
    crate::db::query_as(&format!(
        "{LINK_SELECT} WHERE ub.user_id = $1 ORDER BY ub.is_default DESC, ub.created_at ASC"
    ))
    .bind(user_id)
    .fetch_all(conn)
    .await
}

pub async fn banca_link(
    conn: &mut PgConnection,
    user_id: Uuid,
    banca_id: Uuid,
) -> Result<Option<BancaLink>, sqlx::Error> {
    crate::db::query_as(&format!(
        "{LINK_SELECT} WHERE ub.user_id = $1 AND ub.banca_id = $2"
    ))
    .bind(user_id)
    .bind(banca_id)
    .fetch_optional(conn)
    .await
}

/// Adds a non-default link (an existing one is kept as it is).
pub async fn add_banca_link(
    conn: &mut PgConnection,
    user_id: Uuid,
    banca_id: Uuid,
) -> Result<(), sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(user_id));
    crate::db::query(
        "INSERT INTO user_bancas (user_id, banca_id, is_default) VALUES ($1, $2, false)
         ON CONFLICT (user_id, banca_id) DO NOTHING",
    )
    .bind(user_id)
    .bind(banca_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes a banca the user's default link and its profile banca (`users.banca_id`).
pub async fn set_default_banca(
    conn: &mut PgConnection,
    user_id: Uuid,
    banca_id: Uuid,
) -> Result<(), sqlx::Error> {
    link_default_banca(&mut *conn, user_id, banca_id).await?;
    crate::db::query("UPDATE users SET banca_id = $2, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(banca_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a link; false when there was none.
pub async fn delete_banca_link(
    conn: &mut PgConnection,
    user_id: Uuid,
    banca_id: Uuid,
) -> Result<bool, sqlx::Error> {
    crate::cache::touch(crate::cache::Gen::User(user_id));
    let n = crate::db::query("DELETE FROM user_bancas WHERE user_id = $1 AND banca_id = $2")
        .bind(user_id)
        .bind(banca_id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n > 0)
}

pub async fn set_commission_policy(
    conn: &mut PgConnection,
    id: Uuid,
    policy: Option<&serde_json::Value>,
) -> Result<(), sqlx::Error> {
    crate::db::query(
        "UPDATE users SET commission_policy_json = $2, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(policy)
    .execute(conn)
    .await?;
    Ok(())
}
