//! `/reports/*` (domain-money §6.4): strict queries (an unknown key is a 400), role checks,
//! scoping to the caller's banca through `http::reports::scope` (decision 4), reads through
//! the replica when one is configured (decision 12; `meta.source`).
//!
//! | route | roles | read |
//! |---|---|---|
//! | `GET /api/v1/reports/tickets/summary` | ADMIN, BANCA | live |
//! | `GET /api/v1/reports/tickets/winners-payments` | ADMIN, BANCA | live |
//! | `GET /api/v1/reports/tickets/numbers-analysis` | ADMIN, BANCA, VENTANA | live |
//! | `GET /api/v1/reports/tickets/numbers-analysis/detail` | ADMIN, BANCA | live |
//! | `GET /api/v1/reports/tickets/cancelled` | ADMIN, BANCA | live |
//! | `GET /api/v1/reports/tickets/exposure` | ADMIN, BANCA | live |
//! | `GET /api/v1/reports/tickets/profitability` | ADMIN, BANCA | cached (rollups) |
//! | `GET /api/v1/reports/tickets/time-analysis` | ADMIN, BANCA | live |
//! | `GET /api/v1/reports/loterias/performance` | ADMIN, BANCA | cached (rollups) |
//! | `GET /api/v1/reports/ventanas/ranking` | ADMIN, BANCA | cached (rollups) |
//! | `GET /api/v1/reports/vendedores/ranking` | ADMIN, BANCA | cached (rollups) |
//! | `GET /api/v1/reports/vendedores/commissions-chart` | ADMIN, BANCA | cached (rollups) |
//! | `GET /api/v1/reports/winners-list/{sorteoId}` | any (scoped) | live |
//!
//! Other roles get 403 `FORBIDDEN`. "Live" reports include ACTIVE tickets, cancellations,
//! hours of sale or payments; the rollup reports only change with evaluations, which bump the
//! cache generation. A sorteo or lotería outside the caller's banca is a 404. Periods are at
//! most 366 days.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{de, AppPath, AppQuery};
use crate::http::pagination::Page;
use crate::http::reports;
use crate::http::routes::bancas::query_error;
use crate::services::report_scope::{ReportScope, Requested};
use crate::services::reports::{
    self as svc, ExposureOptions, NumbersOptions, Paging, ReportFilter, TimeMetric, TrendBy,
    VendedorSort, VentanaSort, WinnerFilter,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/tickets/summary", get(summary))
        .route(
            "/api/v1/reports/tickets/winners-payments",
            get(winners_payments),
        )
        .route(
            "/api/v1/reports/tickets/numbers-analysis",
            get(numbers_analysis),
        )
        .route(
            "/api/v1/reports/tickets/numbers-analysis/detail",
            get(numbers_detail),
        )
        .route("/api/v1/reports/tickets/cancelled", get(cancelled))
        .route("/api/v1/reports/tickets/exposure", get(exposure))
        .route("/api/v1/reports/tickets/profitability", get(profitability))
        .route("/api/v1/reports/tickets/time-analysis", get(time_analysis))
        .route("/api/v1/reports/loterias/performance", get(loterias))
        .route("/api/v1/reports/ventanas/ranking", get(ventanas_ranking))
        .route(
            "/api/v1/reports/vendedores/ranking",
            get(vendedores_ranking),
        )
        .route(
            "/api/v1/reports/vendedores/commissions-chart",
            get(commissions_chart),
        )
        .route("/api/v1/reports/winners-list/{sorteoId}", get(winners_list))
}

type Answer = Result<ApiResponse<Value>, ApiError>;

/// The longest period a report covers, in days.
const MAX_DAYS: i64 = 366;

const ADMIN_BANCA: &[Role] = &[Role::Admin, Role::Banca];

/// The caller's effective scope after the role check.
async fn scope(
    state: &AppState,
    auth: &Auth,
    roles: &[Role],
    req: Requested,
) -> Result<ReportScope, ApiError> {
    auth.require(roles)?;
    reports::scope(state, auth, req).await
}

