//! PgBouncer in transaction mode between the app and PostgreSQL (issue 11, item 3), with a
//! PgBouncer each test starts itself (whatever `BANCA_TEST_PGBOUNCER` says):
//! - the parameterized statements the app sends outside transactions stay correct on a busy
//!   pooler (the vendored sqlx-postgres fix, vendor/README.md);
//! - a database cut in the pooler (`PAUSE`, `KILL`, the PgBouncer process killed) is answered
//!   503 `DATABASE_UNAVAILABLE` within the pool's acquire timeout, leaves every sale whole or
//!   absent, and heals without restarting the app.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use banca::domain::roles::Role;
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{self, PgBouncer, TestApp, TestDb};
use crate::fixtures::{call, scalar, shop, Login, Shop, SHOP_SECRETS};

/// The app's pool acquire timeout in these tests (`DATABASE_ACQUIRE_TIMEOUT_MS`).
const ACQUIRE_MS: u64 = 1000;
/// How much later than the acquire timeout a 503 may arrive (scheduling, the answer itself).
const SLACK_MS: u64 = 1500;

/// An app on `db` through `bouncer` (`?pgbouncer=true`), `DIRECT_URL` straight at PostgreSQL.
async fn app_through(db: &TestDb, bouncer: &PgBouncer, extra: &[(&str, &str)]) -> TestApp {
    let url = bouncer.url(&db.name);
    let acquire = ACQUIRE_MS.to_string();
    let mut vars = vec![
        ("DATABASE_URL", url.as_str()),
        ("DIRECT_URL", db.url.as_str()),
        ("DATABASE_ACQUIRE_TIMEOUT_MS", acquire.as_str()),
    ];
    vars.extend_from_slice(extra);
    common::spawn_with(common::config(db, &vars), banca::http::api_routes(), true).await
}

/// The `SHOW STATS` row of database `db`.
async fn stats_of(bouncer: &PgBouncer, db: &str) -> HashMap<String, String> {
    bouncer
        .admin("SHOW STATS")
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.get("database").map(String::as_str) == Some(db))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parameterized_statements_stay_correct_on_a_busy_transaction_pooler() {
    let db = TestDb::migrated().await;
    // 3 server connections for up to 24 client connections: the pooler hands each client
    // whichever server is free at every transaction boundary.
    let bouncer = PgBouncer::start_with(&[("default_pool_size", "3")]);
    let app = app_through(&db, &bouncer, &[]).await;
    let pool = app.state.pools.primary().clone();
    const TASKS: i32 = 24;
    const ROUNDS: i32 = 40;
    let tasks = (0..TASKS).map(|t| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let mut wrong = Vec::new();
            for i in 0..ROUNDS {
                let n = t * 1000 + i;
                // Three shapes with different parameter lists, so a Bind that reached
                // another client's statement could not go unnoticed; the third returns and
                // binds a custom enum, which makes sqlx look the type up in the catalog on
                // every new connection.
                let (got, want) = match i % 3 {
                    0 => (
                        banca::db::query_as::<(i32, String)>("SELECT $1::int4 + 0, 'one'::text")
                            .bind(n)
                            .fetch_one(&pool)
                            .await
                            .map(|(v, s)| format!("{v}/{s}")),
                        format!("{n}/one"),
                    ),
                    1 => (
                        banca::db::query_as::<(i32, String)>("SELECT $1::int4 * 1, $2::text")
                            .bind(n)
                            .bind("two")
                            .fetch_one(&pool)
                            .await
                            .map(|(v, s)| format!("{v}/{s}")),
                        format!("{n}/two"),
                    ),
                    _ => (
                        banca::db::query_as::<(Role, i32)>("SELECT $1::user_role, $2::int4 - 0")
                            .bind(Role::Vendedor)
                            .bind(n)
                            .fetch_one(&pool)
                            .await
                            .map(|(r, v)| format!("{v}/{}", r.as_str())),
                        format!("{n}/{}", Role::Vendedor.as_str()),
                    ),
                };
                match got {
                    Ok(g) if g == want => {}
                    Ok(g) => wrong.push(format!("wanted {want}, got {g}")),
                    Err(e) => wrong.push(format!("wanted {want}, got error {e}")),
                }
            }
            wrong
        })
    });
    let wrong: Vec<String> = join_all(tasks)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();
    let total = TASKS * ROUNDS;
    assert!(
        wrong.is_empty(),
        "{} of {total} statements went wrong through the pooler, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    // They really went through PgBouncer.
    let stats = stats_of(&bouncer, &db.name).await;
    let queries: i64 = stats
        .get("total_query_count")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!(queries >= i64::from(total), "SHOW STATS: {stats:?}");
}

