//! `/multipliers`: create, update, toggle (`DELETE {isActive}`) and restore (ADMIN; BANCA for
//! loterías of its active banca), list and read (every role, scoped to its banca). Also the
//! vendedor pickers `/users/:id/allowed-multipliers` and `…-batch`, and the error mapping of
//! every multiplier use case (overrides included).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::multipliers::{MultiplierFields, MultiplierRow};
use crate::domain::multipliers::BetType;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{de, AppJson, AppPath, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{
    decimal, finish, nullable, query_error, reason, text, validation_error, ReasonBody,
};
use crate::http::routes::ticket_reads::doc::{self, DistinctMethodIds, OptionalBodies};
use crate::http::validate::Checks;
use crate::services::multipliers::{
    self, Allowed, ListParams, MultiplierChanges, MultiplierError, NewMultiplier,
};

/// `/multipliers` and the `/users/:id/allowed-multipliers*` pickers.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/multipliers", post(create).get(list))
        .route(
            "/api/v1/multipliers/{id}",
            get(one).put(update).patch(update).delete(toggle),
        )
        .route("/api/v1/multipliers/{id}/restore", patch(restore))
        .route("/api/v1/users/{id}/allowed-multipliers", get(allowed))
        .route(
            "/api/v1/users/{id}/allowed-multipliers-batch",
            get(allowed_batch),
        )
}

/// The OpenAPI description of `/multipliers` and the allowed-multiplier pickers.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, list, one, update, toggle, restore, allowed, allowed_batch),
    tags((name = "multipliers", description = "Multipliers of a lotería, and the multipliers a vendedor may sell")),
    modifiers(&OptionalBodies, &DistinctMethodIds)
)]
pub struct ApiDoc;

