//! `/multiplier-overrides`: base-multiplier overrides per vendedor (`USER`) or ventana
//! (`VENTANA`) and lotería. Writes: ADMIN; BANCA for targets of its bancas; VENTANA for its
//! ventana and its vendedores. Reads: every role, scoped (a VENDEDOR sees its own).

use axum::extract::State;
use axum::routing::{get, patch, post};
use axum::Router;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::multipliers::OverrideRow;
use crate::domain::multipliers::{BetType, OverrideScope};
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{de, AppJson, AppPath, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{finish, query_error, text, validation_error};
use crate::http::routes::multipliers::{bet_type, check_multiplier_x, LoteriaBrief};
use crate::http::routes::ticket_reads::doc::{self, OptionalBodies};
use crate::http::validate::Checks;
use crate::services::multipliers::{self, NewOverrideInput, OverrideListParams};

/// `/multiplier-overrides`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/multiplier-overrides", post(create).get(list))
        .route(
            "/api/v1/multiplier-overrides/{id}",
            get(one).put(update).delete(remove),
        )
        .route("/api/v1/multiplier-overrides/{id}/restore", patch(restore))
}

/// The OpenAPI description of `/multiplier-overrides`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, list, one, update, remove, restore),
    tags((name = "multiplier_overrides", description = "Base-multiplier overrides per vendedor (USER) or ventana (VENTANA) and lotería")),
    modifiers(&OptionalBodies)
)]
pub struct ApiDoc;

doc::doc_type!(OverrideScopeDoc = doc::text_enum(&["USER", "VENTANA"]));

doc::doc_type!(OverrideScopeFilterDoc = doc::filter_enum(&["USER", "VENTANA"]));

// ---------------------------------------------------------------------------------------------
// Wire shapes.

#[derive(Serialize)]
struct UserBrief {
    id: Uuid,
    name: String,
    username: String,
}

#[derive(Serialize)]
struct VentanaBrief {
    id: Uuid,
    name: String,
    code: String,
}

/// An override as the reference returns it, with its target and lotería named (never a
/// whole user row).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OverrideDto {
    id: Uuid,
    scope: OverrideScope,
    user_id: Option<Uuid>,
    ventana_id: Option<Uuid>,
    loteria_id: Uuid,
    banca_id: Option<Uuid>,
    multiplier_type: String,
    base_multiplier_x: Decimal,
    is_active: bool,
    deleted_at: Option<DateTime<Utc>>,
    deleted_by: Option<String>,
    deleted_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    user: Option<UserBrief>,
    ventana: Option<VentanaBrief>,
    loteria: LoteriaBrief,
}

