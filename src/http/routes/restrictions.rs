//! `/restrictions`: restriction rules (limits, percentage limits, cutoffs, multiplier blocks).
//! Create (one rule per number), update, bulk update and delete, soft delete and restore
//! (ADMIN; BANCA of its bancas; VENTANA for its ventana and vendedores, except cutoff rules;
//! VENDEDOR never), the flat and grouped lists and one rule (every role, scoped), the rules of a
//! vendedor (`me`), and the ADMIN health report and counter rebuild (`cron-health`,
//! `rehydrate`).
//! Another tenant's rule answers 404.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post, put};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::app::AppState;
use crate::db::restrictions::{CounterCheck, CounterMismatch, RuleCounts, RuleRow};
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::{ApiError, ErrorDetail};
use crate::http::extract::{de, AppJson, AppPath, AppQuery, OptionalJson};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{nullable, reason, text, validation_error, ReasonBody};
use crate::http::validate::Checks;
use crate::services::restrictions::{
    self, ListFilter, RuleError, RuleGroup, RulePatch, ScopeInput, VendorRules, MAX_BATCH,
    MAX_CUTOFF_MINUTES,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/restrictions", post(create).get(list))
        .route("/api/v1/restrictions/grouped", get(list_grouped))
        .route("/api/v1/restrictions/me", get(me))
        .route(
            "/api/v1/restrictions/bulk",
            put(bulk_update).delete(bulk_delete),
        )
        .route("/api/v1/restrictions/cron-health", get(cron_health))
        .route(
            "/api/v1/restrictions/cron-health/execute",
            post(cron_execute),
        )
        .route("/api/v1/restrictions/rehydrate/{sorteoId}", post(rehydrate))
        .route(
            "/api/v1/restrictions/{id}",
            get(one).patch(update).delete(remove),
        )
        .route("/api/v1/restrictions/{id}/restore", patch(restore))
}

