//! `/tickets`: the sale (`POST /tickets`), cancel, restore, print count, the receipt image and
//! the numbers-summary PDF. The reads (list, detail, by number, filter options, numbers
//! summary, balances) live in `ticket_reads`. The sale itself is `services::sale`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Router;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::multipliers::BetType;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{AppJson, AppPath};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::routes::bancas::validation_error;
use crate::http::routes::ticket_reads::{self, doc};
use crate::print::receipt::{LineKind, ReceiptData, ReceiptLine};
use crate::print::summary_pdf::{NumberCell, NumbersSummaryDoc};
use crate::services::sale::{
    self, Refusal, RefusalKind, SaleError, SaleLine, SaleRequest, SaleSettings,
};
use crate::services::ticket_view::TicketView;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets", post(create).get(ticket_reads::list))
        .route(
            "/api/v1/tickets/validation/balances",
            get(ticket_reads::balances),
        )
        .route(
            "/api/v1/tickets/filter-options",
            get(ticket_reads::filter_options),
        )
        .route(
            "/api/v1/tickets/numbers-summary",
            get(ticket_reads::numbers_summary),
        )
        .route(
            "/api/v1/tickets/numbers-summary/filter-options",
            get(ticket_reads::numbers_summary_filter_options),
        )
        .route(
            "/api/v1/tickets/by-number/{ticket_number}",
            get(ticket_reads::by_number),
        )
        .route("/api/v1/tickets/{id}", get(ticket_reads::one))
        .route("/api/v1/tickets/{id}/cancel", patch(cancel))
        .route("/api/v1/tickets/{id}/restore", patch(restore))
        .route("/api/v1/tickets/{id}/print", post(print))
        .route("/api/v1/tickets/{id}/image", get(image))
        .route("/api/v1/tickets/numbers-summary/pdf", post(summary_pdf))
        .route(
            "/api/v1/tickets/numbers-summary/pdf/batch",
            post(summary_pdf_batch),
        )
}

/// The OpenAPI description of the ticket writes, receipt and PDF routes (tag `tickets`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create,
        cancel,
        restore,
        print,
        image,
        summary_pdf,
        summary_pdf_batch
    ),
    tags((name = "tickets", description = "The sale, cancel and restore, print count, the receipt image and the numbers-summary PDF"))
)]
pub struct ApiDoc;

/// Most bet lines one ticket may carry.
pub const MAX_LINES: usize = 200;

impl From<SaleError> for ApiError {
    fn from(e: SaleError) -> Self {
        match e {
            SaleError::Database(e) => ApiError::from(e),
            SaleError::Refused(r) => refusal(r),
        }
    }
}

fn refusal(r: Refusal) -> ApiError {
    let status = match r.kind {
        RefusalKind::Invalid => StatusCode::BAD_REQUEST,
        RefusalKind::Forbidden => StatusCode::FORBIDDEN,
        RefusalKind::NotFound => StatusCode::NOT_FOUND,
        RefusalKind::Conflict => StatusCode::CONFLICT,
        RefusalKind::Locked => StatusCode::TOO_MANY_REQUESTS,
    };
    let mut err = ApiError::new(status, r.code, r.message);
    if r.kind == RefusalKind::Locked {
        err = err.with_retry_after(1);
    }
    match r.details {
        Some(d) => err.with_rich_details(d),
        None => err,
    }
}

/// The `POST /tickets` body (strict: unknown keys are a 400).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = tickets::CreateTicketBody)]
pub struct CreateTicketBody {
    loteria_id: Uuid,
    sorteo_id: Uuid,
    /// Accepted and ignored: the ventana is always the seller's.
    #[serde(default)]
    #[allow(dead_code)]
    ventana_id: Option<Uuid>,
    /// The seller (ADMIN, BANCA and VENTANA selling for a vendedor; a VENDEDOR sells as
    /// itself).
    #[serde(default)]
    vendedor_id: Option<Uuid>,
    /// The client's name, 1–100 characters without control characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 100)]
    cliente_nombre: Option<String>,
    /// Idempotency key when neither `idempotencyKey` nor the header is given.
    #[serde(default)]
    request_id: Option<Uuid>,
    /// Idempotency key, 8–100 characters; equal to the `Idempotency-Key` header when both are
    /// sent.
    #[serde(default)]
    #[schema(min_length = 8, max_length = 100)]
    idempotency_key: Option<String>,
    /// 1–200 lines; a REVENTADO line needs a NUMERO line on the same number with at least its
    /// amount.
    #[schema(min_items = 1, max_items = 200)]
    jugadas: Vec<JugadaBody>,
}

