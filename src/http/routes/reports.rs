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
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::reports;
use crate::http::routes::bancas::query_error;
use crate::http::routes::ticket_reads::doc;
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

/// The OpenAPI description of `/reports/*`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        summary,
        winners_payments,
        numbers_analysis,
        numbers_detail,
        cancelled,
        exposure,
        profitability,
        time_analysis,
        loterias,
        ventanas_ranking,
        vendedores_ranking,
        commissions_chart,
        winners_list
    ),
    tags((name = "reports", description = "Reports: tickets summary, winners and payments, numbers analysis, cancellations, exposure, profitability, time analysis, rankings, commissions chart, winners list"))
)]
pub struct ApiDoc;

doc::doc_type!(BetTypeOrAllDoc = doc::filter_enum(&["NUMERO", "REVENTADO", "all"]));

doc::doc_type!(PaymentStatusDoc = doc::filter_enum(&["all", "paid", "partial", "unpaid"]));

doc::doc_type!(GroupByDoc = doc::filter_enum(&["hour", "day", "week", "month"]));

doc::doc_type!(MetricDoc = doc::filter_enum(&["ventas", "tickets", "cancelaciones"]));

doc::doc_type!(VentanaSortDoc = doc::filter_enum(&["ventas", "neto", "margin", "tickets"]));

doc::doc_type!(VendedorSortDoc = doc::filter_enum(&["ventas", "tickets", "comisiones", "margen"]));

