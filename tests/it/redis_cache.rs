//! The shared caches against real PostgreSQL, real Redis and real `banca serve` processes:
//! two instances on one database and one Redis see each other's writes at once (catalog
//! answers, session revocations, deactivations); a Redis that is killed or hangs mid-test
//! leaves every request working from PostgreSQL, is reported down once, and is used again when
//! it is back — without ever serving an answer older than a write made while it was away.

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{self, ServerProcess};
use crate::fixtures::{self, shop, Login};

/// The Redis every test may share (keys under a prefix of its own).
pub const SHARED_REDIS: &str = "redis://127.0.0.1:6379";

/// A `redis-server` of the test's own on a loopback port, without persistence.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        Self::start_on(common::closed_port())
    }

    pub fn start_on(port: u16) -> RedisServer {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let server = RedisServer {
            child: Some(child),
            port,
        };
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if server.pings() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {port} did not answer");
    }

    fn pings(&self) -> bool {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 16];
        s.write_all(b"PING\r\n").is_ok()
            && s.read(&mut buf)
                .is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill")
                .args([sig, &c.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill {sig}");
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open, nothing answers.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Kills the server (SIGKILL); its port is free again.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.resume();
        self.kill();
    }
}

/// A `banca serve` process on the test database (through PgBouncer in PgBouncer mode) with Redis at `redis_url` under `prefix`,
/// accepting the shop's tokens, plus `vars`.
pub fn instance(
    db_url: &str,
    redis_url: &str,
    prefix: &str,
    vars: &[(&str, &str)],
) -> ServerProcess {
    let mut cmd = common::banca_command();
    cmd.envs(common::route_db_vars(&[("DATABASE_URL", db_url)]))
        .env("NODE_ENV", "test")
        .env("JOBS_ENABLED", "false")
        .env("LOGIN_MAX_FAILURES", "1000")
        .env("REDIS_URL", redis_url)
        .env("REDIS_PREFIX", prefix);
    for (k, v) in fixtures::SHOP_SECRETS.iter().chain(vars) {
        cmd.env(k, v);
    }
    ServerProcess::spawn(cmd)
}