/// One sale of `numbers` (100 each) with idempotency key `key`: status, body, time taken.
async fn sell(
    app: &TestApp,
    s: &Shop,
    seller: &Login,
    key: &str,
    numbers: &[String],
) -> (StatusCode, Value, Duration) {
    let jugadas: Vec<Value> = numbers
        .iter()
        .map(|n| json!({"type": "NUMERO", "number": n, "amount": 100}))
        .collect();
    let body = json!({
        "loteriaId": s.loteria,
        "sorteoId": s.sorteo,
        "idempotencyKey": key,
        "jugadas": jugadas,
    });
    let t0 = Instant::now();
    let (st, v) = call(
        app,
        Method::POST,
        "/api/v1/tickets",
        Some(&seller.token),
        Some(&body),
    )
    .await;
    (st, v, t0.elapsed())
}

/// The stored ticket of `key`: id, its jugadas' count and sum, its total.
async fn stored(s: &Shop, key: &str) -> Vec<(Uuid, i64, Decimal, Decimal)> {
    sqlx::query_as(
        "SELECT t.id, count(j.id), COALESCE(sum(j.amount), 0), t.total_amount
         FROM tickets t LEFT JOIN jugadas j ON j.ticket_id = t.id
         WHERE t.idempotency_key = $1 GROUP BY t.id",
    )
    .bind(key)
    .fetch_all(&mut s.w.db.connect().await)
    .await
    .unwrap()
}

/// Rows of `sale_counters` that disagree with the live jugadas (per sorteo, scope, number).
pub(crate) async fn counter_mismatches_on(conn: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar(
        "WITH live AS (
             SELECT t.sorteo_id, j.number, j.amount, t.vendedor_id, t.ventana_id, t.banca_id
             FROM jugadas j JOIN tickets t ON t.id = j.ticket_id
             WHERE j.is_active AND NOT j.is_excluded AND t.status <> 'CANCELLED'),
         expected AS (
             SELECT sorteo_id, scope_id, number, sum(amount) AS amount
             FROM live, LATERAL (VALUES (vendedor_id), (ventana_id), (banca_id)) AS s(scope_id)
             GROUP BY 1, 2, 3),
         counted AS (
             SELECT sorteo_id, scope_id, number, amount FROM sale_counters
             WHERE mkey = '00000000-0000-0000-0000-000000000000' AND amount <> 0)
         SELECT (SELECT count(*) FROM (SELECT * FROM expected EXCEPT SELECT * FROM counted) a)
              + (SELECT count(*) FROM (SELECT * FROM counted EXCEPT SELECT * FROM expected) b)",
    )
    .fetch_one(conn)
    .await
    .unwrap()
}

async fn counter_mismatches(s: &Shop) -> i64 {
    counter_mismatches_on(&mut s.w.db.connect().await).await
}

