//! The read side of `/tickets` (every role, scoped as `services::tickets` says):
//!
//! | handler | route |
//! |---|---|
//! | [`list`] | `GET /api/v1/tickets` |
//! | [`one`] | `GET /api/v1/tickets/{id}` |
//! | [`by_number`] | `GET /api/v1/tickets/by-number/{ticketNumber}` |
//! | [`filter_options`] | `GET /api/v1/tickets/filter-options` |
//! | [`numbers_summary`] | `GET /api/v1/tickets/numbers-summary` |
//! | [`numbers_summary_filter_options`] | `GET /api/v1/tickets/numbers-summary/filter-options` |
//! | [`balances`] | `GET /api/v1/tickets/validation/balances` |
//!
//! Unknown query keys are ignored (the app sends some the server does not read). The list, the
//! filter options and the numbers summary read through the replica when one is configured
//! (decision 12); the detail, the look-up by number and the balances read the primary.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::tickets::ALL_STATUSES;
use crate::domain::authz::Actor;
use crate::domain::roles::Role;
use crate::domain::rules_json;
use crate::domain::schedule::{self, DateToken};
use crate::http::auth::{forbidden, Auth};
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{de, AppPath, AppQuery};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{query_error, validation_error};
use crate::http::routes::sorteos::query_date;
use crate::services::ticket_view::{TicketListItem, TicketView};
use crate::services::tickets::{
    self, ByNumberError, FilterOptions, NumberBalance, NumberTotals, SummaryQuery, TicketCopy,
    TicketQuery, TicketReadError,
};

/// The routes of this module, for tests and for merging into the tickets router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets", get(list))
        .route("/api/v1/tickets/filter-options", get(filter_options))
        .route("/api/v1/tickets/numbers-summary", get(numbers_summary))
        .route(
            "/api/v1/tickets/numbers-summary/filter-options",
            get(numbers_summary_filter_options),
        )
        .route("/api/v1/tickets/validation/balances", get(balances))
        .route("/api/v1/tickets/by-number/{ticket_number}", get(by_number))
        .route("/api/v1/tickets/{id}", get(one))
}

impl From<TicketReadError> for ApiError {
    fn from(e: TicketReadError) -> Self {
        match e {
            TicketReadError::NotFound(what) => {
                ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", what)
            }
            TicketReadError::Forbidden(why) => {
                tracing::debug!(reason = why, "ticket read forbidden");
                forbidden()
            }
            TicketReadError::Invalid(details) => validation_error(details),
            TicketReadError::Database(e) => ApiError::from(e),
        }
    }
}

/// Moves a connection or query failure out of a service result, so that `Pools::read` can
/// retry it on the primary; every other outcome is the read's value.
fn lift<T>(r: Result<T, TicketReadError>) -> Result<Result<T, TicketReadError>, sqlx::Error> {
    match r {
        Err(TicketReadError::Database(e)) => Err(e),
        other => Ok(other),
    }
}

// ---------------------------------------------------------------------------------------------
// Query parsing shared by the list-like routes.

fn date_token(v: &str) -> Result<DateToken, ApiError> {
    serde_json::from_value::<DateToken>(Value::String(v.to_lowercase())).map_err(|_| {
        query_error(
            "date",
            "invalid_enum",
            "debe ser today, yesterday, week, month, year o range",
        )
    })
}

/// The inclusive business dates of `date`/`fromDate`/`toDate` (default `today`). With
/// `skip` (a sorteo was named) and no explicit dates there is no date filter. `fromDate` and
/// `toDate` are read with `date=range` or without `date`; next to another token they are
/// ignored.
pub(crate) fn business_dates(
    token: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    skip: bool,
    tz: Tz,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), ApiError> {
    let token = token.map(date_token).transpose()?;
    let from = query_date("fromDate", from)?;
    let to = query_date("toDate", to)?;
    if skip && from.is_none() && to.is_none() {
        return Ok((None, None));
    }
    let (token, from, to) = match token {
        None if from.is_none() && to.is_none() => (Some(DateToken::Today), None, None),
        Some(t) if t != DateToken::Range => (Some(t), None, None),
        t => (t, from, to),
    };
    let today = schedule::local_date(Utc::now(), tz);
    Ok(schedule::resolve_dates(token, from, to, today)
        .map_err(|e| query_error(e.field, "invalid_range", e.issue))?
        .unwrap_or((None, None)))
}