/// The report filter of `scope` over the period of `date`/`fromDate`/`toDate`.
fn filter(
    state: &AppState,
    scope: &ReportScope,
    date: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<ReportFilter, ApiError> {
    let (from, to) = reports::period(state, date, from, to, MAX_DAYS)?;
    Ok(svc::filter(
        scope,
        from,
        to,
        state.config.business_timezone.name(),
    ))
}

/// `filter`'s key in the report cache (the scope is added by `reports::cached`).
fn key(f: &ReportFilter) -> Value {
    json!({"from": f.from, "to": f.to, "tz": f.tz})
}

/// `top` within `1..=max` (default `def`).
fn top_of(v: Option<u32>, def: u32, max: u32) -> Result<usize, ApiError> {
    match v.unwrap_or(def) {
        n if (1..=max).contains(&n) => Ok(n as usize),
        _ => Err(query_error(
            "top",
            "out_of_range",
            &format!("debe estar entre 1 y {max}"),
        )),
    }
}

/// `betType`: NUMERO | REVENTADO | all (absent: all).
fn bet_type_of(v: Option<&str>) -> Result<Option<String>, ApiError> {
    match v.map(str::to_ascii_uppercase).as_deref() {
        None | Some("ALL") => Ok(None),
        Some(t @ ("NUMERO" | "REVENTADO")) => Ok(Some(t.to_string())),
        Some(_) => Err(query_error(
            "betType",
            "invalid_enum",
            "debe ser NUMERO, REVENTADO o all",
        )),
    }
}

/// A non-negative amount.
fn amount_of(field: &str, v: Option<&str>) -> Result<Option<Decimal>, ApiError> {
    v.map(|s| match s.parse::<Decimal>() {
        Ok(d) if d >= Decimal::ZERO => Ok(d),
        _ => Err(query_error(
            field,
            "invalid_number",
            "debe ser un monto mayor o igual a 0",
        )),
    })
    .transpose()
}

fn required<T>(field: &str, v: Option<T>) -> Result<T, ApiError> {
    v.ok_or_else(|| query_error(field, "required", "es requerido"))
}

fn paging(page: &Page) -> impl Fn(i64) -> Value + Send + Sync + 'static {
    let page = *page;
    move |total| serde_json::to_value(page.meta(total)).unwrap_or_else(|_| json!({}))
}

// ---------------------------------------------------------------------------------------------
// GET /reports/tickets/summary

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SummaryQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    sorteo_id: Option<Uuid>,
}

