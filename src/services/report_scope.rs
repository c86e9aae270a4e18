//! Who sees what in the reports (cierres, dashboard, ventas, `/sales/daily-stats`, `/reports`):
//! the caller's role narrows what it asked for to an effective filter (decision 4).
//!
//! | role | banca | ventana | vendedor |
//! |---|---|---|---|
//! | ADMIN | the active banca (none: every banca, or `bancaId` when given) | any of that banca | any of that banca/ventana |
//! | BANCA | the active banca (none: nothing) | one of its ventanas | one of its vendedores |
//! | VENTANA | its home banca | its own (another: 403 `RBAC_001`) | one of its vendedores |
//! | VENDEDOR | its home banca | its ventana | itself (another: 403 `RBAC_003`) |
//!
//! A requested ventana outside the banca is 403 (`RBAC_007` for BANCA, `RBAC_004` for ADMIN);
//! a requested vendedor outside the effective banca/ventana is 403 `RBAC_003`. Lotería and
//! sorteo filters need no check: every report also filters by the effective banca.

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::db::query_as;
use crate::domain::authz::Actor;
use crate::domain::roles::Role;

/// What the caller asked for (query parameters).
#[derive(Debug, Clone, Default)]
pub struct Requested {
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
}

/// What the caller gets: every report filters by each field that is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportScope {
    pub banca_id: Option<Uuid>,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub loteria_id: Option<Uuid>,
    pub sorteo_id: Option<Uuid>,
    /// The caller can see nothing (a BANCA user without an active banca).
    #[serde(skip)]
    pub nothing: bool,
}

/// A request outside the caller's reach.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("{message}")]
    Forbidden {
        code: &'static str,
        message: &'static str,
    },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn forbidden(code: &'static str, message: &'static str) -> ScopeError {
    ScopeError::Forbidden { code, message }
}

/// Applies the role rules in the module docs to `req`, checking requested entities against
/// the database (`pool`: any pool that sees users and ventanas).
pub async fn resolve(
    pool: &PgPool,
    actor: &Actor,
    req: &Requested,
) -> Result<ReportScope, ScopeError> {
    let mut s = ReportScope {
        banca_id: None,
        ventana_id: req.ventana_id,
        vendedor_id: req.vendedor_id,
        loteria_id: req.loteria_id,
        sorteo_id: req.sorteo_id,
        nothing: false,
    };
    match actor.role {
        Role::Admin => {
            s.banca_id = actor.banca_id.or(req.banca_id);
        }
        Role::Banca => {
            s.banca_id = actor.banca_id;
            s.nothing = actor.banca_id.is_none();
        }
        Role::Ventana => {
            if req.ventana_id.is_some() && req.ventana_id != actor.ventana_id {
                return Err(forbidden("RBAC_001", "No tiene acceso a otra ventana"));
            }
            s.banca_id = actor.home_banca_id;
            s.ventana_id = actor.ventana_id;
            s.nothing = actor.ventana_id.is_none() || actor.home_banca_id.is_none();
        }
        Role::Vendedor => {
            if req.vendedor_id.is_some() && req.vendedor_id != Some(actor.user_id) {
                return Err(forbidden("RBAC_003", "No tiene acceso a otro vendedor"));
            }
            s.banca_id = actor.home_banca_id;
            s.ventana_id = actor.ventana_id;
            s.vendedor_id = Some(actor.user_id);
            s.nothing = actor.home_banca_id.is_none();
        }
    }
    if s.nothing {
        return Ok(s);
    }
    if let (Some(v), true) = (
        req.ventana_id,
        matches!(actor.role, Role::Admin | Role::Banca),
    ) {
        let banca: Option<(Uuid,)> = query_as("SELECT banca_id FROM ventanas WHERE id = $1")
            .bind(v)
            .fetch_optional(pool)
            .await?;
        let inside = match (banca, s.banca_id) {
            (Some((b,)), Some(active)) => b == active,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !inside {
            return Err(if actor.role == Role::Banca {
                forbidden("RBAC_007", "La ventana no pertenece a la banca activa")
            } else {
                forbidden(
                    "RBAC_004",
                    "La ventana no pertenece a la banca seleccionada",
                )
            });
        }
    }
    if let (Some(u), false) = (req.vendedor_id, actor.role == Role::Vendedor) {
        let row: Option<(Option<Uuid>, Option<Uuid>)> = query_as(
            "SELECT u.ventana_id, COALESCE(u.banca_id, v.banca_id)
             FROM users u LEFT JOIN ventanas v ON v.id = u.ventana_id
             WHERE u.id = $1 AND u.role = 'VENDEDOR'",
        )
        .bind(u)
        .fetch_optional(pool)
        .await?;
        let inside = match row {
            None => false,
            Some((ventana, banca)) => {
                s.ventana_id.is_none_or(|v| ventana == Some(v))
                    && s.banca_id.is_none_or(|b| banca == Some(b))
            }
        };
        if !inside {
            return Err(forbidden(
                "RBAC_003",
                "El vendedor no pertenece a su alcance",
            ));
        }
    }
    Ok(s)
}
