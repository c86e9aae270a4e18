//! The sorteo jobs' routes (domain-money §2.5–2.6): `GET|PATCH /sorteos/auto-config` (ADMIN),
//! `GET /sorteos/auto-status` (any authenticated role) and the manual runs
//! `POST /sorteos/auto-{open,create,close}/execute` (ADMIN, BANCA).
//!
//! The last executions and counts are read from the job engine's run rows (`job_runs`), not
//! stored in the configuration: a run that was skipped because its flag was off does not count.
//! The cron strings are 5-field expressions in UTC; the engine reads them on every tick, so a
//! change applies at once. A manual run goes through the engine's claim (409
//! `JOB_ALREADY_RUNNING` while a run of the job is in progress) and ignores the flag. An ADMIN
//! run acts on every banca, as the scheduled run does; a BANCA user's run only on its active
//! banca (the reference let any BANCA user act on every banca).

use std::str::FromStr;

use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::db;
use crate::db::activity::NewActivity;
use crate::db::sorteos_auto::{AutoConfigChanges, AutoConfigRow};
use crate::domain::roles::Role;
use crate::http::auth::{forbidden, Auth};
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::extract::{AppJson, AppQuery};
use crate::http::openapi::{ErrorBody, SuccessEnvelope};
use crate::http::routes::bancas::nullable;
use crate::http::validate::Checks;
use crate::jobs::engine::{self, RunRow};
use crate::jobs::sorteos_auto::{SorteoJob, DAYS_AHEAD};
use crate::jobs::Trigger;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/sorteos/auto-config",
            get(read_config).patch(update_config),
        )
        .route("/api/v1/sorteos/auto-status", get(status))
        .route("/api/v1/sorteos/auto-open/execute", post(execute_open))
        .route("/api/v1/sorteos/auto-create/execute", post(execute_create))
        .route("/api/v1/sorteos/auto-close/execute", post(execute_close))
}

/// Runs read per job to find its last execution.
const RUNS_READ: i64 = 50;

/// What the run rows say about one job.
#[derive(Debug, Clone, Default)]
struct JobHistory {
    /// The latest successful run that did its work (not skipped as disabled).
    last_execution: Option<DateTime<Utc>>,
    last_count: Option<i64>,
    /// The latest finished run that was not skipped failed.
    last_failed: bool,
}

fn skipped(r: &RunRow) -> bool {
    r.outcome
        .as_ref()
        .is_some_and(|o| o.get("skipped").is_some())
}

