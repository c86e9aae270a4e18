//! `/ventas*` and `GET /sales/daily-stats` (domain-money §6.2): every role, scoped by
//! `services::report_scope` (VENDEDOR: itself; VENTANA: its ventana; BANCA: its active banca;
//! ADMIN: the active banca, or every banca / `bancaId`). Every query is strict (an unknown key
//! is a 400) and the figures are read through the replica when one is configured (decision
//! 12), with `meta.source`.
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v1/ventas` | a page of the population's tickets (with jugadas), list meta |
//! | `GET /api/v1/ventas/summary` | the period's KPIs |
//! | `GET /api/v1/ventas/breakdown` | top groups of a dimension |
//! | `GET /api/v1/ventas/timeseries` | hour/day/week/month buckets |
//! | `GET /api/v1/ventas/facets` | the filter values with sales in the period |
//! | `GET /api/v1/sales/daily-stats` | one business day's sales, any sorteo state |
//!
//! `/ventas*` only count drawn sorteos, whose money changes only with evaluation, revert,
//! delete/restore and prize payments — the events that bump the report generation — so they
//! go through the report cache. `/sales/daily-stats` counts today's sales as they happen and
//! is never cached. `scope=mine|all` is accepted; VENTANA and VENDEDOR callers are always
//! `mine`, and it changes nothing for ADMIN and BANCA. `status` narrows to one status of the
//! population (ACTIVE, EVALUATED, PAID, PAGADO); cancelled or excluded tickets are no sales.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::ventas::{Dimension, Filter, Granularity, Grouping, ListOptions, ListOrder, Sort};
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{de, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::reports;
use crate::http::routes::bancas::query_error;
use crate::http::routes::sorteos::query_date;
use crate::http::routes::ticket_reads::doc;
use crate::services::report_scope::{ReportScope, Requested};
use crate::services::ventas::{self as svc, View};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/ventas", get(list))
        .route("/api/v1/ventas/summary", get(summary))
        .route("/api/v1/ventas/breakdown", get(breakdown))
        .route("/api/v1/ventas/timeseries", get(timeseries))
        .route("/api/v1/ventas/facets", get(facets))
        .route("/api/v1/sales/daily-stats", get(daily_stats))
}

/// The OpenAPI description of `/ventas*` and `/sales/daily-stats`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list, summary, breakdown, timeseries, facets, daily_stats),
    tags((name = "ventas", description = "Sales analytics of drawn sorteos (list, KPIs, breakdown, series, facets) and today's sales"))
)]
pub struct ApiDoc;

doc::doc_type!(StatusDoc = doc::filter_enum(&["ACTIVE", "EVALUATED", "PAID", "PAGADO"]));

doc::doc_type!(
    DimensionDoc = doc::text_enum(&[
        "ventana", "listero", "vendedor", "banca", "loteria", "sorteo", "numero",
    ])
);

doc::doc_type!(
    SortDoc = doc::filter_enum(&[
        "ventasTotal",
        "payoutTotal",
        "neto",
        "commissionTotal",
        "ticketsCount",
        "margin",
        "payoutRate",
    ])
);

doc::doc_type!(OrderDoc = doc::filter_enum(&["asc", "desc"]));

doc::doc_type!(GranularityDoc = doc::filter_enum(&["hour", "day", "week", "month"]));

doc::doc_type!(
    ListOrderDoc = doc::filter_enum(&[
        "createdAt",
        "-createdAt",
        "totalAmount",
        "-totalAmount",
        "ticketNumber",
        "-ticketNumber",
    ])
);

/// The longest period of a ventas query, in days.
const MAX_DAYS: i64 = 366;
/// The longest period of an hourly time series, in days.
const MAX_HOUR_DAYS: i64 = 31;

// ---------------------------------------------------------------------------------------------
// Shared query parts.

/// The keys every ventas query may carry besides its own.
#[derive(Debug, Default)]
struct Common {
    scope: Option<String>,
    date: Option<String>,
    from_date: Option<String>,
    to_date: Option<String>,
    status: Option<String>,
    winners_only: Option<bool>,
    banca_id: Option<Uuid>,
    ventana_id: Option<Uuid>,
    vendedor_id: Option<Uuid>,
    loteria_id: Option<Uuid>,
    sorteo_id: Option<Uuid>,
}

fn check_scope(v: Option<&str>) -> Result<(), ApiError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("mine") | Some("all") => Ok(()),
        Some(_) => Err(query_error("scope", "invalid_enum", "debe ser mine o all")),
    }
}

/// A status of the population, upper-cased.
fn status_of(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        let up = s.to_ascii_uppercase();
        if ["ACTIVE", "EVALUATED", "PAID", "PAGADO"].contains(&up.as_str()) {
            Ok(up)
        } else {
            Err(query_error(
                "status",
                "invalid_enum",
                "debe ser ACTIVE, EVALUATED, PAID o PAGADO",
            ))
        }
    })
    .transpose()
}

/// What a resolved ventas request reads.
struct Resolved {
    scope: ReportScope,
    /// `None`: the caller sees nothing.
    filter: Option<Filter>,
    view: View,
    from: NaiveDate,
    to: NaiveDate,
}

/// The cache key's parameters besides the scope.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Key<'a, T: Serialize> {
    from: NaiveDate,
    to: NaiveDate,
    status: Option<&'a str>,
    winners_only: bool,
    view: View,
    extra: T,
}

impl Resolved {
    fn key<T: Serialize>(&self, extra: T) -> Key<'_, T> {
        Key {
            from: self.from,
            to: self.to,
            status: self.filter.as_ref().and_then(|f| f.status.as_deref()),
            winners_only: self.filter.as_ref().is_some_and(|f| f.winners_only),
            view: self.view,
            extra,
        }
    }

    /// `meta` of the answer: the period and the effective filters.
    fn meta(&self, extra: Value) -> Value {
        let mut m = json!({
            "range": {"fromDate": self.from, "toDate": self.to},
            "effectiveFilters": self.scope,
        });
        if let (Value::Object(m), Value::Object(extra)) = (&mut m, extra) {
            m.extend(extra);
        }
        m
    }
}

async fn resolve(
    state: &AppState,
    auth: &Auth,
    c: &Common,
    max_days: i64,
) -> Result<Resolved, ApiError> {
    check_scope(c.scope.as_deref())?;
    let status = status_of(c.status.as_deref())?;
    let (from, to) = reports::period(
        state,
        c.date.as_deref(),
        c.from_date.as_deref(),
        c.to_date.as_deref(),
        max_days,
    )?;
    let scope = reports::scope(
        state,
        auth,
        Requested {
            banca_id: c.banca_id,
            ventana_id: c.ventana_id,
            vendedor_id: c.vendedor_id,
            loteria_id: c.loteria_id,
            sorteo_id: c.sorteo_id,
        },
    )
    .await?;
    let view = View {
        seller_commission: auth.0.role == Role::Vendedor,
        ventana_fields: auth.0.role == Role::Ventana,
    };
    let filter = (!scope.nothing).then(|| Filter {
        banca_id: scope.banca_id,
        ventana_id: scope.ventana_id,
        vendedor_id: scope.vendedor_id,
        loteria_id: scope.loteria_id,
        sorteo_id: scope.sorteo_id,
        from,
        to,
        status,
        winners_only: c.winners_only.unwrap_or(false),
        tz: state.config.business_timezone.name().to_string(),
    });
    Ok(Resolved {
        scope,
        filter,
        view,
        from,
        to,
    })
}

fn to_value<T: Serialize>(v: &T) -> Result<Value, sqlx::Error> {
    serde_json::to_value(v).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

// ---------------------------------------------------------------------------------------------
// GET /ventas/summary

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SummaryQuery {
    /// Accepted; VENTANA and VENDEDOR callers are always `mine`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    /// Period (default `today`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    /// Not in the future; at most 366 days after `fromDate` (31 for hourly series).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
    /// One status of the population.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<StatusDoc>, inline)]
    status: Option<String>,
    /// Only tickets with a prize.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    winners_only: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/ventas/summary",
    tag = "ventas",
    params(SummaryQuery),
    responses(
        (status = 200, description = "KPIs del período; meta con range, effectiveFilters, source, cache", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango demasiado largo (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Banca, ventana o vendedor fuera del alcance del rol", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn summary(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<SummaryQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let c = Common {
        scope: q.scope,
        date: q.date,
        from_date: q.from_date,
        to_date: q.to_date,
        status: q.status,
        winners_only: q.winners_only,
        banca_id: q.banca_id,
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
        loteria_id: q.loteria_id,
        sorteo_id: q.sorteo_id,
    };
    let r = resolve(&state, &auth, &c, MAX_DAYS).await?;
    let meta = r.meta(json!({}));
    let (filter, view) = (&r.filter, r.view);
    reports::cached(&state, "ventas-summary", &r.scope, &r.key(()), |pool| {
        let meta = meta.clone();
        async move {
            let s = svc::summary(&pool, filter.as_ref(), view).await?;
            Ok((to_value(&s)?, meta))
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// GET /ventas/breakdown

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BreakdownQuery {
    /// Required.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, value_type = DimensionDoc, inline)]
    dimension: Option<String>,
    /// Groups returned (default 10).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    top: Option<String>,
    /// Accepted; VENTANA and VENDEDOR callers are always `mine`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    /// Period (default `today`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    /// Not in the future; at most 366 days after `fromDate` (31 for hourly series).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
    /// One status of the population.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<StatusDoc>, inline)]
    status: Option<String>,
    /// Only tickets with a prize.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    winners_only: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
    /// At most 100 characters.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(max_length = 100)]
    search: Option<String>,
    /// Default `ventasTotal`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<SortDoc>, inline)]
    order_by: Option<String>,
    /// Default `desc`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<OrderDoc>, inline)]
    order: Option<String>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

fn dimension_of(v: Option<&str>) -> Result<(Dimension, &'static str), ApiError> {
    const ISSUE: &str = "debe ser ventana, listero, vendedor, banca, loteria, sorteo o numero";
    match v.map(str::to_ascii_lowercase).as_deref() {
        None => Err(query_error("dimension", "required", ISSUE)),
        Some("ventana") => Ok((Dimension::Ventana, "ventana")),
        Some("listero") => Ok((Dimension::Ventana, "listero")),
        Some("vendedor") => Ok((Dimension::Vendedor, "vendedor")),
        Some("banca") => Ok((Dimension::Banca, "banca")),
        Some("loteria") => Ok((Dimension::Loteria, "loteria")),
        Some("sorteo") => Ok((Dimension::Sorteo, "sorteo")),
        Some("numero") => Ok((Dimension::Numero, "numero")),
        Some(_) => Err(query_error("dimension", "invalid_enum", ISSUE)),
    }
}

/// `top`: 1–100, default 10.
fn top_of(v: Option<&str>) -> Result<i64, ApiError> {
    match v {
        None => Ok(10),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(query_error(
                "top",
                "out_of_range",
                "debe ser un entero entre 1 y 100",
            )),
        },
    }
}

fn sort_of(v: Option<&str>) -> Result<(Sort, &'static str), ApiError> {
    match v {
        None | Some("ventasTotal") => Ok((Sort::Sales, "ventasTotal")),
        Some("payoutTotal") => Ok((Sort::Payouts, "payoutTotal")),
        Some("neto") => Ok((Sort::Neto, "neto")),
        Some("commissionTotal") => Ok((Sort::Commission, "commissionTotal")),
        Some("ticketsCount") => Ok((Sort::Tickets, "ticketsCount")),
        Some("margin") => Ok((Sort::Margin, "margin")),
        Some("payoutRate") => Ok((Sort::PayoutRate, "payoutRate")),
        Some(_) => Err(query_error(
            "orderBy",
            "invalid_enum",
            "debe ser ventasTotal, payoutTotal, neto, commissionTotal, ticketsCount, margin o payoutRate",
        )),
    }
}

/// `asc` or `desc` (default): whether ascending.
fn asc_of(v: Option<&str>) -> Result<bool, ApiError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("desc") => Ok(false),
        Some("asc") => Ok(true),
        Some(_) => Err(query_error("order", "invalid_enum", "debe ser asc o desc")),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/ventas/breakdown",
    tag = "ventas",
    params(BreakdownQuery),
    responses(
        (status = 200, description = "Los primeros grupos de la dimensión; meta con range, effectiveFilters, source, cache", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango demasiado largo (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Banca, ventana o vendedor fuera del alcance del rol", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn breakdown(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<BreakdownQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let (dimension, dimension_name) = dimension_of(q.dimension.as_deref())?;
    let top = top_of(q.top.as_deref())?;
    let (sort, sort_name) = sort_of(q.order_by.as_deref())?;
    let asc = asc_of(q.order.as_deref())?;
    if q.search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(query_error(
            "search",
            "too_long",
            "no puede pasar de 100 caracteres",
        ));
    }
    let c = Common {
        scope: q.scope,
        date: q.date,
        from_date: q.from_date,
        to_date: q.to_date,
        status: q.status,
        winners_only: q.winners_only,
        banca_id: q.banca_id,
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
        loteria_id: q.loteria_id,
        sorteo_id: q.sorteo_id,
    };
    let r = resolve(&state, &auth, &c, MAX_DAYS).await?;
    let grouping = Grouping {
        dimension,
        sort,
        asc,
        search: q.search.clone(),
        top,
        seller_commission: r.view.seller_commission,
    };
    let meta = r.meta(json!({
        "dimension": dimension_name,
        "topCount": top,
        "orderBy": sort_name,
        "order": if asc { "asc" } else { "desc" },
    }));
    let key = r.key(json!({
        "dimension": dimension_name,
        "top": top,
        "orderBy": sort_name,
        "asc": asc,
        "search": q.search,
    }));
    let (filter, view, grouping) = (&r.filter, r.view, &grouping);
    reports::cached(&state, "ventas-breakdown", &r.scope, &key, |pool| {
        let meta = meta.clone();
        async move {
            let rows = svc::breakdown(&pool, filter.as_ref(), grouping, view).await?;
            Ok((to_value(&rows)?, meta))
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// GET /ventas/timeseries

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TimeseriesQuery {
    /// Default `day`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<GranularityDoc>, inline)]
    granularity: Option<String>,
    /// Accepted; VENTANA and VENDEDOR callers are always `mine`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    /// Period (default `today`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    /// Not in the future; at most 366 days after `fromDate` (31 for hourly series).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
    /// One status of the population.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<StatusDoc>, inline)]
    status: Option<String>,
    /// Only tickets with a prize.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    winners_only: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

fn granularity_of(v: Option<&str>) -> Result<(Granularity, &'static str), ApiError> {
    match v.map(str::to_ascii_lowercase).as_deref() {
        None | Some("day") => Ok((Granularity::Day, "day")),
        Some("hour") => Ok((Granularity::Hour, "hour")),
        Some("week") => Ok((Granularity::Week, "week")),
        Some("month") => Ok((Granularity::Month, "month")),
        Some(_) => Err(query_error(
            "granularity",
            "invalid_enum",
            "debe ser hour, day, week o month",
        )),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/ventas/timeseries",
    tag = "ventas",
    params(TimeseriesQuery),
    responses(
        (status = 200, description = "Buckets por hora, día, semana o mes; meta con range, source, cache", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango demasiado largo (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Banca, ventana o vendedor fuera del alcance del rol", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn timeseries(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<TimeseriesQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let (granularity, name) = granularity_of(q.granularity.as_deref())?;
    let c = Common {
        scope: q.scope,
        date: q.date,
        from_date: q.from_date,
        to_date: q.to_date,
        status: q.status,
        winners_only: q.winners_only,
        banca_id: q.banca_id,
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
        loteria_id: q.loteria_id,
        sorteo_id: q.sorteo_id,
    };
    let max = if granularity == Granularity::Hour {
        MAX_HOUR_DAYS
    } else {
        MAX_DAYS
    };
    let r = resolve(&state, &auth, &c, max).await?;
    let meta = r.meta(json!({ "granularity": name }));
    let tz = state.config.business_timezone;
    let (filter, view) = (&r.filter, r.view);
    reports::cached(
        &state,
        "ventas-timeseries",
        &r.scope,
        &r.key(name),
        |pool| {
            let meta = meta.clone();
            async move {
                let rows = svc::timeseries(&pool, filter.as_ref(), granularity, tz, view).await?;
                Ok((to_value(&rows)?, meta))
            }
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// GET /ventas/facets

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FacetsQuery {
    /// Accepted; VENTANA and VENDEDOR callers are always `mine`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    /// Period (default `today`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    /// Not in the future; at most 366 days after `fromDate` (31 for hourly series).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/ventas/facets",
    tag = "ventas",
    params(FacetsQuery),
    responses(
        (status = 200, description = "Valores de filtro con ventas en el período", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango demasiado largo (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Banca, ventana o vendedor fuera del alcance del rol", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn facets(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<FacetsQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let c = Common {
        scope: q.scope,
        date: q.date,
        from_date: q.from_date,
        to_date: q.to_date,
        ..Common::default()
    };
    let r = resolve(&state, &auth, &c, MAX_DAYS).await?;
    let meta = r.meta(json!({}));
    let filter = &r.filter;
    reports::cached(&state, "ventas-facets", &r.scope, &r.key(()), |pool| {
        let meta = meta.clone();
        async move {
            let f = svc::facets(&pool, filter.as_ref()).await?;
            Ok((to_value(&f)?, meta))
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// GET /ventas

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListQuery {
    /// Page number (default 1).
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    page: Option<u32>,
    /// Page size (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    /// Accepted; VENTANA and VENDEDOR callers are always `mine`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
    /// Period (default `today`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::DateToken>, inline)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    from_date: Option<String>,
    /// Not in the future; at most 366 days after `fromDate` (31 for hourly series).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    to_date: Option<String>,
    /// One status of the population.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<StatusDoc>, inline)]
    status: Option<String>,
    /// Only tickets with a prize.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    winners_only: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    multiplier_id: Option<Uuid>,
    /// Ticket number or client name, at most 100 characters.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(max_length = 100)]
    search: Option<String>,
    /// `createdAt`, `totalAmount` or `ticketNumber`; `-` first for descending (default `-createdAt`).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<ListOrderDoc>, inline)]
    order_by: Option<String>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

/// `createdAt|totalAmount|ticketNumber`, `-` first for descending (default `-createdAt`).
fn list_order_of(v: Option<&str>) -> Result<(ListOrder, bool), ApiError> {
    let Some(s) = v else {
        return Ok((ListOrder::CreatedAt, true));
    };
    let (field, desc) = match s.strip_prefix('-') {
        Some(f) => (f, true),
        None => (s, false),
    };
    let order = match field {
        "createdAt" => ListOrder::CreatedAt,
        "totalAmount" => ListOrder::TotalAmount,
        "ticketNumber" => ListOrder::TicketNumber,
        _ => {
            return Err(query_error(
                "orderBy",
                "invalid_enum",
                "debe ser createdAt, totalAmount o ticketNumber (con - delante: descendente)",
            ))
        }
    };
    Ok((order, desc))
}

#[utoipa::path(
    get,
    path = "/api/v1/ventas",
    tag = "ventas",
    params(ListQuery),
    responses(
        (status = 200, description = "Una página de tickets con jugadas; meta de lista, range, source, cache", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango demasiado largo (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Banca, ventana o vendedor fuera del alcance del rol", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let page = Page::new(q.page, q.page_size, 20, 100)?;
    let (order, desc) = list_order_of(q.order_by.as_deref())?;
    if q.search.as_ref().is_some_and(|s| s.chars().count() > 100) {
        return Err(query_error(
            "search",
            "too_long",
            "no puede pasar de 100 caracteres",
        ));
    }
    let c = Common {
        scope: q.scope,
        date: q.date,
        from_date: q.from_date,
        to_date: q.to_date,
        status: q.status,
        winners_only: q.winners_only,
        banca_id: q.banca_id,
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
        loteria_id: q.loteria_id,
        sorteo_id: q.sorteo_id,
    };
    let r = resolve(&state, &auth, &c, MAX_DAYS).await?;
    let options = ListOptions {
        multiplier_id: q.multiplier_id,
        search: q.search.clone(),
        order,
        desc,
        limit: page.limit(),
        offset: page.offset(),
    };
    let meta = r.meta(json!({}));
    let key = r.key(json!({
        "page": page.page,
        "pageSize": page.page_size,
        "multiplierId": q.multiplier_id,
        "search": q.search,
        "orderBy": q.order_by,
    }));
    let (filter, options) = (&r.filter, &options);
    reports::cached(&state, "ventas-list", &r.scope, &key, |pool| {
        let meta = meta.clone();
        async move {
            let (rows, total) = svc::list(&pool, filter.as_ref(), options).await?;
            let mut m = to_value(&page.meta(total))?;
            if let (Value::Object(m), Value::Object(extra)) = (&mut m, meta) {
                m.extend(extra);
            }
            Ok((to_value(&rows)?, m))
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// GET /sales/daily-stats

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DailyStatsQuery {
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    banca_id: Option<Uuid>,
    /// The business day, `YYYY-MM-DD` (default today).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Day>, inline)]
    date: Option<String>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    _cache_buster: Option<String>,
}

/// `GET /sales/daily-stats`: scoped like every report (decision 4; the reference answered
/// anyone about anyone). `date` is a business day (default today).
#[utoipa::path(
    get,
    path = "/api/v1/sales/daily-stats",
    tag = "ventas",
    params(DailyStatsQuery),
    responses(
        (status = 200, description = "Ventas del día hábil, cualquier estado de sorteo (en vivo)", body = SuccessEnvelope),
        (status = 400, description = "Fecha o filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Banca, ventana o vendedor fuera del alcance del rol", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn daily_stats(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DailyStatsQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let day = query_date("date", q.date.as_deref())?.unwrap_or_else(|| reports::today(&state));
    let scope = reports::scope(
        &state,
        &auth,
        Requested {
            banca_id: q.banca_id,
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            ..Requested::default()
        },
    )
    .await?;
    let meta = json!({ "effectiveFilters": scope });
    let scope = &scope;
    reports::live(&state, |pool| {
        let meta = meta.clone();
        async move {
            let s = svc::daily_stats(&pool, scope, day).await?;
            Ok((to_value(&s)?, meta))
        }
    })
    .await
}
