//! Account movements (domain-money §5.4) and the vendedor's balance reset (§5.2):
//!
//! - `POST /accounts/payment` (ADMIN, BANCA, VENTANA): a payment to / collection from a banca,
//!   ventana or vendedor; 201 `{payment, statement}`, or 200 with `meta.cached` on a replay of
//!   its idempotency key.
//! - `POST /accounts/reverse-payment` `{paymentId, reason?}` (ADMIN, BANCA, VENTANA):
//!   `{payment (+reversedByUser), statement}`.
//! - `GET /accounts/payment-history?date=&ventanaId=&vendedorId=&page=&pageSize=` (4 roles).
//! - `DELETE /accounts/statement/:id` (ADMIN): an empty, open statement.
//! - `POST /accounts/reset-balance` `{vendedorId, revert?}` (ADMIN, BANCA of the vendedor).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::movements::{MovementRow, StatementRow};
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{de, AppJson, AppPath, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::validate::Checks;
use crate::services::movements::{self, business_today, CreateMovement, HistoryQuery};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts/payment", post(create))
        .route("/api/v1/accounts/reverse-payment", post(reverse))
        .route("/api/v1/accounts/payment-history", get(history))
        .route("/api/v1/accounts/statement/{id}", delete(delete_statement))
        .route("/api/v1/accounts/reset-balance", post(reset_balance))
}

// ---------------------------------------------------------------------------------------------
// Wire shapes.

/// `{id, name}` of a user.
#[derive(Debug, Serialize)]
pub struct UserRef {
    pub id: Uuid,
    pub name: Option<String>,
}

