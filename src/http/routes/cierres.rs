//! `/cierres` (domain-money §4, §7): the operational closing of a period, for ADMIN, BANCA and
//! VENTANA (VENDEDOR: 403 `FORBIDDEN`). Figures and decisions in `services::cierres`.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/cierres/weekly` | lotería → sorteo → band, with subtotals and totals |
//! | `GET /api/v1/cierres/by-seller` | per vendedor × ventana (`top`, `orderBy`, `depth`, default summary) |
//! | `GET /api/v1/cierres/by-seller/{vendedorId}/detail` | one seller's lotería → sorteo → band |
//! | `GET /api/v1/cierres/export.xlsx` | `cierre-<from>-<to>.xlsx` (`view total|seller|<band>`) |
//! | `GET /api/v1/cierres/export.csv` | `cierre-operativo-<from>-<to>.csv` |
//!
//! Every query is strict (unknown keys: 400). `from` and `to` (`YYYY-MM-DD`) are required,
//! `to ≥ from`, at most 90 days apart (400 `RANGE_TOO_LONG`). Scoping is
//! `services::report_scope`: VENTANA is forced to its ventana (another: 403 `RBAC_001`), a
//! requested ventana outside the banca is 403. `scope=mine` narrows an ADMIN or BANCA user who
//! has a ventana of its own to it; without one it changes nothing. The detail route takes the
//! by-seller query (routes.tsv); `top`, `orderBy` and `depth` are validated and do not change
//! one seller's answer. A vendedor outside the caller's scope is 403 `RBAC_003`.
//!
//! `depth` defaults to `summary` (the reference defaults to `full`): every seller's lotería →
//! sorteo → band tree is a 40 MB answer for 200 sellers over 30 days; it stays available with
//! `depth=full` and per seller through the detail route (decision in `services::cierres`).
//!
//! The JSON routes go through the report cache and the replica (`meta.source`, `meta.cache`).
//! The exports read the replica too (header `X-Report-Source`) and stream: the CSV goes out in
//! chunks of about 64 KiB while rows arrive from the database (bounded memory); the XLSX is
//! written row by row, sheet after sheet, to a temporary file, which is unlinked once opened and
//! streamed from the open handle. (XLSX cells are written in row order as rust_xlsxwriter's
//! constant-memory mode requires; `services::cierres::new_sheet` says when it is on.)

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::{query_scalar, ReadSource};
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{de, AppPath, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::reports::{self, check_range};
use crate::http::routes::bancas::query_error;
use crate::http::routes::sorteos::query_date;
use crate::http::routes::ticket_reads::doc;
use crate::services::cierres::{
    self as svc, Depth, ExportError, OrderBy, SellerOpts, View, MAX_SPAN_DAYS,
};
use crate::services::exports::{CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE};
use crate::services::report_scope::{ReportScope, Requested};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/cierres/weekly", get(weekly))
        .route("/api/v1/cierres/by-seller", get(by_seller))
        .route(
            "/api/v1/cierres/by-seller/{vendedor_id}/detail",
            get(detail),
        )
        .route("/api/v1/cierres/export.xlsx", get(export_xlsx))
        .route("/api/v1/cierres/export.csv", get(export_csv))
}

const ROLES: [Role; 3] = [Role::Admin, Role::Banca, Role::Ventana];

/// The OpenAPI description of `/cierres`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(weekly, by_seller, detail, export_xlsx, export_csv),
    tags((name = "cierres", description = "The operational closing of a period: by lotería, sorteo and band, by seller, and its exports"))
)]
pub struct ApiDoc;

doc::doc_type!(OrderByDoc = doc::filter_enum(&["totalVendida", "ganado", "netoDespuesComision"]));

doc::doc_type!(DepthDoc = doc::filter_enum(&["summary", "full"]));

doc::doc_type!(
    /// `view`: `total`, `seller` or a band (a multiplier value such as `80` or `92.5`).
    ViewDoc = utoipa::openapi::schema::Schema::AnyOf(
        utoipa::openapi::schema::AnyOfBuilder::new()
            .item(doc::filter_enum(&["total", "seller"]))
            .item(doc::text_pattern("^[1-9][0-9]{0,4}(\\.[0-9]+)?$"))
            .build(),
    )
);