/// One bet line of a sale.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(as = tickets::JugadaBody)]
pub struct JugadaBody {
    #[serde(rename = "type")]
    #[schema(value_type = doc::BetType, inline)]
    kind: String,
    /// 1 to 3 digits.
    #[schema(pattern = "^[0-9]{1,3}$")]
    number: String,
    /// Required on REVENTADO lines, equal to `number`.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{1,3}$")]
    reventado_number: Option<String>,
    /// More than 0, at most 1 000 000 000, 2 decimals.
    #[schema(exclusive_minimum = 0, maximum = 1_000_000_000)]
    amount: Decimal,
    /// The multiplier of a NUMERO line (none on REVENTADO lines).
    #[serde(default)]
    multiplier_id: Option<Uuid>,
    /// Accepted and ignored (the multiplier decides).
    #[serde(default)]
    #[allow(dead_code)]
    final_multiplier_x: Option<Decimal>,
    /// Accepted and ignored.
    #[serde(default)]
    #[allow(dead_code)]
    is_active: Option<bool>,
}

fn digits_1_to_3(s: &str) -> bool {
    (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// The largest amount of one line: totals must fit NUMERIC(14,2).
fn max_line_amount() -> Decimal {
    Decimal::new(1_000_000_000, 0)
}

/// Body checks (the validator of §3.2), every problem reported; then the idempotency key from
/// the body (`idempotencyKey`, else `requestId`) or the `Idempotency-Key` header.
pub fn validate(body: CreateTicketBody, headers: &HeaderMap) -> Result<SaleRequest, ApiError> {
    let mut details: Vec<ErrorDetail> = Vec::new();
    let mut fail = |field: String, code: &str, issue: &str| {
        details.push(ErrorDetail {
            field,
            code: code.into(),
            issue: issue.into(),
        })
    };
    if body.jugadas.is_empty() {
        fail(
            "jugadas".into(),
            "too_small",
            "debe incluir al menos una jugada",
        );
    }
    if body.jugadas.len() > MAX_LINES {
        fail(
            "jugadas".into(),
            "too_big",
            &format!("admite como máximo {MAX_LINES} jugadas"),
        );
    }
    let mut lines = Vec::with_capacity(body.jugadas.len());
    for (i, j) in body.jugadas.iter().enumerate() {
        let kind = BetType::parse(&j.kind);
        if kind.is_none() {
            fail(
                format!("jugadas[{i}].type"),
                "invalid_enum_value",
                "debe ser NUMERO o REVENTADO",
            );
        }
        if !digits_1_to_3(&j.number) {
            fail(
                format!("jugadas[{i}].number"),
                "invalid_string",
                "debe ser un número de 1 a 3 dígitos",
            );
        }
        if j.amount <= Decimal::ZERO {
            fail(
                format!("jugadas[{i}].amount"),
                "too_small",
                "debe ser mayor que 0",
            );
        } else if j.amount > max_line_amount() {
            fail(
                format!("jugadas[{i}].amount"),
                "too_big",
                "monto demasiado grande",
            );
        } else if j.amount.round_dp(2) != j.amount {
            fail(
                format!("jugadas[{i}].amount"),
                "invalid_precision",
                "admite como máximo 2 decimales",
            );
        }
        match (kind, &j.reventado_number) {
            (Some(BetType::Reventado), None) => fail(
                format!("jugadas[{i}].reventadoNumber"),
                "required",
                "es obligatorio en una jugada REVENTADO",
            ),
            (Some(BetType::Reventado), Some(r)) if !digits_1_to_3(r) => fail(
                format!("jugadas[{i}].reventadoNumber"),
                "invalid_string",
                "debe ser un número de 1 a 3 dígitos",
            ),
            (Some(BetType::Reventado), Some(r)) if *r != j.number => fail(
                format!("jugadas[{i}].reventadoNumber"),
                "custom",
                "debe ser igual a number",
            ),
            _ => {}
        }
        if kind == Some(BetType::Reventado) && j.multiplier_id.is_some() {
            fail(
                format!("jugadas[{i}].multiplierId"),
                "custom",
                "una jugada REVENTADO no lleva multiplicador",
            );
        }
        if let Some(kind) = kind {
            lines.push(SaleLine {
                kind,
                number: j.number.clone(),
                reventado_number: j.reventado_number.clone(),
                amount: j.amount.normalize(),
                multiplier_id: j.multiplier_id,
            });
        }
    }
    // REVENTADO needs a NUMERO on the same number, and at most its amount.
    for (i, l) in lines.iter().enumerate() {
        if l.kind != BetType::Reventado {
            continue;
        }
        let numero: Decimal = lines
            .iter()
            .filter(|o| o.kind == BetType::Numero && o.number == l.number)
            .map(|o| o.amount)
            .sum();
        if numero.is_zero() {
            fail(
                format!("jugadas[{i}]"),
                "custom",
                &format!("REVENTADO requiere NUMERO para {}", l.number),
            );
        } else if l.amount > numero {
            fail(
                format!("jugadas[{i}].amount"),
                "custom",
                &format!(
                    "el monto REVENTADO no puede superar lo jugado al NUMERO {}",
                    l.number
                ),
            );
        }
    }
    let cliente = match body.cliente_nombre.as_deref().map(str::trim) {
        None => None,
        Some("") => {
            fail("clienteNombre".into(), "too_small", "no puede estar vacío");
            None
        }
        Some(c) if c.chars().any(char::is_control) => {
            fail(
                "clienteNombre".into(),
                "invalid_string",
                "no admite caracteres de control",
            );
            None
        }
        Some(c) if c.chars().count() > 100 => {
            fail(
                "clienteNombre".into(),
                "too_big",
                "admite como máximo 100 caracteres",
            );
            None
        }
        Some(c) => Some(c.to_owned()),
    };
    let header_key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v.trim().to_owned()),
        Some(Err(_)) => {
            fail("Idempotency-Key".into(), "invalid_string", "debe ser texto");
            None
        }
    };
    let body_key = body
        .idempotency_key
        .as_deref()
        .map(str::trim)
        .map(str::to_owned);
    let key = match (body_key, header_key) {
        (Some(b), Some(h)) if b != h => {
            fail(
                "idempotencyKey".into(),
                "custom",
                "no coincide con el encabezado Idempotency-Key",
            );
            None
        }
        (Some(k), _) | (None, Some(k)) => Some(k),
        (None, None) => body.request_id.map(|r| r.to_string()),
    };
    if let Some(k) = &key {
        let n = k.chars().count();
        if !(8..=100).contains(&n) || k.chars().any(char::is_control) {
            fail(
                "idempotencyKey".into(),
                "invalid_string",
                "debe tener entre 8 y 100 caracteres",
            );
        }
    }
    if !details.is_empty() {
        return Err(validation_error(details));
    }
    let canonical = json!({
        "loteriaId": body.loteria_id,
        "sorteoId": body.sorteo_id,
        "vendedorId": body.vendedor_id,
        "clienteNombre": cliente,
        "jugadas": lines.iter().map(|l| json!({
            "type": l.kind.as_str(),
            "number": l.number,
            "reventadoNumber": l.reventado_number,
            "amount": l.amount.to_string(),
            "multiplierId": l.multiplier_id,
        })).collect::<Vec<Value>>(),
    });
    Ok(SaleRequest {
        loteria_id: body.loteria_id,
        sorteo_id: body.sorteo_id,
        vendedor_id: body.vendedor_id,
        cliente_nombre: cliente,
        idempotency_key: key,
        request_hash: sale::request_hash(&canonical),
        lines,
    })
}

