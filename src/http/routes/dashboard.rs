//! `/admin/dashboard*` (domain-money §6.1, §7): ADMIN, BANCA and VENTANA (VENDEDOR: 403
//! `FORBIDDEN` on every route). Figures and decisions in `services::dashboard`.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/admin/dashboard` | ganancia, cxc, cxp, summary, kpis, timeSeries, byVentana, byLoteria, exposure, previousPeriod, alerts |
//! | `GET /api/v1/admin/dashboard/ganancia` | profit per ventana (`dimension=vendedor`: per vendedor) and per lotería |
//! | `GET /api/v1/admin/dashboard/ganancia/month-to-date` | the same from the 1st of the month to today |
//! | `GET /api/v1/admin/dashboard/cxc`, `/cxp` | entities that owe the banca / that the banca owes |
//! | `GET /api/v1/admin/dashboard/summary`, `/entities` | per ventana / per vendedor with saldo a hoy, kpis, month to date |
//! | `GET /api/v1/admin/dashboard/timeseries` | buckets of `interval` (or `granularity`) hour, day, week, month |
//! | `GET /api/v1/admin/dashboard/exposure` | OPEN sorteos: numbers, heatmap, risk per sorteo and lotería |
//! | `GET /api/v1/admin/dashboard/vendedores` | the vendedores ranking, paginated |
//! | `GET|POST /api/v1/admin/dashboard/accumulated-balances` | saldo a hoy of the given entities |
//! | `GET /api/v1/admin/dashboard/export` | CSV, XLSX or PDF file `dashboard-<from>_<to>.<ext>` |
//!
//! Every query is strict (the keys of the reference's `DashboardQuerySchema`; others: 400).
//! Scope: `services::report_scope` (VENTANA: its ventana; BANCA: its active banca; ADMIN: the
//! active banca, else every banca; a ventana outside it: 403). `scope=mine|all` is accepted;
//! the role rules decide. The period is `date`/`fromDate`/`toDate` (default today, at most
//! [`MAX_DAYS`] days); `interval=hour` only for periods of at most 7 days (422
//! `INTERVAL_TOO_WIDE`). Reads go through the replica when one is configured (`meta.source`)
//! and the report cache (`meta.cache`, `meta.cacheHit`; `refresh=true` skips the cache); the
//! exposure is always computed live. The export answers what the app reads — a link
//! `{url, filename, format, expiresAt}` that it opens without its bearer token — or the file
//! itself when `Accept` names the file's media type. The link carries a signed token (the
//! caller's session, the query, 5 minutes; `services::tokens::DownloadClaims`); opening it
//! checks the session and the user again and builds the file then (nothing is stored).

use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{Offset, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{de, request_origin, AppJson, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::reports;
use crate::http::routes::bancas::query_error;
use crate::http::routes::ticket_reads::doc;
use crate::services::dashboard::{self as svc, Dimension, Interval, OrderBy, Params, Sections};
use crate::services::exports;
use crate::services::report_scope::{ReportScope, Requested};
use crate::services::tokens::{DownloadClaims, TokenError};

/// The longest period, in days.
pub const MAX_DAYS: i64 = 366;
/// The longest period of an hourly series, in days.
pub const MAX_HOURLY_DAYS: i64 = 7;
/// Most entities in one `accumulated-balances` request.
pub const MAX_ENTITY_IDS: usize = 500;

const ROLES: [Role; 3] = [Role::Admin, Role::Banca, Role::Ventana];

/// The OpenAPI description of `/admin/dashboard*`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        overview,
        ganancia,
        month_to_date,
        cxc,
        cxp,
        summary,
        entities,
        timeseries,
        exposure,
        vendedores,
        accumulated_get,
        accumulated_post,
        export,
        export_link
    ),
    tags((name = "dashboard", description = "The administration dashboard: profit, receivables and payables, KPIs, series, exposure, rankings, exports"))
)]
pub struct ApiDoc;

doc::doc_type!(IntervalDoc = doc::filter_enum(&["hour", "day", "week", "month"]));

doc::doc_type!(DimensionDoc = doc::filter_enum(&["ventana", "vendedor"]));

doc::doc_type!(DimensionBodyDoc = doc::text_enum(&["ventana", "vendedor"]));

doc::doc_type!(
    OrderByDoc = doc::filter_enum(&["sales", "commissions", "tickets", "winners", "avgTicket"])
);

doc::doc_type!(OrderDoc = doc::filter_enum(&["desc", "asc"]));

doc::doc_type!(FormatDoc = doc::filter_enum(&["csv", "xlsx", "excel", "pdf"]));