/// A movement on the wire.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDto {
    pub id: Uuid,
    pub account_statement_id: Option<Uuid>,
    pub date: NaiveDate,
    pub month: String,
    pub time: String,
    pub banca_id: Uuid,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub amount: Decimal,
    #[serde(rename = "type")]
    pub kind: String,
    pub method: String,
    pub notes: Option<String>,
    pub is_final: bool,
    pub is_reversed: bool,
    pub reversed_at: Option<DateTime<Utc>>,
    pub reversed_by: Option<Uuid>,
    pub reversed_by_user: Option<UserRef>,
    pub reversed_reason: Option<String>,
    pub paid_by_id: Option<Uuid>,
    pub paid_by_name: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<MovementRow> for PaymentDto {
    fn from(m: MovementRow) -> Self {
        PaymentDto {
            id: m.id,
            account_statement_id: m.account_statement_id,
            date: m.date,
            month: m.month,
            time: m.time,
            banca_id: m.banca_id,
            ventana_id: m.ventana_id,
            vendedor_id: m.vendedor_id,
            amount: m.amount,
            kind: m.kind,
            method: m.method,
            notes: m.notes,
            is_final: m.is_final,
            is_reversed: m.is_reversed,
            reversed_at: m.reversed_at,
            reversed_by: m.reversed_by,
            reversed_by_user: m.reversed_by.map(|id| UserRef {
                id,
                name: m.reversed_by_name,
            }),
            reversed_reason: m.reversed_reason,
            paid_by_id: m.paid_by_id,
            paid_by_name: m.paid_by_name,
            idempotency_key: m.idempotency_key,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A statement row on the wire (§5.1 fields plus `totalAdjustments`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementDto {
    pub id: Uuid,
    pub date: NaiveDate,
    pub month: String,
    pub dimension: String,
    pub banca_id: Uuid,
    pub ventana_id: Option<Uuid>,
    pub vendedor_id: Option<Uuid>,
    pub total_sales: Decimal,
    pub total_payouts: Decimal,
    pub listero_commission: Decimal,
    pub vendedor_commission: Decimal,
    pub balance: Decimal,
    pub total_paid: Decimal,
    pub total_collected: Decimal,
    pub total_adjustments: Decimal,
    pub remaining_balance: Decimal,
    pub accumulated_balance: Decimal,
    pub ticket_count: i32,
    pub is_settled: bool,
    pub can_edit: bool,
    pub settled_at: Option<DateTime<Utc>>,
    pub settled_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StatementRow> for StatementDto {
    fn from(s: StatementRow) -> Self {
        StatementDto {
            id: s.id,
            date: s.date,
            month: s.month,
            dimension: s.dimension,
            banca_id: s.banca_id,
            ventana_id: s.ventana_id,
            vendedor_id: s.vendedor_id,
            total_sales: s.total_sales,
            total_payouts: s.total_payouts,
            listero_commission: s.listero_commission,
            vendedor_commission: s.vendedor_commission,
            balance: s.balance,
            total_paid: s.total_paid,
            total_collected: s.total_collected,
            total_adjustments: s.total_adjustments,
            remaining_balance: s.remaining_balance,
            accumulated_balance: s.accumulated_balance,
            ticket_count: s.ticket_count,
            is_settled: s.is_settled,
            can_edit: s.can_edit,
            settled_at: s.settled_at,
            settled_by: s.settled_by,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct MovementDto {
    pub payment: PaymentDto,
    pub statement: Option<StatementDto>,
}

// ---------------------------------------------------------------------------------------------
// POST /accounts/payment

/// `CreatePaymentBodySchema` (strict).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = accounts_movements::CreateBody)]
pub struct CreateBody {
    #[schema(format = Date)]
    date: String,
    #[serde(default)]
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    time: Option<String>,
    #[serde(default)]
    ventana_id: Option<Uuid>,
    #[serde(default)]
    vendedor_id: Option<Uuid>,
    #[serde(default)]
    banca_id: Option<Uuid>,
    amount: Decimal,
    #[serde(rename = "type")]
    #[schema(schema_with = movement_kind)]
    kind: String,
    #[schema(schema_with = movement_method)]
    method: String,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    is_final: Option<bool>,
    #[serde(default)]
    idempotency_key: Option<String>,
}

fn movement_kind() -> utoipa::openapi::Object {
    crate::http::openapi::params::text_enum(&["payment", "collection"])
}

fn movement_method() -> utoipa::openapi::Object {
    crate::http::openapi::params::text_enum(&["cash", "transfer", "check", "other"])
}

/// `YYYY-MM-DD` exactly.
fn parse_day(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    (v.len() == 10)
        .then(|| crate::domain::schedule::parse_date(v).ok())
        .flatten()
}

/// How far back a movement may be dated: two years (older corrections are a data repair, not a
/// movement; each month between the movement and today has its closing recomputed).
const MAX_MOVEMENT_AGE_DAYS: i64 = 731;

/// `HH:MM` (24 h, two digits each).
fn parse_time(v: &str) -> Option<NaiveTime> {
    let b = v.as_bytes();
    if b.len() != 5 || b[2] != b':' {
        return None;
    }
    NaiveTime::parse_from_str(v, "%H:%M").ok()
}

fn validate_create(
    body: CreateBody,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<CreateMovement, ApiError> {
    let mut c = Checks::new();
    let today = business_today(now, tz);
    let date = parse_day(&body.date);
    match date {
        None => c.fail("date", "invalid_format", "debe tener el formato YYYY-MM-DD"),
        Some(d) if d > today => c.fail("date", "future_date", "la fecha no puede ser futura"),
        Some(d) if d < today - chrono::Duration::days(MAX_MOVEMENT_AGE_DAYS) => {
            c.fail("date", "too_old", "la fecha no puede tener más de dos años")
        }
        _ => {}
    }
    let time = body
        .time
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if let Some(t) = &time {
        match parse_time(t) {
            None => c.fail(
                "time",
                "invalid_format",
                "debe tener el formato HH:MM (24 horas)",
            ),
            Some(t) if date == Some(today) => {
                let local = now.with_timezone(&tz).time();
                let current =
                    NaiveTime::from_hms_opt(local.hour(), local.minute(), 0).unwrap_or(local);
                if t > current {
                    c.fail("time", "future_time", "la hora no puede ser futura");
                }
            }
            _ => {}
        }
    }
    if body.amount <= Decimal::ZERO {
        c.fail("amount", "too_small", "debe ser mayor que 0");
    } else if body.amount >= Decimal::new(1_000_000_000_000, 0) {
        c.fail("amount", "too_big", "monto demasiado grande");
    } else if body.amount.round_dp(2) != body.amount {
        c.fail(
            "amount",
            "invalid_precision",
            "admite como máximo 2 decimales",
        );
    }
    let kind = match body.kind.as_str() {
        "payment" => "payment",
        "collection" => "collection",
        _ => {
            c.fail(
                "type",
                "invalid_enum_value",
                "debe ser payment o collection",
            );
            "payment"
        }
    };
    let method = match body.method.as_str() {
        "cash" => "cash",
        "transfer" => "transfer",
        "check" => "check",
        "other" => "other",
        _ => {
            c.fail(
                "method",
                "invalid_enum_value",
                "debe ser cash, transfer, check u other",
            );
            "cash"
        }
    };
    let notes = body
        .notes
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    c.opt_text("notes", notes.as_deref(), 0, 1000);
    let key = body.idempotency_key.map(|k| k.trim().to_owned());
    if let Some(k) = &key {
        if !(8..=100).contains(&k.chars().count()) || k.chars().any(char::is_control) {
            c.fail(
                "idempotencyKey",
                "invalid_string",
                "debe tener entre 8 y 100 caracteres",
            );
        }
    }
    c.finish()?;
    Ok(CreateMovement {
        date: date.unwrap_or(today),
        time,
        ventana_id: body.ventana_id,
        vendedor_id: body.vendedor_id,
        banca_id: body.banca_id,
        amount: body.amount.normalize(),
        kind,
        method,
        notes,
        is_final: body.is_final.unwrap_or(false),
        idempotency_key: key,
    })
}

fn answer(a: movements::MovementAnswer) -> MovementDto {
    MovementDto {
        payment: a.payment.into(),
        statement: a.statement.map(Into::into),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts/payment",
    tag = "accounts_movements",
    request_body = CreateBody,
    responses(
        (status = 200, description = "A replay of an earlier request with the same `idempotencyKey`: `{payment, statement}`, `meta.cached`", body = SuccessEnvelope),
        (status = 201, description = "`{payment, statement}`: the movement recorded and the statement after it", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input refusals", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "Conflicts with the statement's state", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<Response, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let tz = state.config.business_timezone;
    let req = validate_create(body, Utc::now(), tz)?;
    let out = movements::create(state.pools.primary(), &auth.0, &req, tz).await?;
    let replayed = out.replayed;
    let dto = answer(out);
    Ok(if replayed {
        ApiResponse::ok(dto)
            .with_meta(json!({"cached": true}))
            .into_response()
    } else {
        ApiResponse::created(dto).into_response()
    })
}

// ---------------------------------------------------------------------------------------------
// POST /accounts/reverse-payment

/// `ReversePaymentBodySchema` (strict).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = accounts_movements::ReverseBody)]
pub struct ReverseBody {
    payment_id: Uuid,
    #[serde(default)]
    reason: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts/reverse-payment",
    tag = "accounts_movements",
    request_body = ReverseBody,
    responses(
        (status = 200, description = "`{payment, statement}`: the reversal", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input refusals", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "Conflicts with the statement's state", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn reverse(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<ReverseBody>,
) -> Result<ApiResponse<MovementDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let reason = body
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let mut c = Checks::new();
    c.opt_text("reason", reason.as_deref(), 5, 500);
    c.finish()?;
    let tz = state.config.business_timezone;
    let out = movements::reverse(
        state.pools.primary(),
        &auth.0,
        body.payment_id,
        reason.as_deref(),
        tz,
    )
    .await?;
    Ok(ApiResponse::ok(answer(out)))
}

// ---------------------------------------------------------------------------------------------
// GET /accounts/payment-history

/// `GetPaymentHistoryQuerySchema` (strict) plus `page`/`pageSize`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    #[param(value_type = String, format = Date)]
    date: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default)]
    page: Option<u32>,
    #[serde(default)]
    page_size: Option<u32>,
    /// Cache buster, ignored.
    #[serde(default, rename = "_")]
    #[allow(dead_code)]
    cache_buster: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/accounts/payment-history",
    tag = "accounts_movements",
    params(HistoryParams),
    responses(
        (status = 200, description = "Movements of the day; `meta` has the page", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn history(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<HistoryParams>,
) -> Result<ApiResponse<Vec<PaymentDto>>, ApiError> {
    let mut c = Checks::new();
    let date = match q.date.as_deref() {
        None => {
            c.fail("date", "required", "la fecha es obligatoria (YYYY-MM-DD)");
            None
        }
        Some(d) => {
            let parsed = parse_day(d);
            if parsed.is_none() {
                c.fail("date", "invalid_format", "debe tener el formato YYYY-MM-DD");
            }
            parsed
        }
    };
    c.finish()?;
    let page = Page::new(q.page, q.page_size, 20, 100)?;
    let query = HistoryQuery {
        date: date.unwrap_or_default(),
        ventana_id: q.ventana_id,
        vendedor_id: q.vendedor_id,
        limit: page.limit(),
        offset: page.offset(),
    };
    let (rows, total) = movements::history(state.pools.primary(), &auth.0, &query).await?;
    Ok(ApiResponse::ok(rows.into_iter().map(Into::into).collect()).with_meta(page.meta(total)))
}

// ---------------------------------------------------------------------------------------------
// DELETE /accounts/statement/:id

#[utoipa::path(
    delete,
    path = "/api/v1/accounts/statement/{id}",
    tag = "accounts_movements",
    params(("id" = Uuid, Path, description = "Statement id")),
    responses(
        (status = 200, description = "`{id, date, dimension, deleted: true}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input refusals", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "Conflicts with the statement's state", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn delete_statement(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<serde_json::Value>, ApiError> {
    auth.require(&[Role::Admin])?;
    let s = movements::delete_statement(state.pools.primary(), &auth.0, id).await?;
    Ok(ApiResponse::ok(json!({
        "id": s.id,
        "date": s.date,
        "dimension": s.dimension,
        "deleted": true,
    })))
}

// ---------------------------------------------------------------------------------------------
// POST /accounts/reset-balance

/// `{vendedorId, revert?}` (strict).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = accounts_movements::ResetBody)]
pub struct ResetBody {
    vendedor_id: Uuid,
    #[serde(default)]
    revert: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetDto {
    pub vendedor_id: Uuid,
    pub balance_reset_at: Option<String>,
    pub previous_balance_reset_at: Option<String>,
    pub reverted: bool,
    pub statement: Option<StatementDto>,
}

#[utoipa::path(
    post,
    path = "/api/v1/accounts/reset-balance",
    tag = "accounts_movements",
    request_body = ResetBody,
    responses(
        (status = 200, description = "`{vendedorId, balanceResetAt, previousBalanceResetAt, reverted, statement}`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR and other input refusals", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN", body = ErrorBody),
        (status = 404, description = "NOT_FOUND", body = ErrorBody),
        (status = 409, description = "Conflicts with the statement's state", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn reset_balance(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<ResetBody>,
) -> Result<ApiResponse<ResetDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let revert = body.revert.unwrap_or(false);
    let tz = state.config.business_timezone;
    let out =
        movements::reset_balance(state.pools.primary(), &auth.0, body.vendedor_id, revert, tz)
            .await?;
    Ok(ApiResponse::ok(ResetDto {
        vendedor_id: out.vendedor_id,
        balance_reset_at: out.balance_reset_at,
        previous_balance_reset_at: out.previous,
        reverted: revert,
        statement: out.statement.map(Into::into),
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(create, reverse, history, delete_statement, reset_balance))]
pub struct ApiDoc;
