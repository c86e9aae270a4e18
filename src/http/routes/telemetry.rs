//! `POST /api/v1/telemetry` (any authenticated role): the app reports how an operation went
//! (`event`, `durationMs`, `success`, optional `metadata`). Nothing is stored: each report is one
//! structured log line (`client telemetry`, target `banca::telemetry`) with the user, the active
//! banca, the client address (`TRUST_PROXY` rules) and user agent, as the existing system logged
//! it; the answer is 202 `{"success":true}`.
//!
//! Decisions: the body is strict (unknown keys are a 400, as in the existing system); `event` is
//! 1–100 characters without control characters and `metadata` at most 8 KiB of JSON, so a
//! client cannot flood or forge log lines; metadata values under keys that look like secrets
//! (`password`, `token`, `secret`, `authorization`, `cookie`, `apiKey`…) are logged as
//! `[redacted]`.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;
use crate::http::auth::Auth;
use crate::http::error::ApiError;
use crate::http::extract::{AppJson, PeerAddr};
use crate::http::openapi::ErrorBody;
use crate::http::routes::auth::client_ip;
use crate::http::validate::Checks;

/// Largest `metadata` accepted, serialized as JSON.
const METADATA_MAX_BYTES: usize = 8 * 1024;
/// Longest user agent written to the log.
const USER_AGENT_MAX_CHARS: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/telemetry", post(record))
}

#[derive(OpenApi)]
#[openapi(paths(record), components(schemas(TelemetryBody, TelemetryAccepted)))]
pub struct ApiDoc;

/// One client measurement.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TelemetryBody {
    /// What happened, e.g. `ticket_create` (1–100 characters).
    event: String,
    /// How long it took, whole milliseconds.
    duration_ms: u64,
    success: bool,
    /// Free-form details (at most 8 KiB as JSON).
    #[schema(value_type = Option<Object>)]
    metadata: Option<Map<String, Value>>,
}

/// `{"success": true}`.
#[derive(Serialize, ToSchema)]
struct TelemetryAccepted {
    success: bool,
}

/// Whether a metadata key names something that must not reach the logs.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "token",
        "secret",
        "authorization",
        "cookie",
        "apikey",
        "api_key",
        "credential",
    ]
    .iter()
    .any(|s| k.contains(s))
}

/// A copy of `v` with secret-looking keys' values replaced, at any depth.
fn redact(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) {
                        Value::String("[redacted]".into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Records one client telemetry event in the log.
#[utoipa::path(
    post,
    path = "/api/v1/telemetry",
    tag = "telemetry",
    request_body = TelemetryBody,
    responses(
        (status = 202, description = "logged", body = TelemetryAccepted),
        (status = 400, description = "VALIDATION_ERROR / INVALID_JSON", body = ErrorBody),
        (status = 401, description = "no valid session", body = ErrorBody),
        (status = 413, description = "PAYLOAD_TOO_LARGE", body = ErrorBody),
        (status = 415, description = "UNSUPPORTED_MEDIA_TYPE", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
async fn record(
    State(state): State<AppState>,
    auth: Auth,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    AppJson(body): AppJson<TelemetryBody>,
) -> Result<Response, ApiError> {
    let mut checks = Checks::new();
    checks.text("event", &body.event, 1, 100);
    if body.event.chars().any(char::is_control) {
        checks.fail(
            "event",
            "invalid_format",
            "no puede contener caracteres de control",
        );
    }
    let metadata = body.metadata.map(Value::Object).map(|m| redact(&m));
    let metadata_json = metadata
        .as_ref()
        .map(|m| serde_json::to_string(m).unwrap_or_default());
    if metadata_json
        .as_ref()
        .is_some_and(|m| m.len() > METADATA_MAX_BYTES)
    {
        checks.fail(
            "metadata",
            "too_big",
            format!("debe ocupar como máximo {METADATA_MAX_BYTES} bytes"),
        );
    }
    checks.finish()?;

    let user_agent: Option<String> = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(USER_AGENT_MAX_CHARS).collect());
    let ip = client_ip(&state, &headers, peer);
    let actor = &auth.0;
    tracing::info!(
        target: "banca::telemetry",
        layer = "telemetry",
        event = %body.event.trim(),
        duration_ms = body.duration_ms,
        success = body.success,
        user_id = %actor.user_id,
        role = actor.role.as_str(),
        banca_id = actor.banca_id.map(|b| b.to_string()).as_deref().unwrap_or(""),
        client.ip = ip.as_deref().unwrap_or(""),
        client.user_agent = ?user_agent.as_deref().unwrap_or(""),
        metadata = metadata_json.as_deref().unwrap_or("{}"),
        "client telemetry"
    );
    Ok((
        StatusCode::ACCEPTED,
        Json(TelemetryAccepted { success: true }),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_route_is_documented() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let op = &doc["paths"]["/api/v1/telemetry"]["post"];
        assert!(op["responses"]["202"].is_object(), "{op}");
        assert!(op["requestBody"].is_object(), "{op}");
    }

    #[test]
    fn secrets_in_metadata_are_redacted_at_any_depth() {
        let v = json!({
            "screen": "ventas",
            "accessToken": "eyJ...",
            "nested": {"Password": "x", "list": [{"api_key": "k", "ok": 1}]},
            "Authorization": "Bearer x"
        });
        assert_eq!(
            redact(&v),
            json!({
                "screen": "ventas",
                "accessToken": "[redacted]",
                "nested": {"Password": "[redacted]", "list": [{"api_key": "[redacted]", "ok": 1}]},
                "Authorization": "[redacted]"
            })
        );
    }
}
