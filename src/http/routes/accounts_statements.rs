//! `/accounts` statement reads and export (domain-money §5.6, §5.7, §7), for the four roles
//! within their reach (see `services::statement_reads::resolve`). Every read goes through
//! `Pools::read` (the replica when configured) and says which pool answered in
//! `meta.readSource`.
//!
//! - `GET /accounts/statement`: statements day by day with totals and month-accumulated
//!   figures.
//! - `GET /accounts/statement/{date}/bySorteo`: the intercalated view of one business day.
//! - `GET /accounts/historical-entities`: ventanas and vendedores with statements.
//! - `GET /accounts/balance/current` (VENTANA): the ventana's balance as of today.
//! - `GET /accounts/export`: the statement as CSV or XLSX (`pdf` → 400
//!   `EXPORT_FORMAT_UNSUPPORTED`).

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::roles::Role;
use crate::domain::schedule;
use crate::http::auth::{forbidden, Auth};
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{de, AppPath, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::routes::bancas::query_error;
use crate::http::routes::ticket_reads::business_dates;
use crate::services::exports;
use crate::services::statement_reads::{
    self as reads, CurrentBalance, DayEvent, Dimension, HistoricalEntities, ReadError, ScopeKind,
    ScopeRequest, StatementAnswer,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts/statement", get(statement))
        .route("/api/v1/accounts/statement/{date}/bySorteo", get(by_sorteo))
        .route(
            "/api/v1/accounts/historical-entities",
            get(historical_entities),
        )
        .route("/api/v1/accounts/balance/current", get(current_balance))
        .route("/api/v1/accounts/export", get(export))
}

/// The longest range one read covers.
const MAX_DAYS: i64 = 366;

/// Service refusals and database errors: the former stay inside the read (a replica retry
/// must not turn them into something else), the latter go to `Pools::read`.
fn lift<T>(r: Result<T, ReadError>) -> Result<Result<T, ReadError>, sqlx::Error> {
    match r {
        Err(ReadError::Database(e)) => Err(e),
        other => Ok(other),
    }
}

fn refusal(e: ReadError) -> ApiError {
    match e {
        ReadError::Forbidden => forbidden(),
        ReadError::NotFound => ApiError::not_found(),
        ReadError::Database(e) => e.into(),
    }
}

/// The query of `GET /accounts/statement` (strict).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StatementQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::month)]
    month: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::date_token_or_day)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::StatementScope, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::StatementDimension, inline)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::sort)]
    sort: Option<String>,
    /// Accepted; there is no balance reset to ignore yet.
    #[serde(default, deserialize_with = "de::opt_bool", rename = "ignoreReset")]
    _ignore_reset: Option<bool>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

/// The query of `GET /accounts/export` (strict).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::ExportFormat, inline)]
    format: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::month)]
    month: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::date_token_or_day)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::day)]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::StatementScope, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::StatementDimension, inline)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    /// Accepted; the per-sorteo sheet is not produced yet.
    #[serde(
        default,
        deserialize_with = "de::opt_bool",
        rename = "includeBreakdown"
    )]
    _include_breakdown: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_movements: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::sort)]
    sort: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool", rename = "ignoreReset")]
    _ignore_reset: Option<bool>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

/// The query of `GET /accounts/statement/{date}/bySorteo` (lenient, as in the existing
/// system: unknown keys are ignored).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct BySorteoQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = crate::http::openapi::params::scope)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = crate::http::openapi::params::StatementDimension, inline)]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
}

/// The query of `GET /accounts/balance/current` (strict).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct BalanceQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = balance_scope)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(schema_with = balance_dimension)]
    dimension: Option<String>,
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

/// `scope` of `GET /accounts/balance/current`.
fn balance_scope() -> utoipa::openapi::Object {
    crate::http::openapi::params::text_enum(&["mine"])
}

/// `dimension` of `GET /accounts/balance/current`.
fn balance_dimension() -> utoipa::openapi::Object {
    crate::http::openapi::params::text_enum(&["ventana"])
}

fn parse_scope(v: Option<&str>, required: bool) -> Result<ScopeKind, ApiError> {
    match v {
        None if required => Err(query_error("scope", "required", "es obligatorio")),
        None => Ok(ScopeKind::Mine),
        Some(s) => ScopeKind::parse(s)
            .ok_or_else(|| query_error("scope", "invalid_enum", "debe ser mine, ventana o all")),
    }
}