doc::doc_type!(
    /// `sections`: a comma list of `summary`, `ventanas`, `vendedores`, `timeseries`, `exposure`
    /// (and their aliases).
    SectionsDoc = doc::text_pattern(
            "^ *(summary|resumen|kpis|ventanas|ventana|cxc|cxp|balances|vendedores|vendedor|entities|timeseries|serie|exposure|exposicion)? *(, *(summary|resumen|kpis|ventanas|ventana|cxc|cxp|balances|vendedores|vendedor|entities|timeseries|serie|exposure|exposicion)? *)*$",
        )
);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/dashboard", get(overview))
        .route("/api/v1/admin/dashboard/ganancia", get(ganancia))
        .route(
            "/api/v1/admin/dashboard/ganancia/month-to-date",
            get(month_to_date),
        )
        .route("/api/v1/admin/dashboard/cxc", get(cxc))
        .route("/api/v1/admin/dashboard/cxp", get(cxp))
        .route("/api/v1/admin/dashboard/summary", get(summary))
        .route("/api/v1/admin/dashboard/entities", get(entities))
        .route("/api/v1/admin/dashboard/timeseries", get(timeseries))
        .route("/api/v1/admin/dashboard/exposure", get(exposure))
        .route("/api/v1/admin/dashboard/vendedores", get(vendedores))
        .route(
            "/api/v1/admin/dashboard/accumulated-balances",
            get(accumulated_get).post(accumulated_post),
        )
        .route("/api/v1/admin/dashboard/export", get(export))
        .route("/api/v1/admin/dashboard/export/file", get(export_link))
}

// ---------------------------------------------------------------------------------------------
// Query parsing.

/// The reference's `DashboardQuerySchema` (strict).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DashboardQuery {
    /// Period (default `today`); `fromDate`/`toDate` only with `range`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    /// Not in the future; at most 366 days after `fromDate`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    /// Accepted; the role decides the scope.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::BetTypeFilter>, inline)]
    bet_type: Option<String>,
    /// Series bucket (default `day`); `hour` only for periods of at most 7 days.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<IntervalDoc>, inline)]
    interval: Option<String>,
    /// Same as `interval` (read when `interval` is absent).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<IntervalDoc>, inline)]
    granularity: Option<String>,
    /// Rows of the rankings (default 10).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    top: Option<String>,
    /// Profit per ventana (default) or per vendedor.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<DimensionDoc>, inline)]
    dimension: Option<String>,
    /// Order of the vendedores ranking (default `sales`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<OrderByDoc>, inline)]
    order_by: Option<String>,
    /// Default `desc`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<OrderDoc>, inline)]
    order: Option<String>,
    /// Page of the vendedores ranking (default 1).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    page: Option<String>,
    /// Default 20.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    page_size: Option<String>,
    /// Receivables and payables with aging buckets.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    aging: Option<bool>,
    /// The export's file type (required there).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<FormatDoc>, inline)]
    format: Option<String>,
    /// The export's sections, comma separated (default all).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<SectionsDoc>, inline)]
    sections: Option<String>,
    /// Also the previous period.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    compare: Option<bool>,
    /// Skip the report cache.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    refresh: Option<bool>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

fn one_of<T: Copy>(
    field: &str,
    v: Option<&str>,
    default: T,
    options: &[(&str, T)],
) -> Result<T, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => options
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(s))
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
                query_error(
                    field,
                    "invalid_enum",
                    &format!("debe ser {}", names.join(", ")),
                )
            }),
    }
}

fn int_in(field: &str, v: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                query_error(
                    field,
                    "out_of_range",
                    &format!("debe ser un entero entre 1 y {max}"),
                )
            }),
    }
}

fn interval_of(q: &DashboardQuery) -> Result<Interval, ApiError> {
    let options = [
        ("hour", Interval::Hour),
        ("day", Interval::Day),
        ("week", Interval::Week),
        ("month", Interval::Month),
    ];
    match (q.interval.as_deref(), q.granularity.as_deref()) {
        (Some(i), _) => one_of("interval", Some(i), Interval::Day, &options),
        (None, g) => one_of("granularity", g, Interval::Day, &options),
    }
}