pub fn settings(state: &AppState) -> SaleSettings {
    SaleSettings {
        tz: state.config.business_timezone,
        idempotency_ttl_seconds: i64::try_from(state.config.idempotency_ttl.as_secs())
            .unwrap_or(86_400),
        enable_reprints: state.config.enable_ticket_reprints,
    }
}

/// `POST /tickets`: sells a ticket (see `services::sale`). A replay answers the stored bytes.
#[utoipa::path(
    post,
    path = "/api/v1/tickets",
    tag = "tickets",
    params(("Idempotency-Key" = Option<String>, Header, description = "Idempotency key (8–100 characters); a repeated key with the same body answers the stored response")),
    request_body = CreateTicketBody,
    responses(
        (status = 201, description = "Ticket vendido (una repetición idempotente responde lo guardado, con `Idempotent-Replayed: true`)", body = SuccessEnvelope,
            headers(("idempotent-replayed" = String, description = "`true` on an idempotent replay"))),
        (status = 400, description = "Cuerpo inválido (VALIDATION_ERROR), límite de número superado (NUMBER_MAXAMOUNT_EXCEEDED, NUMBER_MAXTOTAL_EXCEEDED), multiplicador restringido, vendedor inválido…", body = ErrorBody),
        (status = 403, description = "Sin permiso para vender por ese vendedor o en esa banca (FORBIDDEN, CROSS_TENANT_FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo, ventana o vendedor no encontrado", body = ErrorBody),
        (status = 409, description = "Sorteo cerrado o fuera de horario (SALES_CUTOFF_REACHED, SORTEO_CLOSED, OUTSIDE_SALES_HOURS…), número excluido (LISTA_EXCLUDED), clave idempotente con otro cuerpo (IDEMPOTENCY_PAYLOAD_MISMATCH), choque de transacciones", body = ErrorBody),
        (status = 429, description = "Venta con la misma clave en curso (IDEMPOTENCY_LOCKED) o límite de ventas por usuario (con Retry-After)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    AppJson(body): AppJson<CreateTicketBody>,
) -> Result<Response, ApiError> {
    let req = validate(body, &headers)?;
    let sold = sale::sell(state.pools.primary(), &auth.0, &req, &settings(&state)).await;
    let answer = crate::observability::metrics::sale(sold, &req)?;
    let mut res = (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::CREATED),
        answer.body,
    )
        .into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if answer.replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// The ticket `id` as `GET /tickets/:id` shows it (the answer of every ticket write).
pub(crate) async fn ticket_answer(state: &AppState, id: Uuid) -> Result<Response, ApiError> {
    let mut conn = state.pools.primary().acquire().await?;
    let mut view =
        crate::services::tickets::load_view(&mut conn, id, state.config.business_timezone)
            .await?
            .ok_or_else(ApiError::not_found)?;
    view.enable_ticket_reprints = state.config.enable_ticket_reprints;
    Ok(ApiResponse::ok(view).into_response())
}

/// `PATCH /tickets/:id/cancel`.
#[utoipa::path(
    patch,
    path = "/api/v1/tickets/{id}/cancel",
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 200, description = "El ticket anulado, como GET /tickets/{id}", body = SuccessEnvelope),
        (status = 400, description = "Estado del ticket que no lo permite (INVALID_STATE) o identificador inválido", body = ErrorBody),
        (status = 403, description = "Sin permiso (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance", body = ErrorBody),
        (status = 409, description = "El sorteo ya no lo permite (DRAW_PASSED, SORTEO_INACTIVE, BANCA_INACTIVE…) o choque de transacciones", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, ApiError> {
    let change = sale::cancel(state.pools.primary(), &auth.0, id, &settings(&state)).await?;
    ticket_answer(&state, change.ticket_id).await
}

/// `PATCH /tickets/:id/restore`.
#[utoipa::path(
    patch,
    path = "/api/v1/tickets/{id}/restore",
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 200, description = "El ticket restaurado, como GET /tickets/{id}", body = SuccessEnvelope),
        (status = 400, description = "Estado del ticket que no lo permite (INVALID_STATE) o identificador inválido", body = ErrorBody),
        (status = 403, description = "Sin permiso (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance", body = ErrorBody),
        (status = 409, description = "El sorteo ya no lo permite (DRAW_PASSED, SORTEO_INACTIVE, BANCA_INACTIVE…) o choque de transacciones", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, ApiError> {
    let change = sale::restore(state.pools.primary(), &auth.0, id, &settings(&state)).await?;
    ticket_answer(&state, change.ticket_id).await
}

/// `POST /tickets/:id/print`: counts a (re)print.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/{id}/print",
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 200, description = "El ticket con su conteo de impresiones", body = SuccessEnvelope),
        (status = 400, description = "Identificador inválido", body = ErrorBody),
        (status = 403, description = "Sin permiso (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance (TICKET_NOT_FOUND)", body = ErrorBody),
        (status = 409, description = "Choque de transacciones (TRANSACTION_CONFLICT)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn print(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, ApiError> {
    sale::register_print(state.pools.primary(), &auth.0, id).await?;
    ticket_answer(&state, id).await
}

