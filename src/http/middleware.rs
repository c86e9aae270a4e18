//! Request plumbing shared by every route: request ids, admission control, the per-request
//! timeout, body checks (415/413), security headers, and the panic response.

use std::any::Any;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{payload_too_large, unsupported_media_type};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, when called inside one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// Accepts a client id if it is short printable ASCII (so it cannot forge log lines).
fn acceptable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b));
    ok.then(|| s.to_string())
}

/// Takes `X-Request-Id` from the request or makes one, exposes it to everything inside the
/// request (errors, logs) and echoes it in the response.
pub async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(acceptable_request_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    let mut res = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    res
}

/// Paths never refused by admission control (probes must answer under load).
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/api/v1/healthz" | "/api/v1/readyz" | "/metrics")
}

/// Refuses requests with 503 and `Retry-After` until warm-up is done (`SERVICE_STARTING`) and
/// beyond `MAX_CONCURRENT_REQUESTS` (`SERVER_BUSY`). Probes always pass.
pub async fn admission(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_probe(req.uri().path()) {
        return next.run(req).await;
    }
    if !state.readiness.is_warmed() {
        return ApiError::service_unavailable(
            "SERVICE_STARTING",
            "El servicio está iniciando; intente de nuevo en unos segundos",
        )
        .into_response();
    }
    match state.admission.clone().try_acquire_owned() {
        Ok(permit) => {
            let res = next.run(req).await;
            drop(permit);
            res
        }
        Err(_) => ApiError::service_unavailable(
            "SERVER_BUSY",
            "El servidor está ocupado; intente de nuevo en un momento",
        )
        .into_response(),
    }
}

/// Answers 503 `REQUEST_TIMEOUT` when a request runs longer than `REQUEST_TIMEOUT_MS`. The
/// handler is dropped, so an open transaction rolls back instead of committing late.
pub async fn timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.config.request_timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(
                timeout_ms = state.config.request_timeout.as_millis() as u64,
                "request timed out"
            );
            ApiError::service_unavailable(
                "REQUEST_TIMEOUT",
                "La solicitud tardó demasiado; intente de nuevo",
            )
            .into_response()
        }
    }
}

fn is_json(content_type: &HeaderValue) -> bool {
    content_type
        .to_str()
        .ok()
        .and_then(|s| s.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Write requests with a body must be JSON (415) and within `BODY_LIMIT_BYTES` (413).
pub async fn body_checks(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let writes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = length {
        if n > state.config.body_limit_bytes as u64 {
            return payload_too_large().into_response();
        }
    }
    let has_body = length.map(|n| n > 0).unwrap_or(false)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if writes && has_body {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(is_json)
            .unwrap_or(false);
        if !json {
            return unsupported_media_type().into_response();
        }
    }
    next.run(req).await
}

/// The headers helmet 8 sets by default, as the existing system sends them.
const SECURITY_HEADERS: [(&str, &str); 12] = [
    (
        "content-security-policy",
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
    ),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("origin-agent-cluster", "?1"),
    ("referrer-policy", "no-referrer"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("x-content-type-options", "nosniff"),
    ("x-dns-prefetch-control", "off"),
    ("x-download-options", "noopen"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-permitted-cross-domain-policies", "none"),
    ("x-xss-protection", "0"),
];

/// Adds the security headers to every response that does not set them itself.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    res
}

/// Turns a panic in a handler into a 500 with no internal text; the panic is logged.
pub fn panic_response(err: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic payload)");
    tracing::error!(panic = %detail, "handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "INTERNAL_ERROR",
        "Error interno del servidor",
    )
    .into_response()
}

/// Unknown route: 404 in the error shape.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Ruta no encontrada")
}

/// Known route, wrong method: 405 in the error shape.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "Método no permitido para esta ruta",
    )
}
