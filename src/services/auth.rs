//! Login, refresh-token rotation, logout and sessions.
//!
//! A login opens a *session*; its refresh token rotates on every refresh. A rotated token
//! presented again within `ROTATION_GRACE` (concurrent tabs, a lost response) gets the
//! session's current pair; presented later it is treated as stolen and the whole session is
//! revoked. Access tokens name their session, and every request checks it.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::db::{self, sessions::Device};
use crate::domain::authz::{can_manage_user, Actor, UserTarget};
use crate::domain::password::{self, PasswordError, Verified};
use crate::domain::roles::Role;
use crate::services::activity;
use crate::services::throttle::LoginThrottle;
use crate::services::tokens::{TokenError, TokenKeys};

/// How long a rotated refresh token still yields the session's current pair.
pub const ROTATION_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("user inactive")]
    UserInactive,
    #[error("too many attempts")]
    Throttled { retry_after_secs: u64 },
    #[error("vendor session pool full")]
    PoolExhausted { active: i64, limit: i32 },
    #[error("invalid refresh token")]
    InvalidRefresh,
    #[error("refresh token reused")]
    RefreshReused,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("banca inactive")]
    BancaInactive,
    #[error("session already revoked")]
    AlreadyRevoked,
    #[error("wrong current password")]
    WrongPassword,
    #[error("new password equals the current one")]
    SamePassword,
    #[error("{0}")]
    Password(#[from] PasswordError),
    #[error("token: {0}")]
    Token(#[from] TokenError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What a login sends besides the credentials.
#[derive(Debug, Clone, Default)]
pub struct LoginInput {
    pub username: String,
    pub password: String,
    pub platform: Option<String>,
    pub app_version: Option<String>,
    pub device: Device,
}

/// A signed pair and the ids behind it.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub user_id: Uuid,
    pub session_id: Uuid,
}

/// A valid argon2id hash to verify against when the user does not exist, so a login takes
/// the same time whether or not the username is known.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| password::hash("decoy-password-never-matches").unwrap_or_default())
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn refresh_expiry(keys: &TokenKeys) -> DateTime<Utc> {
    now() + chrono::Duration::from_std(keys.refresh_ttl).unwrap_or(chrono::Duration::days(7))
}

/// Signs a pair for session `sid`, using refresh token `tid` expiring at `exp`.
fn sign_pair(
    keys: &TokenKeys,
    user: &db::users::LoginUser,
    banca_id: Option<Uuid>,
    sid: Uuid,
    tid: Uuid,
    exp: DateTime<Utc>,
) -> Result<Issued, AuthError> {
    let t = now().timestamp();
    Ok(Issued {
        access_token: keys.sign_access(t, user.id, user.role, user.ventana_id, banca_id, sid)?,
        refresh_token: keys.sign_refresh(t, tid, sid, exp.timestamp())?,
        user_id: user.id,
        session_id: sid,
    })
}

/// Runs password hashing or verification on the blocking pool, at most one per core at a
/// time: argon2 is CPU-bound and takes 19 MiB per call, so a burst of logins queues here
/// instead of multiplying memory and starving the sale path.
async fn password_work<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    static PERMITS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        tokio::sync::Semaphore::new(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        )
    });
    let _permit = permits.acquire().await.ok();
    tokio::task::spawn_blocking(f).await
}

