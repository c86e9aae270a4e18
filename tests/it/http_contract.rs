//! The HTTP contract every route shares: error shape, status codes for bad input, request ids,
//! security headers, CORS, compression, admission control and timeouts.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::Router;
use banca::app::AppState;
use banca::http::envelope::ApiResponse;
use banca::http::error::ApiError;
use banca::http::extract::AppJson;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::common::{self, assert_error, TestDb};

#[derive(Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Echo {
    name: String,
    amount: rust_decimal::Decimal,
}

async fn echo(AppJson(body): AppJson<Echo>) -> ApiResponse<Echo> {
    ApiResponse::created(body)
}

#[derive(Deserialize)]
struct Sleep {
    ms: u64,
}

async fn slow(Query(q): Query<Sleep>) -> ApiResponse<Value> {
    tokio::time::sleep(Duration::from_millis(q.ms)).await;
    ApiResponse::ok(json!({ "slept": q.ms }))
}

async fn boom() -> ApiResponse<Value> {
    panic!("secret internal detail: ledger 42 is inconsistent")
}

async fn big() -> ApiResponse<Value> {
    ApiResponse::ok(json!({ "filler": "x".repeat(8192) }))
}

async fn count_users(State(state): State<AppState>) -> Result<ApiResponse<Value>, ApiError> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(state.pools.primary())
        .await?;
    Ok(ApiResponse::ok(json!({ "users": n })))
}

/// The real routes plus routes that exercise the shared machinery.
fn routes() -> Router<AppState> {
    banca::http::api_routes()
        .route("/api/v1/test/echo", post(echo))
        .route("/api/v1/test/slow", get(slow))
        .route("/api/v1/test/panic", get(boom))
        .route("/api/v1/test/big", get(big))
        .route("/api/v1/test/users", get(count_users))
}

async fn app(db: &TestDb, vars: &[(&str, &str)]) -> common::TestApp {
    common::spawn_with(common::config(db, vars), routes(), true).await
}

