//! Graceful shutdown: a request in flight when the signal arrives completes normally; the
//! process exits 0 within the drain time; past the drain time the server gives up.

use std::time::{Duration, Instant};

use axum::extract::Query;
use axum::routing::get;
use banca::http::envelope::ApiResponse;
use serde::Deserialize;

use crate::common::{self, banca_command, ServerProcess, TestDb};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_in_flight_request_finish_and_exits_0() {
    let db = TestDb::migrated().await;
    // The database is reached through a proxy that can make it slow: once warm, every answer
    // from the database is held back, so a readiness probe stays in flight for seconds.
    let proxy = common::SlowProxy::start(common::admin_addr()).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_port(Some(proxy.port)).unwrap();
    let mut cmd = banca_command();
    cmd.env("DATABASE_URL", url.as_str())
        .env("NODE_ENV", "test")
        .env("READINESS_TIMEOUT_MS", "20000");
    let mut server = ServerProcess::spawn(cmd);
    assert!(
        server.wait_ready(Duration::from_secs(60)).await,
        "{}",
        server.output()
    );

    proxy.set_delay(700);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = server.url("/api/v1/readyz");
    let started = Instant::now();
    let in_flight = tokio::spawn(async move { client.get(url).send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.sigterm();

    let res = in_flight
        .await
        .unwrap()
        .expect("the in-flight request gets its response");
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "the request really was in flight when SIGTERM arrived"
    );
    assert_eq!(res.status(), 200);
    proxy.set_delay(0);

    let code = server.wait_exit(Duration::from_secs(30));
    let out = server.output();
    assert_eq!(code, Some(0), "exit code; output:\n{out}");
    assert!(out.contains("signal received signal=\"SIGTERM\""), "{out}");
    assert!(out.contains("shutdown complete"), "{out}");

    // Nothing listens any more.
    let again = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/api/v1/healthz", server.port))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(again.is_err());
}

#[derive(Deserialize)]
struct Sleep {
    ms: u64,
}

async fn slow(Query(q): Query<Sleep>) -> ApiResponse<u64> {
    tokio::time::sleep(Duration::from_millis(q.ms)).await;
    ApiResponse::ok(q.ms)
}

#[tokio::test]
async fn drain_waits_for_requests_and_gives_up_after_the_drain_time() {
    let db = TestDb::migrated().await;
    let routes = || banca::http::api_routes().route("/api/v1/test/slow", get(slow));

    // Within the drain time: the request completes, the server stops cleanly.
    let mut app = common::spawn_with(common::config(&db, &[]), routes(), true).await;
    let c = app.client.clone();
    let url = app.url("/api/v1/test/slow?ms=1500");
    let req = tokio::spawn(async move { c.get(url).send().await.unwrap().status() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.trigger_shutdown();
    assert!(
        app.state.readiness.is_shutting_down() || {
            tokio::time::sleep(Duration::from_millis(50)).await;
            app.state.readiness.is_shutting_down()
        }
    );
    assert_eq!(req.await.unwrap(), 200);
    let server = app.server.take().unwrap();
    assert!(server.await.unwrap().is_ok());
    assert!(
        app.state.shutdown.is_cancelled(),
        "background work is told to stop"
    );

    // Past the drain time: the server stops waiting and reports it.
    let mut app = common::spawn_with(
        common::config(&db, &[("SHUTDOWN_TIMEOUT_MS", "300")]),
        routes(),
        true,
    )
    .await;
    let c = app.client.clone();
    let url = app.url("/api/v1/test/slow?ms=5000");
    let _req = tokio::spawn(async move { c.get(url).send().await });
    let permits = app.state.config.max_concurrent_requests;
    let admission = app.state.admission.clone();
    assert!(
        common::eventually(Duration::from_secs(10), || admission.available_permits()
            < permits)
        .await
    );
    let t = Instant::now();
    app.trigger_shutdown();
    let server = app.server.take().unwrap();
    assert!(server.await.unwrap().is_err());
    assert!(t.elapsed() < Duration::from_secs(3));
}