// ---------------------------------------------------------------------------------------------
// Receipt image and numbers-summary PDF.

/// The receipt of a ticket as `print::receipt` draws it (§4.4).
pub fn receipt_of(view: &TicketView, tz: chrono_tz::Tz) -> ReceiptData {
    let scheduled = chrono::DateTime::parse_from_rfc3339(&view.sorteo.scheduled_at)
        .map(|d| d.with_timezone(&tz))
        .unwrap_or_else(|_| view.created_at.with_timezone(&tz));
    let created = view.created_at.with_timezone(&tz);
    let lines = view
        .jugadas
        .iter()
        .filter(|j| j.is_active || !view.is_active)
        .map(|j| ReceiptLine {
            kind: if j.kind == "REVENTADO" {
                LineKind::Reventado
            } else {
                LineKind::Numero
            },
            number: j.number.clone(),
            amount: j.amount,
        })
        .collect();
    let pays_x = view
        .jugadas
        .iter()
        .find(|j| j.kind == "NUMERO")
        .map(|j| j.final_multiplier_x)
        .or_else(|| crate::domain::multipliers::rules_base_multiplier_x(&view.loteria.rules_json))
        .unwrap_or(Decimal::ONE);
    let seller = &view.vendedor.print;
    let ventana = &view.ventana.print;
    let width_mm = if seller.print_width.is_some() {
        seller.width_mm()
    } else {
        ventana.width_mm()
    };
    ReceiptData {
        ticket_number: view.ticket_number.clone(),
        loteria_name: view.loteria.name.clone(),
        sorteo_name: view.sorteo.name.clone(),
        draw_date: scheduled.format("%d/%m/%Y").to_string(),
        draw_time: scheduled.format("%-I:%M %p").to_string(),
        printed_at: created.format("%d/%m/%Y %H:%M").to_string(),
        seller_name: seller.print_name.clone(),
        seller_phone: seller.print_phone.clone(),
        cliente_nombre: view.cliente_nombre.clone(),
        lines,
        total: view.total_amount,
        pays_x,
        footer: seller
            .print_footer
            .clone()
            .or_else(|| ventana.print_footer.clone()),
        width_mm,
        barcode: seller.print_barcode,
        qr: true,
        reprint: view
            .enable_ticket_reprints
            .then(|| u32::try_from(view.print_count).unwrap_or(0)),
        cancelled: !view.is_active,
    }
}

