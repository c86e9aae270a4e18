//! `/commissions` (domain-money §6.3, §7), every role, scoped as `services::commissions`
//! says; every query is strict (unknown keys are a 400) and reads through the replica when one
//! is configured.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/commissions` | daily rows of the period |
//! | `GET /api/v1/commissions/{date}/breakdown` | per lotería × multiplier, with payouts and net |
//! | `GET /api/v1/commissions/detail` | per lotería × multiplier of `date` |
//! | `GET /api/v1/commissions/tickets` | a page of tickets of one lotería × multiplier |
//! | `GET /api/v1/commissions/export` | CSV or XLSX file (PDF: 400 `EXPORT_FORMAT_UNSUPPORTED`) |

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::schedule;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{de, AppPath, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::bancas::query_error;
use crate::http::routes::sorteos::query_date;
use crate::http::routes::ticket_reads::business_dates;
use crate::services::commissions::{
    self as svc, Dimension, Effective, ExportError, ExportFormat, LoteriaFigures, Requested, Scope,
    TicketCommission,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/commissions", get(list))
        .route("/api/v1/commissions/detail", get(detail))
        .route("/api/v1/commissions/tickets", get(tickets))
        .route("/api/v1/commissions/export", get(export))
        .route("/api/v1/commissions/{date}/breakdown", get(breakdown))
}

// ---------------------------------------------------------------------------------------------
// Query parsing.

fn scope_of(v: Option<&str>) -> Result<Scope, ApiError> {
    match v {
        None => Err(query_error(
            "scope",
            "required",
            "es requerido (mine o all)",
        )),
        Some(s) => Scope::parse(s)
            .ok_or_else(|| query_error("scope", "invalid_enum", "debe ser mine o all")),
    }
}

fn dimension_of(v: Option<&str>) -> Result<Dimension, ApiError> {
    match v {
        None => Err(query_error(
            "dimension",
            "required",
            "es requerido (ventana o vendedor)",
        )),
        Some(s) => Dimension::parse(s)
            .ok_or_else(|| query_error("dimension", "invalid_enum", "debe ser ventana o vendedor")),
    }
}

/// A required `YYYY-MM-DD` day.
fn day_of(field: &str, v: Option<&str>) -> Result<NaiveDate, ApiError> {
    query_date(field, v)?.ok_or_else(|| query_error(field, "required", "es requerido (YYYY-MM-DD)"))
}

/// The role-scoped filters of a request.
fn scoped(
    auth: &Auth,
    scope: Option<&str>,
    dimension: Option<&str>,
    ventana_id: Option<Uuid>,
    vendedor_id: Option<Uuid>,
    loteria_id: Option<Uuid>,
) -> Result<Effective, ApiError> {
    let req = Requested {
        scope: scope_of(scope)?,
        dimension: dimension_of(dimension)?,
        ventana_id,
        vendedor_id,
        loteria_id,
    };
    Ok(svc::effective(&auth.0, &req))
}

/// The longest range a commissions query may cover, in days (as account statements).
const MAX_DAYS: i64 = 366;

/// The inclusive days of `date`/`fromDate`/`toDate` (default `today`).
fn period(
    state: &AppState,
    date: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let tz = state.config.business_timezone;
    let today = schedule::local_date(Utc::now(), tz);
    let (from, to) = business_dates(date, from, to, false, tz)?;
    let to = to.unwrap_or(today);
    let from = from.unwrap_or(to);
    if from > to {
        return Err(query_error(
            "fromDate",
            "invalid_range",
            "debe ser anterior o igual a toDate",
        ));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(query_error(
            "fromDate",
            "range_too_long",
            "el rango no puede pasar de 366 días",
        ));
    }
    Ok((from, to))
}

/// The answer's `meta`: range, effective filters, and which database served it (decision 12).
fn meta(
    e: &Effective,
    from: NaiveDate,
    to: NaiveDate,
    source: crate::db::ReadSource,
) -> serde_json::Value {
    json!({
        "range": {"fromDate": from, "toDate": to},
        "effectiveFilters": e,
        "readSource": source.as_str(),
    })
}

// ---------------------------------------------------------------------------------------------
// GET /commissions

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::date_token)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionScope, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionDimension, inline)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/commissions",
    tag = "commissions",
    params(ListQuery),
    responses(
        (status = 200, description = "Commissions by day; `meta: {range, effectiveFilters, readSource}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<svc::DayRow>>, ApiError> {
    let e = scoped(
        &auth,
        q.scope.as_deref(),
        q.dimension.as_deref(),
        q.ventana_id,
        q.vendedor_id,
        q.loteria_id,
    )?;
    let (from, to) = period(
        &state,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let tz = state.config.business_timezone.name();
    let e2 = &e;
    let (rows, source) = state
        .pools
        .read(move |pool| async move { svc::list(&pool, e2, from, to, tz).await })
        .await?;
    Ok(ApiResponse::ok(rows).with_meta(meta(&e, from, to, source)))
}

// ---------------------------------------------------------------------------------------------
// GET /commissions/{date}/breakdown and /commissions/detail

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct BreakdownQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionScope, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionDimension, inline)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/commissions/{date}/breakdown",
    tag = "commissions",
    params(("date" = String, Path, format = Date, description = "Business day, YYYY-MM-DD"), BreakdownQuery),
    responses(
        (status = 200, description = "One day's commissions and payouts by lotería; `meta: {range, effectiveFilters, readSource}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn breakdown(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(date): AppPath<String>,
    AppQuery(q): AppQuery<BreakdownQuery>,
) -> Result<ApiResponse<Vec<LoteriaFigures>>, ApiError> {
    let day = day_of("date", Some(date.as_str()))?;
    let e = scoped(
        &auth,
        q.scope.as_deref(),
        q.dimension.as_deref(),
        q.ventana_id,
        q.vendedor_id,
        None,
    )?;
    per_loteria(&state, e, day, true).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct DetailQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = String, format = Date)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionScope, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionDimension, inline)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/commissions/detail",
    tag = "commissions",
    params(DetailQuery),
    responses(
        (status = 200, description = "One day's commissions by lotería; `meta: {range, effectiveFilters, readSource}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DetailQuery>,
) -> Result<ApiResponse<Vec<LoteriaFigures>>, ApiError> {
    let day = day_of("date", q.date.as_deref())?;
    let e = scoped(
        &auth,
        q.scope.as_deref(),
        q.dimension.as_deref(),
        q.ventana_id,
        q.vendedor_id,
        None,
    )?;
    per_loteria(&state, e, day, false).await
}

async fn per_loteria(
    state: &AppState,
    e: Effective,
    day: NaiveDate,
    with_payouts: bool,
) -> Result<ApiResponse<Vec<LoteriaFigures>>, ApiError> {
    let e2 = &e;
    let (rows, source) = state
        .pools
        .read(move |pool| async move { svc::per_loteria(&pool, e2, day, with_payouts).await })
        .await?;
    Ok(ApiResponse::ok(rows).with_meta(meta(&e, day, day, source)))
}

// ---------------------------------------------------------------------------------------------
// GET /commissions/tickets

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TicketsQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = String, format = Date)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Uuid)]
    loteria_id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = String, pattern = "^(unknown|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$")]
    multiplier_id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionScope, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionDimension, inline)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/commissions/tickets",
    tag = "commissions",
    params(TicketsQuery),
    responses(
        (status = 200, description = "The tickets behind one lotería × multiplier of a day; paged; `meta: {range, effectiveFilters, readSource}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn tickets(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<TicketsQuery>,
) -> Result<ApiResponse<Vec<TicketCommission>>, ApiError> {
    let day = day_of("date", q.date.as_deref())?;
    let loteria = match q.loteria_id.as_deref() {
        None => return Err(query_error("loteriaId", "required", "es requerido")),
        Some(s) => Uuid::parse_str(s)
            .map_err(|_| query_error("loteriaId", "invalid_uuid", "debe ser un UUID"))?,
    };
    // `unknown` is the REVENTADO key (lines without a NUMERO multiplier).
    let mkey = match q.multiplier_id.as_deref() {
        None => return Err(query_error("multiplierId", "required", "es requerido")),
        Some(s) if s.eq_ignore_ascii_case("unknown") => None,
        Some(s) => Some(Uuid::parse_str(s).map_err(|_| {
            query_error("multiplierId", "invalid_uuid", "debe ser un UUID o unknown")
        })?),
    };
    let page = Page::new(q.page, q.page_size, 20, 100)?;
    let e = scoped(
        &auth,
        q.scope.as_deref(),
        q.dimension.as_deref(),
        q.ventana_id,
        q.vendedor_id,
        Some(loteria),
    )?;
    let e2 = &e;
    let ((rows, total), source) = state
        .pools
        .read(move |pool| async move {
            svc::tickets(&pool, e2, day, mkey, page.limit(), page.offset()).await
        })
        .await?;
    let mut m = serde_json::to_value(page.meta(total)).unwrap_or_default();
    if let (Some(obj), serde_json::Value::Object(extra)) =
        (m.as_object_mut(), meta(&e, day, day, source))
    {
        obj.extend(extra);
    }
    Ok(ApiResponse::ok(rows).with_meta(m))
}

// ---------------------------------------------------------------------------------------------
// GET /commissions/export

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::ExportFormat, inline)]
    format: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::date_token)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionScope, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::CommissionDimension, inline)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_breakdown: Option<bool>,
    /// Accepted; no warnings are produced yet (the section is left out when empty).
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_warnings: Option<bool>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