impl From<RuleError> for ApiError {
    fn from(e: RuleError) -> Self {
        match e {
            RuleError::NotFound(what) => ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", what),
            RuleError::Forbidden(why) => {
                tracing::debug!(reason = why, "restriction action forbidden");
                crate::http::auth::forbidden()
            }
            RuleError::Invalid(details) => validation_error(details),
            RuleError::Exists => ApiError::new(
                StatusCode::CONFLICT,
                "RULE_EXISTS",
                "Ya existe una regla activa igual en este ámbito",
            ),
            RuleError::BancaRequired => validation_error(vec![ErrorDetail {
                field: "bancaId".into(),
                code: "required".into(),
                issue: "indique la banca de la regla o seleccione una banca activa".into(),
            }]),
            RuleError::Database(e) => ApiError::from(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Wire shapes.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NamedRef {
    id: Uuid,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserRef {
    id: Uuid,
    name: String,
    username: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MultiplierRef {
    id: Uuid,
    name: String,
    value_x: Decimal,
    kind: String,
}

/// A rule as the client reads it: the existing system's fields, amounts as numbers,
/// `appliesToDate` as `YYYY-MM-DD`, and the names of what it points at.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleDto {
    id: Uuid,
    banca_id: Option<Uuid>,
    ventana_id: Option<Uuid>,
    user_id: Option<Uuid>,
    /// The banca the rule belongs to, whatever its scope.
    owner_banca_id: Option<Uuid>,
    number: Option<String>,
    is_auto_date: bool,
    max_amount: Option<Decimal>,
    max_total: Option<Decimal>,
    base_amount: Option<Decimal>,
    sales_percentage: Option<Decimal>,
    applies_to_vendedor: bool,
    applies_to_date: Option<NaiveDate>,
    applies_to_hour: Option<i16>,
    sales_cutoff_minutes: Option<i16>,
    loteria_id: Option<Uuid>,
    multiplier_id: Option<Uuid>,
    sorteo_id: Option<Uuid>,
    message: Option<String>,
    is_active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    banca: Option<NamedRef>,
    ventana: Option<NamedRef>,
    user: Option<UserRef>,
    loteria: Option<NamedRef>,
    multiplier: Option<MultiplierRef>,
    sorteo: Option<NamedRef>,
}

impl From<RuleRow> for RuleDto {
    fn from(r: RuleRow) -> Self {
        let named = |id: Option<Uuid>, name: Option<String>, code: Option<String>| {
            Some(NamedRef {
                id: id?,
                name: name?,
                code,
            })
        };
        RuleDto {
            banca: named(r.banca_id, r.banca_name, r.banca_code),
            ventana: named(r.ventana_id, r.ventana_name, r.ventana_code),
            user: match (r.user_id, r.user_name, r.user_username) {
                (Some(id), Some(name), Some(username)) => Some(UserRef { id, name, username }),
                _ => None,
            },
            loteria: named(r.loteria_id, r.loteria_name, None),
            multiplier: match (
                r.multiplier_id,
                r.multiplier_name,
                r.multiplier_value_x,
                r.multiplier_kind,
            ) {
                (Some(id), Some(name), Some(value_x), Some(kind)) => Some(MultiplierRef {
                    id,
                    name,
                    value_x,
                    kind,
                }),
                _ => None,
            },
            sorteo: named(r.sorteo_id, r.sorteo_name, None),
            id: r.id,
            banca_id: r.banca_id,
            ventana_id: r.ventana_id,
            user_id: r.user_id,
            owner_banca_id: r.owner_banca_id,
            number: r.number,
            is_auto_date: r.is_auto_date,
            max_amount: r.max_amount,
            max_total: r.max_total,
            base_amount: r.base_amount,
            sales_percentage: r.sales_percentage,
            applies_to_vendedor: r.applies_to_vendedor,
            applies_to_date: r.applies_to_date,
            applies_to_hour: r.applies_to_hour,
            sales_cutoff_minutes: r.sales_cutoff_minutes,
            loteria_id: r.loteria_id,
            multiplier_id: r.multiplier_id,
            sorteo_id: r.sorteo_id,
            message: r.message,
            is_active: r.is_active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A group of `GET /restrictions/grouped`: its first rule, with `number` the members' numbers
/// joined by ", ", plus `groupKey`, `ids` and `numbers`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupDto {
    #[serde(flatten)]
    rule: RuleDto,
    group_key: String,
    ids: Vec<Uuid>,
    numbers: Vec<String>,
}

impl From<RuleGroup> for GroupDto {
    fn from(g: RuleGroup) -> Self {
        let mut rule = RuleDto::from(g.first);
        rule.number = (!g.group.numbers.is_empty()).then(|| g.group.numbers.join(", "));
        rule.updated_at = g.group.updated_at;
        GroupDto {
            rule,
            group_key: g.group.group_key,
            ids: g.group.ids,
            numbers: g.group.numbers,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies.

/// Create and update body. Every key may be `null`; on update `null` clears the field.
/// Amounts and integers may be JSON numbers or numeric strings (`""` is `null`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleBody {
    #[serde(default, deserialize_with = "nullable")]
    banca_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    ventana_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    user_id: Option<Option<Uuid>>,
    /// Accepted and ignored (the existing client sends it).
    #[serde(default, rename = "restrictionType")]
    _restriction_type: Option<Value>,
    #[serde(default, deserialize_with = "nullable")]
    is_auto_date: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    number: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    max_amount: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    max_total: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    base_amount: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    sales_percentage: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    applies_to_vendedor: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    applies_to_date: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    applies_to_hour: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    sales_cutoff_minutes: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    loteria_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    multiplier_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    sorteo_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    message: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    is_active: Option<Option<Value>>,
}

/// A present value that is not `null` or a blank string.
fn given(v: Option<Option<Value>>) -> Option<Option<Value>> {
    v.map(|v| v.filter(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty())))
}

/// The largest amount a rule column holds (`numeric(14, 2)`).
fn amount_max() -> Decimal {
    Decimal::new(99_999_999_999_999, 2)
}

fn decimal_of(v: &Value) -> Option<Decimal> {
    let s = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    s.parse::<Decimal>()
        .ok()
        .or_else(|| Decimal::from_scientific(&s).ok())
}

/// An amount: `positive` (> 0) or non-negative, at most 2 decimals, within the column.
fn amount(
    c: &mut Checks,
    field: &str,
    v: Option<Option<Value>>,
    positive: bool,
) -> Option<Option<Decimal>> {
    given(v).map(|v| {
        let v = v?;
        let Some(d) = decimal_of(&v) else {
            c.fail(field, "invalid_type", "debe ser un número");
            return None;
        };
        if positive && d <= Decimal::ZERO {
            c.fail(field, "too_small", "debe ser mayor que 0");
        } else if d < Decimal::ZERO {
            c.fail(field, "too_small", "no puede ser negativo");
        } else if d > amount_max() {
            c.fail(field, "too_big", "es demasiado grande");
        } else if d.round_dp(2) != d {
            c.fail(field, "invalid_precision", "admite como máximo 2 decimales");
        }
        Some(d.normalize())
    })
}

fn integer(
    c: &mut Checks,
    field: &str,
    v: Option<Option<Value>>,
    min: i64,
    max: i64,
) -> Option<Option<i16>> {
    given(v).map(|v| {
        let v = v?;
        let n = match &v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        let Some(n) = n else {
            c.fail(field, "invalid_type", "debe ser un número entero");
            return None;
        };
        if n < min || n > max {
            c.fail(
                field,
                "out_of_range",
                format!("debe estar entre {min} y {max}"),
            );
            return None;
        }
        i16::try_from(n).ok()
    })
}

fn boolean(c: &mut Checks, field: &str, v: Option<Option<Value>>) -> Option<bool> {
    let v = given(v)??;
    match &v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => crate::config::parse_bool(s.trim()).or_else(|| {
            c.fail(field, "invalid_type", "debe ser true o false");
            None
        }),
        _ => {
            c.fail(field, "invalid_type", "debe ser true o false");
            None
        }
    }
}

/// `YYYY-MM-DD`, or an ISO date-time whose date part is taken as written.
fn date(c: &mut Checks, field: &str, v: Option<Option<Value>>) -> Option<Option<NaiveDate>> {
    given(v).map(|v| {
        let v = v?;
        let parsed = v.as_str().and_then(|s| {
            let s = s.trim();
            let day = s.get(..10)?;
            let rest = &s[10..];
            if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')) {
                return None;
            }
            crate::domain::schedule::parse_date(day).ok()
        });
        if parsed.is_none() {
            c.fail(field, "invalid_format", "debe ser una fecha AAAA-MM-DD");
        }
        parsed
    })
}

/// `number`: one string of digits, or (on create) a list of them; blank or null clears.
fn numbers(c: &mut Checks, v: Option<Option<Value>>, many: bool) -> Option<Option<Vec<String>>> {
    given(v).map(|v| {
        let v = v?;
        let shape = |c: &mut Checks, field: &str, s: &str| {
            let ok = (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                c.fail(
                    field,
                    "invalid_format",
                    "debe ser un número de 2 o 3 dígitos, como \"05\"",
                );
            }
        };
        match v {
            Value::String(s) => {
                shape(c, "number", &s);
                Some(vec![s])
            }
            Value::Array(items) if many => {
                if items.is_empty() || items.len() > MAX_BATCH {
                    c.fail(
                        "number",
                        "invalid_length",
                        format!("debe tener entre 1 y {MAX_BATCH} números"),
                    );
                    return None;
                }
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::String(s) => {
                            shape(c, &format!("number[{i}]"), &s);
                            out.push(s);
                        }
                        _ => c.fail(
                            &format!("number[{i}]"),
                            "invalid_type",
                            "cada número es un texto de dígitos, como \"05\"",
                        ),
                    }
                }
                Some(out)
            }
            Value::Array(_) => {
                c.fail(
                    "number",
                    "invalid_type",
                    "al editar, number es un solo número",
                );
                None
            }
            _ => {
                c.fail(
                    "number",
                    "invalid_type",
                    "debe ser un texto de dígitos, como \"05\"",
                );
                None
            }
        }
    })
}

impl RuleBody {
    /// Field-by-field checks; `many`: `number` may be a list (create).
    fn patch(self, many: bool) -> Result<RulePatch, Vec<ErrorDetail>> {
        let mut c = Checks::new();
        let scope =
            if self.banca_id.is_some() || self.ventana_id.is_some() || self.user_id.is_some() {
                let s = ScopeInput {
                    banca_id: self.banca_id.flatten(),
                    ventana_id: self.ventana_id.flatten(),
                    user_id: self.user_id.flatten(),
                };
                let n = [s.banca_id, s.ventana_id, s.user_id]
                    .iter()
                    .filter(|x| x.is_some())
                    .count();
                if n > 1 {
                    c.fail(
                        "scope",
                        "too_many",
                        "una regla pertenece a un solo ámbito: bancaId, ventanaId o userId",
                    );
                }
                Some(s)
            } else {
                None
            };
        let message = self.message.map(text);
        if let Some(Some(m)) = &message {
            c.text("message", m, 1, 255);
        }
        let patch = RulePatch {
            scope,
            numbers: numbers(&mut c, self.number, many),
            is_auto_date: boolean(&mut c, "isAutoDate", self.is_auto_date),
            max_amount: amount(&mut c, "maxAmount", self.max_amount, true),
            max_total: amount(&mut c, "maxTotal", self.max_total, true),
            base_amount: amount(&mut c, "baseAmount", self.base_amount, false),
            sales_percentage: {
                let p = amount(&mut c, "salesPercentage", self.sales_percentage, true);
                if let Some(Some(v)) = p {
                    if v > Decimal::ONE_HUNDRED {
                        c.fail(
                            "salesPercentage",
                            "out_of_range",
                            "debe estar entre 0 (excluido) y 100",
                        );
                    }
                }
                p
            },
            applies_to_vendedor: boolean(&mut c, "appliesToVendedor", self.applies_to_vendedor),
            applies_to_date: date(&mut c, "appliesToDate", self.applies_to_date),
            applies_to_hour: integer(&mut c, "appliesToHour", self.applies_to_hour, 0, 23),
            sales_cutoff_minutes: integer(
                &mut c,
                "salesCutoffMinutes",
                self.sales_cutoff_minutes,
                0,
                MAX_CUTOFF_MINUTES,
            ),
            loteria_id: self.loteria_id,
            multiplier_id: self.multiplier_id,
            sorteo_id: self.sorteo_id,
            message,
            is_active: boolean(&mut c, "isActive", self.is_active),
        };
        c.finish().map_err(|e| e.details)?;
        Ok(patch)
    }
}

/// `{ids, data}` of `PUT /restrictions/bulk`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BulkUpdateBody {
    ids: Vec<Uuid>,
    data: RuleBody,
}

/// `{ids, reason?}` of `DELETE /restrictions/bulk`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BulkDeleteBody {
    ids: Vec<Uuid>,
    reason: Option<String>,
}

/// `ids` of a bulk request: 1..=MAX_BATCH, duplicates dropped (first kept).
fn bulk_ids(ids: Vec<Uuid>) -> Result<Vec<Uuid>, ApiError> {
    if ids.is_empty() || ids.len() > MAX_BATCH {
        return Err(validation_error(vec![ErrorDetail {
            field: "ids".into(),
            code: "invalid_length".into(),
            issue: format!("debe tener entre 1 y {MAX_BATCH} identificadores"),
        }]));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(ids.into_iter().filter(|id| seen.insert(*id)).collect())
}

/// `GET /restrictions` and `/grouped` query. Unknown keys are ignored (the existing system
/// did, and the client relies on it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    page: Option<u32>,
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    user_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    number: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    group_key: Option<String>,
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    has_cutoff: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    has_amount: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    has_auto_date: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    has_lottery_multiplier: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    multiplier_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    sorteo_id: Option<Uuid>,
}

impl ListQuery {
    fn split(self) -> (Option<u32>, Option<u32>, ListFilter) {
        (
            self.page,
            self.page_size,
            ListFilter {
                banca_id: self.banca_id,
                ventana_id: self.ventana_id,
                user_id: self.user_id,
                number: self.number,
                id: self.id,
                group_key: self.group_key,
                search: self.search,
                is_active: self.is_active,
                has_cutoff: self.has_cutoff,
                has_amount: self.has_amount,
                has_auto_date: self.has_auto_date,
                has_lottery_multiplier: self.has_lottery_multiplier,
                loteria_id: self.loteria_id,
                multiplier_id: self.multiplier_id,
                sorteo_id: self.sorteo_id,
            },
        )
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeQuery {
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    vendedor_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    sorteo_id: Option<Uuid>,
}

// ---------------------------------------------------------------------------------------------
// Handlers.

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<RuleBody>,
) -> Result<ApiResponse<Vec<RuleDto>>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let patch = body.patch(true).map_err(validation_error)?;
    let rows = restrictions::create(state.pools.primary(), &auth.0, patch).await?;
    Ok(ApiResponse::created(
        rows.into_iter().map(RuleDto::from).collect(),
    ))
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    AppJson(body): AppJson<RuleBody>,
) -> Result<ApiResponse<RuleDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let patch = body.patch(false).map_err(validation_error)?;
    let row = restrictions::update(state.pools.primary(), &auth.0, id, patch).await?;
    Ok(ApiResponse::ok(row.into()))
}

async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<RuleDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let reason = reason(body).map_err(validation_error)?;
    let row = restrictions::delete(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

async fn restore(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(id): AppPath<Uuid>,
    OptionalJson(body): OptionalJson<ReasonBody>,
) -> Result<ApiResponse<RuleDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let reason = reason(body).map_err(validation_error)?;
    let row = restrictions::restore(state.pools.primary(), &auth.0, id, reason).await?;
    Ok(ApiResponse::ok(row.into()))
}

async fn bulk_update(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<BulkUpdateBody>,
) -> Result<ApiResponse<Vec<RuleDto>>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let ids = bulk_ids(body.ids)?;
    let patch = body.data.patch(false).map_err(|details| {
        validation_error(
            details
                .into_iter()
                .map(|d| ErrorDetail {
                    field: format!("data.{}", d.field),
                    ..d
                })
                .collect(),
        )
    })?;
    let rows = restrictions::bulk_update(state.pools.primary(), &auth.0, &ids, patch).await?;
    Ok(ApiResponse::ok(
        rows.into_iter().map(RuleDto::from).collect(),
    ))
}

