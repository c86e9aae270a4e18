//! The rate-limit middleware (platform-api §8): every request counts against the global
//! limiter of its client address (probes and `OPTIONS` excepted), and logins, sales and file
//! exports also against their own limiter. A refusal is a 429 `RATE_LIMITED` with
//! `Retry-After`; every counted response carries the draft-6 headers `RateLimit-Policy`,
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` of its most specific
//! limiter. The counting itself is `services::rate_limit` (Redis, or this process).

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::http::middleware::is_probe;
use crate::services::rate_limit::{Decision, Limiter};

pub static RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub static RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub static RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub static RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The limiter a request counts against besides the global one, and what it is keyed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Specific {
    /// Keyed by client address.
    Address(Limiter),
    /// Keyed by the user of the bearer token (the client address without one).
    User(Limiter),
}

/// The specific limiter of a request, by method and path.
pub fn specific(method: &Method, path: &str) -> Option<Specific> {
    match (method, path) {
        (&Method::POST, "/api/v1/auth/login" | "/api/v1/auth/register") => {
            Some(Specific::Address(Limiter::Auth))
        }
        (&Method::POST, "/api/v1/tickets") => Some(Specific::User(Limiter::Sales)),
        (
            &Method::GET,
            "/api/v1/commissions/export"
            | "/api/v1/accounts/export"
            | "/api/v1/admin/dashboard/export"
            | "/api/v1/admin/dashboard/export/file"
            | "/api/v1/cierres/export.xlsx"
            | "/api/v1/cierres/export.csv",
        ) => Some(Specific::Address(Limiter::Export)),
        _ => None,
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn set_headers(headers: &mut HeaderMap, d: &Decision) {
    let pairs = [
        (&RATELIMIT_POLICY, d.policy()),
        (&RATELIMIT_LIMIT, d.rule.max.to_string()),
        (&RATELIMIT_REMAINING, d.remaining().to_string()),
        (&RATELIMIT_RESET, d.reset_secs().to_string()),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name.clone(), v);
        }
    }
}

fn refuse(d: &Decision) -> Response {
    tracing::warn!(
        limiter = d.limiter.name(),
        count = d.count,
        max = d.rule.max,
        shared = d.shared,
        "rate limit refused a request"
    );
    let mut res = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        d.limiter.message(),
    )
    .with_retry_after(d.reset_secs())
    .into_response();
    set_headers(res.headers_mut(), d);
    res
}

/// The middleware (see the module docs).
pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !state.config.rate_limits.enabled
        || req.method() == Method::OPTIONS
        || is_probe(req.uri().path())
    {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let address = crate::http::routes::auth::client_ip(&state, req.headers(), peer)
        .unwrap_or_else(|| "unknown".to_string());
    let redis = state.redis.as_ref();
    let limits = &state.rate_limits;
    let global = limits.hit(redis, Limiter::Global, &address).await;
    if let Some(d) = global.filter(|d| !d.allowed()) {
        return refuse(&d);
    }
    let specific = match specific(req.method(), req.uri().path()) {
        Some(Specific::Address(l)) => limits.hit(redis, l, &address).await,
        Some(Specific::User(l)) => {
            let user = bearer(req.headers())
                .and_then(|t| state.tokens.verify_access(t).ok())
                .map(|c| format!("user:{}", c.sub));
            let key = user.unwrap_or_else(|| format!("ip:{address}"));
            limits.hit(redis, l, &key).await
        }
        None => None,
    };
    if let Some(d) = specific.filter(|d| !d.allowed()) {
        return refuse(&d);
    }
    let mut res = next.run(req).await;
    if let Some(d) = specific.or(global) {
        set_headers(res.headers_mut(), &d);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_sales_and_exports_have_their_own_limiter() {
        assert_eq!(
            specific(&Method::POST, "/api/v1/auth/login"),
            Some(Specific::Address(Limiter::Auth))
        );
        assert_eq!(specific(&Method::POST, "/api/v1/auth/refresh"), None);
        assert_eq!(
            specific(&Method::POST, "/api/v1/tickets"),
            Some(Specific::User(Limiter::Sales))
        );
        assert_eq!(specific(&Method::GET, "/api/v1/tickets"), None);
        assert_eq!(
            specific(&Method::GET, "/api/v1/cierres/export.csv"),
            Some(Specific::Address(Limiter::Export))
        );
        assert_eq!(specific(&Method::GET, "/api/v1/cierres"), None);
    }
}