fn format_of(v: Option<&str>) -> Result<ExportFormat, ApiError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None => Err(query_error(
            "format",
            "required",
            "es requerido (csv, excel o xlsx)",
        )),
        Some("csv") => Ok(ExportFormat::Csv),
        Some("xlsx" | "excel") => Ok(ExportFormat::Xlsx),
        Some("pdf") => Err(ApiError::bad_request(
            "EXPORT_FORMAT_UNSUPPORTED",
            "La exportación en PDF no está disponible; use csv o xlsx",
        )),
        Some(_) => Err(query_error(
            "format",
            "invalid_enum",
            "debe ser csv, excel, xlsx o pdf",
        )),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/commissions/export",
    tag = "commissions",
    params(ExportQuery),
    responses(
        (status = 200, description = "The commissions as a file (attachment)", content(
            (String = "text/csv; charset=utf-8"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )),
        (status = 400, description = "VALIDATION_ERROR, EXPORT_FORMAT_UNSUPPORTED (pdf)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn export(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = format_of(q.format.as_deref())?;
    let e = scoped(
        &auth,
        q.scope.as_deref(),
        q.dimension.as_deref(),
        q.ventana_id,
        q.vendedor_id,
        q.loteria_id,
    )?;
    let (from, to) = period(
        &state,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let _ = q.include_warnings;
    let include_breakdown = q.include_breakdown.unwrap_or(true);
    let tz = state.config.business_timezone.name();
    let e2 = &e;
    let (file, _) = state
        .pools
        .read(move |pool| async move {
            match svc::export(&pool, e2, from, to, tz, format, include_breakdown).await {
                Err(ExportError::Database(e)) => Err(e),
                other => Ok(other),
            }
        })
        .await?;
    let file = file.map_err(|e| match e {
        ExportError::Database(e) => ApiError::from(e),
        other => ApiError::internal(&other),
    })?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, file.content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", file.filename),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        file.bytes,
    )
        .into_response())
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(list, detail, tickets, breakdown, export))]
pub struct ApiDoc;
