//! Exclusion lists ("listas excluidas"): `POST /sorteos/:id/listas/exclude` and `/include`
//! (ADMIN, BANCA), `GET /sorteos/:id/listas` (every role of the sorteo's banca, each seeing the
//! entries about itself) and `GET /listas-excluidas` (ADMIN, BANCA, VENTANA). Out of reach
//! answers 404.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::listas::{ExclusionRow, SorteoRef};
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{de, AppJson, AppPath, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::routes::bancas::{query_error, text, validation_error};
use crate::http::routes::ticket_reads::doc;
use crate::http::validate::Checks;
use crate::services::listas::{self, ListFilter, ListaError, ListaTarget};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sorteos/{id}/listas", get(for_sorteo))
        .route("/api/v1/sorteos/{id}/listas/exclude", post(exclude))
        .route("/api/v1/sorteos/{id}/listas/include", post(include))
        .route("/api/v1/listas-excluidas", get(list))
}

/// The OpenAPI description of the exclusion lists.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(for_sorteo, exclude, include, list),
    tags((name = "listas", description = "Exclusion lists (listas excluidas): numbers, vendedores or ventanas kept out of a sorteo"))
)]
pub struct ApiDoc;

impl From<ListaError> for ApiError {
    fn from(e: ListaError) -> Self {
        match e {
            ListaError::NotFound(what) => ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", what),
            ListaError::Forbidden(why) => {
                tracing::debug!(reason = why, "lista action forbidden");
                crate::http::auth::forbidden()
            }
            ListaError::Invalid(details) => validation_error(details),
            ListaError::SorteoState(state) => ApiError::new(
                StatusCode::CONFLICT,
                "INVALID_SORTEO_STATE",
                format!("El sorteo está en estado {state}: sus listas ya no cambian"),
            ),
            ListaError::BancaRequired => validation_error(vec![ErrorDetail {
                field: "bancaId".into(),
                code: "required".into(),
                issue: "seleccione una banca activa para excluir un número de un sorteo global"
                    .into(),
            }]),
            ListaError::Database(e) => ApiError::from(e),
        }
    }
}

/// An exclusion as the existing system lists it, plus `number` and `bancaId`. `totalJugadas` /
/// `totalAmount`: the jugadas it keeps out now (excluded, of tickets not cancelled) and their
/// amount.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExclusionDto {
    id: Uuid,
    sorteo_id: Uuid,
    sorteo_name: String,
    loteria_id: Uuid,
    loteria_name: String,
    banca_id: Option<Uuid>,
    ventana_id: Option<Uuid>,
    ventana_name: Option<String>,
    ventana_code: Option<String>,
    vendedor_id: Option<Uuid>,
    vendedor_name: Option<String>,
    vendedor_code: Option<String>,
    multiplier_id: Option<Uuid>,
    multiplier_name: Option<String>,
    multiplier_value: Option<Decimal>,
    number: Option<String>,
    excluded_at: DateTime<Utc>,
    excluded_by: Uuid,
    excluded_by_name: Option<String>,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    total_jugadas: i64,
    total_amount: Decimal,
}

impl From<ExclusionRow> for ExclusionDto {
    fn from(e: ExclusionRow) -> Self {
        ExclusionDto {
            id: e.id,
            sorteo_id: e.sorteo_id,
            sorteo_name: e.sorteo_name,
            loteria_id: e.loteria_id,
            loteria_name: e.loteria_name,
            banca_id: e.banca_id,
            ventana_id: e.ventana_id,
            ventana_name: e.ventana_name,
            ventana_code: e.ventana_code,
            vendedor_id: e.vendedor_id,
            vendedor_name: e.vendedor_name,
            vendedor_code: e.vendedor_code,
            multiplier_id: e.multiplier_id,
            multiplier_name: e.multiplier_name,
            multiplier_value: e.multiplier_value_x,
            number: e.number,
            excluded_at: e.excluded_at,
            excluded_by: e.excluded_by,
            excluded_by_name: e.excluded_by_name,
            reason: e.reason,
            created_at: e.created_at,
            updated_at: e.updated_at,
            total_jugadas: e.total_jugadas,
            total_amount: e.total_amount,
        }
    }
}