pub fn unique_prefix(tag: &str) -> String {
    format!("test-{tag}-{}:", Uuid::new_v4().simple())
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Sends a request to a server process; returns the response.
pub async fn send(
    srv: &ServerProcess,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Response {
    let mut req = http().request(method, srv.url(path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    req.send().await.expect("request sent")
}

/// Status, `X-Cache` and JSON body of a request.
pub async fn get(
    srv: &ServerProcess,
    path: &str,
    who: &Login,
) -> (StatusCode, Option<String>, Value) {
    let res = send(srv, Method::GET, path, Some(&who.token), None).await;
    let status = res.status();
    let cache = res
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = res.json().await.unwrap_or(Value::Null);
    (status, cache, body)
}

/// The value of `key` in the Redis at `url`.
pub async fn redis_get(url: &str, key: &str) -> Option<String> {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap()
}

/// `readyz`'s view of Redis.
pub async fn redis_check(srv: &ServerProcess) -> String {
    let res = http().get(srv.url("/api/v1/readyz")).send().await.unwrap();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    v["data"]["checks"]["redis"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

/// Polls `readyz` until it reports Redis `want`.
pub async fn wait_redis(srv: &ServerProcess, want: &str, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if redis_check(srv).await == want {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// Waits until the server is ready and has connected to its Redis.
pub async fn ready(srv: &mut ServerProcess) {
    let ok = srv.wait_ready(Duration::from_secs(60)).await;
    assert!(ok, "server did not become ready:\n{}", srv.output());
    let up = wait_redis(srv, "up", Duration::from_secs(20)).await;
    assert!(up, "server did not reach Redis:\n{}", srv.output());
}

/// Reads `path` until it is answered from the cache (fresh answers are stored in the
/// background, so the read right after a miss may miss too); returns that answer.
pub async fn hit(srv: &ServerProcess, path: &str, who: &Login) -> Value {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let (st, cache, body) = get(srv, path, who).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        if cache.as_deref() == Some("HIT") {
            return body;
        }
        assert!(Instant::now() < until, "{path} never came from the cache");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn rename_loteria(srv: &ServerProcess, id: Uuid, who: &Login, name: &str) {
    let res = send(
        srv,
        Method::PATCH,
        &format!("/api/v1/loterias/{id}"),
        Some(&who.token),
        Some(&json!({ "name": name })),
    )
    .await;
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_write_on_one_instance_is_seen_by_the_other_at_once() {
    let s = shop().await;
    let prefix = unique_prefix("cat");
    let mut a = instance(&s.w.db.url, SHARED_REDIS, &prefix, &[]);
    let mut b = instance(&s.w.db.url, SHARED_REDIS, &prefix, &[]);
    ready(&mut a).await;
    ready(&mut b).await;
    let banca = &s.w.a.banca_user;
    let one = format!("/api/v1/loterias/{}", s.loteria);
    let list = "/api/v1/loterias?page=1&pageSize=10";

    let (st, cache, first) = get(&b, &one, banca).await;
    assert_eq!(st, StatusCode::OK, "{first}");
    assert_eq!(cache.as_deref(), Some("MISS"));
    assert_eq!(first["data"]["name"], "TICA");
    let again = hit(&b, &one, banca).await;
    assert_eq!(again, first);
    // Instance A has never computed it: its hit comes from Redis.
    let (_, cache, from_a) = get(&a, &one, banca).await;
    assert_eq!(cache.as_deref(), Some("HIT"));
    assert_eq!(from_a, first);
    let (_, _, listed) = get(&b, list, banca).await;
    assert_eq!(listed["data"][0]["name"], "TICA");
    hit(&b, list, banca).await;

    // Another caller with another scope does not share the banca user's answer.
    let (st, cache, _) = get(&b, &one, &s.w.admin).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(cache.as_deref(), Some("MISS"));

    // A write on A: B's very next read computes afresh.
    rename_loteria(&a, s.loteria, banca, "TICA NUEVA").await;
    let (_, cache, after) = get(&b, &one, banca).await;
    assert_eq!(cache.as_deref(), Some("MISS"));
    assert_eq!(after["data"]["name"], "TICA NUEVA");
    let (_, cache, listed) = get(&b, list, banca).await;
    assert_eq!(cache.as_deref(), Some("MISS"));
    assert_eq!(listed["data"][0]["name"], "TICA NUEVA");

    // A sale does not flush the catalog.
    hit(&b, &one, banca).await;
    let sale = json!({"loteriaId": s.loteria, "sorteoId": s.sorteo,
        "jugadas": [{"type": "NUMERO", "number": "07", "amount": 100}]});
    let res = send(
        &a,
        Method::POST,
        "/api/v1/tickets",
        Some(&s.w.a.vendedores[0].token),
        Some(&sale),
    )
    .await;
    assert!(
        res.status().is_success(),
        "{}",
        res.text().await.unwrap_or_default()
    );
    assert_eq!(get(&b, &one, banca).await.1.as_deref(), Some("HIT"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocations_and_deactivations_on_one_instance_hold_at_once_on_the_other() {
    let s = shop().await;
    let w = &s.w;
    let prefix = unique_prefix("ses");
    let mut a = instance(&w.db.url, SHARED_REDIS, &prefix, &[]);
    let mut b = instance(&w.db.url, SHARED_REDIS, &prefix, &[]);
    ready(&mut a).await;
    ready(&mut b).await;
    let me = |who: &Login| {
        let who = who.clone();
        let b = &b;
        async move {
            let res = send(b, Method::GET, "/api/v1/auth/me", Some(&who.token), None).await;
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let cached = |who: &Login| {
        let key = format!("{prefix}auth:s:{}", who.session_id);
        async move { redis_get(SHARED_REDIS, &key).await }
    };

    // Logout on A.
    let seller = &w.a.vendedores[0];
    assert_eq!(me(seller).await.0, StatusCode::OK);
    assert!(
        wait_for(|| cached(seller)).await,
        "B cached the session check"
    );
    assert_eq!(me(seller).await.0, StatusCode::OK, "served from the cache");
    let res = send(
        &a,
        Method::POST,
        "/api/v1/auth/logout",
        Some(&seller.token),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let (st, v) = me(seller).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["code"], "SESSION_REVOKED");

    // A user deactivated on A.
    let other = &w.a.vendedores[1];
    assert_eq!(me(other).await.0, StatusCode::OK);
    assert!(wait_for(|| cached(other)).await);
    let res = send(
        &a,
        Method::DELETE,
        &format!("/api/v1/users/{}", other.user_id),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let (st, v) = me(other).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");

    // A ventana deleted on A: its people (cached on B under the everyone generation) are out.
    let ventana_user = &w.b.ventana_users[0];
    assert_eq!(me(ventana_user).await.0, StatusCode::OK);
    assert!(wait_for(|| cached(ventana_user)).await);
    let res = send(
        &a,
        Method::DELETE,
        &format!("/api/v1/ventanas/{}", w.b.ventanas[0]),
        Some(&w.admin.token),
        None,
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let (st, v) = me(ventana_user).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");

    // Untouched people keep working.
    assert_eq!(me(&w.a.banca_user).await.0, StatusCode::OK);
    assert_eq!(me(&w.b.vendedores[1]).await.0, StatusCode::OK);
}

/// Polls an async check for up to 2 s (entries are stored in the background).
async fn wait_for<F, Fut>(mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        if f().await.is_some() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_test_then_restarted_on_the_same_port() {
    let s = shop().await;
    let mut redis = RedisServer::start();
    let url = redis.url();
    let prefix = unique_prefix("down");
    let vars = [
        ("RATE_LIMIT_ENABLED", "true"),
        ("RATE_LIMIT_AUTH_MAX", "4"),
        ("RATE_LIMIT_GLOBAL_MAX", "100000"),
        ("REDIS_CB_RESET_MS", "500"),
        ("REDIS_COMMAND_TIMEOUT_MS", "200"),
        ("REDIS_CONNECT_TIMEOUT", "500"),
    ];
    let mut a = instance(&s.w.db.url, &url, &prefix, &vars);
    let mut b = instance(&s.w.db.url, &url, &prefix, &vars);
    ready(&mut a).await;
    ready(&mut b).await;
    let banca = &s.w.a.banca_user;
    let one = format!("/api/v1/loterias/{}", s.loteria);
    let login = |srv: &ServerProcess| {
        let srv_url = srv.url("/api/v1/auth/login");
        async move {
            http()
                .post(srv_url)
                .json(&json!({"username": "ventana.a1", "password": fixtures::PASSWORD}))
                .send()
                .await
                .unwrap()
        }
    };
    let counter = format!("{prefix}rl:auth:127.0.0.1");

    assert_eq!(get(&a, &one, banca).await.1.as_deref(), Some("MISS"));
    hit(&b, &one, banca).await;
    assert_eq!(login(&a).await.status(), StatusCode::OK);
    assert_eq!(redis_get(&url, &counter).await.as_deref(), Some("1"));

    redis.kill();
    // Everything keeps working from PostgreSQL and per-process limits.
    let started = Instant::now();
    let (st, cache, v) = get(&a, &one, banca).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_ne!(cache.as_deref(), Some("HIT"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for srv in [&a, &b, &a] {
        assert_eq!(login(srv).await.status(), StatusCode::OK);
    }
    rename_loteria(&a, s.loteria, banca, "TICA SIN REDIS").await;
    let (st, _, v) = get(&b, &one, banca).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["data"]["name"], "TICA SIN REDIS");
    let sale = json!({"loteriaId": s.loteria, "sorteoId": s.sorteo,
        "jugadas": [{"type": "NUMERO", "number": "11", "amount": 100}]});
    let res = send(
        &b,
        Method::POST,
        "/api/v1/tickets",
        Some(&s.w.a.vendedores[0].token),
        Some(&sale),
    )
    .await;
    assert!(res.status().is_success());
    assert!(wait_redis(&a, "down", Duration::from_secs(10)).await);
    assert!(wait_redis(&b, "down", Duration::from_secs(10)).await);
    // A few more requests while it is down: still logged once.
    for _ in 0..5 {
        assert_eq!(get(&a, &one, banca).await.0, StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let log = a.output();
    assert_eq!(count(&log, "Redis unavailable"), 1, "{log}");

    // Back on the same port, empty: used again by both.
    let _redis = RedisServer::start_on(redis.port);
    assert!(wait_redis(&a, "up", Duration::from_secs(15)).await);
    assert!(wait_redis(&b, "up", Duration::from_secs(15)).await);
    let log = a.output();
    assert_eq!(count(&log, "Redis answers again"), 1, "{log}");
    let (_, cache, v) = get(&a, &one, banca).await;
    assert_eq!(cache.as_deref(), Some("MISS"));
    assert_eq!(v["data"]["name"], "TICA SIN REDIS");
    assert_eq!(hit(&b, &one, banca).await["data"]["name"], "TICA SIN REDIS");
    // The login limit is shared again: 4 across both instances, the 5th refused.
    for srv in [&a, &b, &a, &b] {
        assert_eq!(login(srv).await.status(), StatusCode::OK);
    }
    assert_eq!(redis_get(&url, &counter).await.as_deref(), Some("4"));
    let refused = login(&a).await;
    common::assert_error(refused, 429, "RATE_LIMITED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_made_while_redis_hangs_never_hides_behind_an_older_answer() {
    let s = shop().await;
    let redis = RedisServer::start();
    let prefix = unique_prefix("hang");
    let vars = [
        ("REDIS_CB_RESET_MS", "3000"),
        ("REDIS_COMMAND_TIMEOUT_MS", "200"),
        ("REDIS_CONNECT_TIMEOUT", "500"),
    ];
    let mut a = instance(&s.w.db.url, &redis.url(), &prefix, &vars);
    ready(&mut a).await;
    let banca = &s.w.a.banca_user;
    let one = format!("/api/v1/loterias/{}", s.loteria);
    assert_eq!(get(&a, &one, banca).await.1.as_deref(), Some("MISS"));
    hit(&a, &one, banca).await;

    // Redis hangs: the first request waits one command timeout and opens the circuit; the
    // write right after cannot publish its invalidation (the circuit skips Redis).
    redis.pause();
    let started = Instant::now();
    let (st, cache, _) = get(&a, &one, banca).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(cache, None, "answered without the cache");
    assert!(started.elapsed() < Duration::from_secs(5));
    rename_loteria(&a, s.loteria, banca, "TICA MIENTRAS TANTO").await;
    redis.resume();
    // Redis still holds the old answer under the old catalog generation. After the reset the
    // instance reconnects, bumps the epoch, and the old answer is never served.
    assert!(wait_redis(&a, "up", Duration::from_secs(15)).await);
    let (_, cache, v) = get(&a, &one, banca).await;
    assert_eq!(v["data"]["name"], "TICA MIENTRAS TANTO", "{v}");
    assert_eq!(cache.as_deref(), Some("MISS"));
    hit(&a, &one, banca).await;
}

/// Committed transactions of a database so far (statistics are flushed within a second).
async fn transactions(db_url: &str, name: &str) -> i64 {
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(db_url)
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1",
    )
    .bind(name)
    .fetch_one(&mut c)
    .await
    .unwrap()
}

/// Throughput, latency and database transactions per request of a few catalog reads, without
/// and with the shared caches. Run by hand; the numbers go to docs/benchmarks.md.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: cargo test --test it measure_shared_caches -- --ignored --nocapture"]
async fn measure_shared_caches() {
    let s = shop().await;
    let w = &s.w;
    for i in 0..30 {
        fixtures::loteria(
            &w.app,
            Some(w.a.banca_id),
            &format!("Lotería {i:02}"),
            json!({"digits": 2}),
        )
        .await;
    }
    let numbers: Vec<String> = (0..100).map(|n| format!("{n:02}")).collect();
    let (st, v) = fixtures::call(
        &w.app,
        Method::POST,
        "/api/v1/restrictions",
        Some(&w.a.banca_user.token),
        Some(&json!({"bancaId": w.a.banca_id, "number": numbers, "maxAmount": 50})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let routes = [
        "/api/v1/loterias?page=1&pageSize=20",
        "/api/v1/restrictions?page=1&pageSize=20",
        "/api/v1/sorteos?page=1&pageSize=20",
    ];
    let seconds = std::env::var("MEASURE_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5u64);
    let clients = 8;
    println!("| setup | route | requests/s | p50 ms | p95 ms | DB transactions per request |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (label, redis) in [("PostgreSQL only", ""), ("Redis caches", SHARED_REDIS)] {
        let prefix = unique_prefix("measure");
        let mut srv = instance(&w.db.url, redis, &prefix, &[("LOG_LEVEL", "warn")]);
        assert!(srv.wait_ready(Duration::from_secs(60)).await);
        if !redis.is_empty() {
            assert!(wait_redis(&srv, "up", Duration::from_secs(20)).await);
        }
        for route in routes {
            for _ in 0..20 {
                let (st, _, _) = get(&srv, route, &w.a.banca_user).await;
                assert_eq!(st, StatusCode::OK);
            }
            let before = transactions(&w.db.url, &w.db.name).await;
            let until = Instant::now() + Duration::from_secs(seconds);
            let client = http();
            let tasks: Vec<_> = (0..clients)
                .map(|_| {
                    let (client, url, token) =
                        (client.clone(), srv.url(route), w.a.banca_user.token.clone());
                    tokio::spawn(async move {
                        let mut lat = Vec::new();
                        while Instant::now() < until {
                            let t = Instant::now();
                            let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
                            assert_eq!(r.status(), StatusCode::OK);
                            let _ = r.bytes().await.unwrap();
                            lat.push(t.elapsed());
                        }
                        lat
                    })
                })
                .collect();
            let mut lat: Vec<Duration> = Vec::new();
            for t in tasks {
                lat.extend(t.await.unwrap());
            }
            let after = transactions(&w.db.url, &w.db.name).await;
            lat.sort();
            let n = lat.len();
            let pct = |p: f64| lat[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1000.0;
            println!(
                "| {label} | `{route}` | {:.0} | {:.2} | {:.2} | {:.2} |",
                n as f64 / seconds as f64,
                pct(0.50),
                pct(0.95),
                (after - before) as f64 / n as f64
            );
        }
    }
}