impl From<OverrideRow> for OverrideDto {
    fn from(o: OverrideRow) -> Self {
        let user = match (o.user_id, o.user_name, o.user_username) {
            (Some(id), Some(name), Some(username)) => Some(UserBrief { id, name, username }),
            _ => None,
        };
        let ventana = match (o.ventana_id, o.ventana_name, o.ventana_code) {
            (Some(id), Some(name), Some(code)) => Some(VentanaBrief { id, name, code }),
            _ => None,
        };
        OverrideDto {
            id: o.id,
            scope: o.scope,
            user_id: o.user_id,
            ventana_id: o.ventana_id,
            loteria_id: o.loteria_id,
            banca_id: o.banca_id,
            multiplier_type: o.multiplier_type,
            base_multiplier_x: o.base_multiplier_x.normalize(),
            is_active: o.is_active,
            deleted_at: o.deleted_at,
            deleted_by: o.deleted_by,
            deleted_reason: o.deleted_reason,
            created_at: o.created_at,
            updated_at: o.updated_at,
            user,
            ventana,
            loteria: LoteriaBrief {
                id: o.loteria_id,
                name: o.loteria_name,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies and queries.

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = multiplier_overrides::CreateBody)]
struct CreateBody {
    /// Required: `USER` (a vendedor) or `VENTANA`.
    #[schema(value_type = OverrideScopeDoc, inline, required = true)]
    scope: Option<String>,
    /// Required: the vendedor or the ventana.
    #[schema(value_type = Uuid, required = true)]
    scope_id: Option<Uuid>,
    #[schema(value_type = Uuid, required = true)]
    loteria_id: Option<Uuid>,
    /// Required: `NUMERO` or `REVENTADO`.
    #[schema(value_type = doc::BetType, inline, required = true)]
    multiplier_type: Option<String>,
    /// Required: 0.01–9999, 2 decimals.
    #[schema(value_type = f64, required = true, minimum = 0.01, maximum = 9999)]
    base_multiplier_x: Option<Decimal>,
}

impl CreateBody {
    fn validate(self) -> Result<NewOverrideInput, Vec<ErrorDetail>> {
        let mut c = Checks::new();
        let scope = match self.scope.as_deref().map(str::trim) {
            None => {
                c.fail("scope", "required", "es obligatorio");
                None
            }
            Some(s) => {
                let scope = OverrideScope::parse(s);
                if scope.is_none() {
                    c.fail("scope", "invalid_enum_value", "debe ser USER o VENTANA");
                }
                scope
            }
        };
        if self.scope_id.is_none() {
            c.fail("scopeId", "required", "es obligatorio");
        }
        if self.loteria_id.is_none() {
            c.fail("loteriaId", "required", "es obligatorio");
        }
        let multiplier_type = bet_type(&mut c, "multiplierType", self.multiplier_type.as_deref());
        match self.base_multiplier_x {
            Some(_) => check_multiplier_x(&mut c, "baseMultiplierX", self.base_multiplier_x),
            None => c.fail("baseMultiplierX", "required", "es obligatorio"),
        }
        finish(c)?;
        Ok(NewOverrideInput {
            scope: scope.unwrap_or(OverrideScope::User),
            scope_id: self.scope_id.unwrap_or_default(),
            loteria_id: self.loteria_id.unwrap_or_default(),
            multiplier_type: multiplier_type.unwrap_or(BetType::Numero),
            base_multiplier_x: self.base_multiplier_x.unwrap_or_default().normalize(),
        })
    }
}

/// At least one of the two.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = multiplier_overrides::UpdateBody)]
struct UpdateBody {
    /// 0.01–9999, 2 decimals.
    #[schema(minimum = 0.01, maximum = 9999)]
    base_multiplier_x: Option<Decimal>,
    is_active: Option<bool>,
}

impl UpdateBody {
    fn validate(self) -> Result<(Option<Decimal>, Option<bool>), Vec<ErrorDetail>> {
        let mut c = Checks::new();
        if self.base_multiplier_x.is_none() && self.is_active.is_none() {
            c.fail(
                "(root)",
                "too_small",
                "envía al menos baseMultiplierX o isActive",
            );
        }
        check_multiplier_x(&mut c, "baseMultiplierX", self.base_multiplier_x);
        finish(c)?;
        Ok((
            self.base_multiplier_x.map(|v| v.normalize()),
            self.is_active,
        ))
    }
}

/// `DELETE` body: an optional reason (`deletedReason`, or the house `reason`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = multiplier_overrides::DeleteBody)]
struct DeleteBody {
    /// 1–200 characters.
    #[schema(max_length = 200)]
    deleted_reason: Option<String>,
    /// Same as `deletedReason` (used when that is absent).
    #[schema(max_length = 200)]
    reason: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    /// Page number (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    page: Option<u32>,
    /// Page size (default 10).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<OverrideScopeFilterDoc>, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    scope_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::BetTypeFilter>, inline)]
    multiplier_type: Option<String>,
    /// Default true (live, active overrides).
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    is_active: Option<bool>,
}

// ---------------------------------------------------------------------------------------------
// Handlers.

const WRITERS: &[Role] = &[Role::Admin, Role::Banca, Role::Ventana];

#[utoipa::path(
    post,
    path = "/api/v1/multiplier-overrides",
    tag = "multiplier_overrides",
    request_body = CreateBody,
    responses(
        (status = 201, description = "El override creado", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR) o referencia inexistente (INVALID_REFERENCE)", body = ErrorBody),
        (status = 403, description = "Rol no permitido o destino fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Vendedor, ventana o lotería no encontrados", body = ErrorBody),
        (status = 409, description = "Ya existe un override para ese destino, lotería y tipo (OVERRIDE_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<ApiResponse<OverrideDto>, ApiError> {
    auth.require(WRITERS)?;
    let input = body.validate().map_err(validation_error)?;
    let row = multipliers::create_override(state.pools.primary(), &auth.0, input).await?;
    Ok(ApiResponse::created(row.into()))
}

#[utoipa::path(
    put,
    path = "/api/v1/multiplier-overrides/{id}",
    tag = "multiplier_overrides",
    params(("id" = Uuid, Path, description = "The override")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "El override actualizado", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido o vacío (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Rol no permitido o destino fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Override inexistente o fuera de alcance", body = ErrorBody),
        (status = 409, description = "Reactivarlo choca con otro activo (OVERRIDE_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateBody>,
) -> Result<ApiResponse<OverrideDto>, ApiError> {
    auth.require(WRITERS)?;
    let (x, active) = body.validate().map_err(validation_error)?;
    let row = multipliers::update_override(state.pools.primary(), &auth.0, id, x, active).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/multiplier-overrides/{id}",
    tag = "multiplier_overrides",
    params(("id" = Uuid, Path, description = "The override")),
    request_body = Option<DeleteBody>,
    responses(
        (status = 200, description = "El override dado de baja", body = SuccessEnvelope),
        (status = 400, description = "Motivo inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Rol no permitido o destino fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Override inexistente o fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<DeleteBody>,
) -> Result<ApiResponse<OverrideDto>, ApiError> {
    auth.require(WRITERS)?;
    let reason = body.and_then(|b| text(b.deleted_reason.or(b.reason)));
    let mut c = Checks::new();
    c.opt_text("deletedReason", reason.as_deref(), 1, 200);
    finish(c).map_err(validation_error)?;
    let row = multipliers::delete_override(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/multiplier-overrides/{id}/restore",
    tag = "multiplier_overrides",
    params(("id" = Uuid, Path, description = "The override")),
    responses(
        (status = 200, description = "El override restaurado", body = SuccessEnvelope),
        (status = 400, description = "Identificador inválido", body = ErrorBody),
        (status = 403, description = "Rol no permitido o destino fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Override inexistente o fuera de alcance", body = ErrorBody),
        (status = 409, description = "Choca con otro override activo (OVERRIDE_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<OverrideDto>, ApiError> {
    auth.require(WRITERS)?;
    let row = multipliers::restore_override(state.pools.primary(), &auth.0, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/multiplier-overrides/{id}",
    tag = "multiplier_overrides",
    params(("id" = Uuid, Path, description = "The override")),
    responses(
        (status = 200, description = "El override", body = SuccessEnvelope),
        (status = 400, description = "Identificador inválido", body = ErrorBody),
        (status = 404, description = "Override inexistente o fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn one(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<OverrideDto>, ApiError> {
    let row = multipliers::get_override(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/multiplier-overrides",
    tag = "multiplier_overrides",
    params(ListQuery),
    responses(
        (status = 200, description = "Una página de overrides visibles", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Filtro fuera de alcance (FORBIDDEN)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<OverrideDto>>, ApiError> {
    let page = Page::new(q.page, q.page_size, 10, 100)?;
    let scope = match q.scope.as_deref() {
        None => None,
        Some(s) => Some(OverrideScope::parse(s).ok_or_else(|| {
            query_error("scope", "invalid_enum_value", "debe ser USER o VENTANA")
        })?),
    };
    let multiplier_type = match q.multiplier_type.as_deref() {
        None => None,
        Some(s) => Some(BetType::parse(s).ok_or_else(|| {
            query_error(
                "multiplierType",
                "invalid_enum_value",
                "debe ser NUMERO o REVENTADO",
            )
        })?),
    };
    let params = OverrideListParams {
        scope,
        scope_id: q.scope_id,
        loteria_id: q.loteria_id,
        multiplier_type,
        // The reference lists live, active overrides unless asked otherwise.
        is_active: Some(q.is_active.unwrap_or(true)),
    };
    let (rows, total) = multipliers::list_overrides(
        state.pools.primary(),
        &actor,
        params,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(
        ApiResponse::ok(rows.into_iter().map(OverrideDto::from).collect())
            .with_meta(page.meta(total)),
    )
}
