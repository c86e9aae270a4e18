//! `/loterias`: create, update, soft delete and restore (ADMIN for any banca or a global
//! template, BANCA for its active banca), list and read (every role, scoped), the schedule
//! preview (`preview_schedule`) and the sorteo seed (`seed_sorteos`, ADMIN and BANCA).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::loterias::LoteriaRow;
use crate::domain::roles::Role;
use crate::domain::schedule;
use crate::http::auth::{forbidden, Auth};
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{de, AppJson, AppPath, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{
    finish, nullable, query_error, reason, validation_error, ReasonBody,
};
use crate::http::routes::sorteos::{instant, local_iso};
use crate::http::validate::Checks;
use crate::services::loterias::{self, LoteriaChanges, LoteriaError, NewLoteria, ScheduleWindow};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/loterias", post(create).get(list))
        .route(
            "/api/v1/loterias/{id}",
            get(one).put(update).patch(update).delete(remove),
        )
        .route("/api/v1/loterias/{id}/restore", patch(restore))
        .route("/api/v1/loterias/{id}/preview_schedule", get(preview))
        .route("/api/v1/loterias/{id}/seed_sorteos", post(seed))
}

impl From<LoteriaError> for ApiError {
    fn from(e: LoteriaError) -> Self {
        match e {
            LoteriaError::NotFound => ApiError::not_found(),
            LoteriaError::BancaNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Banca no encontrada")
                    .with_details(vec![ErrorDetail {
                        field: "bancaId".into(),
                        code: "not_found".into(),
                        issue: "banca no encontrada".into(),
                    }])
            }
            LoteriaError::BancaRequired => validation_error(vec![ErrorDetail {
                field: "bancaId".into(),
                code: "required".into(),
                issue: "seleccione una banca activa".into(),
            }]),
            LoteriaError::Forbidden(why) => {
                tracing::debug!(reason = why, "loteria action forbidden");
                forbidden()
            }
            LoteriaError::Exists => ApiError::new(
                StatusCode::CONFLICT,
                "LOTERIA_EXISTS",
                "Ya existe una lotería con ese nombre",
            )
            .with_details(vec![ErrorDetail {
                field: "name".into(),
                code: "already_exists".into(),
                issue: "ya existe una lotería con ese nombre".into(),
            }]),
            LoteriaError::Inactive => ApiError::new(
                StatusCode::CONFLICT,
                "LOTERIA_INACTIVE",
                "La lotería está inactiva o eliminada",
            ),
            LoteriaError::StoredRulesInvalid(details) => ApiError::new(
                StatusCode::CONFLICT,
                "LOTERIA_RULES_INVALID",
                "Las reglas guardadas de la lotería no son válidas; corríjalas primero",
            )
            .with_details(details),
            LoteriaError::Invalid(details) => validation_error(details),
            LoteriaError::Database(e) => ApiError::from(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire shapes.

/// A lotería as the client reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoteriaDto {
    id: Uuid,
    name: String,
    banca_id: Option<Uuid>,
    rules_json: Value,
    is_active: bool,
    deleted_at: Option<DateTime<Utc>>,
    deleted_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<LoteriaRow> for LoteriaDto {
    fn from(l: LoteriaRow) -> Self {
        LoteriaDto {
            id: l.id,
            name: l.name,
            banca_id: l.banca_id,
            rules_json: l.rules_json,
            is_active: l.is_active,
            deleted_at: l.deleted_at,
            deleted_reason: l.deleted_reason,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

/// `name`: trimmed, 2–100 characters.
fn loteria_name(c: &mut Checks, v: Option<String>) -> Option<String> {
    let v = v.map(|s| s.trim().to_string());
    c.opt_text("name", v.as_deref(), 2, 100);
    v
}

/// `POST /loterias`. `bancaId` (optional) chooses the banca: ADMIN any or `null` for a global
/// template; BANCA only its active banca.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = loterias::CreateBody)]
struct CreateBody {
    name: Option<String>,
    rules_json: Option<Value>,
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    banca_id: Option<Option<Uuid>>,
}

impl CreateBody {
    fn validate(self) -> Result<NewLoteria, Vec<ErrorDetail>> {
        let mut c = Checks::new();
        let name = loteria_name(&mut c, self.name);
        if name.is_none() {
            c.fail("name", "required", "es obligatorio");
        }
        finish(c)?;
        Ok(NewLoteria {
            name: name.unwrap_or_default(),
            rules_json: self.rules_json,
            is_active: self.is_active.unwrap_or(true),
            banca_id: self.banca_id,
        })
    }
}

/// `PUT|PATCH /loterias/:id`: any of `name`, `rulesJson` (`null` keeps it), `isActive`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = loterias::UpdateBody)]
struct UpdateBody {
    name: Option<String>,
    rules_json: Option<Value>,
    is_active: Option<bool>,
}

impl UpdateBody {
    fn validate(self) -> Result<LoteriaChanges, Vec<ErrorDetail>> {
        let mut c = Checks::new();
        let name = loteria_name(&mut c, self.name);
        finish(c)?;
        Ok(LoteriaChanges {
            name,
            rules_json: self.rules_json,
            is_active: self.is_active,
        })
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

/// `preview_schedule` and `seed_sorteos` query: `start` (a date or an instant; default today),
/// `days` 1–31 (default 1), `limit` 1–1000, `allowPast`, and for the seed `dryRun`.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ScheduleQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(example = "2025-01-31")]
    start: Option<String>,
    days: Option<u32>,
    limit: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    allow_past: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    dry_run: Option<bool>,
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

impl ScheduleQuery {
    fn window(&self, default_limit: u32, state: &AppState) -> Result<ScheduleWindow, ApiError> {
        let tz = state.config.business_timezone;
        let start = self
            .start
            .as_deref()
            .map(|s| {
                schedule::parse_start_date(s, tz).map_err(|_| {
                    query_error(
                        "start",
                        "invalid_date",
                        "debe ser una fecha YYYY-MM-DD o una fecha y hora ISO 8601",
                    )
                })
            })
            .transpose()?;
        // The existing app and system preview a week by default.
        let days = self.days.unwrap_or(7);
        if !(1..=31).contains(&days) {
            return Err(query_error(
                "days",
                "out_of_range",
                "debe estar entre 1 y 31",
            ));
        }
        let limit = self.limit.unwrap_or(default_limit);
        if !(1..=1000).contains(&limit) {
            return Err(query_error(
                "limit",
                "out_of_range",
                "debe estar entre 1 y 1000",
            ));
        }
        Ok(ScheduleWindow {
            start,
            days,
            limit: limit as usize,
            allow_past: self.allow_past.unwrap_or(false),
            only: None,
        })
    }
}

/// `{name, scheduledAt, loteriaId}` of a planned or seeded draw.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DrawDto {
    name: String,
    scheduled_at: String,
    loteria_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    already_exists: Option<bool>,
}

/// The seed body as documented (the handler reads it by hand from a JSON value).
#[derive(utoipa::ToSchema)]
#[schema(as = loterias::SeedBody, rename_all = "camelCase")]
#[allow(dead_code)]
struct SeedBody {
    /// Instants to limit the seed to: ISO 8601 strings or epoch milliseconds.
    scheduled_dates: Option<Vec<Value>>,
}

/// The seed body: `{scheduledDates?: [ISO | epoch ms]}` limits the seed to those instants;
/// other keys are ignored (as the existing system did).
fn scheduled_dates(
    body: Option<Value>,
    state: &AppState,
) -> Result<Option<Vec<DateTime<Utc>>>, ApiError> {
    let Some(body) = body else { return Ok(None) };
    let Some(obj) = body.as_object() else {
        return Err(validation_error(vec![ErrorDetail {
            field: "(root)".into(),
            code: "invalid_type".into(),
            issue: "el cuerpo debe ser un objeto JSON".into(),
        }]));
    };
    let items = match obj.get("scheduledDates") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(a)) if a.is_empty() => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(validation_error(vec![ErrorDetail {
                field: "scheduledDates".into(),
                code: "invalid_type".into(),
                issue: "debe ser una lista de fechas".into(),
            }]))
        }
    };
    let mut c = Checks::new();
    let tz = state.config.business_timezone;
    let dates: Vec<_> = items
        .iter()
        .enumerate()
        .filter_map(|(i, v)| instant(&mut c, &format!("scheduledDates[{i}]"), v, tz))
        .collect();
    finish(c).map_err(validation_error)?;
    Ok(Some(dates))
}

// ---------------------------------------------------------------------------------------------
// Handlers.

const WRITERS: &[Role] = &[Role::Admin, Role::Banca];

#[utoipa::path(
    post,
    path = "/api/v1/loterias",
    tag = "loterias",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The lotería created", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (lotería or banca)", body = ErrorBody),
        (status = 409, description = "LOTERIA_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<ApiResponse<LoteriaDto>, ApiError> {
    auth.require(WRITERS)?;
    let input = body.validate().map_err(validation_error)?;
    let row = loterias::create(state.pools.primary(), &auth.0, input).await?;
    Ok(ApiResponse::created(row.into()))
}

#[utoipa::path(
    method(put, patch),
    path = "/api/v1/loterias/{id}",
    tag = "loterias",
    params(("id" = Uuid, Path, description = "Lotería id")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "The lotería updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (lotería or banca)", body = ErrorBody),
        (status = 409, description = "LOTERIA_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateBody>,
) -> Result<ApiResponse<LoteriaDto>, ApiError> {
    auth.require(WRITERS)?;
    let changes = body.validate().map_err(validation_error)?;
    let row = loterias::update(state.pools.primary(), &auth.0, id, changes).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    delete,
    path = "/api/v1/loterias/{id}",
    tag = "loterias",
    params(("id" = Uuid, Path, description = "Lotería id")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The lotería, soft-deleted", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (lotería or banca)", body = ErrorBody),
        (status = 409, description = "LOTERIA_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<LoteriaDto>, ApiError> {
    auth.require(WRITERS)?;
    let reason = reason(body).map_err(validation_error)?;
    let row = loterias::delete(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    patch,
    path = "/api/v1/loterias/{id}/restore",
    tag = "loterias",
    params(("id" = Uuid, Path, description = "Lotería id")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The lotería, restored", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (lotería or banca)", body = ErrorBody),
        (status = 409, description = "LOTERIA_EXISTS", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<LoteriaDto>, ApiError> {
    auth.require(WRITERS)?;
    let reason = reason(body).map_err(validation_error)?;
    let row = loterias::restore(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/loterias",
    tag = "loterias",
    params(ListQuery),
    responses(
        (status = 200, description = "Loterías visible to the caller; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<LoteriaDto>>, ApiError> {
    let page = Page::new(q.page, q.page_size, 10, 100)?;
    if q.search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(query_error(
            "search",
            "too_big",
            "escribe como máximo 100 caracteres",
        ));
    }
    let (rows, total) = loterias::list(
        state.pools.primary(),
        &actor,
        q.search,
        q.is_active,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(
        ApiResponse::ok(rows.into_iter().map(LoteriaDto::from).collect())
            .with_meta(page.meta(total)),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/loterias/{id}",
    tag = "loterias",
    params(("id" = Uuid, Path, description = "Lotería id")),
    responses(
        (status = 200, description = "The lotería", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn one(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<LoteriaDto>, ApiError> {
    let row = loterias::get(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[utoipa::path(
    get,
    path = "/api/v1/loterias/{id}/preview_schedule",
    tag = "loterias",
    params(("id" = Uuid, Path, description = "Lotería id"), ScheduleQuery),
    responses(
        (status = 200, description = "Planned draws `[{name, scheduledAt, loteriaId, alreadyExists}]`; `meta: {count, from, to, allowPast}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "LOTERIA_INACTIVE, LOTERIA_RULES_INVALID", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn preview(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<ScheduleQuery>,
) -> Result<ApiResponse<Vec<DrawDto>>, ApiError> {
    if q.dry_run.is_some() {
        return Err(query_error(
            "dryRun",
            "unknown_key",
            "solo se admite en seed_sorteos",
        ));
    }
    let window = q.window(200, &state)?;
    let tz = state.config.business_timezone;
    let p = loterias::preview(state.pools.primary(), &actor, id, &window, Utc::now(), tz).await?;
    let data: Vec<DrawDto> = p
        .draws
        .into_iter()
        .map(|d| DrawDto {
            name: d.name,
            scheduled_at: local_iso(d.scheduled_at, tz),
            loteria_id: id,
            already_exists: Some(d.already_exists),
        })
        .collect();
    let meta = json!({
        "count": data.len(),
        "from": local_iso(p.from, tz),
        "to": local_iso(p.to, tz),
        "allowPast": window.allow_past,
    });
    Ok(ApiResponse::ok(data).with_meta(meta))
}

#[utoipa::path(
    post,
    path = "/api/v1/loterias/{id}/seed_sorteos",
    tag = "loterias",
    params(("id" = Uuid, Path, description = "Lotería id"), ScheduleQuery),
    request_body(content = Option<SeedBody>, description = "Optional `{scheduledDates}`"),
    responses(
        (status = 200, description = "`{dryRun, created, skipped, processed, preview | details}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (lotería or banca)", body = ErrorBody),
        (status = 409, description = "LOTERIA_INACTIVE, LOTERIA_RULES_INVALID", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn seed(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppQuery(q): AppQuery<ScheduleQuery>,
    OptionalJson(body): OptionalJson<Value>,
) -> Result<ApiResponse<Value>, ApiError> {
    auth.require(WRITERS)?;
    let mut window = q.window(1000, &state)?;
    window.only = scheduled_dates(body, &state)?;
    let tz = state.config.business_timezone;
    let report = loterias::seed(
        state.pools.primary(),
        &auth.0,
        id,
        &window,
        q.dry_run.unwrap_or(false),
        Utc::now(),
        tz,
    )
    .await?;
    let draws = |v: Vec<schedule::Occurrence>| -> Vec<DrawDto> {
        v.into_iter()
            .map(|o| DrawDto {
                name: o.name,
                scheduled_at: local_iso(o.scheduled_at, tz),
                loteria_id: id,
                already_exists: None,
            })
            .collect()
    };
    let data = if report.dry_run {
        json!({
            "dryRun": true,
            "created": 0,
            "skipped": 0,
            "processed": report.planned.len(),
            "preview": draws(report.planned),
        })
    } else {
        let (created, skipped) = (report.created.len(), report.skipped.len());
        json!({
            "dryRun": false,
            "created": created,
            "skipped": skipped,
            "processed": created + skipped,
            "details": { "created": draws(report.created), "skipped": draws(report.skipped) },
        })
    };
    Ok(ApiResponse::ok(data))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(create, update, remove, restore, list, one, preview, seed))]
pub struct ApiDoc;
