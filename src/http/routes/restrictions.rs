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
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::pagination::Page;
use crate::http::routes::bancas::{nullable, reason, text, validation_error, ReasonBody};
use crate::http::routes::ticket_reads::doc::{self, OptionalBodies};
use crate::http::validate::Checks;
use crate::services::restrictions::{
    self, ListFilter, RuleError, RuleGroup, RulePatch, ScopeInput, VendorRules, MAX_BATCH,
    MAX_CUTOFF_MINUTES,
};
use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type};

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

/// The OpenAPI description of `/restrictions`.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create,
        list,
        list_grouped,
        me,
        bulk_update,
        bulk_delete,
        cron_health,
        cron_execute,
        rehydrate,
        one,
        update,
        remove,
        restore
    ),
    tags((name = "restrictions", description = "Restriction rules: per-ticket and cumulative limits, percentage limits, sales cutoffs, multiplier blocks; counter health")),
    modifiers(&OptionalBodies)
)]
pub struct ApiDoc;

/// A number, or the same as text; blank text is `null`.
fn number_or_text(number: utoipa::openapi::schema::ObjectBuilder, text: &str) -> Schema {
    Schema::AnyOf(
        AnyOfBuilder::new()
            .item(number)
            .item(doc::text_pattern(text))
            .build(),
    )
}

const DECIMAL_TEXT: &str = "^ *([0-9]{1,12}(\\.[0-9]{1,2})?)? *$";
const INTEGER_TEXT: &str = "^ *([0-9]{1,4})? *$";

doc::doc_type!(
    /// An amount of a rule: 0–999 999 999 999.99, 2 decimals.
    AmountValue = number_or_text(
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(0))
            .maximum(Some(999_999_999_999.99)),
        DECIMAL_TEXT,
    )
);

doc::doc_type!(
    /// A percentage: more than 0, at most 100.
    PercentageValue = number_or_text(
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .exclusive_minimum(Some(0))
            .maximum(Some(100)),
        DECIMAL_TEXT,
    )
);

doc::doc_type!(
    /// An hour of the day, 0–23.
    HourValue = number_or_text(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(23)),
        INTEGER_TEXT,
    )
);

doc::doc_type!(
    /// Minutes before the draw, 0–1440.
    CutoffMinutesValue = number_or_text(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(MAX_CUTOFF_MINUTES)),
        INTEGER_TEXT,
    )
);

doc::doc_type!(
    /// A number of 2 or 3 digits (blank clears it), or on create a list of 1–1000 of them.
    NumberValue = Schema::AnyOf(
        AnyOfBuilder::new()
            .item(doc::text_pattern("^([0-9]{2,3}| *)$"))
            .item(
                ArrayBuilder::new()
                    .items(doc::text_pattern("^[0-9]{2,3}$"))
                    .min_items(Some(1))
                    .max_items(Some(MAX_BATCH)),
            )
            .build(),
    )
);

doc::doc_type!(
    /// `YYYY-MM-DD`, or a date-time whose date part is taken as written; blank clears it.
    DateValue = doc::text_pattern(
        "^ *((19[0-9]{2}|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}([T ].*)?)? *$"
    )
);

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
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = restrictions::RuleBody)]
pub struct RuleBody {
    /// The rule's scope: at most one of `bancaId`, `ventanaId`, `userId` (none: the active
    /// banca).
    #[serde(default, deserialize_with = "nullable")]
    banca_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    ventana_id: Option<Option<Uuid>>,
    /// A vendedor.
    #[serde(default, deserialize_with = "nullable")]
    user_id: Option<Option<Uuid>>,
    /// Accepted and ignored (the existing client sends it).
    #[serde(default, rename = "restrictionType")]
    _restriction_type: Option<Value>,
    /// The rule governs the number of the day (boolean, or `"true"`/`"false"`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<doc::BoolOrText>, inline)]
    is_auto_date: Option<Option<Value>>,
    /// A number of 2 or 3 digits (`"05"`); on create also a list of 1–1000 of them (one rule
    /// each).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NumberValue>, inline)]
    number: Option<Option<Value>>,
    /// Per-ticket limit on the number: more than 0, 2 decimals (a number or a numeric string).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<AmountValue>, inline)]
    max_amount: Option<Option<Value>>,
    /// Cumulative limit on the number: more than 0, 2 decimals.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<AmountValue>, inline)]
    max_total: Option<Option<Value>>,
    /// Base of a percentage limit: 0 or more, 2 decimals.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<AmountValue>, inline)]
    base_amount: Option<Option<Value>>,
    /// Percentage of the scope's sales: more than 0, at most 100.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<PercentageValue>, inline)]
    sales_percentage: Option<Option<Value>>,
    /// The limit counts per vendedor (boolean or `"true"`/`"false"`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<doc::BoolOrText>, inline)]
    applies_to_vendedor: Option<Option<Value>>,
    /// `YYYY-MM-DD` (a date-time's date part is taken as written).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateValue>, inline)]
    applies_to_date: Option<Option<Value>>,
    /// Hour of the day, 0–23 (a number or a numeric string).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<HourValue>, inline)]
    applies_to_hour: Option<Option<Value>>,
    /// Sales close this many minutes before the draw, 0–1440.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<CutoffMinutesValue>, inline)]
    sales_cutoff_minutes: Option<Option<Value>>,
    #[serde(default, deserialize_with = "nullable")]
    loteria_id: Option<Option<Uuid>>,
    /// With no amount: the rule blocks this multiplier.
    #[serde(default, deserialize_with = "nullable")]
    multiplier_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "nullable")]
    sorteo_id: Option<Option<Uuid>>,
    /// Shown to the seller when the rule refuses a sale, 1–255 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(max_length = 255)]
    message: Option<Option<String>>,
    /// Boolean or `"true"`/`"false"`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<doc::BoolOrText>, inline)]
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
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = restrictions::BulkUpdateBody)]
struct BulkUpdateBody {
    /// 1–1000 rules (duplicates ignored).
    #[schema(min_items = 1, max_items = 1000)]
    ids: Vec<Uuid>,
    /// The changes, as on `PATCH /restrictions/{id}` (`number` a single number).
    data: RuleBody,
}

