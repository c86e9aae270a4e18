//! `GET /diagnostics/cutoff?userId=&ventanaId=&sorteoId=` (ADMIN; BANCA of its bancas; VENTANA
//! for its own ventana): which rule gives the seller's sales cutoff for the sorteo, when sales
//! close, and which limits bind each number — computed by the same pure resolutions the sale
//! uses (`domain::rules`). Instants are RFC 3339 in the business time zone.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::roles::Role;
use crate::domain::rules::{
    Block, Bound, CutoffCandidate, CutoffVerdict, NumberLimits, RuleOutcome, SalesScope,
    CUTOFF_GRACE_SECONDS,
};
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::AppQuery;
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::services::restrictions::{self, CutoffQuery};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/diagnostics/cutoff", get(cutoff))
}

/// The OpenAPI description of this module's routes.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(cutoff),
    tags((name = "diagnostics", description = "Why a sale closes or is limited: cutoff and limit resolution"))
)]
pub struct ApiDoc;

/// Strict, as the existing system's: unknown keys are a 400 (`_` is the cache buster).
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CutoffParams {
    /// The seller (default: the caller when it is a VENDEDOR).
    user_id: Option<Uuid>,
    /// The ventana (default: the seller's).
    ventana_id: Option<Uuid>,
    sorteo_id: Uuid,
    /// Cache buster, ignored.
    #[serde(rename = "_")]
    _cache_buster: Option<String>,
}

