//! The HTTP edge: routes under `/api/v1`, the middleware stack, the error and success shapes.
//! Handlers extract and authorize, call a service, and map the result to the wire.

pub mod auth;
pub mod cache;
pub mod dto;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod middleware;
pub mod openapi;
pub mod pagination;
pub mod rate_limit;
pub mod reports;
pub mod routes;
pub mod validate;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::Response;
use axum::Router;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::app::AppState;
use crate::config::CorsOrigins;

/// Every API route, without middleware.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .merge(routes::health::router())
        .merge(routes::metrics::router())
        .merge(routes::api_docs::router())
        .merge(routes::auth::router())
        .merge(routes::bancas::router())
        .merge(routes::ventanas::router())
        .merge(routes::users::router())
        .merge(routes::vendedores::router())
        .merge(routes::activity::router())
        .merge(routes::account_statements::router())
        .merge(routes::accounts_statements::router())
        .merge(routes::accounts_movements::router())
        .merge(routes::loterias::router())
        .merge(routes::sorteos::router())
        .merge(routes::sorteos_auto::router())
        .merge(routes::evaluated_summary::router())
        .merge(routes::commissions::router())
        .merge(routes::tickets::router())
        .merge(routes::ticket_payments::router())
        .merge(routes::multipliers::router())
        .merge(routes::multiplier_overrides::router())
        .merge(routes::restrictions::router())
        .merge(routes::listas::router())
        .merge(routes::diagnostics::router())
        .merge(routes::cierres::router())
        .merge(routes::dashboard::router())
        .merge(routes::ventas::router())
        .merge(routes::reports::router())
        .merge(routes::app_release::router())
        .merge(routes::telemetry::router())
}

/// The complete application: every route plus the middleware stack.
pub fn router(state: AppState) -> Router {
    with_middleware(api_routes(), state)
}

fn cors_layer(origins: &CorsOrigins) -> CorsLayer {
    let allow = match origins {
        CorsOrigins::Any => AllowOrigin::mirror_request(),
        CorsOrigins::List(list) => AllowOrigin::list(
            list.iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        ),
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("x-requested-with"),
            HeaderName::from_static("x-active-banca-id"),
            HeaderName::from_static("x-request-id"),
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::CONTENT_LENGTH,
            header::RETRY_AFTER,
            middleware::X_REQUEST_ID.clone(),
            rate_limit::RATELIMIT_POLICY.clone(),
            rate_limit::RATELIMIT_LIMIT.clone(),
            rate_limit::RATELIMIT_REMAINING.clone(),
            rate_limit::RATELIMIT_RESET.clone(),
        ])
        .max_age(Duration::from_secs(86_400))
}

/// Responses marked `X-No-Compression` (already-compressed files such as the APK) pass as they
/// are, keeping `Content-Length` and `Accept-Ranges`.
fn not_marked_uncompressed(
    _: axum::http::StatusCode,
    _: axum::http::Version,
    headers: &axum::http::HeaderMap,
    _: &axum::http::Extensions,
) -> bool {
    !headers.contains_key("x-no-compression")
}

fn request_span(req: &Request) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let request_id = req
        .headers()
        .get(&middleware::X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    tracing::info_span!(
        "request",
        http.method = %req.method(),
        http.route = %route,
        request_id = %request_id,
        user_id = tracing::field::Empty,
        banca_id = tracing::field::Empty,
    )
}

fn log_response<B>(res: &Response<B>, latency: Duration, _span: &Span) {
    let status = res.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if res.status().is_server_error() {
        tracing::warn!(http.status = status, latency_ms, "request finished");
    } else {
        tracing::info!(http.status = status, latency_ms, "request finished");
    }
}

/// Wraps routes in the middleware stack, outermost first: request id → metrics and Sentry
/// (`crate::observability::http`) → span and log → security headers → CORS → compression →
/// rate limits → admission → timeout → panic catcher → body checks → shared caches.
/// Every response, errors and panics included, carries the request id, CORS and security
/// headers.
pub fn with_middleware(routes: Router<AppState>, state: AppState) -> Router {
    let compress_when = SizeAbove::new(1024)
        .and(NotForContentType::GRPC)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(not_marked_uncompressed);
    let stack = ServiceBuilder::new()
        .layer(from_fn(middleware::request_id))
        .layer(from_fn(crate::observability::http::observe))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(log_response)
                .on_failure(()),
        )
        .layer(from_fn(middleware::security_headers))
        .layer(cors_layer(&state.config.cors_origins))
        .layer(CompressionLayer::new().compress_when(compress_when))
        .layer(from_fn_with_state(state.clone(), rate_limit::limit))
        .layer(from_fn_with_state(state.clone(), middleware::admission))
        .layer(from_fn_with_state(state.clone(), middleware::timeout))
        .layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(from_fn_with_state(state.clone(), middleware::body_checks))
        .layer(from_fn_with_state(state.clone(), cache::layer))
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes));
    routes
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(stack)
        .with_state(state)
}
