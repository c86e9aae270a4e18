//! What every report route shares (cierres, dashboard, ventas, `/sales/daily-stats`,
//! `/reports`): role scoping to a [`ReportScope`], the period of a query, reads through the
//! replica (decision 12) with the answer's `meta.source`, the report cache, and file answers.

use std::future::Future;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::app::AppState;
use crate::db::{self, ReadSource};
use crate::domain::schedule;
use crate::http::auth::Auth;
use crate::http::envelope::ApiResponse;
use crate::http::error::ApiError;
use crate::http::routes::bancas::query_error;
use crate::http::routes::ticket_reads::business_dates;
use crate::services::report_cache::{self, Cached};
use crate::services::report_scope::{self, ReportScope, Requested, ScopeError};

/// The caller's effective filter (403 with the rule's code when it asks beyond its reach).
pub async fn scope(state: &AppState, auth: &Auth, req: Requested) -> Result<ReportScope, ApiError> {
    report_scope::resolve(state.pools.primary(), &auth.0, &req)
        .await
        .map_err(|e| match e {
            ScopeError::Forbidden { code, message } => {
                ApiError::new(StatusCode::FORBIDDEN, code, message)
            }
            ScopeError::Database(e) => ApiError::from(e),
        })
}

/// Today's business date.
pub fn today(state: &AppState) -> NaiveDate {
    schedule::local_date(Utc::now(), state.config.business_timezone)
}

/// The inclusive days of `date`/`fromDate`/`toDate` (default `today`; `toDate` may not be in
/// the future), at most `max_days` long.
pub fn period(
    state: &AppState,
    date: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    max_days: i64,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let tz = state.config.business_timezone;
    let (from, to) = business_dates(date, from, to, false, tz)?;
    let to = to.unwrap_or_else(|| today(state));
    let from = from.unwrap_or(to);
    check_range("fromDate", from, to, max_days)?;
    Ok((from, to))
}

/// 400 unless `from ≤ to` and the range covers at most `max_days` days.
pub fn check_range(
    field: &str,
    from: NaiveDate,
    to: NaiveDate,
    max_days: i64,
) -> Result<(), ApiError> {
    if from > to {
        return Err(query_error(
            field,
            "invalid_range",
            "debe ser anterior o igual a la fecha final",
        ));
    }
    if (to - from).num_days() + 1 > max_days {
        return Err(ApiError::bad_request(
            "RANGE_TOO_LONG",
            format!("El rango de fechas no puede pasar de {max_days} días"),
        )
        .with_details(vec![crate::http::error::ErrorDetail {
            field: field.into(),
            code: "range_too_long".into(),
            issue: format!("máximo {max_days} días"),
        }]));
    }
    Ok(())
}

/// Runs `query` on the replica when one is configured and answering, else on the primary
/// (decision 12), through the report cache: the key is `route`, the banca's report generation
/// (read from the same database) and `params` (which must include the effective scope).
/// `query` returns `(data, meta)`; the answer's meta also gets `source` (`primary`|`replica`,
/// the database that computed it) and `cache` (`hit`|`miss`).
pub async fn cached<F, Fut>(
    state: &AppState,
    route: &str,
    scope: &ReportScope,
    params: &impl Serialize,
    query: F,
) -> Result<ApiResponse<Value>, ApiError>
where
    F: Fn(PgPool) -> Fut,
    Fut: Future<Output = Result<(Value, Value), sqlx::Error>>,
{
    let banca = scope.banca_id;
    let (generation, _) = state
        .pools
        .read(move |pool| async move { db::rollups::generation(&pool, banca).await })
        .await?;
    let key = report_cache::key(
        route,
        generation,
        &json!({"scope": scope, "params": params}),
    );
    let (answer, hit) = state
        .report_cache
        .get_or_compute(state.redis.as_ref(), key, || async {
            let ((data, meta), source) = state.pools.read(&query).await?;
            Ok::<_, ApiError>(Cached {
                data,
                meta: with_source(meta, source),
            })
        })
        .await?;
    let mut meta = answer.meta.clone();
    if let Value::Object(m) = &mut meta {
        m.insert(
            "cache".into(),
            Value::from(if hit { "hit" } else { "miss" }),
        );
    }
    Ok(ApiResponse::ok(answer.data.clone()).with_meta(meta))
}

/// Runs `query` on the replica (or the primary) without caching: live figures (open sorteos,
/// today's tickets). The answer's meta gets `source`.
pub async fn live<F, Fut>(state: &AppState, query: F) -> Result<ApiResponse<Value>, ApiError>
where
    F: Fn(PgPool) -> Fut,
    Fut: Future<Output = Result<(Value, Value), sqlx::Error>>,
{
    let ((data, meta), source) = state.pools.read(query).await?;
    Ok(ApiResponse::ok(data).with_meta(with_source(meta, source)))
}

/// `meta` (an object, or nothing) with `source` set.
pub fn with_source(meta: Value, source: ReadSource) -> Value {
    let mut m = match meta {
        Value::Object(m) => m,
        Value::Null => serde_json::Map::new(),
        other => {
            let mut m = serde_json::Map::new();
            m.insert("info".into(), other);
            m
        }
    };
    m.insert("source".into(), Value::from(source.as_str()));
    Value::Object(m)
}

/// A file download: `Content-Disposition: attachment` with `filename`, never cached.
pub fn file(content_type: &str, filename: &str, body: impl Into<axum::body::Body>) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body.into(),
    )
        .into_response()
}
