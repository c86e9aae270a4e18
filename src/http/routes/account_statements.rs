//! `/account-statements`: the automatic settlement job's configuration and health
//! (domain-money §2.6–2.7). The settlement itself is the job `account_settlement`; its runs are
//! the engine's `job_runs` rows.
//!
//! - `GET /account-statements/auto-status` (any authenticated): enabled, effective schedule,
//!   last run and its counts, next due time.
//! - `GET|PATCH /account-statements/auto-config` (ADMIN): the singleton row; PATCH is strict,
//!   validates the cron string, sets `updatedBy` and is audited
//!   (`ACCOUNT_SETTLEMENT_CONFIG_UPDATE`).
//! - `POST /account-statements/execute` (ADMIN): runs the settlement now (whatever `enabled`
//!   says), through the engine's claim; 409 `JOB_ALREADY_RUNNING` while a run is in progress.

use std::str::FromStr;

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::db::maintenance::{self as db_maintenance, SettlementConfig};
use crate::domain::roles::Role;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::AppJson;
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::routes::bancas::nullable;
use crate::http::validate::Checks;
use crate::jobs::engine;
use crate::jobs::maintenance::{effective_settlement_cron, SETTLEMENT_DEFAULT_CRON};
use crate::services;

/// The settlement job's name in `job_runs`.
pub const SETTLEMENT_JOB: &str = crate::jobs::accounts::SETTLEMENT;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/account-statements/auto-status", get(auto_status))
        .route(
            "/api/v1/account-statements/auto-config",
            get(get_config).patch(patch_config),
        )
        .route("/api/v1/account-statements/execute", post(execute))
}