/// The caller's scope and the figures' parameters; 403 for a VENDEDOR or a ventana out of
/// reach, 400 for a bad query, 422 for an hourly series over more than 7 days.
async fn prepare(
    state: &AppState,
    auth: &Auth,
    q: &DashboardQuery,
) -> Result<(ReportScope, Params), ApiError> {
    auth.require(&ROLES)?;
    one_of(
        "scope",
        q.scope.as_deref(),
        (),
        &[("mine", ()), ("all", ())],
    )?;
    let bet_type = one_of(
        "betType",
        q.bet_type.as_deref(),
        None,
        &[("NUMERO", Some("NUMERO")), ("REVENTADO", Some("REVENTADO"))],
    )?;
    let dimension = one_of(
        "dimension",
        q.dimension.as_deref(),
        Dimension::Ventana,
        &[
            ("ventana", Dimension::Ventana),
            ("vendedor", Dimension::Vendedor),
        ],
    )?;
    let order_by = one_of(
        "orderBy",
        q.order_by.as_deref(),
        OrderBy::Sales,
        &[
            ("sales", OrderBy::Sales),
            ("commissions", OrderBy::Commissions),
            ("tickets", OrderBy::Tickets),
            ("winners", OrderBy::Winners),
            ("avgTicket", OrderBy::AvgTicket),
        ],
    )?;
    let descending = one_of(
        "order",
        q.order.as_deref(),
        true,
        &[("desc", true), ("asc", false)],
    )?;
    let interval = interval_of(q)?;
    let top = int_in("top", q.top.as_deref(), 10, 100)?;
    let page = int_in("page", q.page.as_deref(), 1, u32::MAX)?;
    let page_size = int_in("pageSize", q.page_size.as_deref(), 20, 100)?;
    if let Some(f) = q.format.as_deref() {
        format_of(Some(f))?;
    }
    if q.date.as_deref().is_some_and(|d| d != "range")
        && (q.from_date.is_some() || q.to_date.is_some())
    {
        return Err(query_error(
            if q.from_date.is_some() {
                "fromDate"
            } else {
                "toDate"
            },
            "invalid_range",
            "solo se admite con date=range",
        ));
    }
    let (from, to) = reports::period(
        state,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
        MAX_DAYS,
    )?;
    if interval == Interval::Hour && (to - from).num_days() + 1 > MAX_HOURLY_DAYS {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INTERVAL_TOO_WIDE",
            "El intervalo por hora solo se admite para rangos de hasta 7 días",
        ));
    }
    let scope = reports::scope(
        state,
        auth,
        Requested {
            ventana_id: q.ventana_id,
            loteria_id: q.loteria_id,
            ..Requested::default()
        },
    )
    .await?;
    let params = Params {
        from,
        to,
        today: reports::today(state),
        bet_type: bet_type.map(str::to_string),
        listero_view: auth.0.role == Role::Admin,
        dimension,
        interval,
        top: top as usize,
        order_by,
        descending,
        page: i64::from(page),
        page_size: i64::from(page_size),
        compare: q.compare.unwrap_or(false),
        aging: q.aging.unwrap_or(false),
        tz: state.config.business_timezone.name().to_string(),
    };
    Ok((scope, params))
}

// ---------------------------------------------------------------------------------------------
// Answers.

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// The meta every dashboard answer carries (before `source`/`cache`); `queries`: the
/// statements the figure ran (`totalQueries`; 0 on a cache hit, see [`answer`]).
fn base_meta(scope: &ReportScope, p: &Params, started: Instant, queries: u32) -> Value {
    json!({
        "range": {"fromDate": p.from, "toDate": p.to},
        "effectiveFilters": {
            "bancaId": scope.banca_id,
            "ventanaId": scope.ventana_id,
            "loteriaId": scope.loteria_id,
            "betType": p.bet_type,
            "dimension": p.dimension,
        },
        "queryExecutionTime": started.elapsed().as_millis() as u64,
        "totalQueries": queries,
    })
}

/// `data` and `meta` of an envelope answer.
async fn parts(r: ApiResponse<Value>) -> Result<(Value, Value), ApiError> {
    let body = axum::body::to_bytes(r.into_response().into_body(), usize::MAX)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let mut v: Value = serde_json::from_slice(&body).map_err(|e| ApiError::internal(&e))?;
    Ok((v["data"].take(), v["meta"].take()))
}

/// [`parts`] of an answer of the report cache, with `cacheHit` in its meta and, on a hit,
/// `totalQueries` 0 (this request ran none).
async fn cached_parts(r: ApiResponse<Value>) -> Result<(Value, Value), ApiError> {
    let (data, mut meta) = parts(r).await?;
    if let Value::Object(m) = &mut meta {
        let hit = m.get("cache").and_then(Value::as_str) == Some("hit");
        m.insert("cacheHit".into(), Value::from(hit));
        if hit {
            m.insert("totalQueries".into(), Value::from(0));
        }
    }
    Ok((data, meta))
}