fn ticket_status(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        let up = s.to_uppercase();
        if ALL_STATUSES.contains(&up.as_str()) {
            Ok(up)
        } else {
            Err(query_error(
                "status",
                "invalid_enum",
                "debe ser ACTIVE, EVALUATED, PAID, PAGADO, CANCELLED, RESTORED o EXCLUDED",
            ))
        }
    })
    .transpose()
}

fn sorteo_status(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        let up = s.to_uppercase();
        if ["SCHEDULED", "OPEN", "EVALUATED", "CLOSED"].contains(&up.as_str()) {
            Ok(up)
        } else {
            Err(query_error(
                "sorteoStatus",
                "invalid_enum",
                "debe ser SCHEDULED, OPEN, EVALUATED o CLOSED",
            ))
        }
    })
    .transpose()
}

/// A bet number filter: 2 or 3 digits (decision 14: canonical numbers only).
fn bet_number(field: &str, v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        if (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(s.to_string())
        } else {
            Err(query_error(
                field,
                "invalid_number",
                "debe tener 2 o 3 dígitos (por ejemplo 05)",
            ))
        }
    })
    .transpose()
}

fn hhmm(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        rules_json::parse_hhmm(s)
            .map(|t| t.format("%H:%M").to_string())
            .ok_or_else(|| {
                query_error(
                    "scheduledTime",
                    "invalid_time",
                    "debe tener el formato HH:mm (por ejemplo 13:55)",
                )
            })
    })
    .transpose()
}

fn scope(v: Option<&str>) -> Result<Option<String>, ApiError> {
    v.map(|s| {
        let low = s.to_lowercase();
        if ["mine", "all", "ventana"].contains(&low.as_str()) {
            Ok(low)
        } else {
            Err(query_error(
                "scope",
                "invalid_enum",
                "debe ser mine, all o ventana",
            ))
        }
    })
    .transpose()
}

fn search(v: Option<&str>) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if s.chars().count() > 100 => Err(query_error(
            "search",
            "too_big",
            "escribe como máximo 100 caracteres",
        )),
        other => Ok(other.map(str::to_string)),
    }
}

// ---------------------------------------------------------------------------------------------
// GET /tickets

/// `GET /tickets` (§4.3). `hasWinner=true` and `isWinner=true`, which the app sends on its
/// payout screen, mean `winnersOnly=true`. `scope` is validated and otherwise decided by the
/// role.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    multiplier_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    winners_only: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    has_winner: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_winner: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    number: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    winning_number: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    scheduled_time: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
}

impl ListQuery {
    fn to_query(&self, tz: Tz) -> Result<TicketQuery, ApiError> {
        scope(self.scope.as_deref())?;
        let (from_date, to_date) = business_dates(
            self.date.as_deref(),
            self.from_date.as_deref(),
            self.to_date.as_deref(),
            self.sorteo_id.is_some(),
            tz,
        )?;
        Ok(TicketQuery {
            status: ticket_status(self.status.as_deref())?,
            is_active: self.is_active,
            sorteo_id: self.sorteo_id,
            loteria_id: self.loteria_id,
            multiplier_id: self.multiplier_id,
            ventana_id: self.ventana_id,
            vendedor_id: self.vendedor_id,
            search: search(self.search.as_deref())?,
            winners_only: self.winners_only == Some(true)
                || self.has_winner == Some(true)
                || self.is_winner == Some(true),
            number: bet_number("number", self.number.as_deref())?,
            winning_number: bet_number("winningNumber", self.winning_number.as_deref())?,
            scheduled_time: hhmm(self.scheduled_time.as_deref())?,
            from_date,
            to_date,
        })
    }
}