/// One request of the load during the cut.
struct Attempt {
    key: String,
    numbers: Vec<String>,
    status: StatusCode,
    code: String,
    ticket: Option<String>,
    took: Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_cut_answers_503_keeps_sales_whole_and_recovers() {
    let s = shop().await;
    // After KILL, PgBouncer waits `server_login_retry` (15 s by default) before it connects to
    // the server again; 1 s keeps the test short (docs/scaling.md).
    let bouncer = PgBouncer::start_with(&[("server_login_retry", "1")]);
    let app = Arc::new(app_through(&s.w.db, &bouncer, &SHOP_SECRETS).await);
    let seller = s.w.a.vendedores[0].clone();
    let db = s.w.db.name.clone();
    let within = Duration::from_millis(ACQUIRE_MS + SLACK_MS);
    let unavailable = |st: StatusCode, v: &Value, took: Duration, what: &str| {
        assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{what}: {v}");
        assert_eq!(v["code"], "DATABASE_UNAVAILABLE", "{what}: {v}");
        assert_eq!(v["success"], false, "{what}: {v}");
        assert!(
            v["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {v}"
        );
        assert!(took < within, "{what}: answered in {took:?}");
    };

    // Healthy through the pooler.
    let (st, v, _) = sell(&app, &s, &seller, "pgb-before", &["11".into()]).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // 1. PAUSE: the pooler holds every query; a request waits no longer than the acquire
    //    timeout, writes nothing, and the same sale goes through after RESUME.
    bouncer.admin(&format!("PAUSE {db}")).await.unwrap();
    let (st, v, took) = sell(&app, &s, &seller, "pgb-paused", &["12".into()]).await;
    unavailable(st, &v, took, "sale while paused");
    bouncer.admin(&format!("RESUME {db}")).await.unwrap();
    assert!(stored(&s, "pgb-paused").await.is_empty(), "nothing written");
    let (st, v, _) = sell(&app, &s, &seller, "pgb-paused", &["12".into()]).await;
    assert_eq!(st, StatusCode::CREATED, "after RESUME: {v}");

    // 2. KILL in the middle of a stream of sales: every connection to the database is dropped
    //    (transactions in flight die with them) and new ones wait until RESUME.
    let stop = Arc::new(AtomicBool::new(false));
    let recovered = Arc::new(AtomicBool::new(false));
    let healed = Arc::new(AtomicUsize::new(0));
    let workers = (0..6).map(|w| {
        let (app, stop, recovered) = (app.clone(), stop.clone(), recovered.clone());
        let healed = healed.clone();
        let (s_loteria, s_sorteo, seller) = (s.loteria, s.sorteo, seller.clone());
        tokio::spawn(async move {
            let mut done = Vec::new();
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let key = format!("pgb-cut-w{w}-{i}");
                let numbers = vec![
                    format!("{:02}", (w * 17 + i * 7) % 100),
                    format!("{:02}", (w * 31 + i * 13 + 50) % 100),
                ];
                let numbers = if numbers[0] == numbers[1] {
                    numbers[..1].to_vec()
                } else {
                    numbers
                };
                let after_recovery = recovered.load(Ordering::Relaxed);
                let body = json!({
                    "loteriaId": s_loteria,
                    "sorteoId": s_sorteo,
                    "idempotencyKey": key,
                    "jugadas": numbers.iter()
                        .map(|n| json!({"type": "NUMERO", "number": n, "amount": 100}))
                        .collect::<Vec<_>>(),
                });
                let t0 = Instant::now();
                let (status, v) = call(
                    &app,
                    Method::POST,
                    "/api/v1/tickets",
                    Some(&seller.token),
                    Some(&body),
                )
                .await;
                if after_recovery && status == StatusCode::CREATED {
                    healed.fetch_add(1, Ordering::Relaxed);
                }
                done.push(Attempt {
                    key,
                    numbers,
                    status,
                    code: v["code"].as_str().unwrap_or_default().to_string(),
                    ticket: v["data"]["id"].as_str().map(str::to_string),
                    took: t0.elapsed(),
                });
            }
            done
        })
    });
    let workers: Vec<_> = workers.collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    bouncer.admin(&format!("KILL {db}")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    bouncer.admin(&format!("RESUME {db}")).await.unwrap();
    recovered.store(true, Ordering::Relaxed);
    let resumed = Instant::now();
    // Sales go through again by themselves once PgBouncer reconnects; a few more, then stop.
    while healed.load(Ordering::Relaxed) < 12 && resumed.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let healed_in = resumed.elapsed();
    stop.store(true, Ordering::Relaxed);
    let attempts: Vec<Attempt> = join_all(workers)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();

    let refused: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.status != StatusCode::CREATED)
        .collect();
    for a in &refused {
        assert_eq!(
            (a.status, a.code.as_str()),
            (StatusCode::SERVICE_UNAVAILABLE, "DATABASE_UNAVAILABLE"),
            "{}",
            a.key
        );
        assert!(a.took < within, "{} answered 503 in {:?}", a.key, a.took);
    }
    let slowest = refused.iter().map(|a| a.took).max().unwrap_or_default();
    eprintln!(
        "cut: {} sales acknowledged, {} answered 503 (slowest {slowest:?}), sales again {healed_in:?} after RESUME",
        attempts.len() - refused.len(),
        refused.len()
    );
    assert!(!refused.is_empty(), "the cut was seen by the load");
    assert!(
        healed.load(Ordering::Relaxed) >= 12,
        "sales succeed again after RESUME (waited {healed_in:?})"
    );
    // Every acknowledged sale is stored whole; every refused one is whole or absent.
    for a in &attempts {
        let rows = stored(&s, &a.key).await;
        let n = a.numbers.len() as i64;
        let sum = Decimal::from(100 * a.numbers.len() as i64);
        match (a.status, rows.as_slice()) {
            (StatusCode::CREATED, [(id, count, total, ticket_total)]) => {
                assert_eq!(Some(id.to_string()), a.ticket, "{}", a.key);
                assert_eq!((*count, *total, *ticket_total), (n, sum, sum), "{}", a.key);
            }
            (StatusCode::CREATED, other) => panic!("{}: acknowledged, stored {other:?}", a.key),
            (_, []) => {}
            (_, [(_, count, total, ticket_total)]) => {
                assert_eq!((*count, *total, *ticket_total), (n, sum, sum), "{}", a.key)
            }
            (_, other) => panic!("{}: refused, stored {other:?}", a.key),
        }
    }
    assert_eq!(counter_mismatches(&s).await, 0, "per-number totals");
    // The refused sales, sent again with their keys, each end as exactly one ticket.
    for a in &refused {
        let (st, v, _) = sell(&app, &s, &seller, &a.key, &a.numbers).await;
        assert!(st.is_success(), "{}: {v}", a.key);
        let rows = stored(&s, &a.key).await;
        assert_eq!(rows.len(), 1, "{}", a.key);
        assert_eq!(
            Some(rows[0].0.to_string()),
            v["data"]["id"].as_str().map(str::to_string)
        );
    }
    assert_eq!(counter_mismatches(&s).await, 0, "per-number totals");
    let keys: i64 = scalar(
        &s.w,
        "SELECT count(DISTINCT idempotency_key) - count(*) FROM tickets
         WHERE idempotency_key LIKE 'pgb-cut-%'",
    )
    .await;
    assert_eq!(keys, 0, "no key has two tickets");

    // 3. The PgBouncer process dies: 503 at once, readiness says so; restarted on the same
    //    port: the same app serves again.
    bouncer.kill();
    let (st, v, took) = sell(&app, &s, &seller, "pgb-down", &["13".into()]).await;
    unavailable(st, &v, took, "sale with PgBouncer down");
    let res = app
        .client
        .get(app.url("/api/v1/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    bouncer.restart();
    let (st, v, _) = sell(&app, &s, &seller, "pgb-down", &["13".into()]).await;
    assert_eq!(st, StatusCode::CREATED, "after the restart: {v}");
    let res = app
        .client
        .get(app.url("/api/v1/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn pgbouncer_mode_sends_apps_and_servers_through_the_shared_pgbouncer() {
    let db = TestDb::migrated().await;
    let routed = common::route_db_vars(&[("DATABASE_URL", &db.url)]);
    if !common::pgbouncer_mode() {
        // The plain suite connects straight to PostgreSQL.
        assert_eq!(routed, vec![("DATABASE_URL".to_string(), db.url.clone())]);
        return;
    }
    let bouncer = PgBouncer::shared();
    let app = common::spawn_app(&db, &[]).await;
    let primary = app
        .state
        .config
        .database_url
        .as_ref()
        .unwrap()
        .url()
        .clone();
    assert_eq!(primary.port(), Some(bouncer.port), "{primary}");
    assert!(banca::db::pools::looks_like_pgbouncer(&primary));
    assert_eq!(
        app.state.config.direct_url.as_ref().unwrap().expose(),
        db.url
    );
    let res = app
        .client
        .get(app.url("/api/v1/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let queries = |s: HashMap<String, String>| -> i64 {
        s.get("total_query_count")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let before = queries(stats_of(bouncer, &db.name).await);
    assert!(before > 0, "the app's queries went through PgBouncer");

    // A `banca serve` child started by a test goes the same way.
    let mut cmd = common::banca_command();
    cmd.env("DATABASE_URL", &db.url).env("NODE_ENV", "test");
    let mut server = common::ServerProcess::spawn(cmd);
    assert!(
        server.wait_ready(Duration::from_secs(60)).await,
        "{}",
        server.output()
    );
    // Both keep a connection open (DATABASE_POOL_MIN=1): PgBouncer lists them as its clients.
    let clients = bouncer.admin("SHOW CLIENTS").await.unwrap();
    let of_db = clients
        .iter()
        .filter(|c| c.get("database").map(String::as_str) == Some(db.name.as_str()))
        .count();
    assert!(of_db >= 2, "app and server connections: {of_db}");
}