/// `POST /account-statements/execute`: the settlement now, with the caller as `settledBy`;
/// answers the run's counts (`settledCount`, `skippedCount`, `carryForward`…) and its id.
#[utoipa::path(
    post,
    path = "/api/v1/account-statements/execute",
    tag = "account_statements",
    responses(
        (status = 200, description = "The settlement run's counts (`settledCount`, `skippedCount`, `carryForward`…) and `runId`", body = SuccessEnvelope),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody),
        (status = 409, description = "JOB_ALREADY_RUNNING", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn execute(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiResponse<Value>, ApiError> {
    auth.require(&[Role::Admin])?;
    let report = engine::run_now(
        &state,
        SETTLEMENT_JOB,
        crate::jobs::Trigger::Manual,
        Some(auth.0.user_id),
        json!({}),
    )
    .await?;
    let mut data = report.outcome;
    if let Value::Object(m) = &mut data {
        m.insert("runId".into(), json!(report.run_id));
    }
    Ok(ApiResponse::ok(data))
}

/// Why a cron string is refused, or `None` when it is a valid 5-field expression (minute hour
/// day-of-month month day-of-week, UTC) with a next occurrence.
pub(crate) fn cron_problem(s: &str) -> Option<&'static str> {
    let s = s.trim();
    if s.split_whitespace().count() != 5 {
        return Some("debe tener 5 campos: minuto hora día mes día-de-semana (UTC)");
    }
    match croner::Cron::from_str(s) {
        Err(_) => Some("no es una expresión cron válida"),
        Ok(c) if c.find_next_occurrence(&Utc::now(), false).is_err() => {
            Some("la expresión cron no ocurre nunca")
        }
        Ok(_) => None,
    }
}

/// The next occurrence of `cron` after `now`, if it parses.
fn next_occurrence(cron: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    croner::Cron::from_str(cron)
        .ok()?
        .find_next_occurrence(&now, false)
        .ok()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigDto {
    id: Uuid,
    enabled: bool,
    settlement_age_days: i32,
    /// As stored (`null`: the default).
    cron_schedule: Option<String>,
    /// The schedule that applies: the stored one or the default, `null` while disabled.
    effective_cron_schedule: Option<String>,
    default_cron_schedule: &'static str,
    batch_size: i32,
    updated_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<SettlementConfig> for ConfigDto {
    fn from(c: SettlementConfig) -> Self {
        ConfigDto {
            effective_cron_schedule: effective_settlement_cron(
                c.enabled,
                c.cron_schedule.as_deref(),
            ),
            default_cron_schedule: SETTLEMENT_DEFAULT_CRON,
            id: c.id,
            enabled: c.enabled,
            settlement_age_days: c.settlement_age_days,
            cron_schedule: c.cron_schedule,
            batch_size: c.batch_size,
            updated_by: c.updated_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/account-statements/auto-config",
    tag = "account_statements",
    responses(
        (status = 200, description = "The automatic settlement's configuration", body = SuccessEnvelope),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn get_config(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiResponse<ConfigDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let mut conn = state.pools.primary().acquire().await?;
    let c = db_maintenance::settlement_config(&mut conn).await?;
    Ok(ApiResponse::ok(c.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = account_statements::ConfigPatch)]
struct ConfigPatch {
    enabled: Option<bool>,
    settlement_age_days: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    cron_schedule: Option<Option<String>>,
    batch_size: Option<i64>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/account-statements/auto-config",
    tag = "account_statements",
    request_body = ConfigPatch,
    responses(
        (status = 200, description = "The configuration, updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn patch_config(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<ConfigPatch>,
) -> Result<ApiResponse<ConfigDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let mut c = Checks::new();
    c.range_i64("settlementAgeDays", body.settlement_age_days, 1, 365);
    c.range_i64("batchSize", body.batch_size, 100, 10_000);
    // A blank string clears the schedule, like null.
    let cron = body
        .cron_schedule
        .map(|v| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
    if let Some(Some(s)) = &cron {
        if s.chars().count() > 100 {
            c.fail("cronSchedule", "too_big", "máximo 100 caracteres");
        } else if let Some(problem) = cron_problem(s) {
            c.fail("cronSchedule", "invalid_string", problem);
        }
    }
    c.finish()?;

    let actor = &auth.0;
    let mut tx = state.pools.primary().begin().await?;
    let before = db_maintenance::settlement_config_for_update(&mut tx).await?;
    let mut after = before.clone();
    if let Some(v) = body.enabled {
        after.enabled = v;
    }
    if let Some(v) = body.settlement_age_days {
        after.settlement_age_days = i32::try_from(v).unwrap_or(before.settlement_age_days);
    }
    if let Some(v) = cron {
        after.cron_schedule = v;
    }
    if let Some(v) = body.batch_size {
        after.batch_size = i32::try_from(v).unwrap_or(before.batch_size);
    }
    let saved = db_maintenance::update_settlement_config(&mut tx, &after, actor.user_id).await?;
    services::activity::record(
        &mut tx,
        actor,
        None,
        "ACCOUNT_SETTLEMENT_CONFIG_UPDATE",
        "ACCOUNT_SETTLEMENT_CONFIG",
        saved.id,
        json!({
            "before": {
                "enabled": before.enabled,
                "settlementAgeDays": before.settlement_age_days,
                "cronSchedule": before.cron_schedule,
                "batchSize": before.batch_size,
            },
            "after": {
                "enabled": saved.enabled,
                "settlementAgeDays": saved.settlement_age_days,
                "cronSchedule": saved.cron_schedule,
                "batchSize": saved.batch_size,
            },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(ApiResponse::ok(saved.into()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusDto {
    enabled: bool,
    /// The schedule that applies (UTC), `null` while disabled.
    cron_schedule: Option<String>,
    /// When the last finished run finished.
    last_execution: Option<DateTime<Utc>>,
    /// `succeeded` or `failed`; `null` when it never ran.
    last_status: Option<String>,
    /// Whether a run is in progress now.
    running: bool,
    /// The next due time of the schedule after now (`null` while disabled).
    next_scheduled_execution: Option<DateTime<Utc>>,
    last_settled_count: Option<i64>,
    last_skipped_count: Option<i64>,
    last_error_count: Option<i64>,
    /// The failure of the last run, or the first per-row error it reported.
    last_error_message: Option<String>,
}

fn first_error(outcome: &Value) -> Option<String> {
    let e = outcome.get("errors")?.as_array()?.first()?;
    e.get("error")
        .or_else(|| e.get("message"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| e.as_str().map(str::to_owned))
}

#[utoipa::path(
    get,
    path = "/api/v1/account-statements/auto-status",
    tag = "account_statements",
    responses(
        (status = 200, description = "`{enabled, cronSchedule, lastExecution, lastStatus, running, nextScheduledExecution, …}`", body = SuccessEnvelope),
        (status = 401, body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn auto_status(
    State(state): State<AppState>,
    _auth: Auth,
) -> Result<ApiResponse<StatusDto>, ApiError> {
    let pool = state.pools.primary();
    let now = Utc::now();
    let config = {
        let mut conn = pool.acquire().await?;
        db_maintenance::settlement_config(&mut conn).await?
    };
    let runs = engine::last_runs(pool, SETTLEMENT_JOB, 10).await?;
    let running = runs.iter().any(|r| r.status == "running");
    let last = runs.iter().find(|r| r.status != "running");
    let outcome = last.and_then(|r| r.outcome.clone()).unwrap_or(Value::Null);
    let count = |k: &str| outcome.get(k).and_then(Value::as_i64);
    let cron = effective_settlement_cron(config.enabled, config.cron_schedule.as_deref());
    Ok(ApiResponse::ok(StatusDto {
        enabled: config.enabled,
        next_scheduled_execution: cron.as_deref().and_then(|c| next_occurrence(c, now)),
        cron_schedule: cron,
        last_execution: last.map(|r| r.finished_at.unwrap_or(r.started_at)),
        last_status: last.map(|r| r.status.clone()),
        running,
        last_settled_count: count("settledCount"),
        last_skipped_count: count("skippedCount"),
        last_error_count: count("errorCount"),
        last_error_message: last.and_then(|r| r.error.clone().or_else(|| first_error(&outcome))),
    }))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(execute, get_config, patch_config, auto_status))]
pub struct ApiDoc;
