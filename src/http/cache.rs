//! The edge of the shared caches, around every handler:
//! - collects what a request changed (`cache::touch` calls next to the SQL, plus the catalog
//!   generation for write requests outside sales, payments, logins and accounts) and bumps
//!   those generations in Redis *before* the response leaves, so another instance's next read
//!   already misses;
//! - answers the cached catalog `GET` routes (`services::catalog_cache`) from Redis, and
//!   stores their fresh `200` answers. `X-Cache: HIT` or `MISS` says which happened.
//!
//! Without Redis (or with `CACHE_ENABLED=false` for the reads) requests pass untouched.

use std::time::Duration;

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::cache::{self, Gen};
use crate::http::auth::{Auth, ResolvedActor};
use crate::services::catalog_cache::{self, Family};

/// Largest answer stored.
const MAX_CACHED_BODY: u64 = 256 * 1024;

pub const X_CACHE: &str = "x-cache";

/// How long a per-user generation outlives the values tagged with it.
fn user_gen_ttl(state: &AppState) -> Duration {
    state.config.cache.session_ttl * 2 + Duration::from_secs(60)
}

/// The middleware (see the module docs).
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(redis) = state.redis.clone() else {
        return cache::track(next.run(req)).await.0;
    };
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let touches_catalog = write && catalog_cache::write_touches_catalog(req.uri().path());
    let family = (state.config.cache.enabled && *req.method() == Method::GET)
        .then(|| req.extensions().get::<MatchedPath>())
        .flatten()
        .and_then(|m| catalog_cache::cached_route(m.as_str()).map(|f| (f, m.as_str().to_string())));
    let (res, mut touched) = match family {
        Some((family, route)) => cache::track(cached_get(&state, family, &route, req, next)).await,
        None => cache::track(next.run(req)).await,
    };
    if touches_catalog {
        touched.insert(Gen::Catalog);
    }
    if touched.is_empty() {
        redis.bump(&touched, user_gen_ttl(&state)).await;
    } else {
        // In a task of its own: a request cancelled now (client gone, request timeout) must
        // not cancel the publication of what it already committed.
        let ttl = user_gen_ttl(&state);
        let _ = tokio::spawn(async move { redis.bump(&touched, ttl).await }).await;
    }
    res
}

async fn cached_get(
    state: &AppState,
    family: Family,
    route: &str,
    req: Request,
    next: Next,
) -> Response {
    let Some(redis) = state.redis.as_ref() else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let actor = match Auth::from_request_parts(&mut parts, state).await {
        Ok(Auth(actor)) => actor,
        Err(e) => return e.into_response(),
    };
    let today = chrono::Utc::now()
        .with_timezone(&state.config.business_timezone)
        .date_naive()
        .to_string();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_else(|| parts.uri.path());
    let key = catalog_cache::key(route, path_and_query, &actor, &today);
    parts.extensions.insert(ResolvedActor(actor));
    let found = catalog_cache::lookup(redis, &key).await;
    if let Some(body) = found.as_ref().and_then(|l| l.body.clone()) {
        return (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::HeaderName::from_static(X_CACHE),
                    HeaderValue::from_static("HIT"),
                ),
            ],
            body,
        )
            .into_response();
    }
    let res = next.run(Request::from_parts(parts, body)).await;
    let Some(lookup) = found else {
        return res;
    };
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let size = res.body().size_hint().exact();
    if res.status() != StatusCode::OK || !json || size.is_none_or(|n| n > MAX_CACHED_BODY) {
        return res;
    }
    let (mut head, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_CACHED_BODY as usize).await {
        Ok(b) => b,
        Err(_) => {
            return crate::http::error::ApiError::internal(&"a cached answer could not be read")
                .into_response()
        }
    };
    let ttl = match family {
        Family::Catalog => state.config.cache.catalog_ttl,
        Family::Restrictions => state.config.cache.restrictions_ttl,
    };
    catalog_cache::store(redis, &lookup, key, &bytes, ttl);
    head.headers.insert(
        header::HeaderName::from_static(X_CACHE),
        HeaderValue::from_static("MISS"),
    );
    Response::from_parts(head, Body::from(bytes))
}
