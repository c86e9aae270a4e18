//! `/sorteos`: create, update, soft delete and restore, the manual state transitions (`open`,
//! `close`, `force-open`, `activate-and-open`, `set-active`, `reset-to-scheduled`) — all ADMIN
//! and BANCA — and list and read (every role, scoped). Also the sorteo wire shape and the
//! business-time-zone rendering of instants that the lotería routes share.
//!
//! `scheduledAt` is accepted as RFC 3339 (with `Z` or an offset), as a local date-time without
//! offset (read in `BUSINESS_TIMEZONE`), or as epoch milliseconds; it is answered as the local
//! time of the business zone *with* its offset (`2026-03-02T12:55:00.000-06:00`), which any ISO
//! parser reads as the exact instant and a Costa Rica device shows as the existing system did.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::sorteos::{SorteoStatus, SorteoView};
use crate::domain::roles::Role;
use crate::domain::rules_json;
use crate::domain::schedule::{self, DateToken};
use crate::http::auth::{forbidden, Auth};
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{de, AppJson, AppPath, AppQuery, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{
    finish, nullable, query_error, reason, validation_error, ReasonBody,
};
use crate::http::validate::Checks;
use crate::services::evaluation::{self, EvaluateInput, EvaluationError, RevertInput};
use crate::services::sorteos::{self, Action, NewSorteo, SorteoChanges, SorteoError, SorteoQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/sorteos", post(create).get(list))
        .route(
            "/api/v1/sorteos/{id}",
            get(one).put(update).patch(update).delete(remove),
        )
        .route("/api/v1/sorteos/{id}/restore", patch(restore))
        .route("/api/v1/sorteos/{id}/open", action_route(Action::Open))
        .route("/api/v1/sorteos/{id}/close", action_route(Action::Close))
        .route(
            "/api/v1/sorteos/{id}/force-open",
            action_route(Action::ForceOpen),
        )
        .route(
            "/api/v1/sorteos/{id}/activate-and-open",
            action_route(Action::ActivateAndOpen),
        )
        .route("/api/v1/sorteos/{id}/set-active", patch(set_active))
        .route(
            "/api/v1/sorteos/{id}/reset-to-scheduled",
            action_route(Action::ResetToScheduled),
        )
        .route("/api/v1/sorteos/{id}/evaluate", patch(evaluate))
        .route(
            "/api/v1/sorteos/{id}/revert-evaluation",
            patch(revert_evaluation),
        )
}

/// `PATCH /sorteos/:id/<action>` for the transitions that take no body.
fn action_route(action: Action) -> axum::routing::MethodRouter<AppState> {
    match action {
        Action::Open => patch(open),
        Action::Close => patch(close),
        Action::ForceOpen => patch(force_open),
        Action::ActivateAndOpen => patch(activate_and_open),
        Action::ResetToScheduled => patch(reset_to_scheduled),
        other => patch(
            move |State(state): State<AppState>, auth: Auth, AppPath(id): AppPath<Uuid>| async move {
                transition(&state, &auth, id, other, None).await
            },
        ),
    }
}

/// SCHEDULED → OPEN (the sorteo must be active).
#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/open",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    responses(
        (status = 200, description = "The sorteo, OPEN", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn open(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    transition(&state, &auth, id, Action::Open, None).await
}

/// OPEN → CLOSED.
#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/close",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    responses(
        (status = 200, description = "The sorteo, CLOSED", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn close(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    transition(&state, &auth, id, Action::Close, None).await
}

/// Opens a sorteo whatever its schedule says.
#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/force-open",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    responses(
        (status = 200, description = "The sorteo, OPEN", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn force_open(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    transition(&state, &auth, id, Action::ForceOpen, None).await
}

/// Activates an inactive sorteo and opens it.
#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/activate-and-open",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    responses(
        (status = 200, description = "The sorteo, active and OPEN", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn activate_and_open(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    transition(&state, &auth, id, Action::ActivateAndOpen, None).await
}

/// Back to SCHEDULED (not once it has a result).
#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/reset-to-scheduled",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    responses(
        (status = 200, description = "The sorteo, SCHEDULED", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn reset_to_scheduled(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    transition(&state, &auth, id, Action::ResetToScheduled, None).await
}

impl From<SorteoError> for ApiError {
    fn from(e: SorteoError) -> Self {
        match e {
            SorteoError::NotFound => ApiError::not_found(),
            SorteoError::Forbidden(why) => {
                tracing::debug!(reason = why, "sorteo action forbidden");
                forbidden()
            }
            SorteoError::InvalidState {
                status,
                verb,
                deleted,
            } => {
                let status = status.as_str();
                let message = if deleted {
                    format!(
                        "No se puede {verb} el sorteo: está eliminado (estado {status}); restáurelo primero"
                    )
                } else {
                    format!("No se puede {verb} un sorteo en estado {status}")
                };
                ApiError::new(StatusCode::CONFLICT, "INVALID_SORTEO_STATE", message).with_details(
                    vec![ErrorDetail {
                        field: "status".into(),
                        code: "invalid_state".into(),
                        issue: format!("estado actual: {status}"),
                    }],
                )
            }
            SorteoError::Inactive => ApiError::new(
                StatusCode::CONFLICT,
                "SORTEO_INACTIVE",
                "El sorteo está inactivo: actívelo antes de abrirlo",
            ),
            SorteoError::HasResult => ApiError::new(
                StatusCode::CONFLICT,
                "SORTEO_HAS_RESULT",
                "El sorteo ya tiene resultado (número ganador): no se puede reabrir ni reprogramar",
            ),
            SorteoError::LoteriaNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Lotería no encontrada")
                    .with_details(vec![ErrorDetail {
                        field: "loteriaId".into(),
                        code: "not_found".into(),
                        issue: "lotería no encontrada".into(),
                    }])
            }
            SorteoError::LoteriaInactive => ApiError::new(
                StatusCode::CONFLICT,
                "LOTERIA_INACTIVE",
                "La lotería está inactiva o eliminada",
            ),
            SorteoError::Exists => ApiError::new(
                StatusCode::CONFLICT,
                "SORTEO_EXISTS",
                "Ya existe un sorteo de esta lotería a esa hora",
            )
            .with_details(vec![ErrorDetail {
                field: "scheduledAt".into(),
                code: "already_exists".into(),
                issue: "ya existe un sorteo de esta lotería a esa hora".into(),
            }]),
            SorteoError::Invalid(details) => validation_error(details),
            SorteoError::Database(e) => ApiError::from(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire shapes.

pub(crate) use crate::domain::schedule::local_iso;

/// `{id, name}` of a lotería.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoteriaBrief {
    id: Uuid,
    name: String,
}

/// `{id, name, valueX}` of the extra (REVENTADO) multiplier of an evaluated sorteo.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiplierBrief {
    id: Uuid,
    name: String,
    value_x: Decimal,
}

/// A sorteo as the client reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SorteoDto {
    id: Uuid,
    loteria_id: Uuid,
    banca_id: Option<Uuid>,
    name: String,
    scheduled_at: String,
    status: SorteoStatus,
    is_active: bool,
    digits: i16,
    winning_number: Option<String>,
    extra_multiplier_id: Option<Uuid>,
    extra_multiplier_x: Option<Decimal>,
    extra_outcome_code: Option<String>,
    has_winner: bool,
    deleted_at: Option<DateTime<Utc>>,
    deleted_reason: Option<String>,
    deleted_by_cascade: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    loteria: LoteriaBrief,
    extra_multiplier: Option<MultiplierBrief>,
    /// `loteria.rulesJson.reventadoConfig.enabled == true` (absent means disabled).
    reventado_enabled: bool,
    /// `ticketCount > 0`.
    has_sales: bool,
    /// The live tickets (neither CANCELLED nor EXCLUDED, not deleted) the caller may see: a
    /// VENDEDOR its own, a VENTANA its ventana's, BANCA and ADMIN the banca(s) in view.
    ticket_count: i64,
    has_exclusions: bool,
}

impl SorteoDto {
    pub fn new(v: SorteoView, tz: Tz) -> SorteoDto {
        let r = v.row;
        let extra_multiplier = match (r.extra_multiplier_id, v.extra_multiplier_name) {
            (Some(id), Some(name)) => Some(MultiplierBrief {
                id,
                name,
                value_x: v.extra_multiplier_value_x.unwrap_or_default(),
            }),
            _ => None,
        };
        SorteoDto {
            id: r.id,
            loteria_id: r.loteria_id,
            banca_id: r.banca_id,
            name: r.name,
            scheduled_at: local_iso(r.scheduled_at, tz),
            status: r.status,
            is_active: r.is_active,
            digits: r.digits,
            winning_number: r.winning_number,
            extra_multiplier_id: r.extra_multiplier_id,
            extra_multiplier_x: r.extra_multiplier_x,
            extra_outcome_code: r.extra_outcome_code,
            has_winner: r.has_winner,
            deleted_at: r.deleted_at,
            deleted_reason: r.deleted_reason,
            deleted_by_cascade: r.deleted_by_cascade,
            created_at: r.created_at,
            updated_at: r.updated_at,
            loteria: LoteriaBrief {
                id: r.loteria_id,
                name: v.loteria_name,
            },
            extra_multiplier,
            reventado_enabled: rules_json::reventado_enabled(&v.loteria_rules),
            has_sales: v.ticket_count > 0,
            ticket_count: v.ticket_count,
            has_exclusions: v.has_exclusions,
        }
    }
}

/// Reads `scheduledAt`: an ISO string (with or without offset) or epoch milliseconds.
pub(crate) fn instant(c: &mut Checks, field: &str, v: &Value, tz: Tz) -> Option<DateTime<Utc>> {
    let got = match v {
        Value::String(s) => schedule::parse_instant(s, tz).ok(),
        Value::Number(n) => n
            .as_i64()
            .and_then(|ms| schedule::from_epoch_millis(ms).ok()),
        _ => None,
    };
    if got.is_none() {
        c.fail(
            field,
            "invalid_date",
            "debe ser una fecha y hora ISO 8601 (con o sin zona horaria) o milisegundos",
        );
    }
    got
}

/// `name`: trimmed, 1–100 characters.
fn sorteo_name(c: &mut Checks, v: Option<String>) -> Option<String> {
    let v = v.map(|s| s.trim().to_string());
    c.opt_text("name", v.as_deref(), 1, 100);
    v
}

/// `digits`: 2 or 3.
fn digits(c: &mut Checks, v: Option<i64>) -> Option<u8> {
    match v {
        None => None,
        Some(d @ (2 | 3)) => Some(d as u8),
        Some(_) => {
            c.fail("digits", "out_of_range", "debe ser 2 o 3");
            None
        }
    }
}

/// `POST /sorteos`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = sorteos::CreateBody)]
struct CreateBody {
    loteria_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = DateTime)]
    scheduled_at: Option<Value>,
    name: Option<String>,
    digits: Option<i64>,
    is_active: Option<bool>,
}

impl CreateBody {
    fn validate(self, tz: Tz) -> Result<NewSorteo, Vec<ErrorDetail>> {
        let mut c = Checks::new();
        if self.loteria_id.is_none() {
            c.fail("loteriaId", "required", "es obligatorio");
        }
        let at = match &self.scheduled_at {
            None | Some(Value::Null) => {
                c.fail("scheduledAt", "required", "es obligatorio");
                None
            }
            Some(v) => instant(&mut c, "scheduledAt", v, tz),
        };
        let name = sorteo_name(&mut c, self.name);
        let digits = digits(&mut c, self.digits);
        finish(c)?;
        match (self.loteria_id, at) {
            (Some(loteria_id), Some(scheduled_at)) => Ok(NewSorteo {
                loteria_id,
                scheduled_at,
                name,
                digits,
                is_active: self.is_active,
            }),
            _ => Err(Vec::new()),
        }
    }
}

/// `PUT|PATCH /sorteos/:id`: only these fields (domain-money §1.3).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = sorteos::UpdateBody)]
struct UpdateBody {
    loteria_id: Option<Uuid>,
    name: Option<String>,
    digits: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    scheduled_at: Option<Option<Value>>,
    is_active: Option<bool>,
}

impl UpdateBody {
    fn validate(self, tz: Tz) -> Result<SorteoChanges, Vec<ErrorDetail>> {
        let mut c = Checks::new();
        let scheduled_at = match &self.scheduled_at {
            None => None,
            Some(None) => {
                c.fail("scheduledAt", "invalid_date", "no puede ser null");
                None
            }
            Some(Some(v)) => instant(&mut c, "scheduledAt", v, tz),
        };
        let name = sorteo_name(&mut c, self.name);
        let digits = digits(&mut c, self.digits);
        finish(c)?;
        Ok(SorteoChanges {
            loteria_id: self.loteria_id,
            name,
            scheduled_at,
            digits,
            is_active: self.is_active,
        })
    }
}

/// `PATCH /sorteos/:id/set-active`: `{isActive}`; without it the flag is toggled.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = sorteos::SetActiveBody)]
struct SetActiveBody {
    is_active: Option<bool>,
}

/// `GET /sorteos` (strict, domain-money §1.9).
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = sorteo_status)]
    status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::date_token)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    to_date: Option<String>,
    /// `hour` or `loteria-hour`: groups of draws by local time of day (and lotería).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = group_by)]
    group_by: Option<String>,
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

/// At most this many draws are grouped by one `groupBy` request.
const GROUP_SCAN_LIMIT: i64 = 5000;

/// One group of `GET /sorteos?groupBy=…`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SorteoGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    loteria_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    loteria_name: Option<String>,
    /// `1:55 PM`.
    hour: String,
    /// `13:55`.
    hour24: String,
    /// Newest first.
    sorteo_ids: Vec<Uuid>,
    count: usize,
    most_recent_sorteo_id: Uuid,
    most_recent_date: String,
}