async fn history(state: &AppState, job: SorteoJob) -> Result<JobHistory, ApiError> {
    let runs = engine::last_runs(state.pools.primary(), job.name(), RUNS_READ).await?;
    let mut h = JobHistory::default();
    let finished: Vec<&RunRow> = runs
        .iter()
        .filter(|r| r.status != "running" && !skipped(r))
        .collect();
    h.last_failed = finished.first().is_some_and(|r| r.status == "failed");
    if let Some(r) = finished.iter().find(|r| r.status == "succeeded") {
        h.last_execution = Some(r.finished_at.unwrap_or(r.started_at));
        h.last_count = r
            .outcome
            .as_ref()
            .and_then(|o| o.get(job.count_key()))
            .and_then(Value::as_i64);
    }
    Ok(h)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigDto {
    auto_open_enabled: bool,
    auto_create_enabled: bool,
    auto_close_enabled: bool,
    /// Stored strings (`null`: the default applies).
    open_cron_schedule: Option<String>,
    create_cron_schedule: Option<String>,
    close_cron_schedule: Option<String>,
    /// The schedules the engine uses (UTC).
    effective_open_cron_schedule: String,
    effective_create_cron_schedule: String,
    effective_close_cron_schedule: String,
    last_open_execution: Option<DateTime<Utc>>,
    last_create_execution: Option<DateTime<Utc>>,
    last_close_execution: Option<DateTime<Utc>>,
    last_open_count: Option<i64>,
    last_create_count: Option<i64>,
    last_close_count: Option<i64>,
    updated_by: Option<Uuid>,
    updated_by_username: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

async fn config_dto(state: &AppState, c: AutoConfigRow) -> Result<ConfigDto, ApiError> {
    let open = history(state, SorteoJob::Open).await?;
    let create = history(state, SorteoJob::Create).await?;
    let close = history(state, SorteoJob::Close).await?;
    Ok(ConfigDto {
        auto_open_enabled: c.auto_open_enabled,
        auto_create_enabled: c.auto_create_enabled,
        auto_close_enabled: c.auto_close_enabled,
        effective_open_cron_schedule: SorteoJob::Open.effective_cron(&c),
        effective_create_cron_schedule: SorteoJob::Create.effective_cron(&c),
        effective_close_cron_schedule: SorteoJob::Close.effective_cron(&c),
        open_cron_schedule: c.open_cron_schedule,
        create_cron_schedule: c.create_cron_schedule,
        close_cron_schedule: c.close_cron_schedule,
        last_open_execution: open.last_execution,
        last_create_execution: create.last_execution,
        last_close_execution: close.last_execution,
        last_open_count: open.last_count,
        last_create_count: create.last_count,
        last_close_count: close.last_count,
        updated_by: c.updated_by,
        updated_by_username: c.updated_by_username,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/sorteos/auto-config",
    tag = "sorteos_auto",
    responses(
        (status = 200, description = "The automation flags, cron schedules and their last runs", body = SuccessEnvelope),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn read_config(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<ApiResponse<ConfigDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let row = {
        let mut conn = state.pools.primary().acquire().await?;
        db::sorteos_auto::get(&mut conn).await?
    };
    Ok(ApiResponse::ok(config_dto(&state, row).await?))
}

/// `PATCH /sorteos/auto-config`: every key optional, nothing else accepted.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = sorteos_auto::PatchBody)]
struct PatchBody {
    #[serde(default, deserialize_with = "nullable")]
    auto_open_enabled: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    auto_create_enabled: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    auto_close_enabled: Option<Option<bool>>,
    #[serde(default, deserialize_with = "nullable")]
    open_cron_schedule: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    create_cron_schedule: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    close_cron_schedule: Option<Option<String>>,
}

/// Longest cron string stored (the column's size).
const CRON_MAX: usize = 100;

/// Why `s` is not a 5-field cron expression the engine can schedule, if it is not.
pub fn cron_problem(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() {
        return Some("no puede estar vacío (use null para el horario por defecto)".into());
    }
    if s.chars().count() > CRON_MAX {
        return Some(format!("debe tener como máximo {CRON_MAX} caracteres"));
    }
    if s.split_whitespace().count() != 5 {
        return Some(
            "debe ser una expresión cron de 5 campos (minuto hora día mes día-semana), en UTC"
                .into(),
        );
    }
    croner::Cron::from_str(s)
        .err()
        .map(|e| format!("no es una expresión cron válida ({e})"))
}

fn check_flag(c: &mut Checks, field: &str, v: Option<Option<bool>>) -> Option<bool> {
    match v {
        Some(None) => {
            c.fail(field, "invalid_type", "debe ser true o false");
            None
        }
        Some(Some(b)) => Some(b),
        None => None,
    }
}

fn check_cron(c: &mut Checks, field: &str, v: Option<Option<String>>) -> Option<Option<String>> {
    match v {
        Some(Some(s)) => {
            if let Some(issue) = cron_problem(&s) {
                c.fail(field, "invalid_cron", issue);
            }
            Some(Some(s.trim().to_string()))
        }
        other => other,
    }
}

#[utoipa::path(
    patch,
    path = "/api/v1/sorteos/auto-config",
    tag = "sorteos_auto",
    request_body = PatchBody,
    responses(
        (status = 200, description = "The configuration, updated", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN only)", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn update_config(
    State(state): State<AppState>,
    auth: Auth,
    AppJson(body): AppJson<PatchBody>,
) -> Result<ApiResponse<ConfigDto>, ApiError> {
    auth.require(&[Role::Admin])?;
    let mut c = Checks::new();
    let changes = AutoConfigChanges {
        auto_open_enabled: check_flag(&mut c, "autoOpenEnabled", body.auto_open_enabled),
        auto_create_enabled: check_flag(&mut c, "autoCreateEnabled", body.auto_create_enabled),
        auto_close_enabled: check_flag(&mut c, "autoCloseEnabled", body.auto_close_enabled),
        open_cron_schedule: check_cron(&mut c, "openCronSchedule", body.open_cron_schedule),
        create_cron_schedule: check_cron(&mut c, "createCronSchedule", body.create_cron_schedule),
        close_cron_schedule: check_cron(&mut c, "closeCronSchedule", body.close_cron_schedule),
    };
    c.finish()?;
    let mut tx = state.pools.primary().begin().await?;
    let before = db::sorteos_auto::get(&mut tx).await?;
    let row = db::sorteos_auto::update(&mut tx, &changes, auth.0.user_id).await?;
    let flags = |r: &AutoConfigRow| {
        json!({
            "autoOpenEnabled": r.auto_open_enabled,
            "autoCreateEnabled": r.auto_create_enabled,
            "autoCloseEnabled": r.auto_close_enabled,
            "openCronSchedule": r.open_cron_schedule,
            "createCronSchedule": r.create_cron_schedule,
            "closeCronSchedule": r.close_cron_schedule,
        })
    };
    db::activity::insert(
        &mut tx,
        &NewActivity {
            user_id: Some(auth.0.user_id),
            // A global setting: not an entry of the caller's active banca.
            banca_id: None,
            action: "SYSTEM_ACTION",
            target_type: Some("SORTEOS_AUTO_CONFIG"),
            target_id: Some("global".into()),
            details: json!({ "op": "update", "before": flags(&before), "after": flags(&row) }),
            request_id: crate::http::middleware::current_request_id(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(ApiResponse::ok(config_dto(&state, row).await?))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobHealth {
    is_healthy: bool,
    last_execution: Option<DateTime<Utc>>,
    hours_since_last_run: Option<f64>,
    last_execution_count: Option<i64>,
    /// `ok`, `never_run`, or `failed` (the latest run failed).
    status: &'static str,
}

/// A job is healthy when it did its work less than this many hours ago.
const HEALTHY_HOURS: f64 = 30.0;

fn health(h: &JobHistory, now: DateTime<Utc>) -> JobHealth {
    let hours = h.last_execution.map(|t| {
        let hours = (now - t).num_milliseconds() as f64 / 3_600_000.0;
        (hours * 100.0).round() / 100.0
    });
    JobHealth {
        is_healthy: hours.is_some_and(|x| x < HEALTHY_HOURS),
        last_execution: h.last_execution,
        hours_since_last_run: hours,
        last_execution_count: h.last_count,
        status: if h.last_failed {
            "failed"
        } else if h.last_execution.is_none() {
            "never_run"
        } else {
            "ok"
        },
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/sorteos/auto-status",
    tag = "sorteos_auto",
    responses(
        (status = 200, description = "`{open, create, close}` job health and the three flags", body = SuccessEnvelope),
        (status = 401, body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn status(
    State(state): State<AppState>,
    _auth: Auth,
) -> Result<ApiResponse<Value>, ApiError> {
    let config = {
        let mut conn = state.pools.primary().acquire().await?;
        db::sorteos_auto::get(&mut conn).await?
    };
    let now = Utc::now();
    let open = health(&history(&state, SorteoJob::Open).await?, now);
    let create = health(&history(&state, SorteoJob::Create).await?, now);
    let close = health(&history(&state, SorteoJob::Close).await?, now);
    Ok(ApiResponse::ok(json!({
        "open": open,
        "create": create,
        "close": close,
        "autoOpenEnabled": config.auto_open_enabled,
        "autoCreateEnabled": config.auto_create_enabled,
        "autoCloseEnabled": config.auto_close_enabled,
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct CreateQuery {
    days_ahead: Option<i64>,
}

#[utoipa::path(
    post,
    path = "/api/v1/sorteos/auto-create/execute",
    tag = "sorteos_auto",
    params(CreateQuery),
    responses(
        (status = 200, description = "The auto-create run's counts; with `runId` and `job`", body = SuccessEnvelope),
        (status = 400, description = "VALIDATION_ERROR (daysAhead)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 409, description = "JOB_ALREADY_RUNNING", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn execute_create(
    state: State<AppState>,
    auth: Auth,
    AppQuery(q): AppQuery<CreateQuery>,
) -> Result<ApiResponse<Value>, ApiError> {
    let mut c = Checks::new();
    c.range_i64(
        "daysAhead",
        q.days_ahead,
        i64::from(*DAYS_AHEAD.start()),
        i64::from(*DAYS_AHEAD.end()),
    );
    // Role first: a VENDEDOR gets 403 whatever the query.
    auth.require(&[Role::Admin, Role::Banca])?;
    c.finish()?;
    execute(
        state,
        auth,
        SorteoJob::Create,
        Some(q.days_ahead.unwrap_or(1)),
    )
    .await
}

/// Opens the sorteos due now (the auto-open job, run by hand).
#[utoipa::path(
    post,
    path = "/api/v1/sorteos/auto-open/execute",
    tag = "sorteos_auto",
    responses(
        (status = 200, description = "The auto-open run's counts; with `runId` and `job`", body = SuccessEnvelope),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 409, description = "JOB_ALREADY_RUNNING", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn execute_open(state: State<AppState>, auth: Auth) -> Result<ApiResponse<Value>, ApiError> {
    execute(state, auth, SorteoJob::Open, None).await
}

/// Closes the sorteos past their cutoff (the auto-close job, run by hand).
#[utoipa::path(
    post,
    path = "/api/v1/sorteos/auto-close/execute",
    tag = "sorteos_auto",
    responses(
        (status = 200, description = "The auto-close run's counts; with `runId` and `job`", body = SuccessEnvelope),
        (status = 401, body = ErrorBody),
        (status = 403, description = "FORBIDDEN (ADMIN or BANCA)", body = ErrorBody),
        (status = 409, description = "JOB_ALREADY_RUNNING", body = ErrorBody)
    ),
    security(("bearer" = [])),
)]
async fn execute_close(state: State<AppState>, auth: Auth) -> Result<ApiResponse<Value>, ApiError> {
    execute(state, auth, SorteoJob::Close, None).await
}

/// Runs `job` now through the engine and answers its counts.
async fn execute(
    State(state): State<AppState>,
    auth: Auth,
    job: SorteoJob,
    days_ahead: Option<i64>,
) -> Result<ApiResponse<Value>, ApiError> {
    auth.require(&[Role::Admin, Role::Banca])?;
    let actor = &auth.0;
    let mut params = serde_json::Map::new();
    if let Some(d) = days_ahead {
        params.insert("daysAhead".into(), json!(d));
    }
    if actor.role == Role::Banca {
        let banca = actor.banca_id.ok_or_else(forbidden)?;
        params.insert("bancaId".into(), json!(banca));
    }
    let report = engine::run_now(
        &state,
        job.name(),
        Trigger::Manual,
        Some(actor.user_id),
        Value::Object(params),
    )
    .await?;
    let mut data = match report.outcome {
        Value::Object(m) => m,
        other => {
            let mut m = serde_json::Map::new();
            m.insert("outcome".into(), other);
            m
        }
    };
    data.insert("runId".into(), json!(report.run_id));
    data.insert("job".into(), json!(report.job));
    Ok(ApiResponse::ok(Value::Object(data)))
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    read_config,
    update_config,
    status,
    execute_open,
    execute_create,
    execute_close
))]
pub struct ApiDoc;