/// `GET /tickets/:id/image`: the receipt as PNG (the caller must be able to see the ticket).
/// Drawing does not count as a print.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/image",
    tag = "tickets",
    params(("id" = Uuid, Path, description = "The ticket")),
    responses(
        (status = 200, description = "El recibo en PNG (inline; filename=ticket-<id>.png)", content_type = "image/png", body = doc::BinaryFile),
        (status = 400, description = "Identificador inválido", body = ErrorBody),
        (status = 403, description = "Sin permiso (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Ticket inexistente o fuera de alcance", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn image(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<Response, ApiError> {
    let tz = state.config.business_timezone;
    let mut view = crate::services::tickets::get(state.pools.primary(), &auth.0, id, tz).await?;
    view.enable_ticket_reprints = state.config.enable_ticket_reprints;
    let data = receipt_of(&view, tz);
    let png = tokio::task::spawn_blocking(move || crate::print::receipt::render(&data))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png".to_string()),
            (
                header::CACHE_CONTROL,
                "no-store, no-cache, must-revalidate".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"ticket-{id}.png\""),
            ),
        ],
        png,
    )
        .into_response())
}

/// The body of `POST /tickets/numbers-summary/pdf`: the filters of `GET
/// /tickets/numbers-summary`, plus `format` (only `pdf`) and `onlyWithSales` (accepted).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = tickets::SummaryPdfBody)]
pub struct SummaryPdfBody {
    #[serde(flatten)]
    filters: ticket_reads::SummaryParams,
    /// Only `pdf` (any case).
    #[serde(default)]
    #[schema(value_type = Option<PdfFormatDoc>, inline)]
    format: Option<String>,
    /// The batch route: 1–20 multipliers, one document each.
    #[serde(default)]
    #[schema(max_items = 20)]
    multiplier_ids: Option<Vec<Uuid>>,
}

