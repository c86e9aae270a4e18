//! The `Auth` extractor: checks the bearer token, that its session stands and its user is
//! active (one query, or a current entry of the shared session cache — a revocation holds at
//! once on every instance either way, see `services::session_cache`), and resolves the active
//! banca. Every protected handler takes it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use uuid::Uuid;

use crate::app::AppState;
use crate::db;
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::http::error::ApiError;
use crate::services::session_cache;
use crate::services::tokens::TokenError;

/// Header ADMIN and BANCA users send to choose the banca they work on.
pub const ACTIVE_BANCA_HEADER: &str = "x-active-banca-id";

/// An authenticated request.
pub struct Auth(pub Actor);

pub fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        "No autenticado",
    )
}

pub fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "FORBIDDEN",
        "No tienes permisos para realizar esta acción",
    )
}

impl Auth {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.0.is(roles) {
            Ok(())
        } else {
            Err(forbidden())
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn requested_banca(parts: &Parts) -> Option<Uuid> {
    parts
        .headers
        .get(ACTIVE_BANCA_HEADER)?
        .to_str()
        .ok()
        .and_then(|v| Uuid::parse_str(v.trim()).ok())
}

/// The caller of this request, once resolved: a middleware that needed it first (the edge
/// cache) leaves it here so the handler's `Auth` does not check the session twice.
#[derive(Clone)]
pub struct ResolvedActor(pub Actor);

fn session_revoked() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "SESSION_REVOKED",
        "Sesión cerrada en otro dispositivo",
    )
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(resolved) = parts.extensions.get::<ResolvedActor>() {
            return Ok(Auth(resolved.0.clone()));
        }
        let Some(token) = bearer(parts) else {
            if state.config.disable_auth {
                return dev_admin(state).await.map(Auth);
            }
            return Err(unauthenticated());
        };
        let claims = state.tokens.verify_access(token).map_err(|e| match e {
            TokenError::Expired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "TOKEN_EXPIRED",
                "La sesión expiró; inicie sesión de nuevo",
            ),
            _ => ApiError::new(StatusCode::UNAUTHORIZED, "INVALID_TOKEN", "Token inválido"),
        })?;
        let requested = requested_banca(parts).or(claims.banca_id);
        resolve_actor(state, claims.sub, claims.sid, requested)
            .await
            .map(Auth)
    }
}

/// The caller behind session `sid` of user `sub` with the active banca `requested` (checked
/// against the user's bancas): the bearer check of every route, and of a download link.
pub async fn resolve_actor(
    state: &AppState,
    sub: Uuid,
    sid: Uuid,
    requested: Option<Uuid>,
) -> Result<Actor, ApiError> {
    // The session check: from the shared cache when Redis has a current entry, else one
    // query (see `services::session_cache`).
    let redis = state.redis.as_ref().filter(|_| state.config.cache.enabled);
    let ttl = state.config.cache.session_ttl;
    let lookup = match redis {
        Some(r) => session_cache::lookup(r, sid, sub, requested).await,
        None => None,
    };
    let mut conn = None;
    let (user, cached_assigned) = match lookup.as_ref().and_then(|l| l.session.clone()) {
        Some(hit) => (hit.user, hit.assigned),
        None => {
            let c = conn.insert(state.pools.primary().acquire().await?);
            let user = db::sessions::session_user(c, sid, sub)
                .await?
                .ok_or_else(session_revoked)?;
            (user, None)
        }
    };
    if user.session_revoked {
        return Err(session_revoked());
    }
    if !user.user_active {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "USER_INACTIVE",
            "Tu cuenta ha sido desactivada. Contacta al administrador.",
        ));
    }
    let (banca_id, assigned) = match user.role {
        Role::Admin => {
            let active = match requested {
                Some(b) => {
                    let cached = lookup.as_ref().and_then(|l| l.banca_active);
                    let is_active = match cached {
                        Some(v) => v,
                        None => {
                            if conn.is_none() {
                                conn = Some(state.pools.primary().acquire().await?);
                            }
                            let c = conn.as_mut().expect("acquired above");
                            let v = db::bancas::is_active(c, b).await?;
                            if let (Some(r), Some(l)) = (redis, lookup.as_ref()) {
                                session_cache::store_banca(r, l, b, v, ttl);
                            }
                            v
                        }
                    };
                    is_active.then_some(b)
                }
                None => None,
            };
            (active, Vec::new())
        }
        Role::Banca => {
            let assigned = match &cached_assigned {
                Some(a) => a.clone(),
                None => {
                    if conn.is_none() {
                        conn = Some(state.pools.primary().acquire().await?);
                    }
                    let c = conn.as_mut().expect("acquired above");
                    db::bancas::assigned_to(c, user.user_id).await?
                }
            };
            let active = requested
                .filter(|b| assigned.contains(b))
                .or(user.banca_id.filter(|b| assigned.contains(b)))
                .or_else(|| assigned.first().copied());
            (active, assigned)
        }
        Role::Ventana | Role::Vendedor => (user.banca_id, Vec::new()),
    };
    drop(conn);
    if let (Some(r), Some(l)) = (redis, lookup.as_ref()) {
        if l.session.is_none() {
            let entry = session_cache::CachedSession {
                user: user.clone(),
                assigned: (user.role == Role::Banca).then(|| assigned.clone()),
            };
            session_cache::store_session(r, l, sid, entry, ttl);
        }
    }
    let span = tracing::Span::current();
    span.record("user_id", tracing::field::display(user.user_id));
    crate::observability::sentry::set_user(user.user_id, banca_id);
    if let Some(b) = banca_id {
        span.record("banca_id", tracing::field::display(b));
    }
    Ok(Actor {
        user_id: user.user_id,
        username: user.username,
        role: user.role,
        ventana_id: user.ventana_id,
        home_banca_id: user.banca_id,
        banca_id,
        assigned_bancas: assigned,
        session_id: sid,
    })
}

/// `DISABLE_AUTH=true` (development only): requests without a token act as the oldest active
/// ADMIN user.
async fn dev_admin(state: &AppState) -> Result<Actor, ApiError> {
    let mut conn = state.pools.primary().acquire().await?;
    let admin = db::users::oldest_active_admin(&mut conn)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHENTICATED",
                "DISABLE_AUTH necesita un usuario ADMIN: ejecute `banca create-admin`",
            )
        })?;
    Ok(Actor {
        user_id: admin.0,
        username: admin.1,
        role: Role::Admin,
        ventana_id: None,
        home_banca_id: None,
        banca_id: None,
        assigned_bancas: Vec::new(),
        session_id: Uuid::nil(),
    })
}