/// Checks credentials and opens a session. Failed attempts count against the client IP and
/// the username; a known and an unknown username fail the same way.
pub async fn login(
    pool: &PgPool,
    keys: &TokenKeys,
    throttle: &LoginThrottle,
    input: &LoginInput,
) -> Result<Issued, AuthError> {
    let ip_key = format!("ip:{}", input.device.ip_address.as_deref().unwrap_or("-"));
    let user_key = format!("user:{}", input.username.to_lowercase());
    throttle
        .try_begin(&[&ip_key, &user_key])
        .await
        .map_err(|wait| AuthError::Throttled {
            retry_after_secs: wait,
        })?;

    let mut tx = pool.begin().await?;
    let user = db::users::find_for_login(&mut tx, &input.username).await?;
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or_else(|| decoy_hash());
    let verified = {
        let (pw, h) = (input.password.clone(), hash.to_string());
        password_work(move || password::verify(&pw, &h))
            .await
            .unwrap_or(Verified::No)
    };
    let user = match (user, verified) {
        (Some(u), Verified::Yes | Verified::YesNeedsRehash) => u,
        (user, _) => {
            drop(tx);
            let mut conn = pool.acquire().await?;
            let id = user.as_ref().map(|u| u.id);
            activity::record_anonymous(
                &mut conn,
                id,
                user.as_ref().and_then(|u| u.banca_id),
                "LOGIN",
                json!({ "success": false, "reason": "invalid_credentials", "username": input.username }),
            )
            .await?;
            return Err(AuthError::InvalidCredentials);
        }
    };
    // ADMIN users have no tenant; everyone else needs an active ventana and banca.
    if !user.is_active || user.deleted || (user.role != Role::Admin && !user.tenant_active) {
        return Err(AuthError::UserInactive);
    }
    throttle.succeeded(&user_key, &ip_key).await;
    if verified == Verified::YesNeedsRehash {
        let pw = input.password.clone();
        let fresh = password_work(move || password::hash(&pw))
            .await
            .map_err(|_| AuthError::Password(PasswordError::Hashing))??;
        db::users::set_password_hash(&mut tx, user.id, &fresh).await?;
    }
    db::users::set_client_info(
        &mut tx,
        user.id,
        input.platform.as_deref(),
        input.app_version.as_deref(),
    )
    .await?;

    let device_id = input.device.device_id.as_deref();
    match (user.role, user.banca_id) {
        (Role::Vendedor, Some(banca_id)) => {
            enforce_vendedor_limits(&mut tx, &user, banca_id, device_id).await?
        }
        (Role::Ventana | Role::Vendedor, _) => {
            if let Some(d) = device_id {
                db::sessions::revoke_device_sessions(&mut tx, user.id, d, "new_login").await?;
            }
        }
        _ => {}
    }

    let exp = refresh_expiry(keys);
    let sid =
        db::sessions::insert_session(&mut tx, user.id, user.banca_id, &input.device, exp).await?;
    let tid = Uuid::new_v4();
    db::sessions::insert_refresh_token(&mut tx, tid, sid, exp).await?;
    activity::record_anonymous(
        &mut tx,
        Some(user.id),
        user.banca_id,
        "LOGIN",
        json!({ "success": true, "sessionId": sid, "platform": input.platform, "deviceId": device_id }),
    )
    .await?;
    let issued = sign_pair(keys, &user, user.banca_id, sid, tid, exp)?;
    tx.commit().await?;
    Ok(issued)
}

/// A VENDEDOR keeps at most `maxSessionsPerVendedor` sessions (user, else banca, else 1): the
/// oldest are closed. The banca's `vendorLimit` caps open sessions in the banca.
async fn enforce_vendedor_limits(
    tx: &mut PgConnection,
    user: &db::users::LoginUser,
    banca_id: Uuid,
    device_id: Option<&str>,
) -> Result<(), AuthError> {
    let limits = db::bancas::lock_session_limits(tx, banca_id).await?;
    let per_user = user
        .max_sessions_per_vendedor
        .or(limits.as_ref().map(|l| l.max_sessions_per_vendedor))
        .unwrap_or(1)
        .max(1) as usize;
    if let Some(d) = device_id {
        db::sessions::revoke_device_sessions(tx, user.id, d, "new_login").await?;
    }
    let active = db::sessions::active_session_ids(tx, user.id).await?;
    if active.len() >= per_user {
        for sid in &active[..active.len() + 1 - per_user] {
            db::sessions::revoke_session(tx, *sid, "fifo_displacement").await?;
        }
    }
    // `vendorLimit` 0 or null: no cap (as the seat check on users reads it).
    if let Some(limit) = limits.and_then(|l| l.vendor_limit).filter(|l| *l > 0) {
        let open = db::sessions::count_banca_sessions(tx, banca_id).await?;
        if open >= i64::from(limit) {
            return Err(AuthError::PoolExhausted {
                active: open,
                limit,
            });
        }
    }
    Ok(())
}

