//! Prize payments (decision 10, one model): `/tickets/:id/pay|reverse-payment|finalize-payment`
//! answer the ticket as `GET /tickets/:id` does; `/ticket-payments*` answer the payment rows.
//! Both write the same `ticket_payments` records through `services::payments`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::app::AppState;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{AppJson, AppPath, OptionalJson};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::routes::bancas::validation_error;
use crate::http::routes::ticket_reads::doc::OptionalBodies;
use crate::http::routes::tickets::ticket_answer;
use crate::services::payments::{self, normalize_method, PayOutcome, PayRequest};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets/{id}/pay", post(pay))
        .route(
            "/api/v1/tickets/{id}/reverse-payment",
            post(reverse_payment),
        )
        .route(
            "/api/v1/tickets/{id}/finalize-payment",
            post(finalize_payment),
        )
        .route("/api/v1/ticket-payments", post(create))
        .route("/api/v1/ticket-payments/{id}", get(get_one).patch(update))
        .route("/api/v1/ticket-payments/{id}/reverse", post(reverse))
        .route(
            "/api/v1/ticket-payments/tickets/{ticket_id}/payment-history",
            get(history),
        )
}

/// The OpenAPI description of the prize payment routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(pay, reverse_payment, finalize_payment, create, get_one, update, reverse, history),
    tags((name = "ticket_payments", description = "Prize payments of winning tickets: pay, reverse, finalize, history")),
    modifiers(&OptionalBodies)
)]
pub struct ApiDoc;

/// `POST /tickets/:id/pay` (strict).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = ticket_payments::PayBody)]
pub struct PayBody {
    /// More than 0, at most 1 000 000 000, 2 decimals; at most what the prize still owes.
    #[schema(exclusive_minimum = 0, maximum = 1_000_000_000)]
    amount_paid: Decimal,
    /// `cash` (default), `transfer`, `check` or `other`; anything else is `cash`.
    #[serde(default)]
    method: Option<String>,
    /// At most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    notes: Option<String>,
    /// The payment closes the prize even when partial.
    #[serde(default)]
    is_final: Option<bool>,
    /// 8–100 characters; a repeated key answers the first payment.
    #[serde(default)]
    #[schema(min_length = 8, max_length = 100)]
    idempotency_key: Option<String>,
}

/// `POST /ticket-payments` (strict): the same payment, with the ticket in the body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = ticket_payments::CreateBody)]
pub struct CreateBody {
    ticket_id: Uuid,
    /// More than 0, at most 1 000 000 000, 2 decimals; at most what the prize still owes.
    #[schema(exclusive_minimum = 0, maximum = 1_000_000_000)]
    amount_paid: Decimal,
    /// `cash` (default), `transfer`, `check` or `other`; anything else is `cash`.
    #[serde(default)]
    method: Option<String>,
    /// At most 300 characters.
    #[serde(default)]
    #[schema(max_length = 300)]
    notes: Option<String>,
    /// The payment closes the prize even when partial.
    #[serde(default)]
    is_final: Option<bool>,
    /// 8–100 characters; a repeated key answers the first payment (200, `meta.cached`).
    #[serde(default)]
    #[schema(min_length = 8, max_length = 100)]
    idempotency_key: Option<String>,
    /// Accepted and ignored: the ventana is the ticket's.
    #[serde(default)]
    #[allow(dead_code)]
    ventana_id: Option<Uuid>,
}

/// The optional body of the reversals.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = ticket_payments::ReverseBody)]
pub struct ReverseBody {
    /// 5–500 characters (blank: none).
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^(\\s*|\\s*\\S[\\s\\S]{3,}\\S\\s*)$")]
    reason: Option<String>,
}

/// The optional body of `finalize-payment`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = ticket_payments::FinalizeBody)]
pub struct FinalizeBody {
    /// At most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    notes: Option<String>,
}