/// Groups draws (already newest first) by local `HH:MM`, and by lotería when `by_loteria`.
fn group_sorteos(rows: &[SorteoView], by_loteria: bool, tz: Tz) -> Vec<SorteoGroup> {
    let mut groups: Vec<SorteoGroup> = Vec::new();
    for v in rows {
        let local = v.row.scheduled_at.with_timezone(&tz);
        let hour24 = local.format("%H:%M").to_string();
        let key_loteria = by_loteria.then_some(v.row.loteria_id);
        match groups
            .iter_mut()
            .find(|g| g.hour24 == hour24 && g.loteria_id == key_loteria)
        {
            Some(g) => {
                g.sorteo_ids.push(v.row.id);
                g.count += 1;
            }
            None => groups.push(SorteoGroup {
                loteria_id: key_loteria,
                loteria_name: by_loteria.then(|| v.loteria_name.clone()),
                hour: local.format("%-I:%M %p").to_string(),
                hour24,
                sorteo_ids: vec![v.row.id],
                count: 1,
                most_recent_sorteo_id: v.row.id,
                most_recent_date: local.to_rfc3339(),
            }),
        }
    }
    groups
}

fn sorteo_status() -> utoipa::openapi::Object {
    crate::http::openapi::params::text_enum(&["SCHEDULED", "OPEN", "EVALUATED", "CLOSED"])
}