fn local(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).to_rfc3339()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Input {
    user_id: Uuid,
    ventana_id: Uuid,
    sorteo_id: Uuid,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CandidateDto {
    rule_id: Uuid,
    minutes: i32,
    score: u8,
    source: Option<&'static str>,
    /// `WINNER`, `OUTRANKED` or `SKIPPED`.
    verdict: &'static str,
    skip_reason: Option<&'static str>,
    banca_id: Option<Uuid>,
    ventana_id: Option<Uuid>,
    user_id: Option<Uuid>,
    applies_to_date: Option<chrono::NaiveDate>,
    applies_to_hour: Option<i16>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScopeDto {
    kind: &'static str,
    id: Uuid,
}

impl From<SalesScope> for ScopeDto {
    fn from(s: SalesScope) -> Self {
        ScopeDto {
            kind: s.kind(),
            id: s.id(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BoundDto {
    rule_id: Uuid,
    scope: &'static str,
    amount: Decimal,
    multiplier_id: Option<Uuid>,
    counted_in: Option<ScopeDto>,
    is_dynamic: bool,
    is_auto_date: bool,
}

impl From<&Bound> for BoundDto {
    fn from(b: &Bound) -> Self {
        BoundDto {
            rule_id: b.rule_id,
            scope: b.scope.as_str(),
            amount: b.amount,
            multiplier_id: b.multiplier_id,
            counted_in: b.counted_in.map(ScopeDto::from),
            is_dynamic: b.is_dynamic,
            is_auto_date: b.is_auto_date,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BlockDto {
    rule_id: Uuid,
    scope: &'static str,
    multiplier_id: Uuid,
    message: Option<String>,
}

impl From<&Block> for BlockDto {
    fn from(b: &Block) -> Self {
        BlockDto {
            rule_id: b.rule_id,
            scope: b.scope.as_str(),
            multiplier_id: b.multiplier_id,
            message: b.message.clone(),
        }
    }
}

/// The limits of one number (`number: null`: any number no rule names).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NumberDto {
    number: Option<String>,
    /// The smallest per-ticket limit on the number's jugadas (any multiplier).
    max_per_ticket: Option<BoundDto>,
    /// The smallest cumulative limit (whatever its scope).
    max_total: Option<BoundDto>,
    most_specific_rule_id: Option<Uuid>,
    per_ticket: Vec<BoundDto>,
    totals: Vec<BoundDto>,
    blocks: Vec<BlockDto>,
}

impl From<&NumberLimits> for NumberDto {
    fn from(n: &NumberLimits) -> Self {
        NumberDto {
            number: n.number.clone(),
            max_per_ticket: n.max_per_ticket(None).map(BoundDto::from),
            max_total: n.max_total(None).map(BoundDto::from),
            most_specific_rule_id: n.most_specific_rule,
            per_ticket: n.per_ticket.iter().map(BoundDto::from).collect(),
            totals: n.totals.iter().map(BoundDto::from).collect(),
            blocks: n.blocks.iter().map(BlockDto::from).collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DynamicDto {
    base_amount: Option<Decimal>,
    sales_percentage: Option<Decimal>,
    scope: ScopeDto,
    /// The scope's live sales of the sorteo (`null`: unknown).
    sales: Option<Decimal>,
    limit: Option<Decimal>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleOutcomeDto {
    rule_id: Uuid,
    scope: &'static str,
    applies: bool,
    skip_reason: Option<&'static str>,
    /// The number it governs (`null`: every number; auto-date: today's).
    number: Option<String>,
    per_ticket: Option<Decimal>,
    total: Option<Decimal>,
    counted_in: Option<ScopeDto>,
    dynamic: Option<DynamicDto>,
    blocks: bool,
    message: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LimitsDto {
    /// Whether sorteo sales were known (always, now): percentage limits fall back to their
    /// base when not.
    sales_known: bool,
    numbers: Vec<NumberDto>,
    rules: Vec<RuleOutcomeDto>,
}

/// The existing system's fields (`input` … `blocks`), then the explanation.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CutoffDto {
    input: Input,
    now: String,
    scheduled_at: String,
    cutoff_minutes: i32,
    cutoff_source: &'static str,
    cutoff_rule_id: Option<Uuid>,
    grace_ms: i64,
    limit_time: String,
    effective_limit_time: String,
    seconds_until_limit: i64,
    seconds_until_scheduled: i64,
    sorteo_status: String,
    /// Sales are closed now.
    blocks: bool,
    business_date: chrono::NaiveDate,
    business_hour: u8,
    banca_id: Uuid,
    banca_cutoff_minutes: Option<i32>,
    loteria_closing_minutes: Option<i32>,
    rules_cutoff_minutes: i32,
    rules_cutoff_source: &'static str,
    cutoff_candidates: Vec<CandidateDto>,
    limits: LimitsDto,
}

fn candidate(
    c: &CutoffCandidate,
    rules: &std::collections::HashMap<Uuid, crate::db::restrictions::RuleRow>,
) -> CandidateDto {
    let r = rules.get(&c.rule_id);
    let (verdict, skip) = match c.verdict {
        CutoffVerdict::Winner => ("WINNER", None),
        CutoffVerdict::Outranked => ("OUTRANKED", None),
        CutoffVerdict::Skipped(s) => ("SKIPPED", Some(s.code())),
    };
    CandidateDto {
        rule_id: c.rule_id,
        minutes: c.minutes,
        score: c.score,
        source: c.source.map(|s| s.as_str()),
        verdict,
        skip_reason: skip,
        banca_id: r.and_then(|r| r.banca_id),
        ventana_id: r.and_then(|r| r.ventana_id),
        user_id: r.and_then(|r| r.user_id),
        applies_to_date: r.and_then(|r| r.applies_to_date),
        applies_to_hour: r.and_then(|r| r.applies_to_hour),
    }
}

fn outcome(
    o: &RuleOutcome,
    rules: &std::collections::HashMap<Uuid, crate::db::restrictions::RuleRow>,
) -> RuleOutcomeDto {
    RuleOutcomeDto {
        rule_id: o.rule_id,
        scope: o.scope.as_str(),
        applies: o.skip.is_none(),
        skip_reason: o.skip.map(|s| s.code()),
        number: o.number.clone(),
        per_ticket: o.per_ticket,
        total: o.total,
        counted_in: o.counted_in.map(ScopeDto::from),
        dynamic: o.dynamic.as_ref().map(|d| DynamicDto {
            base_amount: d.base_amount,
            sales_percentage: d.sales_percentage,
            scope: d.scope.into(),
            sales: d.sales,
            limit: d.limit,
        }),
        blocks: o.blocks,
        message: rules.get(&o.rule_id).and_then(|r| r.message.clone()),
    }
}

/// Which rule gives the seller's sales cutoff for the sorteo, when sales close, and which
/// limits bind each number (ADMIN; BANCA of its bancas; VENTANA for its own ventana).
#[utoipa::path(
    get,
    path = "/api/v1/diagnostics/cutoff",
    tag = "diagnostics",
    params(CutoffParams),
    responses(
        (status = 200, description = "Corte de ventas y límites que aplican", body = SuccessEnvelope),
        (status = 400, description = "Parámetro ausente, inválido o desconocido (VALIDATION_ERROR)", body = ErrorBody),
        (status = 403, description = "Rol no permitido o vendedor fuera de alcance (FORBIDDEN)", body = ErrorBody),
        (status = 404, description = "Sorteo, vendedor, ventana o banca no encontrados (NOT_FOUND)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn cutoff(
    State(state): State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<CutoffParams>,
) -> Result<ApiResponse<CutoffDto>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca, Role::Ventana])?;
    let tz = state.config.business_timezone;
    let d = restrictions::diagnose_cutoff(
        state.pools.primary(),
        &auth.0,
        CutoffQuery {
            user_id: q.user_id,
            ventana_id: q.ventana_id,
            sorteo_id: q.sorteo_id,
        },
        tz,
        Utc::now(),
    )
    .await?;
    let limit_time = d.sorteo.scheduled_at - Duration::minutes(i64::from(d.cutoff.minutes));
    Ok(ApiResponse::ok(CutoffDto {
        input: Input {
            user_id: d.user_id,
            ventana_id: d.ventana_id,
            sorteo_id: d.sorteo.id,
        },
        now: local(d.now, tz),
        scheduled_at: local(d.sorteo.scheduled_at, tz),
        cutoff_minutes: d.cutoff.minutes,
        cutoff_source: d.cutoff.source.as_str(),
        cutoff_rule_id: d.cutoff.rule_id,
        grace_ms: CUTOFF_GRACE_SECONDS * 1000,
        limit_time: local(limit_time, tz),
        effective_limit_time: local(d.deadline, tz),
        seconds_until_limit: (d.deadline - d.now).num_seconds(),
        seconds_until_scheduled: (d.sorteo.scheduled_at - d.now).num_seconds(),
        sorteo_status: d.sorteo.status.clone(),
        blocks: d.closed,
        business_date: d.local.date,
        business_hour: d.local.hour,
        banca_id: d.banca_id,
        banca_cutoff_minutes: d.banca_minutes,
        loteria_closing_minutes: d.loteria_minutes,
        rules_cutoff_minutes: d.cutoff.rules_minutes,
        rules_cutoff_source: d.cutoff.rules_source.as_str(),
        cutoff_candidates: d
            .cutoff
            .candidates
            .iter()
            .map(|c| candidate(c, &d.rules))
            .collect(),
        limits: LimitsDto {
            sales_known: true,
            numbers: d.limits.numbers.iter().map(NumberDto::from).collect(),
            rules: d
                .limits
                .rules
                .iter()
                .map(|o| outcome(o, &d.rules))
                .collect(),
        },
    }))
}