/// `PATCH /ticket-payments/:id`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = ticket_payments::UpdateBody)]
pub struct UpdateBody {
    #[serde(default)]
    is_final: Option<bool>,
    /// At most 300 characters.
    #[serde(default)]
    #[schema(max_length = 300)]
    notes: Option<String>,
}

fn detail(field: &str, code: &str, issue: &str) -> ErrorDetail {
    ErrorDetail {
        field: field.into(),
        code: code.into(),
        issue: issue.into(),
    }
}

/// Optional text of at most `max` characters (trimmed; empty means absent).
fn text(
    details: &mut Vec<ErrorDetail>,
    field: &str,
    value: Option<String>,
    min: usize,
    max: usize,
) -> Option<String> {
    let v = value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())?;
    let n = v.chars().count();
    if n < min || n > max {
        details.push(detail(
            field,
            if n < min { "too_small" } else { "too_big" },
            &format!("debe tener entre {min} y {max} caracteres"),
        ));
        return None;
    }
    Some(v)
}

#[allow(clippy::too_many_arguments)]
fn pay_request(
    ticket_id: Uuid,
    amount: Decimal,
    method: Option<String>,
    notes: Option<String>,
    notes_max: usize,
    is_final: Option<bool>,
    key: Option<String>,
) -> Result<PayRequest, ApiError> {
    let mut details = Vec::new();
    if amount <= Decimal::ZERO {
        details.push(detail("amountPaid", "too_small", "debe ser mayor que 0"));
    } else if amount > Decimal::new(1_000_000_000, 0) {
        details.push(detail("amountPaid", "too_big", "monto demasiado grande"));
    } else if amount.round_dp(2) != amount {
        details.push(detail(
            "amountPaid",
            "invalid_precision",
            "admite como máximo 2 decimales",
        ));
    }
    let notes = text(&mut details, "notes", notes, 0, notes_max);
    let key = match key.map(|k| k.trim().to_owned()) {
        Some(k) if !(8..=100).contains(&k.chars().count()) || k.chars().any(char::is_control) => {
            details.push(detail(
                "idempotencyKey",
                "invalid_string",
                "debe tener entre 8 y 100 caracteres",
            ));
            None
        }
        other => other,
    };
    if !details.is_empty() {
        return Err(validation_error(details));
    }
    Ok(PayRequest {
        ticket_id,
        amount: amount.normalize(),
        method: normalize_method(method.as_deref()),
        notes,
        is_final: is_final.unwrap_or(false),
        idempotency_key: key,
    })
}