fn group_by() -> utoipa::openapi::Object {
    crate::http::openapi::params::text_enum(&["hour", "loteria-hour"])
}

/// `YYYY-MM-DD` of a query key.
pub(crate) fn query_date(field: &str, v: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    v.map(|s| {
        crate::domain::schedule::parse_date(s)
            .map_err(|_| query_error(field, "invalid_date", "debe ser una fecha YYYY-MM-DD"))
    })
    .transpose()
}

fn status_of(v: &str) -> Result<SorteoStatus, ApiError> {
    SorteoStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == v)
        .ok_or_else(|| {
            query_error(
                "status",
                "invalid_enum",
                "debe ser SCHEDULED, OPEN, EVALUATED o CLOSED",
            )
        })
}

impl ListQuery {
    fn filters(&self, tz: Tz) -> Result<SorteoQuery, ApiError> {
        let status = self.status.as_deref().map(status_of).transpose()?;
        if let Some(s) = &self.search {
            if s.chars().count() > 100 {
                return Err(query_error(
                    "search",
                    "too_big",
                    "escribe como máximo 100 caracteres",
                ));
            }
        }
        let token = self
            .date
            .as_deref()
            .map(|d| {
                serde_json::from_value::<DateToken>(Value::String(d.to_string())).map_err(|_| {
                    query_error(
                        "date",
                        "invalid_enum",
                        "debe ser today, yesterday, week, month, year o range",
                    )
                })
            })
            .transpose()?;
        let from = query_date("fromDate", self.from_date.as_deref())?;
        let to = query_date("toDate", self.to_date.as_deref())?;
        let today = schedule::local_date(Utc::now(), tz);
        let (from, to) = match schedule::resolve_dates(token, from, to, today)
            .map_err(|e| query_error(e.field, "invalid_range", e.issue))?
        {
            Some((f, t)) => schedule::day_range_instants(f, t, tz),
            None => (None, None),
        };
        Ok(SorteoQuery {
            loteria_id: self.loteria_id,
            status,
            search: self.search.clone(),
            is_active: self.is_active,
            from,
            to,
            without_ticket_counts: false,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Handlers.

const WRITERS: &[Role] = &[Role::Admin, Role::Banca];

#[utoipa::path(
    post,
    path = "/api/v1/sorteos",
    tag = "sorteos",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The sorteo created", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "SORTEO_EXISTS, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    auth.require(WRITERS)?;
    let tz = state.config.business_timezone;
    let input = body.validate(tz).map_err(validation_error)?;
    let v = sorteos::create(state.pools.primary(), &auth.0, input, tz).await?;
    Ok(ApiResponse::created(SorteoDto::new(v, tz)))
}

#[utoipa::path(
    method(put, patch),
    path = "/api/v1/sorteos/{id}",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "The sorteo updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "SORTEO_EXISTS, INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateBody>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    auth.require(WRITERS)?;
    let tz = state.config.business_timezone;
    let changes = body.validate(tz).map_err(validation_error)?;
    let v = sorteos::update(state.pools.primary(), &auth.0, id, changes).await?;
    Ok(ApiResponse::ok(SorteoDto::new(v, tz)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/sorteos/{id}",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The sorteo, soft-deleted", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    auth.require(WRITERS)?;
    let reason = reason(body).map_err(validation_error)?;
    let v = sorteos::delete(state.pools.primary(), &auth.0, id, reason).await?;
    state.statements_wake.notify_one();
    Ok(ApiResponse::ok(SorteoDto::new(
        v,
        state.config.business_timezone,
    )))
}

#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/restore",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`"),
    responses(
        (status = 200, description = "The sorteo, restored", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    auth.require(WRITERS)?;
    let reason = reason(body).map_err(validation_error)?;
    let v = sorteos::restore(state.pools.primary(), &auth.0, id, reason).await?;
    state.statements_wake.notify_one();
    Ok(ApiResponse::ok(SorteoDto::new(
        v,
        state.config.business_timezone,
    )))
}

/// The transitions without a body of their own (the client sends `{}`, which is ignored).
async fn transition(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    action: Action,
    set_active: Option<bool>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    auth.require(WRITERS)?;
    let v = sorteos::apply(state.pools.primary(), &auth.0, id, action, set_active).await?;
    Ok(ApiResponse::ok(SorteoDto::new(
        v,
        state.config.business_timezone,
    )))
}

#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/set-active",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    request_body(content = Option<SetActiveBody>, description = "Optional `{isActive}`; without it the flag toggles"),
    responses(
        (status = 200, description = "The sorteo", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn set_active(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<SetActiveBody>,
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    let value = body.and_then(|b| b.is_active);
    transition(&state, &auth, id, Action::SetActive, value).await
}

#[utoipa::path(
    get,
    path = "/api/v1/sorteos",
    tag = "sorteos",
    params(ListQuery),
    responses(
        (status = 200, description = "Sorteos (or groups with `groupBy`); `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let tz = state.config.business_timezone;
    let page = Page::new(q.page, q.page_size, 10, 100)?;
    let filters = q.filters(tz)?;
    if let Some(group_by) = q.group_by.as_deref() {
        let by_loteria = match group_by {
            "hour" => false,
            "loteria-hour" => true,
            _ => {
                return Err(query_error(
                    "groupBy",
                    "invalid_enum",
                    "debe ser hour o loteria-hour",
                ))
            }
        };
        let filters = SorteoQuery {
            without_ticket_counts: true,
            ..filters
        };
        let (rows, _) =
            sorteos::list(state.pools.primary(), &actor, filters, GROUP_SCAN_LIMIT, 0).await?;
        let groups = group_sorteos(&rows, by_loteria, tz);
        let total = groups.len();
        return Ok(
            ApiResponse::ok(serde_json::to_value(groups).unwrap_or_default()).with_meta(
                serde_json::json!({ "grouped": true, "groupBy": group_by, "total": total }),
            ),
        );
    }
    let (rows, total) = sorteos::list(
        state.pools.primary(),
        &actor,
        filters,
        page.limit(),
        page.offset(),
    )
    .await?;
    let dtos: Vec<SorteoDto> = rows.into_iter().map(|v| SorteoDto::new(v, tz)).collect();
    Ok(ApiResponse::ok(serde_json::to_value(dtos).unwrap_or_default()).with_meta(page.meta(total)))
}

#[utoipa::path(
    get,
    path = "/api/v1/sorteos/{id}",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    responses(
        (status = 200, description = "The sorteo", body = SuccessEnvelope),
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
) -> Result<ApiResponse<SorteoDto>, ApiError> {
    let v = sorteos::get(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(SorteoDto::new(
        v,
        state.config.business_timezone,
    )))
}

// ---------------------------------------------------------------------------------------------
// Result: evaluate and revert (domain-money §1.5–1.6, decision 9).

impl From<EvaluationError> for ApiError {
    fn from(e: EvaluationError) -> Self {
        match e {
            EvaluationError::Sorteo(e) => ApiError::from(e),
            EvaluationError::WinningNumber { digits } => validation_error(vec![ErrorDetail {
                field: "winningNumber".into(),
                code: "invalid_format".into(),
                issue: format!("debe tener exactamente {digits} dígitos (0-9)"),
            }]),
            EvaluationError::ExtraMultiplier(code, issue) => {
                ApiError::bad_request(code, format!("Multiplicador extra inválido: {issue}"))
                    .with_details(vec![ErrorDetail {
                        field: "extraMultiplierId".into(),
                        code: "invalid_value".into(),
                        issue: issue.into(),
                    }])
            }
            EvaluationError::PrizesAlreadyPaid { count, amount } => ApiError::new(
                StatusCode::CONFLICT,
                "PRIZES_ALREADY_PAID",
                "El sorteo tiene premios pagados: no se puede revertir la evaluación \
                 (un ADMIN puede forzarla con force: true, que reversa los pagos)",
            )
            .with_details(vec![ErrorDetail {
                field: "payments".into(),
                code: "already_paid".into(),
                issue: format!("{count} pago(s) vigentes por {amount}"),
            }]),
        }
    }
}

/// `PATCH /sorteos/:id/evaluate`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = sorteos::EvaluateBody)]
struct EvaluateBody {
    #[schema(pattern = "^[0-9]{1,3}$")]
    winning_number: Option<String>,
    extra_multiplier_id: Option<Uuid>,
    extra_outcome_code: Option<String>,
}

impl EvaluateBody {
    fn validate(self) -> Result<EvaluateInput, Vec<ErrorDetail>> {
        let mut c = Checks::new();
        match self.winning_number.as_deref() {
            None | Some("") => c.fail("winningNumber", "required", "es obligatorio"),
            Some(w) if !w.bytes().all(|b| b.is_ascii_digit()) => c.fail(
                "winningNumber",
                "invalid_format",
                "debe contener solo dígitos (0-9)",
            ),
            Some(_) => {}
        }
        // Without an extra multiplier the outcome code is ignored (§1.5 step 3).
        let code = self
            .extra_multiplier_id
            .and(self.extra_outcome_code)
            .map(|s| s.trim().to_string());
        c.opt_text("extraOutcomeCode", code.as_deref(), 1, 50);
        finish(c)?;
        Ok(EvaluateInput {
            winning_number: self.winning_number.unwrap_or_default(),
            extra_multiplier_id: self.extra_multiplier_id,
            extra_outcome_code: code,
        })
    }
}

/// `PATCH /sorteos/:id/revert-evaluation`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = sorteos::RevertBody)]
struct RevertBody {
    reason: Option<String>,
    force: Option<bool>,
}

/// A sorteo after evaluate / revert, with its winning tickets.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EvaluationDto {
    #[serde(flatten)]
    sorteo: SorteoDto,
    winners_count: i64,
}

#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/evaluate",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    request_body = EvaluateBody,
    responses(
        (status = 200, description = "The sorteo, EVALUATED, with `winnersCount`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn evaluate(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<EvaluateBody>,
) -> Result<ApiResponse<EvaluationDto>, ApiError> {
    auth.require(WRITERS)?;
    let input = body.validate().map_err(validation_error)?;
    let out = evaluation::evaluate(state.pools.primary(), &auth.0, id, input).await?;
    state.statements_wake.notify_one();
    Ok(ApiResponse::ok(EvaluationDto {
        sorteo: SorteoDto::new(out.view, state.config.business_timezone),
        winners_count: out.winners_count,
    }))
}

#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/{id}/revert-evaluation",
    tag = "sorteos",
    params(("id" = Uuid, Path, description = "Sorteo id")),
    request_body(content = Option<RevertBody>, description = "Optional `{reason, force}`"),
    responses(
        (status = 200, description = "The sorteo back to its state before the result, with `winnersCount`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (sorteo or lotería)", body = ErrorBody),
        (status = 409, description = "PRIZES_ALREADY_PAID, INVALID_SORTEO_STATE, SORTEO_INACTIVE, SORTEO_HAS_RESULT, LOTERIA_INACTIVE", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn revert_evaluation(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<RevertBody>,
) -> Result<ApiResponse<EvaluationDto>, ApiError> {
    auth.require(WRITERS)?;
    let (reason, force) = match body {
        None => (None, false),
        Some(b) => (
            b.reason
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty()),
            b.force.unwrap_or(false),
        ),
    };
    let mut c = Checks::new();
    c.opt_text("reason", reason.as_deref(), 3, 200);
    finish(c).map_err(validation_error)?;
    let out = evaluation::revert(
        state.pools.primary(),
        &auth.0,
        id,
        RevertInput { reason, force },
    )
    .await?;
    state.statements_wake.notify_one();
    Ok(ApiResponse::ok(EvaluationDto {
        sorteo: SorteoDto::new(out.view, state.config.business_timezone),
        winners_count: out.winners_count,
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    create,
    update,
    remove,
    restore,
    open,
    close,
    force_open,
    activate_and_open,
    set_active,
    reset_to_scheduled,
    evaluate,
    revert_evaluation,
    list,
    one
))]
pub struct ApiDoc;