doc::doc_type!(PdfFormatDoc = doc::text_enum(&["pdf"]));

fn check_format(format: Option<&str>) -> Result<(), ApiError> {
    match format.map(str::to_ascii_lowercase).as_deref() {
        None | Some("pdf") => Ok(()),
        Some(_) => Err(validation_error(vec![ErrorDetail {
            field: "format".into(),
            code: "invalid_enum_value".into(),
            issue: "solo se admite pdf".into(),
        }])),
    }
}

/// One document per hundred-block that the summary covers (one for 2-digit games).
fn summary_docs(
    summary: &crate::services::tickets::NumbersSummary,
    title: &str,
    tz: chrono_tz::Tz,
) -> Vec<NumbersSummaryDoc> {
    let m = &summary.meta;
    let mut subtitle = Vec::new();
    if let Some(l) = &m.loteria_name {
        subtitle.push(format!("Lotería: {l}"));
    }
    if let Some(s) = &m.sorteo_name {
        subtitle.push(format!(
            "Sorteo: {s}{}",
            m.sorteo_date
                .as_deref()
                .map(|d| format!(" ({})", &d[..10.min(d.len())]))
                .unwrap_or_default()
        ));
    }
    match (m.from_date, m.to_date) {
        (Some(f), Some(t)) if f == t => subtitle.push(format!("Fecha: {}", f.format("%d/%m/%Y"))),
        (Some(f), Some(t)) => subtitle.push(format!(
            "Fechas: {} a {}",
            f.format("%d/%m/%Y"),
            t.format("%d/%m/%Y")
        )),
        _ => {}
    }
    if let Some(w) = &m.winning_number {
        subtitle.push(format!("Número ganador: {w}"));
    }
    if m.is_excluded {
        subtitle.push("Solo jugadas excluidas".into());
    }
    let generated_at = chrono::Utc::now()
        .with_timezone(&tz)
        .format("%d/%m/%Y %H:%M")
        .to_string();
    let blocks: Vec<u32> = if m.sorteo_digits == 3 {
        let mut b: Vec<u32> = summary
            .numbers
            .iter()
            .filter(|n| !n.total_amount.is_zero())
            .filter_map(|n| n.number.parse::<u32>().ok())
            .map(|n| n / 100 * 100)
            .collect();
        b.sort_unstable();
        b.dedup();
        if b.is_empty() {
            b.push(0);
        }
        b
    } else {
        vec![0]
    };
    blocks
        .into_iter()
        .map(|first| {
            let cells: Vec<NumberCell> = summary
                .numbers
                .iter()
                .filter(|n| {
                    m.sorteo_digits != 3
                        || n.number
                            .parse::<u32>()
                            .is_ok_and(|x| x / 100 * 100 == first)
                })
                .filter(|n| !n.total_amount.is_zero())
                .map(|n| NumberCell {
                    number: n.number.clone(),
                    numero: n.amount_by_number,
                    reventado: n.amount_by_reventado,
                })
                .collect();
            let numero: Decimal = cells.iter().map(|c| c.numero).sum();
            let reventado: Decimal = cells.iter().map(|c| c.reventado).sum();
            NumbersSummaryDoc {
                title: title.to_string(),
                subtitle_lines: subtitle.clone(),
                digits: m.sorteo_digits,
                first_number: first,
                numbers: cells,
                total_numero: numero,
                total_reventado: reventado,
                total: numero + reventado,
                generated_at: generated_at.clone(),
            }
        })
        .collect()
}

