//! The `Auth` extractor: checks the bearer token, that its session stands and its user is
//! active (one query, so a revocation holds at once on every instance), and resolves the
//! active banca. Every protected handler takes it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use uuid::Uuid;

use crate::app::AppState;
use crate::db;
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::http::error::ApiError;
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

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
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
        let mut conn = state.pools.primary().acquire().await?;
        let Some(user) = db::sessions::session_user(&mut conn, claims.sid, claims.sub).await?
        else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "SESSION_REVOKED",
                "Sesión cerrada en otro dispositivo",
            ));
        };
        if user.session_revoked {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "SESSION_REVOKED",
                "Sesión cerrada en otro dispositivo",
            ));
        }
        if !user.user_active {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "USER_INACTIVE",
                "Tu cuenta ha sido desactivada. Contacta al administrador.",
            ));
        }
        let requested = requested_banca(parts).or(claims.banca_id);
        let (banca_id, assigned) = match user.role {
            Role::Admin => {
                let active = match requested {
                    Some(b) if db::bancas::is_active(&mut conn, b).await? => Some(b),
                    _ => None,
                };
                (active, Vec::new())
            }
            Role::Banca => {
                let assigned = db::bancas::assigned_to(&mut conn, user.user_id).await?;
                let active = requested
                    .filter(|b| assigned.contains(b))
                    .or(user.banca_id.filter(|b| assigned.contains(b)))
                    .or_else(|| assigned.first().copied());
                (active, assigned)
            }
            Role::Ventana | Role::Vendedor => (user.banca_id, Vec::new()),
        };
        let span = tracing::Span::current();
        span.record("user_id", tracing::field::display(user.user_id));
        if let Some(b) = banca_id {
            span.record("banca_id", tracing::field::display(b));
        }
        Ok(Auth(Actor {
            user_id: user.user_id,
            username: user.username,
            role: user.role,
            ventana_id: user.ventana_id,
            home_banca_id: user.banca_id,
            banca_id,
            assigned_bancas: assigned,
            session_id: claims.sid,
        }))
    }
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