fn parse_dimension(v: Option<&str>) -> Result<Dimension, ApiError> {
    match v {
        None => Err(query_error("dimension", "required", "es obligatorio")),
        Some(s) => Dimension::parse(s).ok_or_else(|| {
            query_error(
                "dimension",
                "invalid_enum",
                "debe ser banca, ventana o vendedor",
            )
        }),
    }
}

fn parse_sort(v: Option<&str>) -> Result<bool, ApiError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(_) => Err(query_error("sort", "invalid_enum", "debe ser asc o desc")),
    }
}

fn parse_day(v: &str) -> Option<NaiveDate> {
    crate::domain::schedule::parse_date(v).ok()
}

/// The inclusive business days of `month` (`YYYY-MM`) or `date` (a `YYYY-MM-DD` day or a token:
/// today, yesterday, week, month, year, range) with `fromDate`/`toDate`; the current month
/// when none is given. `month` excludes the others.
fn days(
    month: Option<&str>,
    date: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    tz: Tz,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let today = schedule::local_date(Utc::now(), tz);
    let (first, last) = if let Some(m) = month {
        if date.is_some() || from.is_some() || to.is_some() {
            return Err(query_error(
                "month",
                "conflict",
                "no se combina con date, fromDate ni toDate",
            ));
        }
        let valid = m.len() == 7 && m.as_bytes()[4] == b'-';
        let d = parse_day(&format!("{m}-01"))
            .filter(|_| valid)
            .ok_or_else(|| query_error("month", "invalid_format", "debe tener la forma YYYY-MM"))?;
        reads::month_bounds(d)
    } else if let Some(d) = date.and_then(parse_day) {
        if from.is_some() || to.is_some() {
            return Err(query_error(
                "fromDate",
                "invalid_range",
                "solo se admite con date=range",
            ));
        }
        (d, d)
    } else if date.is_some() || from.is_some() || to.is_some() {
        let (f, t) = business_dates(date, from, to, false, tz)?;
        let t = t.unwrap_or(today);
        (f.unwrap_or(t), t)
    } else {
        reads::month_bounds(today)
    };
    if first > last {
        return Err(query_error(
            "fromDate",
            "invalid_range",
            "debe ser anterior o igual a toDate",
        ));
    }
    if (last - first).num_days() >= MAX_DAYS {
        return Err(query_error(
            "toDate",
            "invalid_range",
            "el rango no puede superar 366 días",
        ));
    }
    Ok((first, last))
}

