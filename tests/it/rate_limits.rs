//! Rate limits (platform-api §8, decision 13): shared by two real `banca serve` processes
//! through Redis (the N+1st login or sale on the *other* instance is refused), the global
//! limiter per client address (probes and preflights excepted, `TRUST_PROXY` deciding the
//! address), the export limiter, the `RateLimit-*` headers and the 429 shape.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{self, TestDb};
use crate::fixtures::{self, scalar, shop};
use crate::redis_cache::{instance, ready, redis_get, send, unique_prefix, SHARED_REDIS};

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn retry_after(res: &reqwest::Response) -> u64 {
    header(res, "retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After on a 429")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_and_sales_limits_are_shared_by_two_instances() {
    let s = shop().await;
    let prefix = unique_prefix("rl");
    let vars = [
        ("RATE_LIMIT_ENABLED", "true"),
        ("RATE_LIMIT_AUTH_MAX", "3"),
        ("RATE_LIMIT_SALES_MAX", "2"),
        ("RATE_LIMIT_GLOBAL_MAX", "1000"),
    ];
    let mut a = instance(&s.w.db.url, SHARED_REDIS, &prefix, &vars);
    let mut b = instance(&s.w.db.url, SHARED_REDIS, &prefix, &vars);
    ready(&mut a).await;
    ready(&mut b).await;

    // Logins: 3 per address across both instances; failed attempts count too.
    let login = |srv: &common::ServerProcess, password: &str| {
        let url = srv.url("/api/v1/auth/login");
        let body = json!({"username": "ventana.a1", "password": password});
        async move {
            crate::redis_cache::http()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let r = login(&a, fixtures::PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "ratelimit-policy").as_deref(), Some("3;w=60"));
    assert_eq!(header(&r, "ratelimit-limit").as_deref(), Some("3"));
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("2"));
    let reset: u64 = header(&r, "ratelimit-reset").unwrap().parse().unwrap();
    assert!((55..=60).contains(&reset), "{reset}");
    let r = login(&b, fixtures::PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("1"));
    let r = login(&a, "no-es-la-clave").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("0"));
    let r = login(&b, fixtures::PASSWORD).await;
    let wait = retry_after(&r);
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("0"));
    let v = common::assert_error(r, 429, "RATE_LIMITED").await;
    assert_eq!(
        v["message"],
        "Demasiados intentos de inicio de sesión. Por favor, intenta de nuevo en un minuto."
    );
    assert_eq!(
        redis_get(SHARED_REDIS, &format!("{prefix}rl:auth:127.0.0.1"))
            .await
            .as_deref(),
        Some("4")
    );

    // Sales: 2 per user across both instances; the refusal writes nothing.
    let sale = |n: &str| {
        json!({"loteriaId": s.loteria, "sorteoId": s.sorteo,
            "jugadas": [{"type": "NUMERO", "number": n, "amount": 100}]})
    };
    let seller = &s.w.a.vendedores[0];
    let tickets = || scalar::<i64>(&s.w, "SELECT count(*) FROM tickets");
    let r = send(
        &a,
        Method::POST,
        "/api/v1/tickets",
        Some(&seller.token),
        Some(&sale("01")),
    )
    .await;
    assert!(
        r.status().is_success(),
        "{}",
        r.text().await.unwrap_or_default()
    );
    let r = send(
        &b,
        Method::POST,
        "/api/v1/tickets",
        Some(&seller.token),
        Some(&sale("02")),
    )
    .await;
    assert!(r.status().is_success());
    assert_eq!(header(&r, "ratelimit-policy").as_deref(), Some("2;w=60"));
    assert_eq!(header(&r, "ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(tickets().await, 2);
    let r = send(
        &a,
        Method::POST,
        "/api/v1/tickets",
        Some(&seller.token),
        Some(&sale("03")),
    )
    .await;
    assert!(retry_after(&r) >= 1);
    let v: Value = common::assert_error(r, 429, "RATE_LIMITED").await;
    assert_eq!(
        v["message"],
        "Límite de ventas por minuto alcanzado. Por favor, espera un momento."
    );
    assert_eq!(tickets().await, 2, "a refused sale writes nothing");
    // The limit is per user: another seller of the same address still sells.
    let other = &s.w.a.vendedores[1];
    let r = send(
        &b,
        Method::POST,
        "/api/v1/tickets",
        Some(&other.token),
        Some(&sale("04")),
    )
    .await;
    assert!(
        r.status().is_success(),
        "{}",
        r.text().await.unwrap_or_default()
    );
    assert_eq!(
        redis_get(
            SHARED_REDIS,
            &format!("{prefix}rl:sales:user:{}", seller.user_id)
        )
        .await
        .as_deref(),
        Some("3")
    );
}

#[tokio::test]
async fn the_global_limit_counts_every_route_but_probes_per_client_address() {
    let db = TestDb::migrated().await;
    let app = common::spawn_app(
        &db,
        &[
            ("RATE_LIMIT_ENABLED", "true"),
            ("RATE_LIMIT_GLOBAL_MAX", "3"),
            ("RATE_LIMIT_EXPORT_MAX", "1"),
            ("TRUST_PROXY", "1"),
        ],
    )
    .await;
    let from = |ip: &str, method: Method, path: &str| {
        app.client
            .request(method, app.url(path))
            .header("x-forwarded-for", format!("203.0.113.9, {ip}"))
    };
    // Probes are never limited and carry no limit headers.
    for _ in 0..6 {
        for probe in ["/api/v1/healthz", "/api/v1/readyz"] {
            let r = from("10.0.0.1", Method::GET, probe).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert!(header(&r, "ratelimit-limit").is_none());
        }
    }
    // Every other request counts, whatever it answers (here 401 and 404).
    for (i, path) in ["/api/v1/loterias", "/api/v1/nope", "/api/v1/sorteos"]
        .iter()
        .enumerate()
    {
        let r = from("10.0.0.1", Method::GET, path).send().await.unwrap();
        assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&r, "ratelimit-policy").as_deref(), Some("3;w=60"));
        let left = (2 - i).to_string();
        assert_eq!(header(&r, "ratelimit-remaining"), Some(left));
    }
    // Preflights are not counted.
    let r = from("10.0.0.1", Method::OPTIONS, "/api/v1/loterias")
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = from("10.0.0.1", Method::GET, "/api/v1/loterias")
        .send()
        .await
        .unwrap();
    assert!(retry_after(&r) >= 1);
    let v = common::assert_error(r, 429, "RATE_LIMITED").await;
    assert_eq!(
        v["message"],
        "Demasiadas peticiones. Por favor, intenta de nuevo en un minuto."
    );
    // Another address (the proxy's last hop, TRUST_PROXY=1) has its own window.
    let r = from("10.0.0.2", Method::GET, "/api/v1/loterias")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Exports: their own limit, on top of the global one.
    let r = from("10.0.0.3", Method::GET, "/api/v1/cierres/export.csv")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&r, "ratelimit-policy").as_deref(), Some("1;w=60"));
    let r = from("10.0.0.3", Method::GET, "/api/v1/commissions/export")
        .send()
        .await
        .unwrap();
    let v = common::assert_error(r, 429, "RATE_LIMITED").await;
    assert_eq!(
        v["message"],
        "Demasiadas exportaciones. Por favor espere un momento antes de intentar nuevamente."
    );
    assert_eq!(
        app.state
            .rate_limits
            .refusals(banca::services::rate_limit::Limiter::Export),
        1
    );
    assert_eq!(
        app.state
            .rate_limits
            .refusals(banca::services::rate_limit::Limiter::Global),
        1
    );
}

#[tokio::test]
async fn without_trusted_proxies_the_peer_counts_and_windows_start_afresh() {
    let db = TestDb::migrated().await;
    let app = common::spawn_app(
        &db,
        &[
            ("RATE_LIMIT_ENABLED", "true"),
            ("RATE_LIMIT_GLOBAL_MAX", "2"),
            ("RATE_LIMIT_GLOBAL_WINDOW_MS", "1000"),
            ("TRUST_PROXY", "0"),
        ],
    )
    .await;
    let get = |ip: &str| {
        app.client
            .get(app.url("/api/v1/loterias"))
            .header("x-forwarded-for", ip)
            .send()
    };
    // X-Forwarded-For is ignored: every request is 127.0.0.1's.
    assert_eq!(
        get("10.0.0.1").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let r = get("10.0.0.2").await.unwrap();
    assert_eq!(header(&r, "ratelimit-policy").as_deref(), Some("2;w=1"));
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get("10.0.0.3").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        get("10.0.0.4").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}
