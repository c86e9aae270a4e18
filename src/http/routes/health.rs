//! Probes: `GET /api/v1/healthz` (liveness) and `GET /api/v1/readyz` (readiness: warm-up done,
//! primary reachable, not shutting down; also reports the replica and Redis).

use std::time::Duration;

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

/// How long a readiness probe waits for each dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/healthz", get(healthz))
        .route("/api/v1/readyz", get(readyz))
}

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

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Readiness {
    status: &'static str,
    warmup: &'static str,
    checks: Checks,
}

async fn readyz(State(state): State<AppState>) -> Response {
    let shutting_down = state.readiness.is_shutting_down();
    let warmed = state.readiness.is_warmed();
    let (primary, replica, redis) = tokio::join!(
        state.pools.ping_primary(PROBE_TIMEOUT),
        state.pools.probe_replica(PROBE_TIMEOUT),
        async {
            match &state.redis {
                None => "not_configured",
                Some(r) => match r.ping(PROBE_TIMEOUT).await {
                    Ok(()) => "up",
                    Err(_) => "down",
                },
            }
        }
    );
    let primary_up = primary.is_ok();
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