async fn pdf_response(docs: Vec<NumbersSummaryDoc>, name: &str) -> Result<Response, ApiError> {
    let pdf = tokio::task::spawn_blocking(move || crate::print::summary_pdf::render_pdf(&docs))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

async fn summary_for(
    state: &AppState,
    actor: &crate::domain::authz::Actor,
    filters: &ticket_reads::SummaryParams,
    multiplier: Option<Uuid>,
) -> Result<crate::services::tickets::NumbersSummary, ApiError> {
    let tz = state.config.business_timezone;
    let mut query = filters.to_query(tz)?;
    if multiplier.is_some() {
        query.multiplier_id = multiplier;
    }
    // The PDF lists every number of the game, whatever `page` says.
    query.page = None;
    Ok(
        crate::services::tickets::numbers_summary_data(state.pools.primary(), actor, &query, tz)
            .await?,
    )
}

/// `POST /tickets/numbers-summary/pdf`: the numbers summary ("lista") as a PDF.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/numbers-summary/pdf",
    tag = "tickets",
    request_body = SummaryPdfBody,
    responses(
        (status = 200, description = "La lista de números en PDF (inline; filename=lista-numeros.pdf)", content_type = "application/pdf", body = doc::BinaryFile),
        (status = 400, description = "Filtro inválido o format distinto de pdf (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "scope=all sin ser ADMIN o BANCA, o filtro fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo, lotería u otra entidad del filtro no encontrada", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn summary_pdf(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<SummaryPdfBody>,
) -> Result<Response, ApiError> {
    check_format(body.format.as_deref())?;
    let summary = summary_for(&state, &auth.0, &body.filters, None).await?;
    let docs = summary_docs(&summary, "Lista de números", state.config.business_timezone);
    pdf_response(docs, "lista-numeros").await
}

/// `POST /tickets/numbers-summary/pdf/batch`: one document per multiplier of `multiplierIds`
/// (groupBy multiplier), in one PDF.
#[utoipa::path(
    post,
    path = "/api/v1/tickets/numbers-summary/pdf/batch",
    tag = "tickets",
    request_body = SummaryPdfBody,
    responses(
        (status = 200, description = "Una lista por multiplicador en un PDF (inline; filename=lista-numeros-multiplicadores.pdf)", content_type = "application/pdf", body = doc::BinaryFile),
        (status = 400, description = "Filtro inválido, format distinto de pdf o multiplierIds fuera de 1–20 (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "scope=all sin ser ADMIN o BANCA, o filtro fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo, lotería, multiplicador u otra entidad del filtro no encontrada", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn summary_pdf_batch(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<SummaryPdfBody>,
) -> Result<Response, ApiError> {
    check_format(body.format.as_deref())?;
    let ids = body.multiplier_ids.clone().unwrap_or_default();
    if ids.is_empty() || ids.len() > 20 {
        return Err(validation_error(vec![ErrorDetail {
            field: "multiplierIds".into(),
            code: "invalid_length".into(),
            issue: "entre 1 y 20 multiplicadores".into(),
        }]));
    }
    let tz = state.config.business_timezone;
    let mut docs = Vec::new();
    for id in ids {
        let summary = summary_for(&state, &auth.0, &body.filters, Some(id)).await?;
        docs.extend(summary_docs(
            &summary,
            "Lista de números por multiplicador",
            tz,
        ));
    }
    pdf_response(docs, "lista-numeros-multiplicadores").await
}