#[tokio::test]
async fn bad_input_gets_the_documented_status_and_shape() {
    let db = TestDb::migrated().await;
    let app = app(&db, &[("BODY_LIMIT_BYTES", "2048")]).await;
    let c = &app.client;

    let ok = c
        .post(app.url("/api/v1/test/echo"))
        .json(&json!({ "name": "Ana", "amount": 1250.5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "success": true, "data": { "name": "Ana", "amount": 1250.5 } })
    );

    let res = c
        .post(app.url("/api/v1/test/echo"))
        .header("content-type", "application/json")
        .body("{\"name\": \"Ana\",")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "INVALID_JSON").await;

    let res = c
        .post(app.url("/api/v1/test/echo"))
        .json(&json!({ "name": 5, "amount": 1 }))
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 400, "VALIDATION_ERROR").await;
    assert!(body["details"][0]["issue"]
        .as_str()
        .unwrap()
        .contains("invalid type"));

    let res = c
        .post(app.url("/api/v1/test/echo"))
        .header("content-type", "text/plain")
        .body("name=Ana")
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "UNSUPPORTED_MEDIA_TYPE").await;

    let big = json!({ "name": "x".repeat(4096), "amount": 1 });
    let res = c
        .post(app.url("/api/v1/test/echo"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_error(res, 413, "PAYLOAD_TOO_LARGE").await;

    // Chunked upload without Content-Length: the limit still holds.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(b"{\"name\":\"".to_vec()),
        Ok(vec![b'y'; 4096]),
        Ok(b"\",\"amount\":1}".to_vec()),
    ];
    let res = c
        .post(app.url("/api/v1/test/echo"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_error(res, 413, "PAYLOAD_TOO_LARGE").await;

    let res = c
        .get(app.url("/api/v1/no/such/route"))
        .send()
        .await
        .unwrap();
    assert_error(res, 404, "NOT_FOUND").await;
    let res = c.get(app.url("/elsewhere")).send().await.unwrap();
    assert_error(res, 404, "NOT_FOUND").await;

    let res = c.delete(app.url("/api/v1/healthz")).send().await.unwrap();
    assert_error(res, 405, "METHOD_NOT_ALLOWED").await;
}

#[tokio::test]
async fn a_panic_becomes_a_500_without_internal_text() {
    let db = TestDb::migrated().await;
    let app = app(&db, &[]).await;
    let res = app
        .client
        .get(app.url("/api/v1/test/panic"))
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 500, "INTERNAL_ERROR").await;
    let text = body.to_string();
    assert!(!text.contains("ledger"), "{text}");
    assert!(!text.contains("secret"), "{text}");
    // The server keeps serving.
    let res = app
        .client
        .get(app.url("/api/v1/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let db = TestDb::migrated().await;
    let app = app(&db, &[]).await;
    let res = app
        .client
        .get(app.url("/api/v1/nope"))
        .header("x-request-id", "client-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-abc-123");
    let body = assert_error(res, 404, "NOT_FOUND").await;
    assert_eq!(body["requestId"], "client-abc-123");

    // An id that could forge log lines is replaced by a generated one.
    let res = app
        .client
        .get(app.url("/api/v1/healthz"))
        .header("x-request-id", "bad id\twith tabs")
        .send()
        .await
        .unwrap();
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(id, "bad id\twith tabs");
    assert!(uuid::Uuid::parse_str(&id).is_ok());
}

#[tokio::test]
async fn health_security_headers_cors_and_compression() {
    let db = TestDb::migrated().await;
    let app = app(
        &db,
        &[(
            "CORS_ORIGIN",
            "https://app.banca.cr/, https://admin.banca.cr",
        )],
    )
    .await;
    let c = &app.client;

    let res = c
        .get(app.url("/api/v1/healthz"))
        .header("origin", "https://app.banca.cr")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["access-control-allow-origin"], "https://app.banca.cr");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["x-frame-options"], "SAMEORIGIN");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(
        h["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'self'"));
    assert!(h.get("x-powered-by").is_none());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, json!({ "success": true, "data": { "status": "ok" } }));

    let res = c
        .get(app.url("/api/v1/healthz"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("access-control-allow-origin").is_none());

    let res = c
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/healthz"))
        .header("origin", "https://admin.banca.cr")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,x-active-banca-id",
        )
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://admin.banca.cr"
    );
    assert_eq!(res.headers()["access-control-max-age"], "86400");

    let res = c.get(app.url("/api/v1/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["status"], "ready");
    assert_eq!(body["data"]["checks"]["primary"], "up");
    assert_eq!(body["data"]["checks"]["replica"], "not_configured");
    assert_eq!(body["data"]["checks"]["redis"], "not_configured");

    // Large responses are compressed for clients that accept it; small ones are not.
    let raw = reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    let res = raw
        .get(app.url("/api/v1/test/big"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let res = raw
        .get(app.url("/api/v1/healthz"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn admission_limit_refuses_with_retry_after_but_not_probes() {
    let db = TestDb::migrated().await;
    let app = app(&db, &[("MAX_CONCURRENT_REQUESTS", "1")]).await;
    let slow = {
        let c = app.client.clone();
        let url = app.url("/api/v1/test/slow?ms=1500");
        tokio::spawn(async move { c.get(url).send().await.unwrap().status() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = app
        .client
        .get(app.url("/api/v1/test/slow?ms=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["retry-after"], "1");
    assert_error(res, 503, "SERVER_BUSY").await;
    let res = app
        .client
        .get(app.url("/api/v1/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .get(app.url("/api/v1/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(slow.await.unwrap(), 200);
    // The permit is released afterwards.
    let res = app
        .client
        .get(app.url("/api/v1/test/slow?ms=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn requests_past_the_timeout_get_503() {
    let db = TestDb::migrated().await;
    let app = app(&db, &[("REQUEST_TIMEOUT_MS", "200")]).await;
    let res = app
        .client
        .get(app.url("/api/v1/test/slow?ms=2000"))
        .send()
        .await
        .unwrap();
    assert_error(res, 503, "REQUEST_TIMEOUT").await;
    let res = app
        .client
        .get(app.url("/api/v1/test/slow?ms=10"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_database_that_is_down_gives_503_not_500() {
    let db = TestDb::migrated().await;
    let down = format!(
        "postgres://postgres@127.0.0.1:{}/banca",
        common::closed_port()
    );
    let config = common::config(
        &db,
        &[
            ("DATABASE_URL", &down),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", "500"),
            ("WARMUP_MAX_ATTEMPTS", "1"),
        ],
    );
    let app = common::spawn_with(config, routes(), false).await;

    // Before warm-up succeeds, routes answer 503 SERVICE_STARTING (probes still answer).
    let res = app
        .client
        .get(app.url("/api/v1/test/users"))
        .send()
        .await
        .unwrap();
    assert_error(res, 503, "SERVICE_STARTING").await;

    // As if the database went away after start: requests get 503, never 500.
    app.state.readiness.mark_warmed();
    let res = app
        .client
        .get(app.url("/api/v1/test/users"))
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 503, "DATABASE_UNAVAILABLE").await;
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no connection details leak: {body}"
    );

    let res = app
        .client
        .get(app.url("/api/v1/readyz"))
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 503, "NOT_READY").await;
    assert_eq!(body["data"]["status"], "unavailable");
    assert_eq!(body["data"]["checks"]["primary"], "down");

    // Liveness does not depend on the database.
    let res = app
        .client
        .get(app.url("/api/v1/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // Warm-up with a bounded number of attempts reports the failure instead of hanging.
    let err = banca::app::warm_up(&app.state).await.unwrap_err();
    assert!(
        err.to_string().contains("did not answer after 1 attempts"),
        "{err}"
    );
}

#[tokio::test]
async fn redis_state_is_reported_by_readyz() {
    let db = TestDb::migrated().await;
    let app = app(&db, &[("REDIS_URL", "redis://127.0.0.1:6379")]).await;
    let body: Value = app
        .client
        .get(app.url("/api/v1/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["checks"]["redis"], "up");

    let down = format!("redis://127.0.0.1:{}", common::closed_port());
    let app = app_with_redis(&db, &down).await;
    let res = app
        .client
        .get(app.url("/api/v1/readyz"))
        .send()
        .await
        .unwrap();
    // Redis is optional: its absence is reported, not fatal.
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["data"]["checks"]["redis"], "down");
}

async fn app_with_redis(db: &TestDb, url: &str) -> common::TestApp {
    app(db, &[("REDIS_URL", url)]).await
}