impl From<MultiplierError> for ApiError {
    fn from(e: MultiplierError) -> Self {
        match e {
            MultiplierError::NotFound => ApiError::not_found(),
            MultiplierError::Forbidden(why) => {
                tracing::debug!(reason = why, "multiplier action forbidden");
                crate::http::auth::forbidden()
            }
            MultiplierError::MultiplierExists => ApiError::new(
                StatusCode::CONFLICT,
                "MULTIPLIER_EXISTS",
                "Ya existe un multiplicador activo con ese nombre en esta lotería",
            )
            .with_details(vec![ErrorDetail {
                field: "name".into(),
                code: "already_exists".into(),
                issue: "ya existe un multiplicador activo con ese nombre en esta lotería".into(),
            }]),
            MultiplierError::OverrideExists => ApiError::new(
                StatusCode::CONFLICT,
                "OVERRIDE_EXISTS",
                "Ya existe un override para ese destino, lotería y tipo de multiplicador",
            ),
            MultiplierError::NotVendedor => {
                ApiError::bad_request("INVALID_USER_ROLE", "El usuario debe tener rol VENDEDOR")
                    .with_details(vec![ErrorDetail {
                        field: "userId".into(),
                        code: "invalid_role".into(),
                        issue: "el usuario debe ser un vendedor".into(),
                    }])
            }
            MultiplierError::Invalid(details) => validation_error(details),
            MultiplierError::Database(e) => ApiError::from(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire shapes.

/// `{id, name}` of the multiplier's lotería.
#[derive(Serialize)]
pub(crate) struct LoteriaBrief {
    pub(crate) id: Uuid,
    pub(crate) name: String,
}

/// A multiplier as the client reads it; `valueX` a JSON number, `appliesToDate` `YYYY-MM-DD`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiplierDto {
    id: Uuid,
    loteria_id: Uuid,
    banca_id: Option<Uuid>,
    name: String,
    value_x: Decimal,
    kind: BetType,
    is_active: bool,
    applies_to_date: Option<NaiveDate>,
    applies_to_sorteo_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    loteria: LoteriaBrief,
}

impl From<MultiplierRow> for MultiplierDto {
    fn from(m: MultiplierRow) -> Self {
        MultiplierDto {
            id: m.id,
            loteria_id: m.loteria_id,
            banca_id: m.banca_id,
            name: m.name,
            value_x: m.value_x.normalize(),
            kind: m.kind,
            is_active: m.is_active,
            applies_to_date: m.applies_to_date,
            applies_to_sorteo_id: m.applies_to_sorteo_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
            loteria: LoteriaBrief {
                id: m.loteria_id,
                name: m.loteria_name,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field checks shared with the override routes.

/// Multipliers (`valueX`, `baseMultiplierX`): more than 0, at most 9999, 2 decimals.
pub(crate) fn check_multiplier_x(c: &mut Checks, field: &str, v: Option<Decimal>) {
    decimal(c, field, v, Decimal::new(1, 2), Decimal::from(9999), 2);
}

/// A bet type as sent: `NUMERO` or `REVENTADO`.
pub(crate) fn bet_type(c: &mut Checks, field: &str, v: Option<&str>) -> Option<BetType> {
    let v = v?;
    let t = BetType::parse(v.trim());
    if t.is_none() {
        c.fail(field, "invalid_enum_value", "debe ser NUMERO o REVENTADO");
    }
    t
}

/// `appliesToDate`: `YYYY-MM-DD`, or an RFC 3339 instant taken as its date in the business
/// time zone.
fn applies_to_date(c: &mut Checks, v: Option<&str>, tz: Tz) -> Option<NaiveDate> {
    let v = v?.trim();
    let date = crate::domain::schedule::parse_date(v).ok().or_else(|| {
        DateTime::parse_from_rfc3339(v)
            .ok()
            .map(|d| d.with_timezone(&tz).date_naive())
    });
    if date.is_none() {
        c.fail(
            "appliesToDate",
            "invalid_format",
            "debe ser una fecha YYYY-MM-DD o ISO 8601",
        );
    }
    date
}

fn name_check(c: &mut Checks, name: Option<&str>) {
    c.opt_text("name", name, 2, 32);
}

// ---------------------------------------------------------------------------------------------
// Bodies and queries.

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = multipliers::CreateBody)]
struct CreateBody {
    #[schema(value_type = Uuid, required = true)]
    loteria_id: Option<Uuid>,
    /// 2–32 characters, unique among the lotería's active multipliers.
    #[schema(value_type = String, required = true, min_length = 2, max_length = 32)]
    name: Option<String>,
    /// 0.01–9999, 2 decimals.
    #[schema(value_type = f64, required = true, minimum = 0.01, maximum = 9999)]
    value_x: Option<Decimal>,
    /// Default `NUMERO`.
    #[schema(value_type = Option<doc::BetType>, inline)]
    kind: Option<String>,
    /// `YYYY-MM-DD`, or an RFC 3339 instant (its business date).
    #[schema(value_type = Option<doc::DateOrDateTime>, inline)]
    applies_to_date: Option<String>,
    applies_to_sorteo_id: Option<Uuid>,
    /// Default true.
    is_active: Option<bool>,
}

impl CreateBody {
    fn validate(self, tz: Tz) -> Result<NewMultiplier, Vec<ErrorDetail>> {
        let name = text(self.name);
        let mut c = Checks::new();
        if self.loteria_id.is_none() {
            c.fail("loteriaId", "required", "es obligatorio");
        }
        match &name {
            Some(n) => name_check(&mut c, Some(n)),
            None => c.fail("name", "required", "es obligatorio"),
        }
        match self.value_x {
            Some(_) => check_multiplier_x(&mut c, "valueX", self.value_x),
            None => c.fail("valueX", "required", "es obligatorio"),
        }
        let kind = bet_type(&mut c, "kind", self.kind.as_deref());
        let date = applies_to_date(&mut c, self.applies_to_date.as_deref(), tz);
        finish(c)?;
        Ok(NewMultiplier {
            loteria_id: self.loteria_id.unwrap_or_default(),
            fields: MultiplierFields {
                name: name.unwrap_or_default(),
                value_x: self.value_x.unwrap_or_default().normalize(),
                kind: kind.unwrap_or(BetType::Numero),
                is_active: self.is_active.unwrap_or(true),
                applies_to_date: date,
                applies_to_sorteo_id: self.applies_to_sorteo_id,
            },
        })
    }
}

/// Partial update; `null` clears `appliesToDate`/`appliesToSorteoId`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = multipliers::UpdateBody)]
struct UpdateBody {
    loteria_id: Option<Uuid>,
    /// 2–32 characters.
    #[schema(min_length = 2, max_length = 32)]
    name: Option<String>,
    /// 0.01–9999, 2 decimals.
    #[schema(minimum = 0.01, maximum = 9999)]
    value_x: Option<Decimal>,
    #[schema(value_type = Option<doc::BetType>, inline)]
    kind: Option<String>,
    /// `YYYY-MM-DD` or an RFC 3339 instant; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<doc::DateOrDateTime>, inline)]
    applies_to_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    applies_to_sorteo_id: Option<Option<Uuid>>,
    is_active: Option<bool>,
}

impl UpdateBody {
    fn validate(self, tz: Tz) -> Result<MultiplierChanges, Vec<ErrorDetail>> {
        let name = self.name.map(|s| s.trim().to_string());
        let mut c = Checks::new();
        name_check(&mut c, name.as_deref());
        check_multiplier_x(&mut c, "valueX", self.value_x);
        let kind = bet_type(&mut c, "kind", self.kind.as_deref());
        let date = self
            .applies_to_date
            .map(|d| applies_to_date(&mut c, d.as_deref(), tz));
        finish(c)?;
        Ok(MultiplierChanges {
            loteria_id: self.loteria_id,
            name,
            value_x: self.value_x.map(|v| v.normalize()),
            kind,
            is_active: self.is_active,
            applies_to_date: date,
            applies_to_sorteo_id: self.applies_to_sorteo_id,
        })
    }
}

/// `DELETE /multipliers/:id {isActive}`: the state to set; no body deactivates.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = multipliers::ToggleBody)]
struct ToggleBody {
    /// The state to set (default false).
    is_active: Option<bool>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListQuery {
    /// Page number (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    page: Option<u32>,
    /// Page size (default 20).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::BetTypeFilter>, inline)]
    kind: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    applies_to_sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    banca_id: Option<Uuid>,
    /// The reference's name for the text filter.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(max_length = 100)]
    q: Option<String>,
    /// Text filter on the name, at most 100 characters.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(max_length = 100)]
    search: Option<String>,
    /// Cache buster, ignored.
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AllowedQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = Uuid)]
    loteria_id: Option<String>,
    /// Default `NUMERO`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::BetTypeFilter>, inline)]
    bet_type: Option<String>,
    /// Cache buster, ignored.
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BatchQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::BetTypeFilter>, inline)]
    bet_type: Option<String>,
    /// Default true.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    is_active: Option<bool>,
    /// Cache buster, ignored.
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

/// A `betType`/`kind` query value, checked.
fn query_bet_type(field: &str, v: Option<&str>) -> Result<Option<BetType>, ApiError> {
    match v {
        None => Ok(None),
        Some(s) => BetType::parse(s)
            .map(Some)
            .ok_or_else(|| query_error(field, "invalid_enum_value", "debe ser NUMERO o REVENTADO")),
    }
}

/// `data` and `meta` of an allowed-multiplier answer; `total_key` names the candidate count.
fn allowed_response(a: Allowed, total_key: &str) -> ApiResponse<Vec<MultiplierDto>> {
    let mut meta = json!({
        "policyExists": a.meta.policy_exists,
        "policyEffective": a.meta.policy_effective,
        "rulesMatched": a.meta.rules_matched,
    });
    meta[total_key] = json!(a.meta.total_multipliers);
    ApiResponse::ok(a.multipliers.into_iter().map(MultiplierDto::from).collect()).with_meta(meta)
}

// ---------------------------------------------------------------------------------------------
// Handlers.

#[utoipa::path(
    post,
    path = "/api/v1/multipliers",
    tag = "multipliers",
    request_body = CreateBody,
    responses(
        (status = 201, description = "El multiplicador creado", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR) o lotería inexistente (INVALID_REFERENCE)", body = ErrorBody),
        (status = 403, description = "Rol no permitido o lotería de otra banca (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Lotería no encontrada", body = ErrorBody),
        (status = 409, description = "Ya existe un multiplicador activo con ese nombre (MULTIPLIER_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<ApiResponse<MultiplierDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let input = body
        .validate(state.config.business_timezone)
        .map_err(validation_error)?;
    let row = multipliers::create(state.pools.primary(), &auth.0, input).await?;
    Ok(ApiResponse::created(row.into()))
}

#[utoipa::path(
    method(put, patch),
    path = "/api/v1/multipliers/{id}",
    tag = "multipliers",
    params(("id" = Uuid, Path, description = "The multiplier")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "El multiplicador actualizado", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Rol no permitido o lotería de otra banca (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Multiplicador inexistente o fuera de alcance", body = ErrorBody),
        (status = 409, description = "Ya existe un multiplicador activo con ese nombre (MULTIPLIER_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateBody>,
) -> Result<ApiResponse<MultiplierDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let changes = body
        .validate(state.config.business_timezone)
        .map_err(validation_error)?;
    let row = multipliers::update(state.pools.primary(), &auth.0, id, changes).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/multipliers/{id}",
    tag = "multipliers",
    params(("id" = Uuid, Path, description = "The multiplier")),
    request_body = Option<ToggleBody>,
    responses(
        (status = 200, description = "El multiplicador con isActive cambiado (sin cuerpo: desactivado)", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo o identificador inválido", body = ErrorBody),
        (status = 403, description = "Rol no permitido o lotería de otra banca (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Multiplicador inexistente o fuera de alcance", body = ErrorBody),
        (status = 409, description = "Reactivarlo choca con otro activo del mismo nombre (MULTIPLIER_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn toggle(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ToggleBody>,
) -> Result<ApiResponse<MultiplierDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let active = body.and_then(|b| b.is_active).unwrap_or(false);
    let row =
        multipliers::set_active(state.pools.primary(), &auth.0, id, active, "toggle", None).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/multipliers/{id}/restore",
    tag = "multipliers",
    params(("id" = Uuid, Path, description = "The multiplier")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`, 3–200 characters"),
    responses(
        (status = 200, description = "El multiplicador reactivado", body = SuccessEnvelope),
        (status = 400, description = "Motivo inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Rol no permitido o lotería de otra banca (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Multiplicador inexistente o fuera de alcance", body = ErrorBody),
        (status = 409, description = "Choca con otro activo del mismo nombre (MULTIPLIER_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<MultiplierDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let reason = reason(body).map_err(validation_error)?;
    let row = multipliers::set_active(state.pools.primary(), &auth.0, id, true, "restore", reason)
        .await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/multipliers",
    tag = "multipliers",
    params(ListQuery),
    responses(
        (status = 200, description = "Una página de multiplicadores de las loterías visibles", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Banca fuera de alcance (FORBIDDEN)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<MultiplierDto>>, ApiError> {
    let page = Page::new(q.page, q.page_size, 20, 100)?;
    let kind = query_bet_type("kind", q.kind.as_deref())?;
    let search = q.search.or(q.q);
    if search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(query_error(
            "search",
            "too_big",
            "escribe como máximo 100 caracteres",
        ));
    }
    let params = ListParams {
        banca_id: q.banca_id,
        loteria_id: q.loteria_id,
        kind,
        is_active: q.is_active,
        applies_to_sorteo_id: q.applies_to_sorteo_id,
        search,
    };
    let (rows, total) = multipliers::list(
        state.pools.primary(),
        &actor,
        params,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(
        ApiResponse::ok(rows.into_iter().map(MultiplierDto::from).collect())
            .with_meta(page.meta(total)),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/multipliers/{id}",
    tag = "multipliers",
    params(("id" = Uuid, Path, description = "The multiplier")),
    responses(
        (status = 200, description = "El multiplicador", body = SuccessEnvelope),
        (status = 400, description = "Identificador inválido", body = ErrorBody),
        (status = 404, description = "Multiplicador inexistente o fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn one(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<MultiplierDto>, ApiError> {
    let row = multipliers::get(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/allowed-multipliers",
    tag = "multipliers",
    params(("id" = Uuid, Path, description = "The vendedor"), AllowedQuery),
    responses(
        (status = 200, description = "Los multiplicadores que el vendedor puede vender en la lotería; meta con la política aplicada", body = SuccessEnvelope),
        (status = 400, description = "Falta loteriaId, valor inválido (VALIDATION_ERROR) o el usuario no es VENDEDOR (INVALID_USER_ROLE)", body = ErrorBody),
        (status = 403, description = "Vendedor fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Vendedor o lotería no encontrados", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn allowed(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(user_id): AppPath<Uuid>,
    AppQuery(q): AppQuery<AllowedQuery>,
) -> Result<ApiResponse<Vec<MultiplierDto>>, ApiError> {
    let loteria_id = match q.loteria_id.as_deref() {
        None => return Err(query_error("loteriaId", "required", "es obligatorio")),
        Some(s) => Uuid::parse_str(s).map_err(|_| {
            query_error(
                "loteriaId",
                "invalid_format",
                "no es un identificador válido",
            )
        })?,
    };
    let bet_type = query_bet_type("betType", q.bet_type.as_deref())?.unwrap_or(BetType::Numero);
    let a = multipliers::allowed_multipliers(
        state.pools.primary(),
        &actor,
        user_id,
        loteria_id,
        bet_type,
    )
    .await?;
    Ok(allowed_response(a, "totalActiveMultipliers"))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/allowed-multipliers-batch",
    tag = "multipliers",
    params(("id" = Uuid, Path, description = "The vendedor"), BatchQuery),
    responses(
        (status = 200, description = "Los multiplicadores que el vendedor puede vender, de todas sus loterías", body = SuccessEnvelope),
        (status = 400, description = "Valor inválido (VALIDATION_ERROR) o el usuario no es VENDEDOR (INVALID_USER_ROLE)", body = ErrorBody),
        (status = 403, description = "Vendedor fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Vendedor no encontrado", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn allowed_batch(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(user_id): AppPath<Uuid>,
    AppQuery(q): AppQuery<BatchQuery>,
) -> Result<ApiResponse<Vec<MultiplierDto>>, ApiError> {
    let bet_type = query_bet_type("betType", q.bet_type.as_deref())?;
    let a = multipliers::allowed_multipliers_batch(
        state.pools.primary(),
        &actor,
        user_id,
        bet_type,
        q.is_active.unwrap_or(true),
    )
    .await?;
    Ok(allowed_response(a, "totalMultipliers"))
}