/// Body of exclude and include: at least one of `ventanaId`, `vendedorId`, `number`;
/// `multiplierId` narrows them. `reason` 3–500 characters.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = listas::TargetBody)]
struct TargetBody {
    ventana_id: Option<Uuid>,
    vendedor_id: Option<Uuid>,
    /// Narrows the ventana, vendedor or number to one multiplier.
    multiplier_id: Option<Uuid>,
    /// A bet number (`05`, `123`).
    number: Option<String>,
    /// 3–500 characters (blank: none).
    #[schema(max_length = 500)]
    reason: Option<String>,
}

impl TargetBody {
    fn target(self) -> Result<ListaTarget, ApiError> {
        let reason = text(self.reason);
        let number = self.number.filter(|n| !n.is_empty());
        let mut c = Checks::new();
        c.opt_text("reason", reason.as_deref(), 3, 500);
        if self.ventana_id.is_none() && self.vendedor_id.is_none() && number.is_none() {
            c.fail(
                "ventanaId",
                "required",
                "indique ventanaId, vendedorId o number (multiplierId solo acota uno de ellos)",
            );
        }
        c.finish()?;
        Ok(ListaTarget {
            ventana_id: self.ventana_id,
            vendedor_id: self.vendedor_id,
            multiplier_id: self.multiplier_id,
            number,
            reason,
        })
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/sorteos/{id}/listas/exclude",
    tag = "listas",
    params(("id" = Uuid, Path, description = "The sorteo")),
    request_body = TargetBody,
    responses(
        (status = 201, description = "La exclusión creada", body = SuccessEnvelope),
        (status = 200, description = "La exclusión ya existía (sin cambios)", body = SuccessEnvelope),
        (status = 400, description = "Falta ventanaId, vendedorId o number, motivo inválido, o banca requerida para un sorteo global (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA, destino fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo, ventana, vendedor o multiplicador no encontrados", body = ErrorBody),
        (status = 409, description = "El sorteo ya no admite cambios en sus listas (INVALID_SORTEO_STATE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn exclude(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<TargetBody>,
) -> Result<Response, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let target = body.target()?;
    let (row, created) = listas::exclude(state.pools.primary(), &auth.0, id, target).await?;
    let dto = ExclusionDto::from(row);
    Ok(if created {
        ApiResponse::created(dto).into_response()
    } else {
        ApiResponse::ok(dto).into_response()
    })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IncludedDto {
    success: bool,
    /// Whether an exclusion was removed (including what is not excluded changes nothing).
    removed: bool,
    message: &'static str,
    exclusion: Option<ExclusionDto>,
}

#[utoipa::path(
    post,
    path = "/api/v1/sorteos/{id}/listas/include",
    tag = "listas",
    params(("id" = Uuid, Path, description = "The sorteo")),
    request_body = TargetBody,
    responses(
        (status = 200, description = "{success, removed, message, exclusion}: si se revirtió una exclusión", body = SuccessEnvelope),
        (status = 400, description = "Falta ventanaId, vendedorId o number, o motivo inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA, destino fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo, ventana, vendedor o multiplicador no encontrados", body = ErrorBody),
        (status = 409, description = "El sorteo ya no admite cambios en sus listas (INVALID_SORTEO_STATE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn include(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<TargetBody>,
) -> Result<ApiResponse<IncludedDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let target = body.target()?;
    let removed = listas::include(state.pools.primary(), &auth.0, id, target).await?;
    Ok(ApiResponse::ok(IncludedDto {
        success: true,
        removed: removed.is_some(),
        message: if removed.is_some() {
            "Exclusión revertida"
        } else {
            "No había una exclusión que revertir"
        },
        exclusion: removed.map(ExclusionDto::from),
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoteriaBrief {
    id: Uuid,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SorteoDto {
    id: Uuid,
    name: String,
    status: String,
    scheduled_at: DateTime<Utc>,
    digits: i16,
    banca_id: Option<Uuid>,
    loteria: LoteriaBrief,
}

impl From<SorteoRef> for SorteoDto {
    fn from(s: SorteoRef) -> Self {
        SorteoDto {
            id: s.id,
            name: s.name,
            status: s.status,
            scheduled_at: s.scheduled_at,
            digits: s.digits,
            banca_id: s.banca_id,
            loteria: LoteriaBrief {
                id: s.loteria_id,
                name: s.loteria_name,
            },
        }
    }
}

/// `GET /sorteos/:id/listas`: the sorteo and its exclusion entries. The existing system's
/// per-listero sales summary comes with the sale issue (no sales exist before it).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SorteoListasDto {
    sorteo: SorteoDto,
    exclusions: Vec<ExclusionDto>,
}

#[derive(Serialize)]
struct TotalMeta {
    total: usize,
}

/// Query of `GET /sorteos/:id/listas`; other keys (`includeExcluded`, `mode`) are ignored.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct SorteoListasQuery {
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    multiplier_id: Option<Uuid>,
}

#[utoipa::path(
    get,
    path = "/api/v1/sorteos/{id}/listas",
    tag = "listas",
    params(("id" = Uuid, Path, description = "The sorteo"), SorteoListasQuery),
    responses(
        (status = 200, description = "{sorteo, exclusions}, con meta.total", body = SuccessEnvelope),
        (status = 400, description = "Identificador o filtro inválido", body = ErrorBody),
        (status = 403, description = "Sin permiso (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo inexistente o fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn for_sorteo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<SorteoListasQuery>,
) -> Result<ApiResponse<SorteoListasDto>, ApiError> {
    let (sorteo, rows) = listas::for_sorteo(
        state.pools.primary(),
        &actor,
        id,
        q.vendedor_id,
        q.multiplier_id,
    )
    .await?;
    let total = rows.len();
    Ok(ApiResponse::ok(SorteoListasDto {
        sorteo: sorteo.into(),
        exclusions: rows.into_iter().map(ExclusionDto::from).collect(),
    })
    .with_meta(TotalMeta { total }))
}

/// Query of `GET /listas-excluidas`; unknown keys are ignored (as the existing system did).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    multiplier_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// First day of the sorteos, `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    /// Last day of the sorteos, `YYYY-MM-DD` (not before `fromDate`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
}

fn query_date(field: &str, v: Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    v.map(|s| {
        crate::domain::schedule::parse_date(&s)
            .map_err(|_| query_error(field, "invalid_format", "debe ser una fecha AAAA-MM-DD"))
    })
    .transpose()
}

/// The existing system's shape: `{success, data, total}`; `meta.total` too.
#[derive(Serialize)]
struct ListBody {
    success: bool,
    data: Vec<ExclusionDto>,
    total: usize,
    meta: TotalMeta,
}

/// `GET /listas-excluidas`: `{success, data, total, meta: {total}}` (the existing system's
/// shape, without the envelope helper).
#[utoipa::path(
    get,
    path = "/api/v1/listas-excluidas",
    tag = "listas",
    params(ListQuery),
    responses(
        (status = 200, description = "Las exclusiones visibles: {success, data, total, meta.total}", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o fromDate posterior a toDate (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "VENDEDOR, o filtro fuera de alcance (FORBIDDEN)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<Response, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let from_date = query_date("fromDate", q.from_date)?;
    let to_date = query_date("toDate", q.to_date)?;
    if let (Some(f), Some(t)) = (from_date, to_date) {
        if f > t {
            return Err(query_error(
                "fromDate",
                "invalid_range",
                "no puede ser posterior a toDate",
            ));
        }
    }
    let rows = listas::list(
        state.pools.primary(),
        &auth.0,
        ListFilter {
            sorteo_id: q.sorteo_id,
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            multiplier_id: q.multiplier_id,
            loteria_id: q.loteria_id,
            from_date,
            to_date,
        },
        state.config.business_timezone,
    )
    .await?;
    let total = rows.len();
    Ok(Json(ListBody {
        success: true,
        data: rows.into_iter().map(ExclusionDto::from).collect(),
        total,
        meta: TotalMeta { total },
    })
    .into_response())
}