// ---------------------------------------------------------------------------------------------
// Query parsing.

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WeeklyQuery {
    /// First day, `YYYY-MM-DD` (required).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = doc::RequiredDay, inline)]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (required; at most 90 days after `from`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = doc::RequiredDay, inline)]
    to: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    /// `mine`: an ADMIN or BANCA user with a ventana of its own sees only it.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SellerQuery {
    /// First day, `YYYY-MM-DD` (required).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = doc::RequiredDay, inline)]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (required; at most 90 days after `from`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = doc::RequiredDay, inline)]
    to: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    /// `mine`: an ADMIN or BANCA user with a ventana of its own sees only it.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    /// Only the first `top` sellers (1–100).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    top: Option<String>,
    /// Seller order (default `totalVendida`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<OrderByDoc>, inline)]
    order_by: Option<String>,
    /// `summary` (default) or `full` (each seller's lotería → sorteo → band tree).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<DepthDoc>, inline)]
    depth: Option<String>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExportQuery {
    /// First day, `YYYY-MM-DD` (required).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = doc::RequiredDay, inline)]
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (required; at most 90 days after `from`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = doc::RequiredDay, inline)]
    to: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    /// `mine`: an ADMIN or BANCA user with a ventana of its own sees only it.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    /// XLSX: `total` (default), `seller` or one band's sheet; CSV: a band narrows the rows.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<ViewDoc>, inline)]
    view: Option<String>,
    /// Only the first `top` sellers (1–100).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    top: Option<String>,
    /// Seller order (default `totalVendida`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<OrderByDoc>, inline)]
    order_by: Option<String>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

/// `from`/`to`: required days, `from ≤ to`, at most [`MAX_SPAN_DAYS`] apart.
fn range(from: Option<&str>, to: Option<&str>) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let from = query_date("from", from)?
        .ok_or_else(|| query_error("from", "required", "es requerido (YYYY-MM-DD)"))?;
    let to = query_date("to", to)?
        .ok_or_else(|| query_error("to", "required", "es requerido (YYYY-MM-DD)"))?;
    check_range("from", from, to, MAX_SPAN_DAYS + 1)?;
    Ok((from, to))
}

/// `scope`: `mine` or `all` (default); `true` for mine.
fn mine(v: Option<&str>) -> Result<bool, ApiError> {
    match v {
        None | Some("all") => Ok(false),
        Some("mine") => Ok(true),
        Some(_) => Err(query_error("scope", "invalid_enum", "debe ser mine o all")),
    }
}

fn seller_opts(
    top: Option<&str>,
    order_by: Option<&str>,
    depth: Option<&str>,
) -> Result<SellerOpts, ApiError> {
    let top = top
        .map(|t| {
            t.parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    query_error("top", "invalid_range", "debe ser un entero entre 1 y 100")
                })
        })
        .transpose()?;
    let order_by = order_by
        .map(|o| {
            OrderBy::parse(o).ok_or_else(|| {
                query_error(
                    "orderBy",
                    "invalid_enum",
                    "debe ser totalVendida, ganado o netoDespuesComision",
                )
            })
        })
        .transpose()?
        .unwrap_or_default();
    let depth = depth
        .map(|d| {
            Depth::parse(d)
                .ok_or_else(|| query_error("depth", "invalid_enum", "debe ser summary o full"))
        })
        .transpose()?
        .unwrap_or_default();
    Ok(SellerOpts {
        order_by,
        top,
        depth,
    })
}

/// Role check, then the effective scope of `ventana_id`/`scope` (and a vendedor).
async fn scoped(
    state: &AppState,
    auth: &Auth,
    ventana_id: Option<Uuid>,
    scope: Option<&str>,
    vendedor_id: Option<Uuid>,
) -> Result<(ReportScope, bool), ApiError> {
    auth.require(&ROLES)?;
    let mine = mine(scope)?;
    let actor = &auth.0;
    let ventana_id = match (mine, actor.role, actor.ventana_id) {
        (true, Role::Admin | Role::Banca, Some(own)) => Some(own),
        _ => ventana_id,
    };
    let s = reports::scope(
        state,
        auth,
        Requested {
            ventana_id,
            vendedor_id,
            ..Requested::default()
        },
    )
    .await?;
    Ok((s, mine))
}

/// `meta.effectiveFilters`.
fn effective(s: &ReportScope, from: NaiveDate, to: NaiveDate, mine: bool, extra: Value) -> Value {
    let mut v = json!({
        "from": from,
        "to": to,
        "bancaId": s.banca_id,
        "ventanaId": s.ventana_id,
        "vendedorId": s.vendedor_id,
        "scope": if mine { "mine" } else { "all" },
    });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}