/// `GET /api/v1/accounts/statement`:
///
/// ```text
/// { "success": true,
///   "data": { "statements": [ { id, date, month, dimension, entityId, bancaId, bancaName,
///                               bancaCode, ventanaId, ventanaName, ventanaCode, vendedorId,
///                               vendedorName, vendedorCode, totalSales, totalPayouts,
///                               listeroCommission, vendedorCommission, balance, totalPaid,
///                               totalCollected, totalPaymentsCollections, totalAdjustments,
///                               remainingBalance, ticketCount, isSettled, canEdit, settledAt,
///                               adjustments: [{id, settledDate, amount, reason}],
///                               bySorteo: null } … ],
///             "totals": { totalSales, totalPayouts, totalListeroCommission,
///                         totalVendedorCommission, totalBalance, totalPaid, totalCollected,
///                         totalPaymentsCollections, totalAdjustments, totalRemainingBalance,
///                         totalTickets, settledDays, pendingDays },
///             "monthlyAccumulated": { same keys, over the month of endDate },
///             "meta": { month, startDate, endDate, dimension, totalDays, monthStartDate,
///                       monthEndDate, readSource } },
///   "meta": { "readSource": "primary" | "replica" } }
/// ```
#[utoipa::path(
    get,
    path = "/api/v1/accounts/statement",
    tag = "accounts_statements",
    params(StatementQuery),
    responses(
        (status = 200, description = "`{statements, totals, monthlyAccumulated, meta}`; `meta.readSource`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (an entity out of reach)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn statement(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<StatementQuery>,
) -> Result<ApiResponse<StatementAnswer>, ApiError> {
    let tz = state.config.business_timezone;
    let req = ScopeRequest {
        scope: parse_scope(q.scope.as_deref(), true)?,
        dimension: parse_dimension(q.dimension.as_deref())?,
        banca_id: q.banca_id,
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
    };
    let descending = parse_sort(q.sort.as_deref())?;
    let (from, to) = days(
        q.month.as_deref(),
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
        tz,
    )?;
    let (actor, req) = (&actor, &req);
    let (result, source) = state
        .pools
        .read(move |pool| async move {
            lift(
                async {
                    let r = reads::resolve(&pool, actor, req).await?;
                    Ok(
                        reads::statement(&pool, &r.scope, r.dimension, from, to, descending)
                            .await?,
                    )
                }
                .await,
            )
        })
        .await?;
    let mut answer = result.map_err(refusal)?;
    answer.meta.read_source = source.as_str();
    Ok(ApiResponse::ok(answer).with_meta(json!({ "readSource": source.as_str() })))
}

/// `GET /api/v1/accounts/statement/{date}/bySorteo?dimension=&bancaId=&ventanaId=&vendedorId=`:
/// `{success, data: [event…] newest first, meta: {date, dimension, openingBalance,
/// closingBalance, totals…, totalEvents, readSource}}` — see `services::statement_reads::
/// by_sorteo`. Same scoping as the statement (`scope` defaults to `mine`).
#[utoipa::path(
    get,
    path = "/api/v1/accounts/statement/{date}/bySorteo",
    tag = "accounts_statements",
    params(("date" = String, Path, format = Date, description = "Business day, YYYY-MM-DD"), BySorteoQuery),
    responses(
        (status = 200, description = "The day's events, newest first; `meta` has the opening and closing balance", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND (an entity out of reach)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn by_sorteo(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(date): AppPath<String>,
    AppQuery(q): AppQuery<BySorteoQuery>,
) -> Result<ApiResponse<Vec<DayEvent>>, ApiError> {
    let tz = state.config.business_timezone;
    let day = parse_day(date.trim())
        .ok_or_else(|| query_error("date", "invalid_format", "debe tener la forma YYYY-MM-DD"))?;
    let req = ScopeRequest {
        scope: parse_scope(q.scope.as_deref(), false)?,
        dimension: parse_dimension(q.dimension.as_deref())?,
        banca_id: q.banca_id,
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
    };
    let (actor, req) = (&actor, &req);
    let (result, source) = state
        .pools
        .read(move |pool| async move {
            lift(
                async {
                    let r = reads::resolve(&pool, actor, req).await?;
                    Ok(reads::by_sorteo(&pool, &r, day, tz).await?)
                }
                .await,
            )
        })
        .await?;
    let (events, mut meta) = result.map_err(refusal)?;
    meta.read_source = source.as_str();
    Ok(ApiResponse::ok(events).with_meta(meta))
}

/// `GET /api/v1/accounts/historical-entities`: `{ventanas: [{id, name, code, bancaId,
/// lastStatementDate}], vendedores: [{id, name, code, ventanaId, ventanaName, bancaId,
/// lastStatementDate}]}` with statements in the caller's reach (active banca; a VENTANA its
/// own ventana and vendedores; a VENDEDOR itself).
#[utoipa::path(
    get,
    path = "/api/v1/accounts/historical-entities",
    tag = "accounts_statements",
    responses(
        (status = 200, description = "`{ventanas, vendedores}` with statements in the caller's reach", body = SuccessEnvelope),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn historical_entities(
    State(state): State<AppState>,
    Auth(actor): Auth,
) -> Result<ApiResponse<HistoricalEntities>, ApiError> {
    let actor = &actor;
    let (data, source) = state
        .pools
        .read(move |pool| async move { reads::historical_entities(&pool, actor).await })
        .await?;
    Ok(ApiResponse::ok(data).with_meta(json!({ "readSource": source.as_str() })))
}

/// `GET /api/v1/accounts/balance/current?scope=mine&dimension=ventana` (VENTANA only):
/// `{balance, remainingBalance, ventanaId, ventanaName, date, updatedAt}` — the remaining
/// balance of the ventana's latest statement up to today (0 without any).
#[utoipa::path(
    get,
    path = "/api/v1/accounts/balance/current",
    tag = "accounts_statements",
    params(BalanceQuery),
    responses(
        (status = 200, description = "`{balance, remainingBalance, ventanaId, ventanaName, date, updatedAt}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (VENTANA only)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn current_balance(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<BalanceQuery>,
) -> Result<ApiResponse<CurrentBalance>, ApiError> {
    auth.require(&[Role::Ventana])?;
    if q.scope
        .as_deref()
        .is_some_and(|s| !s.eq_ignore_ascii_case("mine"))
    {
        return Err(query_error("scope", "invalid_enum", "debe ser mine"));
    }
    if q.dimension
        .as_deref()
        .is_some_and(|s| !s.eq_ignore_ascii_case("ventana"))
    {
        return Err(query_error("dimension", "invalid_enum", "debe ser ventana"));
    }
    let ventana = auth.0.ventana_id.ok_or_else(forbidden)?;
    let today = schedule::local_date(Utc::now(), state.config.business_timezone);
    let (data, source) = state
        .pools
        .read(move |pool| async move { reads::current_balance(&pool, ventana, today).await })
        .await?;
    Ok(ApiResponse::ok(data).with_meta(json!({ "readSource": source.as_str() })))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
}

/// `GET /api/v1/accounts/export?format=csv|excel|xlsx&…`: the statement of the same query
/// as `GET /accounts/statement` as a file (`Content-Disposition: attachment;
/// filename="estado-cuenta-<banca|listero|vendedor>-<code|todos>-<from>[_<to>].<csv|xlsx>"`).
/// CSV: UTF-8 with BOM, CRLF, money with two exact decimals; XLSX: sheets `Resumen por Día`
/// and, unless `includeMovements=false`, `Movimientos`. `format=pdf` → 400
/// `EXPORT_FORMAT_UNSUPPORTED`.
#[utoipa::path(
    get,
    path = "/api/v1/accounts/export",
    tag = "accounts_statements",
    params(ExportQuery),
    responses(
        (status = 200, description = "The statement as a file (attachment)", content(
            (String = "text/csv; charset=utf-8"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        )),
        (status = 400, description = "VALIDATION_ERROR, EXPORT_FORMAT_UNSUPPORTED (pdf)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn export(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let tz = state.config.business_timezone;
    let format = match q.format.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => return Err(query_error("format", "required", "es obligatorio")),
        Some("csv") => Format::Csv,
        Some("excel") | Some("xlsx") => Format::Xlsx,
        Some("pdf") => {
            return Err(ApiError::bad_request(
                "EXPORT_FORMAT_UNSUPPORTED",
                "La exportación en PDF no está disponible; use format=csv o format=xlsx",
            ))
        }
        Some(_) => {
            return Err(query_error(
                "format",
                "invalid_enum",
                "debe ser csv, excel o xlsx",
            ))
        }
    };
    let req = ScopeRequest {
        scope: parse_scope(q.scope.as_deref(), true)?,
        dimension: parse_dimension(q.dimension.as_deref())?,
        banca_id: q.banca_id,
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
    };
    let descending = parse_sort(q.sort.as_deref())?;
    let (from, to) = days(
        q.month.as_deref(),
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
        tz,
    )?;
    let with_movements = q.include_movements != Some(false);
    let (actor, req) = (&actor, &req);
    let (result, _source) = state
        .pools
        .read(move |pool| async move {
            lift(
                async {
                    let r = reads::resolve(&pool, actor, req).await?;
                    let answer =
                        reads::statement(&pool, &r.scope, r.dimension, from, to, descending)
                            .await?;
                    let movements = if with_movements {
                        Some(reads::movements(&pool, &r.scope, from, to).await?)
                    } else {
                        None
                    };
                    Ok((r, answer, movements))
                }
                .await,
            )
        })
        .await?;
    let (resolved, answer, movements) = result.map_err(refusal)?;
    let sheets = reads::export_sheets(&answer, resolved.dimension, movements.as_deref(), tz);
    let (body, content_type, ext) = match format {
        Format::Csv => (exports::csv(&sheets), exports::CSV_CONTENT_TYPE, "csv"),
        Format::Xlsx => (exports::xlsx(&sheets), exports::XLSX_CONTENT_TYPE, "xlsx"),
    };
    let body = body.map_err(|e| ApiError::internal(&e))?;
    let label = match resolved.dimension {
        Dimension::Banca => "banca",
        Dimension::Ventana => "listero",
        Dimension::Vendedor => "vendedor",
    };
    let code = resolved
        .entity_code
        .as_deref()
        .map(slug)
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "todos".into());
    let period = if from == to {
        from.to_string()
    } else {
        format!("{from}_{to}")
    };
    let filename = format!("estado-cuenta-{label}-{code}-{period}.{ext}");
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// A file-name-safe form of a code: ASCII letters, digits, `-` and `_` (others become `-`).
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(statement, by_sorteo, historical_entities, current_balance, export))]
pub struct ApiDoc;
