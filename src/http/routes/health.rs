//! Probes: `GET /api/v1/healthz` (liveness) and `GET /api/v1/readyz` (readiness: warm-up done,
//! primary reachable, not shutting down; also reports the replica and Redis).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use serde_json::json;

use crate::app::AppState;
use crate::db::pools::ReplicaStatus;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::openapi::{ErrorBody, SuccessEnvelope};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/healthz", get(healthz))
        .route("/api/v1/readyz", get(readyz))
}

/// Liveness: the process answers.
#[utoipa::path(
    get,
    path = "/api/v1/healthz",
    tag = "health",
    responses((status = 200, description = "`data: {status: \"ok\"}`", body = SuccessEnvelope))
)]
async fn healthz() -> ApiResponse<serde_json::Value> {
    ApiResponse::ok(json!({ "status": "ok" }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checks {
    primary: &'static str,
    replica: ReplicaStatus,
    redis: &'static str,
}

/// Readiness: the primary is checked live (within `READINESS_TIMEOUT_MS`); the replica and Redis
/// are reported as the background monitor last saw them, so a hung optional dependency never
/// slows the probe.

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Readiness {
    status: &'static str,
    warmup: &'static str,
    checks: Checks,
}

/// Readiness: warm-up done, primary reachable, not shutting down.
#[utoipa::path(
    get,
    path = "/api/v1/readyz",
    tag = "health",
    responses(
        (status = 200, description = "Ready: `data: {status, warmup, checks: {primary, replica, redis}}`", body = SuccessEnvelope),
        (status = 503, description = "NOT_READY, with the same checks in `data`", body = ErrorBody)
    )
)]
async fn readyz(State(state): State<AppState>) -> Response {
    let shutting_down = state.readiness.is_shutting_down();
    let warmed = state.readiness.is_warmed();
    let primary_up = state
        .pools
        .ping_primary(state.config.readiness_timeout)
        .await
        .is_ok();
    let replica = state.pools.replica_status();
    let redis = state.readiness.redis(state.redis.is_some()).as_str();
    let status = if shutting_down {
        "shutting_down"
    } else if !warmed {
        "starting"
    } else if !primary_up {
        "unavailable"
    } else {
        "ready"
    };
    let body = Readiness {
        status,
        warmup: if warmed { "done" } else { "pending" },
        checks: Checks {
            primary: if primary_up { "up" } else { "down" },
            replica,
            redis,
        },
    };
    if status == "ready" {
        ApiResponse::ok(body).into_response()
    } else {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NOT_READY",
            "El servicio no está listo para recibir tráfico",
        )
        .with_retry_after(1)
        .with_data(serde_json::to_value(&body).unwrap_or_default())
        .into_response()
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz, readyz))]
pub struct ApiDoc;