/// Exchanges a refresh token for a new pair (see the module documentation for reuse).
pub async fn refresh(
    pool: &PgPool,
    keys: &TokenKeys,
    refresh_token: &str,
) -> Result<Issued, AuthError> {
    let claims = keys
        .verify_refresh(refresh_token)
        .map_err(|_| AuthError::InvalidRefresh)?;
    let mut tx = pool.begin().await?;
    let Some(token) = db::sessions::lock_refresh_token(&mut tx, claims.tid).await? else {
        return Err(AuthError::InvalidRefresh);
    };
    if token.session_revoked || token.token_expires_at < now() || token.session_id != claims.sid {
        return Err(AuthError::InvalidRefresh);
    }
    let user = db::users::find_for_login_by_id(&mut tx, token.user_id)
        .await?
        .ok_or(AuthError::InvalidRefresh)?;
    if !user.is_active || user.deleted || (user.role != Role::Admin && !user.tenant_active) {
        db::sessions::revoke_session(&mut tx, token.session_id, "user_inactive").await?;
        tx.commit().await?;
        return Err(AuthError::UserInactive);
    }
    let banca = token.session_banca_id.or(user.banca_id);
    let issued = match token.rotated_at {
        None => {
            let exp = refresh_expiry(keys);
            let tid = Uuid::new_v4();
            // Conditional: a concurrent refresh of the same token that committed first wins,
            // and this one serves the session's current pair instead of forking the session.
            if db::sessions::mark_rotated(&mut tx, token.token_id, tid).await? {
                db::sessions::insert_refresh_token(&mut tx, tid, token.session_id, exp).await?;
                db::sessions::touch_session(&mut tx, token.session_id, exp).await?;
                sign_pair(keys, &user, banca, token.session_id, tid, exp)?
            } else {
                let (tid, exp) = db::sessions::current_token(&mut tx, token.session_id)
                    .await?
                    .ok_or(AuthError::InvalidRefresh)?;
                sign_pair(keys, &user, banca, token.session_id, tid, exp)?
            }
        }
        Some(at)
            if now() - at <= chrono::Duration::from_std(ROTATION_GRACE).unwrap_or_default() =>
        {
            let (tid, exp) = db::sessions::current_token(&mut tx, token.session_id)
                .await?
                .ok_or(AuthError::InvalidRefresh)?;
            sign_pair(keys, &user, banca, token.session_id, tid, exp)?
        }
        Some(_) => {
            db::sessions::revoke_session(&mut tx, token.session_id, "refresh_reuse").await?;
            activity::record_anonymous(
                &mut tx,
                Some(user.id),
                user.banca_id,
                "LOGOUT",
                json!({ "sessionId": token.session_id, "reason": "refresh_reuse" }),
            )
            .await?;
            tx.commit().await?;
            tracing::warn!(session_id = %token.session_id, "rotated refresh token reused; session revoked");
            return Err(AuthError::RefreshReused);
        }
    };
    tx.commit().await?;
    Ok(issued)
}