/// `GET /api/v1/tickets`: `{success, data: [TicketListItem…], meta: {page, pageSize, total,
/// totalPages, hasNextPage, hasPrevPage}}`, newest first.
pub async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<TicketListItem>>, ApiError> {
    let tz = state.config.business_timezone;
    let page = Page::new(q.page, q.page_size, 10, 100)?;
    let query = q.to_query(tz)?;
    let (limit, offset) = (page.limit(), page.offset());
    let (actor, query) = (&actor, &query);
    let (result, _source) = state
        .pools
        .read(move |pool| async move {
            lift(tickets::list(&pool, actor, query, limit, offset, tz).await)
        })
        .await?;
    let (items, total) = result?;
    Ok(ApiResponse::ok(items).with_meta(page.meta(total)))
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/{id}

/// `GET /api/v1/tickets/{id}`: the ticket (`TicketView`). Another tenant's ticket, another
/// seller's (VENDEDOR) or another ventana's (VENTANA) answers 404.
pub async fn one(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<TicketView>, ApiError> {
    let mut v = tickets::get(
        state.pools.primary(),
        &actor,
        id,
        state.config.business_timezone,
    )
    .await?;
    v.enable_ticket_reprints = state.config.enable_ticket_reprints;
    Ok(ApiResponse::ok(v))
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/by-number/{ticketNumber}

/// `GET /api/v1/tickets/by-number/{ticketNumber}`: `{ticketNumber, sorteoId, loteriaId,
/// clienteNombre, createdAt, jugadas}` of a live ticket the caller may see. Not starting with
/// `T` or longer than 24 characters → 400 `INVALID_TICKET_NUMBER`; malformed or with wrong
/// check digits → 404 `TICKET_NUMBER_INVALID`; missing or out of reach → 404 `NOT_FOUND`.
pub async fn by_number(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(ticket_number): AppPath<String>,
) -> Result<ApiResponse<TicketCopy>, ApiError> {
    if !crate::domain::ticket_number::looks_like_ticket_number(&ticket_number) {
        return Err(ApiError::bad_request(
            "INVALID_TICKET_NUMBER",
            "Formato inválido: el número de ticket debe empezar con T y tener como máximo 24 caracteres",
        )
        .with_details(vec![ErrorDetail {
            field: "ticketNumber".into(),
            code: "invalid_format".into(),
            issue: "debe empezar con T y tener como máximo 24 caracteres".into(),
        }]));
    }
    match tickets::by_number(state.pools.primary(), &actor, &ticket_number).await {
        Ok(v) => Ok(ApiResponse::ok(v)),
        Err(ByNumberError::InvalidNumber) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "TICKET_NUMBER_INVALID",
            "El número de ticket no es válido: revise que esté bien escrito",
        )),
        Err(ByNumberError::Read(e)) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/filter-options and /tickets/numbers-summary/filter-options

/// `GET /tickets/filter-options`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OptionsQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    multiplier_id: Option<Uuid>,
}

impl OptionsQuery {
    fn to_query(&self, tz: Tz) -> Result<TicketQuery, ApiError> {
        scope(self.scope.as_deref())?;
        let (from_date, to_date) = business_dates(
            self.date.as_deref(),
            self.from_date.as_deref(),
            self.to_date.as_deref(),
            self.sorteo_id.is_some(),
            tz,
        )?;
        Ok(TicketQuery {
            status: ticket_status(self.status.as_deref())?,
            sorteo_id: self.sorteo_id,
            loteria_id: self.loteria_id,
            multiplier_id: self.multiplier_id,
            ventana_id: self.ventana_id,
            vendedor_id: self.vendedor_id,
            from_date,
            to_date,
            ..TicketQuery::default()
        })
    }
}

async fn options(
    state: &AppState,
    actor: &Actor,
    query: &TicketQuery,
    sorteo_status: Option<String>,
) -> Result<FilterOptions, ApiError> {
    let tz = state.config.business_timezone;
    let sorteo_status = &sorteo_status;
    let (result, _source) = state
        .pools
        .read(move |pool| async move {
            lift(tickets::filter_options(&pool, actor, query, sorteo_status.clone(), tz).await)
        })
        .await?;
    Ok(result?)
}

/// `GET /api/v1/tickets/filter-options`: the loterías, sorteos, multipliers, vendedores and
/// (ADMIN, BANCA) ventanas present in the tickets the caller may see for the date filter
/// (default today; none for a named sorteo without explicit dates), with ticket counts:
/// `{loterias, sorteos, multipliers, vendedores, ventanas, meta: {totalTickets}}`.
pub async fn filter_options(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<OptionsQuery>,
) -> Result<ApiResponse<FilterOptions>, ApiError> {
    let query = q.to_query(state.config.business_timezone)?;
    Ok(ApiResponse::ok(
        options(&state, &actor, &query, None).await?,
    ))
}

/// `GET /api/v1/tickets/numbers-summary/filter-options`: as [`filter_options`], over the
/// numbers-summary filters (`sorteoStatus` included).
pub async fn numbers_summary_filter_options(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<SummaryParams>,
) -> Result<ApiResponse<FilterOptions>, ApiError> {
    let tz = state.config.business_timezone;
    let s = q.to_query(tz)?;
    if s.scope.as_deref() == Some("all") && !actor.is(&[Role::Admin, Role::Banca]) {
        return Err(forbidden());
    }
    let query = TicketQuery {
        status: s.status,
        sorteo_id: s.sorteo_id,
        loteria_id: s.loteria_id,
        multiplier_id: s.multiplier_id,
        ventana_id: s.ventana_id,
        vendedor_id: s.vendedor_id,
        scheduled_time: s.scheduled_time,
        from_date: s.from_date,
        to_date: s.to_date,
        ..TicketQuery::default()
    };
    Ok(ApiResponse::ok(
        options(&state, &actor, &query, s.sorteo_status).await?,
    ))
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/numbers-summary

/// `GET /tickets/numbers-summary` (routes.tsv: NumbersSummaryQuerySchema). `dimension` is
/// accepted and not used.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SummaryParams {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    dimension: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    from_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    to_date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    sorteo_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    multiplier_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    sorteo_status: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    scheduled_time: Option<String>,
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_excluded: Option<bool>,
}

impl SummaryParams {
    pub(crate) fn to_query(&self, tz: Tz) -> Result<SummaryQuery, ApiError> {
        let scope = scope(self.scope.as_deref())?;
        if self
            .dimension
            .as_deref()
            .is_some_and(|d| d.chars().count() > 50)
        {
            return Err(query_error(
                "dimension",
                "too_big",
                "escribe como máximo 50 caracteres",
            ));
        }
        let mut details = Vec::new();
        if self.page.is_some_and(|p| p > 9) {
            details.push(ErrorDetail {
                field: "page".into(),
                code: "out_of_range".into(),
                issue: "page debe estar entre 0 y 9".into(),
            });
        }
        let page_size = self.page_size.unwrap_or(100);
        if !(1..=1000).contains(&page_size) {
            details.push(ErrorDetail {
                field: "pageSize".into(),
                code: "out_of_range".into(),
                issue: "pageSize debe estar entre 1 y 1000".into(),
            });
        }
        if !details.is_empty() {
            return Err(ApiError::bad_request(
                "VALIDATION_ERROR",
                "Error en los filtros de búsqueda",
            )
            .with_details(details));
        }
        let (from_date, to_date) = business_dates(
            self.date.as_deref(),
            self.from_date.as_deref(),
            self.to_date.as_deref(),
            self.sorteo_id.is_some(),
            tz,
        )?;
        Ok(SummaryQuery {
            scope,
            banca_id: self.banca_id,
            ventana_id: self.ventana_id,
            vendedor_id: self.vendedor_id,
            loteria_id: self.loteria_id,
            sorteo_id: self.sorteo_id,
            multiplier_id: self.multiplier_id,
            status: ticket_status(self.status.as_deref())?,
            sorteo_status: sorteo_status(self.sorteo_status.as_deref())?,
            scheduled_time: hhmm(self.scheduled_time.as_deref())?,
            from_date,
            to_date,
            date_token: self
                .date
                .clone()
                .map(|d| d.to_lowercase())
                .unwrap_or_else(|| "today".into()),
            page: self.page,
            page_size,
            is_excluded: self.is_excluded == Some(true),
        })
    }
}

/// `GET /api/v1/tickets/numbers-summary`: sales per number.
///
/// ```text
/// { "success": true,
///   "data": [ { "number": "00", "amountByNumber": 1500, "amountByReventado": 200,
///               "totalAmount": 1700 }, … every number of the block, ascending ],
///   "meta": { "totalsFrom": "counters" | "jugadas", "readSource": "primary" | "replica",
///             "dateFilter", "fromDate", "toDate", "sorteoId", "sorteoName", "sorteoDate",
///             "sorteoStatus", "winningNumber", "loteriaId", "loteriaName", "multiplierId",
///             "ventanaId", "vendedorId", "sorteoDigits", "maxNumber", "totalNumbers",
///             "reventadoEnabled", "isExcluded",
///             "pagination"?: {page, pageSize, startNumber, endNumber, totalPages,
///                             returnedCount},
///             "totalAmountByNumber", "totalAmountByReventado", "totalAmount",
///             "numbersWithBets": ["05", …] } }
/// ```
///
/// Without `page` every number (`00`–`99` or `000`–`999`) is listed; with `page` (0–9) the
/// block `[page·pageSize, (page+1)·pageSize)`. Totals in `meta` cover every number. With
/// `multiplierId`, `amountByNumber` counts that multiplier's NUMERO jugadas and
/// `amountByReventado` every REVENTADO jugada on the number. `scope=all` is for ADMIN and
/// BANCA only (403 otherwise).
pub async fn numbers_summary(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<SummaryParams>,
) -> Result<ApiResponse<Vec<NumberTotals>>, ApiError> {
    let tz = state.config.business_timezone;
    let query = q.to_query(tz)?;
    let (actor, query) = (&actor, &query);
    let (result, source) = state
        .pools
        .read(move |pool| async move {
            lift(tickets::numbers_summary_data(&pool, actor, query, tz).await)
        })
        .await?;
    let summary = result?;
    let mut meta = serde_json::to_value(&summary.meta).unwrap_or_default();
    if let Some(m) = meta.as_object_mut() {
        m.insert("readSource".into(), Value::String(source.as_str().into()));
    }
    Ok(ApiResponse::ok(summary.numbers).with_meta(meta))
}

// ---------------------------------------------------------------------------------------------
// GET /tickets/validation/balances

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalancesQuery {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    sorteo_id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
}

/// `GET /api/v1/tickets/validation/balances?sorteoId&vendedorId`: `{"<number>": {remaining,
/// limit, accumulated}}` for every number a cumulative rule (maxTotal or percentage, no
/// multiplier) restricts for a sale by the vendedor. `sorteoId` missing → 400
/// `MISSING_SORTEO_ID`; `vendedorId` defaults to the caller when it is a VENDEDOR (required
/// otherwise); a vendedor out of the caller's reach → 403.
pub async fn balances(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<BalancesQuery>,
) -> Result<ApiResponse<BTreeMap<String, NumberBalance>>, ApiError> {
    let Some(raw) = q.sorteo_id.as_deref() else {
        return Err(ApiError::bad_request(
            "MISSING_SORTEO_ID",
            "Falta el sorteo: sorteoId es obligatorio",
        )
        .with_details(vec![ErrorDetail {
            field: "sorteoId".into(),
            code: "required".into(),
            issue: "es obligatorio".into(),
        }]));
    };
    let sorteo_id = Uuid::parse_str(raw)
        .map_err(|_| query_error("sorteoId", "invalid_uuid", "no es un UUID válido"))?;
    let out = tickets::balances(
        state.pools.primary(),
        &actor,
        sorteo_id,
        q.vendedor_id,
        state.config.business_timezone,
        Utc::now(),
    )
    .await?;
    Ok(ApiResponse::ok(out))
}