doc::doc_type!(
    /// A comma list of ticket statuses.
    StatusesDoc = doc::text_pattern(
            "^ *(ACTIVE|EVALUATED|PAID|PAGADO|CANCELLED|RESTORED|EXCLUDED)? *(, *(ACTIVE|EVALUATED|PAID|PAGADO|CANCELLED|RESTORED|EXCLUDED)? *)*$",
        )
);

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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SummaryQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/tickets/summary",
    tag = "reports",
    params(SummaryQuery),
    responses(
        (status = 200, description = "Resumen de tickets del período; meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WinnersQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Page number (default 1).
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    page: Option<u32>,
    /// Page size (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    /// Default `all`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<PaymentStatusDoc>, inline)]
    payment_status: Option<String>,
    /// Only prizes past their payment deadline.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    expired_only: Option<bool>,
    /// A non-negative amount.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Amount>, inline)]
    min_payout: Option<String>,
    /// A non-negative amount, at least `minPayout`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Amount>, inline)]
    max_payout: Option<String>,
    /// `NUMERO`, `REVENTADO` or `all` (default, any case).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<BetTypeOrAllDoc>, inline)]
    bet_type: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/tickets/winners-payments",
    tag = "reports",
    params(WinnersQuery),
    responses(
        (status = 200, description = "Ganadores y sus pagos, paginado; meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NumbersQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// `NUMERO`, `REVENTADO` or `all` (default, any case).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<BetTypeOrAllDoc>, inline)]
    bet_type: Option<String>,
    /// Rows returned (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    top: Option<u32>,
    /// Also the previous period.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    include_comparison: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    include_winners: Option<bool>,
    /// Adds `exposure` per number: the potential payout of its NUMERO lines in the period's
    /// sorteos without a result (the per-number exposure of one sorteo with its risk levels is
    /// `/reports/tickets/exposure`).
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    include_exposure: Option<bool>,
    /// `mine|all`: the role already decides the scope.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::ReportScope>, inline)]
    scope: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/tickets/numbers-analysis",
    tag = "reports",
    params(NumbersQuery),
    responses(
        (status = 200, description = "Números más jugados; meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN, BANCA o VENTANA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
    let o = NumbersOptions {
        bet_type: bet_type_of(q.bet_type.as_deref())?,
        top: top_of(q.top, 20, 100)? as i64,
        include_winners: q.include_winners.unwrap_or(false),
        include_comparison: q.include_comparison.unwrap_or(false),
        include_exposure: q.include_exposure.unwrap_or(false),
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DetailQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    /// Required.
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(required = true, value_type = Uuid)]
    loteria_id: Option<Uuid>,
    /// The number, 2 or 3 digits (required).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(required = true, pattern = "^[0-9]{2,3}$")]
    number: Option<String>,
    /// `NUMERO`, `REVENTADO` or `all` (default, any case).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<BetTypeOrAllDoc>, inline)]
    bet_type: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/tickets/numbers-analysis/detail",
    tag = "reports",
    params(DetailQuery),
    responses(
        (status = 200, description = "Detalle de un número en una lotería; meta.source", body = SuccessEnvelope),
        (status = 400, description = "Falta number o loteriaId, o filtro inválido (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
        (status = 404, description = "Lotería fuera de la banca", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CancelledQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Page number (default 1).
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    page: Option<u32>,
    /// Page size (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/tickets/cancelled",
    tag = "reports",
    params(CancelledQuery),
    responses(
        (status = 200, description = "Tickets anulados, paginado; meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExposureQuery {
    /// Required.
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(required = true, value_type = Uuid)]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Rows returned (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    top: Option<u32>,
    /// A non-negative amount.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<doc::Amount>, inline)]
    min_exposure: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/tickets/exposure",
    tag = "reports",
    params(ExposureQuery),
    responses(
        (status = 200, description = "Exposición por número de un sorteo; meta.source", body = SuccessEnvelope),
        (status = 400, description = "Falta sorteoId o filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
        (status = 404, description = "Sorteo fuera de la banca", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProfitQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Also the previous period.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    include_comparison: Option<bool>,
    /// A trend by hour, day, week or month.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<GroupByDoc>, inline)]
    group_by: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/tickets/profitability",
    tag = "reports",
    params(ProfitQuery),
    responses(
        (status = 200, description = "Rentabilidad del período (meta.cache); meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TimeQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Default `ventas`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<MetricDoc>, inline)]
    metric: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/tickets/time-analysis",
    tag = "reports",
    params(TimeQuery),
    responses(
        (status = 200, description = "Ventas, tickets o anulaciones por hora y día; meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoteriasQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Also the previous period.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    include_comparison: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/loterias/performance",
    tag = "reports",
    params(LoteriasQuery),
    responses(
        (status = 200, description = "Desempeño por lotería (meta.cache); meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VentanasQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Rows returned (default 10).
    #[serde(default)]
    #[param(minimum = 1, maximum = 50)]
    top: Option<u32>,
    /// Default `ventas`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<VentanaSortDoc>, inline)]
    sort_by: Option<String>,
    /// Also the previous period.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    include_comparison: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/ventanas/ranking",
    tag = "reports",
    params(VentanasQuery),
    responses(
        (status = 200, description = "Ranking de ventanas (meta.cache); meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VendedoresQuery {
    /// Period (default `today`).
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
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Rows returned (default 20).
    #[serde(default)]
    #[param(minimum = 1, maximum = 100)]
    top: Option<u32>,
    /// Default `ventas`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<VendedorSortDoc>, inline)]
    sort_by: Option<String>,
    /// Also inactive vendedores.
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    include_inactive: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/vendedores/ranking",
    tag = "reports",
    params(VendedoresQuery),
    responses(
        (status = 200, description = "Ranking de vendedores (meta.cache); meta.source", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o desconocido, toDate futuro o rango de más de 366 días (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChartQuery {
    /// Period (default `today`).
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
    /// Required.
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(required = true, value_type = Uuid)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    /// Only these statuses (comma list).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<StatusesDoc>, inline)]
    ticket_status: Option<String>,
    /// Not these statuses (comma list).
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = Option<StatusesDoc>, inline)]
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

#[utoipa::path(
    get,
    path = "/api/v1/reports/vendedores/commissions-chart",
    tag = "reports",
    params(ChartQuery),
    responses(
        (status = 200, description = "Comisiones por vendedor de una ventana (meta.cache); meta.source", body = SuccessEnvelope),
        (status = 400, description = "Falta ventanaId, estado desconocido o filtro inválido (VALIDATION_ERROR, RANGE_TOO_LONG)", body = ErrorBody),
        (status = 403, description = "Solo ADMIN o BANCA (FORBIDDEN), o filtro fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WinnersListQuery {
    /// One seller (a VENDEDOR always sees itself).
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
}

#[utoipa::path(
    get,
    path = "/api/v1/reports/winners-list/{sorteoId}",
    tag = "reports",
    params(("sorteoId" = Uuid, Path, description = "The sorteo"), WinnersListQuery),
    responses(
        (status = 200, description = "Ganadores del sorteo; meta.source", body = SuccessEnvelope),
        (status = 400, description = "Identificador o filtro inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Vendedor fuera de alcance", body = ErrorBody),
        (status = 404, description = "Sorteo fuera de la banca", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