/// Runs `query` through the report cache (or live with `refresh`), and returns its data and
/// meta with `cacheHit`.
async fn answer<F, Fut>(
    state: &AppState,
    route: &str,
    scope: &ReportScope,
    p: &Params,
    refresh: bool,
    query: F,
) -> Result<(Value, Value), ApiError>
where
    F: Fn(PgPool) -> Fut,
    Fut: std::future::Future<Output = Result<(Value, Value), sqlx::Error>>,
{
    let r = if refresh {
        reports::live(state, query).await?
    } else {
        reports::cached(state, route, scope, p, query).await?
    };
    let (data, meta) = cached_parts(r).await?;
    Ok((data, meta))
}

/// The envelope with an `etag` of the data in `meta`.
fn respond(data: Value, mut meta: Value) -> ApiResponse<Value> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(data.to_string().as_bytes());
    let etag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    if let Value::Object(m) = &mut meta {
        m.insert("etag".into(), Value::from(format!("\"{etag}\"")));
    }
    ApiResponse::ok(data).with_meta(meta)
}

/// A cached figure: `f(pool, scope, params)` serialized.
macro_rules! figure {
    ($state:expr, $route:expr, $scope:expr, $p:expr, $refresh:expr, $f:expr) => {{
        let scope = $scope.clone();
        let p = $p.clone();
        let (data, meta) = answer($state, $route, &scope, &p, $refresh, |pool| {
            let scope = scope.clone();
            let p = p.clone();
            async move {
                let started = Instant::now();
                let (v, n) = crate::db::counting($f(pool, scope.clone(), p.clone())).await;
                Ok((to_json(&v?), base_meta(&scope, &p, started, n)))
            }
        })
        .await?;
        Ok(respond(data, meta))
    }};
}

// ---------------------------------------------------------------------------------------------
// Handlers.

