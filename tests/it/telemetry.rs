//! `POST /api/v1/telemetry`: any role, strict body, 202, and one log line without secrets.

use std::time::Duration;

use banca::domain::roles::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{self, assert_error, banca_command, ServerProcess, TestDb};
use crate::fixtures::{self, call};

#[tokio::test]
async fn telemetry_takes_a_strict_body_from_every_role() {
    let w = fixtures::world().await;
    let good = json!({
        "event": "ticket_create",
        "durationMs": 245,
        "success": true,
        "metadata": {"screen": "ventas", "jugadas": 3, "nested": {"retry": false}}
    });
    for who in [
        &w.admin,
        &w.a.banca_user,
        &w.a.ventana_users[0],
        &w.b.vendedores[1],
    ] {
        let (s, v) = call(
            &w.app,
            Method::POST,
            "/api/v1/telemetry",
            Some(&who.token),
            Some(&good),
        )
        .await;
        assert_eq!(s, StatusCode::ACCEPTED, "{:?}: {v}", who.role);
        assert_eq!(v, json!({"success": true}));
    }
    // metadata is optional.
    let (s, _) = call(
        &w.app,
        Method::POST,
        "/api/v1/telemetry",
        Some(&w.a.vendedores[0].token),
        Some(&json!({"event": "login", "durationMs": 0, "success": false})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);

    let url = w.app.url("/api/v1/telemetry");
    let res = w.app.client.post(&url).json(&good).send().await.unwrap();
    assert_error(res, 401, "UNAUTHENTICATED").await;
    let res = w
        .app
        .client
        .post(&url)
        .bearer_auth("not-a-token")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_error(res, 401, "INVALID_TOKEN").await;

    let token = &w.a.vendedores[0].token;
    let big = "x".repeat(9000);
    for (body, field) in [
        (
            json!({"event": "a", "durationMs": 1, "success": true, "extra": 1}),
            "extra",
        ),
        (json!({"durationMs": 1, "success": true}), "event"),
        (json!({"event": "a", "success": true}), "durationMs"),
        (
            json!({"event": "a", "durationMs": -1, "success": true}),
            "durationMs",
        ),
        (
            json!({"event": "a", "durationMs": 1.5, "success": true}),
            "durationMs",
        ),
        (
            json!({"event": "a", "durationMs": 1, "success": "yes"}),
            "success",
        ),
        (
            json!({"event": "", "durationMs": 1, "success": true}),
            "event",
        ),
        (
            json!({"event": "x".repeat(101), "durationMs": 1, "success": true}),
            "event",
        ),
        (
            json!({"event": "fake\nINFO admin logged in", "durationMs": 1, "success": true}),
            "event",
        ),
        (
            json!({"event": "a", "durationMs": 1, "success": true, "metadata": [1, 2]}),
            "metadata",
        ),
        (
            json!({"event": "a", "durationMs": 1, "success": true, "metadata": {"blob": big}}),
            "metadata",
        ),
    ] {
        let res = w
            .app
            .client
            .post(&url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let v = assert_error(res, 400, "VALIDATION_ERROR").await;
        assert!(v["details"].to_string().contains(field), "{body} → {v}");
    }
    let res = w
        .app
        .client
        .post(&url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body("{\"event\":")
        .send()
        .await
        .unwrap();
    assert_error(res, 400, "INVALID_JSON").await;
    let res = w
        .app
        .client
        .post(&url)
        .bearer_auth(token)
        .header("content-type", "text/plain")
        .body("event=a")
        .send()
        .await
        .unwrap();
    assert_error(res, 415, "UNSUPPORTED_MEDIA_TYPE").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_is_one_log_line_with_the_client_and_without_secrets() {
    let db = TestDb::migrated().await;
    let access = "telemetry-test-access-secret-0123456789abcdef";
    let refresh = "telemetry-test-refresh-secret-0123456789abcdef";
    let vars = [
        ("JWT_ACCESS_SECRET", access),
        ("JWT_REFRESH_SECRET", refresh),
    ];
    // The in-process app only mints a session and its token; the real binary logs.
    let app = common::spawn_app(&db, &vars).await;
    let seller = fixtures::user(&app, "vendedor.tele", Role::Admin, None, None).await;
    let mut cmd = banca_command();
    cmd.env("DATABASE_URL", &db.url)
        .env("NODE_ENV", "test")
        .env("JOBS_ENABLED", "false")
        .env("TRUST_PROXY", "1")
        .env("JWT_ACCESS_SECRET", access)
        .env("JWT_REFRESH_SECRET", refresh);
    let mut server = ServerProcess::spawn(cmd);
    assert!(
        server.wait_ready(Duration::from_secs(30)).await,
        "{}",
        server.output()
    );

    let res = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .post(server.url("/api/v1/telemetry"))
        .bearer_auth(&seller.token)
        .header("user-agent", "BancaApp/1.0.14 (Android 14)")
        .header("x-forwarded-for", "203.0.113.7")
        .json(&json!({
            "event": "print_receipt",
            "durationMs": 1234,
            "success": false,
            "metadata": {"printer": "58mm", "accessToken": "tok-SECRET-4242", "auth": {"password": "pw-SECRET"}}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"success": true}));

    let logged = common::eventually(Duration::from_secs(5), || {
        server.output().contains("client telemetry")
    })
    .await;
    let out = server.output();
    assert!(logged, "{out}");
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("client telemetry"))
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    let line = lines[0];
    for expected in [
        "event=print_receipt",
        "duration_ms=1234",
        "success=false",
        "client.ip=\"203.0.113.7\"",
        "BancaApp/1.0.14 (Android 14)",
        "58mm",
        "[redacted]",
        &seller.user_id.to_string(),
    ] {
        assert!(line.contains(expected), "{expected:?} missing in {line}");
    }
    assert!(!out.contains("SECRET"), "a secret reached the log: {out}");
    assert!(!out.contains(&seller.token), "the token reached the log");

    server.sigterm();
    assert_eq!(server.wait_exit(Duration::from_secs(20)), Some(0));
}