/// `{ids, reason?}` of `DELETE /restrictions/bulk`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = restrictions::BulkDeleteBody)]
struct BulkDeleteBody {
    /// 1–1000 rules (duplicates ignored).
    #[schema(min_items = 1, max_items = 1000)]
    ids: Vec<Uuid>,
    /// 3–200 characters (blank: none).
    #[schema(max_length = 200)]
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
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    /// Page number (default 1).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 4294967295.0)]
    page: Option<u32>,
    /// Page size (default 20).
    #[param(minimum = 1, maximum = 100)]
    page_size: Option<u32>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    banca_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    ventana_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    user_id: Option<Uuid>,
    /// Rules on this number.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    number: Option<String>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    id: Option<Uuid>,
    /// A group of `GET /restrictions/grouped`.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    group_key: Option<String>,
    /// Text in the message, number or names.
    #[serde(default, deserialize_with = "de::opt_trimmed")]
    search: Option<String>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    is_active: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    has_cutoff: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    has_amount: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    has_auto_date: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_bool")]
    #[param(value_type = Option<doc::BoolText>, inline)]
    has_lottery_multiplier: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    loteria_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    multiplier_id: Option<Uuid>,
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
struct MeQuery {
    /// The vendedor (default: the caller when it is a VENDEDOR).
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    vendedor_id: Option<Uuid>,
    /// Only the rules that apply to this sorteo.
    #[serde(default, deserialize_with = "de::opt_uuid_or_all")]
    #[param(value_type = Option<doc::UuidOrAll>, inline)]
    sorteo_id: Option<Uuid>,
}

// ---------------------------------------------------------------------------------------------
// Handlers.

#[utoipa::path(
    post,
    path = "/api/v1/restrictions",
    tag = "restrictions",
    request_body = RuleBody,
    responses(
        (status = 201, description = "Las reglas creadas (una por número)", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido, ámbito múltiple o banca requerida (VALIDATION_ERROR), referencia inexistente (INVALID_REFERENCE)", body = ErrorBody),
        (status = 403, description = "Rol no permitido (VENDEDOR; VENTANA en reglas de corte) o ámbito fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Banca, ventana, vendedor, lotería, multiplicador o sorteo no encontrados", body = ErrorBody),
        (status = 409, description = "Ya existe una regla activa igual en el ámbito (RULE_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    patch,
    path = "/api/v1/restrictions/{id}",
    tag = "restrictions",
    params(("id" = Uuid, Path, description = "The rule")),
    request_body = RuleBody,
    responses(
        (status = 200, description = "La regla actualizada", body = SuccessEnvelope),
        (status = 400, description = "Cuerpo inválido, ámbito múltiple o banca requerida (VALIDATION_ERROR), referencia inexistente (INVALID_REFERENCE)", body = ErrorBody),
        (status = 403, description = "Rol no permitido (VENDEDOR; VENTANA en reglas de corte) o ámbito fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Regla inexistente o de otra banca", body = ErrorBody),
        (status = 409, description = "Ya existe una regla activa igual en el ámbito (RULE_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    delete,
    path = "/api/v1/restrictions/{id}",
    tag = "restrictions",
    params(("id" = Uuid, Path, description = "The rule")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`, 3–200 characters"),
    responses(
        (status = 200, description = "La regla dada de baja", body = SuccessEnvelope),
        (status = 400, description = "Motivo inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Rol no permitido (VENDEDOR; VENTANA en reglas de corte) o ámbito fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Regla inexistente o de otra banca", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    patch,
    path = "/api/v1/restrictions/{id}/restore",
    tag = "restrictions",
    params(("id" = Uuid, Path, description = "The rule")),
    request_body(content = Option<ReasonBody>, description = "Optional `{reason}`, 3–200 characters"),
    responses(
        (status = 200, description = "La regla restaurada", body = SuccessEnvelope),
        (status = 400, description = "Motivo inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Rol no permitido (VENDEDOR; VENTANA en reglas de corte) o ámbito fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Regla inexistente o de otra banca", body = ErrorBody),
        (status = 409, description = "Ya existe una regla activa igual en el ámbito (RULE_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    put,
    path = "/api/v1/restrictions/bulk",
    tag = "restrictions",
    request_body = BulkUpdateBody,
    responses(
        (status = 200, description = "Las reglas actualizadas", body = SuccessEnvelope),
        (status = 400, description = "ids fuera de 1–1000 o cambios inválidos (VALIDATION_ERROR, campos como data.<campo>)", body = ErrorBody),
        (status = 403, description = "Rol no permitido (VENDEDOR; VENTANA en reglas de corte) o ámbito fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Alguna regla inexistente o de otra banca", body = ErrorBody),
        (status = 409, description = "Ya existe una regla activa igual en el ámbito (RULE_EXISTS)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    delete,
    path = "/api/v1/restrictions/bulk",
    tag = "restrictions",
    request_body = BulkDeleteBody,
    responses(
        (status = 200, description = "Las reglas dadas de baja", body = SuccessEnvelope),
        (status = 400, description = "ids fuera de 1–1000 o motivo inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Rol no permitido (VENDEDOR; VENTANA en reglas de corte) o ámbito fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Alguna regla inexistente o de otra banca", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/restrictions",
    tag = "restrictions",
    params(ListQuery),
    responses(
        (status = 200, description = "Una página de reglas visibles", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Filtro fuera de alcance (FORBIDDEN)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/restrictions/grouped",
    tag = "restrictions",
    params(ListQuery),
    responses(
        (status = 200, description = "Una página de grupos de reglas iguales salvo el número (groupKey, ids, numbers)", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Filtro fuera de alcance (FORBIDDEN)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/restrictions/{id}",
    tag = "restrictions",
    params(("id" = Uuid, Path, description = "The rule")),
    responses(
        (status = 200, description = "La regla", body = SuccessEnvelope),
        (status = 400, description = "Identificador inválido", body = ErrorBody),
        (status = 403, description = "Sin permiso (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Regla inexistente o de otra banca", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/restrictions/me",
    tag = "restrictions",
    params(MeQuery),
    responses(
        (status = 200, description = "Las reglas que aplican al vendedor: {general, vendorSpecific}", body = SuccessEnvelope),
        (status = 400, description = "Filtro inválido o falta vendedorId (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Vendedor fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Vendedor o sorteo no encontrados", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    get,
    path = "/api/v1/restrictions/cron-health",
    tag = "restrictions",
    responses(
        (status = 200, description = "Salud de las reglas y de los contadores por número; sección jobs", body = SuccessEnvelope),
        (status = 403, description = "Solo ADMIN (FORBIDDEN)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
#[utoipa::path(
    post,
    path = "/api/v1/restrictions/cron-health/execute",
    tag = "restrictions",
    responses(
        (status = 200, description = "El reporte de salud con la ejecución bajo execution", body = SuccessEnvelope),
        (status = 403, description = "Solo ADMIN (FORBIDDEN)", body = ErrorBody),
        (status = 409, description = "El trabajo ya está en ejecución (JOB_ALREADY_RUNNING)", body = ErrorBody),
        (status = 500, description = "El trabajo falló; el detalle queda en su ejecución (JOB_FAILED)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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

#[utoipa::path(
    post,
    path = "/api/v1/restrictions/rehydrate/{sorteoId}",
    tag = "restrictions",
    params(("sorteoId" = Uuid, Path, description = "The sorteo")),
    responses(
        (status = 200, description = "Los contadores del sorteo reconstruidos, con lo que estaba mal", body = SuccessEnvelope),
        (status = 400, description = "Identificador inválido", body = ErrorBody),
        (status = 403, description = "Solo ADMIN (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo no encontrado", body = ErrorBody),
        (status = 409, description = "Choque de transacciones (TRANSACTION_CONFLICT)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
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