async fn bulk_delete(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<BulkDeleteBody>,
) -> Result<ApiResponse<Vec<RuleDto>>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let ids = bulk_ids(body.ids)?;
    let reason = text(body.reason);
    let mut c = Checks::new();
    c.opt_text("reason", reason.as_deref(), 3, 200);
    c.finish()?;
    let rows = restrictions::bulk_delete(state.pools.primary(), &auth.0, &ids, reason).await?;
    Ok(ApiResponse::ok(
        rows.into_iter().map(RuleDto::from).collect(),
    ))
}

async fn list(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<RuleDto>>, ApiError> {
    let (page, page_size, filter) = q.split();
    let page = Page::new(page, page_size, 20, 100)?;
    let (rows, total) = restrictions::list(
        state.pools.primary(),
        &actor,
        filter,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(ApiResponse::ok(rows.into_iter().map(RuleDto::from).collect()).with_meta(page.meta(total)))
}

async fn list_grouped(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<ListQuery>,
) -> Result<ApiResponse<Vec<GroupDto>>, ApiError> {
    let (page, page_size, filter) = q.split();
    let page = Page::new(page, page_size, 20, 100)?;
    let (groups, total) = restrictions::list_grouped(
        state.pools.primary(),
        &actor,
        filter,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(
        ApiResponse::ok(groups.into_iter().map(GroupDto::from).collect())
            .with_meta(page.meta(total)),
    )
}

async fn one(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppPath(id): AppPath<Uuid>,
) -> Result<ApiResponse<RuleDto>, ApiError> {
    let row = restrictions::get(state.pools.primary(), &actor, id).await?;
    Ok(ApiResponse::ok(row.into()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VendorRulesDto {
    general: Vec<RuleDto>,
    vendor_specific: Vec<RuleDto>,
}

impl From<VendorRules> for VendorRulesDto {
    fn from(v: VendorRules) -> Self {
        VendorRulesDto {
            general: v.general.into_iter().map(RuleDto::from).collect(),
            vendor_specific: v.vendor_specific.into_iter().map(RuleDto::from).collect(),
        }
    }
}

async fn me(
    State(state): State<AppState>,
    Auth(actor): Auth,
    AppQuery(q): AppQuery<MeQuery>,
) -> Result<ApiResponse<VendorRulesDto>, ApiError> {
    let rules =
        restrictions::for_vendedor(state.pools.primary(), &actor, q.vendedor_id, q.sorteo_id)
            .await?;
    Ok(ApiResponse::ok(rules.into()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CountsDto {
    active: i64,
    auto_date: i64,
    cutoff: i64,
    /// Rules with `maxTotal` or a percentage limit: the ones that read per-number counters.
    cumulative: i64,
    blocks: i64,
}

impl From<RuleCounts> for CountsDto {
    fn from(c: RuleCounts) -> Self {
        CountsDto {
            active: c.active,
            auto_date: c.auto_date,
            cutoff: c.cutoff,
            cumulative: c.cumulative,
            blocks: c.blocks,
        }
    }
}

/// A counter that disagrees with the sum of its live jugadas.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MismatchDto {
    sorteo_id: Uuid,
    scope_kind: String,
    scope_id: Uuid,
    /// The nil uuid: every jugada of the number; a multiplier id: its NUMERO jugadas; the max
    /// uuid: REVENTADO jugadas.
    mkey: Uuid,
    number: String,
    /// The stored value (0: the row is missing).
    counter: Decimal,
    /// The sum of the live jugadas.
    expected: Decimal,
}

impl From<CounterMismatch> for MismatchDto {
    fn from(m: CounterMismatch) -> Self {
        MismatchDto {
            sorteo_id: m.sorteo_id,
            scope_kind: m.scope_kind,
            scope_id: m.scope_id,
            mkey: m.mkey,
            number: m.number,
            counter: m.counter,
            expected: m.expected,
        }
    }
}

/// The per-number counters compared with the live jugadas.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CounterCheckDto {
    checked: bool,
    /// Sorteos compared.
    sorteos: i64,
    /// Counter rows read.
    rows: i64,
    mismatches: i64,
    /// The first mismatches (at most 20), by sorteo, scope, key and number.
    sample: Vec<MismatchDto>,
    /// Rehydrate: rows written by the rebuild, and the mismatches it fixed.
    #[serde(skip_serializing_if = "Option::is_none")]
    rows_written: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mismatches_fixed: Option<i64>,
}

impl From<CounterCheck> for CounterCheckDto {
    fn from(c: CounterCheck) -> Self {
        CounterCheckDto {
            checked: true,
            sorteos: c.sorteos,
            rows: c.rows,
            mismatches: c.mismatches,
            sample: c.sample.into_iter().map(MismatchDto::from).collect(),
            rows_written: None,
            mismatches_fixed: None,
        }
    }
}

/// `GET /restrictions/cron-health`: auto-date numbers are resolved from the business date by
/// every reader; the `restrictions_auto_date` job only records the day's number (its runs are
/// the `jobs` section). The report states the rule-side facts, and compares
/// the per-number counters of the sorteos still selling (SCHEDULED, OPEN) with their live
/// jugadas. `healthy` is false when a counter disagrees (`POST /restrictions/rehydrate/:id`
/// rebuilds a sorteo's counters).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HealthDto {
    mode: &'static str,
    healthy: bool,
    now: DateTime<Utc>,
    business_date: NaiveDate,
    business_hour: u8,
    /// The number auto-date rules govern today (3-digit sorteos pad it: "005").
    expected_auto_date_number: String,
    banca_id: Option<Uuid>,
    rules: CountsDto,
    counters: CounterCheckDto,
    #[serde(skip_serializing_if = "Option::is_none")]
    executed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
}

async fn health_dto(state: &AppState, auth: &Auth) -> Result<HealthDto, ApiError> {
    auth.require(&[Role::Admin])?;
    let h = restrictions::health(
        state.pools.primary(),
        &auth.0,
        state.config.business_timezone,
        Utc::now(),
    )
    .await?;
    Ok(HealthDto {
        mode: "AUTO_DATE_RESOLVED_AT_SALE",
        healthy: h.counters.mismatches == 0,
        now: h.now,
        business_date: h.local.date,
        business_hour: h.local.hour,
        expected_auto_date_number: h.auto_date_number,
        banca_id: h.bancas.and_then(|b| b.first().copied()),
        rules: h.counts.into(),
        counters: h.counters.into(),
        executed: None,
        message: None,
    })
}

/// The auto-date job's section of the health report: its last runs from `job_runs`.
/// `isHealthy`: a successful run within the last 30 hours (it runs daily at 06:00 UTC).
async fn auto_date_job_section(state: &AppState) -> Result<Value, ApiError> {
    const JOB: &str = "restrictions_auto_date";
    let runs = crate::jobs::engine::last_runs(state.pools.primary(), JOB, 20).await?;
    let now = Utc::now();
    let last = runs.first();
    let last_success = runs.iter().find(|r| r.status == "succeeded");
    let hours_since_success = last_success.map(|r| {
        let at = r.finished_at.unwrap_or(r.started_at);
        ((now - at).num_seconds() as f64 / 36.0).round() / 100.0
    });
    Ok(serde_json::json!({
        JOB: {
            "schedule": crate::jobs::maintenance::RESTRICTIONS_AUTO_DATE_CRON,
            "status": match last {
                None => "never_run",
                Some(r) => r.status.as_str(),
            },
            "isHealthy": hours_since_success.is_some_and(|h| h < 30.0),
            "lastExecution": last.map(|r| r.finished_at.unwrap_or(r.started_at)),
            "lastTrigger": last.map(|r| r.trigger.clone()),
            "lastError": last.and_then(|r| r.error.clone()),
            "number": last
                .and_then(|r| r.outcome.as_ref())
                .and_then(|o| o.get("number"))
                .cloned(),
            "autoDateRules": last
                .and_then(|r| r.outcome.as_ref())
                .and_then(|o| o.get("autoDateRules"))
                .cloned(),
            "lastSuccess": last_success.map(|r| r.finished_at.unwrap_or(r.started_at)),
            "hoursSinceLastSuccess": hours_since_success,
        }
    }))
}

/// The health report as JSON with the `jobs` section added.
async fn health_with_jobs(state: &AppState, dto: HealthDto) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(dto).map_err(|e| ApiError::internal(&e))?;
    v["jobs"] = auto_date_job_section(state).await?;
    Ok(v)
}

async fn cron_health(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiResponse<Value>, ApiError> {
    let dto = health_dto(&state, &auth).await?;
    Ok(ApiResponse::ok(health_with_jobs(&state, dto).await?))
}

/// `POST /restrictions/cron-health/execute` (ADMIN): runs the job `restrictions_auto_date` now
/// (409 `JOB_ALREADY_RUNNING` while a run is in progress), then answers the report with the
/// run under `execution`. The sale path resolves the auto-date number by itself; the job
/// keeps the stored numbers (what lists show) on today's day.
async fn cron_execute(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiResponse<Value>, ApiError> {
    auth.require(&[Role::Admin])?;
    let report = crate::jobs::engine::run_now(
        &state,
        "restrictions_auto_date",
        crate::jobs::Trigger::Manual,
        Some(auth.0.user_id),
        serde_json::json!({}),
    )
    .await?;
    let mut dto = health_dto(&state, &auth).await?;
    dto.executed = Some(true);
    let mut v = health_with_jobs(&state, dto).await?;
    v["execution"] = serde_json::json!({
        "runId": report.run_id,
        "job": report.job,
        "status": report.status,
        "outcome": report.outcome,
        "error": report.error,
        "startedAt": report.started_at,
        "finishedAt": report.finished_at,
    });
    Ok(ApiResponse::ok(v))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SorteoBriefDto {
    id: Uuid,
    name: String,
    status: String,
    scheduled_at: DateTime<Utc>,
    loteria_id: Uuid,
    banca_id: Option<Uuid>,
}

/// `POST /restrictions/rehydrate/:sorteoId`: rebuilds the sorteo's per-number counters from
/// its live jugadas (under the sorteo lock, so no sale runs meanwhile); `counters` is the
/// check of the counters as they were (`mismatches` = `mismatchesFixed`) with the rows
/// written. Also the rule-side facts of the sorteo.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SorteoCheckDto {
    sorteo_id: Uuid,
    sorteo: SorteoBriefDto,
    business_date: NaiveDate,
    auto_date_number: String,
    rehydrated: bool,
    rules: CountsDto,
    counters: CounterCheckDto,
}

async fn rehydrate(
    State(state): State<AppState>,
    auth: Auth,
    AppPath(sorteo_id): AppPath<Uuid>,
) -> Result<ApiResponse<SorteoCheckDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let c = restrictions::rehydrate(
        state.pools.primary(),
        &auth.0,
        sorteo_id,
        state.config.business_timezone,
        Utc::now(),
    )
    .await?;
    Ok(ApiResponse::ok(SorteoCheckDto {
        sorteo_id: c.sorteo.id,
        sorteo: SorteoBriefDto {
            id: c.sorteo.id,
            name: c.sorteo.name,
            status: c.sorteo.status,
            scheduled_at: c.sorteo.scheduled_at,
            loteria_id: c.sorteo.loteria_id,
            banca_id: c.sorteo.banca_id,
        },
        business_date: c.business_date,
        auto_date_number: c.auto_date_number,
        rehydrated: true,
        rules: c.counts.into(),
        counters: CounterCheckDto {
            rows_written: Some(c.rows_written),
            mismatches_fixed: Some(c.before.mismatches),
            ..CounterCheckDto::from(c.before)
        },
    }))
}