/// `POST /tickets/:id/pay`: registers a payment; answers the ticket.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/pay",
    tag = "ticket_payments",
    params(("id" = Uuid, Path, description = "The ticket")),
    request_body = PayBody,
    responses(
        (status = 200, description = "El ticket, como GET /tickets/{id}", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), identificador inválido o estado del ticket que no lo permite (INVALID_TICKET_STATUS)", body = ErrorBody),
        (status = 403, description = "Rol sin permiso para pagar, o ticket fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance (TICKET_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Ticket no ganador, anulado, ya pagado, pago mayor que el premio, clave idempotente con otro cuerpo (TICKET_NOT_WINNER, TICKET_CANCELLED, PAYMENT_ALREADY_COMPLETE, PAYMENT_EXCEEDS_PRIZE, IDEMPOTENCY_PAYLOAD_MISMATCH…)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn pay(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<PayBody>,
) -> Result<Response, ApiError> {
    let req = pay_request(
        id,
        body.amount_paid,
        body.method,
        body.notes,
        500,
        body.is_final,
        body.idempotency_key,
    )?;
    let tz = state.config.business_timezone;
    let out = payments::pay(state.pools.primary(), &auth.0, &req, tz).await?;
    ticket_answer(&state, out.payment.ticket_id).await
}

/// `POST /tickets/:id/reverse-payment`: reverses the latest payment; answers the ticket.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/reverse-payment",
    tag = "ticket_payments",
    params(("id" = Uuid, Path, description = "The ticket")),
    request_body = Option<ReverseBody>,
    responses(
        (status = 200, description = "El ticket, como GET /tickets/{id}", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), identificador inválido o estado del ticket que no lo permite (INVALID_TICKET_STATUS)", body = ErrorBody),
        (status = 403, description = "Rol sin permiso para pagar, o ticket fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance (TICKET_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Sin pago que revertir, ya revertido o sorteo cerrado (NO_PAYMENT_TO_REVERSE, PAYMENT_ALREADY_REVERSED, SORTEO_CLOSED)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn reverse_payment(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReverseBody>,
) -> Result<Response, ApiError> {
    let mut details = Vec::new();
    let reason = text(
        &mut details,
        "reason",
        body.unwrap_or_default().reason,
        5,
        500,
    );
    if !details.is_empty() {
        return Err(validation_error(details));
    }
    let tz = state.config.business_timezone;
    payments::reverse_last(state.pools.primary(), &auth.0, id, reason.as_deref(), tz).await?;
    ticket_answer(&state, id).await
}

/// `POST /tickets/:id/finalize-payment`: the latest partial payment becomes final.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/finalize-payment",
    tag = "ticket_payments",
    params(("id" = Uuid, Path, description = "The ticket")),
    request_body = Option<FinalizeBody>,
    responses(
        (status = 200, description = "El ticket, como GET /tickets/{id}", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), identificador inválido o estado del ticket que no lo permite (INVALID_TICKET_STATUS)", body = ErrorBody),
        (status = 403, description = "Rol sin permiso para pagar, o ticket fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance (TICKET_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Sin pago parcial que finalizar o ya final (NO_PAYMENT_TO_FINALIZE, PAYMENT_ALREADY_FINAL)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn finalize_payment(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<FinalizeBody>,
) -> Result<Response, ApiError> {
    let mut details = Vec::new();
    let notes = text(
        &mut details,
        "notes",
        body.unwrap_or_default().notes,
        0,
        500,
    );
    if !details.is_empty() {
        return Err(validation_error(details));
    }
    let tz = state.config.business_timezone;
    payments::finalize_last(state.pools.primary(), &auth.0, id, notes.as_deref(), tz).await?;
    ticket_answer(&state, id).await
}

/// `POST /ticket-payments`: the same payment as `/tickets/:id/pay`; answers the payment (201,
/// or 200 with `meta.cached` on a replay).
#[utoipa::path(
    post,
    path = "/api/v1/ticket-payments",
    tag = "ticket_payments",
    request_body = CreateBody,
    responses(
        (status = 201, description = "El pago registrado", body = SuccessEnvelope),
        (status = 200, description = "Repetición idempotente: el pago ya registrado, con meta.cached", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), identificador inválido o estado del ticket que no lo permite (INVALID_TICKET_STATUS)", body = ErrorBody),
        (status = 403, description = "Rol sin permiso para pagar, o ticket fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance (TICKET_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Ticket no ganador, anulado, ya pagado, pago mayor que el premio, clave idempotente con otro cuerpo (TICKET_NOT_WINNER, TICKET_CANCELLED, PAYMENT_ALREADY_COMPLETE, PAYMENT_EXCEEDS_PRIZE, IDEMPOTENCY_PAYLOAD_MISMATCH…)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<CreateBody>,
) -> Result<Response, ApiError> {
    let req = pay_request(
        body.ticket_id,
        body.amount_paid,
        body.method,
        body.notes,
        300,
        body.is_final,
        body.idempotency_key,
    )?;
    let tz = state.config.business_timezone;
    let PayOutcome { payment, replayed } =
        payments::pay(state.pools.primary(), &auth.0, &req, tz).await?;
    Ok(if replayed {
        ApiResponse::ok(payment)
            .with_meta(json!({"cached": true}))
            .into_response()
    } else {
        ApiResponse::created(payment).into_response()
    })
}

/// `GET /ticket-payments/:id`.
#[utoipa::path(
    get,
    path = "/api/v1/ticket-payments/{id}",
    tag = "ticket_payments",
    params(("id" = Uuid, Path, description = "The payment")),
    responses(
        (status = 200, description = "El pago", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), identificador inválido o estado del ticket que no lo permite (INVALID_TICKET_STATUS)", body = ErrorBody),
        (status = 403, description = "Rol sin permiso para pagar, o ticket fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Pago inexistente o fuera de alcance (PAYMENT_NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn get_one(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, ApiError> {
    let p = payments::get(state.pools.primary(), &auth.0, id).await?;
    Ok(ApiResponse::ok(p).into_response())
}

/// `PATCH /ticket-payments/:id` `{isFinal?, notes?}`.
#[utoipa::path(
    patch,
    path = "/api/v1/ticket-payments/{id}",
    tag = "ticket_payments",
    params(("id" = Uuid, Path, description = "The payment")),
    request_body = UpdateBody,
    responses(
        (status = 200, description = "El pago actualizado", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), identificador inválido o estado del ticket que no lo permite (INVALID_TICKET_STATUS)", body = ErrorBody),
        (status = 403, description = "Rol sin permiso para pagar, o ticket fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Pago inexistente o fuera de alcance (PAYMENT_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Pago revertido o sorteo cerrado (PAYMENT_ALREADY_REVERSED, SORTEO_CLOSED…)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<UpdateBody>,
) -> Result<Response, ApiError> {
    let mut details = Vec::new();
    let notes = text(&mut details, "notes", body.notes, 0, 300);
    if !details.is_empty() {
        return Err(validation_error(details));
    }
    let tz = state.config.business_timezone;
    let p = payments::update(
        state.pools.primary(),
        &auth.0,
        id,
        body.is_final,
        notes.as_deref(),
        tz,
    )
    .await?;
    Ok(ApiResponse::ok(p).into_response())
}

/// `POST /ticket-payments/:id/reverse` (optional `{reason}`).
#[utoipa::path(
    post,
    path = "/api/v1/ticket-payments/{id}/reverse",
    tag = "ticket_payments",
    params(("id" = Uuid, Path, description = "The payment")),
    request_body = Option<ReverseBody>,
    responses(
        (status = 200, description = "El pago revertido", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), identificador inválido o estado del ticket que no lo permite (INVALID_TICKET_STATUS)", body = ErrorBody),
        (status = 403, description = "Rol sin permiso para pagar, o ticket fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Pago inexistente o fuera de alcance (PAYMENT_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Pago ya revertido o sorteo cerrado (PAYMENT_ALREADY_REVERSED, SORTEO_CLOSED)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn reverse(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReverseBody>,
) -> Result<Response, ApiError> {
    let mut details = Vec::new();
    let reason = text(
        &mut details,
        "reason",
        body.unwrap_or_default().reason,
        5,
        500,
    );
    if !details.is_empty() {
        return Err(validation_error(details));
    }
    let tz = state.config.business_timezone;
    let p = payments::reverse(state.pools.primary(), &auth.0, id, reason.as_deref(), tz).await?;
    Ok(ApiResponse::ok(p).into_response())
}

/// `GET /ticket-payments/tickets/:ticketId/payment-history`.
#[utoipa::path(
    get,
    path = "/api/v1/ticket-payments/tickets/{ticket_id}/payment-history",
    tag = "ticket_payments",
    params(("ticket_id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 200, description = "Los pagos del ticket y sus totales", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), identificador inválido o estado del ticket que no lo permite (INVALID_TICKET_STATUS)", body = ErrorBody),
        (status = 403, description = "Rol sin permiso para pagar, o ticket fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance (TICKET_NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn history(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(ticket_id): AppPath<Uuid>,
) -> Result<Response, ApiError> {
    let h = payments::history(state.pools.primary(), &auth.0, ticket_id).await?;
    Ok(ApiResponse::ok(h).into_response())
}