/// Closes the session of a refresh token or of an access token; unknown tokens are ignored.
pub async fn logout(
    pool: &PgPool,
    keys: &TokenKeys,
    refresh_token: Option<&str>,
    access_token: Option<&str>,
) -> Result<bool, AuthError> {
    let sid = refresh_token
        .and_then(|t| keys.verify_refresh(t).ok().map(|c| c.sid))
        .or_else(|| access_token.and_then(|t| keys.verify_access(t).ok().map(|c| c.sid)));
    let Some(sid) = sid else { return Ok(false) };
    let mut tx = pool.begin().await?;
    let Some(session) = db::sessions::find(&mut tx, sid).await? else {
        return Ok(false);
    };
    let revoked = db::sessions::revoke_session(&mut tx, sid, "logout").await?;
    if revoked {
        activity::record_anonymous(
            &mut tx,
            Some(session.user_id),
            session.owner_banca_id,
            "LOGOUT",
            json!({ "sessionId": sid }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

/// Closes every session of the caller; returns how many.
pub async fn logout_all(pool: &PgPool, actor: &Actor) -> Result<u64, AuthError> {
    let mut tx = pool.begin().await?;
    let n = db::sessions::revoke_user_sessions(&mut tx, actor.user_id, "logout_all").await?;
    activity::record(
        &mut tx,
        actor,
        None,
        "LOGOUT",
        "USER",
        actor.user_id,
        json!({ "all": true, "revoked": n }),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Loads a user and what authorization needs of it; `NotFound` when missing or out of reach.
pub async fn visible_user(
    conn: &mut PgConnection,
    actor: &Actor,
    user_id: Uuid,
    manage: bool,
) -> Result<db::users::UserRow, AuthError> {
    let row = db::users::find_row(conn, user_id)
        .await?
        .ok_or(AuthError::NotFound)?;
    let target = UserTarget {
        id: row.id,
        role: row.role,
        ventana_id: row.ventana_id,
        banca_id: row.banca_id,
    };
    let allowed = if manage {
        can_manage_user(actor, &target)
    } else {
        crate::domain::authz::can_view_user(actor, &target)
    };
    if allowed {
        Ok(row)
    } else {
        Err(AuthError::NotFound)
    }
}

/// The open sessions of a user, for ADMIN, the user, or a BANCA administrator of the user.
pub async fn list_sessions(
    pool: &PgPool,
    actor: &Actor,
    user_id: Uuid,
) -> Result<Vec<db::sessions::SessionRow>, AuthError> {
    let mut conn = pool.acquire().await?;
    visible_user(&mut conn, actor, user_id, true).await?;
    if actor.role == Role::Ventana && actor.user_id != user_id {
        // A listero manages its vendedores' data, not their logins.
        return Err(AuthError::NotFound);
    }
    Ok(db::sessions::list_active(&mut conn, user_id).await?)
}

/// Revokes one session of a user the caller may manage.
pub async fn revoke_session(
    pool: &PgPool,
    actor: &Actor,
    session_id: Uuid,
) -> Result<(), AuthError> {
    let mut tx = pool.begin().await?;
    let session = db::sessions::find(&mut tx, session_id)
        .await?
        .ok_or(AuthError::NotFound)?;
    if session.user_id != actor.user_id {
        visible_user(&mut tx, actor, session.user_id, true).await?;
        if actor.role == Role::Ventana {
            return Err(AuthError::NotFound);
        }
    }
    if session.revoked_at.is_some() {
        return Err(AuthError::AlreadyRevoked);
    }
    let reason = if actor.user_id == session.user_id {
        "revoked_by_user"
    } else {
        "revoked_by_admin"
    };
    db::sessions::revoke_session(&mut tx, session_id, reason).await?;
    activity::record(
        &mut tx,
        actor,
        session.owner_banca_id,
        "LOGOUT",
        "USER",
        session.user_id,
        json!({ "sessionId": session_id, "reason": reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Chooses the active banca of an ADMIN or BANCA session; returns a new access token for the
/// same session, carrying the banca.
pub async fn set_active_banca(
    pool: &PgPool,
    keys: &TokenKeys,
    actor: &Actor,
    banca_id: Uuid,
) -> Result<(String, db::bancas::BancaRef), AuthError> {
    if !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(AuthError::Forbidden);
    }
    let mut tx = pool.begin().await?;
    let banca: Option<(Uuid, String, String, bool)> = db::query_as(
        "SELECT id, name, code, (is_active AND deleted_at IS NULL) FROM bancas WHERE id = $1",
    )
    .bind(banca_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, name, code, active)) = banca else {
        return Err(AuthError::NotFound);
    };
    if actor.role == Role::Banca && !actor.assigned_bancas.contains(&id) {
        return Err(AuthError::NotFound);
    }
    if !active {
        return Err(AuthError::BancaInactive);
    }
    db::query("UPDATE auth_sessions SET banca_id = $2 WHERE id = $1")
        .bind(actor.session_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    activity::record(
        &mut tx,
        actor,
        Some(id),
        "SYSTEM_ACTION",
        "USER",
        actor.user_id,
        json!({ "description": "Banca activa cambiada", "activeBancaId": id }),
    )
    .await?;
    tx.commit().await?;
    let token = keys.sign_access(
        now().timestamp(),
        actor.user_id,
        actor.role,
        actor.ventana_id,
        Some(id),
        actor.session_id,
    )?;
    Ok((token, db::bancas::BancaRef { id, name, code }))
}

/// Changes the caller's password after checking the current one; closes the caller's other
/// sessions.
pub async fn change_password(
    pool: &PgPool,
    actor: &Actor,
    current: &str,
    new: &str,
) -> Result<(), AuthError> {
    if current == new {
        return Err(AuthError::SamePassword);
    }
    password::validate_new(new)?;
    let mut tx = pool.begin().await?;
    let user = db::users::find_for_login_by_id(&mut tx, actor.user_id)
        .await?
        .ok_or(AuthError::NotFound)?;
    let (pw, h) = (current.to_string(), user.password_hash.clone());
    let ok = password_work(move || password::verify(&pw, &h))
        .await
        .unwrap_or(Verified::No);
    if ok == Verified::No {
        return Err(AuthError::WrongPassword);
    }
    let pw = new.to_string();
    let hash = password_work(move || password::hash(&pw))
        .await
        .map_err(|_| AuthError::Password(PasswordError::Hashing))??;
    db::users::set_password_hash(&mut tx, actor.user_id, &hash).await?;
    db::query(
        "UPDATE auth_sessions SET revoked_at = now(), revoked_reason = 'password_change'
         WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL",
    )
    .bind(actor.user_id)
    .bind(actor.session_id)
    .execute(&mut *tx)
    .await?;
    activity::record(
        &mut tx,
        actor,
        None,
        "PASSWORD_CHANGE",
        "USER",
        actor.user_id,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