type Answer = Result<ApiResponse<Value>, ApiError>;

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "ganancia, cxc, cxp, summary, kpis, timeSeries, byVentana, byLoteria, exposure, previousPeriod, alerts; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn overview(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    let refresh = q.refresh.unwrap_or(false);
    let (mut data, meta) = {
        let scope = scope.clone();
        let p = p.clone();
        answer(&state, "dashboard", &scope, &p, refresh, |pool| {
            let scope = scope.clone();
            let p = p.clone();
            async move {
                let started = Instant::now();
                let (v, n) = crate::db::counting(svc::overview(&pool, &scope, &p)).await;
                Ok((to_json(&v?), base_meta(&scope, &p, started, n)))
            }
        })
        .await?
    };
    let (s2, bet, top) = (scope.clone(), p.bet_type.clone(), p.top);
    let ((exposure, n), _) = state
        .pools
        .read(move |pool| {
            let s2 = s2.clone();
            let bet = bet.clone();
            async move {
                let (e, n) =
                    crate::db::counting(svc::exposure(&pool, &s2, bet.as_deref(), top)).await;
                e.map(|e| (e, n))
            }
        })
        .await?;
    // The exposure is live: its statements add to the overview's (0 on a cache hit).
    let mut meta = meta;
    if let Some(q) = meta.get("totalQueries").and_then(Value::as_u64) {
        meta["totalQueries"] = Value::from(q + u64::from(n));
    }
    if let Value::Object(m) = &mut data {
        if let Some(Value::Array(alerts)) = m.get_mut("alerts") {
            alerts.extend(svc::exposure_alerts(&exposure).iter().map(to_json));
        }
        m.insert("exposure".into(), to_json(&exposure));
    }
    Ok(respond(data, meta))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/ganancia",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Ganancia por ventana (o vendedor) y por lotería; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn ganancia(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    figure!(
        &state,
        "dashboard.ganancia",
        scope,
        p,
        q.refresh.unwrap_or(false),
        |pool: PgPool, s: ReportScope, p: Params| async move { svc::ganancia(&pool, &s, &p).await }
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/ganancia/month-to-date",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Ganancia del 1 del mes a hoy; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn month_to_date(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, mut p) = prepare(&state, &auth, &q).await?;
    p.from = p.month_start();
    p.to = p.today;
    figure!(
        &state,
        "dashboard.ganancia",
        scope,
        p,
        q.refresh.unwrap_or(false),
        |pool: PgPool, s: ReportScope, p: Params| async move { svc::ganancia(&pool, &s, &p).await }
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/cxc",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Cuentas por cobrar: entidades que deben a la banca; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn cxc(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    figure!(
        &state,
        "dashboard.cxc",
        scope,
        p,
        q.refresh.unwrap_or(false),
        |pool: PgPool, s: ReportScope, p: Params| async move {
            svc::receivables(&pool, &s, &p, true).await
        }
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/cxp",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Cuentas por pagar: entidades a las que la banca debe; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn cxp(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    figure!(
        &state,
        "dashboard.cxp",
        scope,
        p,
        q.refresh.unwrap_or(false),
        |pool: PgPool, s: ReportScope, p: Params| async move {
            svc::receivables(&pool, &s, &p, false).await
        }
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/summary",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Por ventana: saldo a hoy, kpis, mes a la fecha; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn summary(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    figure!(
        &state,
        "dashboard.summary",
        scope,
        p,
        q.refresh.unwrap_or(false),
        |pool: PgPool, s: ReportScope, p: Params| async move {
            svc::consolidated(&pool, &s, &p, Dimension::Ventana).await
        }
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/entities",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Por vendedor: saldo a hoy, kpis, mes a la fecha; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn entities(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    figure!(
        &state,
        "dashboard.entities",
        scope,
        p,
        q.refresh.unwrap_or(false),
        |pool: PgPool, s: ReportScope, p: Params| async move {
            svc::consolidated(&pool, &s, &p, Dimension::Vendedor).await
        }
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/timeseries",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Serie por hora, día, semana o mes; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn timeseries(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    figure!(
        &state,
        "dashboard.timeseries",
        scope,
        p,
        q.refresh.unwrap_or(false),
        |pool: PgPool, s: ReportScope, p: Params| async move { svc::timeseries(&pool, &s, &p).await }
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/exposure",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Sorteos abiertos: números, mapa de calor, riesgo por sorteo y lotería (siempre en vivo); meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn exposure(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    let (s2, p2) = (scope.clone(), p.clone());
    let r = reports::live(&state, move |pool| {
        let s = s2.clone();
        let p = p2.clone();
        async move {
            let started = Instant::now();
            let (e, n) =
                crate::db::counting(svc::exposure(&pool, &s, p.bet_type.as_deref(), p.top)).await;
            let e = e?;
            let mut meta = base_meta(&s, &p, started, n);
            meta["alerts"] = to_json(&svc::exposure_alerts(&e));
            Ok((to_json(&e), meta))
        }
    })
    .await?;
    let (data, mut meta) = parts(r).await?;
    meta["cacheHit"] = Value::from(false);
    Ok(respond(data, meta))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/vendedores",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Ranking de vendedores, paginado; meta con range, effectiveFilters, source, cache, etag", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, fromDate/toDate sin date=range, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn vendedores(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Answer {
    let (scope, p) = prepare(&state, &auth, &q).await?;
    let page = Page::new(
        u32::try_from(p.page).ok(),
        u32::try_from(p.page_size).ok(),
        20,
        100,
    )?;
    let (data, mut meta) = {
        let scope = scope.clone();
        let p = p.clone();
        answer(
            &state,
            "dashboard.vendedores",
            &scope,
            &p,
            q.refresh.unwrap_or(false),
            |pool| {
                let scope = scope.clone();
                let p = p.clone();
                async move {
                    let started = Instant::now();
                    let (r, n) = crate::db::counting(svc::vendedores(&pool, &scope, &p)).await;
                    let (rows, total) = r?;
                    let mut meta = base_meta(&scope, &p, started, n);
                    meta["total"] = Value::from(total);
                    Ok((to_json(&rows), meta))
                }
            },
        )
        .await?
    };
    let total = meta["total"].as_i64().unwrap_or(0);
    if let (Value::Object(m), Value::Object(pm)) = (&mut meta, to_json(&page.meta(total))) {
        m.extend(pm);
    }
    Ok(respond(data, meta))
}

// ---------------------------------------------------------------------------------------------
// accumulated-balances

/// The body of `POST /accumulated-balances`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = dashboard::AccumulatedBody)]
struct AccumulatedBody {
    /// `ventana` (default) or `vendedor`.
    #[serde(default)]
    #[schema(value_type = Option<DimensionBodyDoc>, inline)]
    dimension: Option<String>,
    /// Ids of the entities (each may be a comma list), at most 500 distinct.
    #[serde(default)]
    #[schema(value_type = Vec<doc::UuidList>, inline)]
    entity_ids: Vec<String>,
}

/// The query of `GET /accumulated-balances` (read by hand: `entityIds` may repeat and
/// `entityIds[]` is its alias). Describes the parameters for OpenAPI only.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct AccumulatedParams {
    /// `ventana` (default) or `vendedor`.
    #[param(value_type = Option<DimensionDoc>, inline)]
    dimension: Option<String>,
    /// Ids of the entities (repeated, or comma separated), at most 500 distinct.
    #[param(rename = "entityIds", style = Form, explode, value_type = Option<Vec<doc::UuidList>>, inline)]
    entity_ids: Option<Vec<String>>,
    /// Cache buster, ignored.
    #[param(rename = "_")]
    cache_buster: Option<String>,
}

fn entity_ids<'a>(raw: impl Iterator<Item = &'a str>) -> Result<Vec<Uuid>, ApiError> {
    let mut ids = Vec::new();
    for part in raw.flat_map(|s| s.split(',')) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let id = Uuid::parse_str(part)
            .map_err(|_| query_error("entityIds", "invalid_uuid", "deben ser UUID"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > MAX_ENTITY_IDS {
        return Err(query_error(
            "entityIds",
            "too_many",
            &format!("no pueden ser más de {MAX_ENTITY_IDS}"),
        ));
    }
    Ok(ids)
}

async fn accumulated(
    state: &AppState,
    auth: &Auth,
    dimension: Option<&str>,
    ids: Vec<Uuid>,
) -> Answer {
    auth.require(&ROLES)?;
    let dimension = one_of(
        "dimension",
        dimension,
        Dimension::Ventana,
        &[
            ("ventana", Dimension::Ventana),
            ("vendedor", Dimension::Vendedor),
        ],
    )?;
    let scope = reports::scope(state, auth, Requested::default()).await?;
    let today = reports::today(state);
    let key = json!({"dimension": dimension, "ids": ids, "today": today});
    let (s2, ids2) = (scope.clone(), ids.clone());
    let r = reports::cached(
        state,
        "dashboard.accumulated-balances",
        &scope,
        &key,
        move |pool| {
            let s = s2.clone();
            let ids = ids2.clone();
            async move {
                let (rows, n) =
                    crate::db::counting(svc::accumulated(&pool, &s, dimension, &ids, today)).await;
                Ok((
                    to_json(&rows?),
                    json!({"dimension": dimension, "date": today, "totalQueries": n}),
                ))
            }
        },
    )
    .await?;
    let (data, meta) = cached_parts(r).await?;
    Ok(respond(data, meta))
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/accumulated-balances",
    tag = "dashboard",
    params(AccumulatedParams),
    responses(
        (status = 200, description = "Saldo a hoy de las entidades pedidas", body = SuccessEnvelope),
        (status = 400, description = "Parámetro desconocido, dimension inválida, id que no es UUID o más de 500 ids (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn accumulated_get(
    State(state): State<AppState>,
    auth: Auth,
    RawQuery(raw): RawQuery,
) -> Answer {
    let raw = raw.unwrap_or_default();
    let mut dimension: Option<String> = None;
    let mut values: Vec<String> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        match k.as_ref() {
            "dimension" => dimension = Some(v.trim().to_string()).filter(|s| !s.is_empty()),
            "entityIds" | "entityIds[]" => values.push(v.into_owned()),
            "_" => {}
            other => {
                return Err(query_error(
                    other,
                    "unrecognized_key",
                    "parámetro no admitido",
                ))
            }
        }
    }
    let ids = entity_ids(values.iter().map(String::as_str))?;
    accumulated(&state, &auth, dimension.as_deref(), ids).await
}

#[utoipa::path(
    post,
    path = "/api/v1/admin/dashboard/accumulated-balances",
    tag = "dashboard",
    request_body = AccumulatedBody,
    responses(
        (status = 200, description = "Saldo a hoy de las entidades pedidas", body = SuccessEnvelope),
        (status = 400, description = "Parámetro desconocido, dimension inválida, id que no es UUID o más de 500 ids (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn accumulated_post(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<AccumulatedBody>,
) -> Answer {
    let ids = entity_ids(body.entity_ids.iter().map(String::as_str))?;
    accumulated(&state, &auth, body.dimension.as_deref(), ids).await
}

// ---------------------------------------------------------------------------------------------
// GET /export

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Xlsx,
    Pdf,
}

fn format_of(v: Option<&str>) -> Result<Format, ApiError> {
    match v {
        None => Err(query_error(
            "format",
            "required",
            "es requerido (csv, xlsx o pdf)",
        )),
        some => one_of(
            "format",
            some,
            Format::Csv,
            &[
                ("csv", Format::Csv),
                ("xlsx", Format::Xlsx),
                ("excel", Format::Xlsx),
                ("pdf", Format::Pdf),
            ],
        ),
    }
}

fn sections_of(v: Option<&str>) -> Result<Sections, ApiError> {
    let Some(list) = v else {
        return Ok(Sections::ALL);
    };
    let mut s = Sections {
        summary: false,
        ventanas: false,
        vendedores: false,
        timeseries: false,
        exposure: false,
    };
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.to_ascii_lowercase().as_str() {
            "summary" | "resumen" | "kpis" => s.summary = true,
            "ventanas" | "ventana" | "cxc" | "cxp" | "balances" => s.ventanas = true,
            "vendedores" | "vendedor" | "entities" => s.vendedores = true,
            "timeseries" | "serie" => s.timeseries = true,
            "exposure" | "exposicion" => s.exposure = true,
            _ => {
                return Err(query_error(
                    "sections",
                    "invalid_enum",
                    "deben ser summary, ventanas, vendedores, timeseries o exposure",
                ))
            }
        }
    }
    if s == (Sections {
        summary: false,
        ventanas: false,
        vendedores: false,
        timeseries: false,
        exposure: false,
    }) {
        return Ok(Sections::ALL);
    }
    Ok(s)
}

/// How long a download link of `GET /export` works.
pub const DOWNLOAD_LINK_SECS: i64 = 300;

fn format_name(f: Format) -> (&'static str, &'static str) {
    match f {
        Format::Csv => ("csv", exports::CSV_CONTENT_TYPE),
        Format::Xlsx => ("xlsx", exports::XLSX_CONTENT_TYPE),
        Format::Pdf => ("pdf", exports::PDF_CONTENT_TYPE),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/export",
    tag = "dashboard",
    params(DashboardQuery),
    responses(
        (status = 200, description = "Enlace de descarga `{url, filename, format, expiresAt}` (la app abre `url`, válido 5 minutos); con `Accept` igual al tipo del archivo, el archivo mismo `dashboard-<from>_<to>.<csv|xlsx|pdf>`", content(
            (SuccessEnvelope = "application/json"),
            (doc::BinaryFile = "text/csv"),
            (doc::BinaryFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (doc::BinaryFile = "application/pdf"),
        )),
        (status = 400, description = "Falta format, sections inválidas, filtro inválido o desconocido, rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana fuera de alcance", body = ErrorBody),
        (status = 422, description = "interval=hour para más de 7 días (INTERVAL_TOO_WIDE)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn export(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    AppQuery(q): AppQuery<DashboardQuery>,
) -> Result<Response, ApiError> {
    let format = format_of(q.format.as_deref())?;
    let (ext, content_type) = format_name(format);
    let media = content_type.split(';').next().unwrap_or(content_type);
    let wants_file = headers
        .get(header::ACCEPT)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .any(|t| t.split(';').next().unwrap_or("").trim() == media)
        });
    if wants_file {
        return export_file(&state, &auth, &q).await;
    }
    // Everything the file would check, checked now: a link that works or a clear error.
    sections_of(q.sections.as_deref())?;
    let (_, p) = prepare(&state, &auth, &q).await?;
    let now = Utc::now();
    let claims = DownloadClaims {
        sub: auth.0.user_id,
        sid: auth.0.session_id,
        banca_id: auth.0.banca_id,
        what: "dashboard".into(),
        q: raw.unwrap_or_default(),
        iat: now.timestamp(),
        exp: now.timestamp() + DOWNLOAD_LINK_SECS,
    };
    let token = state
        .tokens
        .sign_download(&claims)
        .map_err(|e| ApiError::internal(&e))?;
    let url = format!(
        "{}/api/v1/admin/dashboard/export/file?token={token}",
        request_origin(&state, &headers).unwrap_or_default()
    );
    let expires_at = chrono::DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or(now);
    Ok(ApiResponse::ok(json!({
        "url": url,
        "filename": format!("dashboard-{}_{}.{ext}", p.from, p.to),
        "format": ext,
        "expiresAt": expires_at,
    }))
    .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct LinkQuery {
    /// The token of the link `GET /admin/dashboard/export` answered.
    token: String,
}

fn link_error(code: &'static str, message: &'static str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

#[utoipa::path(
    get,
    path = "/api/v1/admin/dashboard/export/file",
    tag = "dashboard",
    params(LinkQuery),
    responses(
        (status = 200, description = "dashboard-<from>_<to>.<csv|xlsx|pdf> (attachment)", content(
            (doc::BinaryFile = "text/csv"),
            (doc::BinaryFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (doc::BinaryFile = "application/pdf"),
        )),
        (status = 400, description = "Falta token (VALIDATION_ERROR)", body = ErrorBody),
        (status = 401, description = "Enlace vencido (LINK_EXPIRED) o inválido (INVALID_TOKEN), sesión cerrada (SESSION_REVOKED) o usuario inactivo", body = ErrorBody),
        (status = 403, description = "El usuario ya no tiene acceso a ese alcance", body = ErrorBody),
    )
)]
async fn export_link(
    State(state): State<AppState>,
    AppQuery(l): AppQuery<LinkQuery>,
) -> Result<Response, ApiError> {
    let claims = state
        .tokens
        .verify_download(&l.token)
        .map_err(|e| match e {
            TokenError::Expired => link_error(
                "LINK_EXPIRED",
                "El enlace de descarga expiró; genere el archivo de nuevo",
            ),
            _ => link_error("INVALID_TOKEN", "Enlace de descarga inválido"),
        })?;
    if claims.what != "dashboard" {
        return Err(link_error("INVALID_TOKEN", "Enlace de descarga inválido"));
    }
    // The session and the user are checked now, as for a bearer token: a logout or a
    // deactivation since the link was made refuses it.
    let actor =
        crate::http::auth::resolve_actor(&state, claims.sub, claims.sid, claims.banca_id).await?;
    let q: DashboardQuery = serde_urlencoded::from_str(&claims.q)
        .map_err(|_| link_error("INVALID_TOKEN", "Enlace de descarga inválido"))?;
    export_file(&state, &Auth(actor), &q).await
}

/// The export file of `q` for `auth`.
async fn export_file(
    state: &AppState,
    auth: &Auth,
    q: &DashboardQuery,
) -> Result<Response, ApiError> {
    let format = format_of(q.format.as_deref())?;
    let sections = sections_of(q.sections.as_deref())?;
    let (scope, p) = prepare(state, auth, q).await?;
    let (s2, p2) = (scope.clone(), p.clone());
    let (sheets, _) = state
        .pools
        .read(move |pool| {
            let s = s2.clone();
            let p = p2.clone();
            async move { svc::export_sheets(&pool, &s, &p, sections).await }
        })
        .await?;
    let name = |ext: &str| format!("dashboard-{}_{}.{ext}", p.from, p.to);
    let (content_type, filename, body) = match format {
        Format::Csv => (
            exports::CSV_CONTENT_TYPE,
            name("csv"),
            exports::csv(&sheets).map_err(|e| ApiError::internal(&e))?,
        ),
        Format::Xlsx => (
            exports::XLSX_CONTENT_TYPE,
            name("xlsx"),
            exports::xlsx(&sheets).map_err(|e| ApiError::internal(&e))?,
        ),
        Format::Pdf => {
            let tz = state.config.business_timezone;
            let now = Utc::now().with_timezone(&tz);
            let mut lines = vec![
                format!(
                    "Período: {} - {}",
                    p.from.format("%d/%m/%Y"),
                    p.to.format("%d/%m/%Y")
                ),
                format!(
                    "Generado: {} (GMT{:+})",
                    now.format("%d/%m/%Y %H:%M"),
                    now.offset().fix().local_minus_utc() / 3600
                ),
            ];
            if let Some(b) = &p.bet_type {
                lines.push(format!("Tipo de apuesta: {b}"));
            }
            (
                exports::PDF_CONTENT_TYPE,
                name("pdf"),
                exports::pdf("Dashboard", &lines, &sheets).map_err(|e| ApiError::internal(&e))?,
            )
        }
    };
    Ok(reports::file(content_type, &filename, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_ids_parse() {
        assert_eq!(sections_of(None).unwrap(), Sections::ALL);
        let s = sections_of(Some("summary, exposure")).unwrap();
        assert!(s.summary && s.exposure && !s.ventanas && !s.vendedores && !s.timeseries);
        assert!(sections_of(Some("otra")).is_err());
        let a = Uuid::new_v4();
        let b = Uuid::new_v4();
        let ids = entity_ids(
            [format!("{a},{b}"), a.to_string()]
                .iter()
                .map(String::as_str),
        );
        assert_eq!(ids.unwrap(), vec![a, b]);
        assert!(entity_ids(["x"].into_iter()).is_err());
        assert!(format_of(Some("doc")).is_err());
        assert_eq!(format_of(Some("excel")).unwrap(), Format::Xlsx);
    }
}
