//! `GET /metrics`: every metric in the Prometheus text format (see `crate::observability`).
//! Public like the existing system's `/metrics`, unless `METRICS_TOKEN` is set: then it needs
//! `Authorization: Bearer <METRICS_TOKEN>`. Exempt from admission control, like the probes.
//!
//! The existing system answered a JSON object (`activeRequests`, `dbQueryDuration`, …, over a
//! 10 s window); Banca does not keep that format: `?format=json` answers 400 and
//! `docs/operations.md` maps each of those fields to the Prometheus series that replaces it.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::openapi::ErrorBody;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.config.metrics_token else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .is_some_and(|given| same_secret(given.trim().as_bytes(), token.expose().as_bytes()))
}

/// Every metric of this instance in the Prometheus text format (names and labels in
/// `docs/operations.md`). Public unless `METRICS_TOKEN` is set; then it takes
/// `Authorization: Bearer <METRICS_TOKEN>` (not a session token).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    params(("format" = Option<String>, Query, description = "`prometheus` (default) or `text`; anything else is a 400")),
    responses(
        (status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String),
        (status = 400, description = "UNSUPPORTED_FORMAT (the old JSON shape is not served)", body = ErrorBody),
        (status = 401, description = "UNAUTHORIZED: METRICS_TOKEN is set and the bearer is missing or wrong", body = ErrorBody),
        (status = 503, description = "METRICS_UNAVAILABLE: no recorder in this process", body = ErrorBody)
    )
)]
async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if !authorized(&state, &headers) {
        let mut res = ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Se requiere el token de métricas (Authorization: Bearer)",
        )
        .into_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    }
    let format = query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(&q).ok())
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "format"))
        .map(|(_, v)| v);
    if let Some(f) = format.as_deref() {
        if !matches!(f, "prometheus" | "text") {
            return ApiError::bad_request(
                "UNSUPPORTED_FORMAT",
                "Formato no soportado: /metrics responde solo en formato de texto de Prometheus",
            )
            .into_response();
        }
    }
    match crate::observability::metrics::render(&state) {
        Some(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            body,
        )
            .into_response(),
        None => ApiError::service_unavailable(
            "METRICS_UNAVAILABLE",
            "Las métricas no están disponibles en este proceso",
        )
        .into_response(),
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(metrics))]
pub struct ApiDoc;