async fn summary(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<SummaryQuery>,
) -> Answer {
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            sorteo_id: q.sorteo_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    reports::live(&state, |pool| {
        let f = f.clone();
        async move { svc::summary(&pool, &f).await }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Queries of the period reports with the usual filters.

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WinnersQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    payment_status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    expired_only: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    min_payout: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    max_payout: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    bet_type: Option<String>,
}

async fn winners_payments(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<WinnersQuery>,
) -> Answer {
    let payment_status = match q.payment_status.as_deref().map(str::to_ascii_lowercase) {
        None => None,
        Some(s) if s == "all" => None,
        Some(s) if ["paid", "partial", "unpaid"].contains(&s.as_str()) => Some(s),
        Some(_) => {
            return Err(query_error(
                "paymentStatus",
                "invalid_enum",
                "debe ser all, paid, partial o unpaid",
            ))
        }
    };
    let wf = WinnerFilter {
        payment_status,
        expired_only: q.expired_only.unwrap_or(false),
        min_payout: amount_of("minPayout", q.min_payout.as_deref())?,
        max_payout: amount_of("maxPayout", q.max_payout.as_deref())?,
        bet_type: bet_type_of(q.bet_type.as_deref())?,
    };
    if let (Some(min), Some(max)) = (wf.min_payout, wf.max_payout) {
        if min > max {
            return Err(query_error(
                "minPayout",
                "invalid_range",
                "debe ser menor o igual a maxPayout",
            ));
        }
    }
    let page = Page::new(q.page, q.page_size, 20, 100)?;
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let meta = paging(&page);
    reports::live(&state, |pool| {
        let (f, wf) = (f.clone(), wf.clone());
        let p = Paging {
            limit: page.limit(),
            offset: page.offset(),
            meta: &meta,
        };
        async move { svc::winners_payments(&pool, &f, &wf, &p).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NumbersQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    bet_type: Option<String>,
    #[serde(default)]
    top: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_comparison: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_winners: Option<bool>,
    /// Accepted; the per-number exposure of a sorteo is `/reports/tickets/exposure`.
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_exposure: Option<bool>,
    /// `mine|all`: the role already decides the scope.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    scope: Option<String>,
}

async fn numbers_analysis(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<NumbersQuery>,
) -> Answer {
    if let Some(sc) = q.scope.as_deref() {
        if !["mine", "all"].contains(&sc.to_ascii_lowercase().as_str()) {
            return Err(query_error("scope", "invalid_enum", "debe ser mine o all"));
        }
    }
    let _ = q.include_exposure;
    let o = NumbersOptions {
        bet_type: bet_type_of(q.bet_type.as_deref())?,
        top: top_of(q.top, 20, 100)? as i64,
        include_winners: q.include_winners.unwrap_or(false),
        include_comparison: q.include_comparison.unwrap_or(false),
    };
    let s = scope(
        &state,
        &auth,
        &[Role::Admin, Role::Banca, Role::Ventana],
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    reports::live(&state, |pool| {
        let (f, o) = (f.clone(), o.clone());
        async move { svc::numbers_analysis(&pool, &f, &o).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DetailQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    number: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    bet_type: Option<String>,
}

async fn numbers_detail(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<DetailQuery>,
) -> Answer {
    let number = required("number", q.number)?;
    if !((2..=3).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())) {
        return Err(query_error(
            "number",
            "invalid_number",
            "debe tener 2 o 3 dígitos (por ejemplo 05)",
        ));
    }
    let loteria = required("loteriaId", q.loteria_id)?;
    let bet_type = bet_type_of(q.bet_type.as_deref())?;
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: Some(loteria),
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let banca = f.banca_id;
    let (name, _) = state
        .pools
        .read(move |pool| async move { svc::loteria_name(&pool, loteria, banca).await })
        .await?;
    let name = name.ok_or_else(ApiError::not_found)?;
    reports::live(&state, |pool| {
        let (f, number, name, bt) = (f.clone(), number.clone(), name.clone(), bet_type.clone());
        async move { svc::number_detail(&pool, &f, &number, &name, bt.as_deref()).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CancelledQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    page_size: Option<u32>,
}

async fn cancelled(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<CancelledQuery>,
) -> Answer {
    let page = Page::new(q.page, q.page_size, 20, 100)?;
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let meta = paging(&page);
    reports::live(&state, |pool| {
        let f = f.clone();
        let p = Paging {
            limit: page.limit(),
            offset: page.offset(),
            meta: &meta,
        };
        async move { svc::cancelled(&pool, &f, &p).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExposureQuery {
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default)]
    top: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    min_exposure: Option<String>,
}

async fn exposure(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ExposureQuery>,
) -> Answer {
    let sorteo = required("sorteoId", q.sorteo_id)?;
    let o = ExposureOptions {
        top: top_of(q.top, 20, 100)?,
        min_exposure: amount_of("minExposure", q.min_exposure.as_deref())?,
    };
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            sorteo_id: Some(sorteo),
            ..Default::default()
        },
    )
    .await?;
    let today = reports::today(&state);
    let f = svc::filter(&s, today, today, state.config.business_timezone.name());
    let banca = f.banca_id;
    let (head, _) = state
        .pools
        .read(move |pool| async move { svc::sorteo(&pool, sorteo, banca).await })
        .await?;
    let head = head.ok_or_else(ApiError::not_found)?;
    reports::live(&state, |pool| {
        let (f, head) = (f.clone(), head.clone());
        async move { svc::exposure(&pool, &f, &head, o).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfitQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_comparison: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    group_by: Option<String>,
}

async fn profitability(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ProfitQuery>,
) -> Answer {
    let group_by = q
        .group_by
        .as_deref()
        .map(|g| {
            TrendBy::parse(g).ok_or_else(|| {
                query_error(
                    "groupBy",
                    "invalid_enum",
                    "debe ser hour, day, week o month",
                )
            })
        })
        .transpose()?;
    let cmp = q.include_comparison.unwrap_or(false);
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let params = json!({"f": key(&f), "groupBy": group_by, "cmp": cmp});
    reports::cached(&state, "reports.profitability", &s, &params, |pool| {
        let f = f.clone();
        async move { svc::profitability(&pool, &f, group_by, cmp).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TimeQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    metric: Option<String>,
}

async fn time_analysis(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<TimeQuery>,
) -> Answer {
    let metric = match q.metric.as_deref() {
        None => TimeMetric::Ventas,
        Some(m) => TimeMetric::parse(m).ok_or_else(|| {
            query_error(
                "metric",
                "invalid_enum",
                "debe ser ventas, tickets o cancelaciones",
            )
        })?,
    };
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    reports::live(&state, |pool| {
        let f = f.clone();
        async move { svc::time_analysis(&pool, &f, metric).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoteriasQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_comparison: Option<bool>,
}

async fn loterias(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<LoteriasQuery>,
) -> Answer {
    let cmp = q.include_comparison.unwrap_or(false);
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let params = json!({"f": key(&f), "cmp": cmp});
    reports::cached(&state, "reports.loterias", &s, &params, |pool| {
        let f = f.clone();
        async move { svc::loterias_performance(&pool, &f, cmp).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VentanasQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default)]
    top: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    sort_by: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_comparison: Option<bool>,
}

async fn ventanas_ranking(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<VentanasQuery>,
) -> Answer {
    let top = top_of(q.top, 10, 50)?;
    let sort = match q.sort_by.as_deref() {
        None => VentanaSort::Ventas,
        Some(v) => VentanaSort::parse(v).ok_or_else(|| {
            query_error(
                "sortBy",
                "invalid_enum",
                "debe ser ventas, neto, margin o tickets",
            )
        })?,
    };
    let cmp = q.include_comparison.unwrap_or(false);
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let params = json!({"f": key(&f), "top": top, "sort": sort, "cmp": cmp});
    reports::cached(&state, "reports.ventanas-ranking", &s, &params, |pool| {
        let f = f.clone();
        async move { svc::ventanas_ranking(&pool, &f, top, sort, cmp).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VendedoresQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default)]
    top: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    sort_by: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    include_inactive: Option<bool>,
}

async fn vendedores_ranking(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<VendedoresQuery>,
) -> Answer {
    let top = top_of(q.top, 20, 100)?;
    let sort = match q.sort_by.as_deref() {
        None => VendedorSort::Ventas,
        Some(v) => VendedorSort::parse(v).ok_or_else(|| {
            query_error(
                "sortBy",
                "invalid_enum",
                "debe ser ventas, tickets, comisiones o margen",
            )
        })?,
    };
    let inactive = q.include_inactive.unwrap_or(false);
    let s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: q.ventana_id,
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let params = json!({"f": key(&f), "top": top, "sort": sort, "inactive": inactive});
    reports::cached(&state, "reports.vendedores-ranking", &s, &params, |pool| {
        let f = f.clone();
        async move { svc::vendedores_ranking(&pool, &f, top, sort, inactive).await }
    })
    .await
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChartQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    ticket_status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    exclude_ticket_status: Option<String>,
}

const TICKET_STATUSES: [&str; 7] = [
    "ACTIVE",
    "EVALUATED",
    "PAID",
    "PAGADO",
    "CANCELLED",
    "RESTORED",
    "EXCLUDED",
];

/// Statuses that carry money (the rollups' population).
const MONEY_STATUSES: [&str; 4] = ["ACTIVE", "EVALUATED", "PAID", "PAGADO"];

/// A comma list of ticket statuses.
fn statuses_of(field: &str, v: Option<&str>) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for s in v.unwrap_or_default().split(',').map(str::trim) {
        if s.is_empty() {
            continue;
        }
        let up = s.to_ascii_uppercase();
        if !TICKET_STATUSES.contains(&up.as_str()) {
            return Err(query_error(
                field,
                "invalid_enum",
                "debe ser una lista de ACTIVE, EVALUATED, PAID, PAGADO, CANCELLED, RESTORED o \
                 EXCLUDED",
            ));
        }
        out.push(up);
    }
    Ok(out)
}

async fn commissions_chart(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<ChartQuery>,
) -> Answer {
    let ventana = required("ventanaId", q.ventana_id)?;
    let only = statuses_of("ticketStatus", q.ticket_status.as_deref())?;
    let excluded = statuses_of("excludeTicketStatus", q.exclude_ticket_status.as_deref())?;
    // The chart counts evaluated money: it is empty when the statuses asked for carry none.
    let none = (!only.is_empty() && !only.iter().any(|s| MONEY_STATUSES.contains(&s.as_str())))
        || MONEY_STATUSES
            .iter()
            .all(|s| excluded.iter().any(|e| e == s));
    let mut s = scope(
        &state,
        &auth,
        ADMIN_BANCA,
        Requested {
            ventana_id: Some(ventana),
            vendedor_id: q.vendedor_id,
            loteria_id: q.loteria_id,
            ..Default::default()
        },
    )
    .await?;
    s.nothing |= none;
    let f = filter(
        &state,
        &s,
        q.date.as_deref(),
        q.from_date.as_deref(),
        q.to_date.as_deref(),
    )?;
    let params = json!({"f": key(&f), "none": none});
    reports::cached(&state, "reports.commissions-chart", &s, &params, |pool| {
        let f = f.clone();
        async move { svc::commissions_chart(&pool, &f).await }
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// GET /reports/winners-list/{sorteoId}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WinnersListQuery {
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
}

async fn winners_list(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(sorteo): AppPath<Uuid>,
    AppQuery(q): AppQuery<WinnersListQuery>,
) -> Answer {
    let s = scope(
        &state,
        &auth,
        &[Role::Admin, Role::Banca, Role::Ventana, Role::Vendedor],
        Requested {
            vendedor_id: q.vendedor_id,
            sorteo_id: Some(sorteo),
            ..Default::default()
        },
    )
    .await?;
    let today = reports::today(&state);
    let f = svc::filter(&s, today, today, state.config.business_timezone.name());
    let (banca, seller) = (f.banca_id, f.vendedor_id);
    let ((head, seller_name), _) = state
        .pools
        .read(move |pool| async move {
            let head = svc::sorteo(&pool, sorteo, banca).await?;
            let name = match seller {
                Some(id) => svc::user_name(&pool, id).await?,
                None => None,
            };
            Ok((head, name))
        })
        .await?;
    let head = head.ok_or_else(ApiError::not_found)?;
    reports::live(&state, |pool| {
        let (f, head, name) = (f.clone(), head.clone(), seller_name.clone());
        async move { svc::winners_list(&pool, &f, &head, name).await }
    })
    .await
}