/// The cache key's parameters besides the scope.
#[derive(Serialize)]
struct Params {
    from: NaiveDate,
    to: NaiveDate,
    mine: bool,
    opts: Option<SellerOpts>,
    vendedor: Option<Uuid>,
}

// ---------------------------------------------------------------------------------------------
// JSON routes.

#[utoipa::path(
    get,
    path = "/api/v1/cierres/weekly",
    tag = "cierres",
    params(WeeklyQuery),
    responses(
        (status = 200, description = "Lotería → sorteo → banda, con subtotales y totales; meta.source y meta.cache", body = SuccessEnvelope),
        (status = 400, description = "from/to ausentes o inválidos, rango de más de 90 días (RANGE_TOO_LONG) o filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana/vendedor fuera de alcance (RBAC_001, RBAC_003)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn weekly(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<WeeklyQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let (from, to) = range(q.from.as_deref(), q.to.as_deref())?;
    let (scope, mine) = scoped(&state, &auth, q.ventana_id, q.scope.as_deref(), None).await?;
    let f = svc::filter(&scope, from, to);
    let eff = effective(&scope, from, to, mine, Value::Null);
    let tz = state.config.business_timezone;
    let params = Params {
        from,
        to,
        mine,
        opts: None,
        vendedor: None,
    };
    reports::cached(&state, "cierres.weekly", &scope, &params, |pool| {
        let (f, eff) = (f.clone(), eff.clone());
        async move { svc::weekly(&pool, &f, tz, &eff).await }
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/cierres/by-seller",
    tag = "cierres",
    params(SellerQuery),
    responses(
        (status = 200, description = "Por vendedor × ventana; meta.source y meta.cache", body = SuccessEnvelope),
        (status = 400, description = "from/to ausentes o inválidos, rango de más de 90 días (RANGE_TOO_LONG) o filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana/vendedor fuera de alcance (RBAC_001, RBAC_003)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn by_seller(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<SellerQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let (from, to) = range(q.from.as_deref(), q.to.as_deref())?;
    let opts = seller_opts(q.top.as_deref(), q.order_by.as_deref(), q.depth.as_deref())?;
    let (scope, mine) = scoped(&state, &auth, q.ventana_id, q.scope.as_deref(), None).await?;
    let f = svc::filter(&scope, from, to);
    let eff = effective(
        &scope,
        from,
        to,
        mine,
        json!({"top": opts.top, "orderBy": opts.order_by, "depth": opts.depth}),
    );
    let tz = state.config.business_timezone;
    let params = Params {
        from,
        to,
        mine,
        opts: Some(opts),
        vendedor: None,
    };
    reports::cached(&state, "cierres.by-seller", &scope, &params, |pool| {
        let (f, eff) = (f.clone(), eff.clone());
        async move { svc::by_seller(&pool, &f, tz, opts, &eff).await }
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/cierres/by-seller/{vendedor_id}/detail",
    tag = "cierres",
    params(("vendedor_id" = Uuid, Path, description = "The vendedor"), SellerQuery),
    responses(
        (status = 200, description = "Lotería → sorteo → banda de un vendedor", body = SuccessEnvelope),
        (status = 400, description = "from/to ausentes o inválidos, rango de más de 90 días (RANGE_TOO_LONG) o filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana/vendedor fuera de alcance (RBAC_001, RBAC_003)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(vendedor_id): AppPath<Uuid>,
    AppQuery(q): AppQuery<SellerQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let (from, to) = range(q.from.as_deref(), q.to.as_deref())?;
    let opts = seller_opts(q.top.as_deref(), q.order_by.as_deref(), q.depth.as_deref())?;
    let (scope, mine) = scoped(
        &state,
        &auth,
        q.ventana_id,
        q.scope.as_deref(),
        Some(vendedor_id),
    )
    .await?;
    let f = svc::filter(&scope, from, to);
    let eff = effective(&scope, from, to, mine, Value::Null);
    let tz = state.config.business_timezone;
    let params = Params {
        from,
        to,
        mine,
        opts: Some(opts),
        vendedor: Some(vendedor_id),
    };
    reports::cached(&state, "cierres.detail", &scope, &params, |pool| {
        let (f, eff) = (f.clone(), eff.clone());
        async move { svc::detail(&pool, &f, vendedor_id, tz, &eff).await }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Exports.

/// The parsed export query: filter, view and seller options.
async fn export_query(
    state: &AppState,
    auth: &Auth,
    q: ExportQuery,
) -> Result<(crate::db::cierres::Filter, View, SellerOpts), ApiError> {
    let (from, to) = range(q.from.as_deref(), q.to.as_deref())?;
    let view = match q.view.as_deref() {
        None => View::Total,
        Some(v) => View::parse(v).ok_or_else(|| {
            query_error(
                "view",
                "invalid_enum",
                "debe ser total, seller o el número de una banda",
            )
        })?,
    };
    let opts = seller_opts(q.top.as_deref(), q.order_by.as_deref(), None)?;
    let (scope, _) = scoped(state, auth, q.ventana_id, q.scope.as_deref(), None).await?;
    Ok((svc::filter(&scope, from, to), view, opts))
}

/// The read pool (replica when it answers, else the primary) and which one it is.
async fn read_pool(state: &AppState) -> Result<(sqlx::PgPool, ReadSource), ApiError> {
    Ok(state
        .pools
        .read(|pool| async move {
            query_scalar::<i32>("SELECT 1").fetch_one(&pool).await?;
            Ok(pool)
        })
        .await?)
}

fn with_source(mut res: Response, source: ReadSource) -> Response {
    res.headers_mut()
        .insert("x-report-source", HeaderValue::from_static(source.as_str()));
    res
}

/// A body fed by a channel; an `Err` item aborts the response.
fn channel_body(rx: mpsc::Receiver<Result<Vec<u8>, std::io::Error>>) -> Body {
    use futures::StreamExt;
    Body::from_stream(
        futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .fuse(),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/cierres/export.csv",
    tag = "cierres",
    params(ExportQuery),
    responses(
        (status = 200, description = "cierre-operativo-<from>-<to>.csv (attachment); encabezado X-Report-Source", content_type = "text/csv", body = doc::BinaryFile,
            headers(("x-report-source" = String, description = "`primary` or `replica`"))),
        (status = 400, description = "from/to ausentes o inválidos, rango de más de 90 días (RANGE_TOO_LONG) o filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana/vendedor fuera de alcance (RBAC_001, RBAC_003)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn export_csv(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let (f, view, opts) = export_query(&state, &auth, q).await?;
    let (pool, source) = read_pool(&state).await?;
    let mut f = svc::top_filter(&pool, &f, opts).await?;
    if let View::Band(b) = view {
        f.band = Some(b);
    }
    let filename = format!("cierre-operativo-{}-{}.csv", f.from, f.to);
    let tz = state.config.business_timezone;
    let (tx, rx) = mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::spawn(async move {
        match svc::csv_export(&pool, &f, tz, &tx).await {
            Ok(()) | Err(ExportError::Closed) => {}
            Err(e) => {
                tracing::error!(error = %e, "cierre CSV export failed mid-stream");
                let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
            }
        }
    });
    Ok(with_source(
        reports::file(CSV_CONTENT_TYPE, &filename, channel_body(rx)),
        source,
    ))
}

#[utoipa::path(
    get,
    path = "/api/v1/cierres/export.xlsx",
    tag = "cierres",
    params(ExportQuery),
    responses(
        (status = 200, description = "cierre-<from>-<to>.xlsx (attachment); encabezado X-Report-Source", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = doc::BinaryFile,
            headers(("x-report-source" = String, description = "`primary` or `replica`"))),
        (status = 400, description = "from/to ausentes o inválidos, rango de más de 90 días (RANGE_TOO_LONG) o filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "VENDEDOR (FORBIDDEN) o ventana/vendedor fuera de alcance (RBAC_001, RBAC_003)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn export_xlsx(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let (f, view, opts) = export_query(&state, &auth, q).await?;
    let (pool, source) = read_pool(&state).await?;
    let filename = format!("cierre-{}-{}.xlsx", f.from, f.to);
    let tz = state.config.business_timezone;
    let path = std::env::temp_dir().join(format!("banca-cierre-{}.xlsx", Uuid::new_v4()));
    let written = svc::xlsx_export(&pool, &f, tz, view, opts, &path).await;
    let opened = match written {
        Ok(()) => tokio::fs::File::open(&path)
            .await
            .map_err(ExportError::from),
        Err(e) => Err(e),
    };
    // Unlinked at once: the open handle keeps the data until the body is streamed.
    let _ = tokio::fs::remove_file(&path).await;
    let file = opened.map_err(|e| match e {
        ExportError::Database(e) => ApiError::from(e),
        other => ApiError::internal(&other),
    })?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok(with_source(
        reports::file(XLSX_CONTENT_TYPE, &filename, body),
        source,
    ))
}
